/*
 * compare.c: the run's comparison table on screen.
 *
 * A lesson that compares ways of doing one thing (a `compare` block) ends
 * its run with a note event holding the numbers (src/scenario/compare.c).
 * This view reads that note back from the ladder's timeline and draws it
 * side by side: one column per way, one row per measure, the smallest
 * value of each row in bold. It opens by itself once, when the ladder of
 * a finished live run first shows the note (after the last checkpoint is
 * answered), and with T from the ladder; Esc goes back.
 *
 * Data model: nothing is kept. Every draw finds the note among the last
 * events of the timeline (there are a handful after it at most) and
 * reads it into an nc_compare_table_t, a value on the stack.
 */
#include "tui.h"
#include "ui.h"

#include "../scenario/compare.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* The comparison note of the ladder's source, or NULL. */
static const nc_event_t *nc_compare_view_note(nc_ui_t *ui)
{
    return ui->src.tl ? nc_compare_find(ui->src.tl, nc_ui_visible(ui)) : NULL;
}

bool nc_compare_view_open(nc_ui_t *ui)
{
    if (!nc_compare_view_note(ui))
        return false;
    if (nc_ui_top(ui) != &nc_view_compare)
        nc_ui_push(ui, &nc_view_compare);
    return true;
}

bool nc_compare_view_tick(nc_ui_t *ui)
{
    if (ui->compare_shown || nc_ui_top(ui) != &nc_view_ladder || !nc_compare_view_note(ui))
        return false;
    ui->compare_shown = true;
    return nc_compare_view_open(ui);
}

/* The rows of the table: what each measure is called, and how a row's
 * value is read and written. */
static const struct {
    const char *name;
    size_t off;
    bool time; /* nanoseconds, shown in ms */
} nc_compare_view_rows[] = {
    {"requests", offsetof(nc_compare_row_t, requests), false},
    {"empty answers", offsetof(nc_compare_row_t, empty), false},
    {"connections", offsetof(nc_compare_row_t, connections), false},
    {"round trips", offsetof(nc_compare_row_t, round_trips), false},
    {"packets", offsetof(nc_compare_row_t, packets), false},
    {"bytes on the wire", offsetof(nc_compare_row_t, bytes), false},
    {"time", offsetof(nc_compare_row_t, time_ns), true},
    {"time to first byte", offsetof(nc_compare_row_t, first_byte_ns), true},
};

static int64_t nc_compare_view_value(const nc_compare_row_t *r, size_t k)
{
    return *(const int64_t *)((const char *)r + nc_compare_view_rows[k].off);
}

static void nc_compare_view_draw(nc_canvas_t *c, nc_ui_t *ui)
{
    const nc_event_t *ev = nc_compare_view_note(ui);
    nc_compare_table_t t;
    if (!ev || !nc_compare_from_event(ev, &t)) {
        nc_ui_title(c, 0, "Comparison", NULL);
        nc_canvas_wrap(c, 3, 2, 3, c->w - 4,
                       "This run has no comparison: only lessons that compare ways of doing "
                       "one thing end with one.",
                       NC_STYLE(0, NC_ROLE_MUTED));
        return;
    }
    char right[64];
    snprintf(right, sizeof right, "event #%" PRIu64 ", end of run", ev->i);
    char title[200];
    snprintf(title, sizeof title, "Comparison: %s", t.title);
    nc_ui_title(c, 0, title, right);
    nc_canvas_hline(c, 1, 0, c->w, NC_STYLE(0, NC_ROLE_MUTED));
    /* The names take 20 columns; the ways share the rest. */
    int lw = 20, n = (int)(t.nrows ? t.nrows : 1);
    int cw = (c->w - 3 - lw) / n;
    if (cw > 20)
        cw = 20;
    int y = 3;
    for (size_t w = 0; w < t.nrows; w++) {
        const char *label = t.rows[w].label;
        int len = (int)strlen(label);
        int x = 3 + lw + (int)w * cw + (len < cw - 1 ? cw - 1 - len : 0);
        nc_canvas_textn(c, y, x, cw - 1, label, NC_STYLE(NC_A_BOLD, NC_ROLE_ACCENT), true);
    }
    y++;
    for (size_t k = 0; k < sizeof nc_compare_view_rows / sizeof nc_compare_view_rows[0]; k++, y++) {
        int64_t least = INT64_MAX, most = INT64_MIN;
        for (size_t w = 0; w < t.nrows; w++) {
            int64_t v = nc_compare_view_value(&t.rows[w], k);
            least = v < least ? v : least;
            most = v > most ? v : most;
        }
        nc_canvas_textn(c, y, 3, lw, nc_compare_view_rows[k].name, NC_STYLE(0, NC_ROLE_MUTED),
                        true);
        for (size_t w = 0; w < t.nrows; w++) {
            int64_t v = nc_compare_view_value(&t.rows[w], k);
            char cell[32];
            if (nc_compare_view_rows[k].time)
                snprintf(cell, sizeof cell, "%.1f ms", (double)v / 1e6);
            else
                snprintf(cell, sizeof cell, "%" PRId64, v);
            /* With two ways or more, the fewest of each row stands out. */
            bool best = t.nrows > 1 && v == least && least != most;
            nc_canvas_printf(c, y, 3 + lw + (int)w * cw,
                             best ? NC_STYLE(NC_A_BOLD, NC_ROLE_OK) : NC_PLAIN, "%*s", cw - 1,
                             cell);
        }
    }
    nc_canvas_hline(c, y + 1, 0, c->w, NC_STYLE(0, NC_ROLE_MUTED));
    nc_canvas_wrap(c, y + 2, 1, 3, c->w - 2,
                   "Counted from this run's own packets, one column for each program's "
                   "connections. Round trips: every handshake, and every request sent while none "
                   "was outstanding. Time: first packet to last answer.",
                   NC_STYLE(0, NC_ROLE_MUTED));
}

static int nc_compare_view_key(nc_ui_t *ui, nc_action_t a, int key)
{
    if (a != NC_ACT_TABLE)
        return 0;
    nc_ui_pop(ui);
    return NC_VIEW_HANDLED | NC_VIEW_REDRAW;
}

static const nc_action_t nc_compare_view_footer[] = {NC_ACT_HELP, NC_ACT_BACK, NC_ACT_NONE};

static const nc_legend_t nc_compare_view_legend[] = {
    {"12", "12", NC_STYLE(NC_A_BOLD, NC_ROLE_OK), "the fewest of its row, when the ways differ"},
    {"short polling", "short polling", NC_STYLE(NC_A_BOLD, NC_ROLE_ACCENT),
     "a way the lesson compares: the program that did the work that way"},
    {NULL, NULL, NC_PLAIN, NULL},
};

const nc_view_t nc_view_compare = {
    .name = "compare",
    .draw = nc_compare_view_draw,
    .key = nc_compare_view_key,
    .footer = nc_compare_view_footer,
    .legend = nc_compare_view_legend,
};
