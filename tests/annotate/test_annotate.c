/*
 * test_annotate.c: the generic annotation rules on hand-built events.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "annotate/annotate.h"

#include <string.h>

static void tcp_event(nc_evb_t *b, const char *from, const char *to, const char *const *flags,
                      int64_t seq, int64_t ack, int64_t len)
{
    nc_evb_reset(b, NC_EV_PACKET, 0);
    nc_evb_str(b, "from", from);
    nc_evb_str(b, "to", to);
    nc_evb_str(b, "proto", "tcp");
    nc_evb_obj(b, "tcp");
    nc_evb_list(b, "flags");
    for (; *flags; flags++)
        nc_evb_str(b, NULL, *flags);
    nc_evb_end(b);
    nc_evb_int(b, "seq", seq);
    nc_evb_int(b, "ack", ack);
    nc_evb_int(b, "len", len);
    nc_evb_int(b, "win", 64240);
    nc_evb_bool(b, "retransmission", false);
}

static const char *note(nc_evb_t *b)
{
    const char *n = nc_evb_view(b)->note;
    return n ? n : "";
}

static void test_syn(void **state)
{
    (void)state;
    nc_evb_t b;
    nc_evb_init(&b);
    static const char *const syn[] = {"SYN", NULL};
    tcp_event(&b, "client", "server", syn, 0, 0, 0);
    nc_evb_obj(&b, "options");
    nc_evb_int(&b, "mss", 1460);
    nc_evb_int(&b, "wscale", 7);
    nc_evb_end(&b);
    nc_evb_end(&b);
    nc_annotate_event(&b);
    assert_string_equal(note(&b),
                        "SYN: the client asks the server to open a connection and picks its "
                        "initial sequence number, shown as 0 (relative). It offers MSS 1460 and "
                        "window scaling x128.");
    nc_evb_done(&b);
}

static void test_data_ack_retrans(void **state)
{
    (void)state;
    nc_evb_t b;
    nc_evb_init(&b);
    static const char *const pa[] = {"ACK", "PSH", NULL}, *const a[] = {"ACK", NULL};
    tcp_event(&b, "client", "server", pa, 1, 1, 1000);
    nc_evb_end(&b);
    nc_annotate_event(&b);
    assert_non_null(strstr(note(&b), "carry bytes 1-1000 of the client's stream"));

    tcp_event(&b, "server", "client", a, 1, 1001, 0);
    nc_evb_end(&b);
    nc_annotate_event(&b);
    assert_non_null(strstr(note(&b), "everything up to byte 1000 of the client's stream"));

    tcp_event(&b, "client", "server", pa, 1, 1, 1000);
    nc_evb_find(&b, "tcp.retransmission")->v.b = 1;
    nc_evb_end(&b);
    nc_annotate_event(&b);
    assert_non_null(strstr(note(&b), "Retransmission of bytes 1-1000"));
    assert_null(strstr(note(&b), "Data:"));

    tcp_event(&b, "10.0.0.9", "server", a, 1, 1, 0);
    nc_evb_bool(&b, "dup_ack", true);
    nc_evb_end(&b);
    nc_annotate_event(&b);
    assert_non_null(strstr(note(&b), "Duplicate ACK: 10.0.0.9 asks again for byte 1"));
    assert_null(strstr(note(&b), "cumulative"));
    nc_evb_done(&b);
}

static void test_udp_dns_arp(void **state)
{
    (void)state;
    nc_evb_t b;
    nc_evb_init(&b);
    nc_evb_reset(&b, NC_EV_PACKET, 0);
    nc_evb_str(&b, "proto", "udp");
    nc_evb_obj(&b, "udp");
    nc_evb_int(&b, "sport", 40000);
    nc_evb_int(&b, "dport", 7);
    nc_evb_int(&b, "len", 12);
    nc_evb_int(&b, "payload_len", 4);
    nc_evb_end(&b);
    nc_annotate_event(&b);
    assert_non_null(strstr(note(&b), "8-byte header (ports, length 12, checksum) and 4 bytes"));
    assert_non_null(strstr(note(&b), "UDP itself has no handshake"));

    nc_evb_reset(&b, NC_EV_PACKET, 0);
    nc_evb_str(&b, "from", "client");
    nc_evb_str(&b, "to", "dns");
    nc_evb_str(&b, "proto", "dns");
    nc_evb_obj(&b, "dns");
    nc_evb_int(&b, "id", 0x1a2b);
    nc_evb_bool(&b, "response", false);
    nc_evb_str(&b, "qname", "a.lab");
    nc_evb_str(&b, "qtype", "A");
    nc_evb_end(&b);
    nc_annotate_event(&b);
    assert_non_null(strstr(note(&b), "DNS query: the client asks the dns"));
    assert_non_null(strstr(note(&b), "A record of a.lab (id 0x1a2b)"));

    nc_evb_reset(&b, NC_EV_PACKET, 0);
    nc_evb_str(&b, "from", "server");
    nc_evb_str(&b, "proto", "arp");
    nc_evb_obj(&b, "arp");
    nc_evb_str(&b, "op", "reply");
    nc_evb_str(&b, "sender_mac", "02:00:00:00:00:02");
    nc_evb_str(&b, "sender_ip", "10.0.0.2");
    nc_evb_end(&b);
    nc_annotate_event(&b);
    assert_non_null(strstr(note(&b), "ARP reply: the server answers that 10.0.0.2 is at"));

    /* Time exceeded in reassembly is no TTL that ran out. */
    nc_evb_reset(&b, NC_EV_PACKET, 0);
    nc_evb_str(&b, "from", "server");
    nc_evb_str(&b, "proto", "icmp");
    nc_evb_obj(&b, "icmp");
    nc_evb_int(&b, "type", 11);
    nc_evb_int(&b, "code", 1);
    nc_evb_str(&b, "name", "time exceeded");
    nc_evb_end(&b);
    nc_annotate_event(&b);
    assert_non_null(strstr(note(&b), "fragment reassembly"));
    assert_null(strstr(note(&b), "TTL"));

    /* Other event types are left alone. */
    nc_evb_reset(&b, NC_EV_APP, 0);
    nc_evb_str(&b, "proto", "udp");
    nc_annotate_event(&b);
    assert_null(nc_evb_view(&b)->note);
    nc_evb_done(&b);
}

/* Ends the tcp object, annotates and returns the note. */
static const char *annotate(nc_evb_t *b)
{
    nc_evb_end(b);
    nc_annotate_event(b);
    return note(b);
}

/* Item 13: the second FIN must not say the peer can still send. */
static void test_fin_after_fin(void **state)
{
    (void)state;
    nc_evb_t b;
    nc_evb_init(&b);
    static const char *const fa[] = {"FIN", "ACK", NULL};
    tcp_event(&b, "client", "server", fa, 6, 1, 0);
    assert_non_null(strstr(annotate(&b), "the server can still send"));
    tcp_event(&b, "server", "client", fa, 1, 7, 0);
    nc_evb_bool(&b, "_peer_fin", true);
    const char *n = annotate(&b);
    assert_null(strstr(n, "can still send"));
    assert_non_null(strstr(n, "The client had already sent its FIN"));
    nc_evb_done(&b);
}

/* Item 14: dup ACKs do not repeat the first one's explanation, and a
 * retransmission says what this run did. */
static void test_dupack_and_recovery(void **state)
{
    (void)state;
    nc_evb_t b;
    nc_evb_init(&b);
    static const char *const a[] = {"ACK", NULL}, *const pa[] = {"ACK", "PSH", NULL};
    tcp_event(&b, "client", "server", a, 1, 2001, 0);
    nc_evb_bool(&b, "dup_ack", true);
    nc_evb_int(&b, "dup_ack_num", 1);
    nc_evb_obj(&b, "options");
    nc_evb_list(&b, "sack");
    nc_evb_str(&b, NULL, "3001-4001");
    nc_evb_end(&b);
    nc_evb_end(&b);
    const char *n = annotate(&b);
    assert_non_null(strstr(n, "asks again for byte 2001"));
    assert_non_null(strstr(n, "SACK block (3001-4001)"));
    assert_null(strstr(n, "three duplicate ACKs"));

    tcp_event(&b, "client", "server", a, 1, 2001, 0);
    nc_evb_bool(&b, "dup_ack", true);
    nc_evb_int(&b, "dup_ack_num", 2);
    n = annotate(&b);
    assert_string_equal(n, "Duplicate ACK #2 for byte 2001: another segment past the gap arrived.");

    tcp_event(&b, "server", "client", pa, 2001, 1, 1000);
    nc_evb_find(&b, "tcp.retransmission")->v.b = 1;
    nc_evb_str(&b, "recovery", "sack");
    nc_evb_int(&b, "_dup_acks_before", 1);
    nc_evb_int(&b, "_asked", 2001);
    nc_evb_int(&b, "_gap_ns", 25000000);
    n = annotate(&b);
    assert_non_null(
        strstr(n, "Retransmission of bytes 2001-3000, 0.025 s after they were last sent."));
    assert_non_null(
        strstr(n, "The client had sent 1 duplicate ACK asking for byte 2001, with SACK"));
    assert_null(strstr(n, "after three duplicate ACKs"));

    tcp_event(&b, "server", "client", pa, 2001, 1, 1000);
    nc_evb_find(&b, "tcp.retransmission")->v.b = 1;
    nc_evb_str(&b, "recovery", "rto");
    n = annotate(&b);
    assert_non_null(strstr(n, "retransmission timer (RTO) expired"));
    assert_null(strstr(n, "duplicate ACKs asking"));

    tcp_event(&b, "server", "client", pa, 2001, 1, 1000);
    nc_evb_find(&b, "tcp.retransmission")->v.b = 1;
    nc_evb_str(&b, "recovery", "tlp");
    assert_non_null(strstr(annotate(&b), "tail loss probe"));
    nc_evb_done(&b);
}

/* Item 12 (run side): a retransmitted SYN states the gap this run showed. */
static void test_syn_gap(void **state)
{
    (void)state;
    nc_evb_t b;
    nc_evb_init(&b);
    static const char *const syn[] = {"SYN", NULL};
    tcp_event(&b, "client", "server", syn, 0, 0, 0);
    nc_evb_find(&b, "tcp.retransmission")->v.b = 1;
    nc_evb_str(&b, "recovery", "syn");
    nc_evb_int(&b, "_gap_ns", 1000000000);
    const char *n = annotate(&b);
    assert_non_null(strstr(n, "sends its SYN again, 1.000 s after the previous one."));
    assert_null(strstr(n, "doubling"));

    /* A SYN-ACK sent again after the client's ACK was seen: "no ACK came
     * back" would be false. */
    static const char *const sa[] = {"SYN", "ACK", NULL};
    tcp_event(&b, "server", "client", sa, 0, 1, 0);
    nc_evb_find(&b, "tcp.retransmission")->v.b = 1;
    nc_evb_str(&b, "recovery", "syn");
    nc_evb_bool(&b, "_peer_established", true);
    n = annotate(&b);
    assert_null(strstr(n, "no ACK came back"));
    assert_non_null(strstr(n, "the client did send the ACK that completes the handshake"));
    nc_evb_done(&b);
}

/* Item 15: a zero-window probe without data pushes no byte. */
static void test_zero_window_probe(void **state)
{
    (void)state;
    nc_evb_t b;
    nc_evb_init(&b);
    static const char *const a[] = {"ACK", NULL};
    tcp_event(&b, "server", "client", a, 800, 1, 0);
    nc_evb_bool(&b, "window_probe", true);
    const char *n = annotate(&b);
    assert_non_null(strstr(n, "Zero-window probe: the server sends a segment with no data"));
    assert_null(strstr(n, "byte into"));
    assert_null(strstr(n, "ACK 1"));
    nc_evb_done(&b);
}

/* A UDP datagram from sport to dport with payload bytes of data. */
static void udp_event(nc_evb_t *b, int64_t sport, int64_t dport, int64_t payload)
{
    nc_evb_reset(b, NC_EV_PACKET, 0);
    nc_evb_str(b, "proto", "udp");
    nc_evb_obj(b, "udp");
    nc_evb_int(b, "sport", sport);
    nc_evb_int(b, "dport", dport);
    nc_evb_int(b, "len", 8 + payload);
    nc_evb_int(b, "payload_len", payload);
}

/* Item 16: UDP to 443 is not said to have no handshake or acknowledgement. */
static void test_udp_443(void **state)
{
    (void)state;
    nc_evb_t b;
    nc_evb_init(&b);
    udp_event(&b, 50000, 443, 1200);
    const char *n = annotate(&b);
    assert_non_null(strstr(n, "UDP itself has no handshake"));
    assert_non_null(strstr(n, "usually QUIC"));
    assert_null(strstr(n, "nobody resends it"));
    nc_evb_done(&b);
}

/* Item 17: a response to HEAD (or a 304) has no body, whatever
 * Content-Length says. */
static void test_http_no_body(void **state)
{
    (void)state;
    nc_evb_t b;
    nc_evb_init(&b);
    static const int statuses[] = {200, 304, 204, 200};
    for (int i = 0; i < 4; i++) {
        nc_evb_reset(&b, NC_EV_PACKET, 0);
        nc_evb_str(&b, "proto", "http");
        nc_evb_obj(&b, "http");
        nc_evb_bool(&b, "request", false);
        nc_evb_int(&b, "status", statuses[i]);
        nc_evb_int(&b, "content_length", 7);
        nc_evb_int(&b, "body_len", 0);
        if (i == 0)
            nc_evb_str(&b, "request_method", "HEAD");
        const char *n = annotate(&b);
        if (i < 3) {
            assert_null(strstr(n, "the body is 7 bytes"));
            assert_non_null(strstr(n, "It carries no body"));
        } else {
            assert_non_null(strstr(n, "the body is 7 bytes"));
        }
    }
    nc_evb_done(&b);
}

/* A count of one takes the singular: a 1-byte datagram, a 1-byte body. */
static void test_one_byte(void **state)
{
    (void)state;
    nc_evb_t b;
    nc_evb_init(&b);
    udp_event(&b, 50000, 9999, 1);
    const char *n = annotate(&b);
    assert_non_null(strstr(n, "and 1 byte of data"));
    nc_evb_reset(&b, NC_EV_PACKET, 0);
    nc_evb_str(&b, "proto", "http");
    nc_evb_obj(&b, "http");
    nc_evb_bool(&b, "request", false);
    nc_evb_int(&b, "status", 200);
    nc_evb_int(&b, "content_length", 1);
    nc_evb_int(&b, "body_len", 1);
    n = annotate(&b);
    assert_non_null(strstr(n, "the body is 1 byte,"));
    nc_evb_done(&b);
}

/* Item 18: no note states a value that was not decoded. */
static void test_no_undecoded_values(void **state)
{
    (void)state;
    nc_evb_t b;
    nc_evb_init(&b);
    static const char *const a[] = {"ACK", NULL};
    tcp_event(&b, "server", "client", a, 1, 1, 0);
    nc_evb_bool(&b, "_peer_syn", true);
    const char *n = annotate(&b);
    assert_null(strstr(n, "byte 0 of"));
    assert_non_null(strstr(n, "no data of the client's stream has arrived yet"));

    /* A request whose header block goes on past this segment: no blank
     * line was seen, so none is claimed. */
    nc_evb_reset(&b, NC_EV_PACKET, 0);
    nc_evb_str(&b, "proto", "http");
    nc_evb_obj(&b, "http");
    nc_evb_bool(&b, "request", true);
    nc_evb_str(&b, "method", "GET");
    nc_evb_str(&b, "target", "/");
    nc_evb_int(&b, "headers", 2);
    n = annotate(&b);
    assert_null(strstr(n, "a blank line ends them"));
    assert_non_null(strstr(n, "the blank line that ends them is not in it"));

    /* A truncated UDP header: the layer is open, no ports were read. */
    nc_evb_reset(&b, NC_EV_PACKET, 0);
    nc_evb_str(&b, "proto", "udp");
    nc_evb_str(&b, "error", "udp: header truncated (4 of 8 bytes)");
    nc_evb_obj(&b, "udp");
    n = annotate(&b);
    assert_null(strstr(n, "port 0"));
    assert_null(strstr(n, "UDP:"));
    nc_evb_done(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_syn),
        cmocka_unit_test(test_data_ack_retrans),
        cmocka_unit_test(test_udp_dns_arp),
        cmocka_unit_test(test_fin_after_fin),
        cmocka_unit_test(test_dupack_and_recovery),
        cmocka_unit_test(test_syn_gap),
        cmocka_unit_test(test_zero_window_probe),
        cmocka_unit_test(test_udp_443),
        cmocka_unit_test(test_http_no_body),
        cmocka_unit_test(test_one_byte),
        cmocka_unit_test(test_no_undecoded_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
