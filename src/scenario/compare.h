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

#include "../core/buf.h"
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
    int64_t first_byte_trips; /* round trips counted before its first answer */
    int64_t stalled;          /* streams that waited on a retransmission */
} nc_compare_row_t;

/* The measures of a row as people and JSON name them, in the order the
 * tables show them; `time` ones are nanoseconds shown in ms (JSON: ms). */
typedef struct nc_compare_measure_def {
    const char *name; /* "round trips before first byte" */
    const char *key;  /* "first_byte_round_trips" */
    size_t off;       /* into nc_compare_row_t */
    bool time;
} nc_compare_measure_def_t;
extern const nc_compare_measure_def_t nc_compare_measures[];
extern const size_t nc_compare_nmeasures;
/* The value of measure k of a row. */
int64_t nc_compare_value(const nc_compare_row_t *r, size_t k);

/* One packet of a connection, as a timeline draws it. */
enum {
    NC_COMPARE_SENT = 1,    /* sent by the measured side (the client) */
    NC_COMPARE_DROPPED = 2, /* the wire dropped it */
    NC_COMPARE_ANSWER = 4,  /* it completes an HTTP answer */
    NC_COMPARE_RETRANS = 8, /* a retransmission */
    NC_COMPARE_DATA = 16,   /* it carries payload */
};
typedef struct nc_compare_point {
    int64_t t_ns; /* since the run's t0 */
    unsigned flags;
} nc_compare_point_t;

/* One connection of a measured run: its packets in time order (owned). */
typedef struct nc_compare_conn {
    char label[96]; /* "client:40012 > server:8413" */
    nc_compare_point_t *pts;
    size_t n, cap;
} nc_compare_conn_t;

/* One run of `netcourse compare`: its name, numbers and connections. The
 * connections' points are owned; free with nc_compare_run_done. */
typedef struct nc_compare_run {
    char name[256];
    nc_compare_row_t row;
    int64_t start_ns, end_ns; /* its first and last packet, since t0 */
    nc_compare_conn_t *conns;
    size_t nconns;
} nc_compare_run_t;

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

/* Measures a whole run (program NULL: every TCP connection, the side
 * that sent the SYN measured as the client; else that program's way) over
 * the first n events of tl into run, keeping each connection's packets
 * for a timeline (run->name is left as it is). Borrows tl and program. */
void nc_compare_measure_run(const nc_timeline_t *tl, size_t n, const char *program,
                            nc_compare_run_t *run);
void nc_compare_run_done(nc_compare_run_t *run);

/* Reads a saved run into run and measures it: arg is a saved run's path,
 * or PATH@PROGRAM for one program's way of a lesson's run. Returns 0, or
 * -1 with one sentence in err (missing file, not a saved run, no such
 * program). TLS is decrypted when a decryptor is in use (replay.h). */
int nc_compare_load(const char *arg, nc_compare_run_t *run, char *err, size_t errlen);

/* The comparison of two runs as a standalone SVG: the two timelines on
 * one time axis and the summary of their numbers (compare_svg.c). */
void nc_compare_svg_runs(const nc_compare_run_t *a, const nc_compare_run_t *b, nc_buf_t *out);
/* A lesson's comparison table as a standalone SVG: a bar for each way's
 * time to first byte and time to last byte, and its numbers. */
void nc_compare_svg_table(const nc_compare_table_t *t, nc_buf_t *out);
/* Both runs' summaries as one JSON object ("a", "b", "differs"). */
void nc_compare_json(const nc_compare_run_t *a, const nc_compare_run_t *b, nc_buf_t *out);

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
