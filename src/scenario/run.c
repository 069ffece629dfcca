/*
 * run.c: one live run of a lesson, and the lesson's script applied to it.
 *
 * The run owns a timeline, a lab and a thread that runs the scenario and
 * then stops the lab. The lesson's script is applied by the timeline's
 * publish hook, so it sees every event exactly once, in order, just before
 * the event becomes visible:
 *
 *   notes        a lesson note is put in front of the generic annotation of
 *                the first event it matches (every one, with "every: yes");
 *   steps        a "begin" mark precedes a step's first event and an "end"
 *                mark follows the event its `until` matches;
 *   checkpoints  an "asked" mark precedes the first event `before` matches
 *                (the target); the choices are then decided by the run:
 *                `when` on the target, `later`/`never` on the events after
 *                it, `otherwise` when nothing else held at the end; a
 *                "decided" mark records which one was right.
 *
 * Checkpoint state is read by the TUI on another thread, hence r->lock.
 */
#include "run.h"

#include "applink.h"
#include "scenario.h"

#include "../probe/probe.h"

#include "../core/clock.h"
#include "../core/error.h"
#include "../core/link.h"
#include "../core/match.h"
#include "../core/xmalloc.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct nc_run_cp {
    nc_run_checkpoint_t pub;
    nc_match_t *before;
    nc_match_t **choice;   /* one per choice; NULL for otherwise */
    int *seen_later;       /* per choice: a later event matched */
} nc_run_cp_t;

typedef struct nc_run_note {
    nc_match_t *m;
    int used;
} nc_run_note_t;

struct nc_run {
    const nc_lesson_t *lesson;
    const nc_scenario_t *scenario;
    nc_timeline_t *tl;
    nc_lab_t *lab;
    nc_probe_t *probe;
    nc_applink_t *applink;
    nc_scn_t scn;
    pthread_t thread;
    int thread_started;
    atomic_int finished;
    int finalized;
    int status;
    char errmsg[256];
    pthread_mutex_t lock;
    nc_match_t **until; /* per step */
    long *step_begin;   /* per step: index of its begin mark, -1 */
    size_t cur_step;
    int step_open;
    nc_run_cp_t *cps;
    nc_run_note_t *notes;
    nc_evb_t hookb; /* used only inside the hook (under the timeline lock) */
    uint64_t seed;
    char *link;
};

static void nc_run_mark(nc_run_t *r, nc_evb_t *b, int64_t t)
{
    nc_evb_reset(b, NC_EV_MARK, t);
    nc_evb_host(b, "lesson");
}

/* ---- the publish hook ---- */

static void nc_run_decide(nc_run_t *r, nc_run_cp_t *c, int choice, const nc_event_t *by,
                          int follow)
{
    pthread_mutex_lock(&r->lock);
    c->pub.right = choice;
    c->pub.decided_at = by ? (long)by->i : -1;
    pthread_mutex_unlock(&r->lock);
    const nc_checkpoint_t *cp = c->pub.cp;
    const nc_choice_t *ch = &cp->choices[choice];
    nc_evb_t *b = &r->hookb;
    nc_run_mark(r, b, 0);
    nc_evb_summary(b, "Checkpoint \"%s\": the run shows (%s) %s", cp->id, ch->key, ch->text);
    nc_evb_str(b, "checkpoint", cp->id);
    nc_evb_str(b, "event", "decided");
    nc_evb_str(b, "answer", ch->key);
    nc_evb_str(b, "right", ch->text);
    if (by)
        nc_evb_int(b, "by", (int64_t)by->i);
    if (cp->explain)
        nc_evb_note(b, "%s", cp->explain);
    if (follow)
        nc_timeline_follow(r->tl, b);
}

static void nc_run_ask(nc_run_t *r, nc_run_cp_t *c, nc_event_t *ev)
{
    const nc_checkpoint_t *cp = c->pub.cp;
    nc_evb_t *b = &r->hookb;
    nc_run_mark(r, b, 0);
    nc_evb_summary(b, "Checkpoint: %s", cp->question);
    nc_evb_str(b, "checkpoint", cp->id);
    nc_evb_str(b, "event", "asked");
    nc_evb_str(b, "question", cp->question);
    nc_evb_list(b, "choices");
    for (size_t k = 0; k < cp->nchoices; k++)
        nc_evb_strf(b, NULL, "%s: %s", cp->choices[k].key, cp->choices[k].text);
    nc_evb_end(b);
    long asked = (long)ev->i;
    nc_timeline_precede(r->tl, b);
    pthread_mutex_lock(&r->lock);
    c->pub.asked_at = asked;
    c->pub.target = (long)ev->i;
    pthread_mutex_unlock(&r->lock);
    for (size_t k = 0; k < cp->nchoices; k++) {
        if (cp->choices[k].rule == NC_CHOICE_WHEN && nc_match_event(c->choice[k], ev, NULL)) {
            nc_run_decide(r, c, (int)k, ev, 1);
            return;
        }
    }
}

/* Checks an event after the target against later/never choices. */
static void nc_run_watch(nc_run_t *r, nc_run_cp_t *c, const nc_event_t *ev)
{
    const nc_checkpoint_t *cp = c->pub.cp;
    const nc_event_t *target = nc_timeline_get(r->tl, (size_t)c->pub.target);
    for (size_t k = 0; k < cp->nchoices; k++) {
        nc_choice_rule_t rule = cp->choices[k].rule;
        if ((rule != NC_CHOICE_LATER && rule != NC_CHOICE_NEVER) || c->seen_later[k])
            continue;
        if (!nc_match_event(c->choice[k], ev, target))
            continue;
        c->seen_later[k] = 1;
        if (rule == NC_CHOICE_LATER) {
            nc_run_decide(r, c, (int)k, ev, 1);
            return;
        }
    }
}

static void nc_run_hook(nc_timeline_t *tl, nc_event_t *ev, void *arg)
{
    nc_run_t *r = arg;
    const nc_lesson_t *l = r->lesson;
    if (ev->type == NC_EV_MARK)
        return;
    long link = nc_applink_see(r->applink, ev);
    if (link >= 0)
        nc_timeline_add_int(tl, ev, "packet", link);

    for (size_t k = 0; k < l->nnotes; k++) {
        nc_run_note_t *n = &r->notes[k];
        if ((n->used && !l->notes[k].every) || !nc_match_event(n->m, ev, NULL))
            continue;
        n->used = 1;
        char *text = ev->note ? nc_xasprintf("%s %s", l->notes[k].text, ev->note)
                              : nc_xstrdup(l->notes[k].text);
        ev->note = nc_timeline_strdup(tl, text);
        free(text);
    }

    if (r->cur_step < l->nsteps && !r->step_open) {
        const nc_step_t *st = &l->steps[r->cur_step];
        nc_evb_t *b = &r->hookb;
        nc_run_mark(r, b, 0);
        nc_evb_summary(b, "Step %zu of %zu: %s", r->cur_step + 1, l->nsteps, st->title);
        nc_evb_str(b, "step", st->id);
        nc_evb_str(b, "event", "begin");
        nc_evb_str(b, "title", st->title);
        if (st->text)
            nc_evb_note(b, "%s", st->text);
        long at = (long)ev->i;
        nc_timeline_precede(tl, b);
        pthread_mutex_lock(&r->lock);
        r->step_begin[r->cur_step] = at;
        r->step_open = 1;
        pthread_mutex_unlock(&r->lock);
    }

    for (size_t k = 0; k < l->ncheckpoints; k++) {
        nc_run_cp_t *c = &r->cps[k];
        if (c->pub.asked_at < 0) {
            if (nc_match_event(c->before, ev, NULL))
                nc_run_ask(r, c, ev);
        } else if (c->pub.right < 0 && (long)ev->i > c->pub.target) {
            nc_run_watch(r, c, ev);
        }
    }

    if (r->step_open && r->cur_step < l->nsteps && r->until[r->cur_step] &&
        nc_match_event(r->until[r->cur_step], ev, NULL)) {
        const nc_step_t *st = &l->steps[r->cur_step];
        nc_evb_t *b = &r->hookb;
        nc_run_mark(r, b, 0);
        nc_evb_summary(b, "End of step %zu: %s", r->cur_step + 1, st->title);
        nc_evb_str(b, "step", st->id);
        nc_evb_str(b, "event", "end");
        nc_timeline_follow(tl, b);
        pthread_mutex_lock(&r->lock);
        r->cur_step++;
        r->step_open = 0;
        pthread_mutex_unlock(&r->lock);
    }
}

/* ---- the run's thread ---- */

static void *nc_run_thread(void *arg)
{
    nc_run_t *r = arg;
    int rc = r->scenario->run(&r->scn);
    /* The probe's last sample reports the sockets the programs closed. */
    nc_probe_stop(r->probe);
    nc_lab_stop(r->lab);
    if (rc != 0 && r->status == 0) {
        r->status = rc;
        snprintf(r->errmsg, sizeof(r->errmsg), "%s",
                 r->scn.errmsg[0] ? r->scn.errmsg : nc_strerror(rc));
    }
    atomic_store(&r->finished, 1);
    return NULL;
}

/* Compiles a lesson matcher (already validated by the lesson parser). */
static nc_match_t *nc_run_compile(const nc_lesson_t *l, const char *src, char *err,
                                  size_t errlen)
{
    char why[256];
    nc_match_t *m = nc_match_compile(src, why, sizeof(why));
    if (m == NULL)
        snprintf(err, errlen, "%s: %s", l->path, why);
    return m;
}

static int nc_run_compile_script(nc_run_t *r, char *err, size_t errlen)
{
    const nc_lesson_t *l = r->lesson;
    r->until = nc_xcalloc(l->nsteps ? l->nsteps : 1, sizeof(*r->until));
    r->step_begin = nc_xcalloc(l->nsteps ? l->nsteps : 1, sizeof(*r->step_begin));
    for (size_t k = 0; k < l->nsteps; k++) {
        r->step_begin[k] = -1;
        if (l->steps[k].until &&
            (r->until[k] = nc_run_compile(l, l->steps[k].until, err, errlen)) == NULL)
            return NC_ESYNTAX;
    }
    r->cps = nc_xcalloc(l->ncheckpoints ? l->ncheckpoints : 1, sizeof(*r->cps));
    for (size_t k = 0; k < l->ncheckpoints; k++) {
        const nc_checkpoint_t *cp = &l->checkpoints[k];
        nc_run_cp_t *c = &r->cps[k];
        c->pub = (nc_run_checkpoint_t){cp, -1, -1, -1, -1};
        c->choice = nc_xcalloc(cp->nchoices ? cp->nchoices : 1, sizeof(*c->choice));
        c->seen_later = nc_xcalloc(cp->nchoices ? cp->nchoices : 1, sizeof(*c->seen_later));
        if ((c->before = nc_run_compile(l, cp->before, err, errlen)) == NULL)
            return NC_ESYNTAX;
        for (size_t j = 0; j < cp->nchoices; j++)
            if (cp->choices[j].match &&
                (c->choice[j] = nc_run_compile(l, cp->choices[j].match, err, errlen)) == NULL)
                return NC_ESYNTAX;
    }
    r->notes = nc_xcalloc(l->nnotes ? l->nnotes : 1, sizeof(*r->notes));
    for (size_t k = 0; k < l->nnotes; k++)
        if ((r->notes[k].m = nc_run_compile(l, l->notes[k].match, err, errlen)) == NULL)
            return NC_ESYNTAX;
    return 0;
}

nc_run_t *nc_run_start(const nc_lesson_t *lesson, const nc_run_opts_t *o, char *err,
                       size_t errlen)
{
    const nc_scenario_t *scn = nc_scenario_find(lesson->scenario);
    if (scn == NULL) {
        snprintf(err, errlen, "%s: lesson \"%s\" names scenario \"%s\", which netcourse does not have",
                 lesson->path, lesson->id, lesson->scenario);
        return NULL;
    }
    if (strcmp(scn->topology, lesson->topology) != 0) {
        snprintf(err, errlen, "%s: scenario \"%s\" needs the %s topology, not %s", lesson->path,
                 scn->name, scn->topology, lesson->topology);
        return NULL;
    }
    nc_link_t link = lesson->link;
    if (o && o->link) {
        char why[256];
        if (nc_link_parse(o->link, &link, why, sizeof(why)) != 0) {
            snprintf(err, errlen, "--link: %s", why);
            return NULL;
        }
    }
    nc_run_t *r = nc_xcalloc(1, sizeof(*r));
    r->lesson = lesson;
    r->scenario = scn;
    r->seed = o && o->seed ? o->seed : 1;
    r->link = o && o->link ? nc_xstrdup(o->link) : NULL;
    pthread_mutex_init(&r->lock, NULL);
    nc_evb_init(&r->hookb);
    r->applink = nc_applink_new();
    if (nc_run_compile_script(r, err, errlen) != 0) {
        nc_run_free(r);
        return NULL;
    }
    r->tl = nc_timeline_new(nc_clock_real_ns());
    nc_timeline_set_hook(r->tl, nc_run_hook, r);
    nc_lab_opts_t lo = {
        .topology = lesson->topology,
        .link = link,
        .faults = lesson->faults,
        .nfaults = lesson->nfaults,
        .seed = o && o->seed ? o->seed : 1,
        .tl = r->tl,
    };
    r->lab = nc_lab_new(&lo, err, errlen);
    if (r->lab == NULL) {
        nc_run_free(r);
        return NULL;
    }
    /* Every lesson is probed: with nothing changing it costs a few netlink
     * dumps every 4 ms and adds no events. */
    r->probe = nc_probe_start(&(nc_probe_opts_t){.lab = r->lab, .tl = r->tl}, err, errlen);
    if (r->probe == NULL) {
        nc_run_free(r);
        return NULL;
    }
    for (size_t k = 0; o && k < o->nfaults; k++) {
        if (nc_lab_add_fault(r->lab, &o->faults[k], err, errlen) != 0) {
            nc_run_free(r);
            return NULL;
        }
    }
    r->scn.lab = r->lab;
    r->scn.tl = r->tl;
    pthread_mutex_init(&r->scn.lock, NULL);
    if (pthread_create(&r->thread, NULL, nc_run_thread, r) != 0) {
        snprintf(err, errlen, "cannot start the run's thread");
        nc_run_free(r);
        return NULL;
    }
    r->thread_started = 1;
    return r;
}

nc_timeline_t *nc_run_timeline(nc_run_t *r)
{
    return r->tl;
}

/* At the end: close the open step, decide what the events left open. */
static void nc_run_finalize(nc_run_t *r)
{
    const nc_lesson_t *l = r->lesson;
    size_t n = nc_timeline_count(r->tl);
    const nc_event_t *last = n ? nc_timeline_get(r->tl, n - 1) : NULL;
    int64_t t = nc_timeline_t0(r->tl) + (last ? last->t_ns : 0);
    nc_evb_t b;
    nc_evb_init(&b);
    for (size_t k = 0; k < l->ncheckpoints; k++) {
        nc_run_cp_t *c = &r->cps[k];
        const nc_checkpoint_t *cp = c->pub.cp;
        if (c->pub.asked_at < 0) {
            nc_run_mark(r, &b, t);
            nc_evb_summary(&b, "Checkpoint \"%s\" was never reached in this run", cp->id);
            nc_evb_str(&b, "checkpoint", cp->id);
            nc_evb_str(&b, "event", "unreached");
            nc_timeline_add(r->tl, &b);
            continue;
        }
        if (c->pub.right >= 0)
            continue;
        int right = -1;
        for (size_t j = 0; j < cp->nchoices && right < 0; j++)
            if (cp->choices[j].rule == NC_CHOICE_NEVER && !c->seen_later[j])
                right = (int)j;
        for (size_t j = 0; j < cp->nchoices && right < 0; j++)
            if (cp->choices[j].rule == NC_CHOICE_OTHERWISE)
                right = (int)j;
        if (right < 0)
            continue;
        nc_run_decide(r, c, right, NULL, 0);
        r->hookb.ev.t_ns = t;
        nc_timeline_add(r->tl, &r->hookb);
    }
    if (r->step_open && r->cur_step < l->nsteps) {
        nc_run_mark(r, &b, t);
        nc_evb_summary(&b, "End of step %zu: %s", r->cur_step + 1, l->steps[r->cur_step].title);
        nc_evb_str(&b, "step", l->steps[r->cur_step].id);
        nc_evb_str(&b, "event", "end");
        nc_timeline_add(r->tl, &b);
        pthread_mutex_lock(&r->lock);
        r->step_open = 0;
        pthread_mutex_unlock(&r->lock);
    }
    nc_timeline_flush(r->tl, true);
    nc_evb_done(&b);
}

bool nc_run_poll(nc_run_t *r)
{
    if (r->finalized)
        return true;
    if (!atomic_load(&r->finished)) {
        nc_timeline_flush(r->tl, false);
        return false;
    }
    pthread_join(r->thread, NULL);
    r->thread_started = 0;
    nc_timeline_flush(r->tl, true);
    nc_run_finalize(r);
    r->finalized = 1;
    return true;
}

int nc_run_status(const nc_run_t *r, char *err, size_t errlen)
{
    if (r->status != 0 && err)
        snprintf(err, errlen, "%s", r->errmsg);
    return r->status;
}

void nc_run_stop(nc_run_t *r)
{
    if (r == NULL)
        return;
    r->scn.stop = 1;
    if (r->thread_started) {
        pthread_join(r->thread, NULL);
        r->thread_started = 0;
    }
}

void nc_run_free(nc_run_t *r)
{
    if (r == NULL)
        return;
    nc_run_stop(r);
    nc_probe_free(r->probe);
    if (r->lab)
        nc_lab_free(r->lab);
    nc_applink_free(r->applink);
    nc_timeline_free(r->tl);
    const nc_lesson_t *l = r->lesson;
    for (size_t k = 0; r->until && k < l->nsteps; k++)
        nc_match_free(r->until[k]);
    free(r->until);
    free(r->step_begin);
    for (size_t k = 0; r->cps && k < l->ncheckpoints; k++) {
        nc_match_free(r->cps[k].before);
        for (size_t j = 0; r->cps[k].choice && j < l->checkpoints[k].nchoices; j++)
            nc_match_free(r->cps[k].choice[j]);
        free(r->cps[k].choice);
        free(r->cps[k].seen_later);
    }
    free(r->cps);
    for (size_t k = 0; r->notes && k < l->nnotes; k++)
        nc_match_free(r->notes[k].m);
    free(r->notes);
    nc_evb_done(&r->hookb);
    free(r->link);
    pthread_mutex_destroy(&r->lock);
    if (r->scn.lab)
        pthread_mutex_destroy(&r->scn.lock);
    free(r);
}

void nc_run_release(nc_run_t *r)
{
    if (r == NULL || !r->finalized)
        return;
    nc_probe_free(r->probe);
    r->probe = NULL;
    nc_lab_free(r->lab);
    r->lab = NULL;
}

const nc_lesson_t *nc_run_lesson(const nc_run_t *r)
{
    return r->lesson;
}

uint64_t nc_run_seed(const nc_run_t *r)
{
    return r->seed;
}

const char *nc_run_link(const nc_run_t *r)
{
    return r->link;
}

nc_lab_t *nc_run_lab(const nc_run_t *r)
{
    return r->lab;
}

size_t nc_run_checkpoint_count(const nc_run_t *r)
{
    return r->lesson->ncheckpoints;
}

void nc_run_checkpoint(const nc_run_t *r, size_t k, nc_run_checkpoint_t *out)
{
    nc_run_t *m = (nc_run_t *)r;
    pthread_mutex_lock(&m->lock);
    *out = r->cps[k].pub;
    pthread_mutex_unlock(&m->lock);
}

int nc_run_step_at(const nc_run_t *r, size_t i)
{
    nc_run_t *m = (nc_run_t *)r;
    int step = -1;
    pthread_mutex_lock(&m->lock);
    for (size_t k = 0; k < r->lesson->nsteps; k++)
        if (r->step_begin[k] >= 0 && (size_t)r->step_begin[k] <= i)
            step = (int)k;
    pthread_mutex_unlock(&m->lock);
    return step;
}
