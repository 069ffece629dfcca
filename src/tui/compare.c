/*
 * compare.c: the run's comparison table on screen.
 *
 * A lesson that compares ways of doing one thing (a `compare` block) ends
 * its run with a note event holding the numbers (src/scenario/compare.c).
 * This view reads that note back from the ladder's timeline and draws it
 * side by side: one column per way, one row per measure, the smallest
 * value of each row in bold. It opens by itself once, when the ladder of
 * a finished live run first shows the note (after the last checkpoint is
 * answered), and with T from the ladder; Esc goes back. `s` writes the
 * table as an SVG chart (compare_svg.c) to a new file in the current
 * directory, as the ladder's `s` saves a run.
 *
 * Data model: nothing is kept. Every draw finds the note among the last
 * events of the timeline (there are a handful after it at most) and
 * reads it into an nc_compare_table_t, a value on the stack.
 */
#include "tui.h"
#include "ui.h"

#include "../scenario/compare.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Writes an SVG document (svg, borrowed) to a new file in the current
 * directory named after what (`netcourse-compare-WHAT-STAMP.svg`) and
 * says where, or why not, in the banner. */
static void nc_compare_view_save(nc_ui_t *ui, const char *what, const nc_buf_t *svg)
{
    char stamp[32], path[200];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    snprintf(path, sizeof path, "netcourse-compare-%.64s-%s.svg", what, stamp);
    FILE *f = fopen(path, "w");
    bool ok = f && fwrite(svg->data, 1, svg->len, f) == svg->len;
    int e = errno;
    if (f && fclose(f) != 0 && ok) {
        ok = false;
        e = errno;
    }
    if (ok)
        snprintf(ui->banner, sizeof ui->banner, "The chart is in %s (SVG).", path);
    else
        snprintf(ui->banner, sizeof ui->banner, "The chart was not written to %s: %s", path,
                 strerror(e));
}

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
    /* The names take 30 columns; the ways share the rest. */
    int lw = 30, n = (int)(t.nrows ? t.nrows : 1);
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
    for (size_t k = 0; k < nc_compare_nmeasures; k++, y++) {
        int64_t least = INT64_MAX, most = INT64_MIN;
        for (size_t w = 0; w < t.nrows; w++) {
            int64_t v = nc_compare_value(&t.rows[w], k);
            least = v < least ? v : least;
            most = v > most ? v : most;
        }
        nc_canvas_textn(c, y, 3, lw, nc_compare_measures[k].name, NC_STYLE(0, NC_ROLE_MUTED),
                        true);
        for (size_t w = 0; w < t.nrows; w++) {
            int64_t v = nc_compare_value(&t.rows[w], k);
            char cell[32];
            if (nc_compare_measures[k].time)
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
    const nc_event_t *ev = nc_compare_view_note(ui);
    nc_compare_table_t t;
    if (a == NC_ACT_SAVE && ev && nc_compare_from_event(ev, &t)) {
        nc_buf_t svg;
        nc_buf_init(&svg);
        nc_compare_svg_table(&t, &svg);
        nc_compare_view_save(ui, t.id, &svg);
        nc_buf_done(&svg);
        return NC_VIEW_HANDLED | NC_VIEW_REDRAW;
    }
    if (a != NC_ACT_TABLE)
        return 0;
    nc_ui_pop(ui);
    return NC_VIEW_HANDLED | NC_VIEW_REDRAW;
}

static const nc_action_t nc_compare_view_footer[] = {NC_ACT_HELP, NC_ACT_SAVE, NC_ACT_BACK,
                                                     NC_ACT_NONE};
static const nc_view_label_t nc_compare_view_labels[] = {{NC_ACT_SAVE, "save SVG"},
                                                         {NC_ACT_NONE, NULL}};

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
    .labels = nc_compare_view_labels,
};

/* ---- two saved runs side by side (`netcourse compare A B`) ----
 *
 * ui->pair holds the two measured runs (borrowed from the command). The
 * view draws them on one time axis, each aligned on its own first packet:
 * a lane per connection (as many as fit), a cell per slice of the axis
 * showing the most telling packet in it ('x' dropped, '>' sent by the
 * client side with data, '<' received with data, '.' a bare segment), a
 * line under each run with F at its first answer and L at its last, then
 * the axis and the summary, the measures where the runs differ in bold.
 * `s` writes the same chart as `compare --svg` to a new file in the
 * current directory.
 */

/* The character of one axis cell: the most telling of its packets. */
static char nc_pair_cell(unsigned flags, char now)
{
    static const char rank[] = " .<>x";
    char c = flags & NC_COMPARE_DROPPED                   ? 'x'
             : !(flags & (NC_COMPARE_DATA | NC_COMPARE_ANSWER)) ? '.'
             : flags & NC_COMPARE_SENT                    ? '>'
                                                          : '<';
    return strchr(rank, c) > strchr(rank, now) ? c : now;
}

/* Draws one run's lanes from row y, at most `lanes` of them; returns the
 * row after them. */
static int nc_pair_run(nc_canvas_t *c, const nc_compare_run_t *r, const char *tag, int y,
                       int lanes, int lw, int aw, double ns_per_col)
{
    nc_canvas_printf(c, y, 1, NC_STYLE(NC_A_BOLD, NC_ROLE_ACCENT), "%s: %s", tag, r->name);
    y++;
    size_t shown = 0;
    for (size_t k = 0; k < r->nconns && (int)shown < lanes; k++, shown++, y++) {
        const nc_compare_conn_t *cn = &r->conns[k];
        char row[512];
        int n = aw < (int)sizeof row - 1 ? aw : (int)sizeof row - 1;
        memset(row, ' ', (size_t)n);
        row[n] = '\0';
        for (size_t i = 0; i < cn->n; i++) {
            int x = (int)((double)(cn->pts[i].t_ns - r->start_ns) / ns_per_col);
            x = x < 0 ? 0 : x >= n ? n - 1 : x;
            row[x] = nc_pair_cell(cn->pts[i].flags, row[x]);
        }
        nc_canvas_textn(c, y, 2, lw - 2, cn->label, NC_STYLE(0, NC_ROLE_MUTED), true);
        for (int x = 0; x < n; x++) {
            if (row[x] == ' ')
                continue;
            nc_role_t role = row[x] == 'x'   ? NC_ROLE_DROPPED
                             : row[x] == '>' ? NC_ROLE_CLIENT
                             : row[x] == '<' ? NC_ROLE_SERVER
                                             : NC_ROLE_MUTED;
            nc_canvas_putc(c, y, lw + x, (uint32_t)row[x], NC_STYLE(0, role));
        }
    }
    if (shown < r->nconns)
        nc_canvas_printf(c, y++, 2, NC_STYLE(0, NC_ROLE_MUTED), "and %zu more connections",
                         r->nconns - shown);
    if (r->row.answers) {
        int f = (int)((double)r->row.first_byte_ns / ns_per_col);
        int l = (int)((double)r->row.time_ns / ns_per_col);
        nc_canvas_text(c, y, 2, "first (F), last (L) byte", NC_STYLE(0, NC_ROLE_MUTED));
        nc_canvas_putc(c, y, lw + (l < aw ? l : aw - 1), 'L', NC_STYLE(NC_A_BOLD, NC_ROLE_NOTE));
        nc_canvas_putc(c, y, lw + (f < aw ? f : aw - 1), 'F', NC_STYLE(NC_A_BOLD, NC_ROLE_OK));
        y++;
    }
    return y;
}

static void nc_pair_draw(nc_canvas_t *c, nc_ui_t *ui)
{
    const nc_compare_run_t *a = ui->pair[0], *b = ui->pair[1];
    if (!a || !b)
        return;
    char title[600];
    snprintf(title, sizeof title, "Compare: %s against %s", a->name, b->name);
    nc_ui_title(c, 0, title, "same time axis");
    nc_canvas_hline(c, 1, 0, c->w, NC_STYLE(0, NC_ROLE_MUTED));
    int lw = 28, aw = c->w - lw - 2;
    int64_t span = a->end_ns - a->start_ns;
    if (b->end_ns - b->start_ns > span)
        span = b->end_ns - b->start_ns;
    double ns_per_col = (double)(span > 0 ? span : 1) / (double)(aw - 1);
    /* The summary needs its rows; the lanes share what is left. */
    int room = c->h - 2 - (int)nc_compare_nmeasures - 10;
    int lanes = room / 2 > 1 ? room / 2 : 1;
    int y = nc_pair_run(c, a, "A", 2, lanes, lw, aw, ns_per_col);
    y = nc_pair_run(c, b, "B", y + 1, lanes, lw, aw, ns_per_col);
    /* The axis: 0 at the left, the longer run's length at the right. */
    nc_canvas_hline(c, y, lw, aw, NC_STYLE(0, NC_ROLE_MUTED));
    nc_canvas_text(c, y + 1, lw, "0 ms", NC_STYLE(0, NC_ROLE_MUTED));
    char end[32];
    snprintf(end, sizeof end, "%.1f ms", (double)span / 1e6);
    nc_canvas_text(c, y + 1, lw + aw - (int)strlen(end), end, NC_STYLE(0, NC_ROLE_MUTED));
    y += 3;
    nc_canvas_text(c, y, 43, "A", NC_STYLE(NC_A_BOLD, NC_ROLE_ACCENT));
    nc_canvas_text(c, y, 57, "B", NC_STYLE(NC_A_BOLD, NC_ROLE_ACCENT));
    y++;
    for (size_t k = 0; k < nc_compare_nmeasures && y < c->h - 1; k++, y++) {
        int64_t va = nc_compare_value(&a->row, k), vb = nc_compare_value(&b->row, k);
        nc_style_t st = va != vb ? NC_STYLE(NC_A_BOLD, NC_ROLE_NORMAL) : NC_STYLE(0, NC_ROLE_MUTED);
        nc_canvas_textn(c, y, 2, 30, nc_compare_measures[k].name, st, true);
        char ca[32], cb[32];
        if (nc_compare_measures[k].time) {
            snprintf(ca, sizeof ca, "%.1f ms", (double)va / 1e6);
            snprintf(cb, sizeof cb, "%.1f ms", (double)vb / 1e6);
        } else {
            snprintf(ca, sizeof ca, "%" PRId64, va);
            snprintf(cb, sizeof cb, "%" PRId64, vb);
        }
        nc_canvas_printf(c, y, 34, st, "%10s  %12s", ca, cb);
    }
}

static int nc_pair_key(nc_ui_t *ui, nc_action_t a, int key)
{
    (void)key;
    if (a == NC_ACT_SAVE && ui->pair[0] && ui->pair[1]) {
        nc_buf_t svg;
        nc_buf_init(&svg);
        nc_compare_svg_runs(ui->pair[0], ui->pair[1], &svg);
        nc_compare_view_save(ui, "runs", &svg);
        nc_buf_done(&svg);
        return NC_VIEW_HANDLED | NC_VIEW_REDRAW;
    }
    return a == NC_ACT_BACK || a == NC_ACT_QUIT ? NC_VIEW_HANDLED | NC_VIEW_QUIT : 0;
}

static const nc_action_t nc_pair_footer[] = {NC_ACT_HELP, NC_ACT_SAVE, NC_ACT_QUIT, NC_ACT_NONE};

static const nc_legend_t nc_pair_legend[] = {
    {">", ">", NC_STYLE(0, NC_ROLE_CLIENT), "a packet with data the client side sent"},
    {"<", "<", NC_STYLE(0, NC_ROLE_SERVER), "a packet with data the client side received"},
    {".", ".", NC_STYLE(0, NC_ROLE_MUTED), "a segment without data (SYN, ACK, FIN)"},
    {"x", "x", NC_STYLE(0, NC_ROLE_DROPPED), "a packet the wire dropped"},
    {"F", "F", NC_STYLE(NC_A_BOLD, NC_ROLE_OK), "the run's first answer (time to first byte)"},
    {"L", "L", NC_STYLE(NC_A_BOLD, NC_ROLE_NOTE), "the run's last answer (time to last byte)"},
    {NULL, NULL, NC_PLAIN, NULL},
};

const nc_view_t nc_view_pair = {
    .name = "pair",
    .draw = nc_pair_draw,
    .key = nc_pair_key,
    .footer = nc_pair_footer,
    .legend = nc_pair_legend,
    .labels = nc_compare_view_labels,
};
