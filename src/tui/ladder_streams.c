/*
 * ladder_streams.c: the ladder's stream lanes (key S), one lane per stream
 * of a multiplexed connection, so that interleaving is seen at a glance.
 *
 * The data model. A multiplexed connection carries frames, each with a
 * stream id; where the ids come from is one table (nc_stream_srcs): the
 * layer's list of frames (a packet's "http2" frames; QUIC's "quic.frame"),
 * the paths of a frame's stream id (the first one present counts) and of its
 * name, and whether id 0 means the connection itself (HTTP/2; in QUIC stream
 * 0 is a stream like any other, and a frame without an id, ACK or CRYPTO,
 * belongs to the connection). A new protocol with streams is a new line.
 *
 * nc_slanes_t is what one draw needs, rebuilt on every draw from the events
 * in view (the first NC_LADDER_SCAN and the rows on screen, as the host
 * lanes are): the connection in focus (its two hosts and ports; `a` is the
 * client's side, on the higher, ephemeral port, whose frames point right),
 * and its lanes: lane 0 the connection's own frames (SETTINGS, PING,
 * GOAWAY, connection WINDOW_UPDATE, QUIC's ACKs), then one lane per stream in the
 * order the streams first appear. The focus is the connection of the
 * selected event when that event carries stream frames, else the one chosen
 * last (ui->lanes_ports), else the first connection with stream frames.
 *
 * Over a connection without streams (HTTP/1.1), the lanes are the
 * connections between the selected packet's two hosts to the same server
 * port, one per client port in the order they appear (`pool`): a
 * browser's six connections side by side, each request (its method's first
 * letter) and answer (its status's first digit) on its own lane.
 *
 * A row is one event, as on the host ladder. A packet of the focus
 * connection puts a mark on each lane it carries frames for: an arrow for
 * its direction and the first letter of each frame's name (H for HEADERS,
 * D for DATA, W for WINDOW_UPDATE ...); its summary follows the lanes.
 * Every other event is its summary after the lanes, muted unless it is a
 * program's report.
 */
#include "ladder_streams.h"

#include "nav.h"

#include <stdio.h>
#include <string.h>

/* Where a protocol keeps its frames' stream ids. */
static const struct nc_stream_src {
    const char *proto;  /* the name shown over the lanes */
    const char *frames; /* the packet's list (or object) of frames */
    const char *id[5];  /* a frame's stream id: the first path present */
    const char *name;   /* a frame's name */
    bool zero_is_conn;  /* stream 0 is the connection itself */
} nc_stream_srcs[] = {
    {"HTTP/2", "http2", {"streamid", NULL}, "type_name", true},
    {"QUIC",
     "quic.frame",
     {"stream.stream_id", "msd.stream_id", "rsts.stream_id", "ss.stream_id", "sdb.stream_id"},
     "name",
     false},
};

#define NC_STREAM_SRCS (sizeof nc_stream_srcs / sizeof nc_stream_srcs[0])

void nc_lscan_start(nc_lscan_t *s, nc_ui_t *ui, size_t vis)
{
    s->vis = vis;
    s->win = ui->top + (size_t)(ui->ladder_rows > 0 ? ui->ladder_rows : 0);
    s->n = 0;
    s->i = nc_nav_from(ui, 0, vis);
    s->started = false;
}

const nc_event_t *nc_lscan_next(nc_lscan_t *s, nc_ui_t *ui)
{
    if (s->started && s->i < s->vis) {
        s->i = nc_nav_next(ui, s->i, s->vis);
        s->n++;
    }
    s->started = true;
    if (s->i < s->vis && s->n == NC_LADDER_SCAN && ui->top > s->i)
        s->i = nc_nav_from(ui, ui->top, s->vis);
    if (s->i >= s->vis || (s->n >= NC_LADDER_SCAN && s->i >= s->win))
        return NULL;
    return nc_timeline_get(ui->src.tl, s->i);
}

/* Called for each frame: its stream id (-1: the connection) and name. */
typedef void (*nc_frame_fn)(void *ctx, int64_t id, const char *name);

/* Walks a packet's stream frames; returns the source that had some, or -1. */
static int nc_streams_frames(const nc_event_t *ev, nc_frame_fn fn, void *ctx)
{
    if (ev->type != NC_EV_PACKET)
        return -1;
    for (size_t s = 0; s < NC_STREAM_SRCS; s++) {
        const struct nc_stream_src *src = &nc_stream_srcs[s];
        const nc_field_t *f = ev->fields, *l = nc_event_get(ev, src->frames);
        if (!l || (l->kind != NC_F_LIST && l->kind != NC_F_OBJ))
            continue;
        uint32_t n = ev->nfields, k = (uint32_t)(l - f), end = nc_fields_skip(f, n, k);
        bool list = l->kind == NC_F_LIST, any = false;
        for (uint32_t o = list ? k + 1 : k; o < end && f[o].kind == NC_F_OBJ;
             o = nc_fields_skip(f, n, o)) {
            const nc_field_t *in = f + o + 1;
            uint32_t cnt = nc_fields_skip(f, n, o) - o - 1;
            const nc_field_t *other = nc_fields_get(in, cnt, "other_direction");
            if (!(other && other->kind == NC_F_BOOL && other->v.b)) {
                const nc_field_t *id = NULL;
                for (size_t p = 0; p < 5 && src->id[p] && !id; p++) {
                    id = nc_fields_get(in, cnt, src->id[p]);
                    if (id && id->kind != NC_F_INT)
                        id = NULL;
                }
                const nc_field_t *name = nc_fields_get(in, cnt, src->name);
                const char *nm = name && name->kind == NC_F_STR ? name->v.s : "preface";
                int64_t sid = id ? id->v.i : -1;
                if (sid == 0 && src->zero_is_conn)
                    sid = -1;
                if (fn)
                    fn(ctx, sid, nm);
                any = true;
            }
            if (!list)
                break;
        }
        if (any)
            return (int)s;
    }
    return -1;
}

static void nc_streams_none(void *ctx, int64_t id, const char *name)
{
    (void)ctx, (void)id, (void)name;
}

/* The connection of a packet: its hosts and ports, as in nc_slanes_t. */
static bool nc_streams_conn(const nc_event_t *ev, const char **from, const char **to,
                            int64_t *sport, int64_t *dport)
{
    *from = nc_event_str(ev, "from");
    *to = nc_event_str(ev, "to");
    if (!*from || !*to)
        return false;
    return (nc_event_int(ev, "tcp.sport", sport) && nc_event_int(ev, "tcp.dport", dport)) ||
           (nc_event_int(ev, "udp.sport", sport) && nc_event_int(ev, "udp.dport", dport));
}

/* The port pair, lower << 16 | higher: how ui->lanes_ports names a
 * connection. */
static uint32_t nc_streams_key(int64_t a, int64_t b)
{
    uint32_t x = (uint32_t)a & 0xffff, y = (uint32_t)b & 0xffff;
    return x < y ? x << 16 | y : y << 16 | x;
}

/* Is the packet on the focus connection? Sets *right when `a` sent it. */
static bool nc_streams_mine(const nc_slanes_t *S, const nc_event_t *ev, bool *right)
{
    const char *from, *to;
    int64_t sp, dp;
    if (!S->on || !nc_streams_conn(ev, &from, &to, &sp, &dp))
        return false;
    if (S->pool) {
        /* Any connection from a to b's port. */
        *right = strcmp(from, S->a) == 0;
        return (*right && strcmp(to, S->b) == 0 && dp == S->bport) ||
               (!*right && strcmp(from, S->b) == 0 && strcmp(to, S->a) == 0 && sp == S->bport);
    }
    if (strcmp(from, S->a) == 0 && sp == S->aport && strcmp(to, S->b) == 0 && dp == S->bport) {
        *right = true;
        return true;
    }
    if (strcmp(from, S->b) == 0 && sp == S->bport && strcmp(to, S->a) == 0 && dp == S->aport) {
        *right = false;
        return true;
    }
    return false;
}

static int nc_slanes_find(const nc_slanes_t *S, int64_t id)
{
    for (int i = 0; i < S->n; i++)
        if (S->id[i] == id)
            return i;
    return -1;
}

/* A pool's lane id for a packet of it: the client's port. */
static int64_t nc_streams_pool_id(const nc_slanes_t *S, const nc_event_t *ev)
{
    int64_t sp = 0, dp = 0;
    nc_event_int(ev, "tcp.sport", &sp);
    nc_event_int(ev, "tcp.dport", &dp);
    return sp == S->bport ? dp : sp;
}

static void nc_slanes_add(void *ctx, int64_t id, const char *name)
{
    (void)name;
    nc_slanes_t *S = ctx;
    if (nc_slanes_find(S, id) >= 0)
        return;
    if (S->n < NC_SLANES_MAX)
        S->id[S->n++] = id;
    else
        S->more++;
}

/* Takes ev's connection as the focus. */
static void nc_streams_focus(nc_slanes_t *S, const nc_event_t *ev, int src)
{
    const char *from, *to;
    int64_t sp, dp;
    nc_streams_conn(ev, &from, &to, &sp, &dp);
    /* The client's side at the left: the one on the higher (ephemeral)
     * port. */
    bool swap = dp > sp;
    S->on = true;
    S->a = swap ? to : from;
    S->b = swap ? from : to;
    S->aport = swap ? dp : sp;
    S->bport = swap ? sp : dp;
    S->proto = nc_stream_srcs[src].proto;
}

/* Takes ev's connection's two hosts and its server port as the focus of
 * connection lanes: one per connection between them (a pool). */
static void nc_streams_focus_pool(nc_slanes_t *S, const nc_event_t *ev)
{
    nc_streams_focus(S, ev, 0);
    S->pool = true;
    S->proto = nc_event_get(ev, "http") ? "HTTP/1" : "TCP";
}

/* A TCP packet that is not on a connection with stream frames. */
static bool nc_streams_plain(const nc_event_t *ev)
{
    int64_t v;
    return ev->type == NC_EV_PACKET && nc_event_int(ev, "tcp.sport", &v) &&
           nc_streams_frames(ev, nc_streams_none, NULL) < 0;
}

bool nc_streams_lanes(nc_ui_t *ui, size_t vis, int w, nc_slanes_t *S)
{
    memset(S, 0, sizeof *S);
    S->w = w;
    const char *from, *to;
    int64_t sp, dp;
    /* The focus: the selected event's connection, the last one, or the
     * first with stream frames. */
    const nc_event_t *cur = vis ? nc_ui_current(ui) : NULL;
    int src;
    if (cur && (src = nc_streams_frames(cur, nc_streams_none, NULL)) >= 0 &&
        nc_streams_conn(cur, &from, &to, &sp, &dp)) {
        ui->lanes_ports = nc_streams_key(sp, dp);
        nc_streams_focus(S, cur, src);
    } else if (cur && nc_streams_plain(cur) && nc_streams_conn(cur, &from, &to, &sp, &dp)) {
        /* A packet of a connection without streams: the lanes are the
         * connections between its two hosts to the same server port. */
        ui->lanes_ports = nc_streams_key(sp, dp);
        nc_streams_focus_pool(S, cur);
    }
    for (int pass = S->on ? 1 : 0; pass < 2; pass++) {
        const nc_event_t *first = NULL, *ev;
        int first_src = -1;
        nc_lscan_t scan;
        nc_lscan_start(&scan, ui, vis);
        while ((ev = nc_lscan_next(&scan, ui)) != NULL) {
            bool right;
            if (pass == 1) {
                if (nc_streams_mine(S, ev, &right) && S->pool)
                    nc_slanes_add(S, nc_streams_pool_id(S, ev), NULL);
                else if (nc_streams_mine(S, ev, &right))
                    nc_streams_frames(ev, nc_slanes_add, S);
                continue;
            }
            /* Looking for the focus: the one chosen last, else the first
             * connection with stream frames. */
            if (!nc_streams_conn(ev, &from, &to, &sp, &dp))
                continue;
            if ((src = nc_streams_frames(ev, nc_streams_none, NULL)) < 0) {
                /* The connection lanes chosen last. */
                if (ui->lanes_ports && nc_streams_plain(ev) &&
                    nc_streams_key(sp, dp) == ui->lanes_ports) {
                    nc_streams_focus_pool(S, ev);
                    break;
                }
                continue;
            }
            if (!first)
                first = ev, first_src = src;
            if (nc_streams_key(sp, dp) == ui->lanes_ports) {
                first = ev, first_src = src;
                break;
            }
        }
        if (pass == 0 && first && !S->on)
            nc_streams_focus(S, first, first_src);
        if (!S->on)
            break;
    }
    if (!S->on)
        return false;
    ui->lanes_ports = nc_streams_key(S->aport, S->bport);
    /* The connection's own lane first, whatever was seen first (streams
     * only: a pool's lanes are its connections). */
    int c = S->pool ? 0 : nc_slanes_find(S, -1);
    if (S->pool)
        ;
    else if (c < 0 && S->n < NC_SLANES_MAX) {
        memmove(S->id + 1, S->id, (size_t)S->n * sizeof S->id[0]);
        S->id[0] = -1;
        S->n++;
    } else if (c > 0) {
        memmove(S->id + 1, S->id, (size_t)c * sizeof S->id[0]);
        S->id[0] = -1;
    }
    /* Lanes NC_SLANES_STEP apart, at least NC_SLANES_TEXT columns left for
     * the summaries. */
    int room = w - NC_LADDER_T - 2 - NC_SLANES_TEXT;
    int fit = room / NC_SLANES_STEP;
    if (fit < 1)
        fit = 1;
    if (S->n > fit) {
        S->more += S->n - fit;
        S->n = fit;
    }
    for (int i = 0; i < S->n; i++)
        S->x[i] = NC_LADDER_T + 2 + i * NC_SLANES_STEP;
    S->text_x = NC_LADDER_T + 2 + S->n * NC_SLANES_STEP;
    return true;
}

void nc_streams_header(nc_canvas_t *c, const nc_slanes_t *S, int y)
{
    for (int i = 0; i < S->n; i++) {
        char label[24];
        if (S->pool)
            snprintf(label, sizeof label, "#%d", i + 1);
        else if (S->id[i] < 0)
            snprintf(label, sizeof label, "conn");
        else
            snprintf(label, sizeof label, "%lld", (long long)S->id[i]);
        nc_canvas_textn(c, y, S->x[i], NC_SLANES_STEP - 1, label,
                        NC_STYLE(NC_A_BOLD, S->id[i] < 0 ? NC_ROLE_MUTED : NC_ROLE_ACCENT), false);
    }
    char what[200];
    if (S->pool)
        snprintf(what, sizeof what, "%s connections %s%s%s:%lld%s", S->proto, S->a,
                 nc_canvas_glyph(c, NC_G_RARROW), S->b, (long long)S->bport,
                 S->more ? ", more than fit" : "");
    else
        snprintf(what, sizeof what, "%s %s:%lld%s%s:%lld%s", S->proto, S->a, (long long)S->aport,
                 nc_canvas_glyph(c, NC_G_RARROW), S->b, (long long)S->bport,
                 S->more ? ", more streams than fit" : "");
    nc_canvas_textn(c, y, S->text_x, S->w - S->text_x - 1, what,
                    NC_STYLE(NC_A_BOLD, NC_ROLE_NORMAL), true);
}

/* One packet's marks, lane by lane: the frames' first letters. */
typedef struct nc_slanes_marks {
    const nc_slanes_t *S;
    char text[NC_SLANES_MAX][NC_SLANES_STEP];
} nc_slanes_marks_t;

static void nc_slanes_mark(void *ctx, int64_t id, const char *name)
{
    nc_slanes_marks_t *m = ctx;
    int lane = nc_slanes_find(m->S, id);
    if (lane < 0)
        return;
    size_t len = strlen(m->text[lane]);
    /* Room for the arrow before the letters. */
    if (len + 1 < (size_t)NC_SLANES_STEP - 2)
        m->text[lane][len] = name[0], m->text[lane][len + 1] = '\0';
}

/* A pool's packet on its connection's lane: S for a SYN, F a FIN, R a
 * reset, a request's method's first letter, an answer's status's first
 * digit, d other data; a bare ACK has no mark. */
static void nc_streams_pool_mark(nc_slanes_marks_t *m, const nc_event_t *ev)
{
    int lane = nc_slanes_find(m->S, nc_streams_pool_id(m->S, ev));
    if (lane < 0)
        return;
    const nc_field_t *h = nc_event_get(ev, "http");
    const char *method = nc_event_str(ev, "http.method");
    int64_t status, len = 0;
    nc_event_int(ev, "tcp.len", &len);
    char mark = 0;
    if (nc_event_has(ev, "tcp.flags", "SYN"))
        mark = 'S';
    else if (nc_event_has(ev, "tcp.flags", "RST"))
        mark = 'R';
    else if (h && method && *method)
        mark = method[0];
    else if (h && nc_event_int(ev, "http.status", &status))
        mark = (char)('0' + status / 100 % 10);
    else if (nc_event_has(ev, "tcp.flags", "FIN"))
        mark = 'F';
    else if (len > 0)
        mark = 'd';
    m->text[lane][0] = mark;
}

void nc_streams_row(nc_canvas_t *c, const nc_slanes_t *S, const nc_event_t *ev, int y)
{
    nc_canvas_printf(c, y, 0, NC_STYLE(0, NC_ROLE_MUTED), "+%.6f", (double)ev->t_ns / 1e9);
    for (int i = 0; i < S->n; i++)
        nc_canvas_vline(c, y, S->x[i], 1, NC_STYLE(0, NC_ROLE_MUTED));
    bool right = false, mine = ev->type == NC_EV_PACKET && nc_streams_mine(S, ev, &right);
    nc_style_t st = NC_STYLE(0, NC_ROLE_MUTED);
    if (mine) {
        nc_slanes_marks_t m;
        memset(&m, 0, sizeof m);
        m.S = S;
        if (S->pool)
            nc_streams_pool_mark(&m, ev);
        else
            nc_streams_frames(ev, nc_slanes_mark, &m);
        st = NC_STYLE(0, right ? NC_ROLE_CLIENT : NC_ROLE_SERVER);
        for (int i = 0; i < S->n; i++) {
            if (!m.text[i][0])
                continue;
            int x =
                nc_canvas_text(c, y, S->x[i], nc_canvas_glyph(c, right ? NC_G_RARROW : NC_G_LARROW),
                               NC_STYLE(NC_A_BOLD, right ? NC_ROLE_CLIENT : NC_ROLE_SERVER));
            nc_canvas_text(c, y, x, m.text[i],
                           NC_STYLE(NC_A_BOLD, right ? NC_ROLE_CLIENT : NC_ROLE_SERVER));
        }
    } else if (ev->type == NC_EV_APP) {
        st = NC_STYLE(0, NC_ROLE_NORMAL);
    }
    char text[400];
    if (ev->type == NC_EV_PACKET && !mine)
        snprintf(text, sizeof text, "%s %s %s: %s",
                 nc_event_str(ev, "from") ? nc_event_str(ev, "from") : "?",
                 nc_canvas_glyph(c, NC_G_RARROW),
                 nc_event_str(ev, "to") ? nc_event_str(ev, "to") : "?", ev->summary);
    else if (ev->type == NC_EV_APP)
        snprintf(text, sizeof text, "%s: %s", ev->host, ev->summary);
    else
        snprintf(text, sizeof text, "%s", ev->summary);
    nc_canvas_textn(c, y, S->text_x, S->w - S->text_x - 1, text, st, true);
}
