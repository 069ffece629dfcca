/*
 * run.c: one live run of a lesson, and the lesson's script applied to it.
 *
 * The run owns a timeline, a lab and a thread that runs the scenario and
 * then stops the lab. The lesson's script is applied by the timeline's
 * publish hook, on the timeline's consumer thread (never the wire's or a
 * program's, and not under the timeline's lock), so it sees every event
 * exactly once, in order, just before the event becomes visible:
 *
 *   notes        a lesson note is put in front of the generic annotation of
 *                the first event it matches (every one, with "every: yes");
 *   steps        a "begin" mark precedes a step's first event and an "end"
 *                mark follows the event its `until` matches;
 *   checkpoints  each waits (once an event matching its `after` was shown)
 *                for the first event matching `before` (its target) or
 *                `reveal` (an event that would give the answer away); an
 *                "asked" mark precedes that event. From the target on, the
 *                events of its evidence window are watched; when the window
 *                closes (the target itself, an `until` event, the end of
 *                the step, or the end of the run) the choices are decided
 *                by their documented meaning, and a "decided" mark follows
 *                the closing event, with the explanation chosen by the
 *                outcome. Exactly one choice must hold, or nothing is
 *                graded.
 *
 * Checkpoints are asked one at a time. A checkpoint whose moment comes
 * while another is open (asked, not decided yet), or at the very event that
 * closes another, cannot be asked before the evidence of the previous one
 * is shown, so it is skipped; so is one whose premise never held (no
 * target or premise event), and one the run cannot decide. A "skipped"
 * mark with its reason records each; a skipped checkpoint is never graded.
 *
 * Checkpoint state is read by the TUI on another thread, hence r->lock.
 */
#include "run.h"

#include "applink.h"
#include "compare.h"
#include "scenario.h"

#include "../decrypt/decrypt.h"
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

/* Where a checkpoint is in its life (see the file's comment). */
typedef enum {
    NC_CP_DORMANT, /* its `after` event has not been shown yet */
    NC_CP_WAITING, /* waiting for its target or a reveal event */
    NC_CP_ASKED,   /* asked before a reveal event; the target is still to come */
    NC_CP_OPEN,    /* the target was shown; its window is open */
    NC_CP_DONE,    /* decided or skipped */
} nc_cp_state_t;

typedef struct nc_run_cp {
    nc_run_checkpoint_t pub;
    nc_cp_state_t state;
    nc_match_t *before;
    nc_match_t *after;   /* NULL: waiting from the start */
    nc_match_t *reveal;  /* NULL: only the target triggers the question */
    nc_match_t *until;   /* for NC_WINDOW_UNTIL */
    nc_match_t **choice; /* one per choice; NULL for otherwise */
    int *seen;           /* per choice: the target (when) or a window event (later/never) matched */
    char *explain;       /* the explanation chosen by the outcome (owned); pub.explain borrows it */
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
    nc_keylog_t *keylog; /* owned: the TLS secrets the programs logged */
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
    long open_cp; /* the checkpoint asked and not yet decided, or -1 */
    nc_run_note_t *notes;
    nc_evb_t hookb; /* used only inside the hook (the timeline's consumer
                       thread) and by nc_run_finalize once it has flushed */
    uint64_t seed;
    char *link;
    /* A run that stays (opts.stay): its lab outlives the lesson's programs.
     * The run is over once they are done and no event came for quiet_ns
     * (the last packets of their connections are still on the wire when
     * they return), or NC_RUN_SETTLE_MAX_NS after they were done. */
    bool stay;
    int64_t quiet_ns, settled_at, quiet_since;
    size_t quiet_n;
    char student[32]; /* the host the student stepped into, or "" (under lock) */
};

#define NC_RUN_SETTLE_MAX_NS (3 * 1000000000LL)

static void nc_run_mark(nc_run_t *r, nc_evb_t *b, int64_t t)
{
    nc_evb_reset(b, NC_EV_MARK, t);
    nc_evb_host(b, "lesson");
}

/* ---- the publish hook ---- */

/* Appends the text form of path in ev (or "?") to out. */
static void nc_run_put_value(nc_buf_t *out, const nc_event_t *ev, const char *path)
{
    if (ev == NULL || !nc_event_value(ev, path, out))
        nc_buf_putc(out, '?');
}

/*
 * Returns the explanation text with its placeholders filled (heap string,
 * caller frees): {path} reads the event that closed the window, {$path}
 * the target. The lesson parser checked the braces.
 */
static char *nc_run_explain(const char *tmpl, const nc_event_t *target, const nc_event_t *close)
{
    nc_buf_t out, path;
    nc_buf_init(&out);
    nc_buf_init(&path);
    for (const char *s = tmpl; *s;) {
        const char *open = strchr(s, '{');
        const char *end = open ? strchr(open, '}') : NULL;
        if (open == NULL || end == NULL) {
            nc_buf_puts(&out, s);
            break;
        }
        nc_buf_append(&out, s, (size_t)(open - s));
        int ref = open[1] == '$';
        nc_buf_reset(&path);
        nc_buf_append(&path, open + 1 + ref, (size_t)(end - open - 1 - ref));
        nc_run_put_value(&out, ref ? target : close, nc_buf_cstr(&path));
        s = end + 1;
    }
    char *text = nc_xstrdup(nc_buf_cstr(&out));
    nc_buf_done(&out);
    nc_buf_done(&path);
    return text;
}

/* Where a checkpoint's mark goes: just before or just after the event the
 * hook is publishing, or at the end of the run (at time t). */
typedef enum { NC_MARK_BEFORE, NC_MARK_AFTER, NC_MARK_AT_END } nc_mark_at_t;

static void nc_run_publish(nc_run_t *r, nc_evb_t *b, nc_mark_at_t where, int64_t t)
{
    if (where == NC_MARK_AFTER) {
        nc_timeline_follow(r->tl, b);
    } else if (where == NC_MARK_BEFORE) {
        nc_timeline_precede(r->tl, b);
    } else {
        /* At the end (nc_run_finalize): published before finalize goes on,
         * since the hook, on the timeline's consumer, sees it too. */
        b->ev.t_ns = t;
        nc_timeline_add(r->tl, b);
        nc_timeline_flush(r->tl, true);
    }
}

/* Records that checkpoint c is skipped and why; nothing of it is graded. */
static void nc_run_skip(nc_run_t *r, nc_run_cp_t *c, const char *reason, nc_mark_at_t where,
                        int64_t t)
{
    const nc_checkpoint_t *cp = c->pub.cp;
    int was_asked = c->pub.asked_at >= 0;
    if (r->open_cp >= 0 && &r->cps[r->open_cp] == c)
        r->open_cp = -1;
    pthread_mutex_lock(&r->lock);
    c->state = NC_CP_DONE;
    c->pub.skipped = 1;
    pthread_mutex_unlock(&r->lock);
    nc_evb_t *b = &r->hookb;
    nc_run_mark(r, b, 0);
    nc_evb_summary(b, "Checkpoint \"%s\" is skipped: %s", cp->id, reason);
    nc_evb_str(b, "checkpoint", cp->id);
    nc_evb_str(b, "event", "skipped");
    nc_evb_str(b, "reason", reason);
    nc_evb_bool(b, "asked", was_asked);
    nc_run_publish(r, b, where, t);
}

/*
 * Closes c's evidence window at event `close` (NULL: the end of the run)
 * and decides it: `when` held on the target, `later` when an event of the
 * window matched, `never` when none did, `otherwise` when nothing else
 * held. Exactly one choice must hold; then a "decided" mark carries the
 * answer and the explanation chosen by it, else c is skipped.
 */
static void nc_run_close(nc_run_t *r, nc_run_cp_t *c, const nc_event_t *target,
                         const nc_event_t *close, nc_mark_at_t where, int64_t t)
{
    const nc_checkpoint_t *cp = c->pub.cp;
    int right = -1, nheld = 0, other = -1;
    char held[64] = "";
    for (size_t k = 0; k < cp->nchoices; k++) {
        nc_choice_rule_t rule = cp->choices[k].rule;
        int holds = rule == NC_CHOICE_NEVER ? !c->seen[k] : c->seen[k];
        if (rule == NC_CHOICE_OTHERWISE) {
            other = (int)k;
            continue;
        }
        if (!holds)
            continue;
        right = (int)k;
        nheld++;
        size_t n = strlen(held);
        snprintf(held + n, sizeof held - n, "%s%s", n ? " and " : "", cp->choices[k].key);
    }
    if (nheld == 0 && other >= 0)
        right = other, nheld = 1;
    if (nheld != 1) {
        char why[160];
        if (nheld == 0)
            snprintf(why, sizeof why, "the run did not decide it: none of its choices held");
        else
            snprintf(why, sizeof why, "the run did not decide it: choices %s all held", held);
        nc_run_skip(r, c, why, where, t);
        return;
    }
    const nc_choice_t *ch = &cp->choices[right];
    const nc_event_t *by = close ? close : target;
    c->explain = nc_run_explain(ch->explain ? ch->explain : cp->explain, target, by);
    if (r->open_cp >= 0 && &r->cps[r->open_cp] == c)
        r->open_cp = -1;
    pthread_mutex_lock(&r->lock);
    c->state = NC_CP_DONE;
    c->pub.right = right;
    c->pub.decided_at = (long)by->i;
    c->pub.explain = c->explain;
    pthread_mutex_unlock(&r->lock);
    nc_evb_t *b = &r->hookb;
    nc_run_mark(r, b, 0);
    nc_evb_summary(b, "Checkpoint \"%s\": the run shows (%s) %s", cp->id, ch->key, ch->text);
    nc_evb_str(b, "checkpoint", cp->id);
    nc_evb_str(b, "event", "decided");
    nc_evb_str(b, "answer", ch->key);
    nc_evb_str(b, "right", ch->text);
    nc_evb_str(b, "explain", c->explain);
    nc_evb_int(b, "target", (int64_t)target->i);
    nc_evb_int(b, "by", (int64_t)by->i);
    nc_evb_note(b, "%s", c->explain);
    nc_run_publish(r, b, where, t);
}

/* Asks c just before ev (its target, or an event that would reveal the
 * answer). */
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
    c->state = NC_CP_ASKED;
    pthread_mutex_unlock(&r->lock);
    r->open_cp = c - r->cps;
}

/* ev is c's target: `when` choices are matched on it, and the window opens
 * (and closes at once for a window that is the target alone, or a step
 * window whose step ends here). */
static void nc_run_target(nc_run_t *r, nc_run_cp_t *c, const nc_event_t *ev, int step_ends)
{
    const nc_checkpoint_t *cp = c->pub.cp;
    pthread_mutex_lock(&r->lock);
    c->pub.target = (long)ev->i;
    c->state = NC_CP_OPEN;
    pthread_mutex_unlock(&r->lock);
    for (size_t k = 0; k < cp->nchoices; k++)
        if (cp->choices[k].rule == NC_CHOICE_WHEN && nc_match_event(c->choice[k], ev, NULL))
            c->seen[k] = 1;
    if (cp->window == NC_WINDOW_TARGET || (cp->window == NC_WINDOW_STEP && step_ends))
        nc_run_close(r, c, ev, ev, NC_MARK_AFTER, 0);
}

/* ev is an event after c's target: it is part of the window. */
static void nc_run_watch(nc_run_t *r, nc_run_cp_t *c, const nc_event_t *ev, int step_ends)
{
    const nc_checkpoint_t *cp = c->pub.cp;
    const nc_event_t *target = nc_timeline_get(r->tl, (size_t)c->pub.target);
    for (size_t k = 0; k < cp->nchoices; k++) {
        nc_choice_rule_t rule = cp->choices[k].rule;
        if ((rule == NC_CHOICE_LATER || rule == NC_CHOICE_NEVER) && !c->seen[k] &&
            nc_match_event(c->choice[k], ev, target))
            c->seen[k] = 1;
    }
    if ((cp->window == NC_WINDOW_UNTIL && nc_match_event(c->until, ev, target)) ||
        (cp->window == NC_WINDOW_STEP && step_ends))
        nc_run_close(r, c, target, ev, NC_MARK_AFTER, 0);
}

/* The checkpoints' part of the hook; step_ends tells whether ev ends the
 * step in progress. */
static void nc_run_checkpoints(nc_run_t *r, nc_event_t *ev, int step_ends)
{
    const nc_lesson_t *l = r->lesson;
    long was_open = r->open_cp;
    /* A checkpoint asked at this event, even one this event also decides,
     * keeps every other from being asked at it: their marks would sit
     * between its question and its target. */
    long asked_now = -1;
    if (was_open >= 0) {
        nc_run_cp_t *c = &r->cps[was_open];
        if (c->state == NC_CP_OPEN)
            nc_run_watch(r, c, ev, step_ends);
        else if (nc_match_event(c->before, ev, NULL))
            nc_run_target(r, c, ev, step_ends);
    }
    for (size_t k = 0; k < l->ncheckpoints; k++) {
        nc_run_cp_t *c = &r->cps[k];
        if ((long)k == was_open || c->state == NC_CP_DONE)
            continue;
        if (c->state == NC_CP_DORMANT) {
            if (nc_match_event(c->after, ev, NULL)) {
                pthread_mutex_lock(&r->lock);
                c->state = NC_CP_WAITING;
                pthread_mutex_unlock(&r->lock);
            }
            continue;
        }
        int is_target = nc_match_event(c->before, ev, NULL);
        if (!is_target && !(c->reveal && nc_match_event(c->reveal, ev, NULL)))
            continue;
        if (was_open >= 0 || r->open_cp >= 0 || asked_now >= 0) {
            long other = r->open_cp >= 0 ? r->open_cp : was_open >= 0 ? was_open : asked_now;
            char why[200];
            snprintf(why, sizeof why,
                     "its moment came while the answer to \"%s\" was not shown yet, so it could not be asked in time",
                     l->checkpoints[other].id);
            /* Behind a question asked at this very event the skip goes
             * after the event, so the question stays next to its target. */
            nc_run_skip(r, c, why, asked_now >= 0 ? NC_MARK_AFTER : NC_MARK_BEFORE, 0);
            continue;
        }
        nc_run_ask(r, c, ev);
        asked_now = (long)k;
        if (is_target)
            nc_run_target(r, c, ev, step_ends);
    }
}

/* In a lab the student stepped into (netcourse shell, the interface's shell
 * key), the packets to and from the student's host are the student's own:
 * they carry "student": 1, and what the student sent says so first. */
static void nc_run_mark_student(nc_run_t *r, nc_timeline_t *tl, nc_event_t *ev)
{
    char me[sizeof r->student];
    pthread_mutex_lock(&r->lock);
    memcpy(me, r->student, sizeof me);
    pthread_mutex_unlock(&r->lock);
    const char *from = ev->type == NC_EV_PACKET ? nc_event_str(ev, "from") : NULL;
    const char *to = ev->type == NC_EV_PACKET ? nc_event_str(ev, "to") : NULL;
    if (!me[0] || !((from && strcmp(from, me) == 0) || (to && strcmp(to, me) == 0)))
        return;
    nc_timeline_add_int(tl, ev, "student", 1);
    if (!from || strcmp(from, me) != 0)
        return;
    char *text = nc_xasprintf("Your own traffic, sent from the shell on %s.%s%s", me,
                              ev->note ? " " : "", ev->note ? ev->note : "");
    ev->note = nc_timeline_strdup(tl, text);
    free(text);
}

static void nc_run_hook(nc_timeline_t *tl, nc_event_t *ev, void *arg)
{
    nc_run_t *r = arg;
    const nc_lesson_t *l = r->lesson;
    if (ev->type == NC_EV_MARK)
        return;
    /* An app event is linked now; a packet is remembered at the end, once
     * the marks put before it have given it its final index. */
    long link = ev->type == NC_EV_APP ? nc_applink_see(r->applink, ev) : -1;
    if (link >= 0)
        nc_timeline_add_int(tl, ev, "packet", link);
    nc_run_mark_student(r, tl, ev);

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

    int step_ends = r->step_open && r->cur_step < l->nsteps && r->until[r->cur_step] &&
                    nc_match_event(r->until[r->cur_step], ev, NULL);
    nc_run_checkpoints(r, ev, step_ends);

    if (step_ends) {
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
    if (ev->type == NC_EV_PACKET)
        nc_applink_see(r->applink, ev);
}

/* ---- the run's thread ---- */

/* Records the run's failure (the first one), from any thread. */
static void nc_run_fail(nc_run_t *r, int rc, const char *msg)
{
    pthread_mutex_lock(&r->lock);
    if (rc != 0 && r->status == 0) {
        r->status = rc;
        snprintf(r->errmsg, sizeof(r->errmsg), "%s", msg && msg[0] ? msg : nc_strerror(rc));
    }
    pthread_mutex_unlock(&r->lock);
}

static void *nc_run_thread(void *arg)
{
    nc_run_t *r = arg;
    int rc = r->scenario->run(&r->scn);
    atomic_store(&r->scn.settled, 1);
    /* A lab that stays is kept until the run is stopped (a failed run's
     * is not: there is nothing to step into). */
    while (r->stay && rc == 0 && !r->scn.stop)
        nc_scn_sleep_ms(20);
    /* The probe's last sample reports the sockets the programs closed. */
    nc_probe_stop(r->probe);
    nc_lab_stop(r->lab);
    nc_run_fail(r, rc, r->scn.errmsg);
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
    r->open_cp = -1;
    for (size_t k = 0; k < l->ncheckpoints; k++) {
        const nc_checkpoint_t *cp = &l->checkpoints[k];
        nc_run_cp_t *c = &r->cps[k];
        c->pub = (nc_run_checkpoint_t){
            .cp = cp, .asked_at = -1, .target = -1, .right = -1, .decided_at = -1};
        c->state = cp->after ? NC_CP_DORMANT : NC_CP_WAITING;
        c->choice = nc_xcalloc(cp->nchoices ? cp->nchoices : 1, sizeof(*c->choice));
        c->seen = nc_xcalloc(cp->nchoices ? cp->nchoices : 1, sizeof(*c->seen));
        if ((c->before = nc_run_compile(l, cp->before, err, errlen)) == NULL ||
            (cp->after && (c->after = nc_run_compile(l, cp->after, err, errlen)) == NULL) ||
            (cp->reveal && (c->reveal = nc_run_compile(l, cp->reveal, err, errlen)) == NULL) ||
            (cp->window_until &&
             (c->until = nc_run_compile(l, cp->window_until, err, errlen)) == NULL))
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
    /* A lesson is run by its programs, or else by its named C scenario. */
    const nc_scenario_t *scn =
        lesson->nprograms ? &nc_scenario_programs : nc_scenario_find(lesson->scenario);
    if (scn == NULL) {
        snprintf(err, errlen, "%s: lesson \"%s\" names scenario \"%s\", which netcourse does not have",
                 lesson->path, lesson->id, lesson->scenario);
        return NULL;
    }
    if (scn->topology && strcmp(scn->topology, lesson->topology) != 0) {
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
    r->stay = o && o->stay && !o->shell_host;
    r->quiet_ns = 2 * link.delay_ns + 250 * 1000000LL;
    if (o && o->shell_host)
        snprintf(r->student, sizeof r->student, "%s", o->shell_host);
    pthread_mutex_init(&r->lock, NULL);
    nc_evb_init(&r->hookb);
    r->applink = nc_applink_new();
    if (nc_run_compile_script(r, err, errlen) != 0) {
        nc_run_free(r);
        return NULL;
    }
    r->tl = nc_timeline_new(nc_clock_real_ns());
    nc_timeline_set_hook(r->tl, nc_run_hook, r);
    /* The lab's decoder decrypts TLS with what the programs log here. */
    r->keylog = nc_keylog_new();
    nc_lab_opts_t lo = {
        .dec = &nc_decrypt_tls,
        .dec_ctx = r->keylog,
        .topology = lesson->topology,
        .link = link,
        .links_on = lesson->links_on,
        .nlinks_on = lesson->nlinks_on,
        .nat = o && o->nat ? o->nat : lesson->nat,
        .nat_timeout_ns = lesson->nat_timeout_ns,
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
    r->scn.lesson = lesson;
    r->scn.shell_host = o && o->shell_host ? nc_xstrdup(o->shell_host) : NULL;
    r->scn.stay = r->stay;
    r->scn.keylog = r->keylog;
    pthread_mutex_init(&r->scn.lock, NULL);
    if (pthread_create(&r->thread, NULL, nc_run_thread, r) != 0) {
        snprintf(err, errlen, "cannot start the run's thread");
        nc_run_free(r);
        return NULL;
    }
    r->thread_started = 1;
    return r;
}

nc_keylog_t *nc_run_keylog(nc_run_t *r)
{
    return r->keylog;
}

nc_timeline_t *nc_run_timeline(nc_run_t *r)
{
    return r->tl;
}

/* The sentence a skipped checkpoint gives when its moment never came. */
static void nc_run_unmet(const nc_run_cp_t *c, char *why, size_t n)
{
    const nc_checkpoint_t *cp = c->pub.cp;
    if (c->state == NC_CP_ASKED)
        snprintf(why, n, "the run never reached its target (no event matched \"%s\")",
                 cp->before);
    else if (cp->premise)
        snprintf(why, n, "its premise did not hold in this run (%s)", cp->premise);
    else if (c->state == NC_CP_DORMANT)
        snprintf(why, n, "its premise did not hold in this run (no event matched \"%s\")",
                 cp->after);
    else
        snprintf(why, n, "its premise did not hold in this run (no event matched \"%s\")",
                 cp->before);
}

/* At the end: decide the window still open, skip what never came, close
 * the open step. */
static void nc_run_finalize(nc_run_t *r)
{
    const nc_lesson_t *l = r->lesson;
    size_t n = nc_timeline_count(r->tl);
    const nc_event_t *last = n ? nc_timeline_get(r->tl, n - 1) : NULL;
    int64_t t = nc_timeline_t0(r->tl) + (last ? last->t_ns : 0);
    /* A window open to the end closes on the run's last event that is not a
     * mark (its fields fill the explanation). */
    const nc_event_t *last_real = NULL;
    for (size_t i = n; i-- > 0 && last_real == NULL;) {
        const nc_event_t *ev = nc_timeline_get(r->tl, i);
        if (ev->type != NC_EV_MARK)
            last_real = ev;
    }
    nc_evb_t b;
    nc_evb_init(&b);
    /* The lesson's comparisons, measured on the whole run, come first:
     * they belong to the last step, and a window open to the end sees them.
     * In a shell the student's host runs none of its programs: nothing to
     * compare. */
    for (size_t k = 0; k < l->ncompares && r->status == 0 && !r->scn.shell_host; k++) {
        nc_compare_table_t table;
        nc_compare_build(r->tl, &l->compares[k], &table);
        nc_compare_note(&b, &table, t);
        nc_timeline_add(r->tl, &b);
        nc_timeline_flush(r->tl, true);
    }
    for (size_t k = 0; k < l->ncheckpoints; k++) {
        nc_run_cp_t *c = &r->cps[k];
        if (c->state == NC_CP_DONE)
            continue;
        if (c->state == NC_CP_OPEN) {
            const nc_event_t *target = nc_timeline_get(r->tl, (size_t)c->pub.target);
            nc_run_close(r, c, target, last_real, NC_MARK_AT_END, t);
            continue;
        }
        char why[400];
        nc_run_unmet(c, why, sizeof why);
        nc_run_skip(r, c, why, NC_MARK_AT_END, t);
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

/* A run that stays: true once its programs are done and the wire has
 * been quiet for r->quiet_ns (or for long enough). */
static bool nc_run_settled(nc_run_t *r)
{
    if (!r->stay || !atomic_load(&r->scn.settled))
        return false;
    int64_t now = nc_clock_mono_ns();
    size_t n = nc_timeline_count(r->tl);
    if (r->settled_at == 0)
        r->settled_at = now;
    if (r->quiet_since == 0 || n != r->quiet_n) {
        r->quiet_n = n;
        r->quiet_since = now;
    }
    if (now - r->quiet_since < r->quiet_ns && now - r->settled_at < NC_RUN_SETTLE_MAX_NS)
        return false;
    pthread_mutex_lock(&r->scn.lock);
    int rc = r->scn.error;
    char msg[sizeof r->scn.errmsg];
    memcpy(msg, r->scn.errmsg, sizeof msg);
    pthread_mutex_unlock(&r->scn.lock);
    nc_run_fail(r, rc, msg);
    return true;
}

bool nc_run_poll(nc_run_t *r)
{
    bool finished = atomic_load(&r->finished);
    if (finished && r->thread_started) {
        pthread_join(r->thread, NULL);
        r->thread_started = 0;
        nc_timeline_flush(r->tl, true);
    } else {
        nc_timeline_flush(r->tl, false);
    }
    if (r->finalized)
        return true;
    if (!finished && !nc_run_settled(r))
        return false;
    nc_timeline_flush(r->tl, true);
    nc_run_finalize(r);
    r->finalized = 1;
    return true;
}

bool nc_run_lab_up(const nc_run_t *r)
{
    return r->stay && r->finalized && !atomic_load(&r->finished) && !r->scn.stop;
}

void nc_run_set_student(nc_run_t *r, const char *host)
{
    pthread_mutex_lock(&r->lock);
    snprintf(r->student, sizeof r->student, "%s", host ? host : "");
    pthread_mutex_unlock(&r->lock);
}

int nc_run_status(const nc_run_t *r, char *err, size_t errlen)
{
    nc_run_t *m = (nc_run_t *)r;
    pthread_mutex_lock(&m->lock);
    int status = r->status;
    if (status != 0 && err)
        snprintf(err, errlen, "%s", r->errmsg);
    pthread_mutex_unlock(&m->lock);
    return status;
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
    nc_keylog_free(r->keylog); /* after the lab: its decoder borrows it */
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
        nc_match_free(r->cps[k].after);
        nc_match_free(r->cps[k].reveal);
        nc_match_free(r->cps[k].until);
        free(r->cps[k].choice);
        free(r->cps[k].seen);
        free(r->cps[k].explain);
    }
    free(r->cps);
    for (size_t k = 0; r->notes && k < l->nnotes; k++)
        nc_match_free(r->notes[k].m);
    free(r->notes);
    nc_evb_done(&r->hookb);
    free(r->link);
    free(r->scn.shell_host);
    pthread_mutex_destroy(&r->lock);
    if (r->scn.lab)
        pthread_mutex_destroy(&r->scn.lock);
    free(r);
}

void nc_run_release(nc_run_t *r)
{
    if (r == NULL || !r->finalized || r->thread_started)
        return;
    nc_probe_free(r->probe);
    r->probe = NULL;
    nc_lab_free(r->lab);
    r->lab = NULL;
    /* Nothing adds to the timeline any more: its lesson thread can go. */
    nc_timeline_set_hook(r->tl, NULL, NULL);
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
