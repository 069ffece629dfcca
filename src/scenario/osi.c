/*
 * osi.c: the OSI lesson's programs: one HTTP/1.1 request, dissected.
 *
 * The server listens on TCP port 80 of "server" and serves one small page.
 * The client connects, sends "GET /index.html" with "Connection: close",
 * reads the response until the server closes, and closes too. Every packet
 * of it (ARP, the handshake, the request, the response, the close) is a
 * stack of layers for the inspector.
 */
#include "scenario.h"

#include "../core/words.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OSI_PORT 80

static const char osi_request[] = "GET /index.html HTTP/1.1\r\n"
                                  "Host: server\r\n"
                                  "User-Agent: netcourse\r\n"
                                  "Accept: text/html\r\n"
                                  "Connection: close\r\n"
                                  "\r\n";

static const char osi_body[] = "<!doctype html>\n"
                               "<title>netcourse</title>\n"
                               "<p>Every layer wrapped this page once.</p>\n";

typedef struct osi_state {
    nc_scn_t *s;
    nc_scn_signal_t listening;
    uv_tcp_t listener, conn, sock;
    uv_connect_t connect_req;
    uv_write_t write_req, client_write;
    char head[2048];
    size_t headlen;
    char response[1024];
    size_t received;
} osi_state_t;

/* ---- server ---- */

static void osi_server_closed(uv_handle_t *h)
{
    osi_state_t *st = h->data;
    uv_close((uv_handle_t *)&st->listener, NULL);
}

static void osi_server_wrote(uv_write_t *req, int status)
{
    osi_state_t *st = req->data;
    if (status < 0)
        nc_scn_fail(st->s, "server: write failed: %s", uv_strerror(status));
    nc_scn_app(st->s, "server", "close",
               "close(): the response is sent and \"Connection: close\" was asked for");
    uv_close((uv_handle_t *)&st->conn, osi_server_closed);
}

static void osi_server_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *buf)
{
    osi_state_t *st = stream->data;
    if (n < 0) {
        if (!uv_is_closing((uv_handle_t *)stream))
            uv_close((uv_handle_t *)stream, osi_server_closed);
        return;
    }
    size_t room = sizeof(st->head) - 1 - st->headlen;
    size_t take = (size_t)n < room ? (size_t)n : room;
    memcpy(st->head + st->headlen, buf->base, take);
    st->headlen += take;
    st->head[st->headlen] = '\0';
    if (strstr(st->head, "\r\n\r\n") == NULL)
        return;
    uv_read_stop(stream);
    nc_scn_app(st->s, "server", "read",
               "read() returned the request head (%zu bytes); an empty line ends it", st->headlen);
    int len = snprintf(st->response, sizeof(st->response),
                       "HTTP/1.1 200 OK\r\n"
                       "Content-Type: text/html\r\n"
                       "Content-Length: %zu\r\n"
                       "Connection: close\r\n"
                       "\r\n%s",
                       strlen(osi_body), osi_body);
    uv_buf_t out = uv_buf_init(st->response, (unsigned)len);
    st->write_req.data = st;
    size_t body = strlen(osi_body);
    nc_scn_app_kv(st->s, "server", "write",
                  (nc_scn_kv_t[]){NC_KV_I("bytes", len), NC_KV_I("body_len", (int64_t)body)}, 2,
                  "write() the response: %d bytes, a 200 OK head and %s %zu-byte page", len,
                  nc_words_article((long long)body), body);
    uv_write(&st->write_req, stream, &out, 1, osi_server_wrote);
}

static void osi_server_accept(uv_stream_t *listener, int status)
{
    osi_state_t *st = listener->data;
    char name[64];
    if (status < 0 || nc_scn_tcp_accept(st->s, listener, &st->conn, name, sizeof(name)) != 0)
        return;
    nc_scn_app(st->s, "server", "accept", "accept() returned the connection from %s", name);
    uv_read_start((uv_stream_t *)&st->conn, nc_scn_alloc, osi_server_read);
}

static void *osi_server(void *arg)
{
    osi_state_t *st = arg;
    uv_loop_t loop;
    uv_loop_init(&loop);
    uv_tcp_init(&loop, &st->listener);
    st->listener.data = st;
    nc_scn_tcp_listen(st->s, &st->listener, "server", OSI_PORT, osi_server_accept,
                      "a web server is ready");
    nc_scn_signal_set(&st->listening);
    nc_scn_loop_run(st->s, &loop, "server", 20000);
    uv_loop_close(&loop);
    return NULL;
}

/* ---- client ---- */

static void osi_client_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *buf)
{
    osi_state_t *st = stream->data;
    if (n > 0) {
        st->received += (size_t)n;
        nc_scn_app(st->s, "client", "read", "read() returned %zd %s of the response", n,
                   nc_words_plural(n, "byte", "bytes"));
        return;
    }
    if (n == 0)
        return;
    if (n == UV_EOF) {
        /* The response is the head and the page; only the page is the
         * body that Content-Length counted. */
        size_t body = strlen(osi_body);
        nc_scn_app_kv(st->s, "client", "read",
                      (nc_scn_kv_t[]){NC_KV_I("bytes", 0), NC_KV_I("total", (int64_t)st->received),
                                      NC_KV_I("body_len", (int64_t)body)},
                      3,
                      "read() returned 0: the server closed; the response is complete "
                      "(%zu bytes: %zu of head, then the %zu-byte page)",
                      st->received, st->received >= body ? st->received - body : 0, body);
        nc_scn_app(st->s, "client", "close", "close(): the client closes its side too");
    } else {
        nc_scn_fail(st->s, "client: read failed: %s", uv_strerror((int)n));
    }
    uv_close((uv_handle_t *)stream, NULL);
}

static void osi_client_wrote(uv_write_t *req, int status)
{
    osi_state_t *st = req->data;
    if (status < 0)
        nc_scn_fail(st->s, "client: write failed: %s", uv_strerror(status));
}

static void osi_client_connected(uv_connect_t *req, int status)
{
    osi_state_t *st = req->data;
    if (status < 0) {
        nc_scn_fail(st->s, "client: connect failed: %s", uv_strerror(status));
        uv_close((uv_handle_t *)&st->sock, NULL);
        return;
    }
    nc_scn_app(st->s, "client", "connect", "connect() returned: a TCP connection to server:80");
    st->client_write.data = st;
    uv_buf_t buf = uv_buf_init((char *)osi_request, sizeof(osi_request) - 1);
    nc_scn_app(st->s, "client", "write", "write() the request: GET /index.html (%zu bytes)",
               sizeof(osi_request) - 1);
    uv_write(&st->client_write, (uv_stream_t *)&st->sock, &buf, 1, osi_client_wrote);
    uv_read_start((uv_stream_t *)&st->sock, nc_scn_alloc, osi_client_read);
}

static void *osi_client(void *arg)
{
    osi_state_t *st = arg;
    uv_loop_t loop;
    uv_loop_init(&loop);
    uv_tcp_init(&loop, &st->sock);
    st->sock.data = st;
    nc_scn_tcp_connect(st->s, &st->connect_req, &st->sock, "server", OSI_PORT, osi_client_connected,
                       "connect() to server:80 (the browser's first step)");
    nc_scn_loop_run(st->s, &loop, "client", 20000);
    uv_loop_close(&loop);
    return NULL;
}

static int osi_run(nc_scn_t *s)
{
    osi_state_t *st = calloc(1, sizeof(*st));
    st->s = s;
    nc_scn_signal_init(&st->listening);
    int rc = nc_scn_run_pair(s, osi_server, osi_client, st, &st->listening);
    nc_scn_signal_done(&st->listening);
    free(st);
    return rc;
}

const nc_scenario_t nc_scenario_osi = {
    .name = "osi",
    .topology = "pair",
    .about = "one HTTP/1.1 GET, every layer of every packet",
    .run = osi_run,
};
