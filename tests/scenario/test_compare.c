/*
 * test_compare.c: measuring the ways of a comparison (src/scenario/compare.c)
 * on a timeline made by hand, and the note read back.
 *
 * The timeline holds two client programs on host "client" and a server:
 * "one" makes a connection and sends two requests, the second only after
 * the first answer (two request round trips); "two" pipelines three
 * requests in one segment (one round trip) and gets a retransmitted SYN
 * (not a second handshake). The server's answers about a job carry "news";
 * one of them is 0 (an empty answer). Packets of other ports are not the
 * ways'.
 */
#include "scenario/compare.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

static int64_t t_ns = 1000000000;

static void app(nc_timeline_t *tl, nc_evb_t *b, const char *host, const char *program, int port,
                int peer_port, const char *call, int news)
{
    nc_evb_reset(b, NC_EV_APP, t_ns += 1000000);
    nc_evb_host(b, host);
    nc_evb_summary(b, "%s", call);
    nc_evb_str(b, "call", call);
    nc_evb_int(b, "port", port);
    nc_evb_int(b, "peer_port", peer_port);
    nc_evb_str(b, "program", program);
    if (news >= 0)
        nc_evb_int(b, "news", news);
    nc_timeline_add(tl, b);
}

/* A packet; flags "S", "SA", "A"; nreq requests or nresp responses. */
static void pkt(nc_timeline_t *tl, nc_evb_t *b, bool from_client, int cport, const char *flags,
                int len, int nreq, int nresp, bool retrans)
{
    nc_evb_reset(b, NC_EV_PACKET, t_ns += 1000000);
    nc_evb_host(b, from_client ? "client" : "server");
    nc_evb_summary(b, "p");
    nc_evb_str(b, "from", from_client ? "client" : "server");
    nc_evb_str(b, "to", from_client ? "server" : "client");
    nc_evb_int(b, "len", len);
    nc_evb_obj(b, "tcp");
    nc_evb_int(b, "sport", from_client ? cport : 8080);
    nc_evb_int(b, "dport", from_client ? 8080 : cport);
    nc_evb_list(b, "flags");
    if (strchr(flags, 'S'))
        nc_evb_str(b, NULL, "SYN");
    if (strchr(flags, 'A'))
        nc_evb_str(b, NULL, "ACK");
    nc_evb_end(b);
    if (retrans)
        nc_evb_bool(b, "retransmission", true);
    nc_evb_end(b);
    int n = nreq + nresp;
    if (n > 1)
        nc_evb_list(b, "http");
    for (int i = 0; i < n; i++) {
        nc_evb_obj(b, n > 1 ? NULL : "http");
        nc_evb_bool(b, "request", i < nreq);
        if (i >= nreq)
            nc_evb_int(b, "status", 200);
        nc_evb_end(b);
    }
    if (n > 1)
        nc_evb_end(b);
    nc_timeline_add(tl, b);
}

static void test_measure(void **state)
{
    nc_timeline_t *tl = nc_timeline_new(0);
    nc_timeline_set_window(tl, 0);
    nc_evb_t b;
    nc_evb_init(&b);
    /* one: port 1000, two requests one after the other */
    app(tl, &b, "client", "one", 1000, 8080, "connect", -1);
    pkt(tl, &b, true, 1000, "S", 74, 0, 0, false);
    pkt(tl, &b, false, 1000, "SA", 74, 0, 0, false);
    pkt(tl, &b, true, 1000, "A", 66, 0, 0, false);
    pkt(tl, &b, true, 1000, "A", 100, 1, 0, false);
    app(tl, &b, "server", "srv", 8080, 1000, "write", 1);
    pkt(tl, &b, false, 1000, "A", 120, 0, 1, false);
    pkt(tl, &b, true, 1000, "A", 100, 1, 0, false);
    app(tl, &b, "server", "srv", 8080, 1000, "write", 0);
    pkt(tl, &b, false, 1000, "A", 120, 0, 1, false);
    pkt(tl, &b, true, 1000, "A", 66, 0, 0, false);
    /* a stranger on port 3000 */
    pkt(tl, &b, true, 3000, "S", 74, 0, 0, false);
    /* two: port 2000, a SYN sent twice, three pipelined requests */
    app(tl, &b, "client", "two", 2000, 8080, "write", -1);
    pkt(tl, &b, true, 2000, "S", 74, 0, 0, false);
    pkt(tl, &b, true, 2000, "S", 74, 0, 0, true);
    pkt(tl, &b, false, 2000, "SA", 74, 0, 0, false);
    pkt(tl, &b, true, 2000, "A", 300, 3, 0, false);
    pkt(tl, &b, false, 2000, "A", 200, 0, 2, false);
    pkt(tl, &b, false, 2000, "A", 120, 0, 1, false);
    nc_timeline_flush(tl, true);

    nc_compare_row_t r;
    nc_compare_measure(tl, nc_timeline_count(tl), "one", &r);
    assert_int_equal(r.connections, 1);
    assert_int_equal(r.requests, 2);
    assert_int_equal(r.answers, 2);
    assert_int_equal(r.empty, 1);
    assert_int_equal(r.round_trips, 3);
    assert_int_equal(r.packets, 8);
    assert_int_equal(r.bytes, 74 + 74 + 66 + 100 + 120 + 100 + 120 + 66);
    /* from the SYN to the last answer: seven events of 1 ms apart, two of
     * them app events */
    assert_int_equal(r.time_ns, 8000000);
    /* The first answer comes before the last. */
    assert_true(r.first_byte_ns > 0 && r.first_byte_ns < r.time_ns);
    nc_compare_measure(tl, nc_timeline_count(tl), "two", &r);
    assert_int_equal(r.connections, 1);
    assert_int_equal(r.requests, 3);
    assert_int_equal(r.answers, 3);
    assert_int_equal(r.empty, 0);
    assert_int_equal(r.round_trips, 2);
    assert_int_equal(r.bytes, 74 * 3 + 300 + 200 + 120);
    nc_compare_measure(tl, nc_timeline_count(tl), "nobody", &r);
    assert_int_equal(r.packets, 0);
    assert_int_equal(r.time_ns, 0);
    assert_int_equal(r.first_byte_ns, 0);

    /* The note, and the table read back from it. */
    nc_compare_way_t ways[] = {{"first way", "one"}, {"second way", "two"}};
    nc_compare_t c = {.id = "cmp", .title = "Two ways", .ways = ways, .nways = 2};
    nc_compare_table_t t, back;
    nc_compare_build(tl, &c, &t);
    nc_compare_note(&b, &t, t_ns + 1000000);
    nc_timeline_add(tl, &b);
    nc_timeline_flush(tl, true);
    const nc_event_t *ev = nc_compare_find(tl, nc_timeline_count(tl));
    assert_non_null(ev);
    assert_true(nc_compare_from_event(ev, &back));
    assert_string_equal(back.id, "cmp");
    assert_string_equal(back.title, "Two ways");
    assert_int_equal(back.nrows, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_string_equal(back.rows[i].label, t.rows[i].label);
        assert_string_equal(back.rows[i].program, t.rows[i].program);
        assert_int_equal(back.rows[i].requests, t.rows[i].requests);
        assert_int_equal(back.rows[i].empty, t.rows[i].empty);
        assert_int_equal(back.rows[i].round_trips, t.rows[i].round_trips);
        assert_int_equal(back.rows[i].bytes, t.rows[i].bytes);
        assert_int_equal(back.rows[i].time_ns / 100000, t.rows[i].time_ns / 100000);
        assert_int_equal(back.rows[i].first_byte_ns / 100000, t.rows[i].first_byte_ns / 100000);
    }
    assert_non_null(strstr(ev->note, "first way: 2 requests (1 of them empty) on 1 connection, "
                                     "3 round trips"));
    assert_false(nc_compare_from_event(nc_timeline_get(tl, 0), &back));
    nc_evb_done(&b);
    nc_timeline_free(tl);
}

/* A data segment of a whole run's connection (client port cport to 443):
 * len payload bytes, dropped by the wire or not, a retransmission or not,
 * carrying HTTP/2 frames of the streams in h2 (ending with 0; NULL: no
 * HTTP/2) and nresp HTTP answers. */
static void seg(nc_timeline_t *tl, nc_evb_t *b, bool from_client, int cport, const char *flags,
                int len, bool dropped, bool retrans, const int *h2, int nresp)
{
    nc_evb_reset(b, NC_EV_PACKET, t_ns += 1000000);
    nc_evb_host(b, from_client ? "client" : "server");
    nc_evb_summary(b, "p");
    nc_evb_str(b, "from", from_client ? "client" : "server");
    nc_evb_str(b, "to", from_client ? "server" : "client");
    nc_evb_int(b, "len", 54 + len);
    nc_evb_bool(b, "dropped", dropped);
    nc_evb_obj(b, "tcp");
    nc_evb_int(b, "sport", from_client ? cport : 443);
    nc_evb_int(b, "dport", from_client ? 443 : cport);
    nc_evb_int(b, "len", len);
    nc_evb_list(b, "flags");
    if (strchr(flags, 'S'))
        nc_evb_str(b, NULL, "SYN");
    if (strchr(flags, 'A'))
        nc_evb_str(b, NULL, "ACK");
    nc_evb_end(b);
    if (retrans)
        nc_evb_bool(b, "retransmission", true);
    nc_evb_end(b);
    if (h2) {
        nc_evb_list(b, "http2");
        for (const int *id = h2; *id; id++) {
            nc_evb_obj(b, NULL);
            nc_evb_int(b, "streamid", *id == -1 ? 0 : *id);
            nc_evb_end(b);
        }
        nc_evb_end(b);
    }
    if (nresp) {
        nc_evb_obj(b, "http");
        nc_evb_int(b, "status", 200);
        nc_evb_end(b);
    }
    nc_timeline_add(tl, b);
}

/* A whole run (no program): the client side is whoever sent a SYN. One
 * connection's SYN carries data (a Fast Open hello) and its answer comes
 * after two turns; on the other, HTTP/2 over one TCP connection, the wire
 * drops a data segment of stream 7, a segment behind it completes no frame
 * (it counts for no stream, since the connection names streams), and the
 * retransmission that repairs it delivers frames of streams 1, 3 and 5
 * (and a SETTINGS on stream 0, no stream): four streams waited. A loss of
 * stream 7 in the other direction, never repaired, stalls it there too:
 * five in all. */
static void test_stalls_and_turns(void **state)
{
    (void)state;
    nc_timeline_t *tl = nc_timeline_new(0);
    nc_timeline_set_window(tl, 0);
    nc_evb_t b;
    nc_evb_init(&b);
    static const int s135[] = {1, 3, 5, -1, 0}, s7[] = {7, 0};
    seg(tl, &b, true, 5000, "S", 300, false, false, NULL, 0);   /* SYN + hello */
    seg(tl, &b, false, 5000, "SA", 0, false, false, NULL, 0);   /* turn 1 */
    seg(tl, &b, false, 5000, "A", 900, false, false, NULL, 0);  /* the server's flight */
    seg(tl, &b, true, 5000, "A", 0, false, false, NULL, 0);     /* a bare ACK: no turn */
    seg(tl, &b, true, 5000, "A", 80, false, false, NULL, 0);    /* Finished + request */
    seg(tl, &b, false, 5000, "A", 120, false, false, NULL, 1);  /* turn 2: the answer */
    seg(tl, &b, true, 6000, "S", 0, false, false, NULL, 0);
    seg(tl, &b, false, 6000, "SA", 0, false, false, NULL, 0);
    seg(tl, &b, true, 6000, "A", 500, true, false, s7, 0);      /* dropped */
    seg(tl, &b, true, 6000, "A", 500, false, false, NULL, 0);   /* behind the hole */
    seg(tl, &b, true, 6000, "A", 1000, false, true, s135, 0);   /* the repair */
    seg(tl, &b, false, 6000, "A", 500, true, false, s7, 0);     /* never repaired */
    nc_timeline_flush(tl, true);
    nc_compare_run_t run;
    memset(&run, 0, sizeof run);
    nc_compare_measure_run(tl, nc_timeline_count(tl), NULL, &run);
    assert_int_equal(run.row.connections, 2);
    assert_int_equal(run.row.first_byte_trips, 2);
    assert_int_equal(run.row.stalled, 5);
    assert_int_equal(run.row.answers, 1);
    assert_int_equal(run.nconns, 2);
    assert_int_equal(run.conns[0].n, 6);
    assert_int_equal(run.conns[1].n, 6);
    assert_string_equal(run.conns[1].label, "client:6000 > server:443");
    assert_true(run.conns[1].pts[2].flags & NC_COMPARE_DROPPED);
    assert_true(run.conns[1].pts[2].flags & NC_COMPARE_SENT);
    assert_true(run.conns[0].pts[5].flags & NC_COMPARE_ANSWER);
    nc_compare_run_done(&run);
    nc_evb_done(&b);
    nc_timeline_free(tl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_measure),
        cmocka_unit_test(test_stalls_and_turns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
