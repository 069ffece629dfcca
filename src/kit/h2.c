/*
 * h2.c: HTTP/2 endpoints of the kit (h2c by prior knowledge), on nghttp2
 * sessions fed by the kit's TCP connections.
 *
 * Data model. An nc_kit_h2_t owns one nghttp2_session (server or client)
 * over one nc_kit_conn_t, and the streams it is reading or answering
 * (nc_kit_h2_stream_t, a list: method, path or status, headers, body, and
 * for an answer the body still to send). nghttp2 does the protocol; the kit
 * moves bytes and says what they were:
 *
 *   - bytes that arrive are fed to nghttp2_session_mem_recv inside the
 *     connection's describe hook, so the read() report can name the frames
 *     it carried ("HEADERS on stream 1, DATA on stream 1"); streams that
 *     ended (END_STREAM) are queued and handed to the owner in on_data,
 *     after the read was reported;
 *   - whatever the session has to send (the preface, SETTINGS, their ACK,
 *     HEADERS, DATA, WINDOW_UPDATE, GOAWAY) is taken with
 *     nghttp2_session_mem_send and written in one write(), whose report
 *     names the frames it carries. So a client that asks for three paths
 *     at once writes one segment with three HEADERS frames: three streams
 *     on one connection, interleaved on the wire.
 *
 * The handle ends with its connection (on_closed is called once).
 */
#include "kit_impl.h"

#include "../core/buf.h"
#include "../core/error.h"
#include "../core/xmalloc.h"

#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NC_KIT_H2_HEADERS 32
#define NC_KIT_H2_DONE 64 /* streams ended in one read */

typedef struct nc_kit_h2_stream {
    int32_t id;
    struct nc_kit_h2_stream *next;
    char *method, *path;
    int status;
    nc_kit_header_t h[NC_KIT_H2_HEADERS]; /* names and values owned */
    size_t nh;
    nc_buf_t body;
    char *out; /* an answer's body (owned), sent from outpos */
    size_t outlen, outpos;
} nc_kit_h2_stream_t;

struct nc_kit_h2 {
    nc_kit_conn_t *c;
    nghttp2_session *s;
    bool server;
    nc_kit_h2_request_cb on_request;
    nc_kit_h2_response_cb on_response;
    void (*on_closed)(nc_kit_h2_t *h, void *data);
    void *data;
    nc_kit_h2_stream_t *streams;
    int32_t done[NC_KIT_H2_DONE];
    size_t ndone;
    size_t outstanding; /* client: requests not answered yet */
    nc_buf_t frames;    /* the frames of the read or write being described */
    size_t nframes;
};

/* ---- streams ---- */

static nc_kit_h2_stream_t *nc_kit_h2_stream(nc_kit_h2_t *h, int32_t id, bool make)
{
    for (nc_kit_h2_stream_t *st = h->streams; st; st = st->next)
        if (st->id == id)
            return st;
    if (!make)
        return NULL;
    nc_kit_h2_stream_t *st = nc_xcalloc(1, sizeof *st);
    st->id = id;
    nc_buf_init(&st->body);
    st->next = h->streams;
    h->streams = st;
    return st;
}

static void nc_kit_h2_stream_free(nc_kit_h2_stream_t *st)
{
    free(st->method);
    free(st->path);
    for (size_t i = 0; i < st->nh; i++) {
        free((char *)st->h[i].name);
        free((char *)st->h[i].value);
    }
    nc_buf_done(&st->body);
    free(st->out);
    free(st);
}

static void nc_kit_h2_stream_drop(nc_kit_h2_t *h, int32_t id)
{
    for (nc_kit_h2_stream_t **p = &h->streams; *p; p = &(*p)->next)
        if ((*p)->id == id) {
            nc_kit_h2_stream_t *st = *p;
            *p = st->next;
            nc_kit_h2_stream_free(st);
            return;
        }
}

/* ---- naming frames for the reports ---- */

static const char *const nc_kit_h2_types[] = {
    "DATA", "HEADERS", "PRIORITY", "RST_STREAM", "SETTINGS", "PUSH_PROMISE",
    "PING", "GOAWAY", "WINDOW_UPDATE", "CONTINUATION",
};

static void nc_kit_h2_name(nc_kit_h2_t *h, const nghttp2_frame *f)
{
    const char *t = f->hd.type < sizeof nc_kit_h2_types / sizeof nc_kit_h2_types[0]
                        ? nc_kit_h2_types[f->hd.type]
                        : "an unknown frame";
    bool ack = (f->hd.type == NGHTTP2_SETTINGS || f->hd.type == NGHTTP2_PING) &&
               (f->hd.flags & NGHTTP2_FLAG_ACK);
    nc_buf_printf(&h->frames, "%s%s%s", h->nframes++ ? ", " : "", t, ack ? " ACK" : "");
    if (f->hd.stream_id)
        nc_buf_printf(&h->frames, " on stream %d", f->hd.stream_id);
}

/* ---- nghttp2's callbacks ---- */

static int nc_kit_h2_on_send(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
    (void)s;
    nc_kit_h2_name(ud, f);
    return 0;
}

static int nc_kit_h2_on_begin(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
    (void)s;
    if (f->hd.type == NGHTTP2_HEADERS)
        nc_kit_h2_stream(ud, f->hd.stream_id, true);
    return 0;
}

static char *nc_kit_h2_dup(const uint8_t *p, size_t n)
{
    char *s = nc_xmalloc(n + 1);
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

static int nc_kit_h2_on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name,
                               size_t namelen, const uint8_t *value, size_t valuelen,
                               uint8_t flags, void *ud)
{
    (void)s, (void)flags;
    nc_kit_h2_stream_t *st = nc_kit_h2_stream(ud, f->hd.stream_id, true);
    if (namelen == 7 && memcmp(name, ":method", 7) == 0 && !st->method)
        st->method = nc_kit_h2_dup(value, valuelen);
    else if (namelen == 5 && memcmp(name, ":path", 5) == 0 && !st->path)
        st->path = nc_kit_h2_dup(value, valuelen);
    else if (namelen == 7 && memcmp(name, ":status", 7) == 0)
        st->status = (int)strtol((const char *)value, NULL, 10);
    if (st->nh < NC_KIT_H2_HEADERS) {
        st->h[st->nh].name = nc_kit_h2_dup(name, namelen);
        st->h[st->nh++].value = nc_kit_h2_dup(value, valuelen);
    }
    return 0;
}

static int nc_kit_h2_on_chunk(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data,
                              size_t len, void *ud)
{
    (void)s, (void)flags;
    nc_kit_h2_stream_t *st = nc_kit_h2_stream(ud, id, true);
    nc_buf_append(&st->body, data, len);
    return 0;
}

static int nc_kit_h2_on_recv(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
    (void)s;
    nc_kit_h2_t *h = ud;
    nc_kit_h2_name(h, f);
    bool end = (f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) &&
               (f->hd.flags & NGHTTP2_FLAG_END_STREAM);
    if (end && h->ndone < NC_KIT_H2_DONE)
        h->done[h->ndone++] = f->hd.stream_id;
    return 0;
}

static int nc_kit_h2_on_close(nghttp2_session *s, int32_t id, uint32_t err, void *ud)
{
    (void)s, (void)err;
    nc_kit_h2_t *h = ud;
    /* A stream still queued for its owner is freed once handed out. */
    for (size_t i = 0; i < h->ndone; i++)
        if (h->done[i] == id)
            return 0;
    nc_kit_h2_stream_drop(h, id);
    return 0;
}

static ssize_t nc_kit_h2_body(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len,
                              uint32_t *flags, nghttp2_data_source *src, void *ud)
{
    (void)s, (void)id, (void)ud;
    nc_kit_h2_stream_t *st = src->ptr;
    size_t k = st->outlen - st->outpos < len ? st->outlen - st->outpos : len;
    memcpy(buf, st->out + st->outpos, k);
    st->outpos += k;
    if (st->outpos == st->outlen)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)k;
}

/* ---- moving bytes ---- */

/* Writes whatever the session has to send in one write(), reported with
 * say (NULL: the frames it carries). */
static int nc_kit_h2_flush(nc_kit_h2_t *h, const char *say)
{
    nc_buf_t out;
    nc_buf_init(&out);
    nc_buf_reset(&h->frames);
    h->nframes = 0;
    for (;;) {
        const uint8_t *p;
        ssize_t n = nghttp2_session_mem_send(h->s, &p);
        if (n < 0) {
            nc_buf_done(&out);
            return NC_EIO;
        }
        if (n == 0)
            break;
        nc_buf_append(&out, p, (size_t)n);
    }
    int rc = 0;
    if (out.len > 0) {
        char text[512];
        snprintf(text, sizeof text, "write() %zu bytes of HTTP/2: %s", out.len,
                 nc_buf_cstr(&h->frames));
        rc = nc_kit_write(h->c, nc_buf_cstr(&out), out.len, say ? say : text);
    }
    nc_buf_done(&out);
    return rc;
}

static void nc_kit_h2_describe(nc_kit_conn_t *c, const char *data, size_t n, char *out,
                               size_t outlen)
{
    nc_kit_h2_t *h = nc_kit_conn_owner(c);
    if (n == 0)
        return;
    nc_buf_reset(&h->frames);
    h->nframes = 0;
    ssize_t r = nghttp2_session_mem_recv(h->s, (const uint8_t *)data, n);
    if (r < 0)
        snprintf(out, outlen, "read() %zu bytes that are not valid HTTP/2 (%s)", n,
                 nghttp2_strerror((int)r));
    else if (h->nframes)
        snprintf(out, outlen, "read() %zu bytes of HTTP/2: %s", n, nc_buf_cstr(&h->frames));
}

static nc_kit_http_msg_t nc_kit_h2_view(const nc_kit_h2_stream_t *st)
{
    return (nc_kit_http_msg_t){
        .method = st->method,
        .path = st->path,
        .status = st->status,
        .http_minor = 0,
        .headers = st->h,
        .nheaders = st->nh,
        .body = nc_buf_cstr(&st->body),
        .body_len = st->body.len,
        .keep_alive = true,
    };
}

static void nc_kit_h2_data(nc_kit_conn_t *c, const char *data, size_t n)
{
    (void)data, (void)n;
    nc_kit_h2_t *h = nc_kit_conn_owner(c);
    int32_t done[NC_KIT_H2_DONE];
    size_t ndone = h->ndone;
    memcpy(done, h->done, ndone * sizeof done[0]);
    h->ndone = 0;
    for (size_t i = 0; i < ndone && !nc_kit_conn_closing(c); i++) {
        nc_kit_h2_stream_t *st = nc_kit_h2_stream(h, done[i], false);
        if (!st)
            continue;
        nc_kit_http_msg_t m = nc_kit_h2_view(st);
        if (h->server) {
            h->on_request(h, st->id, &m, h->data);
        } else {
            if (h->outstanding)
                h->outstanding--;
            h->on_response(h, st->id, &m, h->data);
        }
        /* The stream is closed for good once its answer is out (server)
         * or its response read (client): nghttp2 has let it go or will. */
        if (!nghttp2_session_find_stream(h->s, done[i]))
            nc_kit_h2_stream_drop(h, done[i]);
    }
    if (!nc_kit_conn_closing(c))
        nc_kit_h2_flush(h, NULL);
}

static void nc_kit_h2_eof(nc_kit_conn_t *c)
{
    nc_kit_close(c, NULL);
}

static void nc_kit_h2_closed(nc_kit_conn_t *c)
{
    nc_kit_h2_t *h = nc_kit_conn_owner(c);
    if (h->on_closed)
        h->on_closed(h, h->data);
    nghttp2_session_del(h->s);
    while (h->streams) {
        nc_kit_h2_stream_t *st = h->streams;
        h->streams = st->next;
        nc_kit_h2_stream_free(st);
    }
    nc_buf_done(&h->frames);
    free(h);
}

static const nc_kit_conn_cbs_t nc_kit_h2_cbs = {
    .describe = nc_kit_h2_describe,
    .on_data = nc_kit_h2_data,
    .on_eof = nc_kit_h2_eof,
    .on_closed = nc_kit_h2_closed,
};

static nc_kit_h2_t *nc_kit_h2_new(nc_kit_conn_t *c, bool server, void *data)
{
    nc_kit_h2_t *h = nc_xcalloc(1, sizeof *h);
    h->c = c;
    h->server = server;
    h->data = data;
    nc_buf_init(&h->frames);
    nghttp2_session_callbacks *cb;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_on_frame_send_callback(cb, nc_kit_h2_on_send);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, nc_kit_h2_on_recv);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, nc_kit_h2_on_begin);
    nghttp2_session_callbacks_set_on_header_callback(cb, nc_kit_h2_on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, nc_kit_h2_on_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, nc_kit_h2_on_close);
    int rc = server ? nghttp2_session_server_new(&h->s, cb, h)
                    : nghttp2_session_client_new(&h->s, cb, h);
    nghttp2_session_callbacks_del(cb);
    if (rc != 0)
        nc_scn_fail(nc_kit_scn(nc_kit_conn_kit(c)), "HTTP/2: %s", nghttp2_strerror(rc));
    nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100}};
    nghttp2_submit_settings(h->s, NGHTTP2_FLAG_NONE, iv, 1);
    nc_kit_conn_start(c, &nc_kit_h2_cbs, h);
    return h;
}

nc_kit_h2_t *nc_kit_h2_server(nc_kit_conn_t *c, nc_kit_h2_request_cb cb,
                              void (*on_closed)(nc_kit_h2_t *h, void *data), void *data)
{
    nc_kit_h2_t *h = nc_kit_h2_new(c, true, data);
    h->on_request = cb;
    h->on_closed = on_closed;
    nc_kit_h2_flush(h, NULL);
    return h;
}

nc_kit_h2_t *nc_kit_h2_client(nc_kit_conn_t *c, nc_kit_h2_response_cb cb,
                              void (*on_closed)(nc_kit_h2_t *h, void *data), void *data)
{
    nc_kit_h2_t *h = nc_kit_h2_new(c, false, data);
    h->on_response = cb;
    h->on_closed = on_closed;
    return h;
}

/* nghttp2's name/value pairs for the pseudo-headers and headers given. */
static size_t nc_kit_h2_nv(nghttp2_nv *nv, size_t max, const char *const *pseudo, size_t npseudo,
                           const nc_kit_header_t *hd, size_t nh)
{
    size_t n = 0;
    for (size_t i = 0; i + 1 < npseudo * 2 && n < max; i += 2)
        nv[n++] = (nghttp2_nv){(uint8_t *)pseudo[i], (uint8_t *)pseudo[i + 1], strlen(pseudo[i]),
                               strlen(pseudo[i + 1]), NGHTTP2_NV_FLAG_NONE};
    for (size_t i = 0; i < nh && n < max; i++)
        nv[n++] = (nghttp2_nv){(uint8_t *)hd[i].name, (uint8_t *)hd[i].value, strlen(hd[i].name),
                               strlen(hd[i].value), NGHTTP2_NV_FLAG_NONE};
    return n;
}

int32_t nc_kit_h2_submit(nc_kit_h2_t *h, const char *method, const char *path,
                         const nc_kit_header_t *hd, size_t nh)
{
    char authority[80];
    snprintf(authority, sizeof authority, "%s", nc_kit_conn_peer(h->c));
    const char *pseudo[] = {":method", method, ":scheme", "http", ":authority", authority,
                            ":path", path};
    nghttp2_nv nv[NC_KIT_H2_HEADERS];
    size_t n = nc_kit_h2_nv(nv, NC_KIT_H2_HEADERS, pseudo, 4, hd, nh);
    int32_t id = nghttp2_submit_request(h->s, NULL, nv, n, NULL, NULL);
    if (id > 0) {
        nc_kit_h2_stream(h, id, true);
        h->outstanding++;
    }
    return id;
}

int nc_kit_h2_send(nc_kit_h2_t *h, const char *say)
{
    return nc_kit_h2_flush(h, say);
}

int nc_kit_h2_respond(nc_kit_h2_t *h, int32_t id, int status, const nc_kit_header_t *hd,
                      size_t nh, const char *body, size_t len)
{
    nc_kit_h2_stream_t *st = nc_kit_h2_stream(h, id, true);
    char code[8];
    snprintf(code, sizeof code, "%d", status);
    const char *pseudo[] = {":status", code};
    nghttp2_nv nv[NC_KIT_H2_HEADERS];
    size_t n = nc_kit_h2_nv(nv, NC_KIT_H2_HEADERS, pseudo, 1, hd, nh);
    free(st->out);
    st->out = nc_xmalloc(len ? len : 1);
    memcpy(st->out, body, len);
    st->outlen = len;
    st->outpos = 0;
    nghttp2_data_provider prd = {.source = {.ptr = st}, .read_callback = nc_kit_h2_body};
    int rc = nghttp2_submit_response(h->s, id, nv, n, len ? &prd : NULL);
    return rc == 0 ? 0 : NC_EINVAL;
}

int nc_kit_h2_goaway(nc_kit_h2_t *h, const char *say)
{
    if (nghttp2_session_terminate_session(h->s, NGHTTP2_NO_ERROR) != 0)
        return NC_EIO;
    return nc_kit_h2_flush(h, say);
}

size_t nc_kit_h2_outstanding(const nc_kit_h2_t *h)
{
    return h->outstanding;
}

nc_kit_conn_t *nc_kit_h2_conn(const nc_kit_h2_t *h)
{
    return h->c;
}
