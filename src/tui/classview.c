/*
 * classview.c: a live class in the interface (see classview.h).
 *
 * Each tick reads one snapshot of the class (the server's for the
 * instructor, the client's for a student) and moves the interface to it:
 * the lesson and page to show, the ladder's source when a new run's
 * timeline appears, the footer's class line. A student's timeline (the
 * instructor's streamed one, or in lockstep their own run's) comes with its
 * checkpoint marks held (classroom/hold.h), so the ladder learns of a
 * checkpoint only from what the client says the instructor released: where
 * it was asked once the instructor opened it, its answer once revealed.
 */
#include "classview.h"

#include "../classroom/client.h"
#include "../classroom/server.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- checkpoints of a run, or of a streamed timeline ---- */

static size_t nc_cv_run_count(void *ctx)
{
    return nc_run_checkpoint_count(ctx);
}

static void nc_cv_run_cp(void *ctx, size_t k, nc_run_checkpoint_t *out)
{
    nc_run_checkpoint(ctx, k, out);
}

static int nc_cv_run_step(void *ctx, size_t i)
{
    return nc_run_step_at(ctx, i);
}

/* The one student timeline shown, with what the instructor released of
 * its checkpoints (copied from the client's view every tick). */
typedef struct nc_cv_stream {
    nc_timeline_t *tl;
    const nc_lesson_t *lesson;
    nc_class_cp_t cps[NC_CLASS_MAX_CPS];
    int ncps;
} nc_cv_stream_t;

static nc_cv_stream_t nc_cv_stream;

static size_t nc_cv_stream_count(void *ctx)
{
    const nc_cv_stream_t *s = ctx;
    return s->lesson ? s->lesson->ncheckpoints : 0;
}

static void nc_cv_stream_cp(void *ctx, size_t k, nc_run_checkpoint_t *out)
{
    const nc_cv_stream_t *s = ctx;
    const nc_checkpoint_t *cp = &s->lesson->checkpoints[k];
    *out = (nc_run_checkpoint_t){
        .cp = cp, .asked_at = -1, .target = -1, .right = -1, .decided_at = -1};
    for (int j = 0; j < s->ncps; j++) {
        const nc_class_cp_t *c = &s->cps[j];
        if (strcmp(c->id, cp->id) != 0)
            continue;
        out->asked_at = c->asked_at;
        out->target = c->asked_at >= 0 ? c->asked_at + 1 : -1;
        for (size_t i = 0; c->answer[0] && i < cp->nchoices; i++)
            if (strcmp(cp->choices[i].key, c->answer) == 0)
                out->right = (int)i;
        out->decided_at = out->right >= 0 ? c->decided_at : -1;
        out->explain = c->explain[0] ? c->explain : NULL;
        out->skipped = c->skipped;
    }
}

static void nc_cv_set_run(nc_ui_t *ui, nc_tui_class_t *tc, nc_timeline_t *tl, nc_run_t *run)
{
    tc->tl = tl;
    tc->runp = run;
    nc_ui_source_t src = {.tl = tl};
    if (run) {
        src.ctx = run;
        src.checkpoint_count = nc_cv_run_count;
        src.checkpoint = nc_cv_run_cp;
        src.step_at = nc_cv_run_step;
    } else if (tl) {
        nc_cv_stream.tl = tl;
        nc_cv_stream.lesson = ui->lesson;
        src.ctx = &nc_cv_stream;
        src.checkpoint_count = nc_cv_stream_count;
        src.checkpoint = nc_cv_stream_cp;
    }
    nc_ui_set_source(ui, &src);
}

static unsigned long nc_cv_mix(unsigned long h, unsigned long v)
{
    return (h ^ v) * 1099511628211ul;
}

static unsigned long nc_cv_str(unsigned long h, const char *s)
{
    while (s && *s)
        h = nc_cv_mix(h, (unsigned char)*s++);
    return h;
}

/* ---- the instructor ---- */

static bool nc_cv_teach_tick(nc_ui_t *ui, nc_tui_class_t *tc)
{
    nc_class_snapshot_t s;
    nc_class_server_snapshot(ui->teach, &s);
    if (s.tl != tc->tl)
        nc_cv_set_run(ui, tc, s.tl, (nc_run_t *)s.runp);
    unsigned long h = 14695981039346656037ul;
    h = nc_cv_mix(h, (unsigned long)s.page * 131 + (unsigned long)s.step);
    h = nc_cv_mix(h, (unsigned long)s.run * 2 + s.run_active);
    h = nc_cv_mix(h, (unsigned long)s.answered * 2 + s.cp_open);
    h = nc_cv_mix(h, (unsigned long)(s.right + 1));
    h = nc_cv_str(h, s.checkpoint);
    h = nc_cv_str(h, s.results);
    for (int j = 0; j < s.nchoices; j++)
        h = nc_cv_mix(h, (unsigned long)s.counts[j]);
    for (size_t k = 0; k < s.nstudents; k++) {
        const nc_class_student_info_t *st = &s.students[k];
        h = nc_cv_str(h, st->name);
        h = nc_cv_mix(h, (unsigned long)(st->connected | st->following << 1 | st->hand << 2 |
                                         st->answered << 3 | st->lagging << 4) +
                             (unsigned long)st->page * 64 + (unsigned long)st->step * 4096);
    }
    if (s.tl)
        h = nc_cv_mix(h, nc_timeline_count(s.tl));
    nc_class_snapshot_done(&s);
    bool dirty = h != tc->sig;
    tc->sig = h;
    return dirty;
}

/* ---- the class box ---- */

static void nc_cv_box(nc_ui_t *ui, bool input, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void nc_cv_box(nc_ui_t *ui, bool input, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ui->class_box, sizeof ui->class_box, fmt, ap);
    va_end(ap);
    if (ui->class_box[0] >= 'a' && ui->class_box[0] <= 'z')
        ui->class_box[0] = (char)(ui->class_box[0] - 'a' + 'A');
    ui->class_input_on = input;
    ui->class_input[0] = '\0';
    if (nc_ui_top(ui) != &nc_view_classbox)
        nc_ui_push(ui, &nc_view_classbox);
}

static void nc_cv_box_close(nc_ui_t *ui)
{
    if (nc_ui_top(ui) == &nc_view_classbox)
        nc_ui_pop(ui);
    ui->class_box[0] = '\0';
    ui->class_input_on = false;
}

/* A key while the box is up: the instructor's answer to "end the class?",
 * a student's join code being retyped, or a key to leave. */
static int nc_cv_box_key(nc_ui_t *ui, nc_tui_class_t *tc, int key)
{
    int quit = NC_VIEW_HANDLED | NC_VIEW_QUIT;
    if (ui->teach) {
        nc_cv_box_close(ui);
        return key == 'y' || key == 'Y' ? quit : NC_VIEW_HANDLED | NC_VIEW_REDRAW;
    }
    if (!ui->class_input_on || key == NC_KEY_ESC)
        return quit;
    size_t n = strlen(ui->class_input);
    if (nc_key_action(key) == NC_ACT_OPEN) {
        if (n == 0)
            return NC_VIEW_HANDLED;
        nc_class_view_t v;
        nc_class_client_view(ui->join, &v);
        tc->rejoins = v.rejoins + 1; /* until the client took it, it is still refused */
        nc_class_client_rejoin(ui->join, ui->class_input);
        nc_cv_box_close(ui);
        tc->ended = false;
        snprintf(ui->class_line, sizeof ui->class_line, "class: connecting");
    } else if (key == NC_KEY_BACKSPACE || key == 127 || key == 8) {
        if (n)
            ui->class_input[n - 1] = '\0';
    } else if (key > ' ' && key < 0x7F && n + 1 < sizeof ui->class_input) {
        ui->class_input[n] = (char)key;
        ui->class_input[n + 1] = '\0';
    }
    return NC_VIEW_HANDLED | NC_VIEW_REDRAW;
}

/* ---- a student ---- */

/* The client's view, where a follow or unfollow this screen sent and the
 * client has not taken yet counts as taken: a stale view would otherwise
 * snap an exploring student back to the instructor's page. */
static void nc_cv_view(nc_ui_t *ui, nc_tui_class_t *tc, nc_class_view_t *v)
{
    nc_class_client_view(ui->join, v);
    if (tc->pending < 0)
        return;
    if (v->following == (tc->pending == 1))
        tc->pending = -1;
    else
        v->following = tc->pending == 1;
}

static void nc_cv_follow(nc_ui_t *ui, nc_tui_class_t *tc, bool on)
{
    nc_class_client_command(ui->join, on ? "follow" : "unfollow");
    tc->pending = on;
}

/* The class is over for this student: the instructor ended it, refused
 * us, or could not be reached. The box says so, in the words join prints
 * without the interface. */
static void nc_cv_join_ended(nc_ui_t *ui, nc_tui_class_t *tc, const nc_class_view_t *v)
{
    int status = 0;
    char err[800] = "";
    if (tc->ended || v->rejoins < tc->rejoins ||
        !nc_class_client_finished(ui->join, &status, err, sizeof err))
        return;
    tc->ended = true;
    if (status != 0 && (strcmp(v->refused, "code") == 0 || strcmp(v->refused, "rate") == 0))
        nc_cv_box(ui, true, "%s. Type the join code again and press Enter, or Esc to leave.", err);
    else
        nc_cv_box(ui, false, "%s. Press any key to leave.", err);
}

static bool nc_cv_join_tick(nc_ui_t *ui, nc_tui_class_t *tc)
{
    nc_class_view_t v;
    nc_cv_view(ui, tc, &v);
    nc_cv_join_ended(ui, tc, &v);
    if (v.welcomed && !tc->opened && ui->course) {
        const nc_lesson_t *l = nc_course_find(ui->course, v.lesson);
        if (l) {
            nc_ui_open_lesson(ui, l);
            if (nc_ui_top(ui) == &nc_view_map)
                nc_ui_push(ui, &nc_view_reader);
            tc->opened = true;
            tc->sent_cp[0] = '\0';
        }
    }
    if (tc->opened && v.following && (size_t)v.page < ui->lesson->npages) {
        if (ui->page != tc->set_page && tc->set_page >= 0) {
            /* The student turned the page: they explore on their own. */
            nc_cv_follow(ui, tc, false);
            v.following = false;
        } else if (ui->page != v.page) {
            ui->page = v.page;
            ui->scroll = 0;
        }
    }
    tc->set_page = v.following ? v.page : -1;
    if (tc->opened && !v.following && ui->page != tc->sent_page) {
        /* Exploring: the instructor's roster shows the page read. */
        char line[32];
        snprintf(line, sizeof line, "page %d", ui->page + 1);
        nc_class_client_command(ui->join, line);
        tc->sent_page = ui->page;
    } else if (v.following) {
        tc->sent_page = -1;
    }
    memcpy(nc_cv_stream.cps, v.cps, sizeof v.cps);
    nc_cv_stream.ncps = v.ncps;
    if (tc->opened && v.tl != tc->tl) {
        nc_cv_set_run(ui, tc, v.tl, NULL);
        if (v.following && v.tl && nc_ui_top(ui) == &nc_view_reader)
            nc_ui_push(ui, &nc_view_ladder);
    }
    /* An answer given to the class counts in the ladder too ... */
    for (size_t k = 0; v.my_answer[0] && k < ui->nanswers && ui->lesson; k++) {
        const nc_checkpoint_t *cp = &ui->lesson->checkpoints[k];
        if (ui->answers[k].choice >= 0 || strcmp(cp->id, v.cp_id) != 0)
            continue;
        for (size_t j = 0; j < cp->nchoices; j++)
            if (strcmp(cp->choices[j].key, v.my_answer) == 0)
                ui->answers[k].choice = (int)j;
        snprintf(tc->sent_cp, sizeof tc->sent_cp, "%s", cp->id);
    }
    /* ... and one given in the ladder goes to the instructor. */
    for (size_t k = 0; v.cp_open && k < ui->nanswers && ui->lesson; k++) {
        const nc_checkpoint_t *cp = &ui->lesson->checkpoints[k];
        if (ui->answers[k].choice < 0 || strcmp(cp->id, v.cp_id) != 0 ||
            strcmp(tc->sent_cp, cp->id) == 0 || (size_t)ui->answers[k].choice >= cp->nchoices)
            continue;
        char line[128];
        snprintf(line, sizeof line, "answer %s %s", cp->id, cp->choices[ui->answers[k].choice].key);
        nc_class_client_command(ui->join, line);
        snprintf(tc->sent_cp, sizeof tc->sent_cp, "%s", cp->id);
    }
    if (!v.connected)
        snprintf(ui->class_line, sizeof ui->class_line, "class: %.140s", v.status);
    else if (v.cp_open && !v.my_answer[0])
        snprintf(ui->class_line, sizeof ui->class_line,
                 "checkpoint \"%s\" open: press its letter to answer", v.cp_id);
    else if (v.cp_open)
        snprintf(ui->class_line, sizeof ui->class_line, "answered %s; waiting for the reveal",
                 v.my_answer);
    else if (v.following)
        snprintf(ui->class_line, sizeof ui->class_line, "following instructor (u: explore)%s",
                 tc->hand ? "; hand raised (H: lower)" : "");
    else
        snprintf(ui->class_line, sizeof ui->class_line, "exploring on your own (u or F: follow)%s",
                 tc->hand ? "; hand raised (H: lower)" : "");
    unsigned long h = nc_cv_str(14695981039346656037ul, ui->class_line);
    h = nc_cv_mix(h, (unsigned long)v.page * 131 + (unsigned long)v.step);
    h = nc_cv_str(h, v.revealed);
    h = nc_cv_str(h, ui->class_box);
    for (int k = 0; k < v.ncps; k++) {
        h = nc_cv_mix(h, (unsigned long)(v.cps[k].asked_at + 1) * 8191 +
                             (unsigned long)(v.cps[k].decided_at + 1));
        h = nc_cv_str(h, v.cps[k].answer);
    }
    if (v.tl)
        h = nc_cv_mix(h, nc_timeline_count(v.tl));
    bool dirty = h != tc->sig;
    tc->sig = h;
    return dirty;
}

void nc_tui_class_start(nc_ui_t *ui, nc_tui_class_t *tc)
{
    memset(tc, 0, sizeof *tc);
    tc->set_page = -1;
    tc->sent_page = -1;
    tc->pending = -1;
    if (ui->teach) {
        /* The dashboard is the bottom of the stack: leaving it ends the
         * class. */
        ui->stack[0] = &nc_view_dashboard;
        ui->depth = 1;
    }
    if (ui->join)
        snprintf(ui->class_line, sizeof ui->class_line, "class: connecting");
}

bool nc_tui_class_tick(nc_ui_t *ui, nc_tui_class_t *tc)
{
    if (ui->teach)
        return nc_cv_teach_tick(ui, tc);
    if (ui->join)
        return nc_cv_join_tick(ui, tc);
    return false;
}

int nc_tui_class_key(nc_ui_t *ui, nc_tui_class_t *tc, int key)
{
    if (nc_ui_top(ui)->input)
        return 0; /* a prompt takes every key as text, class keys too */
    if (nc_ui_top(ui) == &nc_view_classbox)
        return nc_cv_box_key(ui, tc, key);
    if (ui->teach && nc_ui_top(ui) == &nc_view_dashboard && nc_key_action(key) == NC_ACT_QUIT) {
        nc_class_snapshot_t s;
        nc_class_server_snapshot(ui->teach, &s);
        size_t n = s.nconnected;
        nc_class_snapshot_done(&s);
        if (n == 0)
            return 0;
        nc_cv_box(ui, false,
                  "End the class? %zu student%s connected; they will be told the class has "
                  "ended. y: end it, any other key: go on teaching.",
                  n, n == 1 ? " is" : "s are");
        return NC_VIEW_HANDLED | NC_VIEW_REDRAW;
    }
    if (!ui->join)
        return 0;
    nc_class_view_t v;
    nc_cv_view(ui, tc, &v);
    if (key == 'u') {
        nc_cv_follow(ui, tc, !v.following);
        if (!v.following) {
            ui->page = v.page;
            tc->set_page = v.page;
        } else {
            tc->set_page = -1;
        }
        return NC_VIEW_HANDLED | NC_VIEW_REDRAW;
    }
    if (nc_key_action(key) == NC_ACT_LIVE) {
        /* Back to the instructor: their page, and the ladder's live edge. */
        nc_cv_follow(ui, tc, true);
        ui->page = v.page;
        tc->set_page = v.page;
        return 0;
    }
    if (nc_key_action(key) == NC_ACT_HAND) {
        tc->hand = !tc->hand;
        nc_class_client_command(ui->join, tc->hand ? "hand" : "hand down");
        return NC_VIEW_HANDLED | NC_VIEW_REDRAW;
    }
    nc_action_t act = nc_key_action(key);
    if (v.cp_open && key >= 'a' && key <= 'h' && (act == NC_ACT_NONE || act == NC_ACT_ANSWER)) {
        char line[96];
        snprintf(line, sizeof line, "answer %s %c", v.cp_id, key);
        nc_class_client_command(ui->join, line);
        return NC_VIEW_HANDLED | NC_VIEW_REDRAW;
    }
    return 0;
}
