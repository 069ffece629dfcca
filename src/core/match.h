/*
 * match.h: event matchers, the one small language lessons use to point at
 * events (a step's end, a checkpoint's moment and answers, a note's target,
 * a scripted fault's packet).
 *
 * A matcher is space-separated terms that must all hold:
 *
 *   packet app state mark note   the event's type
 *   path                         the value exists and is true/non-zero/non-empty
 *   !path                        the value is absent, false, zero or empty
 *   path=value  path!=value      the text form equals (lists: "SYN,ACK" is the
 *                                exact set, in any order)
 *   path~text                    contains (strings: substring; lists: element)
 *   path>n path<n path>=n path<=n   numeric comparison
 *
 * Paths are those of nc_event_value() (event.h): "from", "tcp.flags",
 * "dns.id", "host", "type", ... Where a packet holds a list of one layer's
 * objects (three pipelined requests), "http.target=/c" holds when one of
 * them matches, and "!http.incomplete" or "http.status!=200" when each does.
 * A value that starts with '$' is a path looked up in the reference event
 * (a checkpoint's target): "dns.id=$dns.id".
 * Values may be double-quoted to hold spaces.
 */
#ifndef NC_MATCH_H
#define NC_MATCH_H

#include "event.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct nc_match nc_match_t;

/* Compiles src. Returns NULL and writes one sentence to err on a syntax
 * error. The caller frees the result with nc_match_free. */
nc_match_t *nc_match_compile(const char *src, char *err, size_t errlen);
void nc_match_free(nc_match_t *m);
/*
 * Checks that every path m names can exist: known(ctx, types, path) says
 * whether an event of one of the types in the bit set `types` (1 << type;
 * all types when the matcher names none) can carry path, and may write why
 * not into why. The pseudo-paths of nc_event_value() always exist; a '$'
 * value is a path of the reference event, of any type. Returns 0, or
 * NC_ESYNTAX with one sentence in err for the first unknown path.
 */
typedef bool (*nc_match_field_fn)(void *ctx, unsigned types, const char *path, char *why,
                                  size_t whylen);
int nc_match_check(const nc_match_t *m, nc_match_field_fn known, void *ctx, char *err,
                   size_t errlen);

/* ref may be NULL when the matcher has no '$' values (they then fail). */
bool nc_match_event(const nc_match_t *m, const nc_event_t *ev, const nc_event_t *ref);

#endif
