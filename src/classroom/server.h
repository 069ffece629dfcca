/*
 * server.h: the instructor's side of a live class.
 *
 * A class server listens on one TCP port (IPv6 and IPv4), speaks the class
 * protocol (proto.h, PROTOCOL.md) over TLS, admits students who know the
 * join code, and moves them through one lesson: its page and step, the
 * timeline of runs, checkpoints with a live tally, and in lockstep mode the
 * students' own runs and their results. It runs on a thread of its own
 * with its own libuv loop, so no student, however hostile, can stall the
 * instructor's interface; other threads talk to it only through commands
 * (nc_class_server_command), the log callback and snapshots.
 *
 * Commands are the instructor's words, one per line (PROTOCOL.md lists
 * them): page N, step [N], open CHECKPOINT, reveal, inject FAULT, run,
 * roster, drop NAME, quit.
 */
#ifndef NC_CLASS_SERVER_H
#define NC_CLASS_SERVER_H

#include "../core/course.h"
#include "../core/timeline.h"
#include "../scenario/run.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NC_CLASS_DEFAULT_PORT 4747

typedef enum { NC_CLASS_WATCH, NC_CLASS_LOCKSTEP } nc_class_mode_t;

typedef struct nc_class_server nc_class_server_t;

typedef struct nc_class_server_opts {
    const nc_lesson_t *lesson; /* borrowed for the server's life */
    nc_class_mode_t mode;
    const char *bind;      /* an address; NULL for every address (IPv6 and IPv4) */
    int port;              /* 0: any free port; see nc_class_server_port */
    const char *data_dir;  /* the instructor's identity lives in DATA_DIR/class */
    nc_run_opts_t run;     /* seed and link for every run (faults: not used) */
    int max_conns;         /* 0: 4096 (also bounded by the fd limit) */
    int hello_timeout_ms;  /* TLS handshake and hello must finish: 0 = 10000 */
    int idle_timeout_ms;   /* nothing heard from a student: 0 = 30000 */
    size_t out_limit;      /* per-connection output bound: 0 = 256 KiB */
    int max_per_address;   /* admitted students from one source: 0 = 1024 */
    /* Called on the class thread with one JSON object per line (no
     * newline): what happens in the class, and in watch mode every event of
     * the instructor's timeline as its EVENTS.md line. May be NULL. */
    void (*log)(void *arg, const char *line);
    void *log_arg;
} nc_class_server_opts_t;

/* Starts listening and the class thread. Returns NULL with one sentence in
 * err (the port is taken, the identity cannot be made ...). */
nc_class_server_t *nc_class_server_start(const nc_class_server_opts_t *o, char *err,
                                         size_t errlen);
/* Stops the class (students are told goodbye) and frees it. */
void nc_class_server_free(nc_class_server_t *s);

/* The join code ("ABCD-EFGH-JKLM"), the certificate's fingerprint and the
 * port actually bound (borrowed; fixed for the server's life). */
const char *nc_class_server_code(const nc_class_server_t *s);
const char *nc_class_server_fingerprint(const nc_class_server_t *s);
int nc_class_server_port(const nc_class_server_t *s);

/* Queues one instructor command; thread-safe. The outcome is logged. */
void nc_class_server_command(nc_class_server_t *s, const char *line);
/* True once "quit" was handled. */
bool nc_class_server_finished(nc_class_server_t *s);

/* What the dashboard shows, copied under a lock. */
typedef struct nc_class_student_info {
    char name[33];
    bool connected, following, hand, answered, lagging, reported;
    int page, step;   /* 0-based */
    char answer[8];
} nc_class_student_info_t;

typedef struct nc_class_snapshot {
    nc_class_mode_t mode;
    int page, step;          /* the class's, 0-based */
    size_t nstudents, nconnected, conns;
    nc_class_student_info_t *students; /* nstudents of them */
    char checkpoint[64];     /* the open (or last) checkpoint's id, "" */
    bool cp_open;
    int nchoices;
    char keys[8][8];
    int counts[8];
    int answered;
    int right;               /* revealed answer's index, -1 */
    int run;                 /* runs started so far */
    bool run_active;
    char results[256];       /* lockstep: "3 saw a retransmission, 0 did not" */
    nc_timeline_t *tl;       /* watch: the current run's (valid until free) */
    const nc_run_t *runp;    /* watch: the current run, for its checkpoints */
} nc_class_snapshot_t;

void nc_class_server_snapshot(nc_class_server_t *s, nc_class_snapshot_t *out);
void nc_class_snapshot_done(nc_class_snapshot_t *snap);

#endif
