/*
 * wire_policy.c: what the wire does with each frame, as a pure function.
 *
 * The policy holds the lesson's link (delay, loss, rate), its scripted
 * faults with their compiled matchers and a count of matches each, and per
 * direction a random stream and the time the link is busy until. Deciding
 * takes a decoded packet event; scheduling takes a length and a time. No
 * clocks, sockets or threads here, so the unit tests drive it directly.
 *
 * Random loss uses splitmix64, one stream per direction seeded from the
 * lesson's seed: the same seed drops the same frames of each direction,
 * whatever the other direction does.
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

struct nc_wire_policy {
    nc_link_t link;
    fault_state_t *faults;
    size_t nfaults, cap;
    uint64_t rng[2];
    int64_t busy_until[2];
    bool cut; /* a lesson's program cut the link: every frame is dropped */
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
    p->link = *link;
    p->rng[0] = seed;
    p->rng[1] = seed ^ 0x5851F42D4C957F2Dull;
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
    free(p);
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
    dir = dir ? 1 : 0;
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
    if (p->cut && !v->drop) {
        v->drop = true;
        snprintf(v->reason, sizeof v->reason, "the lesson's program cut the link");
    }
    /* One draw per frame and direction, dropped or not, keeps the stream
     * aligned with the frames whatever the faults did. */
    if (p->link.loss > 0) {
        double x = (double)(splitmix64(&p->rng[dir]) >> 11) * 0x1.0p-53;
        if (x < p->link.loss && !v->drop) {
            v->drop = true;
            snprintf(v->reason, sizeof v->reason, "random loss %g%%", p->link.loss * 100);
        }
    }
}

void nc_wire_policy_cut(nc_wire_policy_t *p, bool cut)
{
    p->cut = cut;
}

int64_t nc_wire_policy_release(nc_wire_policy_t *p, int dir, int64_t now_ns, uint32_t len)
{
    dir = dir ? 1 : 0;
    int64_t sent = now_ns;
    if (p->link.rate_bps) {
        int64_t start = p->busy_until[dir] > now_ns ? p->busy_until[dir] : now_ns;
        sent = start + (int64_t)((uint64_t)len * 8 * 1000000000ull / p->link.rate_bps);
        p->busy_until[dir] = sent;
    }
    return sent + p->link.delay_ns;
}
