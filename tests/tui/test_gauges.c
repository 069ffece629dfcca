/*
 * test_gauges.c: snapshots of the state panel (gauges and chart) drawn from
 * a synthetic timeline of state events, at several cursor positions, in
 * UTF-8 and ASCII. Goldens live in golden/gauges_*.txt and chart_*.txt;
 * regenerate them with NC_UPDATE_GOLDEN=1 ctest -R test_gauges.
 */
#include "tui/gauges.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "golden.h"

#define T0 1700000000000000000LL
#define MS 1000000LL


static void nc_listener(nc_timeline_t *tl, nc_evb_t *b, int64_t ms, int accept, int syn)
{
    nc_evb_reset(b, NC_EV_STATE, T0 + ms * MS);
    nc_evb_host(b, "server");
    nc_evb_summary(b, "listener");
    nc_evb_str(b, "socket", "server:7000 listen");
    nc_evb_str(b, "state", "LISTEN");
    nc_evb_int(b, "syn_queue", syn);
    nc_evb_int(b, "accept_queue", accept);
    nc_evb_int(b, "backlog", 2);
    nc_timeline_add(tl, b);
}

static void nc_conn(nc_timeline_t *tl, nc_evb_t *b, int64_t ms, const char *state, int recv_q,
                    int send_q, int wnd)
{
    nc_evb_reset(b, NC_EV_STATE, T0 + ms * MS);
    nc_evb_host(b, "client");
    nc_evb_summary(b, "conn");
    nc_evb_str(b, "socket", "client:40112->server:7000");
    nc_evb_str(b, "state", state);
    nc_evb_int(b, "recv_q", recv_q);
    nc_evb_int(b, "send_q", send_q);
    nc_evb_int(b, "snd_wnd", wnd);
    nc_evb_int(b, "cwnd", 10);
    nc_evb_int(b, "rcvbuf", 131072);
    nc_evb_int(b, "sndbuf", 16384);
    nc_timeline_add(tl, b);
}

/* A state event with nothing but the socket's name and state. */
static void nc_bare(nc_timeline_t *tl, nc_evb_t *b, int64_t ms, const char *host,
                    const char *socket, const char *state)
{
    nc_evb_reset(b, NC_EV_STATE, T0 + ms * MS);
    nc_evb_host(b, host);
    nc_evb_summary(b, "bare");
    nc_evb_str(b, "socket", socket);
    nc_evb_str(b, "state", state);
    nc_timeline_add(tl, b);
}

/* 0: listener empty; 1-3: queue fills; 4: connection; 5: overflow counted;
 * 6-7: the window closes; 8: queue drains; 9: the connection is gone. */
static nc_timeline_t *nc_fixture(void)
{
    nc_timeline_t *tl = nc_timeline_new(T0);
    nc_evb_t b;
    nc_evb_init(&b);
    nc_listener(tl, &b, 0, 0, 0);
    nc_listener(tl, &b, 100, 0, 1);
    nc_listener(tl, &b, 200, 2, 0);
    nc_listener(tl, &b, 300, 3, 0);
    nc_conn(tl, &b, 400, "ESTABLISHED", 0, 1000, 64000);
    nc_evb_reset(&b, NC_EV_STATE, T0 + 500 * MS);
    nc_evb_host(&b, "server");
    nc_evb_summary(&b, "counters");
    nc_evb_str(&b, "scope", "host");
    nc_evb_int(&b, "listen_overflows", 2);
    nc_evb_int(&b, "listen_drops", 2);
    nc_timeline_add(tl, &b);
    nc_conn(tl, &b, 600, "ESTABLISHED", 0, 6000, 16000);
    nc_conn(tl, &b, 700, "ESTABLISHED", 0, 8000, 0);
    nc_listener(tl, &b, 800, 0, 0);
    nc_bare(tl, &b, 900, "client", "client:40112->server:7000", "CLOSED");
    nc_timeline_flush(tl, true);
    nc_evb_done(&b);
    return tl;
}

/* Draws the gauges (h rows) or the chart (6 rows) of tl, 36 columns wide,
 * as of cursor, compares them with golden/NAME.txt, and frees tl. */
static void nc_render_tl(const char *name, nc_timeline_t *tl, bool utf8, size_t cursor, bool chart,
                         int h)
{
    size_t n = nc_timeline_count(tl);
    nc_canvas_t *c = nc_canvas_new(36, chart ? 6 : h, utf8);
    if (chart)
        nc_chart_draw(c, tl, n, cursor, 0, 0, 6, 36);
    else
        nc_gauges_draw(c, tl, n, cursor, 0, 0, h, 36);
    nc_buf_t out;
    nc_buf_init(&out);
    nc_canvas_to_text(c, &out);
    nc_golden(name, nc_buf_cstr(&out));
    nc_buf_done(&out);
    nc_canvas_free(c);
    nc_timeline_free(tl);
}

static void nc_render(const char *name, bool utf8, size_t cursor, bool chart)
{
    nc_timeline_t *tl = nc_fixture();
    assert_int_equal(nc_timeline_count(tl), 10);
    nc_render_tl(name, tl, utf8, cursor, chart, 12);
}

/* The gauges follow the cursor: the queue filling, full with overflows,
 * the window at 0, then drained and the connection gone. */
static void test_gauges_cursor(void **state)
{
    nc_render("gauges_at_1", true, 1, false);
    nc_render("gauges_at_5", true, 5, false);
    nc_render("gauges_at_7", true, 7, false);
    nc_render("gauges_at_9", true, 9, false);
    nc_render("gauges_at_7_ascii", false, 7, false);
}

/* The end of a tcp run: 0 the listener; 1 one byte in flight; 2 the
 * client's FIN sent; 3 the listener closed; 4 the client in TIME_WAIT;
 * 5 the server's socket gone; 6 the client's timewait socket gone too. */
static nc_timeline_t *nc_fixture_end(void)
{
    nc_timeline_t *tl = nc_timeline_new(T0);
    nc_evb_t b;
    nc_evb_init(&b);
    nc_listener(tl, &b, 0, 0, 0);
    nc_conn(tl, &b, 100, "ESTABLISHED", 0, 1, 64000);
    nc_conn(tl, &b, 200, "FIN_WAIT1", 0, 1, 64000);
    nc_bare(tl, &b, 300, "server", "server:7000 listen", "CLOSED");
    nc_bare(tl, &b, 400, "client", "client:40112->server:7000", "TIME_WAIT");
    nc_bare(tl, &b, 500, "server", "server:7000->client:40112", "CLOSED");
    nc_bare(tl, &b, 600, "client", "client:40112->server:7000", "CLOSED");
    nc_timeline_flush(tl, true);
    nc_evb_done(&b);
    return tl;
}

static void nc_render_end(const char *name, size_t cursor)
{
    nc_timeline_t *tl = nc_fixture_end();
    assert_int_equal(nc_timeline_count(tl), 7);
    nc_render_tl(name, tl, true, cursor, false, 10);
}

/* Every bar says what it is drawn against: one byte in a 16384-byte send
 * buffer is a sliver, not a full bar. The accept queue reads as the ladder
 * and ss do: "0 of 3" with "backlog 2 + 1". At the end of the run the
 * client shows TIME_WAIT, and closed sockets are said to be closed. */
static void test_gauges_scale_and_end(void **state)
{
    nc_render_end("gauges_one_byte", 1);
    nc_render_end("gauges_time_wait", 5);
    nc_render_end("gauges_all_closed", 6);
}

/* One overflow and one drop are counted in the singular ("1 overflow",
 * not "1 overflows"). */
static void test_gauges_one_overflow(void **state)
{
    (void)state;
    nc_timeline_t *tl = nc_timeline_new(T0);
    nc_evb_t b;
    nc_evb_init(&b);
    nc_evb_reset(&b, NC_EV_STATE, T0);
    nc_evb_host(&b, "server");
    nc_evb_summary(&b, "counters");
    nc_evb_str(&b, "scope", "host");
    nc_evb_int(&b, "listen_overflows", 1);
    nc_evb_int(&b, "listen_drops", 1);
    nc_timeline_add(tl, &b);
    nc_timeline_flush(tl, true);
    nc_evb_done(&b);
    nc_canvas_t *c = nc_canvas_new(36, 4, false);
    nc_gauges_draw(c, tl, nc_timeline_count(tl), 0, 0, 0, 4, 36);
    nc_buf_t out;
    nc_buf_init(&out);
    nc_canvas_to_text(c, &out);
    assert_non_null(strstr(nc_buf_cstr(&out), "1 overflow, 1 drop"));
    assert_null(strstr(nc_buf_cstr(&out), "overflows"));
    nc_buf_done(&out);
    nc_canvas_free(c);
    nc_timeline_free(tl);
}

/* The queue drains at 800 ms of a 900 ms run: the last columns hold no bar
 * but stand on the zero line, which runs to the right edge, and the axis
 * says where the run ends; so the drain reads as 0, not as the margin. */
static void test_chart_drain(void **state)
{
    nc_timeline_t *tl = nc_fixture();
    size_t n = nc_timeline_count(tl);
    nc_canvas_t *c = nc_canvas_new(36, 6, false);
    nc_chart_draw(c, tl, n, 0, 0, 0, 6, 36);
    /* Rows: title, three of bars, the zero line, the labels. */
    for (int x = 32; x < 36; x++) {
        assert_int_equal(nc_canvas_cell(c, 3, x)->ch, ' ');
        assert_int_equal(nc_canvas_cell(c, 4, x)->ch, '-');
    }
    assert_int_equal(nc_canvas_cell(c, 3, 31)->ch, '#');
    nc_buf_t out;
    nc_buf_init(&out);
    nc_canvas_to_text(c, &out);
    assert_non_null(strstr(nc_buf_cstr(&out), "0.90 s\n"));
    nc_buf_done(&out);
    nc_canvas_free(c);
    nc_timeline_free(tl);
}

/* A listener closed while its queue was full: the bars stop where it
 * closed and the zero line turns to dots, rather than the last value
 * running on to the end of the run. */
static void test_chart_closed(void **state)
{
    nc_timeline_t *tl = nc_timeline_new(T0);
    nc_evb_t b;
    nc_evb_init(&b);
    nc_listener(tl, &b, 0, 0, 0);
    nc_listener(tl, &b, 100, 3, 0);
    nc_bare(tl, &b, 500, "server", "server:7000 listen", "CLOSED");
    nc_conn(tl, &b, 1000, "ESTABLISHED", 0, 0, 64000);
    nc_timeline_flush(tl, true);
    nc_evb_done(&b);
    nc_canvas_t *c = nc_canvas_new(20, 6, false);
    nc_chart_draw(c, tl, nc_timeline_count(tl), 0, 0, 0, 6, 20);
    /* 20 columns of 50 ms: the listener has its value up to column 9. */
    assert_int_equal(nc_canvas_cell(c, 3, 9)->ch, '#');
    assert_int_equal(nc_canvas_cell(c, 4, 9)->ch, '-');
    for (int x = 11; x < 20; x++) {
        assert_int_equal(nc_canvas_cell(c, 3, x)->ch, ' ');
        assert_int_equal(nc_canvas_cell(c, 4, x)->ch, '.');
    }
    nc_canvas_free(c);
    nc_timeline_free(tl);
}

static void test_chart(void **state)
{
    nc_render("chart_at_3", true, 3, true);
    nc_render("chart_at_9_ascii", false, 9, true);
}

static void test_gauges_any(void **state)
{
    nc_timeline_t *tl = nc_fixture();
    assert_true(nc_gauges_any(tl, 1));
    assert_false(nc_gauges_any(tl, 0));
    nc_timeline_free(tl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gauges_cursor), cmocka_unit_test(test_gauges_scale_and_end),
        cmocka_unit_test(test_chart),         cmocka_unit_test(test_chart_drain),
        cmocka_unit_test(test_chart_closed),
        cmocka_unit_test(test_gauges_one_overflow),
        cmocka_unit_test(test_gauges_any),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
