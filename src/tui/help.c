/*
 * help.c: the help overlay: the legend of the screen below, then every key.
 *
 * Drawn on top of whatever view is below it, in a centred frame. It opens
 * with that view's legend (nc_view_t.legend: each mark drawn as the view
 * draws it, with what it means), then lists every action of the key table
 * (keys.c) with all the keys bound to it and its help sentence, so the
 * help can never disagree with the keys; the shell key (!) is listed only
 * while it works (ui->shell_host: a finished run's lab is up). The rows
 * are built on every draw
 * into a small array; when the terminal is too short for all of them, the
 * list scrolls (up and down) and its last row says that more follows.
 */
#include "ui.h"

#include <stdio.h>
#include <string.h>

enum { NC_HELP_ROWS = 2 * NC_ACT__COUNT + 64 };

typedef struct nc_help_row {
    char left[64];
    nc_style_t lst;
    const char *right; /* "" on a heading */
    int rlen;          /* bytes of right on this row */
    nc_style_t rst;
} nc_help_row_t;

/* Adds rows for a sentence wrapped at width columns (ASCII text), the
 * first with the left cell; returns the new row count. */
static int nc_help_add(nc_help_row_t *rows, int n, const char *left, nc_style_t lst,
                       const char *right, nc_style_t rst, int width)
{
    bool first = true;
    do {
        int len = (int)strlen(right);
        if (len > width) {
            len = width;
            while (len > 0 && right[len] != ' ')
                len--;
            if (len == 0)
                len = width;
        }
        if (n >= NC_HELP_ROWS)
            return n;
        nc_help_row_t *r = &rows[n++];
        snprintf(r->left, sizeof r->left, "%s", first ? left : "");
        r->lst = lst;
        r->right = right;
        r->rlen = len;
        r->rst = rst;
        right += len;
        while (*right == ' ')
            right++;
        first = false;
    } while (*right);
    return n;
}

static int nc_help_rows(const nc_canvas_t *c, const nc_view_t *below, bool shell,
                        nc_help_row_t *rows, int width)
{
    int n = 0;
    const nc_style_t head = NC_STYLE(NC_A_BOLD, NC_ROLE_ACCENT);
    if (below && below->legend) {
        char title[64];
        snprintf(title, sizeof title, "On this screen (%s)", below->name);
        n = nc_help_add(rows, n, title, head, "", NC_PLAIN, width);
        for (const nc_legend_t *l = below->legend; l->meaning; l++)
            n = nc_help_add(rows, n, c->utf8 ? l->utf8 : l->ascii, l->st, l->meaning, NC_PLAIN,
                            width);
        n = nc_help_add(rows, n, "", NC_PLAIN, "", NC_PLAIN, width);
    }
    n = nc_help_add(rows, n, "Keys", head, "", NC_PLAIN, width);
    nc_action_t acts[NC_ACT__COUNT];
    size_t na = nc_key_actions(acts);
    for (size_t i = 0; i < na; i++) {
        /* The shell key is listed only while it works. */
        if (acts[i] == NC_ACT_SHELL && !shell)
            continue;
        char keys[64];
        nc_action_keys(acts[i], " ", keys, sizeof keys, c->utf8);
        n = nc_help_add(rows, n, keys, NC_STYLE(NC_A_BOLD, NC_ROLE_NORMAL),
                        nc_action_help(acts[i]), NC_PLAIN, width);
    }
    return n;
}

static void nc_help_draw(nc_canvas_t *c, nc_ui_t *ui)
{
    const nc_view_t *below = ui->depth >= 2 ? ui->stack[ui->depth - 2] : NULL;
    nc_help_row_t rows[NC_HELP_ROWS];
    int bw = c->w - 4 < 76 ? c->w - 4 : 76;
    int nrows = nc_help_rows(c, below, ui->shell_host != NULL, rows, bw - 21);
    int bh = nrows + 3;
    if (bh > c->h - 1)
        bh = c->h - 1;
    int by = (c->h - 1 - bh) / 2, bx = (c->w - bw) / 2;
    nc_canvas_fill(c, by, bx, bh, bw, ' ', NC_PLAIN);
    nc_canvas_box(c, by, bx, bh, bw, NC_STYLE(0, NC_ROLE_ACCENT));
    nc_canvas_text(c, by, bx + 2, " Help: legend and keys ", NC_STYLE(NC_A_BOLD, NC_ROLE_ACCENT));
    int y = by + 1;
    int fit = bh - 2; /* rows inside the frame */
    int max_scroll = nrows > fit ? nrows - (fit - 1) : 0;
    if (ui->help_scroll > max_scroll)
        ui->help_scroll = max_scroll;
    if (ui->help_scroll < 0)
        ui->help_scroll = 0;
    int first = ui->help_scroll;
    int last = max_scroll && ui->help_scroll < max_scroll ? first + fit - 1 : nrows;
    for (int i = first; i < nrows && i < last && y < by + bh - 1; i++, y++) {
        const nc_help_row_t *r = &rows[i];
        if (!r->right[0]) { /* a heading */
            nc_canvas_text(c, y, bx + 2, r->left, r->lst);
            continue;
        }
        char text[128];
        snprintf(text, sizeof text, "%.*s", r->rlen, r->right);
        nc_canvas_textn(c, y, bx + 2, 16, r->left, r->lst, true);
        nc_canvas_textn(c, y, bx + 19, bw - 21, text, r->rst, true);
    }
    if (max_scroll && ui->help_scroll < max_scroll && y < by + bh - 1)
        nc_canvas_text(c, y, bx + 2, ui->utf8 ? "↓ more" : "Down: more",
                       NC_STYLE(0, NC_ROLE_MUTED));
}

static int nc_help_key(nc_ui_t *ui, nc_action_t a, int key)
{
    /* Any key closes the help; Esc and q are handled by the stack. */
    if (a == NC_ACT_BACK || a == NC_ACT_QUIT || a == NC_ACT_OPEN) {
        nc_ui_pop(ui);
        ui->help_scroll = 0;
        return NC_VIEW_HANDLED | NC_VIEW_REDRAW;
    }
    if (a == NC_ACT_DOWN || a == NC_ACT_UP || a == NC_ACT_PGDN || a == NC_ACT_PGUP) {
        int by = a == NC_ACT_PGDN || a == NC_ACT_PGUP ? (ui->h > 8 ? ui->h - 6 : 1) : 1;
        ui->help_scroll += a == NC_ACT_DOWN || a == NC_ACT_PGDN ? by : -by; /* clamped when drawn */
        return NC_VIEW_HANDLED | NC_VIEW_REDRAW;
    }
    return NC_VIEW_HANDLED;
}

static const nc_action_t nc_help_footer[] = {NC_ACT_DOWN, NC_ACT_PGDN, NC_ACT_HELP, NC_ACT_BACK,
                                             NC_ACT_NONE};

const nc_view_t nc_view_help = {
    .name = "help",
    .draw = nc_help_draw,
    .key = nc_help_key,
    .footer = nc_help_footer,
    .overlay = true,
};
