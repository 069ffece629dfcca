/*
 * run.h: one live run of a lesson.
 *
 * A run builds the lesson's lab, starts its scenario (the lesson's own
 * clients and servers) on the lab's hosts, and fills a timeline with what
 * happens. While events are published it applies the lesson's script: its
 * notes, the marks where steps begin and end, and its checkpoints, which are
 * asked just before their target (or an event that would give the answer
 * away) and decided by what the run shows once their evidence window closes.
 * Everything happens on threads of the run's own; the caller only polls.
 */
#ifndef NC_RUN_H
#define NC_RUN_H

#include "../core/course.h"
#include "../core/timeline.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct nc_run nc_run_t;

typedef struct nc_run_opts {
    uint64_t seed;       /* for random loss; 0 = the lesson's default (1) */
    const char *link;    /* "--link" override, or NULL */
    const char *nat;     /* "--nat" override of the lesson's NAT behaviour, or NULL */
    /* Faults added to the lesson's own (an instructor's injected faults),
     * applied before the scenario starts; copied by nc_run_start. */
    const nc_fault_t *faults;
    size_t nfaults;
    /* A lab to step into (netcourse shell): the programs of this host are
     * not run (the student is that host), and the servers stay up until
     * the run is stopped. NULL for an ordinary run. Borrowed. */
    const char *shell_host;
    /* The lab and its servers stay up after the run, until nc_run_stop
     * (the interface: until the student leaves the lesson), so that the
     * student can step in (nc_run_set_student). */
    bool stay;
} nc_run_opts_t;

/* Checkpoint state, as the run decides it. */
typedef struct nc_run_checkpoint {
    const nc_checkpoint_t *cp; /* borrowed from the lesson */
    long asked_at;   /* index of the "asked" mark event, -1 until asked */
    long target;     /* index of the target event, -1 until reached */
    int right;       /* index into cp->choices of the right answer, -1 until decided */
    long decided_at; /* index of the event that closed the evidence window, -1 until then */
    /* The explanation chosen by the outcome, placeholders filled (borrowed
     * from the run), or NULL until decided. */
    const char *explain;
    int skipped; /* 1: skipped (see its mark's reason); never graded */
} nc_run_checkpoint_t;

/* Starts a run. Returns NULL with one sentence in err (an unknown scenario,
 * a bad --link, a lab that cannot be built). */
nc_run_t *nc_run_start(const nc_lesson_t *lesson, const nc_run_opts_t *o, char *err,
                       size_t errlen);
/* The run's timeline (borrowed; lives as long as the run). */
nc_timeline_t *nc_run_timeline(nc_run_t *r);
/* Call from the owner's loop, often (every 10-50 ms): publishes what is due.
 * Returns true once the run is over and every event is published. A run
 * that stays (opts.stay) is over once its programs are done and its wire
 * has been quiet for a moment; its lab is still up then (nc_run_lab_up),
 * and what happens in it after (the student's own traffic) keeps coming:
 * keep polling until the run is stopped. */
bool nc_run_poll(nc_run_t *r);
/* True while the lab of a run that is over still stands (opts.stay). */
bool nc_run_lab_up(const nc_run_t *r);
/* From now on, the packets to and from host are the student's own: they
 * carry "student": 1, and what host sends says so in its note. For a run
 * that stays, once the student steps into host. host is copied (NULL: no
 * one). Thread-safe. */
void nc_run_set_student(nc_run_t *r, const char *host);
/* 0 when the scenario completed; otherwise a negative code and err. */
int nc_run_status(const nc_run_t *r, char *err, size_t errlen);
/* Stops a run early, or ends the stay of its lab (the scenario is told to
 * finish; the lab is torn down). */
void nc_run_stop(nc_run_t *r);
void nc_run_free(nc_run_t *r);
/* Gives back what a finished run holds in the kernel and in big buffers: its
 * lab (namespaces, capture rings, the wire's thread and timers) and its
 * probe. The timeline and checkpoints stay; nc_run_lab returns NULL after.
 * Does nothing to a run that is not over (nc_run_poll returned false). */
void nc_run_release(nc_run_t *r);

/* What the run was started with, for saving it (borrowed from the run). */
const nc_lesson_t *nc_run_lesson(const nc_run_t *r);
uint64_t nc_run_seed(const nc_run_t *r);
/* The TLS secrets the run's programs logged (borrowed; lives as long as
 * the run). */
struct nc_keylog *nc_run_keylog(nc_run_t *r);
const char *nc_run_link(const nc_run_t *r); /* the --link override, or NULL */
/* The run's lab (borrowed; lives as long as the run): for saving, and for
 * live faults, nc_lab_add_fault(nc_run_lab(r), ...). */
struct nc_lab *nc_run_lab(const nc_run_t *r);

size_t nc_run_checkpoint_count(const nc_run_t *r);
/* A snapshot of checkpoint k (copied under the run's lock). */
void nc_run_checkpoint(const nc_run_t *r, size_t k, nc_run_checkpoint_t *out);
/* The step in progress at event index i (0-based into lesson->steps), or -1
 * before the first step's first event. */
int nc_run_step_at(const nc_run_t *r, size_t i);

#endif
