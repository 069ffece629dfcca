/*
 * topology.c: the lab networks a lesson can ask for, as one table.
 *
 * A topology lists its hosts: each is a network namespace with one
 * interface and one IPv4 address. When the topology has a wire, each host's
 * interface is one end of a veth pair whose other end ("port") sits in the
 * wire's own namespace, where the wire thread bridges the ports. Without a
 * wire there is a single host and the capture reads its loopback; its
 * aliases name other loopback addresses in the same namespace, so "local"
 * has a server (127.0.0.1) and a client (127.0.0.2) on one lo.
 */
#include "lab_impl.h"

#include <string.h>

static const nc_topology_t topologies[] = {
    {
        .name = "local",
        .hosts = {{"server", "127.0.0.1", 8, "lo", NULL}},
        .nhosts = 1,
        /* "silent" is a client that never answers (the accept-queue
         * lesson's half-open handshakes): a name for its address only. */
        .aliases = {{"client", "127.0.0.2", 0}, {"silent", "10.9.9.9", 0}},
        .naliases = 2,
        .wire = false,
    },
    {
        .name = "pair",
        .hosts = {{"client", "10.0.0.1", 24, "eth0", "c0"},
                  {"server", "10.0.0.2", 24, "eth0", "s0"}},
        .nhosts = 2,
        .wire = true,
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
    return "local, pair";
}
