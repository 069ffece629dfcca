/*
 * http.c: HTTP/1.x endpoints of the kit, server and client, on http_parser.
 *
 * Data model. An nc_kit_http_t owns the parser of one connection and a
 * queue of parsed messages (nc_kit_pmsg_t: method, path or status, headers,
 * body, all owned strings). Bytes are parsed when they arrive, inside the
 * connection's describe hook, so that the read() report can say what the
 * bytes completed ("the request GET /a"); the messages are then handed out
 * by on_data.
 *
 * A server hands its owner one request at a time: the next pipelined
 * request waits until the previous one is answered, which is what answering
 * in order means. Whether the connection stays open after an answer is the
 * request's (http_should_keep_alive: HTTP/1.0 without keep-alive, or
 * "Connection: close" ends it), and the answer says so.
 *
 * A client keeps the requests it sent and not yet answered (the method, to
 * know a HEAD answer has no body; the body held back for a 100-continue).
 * A streamed response of type text/event-stream is also cut into events.
 * After an Upgrade, the rest of the bytes belong to the WebSocket.
 */
#include "kit_impl.h"

#include "../core/buf.h"
#include "../core/error.h"
#include "../core/xmalloc.h"

#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct nc_kit_pmsg {
    char *method, *path;
    int status, minor;
    nc_kit_header_t *h; /* names and values owned */
    size_t nh;
    nc_buf_t body;
    size_t chunks;
    bool keep_alive, upgrade;
} nc_kit_pmsg_t;

/* A request the client sent and awaits the answer of. */
typedef struct nc_kit_sent {
    bool head;
    char *held; /* the body held back for "100 Continue", or NULL */
    size_t held_len;
    int chunks;
} nc_kit_sent_t;

struct nc_kit_http {
    nc_kit_conn_t *c;
    bool server;
    http_parser p;
    nc_kit_http_request_cb on_request;
    nc_kit_http_response_cb on_response;
    nc_kit_sse_cb on_event;
    void (*on_closed)(nc_kit_http_t *h, void *data);
    void (*on_eof)(nc_kit_http_t *h, void *data);
    void (*on_describe)(nc_kit_http_t *h, size_t n, char *out, size_t outlen, void *data);
    size_t last_body;
    const char *close_say; /* server: the close after this answer */
    void *data;
    /* the message being parsed */
    nc_kit_pmsg_t cur;
    nc_buf_t field, value;
    bool in_value;
    /* parsed, not yet handed out */
    nc_kit_pmsg_t *queue;
    size_t nqueue;
    bool busy;      /* server: a request handed out and not answered */
    bool streaming; /* server: a streamed answer is open */
    bool close_after;
    bool head;      /* server: the request being answered is a HEAD */
    bool want_continue; /* server: a "100 Continue" is due */
    bool peer_eof;      /* server: the client closed its side */
    size_t answered;
    /* client */
    nc_kit_sent_t *sent;
    size_t nsent;
    nc_buf_t sse; /* SSE text not yet cut into events */
    bool sse_body;
    /* the upgrade: bytes after it, the client's WebSocket until the 101
     * arrives, and the WebSocket that has the stream after it */
    nc_buf_t rest;
    nc_kit_ws_t *ws_pending;
    nc_kit_ws_t *ws;
    bool failed;
    /* a middlebox's server: bad input is answered, not a failed run */
    bool lenient, bad;
    size_t head_bytes; /* of the message being parsed */
    /* the owner the connection goes to once this turn is over, or NULL */
    const nc_kit_conn_cbs_t *detach_cbs;
    void *detach_owner;
};

/* What a lenient server accepts: a head of 16 KiB at most, a body of
 * 1 MiB, 16 requests waiting (reading pauses until they are answered). */
#define NC_KIT_HTTP_MAX_HEAD (16 * 1024)
#define NC_KIT_HTTP_MAX_BODY (1024 * 1024)
#define NC_KIT_HTTP_MAX_QUEUE 16

static void nc_kit_pmsg_done(nc_kit_pmsg_t *m)
{
    free(m->method);
    free(m->path);
    for (size_t i = 0; i < m->nh; i++) {
        free((char *)m->h[i].name);
        free((char *)m->h[i].value);
    }
    free(m->h);
    nc_buf_done(&m->body);
    memset(m, 0, sizeof *m);
}

const char *nc_kit_http_header(const nc_kit_http_msg_t *m, const char *name)
{
    for (size_t i = 0; i < m->nheaders; i++)
        if (strcasecmp(m->headers[i].name, name) == 0)
            return m->headers[i].value;
    return NULL;
}

static nc_kit_http_msg_t nc_kit_pmsg_view(const nc_kit_pmsg_t *m)
{
    return (nc_kit_http_msg_t){
        .method = m->method,
        .path = m->path,
        .status = m->status,
        .http_minor = m->minor,
        .headers = m->h,
        .nheaders = m->nh,
        .body = nc_buf_cstr(&m->body),
        .body_len = m->body.len,
        .chunks = m->chunks,
        .keep_alive = m->keep_alive,
        .upgrade = m->upgrade,
    };
}

/* ---- parser callbacks ---- */

static void nc_kit_http_flush_header(nc_kit_http_t *h)
{
    if (!h->field.len)
        return;
    nc_kit_pmsg_t *m = &h->cur;
    m->h = nc_xrealloc(m->h, (m->nh + 1) * sizeof *m->h);
    m->h[m->nh++] = (nc_kit_header_t){nc_buf_steal(&h->field), nc_buf_steal(&h->value)};
    nc_buf_init(&h->field);
    nc_buf_init(&h->value);
    h->in_value = false;
}

static int nc_kit_on_begin(http_parser *p)
{
    nc_kit_http_t *h = p->data;
    nc_kit_pmsg_done(&h->cur);
    nc_buf_init(&h->cur.body);
    nc_buf_reset(&h->field);
    nc_buf_reset(&h->value);
    h->in_value = false;
    h->sse_body = false;
    h->head_bytes = 0;
    return 0;
}

/* True when a lenient server's message grew past its bounds. */
static bool nc_kit_http_over(nc_kit_http_t *h, size_t n)
{
    h->head_bytes += n;
    return h->lenient && h->head_bytes > NC_KIT_HTTP_MAX_HEAD;
}

static int nc_kit_on_url(http_parser *p, const char *at, size_t n)
{
    nc_kit_http_t *h = p->data;
    if (nc_kit_http_over(h, n))
        return 1;
    char *old = h->cur.path;
    h->cur.path = nc_xasprintf("%s%.*s", old ? old : "", (int)n, at);
    free(old);
    return 0;
}

static int nc_kit_on_field(http_parser *p, const char *at, size_t n)
{
    nc_kit_http_t *h = p->data;
    if (nc_kit_http_over(h, n))
        return 1;
    if (h->in_value)
        nc_kit_http_flush_header(h);
    nc_buf_append(&h->field, at, n);
    return 0;
}

static int nc_kit_on_value(http_parser *p, const char *at, size_t n)
{
    nc_kit_http_t *h = p->data;
    if (nc_kit_http_over(h, n))
        return 1;
    h->in_value = true;
    nc_buf_append(&h->value, at, n);
    return 0;
}

static int nc_kit_on_headers(http_parser *p)
{
    nc_kit_http_t *h = p->data;
    nc_kit_http_flush_header(h);
    nc_kit_pmsg_t *m = &h->cur;
    m->minor = p->http_minor;
    if (h->server) {
        m->method = nc_xstrdup(http_method_str((enum http_method)p->method));
        nc_kit_http_msg_t v = nc_kit_pmsg_view(m);
        const char *expect = nc_kit_http_header(&v, "Expect");
        /* The client waits for this before it sends the body; it is
         * written once the read that brought the head is reported. */
        if (expect && strcasecmp(expect, "100-continue") == 0)
            h->want_continue = true;
        return 0;
    }
    m->status = p->status_code;
    nc_kit_http_msg_t v = nc_kit_pmsg_view(m);
    const char *type = nc_kit_http_header(&v, "Content-Type");
    h->sse_body = type && strncasecmp(type, "text/event-stream", 17) == 0;
    /* A response to HEAD has no body, whatever its headers say. */
    if (h->nsent > 0 && h->sent[0].head && m->status >= 200)
        return 1;
    return 0;
}

/* Cuts complete SSE events ("\n\n"-terminated) out of h->sse. */
static void nc_kit_sse_cut(nc_kit_http_t *h)
{
    for (;;) {
        const char *s = nc_buf_cstr(&h->sse);
        const char *end = strstr(s, "\n\n");
        if (!end)
            return;
        nc_buf_t data, id, event;
        nc_buf_init(&data);
        nc_buf_init(&id);
        nc_buf_init(&event);
        for (const char *line = s; line < end;) {
            const char *nl = memchr(line, '\n', (size_t)(end - line));
            size_t n = nl ? (size_t)(nl - line) : (size_t)(end - line);
            const char *colon = memchr(line, ':', n);
            size_t klen = colon ? (size_t)(colon - line) : n;
            const char *v = colon ? colon + 1 : line + n;
            if (v < line + n && *v == ' ')
                v++;
            size_t vlen = (size_t)(line + n - v);
            if (klen == 4 && memcmp(line, "data", 4) == 0) {
                if (data.len)
                    nc_buf_putc(&data, '\n');
                nc_buf_append(&data, v, vlen);
            } else if (klen == 2 && memcmp(line, "id", 2) == 0) {
                nc_buf_reset(&id);
                nc_buf_append(&id, v, vlen);
            } else if (klen == 5 && memcmp(line, "event", 5) == 0) {
                nc_buf_reset(&event);
                nc_buf_append(&event, v, vlen);
            }
            line += n + 1;
        }
        if (h->on_event)
            h->on_event(h, id.len ? nc_buf_cstr(&id) : NULL,
                        event.len ? nc_buf_cstr(&event) : NULL, nc_buf_cstr(&data), h->data);
        nc_buf_done(&data);
        nc_buf_done(&id);
        nc_buf_done(&event);
        size_t used = (size_t)(end + 2 - s);
        memmove(h->sse.data, h->sse.data + used, h->sse.len - used + 1);
        h->sse.len -= used;
    }
}

static int nc_kit_on_body(http_parser *p, const char *at, size_t n)
{
    nc_kit_http_t *h = p->data;
    if (h->lenient && h->cur.body.len + n > NC_KIT_HTTP_MAX_BODY)
        return 1;
    nc_buf_append(&h->cur.body, at, n);
    /* Events are cut out after the read is reported (nc_kit_http_next). */
    if (h->sse_body)
        nc_buf_append(&h->sse, at, n);
    return 0;
}

static int nc_kit_on_chunk(http_parser *p)
{
    nc_kit_http_t *h = p->data;
    if (p->content_length > 0)
        h->cur.chunks++;
    return 0;
}

static int nc_kit_on_complete(http_parser *p)
{
    nc_kit_http_t *h = p->data;
    h->cur.keep_alive = http_should_keep_alive(p) != 0;
    h->last_body = h->cur.body.len;
    h->cur.upgrade = p->upgrade != 0;
    h->queue = nc_xrealloc(h->queue, (h->nqueue + 1) * sizeof *h->queue);
    h->queue[h->nqueue++] = h->cur;
    memset(&h->cur, 0, sizeof h->cur);
    nc_buf_init(&h->cur.body);
    /* Stop at an upgrade: the bytes after it are not HTTP. */
    return p->upgrade ? 1 : 0;
}

static const http_parser_settings nc_kit_http_settings = {
    .on_message_begin = nc_kit_on_begin,
    .on_url = nc_kit_on_url,
    .on_header_field = nc_kit_on_field,
    .on_header_value = nc_kit_on_value,
    .on_headers_complete = nc_kit_on_headers,
    .on_body = nc_kit_on_body,
    .on_chunk_header = nc_kit_on_chunk,
    .on_message_complete = nc_kit_on_complete,
};

/* ---- the connection's hooks ---- */

/* Bytes past the upgrade, kept until the WebSocket takes them. */
static void nc_kit_http_parse(nc_kit_http_t *h, const char *data, size_t n, nc_buf_t *rest)
{
    if (h->ws || h->failed) {
        nc_buf_append(rest, data, n);
        return;
    }
    size_t done = http_parser_execute(&h->p, &nc_kit_http_settings, data, n);
    if (h->p.upgrade) {
        nc_buf_append(rest, data + done, n - done);
        return;
    }
    if (HTTP_PARSER_ERRNO(&h->p) != HPE_OK && !h->failed && h->lenient) {
        h->failed = h->bad = true; /* answered by nc_kit_http_data_cb */
    } else if (HTTP_PARSER_ERRNO(&h->p) != HPE_OK && !h->failed) {
        h->failed = true;
        nc_scn_fail(nc_kit_scn(nc_kit_conn_kit(h->c)), "%s: malformed HTTP from %s: %s",
                    nc_kit_host(nc_kit_conn_kit(h->c)), nc_kit_conn_peer(h->c),
                    http_errno_description(HTTP_PARSER_ERRNO(&h->p)));
    }
}

/* What a read completed, for its report. */
static void nc_kit_http_describe(nc_kit_conn_t *c, const char *data, size_t n, char *out,
                                 size_t outlen)
{
    nc_kit_http_t *h = nc_kit_conn_owner(c);
    if (h->ws) {
        /* The frames are read after the read() is reported (on_data). */
        if (n)
            snprintf(out, outlen, "read() returned %zu bytes of WebSocket frames", n);
        return;
    }
    size_t before = h->nqueue;
    nc_buf_t rest;
    nc_buf_init(&rest);
    if (n == 0 && !h->failed && !h->p.upgrade)
        http_parser_execute(&h->p, &nc_kit_http_settings, NULL, 0); /* a body that ends at close */
    else
        nc_kit_http_parse(h, data, n, &rest);
    nc_buf_t t;
    nc_buf_init(&t);
    for (size_t i = before; i < h->nqueue; i++) {
        const nc_kit_pmsg_t *m = &h->queue[i];
        if (h->server)
            nc_buf_printf(&t, "%s%s %s", t.len ? ", " : "", m->method, m->path ? m->path : "");
        else
            nc_buf_printf(&t, "%s%d", t.len ? ", " : "", m->status);
    }
    if (n == 0)
        snprintf(out, outlen, "read() returned 0: %s has closed its side%s%s",
                 nc_kit_conn_peer(c), t.len ? "; that completes the response " : "",
                 nc_buf_cstr(&t));
    else if (t.len)
        snprintf(out, outlen, "read() returned %zu bytes: that completes the %s %s", n,
                 h->server ? "request" : "response", nc_buf_cstr(&t));
    else
        snprintf(out, outlen, "read() returned %zu bytes of a %s still incomplete", n,
                 h->server ? "request" : "response");
    nc_buf_done(&t);
    if (h->on_describe)
        h->on_describe(h, n, out, outlen, h->data);
    /* The bytes after a client's 101 or a server's upgrade request wait in
     * the parser's stead until the WebSocket is made. */
    if (rest.len)
        nc_buf_append(&h->rest, rest.data, rest.len);
    nc_buf_done(&rest);
}

static void nc_kit_http_next(nc_kit_http_t *h);

static void nc_kit_http_free(nc_kit_http_t *h);

/* A lenient endpoint's answer to bad input: a server answers 400; either
 * ends the connection (its messages can no longer be told apart). */
static void nc_kit_http_refuse(nc_kit_http_t *h)
{
    h->bad = false;
    static const char r[] = "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n"
                            "Content-Length: 0\r\n\r\n";
    nc_kit_report(nc_kit_conn_kit(h->c), h->c, "refuse",
                  (nc_scn_kv_t[]){NC_KV_S("reason", http_errno_name(HTTP_PARSER_ERRNO(&h->p)))},
                  1, NULL, "the %s from %s is malformed or too large (%s)%s",
                  h->server ? "request" : "answer", nc_kit_conn_peer(h->c),
                  http_errno_description(HTTP_PARSER_ERRNO(&h->p)),
                  h->server ? ": 400, and close" : ": close");
    if (h->server)
        nc_kit_write(h->c, r, sizeof r - 1, NULL);
    nc_kit_close(h->c, "close(): after a malformed message the connection cannot go on");
}

/* The hand-over to the owner nc_kit_http_detach named: the parser goes,
 * the bytes after the request go to the new owner as if just read. */
static void nc_kit_http_hand_over(nc_kit_http_t *h)
{
    nc_kit_conn_t *c = h->c;
    const nc_kit_conn_cbs_t *cbs = h->detach_cbs;
    nc_buf_t rest = h->rest;
    nc_buf_init(&h->rest);
    nc_kit_conn_start(c, cbs, h->detach_owner);
    nc_kit_http_free(h);
    if (rest.len && cbs->on_data)
        cbs->on_data(c, rest.data, rest.len);
    nc_buf_done(&rest);
}

static void nc_kit_http_data_cb(nc_kit_conn_t *c, const char *data, size_t n)
{
    nc_kit_http_t *h = nc_kit_conn_owner(c);
    nc_kit_ws_t *ws = h->ws;
    nc_kit_http_next(h);
    if (h->detach_cbs) {
        nc_kit_http_hand_over(h);
        return;
    }
    if (h->bad && !h->busy && h->nqueue == 0) {
        nc_kit_http_refuse(h);
        return;
    }
    if (h->lenient && h->nqueue >= NC_KIT_HTTP_MAX_QUEUE)
        nc_kit_conn_pause(c, true);
    /* Bytes that came to a WebSocket already (not the ones the upgrade
     * handed over just now, which it has read). */
    if (ws)
        nc__kit_ws_feed(ws, data, n);
}

static void nc_kit_http_eof(nc_kit_conn_t *c)
{
    nc_kit_http_t *h = nc_kit_conn_owner(c);
    nc_kit_http_next(h);
    if (h->ws) {
        nc__kit_ws_gone(h->ws);
        return;
    }
    /* A server answers a half-closed client still; a client is done, or
     * its owner closes when it likes. */
    h->peer_eof = true;
    if (!h->server && h->on_eof)
        h->on_eof(h, h->data);
    else if (!h->server || (!h->busy && h->nqueue == 0))
        nc_kit_close(c, NULL);
}

static void nc_kit_http_closed(nc_kit_conn_t *c)
{
    nc_kit_http_t *h = nc_kit_conn_owner(c);
    nc__kit_ws_free(h->ws);
    nc__kit_ws_free(h->ws_pending);
    if (h->on_closed)
        h->on_closed(h, h->data);
    nc_kit_http_free(h);
}

static void nc_kit_http_free(nc_kit_http_t *h)
{
    for (size_t i = 0; i < h->nqueue; i++)
        nc_kit_pmsg_done(&h->queue[i]);
    free(h->queue);
    for (size_t i = 0; i < h->nsent; i++)
        free(h->sent[i].held);
    free(h->sent);
    nc_kit_pmsg_done(&h->cur);
    nc_buf_done(&h->field);
    nc_buf_done(&h->value);
    nc_buf_done(&h->sse);
    nc_buf_done(&h->rest);
    free(h);
}

static const nc_kit_conn_cbs_t nc_kit_http_cbs = {
    .describe = nc_kit_http_describe,
    .on_data = nc_kit_http_data_cb,
    .on_eof = nc_kit_http_eof,
    .on_closed = nc_kit_http_closed,
};

static nc_kit_http_t *nc_kit_http_new(nc_kit_conn_t *c, bool server, void *data)
{
    nc_kit_http_t *h = nc_xcalloc(1, sizeof *h);
    h->c = c;
    h->server = server;
    h->data = data;
    http_parser_init(&h->p, server ? HTTP_REQUEST : HTTP_RESPONSE);
    h->p.data = h;
    nc_buf_init(&h->field);
    nc_buf_init(&h->value);
    nc_buf_init(&h->sse);
    nc_buf_init(&h->rest);
    nc_buf_init(&h->cur.body);
    nc_kit_conn_start(c, &nc_kit_http_cbs, h);
    return h;
}

nc_kit_http_t *nc_kit_http_server(nc_kit_conn_t *c, nc_kit_http_request_cb cb,
                                  void (*on_closed)(nc_kit_http_t *h, void *data), void *data)
{
    nc_kit_http_t *h = nc_kit_http_new(c, true, data);
    h->on_request = cb;
    h->on_closed = on_closed;
    return h;
}

nc_kit_http_t *nc_kit_http_client(nc_kit_conn_t *c, nc_kit_http_response_cb cb,
                                  nc_kit_sse_cb on_event,
                                  void (*on_closed)(nc_kit_http_t *h, void *data), void *data)
{
    nc_kit_http_t *h = nc_kit_http_new(c, false, data);
    h->on_response = cb;
    h->on_event = on_event;
    h->on_closed = on_closed;
    return h;
}

/* Hands out what was parsed: a server one request at a time, a client
 * every response (a 100 releases the held body). */
static void nc_kit_http_next(nc_kit_http_t *h)
{
    if (h->want_continue) {
        h->want_continue = false;
        nc_kit_write(h->c, "HTTP/1.1 100 Continue\r\n\r\n", 25,
                     "write() \"100 Continue\": the server wants the body");
    }
    if (!h->server && h->sse.len)
        nc_kit_sse_cut(h);
    while (h->nqueue > 0 && !(h->server && h->busy) && !nc_kit_conn_closing(h->c) &&
           !h->detach_cbs) {
        nc_kit_pmsg_t m = h->queue[0];
        memmove(h->queue, h->queue + 1, (h->nqueue - 1) * sizeof *h->queue);
        h->nqueue--;
        nc_kit_http_msg_t v = nc_kit_pmsg_view(&m);
        if (h->server) {
            h->busy = true;
            h->close_after = !m.keep_alive && !m.upgrade;
            h->head = m.method && strcmp(m.method, "HEAD") == 0;
            h->on_request(h, &v, h->data);
        } else {
            if (m.status == 100 && h->nsent > 0 && h->sent[0].held) {
                nc_kit_sent_t *s = &h->sent[0];
                nc_kit_write(h->c, s->held, s->held_len,
                             "write() the request body, now that the server said 100 Continue");
                free(s->held);
                s->held = NULL;
            } else if (m.status >= 200 || m.status == 101) {
                if (h->nsent > 0) {
                    free(h->sent[0].held);
                    memmove(h->sent, h->sent + 1, (h->nsent - 1) * sizeof *h->sent);
                    h->nsent--;
                }
            }
            if (m.status == 101 && h->ws_pending) {
                nc_kit_ws_t *ws = h->ws_pending;
                h->ws_pending = NULL;
                nc__kit_ws_opened(ws, &v);
                nc__kit_http_upgrade(h, ws);
            }
            if (h->on_response)
                h->on_response(h, &v, h->data);
        }
        nc_kit_pmsg_done(&m);
    }
}

/* ---- server answers ---- */

static void nc_kit_http_done(nc_kit_http_t *h)
{
    h->busy = false;
    h->streaming = false;
    h->answered++;
    if (h->close_after) {
        nc_kit_close(h->c, h->close_say ? h->close_say
                                         : "close(): the answer was the last on this "
                                           "connection, so the server closes it");
        return;
    }
    nc_kit_http_next(h);
    if (h->lenient && h->nqueue < NC_KIT_HTTP_MAX_QUEUE)
        nc_kit_conn_pause(h->c, false);
    if (h->bad && !h->busy && h->nqueue == 0) {
        nc_kit_http_refuse(h);
        return;
    }
    /* The client left while this was being answered: nothing more will
     * come, so the server closes its side too. */
    if (h->server && h->peer_eof && !h->busy && h->nqueue == 0)
        nc_kit_close(h->c, NULL);
}

static const struct {
    int code;
    const char *reason;
} nc_kit_reasons[] = {
    {100, "Continue"},    {101, "Switching Protocols"}, {200, "OK"},
    {201, "Created"},     {202, "Accepted"},            {204, "No Content"},
    {206, "Partial Content"}, {301, "Moved Permanently"}, {302, "Found"},
    {304, "Not Modified"}, {400, "Bad Request"},        {401, "Unauthorized"},
    {403, "Forbidden"},   {404, "Not Found"},           {408, "Request Timeout"},
    {413, "Content Too Large"}, {429, "Too Many Requests"}, {500, "Internal Server Error"},
    {502, "Bad Gateway"}, {503, "Service Unavailable"}, {504, "Gateway Timeout"},
};

static const char *nc_kit_reason(int code)
{
    for (size_t i = 0; i < sizeof nc_kit_reasons / sizeof nc_kit_reasons[0]; i++)
        if (nc_kit_reasons[i].code == code)
            return nc_kit_reasons[i].reason;
    return "Unknown";
}

int nc_kit_http_respond(nc_kit_http_t *h, int status, const nc_kit_header_t *headers,
                        size_t nheaders, nc_kit_body_t how, const char *body, size_t len,
                        int nchunks, const char *say)
{
    if (!h->server || !h->busy || h->streaming)
        return NC_EINVAL;
    nc_buf_t out;
    nc_buf_init(&out);
    nc_buf_printf(&out, "HTTP/1.%d %d %s\r\n", h->p.http_minor == 0 ? 0 : 1, status,
                  nc_kit_reason(status));
    for (size_t i = 0; i < nheaders; i++)
        nc_buf_printf(&out, "%s: %s\r\n", headers[i].name, headers[i].value);
    bool nobody = status == 204 || status == 304 || status < 200;
    /* An HTTP/1.0 client cannot read chunks: a streamed body then ends at
     * close. */
    bool chunked = how != NC_KIT_BODY_FIXED && h->p.http_minor > 0;
    if (how != NC_KIT_BODY_FIXED && !chunked)
        h->close_after = true;
    if (!nobody && chunked)
        nc_buf_puts(&out, "Transfer-Encoding: chunked\r\n");
    else if (!nobody && how == NC_KIT_BODY_FIXED)
        nc_buf_printf(&out, "Content-Length: %zu\r\n", len);
    /* A HEAD is answered with the headers a GET would get, and no body. */
    nobody = nobody || h->head;
    if (h->close_after)
        nc_buf_puts(&out, "Connection: close\r\n");
    else if (h->p.http_minor == 0)
        nc_buf_puts(&out, "Connection: keep-alive\r\n");
    nc_buf_puts(&out, "\r\n");
    if (!nobody && how == NC_KIT_BODY_FIXED) {
        nc_buf_append(&out, body, len);
    } else if (!nobody && how == NC_KIT_BODY_CHUNKED) {
        int n = nchunks > 0 ? nchunks : 1;
        size_t piece = (len + (size_t)n - 1) / (size_t)n;
        for (size_t off = 0; off < len; off += piece) {
            size_t k = len - off < piece ? len - off : piece;
            if (chunked)
                nc_buf_printf(&out, "%zx\r\n", k);
            nc_buf_append(&out, body + off, k);
            if (chunked)
                nc_buf_puts(&out, "\r\n");
        }
        if (chunked)
            nc_buf_puts(&out, "0\r\n\r\n");
    }
    char text[400];
    if (say) {
        /* "{n}": the bytes of the response, known only here. */
        const char *mark = strstr(say, "{n}");
        if (mark)
            snprintf(text, sizeof text, "%.*s%zu%s", (int)(mark - say), say, out.len, mark + 3);
        else
            snprintf(text, sizeof text, "%s", say);
    } else {
        snprintf(text, sizeof text, "write() the response: %d %s%s", status,
                 nc_kit_reason(status),
                 how == NC_KIT_BODY_STREAM ? ", its body to follow in pieces" : "");
    }
    int rc = nc_kit_write(h->c, out.data, out.len, text);
    nc_buf_done(&out);
    if (rc != 0)
        return rc;
    if (how == NC_KIT_BODY_STREAM && !nobody)
        h->streaming = true;
    else
        nc_kit_http_done(h);
    return 0;
}

int nc_kit_http_send(nc_kit_http_t *h, const char *data, size_t len, const char *say)
{
    if (!h->streaming || len == 0)
        return NC_EINVAL;
    nc_buf_t out;
    nc_buf_init(&out);
    bool chunked = h->p.http_minor > 0;
    if (chunked)
        nc_buf_printf(&out, "%zx\r\n", len);
    nc_buf_append(&out, data, len);
    if (chunked)
        nc_buf_puts(&out, "\r\n");
    int rc = nc_kit_write(h->c, out.data, out.len, say);
    nc_buf_done(&out);
    return rc;
}

int nc_kit_http_end(nc_kit_http_t *h, const char *say)
{
    if (!h->streaming)
        return NC_EINVAL;
    int rc = 0;
    if (h->p.http_minor > 0)
        rc = nc_kit_write(h->c, "0\r\n\r\n", 5,
                          say ? say : "write() the last, empty chunk: the body is complete");
    nc_kit_http_done(h);
    return rc;
}

int nc_kit_sse_event(nc_kit_http_t *h, const char *id, const char *event, const char *data,
                     const char *say)
{
    nc_buf_t ev;
    nc_buf_init(&ev);
    if (id)
        nc_buf_printf(&ev, "id: %s\n", id);
    if (event)
        nc_buf_printf(&ev, "event: %s\n", event);
    for (const char *line = data;;) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        nc_buf_printf(&ev, "data: %.*s\n", (int)n, line);
        if (!nl)
            break;
        line = nl + 1;
    }
    nc_buf_putc(&ev, '\n');
    char dflt[200];
    snprintf(dflt, sizeof dflt, "write() one server-sent event%s%s (%zu bytes)",
             event ? ": " : "", event ? event : "", ev.len);
    int rc = nc_kit_http_send(h, ev.data, ev.len, say ? say : dflt);
    nc_buf_done(&ev);
    return rc;
}

size_t nc_kit_http_pending(const nc_kit_http_t *h)
{
    return h->nqueue + (h->busy ? 1 : 0);
}

size_t nc_kit_http_answered(const nc_kit_http_t *h)
{
    return h->answered;
}

nc_kit_conn_t *nc_kit_http_conn(const nc_kit_http_t *h)
{
    return h->c;
}

void *nc_kit_http_data(const nc_kit_http_t *h)
{
    return h->data;
}

/* ---- client requests ---- */

void nc_kit_http_set_describe(nc_kit_http_t *h,
                              void (*fn)(nc_kit_http_t *h, size_t n, char *out, size_t outlen,
                                         void *data))
{
    h->on_describe = fn;
}

void nc_kit_http_close_say(nc_kit_http_t *h, const char *say)
{
    h->close_say = say;
}

size_t nc_kit_http_last_body(const nc_kit_http_t *h)
{
    return h->last_body;
}

void nc_kit_http_set_eof(nc_kit_http_t *h, void (*on_eof)(nc_kit_http_t *h, void *data))
{
    h->on_eof = on_eof;
}

int nc_kit_http_request(nc_kit_http_t *h, const nc_kit_http_req_t *r, const char *say)
{
    if (h->server)
        return NC_EINVAL;
    nc_buf_t out;
    nc_buf_init(&out);
    nc_buf_printf(&out, "%s %s HTTP/1.%d\r\n", r->method, r->path, r->http10 ? 0 : 1);
    bool has_host = false;
    for (size_t i = 0; i < r->nheaders; i++) {
        nc_buf_printf(&out, "%s: %s\r\n", r->headers[i].name, r->headers[i].value);
        has_host = has_host || strcasecmp(r->headers[i].name, "Host") == 0;
    }
    if (!has_host) {
        const char *peer = nc_kit_conn_peer(h->c);
        nc_buf_printf(&out, "Host: %.*s\r\n", (int)strcspn(peer, ":"), peer);
    }
    bool chunked = r->chunks > 0 && !r->http10;
    if (r->body && chunked)
        nc_buf_puts(&out, "Transfer-Encoding: chunked\r\n");
    else if (r->body)
        nc_buf_printf(&out, "Content-Length: %zu\r\n", r->body_len);
    if (r->body && r->expect)
        nc_buf_puts(&out, "Expect: 100-continue\r\n");
    nc_buf_puts(&out, "\r\n");
    nc_buf_t body;
    nc_buf_init(&body);
    if (r->body && chunked) {
        size_t piece = (r->body_len + (size_t)r->chunks - 1) / (size_t)r->chunks;
        for (size_t off = 0; off < r->body_len; off += piece ? piece : 1) {
            size_t k = r->body_len - off < piece ? r->body_len - off : piece;
            nc_buf_printf(&body, "%zx\r\n", k);
            nc_buf_append(&body, r->body + off, k);
            nc_buf_puts(&body, "\r\n");
        }
        nc_buf_puts(&body, "0\r\n\r\n");
    } else if (r->body) {
        nc_buf_append(&body, r->body, r->body_len);
    }
    h->sent = nc_xrealloc(h->sent, (h->nsent + 1) * sizeof *h->sent);
    nc_kit_sent_t *s = &h->sent[h->nsent++];
    *s = (nc_kit_sent_t){.head = strcmp(r->method, "HEAD") == 0, .chunks = r->chunks};
    if (r->expect && body.len) {
        s->held_len = body.len;
        s->held = nc_buf_steal(&body);
        nc_buf_init(&body);
    } else {
        nc_buf_append(&out, body.data, body.len);
    }
    nc_buf_done(&body);
    char dflt[300];
    snprintf(dflt, sizeof dflt, "write() the request %s %s (%zu bytes%s)", r->method, r->path,
             out.len, s->held ? "; the body waits for 100 Continue" : "");
    int rc = nc_kit_write(h->c, out.data, out.len, say ? say : dflt);
    nc_buf_done(&out);
    return rc;
}

/* ---- the hand-over to a WebSocket ---- */

void nc__kit_http_upgrade(nc_kit_http_t *h, nc_kit_ws_t *ws)
{
    h->ws = ws;
    h->sse_body = false;
    if (h->server) {
        h->busy = false;
        h->answered++;
    }
    /* Bytes that came with the upgrade request (or the 101) are frames. */
    if (h->rest.len) {
        nc_buf_t rest = h->rest;
        nc_buf_init(&h->rest);
        nc__kit_ws_feed(ws, rest.data, rest.len);
        nc_buf_done(&rest);
    }
}

void nc_kit_http_lenient(nc_kit_http_t *h)
{
    h->lenient = true;
    nc_kit_conn_tolerant(h->c);
}

void nc_kit_http_detach(nc_kit_http_t *h, const nc_kit_conn_cbs_t *cbs, void *owner)
{
    h->detach_cbs = cbs;
    h->detach_owner = owner;
    h->busy = false;
}

void nc__kit_http_expect_ws(nc_kit_http_t *h, nc_kit_ws_t *ws)
{
    h->ws_pending = ws;
}
