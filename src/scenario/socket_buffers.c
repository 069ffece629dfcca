/*
 * socket_buffers.c: the socket-buffers lesson's programs (topology "pair").
 *
 * The server is a slow reader: its listener asks for a small receive buffer
 * (SO_RCVBUF 4096; Linux doubles it, and accepted sockets inherit it),
 * accepts one connection and then does not read for 1.5 s. The client is a
 * fast sender with a small send buffer (SO_SNDBUF 4096) that writes 48 KiB
 * in 4 KiB write() calls on a nonblocking socket:
 *
 *   the server's receive queue fills and its advertised window falls to 0;
 *   the client's kernel can send nothing more and probes the closed window;
 *   its send queue fills, and write() fails with EAGAIN: the program is
 *   blocked until the buffer has room (it then waits in poll());
 *   the server starts reading 4 KiB every 20 ms: the window opens again,
 *   the send queue drains, the writes go on, and the client closes.
 *
 * Plain sockets, so the lesson's write() calls are the program's own.
 */
#include "scenario.h"

#include "../core/clock.h"
#include "../core/words.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SB_PORT 7000
#define SB_BUF 4096
#define SB_CHUNK 4096
#define SB_TOTAL (48 * 1024)
#define SB_STALL_MS 1500
#define SB_READ_GAP_MS 20

typedef struct sb_state {
    nc_scn_t *s;
    nc_scn_signal_t listening;
} sb_state_t;

/* What a buffer size read back after asking for SB_BUF says: Linux
 * doubles the size asked for (the extra half is for its own bookkeeping,
 * not data); other kernels keep it as asked. */
static const char *sb_doubled(int size)
{
    return size == 2 * SB_BUF ? " (Linux doubles the size asked for, for its bookkeeping)" : "";
}

static void *sb_server(void *arg)
{
    sb_state_t *st = arg;
    nc_scn_t *s = st->s;
    nc_scn_thread_name("server");
    int lfd = nc_scn_socket(s, "server", SB_PORT, false);
    if (lfd < 0) {
        nc_scn_signal_set(&st->listening);
        return NULL;
    }
    int size = SB_BUF;
    setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    socklen_t len = sizeof size;
    getsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &size, &len);
    nc_scn_call_begin("listen");
    listen(lfd, 4);
    nc_scn_app_kv(s, "server", "listen",
                  (nc_scn_kv_t[]){NC_KV_I("port", SB_PORT), NC_KV_I("rcvbuf", size)}, 2,
                  "listen() on port %d with SO_RCVBUF %d: getsockopt() reads back %d%s",
                  SB_PORT, SB_BUF, size, sb_doubled(size));
    nc_scn_signal_set(&st->listening);
    if (nc_scn_wait(s, lfd, POLLIN, 20000) <= 0) {
        nc_scn_fail(s, "server: no client within 5 s");
        close(lfd);
        return NULL;
    }
    struct sockaddr_in peer;
    len = sizeof peer;
    nc_scn_call_begin("accept");
    int fd = accept4(lfd, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);
    close(lfd);
    if (fd < 0) {
        nc_scn_fail(s, "server: accept: %s", strerror(errno));
        return NULL;
    }
    char name[64];
    nc_scn_peer_name(s, (struct sockaddr *)&peer, name, sizeof name);
    nc_scn_app_kv(s, "server", "accept",
                  (nc_scn_kv_t[]){NC_KV_I("port", SB_PORT),
                                  NC_KV_I("peer_port", ntohs(peer.sin_port))},
                  2, "accept() returned the connection from %s; the reader now dawdles for "
                     "%.1f s without calling read()", name, SB_STALL_MS / 1000.0);
    for (int waited = 0; waited < SB_STALL_MS && !s->stop; waited += 50)
        nc_scn_sleep_ms(50);
    size_t total = 0;
    char *buf = malloc(SB_CHUNK);
    for (;;) {
        /* On a lossy link a few lost retransmissions in a row back the
         * sender's timer off past 5 s (RFC 6298 doubles the RTO), so the
         * reader gives up only after a silence no working link shows. */
        if (nc_scn_wait(s, fd, POLLIN, 20000) <= 0) {
            nc_scn_fail(s, "server: the data stopped coming");
            break;
        }
        /* read() sends the window update that the freed space allows. */
        nc_scn_call_begin("read");
        ssize_t n = read(fd, buf, SB_CHUNK);
        if (n <= 0) {
            nc_scn_app_kv(s, "server", "read", (nc_scn_kv_t[]){NC_KV_I("bytes", 0)}, 1,
                          "read() returned 0 after %zu %s: the client has closed", total,
                          nc_words_plural((long long)total, "byte", "bytes"));
            break;
        }
        total += (size_t)n;
        nc_scn_app_kv(s, "server", "read",
                      (nc_scn_kv_t[]){NC_KV_I("bytes", n), NC_KV_I("total", (int64_t)total)}, 2,
                      "read() took %zd %s out of the receive queue (%zu so far)", n,
                      nc_words_plural(n, "byte", "bytes"), total);
        nc_scn_sleep_ms(SB_READ_GAP_MS);
    }
    free(buf);
    nc_scn_call_begin("close");
    close(fd);
    nc_scn_app(s, "server", "close", "close(): the server is done");
    return NULL;
}

static void *sb_client(void *arg)
{
    sb_state_t *st = arg;
    nc_scn_t *s = st->s;
    nc_scn_thread_name("client");
    int fd = nc_scn_socket(s, "client", 0, true);
    if (fd < 0)
        return NULL;
    int size = SB_BUF;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    socklen_t len = sizeof size;
    getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, &len);
    nc_scn_app_kv(s, "client", "connect", (nc_scn_kv_t[]){NC_KV_I("sndbuf", size)}, 1,
                  "connect() to server:%d with SO_SNDBUF %d: getsockopt() reads back %d%s",
                  SB_PORT, SB_BUF, size, sb_doubled(size));
    if (nc_scn_connect(s, fd, "server", SB_PORT) != 0 ||
        nc_scn_wait(s, fd, POLLOUT, 20000) <= 0) {
        nc_scn_fail(s, "client: cannot connect");
        close(fd);
        return NULL;
    }
    nc_scn_app_kv(s, "client", "connect",
                  (nc_scn_kv_t[]){NC_KV_I("port", nc_scn_port(fd, false)),
                                  NC_KV_I("peer_port", SB_PORT)},
                  2, "connect() returned: the client starts writing as fast as it can");
    char *chunk = malloc(SB_CHUNK);
    memset(chunk, 'x', SB_CHUNK);
    size_t sent = 0;
    while (sent < SB_TOTAL && !s->stop) {
        size_t want = SB_TOTAL - sent < SB_CHUNK ? SB_TOTAL - sent : SB_CHUNK;
        nc_scn_call_begin("write");
        ssize_t n = write(fd, chunk, want);
        if (n > 0) {
            sent += (size_t)n;
            nc_scn_app_kv(s, "client", "write",
                          (nc_scn_kv_t[]){NC_KV_I("bytes", n), NC_KV_I("total", (int64_t)sent)},
                          2, "write() handed %zd %s to the kernel (%zu of %d)", n,
                          nc_words_plural(n, "byte", "bytes"), sent, SB_TOTAL);
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            nc_scn_fail(s, "client: write: %s", strerror(errno));
            break;
        }
        int64_t t0 = nc_clock_mono_ns();
        nc_scn_app_kv(s, "client", "write",
                      (nc_scn_kv_t[]){NC_KV_I("bytes", -1), NC_KV_S("errno", "EAGAIN"),
                                      NC_KV_B("blocked", true), NC_KV_I("total", (int64_t)sent)},
                      4, "write() failed with EAGAIN: the send buffer is full, so the program "
                         "is blocked (it waits in poll())");
        if (nc_scn_wait(s, fd, POLLOUT, 8000) <= 0) {
            nc_scn_fail(s, "client: the send buffer never drained");
            break;
        }
        int64_t ms = (nc_clock_mono_ns() - t0) / 1000000;
        nc_scn_app_kv(s, "client", "poll",
                      (nc_scn_kv_t[]){NC_KV_I("waited_ms", ms)}, 1,
                      "poll(): the socket is writable again after %lld ms", (long long)ms);
    }
    free(chunk);
    nc_scn_call_begin("close");
    close(fd);
    nc_scn_app(s, "client", "close", "close(): all %zu bytes are written; the client closes",
               sent);
    return NULL;
}

static int sb_run(nc_scn_t *s)
{
    sb_state_t *st = calloc(1, sizeof *st);
    st->s = s;
    nc_scn_signal_init(&st->listening);
    int rc = nc_scn_run_pair(s, sb_server, sb_client, st, &st->listening);
    nc_scn_signal_done(&st->listening);
    free(st);
    return rc;
}

const nc_scenario_t nc_scenario_socket_buffers = {
    .name = "socket-buffers",
    .topology = "pair",
    .about = "a fast sender and a slow reader with small buffers: window 0, probes, EAGAIN",
    .run = sb_run,
};
