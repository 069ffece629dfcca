/*
 * rules_http2.c: notes for HTTP/2 frames, their streams and windows, and
 * for gRPC messages and trailers.
 *
 * Every frame of a packet is annotated on its own (annotate.c runs the set
 * once per element of the "http2" list). The notes say what the frame does
 * to its stream (the state from the sender's point of view, RFC 9113 5.1)
 * and to flow control: a DATA frame that uses up the sender's connection
 * or stream window means the sender must now wait, and the WINDOW_UPDATE
 * that opens a used-up window again is what it waited for. A header block
 * is compared with its decoded size, which is what HPACK saved.
 */
#include <string.h>

#include "rules.h"
#include "../core/words.h"

static int64_t h2_int(const nc_annot_t *a, const char *path)
{
    return nc_annotate_int(a->ev, path, -1);
}

static bool magic_match(const nc_annot_t *a)
{
    return nc_event_get(a->ev, "http2.magic") != NULL;
}

static void magic_write(const nc_annot_t *a)
{
    nc_evb_note(a->b, "HTTP/2 connection preface: %s opens with 24 fixed bytes that no HTTP/1 "
                      "server would take for a request, so both sides know from the first byte "
                      "that frames follow.",
                a->From);
}

static void settings_write(const nc_annot_t *a)
{
    if (nc_event_bool(a->ev, "http2.ack")) {
        nc_evb_note(a->b, "SETTINGS ACK: %s confirms it has applied the settings %s sent.",
                    a->From, a->to);
        return;
    }
    nc_buf_t list;
    nc_buf_init(&list);
    const nc_field_t *f = nc_event_get(a->ev, "http2.settings");
    uint32_t n = 0;
    if (f && f->kind == NC_F_LIST) {
        const nc_field_t *base = a->ev->fields;
        uint32_t end = nc_fields_skip(base, a->ev->nfields, (uint32_t)(f - base));
        for (uint32_t k = (uint32_t)(f - base) + 1; k < end; k++) {
            const nc_field_t *e = &base[k];
            if (e->key && strcmp(e->key, "name") == 0 && e->kind == NC_F_STR)
                nc_buf_printf(&list, "%s%s", n++ ? ", " : "", e->v.s);
            else if (e->key && strcmp(e->key, "value") == 0 && e->kind == NC_F_INT)
                nc_buf_printf(&list, " %lld", (long long)e->v.i);
        }
    }
    if (n)
        nc_evb_note(a->b, "SETTINGS: %s tells %s its limits (%s); %s answers with an empty "
                          "SETTINGS ACK. Until then the defaults hold: a 65535-byte window "
                          "per stream and for the connection.",
                    a->From, a->to, nc_buf_cstr(&list), a->To);
    else
        nc_evb_note(a->b, "SETTINGS with no entries: %s keeps every default; %s still "
                          "acknowledges it.",
                    a->From, a->to);
    nc_buf_done(&list);
}

static bool headers_match(const nc_annot_t *a)
{
    return nc_event_get(a->ev, "http2.header_list_size") != NULL;
}

static void headers_write(const nc_annot_t *a)
{
    int64_t sid = h2_int(a, "http2.streamid"), fields = h2_int(a, "http2.header_count");
    int64_t packed = h2_int(a, "http2.header_block_len"), size = h2_int(a, "http2.header_list_size");
    const char *state = nc_event_str(a->ev, "http2.stream_state");
    if (nc_event_bool(a->ev, "http2.hpack_error")) {
        nc_evb_note(a->b, "Header block on stream %lld that HPACK could not decode: an earlier "
                          "block of this side is missing or broken, and HPACK's table depends "
                          "on every block before.",
                    (long long)sid);
        return;
    }
    nc_evb_note(a->b, "Header block on stream %lld: %lld header %s packed by HPACK into %lld "
                      "%s, against %lld bytes as HTTP/2 counts them decoded (name + value + 32 "
                      "each)%s.",
                (long long)sid, (long long)fields, nc_words_plural(fields, "field", "fields"),
                (long long)packed, nc_words_plural(packed, "byte", "bytes"), (long long)size,
                packed * 4 < size ? ": fields repeated from earlier requests cost a byte or two "
                                    "each, an index into the table both sides keep"
                                  : "");
    if (state && strcmp(state, "half-closed (local)") == 0)
        nc_evb_note(a->b, "END_STREAM: %s has nothing more to send on stream %lld, which is "
                          "now half-closed on its side; the answer still comes back on it.",
                    a->From, (long long)sid);
    else if (state && strcmp(state, "closed") == 0)
        nc_evb_note(a->b, "Stream %lld is now closed: both sides have ended it. Other streams "
                          "on this connection carry on.",
                    (long long)sid);
}

static void data_write(const nc_annot_t *a)
{
    int64_t sid = h2_int(a, "http2.streamid"), len = h2_int(a, "http2.length");
    int64_t cw = h2_int(a, "http2.conn_window"), sw = h2_int(a, "http2.stream_window");
    bool conn = nc_event_bool(a->ev, "http2.conn_window_exhausted");
    bool strm = nc_event_bool(a->ev, "http2.stream_window_exhausted");
    if (nc_event_bool(a->ev, "http2.resumed_after_window"))
        nc_evb_note(a->b, "%s resumes on stream %lld: this DATA waited for the WINDOW_UPDATE "
                          "that reopened its window.",
                    a->From, (long long)sid);
    if (conn || strm) {
        nc_evb_note(a->b, "DATA on stream %lld (%lld %s) uses up the %s window of %s, %lld "
                          "bytes left: it must now wait for a WINDOW_UPDATE from %s before it "
                          "sends more DATA %s. HTTP/2 flow control, not TCP, holds it back.",
                    (long long)sid, (long long)len, nc_words_plural(len, "byte", "bytes"),
                    conn ? "connection" : "stream", a->from, (long long)(conn ? cw : sw), a->to,
                    conn ? "on any stream" : "on this stream");
    } else {
        nc_evb_note(a->b, "DATA on stream %lld: %lld %s. %s may send %lld more on this stream "
                          "and %lld on the connection before it must wait for a WINDOW_UPDATE.",
                    (long long)sid, (long long)len, nc_words_plural(len, "byte", "bytes"),
                    a->From, (long long)sw, (long long)cw);
    }
    const char *state = nc_event_str(a->ev, "http2.stream_state");
    if (state && strcmp(state, "closed") == 0)
        nc_evb_note(a->b, "END_STREAM closes stream %lld: both sides have ended it.",
                    (long long)sid);
}

static void winupd_write(const nc_annot_t *a)
{
    int64_t sid = h2_int(a, "http2.streamid");
    int64_t inc = h2_int(a, "http2.window_update.window_size_increment");
    bool reopened = nc_event_bool(a->ev, "http2.conn_window_reopened") ||
                    nc_event_bool(a->ev, "http2.stream_window_reopened");
    int64_t now = sid ? h2_int(a, "http2.stream_window") : h2_int(a, "http2.conn_window");
    if (reopened)
        nc_evb_note(a->b, "WINDOW_UPDATE reopens the %s window of %s, which was used up: %s "
                          "was waiting, and may send %lld more bytes now.",
                    sid ? "stream" : "connection", a->to, a->To, (long long)now);
    else
        nc_evb_note(a->b, "WINDOW_UPDATE on %s %lld: %s raises %s's send window by %lld "
                          "bytes (%lld in all now).",
                    sid ? "stream" : "the connection, stream", (long long)sid, a->From,
                    a->to, (long long)inc, (long long)now);
}

static void rst_write(const nc_annot_t *a)
{
    nc_evb_note(a->b, "RST_STREAM (%s): %s abandons stream %lld at once. Only that stream "
                      "ends; the connection and its other streams carry on.",
                nc_event_str(a->ev, "http2.error_name"), a->from,
                (long long)h2_int(a, "http2.streamid"));
}

static void goaway_write(const nc_annot_t *a)
{
    nc_evb_note(a->b, "GOAWAY (%s): %s will take no new streams on this connection; streams up "
                      "to %lld may finish.",
                nc_event_str(a->ev, "http2.error_name"), a->from,
                (long long)h2_int(a, "http2.goaway.last_stream_id"));
}

static void ping_write(const nc_annot_t *a)
{
    if (nc_event_get(a->ev, "http2.pong"))
        nc_evb_note(a->b, "PING ACK: %s echoes the 8 bytes back; the time since the PING is "
                          "one round trip.",
                    a->From);
    else
        nc_evb_note(a->b, "PING: %s asks %s to echo 8 bytes, to measure the round trip or "
                          "keep the connection alive.",
                    a->From, a->to);
}

static void push_write(const nc_annot_t *a)
{
    nc_evb_note(a->b, "PUSH_PROMISE: %s announces stream %lld, a response it will send "
                      "without being asked.",
                a->From, (long long)h2_int(a, "http2.push_promise.promised_stream_id"));
}

static void priority_write(const nc_annot_t *a)
{
    nc_evb_note(a->b, "PRIORITY: stream %lld is to depend on stream %lld with weight %lld (the "
                      "field plus one); only a hint to the sender's scheduler.",
                (long long)h2_int(a, "http2.streamid"),
                (long long)h2_int(a, "http2.stream_dependency"),
                (long long)h2_int(a, "http2.weight") + 1);
}

/* The notes of each frame type (HEADERS' come with its header block). */
static const struct {
    int64_t type;
    void (*write)(const nc_annot_t *a);
} h2_frame_notes[] = {
    {0, data_write},   {2, priority_write}, {3, rst_write},    {4, settings_write},
    {5, push_write},   {6, ping_write},     {7, goaway_write}, {8, winupd_write},
};

static int h2_frame_note(const nc_annot_t *a)
{
    if (nc_event_get(a->ev, "http2.magic") != NULL)
        return -1;
    int64_t t = h2_int(a, "http2.type");
    for (size_t i = 0; i < sizeof h2_frame_notes / sizeof h2_frame_notes[0]; i++)
        if (h2_frame_notes[i].type == t)
            return (int)i;
    return -1;
}

static bool frame_match(const nc_annot_t *a)
{
    return h2_frame_note(a) >= 0;
}

static void frame_write(const nc_annot_t *a)
{
    h2_frame_notes[h2_frame_note(a)].write(a);
}

static const nc_rule_t http2_rules[] = {
    {"http2-preface", magic_match, magic_write},
    {"http2-headers", headers_match, headers_write},
    {"http2-frame", frame_match, frame_write},
};

const nc_rule_set_t nc_rules_http2 = {
    .layer = "http2",
    .rules = http2_rules,
    .count = sizeof(http2_rules) / sizeof(http2_rules[0]),
};

static bool grpc_msg_match(const nc_annot_t *a)
{
    return nc_event_get(a->ev, "grpc.message_length") != NULL;
}

static void grpc_msg_write(const nc_annot_t *a)
{
    int64_t len = h2_int(a, "grpc.message_length");
    nc_evb_note(a->b, "gRPC %s message %lld of %s: a 5-byte prefix (compressed flag %lld, "
                      "length %lld) then the protobuf bytes, carried in HTTP/2 DATA on stream "
                      "%lld.",
                nc_event_has(a->ev, "grpc.kind", "request") ? "request" : "response",
                (long long)h2_int(a, "grpc.index"), nc_event_str(a->ev, "grpc.path"),
                (long long)h2_int(a, "grpc.compressed_flag"), (long long)len,
                (long long)h2_int(a, "grpc.streamid"));
}

static bool grpc_trailers_match(const nc_annot_t *a)
{
    return nc_event_bool(a->ev, "grpc.trailers");
}

static void grpc_trailers_write(const nc_annot_t *a)
{
    const char *msg = nc_event_str(a->ev, "grpc.message");
    nc_evb_note(a->b, "gRPC trailers end the call on stream %lld: grpc-status %lld (%s)%s%s. "
                      "The HTTP status was 200 either way: gRPC's outcome travels here, "
                      "after the messages.",
                (long long)h2_int(a, "grpc.streamid"), (long long)h2_int(a, "grpc.status"),
                nc_event_str(a->ev, "grpc.status_name"), msg ? ", " : "", msg ? msg : "");
}

static const nc_rule_t grpc_rules[] = {
    {"grpc-message", grpc_msg_match, grpc_msg_write},
    {"grpc-trailers", grpc_trailers_match, grpc_trailers_write},
};

const nc_rule_set_t nc_rules_grpc = {
    .layer = "grpc",
    .rules = grpc_rules,
    .count = sizeof(grpc_rules) / sizeof(grpc_rules[0]),
};
