/*
 * tui.c: the terminal, the loop and the live run behind the views.
 *
 * One nc_tui_t lives on nc_tui_main's stack for the whole session. Its libuv
 * loop runs on the main thread (curses is not thread-safe) with:
 *   input   uv_poll on stdin: keys go to nc_ui_key();
 *   winch   SIGWINCH: the new size is passed to curses;
 *   intr    SIGINT and SIGTERM: leave the loop, restoring the terminal;
 *   tick    every 30 ms: nc_run_poll() publishes the run's events;
 *   wake    uv_async sent by the timeline when events become visible;
 *   check   after each loop turn: one redraw, if anything set `dirty`.
 * Callbacks only set `dirty`, so a burst of packets or keys costs one
 * redraw. The run (nc_run_t) belongs to this file: the views see it only as
 * an nc_ui_source_t. So does a replay (`netcourse replay FILE`): an
 * nc_playback_t loading the file on its own thread, advanced by the tick.
 * A finished live run is kept (save.h); `s` saves it where the user asks.
 *
 * The lab of a finished live run stays up (nc_run_opts_t.stay) until the
 * student leaves the lesson (no reader or ladder left on the view stack),
 * starts another run, or quits. While it is up, `!` on the ladder hands
 * the terminal to the user's shell inside a lab host (shell.h): curses is
 * suspended, the stdin watcher and SIGINT are off, and the tick goes on
 * publishing the run's events (the student's own, marked) without drawing;
 * when the shell exits, curses comes back and the ladder follows the
 * newest events.
 */
#include "tui.h"

#include "classview.h"
#include "nav.h"
#include "nc_curses.h"
#include "playback.h"
#include "ui.h"

#include "../classroom/server.h"

#include "../core/clock.h"
#include "../core/error.h"
#include "../core/xmalloc.h"
#include "../scenario/save.h"
#include "../scenario/shell.h"

#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

typedef struct nc_tui {
    uv_loop_t loop;
    uv_poll_t input;
    uv_signal_t winch, intr, term;
    uv_timer_t tick;
    uv_async_t wake;
    uv_check_t check;
    const nc_tui_opts_t *o;
    nc_ui_t ui;
    nc_canvas_t *canvas;
    nc_run_t *run;
    nc_playback_t *playback;
    const nc_lesson_t *run_lesson;
    size_t shown;  /* timeline count at the last redraw */
    bool recorded; /* the finished run was written to the store */
    bool dirty;
    nc_tui_class_t klass; /* a live class, when teaching or joining */
    pid_t shell;          /* the lab shell that has the terminal, or 0 */
    int stdin_flags;      /* stdin's file status flags before the shell */
} nc_tui_t;

static void nc_tui_on_input(uv_poll_t *h, int status, int events);
static void nc_tui_on_intr(uv_signal_t *h, int sig);

/* The ladder's footer while a finished run's lab is up. */
static const nc_action_t nc_tui_lab_footer[] = {
    NC_ACT_UP,  NC_ACT_DOWN, NC_ACT_OPEN, NC_ACT_SHELL, NC_ACT_FOLLOW,
    NC_ACT_RUN, NC_ACT_HELP, NC_ACT_BACK, NC_ACT_NONE,
};

static void nc_tui_lab_status(void *ctx, char *buf, size_t len)
{
    nc_tui_t *t = ctx;
    snprintf(buf, len, "%s, run complete, lab up", t->ui.follow ? "following" : "paused");
}

static size_t nc_tui_cp_count(void *ctx)
{
    return nc_run_checkpoint_count(((nc_tui_t *)ctx)->run);
}

static void nc_tui_cp(void *ctx, size_t k, nc_run_checkpoint_t *out)
{
    nc_run_checkpoint(((nc_tui_t *)ctx)->run, k, out);
}

static int nc_tui_step_at(void *ctx, size_t i)
{
    return nc_run_step_at(((nc_tui_t *)ctx)->run, i);
}

/* `s` on a live run: the events so far, to --save's file or a new file in
 * the current directory. */
static int nc_tui_live_key(void *ctx, nc_ui_t *ui, nc_action_t a, int key)
{
    nc_tui_t *t = ctx;
    if (a == NC_ACT_SHELL && t->run) {
        if (ui->shell_host)
            return NC_VIEW_HANDLED | NC_VIEW_SHELL;
        snprintf(ui->notice, sizeof ui->notice,
                 "Once the run is over, ! opens a shell in its lab, while the lab is up.");
        return NC_VIEW_HANDLED | NC_VIEW_REDRAW;
    }
    if (a != NC_ACT_SAVE || !t->run)
        return 0;
    char *path;
    if (t->o->save_path) {
        path = strdup(t->o->save_path);
    } else {
        char stamp[32];
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
        path = nc_xasprintf("netcourse-%s-%s.pcapng", t->run_lesson ? t->run_lesson->id : "run",
                            stamp);
    }
    char err[256] = "";
    if (nc_save_run(t->run, path, err, sizeof err) == 0)
        snprintf(ui->notice, sizeof ui->notice,
                 "Saved %zu events to %s: Wireshark opens it, `netcourse replay` plays it back.",
                 nc_timeline_count(nc_run_timeline(t->run)), path);
    else
        snprintf(ui->notice, sizeof ui->notice, "Not saved: %s", err);
    free(path);
    return NC_VIEW_HANDLED | NC_VIEW_REDRAW;
}

/* Called on whichever thread published events. */
static void nc_tui_notify(void *arg)
{
    uv_async_send(arg);
}

static void nc_tui_stop_run(nc_tui_t *t)
{
    if (!t->run)
        return;
    t->ui.shell_host = NULL;
    nc_ui_source_t none = {0};
    nc_ui_set_source(&t->ui, &none);
    nc_run_stop(t->run);
    nc_run_free(t->run);
    t->run = NULL;
}

/* Forgets the replay: always before another one opens (all), else only
 * one opened from the saved runs (R), once a live run replaces it. A
 * replay given on the command line stays: the reader's r goes back to it. */
static void nc_tui_drop_replay(nc_tui_t *t, bool all)
{
    if (!t->playback || (t->o->replay_path && !all))
        return;
    if (t->ui.src.ctx == t->playback) {
        nc_ui_source_t none = {0};
        nc_ui_set_source(&t->ui, &none);
    }
    nc_playback_free(t->playback);
    t->playback = NULL;
}

static void nc_tui_start_run(nc_tui_t *t)
{
    nc_tui_stop_run(t);
    nc_tui_drop_replay(t, false);
    t->ui.run_error[0] = '\0';
    t->recorded = false;
    t->shown = 0;
    t->run_lesson = t->ui.lesson;
    if (!t->ui.lesson)
        return;
    char err[256] = "";
    /* The lab stays up after the run, for the student to step into. */
    nc_run_opts_t ro = t->o->run;
    ro.stay = true;
    t->run = nc_run_start(t->ui.lesson, &ro, err, sizeof err);
    if (!t->run) {
        snprintf(t->ui.run_error, sizeof t->ui.run_error, "The run could not start: %s",
                 err[0] ? err : "unknown error");
        return;
    }
    nc_timeline_set_notify(nc_run_timeline(t->run), nc_tui_notify, &t->wake);
    nc_ui_source_t src = {
        .tl = nc_run_timeline(t->run),
        .ctx = t,
        .checkpoint_count = nc_tui_cp_count,
        .checkpoint = nc_tui_cp,
        .step_at = nc_tui_step_at,
        .key = nc_tui_live_key,
    };
    nc_ui_set_source(&t->ui, &src);
}

static void nc_tui_record(nc_tui_t *t)
{
    nc_store_t *st = t->o->store;
    if (!st || !t->run_lesson || !t->recorded)
        return;
    nc_store_update_completion(st, t->run_lesson->id, (int)t->run_lesson->ncheckpoints);
}

/* Keeps the finished run: in the data directory, and at --save's path. */
static void nc_tui_keep(nc_tui_t *t)
{
    char err[256] = "";
    if (t->o->store && nc_save_auto(t->run, t->o->store, NULL, err, sizeof err) < 0)
        snprintf(t->ui.notice, sizeof t->ui.notice, "The run was not kept: %s", err);
    if (t->o->save_path) {
        if (nc_save_run(t->run, t->o->save_path, err, sizeof err) == 0)
            snprintf(t->ui.notice, sizeof t->ui.notice, "Saved the run to %s.", t->o->save_path);
        else
            snprintf(t->ui.notice, sizeof t->ui.notice, "Not saved: %s", err);
    }
}

/* Shows the shell key while the finished run's lab is up (the live run's
 * ladder only), and hides it once the lab is gone. */
static void nc_tui_lab_state(nc_tui_t *t)
{
    bool up = t->run && nc_run_lab_up(t->run) && t->ui.src.ctx == t;
    const char *host = up ? nc_shell_default_host(nc_run_lab(t->run)) : NULL;
    if (host == t->ui.shell_host)
        return;
    t->ui.shell_host = host;
    if (t->ui.src.ctx == t) {
        t->ui.src.footer = host ? nc_tui_lab_footer : NULL;
        t->ui.src.status = host ? nc_tui_lab_status : NULL;
    }
    t->dirty = true;
}

/* Takes the terminal back from the shell (or from a shell that could not
 * start): curses, the stdin watcher and SIGINT as before, and the ladder
 * following the newest events, the student's among them. */
static void nc_tui_shell_back(nc_tui_t *t)
{
    nc_shell_reclaim_terminal();
    if (t->stdin_flags >= 0)
        fcntl(STDIN_FILENO, F_SETFL, t->stdin_flags);
    nc_curses_resume();
    uv_signal_start(&t->intr, nc_tui_on_intr, SIGINT);
    uv_poll_start(&t->input, UV_READABLE, nc_tui_on_input);
    t->ui.follow = true;
    t->dirty = true;
}

/* From the tick: has the shell exited? */
static void nc_tui_shell_wait(nc_tui_t *t)
{
    if (t->shell <= 0)
        return;
    pid_t w = waitpid(t->shell, NULL, WNOHANG);
    if (w == 0 || (w < 0 && errno == EINTR))
        return;
    t->shell = 0;
    nc_tui_shell_back(t);
}

/* Hands the terminal to the user's shell on the lab host. */
static void nc_tui_shell_open(nc_tui_t *t)
{
    const char *host = t->ui.shell_host;
    if (!t->run || !host || t->shell > 0)
        return;
    nc_lab_t *lab = nc_run_lab(t->run);
    nc_run_set_student(t->run, host);
    uv_poll_stop(&t->input);
    uv_signal_stop(&t->intr);
    signal(SIGINT, SIG_IGN);
    nc_curses_suspend();
    /* The shell and what it runs read the terminal as it usually is:
     * blocking (libuv made it non-blocking for the loop). */
    t->stdin_flags = fcntl(STDIN_FILENO, F_GETFL);
    if (t->stdin_flags >= 0)
        fcntl(STDIN_FILENO, F_SETFL, t->stdin_flags & ~O_NONBLOCK);
    printf("\nnetcourse: a shell on %s (%s), in the lab of \"%s\".\n", host,
           nc_lab_host_addr(lab, host), t->run_lesson ? t->run_lesson->title : "the run");
    for (size_t i = 0; i < nc_lab_host_count(lab); i++) {
        const char *h = nc_lab_host_name(lab, i);
        char var[32];
        nc_shell_var(h, var, sizeof var);
        if (strcmp(h, host) != 0)
            printf("  %s is %s: $%s in the shell\n", h, nc_lab_host_addr(lab, h), var);
    }
    printf("What you send from here appears in the ladder, marked as yours. Type exit to go "
           "back.\n\n");
    fflush(stdout);
    char err[256] = "";
    t->shell = nc_shell_spawn(lab, host, NULL, err, sizeof err);
    if (t->shell < 0) {
        t->shell = 0;
        nc_tui_shell_back(t);
        snprintf(t->ui.notice, sizeof t->ui.notice, "No shell: %s", err);
    }
}

static void nc_tui_on_tick(uv_timer_t *h)
{
    nc_tui_t *t = h->data;
    if ((t->ui.teach || t->ui.join) && nc_tui_class_tick(&t->ui, &t->klass))
        t->dirty = true;
    if (t->playback && t->ui.src.ctx == t->playback) {
        if (nc_playback_tick(t->playback, &t->ui, nc_clock_mono_ns()))
            t->dirty = true;
        /* A replayed lesson run's answers count as the live run's do. */
        if (nc_ui_tick(&t->ui)) {
            if (t->o->store && t->ui.lesson) {
                nc_store_run_seen(t->o->store, t->ui.lesson->id);
                nc_store_update_completion(t->o->store, t->ui.lesson->id,
                                           (int)t->ui.lesson->ncheckpoints);
            }
            t->dirty = true;
        }
        const char *perr = nc_playback_error(t->playback);
        if (perr && !t->ui.run_error[0]) {
            snprintf(t->ui.run_error, sizeof t->ui.run_error, "%s", perr);
            t->dirty = true;
        }
    }
    if (!t->run)
        return;
    nc_tui_shell_wait(t);
    bool done = nc_run_poll(t->run);
    if (done && !t->ui.src.done) {
        t->ui.src.done = true;
        char err[256] = "";
        if (nc_run_status(t->run, err, sizeof err) < 0)
            snprintf(t->ui.run_error, sizeof t->ui.run_error, "The run failed: %s", err);
        else if (t->o->store && t->run_lesson)
            nc_store_run_seen(t->o->store, t->run_lesson->id);
        t->recorded = t->ui.run_error[0] == '\0';
        nc_tui_record(t);
        nc_tui_keep(t);
        t->dirty = true;
    }
    if (nc_ui_tick(&t->ui)) {
        nc_tui_record(t);
        t->dirty = true;
    }
    if (t->ui.src.done && nc_compare_view_tick(&t->ui))
        t->dirty = true;
    nc_tui_lab_state(t);
    if (nc_timeline_count(nc_run_timeline(t->run)) != t->shown)
        t->dirty = true;
}

static void nc_tui_on_wake(uv_async_t *h)
{
    nc_tui_t *t = h->data;
    t->dirty = true;
}

static void nc_tui_quit(nc_tui_t *t)
{
    uv_stop(&t->loop);
}

/* Opens path in the ladder, under its lesson's reader when the course has
 * the lesson, as the ladder's source. Returns 0, or NC_EINVAL with one
 * sentence in err. */
static int nc_tui_open_replay(nc_tui_t *t, const char *path, char *err, size_t errlen)
{
    t->playback = nc_playback_open(path, nc_tui_notify, &t->wake, err, errlen);
    if (t->playback == NULL)
        return NC_EINVAL;
    const char *id = nc_playback_lesson(t->playback);
    const nc_lesson_t *l = id && t->o->course ? nc_course_find(t->o->course, id) : NULL;
    if (l) {
        nc_playback_set_lesson(t->playback, l);
        nc_ui_open_lesson(&t->ui, l);
        nc_ui_push(&t->ui, &nc_view_reader);
    }
    nc_ui_push(&t->ui, &nc_view_ladder);
    nc_ui_source_t src;
    nc_playback_source(t->playback, &src);
    nc_ui_set_source(&t->ui, &src);
    t->ui.follow = false;
    /* `replay FILE --filter M`: the command checked that M compiles. */
    if (t->o->filter && path == t->o->replay_path)
        nc_nav_set_filter(&t->ui, t->o->filter, err, errlen);
    /* `replay FILE --pace S`: paced, playing from the start. */
    if (t->o->pace > 0 && path == t->o->replay_path) {
        nc_playback_set_pace(t->playback, t->o->pace);
        nc_playback_play(t->playback, 0);
    }
    return 0;
}

/* The student is still in the run's lesson: its reader or its ladder is
 * on the view stack. */
static bool nc_tui_in_lesson(const nc_tui_t *t)
{
    if (t->ui.lesson != t->run_lesson)
        return false;
    for (int i = 1; i < t->ui.depth; i++)
        if (t->ui.stack[i] == &nc_view_reader || t->ui.stack[i] == &nc_view_ladder)
            return true;
    return false;
}

static void nc_tui_on_input(uv_poll_t *h, int status, int events)
{
    nc_tui_t *t = h->data;
    if (status < 0) {
        nc_tui_quit(t);
        return;
    }
    int key;
    while ((key = nc_curses_key()) >= 0) {
        if (key == NC_KEY_RESIZE) {
            t->dirty = true;
            continue;
        }
        int flags = nc_tui_class_key(&t->ui, &t->klass, key);
        if (!flags)
            flags = nc_ui_key(&t->ui, key);
        /* In a class the runs are the class's: the instructor's key starts
         * one for everyone, a student's starts none of their own. In a
         * replay, the reader's "run" goes back to the replay's ladder. */
        bool replaying = t->playback && t->ui.src.ctx == t->playback && t->o->replay_path;
        if (flags & NC_VIEW_REPLAY) {
            char err[512] = "";
            nc_tui_stop_run(t);
            nc_tui_drop_replay(t, true);
            t->ui.depth = 1; /* the replay opens over the map, as a new start */
            if (nc_tui_open_replay(t, t->ui.replay_path, err, sizeof err) < 0)
                snprintf(t->ui.banner, sizeof t->ui.banner, "%s", err);
        }
        if ((flags & NC_VIEW_RUN) && t->ui.teach)
            nc_class_server_command(t->ui.teach, "run");
        else if ((flags & NC_VIEW_RUN) && !t->ui.join && !replaying)
            nc_tui_start_run(t);
        if (flags & NC_VIEW_REDRAW)
            t->dirty = true;
        if (flags & NC_VIEW_QUIT) {
            nc_tui_quit(t);
            return;
        }
        /* Leaving the lesson ends its run, and takes its lab down. */
        if (t->run && !nc_tui_in_lesson(t)) {
            nc_tui_stop_run(t);
            t->dirty = true;
        }
        if (flags & NC_VIEW_SHELL) {
            nc_tui_shell_open(t);
            return; /* the shell has the terminal now */
        }
    }
}

static void nc_tui_on_winch(uv_signal_t *h, int sig)
{
    nc_tui_t *t = h->data;
    if (t->shell > 0)
        return; /* the size is read again when the shell gives the terminal back */
    nc_curses_resize();
    t->dirty = true;
}

static void nc_tui_on_intr(uv_signal_t *h, int sig)
{
    nc_tui_quit(h->data);
}

static void nc_tui_on_check(uv_check_t *h)
{
    nc_tui_t *t = h->data;
    if (!t->dirty || t->shell > 0)
        return;
    t->dirty = false;
    int w, ht;
    nc_curses_size(&w, &ht);
    if (w != t->canvas->w || ht != t->canvas->h)
        nc_canvas_resize(t->canvas, w, ht);
    if (t->run)
        t->shown = nc_timeline_count(nc_run_timeline(t->run));
    if (t->playback && nc_playback_error(t->playback) && t->ui.src.ctx == t->playback)
        t->ui.src.done = true;
    nc_ui_render(&t->ui, t->canvas);
    nc_curses_blit(t->canvas);
}

/* Restores the terminal however the process ends. */
static void nc_tui_atexit(void)
{
    nc_curses_stop();
}

static void nc_tui_close_cb(uv_handle_t *h)
{
    (void)h;
}

static void nc_tui_walk_close(uv_handle_t *h, void *arg)
{
    if (!uv_is_closing(h))
        uv_close(h, nc_tui_close_cb);
}

static bool nc_tui_utf8(void)
{
    const char *cs = nl_langinfo(CODESET);
    return cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
}

int nc_tui_main(const nc_tui_opts_t *o, char *err, size_t errlen)
{
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        snprintf(err, errlen,
                 "the interface needs a terminal; use `netcourse run LESSON --headless` "
                 "to print a lesson's run instead");
        return NC_EUNSUPP;
    }
    const nc_lesson_t *start = NULL;
    if (o->start_lesson) {
        start = o->course ? nc_course_find(o->course, o->start_lesson) : NULL;
        if (!start) {
            snprintf(err, errlen, "there is no lesson named \"%s\"", o->start_lesson);
            return NC_ENOENT;
        }
    }
    setlocale(LC_ALL, "");
    nc_tui_t t;
    memset(&t, 0, sizeof t);
    t.o = o;
    nc_ui_init(&t.ui, o->course, o->store, nc_tui_utf8());
    if (o->store_note)
        snprintf(t.ui.banner, sizeof t.ui.banner, "%s", o->store_note);
    if (start) {
        nc_ui_open_lesson(&t.ui, start);
        nc_ui_push(&t.ui, &nc_view_reader);
    }
    if (o->compare[0] && o->compare[1]) {
        t.ui.pair[0] = o->compare[0];
        t.ui.pair[1] = o->compare[1];
        nc_ui_push(&t.ui, &nc_view_pair);
    }
    int rc = nc_curses_start(err, errlen);
    if (rc < 0) {
        nc_ui_done(&t.ui);
        return rc;
    }
    atexit(nc_tui_atexit);
    int w, h;
    nc_curses_size(&w, &h);
    t.canvas = nc_canvas_new(w, h, t.ui.utf8);

    uv_loop_init(&t.loop);
    uv_poll_init(&t.loop, &t.input, STDIN_FILENO);
    uv_signal_init(&t.loop, &t.winch);
    uv_signal_init(&t.loop, &t.intr);
    uv_signal_init(&t.loop, &t.term);
    uv_timer_init(&t.loop, &t.tick);
    uv_async_init(&t.loop, &t.wake, nc_tui_on_wake);
    uv_check_init(&t.loop, &t.check);
    t.input.data = t.winch.data = t.intr.data = t.term.data = &t;
    t.tick.data = t.wake.data = t.check.data = &t;
    uv_poll_start(&t.input, UV_READABLE, nc_tui_on_input);
    /* After newterm(), so libuv's handler replaces the one curses set. */
    uv_signal_start(&t.winch, nc_tui_on_winch, SIGWINCH);
    uv_signal_start(&t.intr, nc_tui_on_intr, SIGINT);
    uv_signal_start(&t.term, nc_tui_on_intr, SIGTERM);
    uv_timer_start(&t.tick, nc_tui_on_tick, 30, 30);
    uv_check_start(&t.check, nc_tui_on_check);

    t.ui.teach = o->teach;
    t.ui.join = o->join;
    if (o->teach || o->join)
        nc_tui_class_start(&t.ui, &t.klass);
    if (start && o->start_run) {
        nc_ui_push(&t.ui, &nc_view_ladder);
        nc_tui_start_run(&t);
    }
    if (o->replay_path && nc_tui_open_replay(&t, o->replay_path, err, errlen) < 0) {
        rc = NC_EINVAL;
        uv_stop(&t.loop);
    }
    t.dirty = true;
    if (rc == 0) {
        nc_tui_on_check(&t.check);
        uv_run(&t.loop, UV_RUN_DEFAULT);
    }

    if (t.shell > 0) {
        nc_shell_kill(t.shell);
        if (t.stdin_flags >= 0)
            fcntl(STDIN_FILENO, F_SETFL, t.stdin_flags);
    }
    nc_curses_stop();
    nc_tui_stop_run(&t);
    if (t.playback) {
        nc_ui_source_t none = {0};
        nc_ui_set_source(&t.ui, &none);
        nc_playback_free(t.playback);
    }
    uv_walk(&t.loop, nc_tui_walk_close, NULL);
    uv_run(&t.loop, UV_RUN_DEFAULT);
    uv_loop_close(&t.loop);
    nc_canvas_free(t.canvas);
    nc_ui_done(&t.ui);
    return rc;
}
