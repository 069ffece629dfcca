/*
 * test_replay_lazy.c: a packet decoded again from a checkpoint is the packet
 * decoded in order, and the two-thread printer prints what one thread did.
 *
 * For every capture in the shared set (many hostile), the project's own
 * captures and one made here (interleaved HTTP connections with segments
 * out of order, retransmitted and lost), the events of a plain replay are
 * printed as JSON; then a second replay of the file keeps checkpoints (at
 * every packet it can, every 7 and every 64) and each packet is decoded again
 * through nc_replay_decode, in reverse, then in a scrambled order, and must
 * print the same line. Last, the made capture goes through a timeline of
 * lazy rows (more than its cache holds) read in a scrambled order.
 *
 * nc_replay_write (`replay --dump` and `--json`, decoding on one thread and
 * printing on another) must print, byte for byte, what the one-thread loop
 * it replaced printed (`printed` below is that loop), with and without a
 * filter, on the same files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/timeline.h"
#include "runfile/replay.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a capture with HTTP over TCP, out of order and lossy ---- */

typedef struct {
    uint8_t *p;
    size_t len, cap;
    uint32_t ts;
} cap_t;

static void put(cap_t *c, const void *d, size_t n)
{
    if (c->len + n > c->cap) {
        c->cap = (c->len + n) * 2;
        c->p = realloc(c->p, c->cap);
        assert_non_null(c->p);
    }
    memcpy(c->p + c->len, d, n);
    c->len += n;
}

static void put32(cap_t *c, uint32_t v)
{
    put(c, &v, 4); /* little-endian pcap */
}

static void be16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void be32(uint8_t *p, uint32_t v)
{
    be16(p, v >> 16);
    be16(p + 2, v & 0xffff);
}

/* One Ethernet/IPv4/TCP frame from 10.0.0.1:port to 10.0.0.2:80 (or back). */
static void seg(cap_t *c, int port, bool back, uint32_t seq, uint32_t ack, uint8_t flags,
                const char *payload, size_t n)
{
    uint8_t f[2048] = {0};
    f[12] = 0x08;
    uint8_t *ip = f + 14, *tcp = ip + 20;
    ip[0] = 0x45;
    be16(ip + 2, (uint32_t)(40 + n));
    ip[8] = 64;
    ip[9] = 6;
    uint8_t a[4] = {10, 0, 0, 1}, b[4] = {10, 0, 0, 2};
    memcpy(ip + 12, back ? b : a, 4);
    memcpy(ip + 16, back ? a : b, 4);
    be16(tcp, back ? 80 : (uint32_t)port);
    be16(tcp + 2, back ? (uint32_t)port : 80);
    be32(tcp + 4, seq);
    be32(tcp + 8, ack);
    tcp[12] = 5 << 4;
    tcp[13] = flags;
    be16(tcp + 14, 65535);
    memcpy(tcp + 20, payload, n);
    uint32_t len = (uint32_t)(54 + n);
    c->ts += 10;
    put32(c, 1700000000 + c->ts / 1000000);
    put32(c, c->ts % 1000000);
    put32(c, len);
    put32(c, len);
    put(c, f, len);
}

enum { SYN = 0x02, ACK = 0x10, PSH = 0x08, FIN = 0x01 };

/* rounds request/response rounds on each of conns connections, round
 * robin; every 5th response comes in two segments, the second first; every
 * 7th request is sent twice; every 11th response loses 3 bytes. */
static cap_t make_capture(int conns, int rounds)
{
    cap_t c = {0};
    put32(&c, 0xa1b2c3d4);
    put32(&c, 0x00040002);
    put32(&c, 0);
    put32(&c, 0);
    put32(&c, 65535);
    put32(&c, 1);
    uint32_t cs[64], ss[64];
    for (int k = 0; k < conns; k++) {
        cs[k] = 1000u * (uint32_t)k + 1;
        ss[k] = 7777u * (uint32_t)k + 5;
        seg(&c, 40000 + k, false, cs[k]++, 0, SYN, "", 0);
        seg(&c, 40000 + k, true, ss[k]++, cs[k], SYN | ACK, "", 0);
        seg(&c, 40000 + k, false, cs[k], ss[k], ACK, "", 0);
    }
    char req[128], resp[256];
    for (int r = 0; r < rounds; r++) {
        for (int k = 0; k < conns; k++) {
            int port = 40000 + k, n = r * conns + k;
            size_t q = (size_t)snprintf(req, sizeof req, "GET /r/%d HTTP/1.1\r\nHost: t\r\n\r\n", n);
            seg(&c, port, false, cs[k], ss[k], PSH | ACK, req, q);
            if (n % 7 == 3)
                seg(&c, port, false, cs[k], ss[k], PSH | ACK, req, q);
            cs[k] += (uint32_t)q;
            size_t s = (size_t)snprintf(resp, sizeof resp,
                                        "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nbody-%06d\n",
                                        n % 1000000);
            if (n % 5 == 2) {
                size_t h = s / 2;
                seg(&c, port, true, ss[k] + (uint32_t)h, cs[k], PSH | ACK, resp + h, s - h);
                seg(&c, port, true, ss[k], cs[k], ACK, resp, h);
            } else if (n % 11 == 4) {
                seg(&c, port, true, ss[k], cs[k], ACK, resp, 20);
                seg(&c, port, true, ss[k] + 23, cs[k], PSH | ACK, resp + 23, s - 23);
            } else {
                seg(&c, port, true, ss[k], cs[k], PSH | ACK, resp, s);
            }
            ss[k] += (uint32_t)s;
            seg(&c, port, false, cs[k], ss[k], ACK, "", 0);
        }
    }
    for (int k = 0; k < conns; k++) {
        seg(&c, 40000 + k, false, cs[k], ss[k], FIN | ACK, "", 0);
        seg(&c, 40000 + k, true, ss[k], cs[k] + 1, FIN | ACK, "", 0);
        seg(&c, 40000 + k, false, cs[k] + 1, ss[k] + 1, ACK, "", 0);
    }
    return c;
}

/* ---- comparing ---- */

typedef struct {
    char **lines;
    size_t n;
} lines_t;

static char *json_of(nc_evb_t *b)
{
    b->ev.i = 0;
    nc_buf_t out;
    nc_buf_init(&out);
    nc_event_json(nc_evb_view(b), &out);
    char *s = strndup(out.data ? out.data : "", out.len);
    nc_buf_done(&out);
    return s;
}

/* The events of a plain replay of data, as JSON lines. */
static lines_t plain(const uint8_t *data, size_t len)
{
    lines_t l = {0};
    char err[256];
    nc_replay_t *r = nc_replay_open_mem(data, len, err, sizeof err);
    if (r == NULL)
        return l;
    nc_evb_t b;
    nc_evb_init(&b);
    size_t cap = 0;
    while (nc_replay_next(r, &b, err, sizeof err) == 1) {
        if (l.n == cap) {
            cap = cap ? cap * 2 : 64;
            l.lines = realloc(l.lines, cap * sizeof(*l.lines));
        }
        l.lines[l.n++] = json_of(&b);
    }
    nc_evb_done(&b);
    nc_replay_close(r);
    return l;
}

static void lines_free(lines_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->lines[i]);
    free(l->lines);
}

/* Decodes every packet of data again with checkpoints `every` packets
 * apart; returns how many packets were compared. */
static size_t compare(const char *name, const uint8_t *data, size_t len, uint64_t every)
{
    lines_t want = plain(data, len);
    char err[256];
    nc_replay_t *r = nc_replay_open_mem(data, len, err, sizeof err);
    if (r == NULL) {
        assert_int_equal(want.n, 0);
        return 0;
    }
    nc_replay_keep_checkpoints(r, every);
    nc_evb_t b;
    nc_evb_init(&b);
    uint64_t *refs = calloc(want.n + 1, sizeof(*refs));
    size_t n = 0;
    while (nc_replay_next(r, &b, err, sizeof err) == 1) {
        assert_true(n < want.n);
        refs[n] = nc_replay_packet_ref(r);
        if (refs[n] == 0) { /* kept whole: as printed */
            char *got = json_of(&b);
            assert_string_equal(got, want.lines[n]);
            free(got);
        }
        n++;
    }
    assert_int_equal(n, want.n);
    size_t compared = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t k = 0; k < n; k++) {
            /* Backwards, then a stride that visits every index once. */
            size_t i = pass == 0 ? n - 1 - k : (k * 7919) % n;
            if (pass == 1 && n % 7919 == 0)
                i = k;
            if (refs[i] == 0)
                continue;
            assert_int_equal(nc_replay_decode(r, refs[i], &b), 0);
            char *got = json_of(&b);
            if (strcmp(got, want.lines[i]) != 0)
                fail_msg("%s, event %zu (checkpoints every %llu):\n  in order: %s\n  again:    %s",
                         name, i, (unsigned long long)every, want.lines[i], got);
            free(got);
            compared++;
        }
    }
    assert_int_not_equal(nc_replay_decode(r, 1u << 30, &b), 0);
    free(refs);
    nc_evb_done(&b);
    nc_replay_close(r);
    lines_free(&want);
    return compared;
}

/* What `replay --dump`/`--json` printed before it used two threads: one
 * loop that decodes, filters and prints each event in turn. */
static char *printed(const uint8_t *data, size_t len, bool json, const nc_match_t *m)
{
    char err[256];
    nc_replay_t *r = nc_replay_open_mem(data, len, err, sizeof err);
    if (r == NULL)
        return NULL;
    nc_evb_t b;
    nc_evb_init(&b);
    nc_buf_t out;
    nc_buf_init(&out);
    while (nc_replay_next(r, &b, err, sizeof err) == 1) {
        b.ev.t_ns -= nc_replay_t0(r);
        if (m && !nc_match_event(m, &b.ev, NULL))
            continue;
        if (json) {
            nc_event_json(&b.ev, &out);
            nc_buf_putc(&out, '\n');
        } else {
            nc_event_text(&b.ev, &out);
        }
    }
    char *s = strndup(out.data ? out.data : "", out.len);
    nc_buf_done(&out);
    nc_evb_done(&b);
    nc_replay_close(r);
    return s;
}

/* Compares nc_replay_write with printed() for both formats, unfiltered and
 * filtered; returns the bytes compared. */
static size_t compare_write(const char *name, const uint8_t *data, size_t len)
{
    char err[256];
    nc_match_t *fin = nc_match_compile("tcp.flags~FIN", err, sizeof err);
    assert_non_null(fin);
    size_t total = 0;
    for (int k = 0; k < 4; k++) {
        bool json = k & 1;
        const nc_match_t *m = k & 2 ? fin : NULL;
        char *want = printed(data, len, json, m);
        nc_replay_t *r = nc_replay_open_mem(data, len, err, sizeof err);
        if (r == NULL) {
            assert_null(want);
            continue;
        }
        char *got = NULL;
        size_t glen = 0;
        FILE *f = open_memstream(&got, &glen);
        assert_non_null(f);
        nc_replay_write(r, json, m, f, err, sizeof err);
        fclose(f);
        nc_replay_close(r);
        if (strcmp(got, want) != 0)
            fail_msg("%s: %s%s differs from the one-thread loop", name, json ? "--json" : "--dump",
                     m ? " --filter" : "");
        total += glen;
        free(got);
        free(want);
    }
    nc_match_free(fin);
    return total;
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc(n > 0 ? (size_t)n : 1);
    *len = n > 0 && fread(p, 1, (size_t)n, f) == (size_t)n ? (size_t)n : 0;
    fclose(f);
    return p;
}

static size_t written; /* bytes nc_replay_write printed that were compared */

static size_t compare_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    size_t total = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (!(n > 5 && strcmp(e->d_name + n - 5, ".pcap") == 0) &&
            !(n > 7 && strcmp(e->d_name + n - 7, ".pcapng") == 0))
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t len;
        uint8_t *data = slurp(path, &len);
        if (data == NULL)
            continue;
        total += compare(path, data, len, 1);
        total += compare(path, data, len, 7);
        written += compare_write(path, data, len);
        free(data);
    }
    closedir(d);
    return total;
}

static void test_captures(void **state)
{
    (void)state;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/tcpdump", NC_CAPTURES);
    size_t shared = compare_dir(dir);
    snprintf(dir, sizeof dir, "%s/captures", NC_TEST_DATA);
    size_t own = compare_dir(dir);
    snprintf(dir, sizeof dir, "%s/../e2e/captures", NC_TEST_DATA);
    own += compare_dir(dir);
    snprintf(dir, sizeof dir, "%s/../decode/pcaps", NC_TEST_DATA); /* streams, TLS */
    own += compare_dir(dir);
    printf("compared %zu packets of the shared captures, %zu of ours; %zu bytes printed\n",
           shared, own, written);
    assert_true(shared > 1000);
    assert_true(own > 100);
}

static void test_made(void **state)
{
    (void)state;
    cap_t c = make_capture(5, 30);
    size_t n = compare("made", c.p, c.len, 1) + compare("made", c.p, c.len, 7) +
               compare("made", c.p, c.len, 64);
    size_t w = compare_write("made", c.p, c.len);
    printf("compared %zu packets of the made capture, %zu bytes printed\n", n, w);
    assert_true(n > 2000);
    free(c.p);
}

static int source(void *arg, uint64_t ref, nc_evb_t *b)
{
    return nc_replay_decode(arg, ref, b);
}

static void test_timeline(void **state)
{
    (void)state;
    cap_t c = make_capture(7, 400); /* 9000 packets and more: twice the cache */
    lines_t want = plain(c.p, c.len);
    char err[256];
    nc_replay_t *r = nc_replay_open_mem(c.p, c.len, err, sizeof err);
    assert_non_null(r);
    nc_replay_keep_checkpoints(r, 16);
    nc_timeline_t *tl = nc_timeline_new(0);
    nc_timeline_set_window(tl, 0);
    nc_timeline_set_source(tl, source, r);
    nc_evb_t b;
    nc_evb_init(&b);
    while (nc_replay_next(r, &b, err, sizeof err) == 1) {
        uint64_t ref = nc_replay_packet_ref(r);
        assert_true(ref > 0);
        nc_timeline_add_lazy(tl, b.ev.t_ns, ref);
    }
    size_t n = nc_timeline_count(tl);
    assert_int_equal(n, want.n);
    assert_true(n > 8000);
    for (size_t k = 0; k < n; k += 3) { /* a third of them, scrambled */
        size_t i = (k * 4099) % n;
        const nc_event_t *ev = nc_timeline_get(tl, i);
        assert_int_equal(ev->i, i);
        assert_int_equal(nc_timeline_type(tl, i), NC_EV_PACKET);
        assert_int_equal(nc_timeline_time(tl, i), ev->t_ns);
        nc_buf_t out;
        nc_buf_init(&out);
        nc_event_json(ev, &out);
        /* The timeline's times are relative and i is set: compare the rest. */
        const char *got = strstr(out.data, "\"type\""), *exp = strstr(want.lines[i], "\"type\"");
        assert_non_null(got);
        assert_non_null(exp);
        assert_string_equal(got, exp);
        nc_buf_done(&out);
    }
    /* A row just read stays put while its neighbours are read. */
    const nc_event_t *first = nc_timeline_get(tl, 10);
    for (size_t i = 11; i < 200; i++)
        assert_non_null(nc_timeline_get(tl, i));
    assert_ptr_equal(first, nc_timeline_get(tl, 10));
    assert_true(nc_replay_memory(r) > 0);
    nc_evb_done(&b);
    nc_timeline_free(tl);
    nc_replay_close(r);
    lines_free(&want);
    free(c.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_made),
        cmocka_unit_test(test_timeline),
        cmocka_unit_test(test_captures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
