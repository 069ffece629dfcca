/*
 * websocket.c: WebSocket frames (RFC 6455 section 5) on a reassembled stream.
 *
 *    0                   1                   2                   3
 *   +-+-+-+-+-------+-+-------------+-------------------------------+
 *   |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
 *   |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
 *   |N|V|V|V|       |S|             |   (if payload len==126/127)   |
 *   | |1|2|3|       |K|             |                               |
 *   +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
 *   |     Extended payload length continued, if payload len == 127  |
 *   |                               |Masking-key, if MASK set to 1  |
 *   |          Masking-key (continued)       |     Payload Data     |
 *
 * A stream decoder (stream.h) that http1.c hands both directions to after a
 * 101 answer to "Upgrade: websocket". The state (nc_ws_dir_t) is the frame
 * header being collected, then the payload bytes still to come; payload bytes
 * are unmasked as they pass and the first ones kept for the summary, the
 * text and the close frame's status code and reason. A message cut in
 * fragments (a text or binary frame without FIN, then continuation frames)
 * is followed: each continuation says which message it continues and its
 * place. When permessage-deflate was negotiated, RSV1 marks a compressed
 * message (Wireshark's websocket.pmc) and its text is not shown.
 *
 * Fields carry Wireshark's names and values: fin, rsv, pmc, opcode, mask,
 * payload_length (the 7-bit field), payload_length_ext_16/_ext_64,
 * masking_key, payload.text, payload.close.status_code and .reason; derived
 * ones have names of their own: len (payload bytes), opcode_name,
 * fragment_of / fragment_index / fragments, gap_bytes, incomplete, and the
 * stream range seq_start, seq_end, segments.
 */
#include "proto.h"
#include "stream.h"

#include <stdio.h>
#include <string.h>

enum { WS_HDR = 0, WS_PAYLOAD, WS_LOST };

static const struct {
    uint8_t opcode;
    const char *name;
} ws_opcodes[] = {
    {0, "Continuation"}, {1, "Text"}, {2, "Binary"}, {8, "Connection Close"},
    {9, "Ping"},         {10, "Pong"},
};

static const char *ws_opcode_name(uint8_t op)
{
    for (size_t i = 0; i < sizeof(ws_opcodes) / sizeof(ws_opcodes[0]); i++)
        if (ws_opcodes[i].opcode == op)
            return ws_opcodes[i].name;
    return "Unknown";
}

static void ws_emit(nc_stream_ctx_t *sc, uint32_t end, bool incomplete)
{
    nc_ws_dir_t *w = &sc->dir->ws;
    nc_stream_msg_t m;
    memset(&m, 0, sizeof(m));
    m.proto = &nc_websocket_stream;
    m.u.ws = *w;
    m.seq_start = w->start_seq;
    m.segments = w->segments;
    m.incomplete = incomplete;
    nc_stream_emit(sc, &m, end);
    /* Follow fragmented messages for the next frame. */
    if (!incomplete) {
        if ((w->opcode == 1 || w->opcode == 2) && !w->fin) {
            w->in_fragmented = true;
            w->frag_opcode = w->opcode;
            w->frag_count = 1;
        } else if (w->opcode == 0 && w->in_fragmented) {
            if (w->fin)
                w->in_fragmented = false;
        }
    }
    w->state = WS_HDR;
    w->hlen = 0;
}

/* The header in w->hdr is whole: read it. */
static void ws_header(nc_ws_dir_t *w)
{
    w->fin = w->hdr[0] & 0x80;
    w->rsv = (w->hdr[0] >> 4) & 7;
    w->opcode = w->hdr[0] & 0x0f;
    w->mask = w->hdr[1] & 0x80;
    w->len7 = w->hdr[1] & 0x7f;
    size_t off = 2;
    if (w->len7 == 126) {
        w->plen = (uint64_t)w->hdr[2] << 8 | w->hdr[3];
        off = 4;
    } else if (w->len7 == 127) {
        w->plen = 0;
        for (int i = 0; i < 8; i++)
            w->plen = w->plen << 8 | w->hdr[2 + i];
        off = 10;
    } else {
        w->plen = w->len7;
    }
    if (w->mask)
        memcpy(w->key, w->hdr + off, 4);
    w->remaining = w->plen;
    w->kpos = 0;
    w->textlen = 0;
    w->gap_bytes = 0;
    if (w->opcode == 0 && w->in_fragmented)
        w->frag_count++;
}

/* How many header bytes a header that starts with b0, b1 has. */
static uint8_t ws_header_len(uint8_t b1)
{
    uint8_t n = 2;
    if ((b1 & 0x7f) == 126)
        n += 2;
    else if ((b1 & 0x7f) == 127)
        n += 8;
    if (b1 & 0x80)
        n += 4;
    return n;
}

/* Payload bytes: unmasks and keeps the first ones, counts the rest. */
static void ws_payload(nc_stream_ctx_t *sc, nc_cursor_t *c, uint32_t rel)
{
    nc_ws_dir_t *w = &sc->dir->ws;
    size_t k = nc_cur_left(c) < w->remaining ? nc_cur_left(c) : (size_t)w->remaining;
    nc_cursor_t pay;
    nc_cur_sub(c, k, &pay);
    uint8_t ch;
    while (w->textlen < sizeof(w->text) - 1 && nc_cur_u8(&pay, &ch)) {
        if (w->mask)
            ch ^= w->key[w->kpos & 3];
        w->kpos++;
        w->text[w->textlen++] = (char)ch;
    }
    w->text[w->textlen] = '\0';
    /* Only the key's phase matters for the bytes not kept. */
    w->kpos = (uint8_t)(w->kpos + nc_cur_left(&pay));
    w->remaining -= k;
    if (w->remaining == 0)
        ws_emit(sc, rel + (uint32_t)k, false);
}

static size_t ws_data(nc_stream_ctx_t *sc, const uint8_t *p, size_t n)
{
    nc_ws_dir_t *w = &sc->dir->ws;
    if (w->state == WS_LOST)
        return n;
    if (sc->seg_start && (w->state != WS_HDR || w->hlen > 0))
        w->segments++;
    nc_cursor_t c = nc_cur_make(p, n);
    while (nc_cur_left(&c) > 0) {
        uint32_t rel = sc->rel + (uint32_t)(c.ptr - p);
        if (w->state == WS_PAYLOAD) {
            ws_payload(sc, &c, rel);
            continue;
        }
        if (w->hlen == 0) {
            w->start_seq = rel;
            w->segments = 1;
            w->need = 2;
        }
        nc_cur_u8(&c, &w->hdr[w->hlen++]);
        if (w->hlen == 2)
            w->need = ws_header_len(w->hdr[1]);
        if (w->hlen < w->need)
            continue;
        ws_header(w);
        w->state = WS_PAYLOAD;
        if (w->remaining == 0)
            ws_emit(sc, rel + 1, false);
    }
    return n;
}

static void ws_gap(nc_stream_ctx_t *sc, uint32_t n)
{
    nc_ws_dir_t *w = &sc->dir->ws;
    if (w->state == WS_PAYLOAD && n <= w->remaining) {
        w->remaining -= n;
        w->kpos = (uint8_t)(w->kpos + n);
        w->gap_bytes += n;
        /* The text kept so far no longer runs on: stop keeping it. */
        w->textlen = (uint16_t)(sizeof(w->text) - 1);
        if (w->remaining == 0)
            ws_emit(sc, sc->rel + n, false);
        return;
    }
    /* The frame boundaries are lost with the bytes. */
    if (w->state == WS_PAYLOAD || w->hlen > 0)
        ws_emit(sc, sc->rel, true);
    w->state = WS_LOST;
}

static void ws_end(nc_stream_ctx_t *sc)
{
    nc_ws_dir_t *w = &sc->dir->ws;
    if (w->state == WS_PAYLOAD || (w->state == WS_HDR && w->hlen > 0))
        ws_emit(sc, sc->rel, true);
    w->state = WS_LOST;
}

static void ws_write(nc_evb_t *b, const nc_stream_msg_t *m)
{
    const nc_ws_dir_t *w = &m->u.ws;
    nc_evb_bool(b, "fin", w->fin);
    nc_evb_int(b, "rsv", w->rsv);
    if (w->deflate)
        nc_evb_bool(b, "pmc", (w->rsv & 4) != 0);
    nc_evb_int(b, "opcode", w->opcode);
    nc_evb_str(b, "opcode_name", ws_opcode_name(w->opcode));
    nc_evb_bool(b, "mask", w->mask);
    nc_evb_int(b, "payload_length", w->len7);
    if (w->len7 == 126)
        nc_evb_int(b, "payload_length_ext_16", (int64_t)w->plen);
    else if (w->len7 == 127)
        nc_evb_int(b, "payload_length_ext_64", (int64_t)w->plen);
    if (w->mask)
        nc_evb_strf(b, "masking_key", "%02x:%02x:%02x:%02x", w->key[0], w->key[1], w->key[2],
                    w->key[3]);
    nc_evb_int(b, "len", (int64_t)w->plen);
    bool compressed = w->deflate && (w->rsv & 4);
    uint8_t op = w->opcode == 0 && w->in_fragmented ? w->frag_opcode : w->opcode;
    if (w->opcode == 0) {
        nc_evb_int(b, "fragment_of", w->frag_opcode);
        nc_evb_int(b, "fragment_index", w->frag_count - 1);
        if (w->fin)
            nc_evb_int(b, "fragments", w->frag_count);
    }
    uint64_t shown = w->textlen < w->plen ? w->textlen : w->plen;
    if (w->opcode == 8 && w->plen >= 2 && shown >= 2) {
        nc_evb_obj(b, "payload");
        nc_evb_obj(b, "close");
        nc_evb_int(b, "status_code", (uint8_t)w->text[0] << 8 | (uint8_t)w->text[1]);
        nc_evb_strn(b, "reason", w->text + 2, (size_t)shown - 2);
        nc_evb_end(b);
        nc_evb_end(b);
    } else if (op == 1 && !compressed && !m->incomplete) {
        nc_evb_obj(b, "payload");
        nc_evb_strn(b, "text", w->text, (size_t)shown);
        nc_evb_end(b);
    }
    if (w->gap_bytes)
        nc_evb_int(b, "gap_bytes", (int64_t)w->gap_bytes);
    if (m->incomplete)
        nc_evb_bool(b, "incomplete", true);
    nc_evb_int(b, "seq_start", m->seq_start);
    nc_evb_int(b, "seq_end", m->seq_end);
    nc_evb_int(b, "segments", m->segments);
}

static void ws_summary(const nc_stream_msg_t *m, char *s, size_t n)
{
    const nc_ws_dir_t *w = &m->u.ws;
    snprintf(s, n, "WebSocket %s%s%s len=%llu%s", ws_opcode_name(w->opcode),
             w->fin ? " [FIN]" : "", w->mask ? " [MASKED]" : "", (unsigned long long)w->plen,
             m->incomplete ? " (incomplete)" : "");
}

static const nc_field_decl_t ws_fields[] = {
    {"fin", NC_F_BOOL},
    {"rsv", NC_F_INT},
    {"pmc", NC_F_BOOL},
    {"opcode", NC_F_INT},
    {"opcode_name", NC_F_STR},
    {"mask", NC_F_BOOL},
    {"payload_length", NC_F_INT},
    {"payload_length_ext_16", NC_F_INT},
    {"payload_length_ext_64", NC_F_INT},
    {"masking_key", NC_F_STR},
    {"len", NC_F_INT},
    {"fragment_of", NC_F_INT},
    {"fragment_index", NC_F_INT},
    {"fragments", NC_F_INT},
    {"payload", NC_F_OBJ},
    {"payload.text", NC_F_STR},
    {"payload.close", NC_F_OBJ},
    {"payload.close.status_code", NC_F_INT},
    {"payload.close.reason", NC_F_STR},
    {"gap_bytes", NC_F_INT},
    {"incomplete", NC_F_BOOL},
    {"seq_start", NC_F_INT},
    {"seq_end", NC_F_INT},
    {"segments", NC_F_INT},
    {"other_direction", NC_F_BOOL}, {"decrypted", NC_F_BOOL}, {NULL, 0},
};

const nc_stream_proto_t nc_websocket_stream = {
    .name = "websocket",
    .fields = ws_fields,
    .data = ws_data,
    .gap = ws_gap,
    .end = ws_end,
    .write = ws_write,
    .summary = ws_summary,
};

static int ws_layer(nc_dctx_t *x, nc_cursor_t *c)
{
    return nc__stream_layer(x, c, NC_SAPP_WEBSOCKET);
}

const nc_proto_t nc_websocket_proto = {"websocket", ws_layer, ws_fields};
