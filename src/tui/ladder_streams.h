/*
 * ladder_streams.h: the ladder's stream lanes (ladder_streams.c), and the
 * layout constants the host ladder (ladder.c) shares with them.
 */
#ifndef NC_TUI_LADDER_STREAMS_H
#define NC_TUI_LADDER_STREAMS_H

#include "ui.h"

#include <stdbool.h>
#include <stdint.h>

#define NC_LADDER_T 10      /* the time column: "+0.012345 " */
#define NC_LADDER_SCAN 4096 /* lanes come from this many events and the rows on screen */

/* Walks the events lanes are laid out from: the first NC_LADDER_SCAN the
 * filter shows and the rows on screen, so a replayed capture of a million
 * packets costs no more per draw. */
typedef struct nc_lscan {
    size_t i, n, vis, win;
    bool started;
} nc_lscan_t;
void nc_lscan_start(nc_lscan_t *s, nc_ui_t *ui, size_t vis);
/* The next event (its index in s->i), or NULL after the last. */
const nc_event_t *nc_lscan_next(nc_lscan_t *s, nc_ui_t *ui);

#define NC_SLANES_MAX 40  /* stream lanes, the connection's own included */
#define NC_SLANES_STEP 5  /* columns per stream lane: an arrow and up to three letters */
#define NC_SLANES_TEXT 30 /* columns kept for the summaries after the lanes */

/* The stream lanes of one draw: the connection in focus and its streams.
 * Host names are borrowed from the timeline's events. */
typedef struct nc_slanes {
    bool on;           /* a connection with stream frames is in view */
    bool pool;         /* lanes are connections between a and b's port, not streams */
    const char *proto; /* "HTTP/2", "QUIC" */
    const char *a, *b; /* a: the client's side (the higher port) */
    int64_t aport, bport;
    int64_t id[NC_SLANES_MAX]; /* lane 0: -1, the connection itself */
    int x[NC_SLANES_MAX];
    int n, more;   /* lanes drawn; streams left out */
    int w, text_x; /* the ladder's width; where the summaries start */
} nc_slanes_t;

/* Lays the stream lanes out for the events in view (vis of them) in w
 * columns; false when no connection in view has stream frames. Remembers
 * the connection in focus in ui->lanes_ports. */
bool nc_streams_lanes(nc_ui_t *ui, size_t vis, int w, nc_slanes_t *S);
/* The lanes' labels, and which connection they belong to, on row y. */
void nc_streams_header(nc_canvas_t *c, const nc_slanes_t *S, int y);
/* One event on row y. */
void nc_streams_row(nc_canvas_t *c, const nc_slanes_t *S, const nc_event_t *ev, int y);

#endif
