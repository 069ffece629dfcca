/*
 * toosmall.c: what a terminal below 80x24 gets.
 *
 * The other views assume 80x24; rather than draw them squeezed into
 * garbage, nc_ui_render() shows only this centred message, and how to
 * leave, until the terminal grows again. It takes no keys but q (see
 * nc_ui_key).
 */
#include "ui.h"

#include <stdio.h>
#include <string.h>

static void nc_toosmall_draw(nc_canvas_t *c, nc_ui_t *ui)
{
    char msg[96];
    snprintf(msg, sizeof msg, "terminal too small: need %dx%d, have %dx%d", NC_UI_MIN_W,
             NC_UI_MIN_H, c->w, c->h);
    const char *hint = "enlarge the window to go on, or press q to quit";
    int mw = nc_text_width(msg), hw = nc_text_width(hint);
    if (mw <= c->w && hw <= c->w && c->h >= 3) {
        nc_canvas_text(c, c->h / 2 - 1, (c->w - mw) / 2, msg, NC_STYLE(NC_A_BOLD, NC_ROLE_NORMAL));
        nc_canvas_text(c, c->h / 2, (c->w - hw) / 2, hint, NC_STYLE(0, NC_ROLE_MUTED));
        return;
    }
    snprintf(msg + strlen(msg), sizeof msg - strlen(msg), "; q quits");
    /* Narrower than the sentence: wrapped, from the left edge. */
    int lines = nc_canvas_wrap(c, 0, 0, 0, c->w, msg, NC_PLAIN);
    int y = (c->h - lines) / 2;
    nc_canvas_wrap(c, y > 0 ? y : 0, 0, c->h, c->w, msg, NC_STYLE(NC_A_BOLD, NC_ROLE_NORMAL));
}

const nc_view_t nc_view_toosmall = {
    .name = "toosmall",
    .draw = nc_toosmall_draw,
};
