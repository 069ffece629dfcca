/*
 * timeline.h: the append-only event log every view reads.
 *
 * Producers (capture, the wire, scenario threads, probes, the lesson runner)
 * add events from any thread. Events wait in a short reorder window so that
 * the timeline is in time order even when a packet reaches the capture thread
 * a moment after the app event it caused; then they are published: given
 * their index i, made visible to readers, and never changed or moved again.
 * Readers on any thread see a consistent prefix: nc_timeline_count() and
 * nc_timeline_get(i) for every i below it, without taking a lock.
 *
 * The timeline does not know whether it is live, replayed or streamed from a
 * class; that is what lets the views serve all three.
 */
#ifndef NC_TIMELINE_H
#define NC_TIMELINE_H

#include "event.h"

#include <stddef.h>

typedef struct nc_timeline nc_timeline_t;

/* t0_ns is the absolute time (CLOCK_REALTIME ns) the run starts at; 0 means
 * "the time of the first event added". Returns a new timeline (caller frees
 * with nc_timeline_free). */
nc_timeline_t *nc_timeline_new(int64_t t0_ns);
void nc_timeline_free(nc_timeline_t *tl);
int64_t nc_timeline_t0(const nc_timeline_t *tl);

/* How long events wait for earlier ones (default 30 ms; 0 for replay). */
void nc_timeline_set_window(nc_timeline_t *tl, int64_t window_ns);

/* Copies the built event in (its t_ns is absolute). Thread-safe. */
void nc_timeline_add(nc_timeline_t *tl, nc_evb_t *b);
/* Publishes pending events older than the window, or all of them. */
void nc_timeline_flush(nc_timeline_t *tl, bool all);

/* Published events. Lock-free. A pointer to an event added whole stays
 * valid until nc_timeline_free; one to a lazy row's event (see below) until
 * NC_TL_CACHE (4096) other lazy rows have been got, and only on the thread
 * that reads lazy rows (one: the interface's). */
size_t nc_timeline_count(const nc_timeline_t *tl);
const nc_event_t *nc_timeline_get(const nc_timeline_t *tl, size_t i);
/* Event i's type and time (ns since t0), without decoding a lazy row: what
 * scans over every event should test first. i below the count. */
nc_event_type_t nc_timeline_type(const nc_timeline_t *tl, size_t i);
int64_t nc_timeline_time(const nc_timeline_t *tl, size_t i);

/*
 * Lazy rows: a packet kept as its time and a reference (63 bits) that the
 * source can decode it again from, on demand, into b (the packet as it was
 * first decoded, its t_ns and i aside; returns 0, or non-zero when it
 * cannot). For a big replay: the row costs 16 bytes, the decoded event
 * kilobytes. Rows are published at once, in the order added (a replay's
 * window is 0). Set the source before the first lazy row.
 */
typedef int (*nc_timeline_source_fn)(void *arg, uint64_t ref, nc_evb_t *b);
void nc_timeline_set_source(nc_timeline_t *tl, nc_timeline_source_fn fn, void *arg);
/* t_ns is absolute, as in a builder. Thread-safe. */
void nc_timeline_add_lazy(nc_timeline_t *tl, int64_t t_ns, uint64_t ref);

/* fn(arg) is called, on the thread that published, after new events become
 * visible (for a uv_async_send). Set it before producers start. */
void nc_timeline_set_notify(nc_timeline_t *tl, void (*fn)(void *), void *arg);

/*
 * The publish hook: fn(tl, ev, arg) is called for each event, in order,
 * just before it becomes visible (ev->i is set), on the timeline's own
 * consumer thread ("nc-lesson"), not under the timeline's lock: a producer
 * (the wire's recorder, a scenario thread, the probe) only queues its
 * events and never waits for the hook, and nc_timeline_flush waits until
 * the consumer has published what was due. The hook may change ev->note
 * (strings from nc_timeline_strdup), and may call nc_timeline_precede /
 * nc_timeline_follow to publish events immediately before or after this
 * one, at the same time. The lesson runner uses it for lesson notes, step
 * marks and checkpoints. Set it before producers start; it must not call
 * nc_timeline_flush. Setting NULL once producers are done publishes what
 * is left through the old hook and stops the consumer thread.
 */
typedef void (*nc_timeline_hook_fn)(nc_timeline_t *tl, nc_event_t *ev, void *arg);
void nc_timeline_set_hook(nc_timeline_t *tl, nc_timeline_hook_fn fn, void *arg);
/* Only from inside the hook: a copy of s kept as long as the timeline. */
char *nc_timeline_strdup(nc_timeline_t *tl, const char *s);
void nc_timeline_precede(nc_timeline_t *tl, nc_evb_t *b);
/* Only from inside the hook: appends a top-level integer field to ev (the
 * run uses it to point an app event at the packet that caused it). */
void nc_timeline_add_int(nc_timeline_t *tl, nc_event_t *ev, const char *key, int64_t v);
void nc_timeline_follow(nc_timeline_t *tl, nc_evb_t *b);

/* Bytes of event storage, for benchmarks. */
size_t nc_timeline_memory(const nc_timeline_t *tl);

#endif
