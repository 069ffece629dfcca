/*
 * playback.c: loading a replay into a timeline, and the play head.
 *
 * Data model: the loader thread owns the nc_replay_t and adds each event to
 * `tl` (reorder window 0: published at once, in file order); `loaded` turns
 * true when it is done. A foreign capture's packets go in as lazy rows
 * (timeline.h): 16 bytes each, decoded again on the UI thread, from the
 * replay's checkpoints, when a view gets them. Everything else belongs to the UI thread: `head` is
 * how many events the ladder shows (SIZE_MAX: all that are loaded), `playing`
 * and `speed` drive it, and `clock_ns` is the run time the head has reached
 * (in the events' own time, relative to the timeline's t0). Step marks (the
 * "begin" marks of lesson steps) are found by scanning the timeline from the
 * head, which is cheap because marks are near each other in a lesson run.
 *
 * Paced mode plays one event every `pace` seconds of the wall
 * clock, whatever the events' own times, and pauses on every step's
 * "begin" mark: a lesson read at the pace of a class, not of the kernel.
 *
 * A saved lesson run asks its checkpoints again, as the live run did. The
 * run's own marks say where: cps[k] is what the marks of the lesson's
 * checkpoint k carry (its "asked" mark, its "decided" mark with the answer,
 * the event that closed its window and the explanation, or its "skipped"
 * mark), found by scanning the loaded events once (cp_scanned). A mark is
 * told to the ladder only once the play head has passed it, so a question
 * comes up when the replay reaches it; the ladder then stops there
 * (nc_ui_visible) and so does the head, until it is answered.
 */
#include "playback.h"

#include "../core/clock.h"
#include "../core/error.h"
#include "../core/xmalloc.h"
#include "../runfile/replay.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double nc_speeds[] = {0.25, 0.5, 1, 2, 4, 8, 16};
#define NC_SPEED_X1 2
#define NC_NSPEEDS ((int)(sizeof nc_speeds / sizeof nc_speeds[0]))

/* Paced mode: seconds per event, halved or doubled by + and -. */
#define NC_PACE_MIN 0.125
#define NC_PACE_MAX 8.0

/* What a saved run's marks say about one checkpoint (-1: not seen). */
typedef struct nc_playback_cp {
    long asked, target, decided, by;
    int right;
    int skipped;
    const char *explain; /* borrowed from the decided mark */
} nc_playback_cp_t;

struct nc_playback {
    nc_replay_t *replay;
    nc_timeline_t *tl;
    pthread_t thread;
    atomic_bool stop, loaded;
    char error[512];
    atomic_bool failed;
    char *lesson;
    const nc_lesson_t *model; /* the lesson, when the course has it */
    size_t head;
    bool playing;
    int speed;
    int64_t clock_ns;  /* run time reached by the head */
    int64_t last_tick; /* CLOCK_MONOTONIC of the previous tick, 0 when paused */
    bool paced;
    double pace;           /* paced mode: seconds per event */
    nc_playback_cp_t *cps; /* one per checkpoint of model */
    const nc_ui_t *ui;     /* the ui the last tick or key came from (borrowed) */
    size_t cp_scanned;     /* events scanned for checkpoint marks */
};

static void *nc_playback_thread(void *arg)
{
    nc_playback_t *p = arg;
    nc_evb_t b;
    nc_evb_init(&b);
    char err[512];
    int rc;
    while (!atomic_load(&p->stop) && (rc = nc_replay_next(p->replay, &b, err, sizeof err)) == 1) {
        uint64_t ref = nc_replay_packet_ref(p->replay);
        if (ref)
            nc_timeline_add_lazy(p->tl, b.ev.t_ns, ref);
        else
            nc_timeline_add(p->tl, &b);
    }
    if (!atomic_load(&p->stop) && rc < 0) {
        snprintf(p->error, sizeof p->error, "%s", err);
        atomic_store(&p->failed, true);
    }
    nc_evb_done(&b);
    atomic_store(&p->loaded, true);
    nc_timeline_flush(p->tl, true); /* wakes the UI one last time */
    return NULL;
}

/* The timeline's source: a lazy row's packet, decoded again. */
static int nc_playback_decode(void *arg, uint64_t ref, nc_evb_t *b)
{
    nc_playback_t *p = arg;
    return nc_replay_decode(p->replay, ref, b);
}

nc_playback_t *nc_playback_open(const char *path, void (*notify)(void *), void *arg, char *err,
                                size_t errlen)
{
    nc_replay_t *r = nc_replay_open(path, err, errlen);
    if (r == NULL)
        return NULL;
    nc_playback_t *p = nc_xcalloc(1, sizeof *p);
    p->replay = r;
    const nc_runfile_info_t *info = nc_replay_info(r);
    if (info && info->lesson)
        p->lesson = nc_xstrdup(info->lesson);
    p->tl = nc_timeline_new(nc_replay_t0(r));
    nc_timeline_set_window(p->tl, 0);
    /* A capture's packets are kept as rows and decoded again when shown. */
    nc_replay_keep_checkpoints(r, 0);
    nc_timeline_set_source(p->tl, nc_playback_decode, p);
    if (notify)
        nc_timeline_set_notify(p->tl, notify, arg);
    p->head = SIZE_MAX;
    p->speed = NC_SPEED_X1;
    p->pace = 1.0;
    if (pthread_create(&p->thread, NULL, nc_playback_thread, p) != 0) {
        snprintf(err, errlen, "cannot start the thread that reads %s", path);
        nc_timeline_free(p->tl);
        nc_replay_close(r);
        free(p->lesson);
        free(p);
        return NULL;
    }
    return p;
}

void nc_playback_free(nc_playback_t *p)
{
    if (p == NULL)
        return;
    atomic_store(&p->stop, true);
    pthread_join(p->thread, NULL);
    nc_replay_close(p->replay);
    nc_timeline_free(p->tl);
    free(p->lesson);
    free(p->cps);
    free(p);
}

const char *nc_playback_lesson(const nc_playback_t *p)
{
    return p->lesson;
}

void nc_playback_set_lesson(nc_playback_t *p, const nc_lesson_t *l)
{
    p->model = l;
    free(p->cps);
    p->cps = nc_xcalloc(l->ncheckpoints + 1, sizeof *p->cps);
    for (size_t k = 0; k < l->ncheckpoints; k++)
        p->cps[k] = (nc_playback_cp_t){-1, -1, -1, -1, -1, 0, NULL};
    p->cp_scanned = 0;
}

void nc_playback_set_pace(nc_playback_t *p, double seconds)
{
    p->paced = true;
    p->pace = seconds < NC_PACE_MIN ? NC_PACE_MIN : seconds > NC_PACE_MAX ? NC_PACE_MAX : seconds;
}

const char *nc_playback_error(const nc_playback_t *p)
{
    return atomic_load(&((nc_playback_t *)p)->failed) ? p->error : NULL;
}

static size_t nc_playback_limit(void *ctx)
{
    nc_playback_t *p = ctx;
    return p->head;
}

static size_t nc_playback_cp_count(void *ctx)
{
    nc_playback_t *p = ctx;
    return p->model && p->cps ? p->model->ncheckpoints : 0;
}

/* Reads the checkpoint marks of the events loaded since the last call. */
static void nc_playback_cp_scan(nc_playback_t *p)
{
    size_t n = nc_timeline_count(p->tl);
    for (; p->cp_scanned < n; p->cp_scanned++) {
        if (nc_timeline_type(p->tl, p->cp_scanned) != NC_EV_MARK)
            continue;
        const nc_event_t *ev = nc_timeline_get(p->tl, p->cp_scanned);
        const char *id = nc_event_str(ev, "checkpoint");
        const char *what = id ? nc_event_str(ev, "event") : NULL;
        size_t k = 0;
        while (what && k < p->model->ncheckpoints && strcmp(p->model->checkpoints[k].id, id) != 0)
            k++;
        if (!what || k == p->model->ncheckpoints)
            continue;
        nc_playback_cp_t *c = &p->cps[k];
        long i = (long)p->cp_scanned;
        int64_t v;
        if (strcmp(what, "asked") == 0) {
            c->asked = i;
        } else if (strcmp(what, "skipped") == 0) {
            c->skipped = 1;
            c->decided = i;
        } else if (strcmp(what, "decided") == 0) {
            const nc_checkpoint_t *cp = &p->model->checkpoints[k];
            const char *answer = nc_event_str(ev, "answer");
            for (size_t j = 0; answer && j < cp->nchoices; j++)
                if (strcmp(cp->choices[j].key, answer) == 0)
                    c->right = (int)j;
            c->decided = i;
            c->by = nc_event_int(ev, "by", &v) ? (long)v : i;
            c->target = nc_event_int(ev, "target", &v) ? (long)v : c->target;
            c->explain = nc_event_str(ev, "explain");
            if (!c->explain)
                c->explain = ev->note;
        }
    }
}

/* Checkpoint k as the live run would have told it with the head where it
 * is: marks past the head are not there yet. */
static void nc_playback_cp(void *ctx, size_t k, nc_run_checkpoint_t *out)
{
    nc_playback_t *p = ctx;
    memset(out, 0, sizeof *out);
    out->asked_at = out->target = out->right = out->decided_at = -1;
    if (!p->model || !p->cps || k >= p->model->ncheckpoints)
        return;
    nc_playback_cp_scan(p);
    const nc_playback_cp_t *c = &p->cps[k];
    long head = p->head > (size_t)LONG_MAX ? LONG_MAX : (long)p->head;
    out->cp = &p->model->checkpoints[k];
    if (c->asked >= 0 && c->asked < head) {
        out->asked_at = c->asked;
        out->target = c->target >= 0 ? c->target : c->asked + 1;
    }
    if (c->decided >= 0 && c->decided < head) {
        out->right = c->skipped ? -1 : c->right;
        out->decided_at = c->skipped ? -1 : c->by;
        out->explain = c->skipped ? NULL : c->explain;
        out->skipped = c->skipped;
    }
}

/* The step whose "begin" mark is the last one at or before event i. */
static int nc_playback_step_at(void *ctx, size_t i)
{
    nc_playback_t *p = ctx;
    size_t n = nc_timeline_count(p->tl);
    int step = -1;
    /* Scan back for at most a few thousand events: enough for any lesson. */
    for (size_t k = i < n ? i + 1 : n, seen = 0; k > 0 && seen < 4096; k--, seen++) {
        if (nc_timeline_type(p->tl, k - 1) != NC_EV_MARK)
            continue;
        const nc_event_t *ev = nc_timeline_get(p->tl, k - 1);
        const char *what = nc_event_str(ev, "event");
        if (what && strcmp(what, "begin") == 0) {
            const char *id = nc_event_str(ev, "step");
            for (size_t s = 0; p->model && id && s < p->model->nsteps; s++)
                if (p->model->steps[s].id && strcmp(p->model->steps[s].id, id) == 0)
                    return (int)s;
            long v = 0;
            /* "Step N of M: ..." carries the step's number. */
            if (ev->summary && sscanf(ev->summary, "Step %ld of", &v) == 1 && v > 0 && v < 10000)
                step = (int)(v - 1);
            break;
        }
    }
    return step;
}

static size_t nc_playback_count(const nc_playback_t *p)
{
    return nc_timeline_count(p->tl);
}

static size_t nc_playback_shown(const nc_playback_t *p)
{
    size_t n = nc_playback_count(p);
    return p->head < n ? p->head : n;
}

/* How far the head may go: just past the first "asked" mark the student
 * has not answered (ui->answers[k] is checkpoint k's), or everything. */
static size_t nc_playback_gate(nc_playback_t *p, const nc_ui_t *ui)
{
    size_t gate = SIZE_MAX;
    if (!p->model || !p->cps || !ui)
        return gate;
    nc_playback_cp_scan(p);
    for (size_t k = 0; k < p->model->ncheckpoints && k < ui->nanswers; k++)
        if (p->cps[k].asked >= 0 && ui->answers[k].choice < 0 && (size_t)p->cps[k].asked + 1 < gate)
            gate = (size_t)p->cps[k].asked + 1;
    return gate;
}

static bool nc_playback_is_begin(const nc_timeline_t *tl, size_t i)
{
    if (nc_timeline_type(tl, i) != NC_EV_MARK)
        return false;
    const char *what = nc_event_str(nc_timeline_get(tl, i), "event");
    return what && strcmp(what, "begin") == 0;
}

/* Puts the head at h events (paused) with the cursor on the last shown;
 * never past a question not answered yet. */
static void nc_playback_seek(nc_playback_t *p, nc_ui_t *ui, size_t h)
{
    size_t n = nc_playback_count(p), gate = nc_playback_gate(p, ui);
    if (h > n)
        h = n;
    if (h > gate)
        h = gate;
    p->head = h;
    p->playing = false;
    p->last_tick = 0;
    ui->follow = false;
    ui->cursor = h ? h - 1 : 0;
    p->clock_ns = h ? nc_timeline_time(p->tl, h - 1) : 0;
}

/* Index of the next (dir > 0) or previous step "begin" mark from `from`. */
static long nc_playback_find_mark(const nc_playback_t *p, size_t from, int dir)
{
    size_t n = nc_playback_count(p);
    for (long k = (long)from + dir; k >= 0 && (size_t)k < n; k += dir)
        if (nc_playback_is_begin(p->tl, (size_t)k))
            return k;
    return -1;
}

static int nc_playback_key(void *ctx, nc_ui_t *ui, nc_action_t a, int key)
{
    nc_playback_t *p = ctx;
    size_t shown = nc_playback_shown(p);
    p->ui = ui;
    switch (a) {
    case NC_ACT_PLAY:
        if (p->playing) {
            p->playing = false;
            p->last_tick = 0;
        } else {
            if (shown >= nc_playback_count(p) && atomic_load(&p->loaded))
                nc_playback_seek(p, ui, 0); /* at the end: play from the start */
            p->head = nc_playback_shown(p);
            p->playing = true;
            ui->follow = true;
        }
        break;
    case NC_ACT_PACED:
        p->paced = !p->paced;
        p->last_tick = 0;
        break;
    case NC_ACT_STEP:
        nc_playback_seek(p, ui, key == ',' ? (shown > 1 ? shown - 1 : 1) : shown + 1);
        break;
    case NC_ACT_SEEK:
        nc_playback_seek(p, ui, key == '<' ? 1 : nc_playback_count(p));
        break;
    case NC_ACT_MARK: {
        /* From the cursor: the step mark before it, or after it. */
        long k = nc_playback_find_mark(p, ui->cursor, key == '[' ? -1 : 1);
        if (k >= 0)
            nc_playback_seek(p, ui, (size_t)k + 1);
        break;
    }
    case NC_ACT_SPEED:
        if (p->paced) /* slower is more seconds per event */
            nc_playback_set_pace(p, key == '-' ? p->pace * 2 : p->pace / 2);
        else if (key == '-' && p->speed > 0)
            p->speed--;
        else if (key != '-' && p->speed < NC_NSPEEDS - 1)
            p->speed++;
        break;
    default:
        return 0;
    }
    return NC_VIEW_HANDLED | NC_VIEW_REDRAW;
}

static void nc_playback_status(void *ctx, char *buf, size_t len)
{
    nc_playback_t *p = ctx;
    char speed[32];
    if (p->paced)
        snprintf(speed, sizeof speed, "paced %gs/event", p->pace);
    else
        snprintf(speed, sizeof speed, nc_speeds[p->speed] < 1 ? "x%.2g" : "x%.0f",
                 nc_speeds[p->speed]);
    size_t n = nc_playback_count(p), shown = nc_playback_shown(p);
    size_t gate = nc_playback_gate(p, p->ui);
    bool asking = gate <= shown;
    snprintf(buf, len, "%s %s, %zu/%zu%s%s", p->playing ? "playing" : "paused", speed,
             asking ? gate : shown, n, asking ? ", your answer?" : "",
             atomic_load(&p->loaded) ? "" : " loading");
}

/* `:N` past the head: the head moves on to show event i (not past a
 * question not answered yet). */
static size_t nc_playback_reach(void *ctx, nc_ui_t *ui, size_t i)
{
    nc_playback_t *p = ctx;
    if (i >= nc_playback_shown(p))
        nc_playback_seek(p, ui, i + 1);
    return nc_ui_visible(ui);
}

/* The replay's own keys, for the ladder's footer: no `r` (a replay starts
 * no run) and no follow keys (the play head does that). */
static const nc_action_t nc_playback_footer[] = {
    NC_ACT_PLAY,   NC_ACT_STEP,  NC_ACT_MARK, NC_ACT_SPEED, NC_ACT_PACED, NC_ACT_FILTER,
    NC_ACT_SEARCH, NC_ACT_CONVS, NC_ACT_OPEN, NC_ACT_HELP,  NC_ACT_BACK,  NC_ACT_NONE,
};

void nc_playback_source(nc_playback_t *p, nc_ui_source_t *src)
{
    memset(src, 0, sizeof *src);
    src->tl = p->tl;
    src->ctx = p;
    src->checkpoint_count = nc_playback_cp_count;
    src->checkpoint = nc_playback_cp;
    src->step_at = nc_playback_step_at;
    src->limit = nc_playback_limit;
    src->key = nc_playback_key;
    src->status = nc_playback_status;
    src->title = "replay";
    src->footer = nc_playback_footer;
    src->reach = nc_playback_reach;
}

void nc_playback_play(nc_playback_t *p, size_t h)
{
    p->head = h;
    p->playing = true;
    p->last_tick = 0;
}

/* Paced mode: one event per pace, stopping at a step's "begin" mark. */
static bool nc_playback_pace(nc_playback_t *p, nc_ui_t *ui, int64_t now_ns, size_t n, size_t gate)
{
    if (p->last_tick == 0) {
        p->last_tick = now_ns;
        return false;
    }
    if (now_ns - p->last_tick < (int64_t)(p->pace * 1e9))
        return false;
    p->last_tick = now_ns;
    if (p->head >= n || p->head >= gate)
        return false; /* at the end (see below), or waiting for an answer */
    p->head++;
    ui->follow = true;
    p->clock_ns = nc_timeline_time(p->tl, p->head - 1);
    if (nc_playback_is_begin(p->tl, p->head - 1) && p->head > 1) {
        p->playing = false; /* a new step: read its text, then p goes on */
        p->last_tick = 0;
    }
    return true;
}

bool nc_playback_tick(nc_playback_t *p, nc_ui_t *ui, int64_t now_ns)
{
    bool first = p->ui == NULL; /* the status can now tell an open question */
    p->ui = ui;
    if (atomic_load(&p->loaded))
        ui->src.done = true;
    if (!p->playing)
        return first;
    size_t n = nc_playback_count(p), before = p->head;
    size_t gate = nc_playback_gate(p, ui);
    if (p->paced) {
        bool moved = nc_playback_pace(p, ui, now_ns, n, gate);
        if (p->head >= n && atomic_load(&p->loaded)) {
            p->playing = false;
            p->last_tick = 0;
        }
        return moved || !p->playing;
    }
    if (p->last_tick == 0) {
        p->last_tick = now_ns;
        if (p->head < n)
            p->clock_ns = p->head ? nc_timeline_time(p->tl, p->head - 1) : 0;
        return false;
    }
    p->clock_ns += (int64_t)((double)(now_ns - p->last_tick) * nc_speeds[p->speed]);
    p->last_tick = now_ns;
    while (p->head < n && p->head < gate && nc_timeline_time(p->tl, p->head) <= p->clock_ns)
        p->head++;
    /* Never sit still for long on a gap: an idle second is skipped. */
    if (p->head == before && p->head < n && p->head < gate &&
        nc_timeline_time(p->tl, p->head) - p->clock_ns > 1000000000LL)
        p->clock_ns = nc_timeline_time(p->tl, p->head) - 1000000000LL;
    if (p->head >= n && atomic_load(&p->loaded)) {
        p->playing = false;
        p->last_tick = 0;
    }
    return p->head != before || !p->playing;
}
