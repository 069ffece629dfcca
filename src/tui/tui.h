/*
 * tui.h: the terminal interface.
 *
 * The main thread owns the terminal and runs a libuv loop for keys, resize,
 * timers and timeline wake-ups. Views draw into an nc_canvas_t (a grid of
 * cells with attributes) that one backend copies to curses and another
 * renders to text for tests; views never call curses themselves.
 */
#ifndef NC_TUI_H
#define NC_TUI_H

#include "../core/course.h"
#include "../scenario/run.h"
#include "../store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct nc_tui_opts {
    const nc_course_t *course; /* borrowed */
    nc_store_t *store;         /* borrowed; may be NULL (progress not kept) */
    nc_run_opts_t run;         /* passed to every live run */
    const char *start_lesson;  /* open this lesson first, or NULL for the map */
    bool start_run;            /* with start_lesson: go to the ladder and start its run */
    /* A live class (src/classroom): teaching opens the dashboard; joining
     * follows the instructor. Borrowed; at most one of them. */
    struct nc_class_server *teach;
    struct nc_class_client *join;
    const char *save_path;     /* also save each finished run here, or NULL */
    const char *replay_path;   /* replay this file instead of a live run, or NULL */
    const char *filter;        /* with replay_path: the ladder's first filter (nav.h), or NULL */
    double pace;               /* with replay_path: > 0 starts it paced, seconds an event */
    /* With no store: why progress will not be kept, shown once (until the
     * first key) on the first screen. Borrowed; may be NULL. */
    const char *store_note;
    /* `netcourse compare A B`: opens on the two runs side by side
     * (borrowed; both or neither). */
    const struct nc_compare_run *compare[2];
} nc_tui_opts_t;

/* A file size as people read it: "812 B", "13.3 KiB", "1.2 MiB". */
void nc_tui_bytes(int64_t bytes, char *buf, size_t len);

/* Runs the interface until the user quits. Returns 0, or a negative code
 * with one sentence in err (no terminal, a terminal that cannot be used). */
int nc_tui_main(const nc_tui_opts_t *o, char *err, size_t errlen);

#endif
