/*
 * test_lab_live.c: real labs, real kernels.
 *
 * Each test builds a lab with a timeline, runs a tiny client and server on
 * threads inside its hosts, stops the lab and reads the timeline. main()
 * calls nc_lab_prepare() before anything starts a thread, so the same
 * binary runs as root or as a normal user (in a user namespace of its own).
 */
#include "core/clock.h"
#include "core/error.h"
#include "core/link.h"
#include "core/timeline.h"
#include "lab/lab.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static struct sockaddr_in sin_of(const char *addr, int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, addr, &sa.sin_addr);
    return sa;
}

typedef struct peer {
    sem_t ready;
    const char *addr;
    int port;
    int writes;      /* client: writes of `size` bytes, 20 ms apart */
    size_t size;
    size_t received; /* server: bytes read until EOF */
    int count;       /* udp: datagrams */
    int echo;        /* udp server: echo back */
    double rtt_s;    /* udp client with echo: the first round trip */
    double elapsed_s; /* tcp server: from accept to end of stream */
    int rc;
} peer_t;

static void *tcp_server(void *arg)
{
    peer_t *p = arg;
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = sin_of(p->addr, p->port);
    p->rc = bind(ls, (struct sockaddr *)&sa, sizeof sa) || listen(ls, 8);
    sem_post(&p->ready);
    if (p->rc)
        return NULL;
    int s = accept(ls, NULL, NULL);
    int64_t t0 = nc_clock_mono_ns();
    char buf[65536];
    ssize_t n;
    while ((n = read(s, buf, sizeof buf)) > 0)
        p->received += (size_t)n;
    p->elapsed_s = (double)(nc_clock_mono_ns() - t0) / 1e9;
    close(s);
    close(ls);
    return NULL;
}

static void *tcp_client(void *arg)
{
    peer_t *p = arg;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in sa = sin_of(p->addr, p->port);
    p->rc = connect(s, (struct sockaddr *)&sa, sizeof sa);
    char *buf = calloc(1, p->size);
    for (int i = 0; i < p->writes && p->rc == 0; i++) {
        size_t off = 0;
        while (off < p->size) {
            ssize_t n = write(s, buf + off, p->size - off);
            if (n <= 0) {
                p->rc = -1;
                break;
            }
            off += (size_t)n;
        }
        if (i + 1 < p->writes)
            sleep_ms(20);
    }
    free(buf);
    close(s);
    return NULL;
}

static void *udp_server(void *arg)
{
    peer_t *p = arg;
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = sin_of(p->addr, p->port);
    p->rc = bind(s, (struct sockaddr *)&sa, sizeof sa);
    struct timeval tv = {2, 0};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sem_post(&p->ready);
    char buf[2048];
    struct sockaddr_in from;
    socklen_t fl = sizeof from;
    ssize_t n;
    while ((n = recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl)) > 0) {
        p->received++;
        if (p->echo)
            sendto(s, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
        if ((int)p->received == p->count)
            break;
    }
    close(s);
    return NULL;
}

static void *udp_client(void *arg)
{
    peer_t *p = arg;
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = sin_of(p->addr, p->port);
    struct timeval tv = {1, 0};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    for (int i = 0; i < p->count; i++) {
        uint32_t idx = htonl((uint32_t)i);
        int64_t t0 = nc_clock_mono_ns();
        sendto(s, &idx, sizeof idx, 0, (struct sockaddr *)&sa, sizeof sa);
        if (p->echo) {
            char buf[64];
            if (recv(s, buf, sizeof buf, 0) > 0 && p->rtt_s == 0)
                p->rtt_s = (double)(nc_clock_mono_ns() - t0) / 1e9;
        } else {
            sleep_ms(1);
        }
    }
    close(s);
    return NULL;
}

/* Runs server then client in the lab and joins both. */
static void run_pair(nc_lab_t *lab, void *(*srv)(void *), peer_t *s, void *(*cli)(void *),
                     peer_t *c)
{
    pthread_t ts, tc;
    sem_init(&s->ready, 0, 0);
    assert_int_equal(nc_lab_spawn(lab, "server", srv, s, &ts), 0);
    sem_wait(&s->ready);
    assert_int_equal(s->rc, 0);
    assert_int_equal(nc_lab_spawn(lab, "client", cli, c, &tc), 0);
    pthread_join(tc, NULL);
    pthread_join(ts, NULL);
    assert_int_equal(c->rc, 0);
}

static nc_lab_t *lab_or_fail(nc_lab_opts_t *o)
{
    char err[512] = "";
    nc_lab_t *lab = nc_lab_new(o, err, sizeof err);
    if (!lab)
        fail_msg("nc_lab_new: %s", err);
    return lab;
}

/* With NC_LAB_DUMP set, prints the timeline as JSON Lines (for eyes). */
static void dump(nc_timeline_t *tl)
{
    if (!getenv("NC_LAB_DUMP"))
        return;
    nc_buf_t b;
    nc_buf_init(&b);
    for (size_t i = 0; i < nc_timeline_count(tl); i++) {
        nc_buf_reset(&b);
        nc_event_json(nc_timeline_get(tl, i), &b);
        printf("%s\n", nc_buf_cstr(&b));
    }
    nc_buf_done(&b);
}

static bool flags_are(const nc_event_t *ev, const char *want)
{
    nc_buf_t b;
    nc_buf_init(&b);
    bool ok = nc_event_value(ev, "tcp.flags", &b) && strcmp(nc_buf_cstr(&b), want) == 0;
    nc_buf_done(&b);
    return ok;
}

static void test_pair_tcp_scripted_drop(void **state)
{
    nc_timeline_t *tl = nc_timeline_new(0);
    nc_fault_t f = {.spec = "drop 3rd packet from=client tcp.len>0", .action = "drop",
                    .nth = 3, .match = "from=client tcp.len>0"};
    nc_lab_opts_t o = {.topology = "pair", .faults = &f, .nfaults = 1, .seed = 1, .tl = tl};
    nc_lab_t *lab = lab_or_fail(&o);
    assert_int_equal(nc_lab_host_count(lab), 2);
    assert_string_equal(nc_lab_host_addr(lab, "server"), "10.0.0.2");
    assert_string_equal(nc_lab_iface_name(lab, 1), "s0");
    peer_t s = {.addr = "10.0.0.2", .port = 7000};
    peer_t c = {.addr = "10.0.0.2", .port = 7000, .writes = 5, .size = 1000};
    run_pair(lab, tcp_server, &s, tcp_client, &c);
    assert_int_equal(s.received, 5000);
    sleep_ms(300); /* the last FIN's ACK */
    nc_lab_stop(lab);
    nc_lab_stats_t st;
    nc_lab_stats(lab, &st);
    assert_int_equal(st.wire_drops, 1);
    assert_int_equal(st.dropped, 0);
    nc_timeline_flush(tl, true);
    dump(tl);

    int syn = -1, synack = -1, ack = -1, drop = -1, retrans = -1, fin_c = -1, fin_s = -1;
    int ndropped = 0;
    bool note = false;
    for (size_t i = 0; i < nc_timeline_count(tl); i++) {
        const nc_event_t *ev = nc_timeline_get(tl, i);
        if (ev->type == NC_EV_NOTE && strncmp(ev->summary, "capture: ", 9) == 0)
            note = true;
        if (ev->type != NC_EV_PACKET || !nc_event_get(ev, "tcp"))
            continue;
        const char *from = nc_event_str(ev, "from");
        int64_t len = -1;
        nc_event_int(ev, "tcp.len", &len);
        if (syn < 0 && flags_are(ev, "SYN"))
            syn = (int)i;
        if (synack < 0 && flags_are(ev, "SYN,ACK"))
            synack = (int)i;
        if (ack < 0 && synack >= 0 && flags_are(ev, "ACK") && len == 0)
            ack = (int)i;
        if (nc_event_bool(ev, "dropped")) {
            ndropped++;
            assert_true(len > 0);
            drop = (int)i;
            assert_string_equal(nc_event_str(ev, "wire.action"), "drop");
            assert_string_equal(nc_event_str(ev, "wire.reason"),
                                "scripted: drop 3rd packet from=client tcp.len>0");
            assert_non_null(ev->note);
            assert_non_null(strstr(ev->note, "Dropped by the lesson's wire"));
        } else {
            assert_string_equal(nc_event_str(ev, "wire.action"), "forward");
        }
        if (drop >= 0 && retrans < 0 && nc_event_bool(ev, "tcp.retransmission"))
            retrans = (int)i;
        if (nc_event_has(ev, "tcp.flags", "FIN")) {
            if (from && strcmp(from, "client") == 0)
                fin_c = (int)i;
            if (from && strcmp(from, "server") == 0)
                fin_s = (int)i;
        }
    }
    assert_true(syn >= 0 && synack > syn && ack > synack);
    assert_int_equal(ndropped, 1);
    assert_true(retrans > drop);
    assert_true(fin_c >= 0 && fin_s >= 0);
    assert_true(note);
    nc_lab_free(lab);
    nc_timeline_free(tl);
}

/* Big writes: every frame the wire sees must fit the MTU (offloads off)
 * and carry correct checksums (or the server would not get the bytes). */
static void test_pair_full_size_frames(void **state)
{
    nc_timeline_t *tl = nc_timeline_new(0);
    nc_lab_opts_t o = {.topology = "pair", .tl = tl};
    nc_lab_t *lab = lab_or_fail(&o);
    peer_t s = {.addr = "10.0.0.2", .port = 7000};
    peer_t c = {.addr = "10.0.0.2", .port = 7000, .writes = 2, .size = 200000};
    run_pair(lab, tcp_server, &s, tcp_client, &c);
    assert_int_equal(s.received, 400000);
    nc_lab_stop(lab);
    nc_timeline_flush(tl, true);
    int64_t maxlen = 0;
    for (size_t i = 0; i < nc_timeline_count(tl); i++) {
        const nc_event_t *ev = nc_timeline_get(tl, i);
        if (ev->type == NC_EV_PACKET && ev->wirelen > maxlen)
            maxlen = ev->wirelen;
    }
    assert_int_equal(maxlen, 1514);
    nc_lab_free(lab);
    nc_timeline_free(tl);
}

/* A bulk transfer as fast as the wire goes: the recorder, behind its ring,
 * still puts every frame the wire captured on the timeline before the lab
 * stops, each with the wire's verdict, and the capture's note comes after
 * the last of them and counts the same frames. */
static void test_pair_bulk_every_frame_recorded(void **state)
{
    nc_timeline_t *tl = nc_timeline_new(0);
    nc_lab_opts_t o = {.topology = "pair", .tl = tl};
    nc_lab_t *lab = lab_or_fail(&o);
    peer_t s = {.addr = "10.0.0.2", .port = 7000};
    peer_t c = {.addr = "10.0.0.2", .port = 7000, .writes = 4, .size = 4 << 20};
    run_pair(lab, tcp_server, &s, tcp_client, &c);
    assert_int_equal(s.received, 16 << 20);
    nc_lab_stop(lab);
    nc_lab_stats_t st;
    nc_lab_stats(lab, &st);
    nc_timeline_flush(tl, true);
    size_t n = nc_timeline_count(tl), packets = 0, note = 0;
    for (size_t i = 0; i < n; i++) {
        const nc_event_t *ev = nc_timeline_get(tl, i);
        if (ev->type == NC_EV_PACKET) {
            packets++;
            assert_int_equal(note, 0);
            assert_string_equal(nc_event_str(ev, "wire.action"), "forward");
        } else if (ev->type == NC_EV_NOTE && strncmp(ev->summary, "capture: ", 9) == 0) {
            note = i;
            int64_t captured = -1;
            assert_true(nc_event_int(ev, "captured", &captured));
            assert_int_equal(captured, (int64_t)st.captured);
        }
    }
    assert_true(st.captured > (16u << 20) / 1500);
    assert_int_equal(packets, st.captured);
    assert_true(note > 0);
    nc_lab_free(lab);
    nc_timeline_free(tl);
}

/* 8 Mbit/s: 250 kB take at least 0.25 s, and frames wait in the queue. */
static void test_pair_rate(void **state)
{
    nc_timeline_t *tl = nc_timeline_new(0);
    nc_lab_opts_t o = {.topology = "pair", .tl = tl};
    char err[200];
    assert_int_equal(nc_link_parse("rate=8mbit", &o.link, err, sizeof err), 0);
    nc_lab_t *lab = lab_or_fail(&o);
    assert_int_equal(nc_lab_sysctl(lab, "server", "net/ipv4/tcp_syncookies", "0", err,
                                   sizeof err), 0);
    assert_int_equal(nc_lab_sysctl(lab, "nobody", "net/ipv4/tcp_syncookies", "0", err,
                                   sizeof err), NC_ENOENT);
    peer_t s = {.addr = "10.0.0.2", .port = 7000};
    peer_t c = {.addr = "10.0.0.2", .port = 7000, .writes = 1, .size = 250000};
    run_pair(lab, tcp_server, &s, tcp_client, &c);
    assert_int_equal(s.received, 250000);
    assert_true(s.elapsed_s >= 0.25 && s.elapsed_s < 3);
    nc_lab_stop(lab);
    nc_timeline_flush(tl, true);
    double maxdelay = 0;
    for (size_t i = 0; i < nc_timeline_count(tl); i++) {
        const nc_field_t *d = nc_event_get(nc_timeline_get(tl, i), "wire.delay");
        if (d && d->kind == NC_F_NUM && d->v.d > maxdelay)
            maxdelay = d->v.d;
    }
    assert_true(maxdelay > 0.0015); /* more than one 1514-byte frame's time */
    nc_lab_free(lab);
    nc_timeline_free(tl);
}

/* Runs 200 datagrams through 20% loss; returns which indices were dropped. */
static void udp_loss_run(uint64_t seed, uint8_t dropped[200], size_t *ndropped)
{
    nc_timeline_t *tl = nc_timeline_new(0);
    nc_link_t link = {.loss = 0.2};
    nc_lab_opts_t o = {.topology = "pair", .link = link, .seed = seed, .tl = tl};
    nc_lab_t *lab = lab_or_fail(&o);
    peer_t s = {.addr = "10.0.0.2", .port = 7001, .count = 200};
    peer_t c = {.addr = "10.0.0.2", .port = 7001, .count = 200};
    run_pair(lab, udp_server, &s, udp_client, &c);
    nc_lab_stop(lab);
    nc_timeline_flush(tl, true);
    memset(dropped, 0, 200);
    *ndropped = 0;
    for (size_t i = 0; i < nc_timeline_count(tl); i++) {
        const nc_event_t *ev = nc_timeline_get(tl, i);
        if (ev->type != NC_EV_PACKET || !nc_event_get(ev, "udp") || ev->caplen < 46)
            continue;
        uint32_t idx = (uint32_t)ev->data[42] << 24 | (uint32_t)ev->data[43] << 16 |
                       (uint32_t)ev->data[44] << 8 | ev->data[45];
        if (idx < 200 && nc_event_bool(ev, "dropped")) {
            dropped[idx] = 1;
            (*ndropped)++;
            assert_string_equal(nc_event_str(ev, "wire.reason"), "random loss 20%");
        }
    }
    assert_int_equal(s.received + *ndropped, 200);
    nc_lab_free(lab);
    nc_timeline_free(tl);
}

static void test_pair_udp_seeded_loss(void **state)
{
    uint8_t a[200], b[200], c[200];
    size_t na, nb, nc;
    udp_loss_run(7, a, &na);
    udp_loss_run(7, b, &nb);
    udp_loss_run(8, c, &nc);
    assert_in_range(na, 15, 70);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, 200);
    assert_memory_not_equal(a, c, 200);
}

static void test_pair_delay(void **state)
{
    nc_timeline_t *tl = nc_timeline_new(0);
    nc_lab_opts_t o = {.topology = "pair", .tl = tl};
    char err[200];
    assert_int_equal(nc_link_parse("delay=50ms", &o.link, err, sizeof err), 0);
    nc_lab_t *lab = lab_or_fail(&o);
    peer_t s = {.addr = "10.0.0.2", .port = 7002, .count = 3, .echo = 1};
    peer_t c = {.addr = "10.0.0.2", .port = 7002, .count = 3, .echo = 1};
    run_pair(lab, udp_server, &s, udp_client, &c);
    nc_lab_stop(lab);
    nc_timeline_flush(tl, true);
    /* The first exchange also waits for ARP: two round trips of 100 ms. */
    assert_true(c.rtt_s >= 0.1 && c.rtt_s < 0.5);
    int udp = 0;
    for (size_t i = 0; i < nc_timeline_count(tl); i++) {
        const nc_event_t *ev = nc_timeline_get(tl, i);
        if (ev->type != NC_EV_PACKET)
            continue;
        const nc_field_t *d = nc_event_get(ev, "wire.delay");
        assert_non_null(d);
        assert_int_equal(d->kind, NC_F_NUM);
        assert_true(d->v.d == 0.05);
        udp += nc_event_get(ev, "udp") != NULL;
    }
    assert_int_equal(udp, 6);
    nc_lab_free(lab);
    nc_timeline_free(tl);
}

static void *local_udp(void *arg)
{
    peer_t *p = arg;
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = sin_of("127.0.0.1", 7003);
    p->rc = bind(s, (struct sockaddr *)&sa, sizeof sa);
    for (int i = 0; i < p->count && p->rc == 0; i++) {
        sendto(s, "hello", 5, 0, (struct sockaddr *)&sa, sizeof sa);
        char buf[16];
        if (recv(s, buf, sizeof buf, 0) == 5)
            p->received++;
    }
    close(s);
    return NULL;
}

static void test_local_smoke(void **state)
{
    nc_timeline_t *tl = nc_timeline_new(0);
    nc_lab_opts_t o = {.topology = "local", .tl = tl};
    nc_lab_t *lab = lab_or_fail(&o);
    assert_int_equal(nc_lab_host_count(lab), 3);
    assert_string_equal(nc_lab_host_name(lab, 0), "server");
    assert_string_equal(nc_lab_host_name(lab, 1), "client");
    assert_string_equal(nc_lab_host_name(lab, 2), "silent");
    assert_null(nc_lab_host_name(lab, 3));
    assert_string_equal(nc_lab_host_addr(lab, "server"), "127.0.0.1");
    assert_string_equal(nc_lab_host_addr(lab, "client"), "127.0.0.2");
    assert_true(nc_lab_host_netns(lab, "server") >= 0);
    /* The client is an alias: the same namespace, one loopback. */
    assert_int_equal(nc_lab_host_netns(lab, "client"), nc_lab_host_netns(lab, "server"));
    assert_int_equal(nc_lab_host_netns(lab, "nobody"), -1);
    assert_string_equal(nc_lab_iface_name(lab, 0), "lo");
    assert_null(nc_lab_iface_name(lab, 1));
    peer_t p = {.count = 4};
    pthread_t t;
    assert_int_equal(nc_lab_spawn(lab, "client", local_udp, &p, &t), 0);
    pthread_join(t, NULL);
    assert_int_equal(p.rc, 0);
    assert_int_equal(p.received, 4);
    sleep_ms(50);
    nc_lab_stop(lab);
    nc_lab_stop(lab); /* idempotent */
    nc_timeline_flush(tl, true);
    int udp = 0;
    for (size_t i = 0; i < nc_timeline_count(tl); i++) {
        const nc_event_t *ev = nc_timeline_get(tl, i);
        if (ev->type == NC_EV_PACKET && nc_event_get(ev, "udp")) {
            udp++;
            assert_string_equal(nc_event_str(ev, "from"), "server");
            assert_null(nc_event_get(ev, "wire"));
        }
    }
    assert_int_equal(udp, 4); /* lo's outgoing copies are not counted twice */
    nc_lab_free(lab);
    nc_timeline_free(tl);
}

static void test_errors(void **state)
{
    char err[300] = "";
    nc_lab_opts_t o = {.topology = "ring"};
    assert_null(nc_lab_new(&o, err, sizeof err));
    assert_string_equal(err,
                        "lab: unknown topology 'ring'; expected one of local, pair, chain, fan, nat.");
    nc_link_on_t on = {.name = "nowhere"};
    nc_lab_opts_t c = {.topology = "chain", .links_on = &on, .nlinks_on = 1};
    assert_null(nc_lab_new(&c, err, sizeof err));
    assert_string_equal(err, "lab: the chain topology has no link \"nowhere\".");
    nc_lab_opts_t n = {.topology = "nat", .nat = "cone"};
    assert_null(nc_lab_new(&n, err, sizeof err));
    assert_non_null(strstr(err, "unknown NAT behaviour \"cone\""));
    nc_lab_opts_t m = {.topology = "chain", .nat = "symmetric"};
    assert_null(nc_lab_new(&m, err, sizeof err));
    assert_string_equal(err, "lab: the chain topology has no NAT box (nat: needs topology: nat).");
    nc_fault_t f = {.spec = "drop 1st packet tcp.len>", .action = "drop", .nth = 1,
                    .match = "tcp.len>"};
    nc_lab_opts_t p = {.topology = "pair", .faults = &f, .nfaults = 1};
    err[0] = '\0';
    assert_null(nc_lab_new(&p, err, sizeof err));
    assert_non_null(strstr(err, "fault 'drop 1st packet tcp.len>'"));
}

/* How many network namespaces the process holds (by fd or by a thread in
 * it), counted once each. */
static size_t held_namespaces(void)
{
    char seen[64][32];
    size_t n = 0;
    const char *dirs[] = {"/proc/self/fd", "/proc/self/task"};
    for (size_t d = 0; d < 2; d++) {
        DIR *dir = opendir(dirs[d]);
        struct dirent *e;
        while (dir && (e = readdir(dir)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            char path[300], link[32] = "";
            snprintf(path, sizeof path, d ? "%s/%s/ns/net" : "%s/%s", dirs[d], e->d_name);
            ssize_t len = readlink(path, link, sizeof link - 1);
            if (len <= 0 || strncmp(link, "net:[", 5) != 0)
                continue;
            link[len] = '\0';
            size_t k = 0;
            while (k < n && strcmp(seen[k], link) != 0)
                k++;
            if (k == n && n < 64)
                snprintf(seen[n++], sizeof seen[0], "%s", link);
        }
        if (dir)
            closedir(dir);
    }
    return n;
}

/* Every topology's lab, made and freed in one process (as the TUI does
 * run after run): each holds a namespace per host and one for the wire
 * while it lives, and none once it is freed. */
static void test_topologies_leave_nothing(void **state)
{
    static const struct {
        const char *topology;
        size_t hosts;
    } rows[] = {{"pair", 2}, {"chain", 3}, {"fan", 6}, {"nat", 6}};
    size_t before = held_namespaces();
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char err[300] = "";
        nc_lab_opts_t o = {.topology = rows[i].topology,
                           .nat = strcmp(rows[i].topology, "nat") == 0 ? "symmetric" : NULL};
        nc_lab_t *lab = nc_lab_new(&o, err, sizeof err);
        assert_non_null(lab);
        assert_int_equal(held_namespaces(), before + rows[i].hosts + 1);
        nc_lab_free(lab);
        assert_int_equal(held_namespaces(), before);
    }
}

int main(void)
{
    char err[512];
    int rc = nc_lab_prepare(err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_topologies_leave_nothing),
        cmocka_unit_test(test_local_smoke),
        cmocka_unit_test(test_pair_tcp_scripted_drop),
        cmocka_unit_test(test_pair_full_size_frames),
        cmocka_unit_test(test_pair_bulk_every_frame_recorded),
        cmocka_unit_test(test_pair_udp_seeded_loss),
        cmocka_unit_test(test_pair_delay),
        cmocka_unit_test(test_pair_rate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
