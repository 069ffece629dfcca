/*
 * test_probe.c: the probe's parsers on hand-made kernel answers, and the
 * probe itself on a live local lab: a listener with a backlog of 1 that
 * never accepts, SYN cookies off, three clients. The probe must report the
 * accept queue at backlog + 1, the overflow counted in the lab namespace's
 * netstat (and not in netcourse's own namespace), and the closing.
 */
#include "core/error.h"
#include "core/timeline.h"
#include "lab/lab.h"
#include "probe/diag.h"
#include "probe/probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

/* From <netinet/tcp.h>, which clashes with <linux/tcp.h> (needed for the
 * kernel's tcp_info). */
enum { NC_TCP_ESTABLISHED = 1, NC_TCP_TIME_WAIT = 6, NC_TCP_LISTEN = 10 };

static const char netstat_text[] =
    "TcpExt: SyncookiesSent SyncookiesRecv ListenOverflows ListenDrops TCPTimeouts\n"
    "TcpExt: 0 0 7 9 3\n"
    "IpExt: InNoRoutes InTruncatedPkts\n"
    "IpExt: 0 0\n";

static void test_netstat(void **state)
{
    uint64_t ov = 1, dr = 1;
    assert_int_equal(nc_diag_netstat_parse(netstat_text, strlen(netstat_text), &ov, &dr), 0);
    assert_int_equal(ov, 7);
    assert_int_equal(dr, 9);
    /* The names line alone, a values line with a bad number, nothing. */
    assert_int_equal(nc_diag_netstat_parse(netstat_text, 80, &ov, &dr), NC_ENOENT);
    assert_int_equal(ov, 0);
    const char *bad = "TcpExt: ListenOverflows ListenDrops\nTcpExt: 1x 2\n";
    assert_int_equal(nc_diag_netstat_parse(bad, strlen(bad), &ov, &dr), NC_ENOENT);
    assert_int_equal(nc_diag_netstat_parse("", 0, &ov, &dr), NC_ENOENT);
}

typedef struct seen {
    nc_diag_sock_t sk[4];
    int n;
} seen_t;

static void on_sock(const nc_diag_sock_t *sk, void *arg)
{
    seen_t *s = arg;
    if (s->n < 4)
        s->sk[s->n++] = *sk;
}

/* One SOCK_DIAG_BY_FAMILY message with a tcp_info attribute of info_len
 * bytes and a skmeminfo attribute of mem_len bytes, then NLMSG_DONE.
 * Returns the bytes written. */
static size_t make_dump_mem(uint8_t *buf, size_t info_len, size_t mem_len)
{
    memset(buf, 0, 1024);
    struct nlmsghdr h = {.nlmsg_type = SOCK_DIAG_BY_FAMILY};
    struct inet_diag_msg m = {.idiag_family = AF_INET, .idiag_state = NC_TCP_ESTABLISHED};
    m.id.idiag_sport = htons(7000);
    m.id.idiag_dport = htons(40112);
    inet_pton(AF_INET, "10.0.0.2", m.id.idiag_src);
    inet_pton(AF_INET, "10.0.0.1", m.id.idiag_dst);
    m.idiag_rqueue = 4344;
    m.idiag_wqueue = 12;
    uint8_t info[512];
    memset(info, 0, sizeof info);
    struct tcp_info ti = {.tcpi_snd_cwnd = 10, .tcpi_unacked = 2, .tcpi_total_retrans = 1,
                          .tcpi_notsent_bytes = 5, .tcpi_snd_wnd = 64512};
    memcpy(info, &ti, sizeof ti);
    uint32_t rcv_wnd = 0;
    memcpy(info + offsetof(struct tcp_info, tcpi_snd_wnd) + 4, &rcv_wnd, 4);
    struct nlattr a = {.nla_len = (uint16_t)(sizeof a + info_len), .nla_type = INET_DIAG_INFO};
    size_t off = NLMSG_HDRLEN;
    memcpy(buf + off, &m, sizeof m);
    off += NLMSG_ALIGN(sizeof m);
    memcpy(buf + off, &a, sizeof a);
    memcpy(buf + off + sizeof a, info, info_len);
    off += NLA_ALIGN(a.nla_len);
    if (mem_len) {
        uint32_t mem[SK_MEMINFO_VARS] = {0};
        mem[SK_MEMINFO_RCVBUF] = 131072;
        mem[SK_MEMINFO_SNDBUF] = 16384;
        struct nlattr ma = {.nla_len = (uint16_t)(sizeof ma + mem_len),
                            .nla_type = INET_DIAG_SKMEMINFO};
        memcpy(buf + off, &ma, sizeof ma);
        memcpy(buf + off + sizeof ma, mem, mem_len);
        off += NLA_ALIGN(ma.nla_len);
    }
    h.nlmsg_len = (uint32_t)off;
    memcpy(buf, &h, sizeof h);
    struct nlmsghdr done = {.nlmsg_len = NLMSG_HDRLEN + 4, .nlmsg_type = NLMSG_DONE};
    memcpy(buf + off, &done, sizeof done);
    return off + NLMSG_ALIGN(done.nlmsg_len);
}

static size_t make_dump(uint8_t *buf, size_t info_len)
{
    return make_dump_mem(buf, info_len, 0);
}

static void test_diag_parse(void **state)
{
    uint8_t buf[1024];
    size_t full = offsetof(struct tcp_info, tcpi_snd_wnd) + 8;
    size_t n = make_dump(buf, full);
    seen_t s = {0};
    assert_int_equal(nc_diag_parse(buf, n, on_sock, &s), 1);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.sk[0].src, "10.0.0.2");
    assert_int_equal(s.sk[0].sport, 7000);
    assert_int_equal(s.sk[0].dport, 40112);
    assert_int_equal(s.sk[0].rqueue, 4344);
    assert_true(s.sk[0].has_info);
    assert_true(s.sk[0].has_rcv_wnd);
    assert_int_equal(s.sk[0].cwnd, 10);
    assert_int_equal(s.sk[0].snd_wnd, 64512);
    assert_int_equal(s.sk[0].notsent, 5);

    /* An older kernel's tcp_info stops before tcpi_rcv_wnd: no rcv_wnd. */
    n = make_dump(buf, offsetof(struct tcp_info, tcpi_snd_wnd) + 4);
    memset(&s, 0, sizeof s);
    assert_int_equal(nc_diag_parse(buf, n, on_sock, &s), 1);
    assert_true(s.sk[0].has_info);
    assert_false(s.sk[0].has_rcv_wnd);

    /* A tiny tcp_info: the socket, without info. */
    n = make_dump(buf, 8);
    memset(&s, 0, sizeof s);
    assert_int_equal(nc_diag_parse(buf, n, on_sock, &s), 1);
    assert_false(s.sk[0].has_info);

    /* Truncated: the message claims more than there is. */
    n = make_dump(buf, full);
    memset(&s, 0, sizeof s);
    assert_int_equal(nc_diag_parse(buf, 40, on_sock, &s), NC_EBADDATA);
    /* No complete header yet: more is to come. */
    assert_int_equal(nc_diag_parse(buf, 8, on_sock, &s), 0);
    assert_string_equal(nc_diag_state_name(NC_TCP_LISTEN), "LISTEN");
    assert_string_equal(nc_diag_state_name(NC_TCP_TIME_WAIT), "TIME_WAIT");
}

/* The buffer limits come from INET_DIAG_SKMEMINFO, when it is long enough. */
static void test_diag_meminfo(void **state)
{
    uint8_t buf[1024];
    size_t full = offsetof(struct tcp_info, tcpi_snd_wnd) + 8;
    size_t n = make_dump_mem(buf, full, SK_MEMINFO_VARS * 4);
    seen_t s = {0};
    assert_int_equal(nc_diag_parse(buf, n, on_sock, &s), 1);
    assert_true(s.sk[0].has_mem);
    assert_int_equal(s.sk[0].rcvbuf, 131072);
    assert_int_equal(s.sk[0].sndbuf, 16384);
    /* Cut before SK_MEMINFO_SNDBUF: no limits at all. */
    n = make_dump_mem(buf, full, SK_MEMINFO_SNDBUF * 4);
    memset(&s, 0, sizeof s);
    assert_int_equal(nc_diag_parse(buf, n, on_sock, &s), 1);
    assert_false(s.sk[0].has_mem);
    assert_string_equal(nc_diag_state_name(99), "?");
}

/* ---- live ---- */

typedef struct flood {
    int lfd, cfd[3];
    int rc;
} flood_t;

static void *flood_main(void *arg)
{
    flood_t *f = arg;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(7100)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    f->lfd = socket(AF_INET, SOCK_STREAM, 0);
    f->rc = bind(f->lfd, (struct sockaddr *)&sa, sizeof sa) | listen(f->lfd, 1);
    for (int k = 0; k < 3; k++) {
        f->cfd[k] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(f->cfd[k], (struct sockaddr *)&sa, sizeof sa);
        struct timespec ts = {0, 30 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static uint64_t home_overflows(void)
{
    char text[16384];
    int fd = open("/proc/thread-self/net/netstat", O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, text, sizeof text - 1) : -1;
    if (fd >= 0)
        close(fd);
    uint64_t ov = 0, dr = 0;
    if (n > 0)
        nc_diag_netstat_parse(text, (size_t)n, &ov, &dr);
    return ov;
}

/* A local lab with SYN cookies off and a probe adding to a new timeline;
 * skips the test where labs cannot be built. */
static nc_lab_t *live_lab(nc_timeline_t **tl, nc_probe_t **p)
{
    char err[256];
    if (nc_lab_prepare(err, sizeof err) != 0) {
        fprintf(stderr, "skipping the live probe test: %s\n", err);
        skip();
    }
    *tl = nc_timeline_new(0);
    nc_lab_t *lab = nc_lab_new(&(nc_lab_opts_t){.topology = "local"}, err, sizeof err);
    assert_non_null(lab);
    assert_int_equal(nc_lab_sysctl(lab, "server", "net/ipv4/tcp_syncookies", "0", err, sizeof err), 0);
    *p = nc_probe_start(&(nc_probe_opts_t){.lab = lab, .tl = *tl}, err, sizeof err);
    assert_non_null(*p);
    return lab;
}

static void test_probe_live(void **state)
{
    uint64_t home_before = home_overflows();
    nc_timeline_t *tl;
    nc_probe_t *p;
    nc_lab_t *lab = live_lab(&tl, &p);
    flood_t f = {0};
    pthread_t t;
    assert_int_equal(nc_lab_spawn(lab, "client", flood_main, &f, &t), 0);
    pthread_join(t, NULL);
    assert_int_equal(f.rc, 0);
    struct timespec ts = {0, 100 * 1000000L};
    nanosleep(&ts, NULL);
    close(f.lfd);
    for (int k = 0; k < 3; k++)
        close(f.cfd[k]);
    nanosleep(&ts, NULL);
    nc_probe_stop(p);
    nc_probe_stats_t st;
    nc_probe_stats(p, &st);
    assert_true(st.samples >= 10);
    assert_int_equal(st.errors, 0);
    assert_true(st.cpu_ns > 0);
    nc_probe_free(p);
    nc_timeline_flush(tl, true);
    int64_t max_q = -1, overflows = 0, backlog = -1;
    bool closed = false;
    for (size_t i = 0; i < nc_timeline_count(tl); i++) {
        const nc_event_t *ev = nc_timeline_get(tl, i);
        assert_int_equal(ev->type, NC_EV_STATE);
        const char *sock = nc_event_str(ev, "socket");
        int64_t v;
        if (sock && strcmp(sock, "server:7100 listen") == 0) {
            assert_string_equal(ev->host, "server");
            if (nc_event_int(ev, "accept_queue", &v) && v > max_q)
                max_q = v;
            nc_event_int(ev, "backlog", &backlog);
            closed = closed || strcmp(nc_event_str(ev, "state"), "CLOSED") == 0;
        }
        if (nc_event_int(ev, "listen_overflows", &v))
            overflows = v;
    }
    assert_int_equal(backlog, 1);
    assert_int_equal(max_q, 2); /* backlog + 1 */
    assert_true(overflows >= 1);
    assert_true(closed);
    /* The counters were the lab namespace's, not netcourse's own. */
    assert_int_equal(home_overflows(), home_before);
    nc_lab_free(lab);
    nc_timeline_free(tl);
}

/* ---- live: a connection closed by the client first ---- */

typedef struct closer {
    int rc;
    int port; /* the client's port */
} closer_t;

/* The client connects, the server accepts; the client closes first, then
 * the server, once the client's FIN has arrived (read returns 0). */
static void *closer_main(void *arg)
{
    closer_t *c = arg;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(7200)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    c->rc = bind(lfd, (struct sockaddr *)&sa, sizeof sa) | listen(lfd, 4);
    int cfd = socket(AF_INET, SOCK_STREAM, 0);
    c->rc |= connect(cfd, (struct sockaddr *)&sa, sizeof sa);
    int sfd = accept(lfd, NULL, NULL);
    struct sockaddr_in me;
    socklen_t len = sizeof me;
    getsockname(cfd, (struct sockaddr *)&me, &len);
    c->port = ntohs(me.sin_port);
    struct timespec ts = {0, 20 * 1000000L};
    nanosleep(&ts, NULL);
    close(cfd);
    char b;
    c->rc |= (int)read(sfd, &b, 1); /* 0: the client's FIN */
    close(sfd);
    close(lfd);
    return NULL;
}

/* Stopped right after the last close(), the probe keeps sampling until the
 * connection has finished closing: the client's socket (the side that
 * closed first) ends in TIME_WAIT, the server's is CLOSED, and nothing is
 * left in LAST_ACK or FIN_WAIT2. */
static void test_probe_time_wait(void **state)
{
    nc_timeline_t *tl;
    nc_probe_t *p;
    nc_lab_t *lab = live_lab(&tl, &p);
    closer_t c = {0};
    pthread_t t;
    assert_int_equal(nc_lab_spawn(lab, "client", closer_main, &c, &t), 0);
    pthread_join(t, NULL);
    assert_int_equal(c.rc, 0);
    nc_probe_stop(p);
    nc_probe_free(p);
    nc_timeline_flush(tl, true);
    /* On the local topology 127.0.0.1 is "server": the client's socket is
     * the one whose local port is c.port. */
    char client[64], server[64];
    snprintf(client, sizeof client, "server:%d->server:7200", c.port);
    snprintf(server, sizeof server, "server:7200->server:%d", c.port);
    const char *last_client = NULL, *last_server = NULL;
    for (size_t i = 0; i < nc_timeline_count(tl); i++) {
        const nc_event_t *ev = nc_timeline_get(tl, i);
        const char *sock = nc_event_str(ev, "socket");
        const char *st = nc_event_str(ev, "state");
        if (!sock || !st)
            continue;
        if (strcmp(sock, client) == 0) {
            last_client = st;
            /* A timewait socket has no queues left to report. */
            if (strcmp(st, "TIME_WAIT") == 0)
                assert_null(nc_event_get(ev, "recv_q"));
        }
        if (strcmp(sock, server) == 0)
            last_server = st;
    }
    assert_non_null(last_client);
    assert_non_null(last_server);
    assert_string_equal(last_client, "TIME_WAIT");
    assert_string_equal(last_server, "CLOSED");
    nc_lab_free(lab);
    nc_timeline_free(tl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_netstat),         cmocka_unit_test(test_diag_parse),
        cmocka_unit_test(test_diag_meminfo),    cmocka_unit_test(test_probe_live),
        cmocka_unit_test(test_probe_time_wait),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
