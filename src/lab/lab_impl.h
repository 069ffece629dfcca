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
/* Adds the default route via gateway ("10.0.1.1"). */
int nc_netlink_route_default(const char *gateway, char *err, size_t errlen);
/* Turns off TX checksum offload, TSO, GSO and GRO, and checks they are off:
 * a userspace wire must see and forward complete, MSS-sized frames. */
int nc_netlink_offload_off(const char *ifname, char *err, size_t errlen);

/* --- topology.c --- */

enum { NC_TOPO_HOSTS = 8, NC_TOPO_LINKS = 6, NC_TOPO_ENDS = 4 };

typedef struct nc_topo_host {
    const char *name;    /* "client" */
    const char *addr;    /* its primary address: what its name resolves to */
    const char *gateway; /* its default route, or NULL */
    bool router;         /* forwards IPv4 between its interfaces */
} nc_topo_host_t;

/* One end of a link: a host's interface and the wire's port facing it. */
typedef struct nc_topo_end {
    size_t host;        /* index in hosts */
    const char *ifname; /* the host's interface ("eth0") */
    const char *addr;   /* its address ("10.0.0.1") */
    int prefix;         /* 24 */
    const char *port;   /* the wire's end ("c0") */
} nc_topo_end_t;

/* A segment of the wire: two ends (a cable) or more (a learning switch). */
typedef struct nc_topo_link {
    const char *name; /* "client-middle": what faults, cuts and conditions name */
    nc_topo_end_t ends[NC_TOPO_ENDS];
    size_t nends;
} nc_topo_link_t;

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
    nc_topo_host_t hosts[NC_TOPO_HOSTS];
    size_t nhosts;
    nc_topo_link_t links[NC_TOPO_LINKS];
    size_t nlinks;
    nc_topo_alias_t aliases[3];
    size_t naliases;
    bool wire;              /* hosts are joined by the wire (else the capture is on lo) */
    int nat_port;           /* the port the NAT box sits on, or -1 */
    const char *nat_inside; /* the private prefix the NAT translates ("192.168.1.0/24") */
    const char *drawing;    /* one line for people */
} nc_topology_t;

/* Returns the topology of this name, or NULL. */
const nc_topology_t *nc_topology_find(const char *name);
/* Returns the known names, comma-separated, for error messages. */
const char *nc_topology_names(void);
/* The number of wire ports (1 without a wire: the loopback capture). */
size_t nc_topology_nports(const nc_topology_t *t);
/* Port number port's end, and its link's index in *link (may be NULL); NULL
 * past the last port. */
const nc_topo_end_t *nc_topology_port(const nc_topology_t *t, size_t port, size_t *link);
/* The index of the link of this name, or -1. */
int nc_topology_link_find(const nc_topology_t *t, const char *name);

/* --- wire_policy.c --- */

typedef struct nc_wire_policy nc_wire_policy_t;

typedef struct nc_wire_verdict {
    bool drop;
    char reason[200]; /* "scripted: drop 3rd packet ...", "random loss 5%" */
    char nat[64];     /* the NAT's rewriting ("mapped A -> B"), or empty */
} nc_wire_verdict_t;

/* Compiles the faults' matchers. Returns NULL with one sentence in err. */
nc_wire_policy_t *nc_wire_policy_new(const nc_link_t *link, const nc_fault_t *faults,
                                     size_t nfaults, uint64_t seed, char *err, size_t errlen);
void nc_wire_policy_free(nc_wire_policy_t *p);
/* Adds a fault (copied) to a policy in use: it counts matching frames from
 * now on. Returns 0, or a negative code with one sentence in err. */
int nc_wire_policy_add(nc_wire_policy_t *p, const nc_fault_t *f, char *err, size_t errlen);
/* Gives the policy the topology's links and ports: nlinks links, each with
 * the conditions *link to start with, and nports directions, port i on
 * link port_link[i]. Streams and busy times start afresh. */
void nc_wire_policy_ports(nc_wire_policy_t *p, const nc_link_t *link, size_t nlinks,
                          const size_t *port_link, size_t nports);
/* Sets one link's conditions. */
void nc_wire_policy_link(nc_wire_policy_t *p, size_t link, const nc_link_t *cond);
/* The largest delay of any link. */
int64_t nc_wire_policy_max_delay(const nc_wire_policy_t *p);
/* Decides the fate of one decoded frame travelling in direction dir (the
 * port it was read on): scripted faults first (each drops its nth match,
 * once), then the cut, then the link's seeded random loss (one stream per
 * direction, so same seed, same drops). */
void nc_wire_policy_decide(nc_wire_policy_t *p, int dir, const nc_event_t *ev,
                           nc_wire_verdict_t *v);
/* Cuts link (every frame dropped, whatever its direction; -1: every link)
 * or restores it. */
void nc_wire_policy_cut(nc_wire_policy_t *p, int link, bool cut);
/* Returns the monotonic time at which a frame of len bytes that arrived at
 * now_ns leaves the wire in direction dir: serialisation at the rate (the
 * link is busy until the previous frame is out), then the delay. */
int64_t nc_wire_policy_release(nc_wire_policy_t *p, int dir, int64_t now_ns, uint32_t len);
/* True when the policy needs decoded events (faults are present). */
bool nc_wire_policy_needs_decode(const nc_wire_policy_t *p);

/* --- wire_nat.c --- */

typedef struct nc_nat nc_nat_t;

typedef enum {
    NC_NAT_PASS,        /* not translated: not TCP/UDP over IPv4, or not inside/public */
    NC_NAT_REWROTE,     /* rewritten through an existing mapping */
    NC_NAT_NEW_MAPPING, /* outbound: a mapping was made, then rewritten */
    NC_NAT_DROP,        /* no mapping, or the filter refuses it */
} nc_nat_result_t;

/* A mapping made or expired: what the translation table's state event
 * says. Endpoints are "addr:port"; remote is empty unless the mapping
 * depends on it (symmetric). */
typedef struct nc_nat_change {
    char what[8]; /* "add" or "expire" */
    char proto[4];
    char inside[24], outside[24], remote[24];
    size_t mappings; /* the table's size after the change */
} nc_nat_change_t;

/* The behaviours' names; the index of one, or -1. */
const char *nc_nat_names(void);
int nc_nat_kind(const char *name);
/* A NAT of behaviour kind with one public address, translating sources in
 * inside_prefix ("192.168.1.0/24"); mappings idle for timeout_ns (0: 30 s)
 * expire. NULL when an argument is invalid. */
nc_nat_t *nc_nat_new(const char *kind, const char *public_addr, const char *inside_prefix,
                     int64_t timeout_ns);
void nc_nat_free(nc_nat_t *n);
const char *nc_nat_kind_name(const nc_nat_t *n);
/* A frame leaving by the NAT's port: rewrites an inside source in place.
 * what gets one line ("new mapping A -> B"); on NC_NAT_NEW_MAPPING *added
 * says so for the state event. */
nc_nat_result_t nc_nat_outbound(nc_nat_t *n, uint8_t *frame, uint32_t len, int64_t now_ns,
                                char *what, size_t whatlen, nc_nat_change_t *added);
/* A frame for the public address: rewrites it to its inside endpoint, or
 * NC_NAT_DROP with the reason in what. */
nc_nat_result_t nc_nat_inbound(nc_nat_t *n, uint8_t *frame, uint32_t len, int64_t now_ns,
                               char *what, size_t whatlen);
/* Removes mappings idle for the timeout at now_ns; writes at most max
 * changes to out and returns how many. */
size_t nc_nat_expire(nc_nat_t *n, int64_t now_ns, nc_nat_change_t *out, size_t max);
/* The table, one mapping a line ("udp 192.168.1.10:5000 = 203.0.113.1:40000
 * for 203.0.113.30:3478"); returns the length written. */
size_t nc_nat_table(const nc_nat_t *n, char *out, size_t outlen);

/* --- wire.c --- */

typedef struct nc_wire nc_wire_t;

typedef struct nc_wire_cfg {
    int netns;                /* the namespace the thread runs in */
    const nc_topology_t *topo; /* ports and host names */
    nc_link_t link;
    const nc_link_on_t *links_on; /* per-link conditions (borrowed) */
    size_t nlinks_on;
    const char *nat;          /* NAT behaviour on the topology's NAT port, or NULL */
    int64_t nat_timeout_ns;
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
/* Cuts or restores link (-1: every link) while the wire runs; thread-safe. */
void nc_wire_cut(nc_wire_t *w, int link, bool cut);
void nc_wire_free(nc_wire_t *w);

#endif
