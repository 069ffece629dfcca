/*
 * diagram.h: a run as a sequence diagram, for slides and documents.
 *
 * A diagram collects events (copying the little it needs of each) and
 * renders them as SVG (time runs down, one lane per host, a packet an arrow
 * labelled with its summary, a dropped one stopping half-way at a red
 * cross, app events beside their lane, lesson marks as bands across the
 * lanes, and every annotation beside its row in a column of its own) or as
 * Mermaid `sequenceDiagram` text. Lanes follow the ladder's order: the
 * client at the left, the server at the right, other hosts between.
 */
#ifndef NC_DIAGRAM_H
#define NC_DIAGRAM_H

#include "../core/buf.h"
#include "../core/event.h"

#include <stddef.h>

typedef struct nc_diagram nc_diagram_t;

nc_diagram_t *nc_diagram_new(void);
void nc_diagram_free(nc_diagram_t *d);
/* Adds one event (borrowed for the call; what is needed is copied). */
void nc_diagram_add(nc_diagram_t *d, const nc_event_t *ev);
size_t nc_diagram_count(const nc_diagram_t *d);
/* Appends the whole SVG document; title heads it (may be NULL). */
void nc_diagram_svg(const nc_diagram_t *d, const char *title, nc_buf_t *out);
/* Appends Mermaid text (a `sequenceDiagram` block). */
void nc_diagram_mermaid(const nc_diagram_t *d, const char *title, nc_buf_t *out);
/* Appends the first n bytes of s (up to a NUL) as XML text: markup
 * characters escaped, control characters as spaces. */
void nc_diagram_xml(nc_buf_t *out, const char *s, size_t n);

#endif
