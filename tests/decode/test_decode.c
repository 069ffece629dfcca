/*
 * test_decode.c: unit tests of the decoder: the cursor, TCP relative
 * numbering and retransmission detection, DNS name compression (loops and
 * bounds), truncation at every length, the flow table's bound, host names.
 * Frames are built here byte by byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/error.h"
#include "decode/cursor.h"
#include "decode/decode.h"
#include "decode/flow.h"

#include <stdio.h>
#include <string.h>

typedef struct frame {
    uint8_t b[8192];
    size_t n;
} frame_t;

static void put(frame_t *f, const void *p, size_t n)
{
    memcpy(f->b + f->n, p, n);
    f->n += n;
}

static void put16(frame_t *f, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    put(f, b, 2);
}

static void put32(frame_t *f, uint32_t v)
{
    put16(f, (uint16_t)(v >> 16));
    put16(f, (uint16_t)v);
}

static const uint8_t mac_a[6] = {2, 0, 0, 0, 0, 1}, mac_b[6] = {2, 0, 0, 0, 0, 2};
static const uint8_t ip_a[4] = {10, 0, 0, 1}, ip_b[4] = {10, 0, 0, 2};

/* Ethernet + IPv4 header for l4len transport bytes, a -> b when fwd. */
static void eth_ip(frame_t *f, bool fwd, uint8_t proto, size_t l4len)
{
    f->n = 0;
    put(f, fwd ? mac_b : mac_a, 6);
    put(f, fwd ? mac_a : mac_b, 6);
    put16(f, 0x0800);
    put16(f, 0x4500);
    put16(f, (uint16_t)(20 + l4len));
    put32(f, 0x00014000);
    uint8_t ttl_proto[2] = {64, proto};
    put(f, ttl_proto, 2);
    put16(f, 0);
    put(f, fwd ? ip_a : ip_b, 4);
    put(f, fwd ? ip_b : ip_a, 4);
}

static void tcp_frame(frame_t *f, bool fwd, uint32_t seq, uint32_t ack, uint8_t flags,
                      uint16_t win, size_t len)
{
    eth_ip(f, fwd, 6, 20 + len);
    put16(f, fwd ? 40000 : 80);
    put16(f, fwd ? 80 : 40000);
    put32(f, seq);
    put32(f, ack);
    put16(f, (uint16_t)(0x5000 | flags));
    put16(f, win);
    put32(f, 0);
    memset(f->b + f->n, 'x', len);
    f->n += len;
}

static int decode(nc_decoder_t *d, nc_evb_t *b, const frame_t *f)
{
    nc_evb_reset(b, NC_EV_PACKET, 0);
    return nc_decoder_packet(d, 1, f->b, (uint32_t)f->n, (uint32_t)f->n, b);
}

static int64_t geti(nc_evb_t *b, const char *path)
{
    int64_t v = -12345;
    assert_true(nc_event_int(nc_evb_view(b), path, &v));
    return v;
}

static void test_cursor(void **state)
{
    (void)state;
    const uint8_t data[] = {1, 2, 3, 4, 5, 6, 7};
    nc_cursor_t c = nc_cur_make(data, sizeof(data));
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    assert_true(nc_cur_u8(&c, &u8));
    assert_int_equal(u8, 1);
    assert_true(nc_cur_u16be(&c, &u16));
    assert_int_equal(u16, 0x0203);
    assert_true(nc_cur_u32be(&c, &u32));
    assert_int_equal(u32, 0x04050607u);
    assert_false(nc_cur_u8(&c, &u8));
    c = nc_cur_make(data, 3);
    assert_false(nc_cur_u32be(&c, &u32));
    assert_int_equal(nc_cur_left(&c), 3); /* a failed read moves nothing */
    assert_false(nc_cur_skip(&c, 4));
    assert_true(nc_cur_skip(&c, 3));
    c = nc_cur_make(data, sizeof(data));
    nc_cursor_t sub;
    assert_true(nc_cur_sub(&c, 2, &sub));
    assert_int_equal(nc_cur_left(&sub), 2);
    assert_int_equal(nc_cur_left(&c), 5);
    assert_false(nc_cur_sub(&c, 6, &sub));
    nc_cur_limit(&c, 1);
    assert_int_equal(nc_cur_left(&c), 1);
    uint8_t two[2];
    assert_false(nc_cur_bytes(&c, two, 2));
    assert_true(nc_cur_peek_u8(&c, 0, &u8));
    assert_int_equal(u8, 3);
    assert_false(nc_cur_peek_u8(&c, 1, &u8));
}

static void test_tcp_relative_and_retransmission(void **state)
{
    (void)state;
    nc_decoder_t *d = nc_decoder_new();
    nc_decoder_name_host(d, "10.0.0.1", "client");
    nc_decoder_name_host(d, "10.0.0.2", "server");
    nc_evb_t b;
    nc_evb_init(&b);
    frame_t f;
    const uint32_t C = 0xfffffff0u, S = 1000; /* the client's numbers wrap */

    tcp_frame(&f, true, C, 0, NC_TCP_SYN, 64240, 0);
    assert_int_equal(decode(d, &b, &f), 0);
    assert_int_equal(geti(&b, "tcp.seq"), 0);
    assert_string_equal(nc_evb_view(&b)->summary, "SYN seq=0 win=64240");
    assert_string_equal(nc_event_str(nc_evb_view(&b), "from"), "client");
    assert_string_equal(nc_event_str(nc_evb_view(&b), "to"), "server");
    assert_string_equal(nc_evb_view(&b)->host, "client");

    tcp_frame(&f, false, S, C + 1, NC_TCP_SYN | NC_TCP_ACK, 65160, 0);
    decode(d, &b, &f);
    assert_int_equal(geti(&b, "tcp.seq"), 0);
    assert_int_equal(geti(&b, "tcp.ack"), 1);
    assert_string_equal(nc_evb_view(&b)->summary, "SYN,ACK seq=0 ack=1");

    tcp_frame(&f, true, C + 1, S + 1, NC_TCP_ACK, 502, 0);
    decode(d, &b, &f);
    assert_true(nc_event_bool(nc_evb_view(&b), "tcp._established"));
    assert_string_equal(nc_evb_view(&b)->summary, "ACK seq=1 ack=1");

    tcp_frame(&f, true, C + 1, S + 1, NC_TCP_ACK | NC_TCP_PSH, 502, 1000);
    decode(d, &b, &f);
    assert_string_equal(nc_evb_view(&b)->summary, "PSH,ACK seq=1 ack=1 len=1000");
    assert_false(nc_event_bool(nc_evb_view(&b), "tcp.retransmission"));
    assert_int_equal(geti(&b, "tcp.raw_seq"), (uint32_t)(C + 1));

    tcp_frame(&f, true, C + 1001, S + 1, NC_TCP_ACK, 502, 1000);
    decode(d, &b, &f);
    assert_int_equal(geti(&b, "tcp.seq"), 1001);

    /* The first data segment again: a retransmission, across the wrap. */
    tcp_frame(&f, true, C + 1, S + 1, NC_TCP_ACK | NC_TCP_PSH, 502, 1000);
    decode(d, &b, &f);
    assert_true(nc_event_bool(nc_evb_view(&b), "tcp.retransmission"));
    assert_string_equal(nc_evb_view(&b)->summary,
                        "PSH,ACK seq=1 ack=1 len=1000 (retransmission)");

    tcp_frame(&f, false, S + 1, C + 1001, NC_TCP_ACK, 509, 0);
    decode(d, &b, &f);
    assert_int_equal(geti(&b, "tcp.ack"), 1001);
    assert_false(nc_event_bool(nc_evb_view(&b), "tcp.dup_ack"));
    tcp_frame(&f, false, S + 1, C + 1001, NC_TCP_ACK, 509, 0);
    decode(d, &b, &f);
    assert_true(nc_event_bool(nc_evb_view(&b), "tcp.dup_ack"));

    tcp_frame(&f, false, S + 1, C + 2001, NC_TCP_ACK, 0, 0);
    decode(d, &b, &f);
    assert_true(nc_event_bool(nc_evb_view(&b), "tcp.zero_window"));
    tcp_frame(&f, true, C + 2001, S + 1, NC_TCP_ACK, 502, 1);
    decode(d, &b, &f);
    assert_true(nc_event_bool(nc_evb_view(&b), "tcp.window_probe"));
    assert_false(nc_event_bool(nc_evb_view(&b), "tcp.retransmission"));

    nc_evb_done(&b);
    nc_decoder_free(d);
}

/* Runs one segment through f at time t (ns) and returns the analysis. */
static nc_tcp_seg_t seg(nc_flow_t *f, int dir, int64_t t, uint32_t seq, uint32_t ack,
                        uint8_t flags, uint32_t len, int nsack)
{
    nc_tcp_seg_t s;
    memset(&s, 0, sizeof(s));
    s.seq = seq;
    s.ack = ack;
    s.win = 500;
    s.len = len;
    s.flags = flags;
    s.wscale = -1;
    s.nsack = nsack;
    s.t_ns = t;
    nc_flow_tcp(f, dir, &s);
    return s;
}

/* The flow's history decides what a retransmission was (items 12 and 14):
 * the SYN's gap, SACK recovery after one dup ACK, fast retransmit after
 * three, an RTO, a tail loss probe; dup ACKs are counted; the second FIN
 * knows the first. */
static void test_flow_recovery(void **state)
{
    (void)state;
    nc_flow_table_t *t = nc_flow_table_new(4);
    nc_flow_key_t k;
    memset(&k, 0, sizeof(k));
    k.ipver = 4;
    k.l4 = 6;
    k.saddr[0] = 1;
    k.daddr[0] = 2;
    k.sport = 1;
    k.dport = 2;
    int c, srv;
    nc_flow_t *f = nc_flow_get(t, &k, &c);
    srv = !c;
    const uint8_t A = NC_TCP_ACK;
    const int64_t ms = 1000000;
    seg(f, c, 0, 100, 0, NC_TCP_SYN, 0, 0);
    nc_tcp_seg_t s = seg(f, c, 1000 * ms, 100, 0, NC_TCP_SYN, 0, 0);
    assert_true(s.retransmission);
    assert_int_equal(s.recovery, NC_RECOVERY_SYN);
    assert_int_equal(s.gap_ns, 1000 * ms);
    seg(f, srv, 1010 * ms, 500, 101, NC_TCP_SYN | A, 0, 0);
    seg(f, c, 1020 * ms, 101, 501, A, 0, 0);
    /* The SYN-ACK again although the client's ACK was seen (a full accept
     * queue dropped it): the note must know that ACK was sent. */
    s = seg(f, srv, 2010 * ms, 500, 101, NC_TCP_SYN | A, 0, 0);
    assert_true(s.retransmission && s.peer_established);
    assert_int_equal(s.gap_ns, 1000 * ms);
    /* 501-600 lost, 601-700 arrives: one SACKed dup ACK, then the resend. */
    seg(f, srv, 1030 * ms, 501, 101, A, 100, 0);
    seg(f, srv, 1031 * ms, 601, 101, A, 100, 0);
    s = seg(f, c, 1041 * ms, 101, 501, A, 0, 1);
    assert_true(s.dup_ack);
    assert_int_equal(s.dup_ack_num, 1);
    s = seg(f, srv, 1042 * ms, 501, 101, A, 100, 0);
    assert_true(s.retransmission);
    assert_int_equal(s.recovery, NC_RECOVERY_SACK);
    assert_int_equal(s.dup_acks_before, 1);
    assert_int_equal(s.gap_ns, 12 * ms);
    seg(f, c, 1050 * ms, 101, 701, A, 0, 0);
    /* 701-800 lost, three dup ACKs without SACK: fast retransmit. */
    seg(f, srv, 1060 * ms, 701, 101, A, 100, 0);
    for (int i = 0; i < 4; i++)
        seg(f, srv, (1061 + i) * ms, 801 + 100 * (uint32_t)i, 101, A, 100, 0);
    for (uint32_t i = 1; i <= 3; i++)
        assert_int_equal(seg(f, c, (1070 + i) * ms, 101, 701, A, 0, 0).dup_ack_num, i);
    s = seg(f, srv, 1080 * ms, 701, 101, A, 100, 0);
    assert_int_equal(s.recovery, NC_RECOVERY_FAST);
    assert_int_equal(s.dup_acks_before, 3);
    seg(f, c, 1090 * ms, 101, 1201, A, 0, 0);
    /* Two segments, no ACK at all: the first again is an RTO, the last one
     * alone (others unacked before it) a tail loss probe. */
    seg(f, srv, 1100 * ms, 1201, 101, A, 100, 0);
    seg(f, srv, 1101 * ms, 1301, 101, A, 100, 0);
    s = seg(f, srv, 1150 * ms, 1301, 101, A, 100, 0);
    assert_int_equal(s.recovery, NC_RECOVERY_TLP);
    s = seg(f, srv, 1400 * ms, 1201, 101, A, 100, 0);
    assert_int_equal(s.recovery, NC_RECOVERY_RTO);
    assert_int_equal(s.gap_ns, 300 * ms);
    /* The client's FIN, then the server's: the second knows the first. */
    s = seg(f, c, 1500 * ms, 101, 1401, A | NC_TCP_FIN, 0, 0);
    assert_false(s.peer_fin);
    s = seg(f, srv, 1501 * ms, 1401, 102, A, 0, 0);
    assert_true(s.acks_fin);
    s = seg(f, srv, 1510 * ms, 1401, 102, A | NC_TCP_FIN, 0, 0);
    assert_true(s.peer_fin);
    nc_flow_table_free(t);
}

/* The Internet checksum of n bytes (even n) added to sum. */
static uint16_t inet_csum(const uint8_t *p, size_t n, uint32_t sum)
{
    for (size_t i = 0; i < n; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* UDP and IPv4 fields are the header's values (item 9), and checksums are
 * verified: good as built, bad once a byte changes. */
static void test_udp_fields_and_checksums(void **state)
{
    (void)state;
    nc_decoder_t *d = nc_decoder_new();
    nc_evb_t b;
    nc_evb_init(&b);
    frame_t f;
    eth_ip(&f, true, 17, 12);
    size_t ip = 14, udp = f.n;
    put16(&f, 40000);
    put16(&f, 37);
    put16(&f, 12);
    put16(&f, 0);
    put(&f, "abcd", 4);
    /* The checksums, computed here the long way; the UDP one starts from
     * the pseudo-header's sum (10.0.0.1, 10.0.0.2, protocol 17, length 12). */
    uint16_t c = inet_csum(f.b + ip, 20, 0);
    f.b[ip + 10] = (uint8_t)(c >> 8);
    f.b[ip + 11] = (uint8_t)c;
    c = inet_csum(f.b + udp, 12, (10u << 8) + 1 + (10u << 8) + 2 + 17 + 12);
    f.b[udp + 6] = (uint8_t)(c >> 8);
    f.b[udp + 7] = (uint8_t)c;
    assert_int_equal(decode(d, &b, &f), 0);
    assert_int_equal(geti(&b, "udp.len"), 12);
    assert_int_equal(geti(&b, "udp.payload_len"), 4);
    assert_int_equal(geti(&b, "ip.len"), 32);
    assert_string_equal(nc_event_str(nc_evb_view(&b), "ip.checksum_status"), "good");
    assert_string_equal(nc_event_str(nc_evb_view(&b), "udp.checksum_status"), "good");
    assert_string_equal(nc_evb_view(&b)->summary, "UDP 40000 > 37 len=12 payload=4");
    f.b[f.n - 1] ^= 1;
    decode(d, &b, &f);
    assert_string_equal(nc_event_str(nc_evb_view(&b), "udp.checksum_status"), "bad");
    f.b[udp + 6] = f.b[udp + 7] = 0;
    decode(d, &b, &f);
    assert_string_equal(nc_event_str(nc_evb_view(&b), "udp.checksum_status"), "none");
    nc_evb_done(&b);
    nc_decoder_free(d);
}

static void test_flow_window_scaling(void **state)
{
    (void)state;
    nc_flow_table_t *t = nc_flow_table_new(4);
    nc_flow_key_t k;
    memset(&k, 0, sizeof(k));
    k.ipver = 4;
    k.l4 = 6;
    memcpy(k.saddr, ip_a, 4);
    memcpy(k.daddr, ip_b, 4);
    k.sport = 1;
    k.dport = 2;
    int dir;
    nc_flow_t *fl = nc_flow_get(t, &k, &dir);
    nc_tcp_seg_t s = {.seq = 10, .flags = NC_TCP_SYN, .win = 100, .wscale = 7};
    nc_flow_tcp(fl, dir, &s);
    assert_int_equal(s.win_scaled, 100); /* a SYN's window is never scaled */
    nc_flow_key_t r = k;
    memcpy(r.saddr, ip_b, 4);
    memcpy(r.daddr, ip_a, 4);
    r.sport = 2;
    r.dport = 1;
    int rdir;
    assert_ptr_equal(nc_flow_get(t, &r, &rdir), fl);
    assert_int_not_equal(rdir, dir);
    nc_tcp_seg_t sa = {.seq = 50, .ack = 11, .flags = NC_TCP_SYN | NC_TCP_ACK, .win = 100,
                       .wscale = 2};
    nc_flow_tcp(fl, rdir, &sa);
    nc_tcp_seg_t a = {.seq = 11, .ack = 51, .flags = NC_TCP_ACK, .win = 100, .wscale = -1};
    nc_flow_tcp(fl, dir, &a);
    assert_int_equal(a.win_scaled, 100 << 7);
    assert_true(a.established);

    /* The table is bounded: many flows evict the oldest. */
    for (int i = 0; i < 100; i++) {
        k.sport = (uint16_t)(1000 + i);
        nc_flow_get(t, &k, &dir);
    }
    assert_int_equal(nc_flow_table_count(t), 4);
    nc_flow_table_free(t);

    /* A table grows to its bound, then recycles the oldest flows; the
     * newest ones keep their state across growth and eviction. */
    t = nc_flow_table_new(1000);
    nc_flow_t *keep = NULL;
    for (int i = 0; i < 3000; i++) {
        k.sport = (uint16_t)(2000 + i);
        nc_flow_t *x = nc_flow_get(t, &k, &dir);
        x->dir[0].base = (uint32_t)i;
        if (i == 2990)
            keep = x;
    }
    assert_int_equal(nc_flow_table_count(t), 1000);
    k.sport = 2000 + 2990;
    assert_ptr_equal(nc_flow_get(t, &k, &dir), keep);
    assert_int_equal(keep->dir[0].base, 2990);
    k.sport = 2000 + 5; /* evicted long ago: comes back fresh */
    assert_int_equal(nc_flow_get(t, &k, &dir)->dir[0].base, 0);
    nc_flow_table_free(t);
}

/* Ethernet/IPv4/UDP port 53 around a DNS message. */
static void dns_frame(frame_t *f, const uint8_t *msg, size_t n)
{
    eth_ip(f, false, 17, 8 + n);
    put16(f, 53);
    put16(f, 40000);
    put16(f, (uint16_t)(8 + n));
    put16(f, 0);
    put(f, msg, n);
}

static void test_dns_compression(void **state)
{
    (void)state;
    nc_decoder_t *d = nc_decoder_new();
    nc_evb_t b;
    nc_evb_init(&b);
    frame_t f;
    /* A response: question a.lab A, answer via pointer to the question. */
    static const uint8_t good[] = {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
                                   1, 'a', 3, 'l', 'a', 'b', 0, 0, 1, 0, 1,
                                   0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 2};
    dns_frame(&f, good, sizeof(good));
    assert_int_equal(decode(d, &b, &f), 0);
    assert_string_equal(nc_evb_view(&b)->summary, "DNS answer a.lab A 10.0.0.2");
    assert_string_equal(nc_event_str(nc_evb_view(&b), "dns.rcode"), "NOERROR");
    assert_true(nc_event_has(nc_evb_view(&b), "dns.records", "a.lab A 10.0.0.2"));

    /* A pointer to itself. */
    static const uint8_t self[] = {0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1};
    dns_frame(&f, self, sizeof(self));
    assert_int_equal(decode(d, &b, &f), NC_EBADDATA);
    assert_non_null(nc_event_str(nc_evb_view(&b), "error"));

    /* A forward pointer and two labels pointing at each other. */
    static const uint8_t fwd[] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 14, 0xc0, 12};
    dns_frame(&f, fwd, sizeof(fwd));
    assert_int_equal(decode(d, &b, &f), NC_EBADDATA);

    /* A label followed by a pointer back into itself: a loop that only a
     * jump count catches. */
    static const uint8_t loop[] = {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0,
                                   1, 'a', 1, 'b', 0xc0, 14, 0, 1, 0, 1};
    dns_frame(&f, loop, sizeof(loop));
    assert_int_equal(decode(d, &b, &f), NC_EBADDATA);

    /* A very long name is cut, not overflowed: 60 labels of 63 bytes. */
    static uint8_t longmsg[12 + 60 * 64 + 5];
    memset(longmsg, 0, sizeof(longmsg));
    longmsg[5] = 1;
    size_t p = 12;
    for (int i = 0; i < 60 && p + 64 < sizeof(longmsg); i++) {
        longmsg[p++] = 63;
        memset(longmsg + p, 'x', 63);
        p += 63;
    }
    longmsg[p++] = 0;
    longmsg[p + 1] = 1;
    longmsg[p + 3] = 1;
    dns_frame(&f, longmsg, sizeof(longmsg));
    assert_int_equal(decode(d, &b, &f), 0);
    const char *qname = nc_event_str(nc_evb_view(&b), "dns.qname");
    assert_non_null(qname);
    assert_true(strlen(qname) <= 255);

    nc_evb_done(&b);
    nc_decoder_free(d);
}

/* Every prefix of a good frame decodes without harm and says what broke. */
static void test_truncation(void **state)
{
    (void)state;
    nc_decoder_t *d = nc_decoder_new();
    nc_evb_t b;
    nc_evb_init(&b);
    frame_t f;
    tcp_frame(&f, true, 1, 0, NC_TCP_SYN, 1000, 0);
    for (size_t n = 0; n < f.n; n++) {
        nc_evb_reset(&b, NC_EV_PACKET, 0);
        int rc = nc_decoder_packet(d, 1, f.b, (uint32_t)n, (uint32_t)f.n, &b);
        assert_int_equal(rc, NC_ETRUNC);
        const nc_event_t *ev = nc_evb_view(&b);
        assert_non_null(nc_event_str(ev, "error"));
        assert_non_null(strstr(ev->summary, "truncated"));
        assert_int_equal(b.depth, 0);
        if (n >= 14)
            assert_non_null(nc_event_str(ev, "eth.src"));
        if (n >= 34)
            assert_non_null(nc_event_str(ev, "ip.src"));
    }
    nc_evb_reset(&b, NC_EV_PACKET, 0);
    assert_int_equal(nc_decoder_packet(d, 1, f.b, (uint32_t)(f.n - 8), (uint32_t)f.n, &b),
                     NC_ETRUNC);
    assert_string_equal(nc_event_str(nc_evb_view(&b), "error"),
                        "tcp: header truncated (12 of 20 bytes)");

    nc_evb_reset(&b, NC_EV_PACKET, 0);
    assert_int_equal(nc_decoder_packet(d, 9999, f.b, (uint32_t)f.n, (uint32_t)f.n, &b),
                     NC_EUNSUPP);
    nc_evb_reset(&b, NC_EV_PACKET, 0);
    assert_int_equal(nc_decoder_packet(d, 1, NULL, 0, 0, &b), NC_ETRUNC);
    nc_evb_done(&b);
    nc_decoder_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cursor),
        cmocka_unit_test(test_tcp_relative_and_retransmission),
        cmocka_unit_test(test_flow_recovery),
        cmocka_unit_test(test_udp_fields_and_checksums),
        cmocka_unit_test(test_flow_window_scaling),
        cmocka_unit_test(test_dns_compression),
        cmocka_unit_test(test_truncation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
