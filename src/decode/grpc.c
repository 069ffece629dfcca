/*
 * grpc.c: gRPC's length-prefixed messages on HTTP/2 DATA, and its trailers.
 *
 *   +------------+---------------------------+------------------------+
 *   | Compressed |  Message-Length (32, BE)  |  Message (Length bytes)|
 *   |   Flag (8) |                           |                        |
 *   +------------+---------------------------+------------------------+
 *
 * http2.c marks a stream as gRPC when a header block on it says
 * "content-type: application/grpc..." and then hands each DATA frame's body
 * (padding removed) to nc__grpc_data with the stream direction's parser
 * (nc_grpc_dir_t, stream.h). A message may span DATA frames and TCP
 * segments; it is emitted, as a message of the "grpc" layer, by the packet
 * whose bytes complete it. Its first NC_GRPC_KEEP bytes are kept, and an
 * uncompressed message is walked as protobuf (protobuf.c), emitted right
 * after it as a "protobuf" layer message with the same streamid and index.
 * A header block with grpc-status (the trailers, normally the server's
 * last HEADERS) is emitted as a grpc message with trailers: true, status
 * and message.
 *
 * Fields: compressed_flag and message_length are Wireshark's; streamid,
 * index (1, 2, ... per stream direction), kind (request or response), path
 * (the :path, i.e. /package.Service/Method), trailers, status, status_name,
 * message, gap_bytes are ours. Only messages count as Wireshark's grpc
 * messages: trailers are a separate kind of object here, and in tshark a
 * header field of http2.
 */
#include "proto.h"
#include "stream.h"
#include "../core/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const grpc_status_names[] = {
    "OK",           "CANCELLED",         "UNKNOWN",           "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED", "NOT_FOUND",    "ALREADY_EXISTS",    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",   "OUT_OF_RANGE",
    "UNIMPLEMENTED", "INTERNAL",         "UNAVAILABLE",       "DATA_LOSS",
    "UNAUTHENTICATED",
};

const char *nc_grpc_status_name(long s)
{
    return s >= 0 && s < (long)(sizeof(grpc_status_names) / sizeof(grpc_status_names[0]))
               ? grpc_status_names[s]
               : "UNKNOWN";
}

/* Emits the message g holds, ending at relative seq end, and its protobuf
 * walk when it is not compressed. */
static void grpc_emit(nc_stream_ctx_t *sc, nc_grpc_dir_t *g, uint32_t end)
{
    nc_stream_msg_t *m = nc_xcalloc(1, sizeof(*m));
    m->proto = &nc_grpc_stream;
    m->u.grpc = g->m;
    m->seq_start = g->start_seq;
    m->segments = 1;
    nc_stream_emit(sc, m, end);
    if (!g->m.compressed_flag && g->m.gap_bytes == 0) {
        memset(m, 0, sizeof(*m));
        m->proto = &nc_protobuf_stream;
        nc__protobuf_walk(g->m.keep, g->m.keeplen, nc__protos_find(g->m.path, g->m.request),
                          &m->u.pb);
        m->u.pb.streamid = g->m.streamid;
        m->u.pb.index = g->m.index;
        m->u.pb.truncated = g->m.keeplen < g->m.message_length;
        m->seq_start = g->start_seq + 5;
        m->segments = 1;
        nc_stream_emit(sc, m, end);
    }
    free(m);
    g->in_msg = false;
    g->hlen = 0;
}

void nc__grpc_data(nc_stream_ctx_t *sc, nc_grpc_dir_t *g, const uint8_t *p, size_t n,
                   uint32_t rel)
{
    nc_cursor_t c = nc_cur_make(p, n);
    while (!g->lost && nc_cur_left(&c) > 0) {
        uint32_t at = rel + (uint32_t)(c.ptr - p);
        if (!g->in_msg) {
            if (g->hlen == 0)
                g->start_seq = at;
            while (g->hlen < 5 && nc_cur_u8(&c, &g->hdr[g->hlen]))
                g->hlen++;
            if (g->hlen < 5)
                return;
            g->in_msg = true;
            g->m.compressed_flag = g->hdr[0];
            g->m.message_length = (uint32_t)g->hdr[1] << 24 | (uint32_t)g->hdr[2] << 16 |
                                  (uint32_t)g->hdr[3] << 8 | g->hdr[4];
            g->m.index = ++g->count;
            g->m.keeplen = 0;
            g->m.gap_bytes = 0;
            g->remaining = g->m.message_length;
            if (g->remaining == 0)
                grpc_emit(sc, g, rel + (uint32_t)(c.ptr - p));
            continue;
        }
        size_t k = nc_cur_left(&c) < g->remaining ? nc_cur_left(&c) : g->remaining;
        size_t keep = NC_GRPC_KEEP - g->m.keeplen;
        if (keep > k)
            keep = k;
        nc_cur_bytes(&c, g->m.keep + g->m.keeplen, keep);
        g->m.keeplen = (uint16_t)(g->m.keeplen + keep);
        nc_cur_skip(&c, k - keep);
        g->remaining -= (uint32_t)k;
        if (g->remaining == 0)
            grpc_emit(sc, g, rel + (uint32_t)(c.ptr - p));
    }
}

void nc__grpc_gap(nc_grpc_dir_t *g, uint32_t n)
{
    /* Lost bytes inside a message leave its end known; anywhere else the
     * message boundaries are gone. */
    if (g->in_msg && n < g->remaining) {
        g->remaining -= n;
        g->m.gap_bytes += n;
        g->m.keeplen = NC_GRPC_KEEP; /* what follows no longer runs on */
        return;
    }
    g->lost = true;
}

void nc__grpc_trailers(nc_stream_ctx_t *sc, const nc_grpc_msg_t *t, uint32_t end)
{
    nc_stream_msg_t *m = nc_xcalloc(1, sizeof(*m));
    m->proto = &nc_grpc_stream;
    m->u.grpc = *t;
    m->seq_start = end;
    m->segments = 1;
    nc_stream_emit(sc, m, end);
    free(m);
}

static void grpc_write(nc_evb_t *b, const nc_stream_msg_t *m)
{
    const nc_grpc_msg_t *g = &m->u.grpc;
    if (g->streamid)
        nc_evb_int(b, "streamid", g->streamid);
    if (g->path[0])
        nc_evb_str(b, "path", g->path);
    nc_evb_str(b, "kind", g->request ? "request" : "response");
    if (g->trailers) {
        nc_evb_bool(b, "trailers", true);
        nc_evb_int(b, "status", g->status);
        nc_evb_str(b, "status_name", nc_grpc_status_name((long)g->status));
        if (g->message[0])
            nc_evb_str(b, "message", g->message);
    } else {
        nc_evb_int(b, "compressed_flag", g->compressed_flag);
        nc_evb_int(b, "message_length", g->message_length);
        nc_evb_int(b, "index", g->index);
        if (g->gap_bytes)
            nc_evb_int(b, "gap_bytes", (int64_t)g->gap_bytes);
    }
    nc_evb_int(b, "seq_start", m->seq_start);
    nc_evb_int(b, "seq_end", m->seq_end);
}

static void grpc_summary(const nc_stream_msg_t *m, char *s, size_t n)
{
    const nc_grpc_msg_t *g = &m->u.grpc;
    if (g->trailers)
        snprintf(s, n, "gRPC status %lld %s%s%.60s", (long long)g->status,
                 nc_grpc_status_name((long)g->status), g->message[0] ? ": " : "", g->message);
    else
        snprintf(s, n, "gRPC %s #%u %u B%s%s", g->request ? "request" : "response", g->index,
                 g->message_length, g->path[0] ? " " : "", g->path);
}

static const nc_field_decl_t grpc_fields[] = {
    {"streamid", NC_F_INT},      {"path", NC_F_STR},          {"kind", NC_F_STR},
    {"trailers", NC_F_BOOL},     {"status", NC_F_INT},        {"status_name", NC_F_STR},
    {"message", NC_F_STR},       {"compressed_flag", NC_F_INT}, {"message_length", NC_F_INT},
    {"index", NC_F_INT},         {"gap_bytes", NC_F_INT},     {"seq_start", NC_F_INT},
    {"seq_end", NC_F_INT},       {"other_direction", NC_F_BOOL}, {NULL, 0},
};

const nc_stream_proto_t nc_grpc_stream = {
    .name = "grpc",
    .fields = grpc_fields,
    .write = grpc_write,
    .summary = grpc_summary,
};

/* nc_decoder_layer("grpc"): the bytes are one direction's DATA of a gRPC
 * call (length-prefixed messages), written as the stream decoder would. */
static int grpc_layer(nc_dctx_t *x, nc_cursor_t *c)
{
    nc_grpc_dir_t *g = nc_xcalloc(1, sizeof(*g));
    nc_stream_out_t *out = nc_xcalloc(1, sizeof(*out));
    nc_stream_state_t *st = nc_xcalloc(1, sizeof(*st));
    nc_stream_ctx_t sc = {.st = st, .dir = &st->dir[0], .peer = &st->dir[1], .out = out};
    g->m.request = true;
    out->pkt_len = (uint32_t)nc_cur_left(c);
    out->pkt_off = (uint32_t)(c->ptr - x->frame);
    nc__grpc_data(&sc, g, c->ptr, nc_cur_left(c), 0);
    nc__stream_write(x, out);
    c->ptr = c->end;
    free(st);
    free(out);
    free(g);
    return 0;
}

const nc_proto_t nc_grpc_proto = {"grpc", grpc_layer, grpc_fields};
