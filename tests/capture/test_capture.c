/*
 * test_capture.c: a capture handle on lo, in a namespace of our own.
 *
 * The checks run on a thread inside a fresh network namespace (the lab's
 * nc_netns_call), so the host's own lo is never captured; they fill a result
 * struct and the cmocka assertions run on the main thread.
 */
#include "capture/capture.h"
#include "core/clock.h"
#include "lab/lab_impl.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

typedef struct result {
    char err[300];
    int linktype;
    int frames;
    uint32_t caplen, wirelen;
    int64_t ts_ns;
    uint64_t received, lost;
    char got[16];
} result_t;

static void on_frame(void *arg, int64_t ts_ns, const uint8_t *data, uint32_t caplen,
                     uint32_t wirelen)
{
    result_t *r = arg;
    if (r->frames++ == 0) {
        r->ts_ns = ts_ns;
        r->caplen = caplen;
        r->wirelen = wirelen;
    }
}

static int open_missing(void *arg)
{
    result_t *r = arg;
    nc_capture_t *c = nc_capture_open("nope0", NULL, r->err, sizeof r->err);
    nc_capture_close(c);
    return c ? -1 : 0;
}

static int udp_to(int port, const char *text)
{
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ssize_t n = sendto(s, text, strlen(text), 0, (struct sockaddr *)&sa, sizeof sa);
    close(s);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

static int capture_lo(void *arg)
{
    result_t *r = arg;
    nc_capture_opts_t o = {.snaplen = 65536, .buffer_bytes = 8 << 20};
    nc_capture_t *c = nc_capture_open("lo", &o, r->err, sizeof r->err);
    if (!c)
        return -1;
    r->linktype = nc_capture_linktype(c);
    /* A listener, so that no ICMP port-unreachable follows the datagram. */
    int rs = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(9),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(rs, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        strcmp(nc_capture_ifname(c), "lo") != 0 || udp_to(9, "hello") != 0)
        return -2;
    struct pollfd pfd = {.fd = nc_capture_fd(c), .events = POLLIN};
    for (int i = 0; i < 20 && r->frames == 0; i++) {
        poll(&pfd, 1, 50);
        nc_capture_dispatch(c, 0, on_frame, r);
    }
    nc_capture_stats(c, &r->received, &r->lost);
    nc_capture_close(c);
    close(rs);
    return 0;
}

/* An Ethernet/IPv4/UDP frame from 10.9.9.1 to 10.9.9.9:port carrying text.
 * (Frames arriving with 127.0.0.0/8 addresses are martians to the kernel's
 * input routing, even on lo.) */
static size_t build_frame(uint8_t *f, int port, const char *text)
{
    size_t n = strlen(text);
    memset(f, 0, 42);
    f[12] = 0x08;
    uint8_t *ip = f + 14;
    ip[0] = 0x45;
    ip[2] = (uint8_t)((28 + n) >> 8);
    ip[3] = (uint8_t)(28 + n);
    ip[8] = 64;
    ip[9] = 17;
    static const uint8_t addrs[8] = {10, 9, 9, 1, 10, 9, 9, 9};
    memcpy(ip + 12, addrs, 8);
    uint32_t sum = 0;
    for (int i = 0; i < 20; i += 2)
        sum += (uint32_t)ip[i] << 8 | ip[i + 1];
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    ip[10] = (uint8_t)(~sum >> 8);
    ip[11] = (uint8_t)~sum;
    uint8_t *udp = ip + 20;
    udp[0] = 0x30;
    udp[2] = (uint8_t)(port >> 8);
    udp[3] = (uint8_t)port;
    udp[5] = (uint8_t)(8 + n); /* checksum 0: none, allowed for IPv4 */
    memcpy(udp + 8, text, n);
    return 42 + n;
}

/* A UDP socket on 10.9.9.9:port that gives up reading after a second, or
 * -1. */
static int bound_udp(int port)
{
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "10.9.9.9", &sa.sin_addr);
    struct timeval tv = {1, 0};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (bind(s, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(s);
        return -1;
    }
    return s;
}

static int inject_lo(void *arg)
{
    result_t *r = arg;
    if (nc_netlink_addr_add("lo", "10.9.9.9", 32, r->err, sizeof r->err) != 0)
        return -3;
    int s = bound_udp(7100);
    if (s < 0)
        return -1;
    nc_capture_opts_t o = {.in_only = true};
    nc_capture_t *c = nc_capture_open("lo", &o, r->err, sizeof r->err);
    if (!c)
        return -2;
    uint8_t frame[64];
    size_t len = build_frame(frame, 7100, "injected");
    int rc = nc_capture_inject(c, frame, len);
    ssize_t n = rc == 0 ? recv(s, r->got, sizeof r->got - 1, 0) : -1;
    if (n > 0)
        r->got[n] = '\0';
    nc_capture_close(c);
    close(s);
    return rc;
}

/* Three frames in one batch: the middle one is bigger than lo's MTU, so
 * the kernel refuses it; the other two arrive, in order. */
static int inject_many_lo(void *arg)
{
    result_t *r = arg;
    nc_netlink_addr_add("lo", "10.9.9.9", 32, r->err, sizeof r->err); /* may exist already */
    r->err[0] = '\0';
    int s = bound_udp(7101);
    if (s < 0)
        return -1;
    nc_capture_opts_t o = {.in_only = true};
    nc_capture_t *c = nc_capture_open("lo", &o, r->err, sizeof r->err);
    if (!c)
        return -2;
    static uint8_t one[64], big[70000], two[64];
    struct iovec frames[3] = {
        {one, build_frame(one, 7101, "one")},
        {big, sizeof big},
        {two, build_frame(two, 7101, "two")},
    };
    memcpy(big, one, 14);
    r->frames = (int)nc_capture_inject_many(c, frames, 3);
    char a[16] = "", b[16] = "";
    ssize_t n = recv(s, a, sizeof a - 1, 0), m = n > 0 ? recv(s, b, sizeof b - 1, 0) : -1;
    snprintf(r->got, sizeof r->got, "%.*s,%.*s", n > 0 ? (int)n : 0, a, m > 0 ? (int)m : 0, b);
    nc_capture_close(c);
    close(s);
    return 0;
}

static int netns_fd;

static void test_missing_interface(void **state)
{
    result_t r = {0};
    assert_int_equal(nc_netns_call(netns_fd, open_missing, &r), 0);
    assert_string_equal(r.err, "capture: cannot start capturing on nope0: no such interface in "
                               "this namespace.");
}

static void test_capture_lo(void **state)
{
    result_t r = {0};
    int64_t before = nc_clock_real_ns();
    int rc = nc_netns_call(netns_fd, capture_lo, &r);
    if (rc != 0)
        fail_msg("capture_lo: %d %s", rc, r.err);
    assert_int_equal(r.linktype, 1); /* DLT_EN10MB: lo has an Ethernet header */
    assert_int_equal(r.frames, 1);   /* libpcap drops lo's outgoing copy */
    assert_int_equal(r.caplen, 14 + 20 + 8 + 5);
    assert_int_equal(r.wirelen, r.caplen);
    assert_true(r.ts_ns >= before - 1000000 && r.ts_ns < before + 2000000000ll);
    assert_true(r.received >= 1);
    assert_int_equal(r.lost, 0);
}

static void test_inject_lo(void **state)
{
    result_t r = {0};
    int rc = nc_netns_call(netns_fd, inject_lo, &r);
    if (rc != 0)
        fail_msg("inject_lo: %d %s", rc, r.err);
    assert_string_equal(r.got, "injected");
}

static void test_inject_many_lo(void **state)
{
    result_t r = {0};
    int rc = nc_netns_call(netns_fd, inject_many_lo, &r);
    if (rc != 0)
        fail_msg("inject_many_lo: %d %s", rc, r.err);
    assert_int_equal(r.frames, 1); /* refused */
    assert_string_equal(r.got, "one,two");
}

int main(void)
{
    char err[512];
    if (nc_lab_prepare(err, sizeof err) != 0 || nc_netns_new(&netns_fd, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_missing_interface),
        cmocka_unit_test(test_capture_lo),
        cmocka_unit_test(test_inject_lo),
        cmocka_unit_test(test_inject_many_lo),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    close(netns_fd);
    return rc;
}
