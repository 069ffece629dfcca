/*
 * ladder.c: the live ladder diagram.
 *
 * Time runs down: one row per event of ui->src.tl, with its time at the
 * left. Each host is a lane (a vertical line); a packet is an arrow from
 * its sender's lane to its receiver's, labelled with the event's summary; a
 * packet the wire dropped stops half-way with a cross; an app event is text
 * beside its host's lane; marks, notes and state samples are muted lines
 * across the whole width. Lanes are laid out on every draw from the hosts in
 * the visible events: the client at the left, the server at the right, any
 * other host between them in order of first appearance; a lesson with the
 * "local" topology has a single lane. Where a packet's two hosts are one
 * (a loopback capture, hosts behind NAT), the lanes are endpoints instead,
 * host and port ("127.0.0.1:8080"), so each side of a connection has one.
 *
 * ui->cursor is the selected event (reverse video); with ui->follow it stays
 * on the newest one. Under the ladder, a panel shows the selected event's
 * note, or a checkpoint: while a checkpoint is asked and not answered the
 * ladder stops at its "asked" mark (nc_ui_visible) and shows the question;
 * once answered, the events flow again and the panel shows the verdict as
 * soon as the run has decided it.
 *
 * When the run has socket-state events and the terminal is at least
 * NC_LADDER_SIDE_MIN wide, a side panel (gauges.c, chart.c) shows the
 * kernel's queues and buffers as of the cursor, and a chart of one value
 * over the run. App events sit in a lane of their own beside their host's
 * line, marked with a bullet.
 *
 * Nothing is cut silently. A program's report that does not fit beside its
 * lane wraps onto up to NC_LADDER_WRAP rows (rows differ in height, and
 * scrolling keeps every row of the cursor's event on screen); the ladder
 * clips itself to its own columns, so a line that meets the state panel
 * ends there with an ellipsis; the note panel shows the selected event's
 * whole line. Where a host has more than one connection (parallel clients,
 * several workers), each arrow names its connection by the port on the
 * left lane's side, the client's: ":40112 FIN,ACK seq=1 ack=6".
 */
#include "gauges.h"
#include "ladder_streams.h"
#include "nav.h"
#include "ui.h"

#include "../core/xmalloc.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define NC_LADDER_LANES 8
#define NC_LADDER_SIDE_MIN 100 /* narrowest terminal with the state panel */

#define NC_LADDER_WRAP 3 /* most rows one event's text may take */
#define NC_LADDER_OPENED 256 /* connections a middlebox's lanes can tell apart */

/* A host's connections, as far as the ladder can tell them apart: the
 * first port pair seen, and whether another one was seen. */
typedef struct nc_lane_conns {
    const char *host;
    uint32_t first; /* lower port << 16 | higher port */
    bool multi;
} nc_lane_conns_t;

typedef struct nc_lanes {
    const char *name[NC_LADDER_LANES];
    int x[NC_LADDER_LANES];
    int n;
    int w; /* the ladder's width (the state panel may take the rest) */
    nc_lane_conns_t conns[NC_LADDER_LANES];
    int nconns;
    /* Lanes are endpoints ("127.0.0.1:8080") when a packet's two hosts are
     * one (loopback, NAT): the names are then kept in ends[]. */
    bool ends;
    char endname[NC_LADDER_LANES][80];
    /* Middleboxes. The endpoints (host, port) that opened a connection (a
     * SYN's sender, a connect() that returned), and per host whether it
     * opened (out) and took (in) connections. A host that did both (a proxy,
     * a balancer, a relay) gets two adjacent lanes, "HOST in" facing its
     * clients and "HOST out" facing its servers (nc_lanes_split). */
    struct {
        const char *host;
        int64_t port;
    } opened[NC_LADDER_OPENED];
    int nopened;
    struct {
        const char *host;
        bool in, out;
    } side[NC_LADDER_LANES];
    int nside;
} nc_lanes_t;

static int nc_lanes_find(const nc_lanes_t *L, const char *name)
{
    for (int i = 0; name && i < L->n; i++)
        if (strcmp(L->name[i], name) == 0)
            return i;
    return -1;
}

/* Notes that host opened (out) or took (in) a connection. */
static void nc_lanes_side(nc_lanes_t *L, const char *host, bool out)
{
    int i = 0;
    while (i < L->nside && strcmp(L->side[i].host, host) != 0)
        i++;
    if (i == L->nside) {
        if (L->nside == NC_LADDER_LANES)
            return;
        L->side[L->nside++].host = host;
    }
    if (out)
        L->side[i].out = true;
    else
        L->side[i].in = true;
}

/* 1: host both took and opened connections (two lanes), 0: it only
 * opened, 2: it only took, -1: nothing seen. */
static int nc_lanes_kind(const nc_lanes_t *L, const char *host)
{
    for (int i = 0; host && i < L->nside; i++)
        if (strcmp(L->side[i].host, host) == 0)
            return L->side[i].in && L->side[i].out ? 1 : L->side[i].out ? 0 : 2;
    return -1;
}

static void nc_lanes_opened(nc_lanes_t *L, const char *host, int64_t port)
{
    for (int i = 0; i < L->nopened; i++)
        if (L->opened[i].port == port && strcmp(L->opened[i].host, host) == 0)
            return;
    if (L->nopened < NC_LADDER_OPENED) {
        L->opened[L->nopened].host = host;
        L->opened[L->nopened++].port = port;
    }
    nc_lanes_side(L, host, true);
}

/* Did host open the connection its local port belongs to? */
static bool nc_lanes_is_opened(const nc_lanes_t *L, const char *host, int64_t port)
{
    for (int i = 0; i < L->nopened; i++)
        if (L->opened[i].port == port && strcmp(L->opened[i].host, host) == 0)
            return true;
    return false;
}

/* The lane name of a middlebox's side: "middle in" or "middle out" in buf;
 * host itself when it has one lane. */
static const char *nc_lanes_split(const nc_lanes_t *L, const char *host, bool out, char *buf,
                                  size_t len)
{
    if (!host || nc_lanes_kind(L, host) != 1)
        return host;
    snprintf(buf, len, "%s %s", host, out ? "out" : "in");
    return buf;
}

/* The lane of an app event: on a middlebox, its connect() and anything on
 * a connection it opened belong to the "out" lane, the rest to "in". */
static const char *nc_lanes_app(const nc_lanes_t *L, const nc_event_t *ev, char *buf, size_t len)
{
    const char *call = nc_event_str(ev, "call");
    int64_t port;
    bool out = (call && strcmp(call, "connect") == 0) ||
               (nc_event_int(ev, "port", &port) && nc_lanes_is_opened(L, ev->host, port));
    return nc_lanes_split(L, ev->host, out, buf, len);
}

/* The port pair of a TCP or UDP packet (lower << 16 | higher), or 0. */
static uint32_t nc_ladder_ports(const nc_event_t *ev, int64_t *sport, int64_t *dport)
{
    if (!(nc_event_int(ev, "tcp.sport", sport) && nc_event_int(ev, "tcp.dport", dport)) &&
        !(nc_event_int(ev, "udp.sport", sport) && nc_event_int(ev, "udp.dport", dport)))
        return 0;
    uint32_t a = (uint32_t)*sport & 0xffff, b = (uint32_t)*dport & 0xffff;
    return a < b ? a << 16 | b : b << 16 | a;
}

/* True when text already names port as a word of its own ("UDP 39650 >
 * 7"), so a tag would only repeat it. */
static bool nc_ladder_says_port(const char *text, int64_t port)
{
    char word[16];
    int n = snprintf(word, sizeof word, "%lld", (long long)port);
    for (const char *p = strstr(text, word); p; p = strstr(p + 1, word)) {
        bool start = p == text || p[-1] == ' ';
        bool end = p[n] == '\0' || p[n] == ' ' || p[n] == ':';
        if (start && end)
            return true;
    }
    return false;
}

/* Notes that host has the connection key. */
static void nc_lanes_conn(nc_lanes_t *L, const char *host, uint32_t key)
{
    if (!host || !key)
        return;
    for (int i = 0; i < L->nconns; i++) {
        if (strcmp(L->conns[i].host, host) == 0) {
            L->conns[i].multi = L->conns[i].multi || L->conns[i].first != key;
            return;
        }
    }
    if (L->nconns < NC_LADDER_LANES)
        L->conns[L->nconns++] = (nc_lane_conns_t){host, key, false};
}

/* True when host was seen with more than one connection. */
static bool nc_lanes_multi(const nc_lanes_t *L, const char *host)
{
    for (int i = 0; host && i < L->nconns; i++)
        if (strcmp(L->conns[i].host, host) == 0)
            return L->conns[i].multi;
    return false;
}

/* Moves lane i to position to, shifting the others. */
static void nc_lanes_move(nc_lanes_t *L, int i, int to)
{
    const char *name = L->name[i];
    if (i < to)
        memmove(&L->name[i], &L->name[i + 1], (size_t)(to - i) * sizeof L->name[0]);
    else if (i > to)
        memmove(&L->name[to + 1], &L->name[to], (size_t)(i - to) * sizeof L->name[0]);
    L->name[to] = name;
}

/* The lane name of a packet's sender (to: its receiver): the host, or with
 * endpoint lanes the host and port, written into buf. NULL when none. */
static const char *nc_ladder_end(const nc_lanes_t *L, const nc_event_t *ev, bool to, char *buf,
                                 size_t len)
{
    const char *host = nc_event_str(ev, to ? "to" : "from");
    int64_t sp, dp;
    if (!L->ends && host && nc_ladder_ports(ev, &sp, &dp))
        return nc_lanes_split(L, host, nc_lanes_is_opened(L, host, to ? dp : sp), buf, len);
    if (!L->ends && host) {
        /* No connection to go by (ARP): a middlebox's side is the peer's,
         * "out" towards a host that only takes connections. */
        const char *peer = nc_event_str(ev, to ? "from" : "to");
        return nc_lanes_split(L, host, nc_lanes_kind(L, peer) == 2, buf, len);
    }
    if (!L->ends || !host || !nc_ladder_ports(ev, &sp, &dp))
        return host;
    snprintf(buf, len, "%s:%lld", host, (long long)(to ? dp : sp));
    return buf;
}

/* Adds an endpoint lane, its name copied into L. */
static void nc_lanes_add_end(nc_lanes_t *L, const char *name)
{
    if (!name || L->n >= NC_LADDER_LANES || nc_lanes_find(L, name) >= 0)
        return;
    snprintf(L->endname[L->n], sizeof L->endname[0], "%s", name);
    L->name[L->n] = L->endname[L->n];
    L->n++;
}

/* The length of the host part ("127.0.0.1") that every endpoint lane's
 * name shares, up to its last ':', or 0 when they differ. */
static size_t nc_lanes_host(const nc_lanes_t *L)
{
    const char *colon = strrchr(L->name[0], ':');
    size_t n = colon ? (size_t)(colon - L->name[0]) : 0;
    for (int i = 1; n && i < L->n; i++)
        if (strncmp(L->name[i], L->name[0], n) != 0 || L->name[i][n] != ':' ||
            strchr(L->name[i] + n + 1, ':'))
            n = 0;
    return n;
}

/* Where a lane goes when a middlebox is in view: hosts that only opened
 * connections (clients) at the left, then each middlebox's "in" and "out"
 * lanes side by side, then hosts that only took connections (servers), so
 * that a request reads from left to right across the box. */
static int nc_lanes_rank(const nc_lanes_t *L, const char *name)
{
    char host[80];
    size_t n = strlen(name);
    if (n > 3 && strcmp(name + n - 3, " in") == 0) {
        snprintf(host, sizeof host, "%.*s", (int)(n - 3), name);
        if (nc_lanes_kind(L, host) == 1)
            return 1;
    }
    if (n > 4 && strcmp(name + n - 4, " out") == 0) {
        snprintf(host, sizeof host, "%.*s", (int)(n - 4), name);
        if (nc_lanes_kind(L, host) == 1)
            return 2;
    }
    return nc_lanes_kind(L, name) == 2 ? 3 : 0;
}

/* Orders the lanes by rank (stable) when a middlebox has two lanes. */
static void nc_lanes_order(nc_lanes_t *L)
{
    bool box = false;
    for (int i = 0; i < L->nside; i++)
        box = box || (L->side[i].in && L->side[i].out);
    if (!box)
        return;
    for (int i = 1; i < L->n; i++)
        for (int j = i; j > 0 && nc_lanes_rank(L, L->name[j - 1]) > nc_lanes_rank(L, L->name[j]);
             j--) {
            const char *t = L->name[j];
            L->name[j] = L->name[j - 1];
            L->name[j - 1] = t;
        }
}

/* Lanes come from the first NC_LADDER_SCAN events and the rows on screen
 * (ladder_streams.h), so a replayed capture of a million packets costs no
 * more per draw. */

static void nc_ladder_lanes(nc_ui_t *ui, size_t vis, int w, nc_lanes_t *L)
{
    memset(L, 0, sizeof *L);
    L->w = w;
    /* The first pass finds who opened which connection, and a packet whose
     * two hosts are one: then the second lays out endpoint lanes instead of
     * hosts. */
    for (int pass = 0; pass < 2; pass++) {
        nc_lscan_t scan;
        nc_lscan_start(&scan, ui, vis);
        const nc_event_t *ev;
        while ((ev = nc_lscan_next(&scan, ui)) != NULL) {
            const char *from = nc_event_str(ev, "from"), *to = nc_event_str(ev, "to");
            int64_t sp, dp;
            uint32_t key = ev->type == NC_EV_PACKET ? nc_ladder_ports(ev, &sp, &dp) : 0;
            if (pass == 0) {
                /* Who opened which connection: a SYN's sender, a connect()
                 * that returned. */
                int64_t port;
                const char *call = nc_event_str(ev, "call");
                if (key && from && to && strcmp(from, to) == 0)
                    L->ends = true;
                else if (key && from && to && nc_event_has(ev, "tcp.flags", "SYN") &&
                         !nc_event_has(ev, "tcp.flags", "ACK")) {
                    nc_lanes_opened(L, from, sp);
                    nc_lanes_side(L, to, false);
                } else if (ev->type == NC_EV_APP && call && strcmp(call, "connect") == 0 &&
                           nc_event_int(ev, "port", &port))
                    nc_lanes_opened(L, ev->host, port);
                continue;
            }
            char a[80], b[80];
            if (ev->type == NC_EV_PACKET && L->ends) {
                nc_lanes_add_end(L, nc_ladder_end(L, ev, false, a, sizeof a));
                nc_lanes_add_end(L, nc_ladder_end(L, ev, true, b, sizeof b));
            } else if (ev->type == NC_EV_PACKET) {
                nc_lanes_add_end(L, nc_ladder_end(L, ev, false, a, sizeof a));
                nc_lanes_add_end(L, nc_ladder_end(L, ev, true, b, sizeof b));
                nc_lanes_conn(L, from, key);
                nc_lanes_conn(L, to, key);
            } else if (ev->type == NC_EV_APP) {
                nc_lanes_add_end(L, nc_lanes_app(L, ev, a, sizeof a));
            }
        }
        if (L->ends) /* one host on both ends: no middlebox lanes */
            L->nopened = L->nside = 0;
    }
    bool local = ui->lesson && ui->lesson->topology && strcmp(ui->lesson->topology, "local") == 0;
    /* Lanes at least 14 columns apart; 12 where a middlebox has two, so a
     * fan (two clients, the balancer's two lanes, three backends) fits in
     * 100 columns. */
    bool box = false;
    for (int i = 0; i < L->nside; i++)
        box = box || (L->side[i].in && L->side[i].out);
    int cap = (w - NC_LADDER_T) / (box ? 12 : 14);
    if (cap < 1)
        cap = 1;
    /* On one loopback the client (127.0.0.2) and the server still get a lane
     * each; anything else seen there shares one lane. */
    if (local && !(nc_lanes_find(L, "client") >= 0 && nc_lanes_find(L, "server") >= 0)) {
        L->n = L->n > 0 ? 1 : 0;
        L->x[0] = NC_LADDER_T + 2;
        return;
    }
    int c = nc_lanes_find(L, "client");
    if (c > 0)
        nc_lanes_move(L, c, 0);
    int s = nc_lanes_find(L, "server");
    if (s >= 0 && s < L->n - 1)
        nc_lanes_move(L, s, L->n - 1);
    nc_lanes_order(L);
    if (L->n > cap) {
        /* Keep the server at the right edge when lanes are cut. */
        s = nc_lanes_find(L, "server");
        if (s >= cap)
            nc_lanes_move(L, s, cap - 1);
        L->n = cap;
    }
    int left = NC_LADDER_T + 2, right = w - 3;
    for (int i = 0; i < L->n; i++)
        L->x[i] = L->n == 1 ? left : left + i * (right - left) / (L->n - 1);
}

static nc_role_t nc_ladder_role(const nc_lanes_t *L, int lane)
{
    if (lane < 0)
        return NC_ROLE_NORMAL;
    if (strcmp(L->name[lane], "client") == 0)
        return NC_ROLE_CLIENT;
    if (strcmp(L->name[lane], "server") == 0)
        return NC_ROLE_SERVER;
    if (lane == 0)
        return NC_ROLE_CLIENT;
    return lane == L->n - 1 ? NC_ROLE_SERVER : NC_ROLE_ACCENT;
}

/* The columns text beside a lane may take: to its right, or for the
 * rightmost of several lanes to its left, so it never runs off the
 * ladder. Sets *x0 and returns the width (< 1: no room). */
static int nc_ladder_lane_room(const nc_lanes_t *L, int lane, int *x0)
{
    int x = L->x[lane];
    if (L->n >= 2 && lane == L->n - 1) {
        *x0 = L->x[lane - 1] + 2;
        return x - 2 - *x0;
    }
    *x0 = x + 2;
    int right = lane + 1 < L->n ? L->x[lane + 1] - 2 : L->w - 1;
    return right - *x0;
}

/* The rows a lane's text needs, wrapped at word boundaries into its room
 * (at most NC_LADDER_WRAP). */
static int nc_ladder_lane_rows(const nc_lanes_t *L, int lane, const char *text)
{
    int x0, room = nc_ladder_lane_room(L, lane, &x0);
    if (room < 8 || nc_text_width(text) <= room)
        return 1;
    nc_cellv_t v;
    nc_cellv_init(&v);
    nc_cellv_puts(&v, text, NC_PLAIN);
    size_t at = 0, end, next;
    int lines = 0;
    while (lines < NC_LADDER_WRAP && nc_cellv_wrap(&v, at, room, &end, &next))
        lines++, at = next;
    nc_cellv_done(&v);
    return lines > 0 ? lines : 1;
}

/*
 * Text beside a lane in rows rows: wrapped rather than cut, so what a
 * program reported ("connections per worker: worker 1: 6, worker 2: 2,
 * worker 3: 4") is read whole; beside the rightmost lane each line ends at
 * the lane. What still does not fit ends with an ellipsis.
 */
static void nc_ladder_lane_text(nc_canvas_t *c, const nc_lanes_t *L, int lane, int y, int rows,
                                const char *text, nc_style_t st)
{
    int x0, room = nc_ladder_lane_room(L, lane, &x0);
    if (room < 1)
        return;
    bool right = L->n >= 2 && lane == L->n - 1;
    nc_cellv_t v;
    nc_cellv_init(&v);
    nc_cellv_puts(&v, text, st);
    size_t at = 0, end, next;
    for (int r = 0; r < rows && nc_cellv_wrap(&v, at, room, &end, &next); r++) {
        bool last = r == rows - 1 || rows == 1;
        if (last) {
            /* The last row takes the rest, cut (and marked) if need be. */
            nc_buf_t b;
            nc_buf_init(&b);
            for (size_t k = at; k < v.n; k++)
                nc_utf8_put(&b, v.v[k].ch);
            const char *rest = nc_buf_cstr(&b);
            int tw = nc_text_width(rest), lw = tw < room ? tw : room;
            nc_canvas_textn(c, y + r, right ? L->x[lane] - 1 - lw : x0, lw, rest, st, true);
            nc_buf_done(&b);
            break;
        }
        int lw = 0;
        for (size_t k = at; k < end; k++)
            lw += nc_wcwidth(v.v[k].ch);
        nc_canvas_cells(c, y + r, right ? L->x[lane] - 1 - lw : x0, v.v + at, end - at);
        at = next;
    }
    nc_cellv_done(&v);
}

/* A label centred in the columns [lo, hi], padded with a space each side. */
static void nc_ladder_label(nc_canvas_t *c, int y, int lo, int hi, const char *text,
                            nc_style_t st)
{
    int span = hi - lo + 1, room = span - 6;
    if (room < 3)
        return;
    int tw = nc_text_width(text);
    int lw = tw < room ? tw : room;
    int x = lo + (span - lw) / 2;
    nc_canvas_fill(c, y, x - 1, 1, lw + 2, ' ', st);
    nc_canvas_textn(c, y, x, lw, text, st, true);
}

/* The student's own traffic, from a shell in the lab ("student": 1). */
static bool nc_ladder_student(const nc_event_t *ev)
{
    int64_t v = 0;
    return nc_event_int(ev, "student", &v) && v != 0;
}

static void nc_ladder_arrow(nc_canvas_t *c, const nc_lanes_t *L, int fa, int fb, int y,
                            const nc_event_t *ev)
{
    int xa = L->x[fa], xb = L->x[fb], dir = xb > xa ? 1 : -1;
    const char *label = ev->summary;
    /* Where a host has several connections, each arrow names its own: the
     * port on the left lane's side (the client's, as lanes are laid out).
     * The student's own traffic says so first. */
    char tagged[320];
    int64_t sp, dp;
    bool port = (nc_lanes_multi(L, L->name[fa]) || nc_lanes_multi(L, L->name[fb])) &&
                nc_ladder_ports(ev, &sp, &dp) && !nc_ladder_says_port(label, dir > 0 ? sp : dp);
    if (port || nc_ladder_student(ev)) {
        char pbuf[24] = "";
        if (port)
            snprintf(pbuf, sizeof pbuf, ":%lld ", (long long)(dir > 0 ? sp : dp));
        snprintf(tagged, sizeof tagged, "%s%s%s", nc_ladder_student(ev) ? "you: " : "", pbuf,
                 ev->summary);
        label = tagged;
    }
    if (!nc_event_bool(ev, "dropped")) {
        nc_style_t st = NC_STYLE(0, nc_ladder_role(L, fa));
        int lo = (xa < xb ? xa : xb) + 1, hi = (xa < xb ? xb : xa) - 1;
        nc_canvas_hline(c, y, lo, hi - lo + 1, st);
        if (dir > 0)
            nc_canvas_text(c, y, hi, nc_canvas_glyph(c, NC_G_RARROW), st);
        else
            nc_canvas_text(c, y, lo, nc_canvas_glyph(c, NC_G_LARROW), st);
        nc_ladder_label(c, y, lo, hi, label, st);
        return;
    }
    /* Dropped: the line stops half-way at a cross; the label fills the
     * half the packet never crossed. */
    nc_style_t st = NC_STYLE(NC_A_BOLD, NC_ROLE_DROPPED);
    int mid = (xa + xb) / 2;
    if (dir > 0) {
        nc_canvas_hline(c, y, xa + 1, mid - xa - 1, st);
        nc_canvas_text(c, y, mid, nc_canvas_glyph(c, NC_G_DROP), st);
        nc_canvas_textn(c, y, mid + 2, xb - 2 - (mid + 2), label, st, true);
    } else {
        nc_canvas_hline(c, y, mid + 1, xa - mid - 1, st);
        nc_canvas_text(c, y, mid, nc_canvas_glyph(c, NC_G_DROP), st);
        int room = mid - 2 - (xb + 2);
        int tw = nc_text_width(label), lw = tw < room ? tw : room;
        if (lw > 0)
            nc_canvas_textn(c, y, mid - 1 - lw, lw, label, st, true);
    }
}

/* A middlebox's decisions (lessons/README.md, Middleboxes): the app
 * events that chose what happens to a request. */
static const char *const nc_ladder_decisions[] = {
    "choose", "tunnel", "cache", "retry", "timeout", "refuse", NULL,
};

static bool nc_ladder_decision(const nc_event_t *ev)
{
    const char *call = ev->type == NC_EV_APP ? nc_event_str(ev, "call") : NULL;
    for (size_t i = 0; call && nc_ladder_decisions[i]; i++)
        if (strcmp(call, nc_ladder_decisions[i]) == 0)
            return true;
    return false;
}

/* A decision on a middlebox with two lanes is drawn across them, from its
 * "in" lane to its "out" lane; sets the two lanes. */
static bool nc_ladder_bridge(const nc_lanes_t *L, const nc_event_t *ev, int *in, int *out)
{
    char a[96], b[96];
    if (!nc_ladder_decision(ev) || nc_lanes_kind(L, ev->host) != 1)
        return false;
    *in = nc_lanes_find(L, nc_lanes_split(L, ev->host, false, a, sizeof a));
    *out = nc_lanes_find(L, nc_lanes_split(L, ev->host, true, b, sizeof b));
    return *in >= 0 && *out > *in;
}

#define NC_LADDER_LINK_SCAN 4096 /* events after a decision searched for its packet out */

/*
 * The packets a decision is linked to: in, the packet that brought what it
 * decided on (its "packet" field), and out, the first segment with data
 * the box sent on the upstream connection its "forward" event names (the
 * forward that carries this client's port as in_peer_port). Either is -1
 * when the run has none (a cache hit sends nothing upstream; another
 * decision for the same client ends the search).
 */
static void nc_ladder_links(nc_ui_t *ui, size_t vis, size_t at, int64_t *in, int64_t *out)
{
    *in = *out = -1;
    const nc_event_t *d = nc_timeline_get(ui->src.tl, at);
    if (!nc_ladder_decision(d))
        return;
    if (!nc_event_int(d, "packet", in))
        *in = -1;
    int64_t peer = -1, v, up = -1;
    nc_event_int(d, "peer_port", &peer);
    for (size_t i = at + 1; i < vis && i < at + NC_LADDER_LINK_SCAN; i++) {
        const nc_event_t *ev = nc_timeline_get(ui->src.tl, i);
        const char *from = nc_event_str(ev, "from");
        if (ev->type == NC_EV_APP && strcmp(ev->host, d->host) == 0) {
            const char *call = nc_event_str(ev, "call");
            bool same = nc_event_int(ev, "peer_port", &v) && v == peer;
            if (up < 0 && nc_ladder_decision(ev) && same)
                return;
            if (up < 0 && call && strcmp(call, "forward") == 0 &&
                nc_event_int(ev, "in_peer_port", &v) && v == peer)
                nc_event_int(ev, "port", &up);
        } else if (up >= 0 && ev->type == NC_EV_PACKET && from && strcmp(from, d->host) == 0 &&
                   nc_event_int(ev, "tcp.sport", &v) && v == up &&
                   nc_event_int(ev, "tcp.len", &v) && v > 0) {
            *out = (int64_t)i;
            return;
        }
    }
}

/*
 * The text an event shows beside a lane, for the events shown that way: an
 * app event's summary, and a packet between hosts that do not have two
 * lanes. Returns the lane (its style in *st), or -1 for an arrow or a line
 * across the ladder.
 */
static int nc_ladder_lane_of(nc_canvas_t *c, const nc_lanes_t *L, const nc_event_t *ev, char *text,
                             size_t n, nc_style_t *st)
{
    if (L->n == 0 || ev->type == NC_EV_MARK || ev->type == NC_EV_STATE || ev->type == NC_EV_NOTE)
        return -1;
    int bin, bout;
    if (nc_ladder_bridge(L, ev, &bin, &bout))
        return -1;
    if (ev->type != NC_EV_PACKET) {
        char side[96];
        int lane = nc_lanes_find(L, nc_lanes_app(L, ev, side, sizeof side));
        if (lane < 0)
            lane = 0;
        *st = NC_STYLE(NC_A_BOLD, nc_ladder_role(L, lane));
        snprintf(text, n, "%s", ev->summary);
        return lane;
    }
    char fbuf[80], tbuf[80];
    const char *from = nc_ladder_end(L, ev, false, fbuf, sizeof fbuf);
    const char *to = nc_ladder_end(L, ev, true, tbuf, sizeof tbuf);
    int fa = nc_lanes_find(L, from), fb = nc_lanes_find(L, to);
    if (fa >= 0 && fb >= 0 && fa != fb)
        return -1;
    /* One lane (or a host without one): an arrow and the summary. */
    int lane = fa >= 0 ? fa : 0;
    bool dropped = nc_event_bool(ev, "dropped");
    *st = dropped ? NC_STYLE(NC_A_BOLD, NC_ROLE_DROPPED) : NC_STYLE(0, nc_ladder_role(L, lane));
    const char *arrow = nc_canvas_glyph(c, dropped ? NC_G_DROP : NC_G_RARROW);
    const char *you = nc_ladder_student(ev) ? "you: " : "";
    if (from && to && strcmp(from, to) != 0)
        snprintf(text, n, "%s%s %s %s: %s%s", you, from, arrow, to, ev->summary,
                 dropped ? " (dropped)" : "");
    else
        snprintf(text, n, "%s%s %s%s", you, arrow, ev->summary, dropped ? " (dropped)" : "");
    return lane;
}

/* The rows an event takes on the ladder: one, or more for a lane's text
 * that needs them. */
static int nc_ladder_rows_of(nc_canvas_t *c, const nc_lanes_t *L, const nc_event_t *ev)
{
    char text[512];
    nc_style_t st;
    int lane = nc_ladder_lane_of(c, L, ev, text, sizeof text, &st);
    return lane < 0 ? 1 : nc_ladder_lane_rows(L, lane, text);
}

/* Draws one event in rows rows from y. */
static void nc_ladder_row(nc_canvas_t *c, const nc_lanes_t *L, const nc_event_t *ev, int y,
                          int rows)
{
    nc_canvas_printf(c, y, 0, NC_STYLE(0, NC_ROLE_MUTED), "+%.6f", (double)ev->t_ns / 1e9);
    if (ev->type == NC_EV_MARK || ev->type == NC_EV_STATE || ev->type == NC_EV_NOTE) {
        nc_style_t st = NC_STYLE(NC_A_DIM, NC_ROLE_MUTED);
        nc_canvas_hline(c, y, NC_LADDER_T, 2, st);
        nc_canvas_textn(c, y, NC_LADDER_T + 3, L->w - NC_LADDER_T - 4, ev->summary, st, true);
        return;
    }
    for (int i = 0; i < L->n; i++)
        nc_canvas_vline(c, y, L->x[i], rows, NC_STYLE(0, NC_ROLE_MUTED));
    char text[512];
    nc_style_t st;
    int lane = nc_ladder_lane_of(c, L, ev, text, sizeof text, &st);
    int bin, bout;
    if (lane < 0 && nc_ladder_bridge(L, ev, &bin, &bout)) {
        /* The box's decision, across its two lanes: request in on the
         * left, request out on the right. */
        nc_style_t bs = NC_STYLE(NC_A_BOLD, NC_ROLE_ACCENT);
        nc_canvas_hline(c, y, L->x[bin] + 1, L->x[bout] - L->x[bin] - 1, bs);
        nc_canvas_text(c, y, L->x[bin], nc_canvas_glyph(c, NC_G_BULLET), bs);
        nc_canvas_text(c, y, L->x[bout], nc_canvas_glyph(c, NC_G_BULLET), bs);
        nc_ladder_label(c, y, L->x[bin], L->x[bout], ev->summary, bs);
        return;
    }
    if (lane < 0) {
        char fbuf[80], tbuf[80];
        if (L->n > 0 && ev->type == NC_EV_PACKET)
            nc_ladder_arrow(c, L, nc_lanes_find(L, nc_ladder_end(L, ev, false, fbuf, sizeof fbuf)),
                            nc_lanes_find(L, nc_ladder_end(L, ev, true, tbuf, sizeof tbuf)), y,
                            ev);
        return;
    }
    if (ev->type != NC_EV_PACKET) {
        /* The host's app lane: a bullet just beside its line. */
        bool rightmost = L->n >= 2 && lane == L->n - 1;
        nc_canvas_text(c, y, L->x[lane] + (rightmost ? -1 : 1), nc_canvas_glyph(c, NC_G_BULLET),
                       st);
    }
    nc_ladder_lane_text(c, L, lane, y, rows, text, st);
}

/* The state panel at the right: gauges as of the cursor, and a chart. */
static void nc_ladder_side(nc_canvas_t *c, nc_ui_t *ui, size_t vis, int y, int h, int gw)
{
    int x0 = c->w - gw;
    nc_canvas_fill(c, y, x0, h, gw, ' ', NC_PLAIN);
    nc_canvas_vline(c, y, x0, h, NC_STYLE(0, NC_ROLE_MUTED));
    int ch = h >= 16 ? 6 : 0;
    nc_gauges_draw(c, ui->src.tl, vis, ui->cursor, y, x0 + 2, h - ch, gw - 3);
    if (ch > 0)
        nc_chart_draw(c, ui->src.tl, vis, ui->cursor, y + h - ch, x0 + 2, ch, gw - 3);
}

/* The checkpoint asked and not answered (the one with the earliest asked
 * mark), or -1. */
static long nc_ladder_question(nc_ui_t *ui, nc_run_checkpoint_t *out)
{
    long best = -1;
    size_t count = ui->src.tl ? nc_timeline_count(ui->src.tl) : 0;
    for (size_t k = 0; k < ui->nanswers; k++) {
        nc_run_checkpoint_t cp;
        ui->src.checkpoint(ui->src.ctx, k, &cp);
        if (cp.asked_at < 0 || (size_t)cp.asked_at >= count || ui->answers[k].choice >= 0 ||
            !cp.cp)
            continue;
        if (best < 0 || cp.asked_at < out->asked_at)
            best = (long)k, *out = cp;
    }
    return best;
}

/* The answered checkpoint whose verdict was not dismissed yet, or -1. */
static long nc_ladder_result(nc_ui_t *ui, nc_run_checkpoint_t *out)
{
    long best = -1;
    for (size_t k = 0; k < ui->nanswers; k++) {
        nc_run_checkpoint_t cp;
        ui->src.checkpoint(ui->src.ctx, k, &cp);
        if (ui->answers[k].choice < 0 || ui->answers[k].seen || !cp.cp)
            continue;
        if (best < 0 || cp.asked_at > out->asked_at)
            best = (long)k, *out = cp;
    }
    return best;
}

static int nc_ladder_question_draw(nc_canvas_t *c, int y, int h, const nc_run_checkpoint_t *rc,
                                   bool measure)
{
    const nc_checkpoint_t *cp = rc->cp;
    int used = 0;
    int qh = measure ? 0 : h;
    used += nc_canvas_wrap(c, y, 1, qh < 3 ? qh : 3, c->w - 2, cp->question,
                           NC_STYLE(NC_A_BOLD, NC_ROLE_ACCENT));
    if (used > 3)
        used = 3;
    for (size_t i = 0; i < cp->nchoices; i++, used++) {
        if (measure || used >= h)
            continue;
        nc_canvas_printf(c, y + used, 3, NC_STYLE(NC_A_BOLD, NC_ROLE_NORMAL), "%s)",
                         cp->choices[i].key);
        nc_canvas_textn(c, y + used, 3 + nc_text_width(cp->choices[i].key) + 2, c->w - 10,
                        cp->choices[i].text, NC_PLAIN, true);
    }
    if (!measure && used < h) {
        char hint[64];
        snprintf(hint, sizeof hint, "Predict, then press %s%s%s to answer.",
                 cp->nchoices ? cp->choices[0].key : "a", cp->nchoices > 1 ? "-" : "",
                 cp->nchoices > 1 ? cp->choices[cp->nchoices - 1].key : "");
        nc_canvas_text(c, y + used, 1, hint, NC_STYLE(0, NC_ROLE_MUTED));
    }
    return used + 1;
}

/* The verdict on an answer, as styled text: empty until the run decided. */
static void nc_ladder_verdict(const nc_run_checkpoint_t *rc, int choice, nc_cellv_t *v)
{
    const nc_checkpoint_t *cp = rc->cp;
    if (rc->right < 0)
        return;
    const nc_choice_t *right = (size_t)rc->right < cp->nchoices ? &cp->choices[rc->right] : NULL;
    if (rc->right == choice) {
        nc_cellv_puts(v, "Right! ", NC_STYLE(NC_A_BOLD, NC_ROLE_OK));
    } else {
        nc_cellv_puts(v, "Not this time: ", NC_STYLE(NC_A_BOLD, NC_ROLE_BAD));
        nc_cellv_puts(v, "the run showed ", NC_PLAIN);
        nc_cellv_puts(v, right ? right->key : "?", NC_STYLE(NC_A_BOLD, NC_ROLE_NORMAL));
        nc_cellv_puts(v, ") ", NC_STYLE(NC_A_BOLD, NC_ROLE_NORMAL));
        nc_cellv_puts(v, right ? right->text : "", NC_PLAIN);
        nc_cellv_puts(v, ". ", NC_PLAIN);
    }
    /* The run's explanation is the one chosen by the outcome. */
    const char *explain = rc->explain ? rc->explain : cp->explain;
    if (explain)
        nc_cellv_puts(v, explain, NC_STYLE(0, NC_ROLE_NOTE));
}

/* Draws the result panel into h rows at y; returns the rows it needs. */
static int nc_ladder_result_draw(nc_canvas_t *c, int y, int h, const nc_run_checkpoint_t *rc,
                                 int choice)
{
    const nc_checkpoint_t *cp = rc->cp;
    const nc_choice_t *mine = (size_t)choice < cp->nchoices ? &cp->choices[choice] : NULL;
    if (h > 0)
        nc_canvas_printf(c, y, 1, NC_STYLE(NC_A_BOLD, NC_ROLE_NORMAL), "Your answer: %s) %s",
                         mine ? mine->key : "?", mine ? mine->text : "");
    if (rc->right < 0) {
        if (h > 1)
            nc_canvas_text(c, y + 1, 1,
                           rc->skipped ? "not graded: this run did not decide it"
                                       : "waiting for the run to decide...",
                           NC_STYLE(0, NC_ROLE_MUTED));
        return 2;
    }
    nc_cellv_t v;
    nc_cellv_init(&v);
    nc_ladder_verdict(rc, choice, &v);
    int room = h - 2 > 0 ? h - 2 : 0;
    int lines = nc_canvas_wrapv(c, y + 1, 1, room, c->w - 2, &v);
    nc_cellv_done(&v);
    if (h > 0)
        nc_canvas_text(c, y + h - 1, 1, "Enter: continue", NC_STYLE(0, NC_ROLE_MUTED));
    return lines + 2;
}

static void nc_ladder_note_draw(nc_canvas_t *c, nc_ui_t *ui, int y, int h)
{
    const nc_event_t *ev = nc_ui_current(ui);
    if (!ev)
        return;
    char head[512];
    snprintf(head, sizeof head, "#%llu %s %s: %s", (unsigned long long)ev->i,
             nc_event_type_name(ev->type), ev->host, ev->summary);
    /* The selected event's whole line, wrapped: what its row had to cut
     * is read here. */
    int room = h > 2 ? 2 : 1;
    int hh = nc_canvas_wrap(c, y, 1, room, c->w - 2, head, NC_STYLE(NC_A_BOLD, NC_ROLE_NORMAL));
    if (hh > room)
        hh = room;
    if (hh < 1)
        hh = 1;
    if (h <= hh)
        return;
    int64_t lin, lout;
    nc_ladder_links(ui, nc_ui_visible(ui), ui->cursor, &lin, &lout);
    if (lin >= 0 || lout >= 0) {
        char link[160] = "The box's decision:";
        if (lin >= 0)
            snprintf(link + strlen(link), sizeof link - strlen(link), " request in #%lld",
                     (long long)lin);
        if (lout >= 0)
            snprintf(link + strlen(link), sizeof link - strlen(link), "%s request out #%lld",
                     lin >= 0 ? "," : "", (long long)lout);
        else
            snprintf(link + strlen(link), sizeof link - strlen(link), ", nothing sent upstream");
        snprintf(link + strlen(link), sizeof link - strlen(link), " (marked %s).",
                 nc_canvas_glyph(c, NC_G_BULLET));
        nc_canvas_textn(c, y + hh, 1, c->w - 2, link, NC_STYLE(NC_A_BOLD, NC_ROLE_ACCENT), true);
        if (++hh >= h)
            return;
    }
    if (ev->note && *ev->note)
        nc_canvas_wrap(c, y + hh, 1, h - hh, c->w - 2, ev->note, NC_STYLE(0, NC_ROLE_NOTE));
    else
        nc_canvas_text(c, y + hh, 1, "No annotation for this event.", NC_STYLE(0, NC_ROLE_MUTED));
}

static void nc_ladder_header(nc_canvas_t *c, nc_ui_t *ui)
{
    const nc_lesson_t *l = ui->lesson;
    char title[256], right[64];
    snprintf(title, sizeof title, "%s: %s", l ? l->title : "netcourse",
             ui->src.title ? ui->src.title : "live run");
    if (ui->src.status)
        ui->src.status(ui->src.ctx, right, sizeof right);
    else
        snprintf(right, sizeof right, "%s%s", ui->follow ? "following" : "paused",
                 ui->src.done ? ", run complete" : "");
    nc_ui_title(c, 0, title, right);
    if (ui->notice[0]) {
        nc_canvas_textn(c, 1, 1, c->w - 2, ui->notice, NC_STYLE(NC_A_BOLD, NC_ROLE_ACCENT),
                        true);
        return;
    }
    if (ui->src.tl && ui->run_error[0]) {
        nc_canvas_textn(c, 1, 1, c->w - 2, ui->run_error, NC_STYLE(NC_A_BOLD, NC_ROLE_BAD),
                        true);
        return;
    }
    int step = -1;
    if (ui->src.tl && ui->src.step_at && nc_ui_visible(ui) > 0)
        step = ui->src.step_at(ui->src.ctx, ui->cursor);
    if (l && step >= 0 && (size_t)step < l->nsteps) {
        const nc_step_t *s = &l->steps[step];
        char text[512];
        snprintf(text, sizeof text, "Step %d/%zu: %s", step + 1, l->nsteps,
                 s->title ? s->title : "");
        int x = nc_canvas_textn(c, 1, 1, c->w - 2, text, NC_STYLE(NC_A_BOLD, NC_ROLE_NORMAL),
                                true);
        if (s->text && x + 4 < c->w)
            nc_canvas_textn(c, 1, x + 2, c->w - x - 3, s->text, NC_STYLE(0, NC_ROLE_MUTED),
                            true);
    }
}

static void nc_ladder_draw(nc_canvas_t *c, nc_ui_t *ui)
{
    size_t vis = nc_ui_visible(ui);
    if (vis == 0)
        ui->cursor = 0;
    else if (ui->follow || ui->cursor >= vis)
        ui->cursor = vis - 1;
    /* A filter (nav.h) shows some events only: the cursor sits on one. */
    size_t shown = nc_nav_from(ui, 0, vis) < vis ? vis : 0;
    if (shown)
        ui->cursor = nc_nav_near(ui, ui->cursor, vis);
    nc_ladder_header(c, ui);
    nc_run_checkpoint_t q, res;
    memset(&q, 0, sizeof q);
    memset(&res, 0, sizeof res);
    /* A verdict the run has decided is shown before the next question. */
    long rk = nc_ladder_result(ui, &res);
    long qk = rk >= 0 && res.right >= 0 ? -1 : nc_ladder_question(ui, &q);
    if (qk >= 0)
        rk = -1;

    int ph = c->h >= 40 ? 8 : 5; /* panel rows, separator included */
    int need = 0;
    if (qk >= 0)
        need = nc_ladder_question_draw(c, 0, 0, &q, true) + 1;
    else if (rk >= 0)
        need = nc_ladder_result_draw(c, 0, 0, &res, ui->answers[rk].choice) + 1;
    if (need > ph)
        ph = need < c->h / 2 ? need : c->h / 2;
    /* While a checkpoint panel is up and the student has moved the cursor
     * back to study earlier events, their notes get a few rows too. */
    int nh = (qk >= 0 || rk >= 0) && !ui->follow ? (c->h >= 40 ? 7 : c->h >= 30 ? 5 : 3) : 0;
    int ey = 3, eh = c->h - 1 - ph - nh - ey;
    ui->ladder_rows = eh;
    int py = c->h - 1 - ph;
    int ny = py - nh;

    if (!ui->src.tl) {
        const char *msg = ui->run_error[0] ? ui->run_error
                                           : "No run yet. Press r to start the live run.";
        nc_canvas_wrap(c, ey + 1, 2, eh - 1, c->w - 4, msg,
                       NC_STYLE(0, ui->run_error[0] ? NC_ROLE_BAD : NC_ROLE_MUTED));
        nc_canvas_hline(c, py, 0, c->w, NC_STYLE(0, NC_ROLE_MUTED));
        return;
    }

    int gw = c->w >= NC_LADDER_SIDE_MIN && nc_gauges_any(ui->src.tl, vis)
                 ? (c->w >= 140 ? 44 : 36)
                 : 0;
    nc_lanes_t L;
    nc_ladder_lanes(ui, vis, c->w - gw, &L);
    /* Stream lanes (key S) replace the host lanes while a connection in
     * view has stream frames. */
    nc_slanes_t S;
    bool streams = ui->stream_lanes && nc_streams_lanes(ui, vis, c->w - gw, &S);
    /* Endpoint lanes of one host (a loopback capture) are told apart by
     * their ports (":8080"): the host is named once, over the time column,
     * when it fits there. */
    size_t common = L.ends && L.n > 1 ? nc_lanes_host(&L) : 0;
    if (common >= NC_LADDER_T)
        common = 0;
    char host[NC_LADDER_T + 1];
    snprintf(host, sizeof host, "%.*s", (int)common, L.n ? L.name[0] : "");
    nc_canvas_text(c, 2, 0, common ? host : "time", NC_STYLE(NC_A_BOLD, NC_ROLE_MUTED));
    if (streams)
        nc_streams_header(c, &S, 2);
    for (int i = 0; i < L.n && !streams; i++) {
        const char *label = L.name[i] + common;
        int nw = nc_text_width(label);
        int x = L.x[i] - nw / 2;
        if (x + nw > c->w - 1)
            x = c->w - 1 - nw;
        if (x < NC_LADDER_T)
            x = NC_LADDER_T;
        nc_canvas_text(c, 2, x, label, NC_STYLE(NC_A_BOLD, nc_ladder_role(&L, i)));
    }

    if (vis == 0 || !shown) {
        nc_canvas_text(c, ey, NC_LADDER_T + 2,
                       vis ? "no event passes the filter (& with nothing shows every event)"
                           : "waiting for the first event...",
                       NC_STYLE(0, NC_ROLE_MUTED));
    } else {
        /* Rows differ in height (a long app report wraps): scroll so that
         * every row of the cursor's event is on screen. */
        if (ui->cursor < ui->top)
            ui->top = ui->cursor;
        if (eh > 0 && ui->top < nc_nav_back(ui, ui->cursor, (size_t)eh - 1, vis))
            ui->top = nc_nav_back(ui, ui->cursor, (size_t)eh - 1, vis);
        ui->top = nc_nav_from(ui, ui->top, vis);
        int taken = 0;
        for (size_t i = ui->top; i <= ui->cursor; i = nc_nav_next(ui, i, vis))
            taken += streams ? 1 : nc_ladder_rows_of(c, &L, nc_timeline_get(ui->src.tl, i));
        while (taken > eh && ui->top < ui->cursor) {
            taken -= streams ? 1 : nc_ladder_rows_of(c, &L, nc_timeline_get(ui->src.tl, ui->top));
            ui->top = nc_nav_next(ui, ui->top, vis);
        }
        /* The ladder keeps to its own columns: what does not fit is cut
         * (and marked) at the state panel's edge, not drawn under it. */
        nc_canvas_clip(c, 0, 0, c->h, c->w - gw);
        /* A middlebox's decision selected: it and the packets in and out
         * it links are marked beside their times. */
        int64_t lin = -1, lout = -1;
        nc_ladder_links(ui, vis, ui->cursor, &lin, &lout);
        int y = ey;
        for (size_t i = ui->top; i < vis && y < ey + eh; i = nc_nav_next(ui, i, vis)) {
            const nc_event_t *ev = nc_timeline_get(ui->src.tl, i);
            int rows = streams ? 1 : nc_ladder_rows_of(c, &L, ev);
            if (rows > ey + eh - y)
                rows = ey + eh - y;
            if (streams)
                nc_streams_row(c, &S, ev, y);
            else
                nc_ladder_row(c, &L, ev, y, rows);
            bool linked = (int64_t)i == lin || (int64_t)i == lout;
            if (linked || (i == ui->cursor && (lin >= 0 || lout >= 0)))
                nc_canvas_text(c, y, NC_LADDER_T - 1, nc_canvas_glyph(c, NC_G_BULLET),
                               NC_STYLE(NC_A_BOLD, NC_ROLE_ACCENT));
            if (i == ui->cursor)
                for (int r = 0; r < rows; r++)
                    nc_canvas_mark(c, y + r, 0, c->w, NC_STYLE(NC_A_REVERSE, NC_ROLE_NORMAL));
            y += rows;
        }
        nc_canvas_unclip(c);
    }

    if (gw > 0)
        nc_ladder_side(c, ui, vis, 2, ey + eh - 2, gw);

    nc_style_t sep = NC_STYLE(0, NC_ROLE_MUTED);
    if (nh > 0) {
        nc_canvas_hline(c, ny, 0, c->w, sep);
        nc_canvas_text(c, ny, 2, " note ", NC_STYLE(NC_A_BOLD, NC_ROLE_MUTED));
        nc_ladder_note_draw(c, ui, ny + 1, nh - 1);
    }
    nc_canvas_hline(c, py, 0, c->w, sep);
    if (qk >= 0) {
        nc_canvas_text(c, py, 2, " checkpoint ", NC_STYLE(NC_A_BOLD, NC_ROLE_ACCENT));
        nc_ladder_question_draw(c, py + 1, ph - 1, &q, false);
    } else if (rk >= 0) {
        nc_canvas_text(c, py, 2, " checkpoint ", NC_STYLE(NC_A_BOLD, NC_ROLE_ACCENT));
        nc_ladder_result_draw(c, py + 1, ph - 1, &res, ui->answers[rk].choice);
    } else {
        nc_canvas_text(c, py, 2, " note ", NC_STYLE(NC_A_BOLD, NC_ROLE_MUTED));
        nc_ladder_note_draw(c, ui, py + 1, ph - 1);
    }
}

/* An answer key for the open question: the choice whose key is this key. */
static int nc_ladder_answer(nc_ui_t *ui, int key)
{
    nc_run_checkpoint_t q;
    long rk = nc_ladder_result(ui, &q);
    if (rk >= 0 && q.right >= 0)
        return 0; /* the question is not on screen yet */
    long k = nc_ladder_question(ui, &q);
    if (k < 0)
        return 0;
    for (size_t i = 0; i < q.cp->nchoices; i++) {
        const char *ck = q.cp->choices[i].key;
        if (ck && ck[0] == key && ck[1] == '\0') {
            ui->answers[k].choice = (int)i;
            return NC_VIEW_HANDLED | NC_VIEW_REDRAW;
        }
    }
    return 0;
}

/* Opens the inspector on the selected event, when it is a packet. */
static int nc_ladder_inspect(nc_ui_t *ui)
{
    const nc_event_t *ev = nc_ui_current(ui);
    if (!ev || ev->type != NC_EV_PACKET)
        return NC_VIEW_HANDLED;
    ui->layer = 0;
    ui->insp_scroll = 0;
    ui->insp_layer[0] = '\0';
    nc_ui_push(ui, &nc_view_inspector);
    return NC_VIEW_HANDLED | NC_VIEW_REDRAW;
}

static int nc_ladder_key(nc_ui_t *ui, nc_action_t a, int key)
{
    int flags = key > ' ' && key < 0x7F ? nc_ladder_answer(ui, key) : 0;
    if (flags)
        return flags;
    ui->notice[0] = '\0';
    if (ui->src.key && (flags = ui->src.key(ui->src.ctx, ui, a, key)) != 0)
        return flags;
    size_t vis = nc_ui_visible(ui);
    size_t page = ui->ladder_rows > 1 ? (size_t)ui->ladder_rows - 1 : 1;
    switch (a) {
    /* Moves go from shown event to shown event (nav.h: all of them when
     * there is no filter). */
    case NC_ACT_UP:
        ui->follow = false;
        if (nc_nav_prev(ui, ui->cursor, vis) != SIZE_MAX)
            ui->cursor = nc_nav_prev(ui, ui->cursor, vis);
        break;
    case NC_ACT_DOWN:
        ui->follow = false;
        if (nc_nav_next(ui, ui->cursor, vis) < vis)
            ui->cursor = nc_nav_next(ui, ui->cursor, vis);
        break;
    case NC_ACT_PGUP:
        ui->follow = false;
        ui->cursor = nc_nav_back(ui, ui->cursor, page, vis);
        break;
    case NC_ACT_PGDN:
        ui->follow = false;
        ui->cursor = nc_nav_fwd(ui, ui->cursor, page, vis);
        break;
    case NC_ACT_TOP:
        ui->follow = false;
        ui->cursor = nc_nav_from(ui, 0, vis);
        break;
    case NC_ACT_BOTTOM:
        ui->follow = false;
        ui->cursor = vis ? vis - 1 : 0;
        break;
    case NC_ACT_SEARCH:
        nc_nav_prompt(ui, '/');
        break;
    case NC_ACT_GOTO:
        nc_nav_prompt(ui, ':');
        break;
    case NC_ACT_FILTER:
        nc_nav_prompt(ui, '&');
        break;
    case NC_ACT_PACKET:
        return nc_nav_hit(ui, key == 'n' ? 1 : -1);
    case NC_ACT_CONVS:
        if (ui->src.tl)
            nc_convs_open(ui);
        break;
    case NC_ACT_TABLE:
        if (!nc_compare_view_open(ui))
            snprintf(ui->notice, sizeof ui->notice,
                     "This run has no comparison table: only lessons that compare ways end with one.");
        break;
    case NC_ACT_LANES: {
        ui->stream_lanes = !ui->stream_lanes;
        nc_slanes_t S;
        if (ui->stream_lanes && ui->src.tl && !nc_streams_lanes(ui, vis, ui->w, &S))
            snprintf(ui->notice, sizeof ui->notice,
                     "Stream lanes: no HTTP/2 or QUIC stream in view yet; the host lanes stay "
                     "until one comes.");
        break;
    }
    case NC_ACT_FOLLOW:
        ui->follow = !ui->follow;
        break;
    case NC_ACT_LIVE:
        ui->follow = true;
        break;
    case NC_ACT_RUN:
        return NC_VIEW_HANDLED | NC_VIEW_REDRAW | NC_VIEW_RUN;
    case NC_ACT_OPEN:
    case NC_ACT_NEXT: {
        /* Enter and Space first dismiss a verdict; then Enter inspects. */
        nc_run_checkpoint_t res;
        long rk = nc_ladder_result(ui, &res);
        if (rk >= 0 && res.right >= 0) {
            ui->answers[rk].seen = true;
            break;
        }
        if (a == NC_ACT_NEXT)
            return 0;
        return nc_ladder_inspect(ui);
    }
    case NC_ACT_INSPECT:
        return nc_ladder_inspect(ui);
    default:
        return 0;
    }
    return NC_VIEW_HANDLED | NC_VIEW_REDRAW;
}

static const nc_action_t nc_ladder_footer[] = {
    NC_ACT_UP, NC_ACT_DOWN, NC_ACT_OPEN, NC_ACT_FOLLOW, NC_ACT_LIVE, NC_ACT_RUN,
    NC_ACT_HELP, NC_ACT_BACK, NC_ACT_NONE,
};

const nc_view_t nc_view_ladder = {
    .name = "ladder",
    .draw = nc_ladder_draw,
    .key = nc_ladder_key,
    .footer = nc_ladder_footer,
    .legend = nc_legend_ladder,
};
