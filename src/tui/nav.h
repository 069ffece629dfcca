/*
 * nav.h: finding one's way in a long ladder: a filter, a search, go-to.
 *
 * The ladder shows the events of its source that the filter lets through:
 * a matcher in the lesson language (core/match.h, `tcp.flags~RST`), one
 * conversation (convs.c: both directions of one TCP or UDP connection), or
 * both. With no filter every event is shown and the functions below are
 * plain index arithmetic, so the ladder walks its rows through them either
 * way. A search (`/`) marks no rows: n and N move the cursor to the next or
 * previous shown event whose summary or note holds the text.
 *
 * The state lives in ui->nav (owned by the ui, made on first use, dropped
 * with the source). It only reads events through the public timeline and
 * event API, so it does not care how the timeline stores them.
 */
#ifndef NC_NAV_H
#define NC_NAV_H

#include "ui.h"

#include <stdbool.h>
#include <stddef.h>

/* What one event of a conversation is (convs.c). */
typedef struct nc_conv_key {
    char proto[4];     /* "tcp" or "udp" */
    char a[72], b[72]; /* the two endpoints ("10.0.0.1:44310"), a < b */
} nc_conv_key_t;

/* Fills k for a TCP or UDP packet; returns false for any other event. */
bool nc_conv_key(const nc_event_t *ev, nc_conv_key_t *k);
/* A conversation's endpoints as people read them: "a ↔ b", b without
 * its host when it is a's ("127.0.0.1:40112 ↔ :8080"). */
void nc_conv_label(const nc_conv_key_t *k, bool utf8, char *buf, size_t len);

typedef struct nc_convs nc_convs_t;
/* Frees the conversations view's table (convs.c). */
void nc_convs_free(nc_convs_t *s);
/* Opens the conversations view over the events the ladder may show. */
void nc_convs_open(nc_ui_t *ui);

/* The state (ui->nav). idx lists the events the filter showed among the
 * first `scanned` of the timeline, in order: it only grows, as the
 * timeline does, and is rebuilt when the filter changes. */
typedef struct nc_nav {
    char filter[256];   /* the matcher's source, "" when none */
    struct nc_match *m; /* compiled filter, or NULL */
    bool conv_on;
    nc_conv_key_t conv;
    size_t *idx, nidx, cap, scanned;
    char search[128];
    int prompt;        /* '/', ':' or '&' while the prompt is open */
    char line[256];    /* what is typed in the prompt */
    char error[256];   /* why the prompt's filter was refused, or "" */
    nc_convs_t *convs; /* the conversations view's table, or NULL */
} nc_nav_t;

void nc_nav_free(nc_nav_t *nav);

/* Sets the ladder's matcher filter from src ("" or NULL: none). Returns 0,
 * or NC_EINVAL with one sentence in err and the filter unchanged. */
int nc_nav_set_filter(nc_ui_t *ui, const char *src, char *err, size_t errlen);
/* Shows only conversation k (NULL: every conversation). */
void nc_nav_set_conv(nc_ui_t *ui, const nc_conv_key_t *k);
/* True when a filter of either kind is on. */
bool nc_nav_filtered(nc_ui_t *ui);
/* The filter as the footer says it ("filter: tcp.flags~RST"), "" when
 * none, with the search after it. */
void nc_nav_describe(nc_ui_t *ui, char *buf, size_t len);

/* Rows: the first shown event at or after i (vis when none), the next
 * one after i, the last one before i (SIZE_MAX when none), and the shown
 * event n rows before (or after) i, stopping at the first (last) one. */
size_t nc_nav_from(nc_ui_t *ui, size_t i, size_t vis);
size_t nc_nav_next(nc_ui_t *ui, size_t i, size_t vis);
size_t nc_nav_prev(nc_ui_t *ui, size_t i, size_t vis);
size_t nc_nav_back(nc_ui_t *ui, size_t i, size_t n, size_t vis);
size_t nc_nav_fwd(nc_ui_t *ui, size_t i, size_t n, size_t vis);
/* The shown event nearest i: i itself, else the one before, else after;
 * vis when nothing is shown. */
size_t nc_nav_near(nc_ui_t *ui, size_t i, size_t vis);

/* Sets the search text ("" clears it) and goes to its first hit from the
 * cursor on. */
void nc_nav_search(nc_ui_t *ui, const char *text);
/* Moves the cursor to the next (dir > 0) or previous search hit, wrapping
 * around; says in ui->notice when there is none. Returns NC_VIEW_* flags. */
int nc_nav_hit(nc_ui_t *ui, int dir);
/* `:N`: moves the cursor to event #N (the number the note panel shows),
 * or says in ui->notice why it cannot. Returns NC_VIEW_* flags. */
int nc_nav_goto(nc_ui_t *ui, const char *text);

/* Opens the prompt for `/` (search), `:` (go to) or `&` (filter) over the
 * ladder (prompt.c). */
void nc_nav_prompt(nc_ui_t *ui, int kind);

#endif
