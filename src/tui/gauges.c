/*
 * gauges.c: queue bars, buffer fill and the window, as of the cursor.
 *
 * Data model: a fixed table of nc_gauge_sock_t, one per socket name seen
 * in events [0, upto): the index of its latest state event at or before
 * the cursor, and the peaks of its recv_q, send_q and snd_wnd over the
 * whole run (the scale of its bars). Host counters (state events with
 * "scope": "host") are kept per host the same way. Built by one pass over
 * the events on every draw: a lesson's timeline is a few thousand events.
 */
#include "gauges.h"

#include <stdio.h>
#include <string.h>

#define NC_GAUGE_MAX 32

typedef struct nc_gauge_sock {
    const char *name; /* socket name, or host name for counters */
    bool host;
    long latest;      /* index of the latest event at or before the cursor */
    int64_t peak_recv, peak_send, peak_wnd;
} nc_gauge_sock_t;

typedef struct nc_gauge_set {
    nc_gauge_sock_t s[NC_GAUGE_MAX];
    int n;
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
        const nc_event_t *ev = nc_timeline_get(tl, i);
        if (ev->type != NC_EV_STATE)
            continue;
        const char *scope = nc_event_str(ev, "scope");
        bool host = scope && strcmp(scope, "host") == 0;
        const char *name = host ? ev->host : nc_event_str(ev, "socket");
        if (!name)
            continue;
        int k = 0;
        while (k < set->n && !(set->s[k].host == host && strcmp(set->s[k].name, name) == 0))
            k++;
        if (k == set->n) {
            if (set->n == NC_GAUGE_MAX)
                continue;
            set->s[set->n++] = (nc_gauge_sock_t){.name = name, .host = host, .latest = -1};
        }
        nc_gauge_sock_t *g = &set->s[k];
        if (i <= cursor)
            g->latest = (long)i;
        int64_t v;
        if (nc_event_int(ev, "recv_q", &v) && v > g->peak_recv)
            g->peak_recv = v;
        if (nc_event_int(ev, "send_q", &v) && v > g->peak_send)
            g->peak_send = v;
        if (nc_event_int(ev, "snd_wnd", &v) && v > g->peak_wnd)
            g->peak_wnd = v;
    }
}

bool nc_gauges_any(const nc_timeline_t *tl, size_t upto)
{
    for (size_t i = 0; tl && i < upto; i++)
        if (nc_timeline_get(tl, i)->type == NC_EV_STATE)
            return true;
    return false;
}

/* One bar: "label [#####.....] text" in w columns. */
static void nc_gauge_bar(nc_canvas_t *c, int y, int x, int w, const char *label, int64_t v,
                         int64_t max, const char *text, nc_role_t role)
{
    nc_canvas_textn(c, y, x, 7, label, NC_STYLE(0, NC_ROLE_MUTED), false);
    /* Numbers right-aligned in 7 columns, so the bars line up. */
    int tw = nc_text_width(text) > 7 ? nc_text_width(text) : 7;
    int bw = w - 8 - tw - 1;
    if (bw < 3) {
        nc_canvas_textn(c, y, x + 8, w - 8, text, NC_PLAIN, true);
        return;
    }
    int fill = max > 0 ? (int)((v * bw + max - 1) / max) : 0;
    if (fill > bw)
        fill = bw;
    bool full = max > 0 && v >= max;
    uint32_t on = c->utf8 ? 0x2588 : '#', off = c->utf8 ? 0x2591 : '.';
    for (int k = 0; k < bw; k++)
        nc_canvas_putc(c, y, x + 8 + k, k < fill ? on : off,
                       k < fill ? NC_STYLE(NC_A_BOLD, full ? NC_ROLE_BAD : role)
                                : NC_STYLE(NC_A_DIM, NC_ROLE_MUTED));
    nc_canvas_text(c, y, x + 8 + bw + 1 + tw - nc_text_width(text), text,
                   NC_STYLE(full ? NC_A_BOLD : 0, NC_ROLE_NORMAL));
}

/* Draws one socket; returns the rows used (0 when nothing fits). */
static int nc_gauge_sock_draw(nc_canvas_t *c, const nc_timeline_t *tl, const nc_gauge_sock_t *g,
                              int y, int x, int h, int w)
{
    const nc_event_t *ev = nc_timeline_get(tl, (size_t)g->latest);
    const char *state = nc_event_str(ev, "state");
    char text[64];
    if (g->host) {
        if (h < 1)
            return 0;
        snprintf(text, sizeof text, "%s: %lld overflows, %lld drops", g->name,
                 (long long)nc_gauge_int(ev, "listen_overflows"),
                 (long long)nc_gauge_int(ev, "listen_drops"));
        nc_canvas_textn(c, y, x, w, text, NC_STYLE(NC_A_BOLD, NC_ROLE_BAD), true);
        return 1;
    }
    if (state && strcmp(state, "CLOSED") == 0)
        return 0;
    bool listen = nc_event_get(ev, "accept_queue") != NULL;
    int rows = listen ? 3 : 4;
    if (h < rows)
        return 0;
    nc_role_t role = strncmp(g->name, "client", 6) == 0 ? NC_ROLE_CLIENT : NC_ROLE_SERVER;
    if (listen) {
        nc_canvas_textn(c, y, x, w, g->name, NC_STYLE(NC_A_BOLD, role), true);
        int64_t q = nc_gauge_int(ev, "accept_queue"), b = nc_gauge_int(ev, "backlog");
        snprintf(text, sizeof text, "%lld/%lld", (long long)q, (long long)b + 1);
        nc_gauge_bar(c, y + 1, x + 1, w - 1, "accept", q, b + 1, text, role);
        int64_t s = nc_gauge_int(ev, "syn_queue");
        snprintf(text, sizeof text, "%lld", (long long)s);
        nc_gauge_bar(c, y + 2, x + 1, w - 1, "SYN q", s, b > 0 ? b : 1, text, role);
        return rows;
    }
    snprintf(text, sizeof text, "%s %s", g->name, state ? state : "");
    nc_canvas_textn(c, y, x, w, text, NC_STYLE(NC_A_BOLD, role), true);
    int64_t r = nc_gauge_int(ev, "recv_q"), s = nc_gauge_int(ev, "send_q");
    int64_t wnd = nc_gauge_int(ev, "snd_wnd");
    snprintf(text, sizeof text, "%lld", (long long)r);
    nc_gauge_bar(c, y + 1, x + 1, w - 1, "recv_q", r, g->peak_recv, text, role);
    snprintf(text, sizeof text, "%lld", (long long)s);
    nc_gauge_bar(c, y + 2, x + 1, w - 1, "send_q", s, g->peak_send, text, role);
    snprintf(text, sizeof text, "%lld", (long long)wnd);
    nc_gauge_bar(c, y + 3, x + 1, w - 1, "window", wnd, g->peak_wnd, text, role);
    return rows;
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
    /* Host counters and listeners first: they matter most and are short. */
    for (int pass = 0; pass < 3; pass++) {
        for (int k = 0; k < set.n && row < end; k++) {
            const nc_gauge_sock_t *g = &set.s[k];
            if (g->latest < 0)
                continue;
            const nc_event_t *ev = nc_timeline_get(tl, (size_t)g->latest);
            bool listen = nc_event_get(ev, "accept_queue") != NULL;
            int kind = g->host ? 0 : listen ? 1 : 2;
            if (kind != pass)
                continue;
            row += nc_gauge_sock_draw(c, tl, g, row, x, end - row, w);
        }
    }
    if (row == y + 1 && row < end)
        nc_canvas_text(c, row, x, "no socket yet", NC_STYLE(0, NC_ROLE_MUTED));
}
