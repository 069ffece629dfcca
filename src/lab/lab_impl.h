/*
 * lab_impl.h: the pieces of the lab, shared between its files only.
 *
 *   netns.c     network namespaces: create one, run code inside one,
 *               set its sysctls
 *   netlink.c   rtnetlink and ethtool by hand: veth pairs, addresses, links,
 *               offloads
 *   topology.c  the table of topologies (hosts, addresses, wire ports)
 *   wire_policy.c  the wire's decisions (scripted faults, seeded loss, the
 *               release time under delay and rate); pure, unit-tested
 *   wire.c      the capture/wire thread: a libuv loop inside one namespace
 *   lab.c       nc_lab_*: builds a topology and starts the wire
 *
 * Everything here acts on the network namespace of the calling thread
 * unless it takes a namespace fd.
 */
#ifndef NC_LAB_IMPL_H
#define NC_LAB_IMPL_H

#include "lab.h"
#include "core/event.h"
#include "core/match.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* --- netns.c --- */

/* Creates a network namespace with lo up and IPv6 disabled (no ND or MLD
 * noise in the lesson). Returns 0 and its fd in *fd (caller closes), or a
 * negative NC_E* code with one sentence in err. */
int nc_netns_new(int *fd, char *err, size_t errlen);
/* The same, created from inside the namespace parent: a new namespace
 * takes some settings from the one it is created from (its TCP hash size,
 * net.ipv4.tcp_child_ehash_entries). */
int nc_netns_new_in(int parent, int *fd, char *err, size_t errlen);

/* Runs fn(arg) on a short-lived thread inside the namespace netns and
 * returns fn's result (or NC_ESYS if the thread could not enter it). */
int nc_netns_call(int netns, int (*fn)(void *), void *arg);

/* Writes value to /proc/sys/<path> ("net/ipv4/tcp_syncookies") for the
 * calling thread's namespace. */
int nc_netns_sysctl(const char *path, const char *value, char *err, size_t errlen);

/* Starts fn(arg) on a new thread inside netns. Returns 0 once the thread is
 * inside (it then runs fn), or a negative code. */
int nc_netns_spawn(int netns, void *(*fn)(void *), void *arg, pthread_t *thread);

/* --- netlink.c (all in the calling thread's namespace) --- */

/* Creates a veth pair: name here, peer in the namespace peer_netns. */
int nc_netlink_veth_add(const char *name, const char *peer, int peer_netns, char *err,
                        size_t errlen);
int nc_netlink_link_up(const char *ifname, char *err, size_t errlen);
int nc_netlink_mtu_set(const char *ifname, unsigned mtu, char *err, size_t errlen);
/* Adds an IPv4 address ("10.0.0.1", 24). */
int nc_netlink_addr_add(const char *ifname, const char *addr, int prefix, char *err,
                        size_t errlen);
/* Turns off TX checksum offload, TSO, GSO and GRO, and checks they are off:
 * a userspace wire must see and forward complete, MSS-sized frames. */
int nc_netlink_offload_off(const char *ifname, char *err, size_t errlen);

/* --- topology.c --- */

typedef struct nc_topo_host {
    const char *name;   /* "client" */
    const char *addr;   /* "10.0.0.1" */
    int prefix;         /* 24 */
    const char *ifname; /* the host's interface ("eth0", or "lo") */
    const char *port;   /* the wire's end of the host's link ("c0"), or NULL */
} nc_topo_host_t;

/* A second name for an address inside a host's namespace: on one loopback
 * the lesson can still tell its client (127.0.0.2) from its server. An alias
 * is a host for naming, addresses and spawning, but has no namespace of its
 * own. */
typedef struct nc_topo_alias {
    const char *name; /* "client" */
    const char *addr; /* "127.0.0.2" */
    size_t host;      /* index of the host whose namespace it shares */
} nc_topo_alias_t;

typedef struct nc_topology {
    const char *name;
    nc_topo_host_t hosts[4];
    size_t nhosts;
    nc_topo_alias_t aliases[3];
    size_t naliases;
    bool wire; /* hosts are joined by the wire (else the capture is on lo) */
} nc_topology_t;

/* Returns the topology of this name, or NULL. */
const nc_topology_t *nc_topology_find(const char *name);
/* Returns the known names, comma-separated, for error messages. */
const char *nc_topology_names(void);

/* --- wire_policy.c --- */

typedef struct nc_wire_policy nc_wire_policy_t;

typedef struct nc_wire_verdict {
    bool drop;
    char reason[200]; /* "scripted: drop 3rd packet ...", "random loss 5%" */
} nc_wire_verdict_t;

/* Compiles the faults' matchers. Returns NULL with one sentence in err. */
nc_wire_policy_t *nc_wire_policy_new(const nc_link_t *link, const nc_fault_t *faults,
                                     size_t nfaults, uint64_t seed, char *err, size_t errlen);
void nc_wire_policy_free(nc_wire_policy_t *p);
/* Adds a fault (copied) to a policy in use: it counts matching frames from
 * now on. Returns 0, or a negative code with one sentence in err. */
int nc_wire_policy_add(nc_wire_policy_t *p, const nc_fault_t *f, char *err, size_t errlen);
/* Decides the fate of one decoded frame travelling in direction dir (0 or
 * 1): scripted faults first (each drops its nth match, once), then seeded
 * random loss (one stream per direction, so same seed, same drops). */
void nc_wire_policy_decide(nc_wire_policy_t *p, int dir, const nc_event_t *ev,
                           nc_wire_verdict_t *v);
/* Cuts the link (every frame dropped, whatever its direction) or restores
 * it. */
void nc_wire_policy_cut(nc_wire_policy_t *p, bool cut);
/* Returns the monotonic time at which a frame of len bytes that arrived at
 * now_ns leaves the wire in direction dir: serialisation at the rate (the
 * link is busy until the previous frame is out), then the delay. */
int64_t nc_wire_policy_release(nc_wire_policy_t *p, int dir, int64_t now_ns, uint32_t len);
/* True when the policy needs decoded events (faults are present). */
bool nc_wire_policy_needs_decode(const nc_wire_policy_t *p);

/* --- wire.c --- */

typedef struct nc_wire nc_wire_t;

typedef struct nc_wire_cfg {
    int netns;                /* the namespace the thread runs in */
    const nc_topology_t *topo; /* ports and host names */
    nc_link_t link;
    const nc_fault_t *faults;
    size_t nfaults;
    uint64_t seed;
    nc_timeline_t *tl; /* may be NULL: forward only, no events */
    const struct nc_decryptor *dec; /* borrowed: TLS decryption, or NULL */
    void *dec_ctx;
} nc_wire_cfg_t;

/* Starts the capture/wire thread and waits until its captures are open.
 * Returns NULL with one sentence in err. */
nc_wire_t *nc_wire_start(const nc_wire_cfg_t *c, char *err, size_t errlen);
/* Drains in-flight frames (bounded by the delay plus 200 ms), adds the final
 * capture note and joins the thread. Idempotent. */
void nc_wire_stop(nc_wire_t *w);
void nc_wire_stats(const nc_wire_t *w, nc_lab_stats_t *out);
/* Adds a fault while the wire runs; thread-safe (the policy's lock). */
int nc_wire_add_fault(nc_wire_t *w, const nc_fault_t *f, char *err, size_t errlen);
/* Cuts or restores the link while the wire runs; thread-safe. */
void nc_wire_cut(nc_wire_t *w, bool cut);
void nc_wire_free(nc_wire_t *w);

#endif
