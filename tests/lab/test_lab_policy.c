/*
 * test_lab_policy.c: the wire's decisions without namespaces.
 *
 * Packet events are built by hand with just the fields the matchers read
 * ("from", "tcp.len"); the policy is then asked what to do with each. Also
 * covers the release-time arithmetic (delay, rate) and nc_link_parse.
 */
#include "core/error.h"
#include "core/link.h"
#include "lab/lab_impl.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

static const nc_event_t *tcp_event(nc_evb_t *b, const char *from, int len)
{
    nc_evb_reset(b, NC_EV_PACKET, 1);
    nc_evb_str(b, "from", from);
    nc_evb_str(b, "proto", "tcp");
    nc_evb_obj(b, "tcp");
    nc_evb_int(b, "len", len);
    nc_evb_end(b);
    return nc_evb_view(b);
}

static void test_scripted_drop_nth_once(void **state)
{
    nc_fault_t f = {.spec = "drop 3rd packet from=client tcp.len>0", .action = "drop",
                    .nth = 3, .match = "from=client tcp.len>0"};
    nc_link_t link = {0};
    char err[200];
    nc_wire_policy_t *p = nc_wire_policy_new(&link, &f, 1, 1, err, sizeof err);
    assert_non_null(p);
    nc_evb_t b;
    nc_evb_init(&b);
    /* client data, server data, client empty ACK, client data ... */
    const struct {
        const char *from;
        int len;
        bool drop;
    } seq[] = {
        {"client", 0, false},   {"client", 100, false}, {"server", 100, false},
        {"client", 0, false},   {"client", 100, false}, {"client", 100, true},
        {"client", 100, false}, {"client", 100, false},
    };
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
        nc_wire_verdict_t v;
        nc_wire_policy_decide(p, 0, tcp_event(&b, seq[i].from, seq[i].len), &v);
        assert_int_equal(v.drop, seq[i].drop);
        if (v.drop)
            assert_string_equal(v.reason, "scripted: drop 3rd packet from=client tcp.len>0");
    }
    nc_evb_done(&b);
    nc_wire_policy_free(p);
}

static void test_bad_faults(void **state)
{
    nc_link_t link = {0};
    char err[200] = "";
    nc_fault_t f = {.spec = "delay 1st packet", .action = "delay", .nth = 1, .match = "packet"};
    assert_null(nc_wire_policy_new(&link, &f, 1, 1, err, sizeof err));
    assert_non_null(strstr(err, "unknown action 'delay'"));
    nc_fault_t g = {.spec = "drop 0th packet", .action = "drop", .nth = 0, .match = "packet"};
    assert_null(nc_wire_policy_new(&link, &g, 1, 1, err, sizeof err));
    assert_non_null(strstr(err, "1 or more"));
}

/* A fault added while the wire runs counts from then on, and owns its
 * copy of the spec (the caller's is gone by the time it fires). */
static void test_fault_added_live(void **state)
{
    nc_link_t link = {0};
    char err[200];
    nc_wire_policy_t *p = nc_wire_policy_new(&link, NULL, 0, 1, err, sizeof err);
    assert_non_null(p);
    nc_evb_t b;
    nc_evb_init(&b);
    nc_wire_verdict_t v;
    for (int i = 0; i < 3; i++) {
        nc_wire_policy_decide(p, 0, tcp_event(&b, "client", 100), &v);
        assert_false(v.drop);
    }
    char spec[] = "drop 2nd packet from=client tcp.len>0";
    char action[] = "drop", match[] = "from=client tcp.len>0";
    nc_fault_t f = {.spec = spec, .action = action, .nth = 2, .match = match};
    assert_int_equal(nc_wire_policy_add(p, &f, err, sizeof err), 0);
    memset(spec, 'x', sizeof spec - 1);
    nc_wire_policy_decide(p, 0, tcp_event(&b, "client", 100), &v);
    assert_false(v.drop);
    nc_wire_policy_decide(p, 0, tcp_event(&b, "client", 100), &v);
    assert_true(v.drop);
    assert_string_equal(v.reason, "scripted: drop 2nd packet from=client tcp.len>0");
    nc_wire_policy_decide(p, 0, tcp_event(&b, "client", 100), &v);
    assert_false(v.drop);
    nc_fault_t bad = {.spec = "drop 1st packet (", .action = action, .nth = 1, .match = "("};
    assert_true(nc_wire_policy_add(p, &bad, err, sizeof err) < 0);
    nc_evb_done(&b);
    nc_wire_policy_free(p);
}

/* Returns a bitmap of which of the first 64 frames the loss drops. */
static uint64_t loss_pattern(uint64_t seed, int dir, double loss)
{
    nc_link_t link = {.loss = loss};
    char err[200];
    nc_wire_policy_t *p = nc_wire_policy_new(&link, NULL, 0, seed, err, sizeof err);
    uint64_t bits = 0;
    for (int i = 0; i < 64; i++) {
        nc_wire_verdict_t v;
        nc_wire_policy_decide(p, dir, NULL, &v);
        if (v.drop) {
            bits |= 1ull << i;
            assert_string_equal(v.reason, "random loss 25%");
        }
    }
    nc_wire_policy_free(p);
    return bits;
}

/* A cut drops every frame both ways and still lets a fault count the
 * frames it matches; a restored link forwards again. */
static void test_cut(void **state)
{
    nc_fault_t f = {.spec = "drop 2nd packet from=client", .action = "drop", .nth = 2,
                    .match = "from=client"};
    nc_link_t link = {0};
    char err[200];
    nc_wire_policy_t *p = nc_wire_policy_new(&link, &f, 1, 1, err, sizeof err);
    assert_non_null(p);
    nc_evb_t b;
    nc_evb_init(&b);
    nc_wire_verdict_t v;
    nc_wire_policy_cut(p, -1, true);
    nc_wire_policy_decide(p, 0, tcp_event(&b, "client", 10), &v);
    assert_true(v.drop);
    assert_string_equal(v.reason, "the lesson's program cut the link");
    nc_wire_policy_decide(p, 1, tcp_event(&b, "server", 10), &v);
    assert_true(v.drop);
    nc_wire_policy_cut(p, -1, false);
    nc_wire_policy_decide(p, 1, tcp_event(&b, "server", 10), &v);
    assert_false(v.drop);
    /* The client's second frame (the first came during the cut). */
    nc_wire_policy_decide(p, 0, tcp_event(&b, "client", 10), &v);
    assert_true(v.drop);
    assert_string_equal(v.reason, "scripted: drop 2nd packet from=client");
    nc_evb_done(&b);
    nc_wire_policy_free(p);
}

static void test_random_loss_is_seeded(void **state)
{
    uint64_t a = loss_pattern(42, 0, 0.25);
    assert_int_equal(a, loss_pattern(42, 0, 0.25));
    assert_int_not_equal(a, loss_pattern(43, 0, 0.25));
    assert_int_not_equal(a, loss_pattern(42, 1, 0.25));
    int n = __builtin_popcountll(a);
    assert_in_range(n, 6, 28); /* about 16 of 64 */
}

static void test_fault_then_loss(void **state)
{
    /* A frame the fault takes is still one draw of the random stream, so
     * the frames after it meet the same luck as without the fault. */
    nc_fault_t f = {.spec = "drop 1st packet from=client", .action = "drop", .nth = 1,
                    .match = "from=client"};
    nc_link_t link = {.loss = 0.25};
    char err[200];
    nc_wire_policy_t *p = nc_wire_policy_new(&link, &f, 1, 42, err, sizeof err);
    nc_evb_t b;
    nc_evb_init(&b);
    uint64_t bits = 0, ref = loss_pattern(42, 0, 0.25);
    for (int i = 0; i < 64; i++) {
        nc_wire_verdict_t v;
        nc_wire_policy_decide(p, 0, tcp_event(&b, "client", 10), &v);
        if (i == 0)
            assert_true(strncmp(v.reason, "scripted", 8) == 0);
        if (v.drop)
            bits |= 1ull << i;
    }
    assert_int_equal(bits & ~1ull, ref & ~1ull);
    nc_evb_done(&b);
    nc_wire_policy_free(p);
}

static void test_release_times(void **state)
{
    char err[200];
    nc_link_t delay = {.delay_ns = 50000000};
    nc_wire_policy_t *p = nc_wire_policy_new(&delay, NULL, 0, 0, err, sizeof err);
    assert_int_equal(nc_wire_policy_release(p, 0, 1000, 1500), 1000 + 50000000);
    nc_wire_policy_free(p);

    /* 1 Mbit/s: 1250 bytes take 10 ms; back to back they queue. */
    nc_link_t rate = {.rate_bps = 1000000, .delay_ns = 1000000};
    p = nc_wire_policy_new(&rate, NULL, 0, 0, err, sizeof err);
    assert_int_equal(nc_wire_policy_release(p, 0, 0, 1250), 10000000 + 1000000);
    assert_int_equal(nc_wire_policy_release(p, 0, 0, 1250), 20000000 + 1000000);
    /* The other direction has its own link. */
    assert_int_equal(nc_wire_policy_release(p, 1, 0, 1250), 10000000 + 1000000);
    /* An idle link starts again from now. */
    assert_int_equal(nc_wire_policy_release(p, 0, 100000000, 125), 101000000 + 1000000);
    nc_wire_policy_free(p);
}

/* A chain: ports 0,1 on link 0 and ports 2,3 on link 1, each link with
 * its own conditions and its own cut. */
static void test_links(void **state)
{
    char err[200];
    nc_link_t none = {0}, slow = {.delay_ns = 30000000};
    nc_wire_policy_t *p = nc_wire_policy_new(&none, NULL, 0, 1, err, sizeof err);
    const size_t port_link[] = {0, 0, 1, 1};
    nc_wire_policy_ports(p, &none, 2, port_link, 4);
    nc_wire_policy_link(p, 1, &slow);
    assert_int_equal(nc_wire_policy_max_delay(p), 30000000);
    assert_int_equal(nc_wire_policy_release(p, 1, 1000, 100), 1000);
    assert_int_equal(nc_wire_policy_release(p, 2, 1000, 100), 1000 + 30000000);
    assert_int_equal(nc_wire_policy_release(p, 3, 1000, 100), 1000 + 30000000);
    nc_wire_policy_cut(p, 1, true);
    nc_wire_verdict_t v;
    for (int port = 0; port < 4; port++) {
        nc_wire_policy_decide(p, port, NULL, &v);
        assert_int_equal(v.drop, port >= 2);
    }
    nc_wire_policy_cut(p, -1, false);
    nc_wire_policy_decide(p, 3, NULL, &v);
    assert_false(v.drop);
    nc_wire_policy_free(p);
}

static void test_link_parse(void **state)
{
    char err[200];
    nc_link_t l = {0};
    assert_int_equal(nc_link_parse("delay=50ms,loss=5%,rate=1mbit", &l, err, sizeof err), 0);
    assert_int_equal(l.delay_ns, 50000000);
    assert_true(l.loss > 0.0499 && l.loss < 0.0501);
    assert_int_equal(l.rate_bps, 1000000);
    assert_int_equal(nc_link_parse("delay=200us", &l, err, sizeof err), 0);
    assert_int_equal(l.delay_ns, 200000);
    assert_int_equal(l.rate_bps, 1000000); /* kept */
    assert_int_equal(nc_link_parse("loss=0.1,rate=2gbit", &l, err, sizeof err), 0);
    assert_true(l.loss > 0.0999 && l.loss < 0.1001);
    assert_int_equal(l.rate_bps, 2000000000ull);
    assert_int_equal(nc_link_parse("delay=1s", &l, err, sizeof err), 0);
    assert_int_equal(l.delay_ns, 1000000000);
    assert_int_equal(nc_link_parse("dely=5ms", &l, err, sizeof err), NC_ESYNTAX);
    assert_non_null(strstr(err, "dely"));
    assert_int_equal(nc_link_parse("loss=150%", &l, err, sizeof err), NC_ESYNTAX);
    assert_int_equal(nc_link_parse("delay=5parsecs", &l, err, sizeof err), NC_ESYNTAX);
    assert_int_equal(l.delay_ns, 1000000000); /* untouched on error */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scripted_drop_nth_once),
        cmocka_unit_test(test_bad_faults),
        cmocka_unit_test(test_fault_added_live),
        cmocka_unit_test(test_cut),
        cmocka_unit_test(test_random_loss_is_seeded),
        cmocka_unit_test(test_fault_then_loss),
        cmocka_unit_test(test_release_times),
        cmocka_unit_test(test_links),
        cmocka_unit_test(test_link_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
