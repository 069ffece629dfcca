/*
 * playback.c: loading a replay into a timeline, and the play head.
 *
 * Data model: the loader thread owns the nc_replay_t and adds each event to
 * `tl` (reorder window 0: published at once, in file order); `loaded` turns
 * true when it is done. Everything else belongs to the UI thread: `head` is
 * how many events the ladder shows (SIZE_MAX: all that are loaded), `playing`
 * and `speed` drive it, and `clock_ns` is the run time the head has reached
 * (in the events' own time, relative to the timeline's t0). Step marks (the
 * "begin" marks of lesson steps) are found by scanning the timeline from the
 * head, which is cheap because marks are near each other in a lesson run.
 */
#include "playback.h"

#include "../core/clock.h"
#include "../core/error.h"
#include "../core/xmalloc.h"
#include "../runfile/replay.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double nc_speeds[] = {0.25, 0.5, 1, 2, 4, 8, 16};
#define NC_SPEED_X1 2
#define NC_NSPEEDS ((int)(sizeof nc_speeds / sizeof nc_speeds[0]))

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
    int64_t clock_ns;   /* run time reached by the head */
    int64_t last_tick;  /* CLOCK_MONOTONIC of the previous tick, 0 when paused */
};

static void *nc_playback_thread(void *arg)
{
    nc_playback_t *p = arg;
    nc_evb_t b;
    nc_evb_init(&b);
    char err[512];
    int rc;
    while (!atomic_load(&p->stop) && (rc = nc_replay_next(p->replay, &b, err, sizeof err)) == 1)
        nc_timeline_add(p->tl, &b);
    if (!atomic_load(&p->stop) && rc < 0) {
        snprintf(p->error, sizeof p->error, "%s", err);
        atomic_store(&p->failed, true);
    }
    nc_evb_done(&b);
    atomic_store(&p->loaded, true);
    nc_timeline_flush(p->tl, true); /* wakes the UI one last time */
    return NULL;
}

nc_playback_t *nc_playback_open(const char *path, void (*notify)(void *), void *arg,
                                char *err, size_t errlen)
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
    if (notify)
        nc_timeline_set_notify(p->tl, notify, arg);
    p->head = SIZE_MAX;
    p->speed = NC_SPEED_X1;
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
    free(p);
}

const char *nc_playback_lesson(const nc_playback_t *p)
{
    return p->lesson;
}

void nc_playback_set_lesson(nc_playback_t *p, const nc_lesson_t *l)
{
    p->model = l;
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

static size_t nc_playback_no_checkpoints(void *ctx)
{
    return 0;
}

static void nc_playback_no_checkpoint(void *ctx, size_t k, nc_run_checkpoint_t *out)
{
    memset(out, 0, sizeof *out);
    out->asked_at = out->target = out->right = out->decided_at = -1;
}

/* The step whose "begin" mark is the last one at or before event i. */
static int nc_playback_step_at(void *ctx, size_t i)
{
    nc_playback_t *p = ctx;
    size_t n = nc_timeline_count(p->tl);
    int step = -1;
    /* Scan back for at most a few thousand events: enough for any lesson. */
    for (size_t k = i < n ? i + 1 : n, seen = 0; k > 0 && seen < 4096; k--, seen++) {
        const nc_event_t *ev = nc_timeline_get(p->tl, k - 1);
        const char *what = ev->type == NC_EV_MARK ? nc_event_str(ev, "event") : NULL;
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

/* Puts the head at h events (paused) with the cursor on the last shown. */
static void nc_playback_seek(nc_playback_t *p, nc_ui_t *ui, size_t h)
{
    size_t n = nc_playback_count(p);
    if (h > n)
        h = n;
    p->head = h;
    p->playing = false;
    p->last_tick = 0;
    ui->follow = false;
    ui->cursor = h ? h - 1 : 0;
    const nc_event_t *ev = h ? nc_timeline_get(p->tl, h - 1) : NULL;
    p->clock_ns = ev ? ev->t_ns : 0;
}

/* Index of the next (dir > 0) or previous step "begin" mark from `from`. */
static long nc_playback_find_mark(const nc_playback_t *p, size_t from, int dir)
{
    size_t n = nc_playback_count(p);
    for (long k = (long)from + dir; k >= 0 && (size_t)k < n; k += dir) {
        const nc_event_t *ev = nc_timeline_get(p->tl, (size_t)k);
        if (ev->type != NC_EV_MARK)
            continue;
        const char *what = nc_event_str(ev, "event");
        if (what && strcmp(what, "begin") == 0)
            return k;
    }
    return -1;
}

static int nc_playback_key(void *ctx, nc_ui_t *ui, nc_action_t a, int key)
{
    nc_playback_t *p = ctx;
    size_t shown = nc_playback_shown(p);
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
        if (key == '-' && p->speed > 0)
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
    double x = nc_speeds[p->speed];
    char speed[16];
    snprintf(speed, sizeof speed, x < 1 ? "x%.2g" : "x%.0f", x);
    size_t n = nc_playback_count(p);
    snprintf(buf, len, "%s %s, %zu/%zu%s", p->playing ? "playing" : "paused", speed,
             nc_playback_shown(p), n, atomic_load(&p->loaded) ? "" : " loading");
}

void nc_playback_source(nc_playback_t *p, nc_ui_source_t *src)
{
    memset(src, 0, sizeof *src);
    src->tl = p->tl;
    src->ctx = p;
    src->checkpoint_count = nc_playback_no_checkpoints;
    src->checkpoint = nc_playback_no_checkpoint;
    src->step_at = nc_playback_step_at;
    src->limit = nc_playback_limit;
    src->key = nc_playback_key;
    src->status = nc_playback_status;
    src->title = "replay";
}

bool nc_playback_tick(nc_playback_t *p, nc_ui_t *ui, int64_t now_ns)
{
    if (atomic_load(&p->loaded))
        ui->src.done = true;
    if (!p->playing)
        return false;
    size_t n = nc_playback_count(p);
    if (p->last_tick == 0) {
        p->last_tick = now_ns;
        if (p->head < n) {
            const nc_event_t *ev = p->head ? nc_timeline_get(p->tl, p->head - 1) : NULL;
            p->clock_ns = ev ? ev->t_ns : 0;
        }
        return false;
    }
    p->clock_ns += (int64_t)((double)(now_ns - p->last_tick) * nc_speeds[p->speed]);
    p->last_tick = now_ns;
    size_t before = p->head;
    while (p->head < n && nc_timeline_get(p->tl, p->head)->t_ns <= p->clock_ns)
        p->head++;
    /* Never sit still for long on a gap: an idle second is skipped. */
    if (p->head == before && p->head < n &&
        nc_timeline_get(p->tl, p->head)->t_ns - p->clock_ns > 1000000000LL)
        p->clock_ns = nc_timeline_get(p->tl, p->head)->t_ns - 1000000000LL;
    if (p->head >= n && atomic_load(&p->loaded)) {
        p->playing = false;
        p->last_tick = 0;
    }
    return p->head != before || !p->playing;
}
