/*
 * chart.c: one socket's value over the run, in block characters.
 *
 * Data model: a series is (socket name, field); it is chosen from the run
 * (see gauges.h), then sampled as a step function: column k of w shows the
 * field's latest value at the end of the k-th slice of the run's time.
 * Each column is a bar of eighths (U+2581..U+2588) stacked over the chart's
 * rows; the column of the cursor's time is drawn in reverse video.
 */
#include "gauges.h"

#include <stdio.h>
#include <string.h>

#define NC_CHART_MAX_COLS 256

typedef struct nc_chart_pick {
    const char *socket;
    const char *field;
} nc_chart_pick_t;

/* Picks the series worth charting in events [0, upto). */
static bool nc_chart_pick(const nc_timeline_t *tl, size_t upto, nc_chart_pick_t *p)
{
    const char *listener = NULL, *wsock = NULL, *busy = NULL;
    int64_t wspan = 0;
    /* Per-socket window range and event count, for a handful of sockets. */
    struct {
        const char *name;
        int64_t lo, hi;
        int n;
    } seen[32];
    int nseen = 0, busiest = 0;
    for (size_t i = 0; i < upto; i++) {
        const nc_event_t *ev = nc_timeline_get(tl, i);
        const char *name = ev->type == NC_EV_STATE ? nc_event_str(ev, "socket") : NULL;
        if (!name)
            continue;
        int64_t v;
        if (nc_event_int(ev, "accept_queue", &v)) {
            if (v > 0 && !listener)
                listener = name;
            continue;
        }
        if (!nc_event_int(ev, "snd_wnd", &v))
            continue;
        int k = 0;
        while (k < nseen && strcmp(seen[k].name, name) != 0)
            k++;
        if (k == nseen) {
            if (nseen == 32)
                continue;
            seen[nseen].name = name;
            seen[nseen].lo = seen[nseen].hi = v;
            seen[nseen++].n = 0;
        }
        if (v < seen[k].lo)
            seen[k].lo = v;
        if (v > seen[k].hi)
            seen[k].hi = v;
        if (++seen[k].n > busiest)
            busiest = seen[k].n, busy = name;
        if (seen[k].hi - seen[k].lo > wspan)
            wspan = seen[k].hi - seen[k].lo, wsock = name;
    }
    if (listener)
        *p = (nc_chart_pick_t){listener, "accept_queue"};
    else if (wsock)
        *p = (nc_chart_pick_t){wsock, "snd_wnd"};
    else if (busy)
        *p = (nc_chart_pick_t){busy, "cwnd"};
    else
        return false;
    return true;
}

void nc_chart_draw(nc_canvas_t *c, const nc_timeline_t *tl, size_t upto, size_t cursor, int y,
                   int x, int h, int w)
{
    if (!tl || upto == 0 || h < 2 || w < 8)
        return;
    nc_chart_pick_t p;
    if (!nc_chart_pick(tl, upto, &p)) {
        nc_canvas_textn(c, y, x, w, "no socket state to chart yet", NC_STYLE(0, NC_ROLE_MUTED),
                        true);
        return;
    }
    if (w > NC_CHART_MAX_COLS)
        w = NC_CHART_MAX_COLS;
    int64_t tmax = nc_timeline_get(tl, upto - 1)->t_ns;
    if (tmax <= 0)
        tmax = 1;
    int64_t col[NC_CHART_MAX_COLS];
    int64_t cur = 0, vmax = 0;
    size_t i = 0;
    for (int k = 0; k < w; k++) {
        int64_t te = tmax * (k + 1) / w;
        for (; i < upto && nc_timeline_get(tl, i)->t_ns <= te; i++) {
            const nc_event_t *ev = nc_timeline_get(tl, i);
            const char *name = ev->type == NC_EV_STATE ? nc_event_str(ev, "socket") : NULL;
            if (name && strcmp(name, p.socket) == 0)
                nc_event_int(ev, p.field, &cur);
        }
        col[k] = cur;
        if (cur > vmax)
            vmax = cur;
    }
    char title[160];
    snprintf(title, sizeof title, "%s of %s (0..%lld)", p.field, p.socket, (long long)vmax);
    nc_canvas_textn(c, y, x, w, title, NC_STYLE(NC_A_BOLD, NC_ROLE_ACCENT), true);
    int rows = h - 1, levels = rows * 8;
    int64_t tc = nc_timeline_get(tl, cursor < upto ? cursor : upto - 1)->t_ns;
    int ccol = (int)(tc * w / tmax);
    if (ccol >= w)
        ccol = w - 1;
    for (int k = 0; k < w; k++) {
        int units = vmax > 0 ? (int)((col[k] * levels + vmax - 1) / vmax) : 0;
        for (int r = 0; r < rows; r++) {
            int in_row = units - r * 8; /* eighths in this row, from the bottom */
            uint32_t ch = ' ';
            if (in_row >= 8)
                ch = c->utf8 ? 0x2588 : '#';
            else if (in_row > 0)
                ch = c->utf8 ? 0x2580 + (uint32_t)in_row : (in_row >= 4 ? '#' : '.');
            nc_canvas_putc(c, y + rows - r, x + k, ch, NC_STYLE(0, NC_ROLE_ACCENT));
        }
    }
    for (int r = 1; r <= rows; r++)
        nc_canvas_mark(c, y + r, x + ccol, 1, NC_STYLE(NC_A_REVERSE, NC_ROLE_NORMAL));
}
