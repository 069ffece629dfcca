/*
 * stream.c: the kit's TCP stream: listeners, connections, and the one way
 * every kit call is reported.
 *
 * Data model. nc_kit_t is a program's handle on its run: the run, the host
 * and the loop. A listener and a connection each embed their uv_tcp_t as
 * first member and are freed in its close callback; a connection keeps its
 * ports (read once, when it is connected), its peer's name, and its owner
 * with the owner's callbacks. Reads go through nc_scn_alloc, which marks the
 * time of each read() for its report.
 */
#include "kit.h"
#include "kit_impl.h"
#include "kit_tcpinfo.h"

#include "../core/error.h"
#include "../core/words.h"
#include "../core/xmalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct nc_kit {
    nc_scn_t *s;
    char *host;
    char *program; /* the lesson program it belongs to, or NULL */
    uv_loop_t *loop;
};

struct nc_kit_listener {
    uv_tcp_t tcp; /* must stay first */
    nc_kit_t *k;
    int port;
    nc_kit_accept_cb cb;
    void *data;
    const char *say;
    bool closing;
};

struct nc_kit_conn {
    uv_tcp_t tcp; /* must stay first */
    uv_connect_t connect;
    nc_kit_t *k;
    int port, peer_port;
    char peer[64];
    nc_kit_conn_cbs_t cbs;
    void *owner;
    nc_kit_connect_cb connect_cb;
    void *connect_data;
    const char *say_done;
    size_t pending;  /* writes handed to libuv and not yet done */
    size_t read_total; /* bytes read on the connection so far */
    /* extra integer fields for the next report about the connection */
    const char *note_key[NC_KIT_NOTES];
    int64_t note_value[NC_KIT_NOTES];
    size_t nnotes;
    bool close_wanted; /* close() was called; the handle waits for the writes */
    bool closing;
    bool tolerant; /* a failure closes this connection, not the run */
    bool paused;   /* reading stopped until the owner resumes it */
    size_t queued; /* bytes handed to libuv and not yet written */
    nc_kit_tls_t *tls; /* owned: TLS over the connection (tls.c), or NULL */
};

typedef struct nc_kit_write {
    uv_write_t req;
    nc_kit_conn_t *c;
    size_t len;
    char bytes[]; /* the copy being written */
} nc_kit_write_t;

nc_kit_t *nc_kit_new(nc_scn_t *s, const char *host, uv_loop_t *loop)
{
    nc_kit_t *k = nc_xcalloc(1, sizeof *k);
    k->s = s;
    k->host = nc_xstrdup(host);
    k->loop = loop;
    return k;
}

void nc_kit_free(nc_kit_t *k)
{
    if (!k)
        return;
    free(k->host);
    free(k->program);
    free(k);
}

nc_scn_t *nc_kit_scn(const nc_kit_t *k)
{
    return k->s;
}

const char *nc_kit_host(const nc_kit_t *k)
{
    return k->host;
}

void nc_kit_set_program(nc_kit_t *k, const char *name)
{
    free(k->program);
    k->program = name ? nc_xstrdup(name) : NULL;
}

uv_loop_t *nc_kit_loop(const nc_kit_t *k)
{
    return k->loop;
}

void nc_kit_report(nc_kit_t *k, nc_kit_conn_t *conn, const char *call, const nc_scn_kv_t *extra,
                   size_t nextra, const char *say, const char *dflt, ...)
{
    char text[512];
    if (say) {
        snprintf(text, sizeof text, "%s", say);
    } else {
        va_list ap;
        va_start(ap, dflt);
        vsnprintf(text, sizeof text, dflt, ap);
        va_end(ap);
    }
    nc_scn_kv_t kv[16];
    size_t n = 0;
    kv[n++] = NC_KV_I("pid", getpid());
    kv[n++] = NC_KV_I("tid", gettid());
    if (conn && conn->port) {
        kv[n++] = NC_KV_I("port", conn->port);
        kv[n++] = NC_KV_I("peer_port", conn->peer_port);
    }
    if (k->program)
        kv[n++] = NC_KV_S("program", k->program);
    for (size_t i = 0; conn && i < conn->nnotes; i++)
        kv[n++] = NC_KV_I(conn->note_key[i], conn->note_value[i]);
    if (conn)
        conn->nnotes = 0;
    for (size_t i = 0; i < nextra && n < sizeof kv / sizeof kv[0]; i++)
        kv[n++] = extra[i];
    nc_scn_app_kv(k->s, k->host, call, kv, n, "%s", text);
}

/* ---- listeners ---- */

static void nc_kit_listener_freed(uv_handle_t *h)
{
    free(h);
}

static nc_kit_conn_t *nc_kit_conn_new(nc_kit_t *k)
{
    nc_kit_conn_t *c = nc_xcalloc(1, sizeof *c);
    c->k = k;
    snprintf(c->peer, sizeof c->peer, "?");
    int rc = uv_tcp_init(k->loop, &c->tcp);
    if (rc != 0) {
        nc_scn_fail(k->s, "%s: uv_tcp_init: %s", k->host, uv_strerror(rc));
        free(c);
        return NULL;
    }
    c->tcp.data = c;
    return c;
}

/* Reads the ports and the peer's name once the socket is connected. */
static void nc_kit_conn_names(nc_kit_conn_t *c)
{
    struct sockaddr_storage sa;
    int len = sizeof sa;
    if (uv_tcp_getsockname(&c->tcp, (struct sockaddr *)&sa, &len) == 0)
        c->port = ntohs(((struct sockaddr_in *)&sa)->sin_port);
    len = sizeof sa;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&sa, &len) == 0) {
        c->peer_port = ntohs(((struct sockaddr_in *)&sa)->sin_port);
        nc_scn_peer_name(c->k->s, (struct sockaddr *)&sa, c->peer, sizeof c->peer);
    }
}

static void nc_kit_conn_freed(uv_handle_t *h)
{
    nc_kit_conn_t *c = h->data;
    if (c->cbs.on_closed)
        c->cbs.on_closed(c);
    nc__kit_tls_free(c->tls);
    free(c);
}

static void nc_kit_accepted(uv_stream_t *server, int status)
{
    nc_kit_listener_t *l = server->data;
    nc_kit_t *k = l->k;
    if (status < 0) {
        nc_scn_fail(k->s, "%s: listen: %s", k->host, uv_strerror(status));
        return;
    }
    nc_kit_conn_t *c = nc_kit_conn_new(k);
    if (!c)
        return;
    nc_scn_call_begin("accept");
    int rc = uv_accept(server, (uv_stream_t *)&c->tcp);
    if (rc != 0) {
        nc_scn_fail(k->s, "%s: accept failed: %s", k->host, uv_strerror(rc));
        c->closing = true;
        uv_close((uv_handle_t *)&c->tcp, nc_kit_conn_freed);
        return;
    }
    nc_kit_conn_names(c);
    char text[400] = "";
    if (l->say) {
        const char *mark = strstr(l->say, "%s");
        if (mark)
            snprintf(text, sizeof text, "%.*s%s%s", (int)(mark - l->say), l->say, c->peer,
                     mark + 2);
        else
            snprintf(text, sizeof text, "%s", l->say);
    }
    nc_kit_report(k, c, "accept", (nc_scn_kv_t[]){NC_KV_S("peer", c->peer)}, 1,
                  l->say ? text : NULL, "accept() returned a connection from %s", c->peer);
    l->cb(l, c, l->data);
}

nc_kit_listener_t *nc_kit_listen(nc_kit_t *k, int port, int backlog, nc_kit_accept_cb cb,
                                 void *data, const char *say)
{
    nc_kit_listener_t *l = nc_xcalloc(1, sizeof *l);
    l->k = k;
    l->port = port;
    l->cb = cb;
    l->data = data;
    int rc = uv_tcp_init(k->loop, &l->tcp);
    if (rc != 0) {
        nc_scn_fail(k->s, "%s: uv_tcp_init: %s", k->host, uv_strerror(rc));
        free(l);
        return NULL;
    }
    l->tcp.data = l;
    struct sockaddr_in addr;
    rc = uv_ip4_addr(nc_scn_addr(k->s, k->host), port, &addr);
    if (rc == 0)
        rc = uv_tcp_bind(&l->tcp, (const struct sockaddr *)&addr, 0);
    nc_scn_call_begin("listen");
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&l->tcp, backlog > 0 ? backlog : 8, nc_kit_accepted);
    if (rc != 0) {
        nc_scn_fail(k->s, "%s: cannot listen on port %d: %s", k->host, port, uv_strerror(rc));
        uv_close((uv_handle_t *)&l->tcp, nc_kit_listener_freed);
        return NULL;
    }
    char text[400];
    if (say)
        snprintf(text, sizeof text, "listen() on port %d: %s", port, say);
    nc_kit_report(k, NULL, "listen",
                  (nc_scn_kv_t[]){NC_KV_I("port", port), NC_KV_I("backlog", backlog > 0 ? backlog : 8)},
                  2, say ? text : NULL, "listen() on port %d", port);
    return l;
}

void nc_kit_listener_say(nc_kit_listener_t *l, const char *say)
{
    l->say = say;
}

int nc_kit_listener_port(const nc_kit_listener_t *l)
{
    return l->port;
}

void nc_kit_listener_close(nc_kit_listener_t *l)
{
    if (!l || l->closing)
        return;
    l->closing = true;
    if (!uv_is_closing((uv_handle_t *)&l->tcp))
        uv_close((uv_handle_t *)&l->tcp, nc_kit_listener_freed);
}

/* TCP Fast Open needs the server bit of net.ipv4.tcp_fastopen (1 is the
 * client's, on by default); the file shows the namespace of the thread
 * that opens it, which is the program's host. */
static int nc_kit_fastopen_sysctl(nc_kit_t *k)
{
    int fd = open("/proc/sys/net/ipv4/tcp_fastopen", O_WRONLY | O_CLOEXEC);
    bool ok = fd >= 0 && write(fd, "3", 1) == 1;
    int e = errno;
    if (fd >= 0)
        close(fd);
    if (!ok)
        nc_scn_fail(k->s, "%s: cannot turn TCP Fast Open on (net.ipv4.tcp_fastopen): %s",
                    k->host, strerror(e));
    return ok ? 0 : NC_EIO;
}

void nc_kit_listener_fastopen(nc_kit_listener_t *l)
{
    uv_os_fd_t fd;
    int qlen = 16;
    if (nc_kit_fastopen_sysctl(l->k) != 0)
        return;
    if (uv_fileno((uv_handle_t *)&l->tcp, &fd) != 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN, &qlen, sizeof qlen) != 0)
        nc_scn_fail(l->k->s, "%s: TCP_FASTOPEN on port %d: %s", l->k->host, l->port,
                    strerror(errno));
}

/* Gives the connection a socket of its own with TCP_FASTOPEN_CONNECT set,
 * before libuv would make one. Returns 0, or NC_EIO after failing the
 * scenario. */
static int nc_kit_conn_fastopen(nc_kit_conn_t *c)
{
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, &one, sizeof one) != 0 ||
        uv_tcp_open(&c->tcp, fd) != 0) {
        nc_scn_fail(c->k->s, "%s: a TCP Fast Open socket: %s", c->k->host, strerror(errno));
        if (fd >= 0)
            close(fd);
        return NC_EIO;
    }
    return 0;
}

/* ---- connections ---- */

static void nc_kit_connected(uv_connect_t *req, int status)
{
    nc_kit_conn_t *c = req->data;
    nc_kit_t *k = c->k;
    if (status == 0) {
        nc_kit_conn_names(c);
        nc_kit_report(k, c, "connect", NULL, 0, c->say_done,
                      "connect() returned: connected to %s", c->peer);
    } else if (status != UV_ECANCELED) {
        nc_kit_report(k, NULL, "connect", (nc_scn_kv_t[]){NC_KV_S("errno", uv_err_name(status))}, 1,
                      NULL, "connect() failed: %s", uv_strerror(status));
    }
    if (c->connect_cb)
        c->connect_cb(c, status, c->connect_data);
    if (status != 0 && !c->closing) {
        c->closing = true;
        uv_close((uv_handle_t *)&c->tcp, nc_kit_conn_freed);
    }
}

nc_kit_conn_t *nc_kit_connect(nc_kit_t *k, const char *host, int port, unsigned flags,
                              nc_kit_connect_cb cb, void *data, const char *say,
                              const char *say_done)
{
    nc_kit_conn_t *c = nc_kit_conn_new(k);
    if (!c)
        return NULL;
    c->connect_cb = cb;
    c->connect_data = data;
    c->say_done = say_done;
    c->connect.data = c;
    if ((flags & NC_KIT_FASTOPEN) && nc_kit_conn_fastopen(c) != 0) {
        c->closing = true;
        uv_close((uv_handle_t *)&c->tcp, nc_kit_conn_freed);
        return NULL;
    }
    if (flags & NC_KIT_NODELAY)
        nc_kit_conn_nodelay(c);
    /* A lab host's name, or an IPv4 address as a real client gives it to a
     * proxy. */
    struct sockaddr_in addr;
    const char *ip = nc_scn_addr(k->s, host);
    struct in_addr lit;
    if (inet_pton(AF_INET, host, &lit) == 1)
        ip = host;
    int rc = uv_ip4_addr(ip, port, &addr);
    if (flags & NC_KIT_FASTOPEN)
        nc_kit_report(k, NULL, "connect",
                      (nc_scn_kv_t[]){NC_KV_S("to", host), NC_KV_I("to_port", port),
                                      NC_KV_I("fastopen", 1)},
                      3, say,
                      "connect() to %s:%d with TCP Fast Open: the call returns at once, and "
                      "the SYN leaves with the first write",
                      host, port);
    else
        nc_kit_report(k, NULL, "connect",
                      (nc_scn_kv_t[]){NC_KV_S("to", host), NC_KV_I("to_port", port)}, 2, say,
                      "connect() to %s:%d: the kernel sends a SYN and the call waits", host, port);
    if (rc == 0) {
        /* The peer's name until getpeername() knows it (a Fast Open
         * connection has none until its SYN leaves). */
        nc_scn_peer_name(k->s, (const struct sockaddr *)&addr, c->peer, sizeof c->peer);
        c->peer_port = port;
        rc = uv_tcp_connect(&c->connect, &c->tcp, (const struct sockaddr *)&addr,
                            nc_kit_connected);
    }
    if (rc != 0) {
        nc_scn_fail(k->s, "%s: connect to %s:%d: %s", k->host, host, port, uv_strerror(rc));
        c->closing = true;
        uv_close((uv_handle_t *)&c->tcp, nc_kit_conn_freed);
        return NULL;
    }
    return c;
}

static void nc_kit_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    nc_scn_alloc(h, suggested, buf);
}

static void nc_kit_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *buf)
{
    nc_kit_conn_t *c = stream->data;
    nc_kit_t *k = c->k;
    if (n == 0 || c->closing)
        return;
    if (n < 0 && n != UV_EOF) {
        nc_kit_report(k, c, "read", (nc_scn_kv_t[]){NC_KV_S("errno", uv_err_name((int)n))}, 1,
                      NULL, "read() failed: %s", uv_strerror((int)n));
        nc_kit_close(c, "close(): the connection failed, so the program closes it");
        return;
    }
    /* Under TLS the bytes read are records: the TLS layer hands the
     * plaintext back through nc__kit_conn_deliver. */
    if (n > 0 && c->tls) {
        nc__kit_tls_feed(c->tls, buf->base, (size_t)n);
        return;
    }
    size_t len = n > 0 ? (size_t)n : 0;
    c->read_total += len;
    char text[400] = "";
    if (c->cbs.describe)
        c->cbs.describe(c, buf->base, len, text, sizeof text);
    if (n == UV_EOF) {
        uv_read_stop(stream);
        nc_kit_report(k, c, "read",
                      (nc_scn_kv_t[]){NC_KV_I("bytes", 0), NC_KV_I("total", (int64_t)c->read_total)}, 2,
                      text[0] ? text : NULL,
                      "read() returned 0: %s has closed its side (its FIN arrived)", c->peer);
        if (c->cbs.on_eof)
            c->cbs.on_eof(c);
        return;
    }
    nc__kit_conn_deliver(c, buf->base, len, text);
}

void nc__kit_conn_deliver(nc_kit_conn_t *c, const char *data, size_t len, const char *text)
{
    const char *call = c->tls ? "SSL_read" : "read";
    char own[400] = "";
    if (text == NULL) {
        c->read_total += len;
        if (c->cbs.describe)
            c->cbs.describe(c, data, len, own, sizeof own);
        text = own;
    }
    nc_kit_report(c->k, c, call,
                  (nc_scn_kv_t[]){NC_KV_I("bytes", (int64_t)len), NC_KV_I("total", (int64_t)c->read_total)},
                  2, text && text[0] ? text : NULL, "%s() returned %zu %s", call, len,
                  nc_words_plural((long long)len, "byte", "bytes"));
    if (c->cbs.on_data)
        c->cbs.on_data(c, data, len);
}

void nc__kit_conn_read_start(nc_kit_conn_t *c)
{
    if (c->closing || c->paused)
        return;
    int rc = uv_read_start((uv_stream_t *)&c->tcp, nc_kit_alloc, nc_kit_read);
    if (rc != 0 && rc != UV_EALREADY)
        nc_scn_fail(c->k->s, "%s: read: %s", c->k->host, uv_strerror(rc));
}

void nc_kit_conn_nodelay(nc_kit_conn_t *c)
{
    int rc = uv_tcp_nodelay(&c->tcp, 1);
    if (rc != 0)
        nc_scn_fail(c->k->s, "%s: TCP_NODELAY: %s", c->k->host, uv_strerror(rc));
}

void nc_kit_conn_start(nc_kit_conn_t *c, const nc_kit_conn_cbs_t *cbs, void *owner)
{
    c->cbs = *cbs;
    c->owner = owner;
    nc__kit_conn_read_start(c);
}

void nc__kit_conn_set_tls(nc_kit_conn_t *c, nc_kit_tls_t *t)
{
    c->tls = t;
}

nc_kit_tls_t *nc__kit_conn_tls(const nc_kit_conn_t *c)
{
    return c->tls;
}

void *nc_kit_conn_owner(const nc_kit_conn_t *c)
{
    return c->owner;
}

void nc_kit_conn_set_owner(nc_kit_conn_t *c, void *owner)
{
    c->owner = owner;
}

nc_kit_t *nc_kit_conn_kit(const nc_kit_conn_t *c)
{
    return c->k;
}

const char *nc_kit_conn_peer(const nc_kit_conn_t *c)
{
    return c->peer;
}

int nc_kit_conn_port(const nc_kit_conn_t *c, bool peer)
{
    return peer ? c->peer_port : c->port;
}

size_t nc_kit_conn_read_total(const nc_kit_conn_t *c)
{
    return c->read_total;
}

double nc_kit_conn_min_rtt_ms(const nc_kit_conn_t *c)
{
    uv_os_fd_t fd;
    if (uv_fileno((const uv_handle_t *)&c->tcp, &fd) != 0)
        return 0;
    return nc__kit_tcp_min_rtt_ms(fd);
}

void nc_kit_conn_note(nc_kit_conn_t *c, const char *key, int64_t value)
{
    for (size_t i = 0; i < c->nnotes; i++)
        if (strcmp(c->note_key[i], key) == 0) {
            c->note_value[i] = value;
            return;
        }
    if (c->nnotes == NC_KIT_NOTES)
        return;
    c->note_key[c->nnotes] = key;
    c->note_value[c->nnotes++] = value;
}

void nc_kit_conn_peer_ip(const nc_kit_conn_t *c, char *out, size_t outlen)
{
    struct sockaddr_storage sa;
    int len = sizeof sa;
    snprintf(out, outlen, "?");
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&sa, &len) == 0 &&
        sa.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&sa)->sin_addr, out, (socklen_t)outlen);
}

void nc_kit_conn_tolerant(nc_kit_conn_t *c)
{
    c->tolerant = true;
}

size_t nc_kit_conn_queued(const nc_kit_conn_t *c)
{
    return c->queued;
}

/* A paused connection reads nothing: its peer's bytes wait in the kernel,
 * whose receive window then closes, which is how a middlebox passes a slow
 * reader's back-pressure on instead of buffering without bound. */
void nc_kit_conn_pause(nc_kit_conn_t *c, bool pause)
{
    if (c->closing || c->close_wanted || c->paused == pause)
        return;
    c->paused = pause;
    if (pause)
        uv_read_stop((uv_stream_t *)&c->tcp);
    else
        nc__kit_conn_read_start(c);
}

bool nc_kit_conn_closing(const nc_kit_conn_t *c)
{
    return c->closing || c->close_wanted;
}

static void nc_kit_close_handle(nc_kit_conn_t *c);

static void nc_kit_written(uv_write_t *req, int status)
{
    nc_kit_write_t *w = (nc_kit_write_t *)req;
    nc_kit_conn_t *c = w->c;
    c->queued -= w->len;
    /* A peer that reset the connection (it closed, and our data reached it
     * anyway) is something the network did, as a failed read is: reported,
     * and the connection closed. Anything else is the program's failure,
     * unless the connection is a middlebox's to a peer it does not control. */
    bool reset = status == UV_EPIPE || status == UV_ECONNRESET;
    if (status < 0 && status != UV_ECANCELED && !reset && !c->tolerant)
        nc_scn_fail(c->k->s, "%s: write failed: %s", c->k->host, uv_strerror(status));
    free(w);
    if (reset && !c->closing && !c->close_wanted) {
        nc_kit_report(c->k, c, "write", (nc_scn_kv_t[]){NC_KV_S("errno", uv_err_name(status))}, 1,
                      NULL, "write() failed: %s (the peer reset the connection)",
                      uv_strerror(status));
        c->pending--;
        nc_kit_close(c, "close(): the peer is gone, so the program closes the connection");
        return;
    }
    if (c->queued == 0 && c->cbs.on_drain && !c->closing && !c->close_wanted)
        c->cbs.on_drain(c);
    /* A close asked for while writes were queued happens once they are
     * done: uv_close would cancel them. */
    if (--c->pending == 0 && c->close_wanted && !c->closing)
        nc_kit_close_handle(c);
}

int nc_kit_write_quiet(nc_kit_conn_t *c, const void *data, size_t len)
{
    if (c->closing || c->close_wanted)
        return UV_ECANCELED;
    if (c->tls)
        return nc__kit_tls_write(c->tls, data, len);
    return nc__kit_conn_write_raw(c, data, len);
}

int nc__kit_conn_write_raw(nc_kit_conn_t *c, const void *data, size_t len)
{
    if (c->closing)
        return UV_ECANCELED;
    nc_kit_write_t *w = nc_xmalloc(sizeof *w + (len ? len : 1));
    w->c = c;
    w->len = len;
    memcpy(w->bytes, data, len);
    uv_buf_t buf = uv_buf_init(w->bytes, (unsigned)len);
    int rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &buf, 1, nc_kit_written);
    if (rc < 0) {
        if (!c->tolerant)
            nc_scn_fail(c->k->s, "%s: write: %s", c->k->host, uv_strerror(rc));
        free(w);
    } else {
        c->pending++;
        c->queued += len;
    }
    return rc;
}

int nc_kit_write(nc_kit_conn_t *c, const void *data, size_t len, const char *say)
{
    if (c->closing || c->close_wanted)
        return UV_ECANCELED;
    const char *call = c->tls ? "SSL_write" : "write";
    nc_scn_call_begin(call);
    nc_kit_report(c->k, c, call, (nc_scn_kv_t[]){NC_KV_I("bytes", (int64_t)len)}, 1, say,
                  c->tls ? "SSL_write() encrypted %zu %s and handed the records to the kernel"
                         : "write() handed %zu %s to the kernel",
                  len, nc_words_plural((long long)len, "byte", "bytes"));
    return nc_kit_write_quiet(c, data, len);
}

/* The program's close() is reported when it is called, even while libuv
 * still holds writes the kernel took (their callbacks come on a later turn
 * of the loop): the handle is closed once they are done, since uv_close
 * would cancel them. Reporting it later put a restart's close() after the
 * listen() that followed it. */
void nc_kit_close(nc_kit_conn_t *c, const char *say)
{
    if (!c || c->closing || c->close_wanted)
        return;
    /* TLS says goodbye inside the connection first (close_notify). */
    if (c->tls)
        nc__kit_tls_close_notify(c->tls);
    nc_scn_call_begin("close");
    nc_kit_report(c->k, c, "close", NULL, 0, say, "close(): the kernel sends FIN to %s", c->peer);
    if (c->pending > 0) {
        c->close_wanted = true;
        return;
    }
    nc_kit_close_handle(c);
}

static void nc_kit_close_handle(nc_kit_conn_t *c)
{
    c->closing = true;
    /* A loop torn down as a last resort may have closed it already. */
    if (!uv_is_closing((uv_handle_t *)&c->tcp))
        uv_close((uv_handle_t *)&c->tcp, nc_kit_conn_freed);
}

void nc_kit_reset(nc_kit_conn_t *c, const char *say)
{
    if (!c || c->closing || c->close_wanted)
        return;
    c->closing = true;
    nc_scn_call_begin("close");
    nc_kit_report(c->k, c, "close", (nc_scn_kv_t[]){NC_KV_S("linger", "0")}, 1, say,
                  "close() with SO_LINGER 0: the kernel sends RST to %s and forgets the "
                  "connection", c->peer);
    /* An abortive close: the kernel drops what is queued and answers RST. */
    if (!uv_is_closing((uv_handle_t *)&c->tcp) &&
        uv_tcp_close_reset(&c->tcp, nc_kit_conn_freed) != 0)
        uv_close((uv_handle_t *)&c->tcp, nc_kit_conn_freed);
}
