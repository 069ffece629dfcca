/*
 * reader.c: the lesson reader.
 *
 * Shows page ui->page of ui->lesson, laid out by md.c at min(width - 4, 80)
 * columns and centred, scrolled by ui->scroll lines. The layout is redone
 * on every draw (a page is a few kilobytes; cmark takes microseconds), and
 * the line count is kept in ui->page_lines for the key handler. Turning a
 * page saves the position in the store, so the student resumes there.
 */
#include "md.h"
#include "topo.h"
#include "ui.h"

#include "../core/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>

/* Rows of text between the title rule and the status line. */
static int nc_reader_rows(const nc_ui_t *ui)
{
    return ui->h - 5;
}

static void nc_reader_draw(nc_canvas_t *c, nc_ui_t *ui)
{
    const nc_lesson_t *l = ui->lesson;
    if (!l) {
        nc_canvas_text(c, 2, 2, "No lesson is open.", NC_PLAIN);
        return;
    }
    if (ui->page < 0 || (size_t)ui->page >= l->npages)
        ui->page = 0;
    char title[256], right[64];
    snprintf(title, sizeof title, "%d. %s", l->number, l->title);
    snprintf(right, sizeof right, "page %d of %zu", l->npages ? ui->page + 1 : 0, l->npages);
    nc_ui_title(c, 0, title, right);
    nc_canvas_hline(c, 1, 0, c->w, NC_STYLE(0, NC_ROLE_MUTED));
    nc_topo_draw(c, 1, l);

    int width = c->w - 4 < 80 ? c->w - 4 : 80;
    int x0 = (c->w - width) / 2;
    int rows = c->h - 5;
    nc_md_t md;
    nc_md_init(&md);
    if (l->npages) {
        const nc_page_t *pg = &l->pages[ui->page];
        char *text = nc_xasprintf("# %s\n\n%s", pg->title ? pg->title : "",
                                  pg->markdown ? pg->markdown : "");
        nc_md_layout(&md, text, width, ui->utf8);
        free(text);
    }
    ui->page_lines = (int)md.nlines;
    int max_scroll = ui->page_lines > rows ? ui->page_lines - rows : 0;
    if (ui->scroll > max_scroll)
        ui->scroll = max_scroll;
    if (ui->scroll < 0)
        ui->scroll = 0;
    for (int r = 0; r < rows && (size_t)(ui->scroll + r) < md.nlines; r++) {
        const nc_md_line_t *ln = &md.lines[ui->scroll + r];
        nc_canvas_cells(c, 2 + r, x0, md.cells.v + ln->off, ln->n);
    }
    nc_md_done(&md);

    int sy = c->h - 3;
    nc_canvas_hline(c, sy, 0, c->w, NC_STYLE(0, NC_ROLE_MUTED));
    const char *hint;
    if (ui->scroll < max_scroll)
        hint = "more below: Space or j to scroll";
    else if ((size_t)ui->page + 1 < l->npages)
        hint = "Space or l: next page";
    else
        hint = "last page: press r to watch it happen live";
    nc_canvas_textn(c, sy + 1, 1, c->w - 2, hint, NC_STYLE(0, NC_ROLE_MUTED), true);
}

static void nc_reader_goto(nc_ui_t *ui, int page)
{
    const nc_lesson_t *l = ui->lesson;
    if (page < 0 || (size_t)page >= l->npages || page == ui->page)
        return;
    ui->page = page;
    ui->scroll = 0;
    if (ui->store) {
        nc_progress_t p;
        int step = nc_store_progress(ui->store, l->id, &p) == 0 ? p.step : 0;
        nc_store_set_position(ui->store, l->id, page, step);
    }
}

static int nc_reader_key(nc_ui_t *ui, nc_action_t a, int key)
{
    if (!ui->lesson)
        return 0;
    int rows = nc_reader_rows(ui);
    int max_scroll = ui->page_lines > rows ? ui->page_lines - rows : 0;
    switch (a) {
    case NC_ACT_UP:
        ui->scroll--;
        break;
    case NC_ACT_DOWN:
        ui->scroll++;
        break;
    case NC_ACT_PGUP:
        ui->scroll -= rows - 1;
        break;
    case NC_ACT_PGDN:
        ui->scroll += rows - 1;
        break;
    case NC_ACT_TOP:
        ui->scroll = 0;
        break;
    case NC_ACT_BOTTOM:
        ui->scroll = max_scroll;
        break;
    case NC_ACT_LEFT:
        nc_reader_goto(ui, ui->page - 1);
        break;
    case NC_ACT_RIGHT:
        nc_reader_goto(ui, ui->page + 1);
        break;
    case NC_ACT_NEXT:
        if (ui->scroll < max_scroll)
            ui->scroll += rows - 1;
        else
            nc_reader_goto(ui, ui->page + 1);
        break;
    case NC_ACT_RUN:
        nc_ui_push(ui, &nc_view_ladder);
        return NC_VIEW_HANDLED | NC_VIEW_REDRAW | NC_VIEW_RUN;
    default:
        return 0;
    }
    if (ui->scroll > max_scroll)
        ui->scroll = max_scroll;
    if (ui->scroll < 0)
        ui->scroll = 0;
    return NC_VIEW_HANDLED | NC_VIEW_REDRAW;
}

static const nc_action_t nc_reader_footer[] = {
    NC_ACT_LEFT, NC_ACT_RIGHT, NC_ACT_DOWN, NC_ACT_RUN, NC_ACT_HELP, NC_ACT_BACK, NC_ACT_NONE,
};

const nc_view_t nc_view_reader = {
    .name = "reader",
    .draw = nc_reader_draw,
    .key = nc_reader_key,
    .footer = nc_reader_footer,
    .legend = nc_legend_reader,
};
