/*
 * test_http2.c: unit tests of the HTTP/2 decoder (http2.c), gRPC (grpc.c)
 * and the protobuf walk (protobuf.c), through the reassembler's API.
 *
 * The conversations are built here, frame by frame, with header blocks
 * from nghttp2's own HPACK deflater (so the sizes the decoder reports can
 * be checked against what the encoder produced). Each is fed whole, one
 * byte at a time and in random cuts: the frames, their fields, the stream
 * states and the windows must come out the same every time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "decode/stream.h"

#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ISN_C 5000u
#define ISN_S 9000u

typedef struct bytes {
    uint8_t b[8192];
    size_t n;
} bytes_t;

/* One side's frames, in the order each side sends them; `turn` says after
 * how many bytes of the client's side each server frame may go. */
typedef struct conv {
    bytes_t side[2];
    size_t turn[64]; /* client bytes sent before server byte offset mark[i] */
    size_t mark[64];
    int nturn;
} conv_t;

static void put(bytes_t *o, const void *p, size_t n)
{
    assert_true(o->n + n <= sizeof(o->b));
    memcpy(o->b + o->n, p, n);
    o->n += n;
}

static void frame(bytes_t *o, uint32_t len, uint8_t type, uint8_t flags, uint32_t sid,
                  const void *payload)
{
    uint8_t h[9] = {(uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len, type, flags,
                    (uint8_t)(sid >> 24), (uint8_t)(sid >> 16), (uint8_t)(sid >> 8), (uint8_t)sid};
    put(o, h, 9);
    if (len)
        put(o, payload, len);
}

static size_t deflate(nghttp2_hd_deflater *df, const char *const *nv, uint8_t *out, size_t cap,
                      uint32_t *list_size)
{
    nghttp2_nv v[16];
    size_t n = 0;
    *list_size = 0;
    for (; nv[2 * n]; n++) {
        v[n] = (nghttp2_nv){(uint8_t *)nv[2 * n], (uint8_t *)nv[2 * n + 1], strlen(nv[2 * n]),
                            strlen(nv[2 * n + 1]), NGHTTP2_NV_FLAG_NONE};
        *list_size += (uint32_t)(v[n].namelen + v[n].valuelen + 32);
    }
    ssize_t r = nghttp2_hd_deflate_hd(df, out, cap, v, n);
    assert_true(r > 0);
    return (size_t)r;
}

static void settings1(bytes_t *o, uint16_t id, uint32_t v)
{
    uint8_t p[6] = {(uint8_t)(id >> 8), (uint8_t)id, (uint8_t)(v >> 24), (uint8_t)(v >> 16),
                    (uint8_t)(v >> 8), (uint8_t)v};
    frame(o, 6, 4, 0, 0, p);
}

static void winupd(bytes_t *o, uint32_t sid, uint32_t inc)
{
    uint8_t p[4] = {(uint8_t)(inc >> 24), (uint8_t)(inc >> 16), (uint8_t)(inc >> 8), (uint8_t)inc};
    frame(o, 4, 8, 0, sid, p);
}

/* ---- feeding ---- */

typedef struct rec {
    char sum[128][96];
    nc_stream_msg_t m[128];
    int n;
} rec_t;

static void feed(nc_stream_t *st, int dir, const bytes_t *side, size_t off, size_t len, bool syn,
                 rec_t *r)
{
    static nc_stream_out_t out;
    memset(&out, 0, sizeof(out));
    uint32_t isn = dir == 0 ? ISN_C : ISN_S, peer = dir == 0 ? ISN_S : ISN_C;
    nc_stream_seg_t s = {
        .dir = dir,
        .seq = syn ? isn : isn + 1 + (uint32_t)off,
        .len = (uint32_t)len,
        .syn = syn,
        .base = isn,
        .peer_base = peer,
        .from_syn = true,
        .payload = side->b + off,
        .caplen = (uint32_t)len,
    };
    nc_stream_segment(st, &s, &out);
    for (uint32_t i = 0; i < out.nmsgs && r->n < 128; i++) {
        out.msgs[i].proto->summary(&out.msgs[i], r->sum[r->n], sizeof(r->sum[0]));
        r->m[r->n++] = out.msgs[i];
    }
}

/* Feeds the conversation: the client's bytes up to each turn, then the
 * server's up to its mark, each in pieces of cut() bytes. */
static void play(const conv_t *cv, size_t (*cut)(void), rec_t *r)
{
    memset(r, 0, sizeof(*r));
    nc_stream_t *st = nc_stream_new();
    feed(st, 0, &cv->side[0], 0, 0, true, r);
    feed(st, 1, &cv->side[1], 0, 0, true, r);
    size_t off[2] = {0, 0};
    for (int t = 0; t <= cv->nturn; t++) {
        size_t lim[2] = {t < cv->nturn ? cv->turn[t] : cv->side[0].n,
                         t < cv->nturn ? cv->mark[t] : cv->side[1].n};
        for (int d = 0; d < 2; d++)
            while (off[d] < lim[d]) {
                size_t k = cut();
                /* A side's first segment holds at least the preface's
                 * "PRI" (or a frame header), as every real one does. */
                if (off[d] == 0 && k < 9)
                    k = 9;
                if (k > lim[d] - off[d])
                    k = lim[d] - off[d];
                feed(st, d, &cv->side[d], off[d], k, false, r);
                off[d] += k;
            }
    }
    nc_stream_free(st);
}

static size_t cut_whole(void)
{
    return 1u << 20;
}

static size_t cut_one(void)
{
    return 1;
}

static size_t cut_rnd(void)
{
    return 1 + (size_t)(rand() % 23);
}

static size_t (*const cuts[])(void) = {cut_whole, cut_one, cut_rnd, cut_rnd, cut_rnd};

static const nc_h2_frame_t *find(const rec_t *r, const char *sum_prefix, int nth)
{
    for (int i = 0; i < r->n; i++)
        if (r->m[i].proto == &nc_http2_stream &&
            strncmp(r->sum[i], sum_prefix, strlen(sum_prefix)) == 0 && nth-- == 0)
            return &r->m[i].u.h2;
    fail_msg("no frame \"%s\"", sum_prefix);
    return NULL;
}

static bool has_header(const nc_h2_frame_t *f, const char *name, const char *value)
{
    for (uint16_t i = 0; i < f->nhdr; i++)
        if (f->name_len[i] == strlen(name) && memcmp(f->htext + f->name_off[i], name, f->name_len[i]) == 0 &&
            f->value_len[i] == strlen(value) &&
            memcmp(f->htext + f->value_off[i], value, f->value_len[i]) == 0)
            return true;
    return false;
}

/* ---- the conversation ---- */

static conv_t cv;
static uint32_t req1_block, req1_size, req2_block, resp_block;

static void build(void)
{
    memset(&cv, 0, sizeof(cv));
    nghttp2_hd_deflater *dc, *ds;
    assert_int_equal(nghttp2_hd_deflate_new(&dc, 4096), 0);
    assert_int_equal(nghttp2_hd_deflate_new(&ds, 4096), 0);
    bytes_t *c = &cv.side[0], *s = &cv.side[1];
    uint8_t blk[512], pay[512];
    uint32_t size;
    static const char *const req[] = {":method", "GET", ":path", "/a", ":scheme", "http",
                                      ":authority", "example", "user-agent", "unit/1", NULL};
    static const char *const req2[] = {":method", "GET", ":path", "/a", ":scheme", "http",
                                       ":authority", "example", "user-agent", "unit/1", NULL};
    static const char *const resp[] = {":status", "200", "content-type", "text/plain", NULL};

    put(c, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
    settings1(c, 4, 100); /* the server may send 100 bytes per stream */
    req1_block = (uint32_t)deflate(dc, req, blk, sizeof(blk), &req1_size);
    frame(c, req1_block, 1, 0x5, 1, blk); /* END_STREAM | END_HEADERS */
    /* Stream 3: the same request, cut in HEADERS (padded, with priority)
     * and CONTINUATION. */
    req2_block = (uint32_t)deflate(dc, req2, blk, sizeof(blk), &size);
    assert_true(req2_block >= 2);
    pay[0] = 3; /* pad length */
    memcpy(pay + 1, "\x80\x00\x00\x01\x0f", 5); /* exclusive, on stream 1, weight 15 */
    memcpy(pay + 6, blk, 1);
    memset(pay + 7, 0, 3);
    frame(c, 10, 1, 0x1 | 0x8 | 0x20, 3, pay);
    frame(c, req2_block - 1, 9, 0x4, 3, blk + 1);
    frame(c, 5, 2, 0, 5, "\x00\x00\x00\x03\x07");
    frame(c, 8, 6, 0, 0, "pingpong");
    frame(c, 4, 3, 0, 3, "\x00\x00\x00\x08"); /* CANCEL */
    frame(c, 3, 0xfa, 0, 0, "xyz");            /* an unknown type */
    cv.turn[cv.nturn] = c->n;

    settings1(s, 3, 100);
    frame(s, 0, 4, 0x1, 0, NULL); /* ACK */
    resp_block = (uint32_t)deflate(ds, resp, blk, sizeof(blk), &size);
    frame(s, resp_block, 1, 0x4, 1, blk);
    memset(pay, 'x', sizeof(pay));
    pay[0] = 9; /* padded DATA: 1 + 90 + 9 = 100 bytes, all the window */
    frame(s, 100, 0, 0x8, 1, pay);
    frame(s, 8, 6, 0x1, 0, "pingpong");
    cv.mark[cv.nturn++] = s->n;

    winupd(c, 1, 50);
    winupd(c, 0, 1000);
    cv.turn[cv.nturn] = c->n;
    frame(s, 50, 0, 0x1, 1, pay + 1); /* END_STREAM: stream 1 closes */
    uint8_t pp[64] = {0, 0, 0, 2};
    static const char *const push[] = {":method", "GET", ":path", "/style.css", ":scheme",
                                       "http", ":authority", "example", NULL};
    size_t pb = deflate(ds, push, pp + 4, sizeof(pp) - 4, &size);
    frame(s, (uint32_t)(4 + pb), 5, 0x4, 1, pp);
    frame(s, 8, 7, 0, 0, "\x00\x00\x00\x03\x00\x00\x00\x00");
    cv.mark[cv.nturn++] = s->n;
    nghttp2_hd_deflate_del(dc);
    nghttp2_hd_deflate_del(ds);
}

static const char *const want[] = {
    "HTTP/2 preface",
    "SETTINGS[0]",
    "HEADERS[1] GET /a END_STREAM|END_HEADERS",
    "CONTINUATION[3] GET /a END_HEADERS",
    "PRIORITY[5]",
    "PING[0]",
    "RST_STREAM[3] CANCEL",
    "Unknown[0]",
    "SETTINGS[0]",
    "SETTINGS[0] ACK",
    "HEADERS[1] 200 END_HEADERS",
    "DATA[1] 90 B PADDED",
    "PING[0] ACK",
    "WINDOW_UPDATE[1] +50",
    "WINDOW_UPDATE[0] +1000",
    "DATA[1] 50 B END_STREAM",
    "PUSH_PROMISE[1] GET /style.css END_HEADERS",
    "GOAWAY[0] NO_ERROR",
};

static void test_h2_frames_every_cut(void **state)
{
    (void)state;
    build();
    srand(7);
    for (size_t k = 0; k < sizeof(cuts) / sizeof(cuts[0]); k++) {
        static rec_t r;
        play(&cv, cuts[k], &r);
        /* HEADERS[3] (no END_HEADERS) comes before its CONTINUATION. */
        int j = 0;
        for (int i = 0; i < r.n; i++) {
            if (strncmp(r.sum[i], "HEADERS[3]", 10) == 0)
                continue;
            assert_true(j < (int)(sizeof(want) / sizeof(want[0])));
            assert_string_equal(r.sum[i], want[j]);
            j++;
        }
        assert_int_equal(j, sizeof(want) / sizeof(want[0]));
        const nc_h2_frame_t *f = find(&r, "HEADERS[1] GET", 0);
        assert_true(has_header(f, ":path", "/a") && has_header(f, "user-agent", "unit/1"));
        assert_int_equal(f->block_len, req1_block);
        assert_int_equal(f->list_size, req1_size);
        assert_string_equal("half-closed (local)", f->state == 4 ? "half-closed (local)" : "?");
        f = find(&r, "HEADERS[3]", 0);
        assert_true(f->has_prio && f->exclusive);
        assert_int_equal(f->stream_dependency, 1);
        assert_int_equal(f->weight, 15);
        assert_int_equal(f->pad_length, 3);
        assert_false(f->has_block);
        f = find(&r, "CONTINUATION[3]", 0);
        assert_true(f->has_block);
        assert_int_equal(f->block_len, req2_block);
        assert_int_equal(f->block_frames, 2);
        /* The second request reuses the table: far fewer bytes, same size. */
        if (!(f->block_len * 2 < req1_block))
            fprintf(stderr, "blocks %u %u\n", f->block_len, req1_block);
        assert_true(f->block_len * 2 < req1_block);
        assert_int_equal(f->list_size, req1_size);
        f = find(&r, "DATA[1] 90", 0);
        assert_int_equal(f->pad_length, 9);
        assert_int_equal(f->stream_window, 0);
        assert_true(f->stream_exhausted);
        assert_false(f->conn_exhausted);
        assert_int_equal(f->conn_window, 65535 - 100);
        f = find(&r, "WINDOW_UPDATE[1]", 0);
        assert_true(f->stream_reopened);
        assert_int_equal(f->stream_window, 50);
        f = find(&r, "WINDOW_UPDATE[0]", 0);
        assert_false(f->conn_reopened);
        assert_int_equal(f->conn_window, 65535 - 100 + 1000);
        f = find(&r, "DATA[1] 50", 0);
        assert_true(f->stream_exhausted);
        assert_true(f->resumed); /* it waited for WINDOW_UPDATE[1] */
        assert_false(find(&r, "DATA[1] 90", 0)->resumed);
        assert_int_equal(f->state, 6); /* closed */
        f = find(&r, "RST_STREAM", 0);
        assert_int_equal(f->error, 8);
        assert_int_equal(f->state, 6);
        f = find(&r, "PUSH_PROMISE", 0);
        assert_int_equal(f->promised, 2);
        f = find(&r, "SETTINGS[0]", 0);
        assert_int_equal(f->nsettings, 1);
        assert_int_equal(f->settings_id[0], 4);
        assert_int_equal(f->settings_value[0], 100);
        f = find(&r, "GOAWAY", 0);
        assert_int_equal(f->last_stream_id, 3);
        f = find(&r, "PRIORITY[5]", 0);
        assert_int_equal(f->state, 0); /* idle: PRIORITY opens nothing */
        assert_int_equal(f->weight, 7);
    }
}

/* A 101 to "Upgrade: h2c" hands both directions to HTTP/2: the request is
 * stream 1, and the server's first frames answer it. */
static void test_h2_upgrade(void **state)
{
    (void)state;
    conv_t u;
    memset(&u, 0, sizeof(u));
    const char *req = "GET /up HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                      "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n";
    put(&u.side[0], req, strlen(req));
    u.turn[0] = u.side[0].n;
    const char *resp = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n";
    put(&u.side[1], resp, strlen(resp));
    settings1(&u.side[1], 3, 100);
    nghttp2_hd_deflater *ds;
    assert_int_equal(nghttp2_hd_deflate_new(&ds, 4096), 0);
    uint8_t blk[256];
    uint32_t size;
    static const char *const st[] = {":status", "200", NULL};
    size_t n = deflate(ds, st, blk, sizeof(blk), &size);
    frame(&u.side[1], (uint32_t)n, 1, 0x4, 1, blk);
    frame(&u.side[1], 2, 0, 0x1, 1, "ok");
    nghttp2_hd_deflate_del(ds);
    u.mark[0] = u.side[1].n;
    u.nturn = 1;
    put(&u.side[0], "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
    frame(&u.side[0], 0, 4, 0, 0, NULL);
    frame(&u.side[0], 0, 4, 1, 0, NULL);
    static const char *const want_up[] = {
        "GET /up HTTP/1.1", "HTTP/1.1 101 Switching Protocols", "SETTINGS[0]",
        "HEADERS[1] 200 END_HEADERS", "DATA[1] 2 B END_STREAM", "HTTP/2 preface",
        "SETTINGS[0]", "SETTINGS[0] ACK",
    };
    for (size_t k = 0; k < sizeof(cuts) / sizeof(cuts[0]); k++) {
        static rec_t r;
        play(&u, cuts[k], &r);
        assert_int_equal(r.n, sizeof(want_up) / sizeof(want_up[0]));
        for (int i = 0; i < r.n; i++)
            assert_string_equal(r.sum[i], want_up[i]);
        /* The request was stream 1's client half: the END_STREAM closes it. */
        assert_int_equal(find(&r, "DATA[1]", 0)->state, 6);
    }
}

/* gRPC: a message split over two DATA frames, a second one whole, and the
 * trailers; the protobuf walk of the first. */
static void test_grpc_messages(void **state)
{
    (void)state;
    conv_t g;
    memset(&g, 0, sizeof(g));
    nghttp2_hd_deflater *dc, *ds;
    assert_int_equal(nghttp2_hd_deflate_new(&dc, 4096), 0);
    assert_int_equal(nghttp2_hd_deflate_new(&ds, 4096), 0);
    uint8_t blk[256];
    uint32_t size;
    static const char *const req[] = {":method", "POST", ":path", "/demo.Echo/Say", ":scheme",
                                      "http", "content-type", "application/grpc", "te",
                                      "trailers", NULL};
    static const char *const resp[] = {":status", "200", "content-type", "application/grpc", NULL};
    static const char *const trl[] = {"grpc-status", "5", "grpc-message", "not here", NULL};
    put(&g.side[0], "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
    size_t n = deflate(dc, req, blk, sizeof(blk), &size);
    frame(&g.side[0], (uint32_t)n, 1, 0x4, 1, blk);
    /* 08 96 01 (1: 150), 12 05 "hello" (2: "hello"), 1a 02 08 01 (3: {1: 1}) */
    static const uint8_t msg[] = {0, 0, 0, 0, 14, 0x08, 0x96, 0x01, 0x12, 0x05, 'h', 'e', 'l',
                                  'l', 'o', 0x1a, 0x02, 0x08, 0x01};
    frame(&g.side[0], 8, 0, 0, 1, msg);
    frame(&g.side[0], sizeof(msg) - 8, 0, 0x1, 1, msg + 8);
    g.turn[0] = g.side[0].n;
    n = deflate(ds, resp, blk, sizeof(blk), &size);
    frame(&g.side[1], (uint32_t)n, 1, 0x4, 1, blk);
    uint8_t two[2 * sizeof(msg)];
    memcpy(two, msg, sizeof(msg));
    memcpy(two + sizeof(msg), msg, sizeof(msg));
    frame(&g.side[1], sizeof(two), 0, 0, 1, two);
    n = deflate(ds, trl, blk, sizeof(blk), &size);
    frame(&g.side[1], (uint32_t)n, 1, 0x5, 1, blk);
    g.mark[0] = g.side[1].n;
    g.nturn = 1;
    nghttp2_hd_deflate_del(dc);
    nghttp2_hd_deflate_del(ds);
    for (size_t k = 0; k < sizeof(cuts) / sizeof(cuts[0]); k++) {
        static rec_t r;
        play(&g, cuts[k], &r);
        int msgs = 0, pbs = 0, trailers = 0;
        for (int i = 0; i < r.n; i++) {
            const nc_stream_msg_t *m = &r.m[i];
            if (m->proto == &nc_grpc_stream && m->u.grpc.trailers) {
                trailers++;
                assert_int_equal(m->u.grpc.status, 5);
                assert_string_equal(m->u.grpc.message, "not here");
            } else if (m->proto == &nc_grpc_stream) {
                msgs++;
                assert_int_equal(m->u.grpc.message_length, 14);
                assert_string_equal(m->u.grpc.path, "/demo.Echo/Say");
                assert_int_equal(m->u.grpc.request, msgs == 1);
            } else if (m->proto == &nc_protobuf_stream) {
                pbs++;
                const nc_pb_msg_t *p = &m->u.pb;
                assert_int_equal(p->nfields, 4);
                assert_int_equal(p->f[0].number, 1);
                assert_int_equal(p->f[0].value, 150);
                assert_string_equal(p->f[1].text, "hello");
                assert_int_equal(p->f[2].number, 3);
                assert_int_equal(p->f[3].depth, 1);
                assert_false(p->malformed);
            }
        }
        if (msgs != 3)
            for (int i = 0; i < r.n; i++)
                fprintf(stderr, "%s\n", r.sum[i]);
        assert_int_equal(msgs, 3);
        assert_int_equal(pbs, 3);
        assert_int_equal(trailers, 1);
    }
}

/* Bytes lost inside a DATA body cost only those bytes; lost inside a
 * frame header, the rest of the direction is not read as frames. */
static void test_h2_gap(void **state)
{
    (void)state;
    build();
    nc_stream_t *st = nc_stream_new();
    static rec_t r;
    memset(&r, 0, sizeof(r));
    feed(st, 0, &cv.side[0], 0, 0, true, &r);
    feed(st, 1, &cv.side[1], 0, 0, true, &r);
    feed(st, 0, &cv.side[0], 0, cv.turn[0], false, &r);
    /* The server's side up to the padded DATA's 20th payload byte, then a
     * hole of 30 bytes, then the rest. */
    const uint8_t *d = memmem(cv.side[1].b, cv.side[1].n, "\x00\x00\x64\x00\x08", 5);
    assert_non_null(d);
    size_t at = (size_t)(d - cv.side[1].b) + 9 + 20;
    feed(st, 1, &cv.side[1], 0, at, false, &r);
    feed(st, 1, &cv.side[1], at + 30, cv.mark[0] - at - 30, false, &r);
    static nc_stream_out_t out;
    memset(&out, 0, sizeof(out));
    nc_stream_finish(st, &out);
    for (uint32_t k = 0; k < out.nmsgs && r.n < 128; k++) {
        out.msgs[k].proto->summary(&out.msgs[k], r.sum[r.n], sizeof(r.sum[0]));
        r.m[r.n++] = out.msgs[k];
    }
    nc_stream_free(st);
    int i;
    for (i = 0; i < r.n && strncmp(r.sum[i], "DATA[1]", 7) != 0; i++)
        ;
    assert_true(i < r.n);
    assert_int_equal(r.m[i].u.h2.gap_bytes, 30);
    assert_string_equal(r.sum[i + 1], "PING[0] ACK");
}

/* The entry a TLS decryptor uses: plaintext per direction, in order, with
 * ALPN's "h2" set beforehand, gives the same frames. */
static void test_h2_plaintext_entry(void **state)
{
    (void)state;
    build();
    nc_stream_t *st = nc_stream_new();
    nc_stream_set_app(st, 0, NC_SAPP_HTTP2);
    nc_stream_set_app(st, 1, NC_SAPP_HTTP2);
    static rec_t r;
    memset(&r, 0, sizeof(r));
    static nc_stream_out_t out;
    size_t off[2] = {0, 0};
    for (int t = 0; t <= cv.nturn; t++) {
        size_t lim[2] = {t < cv.nturn ? cv.turn[t] : cv.side[0].n,
                         t < cv.nturn ? cv.mark[t] : cv.side[1].n};
        for (int d = 0; d < 2; d++) {
            memset(&out, 0, sizeof(out));
            nc_stream_plain(st, d, cv.side[d].b + off[d], lim[d] - off[d], &out);
            off[d] = lim[d];
            for (uint32_t k = 0; k < out.nmsgs && r.n < 128; k++) {
                out.msgs[k].proto->summary(&out.msgs[k], r.sum[r.n], sizeof(r.sum[0]));
                r.m[r.n++] = out.msgs[k];
            }
        }
    }
    nc_stream_free(st);
    int j = 0;
    for (int i = 0; i < r.n; i++)
        if (strncmp(r.sum[i], "HEADERS[3]", 10) != 0)
            assert_string_equal(r.sum[i], want[j++]);
    assert_int_equal(j, sizeof(want) / sizeof(want[0]));
    assert_int_equal(r.m[0].seq_start, 1); /* offsets in the plaintext */
    assert_int_equal(r.m[0].seq_end, 25);
}

static void test_protobuf_walk(void **state)
{
    (void)state;
    nc_pb_msg_t m;
    /* Fixed64, fixed32, bytes that are no text and no message. */
    static const uint8_t a[] = {0x09, 1, 0, 0, 0, 0, 0, 0, 0, 0x15, 2, 0, 0, 0, 0x22, 0x02, 0xff, 0x00};
    nc__protobuf_walk(a, sizeof(a), NULL, &m);
    assert_int_equal(m.nfields, 3);
    assert_int_equal(m.f[0].wiretype, 1);
    assert_int_equal(m.f[0].value, 1);
    assert_int_equal(m.f[1].wiretype, 5);
    assert_int_equal(m.f[1].value, 2);
    assert_int_equal(m.f[2].kind, 4); /* bytes */
    assert_false(m.malformed);
    /* A length past the end, field number 0, an endless varint. */
    static const uint8_t b[] = {0x0a, 0x05, 'a'};
    nc__protobuf_walk(b, sizeof(b), NULL, &m);
    assert_true(m.malformed);
    static const uint8_t c[] = {0x00, 0x01};
    nc__protobuf_walk(c, sizeof(c), NULL, &m);
    assert_true(m.malformed);
    uint8_t d[12];
    memset(d, 0xff, sizeof(d));
    d[0] = 0x08;
    nc__protobuf_walk(d, sizeof(d), NULL, &m);
    assert_true(m.malformed);
    /* More fields than kept are counted. */
    uint8_t e[2 * (NC_PB_FIELDS + 5)];
    for (size_t i = 0; i < sizeof(e); i += 2) {
        e[i] = 0x08;
        e[i + 1] = (uint8_t)i;
    }
    nc__protobuf_walk(e, sizeof(e), NULL, &m);
    assert_int_equal(m.nfields, NC_PB_FIELDS);
    assert_int_equal(m.more, 5);
}

/* A prior-knowledge server (nghttpd) writes its SETTINGS at once; when the
 * client's HTTP/1 request is captured first, the SETTINGS are still read as
 * HTTP/2, as tshark reads them. */
static void test_h2_server_first_settings(void **state)
{
    (void)state;
    conv_t t;
    memset(&t, 0, sizeof(t));
    const char *req = "GET /a HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\n\r\n";
    put(&t.side[0], req, strlen(req));
    t.turn[0] = t.side[0].n;
    settings1(&t.side[1], 3, 100);
    t.mark[0] = t.side[1].n;
    t.nturn = 1;
    static rec_t r;
    play(&t, cut_whole, &r);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.sum[0], "GET /a HTTP/1.1");
    assert_string_equal(r.sum[1], "SETTINGS[0]");
}

/* A client that allows a larger HPACK table (SETTINGS_HEADER_TABLE_SIZE)
 * lets the server's encoder announce it in its first block: the inflater,
 * made only then, must accept it. */
static void test_h2_table_size(void **state)
{
    (void)state;
    conv_t t;
    memset(&t, 0, sizeof(t));
    put(&t.side[0], "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
    settings1(&t.side[0], 1, 65536);
    t.turn[0] = t.side[0].n;
    nghttp2_hd_deflater *ds;
    assert_int_equal(nghttp2_hd_deflate_new(&ds, 65536), 0);
    assert_int_equal(nghttp2_hd_deflate_change_table_size(ds, 65536), 0);
    uint8_t blk[256];
    uint32_t size;
    static const char *const st[] = {":status", "200", "server", "unit", NULL};
    size_t n = deflate(ds, st, blk, sizeof(blk), &size);
    nghttp2_hd_deflate_del(ds);
    frame(&t.side[1], (uint32_t)n, 1, 0x5, 1, blk);
    t.mark[0] = t.side[1].n;
    t.nturn = 1;
    static rec_t r;
    play(&t, cut_whole, &r);
    const nc_h2_frame_t *f = find(&r, "HEADERS[1] 200", 0);
    assert_false(f->hpack_error);
    assert_true(has_header(f, "server", "unit"));
}

/* With the course's .proto (lessons/proto/echo.proto, compiled by
 * protoc-c), fields are named, and a declared type wins over the guess. */
static void test_protobuf_names(void **state)
{
    (void)state;
    nc_pb_msg_t m;
    /* Note{id: 150, text: "hello", meta: {priority: 1, hops: 2}} */
    static const uint8_t note[] = {0x08, 0x96, 0x01, 0x12, 0x05, 'h', 'e', 'l', 'l', 'o',
                                   0x1a, 0x04, 0x08, 0x01, 0x10, 0x02};
    const struct ProtobufCMessageDescriptor *req = nc__protos_find("/netcourse.demo.Echo/Say", true);
    assert_non_null(req);
    nc__protobuf_walk(note, sizeof(note), req, &m);
    assert_string_equal(m.message_name, "netcourse.demo.Note");
    assert_int_equal(m.nfields, 5);
    assert_string_equal(m.f[0].name, "id");
    assert_string_equal(m.f[1].name, "text");
    assert_string_equal(m.f[2].name, "meta");
    assert_int_equal(m.f[2].kind, 5); /* message */
    assert_string_equal(m.f[3].name, "priority");
    assert_int_equal(m.f[3].depth, 1);
    assert_string_equal(m.f[4].name, "hops");
    /* Reply{count: 2, tags: ["ab"]}: "ab" parses as no message, and the
     * schema says string anyway; a field the schema lacks has no name. */
    static const uint8_t reply[] = {0x10, 0x02, 0x1a, 0x02, 'a', 'b', 0x78, 0x01};
    nc__protobuf_walk(reply, sizeof(reply), nc__protos_find("/netcourse.demo.Echo/Watch", false),
                      &m);
    assert_string_equal(m.message_name, "netcourse.demo.Reply");
    assert_string_equal(m.f[0].name, "count");
    assert_string_equal(m.f[1].name, "tags");
    assert_int_equal(m.f[1].kind, 3); /* string */
    assert_string_equal(m.f[2].name, "");
    assert_int_equal(m.f[2].number, 15);
    /* A string field the guess would call a message ("\x08\x01") stays a
     * string: Note.text = {0x08, 0x01}. */
    static const uint8_t odd[] = {0x12, 0x02, 0x08, 0x01};
    nc__protobuf_walk(odd, sizeof(odd), req, &m);
    assert_int_equal(m.nfields, 1);
    assert_int_equal(m.f[0].kind, 3);
    assert_null(nc__protos_find("/netcourse.demo.Echo/Nope", true));
    assert_null(nc__protos_find("/other.Svc/Say", true));
    assert_null(nc__protos_find("nopath", true));
}

/* A segment of more frames than an event lists: the first NC_STREAM_MAX_MSGS
 * are listed, the rest counted (they were dropped without a count in the
 * event before, and the summary that counted them was cut short). */
static void test_h2_more_frames_than_listed(void **state)
{
    (void)state;
    static bytes_t side;
    memset(&side, 0, sizeof(side));
    put(&side, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
    frame(&side, 0, 4, 0, 0, NULL); /* SETTINGS */
    const uint8_t ping[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    for (int i = 0; i < 200; i++)
        frame(&side, 8, 6, 0, 0, ping);
    nc_stream_t *st = nc_stream_new();
    static rec_t r;
    memset(&r, 0, sizeof(r));
    feed(st, 0, &side, 0, 0, true, &r);
    static nc_stream_out_t out;
    memset(&out, 0, sizeof(out));
    nc_stream_seg_t s = {
        .dir = 0, .seq = ISN_C + 1, .len = (uint32_t)side.n, .base = ISN_C,
        .peer_base = ISN_S, .from_syn = true, .payload = side.b, .caplen = (uint32_t)side.n,
    };
    nc_stream_segment(st, &s, &out);
    /* The preface, SETTINGS and 200 PINGs: 202 messages. */
    assert_int_equal(out.nmsgs, NC_STREAM_MAX_MSGS);
    assert_int_equal(out.dropped, 202 - NC_STREAM_MAX_MSGS);
    nc_stream_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_h2_frames_every_cut),
        cmocka_unit_test(test_h2_upgrade),
        cmocka_unit_test(test_grpc_messages),
        cmocka_unit_test(test_h2_gap),
        cmocka_unit_test(test_h2_plaintext_entry),
        cmocka_unit_test(test_h2_table_size),
        cmocka_unit_test(test_h2_server_first_settings),
        cmocka_unit_test(test_protobuf_walk),
        cmocka_unit_test(test_protobuf_names),
        cmocka_unit_test(test_h2_more_frames_than_listed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
