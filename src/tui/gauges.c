/*
 * gauges.c: queue bars, buffer fill and the window, as of the cursor.
 *
 * Data model: a fixed table of nc_gauge_sock_t, one per socket name seen
 * in events [0, upto): the index of its latest state event at or before
 * the cursor, and the largest snd_wnd it showed in the whole run (the
 * scale of its window bar; the queues are drawn against the buffer limits
 * the probe read from the kernel, rcvbuf and sndbuf). Host counters (state
 * events with "scope": "host") are kept per host the same way; sockets
 * past the table's size are only counted. Built by one pass over
 * the events on every draw: a lesson's timeline is a few thousand events.
 */
#include "gauges.h"

#include "../core/words.h"

#include <stdio.h>
#include <string.h>

#define NC_GAUGE_MAX 128

typedef struct nc_gauge_sock {
    const char *name; /* socket name, or host name for counters */
    bool host;
    long latest;      /* index of the latest event at or before the cursor */
    int64_t peak_wnd;
} nc_gauge_sock_t;

typedef struct nc_gauge_set {
    nc_gauge_sock_t s[NC_GAUGE_MAX];
    int n;
    int dropped; /* state events of sockets the table had no room for */
} nc_gauge_set_t;

static int64_t nc_gauge_int(const nc_event_t *ev, const char *key)
{
    int64_t v = 0;
    nc_event_int(ev, key, &v);
    return v;
}

static void nc_gauge_collect(const nc_timeline_t *tl, size_t upto, size_t cursor,
                             nc_gauge_set_t *set)
{
    memset(set, 0, sizeof *set);
    for (size_t i = 0; i < upto; i++) {
        if (nc_timeline_type(tl, i) != NC_EV_STATE)
            continue;
        const nc_event_t *ev = nc_timeline_get(tl, i);
        const char *scope = nc_event_str(ev, "scope");
        bool host = scope && strcmp(scope, "host") == 0;
        const char *name = host ? ev->host : nc_event_str(ev, "socket");
        if (!name)
            continue;
        int k = 0;
        while (k < set->n && !(set->s[k].host == host && strcmp(set->s[k].name, name) == 0))
            k++;
        if (k == set->n) {
            if (set->n == NC_GAUGE_MAX) {
                set->dropped++;
                continue;
            }
            set->s[set->n++] = (nc_gauge_sock_t){.name = name, .host = host, .latest = -1};
        }
        nc_gauge_sock_t *g = &set->s[k];
        if (i <= cursor)
            g->latest = (long)i;
        int64_t v;
        if (nc_event_int(ev, "snd_wnd", &v) && v > g->peak_wnd)
            g->peak_wnd = v;
    }
}

bool nc_gauges_any(const nc_timeline_t *tl, size_t upto)
{
    for (size_t i = 0; tl && i < upto; i++)
        if (nc_timeline_type(tl, i) == NC_EV_STATE)
            return true;
    return false;
}

/*
 * One bar: "label ████░░░░ text" in w columns. The bar is v out of scale,
 * and text names that scale ("8000 of sndbuf 16384"), so a bar never
 * stands without its unit; scale <= 0 means there is no scale to show
 * against, and only the text is drawn. Full (v >= scale) is drawn as bad.
 */
static void nc_gauge_bar(nc_canvas_t *c, int y, int x, int w, const char *label, int64_t v,
                         int64_t scale, const char *text, int tw, nc_role_t role)
{
    nc_canvas_textn(c, y, x, 7, label, NC_STYLE(0, NC_ROLE_MUTED), false);
    /* Texts are right-aligned in tw columns, so a socket's bars line up. */
    if (tw < nc_text_width(text))
        tw = nc_text_width(text);
    int bw = w - 8 - tw - 1;
    bool full = scale > 0 && v >= scale;
    nc_style_t ts = NC_STYLE(full ? NC_A_BOLD : 0, full ? NC_ROLE_BAD : NC_ROLE_NORMAL);
    if (scale <= 0 || bw < 3) {
        nc_canvas_textn(c, y, x + 8, w - 8, text, ts, true);
        return;
    }
    int fill = (int)((v * bw + scale - 1) / scale);
    if (fill > bw)
        fill = bw;
    if (fill < 0)
        fill = 0;
    uint32_t on = c->utf8 ? 0x2588 : '#', off = c->utf8 ? 0x2591 : '.';
    for (int k = 0; k < bw; k++)
        nc_canvas_putc(c, y, x + 8 + k, k < fill ? on : off,
                       k < fill ? NC_STYLE(NC_A_BOLD, full ? NC_ROLE_BAD : role)
                                : NC_STYLE(NC_A_DIM, NC_ROLE_MUTED));
    nc_canvas_text(c, y, x + 8 + bw + 1 + tw - nc_text_width(text), text, ts);
}

/* A socket's name and state: on one line when both fit, else the state on
 * a line of its own (a state is never cut). Returns the rows used. */
static int nc_gauge_head(nc_canvas_t *c, int y, int x, int h, int w, const char *name,
                         const char *state, nc_style_t st)
{
    char text[160];
    snprintf(text, sizeof text, "%s %s", name, state);
    if (nc_text_width(text) <= w || h < 2) {
        nc_canvas_textn(c, y, x, w, text, st, true);
        return 1;
    }
    nc_canvas_textn(c, y, x, w, name, st, true);
    nc_canvas_textn(c, y + 1, x + 1, w - 1, state, st, true);
    return 2;
}

static bool nc_gauge_is(const char *state, const char *want)
{
    return state && strcmp(state, want) == 0;
}

/* Draws one socket; returns the rows used (0 when nothing fits). */
static int nc_gauge_sock_draw(nc_canvas_t *c, const nc_timeline_t *tl, const nc_gauge_sock_t *g,
                              int y, int x, int h, int w)
{
    const nc_event_t *ev = nc_timeline_get(tl, (size_t)g->latest);
    const char *state = nc_event_str(ev, "state");
    char text[96];
    if (g->host) {
        if (h < 1)
            return 0;
        long long ov = nc_gauge_int(ev, "listen_overflows");
        long long dr = nc_gauge_int(ev, "listen_drops");
        snprintf(text, sizeof text, "%s: %lld %s, %lld %s", g->name, ov,
                 nc_words_plural(ov, "overflow", "overflows"), dr,
                 nc_words_plural(dr, "drop", "drops"));
        nc_canvas_textn(c, y, x, w, text, NC_STYLE(NC_A_BOLD, NC_ROLE_BAD), true);
        return 1;
    }
    nc_role_t role = strncmp(g->name, "client", 6) == 0 ? NC_ROLE_CLIENT : NC_ROLE_SERVER;
    bool listen = nc_event_get(ev, "accept_queue") != NULL;
    if (listen) {
        if (h < 3)
            return 0;
        /* The numbers of the event and of ss -ltn: the queue's length and
         * the backlog; the queue holds backlog + 1. */
        int64_t q = nc_gauge_int(ev, "accept_queue"), b = nc_gauge_int(ev, "backlog");
        snprintf(text, sizeof text, "%s (backlog %lld + 1)", g->name, (long long)b);
        nc_canvas_textn(c, y, x, w, text, NC_STYLE(NC_A_BOLD, role), true);
        snprintf(text, sizeof text, "%lld of %lld", (long long)q, (long long)b + 1);
        nc_gauge_bar(c, y + 1, x + 1, w - 1, "accept", q, b + 1, text, 0, role);
        /* The SYN queue's limit depends on more than the backlog
         * (tcp_max_syn_backlog, SYN cookies): a count, without a bar. */
        snprintf(text, sizeof text, "%lld half-open", (long long)nc_gauge_int(ev, "syn_queue"));
        nc_gauge_bar(c, y + 2, x + 1, w - 1, "SYN q", 0, 0, text, 0, role);
        return 3;
    }
    /* A connection without queues (TIME_WAIT, or one the kernel reports
     * no more about) is its name and state. */
    if (!nc_event_get(ev, "recv_q"))
        return h < 1
                   ? 0
                   : nc_gauge_head(c, y, x, h, w, g->name, state ? state : "?", NC_STYLE(0, role));
    int head = nc_text_width(g->name) + 1 + nc_text_width(state ? state : "") <= w ? 1 : 2;
    if (h < head + 3)
        return 0;
    nc_gauge_head(c, y, x, h, w, g->name, state ? state : "?", NC_STYLE(NC_A_BOLD, role));
    y += head;
    int64_t r = nc_gauge_int(ev, "recv_q"), s = nc_gauge_int(ev, "send_q");
    int64_t wnd = nc_gauge_int(ev, "snd_wnd");
    int64_t rb = nc_gauge_int(ev, "rcvbuf"), sb = nc_gauge_int(ev, "sndbuf");
    /* The queues against the kernel's buffer limits; the window, which has
     * no limit of its own here, against the largest this peer advertised
     * in the run, and it says so. */
    struct {
        const char *label, *scale_name;
        int64_t v, scale;
        char text[64];
    } rows[3] = {{"recv_q", "rcvbuf", r, rb, ""},
                 {"send_q", "sndbuf", s, sb, ""},
                 {"window", "peak", wnd, g->peak_wnd, ""}};
    int tw = 0;
    for (int k = 0; k < 3; k++) {
        if (rows[k].scale > 0)
            snprintf(rows[k].text, sizeof rows[k].text, "%lld of %s %lld", (long long)rows[k].v,
                     rows[k].scale_name, (long long)rows[k].scale);
        else
            snprintf(rows[k].text, sizeof rows[k].text, "%lld", (long long)rows[k].v);
        if (nc_text_width(rows[k].text) > tw)
            tw = nc_text_width(rows[k].text);
    }
    for (int k = 0; k < 3; k++)
        nc_gauge_bar(c, y + k, x + 1, w - 1, rows[k].label, rows[k].v, rows[k].scale, rows[k].text,
                     tw, role);
    return head + 3;
}

void nc_gauges_draw(nc_canvas_t *c, const nc_timeline_t *tl, size_t upto, size_t cursor, int y,
                    int x, int h, int w)
{
    if (!tl || h < 1 || w < 10)
        return;
    nc_gauge_set_t set;
    nc_gauge_collect(tl, upto, cursor, &set);
    char title[48];
    snprintf(title, sizeof title, "kernel state at #%zu", cursor);
    nc_canvas_textn(c, y, x, w, title, NC_STYLE(NC_A_BOLD, NC_ROLE_ACCENT), true);
    int row = y + 1, end = y + h;
    /* Host counters and listeners first: they matter most and are short;
     * then open connections, then what their closing left (TIME_WAIT).
     * Closed sockets are counted on one line at the end. */
    int closed = 0, shown = 0, hidden = set.dropped > 0;
    const char *closed_name = NULL;
    for (int pass = 0; pass < 4; pass++) {
        for (int k = 0; k < set.n; k++) {
            const nc_gauge_sock_t *g = &set.s[k];
            if (g->latest < 0)
                continue;
            const nc_event_t *ev = nc_timeline_get(tl, (size_t)g->latest);
            const char *state = nc_event_str(ev, "state");
            if (!g->host && nc_gauge_is(state, "CLOSED")) {
                if (pass == 0)
                    closed++, closed_name = g->name;
                continue;
            }
            bool listen = nc_event_get(ev, "accept_queue") != NULL;
            int kind = g->host ? 0 : listen ? 1 : nc_event_get(ev, "recv_q") ? 2 : 3;
            if (kind != pass)
                continue;
            /* The last row is kept for what does not fit. */
            int used = row < end - 1 ? nc_gauge_sock_draw(c, tl, g, row, x, end - 1 - row, w) : 0;
            if (used == 0)
                hidden++;
            row += used;
            shown += used > 0;
        }
    }
    char text[96];
    if (closed == 1)
        snprintf(text, sizeof text, "%s closed", closed_name);
    else if (closed > 1)
        snprintf(text, sizeof text, "%s%d sockets closed", shown || hidden ? "" : "all ", closed);
    if (closed && row < end)
        nc_canvas_textn(c, row++, x, w, text, NC_STYLE(0, NC_ROLE_MUTED), true);
    if (hidden && row < end) {
        snprintf(text, sizeof text, "%s and %d more socket%s", nc_canvas_glyph(c, NC_G_ELLIPSIS),
                 hidden, hidden > 1 ? "s" : "");
        nc_canvas_textn(c, row++, x, w, text, NC_STYLE(0, NC_ROLE_MUTED), true);
    }
    if (row == y + 1 && row < end)
        nc_canvas_text(c, row, x, "no socket yet", NC_STYLE(0, NC_ROLE_MUTED));
}
