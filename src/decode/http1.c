/*
 * http1.c: HTTP/1.x start lines and headers (RFC 9112), on any TCP port.
 *
 *   request:   METHOD SP target SP HTTP/1.1 CRLF    response: HTTP/1.1 SP 200 SP OK CRLF
 *              Name: value CRLF ...                           Name: value CRLF ...
 *              CRLF                                           CRLF
 *              body                                           body
 *
 * A TCP payload is HTTP when it starts with a known method and a space, or
 * with "HTTP/1."; no reassembly: a header block cut by the segment end is
 * counted as far as it goes. Fields: request (bool), method, target,
 * version, status, reason, headers (count), content_length (when the header
 * is there), body_len (payload bytes after the blank line, when it was seen;
 * for a request no more than its Content-Length, 0 without one),
 * more_requests (requests pipelined behind a bodiless one in the same
 * segment), and for a response request_method, the method of the request it
 * answers (requests and responses pair up in order on a connection, so the
 * flow remembers the methods: a response to HEAD carries no body).
 */
#include "proto.h"

#include "../core/error.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const http1_methods[] = {"GET",   "POST",    "PUT",     "DELETE", "HEAD",
                                            "PATCH", "OPTIONS", "CONNECT", "TRACE"};

#define HTTP1_LINE_MAX 8192

/* Splits the next line (without CRLF or LF) off c; false when there is no
 * line end in the captured bytes (then line holds the rest). */
static bool http1_line(nc_cursor_t *c, nc_cursor_t *line)
{
    *line = *c;
    uint8_t ch;
    while (nc_cur_u8(c, &ch)) {
        if (ch == '\n') {
            line->end = c->ptr - 1;
            if (line->end > line->ptr && line->end[-1] == '\r')
                line->end--;
            return true;
        }
    }
    line->end = c->ptr;
    return false;
}

/* Splits the next space-separated token off line. */
static nc_cursor_t http1_token(nc_cursor_t *line)
{
    nc_cursor_t tok = *line;
    uint8_t ch;
    while (nc_cur_peek_u8(line, 0, &ch) && ch != ' ')
        nc_cur_skip(line, 1);
    tok.end = line->ptr;
    nc_cur_skip(line, 1);
    return tok;
}

static int http1_method(const nc_cursor_t *c)
{
    size_t left = nc_cur_left(c);
    for (size_t i = 0; i < sizeof(http1_methods) / sizeof(http1_methods[0]); i++) {
        size_t n = strlen(http1_methods[i]);
        if (left > n && memcmp(c->ptr, http1_methods[i], n) == 0 && c->ptr[n] == ' ')
            return (int)i;
    }
    return -1;
}

static bool http1_is_response(const nc_cursor_t *c)
{
    return nc_cur_left(c) >= 8 && memcmp(c->ptr, "HTTP/1.", 7) == 0;
}

static bool http1_match(const nc_dctx_t *x, const nc_cursor_t *c)
{
    return x->l4 == 6 && (http1_method(c) >= 0 || http1_is_response(c));
}

static void http1_str(nc_dctx_t *x, const char *key, nc_cursor_t t)
{
    nc_evb_strn(x->b, key, (const char *)t.ptr, nc_cur_left(&t));
}

/* Remembers a request's method (http1_methods index) on the flow; a
 * retransmitted request was remembered the first time. */
static void http1_request_seen(nc_dctx_t *x, int method)
{
    if (x->flow == NULL || method < 0 || x->l4_retrans)
        return;
    nc_flow_dir_t *d = &x->flow->dir[x->flow_dir & 1];
    if (d->http_pending == 16)
        return;
    d->http_methods |= (uint64_t)(method + 1) << (4 * d->http_pending);
    d->http_pending++;
}

/* Pairs a response with the oldest waiting request of the other side and
 * returns its method, or NULL when unknown. An interim (1xx) response leaves
 * the request waiting for its final one; a retransmitted response answers
 * the request the first copy answered. */
static const char *http1_response_seen(nc_dctx_t *x, long status)
{
    if (x->flow == NULL)
        return NULL;
    nc_flow_dir_t *d = &x->flow->dir[!(x->flow_dir & 1)];
    unsigned m;
    if (x->l4_retrans) {
        m = d->http_answered;
    } else if (d->http_pending == 0) {
        return NULL;
    } else {
        m = (unsigned)(d->http_methods & 0xf);
        if (status < 100 || status >= 200) {
            d->http_methods >>= 4;
            d->http_pending--;
            d->http_answered = (uint8_t)m;
        }
    }
    return m >= 1 && m <= sizeof(http1_methods) / sizeof(http1_methods[0]) ? http1_methods[m - 1]
                                                                             : NULL;
}

static int http1_decode(nc_dctx_t *x, nc_cursor_t *c)
{
    const uint8_t *start = c->ptr;
    nc_decode_open(x, "http", c);
    bool request = !http1_is_response(c);
    int method = request ? http1_method(c) : -1;
    nc_cursor_t line;
    http1_line(c, &line);
    nc_cursor_t a = http1_token(&line), b = http1_token(&line), rest = line;
    nc_evb_bool(x->b, "request", request);
    int al = (int)(nc_cur_left(&a) > 16 ? 16 : nc_cur_left(&a));
    int bl = (int)(nc_cur_left(&b) > 200 ? 200 : nc_cur_left(&b));
    int rl = (int)(nc_cur_left(&rest) > 200 ? 200 : nc_cur_left(&rest));
    if (request) {
        http1_str(x, "method", a);
        http1_str(x, "target", b);
        http1_str(x, "version", rest);
        http1_request_seen(x, method);
        nc_decode_summary(x, "%.*s %.*s %.*s", al, (const char *)a.ptr, bl > 80 ? 80 : bl,
                          (const char *)b.ptr, rl > 16 ? 16 : rl, (const char *)rest.ptr);
    } else {
        char num[8] = "";
        size_t n = nc_cur_left(&b) < sizeof(num) - 1 ? nc_cur_left(&b) : sizeof(num) - 1;
        nc_cur_bytes(&b, num, n);
        http1_str(x, "version", a);
        long status = strtol(num, NULL, 10);
        nc_evb_int(x->b, "status", status);
        http1_str(x, "reason", rest);
        const char *for_method = http1_response_seen(x, status);
        if (for_method)
            nc_evb_str(x->b, "request_method", for_method);
        nc_decode_summary(x, "%.*s %s %.*s", al, (const char *)a.ptr, num, rl > 60 ? 60 : rl,
                          (const char *)rest.ptr);
    }
    int headers = 0;
    long long clen = -1;
    bool ended = false;
    while (nc_cur_left(c) > 0) {
        if (!http1_line(c, &line))
            break;
        if (nc_cur_left(&line) == 0) {
            ended = true;
            break;
        }
        headers++;
        static const char cl[] = "content-length:";
        if (nc_cur_left(&line) > sizeof(cl) - 1 &&
            strncasecmp((const char *)line.ptr, cl, sizeof(cl) - 1) == 0) {
            char num[24] = "";
            nc_cur_skip(&line, sizeof(cl) - 1);
            size_t n = nc_cur_left(&line) < sizeof(num) - 1 ? nc_cur_left(&line)
                                                            : sizeof(num) - 1;
            nc_cur_bytes(&line, num, n);
            clen = strtoll(num, NULL, 10);
        }
    }
    nc_evb_int(x->b, "headers", headers);
    if (clen >= 0)
        nc_evb_int(x->b, "content_length", clen);
    uint32_t hdr_bytes = (uint32_t)(c->ptr - start);
    if (ended) {
        /* A request has a body only when Content-Length says so (RFC 9112
         * 6.3; chunked requests are not read here): what follows a bodiless
         * one is the next request. */
        uint32_t after = x->l7_len > hdr_bytes ? x->l7_len - hdr_bytes : 0;
        if (request && (clen <= 0 || (uint64_t)clen < after))
            after = clen <= 0 ? 0 : (uint32_t)clen;
        nc_evb_int(x->b, "body_len", after);
    }
    /* Requests without a body pipelined behind this one in the same segment
     * are counted and remembered, so that each response finds its request. */
    int more = 0;
    nc_cursor_t next = *c;
    while (request && ended && clen <= 0 && more < 16) {
        int m = http1_method(&next);
        if (m < 0)
            break;
        http1_request_seen(x, m);
        more++;
        ended = false;
        while (!ended && http1_line(&next, &line))
            ended = nc_cur_left(&line) == 0;
    }
    if (more)
        nc_evb_int(x->b, "more_requests", more);
    nc_decode_close(x, c);
    c->ptr = c->end;
    return 0;
}

const nc_proto_t nc_http1_proto = {"http", http1_decode};
const nc_app_proto_t nc_http1_app = {&nc_http1_proto, http1_match};
