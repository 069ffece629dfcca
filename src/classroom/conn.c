/*
 * conn.c: a class connection (see conn.h).
 *
 * Data model: c->in and c->out are the two memory BIOs of c->ssl. Reading:
 * libuv fills one thread-local buffer, the bytes go into c->in, the
 * handshake or SSL_read runs, and the plaintext goes through the frame
 * reader to on_frame. Writing: nc_conn_send frames the body, SSL_write
 * encrypts it into c->out, and nc_conn_flush moves c->out into c->pending
 * and from there to the socket: uv_try_write first (most writes finish at
 * once), then one uv_write at a time for the rest. inflight + pending is
 * the backlog the owner bounds.
 */
#include "conn.h"

#include "../core/clock.h"
#include "../core/error.h"
#include "../core/xmalloc.h"

#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { NC_CONN_CLOSE_GRACE_NS = 2000000000 };

typedef struct nc_conn_write {
    uv_write_t req;
    nc_conn_t *c;
    size_t len;
    char data[];
} nc_conn_write_t;

static _Thread_local char nc_conn_rbuf[64 * 1024];
static _Thread_local uint8_t nc_conn_pbuf[16 * 1024];

static void nc_conn_do_close(nc_conn_t *c);

/* Counts the TLS 1.3 KeyUpdate messages the peer sends (a bucket refilled
 * with time); only flags a flood, which nc_conn_read acts on once SSL_read
 * returns, never inside OpenSSL's call. */
static void nc_conn_msg_cb(int write_p, int version, int content_type, const void *buf,
                           size_t len, SSL *ssl, void *arg)
{
    nc_conn_t *c = arg;
    if (write_p || content_type != SSL3_RT_HANDSHAKE || len < 1 ||
        ((const uint8_t *)buf)[0] != SSL3_MT_KEY_UPDATE)
        return;
    if (!nc_rate_take(&c->ku, nc_clock_mono_ns() / 1000000, NC_CONN_KEYUPDATE_BURST,
                      NC_CONN_KEYUPDATE_REFILL_MS, true))
        c->ku_flood = true;
}

bool nc_rate_take(nc_rate_t *r, int64_t now_ms, int burst, int refill_ms, bool consume)
{
    const int64_t full = (int64_t)burst * refill_ms;
    r->tokens_ms = r->at_ms ? r->tokens_ms + (now_ms - r->at_ms) : full;
    if (r->tokens_ms > full)
        r->tokens_ms = full;
    r->at_ms = now_ms ? now_ms : 1;
    if (r->tokens_ms < refill_ms)
        return false;
    if (consume)
        r->tokens_ms -= refill_ms;
    return true;
}

static void nc_conn_peer_name(nc_conn_t *c)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    c->peer[0] = '\0';
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) != 0)
        return;
    char host[48] = "";
    int port = 0;
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        uv_ip4_name(a, host, sizeof host);
        port = ntohs(a->sin_port);
        snprintf(c->peer, sizeof c->peer, "%s:%d", host, port);
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        uv_ip6_name(a, host, sizeof host);
        port = ntohs(a->sin6_port);
        snprintf(c->peer, sizeof c->peer, "[%s]:%d", host, port);
    }
}

nc_conn_t *nc_conn_new(uv_loop_t *loop, SSL_CTX *ctx, bool server, const nc_conn_cb_t *cb,
                       uint32_t max)
{
    nc_conn_t *c = nc_xcalloc(1, sizeof *c);
    uv_tcp_init(loop, &c->tcp);
    c->tcp.data = c;
    c->cb = cb;
    c->ssl = SSL_new(ctx);
    c->in = BIO_new(BIO_s_mem());
    c->out = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(c->in, -1);
    BIO_set_mem_eof_return(c->out, -1);
    SSL_set_bio(c->ssl, c->in, c->out);
    SSL_set_msg_callback(c->ssl, nc_conn_msg_cb);
    SSL_set_msg_callback_arg(c->ssl, c);
    if (server)
        SSL_set_accept_state(c->ssl);
    else
        SSL_set_connect_state(c->ssl);
    nc_frame_reader_init(&c->rd, max);
    nc_buf_init(&c->pending);
    c->opened_ns = c->last_rx_ns = nc_clock_mono_ns();
    return c;
}

static void nc_conn_write_cb(uv_write_t *req, int status);

/* Moves TLS output to pending, and pending towards the socket. */
static void nc_conn_flush(nc_conn_t *c)
{
    size_t n = BIO_ctrl_pending(c->out);
    if (n) {
        if (c->pending.cap < c->pending.len + n) {
            c->pending.cap = c->pending.len + n;
            c->pending.data = nc_xrealloc(c->pending.data, c->pending.cap + 1);
        }
        int got = BIO_read(c->out, c->pending.data + c->pending.len, (int)n);
        if (got > 0)
            c->pending.len += (size_t)got;
    }
    if (c->writing || c->pending.len == 0 || uv_is_closing((uv_handle_t *)&c->tcp))
        return;
    uv_buf_t b = uv_buf_init(c->pending.data, (unsigned)c->pending.len);
    int w = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    size_t done = w > 0 ? (size_t)w : 0;
    if (w < 0 && w != UV_EAGAIN) {
        c->pending.len = 0;
        if (!c->closing)
            nc_conn_close(c, "the connection broke while writing");
        else
            nc_conn_do_close(c);
        return;
    }
    size_t left = c->pending.len - done;
    if (left == 0) {
        /* Keep no big buffer around for an idle connection. */
        if (c->pending.cap > 16384)
            nc_buf_done(&c->pending);
        else
            c->pending.len = 0;
        return;
    }
    nc_conn_write_t *wr = nc_xmalloc(sizeof *wr + left);
    wr->c = c;
    wr->len = left;
    memcpy(wr->data, c->pending.data + done, left);
    nc_buf_done(&c->pending);
    uv_buf_t wb = uv_buf_init(wr->data, (unsigned)left);
    c->writing = true;
    c->inflight = left;
    if (uv_write(&wr->req, (uv_stream_t *)&c->tcp, &wb, 1, nc_conn_write_cb) != 0) {
        free(wr);
        c->writing = false;
        c->inflight = 0;
        nc_conn_close(c, "the connection broke while writing");
    }
}

static void nc_conn_write_cb(uv_write_t *req, int status)
{
    nc_conn_write_t *wr = (nc_conn_write_t *)req;
    nc_conn_t *c = wr->c;
    free(wr);
    c->writing = false;
    c->inflight = 0;
    if (status < 0) {
        if (!c->closing)
            nc_conn_close(c, "the connection broke while writing");
        else
            nc_conn_do_close(c);
        return;
    }
    nc_conn_flush(c);
    if (c->closing) {
        if (!c->writing && c->pending.len == 0)
            nc_conn_do_close(c);
        return;
    }
    if (!c->writing && c->pending.len == 0 && c->cb->on_drain)
        c->cb->on_drain(c);
}

static int nc_conn_frame(void *arg, int type, const uint8_t *body, uint32_t len)
{
    nc_conn_t *c = arg;
    if (c->closing)
        return 1;
    return c->cb->on_frame(c, type, body, len);
}

static void nc_conn_tls_error(nc_conn_t *c, const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[160] = "";
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    char reason[200];
    snprintf(reason, sizeof reason, "%s%s%s", what, buf[0] ? ": " : "", buf);
    nc_conn_close(c, reason);
}

static void nc_conn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    b->base = nc_conn_rbuf;
    b->len = sizeof nc_conn_rbuf;
}

/* Client side: the server's first bytes are a plaintext refusal line. */
static void nc_conn_refused(nc_conn_t *c, const char *p, size_t n)
{
    static const char tag[] = "NC-REFUSED ";
    char line[200];
    size_t k = 0;
    while (k < n && k + 1 < sizeof line && p[k] != '\n') {
        unsigned char ch = (unsigned char)p[k];
        line[k] = ch >= 0x20 && ch < 0x7F ? (char)ch : '?';
        k++;
    }
    line[k] = '\0';
    if (strncmp(line, tag, sizeof tag - 1) != 0) {
        nc_conn_close(c, "the other side does not speak TLS");
        return;
    }
    char *code = line + sizeof tag - 1;
    char *text = code + strcspn(code, " ");
    if (*text)
        *text++ = '\0';
    char reason[240];
    snprintf(reason, sizeof reason, "refused (%s): %s", code, *text ? text : "no reason given");
    nc_conn_close(c, reason);
}

static void nc_conn_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    nc_conn_t *c = s->data;
    if (nread == 0 || c->closing)
        return;
    if (nread < 0) {
        nc_conn_close(c, nread == UV_EOF ? "the other side closed the connection"
                                          : uv_strerror((int)nread));
        return;
    }
    c->last_rx_ns = nc_clock_mono_ns();
    if (c->rx_bytes == 0 && !SSL_is_server(c->ssl) && buf->base[0] == 'N') {
        nc_conn_refused(c, buf->base, (size_t)nread);
        return;
    }
    c->rx_bytes += (uint64_t)nread;
    BIO_write(c->in, buf->base, (int)nread);
    if (!c->established) {
        int r = SSL_do_handshake(c->ssl);
        if (r != 1) {
            int e = SSL_get_error(c->ssl, r);
            nc_conn_flush(c);
            if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
                nc_conn_tls_error(c, "the TLS handshake failed");
            return;
        }
        c->established = true;
        nc_conn_flush(c);
        if (c->cb->on_open)
            c->cb->on_open(c);
        if (c->closing)
            return;
    }
    for (;;) {
        int n = SSL_read(c->ssl, nc_conn_pbuf, sizeof nc_conn_pbuf);
        if (n <= 0) {
            int e = SSL_get_error(c->ssl, n);
            if (e == SSL_ERROR_ZERO_RETURN)
                nc_conn_close(c, "the other side closed the connection");
            else if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
                nc_conn_tls_error(c, "TLS error");
            break;
        }
        char why[160];
        int rc = nc_frame_push(&c->rd, nc_conn_pbuf, (size_t)n, nc_conn_frame, c, why, sizeof why);
        if (rc == NC_EBADDATA) {
            char reason[200];
            snprintf(reason, sizeof reason, "garbage: %s", why);
            nc_conn_close(c, reason);
        } else if (rc != 0 && !c->closing) {
            nc_conn_close(c, "closed after a message it could not accept");
        }
        if (c->closing)
            break;
    }
    if (c->ku_flood && !c->closing)
        nc_conn_close(c, "too many TLS key updates");
    if (!c->closing)
        nc_conn_flush(c);
}

int nc_conn_start(nc_conn_t *c)
{
    nc_conn_peer_name(c);
    uv_tcp_nodelay(&c->tcp, 1);
    int rc = uv_read_start((uv_stream_t *)&c->tcp, nc_conn_alloc, nc_conn_read);
    if (rc != 0)
        return rc;
    if (!SSL_is_server(c->ssl)) {
        SSL_do_handshake(c->ssl);
        nc_conn_flush(c);
    }
    return 0;
}

int nc_conn_send_frames(nc_conn_t *c, const void *frames, size_t len)
{
    if (c->closing || !c->established)
        return NC_ESTOPPED;
    if (c->out_cap && nc_conn_backlog(c) + len > c->out_cap) {
        nc_conn_close(c, "too slow: its output exceeded the limit");
        return NC_ESTOPPED;
    }
    const char *p = frames;
    while (len > 0) {
        /* One TLS record holds at most 16 KiB; SSL_write splits, but
         * bounded chunks keep the output BIO small. */
        int n = (int)(len > 16384 ? 16384 : len);
        int w = SSL_write(c->ssl, p, n);
        if (w <= 0) {
            nc_conn_tls_error(c, "TLS error while writing");
            return NC_EIO;
        }
        p += w;
        len -= (size_t)w;
    }
    nc_conn_flush(c);
    return 0;
}

int nc_conn_send(nc_conn_t *c, int type, const void *body, size_t len)
{
    if (c->closing || !c->established)
        return NC_ESTOPPED;
    uint8_t small[512];
    if (len + NC_FRAME_HDR <= sizeof small) {
        uint32_t n = (uint32_t)len + 1;
        small[0] = (uint8_t)(n >> 24);
        small[1] = (uint8_t)(n >> 16);
        small[2] = (uint8_t)(n >> 8);
        small[3] = (uint8_t)n;
        small[4] = (uint8_t)type;
        if (len)
            memcpy(small + NC_FRAME_HDR, body, len);
        return nc_conn_send_frames(c, small, len + NC_FRAME_HDR);
    }
    nc_buf_t f;
    nc_buf_init(&f);
    nc_frame_put(&f, type, body, len);
    int rc = nc_conn_send_frames(c, f.data, f.len);
    nc_buf_done(&f);
    return rc;
}

size_t nc_conn_backlog(const nc_conn_t *c)
{
    return c->inflight + c->pending.len + BIO_ctrl_pending(c->out);
}

void nc_conn_refuse(nc_conn_t *c, const char *code, const char *text)
{
    if (c->closing)
        return;
    char line[240];
    int n = snprintf(line, sizeof line, "NC-REFUSED %s %s\n", code, text);
    if (n > (int)sizeof line - 1)
        n = (int)sizeof line - 1;
    /* One small write into an empty socket buffer: it goes at once or not
     * at all, and a refusal is not worth a queue. */
    uv_buf_t b = uv_buf_init(line, (unsigned)n);
    uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    nc_conn_close(c, text);
}

static void nc_conn_close_cb(uv_handle_t *h)
{
    nc_conn_t *c = h->data;
    if (c->cb->on_close)
        c->cb->on_close(c, c->reason);
    SSL_free(c->ssl);
    nc_frame_reader_done(&c->rd);
    nc_buf_done(&c->pending);
    free(c);
}

static void nc_conn_do_close(nc_conn_t *c)
{
    if (!uv_is_closing((uv_handle_t *)&c->tcp))
        uv_close((uv_handle_t *)&c->tcp, nc_conn_close_cb);
}

void nc_conn_close(nc_conn_t *c, const char *reason)
{
    if (c->closing)
        return;
    c->closing = true;
    snprintf(c->reason, sizeof c->reason, "%s", reason ? reason : "closed");
    c->close_at = nc_clock_mono_ns() + NC_CONN_CLOSE_GRACE_NS;
    uv_read_stop((uv_stream_t *)&c->tcp);
    if (c->established) {
        SSL_shutdown(c->ssl);
        ERR_clear_error();
    }
    nc_conn_flush(c);
    if (!c->writing && c->pending.len == 0)
        nc_conn_do_close(c);
}

void nc_conn_force_close(nc_conn_t *c)
{
    if (!c->closing)
        nc_conn_close(c, "closed");
    nc_conn_do_close(c);
}

X509 *nc_conn_peer_cert(nc_conn_t *c)
{
    return SSL_get0_peer_certificate(c->ssl);
}
