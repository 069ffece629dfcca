/*
 * compare.h: a run's comparison of ways to do one thing, as numbers.
 *
 * A lesson's `compare` block names programs that each do the same work a
 * different way (short polling and long polling; HTTP/1.0, keep-alive and
 * pipelining). At the end of the run every way is measured from the run's
 * own events (compare.c says how each number is counted), and the table is
 * added to the timeline as one note event, which the TUI's comparison view
 * (src/tui/compare.c) and the JSON stream show. The measuring reads only a
 * timeline, so two saved runs can be compared the same way.
 */
#ifndef NC_COMPARE_H
#define NC_COMPARE_H

#include "../core/course.h"
#include "../core/event.h"
#include "../core/timeline.h"

#include <stddef.h>
#include <stdint.h>

/* One way's numbers (a value: it owns nothing). */
typedef struct nc_compare_row {
    char label[64];
    char program[64];
    int64_t requests;    /* HTTP requests its connections carried */
    int64_t answers;     /* HTTP responses */
    int64_t empty;       /* answers about a job that told nothing new */
    int64_t connections; /* TCP handshakes it opened */
    int64_t round_trips; /* handshakes, and requests sent with none outstanding */
    int64_t packets;
    int64_t bytes;         /* on the wire, both directions, headers and all */
    int64_t time_ns;       /* its first packet to its last answer (or packet) */
    int64_t first_byte_ns; /* its first packet to its first answer (0: none) */
} nc_compare_row_t;

/* A comparison as a note carries it. */
typedef struct nc_compare_table {
    char id[64];
    char title[160];
    nc_compare_row_t rows[NC_COMPARE_MAX_WAYS];
    size_t nrows;
} nc_compare_table_t;

/* Measures the way of `program` over the first n events of tl into row
 * (label and program are left as they are). Borrows tl and program for
 * the call. */
void nc_compare_measure(const nc_timeline_t *tl, size_t n, const char *program,
                        nc_compare_row_t *row);

/* Measures every way of c over tl's events into out (copies what it
 * keeps of c; borrows tl and c for the call). */
void nc_compare_build(const nc_timeline_t *tl, const nc_compare_t *c, nc_compare_table_t *out);

/* Builds the note event of a table at absolute time t_ns: "compare" (the
 * block's id), "title", and "ways", a list of one object per way with the
 * row's numbers ("time_ms" for the time). */
void nc_compare_note(nc_evb_t *b, const nc_compare_table_t *t, int64_t t_ns);

/* Reads a comparison note back into out (copies; borrows ev for the
 * call); false when ev is not one. */
bool nc_compare_from_event(const nc_event_t *ev, nc_compare_table_t *out);

/* The last comparison note among the first n events of tl (borrowed from
 * tl), or NULL. Only the last 64 of them are looked at: the run adds the
 * note among its last events. */
const nc_event_t *nc_compare_find(const nc_timeline_t *tl, size_t n);

#endif
