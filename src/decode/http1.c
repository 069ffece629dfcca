/*
 * http1.c: HTTP/1.x messages (RFC 9112) on a reassembled TCP stream.
 *
 *   request:   METHOD SP target SP HTTP/1.1 CRLF    response: HTTP/1.1 SP 200 SP OK CRLF
 *              Name: value CRLF ...                           Name: value CRLF ...
 *              CRLF                                           CRLF
 *              body                                           body
 *
 * A stream decoder (stream.h): each direction is a byte-at-a-time state
 * machine over nc_http_dir_t, a plain struct, so it reads a message however
 * the segments cut it, and pipelined messages one after another. The body's
 * length follows RFC 9112 section 6.3: a response to HEAD, a 1xx, 204 or 304
 * has none (the request's method comes from the other direction's queue of
 * pending requests, nc_http_flow_t); chunked bodies are read chunk by chunk
 * and every chunk's size is kept (the first NC_HTTP_CHUNKS); Content-Length
 * counts bytes; a response with neither runs to the end of the connection; a
 * request with neither has no body. A 101 answer to "Upgrade: websocket"
 * hands both directions to websocket.c, a 2xx answer to CONNECT (or another
 * Upgrade) turns the connection into an opaque tunnel, and the body of a
 * text/event-stream response goes to sse.c.
 *
 * A stream starts as HTTP when its first bytes look like a request or a
 * response; a start line that then turns out not to be HTTP/1.x (RTSP/1.0,
 * SIP/2.0), or one followed by a line that is not a header, gives the
 * connection back to the per-packet decoders, as plain TCP. A direction that
 * sent responses never sends a request (that is body text). Bytes lost to a
 * gap inside a body are counted (gap_bytes); a gap anywhere else ends the
 * message as incomplete, and the decoder waits for a segment that starts a
 * message to find its footing again, as it does on a connection the capture
 * met in the middle.
 *
 * A text/event-stream response is written into the packet that ends its
 * headers (its events follow as SSE messages, sse.c): a stream may never
 * end. tshark reports such a response only once its body ends, so the
 * oracle tests leave event streams out of the comparison.
 *
 * A message is written into the packet that completes it. Fields: request,
 * method, target, version, status, reason, request_method (a response's:
 * the method of the request it answers), headers (count), content_length,
 * chunked, chunks (sizes, in order), chunk_count, body_len (body bytes after
 * dechunking), gap_bytes, incomplete, upgrade, ws_deflate, content_type,
 * event_stream, last_event_id, ws_key and ws_accept (the WebSocket
 * handshake's Sec-WebSocket-Key and Sec-WebSocket-Accept), seq_start, seq_end and segments (the stream
 * bytes it spans), other_direction.
 */
#include "proto.h"
#include "stream.h"

#include "../core/error.h"
#include "../core/hex.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum {
    H_IDLE = 0,   /* between messages */
    H_START,      /* the start line */
    H_HEADER,     /* header lines */
    H_BODY,       /* Content-Length bytes */
    H_CHUNK_SIZE, /* a chunk-size line */
    H_CHUNK_DATA, /* chunk bytes */
    H_CHUNK_END,  /* the CRLF after chunk bytes */
    H_TRAILER,    /* trailer lines after the last chunk */
    H_CLOSE,      /* a body that runs to the end of the connection */
    H_UNSYNC,     /* lost: waiting for a segment that starts a message */
};

/* nc_http_dir_t.sent: what a direction has sent so far. A direction that
 * sent responses does not send requests: a "request" there is body text. */
#define HTTP1_SENT_REQUESTS 1u
#define HTTP1_SENT_RESPONSES 2u

/* Longest line the decoder will wait for; a longer one is not HTTP. */
#define HTTP1_LINE_LIMIT 65536u

static const char *const http1_methods[] = {"GET",   "POST",    "PUT",     "DELETE", "HEAD",
                                            "PATCH", "OPTIONS", "CONNECT", "TRACE"};

static size_t http1_method_len(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < sizeof(http1_methods) / sizeof(http1_methods[0]); i++) {
        size_t k = strlen(http1_methods[i]);
        if (n > k && memcmp(p, http1_methods[i], k) == 0 && p[k] == ' ')
            return k;
    }
    return 0;
}

/* True when the n bytes at p are a proper beginning of "METHOD " or of
 * "HTTP/1.": a first segment too short to tell. */
static bool http1_prefix(const uint8_t *p, size_t n)
{
    if (n < 7 && memcmp(p, "HTTP/1.", n) == 0)
        return true;
    for (size_t i = 0; i < sizeof(http1_methods) / sizeof(http1_methods[0]); i++) {
        size_t k = strlen(http1_methods[i]);
        if (n <= k && memcmp(p, http1_methods[i], n) == 0)
            return true;
    }
    return false;
}

bool nc__http1_looks_like(const uint8_t *p, size_t n)
{
    if (n == 0)
        return false;
    if (n >= 7 && memcmp(p, "HTTP/1.", 7) == 0)
        return true;
    if (http1_prefix(p, n))
        return true;
    if (http1_method_len(p, n) == 0)
        return false;
    /* When the request line ends in these bytes, it must name HTTP/1.x:
     * "OPTIONS rtsp://host RTSP/1.0" is RTSP, not HTTP. */
    const uint8_t *lf = memchr(p, '\n', n);
    if (lf == NULL)
        return true;
    size_t len = (size_t)(lf - p);
    if (len > 0 && p[len - 1] == '\r')
        len--;
    return len >= 9 && memcmp(p + len - 9, " HTTP/1.", 8) == 0;
}

/* Copies at most cap-1 bytes of [p, p+n) into dst as a C string. */
static void http1_copy(char *dst, size_t cap, const char *p, size_t n)
{
    if (n > cap - 1)
        n = cap - 1;
    memcpy(dst, p, n);
    dst[n] = '\0';
}

static void http1_begin(nc_http_dir_t *h, uint32_t rel)
{
    uint8_t keep_state = h->state, keep_sent = h->sent;
    memset(h, 0, sizeof(*h));
    h->state = keep_state;
    h->sent = keep_sent;
    h->content_length = -1;
    h->start_seq = rel;
    h->segments = 1;
}

/* Emits the message read so far, ending at relative seq end. */
static void http1_emit(nc_stream_ctx_t *sc, uint32_t end, bool incomplete)
{
    nc_http_dir_t *h = &sc->dir->http;
    nc_stream_msg_t m;
    memset(&m, 0, sizeof(m));
    m.proto = &nc_http1_stream;
    m.u.http = *h;
    m.seq_start = h->start_seq;
    m.segments = h->segments;
    m.incomplete = incomplete;
    nc_stream_emit(sc, &m, end);
    if (!incomplete)
        h->sent |= h->request ? HTTP1_SENT_REQUESTS : HTTP1_SENT_RESPONSES;
}

static void http1_lose(nc_stream_ctx_t *sc)
{
    sc->dir->http.state = H_UNSYNC;
}

void nc__http1_join(nc_stream_dir_t *dir)
{
    dir->http.state = H_UNSYNC;
}

/* The connection is not HTTP after all: plain TCP from here on, in both
 * directions unless the other one already carried HTTP messages. Met in the
 * middle, it may just be a body that looked like a start line: wait for the
 * next segment instead. */
static void http1_not_http(nc_stream_ctx_t *sc)
{
    if (sc->dir->midstream) {
        http1_lose(sc);
        return;
    }
    sc->dir->app = NC_SAPP_OPAQUE;
    if (sc->peer->app == NC_SAPP_HTTP && sc->peer->http.state == H_IDLE &&
        sc->peer->http.start_seq == 0 && sc->peer->http.headers == 0)
        sc->peer->app = NC_SAPP_OPAQUE;
}

static bool http1_version_ok(const char *v, size_t n)
{
    return n == 8 && memcmp(v, "HTTP/1.", 7) == 0 && v[7] >= '0' && v[7] <= '9';
}

/* Parses the start line in h->line; false when it is not HTTP/1.x. */
static bool http1_start_line(nc_http_dir_t *h)
{
    const char *s = h->line;
    size_t n = h->linelen;
    const char *sp1 = memchr(s, ' ', n);
    if (sp1 == NULL)
        return false;
    if (h->linetotal > h->linelen)
        h->truncated = true;
    if (http1_version_ok(s, (size_t)(sp1 - s))) {
        h->request = false;
        http1_copy(h->version, sizeof(h->version), s, (size_t)(sp1 - s));
        const char *code = sp1 + 1, *end = s + n;
        if (end - code < 3)
            return false;
        for (int i = 0; i < 3; i++)
            if (code[i] < '0' || code[i] > '9')
                return false;
        if (end - code > 3 && code[3] != ' ')
            return false;
        h->status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
        if (end - code > 4)
            http1_copy(h->reason, sizeof(h->reason), code + 4, (size_t)(end - code - 4));
        return true;
    }
    h->request = true;
    for (const char *p = s; p < sp1; p++)
        if (!((*p >= 'A' && *p <= 'Z') || *p == '-' || *p == '_'))
            return false;
    if (sp1 - s > 20)
        return false;
    http1_copy(h->method, sizeof(h->method), s, (size_t)(sp1 - s));
    /* The version is the last word; a line cut by our copy still has it
     * unless the target is longer than the copy. */
    const char *sp2 = NULL;
    for (const char *p = s + n; p > sp1; p--)
        if (p[-1] == ' ') {
            sp2 = p - 1;
            break;
        }
    if (h->truncated) {
        http1_copy(h->target, sizeof(h->target), sp1 + 1, (size_t)(s + n - sp1 - 1));
        strcpy(h->version, "HTTP/1.1");
        return true;
    }
    if (sp2 == NULL || sp2 == sp1 || !http1_version_ok(sp2 + 1, (size_t)(s + n - sp2 - 1)))
        return false;
    http1_copy(h->target, sizeof(h->target), sp1 + 1, (size_t)(sp2 - sp1 - 1));
    http1_copy(h->version, sizeof(h->version), sp2 + 1, (size_t)(s + n - sp2 - 1));
    return true;
}

static bool http1_has_word(const char *v, size_t n, const char *word)
{
    size_t k = strlen(word);
    for (size_t i = 0; i + k <= n; i++)
        if (strncasecmp(v + i, word, k) == 0)
            return true;
    return false;
}

static void hdr_content_length(nc_http_dir_t *h, const char *v, size_t n)
{
    int64_t len = 0;
    size_t i = 0;
    for (; i < n && v[i] >= '0' && v[i] <= '9'; i++) {
        if (len > (INT64_MAX - 9) / 10)
            return;
        len = len * 10 + (v[i] - '0');
    }
    if (i == 0 || i != n)
        return;
    h->content_length = len;
}

static void hdr_transfer_encoding(nc_http_dir_t *h, const char *v, size_t n)
{
    if (http1_has_word(v, n, "chunked"))
        h->chunked = true;
}

static void hdr_content_type(nc_http_dir_t *h, const char *v, size_t n)
{
    http1_copy(h->content_type, sizeof(h->content_type), v, n);
}

static void hdr_upgrade(nc_http_dir_t *h, const char *v, size_t n)
{
    if (http1_has_word(v, n, "websocket"))
        h->upgrade_ws = true;
    else
        h->upgrade_other = true;
    if (http1_has_word(v, n, "h2c"))
        h->upgrade_h2c = true;
}

static void hdr_ws_extensions(nc_http_dir_t *h, const char *v, size_t n)
{
    if (http1_has_word(v, n, "permessage-deflate"))
        h->ws_deflate = true;
}

static void hdr_last_event_id(nc_http_dir_t *h, const char *v, size_t n)
{
    http1_copy(h->last_event_id, sizeof(h->last_event_id), v, n);
}

static void hdr_ws_key(nc_http_dir_t *h, const char *v, size_t n)
{
    http1_copy(h->ws_key, sizeof(h->ws_key), v, n);
}

static void hdr_ws_accept(nc_http_dir_t *h, const char *v, size_t n)
{
    http1_copy(h->ws_accept, sizeof(h->ws_accept), v, n);
}

static const struct {
    const char *name;
    void (*set)(nc_http_dir_t *h, const char *v, size_t n);
} http1_headers[] = {
    {"content-length", hdr_content_length},
    {"transfer-encoding", hdr_transfer_encoding},
    {"content-type", hdr_content_type},
    {"upgrade", hdr_upgrade},
    {"sec-websocket-extensions", hdr_ws_extensions},
    {"last-event-id", hdr_last_event_id},
    {"sec-websocket-key", hdr_ws_key},
    {"sec-websocket-accept", hdr_ws_accept},
};

/* Reads one header line; false when it is not one (no colon, or a name
 * that is not a token), which means the bytes are not HTTP after all. */
static bool http1_header_line(nc_http_dir_t *h)
{
    const char *s = h->line;
    if (h->linelen > 0 && (s[0] == ' ' || s[0] == '\t'))
        return true; /* obs-fold: the value above goes on (RFC 9112 5.2) */
    const char *colon = memchr(s, ':', h->linelen);
    if (colon == NULL || colon == s)
        return false;
    for (const char *p = s; p < colon; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == '"' || *p == '(' || *p == ')' ||
            *p == ',' || *p == '/' || *p == ';' || *p == '<' || *p == '>' || *p == '@' ||
            *p == '[' || *p == ']' || *p == '\\' || *p == '{' || *p == '}' || *p == '=' ||
            *p == '?')
            return false;
    h->headers++;
    size_t nlen = (size_t)(colon - s);
    const char *v = colon + 1, *end = s + h->linelen;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    for (size_t i = 0; i < sizeof(http1_headers) / sizeof(http1_headers[0]); i++)
        if (strlen(http1_headers[i].name) == nlen && strncasecmp(s, http1_headers[i].name, nlen) == 0)
            http1_headers[i].set(h, v, (size_t)(end - v));
    return true;
}

static nc_http_pending_t *http1_front(nc_http_flow_t *f)
{
    return f->qlen ? &f->q[f->qhead] : NULL;
}

static void http1_pop(nc_http_flow_t *f)
{
    if (f->qlen) {
        f->qhead = (uint8_t)((f->qhead + 1) % NC_HTTP_PENDING);
        f->qlen--;
    }
}

/* The blank line ended the headers at relative seq end: decide the body,
 * or hand the stream to another decoder (Upgrade, CONNECT). */
/* Hands direction d to app from its next byte. */
static void http1_switch(nc_stream_dir_t *d, uint8_t app, bool deflate)
{
    d->app = app;
    memset(&d->ws, 0, sizeof(d->ws));
    d->ws.deflate = deflate;
}

/* A request just ended: switch if the 101 answering it came first. */
static void http1_after_request(nc_stream_ctx_t *sc)
{
    nc_http_dir_t *h = &sc->dir->http;
    if (h->switch_to)
        http1_switch(sc->dir, h->switch_to, h->switch_deflate);
}

static void http1_headers_done(nc_stream_ctx_t *sc, uint32_t end)
{
    nc_http_dir_t *h = &sc->dir->http;
    nc_http_flow_t *f = &sc->st->http;
    if (h->request) {
        if (f->qlen < NC_HTTP_PENDING) {
            nc_http_pending_t *q = &f->q[(f->qhead + f->qlen) % NC_HTTP_PENDING];
            memset(q, 0, sizeof(*q));
            http1_copy(q->method, sizeof(q->method), h->method, strlen(h->method));
            q->upgrade_ws = h->upgrade_ws;
            q->ws_deflate = h->ws_deflate;
            q->upgrade_h2c = h->upgrade_h2c;
            f->qlen++;
        }
        if (h->chunked) {
            h->state = H_CHUNK_SIZE;
        } else if (h->content_length > 0) {
            h->remaining = (uint64_t)h->content_length;
            h->state = H_BODY;
        } else {
            http1_emit(sc, end, false);
            h->state = H_IDLE;
            http1_after_request(sc);
        }
        return;
    }
    nc_http_pending_t req = {0};
    if (http1_front(f))
        req = *http1_front(f);
    memcpy(h->request_method, req.method, sizeof(h->request_method));
    bool head = strcmp(req.method, "HEAD") == 0, connect = strcmp(req.method, "CONNECT") == 0;
    if (h->status == 101) {
        http1_pop(f);
        http1_emit(sc, end, false);
        h->state = H_IDLE;
        uint8_t app = (req.upgrade_ws || h->upgrade_ws) ? NC_SAPP_WEBSOCKET
                      : (req.upgrade_h2c && h->upgrade_h2c) ? NC_SAPP_HTTP2
                                                            : NC_SAPP_TUNNEL;
        http1_switch(sc->dir, app, h->ws_deflate);
        if (app == NC_SAPP_HTTP2)
            nc__http2_upgraded(sc, !sc->d);
        /* The other side switches once its upgrade request is whole (the
         * capture may show the 101 before the request's last segment). */
        nc_http_dir_t *ph = &sc->peer->http;
        if (sc->peer->app != NC_SAPP_HTTP || ph->state == H_IDLE || ph->state == H_UNSYNC) {
            http1_switch(sc->peer, app, h->ws_deflate);
        } else {
            ph->switch_to = app;
            ph->switch_deflate = h->ws_deflate;
        }
        return;
    }
    if (h->status >= 100 && h->status < 200) {
        /* An interim response: the request still waits for its final one. */
        http1_emit(sc, end, false);
        h->state = H_IDLE;
        return;
    }
    http1_pop(f);
    if (connect && h->status >= 200 && h->status < 300) {
        http1_emit(sc, end, false);
        h->state = H_IDLE;
        sc->dir->app = sc->peer->app = NC_SAPP_TUNNEL;
        return;
    }
    if (head || h->status == 204 || h->status == 304) {
        http1_emit(sc, end, false);
        h->state = H_IDLE;
        return;
    }
    h->sse = strncasecmp(h->content_type, "text/event-stream", 17) == 0;
    if (h->sse) {
        /* An event stream may never end: the response is shown when its
         * headers are, and its events as they come. */
        http1_emit(sc, end, false);
        memset(&sc->dir->sse, 0, sizeof(sc->dir->sse));
    }
    if (h->chunked) {
        h->state = H_CHUNK_SIZE;
    } else if (h->content_length >= 0) {
        h->remaining = (uint64_t)h->content_length;
        h->state = H_BODY;
        if (h->remaining == 0) {
            if (!h->sse)
                http1_emit(sc, end, false);
            h->state = H_IDLE;
        }
    } else {
        h->state = H_CLOSE;
    }
}

/* Body bytes [p, p+n) at relative seq rel. */
static void http1_body(nc_stream_ctx_t *sc, const uint8_t *p, size_t n, uint32_t rel)
{
    nc_http_dir_t *h = &sc->dir->http;
    h->body_len += n;
    if (h->sse)
        nc__sse_data(sc, p, n, rel);
}

/* The message ended at relative seq end. */
static void http1_done(nc_stream_ctx_t *sc, uint32_t end)
{
    nc_http_dir_t *h = &sc->dir->http;
    if (h->sse)
        nc__sse_end(sc);
    else
        http1_emit(sc, end, false);
    h->state = H_IDLE;
    if (h->request)
        http1_after_request(sc);
}

/* Parses a chunk-size line; false when it is not one. */
static bool http1_chunk_size(nc_http_dir_t *h, uint64_t *size)
{
    uint64_t v = 0;
    size_t i = 0;
    for (; i < h->linelen; i++) {
        char ch = h->line[i];
        int dgt = nc_hex_digit(ch);
        if (dgt < 0)
            break;
        if (v >> 60)
            return false;
        v = v * 16 + (uint64_t)dgt;
    }
    if (i == 0 || (i < h->linelen && h->line[i] != ';' && h->line[i] != ' ' && h->line[i] != '\t'))
        return false;
    *size = v;
    return true;
}

/* A whole line is in h->line; end is the relative seq just past its LF. The
 * stream may leave HTTP here (the caller checks sc->dir->app). */
static void http1_line_done(nc_stream_ctx_t *sc, uint32_t end)
{
    nc_http_dir_t *h = &sc->dir->http;
    switch (h->state) {
    case H_START:
        if (!http1_start_line(h)) {
            http1_not_http(sc);
            return;
        }
        if (h->sent & (h->request ? HTTP1_SENT_RESPONSES : HTTP1_SENT_REQUESTS)) {
            http1_lose(sc);
            return;
        }
        h->state = H_HEADER;
        return;
    case H_HEADER:
        if (h->linetotal == 0) {
            http1_headers_done(sc, end);
        } else if (!http1_header_line(h)) {
            /* A start line followed by something else: body text that
             * looked like a message. Met in the middle, wait for the next
             * segment; otherwise this is not HTTP. */
            http1_not_http(sc);
        }
        return;
    case H_CHUNK_SIZE: {
        uint64_t size;
        if (!http1_chunk_size(h, &size)) {
            http1_emit(sc, end, true);
            http1_lose(sc);
            return;
        }
        if (h->nchunks < NC_HTTP_CHUNKS)
            h->chunk_sizes[h->nchunks] = size > UINT32_MAX ? UINT32_MAX : (uint32_t)size;
        h->nchunks++;
        if (size == 0) {
            h->state = H_TRAILER;
        } else {
            h->remaining = size;
            h->state = H_CHUNK_DATA;
        }
        return;
    }
    case H_CHUNK_END:
        if (h->linetotal != 0) {
            http1_emit(sc, end, true);
            http1_lose(sc);
            return;
        }
        h->state = H_CHUNK_SIZE;
        return;
    case H_TRAILER:
        if (h->linetotal == 0)
            http1_done(sc, end);
        return;
    default:
        return;
    }
}

static bool http1_in_line(uint8_t state)
{
    return state == H_START || state == H_HEADER || state == H_CHUNK_SIZE ||
           state == H_CHUNK_END || state == H_TRAILER;
}

/* One byte of a line; end is the relative seq just past it. */
static void http1_line_byte(nc_stream_ctx_t *sc, uint8_t ch, uint32_t end)
{
    nc_http_dir_t *h = &sc->dir->http;
    if (ch == '\n') {
        if (h->cr) {
            /* The CR of a CRLF is not part of the line. */
            if (h->linelen == h->linetotal)
                h->line[--h->linelen] = '\0';
            h->linetotal--;
            h->cr = false;
        }
        http1_line_done(sc, end);
        h->linelen = 0;
        h->linetotal = 0;
        return;
    }
    if (h->linelen < sizeof(h->line) - 1)
        h->line[h->linelen++] = (char)ch;
    h->line[h->linelen] = '\0';
    h->linetotal++;
    h->cr = ch == '\r';
    if (h->linetotal > HTTP1_LINE_LIMIT) {
        if (h->state == H_START)
            http1_not_http(sc);
        else
            http1_lose(sc);
    }
}

/* Body bytes: as many of c's as the body or chunk still has. */
static void http1_body_bytes(nc_stream_ctx_t *sc, nc_cursor_t *c, uint32_t rel)
{
    nc_http_dir_t *h = &sc->dir->http;
    size_t k = nc_cur_left(c);
    if (h->state != H_CLOSE && h->remaining < k)
        k = (size_t)h->remaining;
    nc_cursor_t body;
    nc_cur_sub(c, k, &body);
    http1_body(sc, body.ptr, k, rel);
    if (h->state == H_CLOSE)
        return;
    h->remaining -= k;
    if (h->remaining > 0)
        return;
    if (h->state == H_BODY)
        http1_done(sc, rel + (uint32_t)k);
    else
        h->state = H_CHUNK_END;
}

static size_t http1_data(nc_stream_ctx_t *sc, const uint8_t *p, size_t n)
{
    nc_http_dir_t *h = &sc->dir->http;
    if (h->state == H_UNSYNC) {
        if (!sc->seg_start || !nc__http1_looks_like(p, n))
            return n;
        h->state = H_IDLE;
    }
    if (sc->seg_start && h->state != H_IDLE)
        h->segments++;
    nc_cursor_t c = nc_cur_make(p, n);
    uint8_t ch;
    while (nc_cur_left(&c) > 0 && h->state != H_UNSYNC) {
        uint32_t rel = sc->rel + (uint32_t)(c.ptr - p);
        if (h->state == H_IDLE) {
            /* Blank lines between messages are allowed (RFC 9112 2.2). */
            if (nc_cur_peek_u8(&c, 0, &ch) && (ch == '\r' || ch == '\n')) {
                nc_cur_skip(&c, 1);
                continue;
            }
            http1_begin(h, rel);
            h->state = H_START;
        }
        if (http1_in_line(h->state)) {
            nc_cur_u8(&c, &ch);
            http1_line_byte(sc, ch, rel + 1);
        } else {
            http1_body_bytes(sc, &c, rel);
        }
        if (sc->dir->app != NC_SAPP_HTTP)
            return (size_t)(c.ptr - p); /* the rest belongs to another decoder */
    }
    return n;
}

/* A message whose start line was read: worth showing even if cut short. */
static bool http1_started(uint8_t state)
{
    return state != H_IDLE && state != H_START && state != H_UNSYNC;
}

static bool http1_in_body(uint8_t state)
{
    return state != H_IDLE && state != H_START && state != H_HEADER && state != H_UNSYNC;
}

static void http1_gap(nc_stream_ctx_t *sc, uint32_t n)
{
    nc_http_dir_t *h = &sc->dir->http;
    if ((h->state == H_BODY || h->state == H_CHUNK_DATA) && n <= h->remaining) {
        h->remaining -= n;
        h->body_len += n;
        h->gap_bytes += n;
        if (h->remaining == 0) {
            if (h->state == H_BODY)
                http1_done(sc, sc->rel + n);
            else
                h->state = H_CHUNK_END;
        }
        return;
    }
    if (h->state == H_CLOSE) {
        h->body_len += n;
        h->gap_bytes += n;
        return;
    }
    if (h->sse && http1_in_body(h->state))
        nc__sse_end(sc);
    else if (http1_started(h->state))
        http1_emit(sc, sc->rel, true);
    http1_lose(sc);
}

static void http1_end(nc_stream_ctx_t *sc)
{
    nc_http_dir_t *h = &sc->dir->http;
    if (h->state == H_CLOSE) {
        http1_done(sc, sc->rel);
    } else if (http1_started(h->state)) {
        if (h->sse && http1_in_body(h->state))
            nc__sse_end(sc);
        else
            http1_emit(sc, sc->rel, true);
    }
    h->state = H_IDLE;
}

static void http1_write(nc_evb_t *b, const nc_stream_msg_t *m)
{
    const nc_http_dir_t *h = &m->u.http;
    nc_evb_bool(b, "request", h->request);
    if (h->request) {
        nc_evb_str(b, "method", h->method);
        nc_evb_str(b, "target", h->target);
        nc_evb_str(b, "version", h->version);
    } else {
        nc_evb_str(b, "version", h->version);
        nc_evb_int(b, "status", h->status);
        nc_evb_str(b, "reason", h->reason);
        if (h->request_method[0])
            nc_evb_str(b, "request_method", h->request_method);
    }
    nc_evb_int(b, "headers", h->headers);
    if (h->content_length >= 0)
        nc_evb_int(b, "content_length", h->content_length);
    if (h->chunked) {
        nc_evb_bool(b, "chunked", true);
        nc_evb_list(b, "chunks");
        for (uint32_t i = 0; i < h->nchunks && i < NC_HTTP_CHUNKS; i++)
            nc_evb_int(b, NULL, h->chunk_sizes[i]);
        nc_evb_end(b);
        nc_evb_int(b, "chunk_count", h->nchunks);
    }
    /* body_len only once the blank line ended the headers (the notes say
     * whether it did by its presence). */
    if (!h->sse && !(m->incomplete && h->state == H_HEADER))
        nc_evb_int(b, "body_len", (int64_t)h->body_len);
    if (h->gap_bytes)
        nc_evb_int(b, "gap_bytes", (int64_t)h->gap_bytes);
    if (m->incomplete)
        nc_evb_bool(b, "incomplete", true);
    if (h->upgrade_ws)
        nc_evb_str(b, "upgrade", "websocket");
    if (h->ws_deflate)
        nc_evb_bool(b, "ws_deflate", true);
    if (h->content_type[0])
        nc_evb_str(b, "content_type", h->content_type);
    if (h->sse)
        nc_evb_bool(b, "event_stream", true);
    if (h->last_event_id[0])
        nc_evb_str(b, "last_event_id", h->last_event_id);
    if (h->ws_key[0])
        nc_evb_str(b, "ws_key", h->ws_key);
    if (h->ws_accept[0])
        nc_evb_str(b, "ws_accept", h->ws_accept);
    nc_evb_int(b, "seq_start", m->seq_start);
    nc_evb_int(b, "seq_end", m->seq_end);
    nc_evb_int(b, "segments", m->segments);
}

static void http1_summary(const nc_stream_msg_t *m, char *s, size_t n)
{
    const nc_http_dir_t *h = &m->u.http;
    if (h->request)
        snprintf(s, n, "%.16s %.80s %s%s", h->method, h->target, h->version,
                 m->incomplete ? " (incomplete)" : "");
    else
        snprintf(s, n, "%s %d %.60s%s", h->version, h->status, h->reason,
                 m->incomplete ? " (incomplete)" : "");
}

static const nc_field_decl_t http1_fields[] = {
    {"request", NC_F_BOOL},       {"method", NC_F_STR},        {"target", NC_F_STR},
    {"version", NC_F_STR},        {"status", NC_F_INT},        {"reason", NC_F_STR},
    {"request_method", NC_F_STR},
    {"headers", NC_F_INT},        {"content_length", NC_F_INT}, {"chunked", NC_F_BOOL},
    {"chunks", NC_F_LIST},        {"chunk_count", NC_F_INT},   {"body_len", NC_F_INT},
    {"gap_bytes", NC_F_INT},      {"incomplete", NC_F_BOOL},   {"upgrade", NC_F_STR},
    {"ws_deflate", NC_F_BOOL},    {"content_type", NC_F_STR},  {"event_stream", NC_F_BOOL},
    {"last_event_id", NC_F_STR},  {"seq_start", NC_F_INT},     {"seq_end", NC_F_INT},
    {"segments", NC_F_INT},       {"other_direction", NC_F_BOOL},
    {"ws_key", NC_F_STR},         {"ws_accept", NC_F_STR},     {"decrypted", NC_F_BOOL},
    {NULL, 0},
};

const nc_stream_proto_t nc_http1_stream = {
    .name = "http",
    .fields = http1_fields,
    .data = http1_data,
    .gap = http1_gap,
    .end = http1_end,
    .write = http1_write,
    .summary = http1_summary,
};

/* nc_decoder_layer("http1"): the bytes as the client's side of a fresh
 * connection (the fuzz harness and tests). */
static int http1_layer(nc_dctx_t *x, nc_cursor_t *c)
{
    return nc__stream_layer(x, c, NC_SAPP_HTTP);
}

const nc_proto_t nc_http1_proto = {"http", http1_layer, http1_fields};
