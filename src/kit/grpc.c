/*
 * grpc.c: gRPC endpoints of the kit, on h2.c's nghttp2 sessions (h2c, or h2
 * when tls.c is under the connection).
 *
 * A gRPC call is one HTTP/2 stream: the client's HEADERS (POST, :path
 * /package.Service/Method, content-type application/grpc, te trailers),
 * its messages on DATA, each with a 5-byte prefix (a compressed flag, then
 * the length, big-endian), and END_STREAM when it has no more; the
 * server's HEADERS (:status 200), its messages, and trailers (a HEADERS
 * frame with END_STREAM) holding grpc-status and, on an error,
 * grpc-message. The four call kinds differ only in how many messages go
 * each way and when:
 *
 *   unary          one request, one reply after it;
 *   server-stream  one request, replies spaced by `every`;
 *   client-stream  requests spaced by `every`, one reply once they end;
 *   bidi           each request answered as it arrives (the client sends
 *                  its next one when the reply came: a conversation).
 *
 * Data model. An nc_kit_grpc_t is one connection's gRPC side: an
 * nc_kit_h2_t in streaming mode (h2.c hands over each stream's new bytes
 * after every read) and its calls (nc_kit_grpc_call_t, a list): the stream
 * id, the method, the message descriptors of its request and reply (the
 * course's .proto files, compiled by protoc-c: decode/protos.c), a reader
 * that cuts the stream's bytes into messages, counts, and a timer that
 * paces a stream of messages. A server answers by the lesson's methods
 * (nc_kit_grpc_method_t, borrowed from the program); a client makes one
 * call at a time and tells its owner when the status came.
 *
 * Messages are written in the lesson as fields, `id=1 text='buy milk'
 * meta.priority=2` (a dotted name reaches into a nested message, a
 * repeated field takes the name again), built into a protobuf-c message
 * and packed by protobuf-c. In a reply, `{n}` is the number of the call
 * on its connection, `{i}` the reply's number in its call, `{count}` the
 * requests the call brought, and `{FIELD}` that field of the last request.
 *
 * Every message sent or received is an app event (send_message,
 * recv_message: method, kind, index, bytes, message in text form), and so
 * is the status (send_status, recv_status: status, status_name, message);
 * the write() and read() reports name the HTTP/2 frames, as h2.c says them.
 * A call whose stream the peer reset (RST_STREAM: a cancel) is a cancel
 * event when the kit next has something for it, and sends nothing more.
 * Calls are freed in their timer's close callback; the handle ends with
 * its connection.
 */
#include "kit_impl.h"

#include "../core/buf.h"
#include "../core/error.h"
#include "../core/xmalloc.h"
#include "../decode/decode.h"

#include <protobuf-c/protobuf-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NC_GRPC_MAX_MSG (1u << 20) /* a message longer than this ends the call */

typedef struct nc_kit_grpc_call {
    struct nc_kit_grpc_call *next;
    nc_kit_grpc_t *g;
    int32_t id;
    char *path;
    const nc_kit_grpc_method_t *method;  /* server: borrowed */
    const char *kind;
    const ProtobufCMessageDescriptor *in, *out; /* what it reads, what it writes */
    nc_buf_t rd;                          /* bytes of a message not whole yet */
    size_t got, sent;                     /* messages read, messages written */
    ProtobufCMessage *last;               /* the last request read (owned) */
    bool ended, done, opened;
    /* what the call still has to send: client requests, or server replies */
    char **msgs;
    size_t nmsgs;
    size_t todo;
    uint64_t every_ms;
    uv_timer_t timer;
} nc_kit_grpc_call_t;

struct nc_kit_grpc {
    nc_kit_h2_t *h2;
    nc_kit_t *kit;
    bool server;
    const nc_kit_grpc_method_t *methods; /* borrowed */
    size_t nmethods;
    size_t ncalls;                        /* calls started on this handle */
    nc_kit_grpc_call_t *calls;
    nc_kit_grpc_done_cb on_done;
    void (*on_closed)(nc_kit_grpc_t *g, void *data);
    void *data;
    const char *say; /* the current call's sentence for its first write (client) */
};

/* ---- messages: from the lesson's text to protobuf and back ---- */

static size_t nc_grpc_scalar_size(ProtobufCType t)
{
    switch (t) { /* the C type protobuf-c stores each protobuf type as */
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64: case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_STRING: case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(void *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    default:
        return 4;
    }
}

/* Stores the text value v as field f's type at p. */
static int nc_grpc_store(const ProtobufCFieldDescriptor *f, void *p, const char *v)
{
    char *end = NULL;
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
        *(char **)p = nc_xstrdup(v);
        return 0;
    case PROTOBUF_C_TYPE_BYTES:
        ((ProtobufCBinaryData *)p)->data = (uint8_t *)nc_xstrdup(v);
        ((ProtobufCBinaryData *)p)->len = strlen(v);
        return 0;
    case PROTOBUF_C_TYPE_BOOL:
        if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
            return NC_EINVAL;
        *(protobuf_c_boolean *)p = v[0] == 't';
        return 0;
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumValue *e =
            protobuf_c_enum_descriptor_get_value_by_name(f->descriptor, v);
        *(int *)p = e ? e->value : (int)strtol(v, &end, 10);
        return e || (end != v && *end == '\0') ? 0 : NC_EINVAL;
    }
    case PROTOBUF_C_TYPE_FLOAT:
        *(float *)p = strtof(v, &end);
        break;
    case PROTOBUF_C_TYPE_DOUBLE:
        *(double *)p = strtod(v, &end);
        break;
    case PROTOBUF_C_TYPE_MESSAGE:
        return NC_EINVAL;
    default:
        if (nc_grpc_scalar_size(f->type) == 8)
            *(int64_t *)p = strtoll(v, &end, 10);
        else
            *(int32_t *)p = (int32_t)strtol(v, &end, 10);
        break;
    }
    return end != v && *end == '\0' ? 0 : NC_EINVAL;
}

/* Sets the field a dotted name reaches in m to v; a nested message on the
 * way is made when it is absent. Returns 0, NC_ENOENT (no such field) or
 * NC_EINVAL (a value the field's type cannot hold). */
static int nc_grpc_set(ProtobufCMessage *m, const char *name, const char *v)
{
    const char *dot = strchr(name, '.');
    char first[64];
    size_t fl = dot ? (size_t)(dot - name) : strlen(name);
    if (fl == 0 || fl >= sizeof first)
        return NC_ENOENT;
    memcpy(first, name, fl);
    first[fl] = '\0';
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(m->descriptor, first);
    if (!f)
        return NC_ENOENT;
    char *at = (char *)m + f->offset;
    if (dot) {
        if (f->type != PROTOBUF_C_TYPE_MESSAGE || f->label == PROTOBUF_C_LABEL_REPEATED)
            return NC_ENOENT;
        ProtobufCMessage **sub = (ProtobufCMessage **)at;
        if (!*sub) {
            const ProtobufCMessageDescriptor *d = f->descriptor;
            *sub = nc_xcalloc(1, d->sizeof_message);
            protobuf_c_message_init(d, *sub);
        }
        return nc_grpc_set(*sub, dot + 1, v);
    }
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
        size_t *n = (size_t *)((char *)m + f->quantifier_offset);
        size_t sz = nc_grpc_scalar_size(f->type);
        void **arr = (void **)at;
        *arr = nc_xrealloc(*arr, (*n + 1) * sz);
        memset((char *)*arr + *n * sz, 0, sz);
        int rc = nc_grpc_store(f, (char *)*arr + *n * sz, v);
        (*n)++; /* counted either way, so that free_unpacked frees it */
        return rc;
    }
    if (f->type == PROTOBUF_C_TYPE_STRING) {
        char *old = *(char **)at;
        if (old && old != (const char *)f->default_value)
            free(old);
    }
    if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset &&
        f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE)
        *(protobuf_c_boolean *)((char *)m + f->quantifier_offset) = 1;
    return nc_grpc_store(f, at, v);
}

static void nc_grpc_fill(const nc_kit_grpc_call_t *call, const char *tpl, nc_buf_t *out);

/* Builds a message of type d from "name=value ..." (values may be in single
 * quotes); with a call, each value is a template filled from it after the
 * text is cut into fields, so what the peer sent cannot change which
 * fields are set. Returns the message (free with
 * protobuf_c_message_free_unpacked), or NULL with the offending word in
 * bad and *rc NC_ESYNTAX, NC_ENOENT (a field the type lacks) or NC_EINVAL
 * (a value it cannot hold). */
static ProtobufCMessage *nc_grpc_build(const ProtobufCMessageDescriptor *d, const char *text,
                                       const nc_kit_grpc_call_t *call, char *bad, size_t badlen,
                                       int *rc)
{
    ProtobufCMessage *m = nc_xcalloc(1, d->sizeof_message);
    protobuf_c_message_init(d, m);
    const char *p = text;
    for (;;) {
        while (*p == ' ')
            p++;
        if (!*p)
            return m;
        const char *eq = strchr(p, '=');
        size_t sp = strcspn(p, " ");
        char name[128], value[512];
        if (!eq || (size_t)(eq - p) > sp || (size_t)(eq - p) >= sizeof name) {
            snprintf(bad, badlen, "%.*s", (int)sp, p);
            protobuf_c_message_free_unpacked(m, NULL);
            *rc = NC_ESYNTAX;
            return NULL;
        }
        snprintf(name, sizeof name, "%.*s", (int)(eq - p), p);
        const char *v = eq + 1;
        size_t vl;
        if (*v == '\'') {
            const char *close = strchr(v + 1, '\'');
            vl = close ? (size_t)(close - v - 1) : strlen(v + 1);
            snprintf(value, sizeof value, "%.*s", (int)vl, v + 1);
            p = close ? close + 1 : v + 1 + vl;
        } else {
            vl = strcspn(v, " ");
            snprintf(value, sizeof value, "%.*s", (int)vl, v);
            p = v + vl;
        }
        nc_buf_t filled;
        nc_buf_init(&filled);
        if (call)
            nc_grpc_fill(call, value, &filled);
        *rc = nc_grpc_set(m, name, call ? nc_buf_cstr(&filled) : value);
        if (*rc != 0)
            snprintf(bad, badlen, "%.60s=%.90s", name, call ? nc_buf_cstr(&filled) : value);
        nc_buf_done(&filled);
        if (*rc != 0) {
            protobuf_c_message_free_unpacked(m, NULL);
            return NULL;
        }
    }
}

/* Appends one value of field f stored at p; raw leaves strings unquoted. */
static void nc_grpc_value(nc_buf_t *b, const ProtobufCFieldDescriptor *f, const void *p, bool raw)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
        nc_buf_printf(b, raw ? "%s" : "\"%s\"", *(char *const *)p ? *(char *const *)p : "");
        break;
    case PROTOBUF_C_TYPE_BYTES:
        nc_buf_printf(b, "%zu bytes", ((const ProtobufCBinaryData *)p)->len);
        break;
    case PROTOBUF_C_TYPE_BOOL:
        nc_buf_puts(b, *(const protobuf_c_boolean *)p ? "true" : "false");
        break;
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumValue *e =
            protobuf_c_enum_descriptor_get_value(f->descriptor, *(const int *)p);
        if (e)
            nc_buf_puts(b, e->name);
        else
            nc_buf_printf(b, "%d", *(const int *)p);
        break;
    }
    case PROTOBUF_C_TYPE_FLOAT:
        nc_buf_printf(b, "%g", (double)*(const float *)p);
        break;
    case PROTOBUF_C_TYPE_DOUBLE:
        nc_buf_printf(b, "%g", *(const double *)p);
        break;
    case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32:
        nc_buf_printf(b, "%u", *(const uint32_t *)p);
        break;
    case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
        nc_buf_printf(b, "%llu", (unsigned long long)*(const uint64_t *)p);
        break;
    case PROTOBUF_C_TYPE_MESSAGE:
        break; /* nc_grpc_text writes nested messages */
    default:
        if (nc_grpc_scalar_size(f->type) == 8)
            nc_buf_printf(b, "%lld", (long long)*(const int64_t *)p);
        else
            nc_buf_printf(b, "%d", *(const int32_t *)p);
        break;
    }
}

/* True when a singular field holds its zero value, which proto3 does not
 * put on the wire. */
static bool nc_grpc_zero(const ProtobufCFieldDescriptor *f, const void *p)
{
    if (f->type == PROTOBUF_C_TYPE_STRING)
        return !*(char *const *)p || !**(char *const *)p;
    if (f->type == PROTOBUF_C_TYPE_MESSAGE)
        return !*(void *const *)p;
    if (f->type == PROTOBUF_C_TYPE_BYTES)
        return ((const ProtobufCBinaryData *)p)->len == 0;
    static const char zeros[16];
    return memcmp(p, zeros, nc_grpc_scalar_size(f->type)) == 0;
}

/* Writes m as "Type{name: value, ...}", leaving out what is not on the
 * wire (proto3's zero values, absent fields). */
static void nc_grpc_text(nc_buf_t *b, const ProtobufCMessage *m, int depth)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    nc_buf_printf(b, "%s{", d->short_name);
    bool any = false;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const char *at = (const char *)m + f->offset;
        size_t n = 1;
        const char *base = at;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            n = *(const size_t *)((const char *)m + f->quantifier_offset);
            base = *(const char *const *)at;
        } else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset &&
                   f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE) {
            n = *(const protobuf_c_boolean *)((const char *)m + f->quantifier_offset) ? 1 : 0;
        } else if (nc_grpc_zero(f, at)) {
            n = 0;
        }
        for (size_t k = 0; k < n; k++) {
            const char *p = base + k * nc_grpc_scalar_size(f->type);
            nc_buf_printf(b, "%s%s: ", any ? ", " : "", f->name);
            any = true;
            if (f->type == PROTOBUF_C_TYPE_MESSAGE && depth < 6)
                nc_grpc_text(b, *(const ProtobufCMessage *const *)p, depth + 1);
            else
                nc_grpc_value(b, f, p, false);
        }
    }
    nc_buf_putc(b, '}');
}

/* Fills a reply's template: {n}, {i}, {count}, {FIELD} of the last request. */
static void nc_grpc_fill(const nc_kit_grpc_call_t *call, const char *tpl, nc_buf_t *out)
{
    for (const char *p = tpl; *p;) {
        const char *close = *p == '{' ? strchr(p, '}') : NULL;
        if (!close) {
            nc_buf_putc(out, *p++);
            continue;
        }
        char key[64];
        snprintf(key, sizeof key, "%.*s", (int)(close - p - 1), p + 1);
        const ProtobufCFieldDescriptor *f =
            call->last ? protobuf_c_message_descriptor_get_field_by_name(call->last->descriptor, key)
                       : NULL;
        if (strcmp(key, "n") == 0)
            nc_buf_printf(out, "%zu", call->g->ncalls);
        else if (strcmp(key, "i") == 0)
            nc_buf_printf(out, "%zu", call->sent + 1);
        else if (strcmp(key, "count") == 0)
            nc_buf_printf(out, "%zu", call->got);
        else if (f && f->label != PROTOBUF_C_LABEL_REPEATED && f->type != PROTOBUF_C_TYPE_MESSAGE)
            nc_grpc_value(out, f, (const char *)call->last + f->offset, true);
        p = close + 1;
    }
}

/* ---- calls ---- */

static nc_kit_conn_t *nc_grpc_conn(const nc_kit_grpc_call_t *call)
{
    return nc_kit_h2_conn(call->g->h2);
}

static void nc_grpc_call_freed(uv_handle_t *t)
{
    nc_kit_grpc_call_t *call = t->data;
    free(call->path);
    nc_buf_done(&call->rd);
    if (call->last)
        protobuf_c_message_free_unpacked(call->last, NULL);
    for (size_t i = 0; i < call->nmsgs; i++)
        free(call->msgs[i]);
    free(call->msgs);
    free(call);
}

static void nc_grpc_call_drop(nc_kit_grpc_call_t *call)
{
    for (nc_kit_grpc_call_t **p = &call->g->calls; *p; p = &(*p)->next)
        if (*p == call) {
            *p = call->next;
            break;
        }
    uv_close((uv_handle_t *)&call->timer, nc_grpc_call_freed);
}

static nc_kit_grpc_call_t *nc_grpc_call_new(nc_kit_grpc_t *g, int32_t id, const char *path)
{
    nc_kit_grpc_call_t *call = nc_xcalloc(1, sizeof *call);
    call->g = g;
    call->id = id;
    call->path = nc_xstrdup(path ? path : "");
    nc_buf_init(&call->rd);
    uv_timer_init(nc_kit_loop(g->kit), &call->timer);
    call->timer.data = call;
    call->next = g->calls;
    g->calls = call;
    return call;
}

static nc_kit_grpc_call_t *nc_grpc_call_find(nc_kit_grpc_t *g, int32_t id)
{
    for (nc_kit_grpc_call_t *c = g->calls; c; c = c->next)
        if (c->id == id)
            return c;
    return NULL;
}

static void nc_grpc_status(nc_kit_grpc_call_t *call, int status, const char *message);

/* Builds, reports and puts one message of the call (text in the lesson's
 * form; a server's reply is its template, filled here). A mistake in the
 * lesson's text fails the run; a reply that what the client sent makes
 * impossible (text where a number goes) ends the call with INTERNAL. */
static int nc_grpc_send(nc_kit_grpc_call_t *call, const char *text)
{
    char bad[160] = "";
    int rc = 0;
    if (!call->out) {
        nc_scn_fail(nc_kit_scn(call->g->kit), "gRPC: no .proto in lessons/proto has the method %s",
                    call->path);
        return NC_EINVAL;
    }
    ProtobufCMessage *m =
        nc_grpc_build(call->out, text, call->g->server ? call : NULL, bad, sizeof bad, &rc);
    if (!m && rc == NC_EINVAL && call->g->server) {
        char why[200];
        snprintf(why, sizeof why, "the reply could not be built: %s", bad);
        nc_grpc_status(call, 13, why);
        return rc;
    }
    if (!m) {
        nc_scn_fail(nc_kit_scn(call->g->kit), "gRPC: %s: %s \"%s\"", call->out->name,
                    rc == NC_ENOENT ? "the message type has no field for"
                                    : rc == NC_ESYNTAX ? "expected name=value, found"
                                                       : "a value its field cannot hold:",
                    bad);
        return rc;
    }
    size_t len = protobuf_c_message_get_packed_size(m);
    uint8_t *wire = nc_xmalloc(len + 5);
    wire[0] = 0;
    wire[1] = (uint8_t)(len >> 24), wire[2] = (uint8_t)(len >> 16);
    wire[3] = (uint8_t)(len >> 8), wire[4] = (uint8_t)len;
    protobuf_c_message_pack(m, wire + 5);
    rc = nc_kit_h2_put(call->g->h2, call->id, wire, len + 5);
    free(wire);
    if (rc != 0) {
        /* The stream is gone: the peer reset it (RST_STREAM), which is how
         * a gRPC client cancels a call. */
        protobuf_c_message_free_unpacked(m, NULL);
        call->done = true;
        call->todo = 0;
        nc_kit_report(call->g->kit, nc_grpc_conn(call), "cancel",
                      (nc_scn_kv_t[]){NC_KV_S("method", call->path), NC_KV_I("stream", call->id)},
                      2, NULL, "%s on stream %d was cancelled (the peer reset the stream): "
                      "nothing more is sent on it", call->path, call->id);
        return rc;
    }
    nc_buf_t t;
    nc_buf_init(&t);
    nc_grpc_text(&t, m, 0);
    call->sent++;
    const char *what = call->g->server ? "reply" : "request";
    nc_kit_report(call->g->kit, nc_grpc_conn(call), "send_message",
                  (nc_scn_kv_t[]){NC_KV_S("method", call->path), NC_KV_S("kind", call->kind),
                                  NC_KV_I("index", call->sent), NC_KV_I("bytes", len),
                                  NC_KV_I("stream", call->id), NC_KV_S("message", nc_buf_cstr(&t))},
                  6, NULL, "send_message(): %s %zu of %s: %s, %zu bytes of protobuf behind "
                  "gRPC's 5-byte prefix", what, call->sent, call->path, nc_buf_cstr(&t), len);
    nc_buf_done(&t);
    protobuf_c_message_free_unpacked(m, NULL);
    return 0;
}

/* Server: the call's status goes out in the trailers. */
static void nc_grpc_status(nc_kit_grpc_call_t *call, int status, const char *message)
{
    if (call->done)
        return; /* a call ends once */
    char code[12];
    snprintf(code, sizeof code, "%d", status);
    nc_kit_header_t tr[2] = {{"grpc-status", code}, {"grpc-message", message ? message : ""}};
    size_t nt = message && *message ? 2 : 1;
    nc_kit_report(call->g->kit, nc_grpc_conn(call), "send_status",
                  (nc_scn_kv_t[]){NC_KV_S("method", call->path), NC_KV_S("kind", call->kind),
                                  NC_KV_I("status", status),
                                  NC_KV_S("status_name", nc_grpc_status_name(status)),
                                  NC_KV_S("message", message ? message : ""),
                                  NC_KV_I("stream", call->id)},
                  6, call->method ? call->method->say : NULL,
                  "send_status(): %s ends with grpc-status %d %s%s%s, in trailers after %zu "
                  "repl%s", call->path, status, nc_grpc_status_name(status),
                  nt == 2 ? ": " : "", nt == 2 ? message : "", call->sent,
                  call->sent == 1 ? "y" : "ies");
    nc_kit_h2_end(call->g->h2, call->id, tr, nt);
    call->done = true;
    if (call->g->on_done)
        call->g->on_done(call->g, status, call->sent, call->g->data);
}

/* Server: opens the answer's stream (its HEADERS go with the first reply
 * or the trailers). */
static void nc_grpc_answer_open(nc_kit_grpc_call_t *call)
{
    if (call->opened)
        return;
    call->opened = true;
    nc_kit_header_t hd[] = {{"content-type", "application/grpc"}};
    nc_kit_h2_open(call->g->h2, call->id, NULL, 200, hd, 1);
}

static void nc_grpc_reply(nc_kit_grpc_call_t *call)
{
    nc_grpc_answer_open(call);
    if (!call->done)
        nc_grpc_send(call, call->method->reply ? call->method->reply : "");
}

/* The timer of a paced stream: the next message, or the end. */
static void nc_grpc_tick(uv_timer_t *t)
{
    nc_kit_grpc_call_t *call = t->data;
    nc_kit_grpc_t *g = call->g;
    if (nc_kit_conn_closing(nc_kit_h2_conn(g->h2)))
        return;
    if (g->server && call->done)
        call->todo = 0; /* it ended early, with an error */
    if (call->todo > 0) {
        call->todo--;
        if (g->server) {
            nc_grpc_reply(call);
        } else {
            nc_grpc_send(call, call->msgs[call->sent]);
            if (call->todo == 0)
                nc_kit_h2_end(g->h2, call->id, NULL, 0);
        }
    }
    if (g->server && call->todo == 0 && !call->done)
        nc_grpc_status(call, 0, NULL);
    if (call->todo > 0 && call->every_ms)
        uv_timer_start(&call->timer, nc_grpc_tick, call->every_ms, 0);
    nc_kit_h2_send(g->h2, NULL);
    if (call->todo > 0 && !call->every_ms)
        nc_grpc_tick(t);
}

/* Server: what the call does once the client's requests are all in. */
static void nc_grpc_requests_done(nc_kit_grpc_call_t *call)
{
    const nc_kit_grpc_method_t *md = call->method;
    if (!md) {
        nc_grpc_answer_open(call);
        nc_grpc_status(call, 12, "no such method on this server");
        return;
    }
    if (md->status) {
        nc_grpc_answer_open(call);
        nc_grpc_status(call, md->status, md->message);
        return;
    }
    if (strcmp(md->kind, "bidi") == 0) {
        nc_grpc_answer_open(call);
        nc_grpc_status(call, 0, NULL);
        return;
    }
    call->todo = strcmp(md->kind, "server-stream") == 0 && md->replies ? md->replies : 1;
    call->every_ms = strcmp(md->kind, "server-stream") == 0 ? md->every_ms : 0;
    call->todo--;
    nc_grpc_reply(call);
    if (call->todo == 0)
        nc_grpc_status(call, 0, NULL);
    else if (call->every_ms)
        uv_timer_start(&call->timer, nc_grpc_tick, call->every_ms, 0);
    else
        nc_grpc_tick(&call->timer);
}

/* One whole message of the call arrived (bytes without the prefix). */
static void nc_grpc_message(nc_kit_grpc_call_t *call, const uint8_t *p, size_t n)
{
    nc_kit_grpc_t *g = call->g;
    ProtobufCMessage *m = call->in ? protobuf_c_message_unpack(call->in, NULL, n, p) : NULL;
    nc_buf_t t;
    nc_buf_init(&t);
    if (m)
        nc_grpc_text(&t, m, 0);
    else
        nc_buf_printf(&t, "%zu bytes the .proto cannot read", n);
    call->got++;
    const char *what = g->server ? "request" : "reply";
    nc_kit_report(g->kit, nc_grpc_conn(call), "recv_message",
                  (nc_scn_kv_t[]){NC_KV_S("method", call->path), NC_KV_S("kind", call->kind),
                                  NC_KV_I("index", call->got), NC_KV_I("bytes", n),
                                  NC_KV_I("stream", call->id), NC_KV_S("message", nc_buf_cstr(&t))},
                  6, NULL, "recv_message(): %s %zu of %s: %s", what, call->got, call->path,
                  nc_buf_cstr(&t));
    nc_buf_done(&t);
    if (m) {
        if (call->last)
            protobuf_c_message_free_unpacked(call->last, NULL);
        call->last = m;
    }
    if (g->server && call->method && !call->method->status &&
        strcmp(call->method->kind, "bidi") == 0)
        nc_grpc_reply(call);
    /* A client in a conversation sends its next message when the reply came. */
    if (!g->server && strcmp(call->kind, "bidi") == 0 && call->todo > 0)
        nc_grpc_tick(&call->timer);
}

/* Cuts the stream's new bytes into messages. */
static bool nc_grpc_read(nc_kit_grpc_call_t *call, const char *data, size_t n)
{
    nc_buf_append(&call->rd, data, n);
    size_t off = 0;
    const uint8_t *b = (const uint8_t *)call->rd.data;
    while (call->rd.len - off >= 5) {
        uint32_t len = (uint32_t)b[off + 1] << 24 | (uint32_t)b[off + 2] << 16 |
                       (uint32_t)b[off + 3] << 8 | b[off + 4];
        if (len > NC_GRPC_MAX_MSG || b[off] != 0)
            return false;
        if (call->rd.len - off - 5 < len)
            break;
        nc_grpc_message(call, b + off + 5, len);
        off += 5 + (size_t)len;
    }
    if (off) {
        memmove(call->rd.data, call->rd.data + off, call->rd.len - off);
        call->rd.len -= off;
    }
    return true;
}

static const char *nc_grpc_header(const nc_kit_http_msg_t *m, const char *name)
{
    const char *v = NULL; /* the last one: trailers come after the head */
    for (size_t i = 0; i < m->nheaders; i++)
        if (strcmp(m->headers[i].name, name) == 0)
            v = m->headers[i].value;
    return v;
}

/* h2.c's streaming hook: a stream got frames. */
static void nc_grpc_stream(nc_kit_h2_t *h, int32_t id, const nc_kit_http_msg_t *m, bool ended,
                           void *data)
{
    nc_kit_grpc_t *g = data;
    nc_kit_grpc_call_t *call = nc_grpc_call_find(g, id);
    if (!call && g->server) {
        call = nc_grpc_call_new(g, id, m->path);
        g->ncalls++;
        for (size_t i = 0; i < g->nmethods && !call->method; i++)
            if (strcmp(g->methods[i].path, call->path) == 0)
                call->method = &g->methods[i];
        call->kind = call->method ? call->method->kind : "unknown";
        call->in = nc_protos_message(call->path, true);
        call->out = nc_protos_message(call->path, false);
    }
    if (!call || call->ended)
        return;
    if (!nc_grpc_read(call, m->body, m->body_len)) {
        nc_kit_close(nc_kit_h2_conn(h), "close(): the peer's gRPC message prefix is not one "
                                        "this kit reads (compressed, or too long)");
        return;
    }
    if (!ended)
        return;
    call->ended = true;
    if (g->server) {
        if (!call->done)
            nc_grpc_requests_done(call);
        return;
    }
    const char *st = nc_grpc_header(m, "grpc-status");
    const char *msg = nc_grpc_header(m, "grpc-message");
    long status = st ? strtol(st, NULL, 10) : 2;
    nc_kit_report(g->kit, nc_grpc_conn(call), "recv_status",
                  (nc_scn_kv_t[]){NC_KV_S("method", call->path), NC_KV_S("kind", call->kind),
                                  NC_KV_I("status", status),
                                  NC_KV_S("status_name", nc_grpc_status_name(status)),
                                  NC_KV_S("message", msg ? msg : ""), NC_KV_I("replies", call->got),
                                  NC_KV_I("stream", call->id)},
                  7, NULL, "recv_status(): %s ended with grpc-status %ld %s%s%s after %zu repl%s",
                  call->path, status, nc_grpc_status_name(status), msg && *msg ? ": " : "",
                  msg ? msg : "", call->got, call->got == 1 ? "y" : "ies");
    nc_kit_grpc_done_cb done = g->on_done;
    size_t replies = call->got;
    uv_timer_stop(&call->timer);
    nc_grpc_call_drop(call);
    if (done)
        done(g, (int)status, replies, g->data);
}

static void nc_grpc_closed(nc_kit_h2_t *h, void *data)
{
    nc_kit_grpc_t *g = data;
    while (g->calls)
        nc_grpc_call_drop(g->calls);
    if (g->on_closed)
        g->on_closed(g, g->data);
    free(g);
}

static void nc_grpc_ignore(nc_kit_h2_t *h, int32_t stream, const nc_kit_http_msg_t *m, void *data)
{
    (void)h, (void)stream, (void)m, (void)data;
}

/* ---- the public face ---- */

/* A gRPC handle over c, server or client. */
static nc_kit_grpc_t *nc_grpc_new(nc_kit_conn_t *c, bool server, nc_kit_grpc_done_cb on_done,
                                  void (*on_closed)(nc_kit_grpc_t *g, void *data), void *data)
{
    nc_kit_grpc_t *g = nc_xcalloc(1, sizeof *g);
    g->kit = nc_kit_conn_kit(c);
    g->server = server;
    g->on_done = on_done;
    g->on_closed = on_closed;
    g->data = data;
    /* gRPC's libraries turn Nagle's algorithm off: a small message must
     * not wait for the ACK of the one before it. */
    nc_kit_conn_nodelay(c);
    g->h2 = server ? nc_kit_h2_server(c, nc_grpc_ignore, nc_grpc_closed, g)
                   : nc_kit_h2_client(c, nc_grpc_ignore, nc_grpc_closed, g);
    nc_kit_h2_set_streaming(g->h2, nc_grpc_stream);
    return g;
}

nc_kit_grpc_t *nc_kit_grpc_server(nc_kit_conn_t *c, const nc_kit_grpc_method_t *methods,
                                  size_t nmethods, nc_kit_grpc_done_cb on_done,
                                  void (*on_closed)(nc_kit_grpc_t *g, void *data), void *data)
{
    nc_kit_grpc_t *g = nc_grpc_new(c, true, on_done, on_closed, data);
    g->methods = methods;
    g->nmethods = nmethods;
    return g;
}

nc_kit_grpc_t *nc_kit_grpc_client(nc_kit_conn_t *c, nc_kit_grpc_done_cb on_done,
                                  void (*on_closed)(nc_kit_grpc_t *g, void *data), void *data)
{
    return nc_grpc_new(c, false, on_done, on_closed, data);
}

int nc_kit_grpc_call(nc_kit_grpc_t *g, const char *kind, const char *path,
                     const char *const *msgs, size_t n, uint64_t every_ms)
{
    nc_kit_header_t hd[] = {{"content-type", "application/grpc"}, {"te", "trailers"}};
    int32_t id = nc_kit_h2_open(g->h2, 0, path, 0, hd, 2);
    if (id < 0)
        return id;
    nc_kit_grpc_call_t *call = nc_grpc_call_new(g, id, path);
    g->ncalls++;
    call->kind = kind;
    call->in = nc_protos_message(path, false);
    call->out = nc_protos_message(path, true);
    if (!call->out) {
        nc_scn_fail(nc_kit_scn(g->kit), "gRPC: no .proto in lessons/proto has the method %s", path);
        return NC_EINVAL;
    }
    /* A call with no message given sends one empty message. */
    call->nmsgs = n ? n : 1;
    call->msgs = nc_xcalloc(call->nmsgs, sizeof *call->msgs);
    for (size_t i = 0; i < call->nmsgs; i++)
        call->msgs[i] = nc_xstrdup(n ? msgs[i] : "");
    call->todo = call->nmsgs;
    call->every_ms = every_ms;
    /* The first message leaves with the HEADERS; a conversation's next
     * ones wait for replies, a paced stream's for the timer. */
    bool chat = strcmp(kind, "bidi") == 0;
    call->todo--;
    if (nc_grpc_send(call, call->msgs[0]) != 0)
        return NC_EINVAL;
    if (call->todo == 0)
        nc_kit_h2_end(g->h2, id, NULL, 0);
    else if (!chat && every_ms)
        uv_timer_start(&call->timer, nc_grpc_tick, every_ms, 0);
    else if (!chat)
        while (call->todo > 0) {
            call->todo--;
            nc_grpc_send(call, call->msgs[call->sent]);
            if (call->todo == 0)
                nc_kit_h2_end(g->h2, id, NULL, 0);
        }
    return nc_kit_h2_send(g->h2, NULL);
}

int nc_kit_grpc_goaway(nc_kit_grpc_t *g)
{
    return nc_kit_h2_goaway(g->h2, NULL);
}

nc_kit_conn_t *nc_kit_grpc_conn(const nc_kit_grpc_t *g)
{
    return nc_kit_h2_conn(g->h2);
}
