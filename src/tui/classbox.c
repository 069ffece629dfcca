/*
 * classbox.c: a message of the live class over the screen.
 *
 * The class puts it up when it needs the person at the keyboard: the
 * instructor is asked before a class with students connected ends, a
 * student is told that the instructor refused the join code (and retypes
 * it in the box's input line) or ended the class. The box only shows
 * ui->class_box and, with ui->class_input_on, ui->class_input; the keys
 * are taken by classview.c before any view sees them, and it pushes and
 * pops the box.
 */
#include "ui.h"

static void nc_classbox_draw(nc_canvas_t *c, nc_ui_t *ui)
{
    int bw = c->w - 8 < 66 ? c->w - 8 : 66;
    int tw = bw - 4;
    /* Measure the text on a scratch canvas of the box's width. */
    nc_canvas_t *m = nc_canvas_new(tw, 12, c->utf8);
    int lines = nc_canvas_wrap(m, 0, 0, 12, tw, ui->class_box, NC_PLAIN);
    nc_canvas_free(m);
    int bh = lines + 4 + (ui->class_input_on ? 2 : 0);
    int by = (c->h - 1 - bh) / 2, bx = (c->w - bw) / 2;
    nc_canvas_fill(c, by, bx, bh, bw, ' ', NC_PLAIN);
    nc_canvas_box(c, by, bx, bh, bw, NC_STYLE(0, NC_ROLE_ACCENT));
    nc_canvas_text(c, by, bx + 2, " Class ", NC_STYLE(NC_A_BOLD, NC_ROLE_ACCENT));
    nc_canvas_wrap(c, by + 2, bx + 2, lines, tw, ui->class_box,
                   NC_STYLE(NC_A_BOLD, NC_ROLE_NORMAL));
    if (ui->class_input_on) {
        int x = nc_canvas_text(c, by + 3 + lines, bx + 2, "Join code: ", NC_PLAIN);
        x = nc_canvas_text(c, by + 3 + lines, x, ui->class_input,
                           NC_STYLE(NC_A_BOLD, NC_ROLE_ACCENT));
        nc_canvas_text(c, by + 3 + lines, x, "_", NC_STYLE(NC_A_BOLD, NC_ROLE_ACCENT));
    }
}

static const nc_action_t nc_classbox_footer[] = {NC_ACT_NONE};

const nc_view_t nc_view_classbox = {
    .name = "classbox",
    .draw = nc_classbox_draw,
    .footer = nc_classbox_footer,
    .overlay = true,
};
