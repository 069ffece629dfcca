/*
 * client.h: a student's side of a live class.
 *
 * A class client connects to an instructor (TLS, the certificate pinned on
 * first use), says hello with the join code, and from then on follows the
 * class: it keeps the class's page and step, rebuilds the instructor's
 * timeline event by event in a local nc_timeline_t (watch mode) or runs the
 * lesson itself when told to and reports a summary (lockstep mode), and
 * answers checkpoints. When the connection drops it reconnects by itself
 * and resumes with its token, from the last event it holds.
 *
 * A client lives on a libuv loop: nc_class_client_new puts it on the
 * caller's loop (the load benchmark runs a thousand on one), and
 * nc_class_client_start runs one on a thread of its own (the CLI and the
 * TUI); then other threads use nc_class_client_command and snapshots.
 */
#ifndef NC_CLASS_CLIENT_H
#define NC_CLASS_CLIENT_H

#include "../core/course.h"
#include "../core/event.h"
#include "../core/timeline.h"
#include "../scenario/run.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct nc_class_client nc_class_client_t;

typedef struct nc_class_client_opts {
    const char *host;         /* name or address of the instructor */
    int port;                 /* 0: NC_CLASS_DEFAULT_PORT */
    const char *code;         /* the join code */
    const char *name;         /* the student's name */
    const char *data_dir;     /* pins, resume token, progress; NULL: none kept */
    bool trust_new_cert;      /* accept a changed instructor certificate */
    const char *fingerprint;  /* expected on first use, or NULL */
    bool keep_token;          /* save the resume token in data_dir */
    const nc_course_t *course; /* for lockstep runs and answers' lesson; may be NULL */
    /* One JSON object per line (no newline), on the client's loop: every
     * event of the followed timeline as its EVENTS.md line, and what
     * happens in the class as {"class": ...}. May be NULL. */
    void (*out)(void *arg, const char *line);
    /* Every event received from the instructor, with the instructor's
     * send time (CLOCK_REALTIME ns). May be NULL. ev is NULL with
     * receive_only. */
    void (*on_event)(void *arg, const nc_event_t *ev, int64_t sent_ns);
    /* Load testing only: count event frames and report their send times
     * to on_event (with ev NULL) without rebuilding the events. */
    bool receive_only;
    /* A checkpoint opened: return the key of the answer to send now, or
     * NULL to answer later (nc_class_client_command "answer ..."). */
    const char *(*on_checkpoint)(void *arg, const char *id);
    void *arg;
} nc_class_client_opts_t;

/* Creates a client on loop and starts connecting. opts' strings are
 * copied. */
nc_class_client_t *nc_class_client_new(uv_loop_t *loop, const nc_class_client_opts_t *o);
/* Creates a client on a thread of its own. */
nc_class_client_t *nc_class_client_start(const nc_class_client_opts_t *o);
/* Says goodbye, stops and frees (joins the thread when there is one). On
 * a caller's loop, call it from that loop's thread, then run the loop
 * until it has no more handles of this client. */
void nc_class_client_free(nc_class_client_t *c);

/* Queues a student command; thread-safe: "answer CHECKPOINT CHOICE",
 * "hand" / "hand down", "follow", "unfollow", "page N" (own page while not
 * following), "bye". */
void nc_class_client_command(nc_class_client_t *c, const char *line);

/* After a refusal that retrying cannot fix (nc_class_client_finished says
 * so with a negative status), tries again with another join code: the
 * student retyped it. Thread-safe; does nothing unless refused. */
void nc_class_client_rejoin(nc_class_client_t *c, const char *code);

/* Over: the class said goodbye, or a refusal that retrying cannot fix (a
 * wrong code, a changed certificate). status is 0 after goodbye, else
 * negative, with one sentence in err. */
bool nc_class_client_finished(nc_class_client_t *c, int *status, char *err, size_t errlen);

#define NC_CLASS_MAX_CPS 16

/* What a student may know of one checkpoint in the current run: only what
 * the instructor has released (hold.h), whatever the run itself knows. */
typedef struct nc_class_cp {
    char id[64];
    long asked_at;      /* its "asked" mark, once the instructor opened it; -1 */
    long decided_at;    /* the event that decided it, once revealed; -1 */
    char answer[8];     /* the run's answer, once revealed; "" */
    char explain[1024]; /* the explanation the reveal gave; "" */
    bool skipped;       /* the run skipped it (never graded), once revealed */
} nc_class_cp_t;

/* What the student's screen shows, copied under a lock. */
typedef struct nc_class_view {
    bool connected, following, welcomed;
    char name[33];
    char lesson[64];
    char mode[16];
    char status[160];          /* "following the instructor", "reconnecting ..." */
    char refused[16];          /* the error code the instructor refused us with, "" */
    unsigned rejoins;          /* how many nc_class_client_rejoin the client took */
    int page, step;            /* the class's (0-based) */
    int my_page;               /* the student's own page while not following */
    char cp_id[64];            /* open or last checkpoint, "" */
    bool cp_open;
    char my_answer[8];
    char revealed[8];          /* the revealed answer, "" */
    int run;
    /* The current run's timeline as the student may see it (checkpoint
     * marks held, hold.h): the instructor's streamed one, or in lockstep
     * the student's own run passed through the same hold; or NULL. */
    nc_timeline_t *tl;
    nc_run_t *local_run;       /* lockstep: the student's own run, or NULL */
    nc_class_cp_t cps[NC_CLASS_MAX_CPS]; /* the run's checkpoints so far */
    int ncps;
} nc_class_view_t;

void nc_class_client_view(nc_class_client_t *c, nc_class_view_t *out);

#endif
