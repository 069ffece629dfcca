/*
 * http2.c: HTTP/2 frames (RFC 9113) on a reassembled stream, with HPACK
 * (RFC 7541) through nghttp2's inflater.
 *
 *   +-----------------------------------------------+
 *   |                 Length (24)                   |
 *   +---------------+---------------+---------------+
 *   |   Type (8)    |   Flags (8)   |
 *   +-+-------------+---------------+-------------------------------+
 *   |R|                 Stream Identifier (31)                      |
 *   +=+=============================================================+
 *   |                   Frame Payload (0...)                      ...
 *
 * A stream decoder (stream.h). The client's side opens with the 24-byte
 * preface (emitted as a message of its own, Wireshark's http2.magic); both
 * sides then carry frames. Each frame is one message, emitted by the packet
 * whose bytes complete it. A frame's payload is read as it passes: the fixed
 * fields the type puts first (pad length, priority, error code, ...) are
 * kept in a few bytes, the header block fragments of HEADERS, PUSH_PROMISE
 * and CONTINUATION go straight to the sending direction's HPACK inflater,
 * SETTINGS entries are read six bytes at a time, and a gRPC stream's DATA
 * goes to grpc.c. The types are one table (h2_types): name, whether PADDED
 * applies, the fixed prefix, and what to do with the body and at the end.
 *
 * The data model. HPACK is stateful (each side's dynamic table), so the
 * connection's state is not the plain-data checkpoint the other decoders
 * keep: it is one heap object, struct nc_h2_conn, owned by the TCP stream
 * (stream.c frees it) and holding, per direction, the frame parser, the
 * connection send window, the initial stream window the peer granted and
 * the nghttp2 inflater; and a bounded table of streams (H2_STREAMS, least
 * recently used evicted first) with each stream's RFC 9113 5.1 state inputs
 * (opened, reserved, END_STREAM per side, reset), its send window per
 * direction and its gRPC parsers. A stream's state is reported from the
 * frame sender's point of view ("half-closed (local)": the sender has ended
 * its side).
 *
 * Flow control (RFC 9113 6.9): DATA spends its whole length (padding
 * included) from the sender's connection window and its stream window;
 * WINDOW_UPDATE gives the receiver's peer more; SETTINGS_INITIAL_WINDOW_SIZE
 * moves every stream window of the peer by the difference. A DATA frame that
 * brings a window to zero says so (the sender now waits), so does the
 * WINDOW_UPDATE that opens it again, and the sender's next DATA there says
 * it resumes after that wait (resumed_after_window).
 *
 * Fields carry Wireshark's names where it has one (length, type, flags, r,
 * streamid, pad_length, exclusive, stream_dependency, magic,
 * rst_stream.error, settings[].id, push_promise.promised_stream_id, ping,
 * pong, goaway.last_stream_id, goaway.error,
 * window_update.window_size_increment, header[].name/value); derived ones
 * have names of their own (type_name, flag_names, weight, data_len,
 * header_block_len against header_list_size, stream_state, the windows).
 * Deliberate differences from tshark are listed in src/decode/README-h2.md.
 */
#include "proto.h"
#include "stream.h"
#include "../core/xmalloc.h"

#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define H2_MAGIC "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define H2_MAGIC_LEN 24u
#define H2_STREAMS 32
#define H2_KEEP 16 /* the fixed fields: at most a pad length and GOAWAY's 8 */
#define H2_WINDOW 65535

enum { F_END_STREAM = 0x1, F_ACK = 0x1, F_END_HEADERS = 0x4, F_PADDED = 0x8, F_PRIORITY = 0x20 };
enum { T_DATA, T_HEADERS, T_PRIORITY, T_RST, T_SETTINGS, T_PUSH, T_PING, T_GOAWAY, T_WINUPD, T_CONT };
enum { P_MAGIC, P_HDR, P_PAYLOAD, P_LOST };
enum { S_IDLE, S_RES_LOCAL, S_RES_REMOTE, S_OPEN, S_HALF_LOCAL, S_HALF_REMOTE, S_CLOSED, S_NONE };

static const char *const h2_state_names[] = {
    "idle", "reserved (local)", "reserved (remote)", "open", "half-closed (local)",
    "half-closed (remote)", "closed",
};

typedef struct h2_stream {
    uint32_t id; /* 0: a free slot */
    uint32_t used; /* the connection's tick when last touched */
    bool opened, reserved, reset, grpc;
    bool ended[2];
    bool resumed[2];  /* a direction's used-up window reopened: its next DATA resumes */
    int8_t initiator; /* the direction that opened or reserved it */
    int64_t win[2];   /* each direction's send window on it */
    char path[96];
    nc_grpc_dir_t g[2];
} h2_stream_t;

typedef struct h2_dir {
    uint8_t state, magic_got;
    uint8_t hdr[9], hlen;
    uint32_t pos, fixed, body_end; /* payload bytes read; the fixed prefix; where padding starts */
    uint8_t keep[H2_KEEP];
    uint8_t unit[6], unitlen; /* a SETTINGS entry being read */
    nc_h2_frame_t f;          /* the frame being read */
    uint32_t start_seq, segments;
    int64_t send_window;      /* this direction's connection send window */
    int64_t init_window;      /* its initial stream send window (the peer's setting) */
    bool resumed;             /* its used-up connection window reopened */
    nghttp2_hd_inflater *inf; /* owned; NULL until the first header block */
    uint32_t table_max;       /* the table size the peer allowed this side's encoder */
    bool hpack_broken;        /* an error or a gap: later blocks cannot be read */
    bool in_block;            /* a header block waits for CONTINUATION */
    nc_h2_frame_t blk;        /* the header block being decoded (its header fields only) */
    uint16_t tlen;            /* bytes of blk.htext used */
    bool blk_grpc;            /* content-type: application/grpc... */
    char blk_path[96];
    int64_t blk_status;       /* grpc-status, -1 when absent */
    char blk_message[128];    /* grpc-message */
} h2_dir_t;

struct nc_h2_conn {
    h2_dir_t d[2];
    h2_stream_t s[H2_STREAMS];
    uint32_t tick;
};

/* ---- the connection and its streams ---- */

static void h2_dir_init(h2_dir_t *D)
{
    memset(D, 0, sizeof(*D));
    D->send_window = H2_WINDOW;
    D->init_window = H2_WINDOW;
}

static struct nc_h2_conn *h2_conn(nc_stream_ctx_t *sc)
{
    if (*sc->h2 == NULL) {
        struct nc_h2_conn *c = nc_xcalloc(1, sizeof(*c));
        h2_dir_init(&c->d[0]);
        h2_dir_init(&c->d[1]);
        *sc->h2 = c;
    }
    return *sc->h2;
}

void nc__http2_free(struct nc_h2_conn *c)
{
    if (c == NULL)
        return;
    for (int d = 0; d < 2; d++)
        if (c->d[d].inf)
            nghttp2_hd_inflate_del(c->d[d].inf);
    free(c);
}

/* The stream with this id, made (evicting the least recently used one, a
 * closed one first) when the table lacks it; NULL for stream 0. */
static h2_stream_t *h2_stream(struct nc_h2_conn *c, uint32_t id)
{
    if (id == 0)
        return NULL;
    h2_stream_t *victim = &c->s[0];
    c->tick++;
    for (int i = 0; i < H2_STREAMS; i++) {
        h2_stream_t *s = &c->s[i];
        if (s->id == id) {
            s->used = c->tick;
            return s;
        }
        bool s_done = s->id == 0 || s->reset || (s->ended[0] && s->ended[1]);
        bool v_done = victim->id == 0 || victim->reset || (victim->ended[0] && victim->ended[1]);
        if ((s_done && !v_done) || (s_done == v_done && s->used < victim->used))
            victim = s;
    }
    memset(victim, 0, sizeof(*victim));
    victim->id = id;
    victim->used = c->tick;
    victim->initiator = -1;
    victim->win[0] = c->d[0].init_window;
    victim->win[1] = c->d[1].init_window;
    return victim;
}

/* The stream's state (RFC 9113 5.1) as direction d sees it. */
static uint8_t h2_state_of(const h2_stream_t *s, int d)
{
    if (s->reset || (s->ended[0] && s->ended[1]))
        return S_CLOSED;
    if (!s->opened) {
        if (s->reserved)
            return s->initiator == d ? S_RES_LOCAL : S_RES_REMOTE;
        return S_IDLE;
    }
    if (s->ended[d])
        return S_HALF_LOCAL;
    if (s->ended[!d])
        return S_HALF_REMOTE;
    return S_OPEN;
}

bool nc__http2_looks_like(const uint8_t *p, size_t n, bool *client)
{
    size_t k = n < H2_MAGIC_LEN ? n : H2_MAGIC_LEN;
    /* "PRI" already tells it from every HTTP/1 method. */
    if (k >= 3 && memcmp(p, H2_MAGIC, k) == 0) {
        *client = true;
        return true;
    }
    /* A server speaks first with SETTINGS on stream 0, no flags, whole
     * six-byte entries. */
    if (n >= 9 && p[0] == 0 && p[3] == T_SETTINGS && p[4] == 0 && p[5] == 0 && p[6] == 0 &&
        p[7] == 0 && p[8] == 0 && ((uint32_t)p[1] << 8 | p[2]) % 6 == 0) {
        *client = false;
        return true;
    }
    return false;
}

void nc__http2_upgraded(nc_stream_ctx_t *sc, int client)
{
    struct nc_h2_conn *c = h2_conn(sc);
    /* The upgrade request is stream 1, half-closed on the client's side
     * (RFC 7540 3.2): the response comes as HTTP/2. */
    h2_stream_t *s = h2_stream(c, 1);
    s->opened = true;
    s->initiator = (int8_t)client;
    s->ended[client] = true;
}

/* ---- HPACK ---- */

/* Appends up to n bytes of s to the block's text; returns its offset. */
static uint16_t h2_text(h2_dir_t *D, const uint8_t *s, size_t n, uint16_t *len)
{
    size_t room = NC_H2_HTEXT - D->tlen;
    if (n > room)
        n = room;
    uint16_t off = D->tlen;
    memcpy(D->blk.htext + off, s, n);
    D->tlen = (uint16_t)(D->tlen + n);
    *len = (uint16_t)n;
    return off;
}

static void h2_copy(char *dst, size_t cap, const uint8_t *s, size_t n)
{
    if (n > cap - 1)
        n = cap - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

/* One decoded header field: kept (values cut to 160 bytes) while there is
 * room, counted in the decoded size always. */
static void h2_header(h2_dir_t *D, const nghttp2_nv *nv)
{
    nc_h2_frame_t *b = &D->blk;
    b->list_size += (uint32_t)(nv->namelen + nv->valuelen + 32);
    if (nv->namelen == 12 && memcmp(nv->name, "content-type", 12) == 0)
        D->blk_grpc = nv->valuelen >= 16 && memcmp(nv->value, "application/grpc", 16) == 0;
    else if (nv->namelen == 5 && memcmp(nv->name, ":path", 5) == 0)
        h2_copy(D->blk_path, sizeof(D->blk_path), nv->value, nv->valuelen);
    else if (nv->namelen == 11 && memcmp(nv->name, "grpc-status", 11) == 0)
        D->blk_status = nv->valuelen > 0 && nv->valuelen < 10 ? strtol((const char *)nv->value, NULL, 10) : -1;
    else if (nv->namelen == 12 && memcmp(nv->name, "grpc-message", 12) == 0)
        h2_copy(D->blk_message, sizeof(D->blk_message), nv->value, nv->valuelen);
    size_t vlen = nv->valuelen < 160 ? nv->valuelen : 160;
    if (b->nhdr == NC_H2_HDRS || (size_t)(NC_H2_HTEXT - D->tlen) < nv->namelen + vlen) {
        b->hdr_more++;
        return;
    }
    uint16_t i = b->nhdr++;
    b->name_off[i] = h2_text(D, nv->name, nv->namelen, &b->name_len[i]);
    b->value_off[i] = h2_text(D, nv->value, vlen, &b->value_len[i]);
}

/* Feeds header block bytes to the direction's inflater; final at
 * END_HEADERS. */
static void h2_hpack(h2_dir_t *D, const uint8_t *p, size_t n, bool final)
{
    if (D->hpack_broken) {
        D->blk.hpack_error = true;
        return;
    }
    if (D->inf == NULL) {
        if (nghttp2_hd_inflate_new(&D->inf) != 0) {
            D->hpack_broken = D->blk.hpack_error = true;
            return;
        }
        if (D->table_max > 4096)
            nghttp2_hd_inflate_change_table_size(D->inf, D->table_max);
    }
    for (;;) {
        nghttp2_nv nv;
        int fl = 0;
        ssize_t r = nghttp2_hd_inflate_hd2(D->inf, &nv, &fl, (uint8_t *)p, n, final);
        if (r < 0) {
            D->hpack_broken = D->blk.hpack_error = true;
            return;
        }
        p += r;
        n -= (size_t)r;
        if (fl & NGHTTP2_HD_INFLATE_EMIT)
            h2_header(D, &nv);
        if (fl & NGHTTP2_HD_INFLATE_FINAL) {
            nghttp2_hd_inflate_end_headers(D->inf);
            break;
        }
        if (!(fl & NGHTTP2_HD_INFLATE_EMIT) && n == 0)
            break;
    }
}

/* A HEADERS or PUSH_PROMISE starts a header block. */
static void h2_block_begin(h2_dir_t *D)
{
    if (D->in_block) /* the last one never ended: its state is lost */
        D->hpack_broken = true;
    memset(&D->blk, 0, sizeof(D->blk));
    D->tlen = 0;
    D->blk_grpc = false;
    D->blk_path[0] = D->blk_message[0] = '\0';
    D->blk_status = -1;
    D->in_block = true;
}

/* ---- the frame types ---- */

typedef struct h2_frame_ctx {
    nc_stream_ctx_t *sc;
    struct nc_h2_conn *c;
    h2_dir_t *D;
    h2_stream_t *s; /* the frame's stream, NULL for stream 0 */
} h2_fctx_t;

static void body_data(h2_fctx_t *x, const uint8_t *p, size_t n, uint32_t rel)
{
    if (x->s == NULL || !x->s->grpc)
        return;
    nc_grpc_dir_t *g = &x->s->g[x->sc->d];
    g->m.streamid = x->s->id;
    g->m.request = x->s->initiator == x->sc->d;
    if (g->m.path[0] == '\0')
        memcpy(g->m.path, x->s->path, sizeof(g->m.path));
    nc__grpc_data(x->sc, g, p, n, rel);
}

static void body_block(h2_fctx_t *x, const uint8_t *p, size_t n, uint32_t rel)
{
    (void)rel;
    x->D->blk.block_len += (uint32_t)n;
    h2_hpack(x->D, p, n, false);
}

/* Applies one SETTINGS entry sent by direction d. */
static void h2_setting(h2_fctx_t *x, uint16_t id, uint32_t v)
{
    nc_h2_frame_t *f = &x->D->f;
    if (f->nsettings < NC_H2_SETTINGS) {
        f->settings_id[f->nsettings] = id;
        f->settings_value[f->nsettings++] = v;
    }
    h2_dir_t *peer = &x->c->d[!x->sc->d];
    if (id == NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE && v <= 0x7fffffffu) {
        int64_t delta = (int64_t)v - peer->init_window;
        peer->init_window = v;
        for (int i = 0; i < H2_STREAMS; i++)
            if (x->c->s[i].id)
                x->c->s[i].win[!x->sc->d] += delta;
    } else if (id == NGHTTP2_SETTINGS_HEADER_TABLE_SIZE && v > 4096 && v > peer->table_max) {
        /* The peer's encoder may now use a larger table (a smaller one only
         * limits what it may ask for, which the inflater checks anyway). */
        peer->table_max = v;
        if (peer->inf)
            nghttp2_hd_inflate_change_table_size(peer->inf, v);
    }
}

static void body_settings(h2_fctx_t *x, const uint8_t *p, size_t n, uint32_t rel)
{
    (void)rel;
    h2_dir_t *D = x->D;
    for (size_t i = 0; i < n; i++) {
        D->unit[D->unitlen++] = p[i];
        if (D->unitlen < 6)
            continue;
        D->unitlen = 0;
        if (!(D->f.flags & F_ACK))
            h2_setting(x, (uint16_t)(D->unit[0] << 8 | D->unit[1]),
                       (uint32_t)D->unit[2] << 24 | (uint32_t)D->unit[3] << 16 |
                           (uint32_t)D->unit[4] << 8 | D->unit[5]);
    }
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The fixed fields, once read (k is where they start after a pad length). */
static void fixed_priority(nc_h2_frame_t *f, const uint8_t *k)
{
    f->has_prio = true;
    f->exclusive = k[0] & 0x80;
    f->stream_dependency = be32(k) & 0x7fffffffu;
    f->weight = k[4];
}

static void fixed_headers(nc_h2_frame_t *f, const uint8_t *k)
{
    if (f->flags & F_PRIORITY)
        fixed_priority(f, k);
}

static void fixed_rst(nc_h2_frame_t *f, const uint8_t *k)
{
    f->error = be32(k);
}

static void fixed_push(nc_h2_frame_t *f, const uint8_t *k)
{
    f->promised = be32(k) & 0x7fffffffu;
}

static void fixed_ping(nc_h2_frame_t *f, const uint8_t *k)
{
    memcpy(f->ping, k, 8);
}

static void fixed_goaway(nc_h2_frame_t *f, const uint8_t *k)
{
    f->last_stream_id = be32(k) & 0x7fffffffu;
    f->error = be32(k + 4);
}

static void fixed_winupd(nc_h2_frame_t *f, const uint8_t *k)
{
    f->increment = be32(k) & 0x7fffffffu;
}

/* Spends a DATA frame's length from the sender's windows. */
static void end_data(h2_fctx_t *x)
{
    nc_h2_frame_t *f = &x->D->f;
    int d = x->sc->d;
    f->data_len = f->length >= x->D->fixed + f->pad_length ? f->length - x->D->fixed - f->pad_length : 0;
    f->windowed = true;
    f->resumed = x->D->resumed || (x->s && x->s->resumed[d]);
    x->D->resumed = false;
    if (x->s)
        x->s->resumed[d] = false;
    int64_t before = x->D->send_window;
    x->D->send_window -= f->length;
    f->conn_window = x->D->send_window;
    f->conn_exhausted = before > 0 && x->D->send_window <= 0;
    if (x->s) {
        before = x->s->win[d];
        x->s->win[d] -= f->length;
        f->stream_window = x->s->win[d];
        f->stream_exhausted = before > 0 && x->s->win[d] <= 0;
        if (f->flags & F_END_STREAM)
            x->s->ended[d] = true;
    }
}

/* The header block ended with this frame: its fields go into the frame. */
static void end_block(h2_fctx_t *x)
{
    h2_dir_t *D = x->D;
    nc_h2_frame_t *f = &D->f;
    D->blk.block_frames++;
    if (!(f->flags & F_END_HEADERS))
        return;
    static const uint8_t none[1];
    h2_hpack(D, none, 0, true);
    D->in_block = false;
    f->has_block = true;
    f->hpack_error = D->blk.hpack_error;
    f->nhdr = D->blk.nhdr;
    f->hdr_more = D->blk.hdr_more;
    memcpy(f->name_off, D->blk.name_off, sizeof(f->name_off));
    memcpy(f->name_len, D->blk.name_len, sizeof(f->name_len));
    memcpy(f->value_off, D->blk.value_off, sizeof(f->value_off));
    memcpy(f->value_len, D->blk.value_len, sizeof(f->value_len));
    memcpy(f->htext, D->blk.htext, D->tlen);
    f->block_len = D->blk.block_len;
    f->list_size = D->blk.list_size;
    f->block_frames = D->blk.block_frames;
    h2_stream_t *s = x->s;
    if (s && D->blk_grpc)
        s->grpc = true;
    if (s && D->blk_path[0] && s->path[0] == '\0')
        memcpy(s->path, D->blk_path, sizeof(s->path));
}

static void end_headers(h2_fctx_t *x)
{
    h2_stream_t *s = x->s;
    int d = x->sc->d;
    if (s && !s->opened) {
        s->opened = true;
        if (s->reserved)
            s->ended[s->initiator == d ? !d : d] = true; /* a pushed stream has one sender */
        else
            s->initiator = (int8_t)d;
    }
    if (s && (x->D->f.flags & F_END_STREAM))
        s->ended[d] = true;
    end_block(x);
}

static void end_cont(h2_fctx_t *x)
{
    end_block(x);
}

static void end_rst(h2_fctx_t *x)
{
    if (x->s)
        x->s->reset = true;
}

static void end_push(h2_fctx_t *x)
{
    h2_stream_t *p = h2_stream(x->c, x->D->f.promised);
    if (p && !p->opened) {
        p->reserved = true;
        p->initiator = (int8_t)x->sc->d;
    }
    end_block(x);
}

static void end_settings(h2_fctx_t *x)
{
    /* Whole six-byte entries, and none on an ACK (RFC 9113 6.5). */
    if (x->D->f.length % 6 || ((x->D->f.flags & F_ACK) && x->D->f.length))
        x->D->f.malformed = true;
    x->D->unitlen = 0;
}

/* WINDOW_UPDATE from d gives the other direction more to send. */
static void end_winupd(h2_fctx_t *x)
{
    nc_h2_frame_t *f = &x->D->f;
    int o = !x->sc->d;
    f->windowed = true;
    if (x->s == NULL) {
        int64_t before = x->c->d[o].send_window;
        x->c->d[o].send_window += f->increment;
        f->conn_window = x->c->d[o].send_window;
        f->conn_reopened = before <= 0 && f->conn_window > 0;
        x->c->d[o].resumed |= f->conn_reopened;
    } else {
        int64_t before = x->s->win[o];
        x->s->win[o] += f->increment;
        f->stream_window = x->s->win[o];
        f->stream_reopened = before <= 0 && f->stream_window > 0;
        x->s->resumed[o] |= f->stream_reopened;
        f->conn_window = x->c->d[o].send_window;
    }
}

typedef struct h2_type {
    const char *name;
    bool padded;     /* PADDED applies */
    uint8_t prefix;  /* fixed bytes after the pad length */
    void (*fixed)(nc_h2_frame_t *f, const uint8_t *k); /* reads them */
    void (*body)(h2_fctx_t *x, const uint8_t *p, size_t n, uint32_t rel);
    void (*end)(h2_fctx_t *x);
} h2_type_t;

static const h2_type_t h2_types[] = {
    [T_DATA] = {"DATA", true, 0, NULL, body_data, end_data},
    [T_HEADERS] = {"HEADERS", true, 0, fixed_headers, body_block, end_headers},
    [T_PRIORITY] = {"PRIORITY", false, 5, fixed_priority, NULL, NULL},
    [T_RST] = {"RST_STREAM", false, 4, fixed_rst, NULL, end_rst},
    [T_SETTINGS] = {"SETTINGS", false, 0, NULL, body_settings, end_settings},
    [T_PUSH] = {"PUSH_PROMISE", true, 4, fixed_push, body_block, end_push},
    [T_PING] = {"PING", false, 8, fixed_ping, NULL, NULL},
    [T_GOAWAY] = {"GOAWAY", false, 8, fixed_goaway, NULL, NULL},
    [T_WINUPD] = {"WINDOW_UPDATE", false, 4, fixed_winupd, NULL, end_winupd},
    [T_CONT] = {"CONTINUATION", false, 0, NULL, body_block, end_cont},
};

static const h2_type_t h2_unknown = {"Unknown", false, 0, NULL, NULL, NULL};

static const h2_type_t *h2_type(uint8_t t)
{
    return t < sizeof(h2_types) / sizeof(h2_types[0]) ? &h2_types[t] : &h2_unknown;
}

/* ---- the parser ---- */

static void h2_emit(nc_stream_ctx_t *sc, h2_dir_t *D, uint32_t end, bool incomplete)
{
    nc_stream_msg_t *m = nc_xmalloc(sizeof(*m));
    memset(m, 0, offsetof(nc_stream_msg_t, u));
    m->proto = &nc_http2_stream;
    m->u.h2 = D->f;
    m->seq_start = D->start_seq;
    m->segments = D->segments;
    m->incomplete = incomplete;
    nc_stream_emit(sc, m, end);
    free(m);
}

static void h2_frame_ctx(nc_stream_ctx_t *sc, h2_fctx_t *x)
{
    x->sc = sc;
    x->c = h2_conn(sc);
    x->D = &x->c->d[sc->d];
    x->s = h2_stream(x->c, x->D->f.streamid);
}

/* The frame's last byte was read at rel end-1. */
static void h2_frame_done(nc_stream_ctx_t *sc, h2_dir_t *D, uint32_t end)
{
    h2_fctx_t x;
    h2_frame_ctx(sc, &x);
    const h2_type_t *t = h2_type(D->f.type);
    if (t->end)
        t->end(&x);
    D->f.state = x.s ? h2_state_of(x.s, sc->d) : S_NONE;
    h2_emit(sc, D, end, false);
    /* A gRPC stream's trailers: grpc-status closes the call. */
    if (x.s && x.s->grpc && D->f.has_block && D->blk_status >= 0) {
        nc_grpc_msg_t *t2 = nc_xcalloc(1, sizeof(*t2));
        t2->trailers = true;
        t2->streamid = x.s->id;
        t2->request = x.s->initiator == sc->d;
        memcpy(t2->path, x.s->path, sizeof(t2->path));
        t2->status = D->blk_status;
        memcpy(t2->message, D->blk_message, sizeof(t2->message));
        nc__grpc_trailers(sc, t2, end);
        free(t2);
    }
    D->state = P_HDR;
    D->hlen = 0;
}

/* The 9-byte header is whole: read it and size the fixed prefix. */
static void h2_header_done(h2_dir_t *D)
{
    nc_h2_frame_t *f = &D->f;
    memset(f, 0, offsetof(nc_h2_frame_t, htext));
    f->length = (uint32_t)D->hdr[0] << 16 | (uint32_t)D->hdr[1] << 8 | D->hdr[2];
    f->type = D->hdr[3];
    f->flags = D->hdr[4];
    f->r = D->hdr[5] & 0x80;
    f->streamid = be32(D->hdr + 5) & 0x7fffffffu;
    f->state = S_NONE;
    const h2_type_t *t = h2_type(f->type);
    uint32_t pad = t->padded && (f->flags & F_PADDED) ? 1 : 0;
    D->fixed = pad + t->prefix + (f->type == T_HEADERS && (f->flags & F_PRIORITY) ? 5 : 0);
    if (D->fixed > f->length) {
        D->fixed = f->length;
        f->malformed = true;
    }
    D->body_end = f->length;
    D->pos = 0;
    D->unitlen = 0;
    if (f->type == T_HEADERS || f->type == T_PUSH)
        h2_block_begin(D);
    else if (f->type == T_CONT && !D->in_block)
        f->malformed = true;
    else if (D->in_block && f->type != T_CONT) /* a block cut by another frame */
        D->hpack_broken = true;
    D->state = P_PAYLOAD;
}

/* Reads fixed-prefix bytes; sets the body's end once the pad length is
 * known, and the fixed fields once they are whole. */
static void h2_fixed(h2_dir_t *D, nc_cursor_t *c)
{
    nc_h2_frame_t *f = &D->f;
    const h2_type_t *t = h2_type(f->type);
    bool padded = t->padded && (f->flags & F_PADDED);
    while (D->pos < D->fixed && nc_cur_u8(c, &D->keep[D->pos < H2_KEEP ? D->pos : H2_KEEP - 1]))
        D->pos++;
    if (D->pos < D->fixed)
        return;
    if (f->malformed) /* too short for its fixed fields */
        return;
    if (padded) {
        f->pad_length = D->keep[0];
        if ((uint32_t)f->pad_length > f->length - D->fixed)
            f->malformed = true;
        else
            D->body_end = f->length - f->pad_length;
    }
    if (t->fixed && !f->malformed)
        t->fixed(f, D->keep + (padded ? 1 : 0));
}

static void h2_payload(nc_stream_ctx_t *sc, h2_dir_t *D, nc_cursor_t *c, uint32_t rel0,
                       const uint8_t *base)
{
    nc_h2_frame_t *f = &D->f;
    if (D->pos < D->fixed) {
        h2_fixed(D, c);
        if (D->pos < D->fixed)
            return;
    }
    if (D->pos < D->body_end && nc_cur_left(c) > 0) {
        size_t k = nc_cur_left(c);
        if (k > D->body_end - D->pos)
            k = D->body_end - D->pos;
        const uint8_t *p = c->ptr;
        nc_cur_skip(c, k);
        const h2_type_t *t = h2_type(f->type);
        if (t->body) {
            h2_fctx_t x;
            h2_frame_ctx(sc, &x);
            t->body(&x, p, k, rel0 + (uint32_t)(p - base));
        }
        D->pos += (uint32_t)k;
    }
    if (D->pos >= D->body_end && D->pos < f->length) {
        size_t k = nc_cur_left(c);
        if (k > f->length - D->pos)
            k = f->length - D->pos;
        nc_cur_skip(c, k);
        D->pos += (uint32_t)k;
    }
    if (D->pos == f->length)
        h2_frame_done(sc, D, rel0 + (uint32_t)(c->ptr - base));
}

static void h2_magic(nc_stream_ctx_t *sc, h2_dir_t *D, nc_cursor_t *c, uint32_t rel0,
                     const uint8_t *base)
{
    uint8_t ch;
    if (D->magic_got == 0) {
        D->start_seq = rel0 + (uint32_t)(c->ptr - base);
        D->segments = 1;
    }
    while (D->magic_got < H2_MAGIC_LEN && nc_cur_peek_u8(c, 0, &ch)) {
        if (ch != (uint8_t)H2_MAGIC[D->magic_got]) {
            /* No preface: the server's side, or frames fed on their own. */
            D->state = D->magic_got == 0 ? P_HDR : P_LOST;
            return;
        }
        nc_cur_skip(c, 1);
        D->magic_got++;
    }
    if (D->magic_got < H2_MAGIC_LEN)
        return;
    memset(&D->f, 0, offsetof(nc_h2_frame_t, htext));
    D->f.magic = true;
    D->f.state = S_NONE;
    h2_emit(sc, D, rel0 + (uint32_t)(c->ptr - base), false);
    D->state = P_HDR;
    D->hlen = 0;
}

static void h2_hdr(nc_stream_ctx_t *sc, h2_dir_t *D, nc_cursor_t *c, uint32_t rel0,
                   const uint8_t *base)
{
    (void)sc;
    if (D->hlen == 0) {
        D->start_seq = rel0 + (uint32_t)(c->ptr - base);
        D->segments = 1;
    }
    while (D->hlen < 9 && nc_cur_u8(c, &D->hdr[D->hlen]))
        D->hlen++;
    if (D->hlen == 9)
        h2_header_done(D);
}

static void h2_lost(nc_stream_ctx_t *sc, h2_dir_t *D, nc_cursor_t *c, uint32_t rel0,
                    const uint8_t *base)
{
    (void)sc, (void)D, (void)rel0, (void)base;
    nc_cur_skip(c, nc_cur_left(c));
}

/* What each parser state does with the bytes. */
static void (*const h2_steps[])(nc_stream_ctx_t *, h2_dir_t *, nc_cursor_t *, uint32_t,
                                const uint8_t *) = {
    [P_MAGIC] = h2_magic,
    [P_HDR] = h2_hdr,
    [P_PAYLOAD] = h2_payload,
    [P_LOST] = h2_lost,
};

static size_t h2_data(nc_stream_ctx_t *sc, const uint8_t *p, size_t n)
{
    h2_dir_t *D = &h2_conn(sc)->d[sc->d];
    if (sc->seg_start && (D->state == P_PAYLOAD || (D->state == P_HDR && D->hlen > 0) ||
                          (D->state == P_MAGIC && D->magic_got > 0)))
        D->segments++;
    nc_cursor_t c = nc_cur_make(p, n);
    while (nc_cur_left(&c) > 0) {
        /* A zero-length frame ends without payload bytes. */
        h2_steps[D->state](sc, D, &c, sc->rel, p);
        if (D->state == P_PAYLOAD && D->f.length == 0)
            h2_frame_done(sc, D, sc->rel + (uint32_t)(c.ptr - p));
    }
    return n;
}

static void h2_gap(nc_stream_ctx_t *sc, uint32_t n)
{
    h2_dir_t *D = &h2_conn(sc)->d[sc->d];
    /* Bytes lost inside a DATA frame's body only cost the data. */
    if (D->state == P_PAYLOAD && D->f.type == T_DATA && D->pos >= D->fixed &&
        n <= D->body_end - D->pos) {
        D->pos += n;
        D->f.gap_bytes += n;
        h2_fctx_t x;
        h2_frame_ctx(sc, &x);
        if (x.s && x.s->grpc)
            nc__grpc_gap(&x.s->g[sc->d], n);
        if (D->pos == D->f.length)
            h2_frame_done(sc, D, sc->rel + n);
        return;
    }
    /* Otherwise the frame boundaries, and HPACK's table, are lost. */
    if (D->state == P_PAYLOAD || (D->state == P_HDR && D->hlen > 0))
        h2_emit(sc, D, sc->rel, true);
    D->hpack_broken = true;
    D->state = P_LOST;
}

static void h2_end(nc_stream_ctx_t *sc)
{
    h2_dir_t *D = &h2_conn(sc)->d[sc->d];
    if (D->state == P_PAYLOAD || (D->state == P_HDR && D->hlen > 0))
        h2_emit(sc, D, sc->rel, true);
    D->state = P_LOST;
}

/* ---- writing ---- */

static const struct {
    uint16_t id;
    const char *name;
} h2_settings[] = {
    {1, "HEADER_TABLE_SIZE"},   {2, "ENABLE_PUSH"},          {3, "MAX_CONCURRENT_STREAMS"},
    {4, "INITIAL_WINDOW_SIZE"}, {5, "MAX_FRAME_SIZE"},       {6, "MAX_HEADER_LIST_SIZE"},
    {8, "ENABLE_CONNECT_PROTOCOL"}, {9, "NO_RFC7540_PRIORITIES"},
};

static const char *h2_setting_name(uint16_t id)
{
    for (size_t i = 0; i < sizeof(h2_settings) / sizeof(h2_settings[0]); i++)
        if (h2_settings[i].id == id)
            return h2_settings[i].name;
    return "UNKNOWN";
}

static const char *const h2_errors[] = {
    "NO_ERROR",        "PROTOCOL_ERROR",      "INTERNAL_ERROR",  "FLOW_CONTROL_ERROR",
    "SETTINGS_TIMEOUT", "STREAM_CLOSED",      "FRAME_SIZE_ERROR", "REFUSED_STREAM",
    "CANCEL",          "COMPRESSION_ERROR",   "CONNECT_ERROR",   "ENHANCE_YOUR_CALM",
    "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED",
};

static const char *h2_error_name(uint32_t e)
{
    return e < sizeof(h2_errors) / sizeof(h2_errors[0]) ? h2_errors[e] : "UNKNOWN";
}

/* The flag names that apply to the type, "|"-joined into s. */
static void h2_flag_names(const nc_h2_frame_t *f, char *s, size_t n)
{
    static const struct {
        uint8_t bit;
        uint16_t types; /* bit per frame type it applies to */
        const char *name;
    } flags[] = {
        {F_END_STREAM, 1u << T_DATA | 1u << T_HEADERS, "END_STREAM"},
        {F_ACK, 1u << T_SETTINGS | 1u << T_PING, "ACK"},
        {F_END_HEADERS, 1u << T_HEADERS | 1u << T_PUSH | 1u << T_CONT, "END_HEADERS"},
        {F_PADDED, 1u << T_DATA | 1u << T_HEADERS | 1u << T_PUSH, "PADDED"},
        {F_PRIORITY, 1u << T_HEADERS, "PRIORITY"},
    };
    s[0] = '\0';
    size_t used = 0;
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        if (!(f->flags & flags[i].bit) || f->type > T_CONT || !(flags[i].types >> f->type & 1))
            continue;
        int w = snprintf(s + used, n - used, "%s%s", used ? "|" : "", flags[i].name);
        if (w < 0 || (size_t)w >= n - used)
            break;
        used += (size_t)w;
    }
}

/* The value of header `name` in the frame's block, or NULL. */
static const char *h2_find(const nc_h2_frame_t *f, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    for (uint16_t i = 0; i < f->nhdr; i++)
        if (f->name_len[i] == nl && memcmp(f->htext + f->name_off[i], name, nl) == 0) {
            *len = f->value_len[i];
            return f->htext + f->value_off[i];
        }
    return NULL;
}

static void h2_write(nc_evb_t *b, const nc_stream_msg_t *m)
{
    const nc_h2_frame_t *f = &m->u.h2;
    if (f->magic) {
        nc_evb_str(b, "magic", H2_MAGIC);
    } else {
        char fl[64];
        nc_evb_int(b, "length", f->length);
        nc_evb_int(b, "type", f->type);
        nc_evb_str(b, "type_name", h2_type(f->type)->name);
        nc_evb_int(b, "flags", f->flags);
        h2_flag_names(f, fl, sizeof(fl));
        if (fl[0])
            nc_evb_str(b, "flag_names", fl);
        nc_evb_int(b, "r", f->r);
        nc_evb_int(b, "streamid", f->streamid);
        if (f->state < S_NONE)
            nc_evb_str(b, "stream_state", h2_state_names[f->state]);
        if ((f->type == T_DATA || f->type == T_HEADERS || f->type == T_PUSH) &&
            (f->flags & F_PADDED))
            nc_evb_int(b, "pad_length", f->pad_length);
        if (f->has_prio) {
            nc_evb_bool(b, "exclusive", f->exclusive);
            nc_evb_int(b, "stream_dependency", f->stream_dependency);
            nc_evb_int(b, "weight", f->weight);
        }
        if (f->type == T_DATA)
            nc_evb_int(b, "data_len", f->data_len);
        if (f->type == T_RST) {
            nc_evb_obj(b, "rst_stream");
            nc_evb_int(b, "error", f->error);
            nc_evb_end(b);
            nc_evb_str(b, "error_name", h2_error_name(f->error));
        }
        if (f->type == T_SETTINGS) {
            nc_evb_bool(b, "ack", f->flags & F_ACK);
            nc_evb_list(b, "settings");
            for (uint8_t i = 0; i < f->nsettings; i++) {
                nc_evb_obj(b, NULL);
                nc_evb_int(b, "id", f->settings_id[i]);
                nc_evb_str(b, "name", h2_setting_name(f->settings_id[i]));
                nc_evb_int(b, "value", f->settings_value[i]);
                nc_evb_end(b);
            }
            nc_evb_end(b);
        }
        if (f->type == T_PUSH) {
            nc_evb_obj(b, "push_promise");
            nc_evb_int(b, "promised_stream_id", f->promised);
            nc_evb_end(b);
        }
        if (f->type == T_PING)
            nc_evb_strf(b, (f->flags & F_ACK) ? "pong" : "ping",
                        "%02x:%02x:%02x:%02x:%02x:%02x:%02x:%02x", f->ping[0], f->ping[1],
                        f->ping[2], f->ping[3], f->ping[4], f->ping[5], f->ping[6], f->ping[7]);
        if (f->type == T_GOAWAY) {
            nc_evb_obj(b, "goaway");
            nc_evb_int(b, "last_stream_id", f->last_stream_id);
            nc_evb_int(b, "error", f->error);
            nc_evb_end(b);
            nc_evb_str(b, "error_name", h2_error_name(f->error));
        }
        if (f->type == T_WINUPD) {
            nc_evb_obj(b, "window_update");
            nc_evb_int(b, "window_size_increment", f->increment);
            nc_evb_end(b);
        }
        if (f->has_block) {
            nc_evb_list(b, "header");
            for (uint16_t i = 0; i < f->nhdr; i++) {
                nc_evb_obj(b, NULL);
                nc_evb_strn(b, "name", f->htext + f->name_off[i], f->name_len[i]);
                nc_evb_strn(b, "value", f->htext + f->value_off[i], f->value_len[i]);
                nc_evb_end(b);
            }
            nc_evb_end(b);
            nc_evb_int(b, "header_count", f->nhdr + f->hdr_more);
            if (f->hdr_more)
                nc_evb_int(b, "header_more", f->hdr_more);
            nc_evb_int(b, "header_block_len", f->block_len);
            nc_evb_int(b, "header_list_size", f->list_size);
            if (f->block_frames > 1)
                nc_evb_int(b, "header_block_frames", f->block_frames);
            if (f->hpack_error)
                nc_evb_bool(b, "hpack_error", true);
        }
        if (f->windowed) {
            nc_evb_int(b, "conn_window", f->conn_window);
            if (f->streamid)
                nc_evb_int(b, "stream_window", f->stream_window);
            if (f->conn_exhausted)
                nc_evb_bool(b, "conn_window_exhausted", true);
            if (f->stream_exhausted)
                nc_evb_bool(b, "stream_window_exhausted", true);
            if (f->conn_reopened)
                nc_evb_bool(b, "conn_window_reopened", true);
            if (f->stream_reopened)
                nc_evb_bool(b, "stream_window_reopened", true);
            if (f->resumed)
                nc_evb_bool(b, "resumed_after_window", true);
        }
        if (f->malformed)
            nc_evb_bool(b, "malformed", true);
        if (f->gap_bytes)
            nc_evb_int(b, "gap_bytes", (int64_t)f->gap_bytes);
    }
    if (m->incomplete)
        nc_evb_bool(b, "incomplete", true);
    nc_evb_int(b, "seq_start", m->seq_start);
    nc_evb_int(b, "seq_end", m->seq_end);
    nc_evb_int(b, "segments", m->segments);
}

static void h2_summary(const nc_stream_msg_t *m, char *s, size_t n)
{
    const nc_h2_frame_t *f = &m->u.h2;
    if (f->magic) {
        snprintf(s, n, "HTTP/2 preface");
        return;
    }
    char fl[64], what[120] = "";
    h2_flag_names(f, fl, sizeof(fl));
    size_t l1 = 0, l2 = 0;
    const char *method = h2_find(f, ":method", &l1), *path = h2_find(f, ":path", &l2);
    const char *status = NULL;
    size_t l3 = 0;
    if (method && path)
        snprintf(what, sizeof(what), " %.*s %.*s", (int)l1, method, (int)(l2 > 60 ? 60 : l2), path);
    else if ((status = h2_find(f, ":status", &l3)) != NULL)
        snprintf(what, sizeof(what), " %.*s", (int)(l3 > 3 ? 3 : l3), status);
    else if (f->type == T_DATA)
        snprintf(what, sizeof(what), " %u B", f->data_len);
    else if (f->type == T_WINUPD)
        snprintf(what, sizeof(what), " +%u", f->increment);
    else if (f->type == T_RST || f->type == T_GOAWAY)
        snprintf(what, sizeof(what), " %s", h2_error_name(f->error));
    snprintf(s, n, "%s[%u]%s%s%s%s", h2_type(f->type)->name, f->streamid, what, fl[0] ? " " : "",
             fl, m->incomplete ? " (incomplete)" : "");
}

static const nc_field_decl_t h2_fields[] = {
    {"magic", NC_F_STR},
    {"length", NC_F_INT},
    {"type", NC_F_INT},
    {"type_name", NC_F_STR},
    {"flags", NC_F_INT},
    {"flag_names", NC_F_STR},
    {"r", NC_F_INT},
    {"streamid", NC_F_INT},
    {"stream_state", NC_F_STR},
    {"pad_length", NC_F_INT},
    {"exclusive", NC_F_BOOL},
    {"stream_dependency", NC_F_INT},
    {"weight", NC_F_INT},
    {"data_len", NC_F_INT},
    {"rst_stream", NC_F_OBJ},
    {"rst_stream.error", NC_F_INT},
    {"error_name", NC_F_STR},
    {"ack", NC_F_BOOL},
    {"settings", NC_F_LIST},
    {"settings.id", NC_F_INT},
    {"settings.name", NC_F_STR},
    {"settings.value", NC_F_INT},
    {"push_promise", NC_F_OBJ},
    {"push_promise.promised_stream_id", NC_F_INT},
    {"ping", NC_F_STR},
    {"pong", NC_F_STR},
    {"goaway", NC_F_OBJ},
    {"goaway.last_stream_id", NC_F_INT},
    {"goaway.error", NC_F_INT},
    {"window_update", NC_F_OBJ},
    {"window_update.window_size_increment", NC_F_INT},
    {"header", NC_F_LIST},
    {"header.name", NC_F_STR},
    {"header.value", NC_F_STR},
    {"header_count", NC_F_INT},
    {"header_more", NC_F_INT},
    {"header_block_len", NC_F_INT},
    {"header_list_size", NC_F_INT},
    {"header_block_frames", NC_F_INT},
    {"hpack_error", NC_F_BOOL},
    {"conn_window", NC_F_INT},
    {"stream_window", NC_F_INT},
    {"conn_window_exhausted", NC_F_BOOL},
    {"stream_window_exhausted", NC_F_BOOL},
    {"conn_window_reopened", NC_F_BOOL},
    {"stream_window_reopened", NC_F_BOOL},
    {"resumed_after_window", NC_F_BOOL},
    {"malformed", NC_F_BOOL},
    {"gap_bytes", NC_F_INT},
    {"incomplete", NC_F_BOOL},
    {"seq_start", NC_F_INT},
    {"seq_end", NC_F_INT},
    {"segments", NC_F_INT},
    {"other_direction", NC_F_BOOL},
    {NULL, 0},
};

const nc_stream_proto_t nc_http2_stream = {
    .name = "http2",
    .fields = h2_fields,
    .data = h2_data,
    .gap = h2_gap,
    .end = h2_end,
    .write = h2_write,
    .summary = h2_summary,
};

static int h2_layer(nc_dctx_t *x, nc_cursor_t *c)
{
    return nc__stream_layer(x, c, NC_SAPP_HTTP2);
}

const nc_proto_t nc_http2_proto = {"http2", h2_layer, h2_fields};
