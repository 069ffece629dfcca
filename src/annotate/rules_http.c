/*
 * rules_http.c: notes for HTTP/1.x requests and responses.
 *
 * A response's Content-Length is the body's size only where a body can
 * follow: a response to HEAD, an interim (1xx), a 204 and a 304 carry none
 * (RFC 9110 6.4.1, 8.6), whatever Content-Length says.
 */
#include <string.h>

#include "rules.h"
#include "../core/words.h"

static bool request_match(const nc_annot_t *a)
{
    const nc_event_t *ev = a->ev;
    return nc_event_get(ev, "http.request") != NULL && nc_event_bool(ev, "http.request");
}

static void request_write(const nc_annot_t *a)
{
    const nc_event_t *ev = a->ev;
    nc_evb_t *b = a->b;
    int64_t n = nc_annotate_int(ev, "http.headers", 0);
    /* body_len is there only when the blank line that ends the headers was
     * in this segment. */
    bool ended = nc_event_get(ev, "http.body_len") != NULL;
    nc_evb_note(b, "HTTP request: %s asks %s to %s %s; %lld header line%s follow%s the request "
                   "line%s.",
                a->from, a->to, nc_event_str(ev, "http.method"), nc_event_str(ev, "http.target"),
                (long long)n, n == 1 ? "" : "s", n == 1 ? "s" : "",
                ended ? ", and a blank line ends them"
                      : " in this segment; the blank line that ends them is not in it");
}

static bool response_match(const nc_annot_t *a)
{
    const nc_event_t *ev = a->ev;
    return nc_event_get(ev, "http.request") != NULL && !nc_event_bool(ev, "http.request");
}

static void response_write(const nc_annot_t *a)
{
    const nc_event_t *ev = a->ev;
    nc_evb_t *b = a->b;
    int64_t clen = nc_annotate_int(ev, "http.content_length", -1);
    int64_t status = nc_annotate_int(ev, "http.status", 0);
    const char *method = nc_event_str(ev, "http.request_method");
    bool head = method && strcmp(method, "HEAD") == 0;
    nc_evb_note(b, "HTTP response: status %lld %s%s.", (long long)status,
                nc_event_str(ev, "http.reason") ? nc_event_str(ev, "http.reason") : "",
                head ? ", to a HEAD request" : "");
    if (head || (status >= 100 && status < 200) || status == 204 || status == 304) {
        if (clen >= 0)
            nc_evb_note(b, "It carries no body (%s); its Content-Length of %lld tells the size "
                           "the body %s, not bytes that follow.",
                        head ? "the answer to HEAD never does" : "a status that never does",
                        (long long)clen,
                        head ? "of a GET would have" : "would have in a full response");
        else
            nc_evb_note(b, "It carries no body: %s.",
                        head ? "the answer to HEAD never does" : "this status never does");
        return;
    }
    if (clen >= 0)
        nc_evb_note(b, "Content-Length says the body is %lld %s, so the client knows where "
                       "this response ends on the connection.",
                    (long long)clen, nc_words_plural(clen, "byte", "bytes"));
}

/* The WebSocket handshake: the Upgrade request with its key, and the 101
 * with the key's proof (RFC 6455 section 4). */
static bool upgrade_match(const nc_annot_t *a)
{
    return nc_event_str(a->ev, "http.upgrade") != NULL;
}

static void upgrade_write(const nc_annot_t *a)
{
    const nc_event_t *ev = a->ev;
    const char *key = nc_event_str(ev, "http.ws_key");
    const char *proof = nc_event_str(ev, "http.ws_accept");
    if (nc_event_bool(ev, "http.request"))
        nc_evb_note(a->b, "Upgrade: websocket asks to turn this connection into a WebSocket%s%s%s",
                    key ? "; Sec-WebSocket-Key " : "", key ? key : "",
                    key ? " is a random nonce the server must prove it read." : ".");
    else if (nc_annotate_int(ev, "http.status", 0) == 101)
        nc_evb_note(a->b, "101 Switching Protocols: from the next byte on, this connection "
                          "carries WebSocket frames, not HTTP.%s%s%s",
                    proof ? " Sec-WebSocket-Accept " : "", proof ? proof : "",
                    proof ? " is base64(SHA-1(the client's key + a fixed GUID)): the proof." : "");
}

/* Server-sent events: the stream's head, and a client resuming one. */
static bool stream_match(const nc_annot_t *a)
{
    const nc_event_t *ev = a->ev;
    return nc_event_bool(ev, "http.event_stream") || nc_event_str(ev, "http.last_event_id");
}

static void stream_write(const nc_annot_t *a)
{
    const nc_event_t *ev = a->ev;
    const char *last = nc_event_str(ev, "http.last_event_id");
    if (last && nc_event_bool(ev, "http.request"))
        nc_evb_note(a->b, "Last-Event-ID: %s: the client reconnects and asks the server to go "
                          "on after event %s, the last one it received.", last, last);
    else if (!nc_event_bool(ev, "http.request"))
        nc_evb_note(a->b, "Content-Type: text/event-stream: the body is a stream of events, "
                          "sent as the server has news, for as long as the connection lasts.");
}

static const nc_rule_t http_rules[] = {
    {"http-request", request_match, request_write},
    {"http-response", response_match, response_write},
    {"http-upgrade", upgrade_match, upgrade_write},
    {"http-event-stream", stream_match, stream_write},
};

const nc_rule_set_t nc_rules_http = {
    .layer = "http",
    .rules = http_rules,
    .count = sizeof(http_rules) / sizeof(http_rules[0]),
};
