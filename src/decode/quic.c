/*
 * quic.c: QUIC version 1 (RFC 9000) over UDP, with packet protection
 * removed (RFC 9001) through the decryptor (decryptor.h).
 *
 *   Long header (Initial, 0-RTT, Handshake, Retry; Version Negotiation):
 *   |1|1|T T|X X X X| Version (32) | DCID Len (8) | DCID | SCID Len (8) | SCID |
 *   Initial: Token Length (i) | Token; then Length (i) | Packet Number (8..32) | Payload
 *   Short header (1-RTT):
 *   |0|1|S|R R|K|P P| DCID (the receiver's length) | Packet Number | Payload
 *
 * One UDP datagram may carry several long-header packets back to back
 * (coalesced, each with its Length), and at most one short-header packet,
 * last. The decoder first finds every packet's extent and header, then
 * writes one "quic" object per packet (a list when there are several),
 * each with its header fields and, once its protection is removed, its
 * frames.
 *
 * Protection. Initial packets are opened with keys derived from the
 * Destination Connection ID of the client's first Initial (after a Retry,
 * of its next one); Handshake and 1-RTT packets with keys from the key
 * log, found by the client random of the ClientHello that the client's
 * Initial CRYPTO frames carry, for the cipher suite of the server's
 * ServerHello; 0-RTT packets with the client's early traffic secret (the
 * resumed session's suite is taken to be AES-128-GCM's, as the ServerHello
 * that names it comes later). Header protection hides the packet number's length and
 * bytes; the full number is rebuilt from the largest one seen in its space
 * (RFC 9000 A.3). A 1-RTT packet whose key phase bit flips is tried with
 * the next generation's keys (a key update).
 *
 * The data model: struct nc_quic_conn, one per UDP flow that carried QUIC
 * (quic.h), owned by the flow: which direction is the client, the
 * connection IDs' lengths, the client random and suite, per direction the
 * keys of each level and the largest packet number of each space, the
 * first bytes of each side's Initial CRYPTO stream (the ClientHello's
 * SNI and ALPN, the ServerHello's suite), a ring of recently sent STREAM
 * and CRYPTO frames with whether their packet was acknowledged, and the
 * HTTP/3 state (http3.c). A STREAM or CRYPTO frame that carries data an
 * earlier packet carried (same stream and offset) names that packet and
 * frame ("retransmission_of") and says whether it had been acknowledged:
 * QUIC never resends a packet, it sends the lost frames again in a new one.
 *
 * Fields carry Wireshark's display-filter names without "quic." (EVENTS.md):
 * header_form, long.packet_type, version, dcid, scid, token_length,
 * length, packet_number, key_phase, frame_type (the packet's frame types in
 * order, as tshark lists quic.frame_type), and per frame in "frame":
 * frame_type, stream.stream_id/offset/length/fin, crypto.offset/length,
 * ack.largest_acknowledged/ack_delay/ack_range_count/first_ack_range/gap/
 * ack_range/ect0_count..., md.maximum_data, msd.*, ms.max_streams,
 * nci.sequence/retire_prior_to/connection_id.length, rci.sequence,
 * cc.error_code/frame_type/reason_phrase.length, dg.length, packet_length,
 * supported_version. Ours: packet_type_name, from_client, decrypted, keys,
 * key_generation, undecrypted, malformed, name (the frame's), nci.cid (the
 * connection ID, as Wireshark's nci.connection_id is the length's parent),
 * cc.reason, cc.application, sni, alpn, acked_packets, retransmission_of.
 */
#include "proto.h"
#include "quic.h"

#include "../core/error.h"
#include "../core/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct nc_quic_conn nc_quic_conn_t;

#define QUIC_MAX_PKTS 8
#define QUIC_SENT 256    /* STREAM/CRYPTO frames remembered per direction */
#define QUIC_HELLO 2048  /* first Initial CRYPTO bytes kept per direction */
#define QUIC_FRAMES 64   /* frame types listed per packet */

enum { SP_INITIAL, SP_HANDSHAKE, SP_APP };
enum { LT_INITIAL, LT_0RTT, LT_HANDSHAKE, LT_RETRY };

typedef struct quic_sent {
    uint64_t pn, id, off, len;
    uint16_t frame;
    uint8_t space, kind; /* kind: 0 free, 1 STREAM, 2 CRYPTO */
    bool acked;
} quic_sent_t;

typedef struct quic_dir {
    nc_quic_keys_t keys[4]; /* NC_QUIC_INITIAL, _HANDSHAKE, _1RTT, _0RTT */
    bool tried[4];
    uint32_t generation;    /* 1-RTT key updates so far */
    bool phase;             /* the key phase bit of the current generation */
    int64_t largest[3];     /* per packet number space */
    uint8_t hello[QUIC_HELLO];
    uint32_t hello_len;     /* contiguous bytes from offset 0 */
    bool hello_done;
    quic_sent_t sent[QUIC_SENT];
    uint32_t sent_next;
} quic_dir_t;

struct nc_quic_conn {
    bool client_known;
    int client_dir;
    uint8_t odcid[20], odcid_len;
    bool after_retry;        /* the next client Initial names the new DCID */
    uint8_t cid_len[2];      /* short-header DCID length sent in direction d */
    bool cid_known[2];
    uint8_t client_random[NC_TLS_RANDOM];
    bool have_random;
    uint16_t suite;
    char sni[128], alpn[64];
    bool hello_now;          /* the ClientHello was read in this packet */
    quic_dir_t dir[2];
    struct nc_h3_conn *h3;
    uint8_t *pt;             /* plaintext buffer */
    size_t ptcap;
    nc_h3_out_t h3out;
};

static const char *const quic_long_names[] = {"Initial", "0-RTT", "Handshake", "Retry"};

void nc__quic_free(struct nc_quic_conn *c)
{
    if (c == NULL)
        return;
    nc__http3_free(c->h3);
    free(c->pt);
    free(c);
}

uint64_t nc_quic_pn_expand(int64_t largest, uint64_t truncated, size_t pnlen)
{
    uint64_t expected = (uint64_t)(largest + 1);
    uint64_t win = (uint64_t)1 << (pnlen * 8);
    uint64_t hwin = win / 2, mask = win - 1;
    uint64_t cand = (expected & ~mask) | truncated;
    if (cand + hwin <= expected && cand < ((uint64_t)1 << 62) - win)
        return cand + win;
    if (cand > expected + hwin && cand >= win)
        return cand - win;
    return cand;
}

/* A variable-length integer (RFC 9000 16). */
static bool qv(nc_cursor_t *c, uint64_t *v)
{
    uint8_t b;
    if (!nc_cur_u8(c, &b))
        return false;
    size_t n = (size_t)1 << (b >> 6);
    uint64_t r = b & 0x3f;
    for (size_t i = 1; i < n; i++) {
        if (!nc_cur_u8(c, &b))
            return false;
        r = r << 8 | b;
    }
    *v = r;
    return true;
}

static void quic_hex(nc_evb_t *b, const char *key, const uint8_t *p, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    char s[2 * 64 + 1];
    if (n > 64)
        n = 64;
    for (size_t i = 0; i < n; i++) {
        s[2 * i] = hx[p[i] >> 4];
        s[2 * i + 1] = hx[p[i] & 15];
    }
    s[2 * n] = '\0';
    nc_evb_str(b, key, s);
}

/* ---- the packets of one datagram ---- */

typedef struct quic_pkt {
    const uint8_t *start;
    size_t len;         /* the whole packet */
    bool lng, vn;
    bool other;         /* a version this decoder does not read (RFC 8999's invariants only) */
    uint8_t type;       /* LT_* for long headers */
    uint32_t version;
    uint8_t dcid[20], dcidlen, scid[20], scidlen;
    uint64_t token_len, length;
    size_t pn_off;      /* where the packet number starts */
    bool cid_guess;     /* short header: the DCID length is not known */
} quic_pkt_t;

/* Reads the header of the packet at the start of c (the rest of the
 * datagram); false when it is not a QUIC packet that fits. */
static bool quic_header(const nc_quic_conn_t *conn, int dir, nc_cursor_t c, quic_pkt_t *p)
{
    memset(p, 0, sizeof(*p));
    p->start = c.ptr;
    uint8_t first;
    if (!nc_cur_u8(&c, &first))
        return false;
    p->lng = first & 0x80;
    /* The fixed bit (0x40) may be greased (RFC 9287): it is not checked. */
    if (!p->lng) {
        p->dcidlen = conn && conn->cid_known[dir] ? conn->cid_len[dir] : 0;
        p->cid_guess = !(conn && conn->cid_known[dir]);
        if (!nc_cur_bytes(&c, p->dcid, p->dcidlen))
            return false;
        p->pn_off = (size_t)(c.ptr - p->start);
        p->len = (size_t)(c.end - p->start);
        return true;
    }
    if (!nc_cur_u32be(&c, &p->version) || !nc_cur_u8(&c, &p->dcidlen) || p->dcidlen > 20 ||
        !nc_cur_bytes(&c, p->dcid, p->dcidlen) || !nc_cur_u8(&c, &p->scidlen) ||
        p->scidlen > 20 || !nc_cur_bytes(&c, p->scid, p->scidlen))
        return false;
    if (p->version == 0) {
        p->vn = true;
        p->len = (size_t)(c.end - p->start);
        return true;
    }
    if (p->version != 1) {
        p->other = true;
        p->len = (size_t)(c.end - p->start);
        return true;
    }
    p->type = (first >> 4) & 3;
    if (p->type == LT_RETRY) {
        p->len = (size_t)(c.end - p->start);
        return true;
    }
    if (p->type == LT_INITIAL && (!qv(&c, &p->token_len) || !nc_cur_skip(&c, p->token_len)))
        return false;
    if (!qv(&c, &p->length) || p->length > nc_cur_left(&c) || p->length < 1)
        return false;
    p->pn_off = (size_t)(c.ptr - p->start);
    p->len = p->pn_off + p->length;
    return true;
}

/* Whether a UDP payload looks like QUIC: a version 1 or Version
 * Negotiation long header, or a short header on a flow already known. */
static bool quic_match(const nc_dctx_t *x, const nc_cursor_t *c)
{
    quic_pkt_t p;
    if (!quic_header(NULL, 0, *c, &p))
        return false;
    /* Another version is QUIC only on QUIC's port or a flow that already
     * carried it: its header has no other check. */
    nc_flow_t *f = p.other ? nc_decode_flow_find(x, 17) : NULL;
    if (p.other)
        return x->sport == 443 || x->dport == 443 || (f != NULL && f->quic != NULL);
    if (p.lng)
        return p.vn ? p.len >= 11 : true;
    /* A lookup that creates no flow: most UDP payloads are not QUIC. */
    f = nc_decode_flow_find(x, 17);
    return f != NULL && f->quic != NULL && p.len >= 1 + 16 + 4;
}

/* ---- the TLS handshake messages in the Initial CRYPTO frames ---- */

/* The ClientHello's random, SNI and ALPN; the ServerHello's suite. Reads
 * the first handshake message of the direction's Initial CRYPTO bytes once
 * it is whole. */
static void quic_hello(nc_quic_conn_t *q, int dir, bool client)
{
    quic_dir_t *d = &q->dir[dir];
    nc_cursor_t c = nc_cur_make(d->hello, d->hello_len);
    uint8_t type, l[3], sid;
    if (d->hello_done || !nc_cur_u8(&c, &type) || !nc_cur_bytes(&c, l, 3))
        return;
    uint32_t len = (uint32_t)l[0] << 16 | (uint32_t)l[1] << 8 | l[2];
    if (nc_cur_left(&c) < len) {
        if (len + 4 > QUIC_HELLO)
            d->hello_done = true; /* too long to keep: never whole */
        return;
    }
    d->hello_done = true;
    nc_cur_limit(&c, len);
    uint16_t ver, n16;
    uint8_t random[NC_TLS_RANDOM];
    if (!nc_cur_u16be(&c, &ver) || !nc_cur_bytes(&c, random, sizeof(random)) ||
        !nc_cur_u8(&c, &sid) || !nc_cur_skip(&c, sid))
        return;
    if (!client && type == 2) {
        uint16_t suite;
        if (nc_cur_u16be(&c, &suite))
            q->suite = suite;
        return;
    }
    if (!client || type != 1)
        return;
    memcpy(q->client_random, random, sizeof(random));
    q->have_random = true;
    q->hello_now = true;
    uint8_t comp;
    nc_cursor_t ext;
    if (!nc_cur_u16be(&c, &n16) || !nc_cur_skip(&c, n16) || !nc_cur_u8(&c, &comp) ||
        !nc_cur_skip(&c, comp) || !nc_cur_u16be(&c, &n16) || !nc_cur_sub(&c, n16, &ext))
        return;
    uint16_t et, el;
    nc_cursor_t ev;
    while (nc_cur_u16be(&ext, &et) && nc_cur_u16be(&ext, &el) && nc_cur_sub(&ext, el, &ev)) {
        /* server_name: list length, type 0, name length, name; ALPN: list
         * length, then length-prefixed names (the first is kept). */
        uint16_t ln;
        uint8_t nt, n8;
        if (et == 0 && nc_cur_u16be(&ev, &ln) && nc_cur_u8(&ev, &nt) && nc_cur_u16be(&ev, &ln) &&
            ln < sizeof(q->sni) && nc_cur_bytes(&ev, q->sni, ln))
            q->sni[ln] = '\0';
        if (et == 16 && nc_cur_u16be(&ev, &ln) && nc_cur_u8(&ev, &n8) && n8 < sizeof(q->alpn) &&
            nc_cur_bytes(&ev, q->alpn, n8))
            q->alpn[n8] = '\0';
    }
}

static void quic_crypto_bytes(nc_quic_conn_t *q, int dir, bool client, uint64_t off,
                              const uint8_t *p, uint64_t n)
{
    quic_dir_t *d = &q->dir[dir];
    if (d->hello_done || off > d->hello_len || off >= QUIC_HELLO)
        return;
    uint64_t end = off + n > QUIC_HELLO ? QUIC_HELLO : off + n;
    if (end > d->hello_len) {
        memcpy(d->hello + off, p, (size_t)(end - off));
        d->hello_len = (uint32_t)end;
    }
    quic_hello(q, dir, client);
}

/* ---- loss linkage ---- */

/* Finds an earlier frame of direction dir that carried the same data
 * (same kind, space, stream and offset) in another packet; NULL if none.
 * Records this one. */
static const quic_sent_t *quic_sent_note(quic_dir_t *d, uint8_t kind, uint8_t space,
                                         uint64_t id, uint64_t off, uint64_t len, uint64_t pn,
                                         uint16_t frame, quic_sent_t *found)
{
    bool hit = false;
    for (uint32_t i = 0; i < QUIC_SENT; i++) {
        quic_sent_t *s = &d->sent[(d->sent_next + QUIC_SENT - 1 - i) % QUIC_SENT];
        if (s->kind == kind && s->space == space && s->id == id && s->off == off &&
            s->pn != pn && len > 0) {
            *found = *s;
            hit = true;
            break;
        }
    }
    quic_sent_t *s = &d->sent[d->sent_next];
    d->sent_next = (d->sent_next + 1) % QUIC_SENT;
    *s = (quic_sent_t){.pn = pn, .id = id, .off = off, .len = len, .frame = frame,
                       .space = space, .kind = kind};
    return hit ? found : NULL;
}

/* The peer acknowledged packets lo..hi of space: marks the frames they
 * carried. */
static void quic_acked(quic_dir_t *d, uint8_t space, uint64_t lo, uint64_t hi)
{
    for (uint32_t i = 0; i < QUIC_SENT; i++)
        if (d->sent[i].kind && d->sent[i].space == space && d->sent[i].pn >= lo &&
            d->sent[i].pn <= hi)
            d->sent[i].acked = true;
}

/* ---- frames ---- */

struct quic_fctx;
typedef bool (*quic_frame_fn)(struct quic_fctx *f, uint64_t type, nc_cursor_t *c);

/* Frame types: lowest and highest type of a row, the RFC's name, the
 * reader, and for frames of varints only (fr_ints) the object and field
 * names Wireshark gives them. */
typedef struct quic_frame_row {
    uint8_t lo, hi;
    const char *name;
    quic_frame_fn read;
    const char *obj;
    const char *keys[3];
} quic_frame_row_t;

typedef struct quic_fctx {
    const quic_frame_row_t *row; /* the frame being read */
    nc_dctx_t *x;
    nc_quic_conn_t *q;
    int dir;
    bool client;
    uint8_t space;
    uint64_t pn;
    uint16_t index;     /* this frame's position in the packet */
    uint64_t types[QUIC_FRAMES];
    uint32_t ntypes;
    char names[160];    /* for the summary */
    uint64_t acked_lo, acked_hi; /* the packet's ACK, for the annotation */
    bool has_ack;
} quic_fctx_t;


/* A frame of varints only: reads them into the row's object under the
 * row's names (quic_frames). */
static bool fr_ints(quic_fctx_t *f, uint64_t type, nc_cursor_t *c)
{
    (void)type;
    nc_evb_t *b = f->x->b;
    nc_evb_obj(b, f->row->obj);
    bool ok = true;
    for (size_t i = 0; i < 3 && f->row->keys[i] && ok; i++) {
        uint64_t v;
        ok = qv(c, &v);
        if (ok)
            nc_evb_int(b, f->row->keys[i], (int64_t)v);
    }
    nc_evb_end(b);
    return ok;
}

static bool fr_none(quic_fctx_t *f, uint64_t type, nc_cursor_t *c)
{
    (void)f, (void)type, (void)c;
    return true;
}

static bool fr_padding(quic_fctx_t *f, uint64_t type, nc_cursor_t *c)
{
    (void)type;
    uint64_t n = 1;
    uint8_t z;
    while (nc_cur_peek_u8(c, 0, &z) && z == 0) {
        nc_cur_skip(c, 1);
        n++;
    }
    nc_evb_int(f->x->b, "padding_length", (int64_t)n);
    return true;
}

static bool fr_ack(quic_fctx_t *f, uint64_t type, nc_cursor_t *c)
{
    nc_evb_t *b = f->x->b;
    uint64_t largest, delay, count, first;
    if (!qv(c, &largest) || !qv(c, &delay) || !qv(c, &count) || !qv(c, &first) || first > largest)
        return false;
    nc_evb_obj(b, "ack");
    nc_evb_int(b, "largest_acknowledged", (int64_t)largest);
    nc_evb_int(b, "ack_delay", (int64_t)delay);
    nc_evb_int(b, "ack_range_count", (int64_t)count);
    nc_evb_int(b, "first_ack_range", (int64_t)first);
    quic_dir_t *peer = &f->q->dir[!f->dir];
    uint64_t lo = largest - first;
    quic_acked(peer, f->space, lo, largest);
    f->has_ack = true;
    f->acked_hi = largest;
    f->acked_lo = lo;
    bool ok = true;
    if (count) {
        nc_evb_list(b, "gap");
        nc_cursor_t r = *c;
        for (uint64_t i = 0; i < count && ok; i++) {
            uint64_t gap, len;
            ok = qv(&r, &gap) && qv(&r, &len);
            if (ok)
                nc_evb_int(b, NULL, (int64_t)gap);
        }
        nc_evb_end(b);
        nc_evb_list(b, "ack_range");
        for (uint64_t i = 0; i < count && ok; i++) {
            uint64_t gap, len;
            ok = qv(c, &gap) && qv(c, &len);
            if (!ok || lo < gap + 2 || lo - gap - 2 < len) {
                ok = false;
                break;
            }
            nc_evb_int(b, NULL, (int64_t)len);
            uint64_t hi = lo - gap - 2;
            lo = hi - len;
            quic_acked(peer, f->space, lo, hi);
        }
        nc_evb_end(b);
    }
    if (ok && type == 3) {
        uint64_t e0, e1, ce;
        ok = qv(c, &e0) && qv(c, &e1) && qv(c, &ce);
        if (ok) {
            nc_evb_int(b, "ect0_count", (int64_t)e0);
            nc_evb_int(b, "ect1_count", (int64_t)e1);
            nc_evb_int(b, "ecn_ce_count", (int64_t)ce);
        }
    }
    nc_evb_end(b);
    return ok;
}

/* Names the frame an earlier packet carried the same data in. */
static void quic_retrans(quic_fctx_t *f, const quic_sent_t *s)
{
    if (s == NULL)
        return;
    nc_evb_t *b = f->x->b;
    nc_evb_obj(b, "retransmission_of");
    nc_evb_int(b, "packet_number", (int64_t)s->pn);
    nc_evb_int(b, "frame", s->frame);
    nc_evb_bool(b, "acked", s->acked);
    nc_evb_end(b);
}

static bool fr_crypto(quic_fctx_t *f, uint64_t type, nc_cursor_t *c)
{
    (void)type;
    uint64_t off, len;
    nc_cursor_t data;
    if (!qv(c, &off) || !qv(c, &len) || !nc_cur_sub(c, len, &data))
        return false;
    nc_evb_t *b = f->x->b;
    nc_evb_obj(b, "crypto");
    nc_evb_int(b, "offset", (int64_t)off);
    nc_evb_int(b, "length", (int64_t)len);
    nc_evb_end(b);
    quic_sent_t tmp;
    quic_retrans(f, quic_sent_note(&f->q->dir[f->dir], 2, f->space, 0, off, len, f->pn, f->index,
                                   &tmp));
    if (f->space == SP_INITIAL)
        quic_crypto_bytes(f->q, f->dir, f->client, off, data.ptr, len);
    return true;
}

static bool fr_nt(quic_fctx_t *f, uint64_t type, nc_cursor_t *c)
{
    (void)type;
    uint64_t len;
    if (!qv(c, &len) || !nc_cur_skip(c, len))
        return false;
    nc_evb_obj(f->x->b, "nt");
    nc_evb_int(f->x->b, "length", (int64_t)len);
    nc_evb_end(f->x->b);
    return true;
}

static bool fr_stream(quic_fctx_t *f, uint64_t type, nc_cursor_t *c)
{
    uint64_t id, off = 0, len;
    if (!qv(c, &id) || ((type & 4) && !qv(c, &off)))
        return false;
    if (type & 2) {
        if (!qv(c, &len))
            return false;
    } else {
        len = nc_cur_left(c);
    }
    nc_cursor_t data;
    if (!nc_cur_sub(c, len, &data))
        return false;
    bool fin = type & 1;
    nc_evb_t *b = f->x->b;
    nc_evb_obj(b, "stream");
    nc_evb_int(b, "stream_id", (int64_t)id);
    nc_evb_int(b, "offset", (int64_t)off);
    nc_evb_int(b, "length", (int64_t)len);
    nc_evb_bool(b, "fin", fin);
    nc_evb_end(b);
    quic_sent_t tmp;
    quic_retrans(f, quic_sent_note(&f->q->dir[f->dir], 1, f->space, id, off, len, f->pn,
                                   f->index, &tmp));
    nc__http3_data(&f->q->h3, f->client, id, off, data.ptr, len, fin, &f->q->h3out);
    return true;
}

static bool fr_nci(quic_fctx_t *f, uint64_t type, nc_cursor_t *c)
{
    (void)type;
    uint64_t seq, rpt;
    uint8_t len, cid[20], token[16];
    if (!qv(c, &seq) || !qv(c, &rpt) || !nc_cur_u8(c, &len) || len > 20 ||
        !nc_cur_bytes(c, cid, len) || !nc_cur_bytes(c, token, 16))
        return false;
    nc_evb_t *b = f->x->b;
    nc_evb_obj(b, "nci");
    nc_evb_int(b, "sequence", (int64_t)seq);
    nc_evb_int(b, "retire_prior_to", (int64_t)rpt);
    nc_evb_obj(b, "connection_id");
    nc_evb_int(b, "length", len);
    nc_evb_end(b);
    quic_hex(b, "cid", cid, len);
    nc_evb_end(b);
    return true;
}

static bool fr_path(quic_fctx_t *f, uint64_t type, nc_cursor_t *c)
{
    uint8_t data[8];
    if (!nc_cur_bytes(c, data, 8))
        return false;
    nc_evb_obj(f->x->b, type == 0x1a ? "path_challenge" : "path_response");
    quic_hex(f->x->b, "data", data, 8);
    nc_evb_end(f->x->b);
    return true;
}

static bool fr_cc(quic_fctx_t *f, uint64_t type, nc_cursor_t *c)
{
    uint64_t code, ft = 0, len;
    if (!qv(c, &code) || (type == 0x1c && !qv(c, &ft)) || !qv(c, &len) ||
        nc_cur_left(c) < len)
        return false;
    nc_evb_t *b = f->x->b;
    nc_evb_obj(b, "cc");
    nc_evb_int(b, "error_code", (int64_t)code);
    if (type == 0x1c)
        nc_evb_int(b, "frame_type", (int64_t)ft);
    nc_evb_obj(b, "reason_phrase");
    nc_evb_int(b, "length", (int64_t)len);
    nc_evb_end(b);
    nc_evb_strn(b, "reason", (const char *)c->ptr, (size_t)len);
    nc_evb_bool(b, "application", type == 0x1d);
    nc_evb_end(b);
    return nc_cur_skip(c, len);
}

static bool fr_dg(quic_fctx_t *f, uint64_t type, nc_cursor_t *c)
{
    uint64_t len = nc_cur_left(c);
    if ((type & 1) && !qv(c, &len))
        return false;
    if (!nc_cur_skip(c, len))
        return false;
    nc_evb_obj(f->x->b, "dg");
    nc_evb_int(f->x->b, "length", (int64_t)len);
    nc_evb_end(f->x->b);
    return true;
}

/* The frame types (quic_frame_row_t). */
static const quic_frame_row_t quic_frames[] = {
    {0x00, 0x00, "PADDING", fr_padding, NULL, {NULL}},
    {0x01, 0x01, "PING", fr_none, NULL, {NULL}},
    {0x02, 0x03, "ACK", fr_ack, NULL, {NULL}},
    {0x04, 0x04, "RESET_STREAM", fr_ints, "rsts",
     {"stream_id", "application_error_code", "final_size"}},
    {0x05, 0x05, "STOP_SENDING", fr_ints, "ss", {"stream_id", "application_error_code"}},
    {0x06, 0x06, "CRYPTO", fr_crypto, NULL, {NULL}},
    {0x07, 0x07, "NEW_TOKEN", fr_nt, NULL, {NULL}},
    {0x08, 0x0f, "STREAM", fr_stream, NULL, {NULL}},
    {0x10, 0x10, "MAX_DATA", fr_ints, "md", {"maximum_data"}},
    {0x11, 0x11, "MAX_STREAM_DATA", fr_ints, "msd", {"stream_id", "maximum_stream_data"}},
    {0x12, 0x13, "MAX_STREAMS", fr_ints, "ms", {"max_streams"}},
    {0x14, 0x14, "DATA_BLOCKED", fr_ints, "sb", {"stream_data_limit"}},
    {0x15, 0x15, "STREAM_DATA_BLOCKED", fr_ints, "sdb", {"stream_id", "stream_data_limit"}},
    {0x16, 0x17, "STREAMS_BLOCKED", fr_ints, "sib", {"stream_limit"}},
    {0x18, 0x18, "NEW_CONNECTION_ID", fr_nci, NULL, {NULL}},
    {0x19, 0x19, "RETIRE_CONNECTION_ID", fr_ints, "rci", {"sequence"}},
    {0x1a, 0x1a, "PATH_CHALLENGE", fr_path, NULL, {NULL}},
    {0x1b, 0x1b, "PATH_RESPONSE", fr_path, NULL, {NULL}},
    {0x1c, 0x1d, "CONNECTION_CLOSE", fr_cc, NULL, {NULL}},
    {0x1e, 0x1e, "HANDSHAKE_DONE", fr_none, NULL, {NULL}},
    {0x30, 0x31, "DATAGRAM", fr_dg, NULL, {NULL}},
};

static int quic_frame_row(uint64_t type)
{
    for (size_t i = 0; i < sizeof(quic_frames) / sizeof(quic_frames[0]); i++)
        if (type >= quic_frames[i].lo && type <= quic_frames[i].hi)
            return (int)i;
    return -1;
}

static void quic_name_add(quic_fctx_t *f, const char *name)
{
    size_t n = strlen(f->names);
    if (n + strlen(name) + 3 >= sizeof(f->names))
        return;
    snprintf(f->names + n, sizeof(f->names) - n, "%s%s", n ? ", " : "", name);
}

/* Reads the frames of a packet's plaintext into the "frame" list; false
 * (with the reason in *why) at the first that does not parse. */
static bool quic_frames_read(quic_fctx_t *f, nc_cursor_t c, const char **why)
{
    nc_evb_t *b = f->x->b;
    nc_evb_list(b, "frame");
    bool ok = true;
    while (nc_cur_left(&c) > 0) {
        uint64_t type;
        if (!qv(&c, &type)) {
            ok = false;
            *why = "a frame type is cut short";
            break;
        }
        int row = quic_frame_row(type);
        if (f->ntypes < QUIC_FRAMES)
            f->types[f->ntypes++] = type;
        nc_evb_obj(b, NULL);
        nc_evb_int(b, "frame_type", (int64_t)type);
        nc_evb_str(b, "name", row < 0 ? "unknown" : quic_frames[row].name);
        if (row < 0) {
            nc_evb_end(b);
            ok = false;
            *why = "an unknown frame type";
            break;
        }
        f->row = &quic_frames[row];
        if (!quic_frames[row].read(f, type, &c)) {
            nc_evb_end(b);
            ok = false;
            *why = "a frame is cut short";
            break;
        }
        nc_evb_end(b);
        if (type != 0 || !strstr(f->names, "PADDING"))
            quic_name_add(f, quic_frames[row].name);
        f->index++;
    }
    nc_evb_end(b);
    nc_evb_list(b, "frame_type");
    for (uint32_t i = 0; i < f->ntypes; i++)
        nc_evb_int(b, NULL, (int64_t)f->types[i]);
    nc_evb_end(b);
    return ok;
}

/* ---- protection ---- */

/* The keys of level for direction dir, derived on first use; NULL (with
 * the reason in *why) when there are none. */
static const nc_quic_keys_t *quic_keys(nc_dctx_t *x, nc_quic_conn_t *q, int dir, int level,
                                       uint32_t gen, nc_quic_keys_t *tmp, const char **why)
{
    const nc_decryptor_t *dec = x->d->dec;
    if (dec == NULL || dec->quic_keys == NULL) {
        *why = "decryption is off";
        return NULL;
    }
    quic_dir_t *d = &q->dir[dir];
    nc_quic_keyreq_t req = {.level = (uint8_t)level, .client = dir == q->client_dir,
                            .suite = q->suite, .generation = gen, .dcidlen = q->odcid_len};
    memcpy(req.dcid, q->odcid, q->odcid_len);
    memcpy(req.client_random, q->client_random, NC_TLS_RANDOM);
    /* 0-RTT comes before the ServerHello: the resumed session's suite is
     * not known, AES-128-GCM is tried. */
    if (level == NC_QUIC_0RTT && q->suite == 0)
        req.suite = 0x1301;
    if (level != NC_QUIC_INITIAL && (!q->have_random || req.suite == 0)) {
        *why = "the handshake that names its keys was not seen";
        return NULL;
    }
    if (level == NC_QUIC_1RTT && gen != d->generation) {
        if (!dec->quic_keys(x->d->dec_ctx, &req, tmp)) {
            *why = "the key log holds no secret for this connection";
            return NULL;
        }
        return tmp;
    }
    /* Keys the key log did not hold yet are asked for again: in a live
     * run a secret may reach the log just after its first packet. */
    if (!d->tried[level] || (!d->keys[level].ok && level != NC_QUIC_INITIAL)) {
        d->tried[level] = true;
        dec->quic_keys(x->d->dec_ctx, &req, &d->keys[level]);
    }
    if (!d->keys[level].ok) {
        *why = level == NC_QUIC_INITIAL ? "its Initial keys could not be derived"
                                        : "the key log holds no secret for this connection";
        return NULL;
    }
    return &d->keys[level];
}

/* Removes header protection and opens the payload of p. On success the
 * plaintext is q->pt[0..*ptlen) and *pn the packet number. */
static bool quic_open(nc_dctx_t *x, nc_quic_conn_t *q, int dir, quic_pkt_t *p, int level,
                      uint8_t space, uint64_t *pn, size_t *ptlen, bool *phase, const char **why)
{
    const nc_decryptor_t *dec = x->d->dec;
    nc_quic_keys_t tmp;
    quic_dir_t *d = &q->dir[dir];
    const nc_quic_keys_t *k = quic_keys(x, q, dir, level, d->generation, &tmp, why);
    if (k == NULL)
        return false;
    if (p->pn_off + 4 + 16 > p->len) {
        *why = "it is too short to hold a header protection sample";
        return false;
    }
    uint8_t mask[5], hdr[2048];
    if (p->pn_off + 4 > sizeof(hdr) || !dec->quic_mask(k, p->start + p->pn_off + 4, mask)) {
        *why = "its header protection could not be removed";
        return false;
    }
    memcpy(hdr, p->start, p->pn_off + 4);
    hdr[0] ^= mask[0] & (p->lng ? 0x0f : 0x1f);
    size_t pnlen = (hdr[0] & 3) + 1;
    uint64_t trunc = 0;
    for (size_t i = 0; i < pnlen; i++) {
        hdr[p->pn_off + i] ^= mask[1 + i];
        trunc = trunc << 8 | hdr[p->pn_off + i];
    }
    *pn = nc_quic_pn_expand(d->largest[space], trunc, pnlen);
    size_t hlen = p->pn_off + pnlen;
    size_t n = p->len - hlen;
    if (n < 16) {
        *why = "it is too short to hold an AEAD tag";
        return false;
    }
    if (q->ptcap < n) {
        q->ptcap = n;
        q->pt = nc_xrealloc(q->pt, n);
    }
    *phase = !p->lng && (hdr[0] & 0x04);
    if (level == NC_QUIC_1RTT && *phase != d->phase) {
        /* A key update: the next generation's keys, kept once they work. */
        const nc_quic_keys_t *nk = quic_keys(x, q, dir, level, d->generation + 1, &tmp, why);
        int r = nk ? dec->quic_open(nk, *pn, hdr, hlen, p->start + hlen, n, q->pt) : -1;
        if (r >= 0) {
            d->keys[NC_QUIC_1RTT] = *nk;
            d->generation++;
            d->phase = *phase;
            *ptlen = (size_t)r;
            if ((int64_t)*pn > d->largest[space])
                d->largest[space] = (int64_t)*pn;
            return true;
        }
    }
    int r = dec->quic_open(k, *pn, hdr, hlen, p->start + hlen, n, q->pt);
    if (r < 0) {
        *why = p->cid_guess ? "its connection ID length is not known"
                            : "it does not authenticate under the keys";
        return false;
    }
    *ptlen = (size_t)r;
    if ((int64_t)*pn > d->largest[space])
        d->largest[space] = (int64_t)*pn;
    return true;
}

/* ---- one packet ---- */

static nc_quic_conn_t *quic_conn(nc_flow_t *f)
{
    if (f->quic == NULL) {
        f->quic = nc_xcalloc(1, sizeof(*f->quic));
        for (int d = 0; d < 2; d++)
            for (int s = 0; s < 3; s++)
                f->quic->dir[d].largest[s] = -1;
    }
    return f->quic;
}

struct nc_h3_conn **nc__quic_h3_slot(nc_flow_t *f)
{
    return &quic_conn(f)->h3;
}

/* Learns what the long header of p tells about the connection. */
static void quic_learn(nc_quic_conn_t *q, int dir, const quic_pkt_t *p)
{
    if (!p->lng || p->vn || p->other)
        return;
    if (p->type == LT_INITIAL && (!q->client_known || (q->after_retry && dir == q->client_dir))) {
        if (!q->client_known) {
            q->client_known = true;
            q->client_dir = dir;
        }
        if (dir == q->client_dir) {
            memcpy(q->odcid, p->dcid, p->dcidlen);
            q->odcid_len = p->dcidlen;
            q->after_retry = false;
            for (int d = 0; d < 2; d++)
                q->dir[d].tried[NC_QUIC_INITIAL] = false;
        }
    }
    if (p->type == LT_RETRY && q->client_known && dir != q->client_dir)
        q->after_retry = true;
    /* Short headers sent the other way carry this sender's SCID. */
    if (!q->cid_known[!dir] || p->type == LT_HANDSHAKE) {
        q->cid_len[!dir] = p->scidlen;
        q->cid_known[!dir] = true;
    }
}

static void quic_packet(nc_dctx_t *x, nc_quic_conn_t *q, int dir, quic_pkt_t *p, char *sum,
                        size_t sumlen)
{
    nc_evb_t *b = x->b;
    nc_evb_int(b, "header_form", p->lng);
    const char *level_name = "1-RTT";
    if (p->lng) {
        nc_evb_int(b, "version", p->version);
        if (p->other) {
            level_name = "other version";
        } else if (!p->vn) {
            nc_evb_obj(b, "long");
            nc_evb_int(b, "packet_type", p->type);
            nc_evb_end(b);
            level_name = quic_long_names[p->type];
        } else {
            level_name = "Version Negotiation";
        }
        quic_hex(b, "dcid", p->dcid, p->dcidlen);
        quic_hex(b, "scid", p->scid, p->scidlen);
        if (!p->vn && !p->other && p->type == LT_INITIAL)
            nc_evb_int(b, "token_length", (int64_t)p->token_len);
        if (!p->vn && !p->other && p->type != LT_RETRY)
            nc_evb_int(b, "length", (int64_t)p->length);
    } else {
        quic_hex(b, "dcid", p->dcid, p->dcidlen);
    }
    nc_evb_str(b, "packet_type_name", level_name);
    nc_evb_int(b, "packet_length", (int64_t)p->len);
    bool client = q->client_known && dir == q->client_dir;
    nc_evb_bool(b, "from_client", client);
    if (p->vn) {
        nc_cursor_t c = nc_cur_make(p->start + 7 + p->dcidlen + p->scidlen,
                                    p->len - 7 - p->dcidlen - p->scidlen);
        uint32_t v;
        nc_evb_list(b, "supported_version");
        while (nc_cur_u32be(&c, &v))
            nc_evb_int(b, NULL, v);
        nc_evb_end(b);
        snprintf(sum, sumlen, "Version Negotiation");
        return;
    }
    if (p->other) {
        /* RFC 8999: only the version and the connection IDs are the same
         * in every version. A client that offers an unknown version is
         * asking for Version Negotiation. */
        nc_evb_bool(b, "decrypted", false);
        nc_evb_str(b, "undecrypted", "only QUIC version 1 is read");
        snprintf(sum, sumlen, "version 0x%08x (only version 1 is read)", p->version);
        return;
    }
    if (p->lng && p->type == LT_RETRY) {
        nc_evb_int(b, "retry_token_length", (int64_t)(p->len - 7 - p->dcidlen - p->scidlen - 16));
        snprintf(sum, sumlen, "Retry (the server asks the client to prove its address)");
        return;
    }
    int level = !p->lng ? NC_QUIC_1RTT
                : p->type == LT_INITIAL ? NC_QUIC_INITIAL
                : p->type == LT_HANDSHAKE ? NC_QUIC_HANDSHAKE : NC_QUIC_0RTT;
    uint8_t space = level == NC_QUIC_INITIAL ? SP_INITIAL
                    : level == NC_QUIC_HANDSHAKE ? SP_HANDSHAKE : SP_APP;
    const char *why = "";
    uint64_t pn = 0;
    size_t ptlen = 0;
    bool phase = false;
    if (!quic_open(x, q, dir, p, level, space, &pn, &ptlen, &phase, &why)) {
        nc_evb_bool(b, "decrypted", false);
        nc_evb_str(b, "undecrypted", why);
        snprintf(sum, sumlen, "%s, encrypted (%s)", level_name, why);
        return;
    }
    nc_evb_int(b, "packet_number", (int64_t)pn);
    if (!p->lng)
        nc_evb_int(b, "key_phase", phase);
    nc_evb_bool(b, "decrypted", true);
    nc_evb_str(b, "keys", level == NC_QUIC_INITIAL     ? "initial"
                          : level == NC_QUIC_HANDSHAKE ? "handshake"
                          : level == NC_QUIC_0RTT      ? "0-RTT"
                                                       : "1-RTT");
    if (level == NC_QUIC_1RTT && q->dir[dir].generation)
        nc_evb_int(b, "key_generation", q->dir[dir].generation);
    quic_fctx_t f = {.x = x, .q = q, .dir = dir, .client = client, .space = space, .pn = pn};
    const char *bad = NULL;
    bool ok = quic_frames_read(&f, nc_cur_make(q->pt, ptlen), &bad);
    if (q->hello_now) {
        /* The packet whose CRYPTO frames completed the ClientHello. */
        q->hello_now = false;
        if (q->sni[0])
            nc_evb_str(b, "sni", q->sni);
        if (q->alpn[0])
            nc_evb_str(b, "alpn", q->alpn);
    }
    if (f.has_ack) {
        nc_evb_obj(b, "acked_packets");
        nc_evb_int(b, "lo", (int64_t)f.acked_lo);
        nc_evb_int(b, "hi", (int64_t)f.acked_hi);
        nc_evb_end(b);
    }
    if (!ok)
        nc_evb_str(b, "malformed", bad);
    snprintf(sum, sumlen, "%s %llu: %s", level_name, (unsigned long long)pn,
             f.names[0] ? f.names : "no frames");
}

/* Whether every byte left in c is zero. */
static bool quic_zeros(nc_cursor_t c)
{
    uint8_t b;
    while (nc_cur_u8(&c, &b))
        if (b != 0)
            return false;
    return true;
}

static int quic_decode(nc_dctx_t *x, nc_cursor_t *c)
{
    int dir;
    nc_flow_t *fl = nc_decode_flow(x, 17, &dir);
    nc_quic_conn_t *q = quic_conn(fl);
    quic_pkt_t pk[QUIC_MAX_PKTS];
    size_t np = 0;
    nc_cursor_t r = *c;
    const uint8_t *dgram = c->ptr;
    /* Find every packet first, so that a datagram of several is a list. */
    while (nc_cur_left(&r) > 0 && np < QUIC_MAX_PKTS) {
        if (np > 0 && quic_zeros(r))
            break; /* the datagram padded with zeros after its packets */
        if (!quic_header(q, dir, r, &pk[np]))
            break;
        quic_learn(q, dir, &pk[np]);
        nc_cur_skip(&r, pk[np].len);
        np++;
    }
    if (np == 0) {
        nc_decode_open(x, "quic", c);
        return nc_decode_fail(x, NC_EBADDATA, "quic: not a QUIC packet this decoder reads");
    }
    nc_evb_t *b = x->b;
    q->h3out.n = q->h3out.dropped = 0;
    char sums[QUIC_MAX_PKTS][200];
    if (np > 1)
        nc_evb_list(b, "quic");
    for (size_t i = 0; i < np; i++) {
        nc_evb_obj(b, np > 1 ? NULL : "quic");
        nc_evb_int(b, "_off", (pk[i].start - x->frame));
        nc_evb_int(b, "_len", (int64_t)pk[i].len);
        quic_packet(x, q, dir, &pk[i], sums[i], sizeof(sums[i]));
        nc_evb_end(b);
    }
    if (np > 1)
        nc_evb_end(b);
    x->proto = "quic";
    size_t rest = nc_cur_left(&r);
    nc_cur_skip(c, (size_t)(r.ptr - dgram));
    nc_decode_sum_reset(x);
    nc_decode_sum_str(x, "QUIC ");
    for (size_t i = 0; i < np; i++) {
        if (i)
            nc_decode_sum_str(x, " + ");
        nc_decode_sum_str(x, sums[i]);
    }
    if (rest > 0) {
        /* Bytes after the last packet that do not parse as one: padding
         * of the datagram, or a packet this decoder cannot delimit. */
        nc_decode_sum_str(x, " + ");
        nc_decode_sum_uint(x, rest);
        nc_decode_sum_str(x, quic_zeros(r) ? " bytes of padding" : " bytes not read");
    }
    if (q->h3out.n)
        nc__http3_write(x, &q->h3out);
    return 0;
}

static const nc_field_decl_t quic_fields[] = {
    {"header_form", NC_F_INT},
    {"version", NC_F_INT},
    {"long", NC_F_OBJ},
    {"long.packet_type", NC_F_INT},
    {"dcid", NC_F_STR},
    {"scid", NC_F_STR},
    {"token_length", NC_F_INT},
    {"length", NC_F_INT},
    {"packet_number", NC_F_INT},
    {"packet_length", NC_F_INT},
    {"packet_type_name", NC_F_STR},
    {"key_phase", NC_F_INT},
    {"key_generation", NC_F_INT},
    {"from_client", NC_F_BOOL},
    {"decrypted", NC_F_BOOL},
    {"undecrypted", NC_F_STR},
    {"keys", NC_F_STR},
    {"frame_type", NC_F_LIST},
    {"frame", NC_F_LIST},
    {"sni", NC_F_STR},
    {"alpn", NC_F_STR},
    {"acked_packets", NC_F_OBJ},
    {"acked_packets.lo", NC_F_INT},
    {"acked_packets.hi", NC_F_INT},
    {"supported_version", NC_F_LIST},
    {"retry_token_length", NC_F_INT},
    {"malformed", NC_F_STR},
    {NULL, 0},
};

const nc_proto_t nc_quic_proto = {"quic", quic_decode, quic_fields};
const nc_app_proto_t nc_quic_app = {&nc_quic_proto, quic_match};
