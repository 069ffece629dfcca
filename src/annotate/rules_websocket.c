/*
 * rules_websocket.c: notes for WebSocket frames (RFC 6455 section 5).
 *
 * One note a frame: what its opcode means, whether FIN ends the message,
 * the mask (every client frame is masked, no server frame is: section
 * 5.1), and the payload's length as the header's 7-bit field gives it (126
 * and 127 say a 16- or 64-bit length follows). The opcode's words are one
 * table; a frame whose opcode is not in it is described by its number.
 */
#include "rules.h"

#include <stdio.h>
#include <string.h>

static const struct {
    int opcode;
    const char *what; /* completes "WebSocket ... frame" */
    const char *why;  /* a sentence, or "" */
} nc_ws_ops[] = {
    {0, "continuation", "It carries the next piece of a message begun in an earlier frame."},
    {1, "text", "Its payload is UTF-8 text, one message or its first piece."},
    {2, "binary", "Its payload is bytes the application reads as it likes."},
    {8, "close", "It starts or answers the closing handshake; after both close frames the "
                 "server ends the TCP connection."},
    {9, "ping", "The peer must answer with a pong that carries the same bytes."},
    {10, "pong", "It answers a ping, with the ping's own bytes."},
};

static bool frame_match(const nc_annot_t *a)
{
    return nc_event_get(a->ev, "websocket.opcode") != NULL;
}

static void frame_write(const nc_annot_t *a)
{
    const nc_event_t *ev = a->ev;
    nc_evb_t *b = a->b;
    int64_t op = nc_annotate_int(ev, "websocket.opcode", -1);
    int64_t len = nc_annotate_int(ev, "websocket.len", 0);
    int64_t field = nc_annotate_int(ev, "websocket.payload_length", len);
    const char *key = nc_event_str(ev, "websocket.masking_key");
    size_t k = 0, n = sizeof nc_ws_ops / sizeof nc_ws_ops[0];
    while (k < n && nc_ws_ops[k].opcode != op)
        k++;
    char lenword[96];
    if (field == 126 || field == 127)
        snprintf(lenword, sizeof lenword, "the 7-bit length says %lld, so a %d-bit length of "
                                          "%lld follows", (long long)field,
                 field == 126 ? 16 : 64, (long long)len);
    else
        snprintf(lenword, sizeof lenword, "the 7-bit length field says %lld", (long long)len);
    nc_evb_note(b, "WebSocket %s frame (opcode %lld) from %s, %lld payload byte%s (%s). %s "
                   "%s%s%s",
                k < n ? nc_ws_ops[k].what : "unknown", (long long)op, a->from, (long long)len,
                len == 1 ? "" : "s", lenword,
                nc_event_bool(ev, "websocket.fin") ? "FIN is set: the message ends here."
                                                   : "FIN is clear: more pieces follow.",
                key ? "Masked with the key " : "Not masked: a server never masks its frames.",
                key ? key : "", key ? ", as every frame from a client must be." : "");
    if (k < n)
        nc_evb_note(b, "%s", nc_ws_ops[k].why);
    int64_t code = nc_annotate_int(ev, "websocket.payload.close.status_code", 0);
    if (op == 8 && code)
        nc_evb_note(b, "Close status %lld%s%s.", (long long)code,
                    code == 1000 ? " (a normal closure)" : "",
                    code == 1001 ? " (the endpoint is going away)" : "");
}

static const nc_rule_t ws_rules[] = {
    {"websocket-frame", frame_match, frame_write},
};

const nc_rule_set_t nc_rules_websocket = {
    .layer = "websocket",
    .rules = ws_rules,
    .count = sizeof(ws_rules) / sizeof(ws_rules[0]),
};
