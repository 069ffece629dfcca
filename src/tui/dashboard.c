/*
 * dashboard.c: the instructor's view of a live class.
 *
 * Drawn from one snapshot of the class server (classroom/server.h) per
 * frame: the join code and port to project, the certificate fingerprint
 * students can compare, where the class is (page, step, run), the roster
 * (name, connected, page and step, answered, raised hand, following) and
 * the open checkpoint's live tally: each choice's key and text, with a bar
 * of its answers. Keys only queue instructor
 * commands; the class thread does the work and the next snapshot shows it.
 */
#include "ui.h"

#include "../classroom/server.h"

#include <stdio.h>
#include <string.h>

static void nc_dash_cmd(nc_ui_t *ui, const char *fmt, int n)
{
    char line[64];
    snprintf(line, sizeof line, fmt, n);
    nc_class_server_command(ui->teach, line);
}

static void nc_dash_roster(nc_canvas_t *c, const nc_class_snapshot_t *s, int y, int w, int h)
{
    char head[96];
    snprintf(head, sizeof head, "Students: %zu connected of %zu", s->nconnected, s->nstudents);
    nc_canvas_text(c, y, 1, head, NC_STYLE(NC_A_BOLD, NC_ROLE_ACCENT));
    nc_canvas_text(c, y + 1, 1, "name              state      page step answered hand",
                   NC_STYLE(0, NC_ROLE_MUTED));
    int rows = h - 2;
    for (size_t k = 0; k < s->nstudents && (int)k < rows; k++) {
        const nc_class_student_info_t *st = &s->students[k];
        if ((int)k == rows - 1 && s->nstudents > (size_t)rows) {
            nc_canvas_printf(c, y + 2 + (int)k, 1, NC_STYLE(0, NC_ROLE_MUTED), "... and %zu more",
                             s->nstudents - k);
            break;
        }
        const char *state = !st->connected ? "offline"
                            : st->lagging  ? "catching up"
                            : st->following ? "following"
                                            : "exploring";
        char line[128];
        snprintf(line, sizeof line, "%-17.17s %-10s %4d %4d %-8s %s", st->name, state,
                 st->page + 1, st->step + 1, st->answered ? st->answer : "-",
                 st->hand ? "raised" : "");
        nc_canvas_textn(c, y + 2 + (int)k, 1, w - 2, line,
                        NC_STYLE(0, st->connected ? (st->hand ? NC_ROLE_ACCENT : NC_ROLE_NORMAL)
                                                  : NC_ROLE_MUTED),
                        true);
    }
}

static void nc_dash_tally(nc_canvas_t *c, const nc_ui_t *ui, const nc_class_snapshot_t *s, int y,
                          int x, int w)
{
    if (s->mode == NC_CLASS_LOCKSTEP) {
        nc_canvas_text(c, y, x, "Runs", NC_STYLE(NC_A_BOLD, NC_ROLE_ACCENT));
        nc_canvas_textn(c, y + 1, x, w, s->results[0] ? s->results : "no results yet", NC_PLAIN,
                        true);
        y += 3;
    }
    if (!s->checkpoint[0]) {
        nc_canvas_textn(c, y, x, w, "No checkpoint opened yet: Enter opens the next one.",
                        NC_STYLE(0, NC_ROLE_MUTED), true);
        return;
    }
    const nc_checkpoint_t *cp = NULL;
    for (size_t k = 0; ui->lesson && k < ui->lesson->ncheckpoints; k++)
        if (strcmp(ui->lesson->checkpoints[k].id, s->checkpoint) == 0)
            cp = &ui->lesson->checkpoints[k];
    char head[128];
    snprintf(head, sizeof head, "Checkpoint \"%s\" %s", s->checkpoint,
             s->cp_open ? "(open)" : "(revealed)");
    nc_canvas_text(c, y, x, head, NC_STYLE(NC_A_BOLD, NC_ROLE_ACCENT));
    int used = cp ? nc_canvas_wrap(c, y + 1, x, 3, w, cp->question, NC_PLAIN) : 0;
    y += 2 + (used > 0 ? used : 1);
    int max = 1;
    for (int j = 0; j < s->nchoices; j++)
        if (s->counts[j] > max)
            max = s->counts[j];
    /* Each choice: its key and text, then its bar and count below. */
    int barw = w - 8 > 0 ? w - 8 : 1;
    for (int j = 0; j < s->nchoices; j++, y += 2) {
        bool right = s->right == j;
        int kx = nc_canvas_printf(c, y, x, NC_STYLE(NC_A_BOLD, right ? NC_ROLE_OK : NC_ROLE_NORMAL),
                                  "%s)", s->keys[j]);
        if (cp && (size_t)j < cp->nchoices)
            nc_canvas_textn(c, y, kx + 1, w - (kx + 1 - x), cp->choices[j].text,
                            NC_STYLE(0, right ? NC_ROLE_OK : NC_ROLE_NORMAL), true);
        int n = s->counts[j] * barw / max;
        nc_canvas_fill(c, y + 1, x + 3, 1, n, ' ',
                       NC_STYLE(NC_A_REVERSE, right ? NC_ROLE_OK : NC_ROLE_ACCENT));
        nc_canvas_printf(c, y + 1, x + 4 + n, NC_PLAIN, "%d", s->counts[j]);
    }
    nc_canvas_printf(c, y, x, NC_STYLE(0, NC_ROLE_MUTED), "%d answered of %zu", s->answered,
                     s->nconnected);
    if (s->right >= 0 && cp && (size_t)s->right < cp->nchoices)
        nc_canvas_printf(c, y + 1, x, NC_STYLE(NC_A_BOLD, NC_ROLE_OK), "The run showed %s)",
                         cp->choices[s->right].key);
    else if (!s->cp_open)
        nc_canvas_text(c, y + 1, x, "No run has decided it yet.", NC_STYLE(0, NC_ROLE_MUTED));
}

static void nc_dash_draw(nc_canvas_t *c, nc_ui_t *ui)
{
    if (!ui->teach)
        return;
    nc_class_snapshot_t s;
    nc_class_server_snapshot(ui->teach, &s);
    const nc_lesson_t *l = ui->lesson;
    char title[128], right[96];
    snprintf(title, sizeof title, "Class: %s (%s)", l ? l->title : "?",
             s.mode == NC_CLASS_WATCH ? "watch" : "lockstep");
    snprintf(right, sizeof right, "join code %s  port %d", nc_class_server_code(ui->teach),
             nc_class_server_port(ui->teach));
    nc_ui_title(c, 0, title, right);
    nc_canvas_printf(c, 1, 1, NC_STYLE(0, NC_ROLE_MUTED), "certificate %s",
                     nc_class_server_fingerprint(ui->teach));
    char where[200];
    snprintf(where, sizeof where, "Page %d/%zu: %s   Step %d/%zu   %s", s.page + 1,
             l ? l->npages : 0, l && l->npages ? l->pages[s.page].title : "", s.step + 1,
             l ? l->nsteps : 0,
             s.run == 0      ? "No run yet"
             : s.run_active ? "Run in progress"
                            : "Run finished");
    nc_canvas_textn(c, 2, 1, c->w - 2, where, NC_PLAIN, true);
    nc_canvas_hline(c, 3, 0, c->w, NC_STYLE(0, NC_ROLE_MUTED));
    int split = c->w * 3 / 5;
    nc_dash_roster(c, &s, 4, split, c->h - 5);
    nc_canvas_vline(c, 4, split, c->h - 5, NC_STYLE(0, NC_ROLE_MUTED));
    nc_dash_tally(c, ui, &s, 4, split + 2, c->w - split - 3);
    nc_class_snapshot_done(&s);
}

static int nc_dash_key(nc_ui_t *ui, nc_action_t a, int key)
{
    if (!ui->teach || !ui->lesson)
        return 0;
    nc_class_snapshot_t s;
    nc_class_server_snapshot(ui->teach, &s);
    int flags = NC_VIEW_HANDLED | NC_VIEW_REDRAW;
    switch (a) {
    case NC_ACT_LEFT:
        if (s.page > 0)
            nc_dash_cmd(ui, "page %d", s.page);
        break;
    case NC_ACT_RIGHT:
        if ((size_t)s.page + 1 < ui->lesson->npages)
            nc_dash_cmd(ui, "page %d", s.page + 2);
        break;
    case NC_ACT_NEXT:
        if ((size_t)s.step + 1 < ui->lesson->nsteps)
            nc_dash_cmd(ui, "step %d", s.step + 2);
        break;
    case NC_ACT_RUN:
        nc_class_server_command(ui->teach, "run");
        break;
    case NC_ACT_OPEN:
        if (s.cp_open) {
            nc_class_server_command(ui->teach, "reveal");
        } else if ((size_t)ui->class_cp < ui->lesson->ncheckpoints) {
            char line[96];
            snprintf(line, sizeof line, "open %s", ui->lesson->checkpoints[ui->class_cp++].id);
            nc_class_server_command(ui->teach, line);
        }
        break;
    case NC_ACT_TAB:
        nc_ui_push(ui, &nc_view_ladder);
        break;
    default:
        flags = 0;
    }
    nc_class_snapshot_done(&s);
    return flags;
}

static const nc_action_t nc_dash_footer[] = {
    NC_ACT_LEFT, NC_ACT_RIGHT, NC_ACT_NEXT, NC_ACT_OPEN, NC_ACT_RUN, NC_ACT_TAB, NC_ACT_QUIT,
    NC_ACT_NONE,
};

/* What the keys do here, in the words of the man page's `teach`. */
static const nc_view_label_t nc_dash_labels[] = {
    {NC_ACT_LEFT, "prev page"},   {NC_ACT_RIGHT, "next page"}, {NC_ACT_NEXT, "next step"},
    {NC_ACT_OPEN, "open/reveal"}, {NC_ACT_TAB, "timeline"},    {NC_ACT_QUIT, "end class"},
    {NC_ACT_NONE, NULL},
};

const nc_view_t nc_view_dashboard = {
    .name = "dashboard",
    .draw = nc_dash_draw,
    .key = nc_dash_key,
    .footer = nc_dash_footer,
    .labels = nc_dash_labels,
};
