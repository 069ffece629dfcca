/*
 * tcp.c: the TCP lesson's programs.
 *
 * The server listens on TCP port 7000 of "server". The client connects,
 * writes six 1000-byte messages 20 ms apart (Nagle off, so each write is one
 * segment), waits for the server's 7-byte "thanks", and closes first. The
 * server reads until it has all 6000 bytes, answers, and closes once it sees
 * the client's FIN (read returns 0). The lesson's wire drops one data segment,
 * so the timeline shows the kernel retransmitting it.
 */
#include "scenario.h"

#include "../core/words.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TCP_PORT 7000
#define TCP_MESSAGES 6
#define TCP_MESSAGE_SIZE 1000
#define TCP_GAP_MS 20

typedef struct tcp_state {
    nc_scn_t *s;
    nc_scn_signal_t listening;
    /* server */
    uv_tcp_t listener, conn;
    size_t received;
    int answered;
    /* client */
    uv_tcp_t sock;
    uv_connect_t connect_req;
    uv_timer_t timer;
    int sent;
    char message[TCP_MESSAGE_SIZE];
} tcp_state_t;

typedef struct tcp_write {
    uv_write_t req;
    tcp_state_t *st;
    const char *host;
    size_t len;
} tcp_write_t;

static void tcp_written(uv_write_t *req, int status)
{
    tcp_write_t *w = (tcp_write_t *)req;
    if (status < 0)
        nc_scn_fail(w->st->s, "%s: write failed: %s", w->host, uv_strerror(status));
    free(w);
}

/* Queues len bytes on stream and reports the write() as an app event. */
static void tcp_send(tcp_state_t *st, uv_stream_t *stream, const char *host, const char *data,
                     size_t len, const char *what)
{
    tcp_write_t *w = calloc(1, sizeof(*w));
    w->st = st;
    w->host = host;
    w->len = len;
    uv_buf_t buf = uv_buf_init((char *)data, (unsigned)len);
    nc_scn_app(st->s, host, "write", "write() handed %zu %s (%s) to the kernel", len,
               nc_words_plural((long long)len, "byte", "bytes"), what);
    int rc = uv_write(&w->req, stream, &buf, 1, tcp_written);
    if (rc < 0) {
        nc_scn_fail(st->s, "%s: write: %s", host, uv_strerror(rc));
        free(w);
    }
}

/* ---- server ---- */

static void tcp_server_closed(uv_handle_t *h)
{
    tcp_state_t *st = h->data;
    uv_close((uv_handle_t *)&st->listener, NULL);
}

/* Closes the connection, reporting close() first: uv_close calls close()
 * at once, and the kernel sends FIN inside it. */
static void tcp_server_close(tcp_state_t *st, uv_stream_t *stream)
{
    nc_scn_app(st->s, "server", "close",
               "close(): the server closes its side, so its kernel "
               "sends FIN");
    uv_close((uv_handle_t *)stream, tcp_server_closed);
}

static void tcp_server_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *buf)
{
    tcp_state_t *st = stream->data;
    if (n == UV_EOF) {
        nc_scn_app(st->s, "server", "read",
                   "read() returned 0: the client has closed its side "
                   "(its FIN arrived)");
        tcp_server_close(st, stream);
        return;
    }
    if (n < 0) {
        nc_scn_fail(st->s, "server: read failed: %s", uv_strerror((int)n));
        tcp_server_close(st, stream);
        return;
    }
    if (n == 0)
        return;
    st->received += (size_t)n;
    nc_scn_app(st->s, "server", "read", "read() returned %zd %s (%zu of %d so far)", n,
               nc_words_plural(n, "byte", "bytes"), st->received, TCP_MESSAGES * TCP_MESSAGE_SIZE);
    if (!st->answered && st->received >= TCP_MESSAGES * TCP_MESSAGE_SIZE) {
        st->answered = 1;
        tcp_send(st, stream, "server", "thanks\n", 7, "the answer \"thanks\"");
    }
}

static void tcp_server_accept(uv_stream_t *listener, int status)
{
    tcp_state_t *st = listener->data;
    if (status < 0) {
        nc_scn_fail(st->s, "server: listen: %s", uv_strerror(status));
        return;
    }
    char name[64];
    if (nc_scn_tcp_accept(st->s, listener, &st->conn, name, sizeof(name)) != 0)
        return;
    nc_scn_app(st->s, "server", "accept",
               "accept() returned a connection from %s: the handshake finished in the kernel "
               "before the program asked",
               name);
    uv_read_start((uv_stream_t *)&st->conn, nc_scn_alloc, tcp_server_read);
}

static void *tcp_server(void *arg)
{
    tcp_state_t *st = arg;
    uv_loop_t loop;
    uv_loop_init(&loop);
    uv_tcp_init(&loop, &st->listener);
    st->listener.data = st;
    nc_scn_tcp_listen(st->s, &st->listener, "server", TCP_PORT, tcp_server_accept,
                      "from now on the kernel answers SYNs for it");
    nc_scn_signal_set(&st->listening);
    nc_scn_loop_run(st->s, &loop, "server", 20000);
    uv_loop_close(&loop);
    return NULL;
}

/* ---- client ---- */

static void tcp_client_closed(uv_handle_t *h)
{
}

static void tcp_client_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *buf)
{
    tcp_state_t *st = stream->data;
    if (n == 0)
        return;
    if (n > 0) {
        nc_scn_app(st->s, "client", "read", "read() returned %zd %s: the server's answer", n,
                   nc_words_plural(n, "byte", "bytes"));
        nc_scn_app(st->s, "client", "close",
                   "close(): the client is done, so its kernel sends FIN");
    } else if (n != UV_EOF) {
        nc_scn_fail(st->s, "client: read failed: %s", uv_strerror((int)n));
    }
    uv_close((uv_handle_t *)stream, tcp_client_closed);
}

static void tcp_client_tick(uv_timer_t *t)
{
    tcp_state_t *st = t->data;
    st->sent++;
    memset(st->message, 'a' + st->sent - 1, sizeof(st->message));
    char what[32];
    snprintf(what, sizeof(what), "message %d of %d", st->sent, TCP_MESSAGES);
    tcp_send(st, (uv_stream_t *)&st->sock, "client", st->message, sizeof(st->message), what);
    if (st->sent == TCP_MESSAGES) {
        uv_close((uv_handle_t *)t, NULL);
        uv_read_start((uv_stream_t *)&st->sock, nc_scn_alloc, tcp_client_read);
    }
}

static void tcp_client_connected(uv_connect_t *req, int status)
{
    tcp_state_t *st = req->data;
    if (status < 0) {
        nc_scn_fail(st->s, "client: connect failed: %s", uv_strerror(status));
        uv_close((uv_handle_t *)&st->sock, NULL);
        return;
    }
    nc_scn_app(st->s, "client", "connect",
               "connect() returned: the three-way handshake is complete");
    uv_tcp_nodelay(&st->sock, 1);
    uv_timer_init(req->handle->loop, &st->timer);
    st->timer.data = st;
    uv_timer_start(&st->timer, tcp_client_tick, TCP_GAP_MS, TCP_GAP_MS);
}

/*
 * Reports how the client's kernel will repair a loss, read in the lab: with
 * SACK (tcp_sack) and RACK (the 0x1 bit of tcp_recovery), Linux resends a
 * segment as soon as an acknowledgement shows later data arrived and
 * enough time passed, often after one duplicate ACK, not three; the
 * retransmission timer never fires sooner than tcp_rto_min_us (200 ms
 * built in, where the setting is absent). Fast Open (tcp_fastopen) is
 * reported because the page explains it; this client does not use it.
 */
static void tcp_report_sysctls(nc_scn_t *s)
{
    nc_scn_sysctl_t v[] = {
        {"net.ipv4.tcp_sack", -1},
        {"net.ipv4.tcp_recovery", -1},
        {"net.ipv4.tcp_rto_min_us", -1},
        {"net.ipv4.tcp_fastopen", -1},
    };
    nc_scn_kv_t kv[4];
    size_t nkv = nc_scn_sysctl_read_all(v, 4, kv);
    long sack = v[0].value, recovery = v[1].value, rto_min = v[2].value;
    char rto[64];
    if (rto_min >= 0)
        snprintf(rto, sizeof rto, "%ld ms (tcp_rto_min_us %ld)", rto_min / 1000, rto_min);
    else
        snprintf(rto, sizeof rto, "200 ms (built in)");
    nc_scn_app_kv(s, "client", "sysctl", kv, nkv,
                  "sysctl: SACK %s (tcp_sack %ld), RACK %s (tcp_recovery %ld); the "
                  "retransmission timer waits at least %s",
                  sack > 0 ? "on" : "off", sack, recovery >= 0 && (recovery & 1) ? "on" : "off",
                  recovery, rto);
}

static void *tcp_client(void *arg)
{
    tcp_state_t *st = arg;
    tcp_report_sysctls(st->s);
    uv_loop_t loop;
    uv_loop_init(&loop);
    uv_tcp_init(&loop, &st->sock);
    st->sock.data = st;
    nc_scn_tcp_connect(st->s, &st->connect_req, &st->sock, "server", TCP_PORT, tcp_client_connected,
                       "connect() to server:7000: the kernel sends a SYN and the call waits");
    nc_scn_loop_run(st->s, &loop, "client", 20000);
    uv_loop_close(&loop);
    return NULL;
}

static int tcp_run(nc_scn_t *s)
{
    tcp_state_t *st = calloc(1, sizeof(*st));
    st->s = s;
    nc_scn_signal_init(&st->listening);
    int rc = nc_scn_run_pair(s, tcp_server, tcp_client, st, &st->listening);
    nc_scn_signal_done(&st->listening);
    free(st);
    return rc;
}

const nc_scenario_t nc_scenario_tcp = {
    .name = "tcp",
    .topology = "pair",
    .about = "connect, six 1000-byte writes, an answer, close",
    .run = tcp_run,
};
