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
    assert_non_null(strstr(note(&b), "never got an ACK for these bytes"));
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
    nc_evb_end(&b);
    nc_annotate_event(&b);
    assert_non_null(strstr(note(&b), "8-byte header"));
    assert_non_null(strstr(note(&b), "if this datagram is lost nobody resends it"));

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

    /* Other event types are left alone. */
    nc_evb_reset(&b, NC_EV_APP, 0);
    nc_evb_str(&b, "proto", "udp");
    nc_annotate_event(&b);
    assert_null(nc_evb_view(&b)->note);
    nc_evb_done(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_syn),
        cmocka_unit_test(test_data_ack_retrans),
        cmocka_unit_test(test_udp_dns_arp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
