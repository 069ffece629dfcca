/*
 * wire_policy.c: what the wire does with each frame, as a pure function.
 *
 * The policy holds the conditions of each link (delay, loss, rate, cut),
 * the lesson's scripted faults with their compiled matchers and a count of
 * matches each, and per direction a random stream and the time the link is
 * busy until. A direction is a wire port: frames read on port i travel in
 * direction i, over the link that port belongs to. A new policy has one
 * link and two ports (the pair topology); nc_wire_policy_ports gives it
 * the topology's. Faults count over every link: a fault that names one
 * does so in its matcher (wire.link=NAME). Deciding takes a decoded packet
 * event; scheduling takes a length and a time. No clocks, sockets or
 * threads here, so the unit tests drive it directly.
 *
 * Random loss uses splitmix64, one stream per direction seeded from the
 * lesson's seed: the same seed drops the same frames of each direction,
 * whatever the other directions do.
 */
#include "lab_impl.h"

#include "core/error.h"
#include "core/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Each fault keeps its own copy of the spec, so faults added while the
 * wire runs (nc_wire_policy_add) need not outlive the call. */
typedef struct fault_state {
    char *spec;
    unsigned nth;
    nc_match_t *m;
    unsigned seen; /* matching frames since the fault was added */
} fault_state_t;

/* A link's conditions, and whether a lesson's program cut it (every frame
 * dropped). */
typedef struct link_state {
    nc_link_t link;
    bool cut;
} link_state_t;

/* A direction: the port's link, its random stream, and when its link is
 * free again (serialisation at the rate). */
typedef struct dir_state {
    size_t link;
    uint64_t rng;
    int64_t busy_until;
} dir_state_t;

struct nc_wire_policy {
    fault_state_t *faults;
    size_t nfaults, cap;
    link_state_t *links;
    size_t nlinks;
    dir_state_t *dirs;
    size_t ndirs;
    uint64_t seed;
};

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

nc_wire_policy_t *nc_wire_policy_new(const nc_link_t *link, const nc_fault_t *faults,
                                     size_t nfaults, uint64_t seed, char *err, size_t errlen)
{
    nc_wire_policy_t *p = nc_xcalloc(1, sizeof *p);
    p->seed = seed;
    static const size_t two_ports[2] = {0, 0};
    nc_wire_policy_ports(p, link, 1, two_ports, 2);
    for (size_t i = 0; i < nfaults; i++) {
        if (nc_wire_policy_add(p, &faults[i], err, errlen) != 0) {
            nc_wire_policy_free(p);
            return NULL;
        }
    }
    return p;
}

int nc_wire_policy_add(nc_wire_policy_t *p, const nc_fault_t *f, char *err, size_t errlen)
{
    const char *spec = f->spec ? f->spec : "";
    if (!f->action || strcmp(f->action, "drop") != 0) {
        snprintf(err, errlen, "fault '%s': unknown action '%s'; the wire can only drop.", spec,
                 f->action ? f->action : "");
        return NC_EINVAL;
    }
    if (f->nth == 0) {
        snprintf(err, errlen, "fault '%s': the packet number must be 1 or more.", spec);
        return NC_EINVAL;
    }
    char merr[200] = "";
    nc_match_t *m = nc_match_compile(f->match ? f->match : "", merr, sizeof merr);
    if (!m) {
        snprintf(err, errlen, "fault '%s': %s", spec, merr);
        return NC_ESYNTAX;
    }
    if (p->nfaults == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 4;
        p->faults = nc_xrealloc(p->faults, p->cap * sizeof *p->faults);
    }
    p->faults[p->nfaults++] = (fault_state_t){.spec = nc_xstrdup(spec), .nth = f->nth, .m = m};
    return 0;
}

void nc_wire_policy_free(nc_wire_policy_t *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nfaults; i++) {
        nc_match_free(p->faults[i].m);
        free(p->faults[i].spec);
    }
    free(p->faults);
    free(p->links);
    free(p->dirs);
    free(p);
}

/* Direction i's stream: the first two are the pair topology's as before,
 * so a seed drops the same frames there as it always did. */
static uint64_t dir_seed(uint64_t seed, size_t i)
{
    return i == 0 ? seed : seed ^ (0x5851F42D4C957F2Dull * (uint64_t)i);
}

void nc_wire_policy_ports(nc_wire_policy_t *p, const nc_link_t *link, size_t nlinks,
                          const size_t *port_link, size_t nports)
{
    free(p->links);
    free(p->dirs);
    p->nlinks = nlinks ? nlinks : 1;
    p->links = nc_xcalloc(p->nlinks, sizeof *p->links);
    for (size_t i = 0; i < p->nlinks; i++)
        p->links[i].link = *link;
    p->ndirs = nports ? nports : 1;
    p->dirs = nc_xcalloc(p->ndirs, sizeof *p->dirs);
    for (size_t i = 0; i < p->ndirs; i++)
        p->dirs[i] = (dir_state_t){.link = i < nports && port_link[i] < p->nlinks ? port_link[i] : 0,
                                   .rng = dir_seed(p->seed, i)};
}

void nc_wire_policy_link(nc_wire_policy_t *p, size_t link, const nc_link_t *cond)
{
    if (link < p->nlinks)
        p->links[link].link = *cond;
}

/* The direction a caller's dir stands for (out-of-range ones are the
 * last). */
static dir_state_t *dir_of(nc_wire_policy_t *p, int dir)
{
    size_t i = dir < 0 ? 0 : (size_t)dir;
    return &p->dirs[i < p->ndirs ? i : p->ndirs - 1];
}

bool nc_wire_policy_needs_decode(const nc_wire_policy_t *p)
{
    return p->nfaults > 0;
}

void nc_wire_policy_decide(nc_wire_policy_t *p, int dir, const nc_event_t *ev,
                           nc_wire_verdict_t *v)
{
    v->drop = false;
    v->reason[0] = '\0';
    dir_state_t *d = dir_of(p, dir);
    link_state_t *ls = &p->links[d->link];
    /* Every fault counts every frame it matches, even one another fault or
     * the loss takes: "the 3rd data segment" means the 3rd one sent. */
    for (size_t i = 0; i < p->nfaults; i++) {
        fault_state_t *fs = &p->faults[i];
        if (!nc_match_event(fs->m, ev, NULL))
            continue;
        if (++fs->seen == fs->nth && !v->drop) {
            v->drop = true;
            snprintf(v->reason, sizeof v->reason, "scripted: %s", fs->spec);
        }
    }
    if (ls->cut && !v->drop) {
        v->drop = true;
        snprintf(v->reason, sizeof v->reason, "the lesson's program cut the link");
    }
    /* One draw per frame and direction, dropped or not, keeps the stream
     * aligned with the frames whatever the faults did. */
    if (ls->link.loss > 0) {
        double x = (double)(splitmix64(&d->rng) >> 11) * 0x1.0p-53;
        if (x < ls->link.loss && !v->drop) {
            v->drop = true;
            snprintf(v->reason, sizeof v->reason, "random loss %g%%", ls->link.loss * 100);
        }
    }
}

void nc_wire_policy_cut(nc_wire_policy_t *p, int link, bool cut)
{
    for (size_t i = 0; i < p->nlinks; i++)
        if (link < 0 || (size_t)link == i)
            p->links[i].cut = cut;
}

int64_t nc_wire_policy_release(nc_wire_policy_t *p, int dir, int64_t now_ns, uint32_t len)
{
    dir_state_t *d = dir_of(p, dir);
    const nc_link_t *l = &p->links[d->link].link;
    int64_t sent = now_ns;
    if (l->rate_bps) {
        int64_t start = d->busy_until > now_ns ? d->busy_until : now_ns;
        sent = start + (int64_t)((uint64_t)len * 8 * 1000000000ull / l->rate_bps);
        d->busy_until = sent;
    }
    return sent + l->delay_ns;
}

int64_t nc_wire_policy_max_delay(const nc_wire_policy_t *p)
{
    int64_t m = 0;
    for (size_t i = 0; i < p->nlinks; i++)
        if (p->links[i].link.delay_ns > m)
            m = p->links[i].link.delay_ns;
    return m;
}
