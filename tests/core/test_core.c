/*
 * test_core.c: the event model, JSON output, the timeline and matchers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/event.h"
#include "core/match.h"
#include "core/timeline.h"

#include <pthread.h>
#include <string.h>

/* A SYN-ACK from server to client, built the way decoders build events. */
static void build_synack(nc_evb_t *b, int64_t t)
{
    nc_evb_reset(b, NC_EV_PACKET, t);
    nc_evb_host(b, "server");
    nc_evb_summary(b, "SYN,ACK seq=0 ack=1");
    nc_evb_str(b, "from", "server");
    nc_evb_str(b, "to", "client");
    nc_evb_str(b, "proto", "tcp");
    nc_evb_int(b, "len", 74);
    nc_evb_bool(b, "dropped", false);
    nc_evb_obj(b, "ip");
    nc_evb_int(b, "_off", 14);
    nc_evb_int(b, "ttl", 64);
    nc_evb_end(b);
    nc_evb_obj(b, "tcp");
    nc_evb_int(b, "sport", 7000);
    nc_evb_list(b, "flags");
    nc_evb_str(b, NULL, "SYN");
    nc_evb_str(b, NULL, "ACK");
    nc_evb_end(b);
    nc_evb_int(b, "seq", 0);
    nc_evb_int(b, "ack", 1);
    nc_evb_end(b);
    nc_evb_note(b, "SYN-ACK: the server agrees.");
}

static void test_event_json(void **state)
{
    nc_evb_t b;
    nc_evb_init(&b);
    build_synack(&b, 1500000000);
    nc_buf_t out;
    nc_buf_init(&out);
    nc_event_json(nc_evb_view(&b), &out);
    assert_string_equal(nc_buf_cstr(&out),
                        "{\"i\":0,\"t\":1.5,\"type\":\"packet\",\"host\":\"server\","
                        "\"summary\":\"SYN,ACK seq=0 ack=1\",\"note\":\"SYN-ACK: the server "
                        "agrees.\",\"from\":\"server\",\"to\":\"client\",\"proto\":\"tcp\","
                        "\"len\":74,\"dropped\":false,\"ip\":{\"ttl\":64},\"tcp\":{\"sport\":"
                        "7000,\"flags\":[\"SYN\",\"ACK\"],\"seq\":0,\"ack\":1}}");
    nc_buf_done(&out);
    nc_evb_done(&b);
}

static void test_event_lookup(void **state)
{
    nc_evb_t b;
    nc_evb_init(&b);
    build_synack(&b, 1);
    const nc_event_t *ev = nc_evb_view(&b);
    int64_t v = -1;
    assert_true(nc_event_int(ev, "tcp.ack", &v));
    assert_int_equal(v, 1);
    assert_true(nc_event_int(ev, "ip._off", &v));
    assert_int_equal(v, 14);
    assert_false(nc_event_int(ev, "tcp.nope", &v));
    assert_false(nc_event_int(ev, "ttl", &v)); /* not at the top level */
    assert_string_equal(nc_event_str(ev, "from"), "server");
    assert_true(nc_event_has(ev, "tcp.flags", "ACK"));
    assert_false(nc_event_has(ev, "tcp.flags", "FIN"));
    nc_buf_t out;
    nc_buf_init(&out);
    assert_true(nc_event_value(ev, "tcp.flags", &out));
    assert_string_equal(nc_buf_cstr(&out), "SYN,ACK");
    nc_buf_reset(&out);
    assert_true(nc_event_value(ev, "type", &out));
    assert_string_equal(nc_buf_cstr(&out), "packet");
    nc_buf_done(&out);
    nc_evb_done(&b);
}

static void test_json_escapes_bad_utf8(void **state)
{
    nc_buf_t out;
    nc_buf_init(&out);
    nc_buf_json_str(&out, "a\"b\\\n\x01\xff\xc3\xa9");
    assert_string_equal(nc_buf_cstr(&out), "\"a\\\"b\\\\\\n\\u0001\\ufffd\xc3\xa9\"");
    nc_buf_done(&out);
}

static bool match(const char *src, const nc_event_t *ev, const nc_event_t *ref)
{
    char err[256];
    nc_match_t *m = nc_match_compile(src, err, sizeof(err));
    assert_non_null(m);
    bool ok = nc_match_event(m, ev, ref);
    nc_match_free(m);
    return ok;
}

static void test_match(void **state)
{
    nc_evb_t b;
    nc_evb_init(&b);
    build_synack(&b, 1);
    const nc_event_t *ev = nc_evb_view(&b);
    assert_true(match("packet from=server tcp.flags=SYN,ACK", ev, NULL));
    assert_true(match("packet tcp.flags=ACK,SYN", ev, NULL));
    assert_false(match("packet tcp.flags=SYN", ev, NULL));
    assert_true(match("tcp.flags~SYN", ev, NULL));
    assert_false(match("app", ev, NULL));
    assert_true(match("!dropped", ev, NULL));
    assert_false(match("dropped", ev, NULL));
    assert_true(match("tcp.ack>0 tcp.ack>=1 tcp.seq<1 len<=74", ev, NULL));
    assert_true(match("tcp.seq!=5 udp.sport!=53", ev, NULL));
    assert_true(match("summary~\"seq=0 ack\"", ev, NULL));
    assert_true(match("tcp.sport=$tcp.sport", ev, ev));
    assert_false(match("tcp.sport=$tcp.sport", ev, NULL));
    char err[256];
    assert_null(nc_match_compile("", err, sizeof(err)));
    assert_null(nc_match_compile("tcp.len>abc", err, sizeof(err)));
    assert_null(nc_match_compile("=5", err, sizeof(err)));
    assert_null(nc_match_compile("summary=\"open", err, sizeof(err)));
    assert_null(nc_match_compile("x=$", err, sizeof(err)));
    nc_evb_done(&b);
}

/* A packet that completes three pipelined requests holds a list of http
 * objects: a term on a field matches any of them, a negative term all. */
static void test_match_list_of_layers(void **state)
{
    (void)state;
    nc_evb_t b;
    nc_evb_init(&b);
    nc_evb_reset(&b, NC_EV_PACKET, 0);
    nc_evb_list(&b, "http");
    static const char *const targets[] = {"/a", "/b", "/c"};
    for (int i = 0; i < 3; i++) {
        nc_evb_obj(&b, NULL);
        nc_evb_str(&b, "method", "GET");
        nc_evb_str(&b, "target", targets[i]);
        nc_evb_int(&b, "status", 200 + i);
        if (i == 1)
            nc_evb_bool(&b, "incomplete", true);
        nc_evb_end(&b);
    }
    nc_evb_end(&b);
    const nc_event_t *ev = nc_evb_view(&b);
    assert_true(match("packet http.target=/c", ev, NULL));
    assert_true(match("http.target=/a http.target=/b", ev, NULL));
    assert_false(match("http.target=/d", ev, NULL));
    assert_true(match("http.status>201", ev, NULL));
    assert_true(match("http.incomplete", ev, NULL));
    assert_false(match("!http.incomplete", ev, NULL));
    assert_true(match("http.method!=POST", ev, NULL));
    assert_false(match("http.target!=/b", ev, NULL));
    assert_true(match("http", ev, NULL));
    nc_evb_done(&b);
}

static void add_at(nc_timeline_t *tl, int64_t t, const char *summary)
{
    nc_evb_t b;
    nc_evb_init(&b);
    nc_evb_reset(&b, NC_EV_APP, t);
    nc_evb_summary(&b, "%s", summary);
    nc_timeline_add(tl, &b);
    nc_evb_done(&b);
}

static void test_timeline_late_event_keeps_time_order(void **state)
{
    /* Events a second old are due at once. One reported after a later one
     * was published (past the reorder window) must not go back in time. */
    int64_t now = nc_clock_real_ns();
    nc_timeline_t *tl = nc_timeline_new(now - 2000000000LL);
    add_at(tl, now - 500000000LL, "published");
    assert_int_equal(nc_timeline_count(tl), 1);
    add_at(tl, now - 800000000LL, "late");
    nc_timeline_flush(tl, true);
    assert_int_equal(nc_timeline_count(tl), 2);
    assert_string_equal(nc_timeline_get(tl, 1)->summary, "late");
    assert_true(nc_timeline_get(tl, 1)->t_ns >= nc_timeline_get(tl, 0)->t_ns);
    /* A replay (window 0) keeps a file's own times. */
    nc_timeline_t *rp = nc_timeline_new(now - 2000000000LL);
    nc_timeline_set_window(rp, 0);
    add_at(rp, now - 500000000LL, "first");
    add_at(rp, now - 800000000LL, "earlier");
    assert_true(nc_timeline_get(rp, 1)->t_ns < nc_timeline_get(rp, 0)->t_ns);
    nc_timeline_free(rp);
    nc_timeline_free(tl);
    (void)state;
}

static void test_timeline_orders_by_time(void **state)
{
    /* Events an hour ahead of the clock are never due: they wait. */
    int64_t base = nc_clock_real_ns() + 3600 * 1000000000LL;
    nc_timeline_t *tl = nc_timeline_new(base);
    add_at(tl, base + 2000, "c");
    add_at(tl, base, "a");
    add_at(tl, base + 1000, "b");
    assert_int_equal(nc_timeline_count(tl), 0);
    nc_timeline_flush(tl, true);
    assert_int_equal(nc_timeline_count(tl), 3);
    assert_string_equal(nc_timeline_get(tl, 0)->summary, "a");
    assert_int_equal(nc_timeline_get(tl, 0)->t_ns, 0);
    assert_string_equal(nc_timeline_get(tl, 2)->summary, "c");
    assert_int_equal(nc_timeline_get(tl, 2)->i, 2);
    assert_null(nc_timeline_get(tl, 3));
    nc_timeline_free(tl);
}

static nc_evb_t hook_b;
static pthread_t hook_thread;
static int hook_calls;

static void hook(nc_timeline_t *tl, nc_event_t *ev, void *arg)
{
    hook_thread = pthread_self();
    hook_calls++;
    if (strcmp(ev->summary, "b") != 0)
        return;
    ev->note = nc_timeline_strdup(tl, "noted");
    nc_evb_reset(&hook_b, NC_EV_MARK, 0);
    nc_evb_summary(&hook_b, "before b");
    nc_timeline_precede(tl, &hook_b);
    nc_evb_reset(&hook_b, NC_EV_MARK, 0);
    nc_evb_summary(&hook_b, "after b");
    nc_timeline_follow(tl, &hook_b);
    *(uint64_t *)arg = ev->i;
}

static void test_timeline_hook(void **state)
{
    uint64_t b_index = 0;
    nc_evb_init(&hook_b);
    nc_timeline_t *tl = nc_timeline_new(0);
    nc_timeline_set_window(tl, 0);
    nc_timeline_set_hook(tl, hook, &b_index);
    add_at(tl, 10, "a");
    add_at(tl, 20, "b");
    add_at(tl, 30, "c");
    /* The hook (a run's lesson logic) runs on the timeline's own consumer
     * thread, never on the producer's: a flush waits for it. */
    nc_timeline_flush(tl, true);
    assert_int_equal(hook_calls, 3);
    assert_false(pthread_equal(hook_thread, pthread_self()));
    assert_int_equal(nc_timeline_count(tl), 5);
    assert_string_equal(nc_timeline_get(tl, 1)->summary, "before b");
    assert_string_equal(nc_timeline_get(tl, 2)->summary, "b");
    assert_string_equal(nc_timeline_get(tl, 2)->note, "noted");
    assert_int_equal(b_index, 2);
    assert_string_equal(nc_timeline_get(tl, 3)->summary, "after b");
    assert_int_equal(nc_timeline_get(tl, 3)->t_ns, 10);
    assert_string_equal(nc_timeline_get(tl, 4)->summary, "c");
    nc_timeline_free(tl);
    nc_evb_done(&hook_b);
}

#define WRITERS 4
#define PER_WRITER 5000

static void *writer(void *arg)
{
    nc_timeline_t *tl = arg;
    nc_evb_t b;
    nc_evb_init(&b);
    for (int k = 0; k < PER_WRITER; k++) {
        nc_evb_reset(&b, NC_EV_STATE, 1000 + k);
        nc_evb_summary(&b, "s%d", k);
        nc_evb_int(&b, "k", k);
        nc_timeline_add(tl, &b);
    }
    nc_evb_done(&b);
    return NULL;
}

static void test_timeline_concurrent(void **state)
{
    nc_timeline_t *tl = nc_timeline_new(1);
    nc_timeline_set_window(tl, 0);
    pthread_t t[WRITERS];
    for (int k = 0; k < WRITERS; k++)
        pthread_create(&t[k], NULL, writer, tl);
    /* A reader walking the published prefix while writers add. */
    size_t seen = 0;
    while (seen < WRITERS * PER_WRITER) {
        size_t n = nc_timeline_count(tl);
        for (; seen < n; seen++) {
            const nc_event_t *ev = nc_timeline_get(tl, seen);
            assert_int_equal(ev->i, seen);
            int64_t k;
            assert_true(nc_event_int(ev, "k", &k));
        }
    }
    for (int k = 0; k < WRITERS; k++)
        pthread_join(t[k], NULL);
    nc_timeline_flush(tl, true);
    assert_int_equal(nc_timeline_count(tl), WRITERS * PER_WRITER);
    nc_timeline_free(tl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_json),
        cmocka_unit_test(test_timeline_late_event_keeps_time_order),
        cmocka_unit_test(test_event_lookup),
        cmocka_unit_test(test_json_escapes_bad_utf8),
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_match_list_of_layers),
        cmocka_unit_test(test_timeline_orders_by_time),
        cmocka_unit_test(test_timeline_hook),
        cmocka_unit_test(test_timeline_concurrent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
