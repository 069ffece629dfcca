/*
 * flow.c: the flow table and TCP sequence analysis.
 *
 * Flows live in one array of slots, found through a bucket array of chains
 * (indices, -1 ends a chain) keyed by a FNV-1a hash of the canonical key.
 * The array starts small and doubles (rehashing the chains) until it holds
 * max_flows; from then on slots are handed out in a ring: the next new flow
 * takes the slot of the oldest one, which is unlinked from its chain first.
 * So a short capture costs a few kilobytes and a hostile one a fixed bound.
 *
 * The TCP analysis follows Wireshark's rules closely enough for teaching:
 * relative numbers from the SYN's sequence number (or, for a connection seen
 * mid-stream, from one before the first sequence number seen); a segment that
 * carries data (or SYN/FIN) below the highest sequence number already seen
 * is a retransmission, unless it is a keep-alive (one byte, or none, just
 * below it) or a zero-window probe (one byte while the peer's window is 0).
 *
 * Each direction also keeps what the notes need to say what this run did,
 * not what a textbook says: whether it sent its FIN, how many duplicate ACKs
 * it has sent in a row (and whether they carried SACK blocks), when its last
 * SYN went out, and a small ring of recent first transmissions. From those a
 * retransmission is classified (nc_recovery_t) and timed against the previous
 * transmission of the same bytes.
 */
#include "flow.h"

#include "quic.h"
#include "stream.h"

#include "../core/xmalloc.h"

#include <stdlib.h>
#include <string.h>

struct nc_flow_table {
    nc_flow_t *slots;
    int32_t *buckets;
    size_t max, cap, nbuckets, used, ring;
};

#define NC_FLOW_INITIAL 64

/* Sizes the bucket array for the slot capacity and relinks every flow. */
static void nc_flow_rehash(nc_flow_table_t *t)
{
    t->nbuckets = 1;
    while (t->nbuckets < t->cap * 2)
        t->nbuckets <<= 1;
    free(t->buckets);
    t->buckets = nc_xmalloc(t->nbuckets * sizeof(*t->buckets));
    for (size_t i = 0; i < t->nbuckets; i++)
        t->buckets[i] = -1;
    for (size_t i = 0; i < t->used; i++) {
        int32_t *head = &t->buckets[t->slots[i].hash & (t->nbuckets - 1)];
        t->slots[i].next = *head;
        *head = (int32_t)i;
    }
}

nc_flow_table_t *nc_flow_table_new(size_t max_flows)
{
    if (max_flows == 0)
        max_flows = 16384;
    nc_flow_table_t *t = nc_xcalloc(1, sizeof(*t));
    t->max = max_flows;
    t->cap = max_flows < NC_FLOW_INITIAL ? max_flows : NC_FLOW_INITIAL;
    t->slots = nc_xcalloc(t->cap, sizeof(*t->slots));
    nc_flow_rehash(t);
    return t;
}

void nc_flow_table_free(nc_flow_table_t *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->used; i++) {
        nc_stream_free(t->slots[i].stream);
        nc__quic_free(t->slots[i].quic);
    }
    free(t->slots);
    free(t->buckets);
    free(t);
}

size_t nc_flow_table_count(const nc_flow_table_t *t)
{
    return t->used;
}

/* One flow as a checkpoint saw it; shared by the checkpoints after it
 * that found the flow unchanged (refs counts them). */
typedef struct nc_flow_rec {
    size_t refs;
    nc_flow_t flow;            /* its stream member NULL */
    bool has_state;
    nc_stream_state_t state[]; /* one when has_state */
} nc_flow_rec_t;

struct nc_flow_ck {
    size_t max, cap, used, ring;
    nc_flow_rec_t **recs; /* `used`, one per slot */
};

/* True when slot f, whose stream state is st (NULL: none), is what rec holds. */
static bool nc_flow_rec_same(const nc_flow_rec_t *rec, const nc_flow_t *f,
                             const nc_stream_state_t *st)
{
    nc_flow_t plain = *f;
    plain.stream = NULL;
    if (memcmp(&rec->flow, &plain, sizeof(plain)) != 0 || rec->has_state != (st != NULL))
        return false;
    return st == NULL || memcmp(rec->state, st, sizeof(*st)) == 0;
}

nc_flow_ck_t *nc_flow_table_save(const nc_flow_table_t *t, const nc_flow_ck_t *prev,
                                 size_t *bytes)
{
    nc_flow_ck_t *ck = nc_xcalloc(1, sizeof(*ck));
    ck->max = t->max;
    ck->cap = t->cap;
    ck->ring = t->ring;
    ck->recs = nc_xcalloc(t->used ? t->used : 1, sizeof(*ck->recs));
    *bytes = sizeof(*ck) + t->used * sizeof(*ck->recs);
    nc_stream_state_t st;
    for (size_t i = 0; i < t->used; i++, ck->used++) {
        const nc_flow_t *f = &t->slots[i];
        /* A QUIC connection's state holds nghttp3's QPACK decoder, which
         * cannot be copied (quic.h). */
        if (f->quic || (f->stream && !nc_stream_save(f->stream, &st))) {
            nc_flow_ck_free(ck);
            return NULL;
        }
        const nc_stream_state_t *sp = f->stream ? &st : NULL;
        if (prev && i < prev->used && nc_flow_rec_same(prev->recs[i], f, sp)) {
            ck->recs[i] = prev->recs[i];
            ck->recs[i]->refs++;
            continue;
        }
        size_t size = sizeof(nc_flow_rec_t) + (sp ? sizeof(st) : 0);
        nc_flow_rec_t *rec = nc_xmalloc(size);
        rec->refs = 1;
        rec->flow = *f;
        rec->flow.stream = NULL;
        rec->has_state = sp != NULL;
        if (sp)
            rec->state[0] = st;
        ck->recs[i] = rec;
        *bytes += size;
    }
    return ck;
}

void nc_flow_table_restore(nc_flow_table_t *t, const nc_flow_ck_t *ck,
                           struct nc_stream_budget *budget)
{
    for (size_t i = 0; i < t->used; i++) {
        nc_stream_free(t->slots[i].stream);
        nc__quic_free(t->slots[i].quic);
    }
    t->max = ck->max;
    t->cap = ck->cap;
    t->used = ck->used;
    t->ring = ck->ring;
    free(t->slots);
    t->slots = nc_xcalloc(t->cap ? t->cap : 1, sizeof(*t->slots));
    for (size_t i = 0; i < ck->used; i++) {
        const nc_flow_rec_t *rec = ck->recs[i];
        t->slots[i] = rec->flow;
        if (!rec->has_state)
            continue;
        t->slots[i].stream = nc_stream_new();
        nc_stream_set_budget(t->slots[i].stream, budget);
        nc_stream_restore(t->slots[i].stream, &rec->state[0]);
    }
    nc_flow_rehash(t);
}

void nc_flow_ck_free(nc_flow_ck_t *ck)
{
    if (ck == NULL)
        return;
    for (size_t i = 0; i < ck->used; i++)
        if (--ck->recs[i]->refs == 0)
            free(ck->recs[i]);
    free(ck->recs);
    free(ck);
}

nc_flow_t *nc_flow_at(nc_flow_table_t *t, size_t i)
{
    return i < t->used ? &t->slots[i] : NULL;
}

static uint32_t nc_flow_hash(const uint8_t *k, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= k[i];
        h *= 16777619u;
    }
    return h;
}

/* Builds the canonical key: the smaller (address, port) endpoint first. */
static int nc_flow_canon(const nc_flow_key_t *k, uint8_t out[38])
{
    size_t alen = k->ipver == 6 ? 16 : 4;
    int c = memcmp(k->saddr, k->daddr, alen);
    int swap = c > 0 || (c == 0 && k->sport > k->dport);
    const uint8_t *a = swap ? k->daddr : k->saddr, *b = swap ? k->saddr : k->daddr;
    uint16_t pa = swap ? k->dport : k->sport, pb = swap ? k->sport : k->dport;
    memset(out, 0, 38);
    out[0] = k->ipver;
    out[1] = k->l4;
    memcpy(out + 2, a, alen);
    memcpy(out + 18, b, alen);
    out[34] = (uint8_t)(pa >> 8);
    out[35] = (uint8_t)pa;
    out[36] = (uint8_t)(pb >> 8);
    out[37] = (uint8_t)pb;
    return swap;
}

static void nc_flow_unlink(nc_flow_table_t *t, int32_t idx)
{
    nc_flow_t *f = &t->slots[idx];
    int32_t *p = &t->buckets[f->hash & (t->nbuckets - 1)];
    while (*p != -1) {
        if (*p == idx) {
            *p = f->next;
            return;
        }
        p = &t->slots[*p].next;
    }
}

nc_flow_t *nc_flow_find(nc_flow_table_t *t, const nc_flow_key_t *k)
{
    uint8_t key[38];
    nc_flow_canon(k, key);
    uint32_t h = nc_flow_hash(key, sizeof(key));
    for (int32_t i = t->buckets[h & (t->nbuckets - 1)]; i != -1; i = t->slots[i].next)
        if (t->slots[i].hash == h && memcmp(t->slots[i].key, key, sizeof(key)) == 0)
            return &t->slots[i];
    return NULL;
}

nc_flow_t *nc_flow_get(nc_flow_table_t *t, const nc_flow_key_t *k, int *dir)
{
    uint8_t key[38];
    *dir = nc_flow_canon(k, key);
    uint32_t h = nc_flow_hash(key, sizeof(key));
    int32_t *head = &t->buckets[h & (t->nbuckets - 1)];
    for (int32_t i = *head; i != -1; i = t->slots[i].next) {
        if (t->slots[i].hash == h && memcmp(t->slots[i].key, key, sizeof(key)) == 0)
            return &t->slots[i];
    }
    if (t->used == t->cap && t->cap < t->max) {
        t->cap = t->cap * 2 < t->max ? t->cap * 2 : t->max;
        t->slots = nc_xrealloc(t->slots, t->cap * sizeof(*t->slots));
        memset(t->slots + t->used, 0, (t->cap - t->used) * sizeof(*t->slots));
        nc_flow_rehash(t);
        head = &t->buckets[h & (t->nbuckets - 1)];
    }
    int32_t idx;
    if (t->used < t->cap) {
        idx = (int32_t)t->used++;
    } else {
        idx = (int32_t)t->ring;
        t->ring = (t->ring + 1) % t->max;
        nc_flow_unlink(t, idx);
    }
    nc_flow_t *f = &t->slots[idx];
    nc_stream_free(f->stream); /* an evicted flow's, or NULL */
    nc__quic_free(f->quic);
    memset(f, 0, sizeof(*f));
    memcpy(f->key, key, sizeof(key));
    f->hash = h;
    f->used = true;
    f->dir[0].wscale = f->dir[1].wscale = -1;
    f->next = *head;
    *head = idx;
    return f;
}

/* Sequence-space comparison (RFC 1982 style). */
static bool nc_seq_lt(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) < 0;
}

static bool nc_seq_gt(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) > 0;
}

static void nc_flow_dir_reset(nc_flow_dir_t *d)
{
    memset(d, 0, sizeof(*d));
    d->wscale = -1;
}

/* Finds the ring slot of a segment that started at seq, or -1. */
static int nc_flow_sent_find(const nc_flow_dir_t *d, uint32_t seq)
{
    for (int i = 0; i < NC_FLOW_SENT; i++)
        if (d->sent[i].first != 0 && d->sent[i].seq == seq)
            return i;
    return -1;
}

static void nc_flow_sent_add(nc_flow_dir_t *d, uint32_t seq, int64_t t)
{
    int i = nc_flow_sent_find(d, seq);
    if (i < 0) {
        i = d->sent_next;
        d->sent_next = (uint8_t)((d->sent_next + 1) % NC_FLOW_SENT);
        d->sent[i].seq = seq;
        d->sent[i].first = t ? t : 1;
    }
    d->sent[i].last = t;
}

/* Says how a data retransmission from d came about, from what the peer r
 * had sent before it: duplicate ACKs for exactly this seq (with or without
 * SACK), or none (a timer: RTO for a segment with later ones behind it, a
 * tail loss probe for the last one sent while earlier ones wait). */
static void nc_flow_recovery(nc_flow_dir_t *d, const nc_flow_dir_t *r, nc_tcp_seg_t *s)
{
    s->asked = (r->ack_set ? r->last_ack : s->seq) - d->base;
    /* A segment that also carries bytes never sent before (after a
     * one-byte window probe, say) is no recovery of lost data. */
    if (nc_seq_gt(s->seq + s->len, d->next_seq)) {
        s->with_new = true;
        return;
    }
    /* Later retransmissions of one episode (the other holes of a SACK
     * recovery, the rest of the window after a timeout) belong to the
     * episode the first one began, while the peer's ACK stays put. The
     * first unacknowledged segment sent again starts a new one (an RTO
     * after a tail loss probe drew no ACK). */
    if (d->recov != NC_RECOVERY_NONE && r->ack_set && r->last_ack == d->recov_ack &&
        s->seq != r->last_ack) {
        s->recovery = (nc_recovery_t)d->recov;
        s->dup_acks_before = d->recov_dups;
        return;
    }
    bool asked = r->ack_set && r->last_ack == s->seq;
    uint32_t seglen = s->len + ((s->flags & NC_TCP_FIN) ? 1u : 0u);
    if (asked && r->dup_acks > 0) {
        s->dup_acks_before = r->dup_acks;
        if (r->dup_acks >= 3)
            s->recovery = NC_RECOVERY_FAST;
        else
            s->recovery = r->dup_sack ? NC_RECOVERY_SACK : NC_RECOVERY_DUPACK;
    } else if (s->seq + seglen != d->next_seq) {
        s->recovery = NC_RECOVERY_RTO;
    } else if (r->ack_set && nc_seq_lt(r->last_ack, s->seq)) {
        s->recovery = NC_RECOVERY_TLP;
    } else {
        s->recovery = NC_RECOVERY_TIMER;
    }
    d->recov = (uint8_t)s->recovery;
    d->recov_ack = r->ack_set ? r->last_ack : 0;
    d->recov_dups = s->dup_acks_before;
}

void nc_flow_tcp(nc_flow_t *f, int dir, nc_tcp_seg_t *s)
{
    nc_flow_dir_t *d = &f->dir[dir & 1], *r = &f->dir[!(dir & 1)];
    bool syn = s->flags & NC_TCP_SYN, fin = s->flags & NC_TCP_FIN;
    bool rst = s->flags & NC_TCP_RST, ack = s->flags & NC_TCP_ACK;

    /* A new SYN with another ISN on the same ports is a new connection. */
    if (syn && !ack && d->syn && s->seq != d->base) {
        nc_flow_dir_reset(d);
        nc_flow_dir_reset(r);
    }
    if (syn && !d->syn) {
        d->syn = true;
        d->synack = ack;
        d->base = s->seq;
        d->base_set = true;
        d->wscale = (int8_t)(s->wscale > 14 ? 14 : s->wscale);
    }
    if (!d->base_set) {
        d->base = s->seq - 1;
        d->base_set = true;
    }
    if (ack && !r->base_set) {
        r->base = s->ack - 1;
        r->base_set = true;
    }
    s->rel_seq = s->seq - d->base;
    s->rel_ack = ack ? s->ack - r->base : 0;
    s->rev_base = r->base;

    /* Windows are scaled only once both SYNs offered scaling. */
    int shift = 0;
    if (d->syn && r->syn && d->wscale >= 0 && r->wscale >= 0)
        shift = d->wscale;
    s->win_scaled = syn ? s->win : (uint64_t)s->win << shift;

    uint32_t seglen = s->len + (syn ? 1u : 0u) + (fin ? 1u : 0u);
    bool plain = !syn && !fin && !rst;
    s->retransmission = s->dup_ack = s->zero_window = false;
    s->window_probe = s->keepalive = s->established = false;
    s->peer_fin = r->fin;
    s->acks_fin = ack && r->fin && r->next_set && s->ack == r->next_seq;
    s->peer_syn = r->syn;
    s->peer_established = r->established;
    s->dup_ack_num = s->dup_acks_before = 0;
    s->with_new = false;
    s->recovery = NC_RECOVERY_NONE;
    s->gap_ns = -1;
    if (d->next_set && plain && ack && s->len <= 1 && s->seq == d->next_seq - 1) {
        /* Linux probes a zero window with this same shape (tcp_xmit_probe_skb:
         * the last byte's sequence number, no data); against a closed window
         * it is a window probe, not a keep-alive. */
        if (r->win_set && r->last_win_scaled == 0)
            s->window_probe = true;
        else
            s->keepalive = true;
    } else if (d->next_set && plain && s->len == 1 && s->seq == d->next_seq && r->win_set &&
               r->last_win_scaled == 0) {
        s->window_probe = true;
    } else if (d->next_set && seglen > 0 && !rst && nc_seq_lt(s->seq, d->next_seq)) {
        s->retransmission = true;
    }
    if (s->win == 0 && plain)
        s->zero_window = true;
    if (ack && s->len == 0 && plain && !s->keepalive && s->win != 0 && d->ack_set && s->ack == d->last_ack &&
        d->win_set && s->win == d->last_win && r->next_set && nc_seq_lt(s->ack, r->next_seq))
        s->dup_ack = true;
    if (s->retransmission && syn) {
        s->recovery = NC_RECOVERY_SYN;
        s->gap_ns = s->t_ns - d->syn_t; /* a resent SYN: the first one set syn_t */
    } else if (s->retransmission && (s->len > 0 || fin)) {
        nc_flow_recovery(d, r, s);
        int i = nc_flow_sent_find(d, s->seq);
        if (i >= 0)
            s->gap_ns = s->t_ns - d->sent[i].last;
    }
    if (syn)
        d->syn_t = s->t_ns;
    if ((s->len > 0 || fin) && !s->keepalive)
        nc_flow_sent_add(d, s->seq, s->t_ns);
    if (fin)
        d->fin = true;
    if (s->dup_ack) {
        d->dup_acks++;
        d->dup_sack = d->dup_sack || s->nsack > 0;
        s->dup_ack_num = d->dup_acks;
    } else if (ack && (!d->ack_set || s->ack != d->last_ack)) {
        d->dup_acks = 0;
        d->dup_sack = false;
    }
    if (ack && !syn && !rst && d->syn && !d->synack && r->synack && !d->established &&
        s->ack == r->base + 1) {
        d->established = true;
        s->established = true;
    }

    uint32_t end = s->seq + seglen;
    if (!d->next_set || nc_seq_gt(end, d->next_seq)) {
        d->next_seq = end;
        d->next_set = true;
    }
    if (ack) {
        d->last_ack = s->ack;
        d->ack_set = true;
    }
    d->last_win = s->win;
    d->last_win_scaled = s->win_scaled;
    d->win_set = true;
}
