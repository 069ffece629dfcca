/*
 * map.c: the course map.
 *
 * The map lists the course's lessons (course->lessons, sorted by number)
 * under their part headings, each with a progress mark from the store: done,
 * started or not started. ui->map_sel is the index of the selected lesson;
 * rows are computed on every draw (a part heading before the first lesson
 * of each part), and the list scrolls just enough to keep the selection in
 * view. Below the list, the selected lesson's summary and progress.
 */
#include "ui.h"

#include <stdio.h>
#include <string.h>

static bool nc_map_progress(nc_ui_t *ui, const nc_lesson_t *l, nc_progress_t *p)
{
    memset(p, 0, sizeof *p);
    return ui->store && nc_store_progress(ui->store, l->id, p) == 0;
}

static void nc_map_mark(nc_canvas_t *c, nc_ui_t *ui, const nc_lesson_t *l, int y, int x)
{
    nc_progress_t p;
    nc_map_progress(ui, l, &p);
    if (p.completed)
        nc_canvas_text(c, y, x, nc_canvas_glyph(c, NC_G_CHECK), NC_STYLE(NC_A_BOLD, NC_ROLE_OK));
    else if (p.updated > 0 || p.answered > 0 || p.run_seen)
        nc_canvas_text(c, y, x, nc_canvas_glyph(c, NC_G_HALF), NC_STYLE(0, NC_ROLE_ACCENT));
    else
        nc_canvas_text(c, y, x, nc_canvas_glyph(c, NC_G_DOT), NC_STYLE(0, NC_ROLE_MUTED));
}

/* One sentence on the student's progress in a lesson. */
static void nc_map_describe(nc_ui_t *ui, const nc_lesson_t *l, char *out, size_t len)
{
    nc_progress_t p;
    if (!nc_map_progress(ui, l, &p) || (p.updated == 0 && p.answered == 0 && !p.run_seen)) {
        snprintf(out, len, "Not started. %zu page%s, %zu checkpoint%s.", l->npages,
                 l->npages == 1 ? "" : "s", l->ncheckpoints, l->ncheckpoints == 1 ? "" : "s");
        return;
    }
    if (p.completed) {
        snprintf(out, len, "Complete: %d of %d checkpoints answered right.", p.correct,
                 p.answered);
        return;
    }
    snprintf(out, len, "Read to page %d of %zu; %d of %zu checkpoints answered%s.", p.page + 1,
             l->npages, p.answered, l->ncheckpoints,
             p.run_seen ? "; run watched" : "; run not watched yet");
}

static void nc_map_draw(nc_canvas_t *c, nc_ui_t *ui)
{
    const nc_course_t *co = ui->course;
    size_t n = co ? co->nlessons : 0;
    size_t done = 0;
    for (size_t i = 0; i < n; i++) {
        nc_progress_t p;
        if (nc_map_progress(ui, co->lessons[i], &p) && p.completed)
            done++;
    }
    char right[64];
    snprintf(right, sizeof right, "%zu lessons, %zu complete", n, done);
    nc_ui_title(c, 0, "netcourse: backend communication, watched live", right);
    nc_canvas_hline(c, 1, 0, c->w, NC_STYLE(0, NC_ROLE_MUTED));
    if (n == 0) {
        nc_canvas_text(c, 3, 2, "No lessons found.", NC_PLAIN);
        return;
    }
    if (ui->map_sel >= n)
        ui->map_sel = n - 1;

    int detail_h = 5;
    int list_y = 2, list_h = c->h - 1 - list_y - detail_h;
    /* Row of each lesson, counting part headings, to find the scroll. */
    int sel_row = 0, row = 0, prev_part = -1;
    for (size_t i = 0; i < n; i++) {
        if (co->lessons[i]->part != prev_part)
            row++, prev_part = co->lessons[i]->part;
        if (i == ui->map_sel)
            sel_row = row;
        row++;
    }
    int top = sel_row >= list_h ? sel_row - list_h + 1 : 0;

    row = 0, prev_part = -1;
    for (size_t i = 0; i < n; i++) {
        const nc_lesson_t *l = co->lessons[i];
        if (l->part != prev_part) {
            prev_part = l->part;
            int y = list_y + row - top;
            if (y >= list_y && y < list_y + list_h)
                nc_canvas_printf(c, y, 1, NC_STYLE(NC_A_BOLD, NC_ROLE_NORMAL), "Part %d: %s",
                                 l->part, l->part_title ? l->part_title : "");
            row++;
        }
        int y = list_y + row - top;
        row++;
        if (y < list_y || y >= list_y + list_h)
            continue;
        nc_map_mark(c, ui, l, y, 3);
        nc_canvas_printf(c, y, 5, NC_PLAIN, "%2d", l->number);
        int x = nc_canvas_textn(c, y, 9, c->w - 10, l->title, NC_PLAIN, true);
        if (l->summary && x + 4 < c->w - 1) {
            nc_canvas_textn(c, y, x + 2, c->w - 1 - (x + 2), l->summary,
                            NC_STYLE(0, NC_ROLE_MUTED), true);
        }
        if (i == ui->map_sel) {
            nc_canvas_text(c, y, 1, ui->utf8 ? "▸" : ">", NC_STYLE(NC_A_BOLD, NC_ROLE_ACCENT));
            nc_canvas_mark(c, y, 1, c->w - 2, NC_STYLE(NC_A_REVERSE, NC_ROLE_NORMAL));
        }
    }

    const nc_lesson_t *sel = co->lessons[ui->map_sel];
    int dy = c->h - 1 - detail_h;
    nc_canvas_hline(c, dy, 0, c->w, NC_STYLE(0, NC_ROLE_MUTED));
    nc_canvas_printf(c, dy + 1, 1, NC_STYLE(NC_A_BOLD, NC_ROLE_ACCENT), "%d. %s (%s)",
                     sel->number, sel->title, sel->id);
    nc_canvas_wrap(c, dy + 2, 1, 2, c->w - 2, sel->summary ? sel->summary : "", NC_PLAIN);
    char desc[256];
    nc_map_describe(ui, sel, desc, sizeof desc);
    nc_canvas_textn(c, dy + 4, 1, c->w - 2, desc, NC_STYLE(0, NC_ROLE_MUTED), true);
}

static int nc_map_key(nc_ui_t *ui, nc_action_t a, int key)
{
    size_t n = ui->course ? ui->course->nlessons : 0;
    if (n == 0)
        return 0;
    switch (a) {
    case NC_ACT_UP:
        if (ui->map_sel > 0)
            ui->map_sel--;
        break;
    case NC_ACT_DOWN:
        if (ui->map_sel + 1 < n)
            ui->map_sel++;
        break;
    case NC_ACT_TOP:
        ui->map_sel = 0;
        break;
    case NC_ACT_BOTTOM:
        ui->map_sel = n - 1;
        break;
    case NC_ACT_PGUP:
        ui->map_sel = ui->map_sel > 10 ? ui->map_sel - 10 : 0;
        break;
    case NC_ACT_PGDN:
        ui->map_sel = ui->map_sel + 10 < n ? ui->map_sel + 10 : n - 1;
        break;
    case NC_ACT_OPEN:
    case NC_ACT_RIGHT:
        nc_ui_open_lesson(ui, ui->course->lessons[ui->map_sel]);
        nc_ui_push(ui, &nc_view_reader);
        break;
    case NC_ACT_RUN:
        nc_ui_open_lesson(ui, ui->course->lessons[ui->map_sel]);
        nc_ui_push(ui, &nc_view_reader);
        nc_ui_push(ui, &nc_view_ladder);
        return NC_VIEW_HANDLED | NC_VIEW_REDRAW | NC_VIEW_RUN;
    default:
        return 0;
    }
    return NC_VIEW_HANDLED | NC_VIEW_REDRAW;
}

static const nc_action_t nc_map_footer[] = {
    NC_ACT_UP, NC_ACT_DOWN, NC_ACT_OPEN, NC_ACT_RUN, NC_ACT_HELP, NC_ACT_QUIT, NC_ACT_NONE,
};

const nc_view_t nc_view_map = {
    .name = "map",
    .draw = nc_map_draw,
    .key = nc_map_key,
    .footer = nc_map_footer,
    .legend = nc_legend_map,
};
