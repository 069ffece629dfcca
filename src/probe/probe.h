/*
 * probe.h: socket state inside the kernel, sampled during a run.
 *
 * A probe watches every TCP socket of a lab's hosts and the overflow
 * counters of their namespaces, and adds a "state" event to the timeline
 * whenever something it watches changes (EVENTS.md):
 *
 *   listeners    {"socket": "server:7000 listen", "state": "LISTEN",
 *                 "syn_queue", "accept_queue", "backlog"}: accept_queue and
 *                 backlog are what `ss -ltn` shows as Recv-Q and Send-Q; the
 *                 queue is full when it holds backlog + 1
 *   connections  {"socket": "client:40112->server:7000", "state",
 *                 "recv_q", "send_q", "notsent", "snd_wnd", "rcv_wnd" (where
 *                 the kernel reports it), "cwnd", "unacked", "retrans",
 *                 "rcvbuf", "sndbuf" (the buffer limits, bytes of kernel
 *                 memory)}
 *                a closed connection that left a timewait socket gets
 *                {"state": "TIME_WAIT"} (or "FIN_WAIT2" for an orphan still
 *                waiting for its peer's FIN) and nothing else; a connection that
 *                is gone gets one last event with "state": "CLOSED"
 *   namespaces   {"scope": "host", "listen_overflows", "listen_drops"}: the
 *                host's ListenOverflows and ListenDrops since the lab began
 *
 * A socket is named after the lab host that owns its local address (on the
 * local topology 127.0.0.2 is "client"); the event's host is that host.
 *
 * The probe runs on a thread of its own in netcourse's home namespace: its
 * sock_diag sockets and netstat files were opened by short threads inside
 * each lab namespace, and a socket or /proc file stays bound to the
 * namespace it was opened in. It samples every period (4 ms: 250 samples/s)
 * with a timerfd; a sample is a few netlink dumps and one pread, so it never
 * waits on the lesson's programs. When it is stopped, it goes on sampling
 * until the lab's connections have finished closing (every socket gone or
 * in TIME_WAIT), so the timeline ends with their true last state.
 */
#ifndef NC_PROBE_H
#define NC_PROBE_H

#include "../core/timeline.h"
#include "../lab/lab.h"

#include <stddef.h>
#include <stdint.h>

typedef struct nc_probe nc_probe_t;

typedef struct nc_probe_opts {
    nc_lab_t *lab;     /* borrowed; must outlive the probe */
    nc_timeline_t *tl; /* borrowed; NULL: sample and count, add nothing */
    int period_us;     /* 0: 4000 */
    int settle_ms;     /* longest wait for the sockets to close at stop; 0: 1500 */
} nc_probe_opts_t;

/* Opens the probe's sockets in every namespace of the lab and starts
 * sampling. Returns NULL with one sentence in err. */
nc_probe_t *nc_probe_start(const nc_probe_opts_t *o, char *err, size_t errlen);

/* Samples until every socket of the lab is gone or in TIME_WAIT (at most
 * settle_ms), takes one last sample (so sockets closed at the end are
 * reported), stops the thread and joins it. Idempotent. */
void nc_probe_stop(nc_probe_t *p);

typedef struct nc_probe_stats {
    uint64_t samples;  /* passes over every namespace */
    uint64_t events;   /* state events added */
    uint64_t errors;   /* dumps that failed */
    int64_t wall_ns;   /* from start to stop */
    int64_t cpu_ns;    /* CPU time of the probe's thread (user + system) */
} nc_probe_stats_t;

/* Counters; cpu_ns is known once stopped. */
void nc_probe_stats(const nc_probe_t *p, nc_probe_stats_t *out);

/* Stops if needed and closes everything. Accepts NULL. */
void nc_probe_free(nc_probe_t *p);

#endif
