/*
 * test_stream.c: unit tests of TCP reassembly and the stream decoders,
 * through the reassembler's own API (stream.h), no packets.
 *
 * One HTTP/1 conversation (pipelined requests, a chunked response, HEAD,
 * 204, 304, 100 Continue, a body holding a request line, an Upgrade to
 * WebSocket with a fragmented message) is cut into segments many ways: whole,
 * one byte at a time, in random sizes, with neighbours swapped, with
 * overlapping and duplicate retransmissions. Every cut must yield the same
 * messages with the same byte ranges. Then: a hole the peer acknowledged
 * becomes a gap of exactly its size; the out-of-order store stays bounded;
 * and decoding resumed from a checkpoint emits what the original emits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "decode/stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ISN_C 1000u
#define ISN_S 0xfffff000u /* the server's numbers wrap around */

static const char c2s[] =
    "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
    "GET /b HTTP/1.1\r\nHost: h\r\n\r\n"
    "HEAD /c HTTP/1.1\r\nHost: h\r\n\r\n"
    "DELETE /d HTTP/1.1\r\nHost: h\r\n\r\n"
    "GET /e HTTP/1.1\r\nIf-None-Match: x\r\n\r\n"
    "POST /f HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\nbody"
    "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
    "\x81\x85\x01\x02\x03\x04\x49\x67\x6f\x68\x6e" /* masked "Hello" */
    "\x01\x02hi\x80\x01!";                          /* "hi" + "!" in two fragments */

static const char s2c[] =
    "HTTP/1.1 200 OK\r\nContent-Length: 34\r\n\r\nGET /fake HTTP/1.1\r\nHost: x\r\n\r\nabc"
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    "1a\r\nHTTP/1.1 404 Not Found\r\n\r\n\r\n5;ext=1\r\nhello\r\n0\r\nT: 1\r\n\r\n"
    "HTTP/1.1 200 OK\r\nContent-Length: 99999\r\n\r\n"
    "HTTP/1.1 204 No Content\r\n\r\n"
    "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n"
    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"
    "\x82\x7e\x01\x00" /* a 256-byte binary frame follows */;

/* The expected messages, in the order each direction completes them. */
static const char *const want_c2s[] = {
    "GET /a HTTP/1.1",   "GET /b HTTP/1.1",  "HEAD /c HTTP/1.1",
    "DELETE /d HTTP/1.1", "GET /e HTTP/1.1", "POST /f HTTP/1.1",
    "GET /ws HTTP/1.1",  "WebSocket Text [FIN] [MASKED] len=5",
    "WebSocket Text len=2", "WebSocket Continuation [FIN] len=1",
};
static const char *const want_s2c[] = {
    "HTTP/1.1 200 OK", "HTTP/1.1 200 OK",       "HTTP/1.1 200 OK",
    "HTTP/1.1 204 No Content", "HTTP/1.1 304 Not Modified", "HTTP/1.1 100 Continue",
    "HTTP/1.1 201 Created", "HTTP/1.1 101 Switching Protocols", "WebSocket Binary [FIN] len=256",
};

typedef struct seg {
    int dir;
    uint32_t off, len; /* in the direction's bytes */
    bool syn, fin;
} seg_t;

typedef struct rec {
    char text[64][96];
    uint32_t start[64], end[64];
    int n[2];
    int dir[64];
    int total;
    uint32_t gaps, gap_len;
} rec_t;

static uint8_t s2c_bytes[sizeof(s2c) - 1 + 256];

static const uint8_t *bytes_of(int dir)
{
    return dir == 0 ? (const uint8_t *)c2s : s2c_bytes;
}

static uint32_t len_of(int dir)
{
    return dir == 0 ? (uint32_t)(sizeof(c2s) - 1) : (uint32_t)sizeof(s2c_bytes);
}

static void feed(nc_stream_t *st, const seg_t *g, rec_t *r, bool ack)
{
    static nc_stream_out_t out;
    memset(&out, 0, sizeof(out));
    uint32_t isn = g->dir == 0 ? ISN_C : ISN_S, peer_isn = g->dir == 0 ? ISN_S : ISN_C;
    nc_stream_seg_t s = {
        .dir = g->dir,
        .seq = g->syn ? isn : isn + 1 + g->off,
        .len = g->len,
        .syn = g->syn,
        .fin = g->fin,
        .base = isn,
        .peer_base = peer_isn,
        .from_syn = true,
        .ack = ack,
        .ack_seq = peer_isn + 1 + len_of(!g->dir),
        .payload = bytes_of(g->dir) + g->off,
        .caplen = g->len,
    };
    nc_stream_segment(st, &s, &out);
    for (uint32_t i = 0; i < out.nmsgs && r->total < 64; i++) {
        const nc_stream_msg_t *m = &out.msgs[i];
        int dir = m->dir;
        m->proto->summary(m, r->text[r->total], sizeof(r->text[0]));
        r->start[r->total] = m->seq_start;
        r->end[r->total] = m->seq_end;
        r->dir[r->total] = dir;
        r->n[dir]++;
        r->total++;
    }
    r->gaps += out.ngaps;
    if (out.ngaps)
        r->gap_len += out.gap_end - out.gap_start;
}

static uint32_t whole(void)
{
    return 1u << 20;
}

static uint32_t one(void)
{
    return 1;
}

static uint32_t rnd(void)
{
    return 1 + (uint32_t)(rand() % 40);
}

/* Where each request ends in c2s, and where its answer starts in s2c: a
 * server answers only what it has received. */
#define NREQ 7
static uint32_t req_end[NREQ], resp_start[NREQ];

static void find_offsets(void)
{
    static const char *const answers[NREQ] = {
        "HTTP/1.1 200 OK\r\nContent-Length: 34", "HTTP/1.1 200 OK\r\nTransfer",
        "HTTP/1.1 200 OK\r\nContent-Length: 99999", "HTTP/1.1 204", "HTTP/1.1 304",
        "HTTP/1.1 100", "HTTP/1.1 101"};
    const char *p = c2s;
    for (int k = 0; k < NREQ; k++) {
        p = strstr(p, "\r\n\r\n") + 4;
        if (strncmp(p, "body", 4) == 0)
            p += 4;
        req_end[k] = (uint32_t)(p - c2s);
        resp_start[k] = (uint32_t)(strstr(s2c, answers[k]) - s2c);
    }
}

/* How far the server may have sent once the client sent `client` bytes. */
static uint32_t server_limit(uint32_t client, uint32_t stop)
{
    for (int k = 0; k < NREQ; k++)
        if (client < req_end[k])
            return resp_start[k] < stop ? resp_start[k] : stop;
    return stop;
}

/* Cuts both directions into segments of the sizes `next` returns, client
 * first per round, after a handshake. As on a real connection, a response
 * starts only after its request ended, and the WebSocket frames come after
 * the 101 that allows them. */
static size_t cut(seg_t *out, size_t cap, uint32_t (*next)(void))
{
    size_t n = 0;
    out[n++] = (seg_t){0, 0, 0, true, false};
    out[n++] = (seg_t){1, 0, 0, true, false};
    uint32_t off[2] = {0, 0};
    uint32_t ws[2] = {(uint32_t)(strstr(c2s, "\x81\x85") - c2s),
                      (uint32_t)(strstr(s2c, "\x82\x7e") - s2c)};
    for (int phase = 0; phase < 2; phase++) {
        uint32_t stop[2] = {phase ? len_of(0) : ws[0], phase ? len_of(1) : ws[1]};
        while ((off[0] < stop[0] || off[1] < stop[1]) && n < cap) {
            for (int d = 0; d < 2 && n < cap; d++) {
                /* A burst of one to three segments each way. */
                int burst = next == rnd ? 1 + rand() % 3 : 1;
                for (int b = 0; b < burst && n < cap; b++) {
                    uint32_t lim = d == 0 ? stop[0] : server_limit(off[0], stop[1]);
                    if (off[d] >= lim)
                        break;
                    uint32_t k = next();
                    if (k > lim - off[d])
                        k = lim - off[d];
                    out[n++] = (seg_t){d, off[d], k, false, false};
                    off[d] += k;
                }
            }
        }
    }
    return n;
}

static void run(const seg_t *segs, size_t n, rec_t *r)
{
    memset(r, 0, sizeof(*r));
    nc_stream_t *st = nc_stream_new();
    for (size_t i = 0; i < n; i++)
        feed(st, &segs[i], r, false);
    nc_stream_free(st);
}

/* Checks r against the expected messages, direction by direction. */
static void expect_all(const rec_t *r)
{
    int k[2] = {0, 0};
    for (int i = 0; i < r->total; i++) {
        int d = r->dir[i];
        const char *const *want = d == 0 ? want_c2s : want_s2c;
        int nwant = d == 0 ? (int)(sizeof(want_c2s) / sizeof(*want_c2s))
                           : (int)(sizeof(want_s2c) / sizeof(*want_s2c));
        if (k[d] >= nwant)
            fail_msg("extra message \"%s\"", r->text[i]);
        if (strcmp(r->text[i], want[k[d]]) != 0)
            fail_msg("dir %d message %d: \"%s\", want \"%s\"", d, k[d], r->text[i], want[k[d]]);
        k[d]++;
    }
    assert_int_equal(k[0], sizeof(want_c2s) / sizeof(*want_c2s));
    assert_int_equal(k[1], sizeof(want_s2c) / sizeof(*want_s2c));
}

/* Same messages and byte ranges per direction, whatever the interleaving. */
static void expect_same(const rec_t *a, const rec_t *b)
{
    for (int d = 0; d < 2; d++) {
        int i = 0, j = 0;
        for (;;) {
            while (i < a->total && a->dir[i] != d)
                i++;
            while (j < b->total && b->dir[j] != d)
                j++;
            if (i == a->total || j == b->total)
                break;
            assert_string_equal(a->text[i], b->text[j]);
            assert_int_equal(a->start[i], b->start[j]);
            assert_int_equal(a->end[i], b->end[j]);
            i++;
            j++;
        }
        if (a->n[d] != b->n[d]) {
            for (int k = 0; k < b->total; k++)
                print_message("got dir %d: %s\n", b->dir[k], b->text[k]);
            fail_msg("direction %d: %d messages, want %d", d, b->n[d], a->n[d]);
        }
    }
}

static int setup(void **state)
{
    (void)state;
    memcpy(s2c_bytes, s2c, sizeof(s2c) - 1);
    memset(s2c_bytes + sizeof(s2c) - 1, 0x55, 256);
    find_offsets();
    return 0;
}

static seg_t segs[20000];

static void test_cuts(void **state)
{
    (void)state;
    rec_t base, r;
    run(segs, cut(segs, 20000, whole), &base);
    expect_all(&base);
    /* The first message starts at relative seq 1 and the byte ranges tile. */
    assert_int_equal(base.start[0], 1);
    run(segs, cut(segs, 20000, one), &r);
    expect_same(&base, &r);
    srand(7);
    for (int round = 0; round < 20; round++) {
        size_t n = cut(segs, 20000, rnd);
        run(segs, n, &r);
        expect_same(&base, &r);
        /* Swap neighbours within a burst: out of order, but never past a
         * segment of the other direction (a response never comes before the
         * request it answers, in any capture). */
        size_t swapped = 0;
        for (size_t i = 2; i + 1 < n; i += 2) {
            if (segs[i].dir == segs[i + 1].dir) {
                seg_t t = segs[i];
                segs[i] = segs[i + 1];
                segs[i + 1] = t;
                swapped++;
            }
        }
        assert_true(swapped >= 3);
        run(segs, n, &r);
        expect_same(&base, &r);
        assert_int_equal(r.gaps, 0);
    }
}

static void test_overlaps(void **state)
{
    (void)state;
    rec_t base, r;
    size_t n = cut(segs, 20000, rnd);
    run(segs, n, &base);
    /* Every segment followed by a retransmission that overlaps it and the
     * one before, and by an exact duplicate. */
    static seg_t more[60000];
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        more[m++] = segs[i];
        if (segs[i].syn || segs[i].len == 0)
            continue;
        seg_t o = segs[i];
        o.off = o.off > 3 ? o.off - 3 : 0;
        o.len = segs[i].off + segs[i].len - o.off;
        more[m++] = o;
        more[m++] = segs[i];
    }
    run(more, m, &r);
    expect_same(&base, &r);
    assert_int_equal(r.gaps, 0);
}

static void test_gap(void **state)
{
    (void)state;
    /* Lose 10 bytes of the 34-byte body of the first response; the peer's
     * ACK says they were sent. */
    const char *body = strstr(s2c, "GET /fake");
    uint32_t at = (uint32_t)(body - s2c) + 5;
    seg_t g[] = {
        {0, 0, 0, true, false},
        {1, 0, 0, true, false},
        {1, 0, at, false, false},
        {1, at + 10, len_of(1) - at - 10, false, false},
    };
    rec_t r;
    memset(&r, 0, sizeof(r));
    nc_stream_t *st = nc_stream_new();
    feed(st, &g[0], &r, false);
    feed(st, &g[1], &r, false);
    feed(st, &g[2], &r, false);
    feed(st, &g[3], &r, false);
    assert_int_equal(r.n[1], 0); /* held: the hole may still fill */
    /* The client's ACK covers everything: the hole is a gap. */
    seg_t ackonly = {0, len_of(0), 0, false, false};
    feed(st, &ackonly, &r, true);
    assert_int_equal(r.gaps, 1);
    assert_int_equal(r.gap_len, 10);
    assert_true(r.n[1] >= 1);
    assert_string_equal(r.text[0], "HTTP/1.1 200 OK");
    nc_stream_free(st);
}

static void test_bounded(void **state)
{
    (void)state;
    /* A hole at the start, then thousands of segments beyond it: the store
     * stays bounded by declaring gaps instead of growing. */
    static uint8_t junk[1000];
    memset(junk, 'x', sizeof(junk));
    nc_stream_t *st = nc_stream_new();
    nc_stream_out_t *out = calloc(1, sizeof(*out));
    uint32_t gaps = 0;
    nc_stream_seg_t s = {.dir = 0, .seq = ISN_C, .syn = true, .base = ISN_C};
    nc_stream_segment(st, &s, out);
    for (uint32_t i = 1; i < 2000; i++) {
        memset(out, 0, sizeof(*out));
        nc_stream_seg_t g = {.dir = 0, .seq = ISN_C + 1 + i * 1000, .len = 1000,
                             .base = ISN_C, .payload = junk, .caplen = 1000};
        nc_stream_segment(st, &g, out);
        gaps += out->ngaps;
    }
    assert_true(gaps >= 1);
    nc_stream_state_t ck;
    /* Something is still held out of order: no checkpoint there. */
    assert_false(nc_stream_save(st, &ck));
    memset(out, 0, sizeof(*out));
    nc_stream_finish(st, out);
    assert_true(nc_stream_save(st, &ck));
    free(out);
    nc_stream_free(st);
}

static void test_snaplen(void **state)
{
    (void)state;
    /* A capture with a small snapshot length keeps 60 of a segment's 140
     * bytes: the other 80 are a gap at once, counted in the body. */
    static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n";
    uint8_t seg[140];
    memset(seg, 'b', sizeof(seg));
    memcpy(seg, resp, sizeof(resp) - 1);
    assert_int_equal(sizeof(resp) - 1 + 100, 140);
    nc_stream_t *st = nc_stream_new();
    nc_stream_set_app(st, 1, NC_SAPP_HTTP);
    nc_stream_out_t *out = calloc(1, sizeof(*out));
    nc_stream_seg_t syn = {.dir = 1, .seq = ISN_S, .syn = true, .base = ISN_S};
    nc_stream_segment(st, &syn, out);
    nc_stream_seg_t g = {.dir = 1, .seq = ISN_S + 1, .len = 140, .base = ISN_S,
                         .payload = seg, .caplen = 60};
    nc_stream_segment(st, &g, out);
    assert_int_equal(out->ngaps, 1);
    assert_int_equal(out->gap_start, 61);
    assert_int_equal(out->gap_end, 141);
    assert_int_equal(out->nmsgs, 1);
    assert_int_equal(out->msgs[0].u.http.body_len, 100);
    assert_int_equal(out->msgs[0].u.http.gap_bytes, 80);
    nc_stream_free(st);
    free(out);
}

static void test_budget(void **state)
{
    (void)state;
    /* Two streams share a budget of 5000 bytes out of order: it is never
     * exceeded, and freeing the streams gives every byte back. */
    static uint8_t junk[1000];
    nc_stream_budget_t budget = {0, 5000};
    nc_stream_t *st[2] = {nc_stream_new(), nc_stream_new()};
    nc_stream_out_t *out = calloc(1, sizeof(*out));
    for (int k = 0; k < 2; k++) {
        nc_stream_set_budget(st[k], &budget);
        nc_stream_seg_t syn = {.dir = 0, .seq = ISN_C, .syn = true, .base = ISN_C};
        nc_stream_segment(st[k], &syn, out);
    }
    for (uint32_t i = 1; i <= 8; i++) {
        for (int k = 0; k < 2; k++) {
            memset(out, 0, sizeof(*out));
            nc_stream_seg_t g = {.dir = 0, .seq = ISN_C + 1 + i * 1000, .len = 1000,
                                 .base = ISN_C, .payload = junk, .caplen = 1000};
            nc_stream_segment(st[k], &g, out);
            assert_true(budget.used <= budget.max);
        }
    }
    assert_true(budget.used > 0);
    nc_stream_free(st[0]);
    nc_stream_free(st[1]);
    assert_int_equal(budget.used, 0);
    free(out);
}

static void test_checkpoint(void **state)
{
    (void)state;
    srand(11);
    size_t n = cut(segs, 20000, rnd);
    for (size_t at = 2; at < n; at += 3) {
        nc_stream_t *a = nc_stream_new();
        rec_t ra, rb;
        memset(&ra, 0, sizeof(ra));
        for (size_t i = 0; i < at; i++)
            feed(a, &segs[i], &ra, false);
        nc_stream_state_t ck;
        assert_true(nc_stream_save(a, &ck));
        /* The checkpoint is plain data: a byte copy stands alone. */
        nc_stream_state_t *copy = malloc(sizeof(ck));
        memcpy(copy, &ck, sizeof(ck));
        nc_stream_t *b = nc_stream_new();
        nc_stream_restore(b, copy);
        free(copy);
        memset(&ra, 0, sizeof(ra));
        memset(&rb, 0, sizeof(rb));
        for (size_t i = at; i < n; i++) {
            feed(a, &segs[i], &ra, false);
            feed(b, &segs[i], &rb, false);
        }
        expect_same(&ra, &rb);
        nc_stream_free(a);
        nc_stream_free(b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cuts),     cmocka_unit_test(test_overlaps),
        cmocka_unit_test(test_gap),      cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_budget),   cmocka_unit_test(test_snaplen),
        cmocka_unit_test(test_checkpoint),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
