/*
 * lab.c: building a lesson's network from a topology and running it.
 *
 * An nc_lab_t holds one namespace fd per host, one for the wire when the
 * topology has one, and the wire (wire.c). The namespaces are created from
 * a short-lived parent namespace that gives each a small TCP hash table of
 * its own (see nc_lab_parent_ns). Building goes in three steps,
 * each on short-lived threads inside the namespace concerned: create the
 * namespaces; in the wire's namespace create one veth pair per host, whose
 * peer is placed directly in the host's namespace; then give each host its
 * address. Namespaces vanish when their fds are closed and no thread or
 * socket is left in them, so nc_lab_free only closes fds: scenario threads
 * must have been joined by then.
 */
#include "lab_impl.h"

#include "core/error.h"
#include "core/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct nc_lab {
    const nc_topology_t *topo;
    int host_ns[4];
    int wire_ns;
    nc_wire_t *wire;
};

typedef struct setup_ctx {
    nc_lab_t *lab;
    const nc_topo_host_t *host;
    int host_ns;
    char err[256];
} setup_ctx_t;

/* In the wire's namespace: the host's link, its wire end ready to bridge. */
static int setup_port(void *arg)
{
    setup_ctx_t *c = arg;
    const nc_topo_host_t *h = c->host;
    int rc = nc_netlink_veth_add(h->port, h->ifname, c->host_ns, c->err, sizeof c->err);
    if (rc == 0)
        rc = nc_netlink_offload_off(h->port, c->err, sizeof c->err);
    if (rc == 0)
        rc = nc_netlink_link_up(h->port, c->err, sizeof c->err);
    return rc;
}

/* In the host's namespace: its end of the link, addressed and up. */
static int setup_host(void *arg)
{
    setup_ctx_t *c = arg;
    const nc_topo_host_t *h = c->host;
    if (strcmp(h->ifname, "lo") == 0)
        return 0; /* lo is up and holds 127.0.0.1/8 already */
    int rc = nc_netlink_offload_off(h->ifname, c->err, sizeof c->err);
    if (rc == 0)
        rc = nc_netlink_addr_add(h->ifname, h->addr, h->prefix, c->err, sizeof c->err);
    if (rc == 0)
        rc = nc_netlink_link_up(h->ifname, c->err, sizeof c->err);
    return rc;
}

static int run_setup(nc_lab_t *lab, int netns, int (*fn)(void *), size_t host, char *err,
                     size_t errlen)
{
    setup_ctx_t c = {.lab = lab, .host = &lab->topo->hosts[host], .host_ns = lab->host_ns[host]};
    int rc = nc_netns_call(netns, fn, &c);
    if (rc != 0)
        snprintf(err, errlen, "%s", c.err[0] ? c.err : "lab: cannot enter a lab namespace.");
    return rc;
}

static int nc_lab_small_hash(void *arg)
{
    char why[256];
    return nc_netns_sysctl("net/ipv4/tcp_child_ehash_entries", "1024", why, sizeof why);
}

/*
 * The namespace the lab's namespaces are created from, or -1. By default a
 * new namespace shares the host's TCP hash table (262144 buckets here), and
 * every sock_diag dump of a namespace walks all of it: 160 us a dump. Made
 * from a parent whose tcp_child_ehash_entries is 1024, each lab namespace
 * gets a table of its own and the probe's dumps cost a few us. Kernels
 * before 6.1 lack the setting: then there is no parent and nothing changes.
 */
static int nc_lab_parent_ns(void)
{
    if (access("/proc/sys/net/ipv4/tcp_child_ehash_entries", F_OK) != 0)
        return -1;
    char err[256];
    int fd;
    if (nc_netns_new(&fd, err, sizeof err) != 0)
        return -1;
    if (nc_netns_call(fd, nc_lab_small_hash, NULL) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

nc_lab_t *nc_lab_new(const nc_lab_opts_t *o, char *err, size_t errlen)
{
    const nc_topology_t *topo = nc_topology_find(o->topology);
    if (!topo) {
        snprintf(err, errlen, "lab: unknown topology '%s'; expected one of %s.",
                 o->topology ? o->topology : "", nc_topology_names());
        return NULL;
    }
    nc_lab_t *lab = nc_xcalloc(1, sizeof *lab);
    lab->topo = topo;
    lab->wire_ns = -1;
    for (size_t i = 0; i < 4; i++)
        lab->host_ns[i] = -1;
    int parent = nc_lab_parent_ns();
    for (size_t i = 0; i < topo->nhosts; i++)
        if (nc_netns_new_in(parent, &lab->host_ns[i], err, errlen) != 0)
            goto fail_parent;
    if (topo->wire) {
        if (nc_netns_new_in(parent, &lab->wire_ns, err, errlen) != 0)
            goto fail_parent;
        for (size_t i = 0; i < topo->nhosts; i++)
            if (run_setup(lab, lab->wire_ns, setup_port, i, err, errlen) != 0)
                goto fail;
    }
    for (size_t i = 0; i < topo->nhosts; i++)
        if (run_setup(lab, lab->host_ns[i], setup_host, i, err, errlen) != 0)
            goto fail;
    nc_wire_cfg_t cfg = {
        .netns = topo->wire ? lab->wire_ns : lab->host_ns[0],
        .topo = topo,
        .link = o->link,
        .faults = o->faults,
        .nfaults = o->nfaults,
        .seed = o->seed,
        .tl = o->tl,
        .dec = o->dec,
        .dec_ctx = o->dec_ctx,
    };
    if (parent >= 0)
        close(parent);
    lab->wire = nc_wire_start(&cfg, err, errlen);
    if (!lab->wire)
        goto fail;
    return lab;
fail_parent:
    if (parent >= 0)
        close(parent);
fail:
    nc_lab_free(lab);
    return NULL;
}

size_t nc_lab_host_count(const nc_lab_t *lab)
{
    return lab->topo->nhosts + lab->topo->naliases;
}

const char *nc_lab_host_name(const nc_lab_t *lab, size_t i)
{
    const nc_topology_t *t = lab->topo;
    if (i < t->nhosts)
        return t->hosts[i].name;
    return i - t->nhosts < t->naliases ? t->aliases[i - t->nhosts].name : NULL;
}

/* The index of a host (or alias, numbered after the hosts), or -1. */
static int host_index(const nc_lab_t *lab, const char *host)
{
    for (size_t i = 0; host && i < nc_lab_host_count(lab); i++)
        if (strcmp(nc_lab_host_name(lab, i), host) == 0)
            return (int)i;
    return -1;
}

const char *nc_lab_host_addr(const nc_lab_t *lab, const char *host)
{
    const nc_topology_t *t = lab->topo;
    int i = host_index(lab, host);
    if (i < 0)
        return NULL;
    return (size_t)i < t->nhosts ? t->hosts[i].addr : t->aliases[(size_t)i - t->nhosts].addr;
}

int nc_lab_host_netns(const nc_lab_t *lab, const char *host)
{
    const nc_topology_t *t = lab->topo;
    int i = host_index(lab, host);
    if (i < 0)
        return -1;
    return (size_t)i < t->nhosts ? lab->host_ns[i] : lab->host_ns[t->aliases[(size_t)i - t->nhosts].host];
}

int nc_lab_spawn(nc_lab_t *lab, const char *host, void *(*fn)(void *), void *arg,
                 pthread_t *thread)
{
    int ns = nc_lab_host_netns(lab, host);
    if (ns < 0)
        return NC_ENOENT;
    return nc_netns_spawn(ns, fn, arg, thread);
}

const char *nc_lab_iface_name(const nc_lab_t *lab, uint32_t iface)
{
    const nc_topology_t *t = lab->topo;
    if (iface >= t->nhosts || (!t->wire && iface > 0))
        return NULL;
    return t->wire ? t->hosts[iface].port : t->hosts[0].ifname;
}

typedef struct sysctl_job {
    const char *path, *value;
    char err[256];
} sysctl_job_t;

static int sysctl_in(void *arg)
{
    sysctl_job_t *j = arg;
    return nc_netns_sysctl(j->path, j->value, j->err, sizeof j->err);
}

int nc_lab_sysctl(nc_lab_t *lab, const char *host, const char *path, const char *value,
                  char *err, size_t errlen)
{
    int ns = nc_lab_host_netns(lab, host);
    if (ns < 0) {
        snprintf(err, errlen, "lab: no host '%s' in this lab.", host ? host : "");
        return NC_ENOENT;
    }
    sysctl_job_t j = {.path = path, .value = value};
    int rc = nc_netns_call(ns, sysctl_in, &j);
    if (rc != 0)
        snprintf(err, errlen, "%s", j.err[0] ? j.err : "lab: cannot enter the host's namespace.");
    return rc;
}

void nc_lab_stats(const nc_lab_t *lab, nc_lab_stats_t *out)
{
    memset(out, 0, sizeof *out);
    if (lab->wire)
        nc_wire_stats(lab->wire, out);
}

int nc_lab_add_fault(nc_lab_t *lab, const nc_fault_t *f, char *err, size_t errlen)
{
    if (!lab->topo->wire || !lab->wire) {
        snprintf(err, errlen, "the %s topology has no wire, so it cannot drop packets",
                 lab->topo->name);
        return NC_EUNSUPP;
    }
    return nc_wire_add_fault(lab->wire, f, err, errlen);
}

int nc_lab_cut(nc_lab_t *lab, bool cut, char *err, size_t errlen)
{
    if (!lab->topo->wire || !lab->wire) {
        snprintf(err, errlen, "the %s topology has no wire, so its link cannot be cut",
                 lab->topo->name);
        return NC_EUNSUPP;
    }
    nc_wire_cut(lab->wire, cut);
    return 0;
}

void nc_lab_stop(nc_lab_t *lab)
{
    if (lab && lab->wire)
        nc_wire_stop(lab->wire);
}

void nc_lab_free(nc_lab_t *lab)
{
    if (!lab)
        return;
    nc_wire_free(lab->wire);
    for (size_t i = 0; i < 4; i++)
        if (lab->host_ns[i] >= 0)
            close(lab->host_ns[i]);
    if (lab->wire_ns >= 0)
        close(lab->wire_ns);
    free(lab);
}
