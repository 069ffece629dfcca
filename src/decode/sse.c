/*
 * sse.c: server-sent events (the WHATWG HTML standard, section 9.2,
 * "text/event-stream") in the body of an HTTP response.
 *
 *   id: 42            the event's id (a reconnecting client sends it back
 *   event: price        as the request header Last-Event-ID)
 *   data: first line  data lines are joined with a newline
 *   data: second line
 *   retry: 3000       the reconnection delay the client should use, in ms
 *   : a comment       ignored
 *                     a blank line dispatches the event
 *
 * Not a stream decoder of its own: http1.c feeds it the response's body
 * bytes after dechunking (nc__sse_data), with their stream positions, and
 * tells it when the body ends (nc__sse_end). The state is nc_sse_dir_t, a
 * plain struct: the line being read and the event being built, each field
 * bounded (longer values are cut, and the cut is counted in data_len).
 *
 * Each event is written into the packet that completes it, under "sse":
 * id, event, data, data_len (bytes of data, however long), data_lines,
 * retry, and the stream range seq_start, seq_end, segments. Wireshark has
 * no SSE dissector, so these names are the standard's own.
 */
#include "proto.h"
#include "stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void sse_copy(char *dst, size_t cap, const char *v, size_t n)
{
    if (n > cap - 1)
        n = cap - 1;
    memcpy(dst, v, n);
    dst[n] = '\0';
}

static void sse_reset_event(nc_sse_dir_t *e)
{
    e->id[0] = e->event[0] = e->data[0] = '\0';
    e->datalen = e->data_lines = 0;
    e->retry = 0;
    e->has_id = e->has_event = e->has_retry = e->any = false;
    e->in_event = false;
}

static void sse_dispatch(nc_stream_ctx_t *sc, uint32_t end)
{
    nc_sse_dir_t *e = &sc->dir->sse;
    if (e->any) {
        nc_stream_msg_t m;
        memset(&m, 0, sizeof(m));
        m.proto = &nc_sse_stream;
        m.u.sse = *e;
        m.seq_start = e->start_seq;
        m.segments = e->segments;
        nc_stream_emit(sc, &m, end);
    }
    sse_reset_event(e);
}

static void sse_line(nc_stream_ctx_t *sc, uint32_t end)
{
    nc_sse_dir_t *e = &sc->dir->sse;
    if (e->linelen == 0) {
        sse_dispatch(sc, end);
        return;
    }
    const char *s = e->line;
    if (s[0] == ':')
        return;
    const char *colon = memchr(s, ':', e->linelen);
    size_t nlen = colon ? (size_t)(colon - s) : e->linelen;
    const char *v = colon ? colon + 1 : s + e->linelen;
    if (colon && v < s + e->linelen && *v == ' ')
        v++;
    size_t vlen = (size_t)(s + e->linelen - v);
    if (nlen == 4 && memcmp(s, "data", 4) == 0) {
        size_t have = strlen(e->data);
        if (e->data_lines > 0 && have < sizeof(e->data) - 1) {
            e->data[have++] = '\n';
            e->data[have] = '\0';
        }
        sse_copy(e->data + have, sizeof(e->data) - have, v, vlen);
        e->datalen += (uint32_t)vlen + (e->data_lines > 0 ? 1u : 0u);
        e->data_lines++;
        e->any = true;
    } else if (nlen == 2 && memcmp(s, "id", 2) == 0) {
        sse_copy(e->id, sizeof(e->id), v, vlen);
        e->has_id = e->any = true;
    } else if (nlen == 5 && memcmp(s, "event", 5) == 0) {
        sse_copy(e->event, sizeof(e->event), v, vlen);
        e->has_event = e->any = true;
    } else if (nlen == 5 && memcmp(s, "retry", 5) == 0) {
        char num[24];
        sse_copy(num, sizeof(num), v, vlen);
        char *endp;
        long long r = strtoll(num, &endp, 10);
        if (vlen > 0 && *endp == '\0' && num[0] >= '0' && num[0] <= '9') {
            e->retry = r;
            e->has_retry = e->any = true;
        }
    }
}

void nc__sse_data(nc_stream_ctx_t *sc, const uint8_t *p, size_t n, uint32_t rel)
{
    nc_sse_dir_t *e = &sc->dir->sse;
    if (sc->seg_start && e->in_event)
        e->segments++;
    nc_cursor_t c = nc_cur_make(p, n);
    uint8_t ch;
    for (uint32_t i = 0; nc_cur_u8(&c, &ch); i++) {
        /* CRLF, LF and CR all end a line: the LF of a CRLF ends nothing. */
        if (e->after_cr && ch == '\n') {
            e->after_cr = false;
            continue;
        }
        e->after_cr = false;
        if (!e->in_event) {
            e->start_seq = rel + i;
            e->segments = 1;
            e->in_event = true;
        }
        if (ch == '\n' || ch == '\r') {
            e->after_cr = ch == '\r';
            sse_line(sc, rel + i + 1);
            e->linelen = 0;
            continue;
        }
        if (e->linelen < sizeof(e->line) - 1)
            e->line[e->linelen++] = (char)ch;
        e->line[e->linelen] = '\0';
    }
}

void nc__sse_end(nc_stream_ctx_t *sc)
{
    /* An event not ended by a blank line is discarded (the standard). */
    nc_sse_dir_t *e = &sc->dir->sse;
    sse_reset_event(e);
    e->linelen = 0;
    e->after_cr = false;
}

static void sse_write(nc_evb_t *b, const nc_stream_msg_t *m)
{
    const nc_sse_dir_t *e = &m->u.sse;
    if (e->has_id)
        nc_evb_str(b, "id", e->id);
    if (e->has_event)
        nc_evb_str(b, "event", e->event);
    if (e->data_lines) {
        nc_evb_str(b, "data", e->data);
        nc_evb_int(b, "data_len", e->datalen);
        nc_evb_int(b, "data_lines", e->data_lines);
    }
    if (e->has_retry)
        nc_evb_int(b, "retry", e->retry);
    nc_evb_int(b, "seq_start", m->seq_start);
    nc_evb_int(b, "seq_end", m->seq_end);
    nc_evb_int(b, "segments", m->segments);
}

static void sse_summary(const nc_stream_msg_t *m, char *s, size_t n)
{
    const nc_sse_dir_t *e = &m->u.sse;
    snprintf(s, n, "SSE %s%s%s%.60s%s", e->has_event ? e->event : "message",
             e->has_id ? " id=" : "", e->has_id ? e->id : "", e->data_lines ? " data=" : "",
             e->data_lines ? e->data : "");
    if (e->has_retry) {
        size_t k = strlen(s);
        snprintf(s + k, n - k, " retry=%lld", (long long)e->retry);
    }
}

static const nc_field_decl_t sse_fields[] = {
    {"id", NC_F_STR},        {"event", NC_F_STR},      {"data", NC_F_STR},
    {"data_len", NC_F_INT},  {"data_lines", NC_F_INT}, {"retry", NC_F_INT},
    {"seq_start", NC_F_INT}, {"seq_end", NC_F_INT},    {"segments", NC_F_INT},
    {"other_direction", NC_F_BOOL}, {"decrypted", NC_F_BOOL}, {NULL, 0},
};

/* SSE is fed by http1.c, never by the reassembler directly. */
static size_t sse_stream_data(nc_stream_ctx_t *sc, const uint8_t *p, size_t n)
{
    nc__sse_data(sc, p, n, sc->rel);
    return n;
}

static void sse_stream_gap(nc_stream_ctx_t *sc, uint32_t n)
{
    (void)n; /* the event cut by the gap is dropped, however long the gap */
    nc__sse_end(sc);
}

static void sse_stream_end(nc_stream_ctx_t *sc)
{
    nc__sse_end(sc);
}

const nc_stream_proto_t nc_sse_stream = {
    .name = "sse",
    .fields = sse_fields,
    .data = sse_stream_data,
    .gap = sse_stream_gap,
    .end = sse_stream_end,
    .write = sse_write,
    .summary = sse_summary,
};

static int sse_layer(nc_dctx_t *x, nc_cursor_t *c)
{
    return nc__stream_layer(x, c, NC_SAPP_SSE);
}

const nc_proto_t nc_sse_proto = {"sse", sse_layer, sse_fields};
