/*
 * convs.c: the conversations of the run on screen, and the way into one.
 *
 * A conversation is what tshark calls one: every TCP or UDP packet between
 * the same two endpoints (host and port, either direction). The view is a
 * table with one row per conversation, in order of its first packet: its
 * endpoints, packets, bytes (as captured on the wire), duration and
 * problems (retransmissions, resets, zero windows). It is built when the
 * view opens, from the events the ladder may show, through a small open
 * hash table, so a capture of a million packets and thousands of
 * connections opens in one pass. Enter filters the ladder to the selected
 * conversation (nav.c) with the cursor on its first packet; Esc goes back
 * to the ladder unchanged.
 *
 * Endpoints are named as the packet names them ("client", "server" in a
 * lesson run, addresses in a capture) with the port: "client:44310".
 */
#include "nav.h"
#include "tui.h"

#include "../core/xmalloc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct nc_conv {
    nc_conv_key_t k;
    uint64_t packets, bytes;
    int64_t t_first, t_last;
    size_t first;
    uint32_t retrans, resets, zero_windows;
} nc_conv_t;

struct nc_convs {
    nc_conv_t *v;
    size_t n, cap;
    size_t *slot; /* open hash of indices + 1 into v; 0 is empty */
    size_t nslot;
    size_t sel;
};

/* The view's table: ui->nav->convs (owned by the nav, rebuilt when the
 * view opens). */
static nc_convs_t *nc_convs_of(nc_ui_t *ui)
{
    if (!ui->nav)
        nc_nav_set_conv(ui, NULL); /* makes ui->nav, filters nothing */
    if (!ui->nav->convs)
        ui->nav->convs = nc_xcalloc(1, sizeof *ui->nav->convs);
    return ui->nav->convs;
}

/* "name:port" of one end of ev, or false when it has no such end. */
static bool nc_conv_end(const nc_event_t *ev, const char *proto, bool dst, char *buf, size_t len)
{
    char path[16];
    int64_t port;
    snprintf(path, sizeof path, "%s.%s", proto, dst ? "dport" : "sport");
    if (!nc_event_int(ev, path, &port))
        return false;
    const char *name = nc_event_str(ev, dst ? "to" : "from");
    if (!name || !*name)
        name = nc_event_str(ev, dst ? "ip.dst" : "ip.src");
    if (!name)
        return false;
    /* An IPv6 address takes brackets, so that its port reads apart. */
    if (strchr(name, ':'))
        snprintf(buf, len, "[%s]:%" PRId64, name, port);
    else
        snprintf(buf, len, "%s:%" PRId64, name, port);
    return true;
}

bool nc_conv_key(const nc_event_t *ev, nc_conv_key_t *k)
{
    if (ev->type != NC_EV_PACKET)
        return false;
    const char *proto = nc_event_get(ev, "tcp") ? "tcp" : nc_event_get(ev, "udp") ? "udp" : NULL;
    char a[72], b[72];
    if (!proto || !nc_conv_end(ev, proto, false, a, sizeof a) ||
        !nc_conv_end(ev, proto, true, b, sizeof b))
        return false;
    snprintf(k->proto, sizeof k->proto, "%s", proto);
    bool swap = strcmp(a, b) > 0;
    snprintf(k->a, sizeof k->a, "%s", swap ? b : a);
    snprintf(k->b, sizeof k->b, "%s", swap ? a : b);
    return true;
}

void nc_conv_label(const nc_conv_key_t *k, bool utf8, char *buf, size_t len)
{
    const char *colon = strrchr(k->a, ':');
    size_t host = colon ? (size_t)(colon - k->a) : 0;
    bool same = host && strncmp(k->a, k->b, host) == 0 && k->b[host] == ':';
    snprintf(buf, len, "%s %s %s", k->a, utf8 ? "↔" : "<->", k->b + (same ? host : 0));
}

static uint64_t nc_conv_hash(const nc_conv_key_t *k)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *s[] = {k->proto, k->a, k->b}, **p = s; p < s + 3; p++)
        for (const char *c = *p; *c; c++)
            h = (h ^ (unsigned char)*c) * 1099511628211ULL;
    return h;
}

static bool nc_conv_same(const nc_conv_key_t *x, const nc_conv_key_t *y)
{
    return strcmp(x->a, y->a) == 0 && strcmp(x->b, y->b) == 0 && strcmp(x->proto, y->proto) == 0;
}

/* Slot of k in s (its index + 1, or the empty slot it would take). */
static size_t *nc_convs_slot(nc_convs_t *s, const nc_conv_key_t *k)
{
    size_t at = (size_t)nc_conv_hash(k) & (s->nslot - 1);
    while (s->slot[at] && !nc_conv_same(&s->v[s->slot[at] - 1].k, k))
        at = (at + 1) & (s->nslot - 1);
    return &s->slot[at];
}

static void nc_convs_grow(nc_convs_t *s)
{
    size_t old = s->nslot;
    size_t *slots = s->slot;
    s->nslot = old ? old * 2 : 64;
    s->slot = nc_xcalloc(s->nslot, sizeof *s->slot);
    for (size_t i = 0; i < s->n; i++)
        *nc_convs_slot(s, &s->v[i].k) = i + 1;
    free(slots);
}

static void nc_convs_clear(nc_convs_t *s)
{
    free(s->v);
    free(s->slot);
    memset(s, 0, sizeof *s);
}

void nc_convs_free(nc_convs_t *s)
{
    if (s == NULL)
        return;
    nc_convs_clear(s);
    free(s);
}

/* Counts the first vis events of tl into s. */
static void nc_convs_build(nc_convs_t *s, const nc_timeline_t *tl, size_t vis)
{
    nc_convs_clear(s);
    nc_convs_grow(s);
    for (size_t i = 0; i < vis; i++) {
        const nc_event_t *ev = nc_timeline_get(tl, i);
        nc_conv_key_t k;
        if (!nc_conv_key(ev, &k))
            continue;
        size_t *slot = nc_convs_slot(s, &k);
        if (*slot == 0) {
            if (s->n == s->cap) {
                s->cap = s->cap ? s->cap * 2 : 32;
                s->v = nc_xrealloc(s->v, s->cap * sizeof *s->v);
            }
            s->v[s->n] = (nc_conv_t){.k = k, .t_first = ev->t_ns, .first = i};
            *slot = ++s->n;
            if (s->n * 2 > s->nslot) {
                nc_convs_grow(s);
                slot = nc_convs_slot(s, &k);
            }
        }
        nc_conv_t *c = &s->v[*slot - 1];
        c->packets++;
        c->bytes += ev->wirelen;
        c->t_last = ev->t_ns;
        c->retrans += nc_event_bool(ev, "tcp.retransmission");
        c->resets += nc_event_has(ev, "tcp.flags", "RST");
        c->zero_windows += nc_event_bool(ev, "tcp.zero_window");
    }
}

/* Opens the view over the events the ladder may show now. */
void nc_convs_open(nc_ui_t *ui)
{
    size_t vis = nc_ui_visible(ui);
    nc_convs_t *s = nc_convs_of(ui);
    nc_convs_build(s, ui->src.tl, vis);
    /* The selection starts on the conversation under the cursor. */
    const nc_event_t *cur =
        vis ? nc_timeline_get(ui->src.tl, ui->cursor < vis ? ui->cursor : 0) : NULL;
    nc_conv_key_t k;
    if (cur && nc_conv_key(cur, &k) && *nc_convs_slot(s, &k))
        s->sel = *nc_convs_slot(s, &k) - 1;
    nc_ui_push(ui, &nc_view_convs);
}

static void nc_convs_problems(const nc_conv_t *c, char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = '\0';
    const struct {
        uint32_t n;
        const char *one, *many;
    } p[] = {
        {c->retrans, "retransmission", "retransmissions"},
        {c->resets, "reset", "resets"},
        {c->zero_windows, "zero window", "zero windows"},
    };
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++)
        if (p[i].n && at < len)
            at += (size_t)snprintf(buf + at, len - at, "%s%" PRIu32 " %s", at ? ", " : "", p[i].n,
                                   p[i].n == 1 ? p[i].one : p[i].many);
    if (!at)
        snprintf(buf, len, "-");
}

static void nc_convs_draw(nc_canvas_t *c, nc_ui_t *ui)
{
    nc_convs_t *s = nc_convs_of(ui);
    char right[64];
    snprintf(right, sizeof right, "%zu conversation%s", s->n, s->n == 1 ? "" : "s");
    nc_ui_title(c, 0, "Conversations: TCP and UDP", right);
    nc_canvas_hline(c, 1, 0, c->w, NC_STYLE(0, NC_ROLE_MUTED));
    if (s->n == 0) {
        nc_canvas_wrap(c, 3, 2, 3, c->w - 4,
                       "No TCP or UDP packets are shown yet, so there is no conversation.",
                       NC_STYLE(0, NC_ROLE_MUTED));
        return;
    }
    if (s->sel >= s->n)
        s->sel = s->n - 1;
    /* The endpoints take what the numbers leave, keeping 12 columns for
     * the problems. */
    int ew = c->w - 3 - 5 - 1 - 7 - 1 - 10 - 1 - 9 - 2 - 12;
    if (ew > 48)
        ew = 48;
    nc_canvas_printf(c, 2, 3, NC_STYLE(NC_A_BOLD, NC_ROLE_MUTED), "%-4s %-*s %7s %10s %9s  %s", "",
                     ew, "endpoints", "packets", "bytes", "duration", "problems");
    int ly = 3, lh = c->h - 1 - ly - 2;
    size_t top = s->sel >= (size_t)lh ? s->sel - (size_t)lh + 1 : 0;
    for (int r = 0; r < lh && top + (size_t)r < s->n; r++) {
        size_t i = top + (size_t)r;
        const nc_conv_t *v = &s->v[i];
        char label[160], bytes[32], problems[96];
        nc_conv_label(&v->k, ui->utf8, label, sizeof label);
        nc_tui_bytes((int64_t)v->bytes, bytes, sizeof bytes);
        nc_convs_problems(v, problems, sizeof problems);
        int x = nc_canvas_printf(c, ly + r, 3, NC_STYLE(0, NC_ROLE_MUTED), "%-4s ", v->k.proto);
        nc_canvas_textn(c, ly + r, x, ew, label, NC_PLAIN, true);
        nc_canvas_printf(c, ly + r, x + ew + 1, NC_PLAIN, "%7" PRIu64 " %10s %8.3fs  ", v->packets,
                         bytes, (double)(v->t_last - v->t_first) / 1e9);
        nc_canvas_textn(c, ly + r, x + ew + 30, c->w - (x + ew + 31), problems,
                        NC_STYLE(0, problems[0] == '-' ? NC_ROLE_MUTED : NC_ROLE_BAD), true);
        if (i == s->sel) {
            nc_canvas_text(c, ly + r, 1, ui->utf8 ? "▸" : ">", NC_STYLE(NC_A_BOLD, NC_ROLE_ACCENT));
            nc_canvas_mark(c, ly + r, 1, c->w - 2, NC_STYLE(NC_A_REVERSE, NC_ROLE_NORMAL));
        }
    }
    nc_canvas_hline(c, c->h - 3, 0, c->w, NC_STYLE(0, NC_ROLE_MUTED));
    nc_canvas_textn(c, c->h - 2, 1, c->w - 2,
                    "Enter shows this conversation's ladder alone; & with nothing there shows "
                    "every event again.",
                    NC_STYLE(0, NC_ROLE_MUTED), true);
}

static int nc_convs_key(nc_ui_t *ui, nc_action_t a, int key)
{
    nc_convs_t *s = nc_convs_of(ui);
    size_t page = ui->h > 8 ? (size_t)ui->h - 7 : 1;
    switch (a) {
    case NC_ACT_UP:
        s->sel = s->sel > 0 ? s->sel - 1 : 0;
        break;
    case NC_ACT_DOWN:
        s->sel = s->sel + 1 < s->n ? s->sel + 1 : s->sel;
        break;
    case NC_ACT_PGUP:
        s->sel = s->sel > page ? s->sel - page : 0;
        break;
    case NC_ACT_PGDN:
        s->sel = s->sel + page < s->n ? s->sel + page : (s->n ? s->n - 1 : 0);
        break;
    case NC_ACT_TOP:
        s->sel = 0;
        break;
    case NC_ACT_BOTTOM:
        s->sel = s->n ? s->n - 1 : 0;
        break;
    case NC_ACT_OPEN:
        if (s->sel < s->n) {
            nc_nav_set_conv(ui, &s->v[s->sel].k);
            ui->cursor = s->v[s->sel].first;
            ui->follow = false;
        }
        nc_ui_pop(ui);
        break;
    case NC_ACT_CONVS:
        nc_ui_pop(ui);
        break;
    default:
        return 0;
    }
    return NC_VIEW_HANDLED | NC_VIEW_REDRAW;
}

static const nc_action_t nc_convs_footer[] = {
    NC_ACT_UP, NC_ACT_DOWN, NC_ACT_OPEN, NC_ACT_HELP, NC_ACT_BACK, NC_ACT_NONE,
};

const nc_view_t nc_view_convs = {
    .name = "conversations",
    .draw = nc_convs_draw,
    .key = nc_convs_key,
    .footer = nc_convs_footer,
    .legend = nc_legend_convs,
};
