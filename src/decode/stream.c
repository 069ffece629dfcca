/*
 * stream.c: per-flow TCP reassembly and the dispatch to stream decoders.
 *
 * A stream is the plain decoder state of both directions (nc_stream_state_t,
 * a checkpoint as it stands) plus, per direction, an out-of-order store: up
 * to NC_STREAM_OOO_SEGS heap copies of segments that arrived beyond a hole,
 * kept sorted by sequence number and bounded to NC_STREAM_OOO_BYTES in all.
 * The store and the decoders' byte stores (nc_stream_hold_t: a TLS record
 * waiting to be decrypted, a handshake message spread over records) are the
 * only memory a stream owns besides itself, and the only parts a checkpoint
 * leaves out (nc_stream_save refuses while they hold bytes).
 *
 * Delivery walks the bytes of one segment (or one stored segment) through the
 * decoder that reads the direction; when a decoder stops early because the
 * protocol changed (HTTP Upgrade), the rest goes to the new decoder. A
 * direction's decoder is chosen by its first bytes: HTTP/1 when they start a
 * request or a response, and then the other direction is HTTP too; anything
 * else is opaque and left to the per-packet decoders (DNS over TCP).
 *
 * Sequence numbers are compared in sequence space (RFC 1982), so a stream
 * survives wrap-around.
 */
#include "stream.h"

#include "proto.h"

#include "../core/xmalloc.h"

#include <stdlib.h>
#include <string.h>

typedef struct nc_ooo_seg {
    uint32_t seq, len;
    uint8_t *data; /* owned */
} nc_ooo_seg_t;

typedef struct nc_ooo {
    nc_ooo_seg_t seg[NC_STREAM_OOO_SEGS];
    uint32_t n, bytes;
} nc_ooo_t;

struct nc_stream {
    nc_stream_state_t st;
    nc_ooo_t ooo[2];
    nc_stream_hold_t hold[2][NC_STREAM_HOLDS];
    nc_stream_budget_t *budget; /* borrowed: shared with the decoder's other streams */
    struct nc_h2_conn *h2;      /* owned: HTTP/2's streams, windows and HPACK (http2.c) */
    const nc_decryptor_t *dec;  /* borrowed, or NULL */
    void *dec_ctx;
};

static bool seq_lt(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) < 0;
}

static bool seq_le(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) <= 0;
}

nc_stream_t *nc_stream_new(void)
{
    return nc_xcalloc(1, sizeof(nc_stream_t));
}

void nc_stream_set_budget(nc_stream_t *s, nc_stream_budget_t *b)
{
    s->budget = b;
}

/* Counts n stored bytes more (or fewer) against the shared budget. */
static void budget_add(nc_stream_t *s, int64_t n)
{
    if (s->budget)
        s->budget->used = (uint64_t)((int64_t)s->budget->used + n);
}

static void ooo_clear(nc_stream_t *s)
{
    for (int d = 0; d < 2; d++) {
        nc_ooo_t *o = &s->ooo[d];
        for (uint32_t i = 0; i < o->n; i++)
            free(o->seg[i].data);
        budget_add(s, -(int64_t)o->bytes);
        o->n = o->bytes = 0;
    }
}

void nc_stream_hold_add(nc_stream_hold_t *h, const uint8_t *p, size_t n)
{
    if (n == 0)
        return;
    if (h->len + n > h->cap) {
        size_t cap = h->cap ? h->cap : 1024;
        while (cap < h->len + n)
            cap *= 2;
        h->buf = nc_xrealloc(h->buf, cap);
        h->cap = (uint32_t)cap;
    }
    memcpy(h->buf + h->len, p, n);
    h->len += (uint32_t)n;
}

void nc_stream_hold_free(nc_stream_hold_t *h)
{
    free(h->buf);
    h->buf = NULL;
    h->len = h->cap = 0;
}

/* Empties the byte stores; frees their memory too when release. */
static void hold_clear(nc_stream_t *s, bool release)
{
    for (int d = 0; d < 2; d++)
        for (int i = 0; i < NC_STREAM_HOLDS; i++) {
            if (release)
                nc_stream_hold_free(&s->hold[d][i]);
            s->hold[d][i].len = 0;
        }
}

static bool hold_busy(const nc_stream_t *s)
{
    for (int d = 0; d < 2; d++)
        for (int i = 0; i < NC_STREAM_HOLDS; i++)
            if (s->hold[d][i].len)
                return true;
    return false;
}

void nc_stream_free(nc_stream_t *s)
{
    if (s == NULL)
        return;
    ooo_clear(s);
    nc__http2_free(s->h2);
    hold_clear(s, true);
    free(s);
}

void nc_stream_set_decryptor(nc_stream_t *s, const nc_decryptor_t *dec, void *ctx)
{
    s->dec = dec;
    s->dec_ctx = ctx;
}

/* Which stream decoder reads a direction of each kind. */
static const struct {
    uint8_t app;
    const nc_stream_proto_t *proto;
} nc_stream_apps[] = {
    {NC_SAPP_HTTP, &nc_http1_stream},
    {NC_SAPP_WEBSOCKET, &nc_websocket_stream},
    {NC_SAPP_SSE, &nc_sse_stream},
    {NC_SAPP_HTTP2, &nc_http2_stream},
    {NC_SAPP_TLS, &nc_tls_stream},
};

const nc_stream_proto_t *nc__stream_app_proto(uint8_t app)
{
    for (size_t i = 0; i < sizeof(nc_stream_apps) / sizeof(nc_stream_apps[0]); i++)
        if (nc_stream_apps[i].app == app)
            return nc_stream_apps[i].proto;
    return NULL;
}

static const nc_stream_proto_t *app_proto(uint8_t app)
{
    return nc__stream_app_proto(app);
}

void nc_stream_emit(nc_stream_ctx_t *sc, const nc_stream_msg_t *m, uint32_t end)
{
    nc_stream_out_t *o = sc->out;
    if (o->nmsgs == NC_STREAM_MAX_MSGS) {
        o->dropped++;
        return;
    }
    nc_stream_msg_t *dst = &o->msgs[o->nmsgs++];
    *dst = *m;
    dst->seq_end = end;
    dst->dir = (uint8_t)sc->d;
}

static void ctx_init(nc_stream_ctx_t *sc, nc_stream_t *s, int d, nc_stream_out_t *out)
{
    sc->st = &s->st;
    sc->d = d;
    sc->dir = &s->st.dir[d];
    sc->peer = &s->st.dir[!d];
    sc->out = out;
    sc->seg_start = true;
    sc->h2 = &s->h2;
    sc->hold = s->hold[d];
    sc->dec = s->dec;
    sc->dec_ctx = s->dec_ctx;
}

/* Picks the decoder of a direction from its first bytes. */
static void pick_app(nc_stream_t *s, int d, const uint8_t *p, size_t n)
{
    nc_stream_dir_t *dir = &s->st.dir[d], *peer = &s->st.dir[!d];
    bool client;
    /* An HTTP/2 server that speaks first (its SETTINGS) to a client whose
     * HTTP/1 request came first: HTTP/1 chose both directions too early. */
    if (dir->app == NC_SAPP_HTTP && !dir->midstream && dir->next == 1 &&
        nc__http2_looks_like(p, n, &client) && !client) {
        dir->app = NC_SAPP_HTTP2;
        return;
    }
    if (dir->app != NC_SAPP_UNKNOWN)
        return;
    if (!dir->midstream && nc__http2_looks_like(p, n, &client)) {
        /* HTTP/2 by prior knowledge: the client's preface, or the server's
         * SETTINGS when the capture shows it first. */
        dir->app = NC_SAPP_HTTP2;
        /* The server's SETTINGS leave the client's side to its own first
         * bytes: HTTP/1 with "Upgrade: h2c" may follow, or nothing h2. */
        if (client && peer->app == NC_SAPP_UNKNOWN && !(peer->started && peer->midstream))
            peer->app = NC_SAPP_HTTP2;
    } else if (nc__http1_looks_like(p, n)) {
        dir->app = NC_SAPP_HTTP;
        if (peer->app == NC_SAPP_UNKNOWN) {
            peer->app = NC_SAPP_HTTP;
            if (peer->started && peer->midstream)
                nc__http1_join(peer);
        }
    } else if (nc__tls_looks_like(p, n)) {
        /* Both directions of a TLS connection are TLS; a peer met in the
         * middle of a record waits for the next one (tls.c). */
        dir->app = NC_SAPP_TLS;
        if (peer->app == NC_SAPP_UNKNOWN)
            peer->app = NC_SAPP_TLS;
    } else if (!dir->midstream || ++dir->probes >= NC_STREAM_PROBES) {
        dir->app = NC_SAPP_OPAQUE;
    }
    /* Else a capture that began mid-connection: a later segment may start
     * a message, so the direction stays undecided a while. */
}

/* Delivers n in-order bytes at s's next sequence number of direction d. */
static void deliver(nc_stream_t *s, int d, const uint8_t *p, uint32_t n, nc_stream_out_t *out)
{
    nc_stream_dir_t *dir = &s->st.dir[d];
    pick_app(s, d, p, n);
    nc_stream_ctx_t sc;
    ctx_init(&sc, s, d, out);
    uint32_t done = 0;
    /* A decoder change (Upgrade) can happen at most a few times per call. */
    for (int hop = 0; done < n && hop < 4; hop++) {
        const nc_stream_proto_t *pr = app_proto(dir->app);
        if (pr == NULL)
            break;
        sc.rel = dir->next + done;
        size_t used = pr->data(&sc, p + done, n - done);
        if (used > n - done)
            used = n - done;
        done += (uint32_t)used;
        sc.seg_start = false;
    }
    dir->next += n;
}

/* The decoder of direction d, with sc set for a call at its next byte, or
 * NULL when no stream decoder reads it. */
static const nc_stream_proto_t *app_at_next(nc_stream_t *s, int d, nc_stream_out_t *out,
                                            nc_stream_ctx_t *sc)
{
    ctx_init(sc, s, d, out);
    sc->rel = s->st.dir[d].next;
    return app_proto(s->st.dir[d].app);
}

static void deliver_gap(nc_stream_t *s, int d, uint32_t n, nc_stream_out_t *out, bool reverse)
{
    nc_stream_dir_t *dir = &s->st.dir[d];
    if (out->ngaps++ == 0) {
        out->gap_start = dir->next;
        out->gap_end = dir->next + n;
        out->gap_reverse = reverse;
    }
    nc_stream_ctx_t sc;
    const nc_stream_proto_t *pr = app_at_next(s, d, out, &sc);
    if (pr != NULL)
        pr->gap(&sc, n);
    dir->next += n;
}

/* Delivers whatever the store now holds contiguously. */
static void drain(nc_stream_t *s, int d, nc_stream_out_t *out)
{
    nc_ooo_t *o = &s->ooo[d];
    nc_stream_dir_t *dir = &s->st.dir[d];
    while (o->n > 0 && seq_le(o->seg[0].seq, dir->next)) {
        nc_ooo_seg_t g = o->seg[0];
        memmove(&o->seg[0], &o->seg[1], (o->n - 1) * sizeof(o->seg[0]));
        o->n--;
        o->bytes -= g.len;
        budget_add(s, -(int64_t)g.len);
        uint32_t skip = dir->next - g.seq;
        if (skip < g.len)
            deliver(s, d, g.data + skip, g.len - skip, out);
        free(g.data);
    }
}

/* Declares the hole before the first stored segment a gap, and drains. */
static void gap_to_store(nc_stream_t *s, int d, nc_stream_out_t *out, bool reverse)
{
    nc_ooo_t *o = &s->ooo[d];
    nc_stream_dir_t *dir = &s->st.dir[d];
    if (o->n == 0)
        return;
    deliver_gap(s, d, o->seg[0].seq - dir->next, out, reverse);
    drain(s, d, out);
}

static void ooo_insert(nc_stream_t *s, int d, uint32_t seq, const uint8_t *p, uint32_t n,
                       nc_stream_out_t *out)
{
    nc_ooo_t *o = &s->ooo[d];
    while (o->n > 0 && (o->n == NC_STREAM_OOO_SEGS || o->bytes + n > NC_STREAM_OOO_BYTES ||
                        (s->budget && s->budget->used + n > s->budget->max)))
        gap_to_store(s, d, out, false);
    /* Still no room (other streams hold the budget): the bytes are not
     * kept, and become part of a gap once the peer acknowledges past them. */
    if (n > NC_STREAM_OOO_BYTES || (s->budget && s->budget->used + n > s->budget->max))
        return;
    nc_stream_dir_t *dir = &s->st.dir[d];
    if (seq_le(seq + n, dir->next)) /* the gap just declared covered it */
        return;
    uint32_t i = 0;
    while (i < o->n && seq_le(o->seg[i].seq, seq)) {
        /* An identical or covering copy is already stored: keep that one. */
        if (seq_le(seq + n, o->seg[i].seq + o->seg[i].len))
            return;
        i++;
    }
    memmove(&o->seg[i + 1], &o->seg[i], (o->n - i) * sizeof(o->seg[0]));
    o->seg[i].seq = seq;
    o->seg[i].len = n;
    o->seg[i].data = nc_xmalloc(n ? n : 1);
    memcpy(o->seg[i].data, p, n);
    o->n++;
    o->bytes += n;
    budget_add(s, n);
}

static void end_dir(nc_stream_t *s, int d, nc_stream_out_t *out, bool reverse)
{
    nc_stream_dir_t *dir = &s->st.dir[d];
    if (dir->ended || !dir->started)
        return;
    while (s->ooo[d].n > 0)
        gap_to_store(s, d, out, reverse);
    if (dir->fin_seen && seq_lt(dir->next, dir->fin_seq))
        deliver_gap(s, d, dir->fin_seq - dir->next, out, reverse);
    dir->ended = true;
    nc_stream_ctx_t sc;
    const nc_stream_proto_t *pr = app_at_next(s, d, out, &sc);
    if (pr != NULL)
        pr->end(&sc);
}

/* Turns into gaps the holes of direction k that its peer has acknowledged
 * past (the bytes were sent; the capture never saw them), and ends the
 * direction once its FIN is reached. */
static void check_hole(nc_stream_t *s, int k, nc_stream_out_t *out, bool reverse)
{
    nc_stream_dir_t *dir = &s->st.dir[k];
    if (!dir->started || dir->ended)
        return;
    while (dir->acked_set && s->ooo[k].n > 0 && seq_lt(dir->next, dir->acked))
        gap_to_store(s, k, out, reverse);
    /* Acknowledged bytes past everything seen, with nothing held: the last
     * segments were sent and never captured (Wireshark's "ACKed segment
     * that wasn't captured"). Without the FIN in view, an ACK of the FIN
     * counts its sequence number in the gap too. */
    if (dir->acked_set && s->ooo[k].n == 0 && seq_lt(dir->next, dir->acked) &&
        (!dir->fin_seen || seq_lt(dir->next, dir->fin_seq))) {
        uint32_t to = dir->fin_seen && seq_lt(dir->fin_seq, dir->acked) ? dir->fin_seq : dir->acked;
        deliver_gap(s, k, to - dir->next, out, reverse);
    }
    if (dir->fin_seen && seq_le(dir->fin_seq, dir->next))
        end_dir(s, k, out, reverse);
}

static void reset_state(nc_stream_t *s)
{
    ooo_clear(s);
    nc__http2_free(s->h2);
    s->h2 = NULL;
    hold_clear(s, false);
    memset(&s->st, 0, sizeof(s->st));
}

bool nc_stream_segment(nc_stream_t *s, const nc_stream_seg_t *g, nc_stream_out_t *out)
{
    int d = g->dir & 1;
    nc_stream_dir_t *dir = &s->st.dir[d];
    /* Everything here is relative to the flow's base (flow.c): the stream
     * keeps no raw sequence number, so its state needs nothing else. */
    uint32_t seq = (g->syn ? g->seq + 1 : g->seq) - g->base;
    /* A SYN after data is a new connection on the same ports (the flow
     * table has already re-based it). */
    if (g->syn && dir->started && (dir->next != 1 || s->ooo[d].n > 0))
        reset_state(s);
    if (!dir->started) {
        if (!g->syn && g->len == 0 && !g->fin)
            return false;
        dir->started = true;
        dir->midstream = !g->syn && !g->from_syn;
        dir->next = dir->midstream ? seq : 1;
        if (dir->midstream && dir->app == NC_SAPP_HTTP)
            nc__http1_join(dir);
    }
    if (dir->ended)
        return app_proto(dir->app) != NULL;
    /* Bytes the capture cut off are bytes we do not have: a segment cut
     * short delivers what was captured and the rest becomes a gap later. */
    uint32_t n = g->caplen < g->len ? g->caplen : g->len;
    if (g->fin && !dir->fin_seen) {
        dir->fin_seen = true;
        dir->fin_seq = seq + g->len;
    }
    if (n > 0) {
        const uint8_t *p = g->payload;
        if (seq_lt(seq, dir->next)) {
            uint32_t skip = dir->next - seq;
            if (skip >= n) {
                n = 0;
            } else {
                p += skip;
                n -= skip;
                seq = dir->next;
            }
        }
        if (n > 0) {
            if (seq == dir->next) {
                deliver(s, d, p, n, out);
                /* The snapshot length cut the segment: the rest was sent
                 * and never captured. */
                if (g->caplen < g->len)
                    deliver_gap(s, d, g->len - g->caplen, out, false);
                drain(s, d, out);
            } else {
                ooo_insert(s, d, seq, p, n, out);
            }
        }
    }
    check_hole(s, d, out, false);
    if (g->ack) {
        nc_stream_dir_t *peer = &s->st.dir[!d];
        uint32_t acked = g->ack_seq - g->peer_base;
        if (peer->started && (!peer->acked_set || seq_lt(peer->acked, acked))) {
            peer->acked = acked;
            peer->acked_set = true;
        }
        check_hole(s, !d, out, true);
    }
    if (g->rst) {
        end_dir(s, d, out, false);
        end_dir(s, !d, out, true);
    }
    return app_proto(dir->app) != NULL || dir->app == NC_SAPP_TUNNEL;
}

void nc_stream_finish(nc_stream_t *s, nc_stream_out_t *out)
{
    end_dir(s, 0, out, false);
    end_dir(s, 1, out, true);
}

void nc_stream_plain(nc_stream_t *s, int d, const uint8_t *p, size_t n, nc_stream_out_t *out)
{
    nc_stream_dir_t *dir = &s->st.dir[d & 1];
    if (!dir->started) {
        dir->started = true;
        dir->next = 1;
    }
    if (n > 0 && !dir->ended)
        deliver(s, d & 1, p, (uint32_t)n, out);
}

void nc_stream_set_app(nc_stream_t *s, int d, nc_sapp_t app)
{
    s->st.dir[d & 1].app = (uint8_t)app;
}

bool nc_stream_save(const nc_stream_t *s, nc_stream_state_t *ck)
{
    /* HTTP/2's HPACK tables live in nghttp2's inflaters, which cannot be
     * copied: a connection read as HTTP/2 has no checkpoint. */
    if (s->ooo[0].n || s->ooo[1].n || hold_busy(s) || s->h2 != NULL)
        return false;
    *ck = s->st;
    return true;
}

void nc_stream_restore(nc_stream_t *s, const nc_stream_state_t *ck)
{
    ooo_clear(s);
    nc__http2_free(s->h2);
    s->h2 = NULL;
    hold_clear(s, false);
    s->st = *ck;
}

/* ---- writing into the packet event, and the glue to tcp.c ---- */

static const char *const nc_stream_summary_sep = "; ";

void nc__stream_write(nc_dctx_t *x, const nc_stream_out_t *out)
{
    nc_evb_t *b = x->b;
    if (out->ngaps) {
        nc_evb_obj(b, "reassembly");
        nc_evb_int(b, "gap_start", out->gap_start);
        nc_evb_int(b, "gap_end", out->gap_end);
        nc_evb_int(b, "gap_len", (uint32_t)(out->gap_end - out->gap_start));
        nc_evb_int(b, "gaps", out->ngaps);
        if (out->gap_reverse)
            nc_evb_bool(b, "reverse", true);
        nc_evb_end(b);
    }
    /* Messages beyond the bound are counted, so a reader of the event knows
     * the lists are not the whole packet (the summary may be cut before its
     * "(+N more)"). */
    if (out->dropped)
        nc_evb_int(b, "unlisted_msgs", out->dropped);
    const nc_stream_proto_t *seen[8];
    size_t nseen = 0;
    for (uint32_t i = 0; i < out->nmsgs; i++) {
        const nc_stream_proto_t *pr = out->msgs[i].proto;
        bool dup = false;
        for (size_t k = 0; k < nseen; k++)
            dup |= seen[k] == pr;
        if (dup || nseen == sizeof(seen) / sizeof(seen[0]))
            continue;
        seen[nseen++] = pr;
        uint32_t count = 0;
        for (uint32_t j = i; j < out->nmsgs; j++)
            count += out->msgs[j].proto == pr;
        if (count > 1)
            nc_evb_list(b, pr->name);
        for (uint32_t j = i; j < out->nmsgs; j++) {
            const nc_stream_msg_t *m = &out->msgs[j];
            if (m->proto != pr)
                continue;
            /* The message's bytes inside this packet's payload. */
            int32_t lo = (int32_t)(m->seq_start - out->pkt_rel);
            int32_t hi = (int32_t)(m->seq_end - out->pkt_rel);
            if (hi > (int32_t)out->pkt_len)
                hi = (int32_t)out->pkt_len;
            if (hi < 0)
                hi = 0;
            if (lo < 0)
                lo = 0;
            if (lo > hi)
                lo = hi;
            /* A message of the other direction completes here when this
             * packet's ACK turned its last hole into a gap: no bytes here. */
            bool other = m->dir != out->pkt_dir;
            if (other)
                lo = hi = 0;
            nc_evb_obj(b, count > 1 ? NULL : pr->name);
            nc_evb_int(b, "_off", (int64_t)out->pkt_off + lo);
            nc_evb_int(b, "_len", hi - lo);
            if (other)
                nc_evb_bool(b, "other_direction", true);
            if (m->decrypted)
                nc_evb_bool(b, "decrypted", true);
            pr->write(b, m);
            nc_evb_end(b);
        }
        if (count > 1)
            nc_evb_end(b);
        x->proto = pr->name;
    }
    if (out->nmsgs) {
        nc_decode_sum_reset(x);
        for (uint32_t i = 0; i < out->nmsgs; i++) {
            char one[200];
            out->msgs[i].proto->summary(&out->msgs[i], one, sizeof(one));
            /* Summaries are one line: a control byte (an SSE event's
             * newline) shows as a space. */
            for (char *p = one; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                    *p = ' ';
            if (i)
                nc_decode_sum_str(x, nc_stream_summary_sep);
            nc_decode_sum_str(x, one);
        }
        if (out->dropped) {
            nc_decode_sum_str(x, " (+");
            nc_decode_sum_uint(x, out->dropped);
            nc_decode_sum_str(x, " more)");
        }
    }
    if (out->ngaps) {
        nc_decode_sum_str(x, " [bytes ");
        nc_decode_sum_uint(x, out->gap_start);
        nc_decode_sum_str(x, "..");
        nc_decode_sum_uint(x, out->gap_end);
        nc_decode_sum_str(x, out->gap_reverse ? " of the other side never captured]"
                                              : " never captured]");
    }
}

static nc_stream_out_t *stream_out(nc_dctx_t *x, const nc_cursor_t *c, int dir, uint32_t rel)
{
    if (x->d->sout == NULL)
        x->d->sout = nc_xmalloc(sizeof(*x->d->sout));
    nc_stream_out_t *out = x->d->sout;
    out->nmsgs = out->dropped = out->ngaps = 0;
    out->gap_reverse = false;
    out->pkt_rel = rel;
    out->pkt_len = (uint32_t)nc_cur_left(c);
    out->pkt_off = (uint32_t)(c->ptr - x->frame);
    out->pkt_dir = (uint8_t)(dir & 1);
    return out;
}

bool nc__stream_tcp(nc_dctx_t *x, nc_flow_t *f, int dir, const nc_tcp_seg_t *s,
                    const nc_cursor_t *c)
{
    if (f->stream_off)
        return false;
    if (f->stream == NULL) {
        if (s->len == 0)
            return false;
        f->stream = nc_stream_new();
        nc_stream_set_budget(f->stream, &x->d->ooo_budget);
    }
    /* Set on every segment, so that a stream restored from a checkpoint
     * decrypts as the decoder does. */
    nc_stream_set_decryptor(f->stream, x->d->dec, x->d->dec_ctx);
    bool syn = s->flags & NC_TCP_SYN;
    nc_stream_seg_t g = {
        .dir = dir,
        .seq = s->seq,
        .len = s->len,
        .syn = syn,
        .fin = s->flags & NC_TCP_FIN,
        .rst = s->flags & NC_TCP_RST,
        .base = f->dir[dir & 1].base,
        .peer_base = f->dir[!(dir & 1)].base,
        .from_syn = f->dir[dir & 1].syn,
        .ack = s->flags & NC_TCP_ACK,
        .ack_seq = s->ack,
        .payload = c->ptr,
        .caplen = (uint32_t)nc_cur_left(c),
    };
    nc_stream_out_t *out = stream_out(x, c, dir, s->rel_seq + (syn ? 1u : 0u));
    bool claimed = nc_stream_segment(f->stream, &g, out);
    nc__stream_write(x, out);
    /* A connection no stream decoder reads costs nothing from now on. */
    const nc_stream_state_t *st = &f->stream->st;
    if (st->dir[0].app == NC_SAPP_OPAQUE && st->dir[1].app == NC_SAPP_OPAQUE) {
        nc_stream_free(f->stream);
        f->stream = NULL;
        f->stream_off = true;
    }
    return claimed;
}

int nc__stream_layer(nc_dctx_t *x, nc_cursor_t *c, nc_sapp_t app)
{
    int dir;
    nc_flow_t *f = nc_decode_flow(x, 6, &dir);
    if (f->stream == NULL) {
        f->stream = nc_stream_new();
        nc_stream_set_decryptor(f->stream, x->d->dec, x->d->dec_ctx);
        nc_stream_set_app(f->stream, dir, app);
        if (app == NC_SAPP_HTTP || app == NC_SAPP_TLS || app == NC_SAPP_HTTP2)
            nc_stream_set_app(f->stream, !dir, app);
    }
    nc_stream_dir_t *d = &f->stream->st.dir[dir & 1];
    uint32_t seq = d->started ? d->next : 1;
    nc_stream_seg_t g = {
        .dir = dir,
        .seq = seq,
        .len = (uint32_t)nc_cur_left(c),
        .base = 0,
        .payload = c->ptr,
        .caplen = (uint32_t)nc_cur_left(c),
    };
    nc_stream_out_t *out = stream_out(x, c, dir, seq);
    nc_stream_segment(f->stream, &g, out);
    nc__stream_write(x, out);
    c->ptr = c->end;
    return 0;
}
