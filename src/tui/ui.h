/*
 * ui.h: the state the views share, the view descriptor, and rendering.
 *
 * An nc_ui_t is everything the interface shows: the course, the lesson
 * being read, the source of the ladder's events and each view's cursor. It
 * holds no terminal: nc_ui_render() draws the current view into a canvas and
 * nc_ui_key() feeds it a key, so tui.c (the terminal and the loop) and the
 * snapshot tests drive exactly the same code.
 *
 * Each view is one file exporting one const nc_view_t; nc_views[] lists them
 * all. Views are stacked: opening the reader from the map pushes it, Esc
 * pops it. A key handler returns NC_VIEW_* flags; it never draws.
 *
 * The ladder reads its events through an nc_ui_source_t: a timeline plus
 * callbacks for the run's checkpoints and steps. tui.c fills it from a live
 * nc_run_t; tests fill it with a synthetic timeline and checkpoints.
 */
#ifndef NC_UI_H
#define NC_UI_H

#include "../core/course.h"
#include "../core/timeline.h"
#include "../scenario/run.h"
#include "../store/store.h"
#include "canvas.h"
#include "keys.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct nc_ui nc_ui_t;

enum {
    NC_VIEW_HANDLED = 1,
    NC_VIEW_REDRAW = 2,
    NC_VIEW_QUIT = 4,
    NC_VIEW_RUN = 8, /* start (or restart) the live run of ui->lesson */
    NC_VIEW_REPLAY = 16, /* replay the saved run at ui->replay_path */
    NC_VIEW_SHELL = 32, /* open a shell on ui->shell_host, in the run's lab */
};

/* A view's own footer label for an action, where the generic one would
 * mislead (the dashboard's Tab shows a timeline, not a layer). */
typedef struct nc_view_label {
    nc_action_t action;
    const char *label;
} nc_view_label_t;

/* One row of a view's legend: a mark as the view draws it (in UTF-8 and
 * in ASCII, in its style) and what it means. */
typedef struct nc_legend {
    const char *utf8, *ascii;
    nc_style_t st;
    const char *meaning;
} nc_legend_t;

/* The legends (legend.c), one per view that draws marks. */
extern const nc_legend_t nc_legend_map[], nc_legend_reader[], nc_legend_ladder[],
    nc_legend_inspector[], nc_legend_runs[], nc_legend_convs[];

typedef struct nc_view {
    const char *name;
    void (*draw)(nc_canvas_t *c, nc_ui_t *ui);
    /* action is nc_key_action(key); key is the raw key. Returns flags. */
    int (*key)(nc_ui_t *ui, nc_action_t action, int key);
    /* Actions shown in the footer, ending with NC_ACT_NONE. */
    const nc_action_t *footer;
    bool overlay; /* drawn on top of the view below it */
    /* What the view's marks and colours mean, for the help overlay; ends
     * with a row whose meaning is NULL. May be NULL. */
    const nc_legend_t *legend;
    /* Footer labels of its own, ending with NC_ACT_NONE; may be NULL. */
    const nc_view_label_t *labels;
    bool input; /* a prompt: every key comes to it as text, help and all */
} nc_view_t;

extern const nc_view_t nc_view_map, nc_view_reader, nc_view_ladder, nc_view_inspector,
    nc_view_help, nc_view_toosmall, nc_view_dashboard, nc_view_classbox, nc_view_runs,
    nc_view_convs, nc_view_prompt, nc_view_compare, nc_view_pair;
/* Every view, ending with NULL. */
extern const nc_view_t *const nc_views[];

/* Where the ladder's events come from. */
typedef struct nc_ui_source {
    nc_timeline_t *tl; /* borrowed; NULL when nothing runs */
    void *ctx;
    size_t (*checkpoint_count)(void *ctx);
    void (*checkpoint)(void *ctx, size_t k, nc_run_checkpoint_t *out);
    int (*step_at)(void *ctx, size_t i); /* may be NULL */
    bool done; /* the run is over */
    /* Optional, for sources other than a live run (a replay): */
    size_t (*limit)(void *ctx); /* events past it are not shown yet */
    /* Keys the source handles before the ladder does; returns NC_VIEW_*
     * flags, 0 when it did not handle the key. */
    int (*key)(void *ctx, nc_ui_t *ui, nc_action_t action, int key);
    /* The ladder title's right side ("paused x1", "playing x4"). */
    void (*status)(void *ctx, char *buf, size_t len);
    const char *title; /* what the ladder calls the run ("replay"); NULL: "live run" */
    /* The ladder's footer for this source (a replay's own keys), or NULL
     * for the ladder's. */
    const nc_action_t *footer;
    /* Optional: moves the play head so that event i is shown (`:N` past
     * it); returns the events shown now. */
    size_t (*reach)(void *ctx, nc_ui_t *ui, size_t i);
} nc_ui_source_t;

/* A checkpoint answer given in this run. */
typedef struct nc_ui_answer {
    int choice;  /* index into cp->choices, -1 when not answered */
    bool stored; /* written to the store once the run decided */
    bool seen;   /* the result was dismissed */
} nc_ui_answer_t;

#define NC_UI_MIN_W 80
#define NC_UI_MIN_H 24
#define NC_UI_STACK 8

struct nc_ui {
    const nc_course_t *course; /* borrowed */
    nc_store_t *store;         /* borrowed; may be NULL */
    bool utf8;
    const nc_view_t *stack[NC_UI_STACK];
    int depth;
    int w, h; /* size of the last render */

    size_t map_sel; /* index into course->lessons */
    const nc_lesson_t *lesson;

    int page, scroll; /* reader */
    int page_lines;   /* lines of the current page at the last width */

    nc_ui_source_t src; /* ladder */
    size_t cursor;
    size_t top; /* first event row shown */
    bool follow;
    int ladder_rows; /* event rows at the last draw */
    char run_error[256];
    nc_ui_answer_t *answers;
    size_t nanswers;

    int layer;        /* inspector: selected layer */
    int insp_scroll;
    /* inspector: the selected layer's name, kept when n/N move to another
     * packet so the same layer stays open ("" until a layer is chosen). */
    char insp_layer[16];
    /* inspector: the packet's place in its connection, as counted for the
     * event at place_at when place_vis events were visible. */
    char place[320];
    size_t place_at, place_vis;

    /* A live class (borrowed; NULL outside one). The dashboard reads the
     * server; a student's screen shows class_line in the footer. */
    struct nc_class_server *teach;
    struct nc_class_client *join;
    int class_cp;         /* dashboard: next checkpoint to open */
    char class_line[160]; /* "following the instructor" ... */
    char class_box[320];  /* a class message over the screen (classbox.c) */
    char class_input[40]; /* a join code being retyped in it */
    bool class_input_on;  /* the box has that input line */
    int help_scroll;  /* help: first action row shown */
    char notice[256]; /* ladder: a message for the user ("saved to ...") */
    /* Said once, above the footer of whatever view is up, until the next
     * key: "progress will not be kept: ...". */
    char banner[768];

    /* The saved runs view (runs.c): the store's list, read when opened. */
    nc_store_saved_t *runs;
    size_t nruns, runs_sel;
    const char *replay_path; /* with NC_VIEW_REPLAY: the file to replay (in runs) */
    /* r on a run that is under way or on screen asks first: set by the
     * first r, cleared by any other key. */
    bool confirm_run;
    /* The comparison table opened by itself for this source (compare.c). */
    bool compare_shown;
    /* `netcourse compare A B`: the two measured runs (borrowed), for the
     * pair view (compare.c); NULL otherwise. */
    const struct nc_compare_run *pair[2];
    /* The lab host the shell key opens a shell on, while a finished run's
     * lab is up (tui.c); NULL otherwise, and the key is neither shown nor
     * listed. Borrowed. */
    const char *shell_host;
    /* The ladder's filter, search and prompt (nav.h); owned, NULL until
     * first used, dropped with the source. */
    struct nc_nav *nav;
};

/* Prepares ui for a course (borrowed) and a store (may be NULL); starts at
 * the map. */
void nc_ui_init(nc_ui_t *ui, const nc_course_t *course, nc_store_t *store, bool utf8);
void nc_ui_done(nc_ui_t *ui);
/* Returns the view with this name, or NULL. */
const nc_view_t *nc_ui_view(const char *name);
/* The current (top) view. */
const nc_view_t *nc_ui_top(const nc_ui_t *ui);
void nc_ui_push(nc_ui_t *ui, const nc_view_t *v);
/* Pops the top view; returns false when it was the last one. */
bool nc_ui_pop(nc_ui_t *ui);
/* Opens a lesson in the reader, at the page the store remembers. */
void nc_ui_open_lesson(nc_ui_t *ui, const nc_lesson_t *l);
/* Points the ladder at a new source (a new run): the cursor goes to the
 * first event, follow mode on, answers forgotten. */
void nc_ui_set_source(nc_ui_t *ui, const nc_ui_source_t *src);

/* Draws the whole screen (view, overlays, footer; or the too-small message)
 * into c, at c's size. */
void nc_ui_render(nc_ui_t *ui, nc_canvas_t *c);
/* Feeds one key to the top view (help and quit are handled here). Returns
 * NC_VIEW_* flags. */
int nc_ui_key(nc_ui_t *ui, int key);
/* Called from the loop after events arrive: stores checkpoint answers the
 * run has decided. Returns true when something changed on screen. */
bool nc_ui_tick(nc_ui_t *ui);

/* Shows the run's comparison table (compare.c); false when the run has
 * none. */
bool nc_compare_view_open(nc_ui_t *ui);
/* Opens the table once, by itself, when the ladder first shows it at the
 * end of a run; true when it did. */
bool nc_compare_view_tick(nc_ui_t *ui);

/* Reads the saved runs from the store into ui->runs (runs.c). */
void nc_ui_runs_load(nc_ui_t *ui);

/* Renders view name at w x h into out as text (for tests and debugging). */
int nc_tui_render_text(nc_ui_t *ui, const char *view, int w, int h, nc_buf_t *out);

/* Shared drawing helpers. */
void nc_ui_footer(nc_canvas_t *c, const nc_ui_t *ui, const nc_action_t *acts);
void nc_ui_title(nc_canvas_t *c, int y, const char *left, const char *right);
/* The ladder's visible limit: events past it wait for a checkpoint answer. */
size_t nc_ui_visible(nc_ui_t *ui);
/* The event under the ladder cursor, or NULL. */
const nc_event_t *nc_ui_current(nc_ui_t *ui);

#endif
