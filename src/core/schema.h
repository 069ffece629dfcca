/*
 * schema.h: the fields of the events no decoder makes (state, mark, note and
 * app events), so that a lesson matcher naming a field nobody writes is an
 * error at load instead of a step that never ends (STYLE.md rule 16).
 *
 * Packet fields are declared by the decoders themselves
 * (nc_decode_field_kind in decode/decode.h). State, mark and note events have
 * fixed fields, listed here beside the code that writes them (probe.c,
 * scenario/run.c, lab/wire.c, runfile). App events are open: besides "call"
 * and "text", each scenario adds fields of its own ("worker", "pattern"), so
 * any path is accepted for them unless it names a decoder's layer.
 */
#ifndef NC_SCHEMA_H
#define NC_SCHEMA_H

#include "event.h"

#include <stdbool.h>

/* True when an event of this type (not a packet) can carry path. */
bool nc_schema_has(nc_event_type_t type, const char *path);

/* Appends the declared field names of type, comma-separated, to out (for
 * error messages); app events list their common fields. */
void nc_schema_names(nc_event_type_t type, nc_buf_t *out);

#endif
