/*
 * evjson.h: reading an EVENTS.md JSON object back into an event.
 *
 * A student receives the instructor's timeline as the JSON that
 * nc_event_json() wrote; nc_event_from_json() rebuilds the same event in a
 * builder, so the student's timeline holds nc_event_t values like any other
 * and every view works on it unchanged.
 */
#ifndef NC_EVJSON_H
#define NC_EVJSON_H

#include "../core/event.h"
#include "json.h"

#include <stddef.h>

/* Fills the builder from one event object. The builder's t_ns is set to the
 * event's "t" in nanoseconds (relative to its run; add the timeline's t0
 * before nc_timeline_add) and ev.i to its "i". Returns 0, or NC_EBADDATA
 * with one sentence in err (not an object, no known type or time, a private
 * '_' key, more than 8192 tokens). */
int nc_event_from_json(const nc_json_t *obj, nc_evb_t *b, char *err, size_t errlen);

#endif
