/*
 * bench.c: the replay benchmark's traffic (tests/bench/replay_bench.sh).
 *
 * Not a lesson: no file in lessons/ names it, so it never shows in the
 * course map; the benchmark points NETCOURSE_LESSONS at a directory holding
 * tests/bench/bench.md. The server host runs an HTTP/1.1 server (80), a DNS
 * server (53) and a UDP echo service (7); the client keeps BENCH_CONNS
 * keep-alive HTTP connections (each reconnecting every BENCH_PER_CONN
 * requests, so handshakes and FINs are part of the mix) and as many DNS
 * and echo sockets, and in rounds sends one request on each and collects
 * the answers, until the lab has captured $NETCOURSE_BENCH_PACKETS frames
 * (default 1,050,000). Plain blocking sockets with timeouts: a reply the
 * capture lost costs a timeout, never a hang.
 */
#include "scenario.h"

#include "../core/clock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { BENCH_CONNS = 8, BENCH_PER_CONN = 200, BENCH_MAX_FDS = 64 };

static const char bench_response[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                                     "Content-Length: 16\r\n\r\n0123456789abcdef";

typedef struct bench_state {
    nc_scn_t *s;
    nc_scn_signal_t ready;
    atomic_int done;
    uint64_t target;
} bench_state_t;

static int bench_socket(int type, const char *addr, int port, bool bind_it)
{
    int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, addr, &sa.sin_addr);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind_it ? bind(fd, (struct sockaddr *)&sa, sizeof sa)
                : connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
        close(fd);
        return -1;
    }
    if (type == SOCK_STREAM)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

/* A DNS answer to query q (n bytes): the question echoed, one A record. */
static size_t bench_dns_answer(const uint8_t *q, size_t n, uint8_t *out, size_t cap)
{
    if (n < 12 || n + 16 > cap)
        return 0;
    memcpy(out, q, n);
    out[2] = 0x81;
    out[3] = 0x80;
    out[6] = 0;
    out[7] = 1; /* one answer */
    static const uint8_t rr[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 20};
    memcpy(out + n, rr, sizeof rr);
    return n + sizeof rr;
}

static void *bench_server(void *arg)
{
    bench_state_t *st = arg;
    const char *addr = nc_scn_addr(st->s, "server");
    struct pollfd fds[BENCH_MAX_FDS];
    int n = 0;
    int lfd = bench_socket(SOCK_STREAM, addr, 80, true);
    int dns = bench_socket(SOCK_DGRAM, addr, 53, true);
    int echo = bench_socket(SOCK_DGRAM, addr, 7, true);
    if (lfd < 0 || dns < 0 || echo < 0 || listen(lfd, 64) < 0) {
        nc_scn_fail(st->s, "the bench server cannot bind its ports: %s", strerror(errno));
        nc_scn_signal_set(&st->ready);
        return NULL;
    }
    nc_scn_app(st->s, "server", "listen", "HTTP on 80, DNS on 53, echo on 7");
    nc_scn_signal_set(&st->ready);
    fds[n++] = (struct pollfd){lfd, POLLIN, 0};
    fds[n++] = (struct pollfd){dns, POLLIN, 0};
    fds[n++] = (struct pollfd){echo, POLLIN, 0};
    uint8_t buf[4096], out[4200];
    while (!atomic_load(&st->done) && !st->s->stop) {
        if (poll(fds, (nfds_t)n, 100) <= 0)
            continue;
        for (int k = 0; k < n; k++) {
            if (!(fds[k].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            int fd = fds[k].fd;
            if (fd == lfd) {
                int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
                if (c >= 0 && n < BENCH_MAX_FDS) {
                    int one = 1;
                    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    fds[n++] = (struct pollfd){c, POLLIN, 0};
                } else if (c >= 0) {
                    close(c);
                }
            } else if (fd == dns || fd == echo) {
                struct sockaddr_in from;
                socklen_t fl = sizeof from;
                ssize_t r = recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from,
                                     &fl);
                if (r <= 0)
                    continue;
                size_t len = fd == dns ? bench_dns_answer(buf, (size_t)r, out, sizeof out)
                                       : (size_t)r;
                sendto(fd, fd == dns ? out : buf, len, 0, (struct sockaddr *)&from, fl);
            } else {
                ssize_t r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
                if (r <= 0 && !(r < 0 && (errno == EAGAIN || errno == EINTR))) {
                    close(fd);
                    fds[k--] = fds[--n];
                    continue;
                }
                /* One response per request: requests end with a blank line. */
                for (ssize_t i = 3; i < r; i++)
                    if (memcmp(buf + i - 3, "\r\n\r\n", 4) == 0)
                        send(fd, bench_response, sizeof bench_response - 1, MSG_NOSIGNAL);
            }
        }
    }
    for (int k = 0; k < n; k++)
        close(fds[k].fd);
    return NULL;
}

static void *bench_client(void *arg)
{
    bench_state_t *st = arg;
    const char *addr = nc_scn_addr(st->s, "server");
    int http[BENCH_CONNS], dns[BENCH_CONNS], echo[BENCH_CONNS], used[BENCH_CONNS];
    for (int k = 0; k < BENCH_CONNS; k++) {
        http[k] = -1;
        used[k] = 0;
        dns[k] = bench_socket(SOCK_DGRAM, addr, 53, false);
        echo[k] = bench_socket(SOCK_DGRAM, addr, 7, false);
    }
    nc_scn_app(st->s, "client", "connect", "the bench client starts: %d HTTP connections, "
                                           "%d DNS and %d echo sockets", BENCH_CONNS, BENCH_CONNS,
               BENCH_CONNS);
    uint64_t round = 0;
    uint8_t buf[4096];
    char req[128];
    nc_lab_stats_t ls = {0};
    while (!st->s->stop) {
        nc_lab_stats(st->s->lab, &ls);
        if (ls.captured >= st->target)
            break;
        for (int k = 0; k < BENCH_CONNS; k++) {
            if (http[k] < 0 || used[k] >= BENCH_PER_CONN) {
                if (http[k] >= 0)
                    close(http[k]);
                http[k] = bench_socket(SOCK_STREAM, addr, 80, false);
                used[k] = 0;
            }
            int n = snprintf(req, sizeof req, "GET /item/%llu HTTP/1.1\r\nHost: bench.lab\r\n\r\n",
                             (unsigned long long)round);
            if (http[k] >= 0 && send(http[k], req, (size_t)n, MSG_NOSIGNAL) < 0) {
                close(http[k]);
                http[k] = -1;
            }
            used[k]++;
            /* A DNS query for itemN.bench.lab, type A. */
            uint8_t q[64] = {(uint8_t)(round >> 8), (uint8_t)round, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0};
            int ql = snprintf((char *)q + 13, 40, "item%d", (int)(round % 1000));
            q[12] = (uint8_t)ql;
            size_t qn = 13 + (size_t)ql;
            static const uint8_t tail[] = {5, 'b', 'e', 'n', 'c', 'h', 3, 'l', 'a', 'b', 0,
                                           0, 1, 0, 1};
            memcpy(q + qn, tail, sizeof tail);
            send(dns[k], q, qn + sizeof tail, 0);
            send(echo[k], req, (size_t)n, 0);
        }
        for (int k = 0; k < BENCH_CONNS; k++) {
            if (http[k] >= 0 && recv(http[k], buf, sizeof buf, 0) <= 0) {
                close(http[k]);
                http[k] = -1;
            }
            recv(dns[k], buf, sizeof buf, 0);
            recv(echo[k], buf, sizeof buf, 0);
        }
        round++;
    }
    for (int k = 0; k < BENCH_CONNS; k++) {
        if (http[k] >= 0)
            close(http[k]);
        close(dns[k]);
        close(echo[k]);
    }
    nc_scn_app(st->s, "client", "close", "the bench client is done after %llu rounds (%llu frames)",
               (unsigned long long)round, (unsigned long long)ls.captured);
    nc_scn_sleep_ms(300); /* the last FINs */
    atomic_store(&st->done, 1);
    return NULL;
}

static int bench_run(nc_scn_t *s)
{
    bench_state_t st = {.s = s, .target = 1050000};
    const char *env = getenv("NETCOURSE_BENCH_PACKETS");
    if (env && *env)
        st.target = strtoull(env, NULL, 10);
    nc_scn_signal_init(&st.ready);
    int rc = nc_scn_run_pair(s, bench_server, bench_client, &st, &st.ready);
    atomic_store(&st.done, 1);
    nc_scn_signal_done(&st.ready);
    return rc;
}

const nc_scenario_t nc_scenario_bench = {
    .name = "bench",
    .topology = "pair",
    .about = "mixed HTTP, DNS and UDP traffic for the replay benchmark (not a lesson)",
    .run = bench_run,
};
