/*
 * h2.c: HTTP/2 endpoints of the kit (h2c, by prior knowledge or by Upgrade), on
 * nghttp2 sessions fed by the kit's TCP connections.
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
 * h2c by Upgrade (RFC 7540 3.2) is handled on both sides. A server waits
 * for the client's first bytes before it writes anything: the preface means
 * prior knowledge; an HTTP/1.1 request with "Upgrade: h2c" and
 * HTTP2-Settings is answered "101 Switching Protocols", and the request
 * becomes stream 1 (nghttp2_session_upgrade2), answered in HTTP/2; any other
 * request gets a 400 and the connection closes. A client made with
 * nc_kit_h2_client_upgrade writes such a request first and switches when
 * the 101 arrives (on_open tells its owner). Until then the handle is in
 * its HTTP/1 phase (`phase`), reading the head into `head`.
 *
 * Streaming (gRPC, kit/grpc.c). A handle given a stream hook
 * (nc_kit_h2_set_streaming) hands each stream to its owner as frames come,
 * not whole at END_STREAM: after every read, each stream that got HEADERS
 * or DATA is shown with the headers so far and the body bytes new since
 * the last time (then dropped). Its owner opens streams with their own
 * data source (nc_kit_h2_open), puts bytes on them as it likes
 * (nc_kit_h2_put: the source is deferred while it has none), and ends them
 * (nc_kit_h2_end), with trailers after the last DATA when it gives some.
 *
 * The handle ends with its connection (on_closed is called once).
 */
#include "kit_impl.h"

#include "../core/buf.h"
#include "../core/error.h"
#include "../core/xmalloc.h"

#include <nghttp2/nghttp2.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NC_KIT_H2_HEADERS 32
#define NC_KIT_H2_DONE 64 /* streams ended in one read */
#define NC_KIT_H2_HEAD 8192 /* an Upgrade request's or 101's head, at most */

/* Where a connection is: before its first bytes (a server), in the HTTP/1
 * exchange of an Upgrade, or speaking HTTP/2. */
enum { NC_H2_SNIFF, NC_H2_UPGRADE, NC_H2_FRAMES, NC_H2_FAILED };

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
    /* streaming: more may be put on it until ending; trailers (owned) go
     * after its last DATA */
    bool streaming, ending;
    nc_kit_header_t *trailers;
    size_t ntrailers;
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
    /* h2c by Upgrade */
    int phase;
    nc_buf_t head;       /* the HTTP/1 head read so far */
    bool answer_101;     /* server: the 101 is due (written in on_data) */
    bool opened;         /* client: the 101 came, on_open is due */
    bool broken;         /* the peer sent what nghttp2 refused: closing */
    void (*on_open)(nc_kit_h2_t *h, int status, void *data);
    /* client: the SETTINGS wait for the first send, so that a window set
     * by nc_kit_h2_window goes in them (0: the default, 65535) */
    bool settings_due;
    uint32_t window;
    /* streaming: the owner's hook, and the streams that got frames in the
     * read being handled */
    nc_kit_h2_stream_cb on_stream;
    int32_t touched[NC_KIT_H2_DONE];
    size_t ntouched;
};

/* The SETTINGS an endpoint opens with (an Upgrade client's go in its
 * HTTP2-Settings header instead, and nghttp2 sends them after the 101). */
static const nghttp2_settings_entry nc_kit_h2_settings[] = {
    {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100},
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
    for (size_t i = 0; i < st->ntrailers; i++) {
        free((char *)st->trailers[i].name);
        free((char *)st->trailers[i].value);
    }
    free(st->trailers);
    free(st);
}

/* Notes that a stream got frames in this read (streaming). */
static void nc_kit_h2_touch(nc_kit_h2_t *h, int32_t id)
{
    for (size_t i = 0; i < h->ntouched; i++)
        if (h->touched[i] == id)
            return;
    if (h->ntouched < NC_KIT_H2_DONE)
        h->touched[h->ntouched++] = id;
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
    nc_kit_h2_touch(ud, id);
    return 0;
}

static int nc_kit_h2_on_recv(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
    (void)s;
    nc_kit_h2_t *h = ud;
    nc_kit_h2_name(h, f);
    if (f->hd.type == NGHTTP2_HEADERS)
        nc_kit_h2_touch(h, f->hd.stream_id);
    bool end = (f->hd.type == NGHTTP2_HEADERS || f->hd.type == NGHTTP2_DATA) &&
               (f->hd.flags & NGHTTP2_FLAG_END_STREAM);
    if (end && h->ndone < NC_KIT_H2_DONE)
        h->done[h->ndone++] = f->hd.stream_id;
    /* An empty DATA frame that ends a stream brings no chunk: the stream
     * is shown anyway, since its end is news. */
    if (end)
        nc_kit_h2_touch(h, f->hd.stream_id);
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
    (void)ud;
    nc_kit_h2_stream_t *st = src->ptr;
    size_t k = st->outlen - st->outpos < len ? st->outlen - st->outpos : len;
    if (k)
        memcpy(buf, st->out + st->outpos, k);
    st->outpos += k;
    if (st->outpos < st->outlen)
        return (ssize_t)k;
    if (st->streaming && !st->ending)
        return k ? (ssize_t)k : NGHTTP2_ERR_DEFERRED;
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    if (st->ntrailers) {
        nghttp2_nv nv[NC_KIT_H2_HEADERS];
        size_t n = 0;
        for (size_t i = 0; i < st->ntrailers && n < NC_KIT_H2_HEADERS; i++)
            nv[n++] = (nghttp2_nv){(uint8_t *)st->trailers[i].name,
                                   (uint8_t *)st->trailers[i].value,
                                   strlen(st->trailers[i].name), strlen(st->trailers[i].value),
                                   NGHTTP2_NV_FLAG_NONE};
        if (nghttp2_submit_trailer(s, id, nv, n) == 0)
            *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
    }
    return (ssize_t)k;
}

/* ---- moving bytes ---- */

static void nc_kit_h2_submit_settings(nc_kit_h2_t *h);

/* Writes whatever the session has to send in one write(), reported with
 * say (NULL: the frames it carries). */
static int nc_kit_h2_flush(nc_kit_h2_t *h, const char *say)
{
    if (h->settings_due)
        nc_kit_h2_submit_settings(h);
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

/* ---- h2c by Upgrade ---- */

/* base64url without padding (RFC 4648 5), as HTTP2-Settings carries it. */
static void nc_kit_b64url(const uint8_t *p, size_t n, char *out, size_t outlen)
{
    char tmp[256];
    if (4 * ((n + 2) / 3) + 1 > sizeof tmp || outlen < sizeof tmp) {
        out[0] = '\0';
        return;
    }
    EVP_EncodeBlock((unsigned char *)tmp, p, (int)n);
    size_t k = 0;
    for (const char *c = tmp; *c && *c != '='; c++)
        out[k++] = *c == '+' ? '-' : *c == '/' ? '_' : *c;
    out[k] = '\0';
}

/* Decodes base64url into out; returns the length, or -1. */
static ssize_t nc_kit_b64url_decode(const char *s, size_t n, uint8_t *out, size_t outlen)
{
    char tmp[256];
    if (n + 4 > sizeof tmp || 3 * ((n + 3) / 4) > outlen)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        tmp[k++] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
    size_t pad = (4 - k % 4) % 4;
    if (pad == 3)
        return -1;
    for (size_t i = 0; i < pad; i++)
        tmp[k++] = '=';
    int r = EVP_DecodeBlock(out, (const unsigned char *)tmp, (int)k);
    return r < 0 ? -1 : (ssize_t)(r - (int)pad);
}

/* A header's value in an HTTP/1 head (case-insensitive name), copied into
 * out; false when absent. */
static bool nc_kit_h1_header(const char *head, const char *name, char *out, size_t outlen)
{
    size_t nl = strlen(name);
    for (const char *l = strstr(head, "\r\n"); l && l[2] != '\r'; l = strstr(l + 2, "\r\n")) {
        const char *line = l + 2;
        if (strncasecmp(line, name, nl) != 0 || line[nl] != ':')
            continue;
        const char *v = line + nl + 1;
        while (*v == ' ')
            v++;
        size_t vl = strcspn(v, "\r");
        snprintf(out, outlen, "%.*s", (int)vl, v);
        return true;
    }
    return false;
}

/* Server: the head of the client's HTTP/1 request is whole. Opens stream 1
 * for it when it asks for h2c, and says what the read carried. */
static void nc_kit_h2_upgrade_request(nc_kit_h2_t *h, char *out, size_t outlen)
{
    const char *head = nc_buf_cstr(&h->head);
    char method[16] = "", path[256] = "", up[64] = "", set[256] = "", host[128] = "";
    sscanf(head, "%15s %255s", method, path);
    uint8_t settings[192];
    ssize_t sl = -1;
    if (nc_kit_h1_header(head, "HTTP2-Settings", set, sizeof set))
        sl = nc_kit_b64url_decode(set, strlen(set), settings, sizeof settings);
    if (!nc_kit_h1_header(head, "Upgrade", up, sizeof up) || !strstr(up, "h2c") || sl < 0 ||
        nghttp2_session_upgrade2(h->s, settings, (size_t)sl, strcmp(method, "HEAD") == 0, NULL) != 0) {
        h->phase = NC_H2_FAILED;
        snprintf(out, outlen, "read() an HTTP/1.1 request for %s that does not ask for h2c", path);
        return;
    }
    nc_kit_h2_stream_t *st = nc_kit_h2_stream(h, 1, true);
    st->method = nc_xstrdup(method);
    st->path = nc_xstrdup(path);
    if (nc_kit_h1_header(head, "Host", host, sizeof host) && st->nh < NC_KIT_H2_HEADERS) {
        st->h[st->nh].name = nc_xstrdup(":authority");
        st->h[st->nh++].value = nc_xstrdup(host);
    }
    h->done[h->ndone++] = 1;
    h->answer_101 = true;
    h->phase = NC_H2_FRAMES;
    snprintf(out, outlen, "read() the HTTP/1.1 request %s %s with Upgrade: h2c: it becomes "
                          "stream 1, to be answered in HTTP/2", method, path);
}

/* Client: the head of the answer to its Upgrade request is whole. */
static void nc_kit_h2_upgrade_answer(nc_kit_h2_t *h, char *out, size_t outlen)
{
    const char *head = nc_buf_cstr(&h->head);
    int status = 0;
    sscanf(head, "HTTP/1.%*d %d", &status);
    uint8_t settings[64];
    ssize_t sl = nghttp2_pack_settings_payload(settings, sizeof settings, nc_kit_h2_settings,
                                               sizeof nc_kit_h2_settings / sizeof nc_kit_h2_settings[0]);
    if (status != 101 || sl < 0 ||
        nghttp2_session_upgrade2(h->s, settings, (size_t)sl, 0, NULL) != 0) {
        h->phase = NC_H2_FAILED;
        snprintf(out, outlen, "read() the answer %d: the server does not switch to HTTP/2", status);
        return;
    }
    nc_kit_h2_stream(h, 1, true);
    h->phase = NC_H2_FRAMES;
    h->opened = true;
    snprintf(out, outlen, "read() 101 Switching Protocols: from here on the connection speaks "
                          "HTTP/2, and the answer comes on stream 1");
}

/* Reads the HTTP/1 part of an Upgrade into head; returns the bytes of the
 * read that come after it (already HTTP/2), or n when the head goes on. */
static size_t nc_kit_h2_head(nc_kit_h2_t *h, const char *data, size_t n, char *out, size_t outlen)
{
    size_t before = h->head.len;
    nc_buf_append(&h->head, data, n);
    const char *all = nc_buf_cstr(&h->head);
    const char *end = strstr(all, "\r\n\r\n");
    if (!end) {
        if (h->head.len > NC_KIT_H2_HEAD)
            h->phase = NC_H2_FAILED;
        return n;
    }
    size_t used = (size_t)(end + 4 - all) - before;
    h->head.len = (size_t)(end + 4 - all);
    if (h->server)
        nc_kit_h2_upgrade_request(h, out, outlen);
    else
        nc_kit_h2_upgrade_answer(h, out, outlen);
    return used;
}

static void nc_kit_h2_describe(nc_kit_conn_t *c, const char *data, size_t n, char *out,
                               size_t outlen)
{
    nc_kit_h2_t *h = nc_kit_conn_owner(c);
    if (n == 0 || h->phase == NC_H2_FAILED)
        return;
    /* A server learns from the first bytes which way the client came. */
    if (h->phase == NC_H2_SNIFF)
        h->phase = n >= 3 && memcmp(data, "PRI", 3) == 0 ? NC_H2_FRAMES : NC_H2_UPGRADE;
    if (h->phase == NC_H2_UPGRADE) {
        size_t used = nc_kit_h2_head(h, data, n, out, outlen);
        if (h->phase != NC_H2_FRAMES || used == n)
            return;
        data += used;
        n -= used;
        char more[300];
        snprintf(more, sizeof more, "%s", out);
        nc_kit_h2_describe(c, data, n, out, outlen);
        if (out[0] && strlen(more) + 10 < outlen) {
            char tail[400];
            snprintf(tail, sizeof tail, "%s", out);
            snprintf(out, outlen, "%s; then %s", more, tail);
        } else {
            snprintf(out, outlen, "%s", more);
        }
        return;
    }
    nc_buf_reset(&h->frames);
    h->nframes = 0;
    ssize_t r = nghttp2_session_mem_recv(h->s, (const uint8_t *)data, n);
    if (r < 0) {
        h->broken = true;
        snprintf(out, outlen, "read() %zu bytes that are not valid HTTP/2 (%s)", n,
                 nghttp2_strerror((int)r));
    }
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

/* Streaming: hands each stream that got frames to the owner, with the
 * body bytes new since last time, then writes what the session owes. */
static void nc_kit_h2_stream_out(nc_kit_h2_t *h)
{
    int32_t touched[NC_KIT_H2_DONE];
    size_t nt = h->ntouched;
    memcpy(touched, h->touched, nt * sizeof touched[0]);
    h->ntouched = 0;
    for (size_t i = 0; i < nt && !nc_kit_conn_closing(h->c); i++) {
        nc_kit_h2_stream_t *st = nc_kit_h2_stream(h, touched[i], false);
        if (!st)
            continue;
        bool ended = false;
        for (size_t k = 0; k < h->ndone; k++)
            ended |= h->done[k] == touched[i];
        nc_kit_http_msg_t m = nc_kit_h2_view(st);
        h->on_stream(h, st->id, &m, ended, h->data);
        nc_buf_reset(&st->body);
    }
    /* Streams nghttp2 has let go of are freed once handed out. */
    for (size_t k = 0; k < h->ndone; k++)
        if (!nghttp2_session_find_stream(h->s, h->done[k]))
            nc_kit_h2_stream_drop(h, h->done[k]);
    h->ndone = 0;
    if (!nc_kit_conn_closing(h->c))
        nc_kit_h2_flush(h, NULL);
}

static void nc_kit_h2_data(nc_kit_conn_t *c, const char *data, size_t n)
{
    (void)data, (void)n;
    nc_kit_h2_t *h = nc_kit_conn_owner(c);
    if (h->phase == NC_H2_FAILED) {
        static const char bad[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
                                  "Connection: close\r\n\r\n";
        if (h->server)
            nc_kit_write(c, bad, sizeof bad - 1,
                         "write() 400 Bad Request: this server speaks HTTP/2 only");
        else if (h->on_open)
            h->on_open(h, NC_EIO, h->data);
        h->on_open = NULL;
        nc_kit_close(c, NULL);
        return;
    }
    if (h->phase != NC_H2_FRAMES)
        return;
    if (h->broken) {
        /* nghttp2 may owe the peer a GOAWAY that says why. */
        nc_kit_h2_flush(h, NULL);
        nc_kit_close(c, "close(): the peer broke the HTTP/2 protocol");
        return;
    }
    if (h->answer_101) {
        static const char sw[] = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                                 "Upgrade: h2c\r\n\r\n";
        h->answer_101 = false;
        nc_kit_write(c, sw, sizeof sw - 1,
                     "write() 101 Switching Protocols: the connection now speaks HTTP/2");
    }
    if (h->opened) {
        h->opened = false;
        nc_kit_h2_flush(h, "write() the HTTP/2 preface and SETTINGS: the client's side switches too");
        if (h->on_open)
            h->on_open(h, 0, h->data);
        h->on_open = NULL;
    }
    if (h->on_stream) {
        nc_kit_h2_stream_out(h);
        return;
    }
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
    nc_buf_done(&h->head);
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
    h->phase = server ? NC_H2_SNIFF : NC_H2_FRAMES;
    nc_buf_init(&h->frames);
    nc_buf_init(&h->head);
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
    nc_kit_conn_start(c, &nc_kit_h2_cbs, h);
    return h;
}

static void nc_kit_h2_submit_settings(nc_kit_h2_t *h)
{
    nghttp2_settings_entry e[2] = {nc_kit_h2_settings[0]};
    size_t n = 1;
    if (h->window)
        e[n++] = (nghttp2_settings_entry){NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, h->window};
    nghttp2_submit_settings(h->s, NGHTTP2_FLAG_NONE, e, n);
    h->settings_due = false;
}

nc_kit_h2_t *nc_kit_h2_server(nc_kit_conn_t *c, nc_kit_h2_request_cb cb,
                              void (*on_closed)(nc_kit_h2_t *h, void *data), void *data)
{
    nc_kit_h2_t *h = nc_kit_h2_new(c, true, data);
    h->on_request = cb;
    h->on_closed = on_closed;
    nc_kit_h2_submit_settings(h);
    return h;
}

nc_kit_h2_t *nc_kit_h2_client(nc_kit_conn_t *c, nc_kit_h2_response_cb cb,
                              void (*on_closed)(nc_kit_h2_t *h, void *data), void *data)
{
    nc_kit_h2_t *h = nc_kit_h2_new(c, false, data);
    h->on_response = cb;
    h->on_closed = on_closed;
    h->settings_due = true;
    return h;
}

void nc_kit_h2_window(nc_kit_h2_t *h, uint32_t window)
{
    h->window = window;
}

nc_kit_h2_t *nc_kit_h2_client_upgrade(nc_kit_conn_t *c, const char *path, nc_kit_h2_response_cb cb,
                                      void (*on_open)(nc_kit_h2_t *h, int status, void *data),
                                      void (*on_closed)(nc_kit_h2_t *h, void *data), void *data)
{
    nc_kit_h2_t *h = nc_kit_h2_new(c, false, data);
    h->on_response = cb;
    h->on_closed = on_closed;
    h->phase = NC_H2_UPGRADE;
    h->on_open = on_open;
    h->outstanding = 1;
    uint8_t settings[64];
    char b64[256];
    ssize_t sl = nghttp2_pack_settings_payload(settings, sizeof settings, nc_kit_h2_settings,
                                               sizeof nc_kit_h2_settings / sizeof nc_kit_h2_settings[0]);
    nc_kit_b64url(settings, sl > 0 ? (size_t)sl : 0, b64, sizeof b64);
    char req[600], say[400];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: Upgrade, "
                                      "HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: %s\r\n\r\n",
                     path, nc_kit_conn_peer(c), b64);
    snprintf(say, sizeof say, "write() GET %s over HTTP/1.1, asking to switch to HTTP/2 "
                              "(Upgrade: h2c)", path);
    nc_kit_write(c, req, (size_t)n, say);
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

/* A request's :scheme: "https" when the connection runs TLS (a sidecar's,
 * say), "http" for h2c. */
static const char *nc_kit_h2_scheme(const nc_kit_h2_t *h)
{
    return nc__kit_conn_tls(h->c) ? "https" : "http";
}

int32_t nc_kit_h2_submit(nc_kit_h2_t *h, const char *method, const char *path,
                         const nc_kit_header_t *hd, size_t nh)
{
    char authority[80];
    snprintf(authority, sizeof authority, "%s", nc_kit_conn_peer(h->c));
    const char *pseudo[] = {":method", method, ":scheme", nc_kit_h2_scheme(h), ":authority",
                            authority, ":path", path};
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

void nc_kit_h2_set_streaming(nc_kit_h2_t *h, nc_kit_h2_stream_cb cb)
{
    h->on_stream = cb;
}

int32_t nc_kit_h2_open(nc_kit_h2_t *h, int32_t stream, const char *path, int status,
                       const nc_kit_header_t *hd, size_t nh)
{
    char authority[80], code[8];
    snprintf(authority, sizeof authority, "%s", nc_kit_conn_peer(h->c));
    snprintf(code, sizeof code, "%d", status);
    const char *req[] = {":method", "POST", ":scheme", nc_kit_h2_scheme(h), ":authority",
                         authority, ":path", path};
    const char *resp[] = {":status", code};
    nghttp2_nv nv[NC_KIT_H2_HEADERS];
    size_t n = stream ? nc_kit_h2_nv(nv, NC_KIT_H2_HEADERS, resp, 1, hd, nh)
                      : nc_kit_h2_nv(nv, NC_KIT_H2_HEADERS, req, 4, hd, nh);
    /* The data source is the stream's record, made before nghttp2 knows the
     * id of a new one: it is filed under its id once submitted. */
    nc_kit_h2_stream_t *st = stream ? nc_kit_h2_stream(h, stream, true)
                                    : nc_xcalloc(1, sizeof *st);
    if (!stream)
        nc_buf_init(&st->body);
    st->streaming = true;
    nghttp2_data_provider prd = {.source = {.ptr = st}, .read_callback = nc_kit_h2_body};
    int32_t id = stream ? (nghttp2_submit_response(h->s, stream, nv, n, &prd) == 0 ? stream : -1)
                        : nghttp2_submit_request(h->s, NULL, nv, n, &prd, NULL);
    if (!stream && id > 0) {
        st->id = id;
        st->next = h->streams;
        h->streams = st;
    } else if (!stream) {
        nc_kit_h2_stream_free(st);
    }
    return id > 0 ? id : NC_EINVAL;
}

int nc_kit_h2_put(nc_kit_h2_t *h, int32_t stream, const void *p, size_t n)
{
    nc_kit_h2_stream_t *st = nc_kit_h2_stream(h, stream, false);
    if (!st || !st->streaming || st->ending)
        return NC_EINVAL;
    /* What was sent is let go before the buffer grows. */
    if (st->outpos)
        memmove(st->out, st->out + st->outpos, st->outlen - st->outpos);
    st->outlen -= st->outpos;
    st->outpos = 0;
    st->out = nc_xrealloc(st->out, st->outlen + n + 1);
    memcpy(st->out + st->outlen, p, n);
    st->outlen += n;
    nghttp2_session_resume_data(h->s, stream);
    return 0;
}

int nc_kit_h2_end(nc_kit_h2_t *h, int32_t stream, const nc_kit_header_t *trailers, size_t nt)
{
    nc_kit_h2_stream_t *st = nc_kit_h2_stream(h, stream, false);
    if (!st || !st->streaming || st->ending)
        return NC_EINVAL;
    st->ending = true;
    st->trailers = nt ? nc_xcalloc(nt, sizeof *st->trailers) : NULL;
    for (size_t i = 0; i < nt; i++)
        st->trailers[i] = (nc_kit_header_t){nc_xstrdup(trailers[i].name),
                                            nc_xstrdup(trailers[i].value)};
    st->ntrailers = nt;
    nghttp2_session_resume_data(h->s, stream);
    return 0;
}
