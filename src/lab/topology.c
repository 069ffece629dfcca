/*
 * topology.c: the lab networks a lesson can ask for, as one table.
 *
 * Data model. A topology lists its hosts and its links. A host is a
 * network namespace; its primary address is what its name resolves to in
 * program blocks, and it may have a default gateway (a host across a
 * router) or forward between its own interfaces (a router: the middle of a
 * chain, the balancer of a fan, the NAT box). A link is one segment of the
 * wire: two or more ends, each a host's interface with an address, whose
 * other side ("port") sits in the wire's own namespace. The wire bridges
 * the ports of each link (a two-ended link is a cable, a longer one a
 * switch that learns where each MAC address is) and gives each link its
 * own conditions and name. Ports are numbered in table order, links first
 * to last and ends in order: that number is a packet event's iface.
 *
 * Without a wire ("local") there is a single host and the capture reads
 * its loopback; its aliases name other loopback addresses in the same
 * namespace, so "local" has a server (127.0.0.1) and a client (127.0.0.2)
 * on one lo.
 *
 * Addressing: every link is a /24 of its own; in "nat" the inside is
 * 192.168.1.0/24 and the outside 203.0.113.0/24 (a documentation range),
 * and the NAT box sits on the port of the nat host's outside end.
 */
#include "lab_impl.h"

#include <string.h>

/* An end of a link: host index, interface, address, wire port. */
#define END(h, ifn, a, p) {h, ifn, a, 24, p}

static const nc_topology_t topologies[] = {
    {
        .name = "local",
        .hosts = {{"server", "127.0.0.1", NULL, false}},
        .nhosts = 1,
        /* "silent" is a client that never answers (the accept-queue
         * lesson's half-open handshakes): a name for its address only. */
        .aliases = {{"client", "127.0.0.2", 0}, {"silent", "10.9.9.9", 0}},
        .naliases = 2,
        .wire = false,
        .nat_port = -1,
        .drawing = "client, server: one host, its loopback",
    },
    {
        .name = "pair",
        .hosts = {{"client", "10.0.0.1", NULL, false}, {"server", "10.0.0.2", NULL, false}},
        .nhosts = 2,
        .links = {{"wire", {END(0, "eth0", "10.0.0.1", "c0"), END(1, "eth0", "10.0.0.2", "s0")}, 2}},
        .nlinks = 1,
        .wire = true,
        .nat_port = -1,
        .drawing = "client ~wire~ server",
    },
    {
        .name = "chain",
        .hosts = {{"client", "10.0.1.2", "10.0.1.1", false},
                  {"middle", "10.0.1.1", NULL, true},
                  {"server", "10.0.2.2", "10.0.2.1", false}},
        .nhosts = 3,
        .links = {{"client-middle", {END(0, "eth0", "10.0.1.2", "c0"), END(1, "eth0", "10.0.1.1", "m0")}, 2},
                  {"middle-server", {END(1, "eth1", "10.0.2.1", "m1"), END(2, "eth0", "10.0.2.2", "s0")}, 2}},
        .nlinks = 2,
        .wire = true,
        .nat_port = -1,
        .drawing = "client ~client-middle~ middle ~middle-server~ server",
    },
    {
        .name = "fan",
        .hosts = {{"client1", "10.0.1.2", "10.0.1.1", false},
                  {"client2", "10.0.2.2", "10.0.2.1", false},
                  {"balancer", "10.0.1.1", NULL, true},
                  {"backend1", "10.1.1.2", "10.1.1.1", false},
                  {"backend2", "10.1.2.2", "10.1.2.1", false},
                  {"backend3", "10.1.3.2", "10.1.3.1", false}},
        .nhosts = 6,
        .links = {{"client1-balancer", {END(0, "eth0", "10.0.1.2", "c1"), END(2, "eth1", "10.0.1.1", "lc1")}, 2},
                  {"client2-balancer", {END(1, "eth0", "10.0.2.2", "c2"), END(2, "eth2", "10.0.2.1", "lc2")}, 2},
                  {"balancer-backend1", {END(2, "eth3", "10.1.1.1", "lb1"), END(3, "eth0", "10.1.1.2", "b1")}, 2},
                  {"balancer-backend2", {END(2, "eth4", "10.1.2.1", "lb2"), END(4, "eth0", "10.1.2.2", "b2")}, 2},
                  {"balancer-backend3", {END(2, "eth5", "10.1.3.1", "lb3"), END(5, "eth0", "10.1.3.2", "b3")}, 2}},
        .nlinks = 5,
        .wire = true,
        .nat_port = -1,
        .drawing = "client1, client2 ~ balancer ~ backend1, backend2, backend3",
    },
    {
        .name = "nat",
        .hosts = {{"inside1", "192.168.1.10", "192.168.1.1", false},
                  {"inside2", "192.168.1.11", "192.168.1.1", false},
                  {"nat", "203.0.113.1", NULL, true},
                  {"peer", "203.0.113.20", NULL, false},
                  {"stun", "203.0.113.30", NULL, false},
                  {"turn", "203.0.113.40", NULL, false}},
        .nhosts = 6,
        .links = {{"inside", {END(0, "eth0", "192.168.1.10", "i1"), END(1, "eth0", "192.168.1.11", "i2"),
                              END(2, "eth0", "192.168.1.1", "ni")}, 3},
                  {"outside", {END(2, "eth1", "203.0.113.1", "no"), END(3, "eth0", "203.0.113.20", "p0"),
                               END(4, "eth0", "203.0.113.30", "st0"), END(5, "eth0", "203.0.113.40", "tu0")}, 4}},
        .nlinks = 2,
        .wire = true,
        .nat_port = 3, /* "no": the nat host's outside end */
        .nat_inside = "192.168.1.0/24",
        .drawing = "inside1, inside2 ~inside~ [NAT] ~outside~ peer, stun, turn",
    },
};

const nc_topology_t *nc_topology_find(const char *name)
{
    for (size_t i = 0; i < sizeof topologies / sizeof topologies[0]; i++)
        if (name && strcmp(topologies[i].name, name) == 0)
            return &topologies[i];
    return NULL;
}

const char *nc_topology_names(void)
{
    return "local, pair, chain, fan, nat";
}

size_t nc_topology_nports(const nc_topology_t *t)
{
    size_t n = 0;
    for (size_t i = 0; i < t->nlinks; i++)
        n += t->links[i].nends;
    return t->wire ? n : 1;
}

const nc_topo_end_t *nc_topology_port(const nc_topology_t *t, size_t port, size_t *link)
{
    for (size_t i = 0; i < t->nlinks; i++) {
        if (port < t->links[i].nends) {
            if (link)
                *link = i;
            return &t->links[i].ends[port];
        }
        port -= t->links[i].nends;
    }
    return NULL;
}

int nc_topology_link_find(const nc_topology_t *t, const char *name)
{
    for (size_t i = 0; name && i < t->nlinks; i++)
        if (strcmp(t->links[i].name, name) == 0)
            return (int)i;
    return -1;
}
