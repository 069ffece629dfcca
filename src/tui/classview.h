/*
 * classview.h: the interface's side of a live class, for tui.c.
 *
 * Teaching: the dashboard view first; the ladder shows the instructor's own
 * run. Joining: the lesson reader and the ladder follow the instructor (the
 * class's page, the streamed timeline, or in lockstep the student's own
 * run), the footer says so, `u` unfollows and follows again, the live key
 * (F, End) returns to the instructor and the live edge, and while the
 * instructor has a checkpoint open a..h answer it. A refused join code is
 * retyped in a box over the screen; when the instructor ends the class a
 * box says so and any key leaves. The instructor's `q` asks first while
 * students are connected (classbox.c).
 */
#ifndef NC_CLASSVIEW_H
#define NC_CLASSVIEW_H

#include "ui.h"

typedef struct nc_tui_class {
    nc_timeline_t *tl;   /* the ladder's current class timeline */
    const void *runp;    /* the run behind it, when there is one */
    char sent_cp[64];    /* the class checkpoint last answered from the ladder */
    unsigned long sig;   /* what the last frame showed, to redraw on change */
    int set_page;        /* the class page last shown while following, -1 */
    bool opened;         /* the class's lesson is open */
    bool ended;          /* a student's class ended or refused us: the box says so */
    int sent_page;       /* the own page last told the instructor, -1 */
    int pending;         /* a follow (1) or unfollow (0) sent, not yet seen; -1 */
    unsigned rejoins;    /* the client's rejoins once it takes the code retyped */
    bool hand;           /* the student's hand is raised (H) */
} nc_tui_class_t;

/* Prepares ui for the class in ui->teach or ui->join. */
void nc_tui_class_start(nc_ui_t *ui, nc_tui_class_t *tc);
/* Called every loop tick; returns true when the screen must be redrawn. */
bool nc_tui_class_tick(nc_ui_t *ui, nc_tui_class_t *tc);
/* A key before the views see it: returns NC_VIEW_* flags when the class
 * took it (then the views do not see it), else 0. */
int nc_tui_class_key(nc_ui_t *ui, nc_tui_class_t *tc, int key);

#endif
