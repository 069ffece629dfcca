/*
 * help.c: the key help overlay.
 *
 * Drawn on top of whatever view is below it, in a centred frame. Every line
 * comes from the key table (keys.c): each action with all the keys bound to
 * it and its help sentence, so the help can never disagree with the keys.
 * When the terminal is too short for every line, the list scrolls (up and
 * down) and its last row says that more follows.
 */
#include "ui.h"

static void nc_help_draw(nc_canvas_t *c, nc_ui_t *ui)
{
    int rows = NC_ACT__COUNT - 1;
    int bw = c->w - 4 < 72 ? c->w - 4 : 72;
    int bh = rows + 4;
    if (bh > c->h - 1)
        bh = c->h - 1;
    int by = (c->h - 1 - bh) / 2, bx = (c->w - bw) / 2;
    nc_canvas_fill(c, by, bx, bh, bw, ' ', NC_PLAIN);
    nc_canvas_box(c, by, bx, bh, bw, NC_STYLE(0, NC_ROLE_ACCENT));
    nc_canvas_text(c, by, bx + 2, " Keys ", NC_STYLE(NC_A_BOLD, NC_ROLE_ACCENT));
    int y = by + 2;
    int fit = bh - 3; /* rows between the title row and the bottom edge */
    int max_scroll = rows > fit ? rows - (fit - 1) : 0;
    if (ui->help_scroll > max_scroll)
        ui->help_scroll = max_scroll;
    if (ui->help_scroll < 0)
        ui->help_scroll = 0;
    int first = NC_ACT_NONE + 1 + ui->help_scroll;
    int last = max_scroll ? first + fit - 1 : NC_ACT__COUNT; /* one row for "more" */
    if (max_scroll && ui->help_scroll == max_scroll)
        last = NC_ACT__COUNT;
    for (int a = first; a < NC_ACT__COUNT && a < last && y < by + bh - 1; a++, y++) {
        char keys[64];
        nc_action_keys((nc_action_t)a, " ", keys, sizeof keys, ui->utf8);
        nc_canvas_textn(c, y, bx + 2, 16, keys, NC_STYLE(NC_A_BOLD, NC_ROLE_NORMAL), true);
        nc_canvas_textn(c, y, bx + 19, bw - 21, nc_action_help((nc_action_t)a), NC_PLAIN, true);
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
    if (a == NC_ACT_DOWN || a == NC_ACT_UP) {
        ui->help_scroll += a == NC_ACT_DOWN ? 1 : -1; /* clamped when drawn */
        return NC_VIEW_HANDLED | NC_VIEW_REDRAW;
    }
    return NC_VIEW_HANDLED;
}

static const nc_action_t nc_help_footer[] = {NC_ACT_HELP, NC_ACT_BACK, NC_ACT_NONE};

const nc_view_t nc_view_help = {
    .name = "help",
    .draw = nc_help_draw,
    .key = nc_help_key,
    .footer = nc_help_footer,
    .overlay = true,
};
