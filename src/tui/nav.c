/*
 * nav.c: the ladder's filter, search and go-to (see nav.h).
 *
 * Data model: ui->nav is made on first use and freed with the source. With
 * a filter on, nav->idx holds, in order, the indices of the events among
 * the first nav->scanned that pass it; each call that needs rows first
 * extends the scan to the events visible now (the timeline only grows and
 * its events never change, so what was scanned stays true), then answers
 * by binary search. Without a filter no index is kept: row i is event i.
 */
#include "nav.h"

#include "../core/error.h"
#include "../core/match.h"
#include "../core/xmalloc.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void nc_nav_free(nc_nav_t *nav)
{
    if (nav == NULL)
        return;
    nc_match_free(nav->m);
    nc_convs_free(nav->convs);
    free(nav->idx);
    free(nav);
}

static nc_nav_t *nc_nav_get(nc_ui_t *ui)
{
    if (ui->nav == NULL)
        ui->nav = nc_xcalloc(1, sizeof *ui->nav);
    return ui->nav;
}

/* Forgets the index: the filter changed. The ladder then scrolls afresh
 * to the cursor (it ends the screen rather than starting it). */
static void nc_nav_reindex(nc_ui_t *ui)
{
    ui->nav->nidx = 0;
    ui->nav->scanned = 0;
    ui->top = 0;
}

int nc_nav_set_filter(nc_ui_t *ui, const char *src, char *err, size_t errlen)
{
    nc_nav_t *nav = nc_nav_get(ui);
    while (src && (*src == ' ' || *src == '\t'))
        src++;
    struct nc_match *m = NULL;
    if (src && *src) {
        char why[256];
        m = nc_match_compile(src, why, sizeof why);
        if (m == NULL) {
            snprintf(err, errlen, "The filter was not changed: %s.", why);
            return NC_EINVAL;
        }
    }
    nc_match_free(nav->m);
    nav->m = m;
    snprintf(nav->filter, sizeof nav->filter, "%s", m ? src : "");
    nc_nav_reindex(ui);
    return 0;
}

void nc_nav_set_conv(nc_ui_t *ui, const nc_conv_key_t *k)
{
    nc_nav_t *nav = nc_nav_get(ui);
    nav->conv_on = k != NULL;
    if (k)
        nav->conv = *k;
    nc_nav_reindex(ui);
}

bool nc_nav_filtered(nc_ui_t *ui)
{
    return ui->nav && (ui->nav->m || ui->nav->conv_on);
}

void nc_nav_describe(nc_ui_t *ui, char *buf, size_t len)
{
    buf[0] = '\0';
    if (!ui->nav)
        return;
    nc_nav_t *nav = ui->nav;
    size_t at = 0;
    if (nav->conv_on) {
        char label[160];
        nc_conv_label(&nav->conv, ui->utf8, label, sizeof label);
        at += (size_t)snprintf(buf + at, len - at, "%s %s", nav->conv.proto, label);
    }
    if (nav->m && at < len)
        at += (size_t)snprintf(buf + at, len - at, "%sfilter: %s", at ? ", " : "", nav->filter);
    if (nav->search[0] && at < len)
        snprintf(buf + at, len - at, "%s/%s", at ? "  " : "", nav->search);
}

static bool nc_nav_pass(const nc_nav_t *nav, const nc_event_t *ev)
{
    if (nav->conv_on) {
        nc_conv_key_t k;
        if (!nc_conv_key(ev, &k) || strcmp(k.proto, nav->conv.proto) != 0 ||
            strcmp(k.a, nav->conv.a) != 0 || strcmp(k.b, nav->conv.b) != 0)
            return false;
    }
    return !nav->m || nc_match_event(nav->m, ev, NULL);
}

/* Extends the index to the first vis events. */
static void nc_nav_scan(nc_ui_t *ui, size_t vis)
{
    nc_nav_t *nav = ui->nav;
    for (; nav->scanned < vis; nav->scanned++) {
        if (!nc_nav_pass(nav, nc_timeline_get(ui->src.tl, nav->scanned)))
            continue;
        if (nav->nidx == nav->cap) {
            nav->cap = nav->cap ? nav->cap * 2 : 256;
            nav->idx = nc_xrealloc(nav->idx, nav->cap * sizeof *nav->idx);
        }
        nav->idx[nav->nidx++] = nav->scanned;
    }
}

/* The number of shown events before i (the rank of i), among the first
 * vis events. */
static size_t nc_nav_rank(nc_ui_t *ui, size_t i, size_t vis)
{
    nc_nav_scan(ui, vis);
    size_t lo = 0, hi = ui->nav->nidx;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ui->nav->idx[mid] < i)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Shown events below vis. */
static size_t nc_nav_count(nc_ui_t *ui, size_t vis)
{
    return nc_nav_rank(ui, vis, vis);
}

size_t nc_nav_from(nc_ui_t *ui, size_t i, size_t vis)
{
    if (!nc_nav_filtered(ui))
        return i < vis ? i : vis;
    size_t r = nc_nav_rank(ui, i, vis);
    return r < nc_nav_count(ui, vis) ? ui->nav->idx[r] : vis;
}

size_t nc_nav_next(nc_ui_t *ui, size_t i, size_t vis)
{
    return nc_nav_from(ui, i + 1, vis);
}

size_t nc_nav_prev(nc_ui_t *ui, size_t i, size_t vis)
{
    if (!nc_nav_filtered(ui))
        return i > 0 ? (i <= vis ? i - 1 : (vis ? vis - 1 : SIZE_MAX)) : SIZE_MAX;
    size_t r = nc_nav_rank(ui, i < vis ? i : vis, vis);
    return r > 0 ? ui->nav->idx[r - 1] : SIZE_MAX;
}

size_t nc_nav_back(nc_ui_t *ui, size_t i, size_t n, size_t vis)
{
    if (!nc_nav_filtered(ui))
        return i > n ? i - n : 0;
    size_t r = nc_nav_rank(ui, i, vis);
    if (nc_nav_count(ui, vis) == 0)
        return vis;
    return ui->nav->idx[r > n ? r - n : 0];
}

size_t nc_nav_fwd(nc_ui_t *ui, size_t i, size_t n, size_t vis)
{
    if (!nc_nav_filtered(ui))
        return i + n < vis ? i + n : (vis ? vis - 1 : 0);
    size_t count = nc_nav_count(ui, vis);
    if (count == 0)
        return vis;
    size_t r = nc_nav_rank(ui, i, vis) + n;
    return ui->nav->idx[r < count ? r : count - 1];
}

size_t nc_nav_near(nc_ui_t *ui, size_t i, size_t vis)
{
    if (vis == 0)
        return 0;
    if (i >= vis)
        i = vis - 1;
    if (!nc_nav_filtered(ui))
        return i;
    size_t at = nc_nav_from(ui, i, vis);
    if (at == i)
        return i;
    size_t before = nc_nav_prev(ui, i, vis);
    return before != SIZE_MAX ? before : at;
}

/* Case-insensitive: does hay hold needle? */
static bool nc_nav_holds(const char *hay, const char *needle)
{
    if (!hay)
        return false;
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t k = 0;
        while (k < n && hay[k] &&
               tolower((unsigned char)hay[k]) == tolower((unsigned char)needle[k]))
            k++;
        if (k == n)
            return true;
    }
    return false;
}

/* Moves the cursor to the first hit after start (before it when dir < 0),
 * wrapping around; start is SIZE_MAX to begin with the first event. */
static int nc_nav_find(nc_ui_t *ui, size_t start, int dir)
{
    nc_nav_t *nav = ui->nav;
    if (!nav || !nav->search[0]) {
        snprintf(ui->notice, sizeof ui->notice, "Nothing to find yet: / starts a search.");
        return NC_VIEW_HANDLED | NC_VIEW_REDRAW;
    }
    size_t vis = nc_ui_visible(ui);
    size_t first = nc_nav_from(ui, 0, vis);
    if (first >= vis) {
        snprintf(ui->notice, sizeof ui->notice, "No event is shown to search.");
        return NC_VIEW_HANDLED | NC_VIEW_REDRAW;
    }
    size_t i = start;
    bool wrapped = false;
    for (size_t steps = 0; steps <= vis; steps++) {
        size_t next = dir > 0 ? (i == SIZE_MAX ? first : nc_nav_next(ui, i, vis))
                              : nc_nav_prev(ui, i == SIZE_MAX ? vis : i, vis);
        if (next >= vis) { /* off either end: wrap around */
            next = dir > 0 ? first : nc_nav_prev(ui, vis, vis);
            wrapped = true;
        }
        i = next;
        const nc_event_t *ev = nc_timeline_get(ui->src.tl, i);
        if (nc_nav_holds(ev->summary, nav->search) || nc_nav_holds(ev->note, nav->search)) {
            ui->cursor = i;
            ui->follow = false;
            if (wrapped)
                snprintf(ui->notice, sizeof ui->notice, "The search went on from the %s.",
                         dir > 0 ? "top" : "bottom");
            return NC_VIEW_HANDLED | NC_VIEW_REDRAW;
        }
        if (i == start)
            break;
    }
    snprintf(ui->notice, sizeof ui->notice, "No %sevent's summary or note holds \"%s\".",
             nc_nav_filtered(ui) ? "shown " : "", nav->search);
    return NC_VIEW_HANDLED | NC_VIEW_REDRAW;
}

void nc_nav_search(nc_ui_t *ui, const char *text)
{
    nc_nav_t *nav = nc_nav_get(ui);
    snprintf(nav->search, sizeof nav->search, "%s", text ? text : "");
    /* The first hit is the cursor's event or one after it. */
    if (nav->search[0])
        nc_nav_find(ui, nc_nav_prev(ui, ui->cursor, nc_ui_visible(ui)), 1);
}

int nc_nav_hit(nc_ui_t *ui, int dir)
{
    return nc_nav_find(ui, ui->cursor, dir);
}

int nc_nav_goto(nc_ui_t *ui, const char *text)
{
    char *end;
    while (*text == ' ' || *text == '#')
        text++;
    unsigned long long n = strtoull(text, &end, 10);
    while (*end == ' ')
        end++;
    if (!ui->src.tl || text[0] < '0' || text[0] > '9' || *end != '\0') {
        snprintf(ui->notice, sizeof ui->notice,
                 "Go to takes an event's number, as the note panel shows it (#12): \"%s\" is not "
                 "one.",
                 text);
        return NC_VIEW_HANDLED | NC_VIEW_REDRAW;
    }
    size_t vis = nc_ui_visible(ui), count = nc_timeline_count(ui->src.tl);
    if (n >= vis && n < count && ui->src.reach) /* a replay's head goes there */
        vis = ui->src.reach(ui->src.ctx, ui, (size_t)n);
    if (n >= vis) {
        if (n < count)
            snprintf(ui->notice, sizeof ui->notice,
                     "Event #%llu is not shown yet: it comes after the open checkpoint.", n);
        else
            snprintf(ui->notice, sizeof ui->notice, "There is no event #%llu: the last is #%zu.", n,
                     count ? count - 1 : 0);
        return NC_VIEW_HANDLED | NC_VIEW_REDRAW;
    }
    if (nc_nav_from(ui, (size_t)n, vis) != (size_t)n) {
        snprintf(ui->notice, sizeof ui->notice,
                 "Event #%llu is hidden by the filter; & with nothing clears it.", n);
        return NC_VIEW_HANDLED | NC_VIEW_REDRAW;
    }
    ui->cursor = (size_t)n;
    ui->follow = false;
    return NC_VIEW_HANDLED | NC_VIEW_REDRAW;
}
