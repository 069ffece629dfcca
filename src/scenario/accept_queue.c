/*
 * accept_queue.c: the accept-queue lesson's programs (topology "local").
 *
 * The server listens on 127.0.0.1:7000 with a backlog of 2 and, for a
 * while, never calls accept(). SYN cookies are off in the namespace, so the
 * kernel's queues show plainly:
 *
 *   1. half-open: "silent" (10.9.9.9, a client that never answers) sends two
 *      SYNs from a raw socket. The kernel answers each with a SYN-ACK and
 *      keeps a request socket in the listener's SYN queue, waiting for an ACK
 *      that never comes. After 400 ms the silent client gives up with RSTs,
 *      which empty the SYN queue.
 *   2. overflow: six clients on 127.0.0.2 connect 40 ms apart. The first
 *      three complete their handshakes in the kernel and wait in the accept
 *      queue (it holds backlog + 1); the others' SYNs are dropped
 *      (ListenOverflows, ListenDrops) and their kernels send them again
 *      after 1 s, then after 1 s more where net.ipv4.tcp_syn_linear_timeouts
 *      keeps the first waits linear (Linux 6.5 and later; older kernels
 *      double each wait).
 *   3. drain: 1.8 s after the first client, the server starts calling
 *      accept(): the queue empties, and the retransmitted SYNs get in.
 *
 * Before anything else each side reports the kernel settings that decide
 * what the run shows (aq_report_sysctls), read in the lab's namespace, so
 * the timeline says what this kernel does instead of a textbook schedule.
 *
 * The programs use plain sockets on threads: an event loop would accept for
 * the server. The silent client's raw socket and its route over lo (so the
 * server has somewhere to send its SYN-ACKs) need CAP_NET_RAW and
 * CAP_NET_ADMIN, which the lab namespace grants.
 */
#include "scenario.h"

#include "../core/clock.h"
#include "../core/words.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define AQ_PORT 7000
#define AQ_BACKLOG 2
#define AQ_CLIENTS 6
#define AQ_GAP_MS 40
#define AQ_HOLD_MS 1800
#define AQ_SILENT 2
#define AQ_SILENT_PORT 40001
#define AQ_SILENT_ISN 0x5eed0000u

typedef struct aq_state {
    nc_scn_t *s;
    nc_scn_signal_t listening, clients_started;
} aq_state_t;

/* ---- the kernel's settings ---- */

/* The client's side: when its kernel resends an unanswered SYN. Linux
 * waits 1 s (its initial retransmission timeout) before the first resend;
 * tcp_syn_linear_timeouts (Linux 6.5+) keeps that many more waits at 1 s
 * before each wait doubles; older kernels double from the start. */
static void aq_report_client_sysctls(nc_scn_t *s)
{
    nc_scn_sysctl_t v[] = {
        {"net.ipv4.tcp_syn_linear_timeouts", -1},
        {"net.ipv4.tcp_syn_retries", -1},
    };
    nc_scn_kv_t kv[2];
    size_t nkv = nc_scn_sysctl_read_all(v, 2, kv);
    long linear = v[0].value, retries = v[1].value;
    if (linear > 0)
        nc_scn_app_kv(s, "client", "sysctl", kv, nkv,
                      "sysctl: a SYN with no answer is resent after 1 s, %ld more %s 1 s apart, "
                      "then each wait doubles (tcp_syn_linear_timeouts %ld, tcp_syn_retries %ld)",
                      linear, nc_words_plural(linear, "time", "times"), linear, retries);
    else
        nc_scn_app_kv(s, "client", "sysctl", kv, nkv,
                      "sysctl: a SYN with no answer is resent after 1 s, then each wait doubles "
                      "(tcp_syn_linear_timeouts %s, tcp_syn_retries %ld)",
                      linear == 0 ? "0" : "absent", retries);
}

/* The server's side: what a full accept queue does with a handshake's
 * last ACK, the cap on the backlog, how often a half-open handshake's
 * SYN-ACK is resent, and SYN cookies (turned off by aq_run). The values
 * only: the pages say what each one means, and the run shows it. */
static void aq_report_server_sysctls(nc_scn_t *s)
{
    nc_scn_sysctl_t v[] = {
        {"net.ipv4.tcp_abort_on_overflow", -1},
        {"net.core.somaxconn", -1},
        {"net.ipv4.tcp_synack_retries", -1},
        {"net.ipv4.tcp_syncookies", -1},
    };
    nc_scn_kv_t kv[4];
    size_t nkv = nc_scn_sysctl_read_all(v, 4, kv);
    nc_scn_app_kv(s, "server", "sysctl", kv, nkv,
                  "sysctl: tcp_abort_on_overflow %ld, somaxconn %ld, tcp_synack_retries %ld, "
                  "tcp_syncookies %ld (off for this lesson)",
                  v[0].value, v[1].value, v[2].value, v[3].value);
}

/* ---- the silent client: SYNs from a raw socket ---- */

static uint16_t aq_csum(const uint8_t *p, size_t n, uint32_t sum)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* One IPv4 + TCP segment (no options) from src:sport to dst:dport. */
static size_t aq_segment(uint8_t *pkt, const char *src, int sport, const char *dst, int dport,
                         uint32_t seq, uint8_t flags)
{
    memset(pkt, 0, 40);
    uint8_t *ip = pkt, *tcp = pkt + 20;
    ip[0] = 0x45;
    ip[3] = 40;
    ip[8] = 64;
    ip[9] = IPPROTO_TCP;
    inet_pton(AF_INET, src, ip + 12);
    inet_pton(AF_INET, dst, ip + 16);
    uint16_t c = aq_csum(ip, 20, 0);
    ip[10] = (uint8_t)(c >> 8);
    ip[11] = (uint8_t)c;
    tcp[0] = (uint8_t)(sport >> 8);
    tcp[1] = (uint8_t)sport;
    tcp[2] = (uint8_t)(dport >> 8);
    tcp[3] = (uint8_t)dport;
    tcp[4] = (uint8_t)(seq >> 24);
    tcp[5] = (uint8_t)(seq >> 16);
    tcp[6] = (uint8_t)(seq >> 8);
    tcp[7] = (uint8_t)seq;
    tcp[12] = 5 << 4;
    tcp[13] = flags;
    tcp[14] = 0xff; /* window 65535 */
    tcp[15] = 0xff;
    uint8_t pseudo[12];
    memcpy(pseudo, ip + 12, 8);
    pseudo[8] = 0;
    pseudo[9] = IPPROTO_TCP;
    pseudo[10] = 0;
    pseudo[11] = 20;
    uint32_t sum = 0;
    for (int i = 0; i < 12; i += 2)
        sum += (uint32_t)(pseudo[i] << 8 | pseudo[i + 1]);
    c = aq_csum(tcp, 20, sum);
    tcp[16] = (uint8_t)(c >> 8);
    tcp[17] = (uint8_t)c;
    return 40;
}

/* Routes 10.9.9.0/24 over lo (not as local addresses: those would answer
 * the SYN-ACKs with RSTs), so the server's SYN-ACKs to the silent client have
 * somewhere to go. Looped back, they find no taker and are dropped. */
static int aq_silent_route(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    struct rtentry rt;
    memset(&rt, 0, sizeof rt);
    struct sockaddr_in *dst = (struct sockaddr_in *)&rt.rt_dst;
    struct sockaddr_in *mask = (struct sockaddr_in *)&rt.rt_genmask;
    dst->sin_family = mask->sin_family = AF_INET;
    inet_pton(AF_INET, "10.9.9.0", &dst->sin_addr);
    inet_pton(AF_INET, "255.255.255.0", &mask->sin_addr);
    rt.rt_flags = RTF_UP;
    rt.rt_dev = (char *)"lo";
    int rc = ioctl(fd, SIOCADDRT, &rt);
    int e = errno;
    close(fd);
    return rc == 0 || e == EEXIST ? 0 : -e;
}

static void aq_silent(aq_state_t *st)
{
    nc_scn_t *s = st->s;
    int rc = aq_silent_route();
    int raw = rc == 0 ? socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW) : -1;
    if (raw < 0) {
        nc_scn_fail(s, "silent: cannot send raw SYNs: %s", strerror(rc ? -rc : errno));
        return;
    }
    struct sockaddr_in to = {.sin_family = AF_INET};
    inet_pton(AF_INET, nc_scn_addr(s, "server"), &to.sin_addr);
    const char *src = nc_scn_addr(s, "silent");
    uint8_t pkt[64];
    for (int k = 0; k < AQ_SILENT; k++) {
        int port = AQ_SILENT_PORT + k;
        size_t n = aq_segment(pkt, src, port, nc_scn_addr(s, "server"), AQ_PORT,
                              AQ_SILENT_ISN + (uint32_t)k, 0x02);
        nc_scn_app_kv(s, "silent", "connect",
                      (nc_scn_kv_t[]){NC_KV_I("sport", port), NC_KV_I("peer_port", AQ_PORT)}, 2,
                      "a client that will never answer sends a SYN from port %d", port);
        sendto(raw, pkt, n, 0, (struct sockaddr *)&to, sizeof to);
        nc_scn_sleep_ms(30);
    }
    nc_scn_sleep_ms(400);
    for (int k = 0; k < AQ_SILENT; k++) {
        int port = AQ_SILENT_PORT + k;
        size_t n = aq_segment(pkt, src, port, nc_scn_addr(s, "server"), AQ_PORT,
                              AQ_SILENT_ISN + (uint32_t)k + 1, 0x04);
        nc_scn_app_kv(s, "silent", "close", (nc_scn_kv_t[]){NC_KV_I("sport", port)}, 1,
                      "the silent client gives up on port %d and sends RST", port);
        sendto(raw, pkt, n, 0, (struct sockaddr *)&to, sizeof to);
    }
    close(raw);
    nc_scn_sleep_ms(60);
}

/* ---- the clients ---- */

/* Waits up to ms for connects to complete, reporting each one that does;
 * the dropped ones complete only after a retransmitted SYN gets in. */
static void aq_poll(aq_state_t *st, const int *fd, int *connected, int n, int ms)
{
    nc_scn_t *s = st->s;
    int64_t deadline = nc_clock_mono_ns() + (int64_t)ms * 1000000;
    do {
        struct pollfd p[AQ_CLIENTS];
        for (int k = 0; k < n; k++)
            p[k] = (struct pollfd){.fd = connected[k] ? -1 : fd[k], .events = POLLOUT};
        int left = (int)((deadline - nc_clock_mono_ns()) / 1000000);
        if (poll(p, (nfds_t)n, left < 0 ? 0 : left < 50 ? left : 50) <= 0)
            continue;
        for (int k = 0; k < n; k++) {
            if (connected[k] || !p[k].revents)
                continue;
            int err = 0;
            socklen_t len = sizeof err;
            getsockopt(fd[k], SOL_SOCKET, SO_ERROR, &err, &len);
            connected[k] = 1;
            if (err) {
                nc_scn_fail(s, "client %d: connect failed: %s", k + 1, strerror(err));
                continue;
            }
            nc_scn_app_kv(s, "client", "connect",
                          (nc_scn_kv_t[]){NC_KV_I("client", k + 1),
                                          NC_KV_I("port", nc_scn_port(fd[k], false)),
                                          NC_KV_I("peer_port", AQ_PORT)},
                          3, "client %d: connect() returned: the handshake is complete", k + 1);
        }
    } while (!s->stop && nc_clock_mono_ns() < deadline);
}

static void *aq_clients(void *arg)
{
    aq_state_t *st = arg;
    nc_scn_t *s = st->s;
    nc_scn_thread_name("client");
    aq_report_client_sysctls(s);
    aq_silent(st);
    int fd[AQ_CLIENTS];
    int connected[AQ_CLIENTS] = {0};
    int n = 0;
    for (; n < AQ_CLIENTS && !s->stop; n++) {
        fd[n] = nc_scn_socket(s, "client", 0, true);
        if (fd[n] < 0)
            break;
        int port = nc_scn_port(fd[n], false);
        nc_scn_app_kv(s, "client", "connect",
                      (nc_scn_kv_t[]){NC_KV_I("client", n + 1), NC_KV_I("sport", port)}, 2,
                      "client %d: connect() from port %d: its kernel sends a SYN", n + 1, port);
        if (nc_scn_connect(s, fd[n], "server", AQ_PORT) != 0) {
            nc_scn_fail(s, "client %d: cannot connect", n + 1);
            close(fd[n]);
            break;
        }
        if (n == 0)
            nc_scn_signal_set(&st->clients_started);
        aq_poll(st, fd, connected, n + 1, AQ_GAP_MS);
    }
    int done = 0;
    for (int64_t end = nc_clock_mono_ns() + 8000 * 1000000LL;
         !s->stop && s->error == 0 && nc_clock_mono_ns() < end;) {
        done = 0;
        for (int k = 0; k < n; k++)
            done += connected[k];
        if (done == n)
            break;
        aq_poll(st, fd, connected, n, 100);
    }
    if (done < AQ_CLIENTS && !s->stop && s->error == 0)
        nc_scn_fail(s, "only %d of %d clients connected within 8 s", done, AQ_CLIENTS);
    /* Wait for the server's goodbye, then close; the report is stamped at
     * the first close(), whose FIN follows. */
    for (int k = 0; k < n; k++) {
        char buf[16];
        if (nc_scn_wait(s, fd[k], POLLIN, 3000) > 0 && read(fd[k], buf, sizeof buf) < 0)
            nc_scn_fail(s, "client %d: read: %s", k + 1, strerror(errno));
        if (k == 0)
            nc_scn_call_begin("close");
        close(fd[k]);
    }
    nc_scn_app(s, "client", "close", "the clients read the server's goodbye and close");
    return NULL;
}

/* ---- the server ---- */

static void *aq_server(void *arg)
{
    aq_state_t *st = arg;
    nc_scn_t *s = st->s;
    nc_scn_thread_name("server");
    aq_report_server_sysctls(s);
    int lfd = nc_scn_socket(s, "server", AQ_PORT, false);
    if (lfd < 0)
        return NULL;
    nc_scn_call_begin("listen");
    listen(lfd, AQ_BACKLOG);
    nc_scn_app_kv(s, "server", "listen",
                  (nc_scn_kv_t[]){NC_KV_I("port", AQ_PORT), NC_KV_I("backlog", AQ_BACKLOG)}, 2,
                  "listen(fd, %d) on port %d; the program now sleeps and does not call accept()",
                  AQ_BACKLOG, AQ_PORT);
    nc_scn_signal_set(&st->listening);
    if (nc_scn_signal_wait(&st->clients_started, 5000) != 0) {
        close(lfd);
        return NULL;
    }
    for (int waited = 0; waited < AQ_HOLD_MS && !s->stop; waited += 50)
        nc_scn_sleep_ms(50);
    nc_scn_app(s, "server", "sleep", "the server wakes up and starts calling accept()");
    int cfd[AQ_CLIENTS];
    int n = 0;
    int64_t deadline = nc_clock_mono_ns() + 6000 * 1000000LL;
    while (n < AQ_CLIENTS && !s->stop && nc_clock_mono_ns() < deadline) {
        if (nc_scn_wait(s, lfd, POLLIN, 200) <= 0)
            continue;
        struct sockaddr_in peer;
        socklen_t len = sizeof peer;
        nc_scn_call_begin("accept");
        int fd = accept4(lfd, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        char name[64];
        nc_scn_peer_name(s, (struct sockaddr *)&peer, name, sizeof name);
        cfd[n++] = fd;
        nc_scn_app_kv(s, "server", "accept",
                      (nc_scn_kv_t[]){NC_KV_I("port", AQ_PORT),
                                      NC_KV_I("peer_port", ntohs(peer.sin_port)),
                                      NC_KV_S("peer", name), NC_KV_I("fd", fd)},
                      4, "accept() returned fd %d: %s, taken off the accept queue", fd, name);
    }
    nc_scn_call_begin("close");
    for (int k = 0; k < n; k++) {
        if (write(cfd[k], "bye\n", 4) < 0)
            nc_scn_fail(s, "server: write: %s", strerror(errno));
        close(cfd[k]);
    }
    nc_scn_app(s, "server", "close", "the server says goodbye to its %d %s and closes", n,
               nc_words_plural(n, "connection", "connections"));
    close(lfd);
    return NULL;
}

static int aq_run(nc_scn_t *s)
{
    char err[256];
    if (nc_lab_sysctl(s->lab, "server", "net/ipv4/tcp_syncookies", "0", err, sizeof err) != 0) {
        nc_scn_fail(s, "%s", err);
        return nc_scn_join(s);
    }
    aq_state_t *st = calloc(1, sizeof *st);
    st->s = s;
    nc_scn_signal_init(&st->listening);
    nc_scn_signal_init(&st->clients_started);
    if (nc_scn_spawn(s, "server", aq_server, st) == 0) {
        if (nc_scn_signal_wait(&st->listening, 5000) != 0)
            nc_scn_fail(s, "the server did not start within 5 s");
        else if (s->error == 0)
            nc_scn_spawn(s, "client", aq_clients, st);
    }
    /* A server that never saw a client must not wait forever. */
    if (s->error)
        nc_scn_signal_set(&st->clients_started);
    int rc = nc_scn_join(s);
    nc_scn_signal_done(&st->listening);
    nc_scn_signal_done(&st->clients_started);
    free(st);
    return rc;
}

const nc_scenario_t nc_scenario_accept_queue = {
    .name = "accept-queue",
    .topology = "local",
    .about = "a server with backlog 2 that sleeps: half-open SYNs, a full accept queue, drops",
    .run = aq_run,
};
