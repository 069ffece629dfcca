/*
 * rules_http.c: notes for HTTP/1.x requests and responses.
 */
#include "rules.h"

static bool request_match(const nc_annot_t *a)
{
    const nc_event_t *ev = a->ev;
    return nc_event_get(ev, "http.request") != NULL && nc_event_bool(ev, "http.request");
}

static void request_write(const nc_annot_t *a)
{
    const nc_event_t *ev = a->ev;
    nc_evb_t *b = a->b;
    nc_evb_note(b, "HTTP request: %s asks %s to %s %s; %lld header line%s follow%s the request "
                   "line, and a blank line ends them.",
                a->from, a->to,
                nc_event_str(ev, "http.method"), nc_event_str(ev, "http.target"),
                (long long)nc_annotate_int(ev, "http.headers", 0),
                nc_annotate_int(ev, "http.headers", 0) == 1 ? "" : "s",
                nc_annotate_int(ev, "http.headers", 0) == 1 ? "s" : "");
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
    nc_evb_note(b, "HTTP response: status %lld %s.", (long long)nc_annotate_int(ev, "http.status", 0),
                nc_event_str(ev, "http.reason") ? nc_event_str(ev, "http.reason") : "");
    if (clen >= 0)
        nc_evb_note(b, "Content-Length says the body is %lld bytes, so the client knows where "
                       "this response ends on the connection.",
                    (long long)clen);
}

static const nc_rule_t http_rules[] = {
    {"http-request", request_match, request_write},
    {"http-response", response_match, response_write},
};

const nc_rule_set_t nc_rules_http = {
    .layer = "http",
    .rules = http_rules,
    .count = sizeof(http_rules) / sizeof(http_rules[0]),
};
