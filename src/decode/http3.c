/*
 * http3.c: HTTP/3 (RFC 9114) frames on QUIC streams, with QPACK (RFC 9204)
 * through nghttp3's decoder.
 *
 *   HTTP/3 frame:  Type (i) | Length (i) | Payload (Length bytes)
 *   A unidirectional stream starts with its Stream Type (i): 0 control,
 *   1 push, 2 QPACK encoder, 3 QPACK decoder.
 *
 * quic.c hands over every decrypted STREAM frame (stream id, offset,
 * bytes, FIN). Each direction of each stream is a byte stream of its own
 * (a request stream carries the request one way and the response the
 * other): its bytes are delivered in order, a frame resent after a loss
 * is trimmed to what is new, and a frame that arrives ahead of a hole
 * waits (copied, bounded) until the hole fills. The client-initiated
 * bidirectional streams (ids 0, 4, 8 ...) carry frames from their first
 * byte; unidirectional ones (ids with bit 1 set) first name their type.
 * A QPACK encoder stream's bytes go to the nghttp3 decoder of the side that
 * sends them (its dynamic table); HEADERS payloads are decoded by it, and
 * the header block's size is set against the decoded size (the header list
 * size: name + value + 32 per field, as http2.c does). DATA payloads are
 * counted, not kept.
 *
 * Each frame is one message, emitted in the packet whose bytes complete
 * it, with Wireshark's names (frame_type, frame_length, stream_type,
 * settings.id/value) and ours (stream_id, frame_name, header names,
 * method, path, status, header_block_len, header_list_size). tshark 4.0
 * decodes HTTP/3 frames but not QPACK: header names have no tshark field to
 * compare with (README, tshark differences).
 *
 * The data model: struct nc_h3_conn (owned by the QUIC connection), two
 * QPACK decoders (headers the client sends, headers the server sends) and
 * a table of byte streams (H3_STREAMS; beyond that a stream is not read).
 */
#include "proto.h"
#include "quic.h"

#include "../core/xmalloc.h"

#include <nghttp3/nghttp3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define H3_STREAMS 128
#define H3_MAX_FRAME (256u * 1024u) /* larger non-DATA frames are skipped */
#define H3_OOO (512u * 1024u)      /* bytes held ahead of holes, per connection */
#define H3_DTABLE 65536

typedef struct h3_chunk {
    uint64_t off;
    size_t n;
    uint8_t *p;
    struct h3_chunk *next;
} h3_chunk_t;

typedef struct h3_bs {
    bool used, from_client, uni, fin;
    uint64_t id, next;       /* next: the offset expected next */
    uint64_t feed_off;       /* where the bytes being fed begin */
    uint64_t pending_off;    /* where the DATA frame being passed began */
    int64_t type;            /* a unidirectional stream's type, -1 until read */
    uint8_t *buf;            /* bytes of the frame being read */
    size_t len, cap;
    uint64_t skip;           /* DATA payload (or an unread frame) still to pass */
    uint64_t pending_type, pending_len; /* the DATA frame being passed */
    bool has_pending;
    h3_chunk_t *ooo;         /* held ahead of a hole, by offset */
} h3_bs_t;

struct nc_h3_conn {
    nghttp3_qpack_decoder *qd[2]; /* [from_client]: decodes what that side sends */
    h3_bs_t bs[H3_STREAMS];
    size_t held;
};

static const char *const h3_frame_names[] = {"DATA", "HEADERS", "2", "CANCEL_PUSH", "SETTINGS",
                                             "PUSH_PROMISE", "6", "GOAWAY", "8", "9", "10",
                                             "11", "12", "MAX_PUSH_ID"};
static const char *const h3_stream_names[] = {"control", "push", "QPACK encoder",
                                              "QPACK decoder"};

static bool h3v(const uint8_t *p, size_t n, size_t *at, uint64_t *v)
{
    if (*at >= n)
        return false;
    size_t len = (size_t)1 << (p[*at] >> 6);
    if (n - *at < len)
        return false;
    uint64_t r = p[*at] & 0x3f;
    for (size_t i = 1; i < len; i++)
        r = r << 8 | p[*at + i];
    *at += len;
    *v = r;
    return true;
}

void nc__http3_free(struct nc_h3_conn *h3)
{
    if (h3 == NULL)
        return;
    for (int i = 0; i < 2; i++)
        if (h3->qd[i])
            nghttp3_qpack_decoder_del(h3->qd[i]);
    for (size_t i = 0; i < H3_STREAMS; i++) {
        free(h3->bs[i].buf);
        for (h3_chunk_t *c = h3->bs[i].ooo, *nx; c; c = nx) {
            nx = c->next;
            free(c->p);
            free(c);
        }
    }
    free(h3);
}

static nc_h3_msg_t *h3_emit(nc_h3_out_t *out, const h3_bs_t *s)
{
    if (out->n >= NC_H3_MSGS) {
        out->dropped++;
        return NULL;
    }
    nc_h3_msg_t *m = &out->msgs[out->n++];
    memset(m, 0, sizeof(*m));
    m->stream_id = s->id;
    m->from_client = s->from_client;
    m->frame_type = m->stream_type = m->goaway_id = -1;
    return m;
}

static void h3_name_add(nc_h3_msg_t *m, const uint8_t *p, size_t n)
{
    size_t at = strlen(m->names);
    if (at + n + 2 >= sizeof(m->names))
        return;
    if (at)
        m->names[at++] = ',';
    memcpy(m->names + at, p, n);
    m->names[at + n] = '\0';
}

static void h3_copy(char *dst, size_t cap, const uint8_t *p, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, p, n);
    dst[n] = '\0';
}

/* Decodes a HEADERS payload with the sender's QPACK decoder. */
static void h3_headers(nghttp3_qpack_decoder *qd, const h3_bs_t *s, nc_h3_msg_t *m,
                       const uint8_t *p, size_t n)
{
    nghttp3_qpack_stream_context *sc = NULL;
    m->header_block_len = (uint32_t)n;
    if (qd == NULL || nghttp3_qpack_stream_context_new(&sc, (int64_t)s->id, nghttp3_mem_default()) != 0) {
        m->qpack_failed = true;
        return;
    }
    while (1) {
        nghttp3_qpack_nv nv;
        uint8_t flags = 0;
        nghttp3_ssize r = nghttp3_qpack_decoder_read_request(qd, sc, &nv, &flags, p, n, 1);
        if (r < 0 || (flags & NGHTTP3_QPACK_DECODE_FLAG_BLOCKED)) {
            m->qpack_failed = true;
            break;
        }
        p += r;
        n -= (size_t)r;
        if (flags & NGHTTP3_QPACK_DECODE_FLAG_EMIT) {
            nghttp3_vec name = nghttp3_rcbuf_get_buf(nv.name);
            nghttp3_vec value = nghttp3_rcbuf_get_buf(nv.value);
            m->nheaders++;
            m->header_list_size += (uint32_t)(name.len + value.len + 32);
            h3_name_add(m, name.base, name.len);
            if (name.len == 7 && memcmp(name.base, ":method", 7) == 0)
                h3_copy(m->method, sizeof(m->method), value.base, value.len);
            if (name.len == 5 && memcmp(name.base, ":path", 5) == 0)
                h3_copy(m->path, sizeof(m->path), value.base, value.len);
            if (name.len == 7 && memcmp(name.base, ":status", 7) == 0)
                h3_copy(m->status, sizeof(m->status), value.base, value.len);
            nghttp3_rcbuf_decref(nv.name);
            nghttp3_rcbuf_decref(nv.value);
        }
        if (flags & NGHTTP3_QPACK_DECODE_FLAG_FINAL)
            break;
        if (r == 0 && !(flags & NGHTTP3_QPACK_DECODE_FLAG_EMIT)) {
            m->qpack_failed = true;
            break;
        }
    }
    nghttp3_qpack_stream_context_del(sc);
}

/* One whole non-DATA frame. */
static void h3_frame(struct nc_h3_conn *h3, h3_bs_t *s, uint64_t type, const uint8_t *p,
                     size_t n, nc_h3_out_t *out)
{
    nc_h3_msg_t *m = h3_emit(out, s);
    if (m == NULL)
        return;
    m->frame_type = (int64_t)type;
    m->frame_length = n;
    size_t at = 0;
    if (type == 1) {
        h3_headers(h3->qd[s->from_client], s, m, p, n);
    } else if (type == 4) {
        uint64_t id, v;
        while (m->nsettings < 8 && h3v(p, n, &at, &id) && h3v(p, n, &at, &v)) {
            m->settings[m->nsettings][0] = id;
            m->settings[m->nsettings++][1] = v;
        }
    } else if (type == 7) {
        uint64_t id;
        if (h3v(p, n, &at, &id))
            m->goaway_id = (int64_t)id;
    }
}

/* The DATA frame (or a frame too large to keep) being passed has ended. */
static void h3_pending_done(h3_bs_t *s, nc_h3_out_t *out)
{
    nc_h3_msg_t *m = h3_emit(out, s);
    if (m) {
        m->frame_type = (int64_t)s->pending_type;
        m->frame_length = s->pending_len;
        m->split = s->pending_off < s->feed_off;
    }
    s->has_pending = false;
}

/* Reads what the byte stream's buffer holds: a stream type, then frames.
 * DATA payloads are passed as they come (skip). */
static void h3_parse(struct nc_h3_conn *h3, h3_bs_t *s, nc_h3_out_t *out)
{
    size_t at = 0;
    while (at < s->len) {
        if (s->skip) {
            size_t k = s->len - at < s->skip ? s->len - at : (size_t)s->skip;
            at += k;
            s->skip -= k;
            if (s->skip == 0 && s->has_pending)
                h3_pending_done(s, out);
            continue;
        }
        size_t start = at;
        uint64_t start_off = s->next - s->len + start;
        if (s->uni && s->type < 0) {
            uint64_t t;
            if (!h3v(s->buf, s->len, &at, &t))
                break;
            s->type = (int64_t)t;
            nc_h3_msg_t *m = h3_emit(out, s);
            if (m)
                m->stream_type = (int64_t)t;
            continue;
        }
        if (s->uni && s->type == 2) {
            /* QPACK encoder instructions: the sender's dynamic table. */
            if (h3->qd[s->from_client])
                nghttp3_qpack_decoder_read_encoder(h3->qd[s->from_client], s->buf + at,
                                                   s->len - at);
            at = s->len;
            break;
        }
        if (s->uni && s->type != 0) {
            /* Decoder instructions, push streams and unknown types are
             * not read further. */
            at = s->len;
            break;
        }
        uint64_t type, len;
        if (!h3v(s->buf, s->len, &at, &type) || !h3v(s->buf, s->len, &at, &len)) {
            at = start;
            break;
        }
        if (type == 0 || len > H3_MAX_FRAME) {
            /* DATA (or a frame too large to keep): emitted once its last
             * byte has passed. */
            s->pending_type = type;
            s->pending_len = len;
            s->has_pending = true;
            s->pending_off = start_off;
            s->skip = len;
            if (len == 0)
                h3_pending_done(s, out);
            continue;
        }
        if (s->len - at < len) {
            at = start;
            break;
        }
        h3_frame(h3, s, type, s->buf + at, (size_t)len, out);
        if (out->n && out->msgs[out->n - 1].frame_type == (int64_t)type)
            out->msgs[out->n - 1].split = start_off < s->feed_off;
        at += len;
    }
    memmove(s->buf, s->buf + at, s->len - at);
    s->len -= at;
}

static void h3_feed(struct nc_h3_conn *h3, h3_bs_t *s, const uint8_t *p, size_t n,
                    nc_h3_out_t *out)
{
    if (s->len + n > s->cap) {
        s->cap = s->len + n + 256;
        s->buf = nc_xrealloc(s->buf, s->cap);
    }
    memcpy(s->buf + s->len, p, n);
    s->feed_off = s->next;
    s->len += n;
    s->next += n;
    h3_parse(h3, s, out);
    /* A frame that can never complete is not kept growing. */
    if (s->len > H3_MAX_FRAME + 16)
        s->len = 0;
}

static h3_bs_t *h3_stream(struct nc_h3_conn *h3, uint64_t id, bool from_client)
{
    h3_bs_t *free_slot = NULL;
    for (size_t i = 0; i < H3_STREAMS; i++) {
        h3_bs_t *s = &h3->bs[i];
        if (s->used && s->id == id && s->from_client == from_client)
            return s;
        if (!s->used && free_slot == NULL)
            free_slot = s;
    }
    if (free_slot == NULL)
        return NULL;
    memset(free_slot, 0, sizeof(*free_slot));
    free_slot->used = true;
    free_slot->id = id;
    free_slot->from_client = from_client;
    free_slot->uni = id & 2;
    free_slot->type = -1;
    return free_slot;
}

void nc__http3_data(struct nc_h3_conn **ph3, bool from_client, uint64_t sid, uint64_t off,
                    const uint8_t *p, size_t n, bool fin, nc_h3_out_t *out)
{
    if (*ph3 == NULL) {
        struct nc_h3_conn *h3 = nc_xcalloc(1, sizeof(*h3));
        for (int i = 0; i < 2; i++)
            if (nghttp3_qpack_decoder_new(&h3->qd[i], H3_DTABLE, 100, nghttp3_mem_default()) == 0)
                nghttp3_qpack_decoder_set_max_dtable_capacity(h3->qd[i], H3_DTABLE);
            else
                h3->qd[i] = NULL;
        *ph3 = h3;
    }
    struct nc_h3_conn *h3 = *ph3;
    /* A bidirectional stream's frames from the side that did not open it
     * are a response; a server-initiated bidirectional stream is not
     * HTTP/3's. */
    if ((sid & 3) == 1)
        return;
    h3_bs_t *s = h3_stream(h3, sid, from_client);
    if (s == NULL)
        return;
    s->fin |= fin;
    uint64_t end = off + n;
    if (end <= s->next)
        return; /* all of it was read before: a retransmission */
    if (off > s->next) {
        if (h3->held + n > H3_OOO)
            return;
        h3_chunk_t *c = nc_xmalloc(sizeof(*c));
        c->off = off;
        c->n = n;
        c->p = nc_xmalloc(n ? n : 1);
        memcpy(c->p, p, n);
        h3_chunk_t **at = &s->ooo;
        while (*at && (*at)->off < off)
            at = &(*at)->next;
        c->next = *at;
        *at = c;
        h3->held += n;
        return;
    }
    h3_feed(h3, s, p + (s->next - off), (size_t)(end - s->next), out);
    /* What the new bytes made contiguous. */
    while (s->ooo && s->ooo->off <= s->next) {
        h3_chunk_t *c = s->ooo;
        s->ooo = c->next;
        h3->held -= c->n;
        if (c->off + c->n > s->next)
            h3_feed(h3, s, c->p + (s->next - c->off), (size_t)(c->off + c->n - s->next), out);
        free(c->p);
        free(c);
    }
}

static const char *h3_frame_name(int64_t t, char *tmp, size_t n)
{
    if (t >= 0 && (size_t)t < sizeof(h3_frame_names) / sizeof(h3_frame_names[0]) &&
        !(t >= '0' && t <= '9') && h3_frame_names[t][0] > '9')
        return h3_frame_names[t];
    snprintf(tmp, n, "0x%llx", (unsigned long long)t);
    return tmp;
}

static void h3_write_one(nc_evb_t *b, const nc_h3_msg_t *m, char *sum, size_t sumlen)
{
    char tmp[24];
    nc_evb_int(b, "stream_id", (int64_t)m->stream_id);
    nc_evb_bool(b, "from_client", m->from_client);
    if (m->stream_type >= 0) {
        nc_evb_int(b, "stream_type", m->stream_type);
        const char *name = m->stream_type < 4 ? h3_stream_names[m->stream_type] : "unknown";
        nc_evb_str(b, "stream_type_name", name);
        snprintf(sum, sumlen, "stream %llu is the %s stream", (unsigned long long)m->stream_id,
                 name);
        return;
    }
    const char *name = h3_frame_name(m->frame_type, tmp, sizeof(tmp));
    nc_evb_int(b, "frame_type", m->frame_type);
    nc_evb_str(b, "frame_name", name);
    nc_evb_int(b, "frame_length", (int64_t)m->frame_length);
    if (m->split)
        nc_evb_bool(b, "split", true);
    if (m->frame_type == 1) {
        nc_evb_int(b, "header_block_len", m->header_block_len);
        nc_evb_int(b, "header_list_size", m->header_list_size);
        if (m->qpack_failed)
            nc_evb_bool(b, "qpack_failed", true);
        nc_evb_list(b, "header");
        const char *p = m->names;
        while (*p) {
            const char *comma = strchr(p, ',');
            size_t l = comma ? (size_t)(comma - p) : strlen(p);
            nc_evb_obj(b, NULL);
            nc_evb_strn(b, "name", p, l);
            nc_evb_end(b);
            p += l + (comma != NULL);
        }
        nc_evb_end(b);
        if (m->method[0])
            nc_evb_str(b, "method", m->method);
        if (m->path[0])
            nc_evb_str(b, "path", m->path);
        if (m->status[0])
            nc_evb_str(b, "status", m->status);
    }
    if (m->frame_type == 4) {
        nc_evb_list(b, "settings");
        for (uint8_t i = 0; i < m->nsettings; i++) {
            nc_evb_obj(b, NULL);
            nc_evb_int(b, "id", (int64_t)m->settings[i][0]);
            nc_evb_int(b, "value", (int64_t)m->settings[i][1]);
            nc_evb_end(b);
        }
        nc_evb_end(b);
    }
    if (m->goaway_id >= 0)
        nc_evb_int(b, "goaway_id", m->goaway_id);
    if (m->frame_type == 1 && m->method[0])
        snprintf(sum, sumlen, "HEADERS %s %s (stream %llu)", m->method, m->path,
                 (unsigned long long)m->stream_id);
    else if (m->frame_type == 1 && m->status[0])
        snprintf(sum, sumlen, "HEADERS %s (stream %llu)", m->status,
                 (unsigned long long)m->stream_id);
    else
        snprintf(sum, sumlen, "%s %llu bytes (stream %llu)", name,
                 (unsigned long long)m->frame_length, (unsigned long long)m->stream_id);
}

void nc__http3_write(nc_dctx_t *x, const nc_h3_out_t *out)
{
    nc_evb_t *b = x->b;
    if (out->n > 1)
        nc_evb_list(b, "http3");
    char sum[160];
    for (uint32_t i = 0; i < out->n; i++) {
        nc_evb_obj(b, out->n > 1 ? NULL : "http3");
        h3_write_one(b, &out->msgs[i], sum, sizeof(sum));
        nc_evb_end(b);
        nc_decode_sum_str(x, i ? "; " : " | HTTP/3 ");
        nc_decode_sum_str(x, sum);
    }
    if (out->n > 1)
        nc_evb_end(b);
    x->proto = "http3";
}

static const nc_field_decl_t http3_fields[] = {
    {"stream_id", NC_F_INT},
    {"from_client", NC_F_BOOL},
    {"stream_type", NC_F_INT},
    {"stream_type_name", NC_F_STR},
    {"frame_type", NC_F_INT},
    {"frame_name", NC_F_STR},
    {"frame_length", NC_F_INT},
    {"split", NC_F_BOOL},
    {"header_block_len", NC_F_INT},
    {"header_list_size", NC_F_INT},
    {"qpack_failed", NC_F_BOOL},
    {"header", NC_F_LIST},
    {"method", NC_F_STR},
    {"path", NC_F_STR},
    {"status", NC_F_STR},
    {"settings", NC_F_LIST},
    {"goaway_id", NC_F_INT},
    {NULL, 0},
};

/* HTTP/3 is reached through QUIC only (quic.c); as a layer of its own it
 * reads the bytes as the client's request stream 0 (the fuzz harness). */
static int http3_layer(nc_dctx_t *x, nc_cursor_t *c)
{
    int dir;
    nc_flow_t *f = nc_decode_flow(x, 17, &dir);
    struct nc_h3_conn **h3 = nc__quic_h3_slot(f);
    nc_h3_out_t *out = nc_xcalloc(1, sizeof(*out));
    size_t n = nc_cur_left(c);
    /* The flow's HTTP/3 state remembers where stream 0 stopped. */
    h3_bs_t *s = *h3 ? h3_stream(*h3, 0, true) : NULL;
    uint64_t off = s ? s->next : 0;
    nc__http3_data(h3, true, 0, off, c->ptr, n, false, out);
    nc_cur_skip(c, n);
    if (out->n)
        nc__http3_write(x, out);
    free(out);
    return 0;
}

const nc_proto_t nc_http3_proto = {"http3", http3_layer, http3_fields};
