/*
 * lab.h: the lesson's private network.
 *
 * A lab is a set of hosts, each a network namespace that netcourse created,
 * joined by the wire: a userspace link that forwards every frame between two
 * hosts and applies the lesson's link conditions (delay, loss, rate) and
 * scripted faults. Topologies:
 *
 *   local   one namespace, on its loopback: "server" is 127.0.0.1 and
 *           "client" 127.0.0.2 (an alias: the same namespace)
 *   pair    "client" 10.0.0.1/24 ~wire~ "server" 10.0.0.2/24
 *
 * The wire and the capture run on one thread of their own, inside a third
 * namespace that holds the wire's ends of the links. Every frame the wire
 * reads is decoded, annotated and added to the timeline as a packet event,
 * with the wire's decision: "dropped": true and a note when it dropped it,
 * and a "wire" object ({"action": "forward|drop", "delay": seconds,
 * "reason": ...}). Nothing of the host machine's own network is touched.
 * In "local" the capture thread runs in the host's namespace and reads lo.
 *
 * Packet events carry iface = the capture port they were read on (see
 * nc_lab_iface_name); every lab interface is Ethernet (DLT_EN10MB). At stop
 * the wire adds one "note" event, "capture: N frames, M lost by the
 * capture, K dropped by the wire". Link specs ("delay=50ms,loss=5%") are
 * parsed by nc_link_parse (core/link.h).
 */
#ifndef NC_LAB_H
#define NC_LAB_H

#include "../core/course.h"
#include "../core/link.h"
#include "../core/timeline.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Call first thing in main, while the process has one thread. As root it
 * does nothing. Otherwise it enters a new user namespace (mapping the user to
 * root inside it) so that the lab can create network namespaces without
 * privilege, and checks that the capabilities really work there (Ubuntu's
 * AppArmor restriction lets unshare succeed but denies them). Returns 0, or a
 * negative NC_E* code with one sentence, including the fix, in err.
 */
int nc_lab_prepare(char *err, size_t errlen);

typedef struct nc_lab nc_lab_t;

typedef struct nc_lab_opts {
    const char *topology;    /* "local" or "pair" */
    nc_link_t link;          /* applied in both directions */
    const nc_fault_t *faults; /* borrowed for the life of the lab */
    size_t nfaults;
    uint64_t seed;           /* random loss is repeatable per seed */
    nc_timeline_t *tl;       /* borrowed; packet and wire events go here */
    const struct nc_decryptor *dec; /* borrowed: decrypts TLS in the capture, or NULL */
    void *dec_ctx;
} nc_lab_opts_t;

/* Builds the namespaces and links and starts the capture/wire thread.
 * Returns NULL with one sentence in err on failure. */
nc_lab_t *nc_lab_new(const nc_lab_opts_t *o, char *err, size_t errlen);

/* Hosts by index, aliases included (after the real hosts); several may
 * share a namespace (compare nc_lab_host_netns). */
size_t nc_lab_host_count(const nc_lab_t *lab);
const char *nc_lab_host_name(const nc_lab_t *lab, size_t i);
/* Returns the host's IPv4 address as text ("10.0.0.2"), or NULL. */
const char *nc_lab_host_addr(const nc_lab_t *lab, const char *host);
/* Returns the host's network-namespace fd (borrowed), or -1. */
int nc_lab_host_netns(const nc_lab_t *lab, const char *host);

/* Starts fn(arg) on a new thread inside the host's network namespace
 * (sockets it creates belong to that host). Returns 0 or a negative code. */
int nc_lab_spawn(nc_lab_t *lab, const char *host, void *(*fn)(void *), void *arg,
                 pthread_t *thread);

/* Sets a sysctl of the host's network namespace ("net/ipv4/tcp_syncookies",
 * "0"), as a lesson may need before its scenario starts. Returns 0, or a
 * negative code with one sentence in err. */
int nc_lab_sysctl(nc_lab_t *lab, const char *host, const char *path, const char *value,
                  char *err, size_t errlen);

/* The name of capture port iface (an event's iface): for "pair" 0 is "c0"
 * (the client's link) and 1 is "s0" (the server's); for "local" 0 is "lo".
 * Returns NULL past the last port. */
const char *nc_lab_iface_name(const nc_lab_t *lab, uint32_t iface);

/* Adds a scripted fault ("drop 1st packet tcp.flags=SYN,ACK") to a running
 * lab, as an instructor does live: it counts matching frames from now on.
 * f is copied. Thread-safe. Returns 0; NC_EUNSUPP when the topology has no
 * wire ("local"); or another negative code with one sentence in err. */
int nc_lab_add_fault(nc_lab_t *lab, const nc_fault_t *f, char *err, size_t errlen);

/* Cuts the wire (cut: every frame is dropped, each drop an event saying
 * why) or restores it, as a lesson's program does ("cut 2s"). Thread-safe.
 * Returns 0, or NC_EUNSUPP with one sentence in err when the topology has
 * no wire. */
int nc_lab_cut(nc_lab_t *lab, bool cut, char *err, size_t errlen);

/* Capture counters over all lab interfaces. */
typedef struct nc_lab_stats {
    uint64_t captured;  /* frames read */
    uint64_t dropped;   /* frames the capture lost (ps_drop) */
    uint64_t wire_drops; /* frames the wire dropped on purpose */
} nc_lab_stats_t;
void nc_lab_stats(const nc_lab_t *lab, nc_lab_stats_t *out);

/* Waits until in-flight frames have been forwarded or dropped (at most the
 * link delay plus a little), stops the capture/wire thread and adds a final
 * note with the capture counters. Idempotent. */
void nc_lab_stop(nc_lab_t *lab);
/* Stops if needed and removes every namespace. */
void nc_lab_free(nc_lab_t *lab);

/* Link specs ("delay=50ms,loss=5%") are parsed by nc_link_parse in
 * core/link.h, shared with the lesson parser. */

#endif
