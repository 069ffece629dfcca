/*
 * rules_sse.c: notes for server-sent events (text/event-stream) found in
 * the body of an HTTP response: one note an event, saying that it is a
 * piece of a response still going on, and what its id is for.
 */
#include "rules.h"

#include <string.h>

static bool event_match(const nc_annot_t *a)
{
    return nc_event_get(a->ev, "sse.seq_start") != NULL;
}

static void event_write(const nc_annot_t *a)
{
    const nc_event_t *ev = a->ev;
    nc_evb_t *b = a->b;
    const char *id = nc_event_str(ev, "sse.id");
    const char *name = nc_event_str(ev, "sse.event");
    const char *data = nc_event_str(ev, "sse.data");
    /* A note is one line: data of several lines, or a long one, is left to
     * the inspector. */
    if (data && (strchr(data, '\n') || strlen(data) > 60))
        data = NULL;
    int64_t len = nc_annotate_int(ev, "sse.data_len", 0);
    nc_evb_note(b, "Server-sent event%s%s%s%s: %lld byte%s of data%s%s%s, one more piece of the "
                   "same response body; no request asked for it.",
                name ? " \"" : "", name ? name : "", name ? "\"" : "",
                id ? "" : " without an id", (long long)len, len == 1 ? "" : "s",
                data ? " (\"" : "", data ? data : "", data ? "\")" : "");
    if (id)
        nc_evb_note(b, "Its id is %s: a client that loses the connection sends the last id it "
                       "saw back in Last-Event-ID, and the server goes on after it.", id);
    if (nc_event_get(ev, "sse.retry"))
        nc_evb_note(b, "retry: the client should wait %lld ms before it reconnects.",
                    (long long)nc_annotate_int(ev, "sse.retry", 0));
}

static const nc_rule_t sse_rules[] = {
    {"sse-event", event_match, event_write},
};

const nc_rule_set_t nc_rules_sse = {
    .layer = "sse",
    .rules = sse_rules,
    .count = sizeof(sse_rules) / sizeof(sse_rules[0]),
};
