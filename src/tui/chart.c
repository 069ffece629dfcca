/*
 * chart.c: one socket's value over the run, in block characters.
 *
 * Data model: a series is (socket name, field); it is chosen from the run
 * (see gauges.h), then sampled as a step function: column k of w shows the
 * field's largest value in the k-th slice of the run's time. Each column is
 * a bar of eighths (U+2581..U+2588) stacked over the chart's rows, above a
 * zero line that spans the whole run (dotted where the socket did not
 * exist), with the run's start, end and the top of the scale below it; the
 * column of the cursor's time is drawn in reverse video.
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
        if (nc_timeline_type(tl, i) != NC_EV_STATE)
            continue;
        const nc_event_t *ev = nc_timeline_get(tl, i);
        const char *name = nc_event_str(ev, "socket");
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

/* Formats a time in seconds with as few digits as tell it ("0 s", "2.88 s"). */
static void nc_chart_time(char *out, size_t n, int64_t ns)
{
    if (ns == 0)
        snprintf(out, n, "0 s");
    else if (ns < 10000000)
        snprintf(out, n, "%.3f ms", (double)ns / 1e6);
    else
        snprintf(out, n, "%.2f s", (double)ns / 1e9);
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
    int64_t tmax = nc_timeline_time(tl, upto - 1);
    if (tmax <= 0)
        tmax = 1;
    /* Column k covers the times (tmax*k/w, tmax*(k+1)/w]: it shows the
     * largest value the socket had in it (the value carried in, and every
     * sample inside), so a short peak is not lost; a column where the
     * socket did not have the value yet, or any more (closed, or in
     * TIME_WAIT), has none. */
    int64_t col[NC_CHART_MAX_COLS];
    bool alive[NC_CHART_MAX_COLS];
    int64_t cur = 0, vmax = 0;
    bool exists = false;
    size_t i = 0;
    for (int k = 0; k < w; k++) {
        int64_t te = tmax * (k + 1) / w;
        int64_t top = exists ? cur : 0;
        bool any = exists;
        for (; i < upto && nc_timeline_time(tl, i) <= te; i++) {
            if (nc_timeline_type(tl, i) != NC_EV_STATE)
                continue;
            const nc_event_t *ev = nc_timeline_get(tl, i);
            const char *name = nc_event_str(ev, "socket");
            if (!name || strcmp(name, p.socket) != 0)
                continue;
            /* An event without the value (CLOSED, TIME_WAIT) ends it. */
            exists = nc_event_int(ev, p.field, &cur);
            if (exists) {
                any = true;
                if (cur > top)
                    top = cur;
            }
        }
        col[k] = top;
        alive[k] = any;
        if (top > vmax)
            vmax = top;
    }
    char title[160];
    snprintf(title, sizeof title, "%s, %s", p.field, p.socket);
    nc_canvas_textn(c, y, x, w, title, NC_STYLE(NC_A_BOLD, NC_ROLE_ACCENT), true);
    /* Rows: the title, the bars, the zero line, and the time axis's labels
     * when there is room for all four. */
    bool labels = h >= 4;
    int rows = h - 2 - (labels ? 1 : 0), levels = rows * 8;
    int axis = y + 1 + rows;
    int64_t tc = nc_timeline_time(tl, cursor < upto ? cursor : upto - 1);
    int ccol = (int)(tc * w / tmax);
    if (ccol >= w)
        ccol = w - 1;
    uint32_t zero = c->utf8 ? 0x2500 : '-', none = c->utf8 ? 0x00B7 : '.';
    for (int k = 0; k < w; k++) {
        int units = vmax > 0 ? (int)((col[k] * levels + vmax - 1) / vmax) : 0;
        for (int r = 0; r < rows; r++) {
            int in_row = units - r * 8; /* eighths in this row, from the bottom */
            uint32_t ch = ' ';
            if (in_row >= 8)
                ch = c->utf8 ? 0x2588 : '#';
            else if (in_row > 0)
                ch = c->utf8 ? 0x2580 + (uint32_t)in_row : (in_row >= 4 ? '#' : '.');
            nc_canvas_putc(c, axis - 1 - r, x + k, ch, NC_STYLE(0, NC_ROLE_ACCENT));
        }
        /* The zero line: solid while the socket exists, dotted before and
         * after, so a queue back at 0 reads as 0 and not as the edge. */
        nc_canvas_putc(c, axis, x + k, alive[k] ? zero : none, NC_STYLE(0, NC_ROLE_MUTED));
    }
    for (int r = y + 1; r <= axis; r++)
        nc_canvas_mark(c, r, x + ccol, 1, NC_STYLE(NC_A_REVERSE, NC_ROLE_NORMAL));
    if (!labels)
        return;
    char t0[24], t1[24], scale[48];
    nc_chart_time(t0, sizeof t0, 0);
    nc_chart_time(t1, sizeof t1, tmax);
    snprintf(scale, sizeof scale, "top %lld", (long long)vmax);
    nc_style_t ls = NC_STYLE(0, NC_ROLE_MUTED);
    nc_canvas_text(c, axis + 1, x, t0, ls);
    int sw = nc_text_width(scale), ew = nc_text_width(t1);
    if (nc_text_width(t0) + sw + ew + 2 <= w)
        nc_canvas_text(c, axis + 1, x + (w - sw) / 2, scale, ls);
    nc_canvas_text(c, axis + 1, x + w - ew, t1, ls);
}
