/*
 * flow.h: per-connection state kept between frames (internal to decode,
 * exposed for the unit tests).
 *
 * A flow is one transport conversation: IP version, both addresses and both
 * ports, stored in a canonical order so that both directions find the same
 * entry; `dir` tells which way a frame goes (0: from the canonical first
 * endpoint). The table is hashed and bounded: when it is full the oldest flow
 * is evicted, so a hostile capture with millions of flows costs a fixed amount
 * of memory.
 *
 * For TCP each direction remembers its initial sequence number (the base that
 * makes numbers relative, Wireshark style), the highest sequence number seen
 * (for retransmissions), its last ACK and window (for duplicate ACKs and zero
 * windows) and its window scale from the SYN. nc_flow_tcp() runs that
 * analysis for one segment.
 */
#ifndef NC_DECODE_FLOW_H
#define NC_DECODE_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct nc_flow_table nc_flow_table_t;

typedef struct nc_flow_key {
    uint8_t ipver, l4;
    uint8_t saddr[16], daddr[16];
    uint16_t sport, dport;
} nc_flow_key_t;

/* How many recent first transmissions a direction remembers, to tell how
 * long after the original a retransmission came. */
#define NC_FLOW_SENT 8

typedef struct nc_flow_dir {
    uint32_t base;      /* raw seq that relative 0 stands for */
    uint32_t next_seq;  /* highest seq + segment length seen */
    uint32_t last_ack;  /* raw ACK of the last segment */
    uint32_t last_win;  /* raw window of the last segment */
    uint64_t last_win_scaled;
    int8_t wscale;      /* from this side's SYN, -1 when none */
    bool base_set, next_set, ack_set, win_set;
    bool syn, synack;   /* sent a SYN / a SYN-ACK */
    bool established;   /* sent the ACK that completed the handshake */
    bool fin;           /* sent a FIN */
    bool dup_sack;      /* one of the current dup ACKs carried SACK blocks */
    uint32_t dup_acks;  /* duplicate ACKs sent in a row for last_ack */
    int64_t syn_t;      /* when the last SYN (or SYN-ACK) went out */
    /* The recovery episode this side is in: its kind, the peer's ACK when
     * it began (the episode lasts while that ACK does not move), and the
     * dup ACKs that started it. */
    uint8_t recov;
    uint32_t recov_ack, recov_dups;
    /* Recent segments with new data: raw seq, first and last time sent;
     * a ring, `sent_next` is the slot the next one takes. */
    struct {
        uint32_t seq;
        int64_t first, last;
    } sent[NC_FLOW_SENT];
    uint8_t sent_next;
} nc_flow_dir_t;

typedef struct nc_flow {
    uint8_t key[38];
    uint32_t hash;
    int32_t next; /* chain in the bucket, -1 ends */
    bool used;
    nc_flow_dir_t dir[2];
    struct nc_stream *stream; /* owned: reassembly and stream decoders (stream.h) */
    bool stream_off;          /* no stream decoder reads this connection */
    struct nc_quic_conn *quic; /* owned: a QUIC connection's state (quic.h), or NULL */
} nc_flow_t;

enum {
    NC_TCP_FIN = 0x01,
    NC_TCP_SYN = 0x02,
    NC_TCP_RST = 0x04,
    NC_TCP_PSH = 0x08,
    NC_TCP_ACK = 0x10,
    NC_TCP_URG = 0x20,
    NC_TCP_ECE = 0x40,
    NC_TCP_CWR = 0x80
};

/* How a retransmission came about, as far as the flow's history tells. */
typedef enum {
    NC_RECOVERY_NONE,  /* not a retransmission, or nothing to tell */
    NC_RECOVERY_SYN,   /* a SYN or SYN-ACK sent again: no answer came */
    NC_RECOVERY_SACK,  /* after fewer than three dup ACKs with SACK blocks (RACK) */
    NC_RECOVERY_FAST,  /* after three or more dup ACKs (fast retransmit) */
    NC_RECOVERY_DUPACK, /* after one or two dup ACKs without SACK (early retransmit) */
    NC_RECOVERY_RTO,   /* no dup ACK, not the last segment sent: the timer fired */
    NC_RECOVERY_TLP,   /* no dup ACK, the last segment sent, others before it unacked */
    NC_RECOVERY_TIMER  /* no dup ACK, the only unacknowledged segment: RTO or TLP */
} nc_recovery_t;

/* One TCP segment: the caller fills the inputs, nc_flow_tcp the outputs. */
typedef struct nc_tcp_seg {
    uint32_t seq, ack, win, len; /* raw; len = payload bytes */
    uint8_t flags;               /* NC_TCP_* */
    int wscale;                  /* window scale option, -1 when absent */
    int nsack;                   /* SACK blocks in the options */
    int64_t t_ns;                /* when it was captured */
    uint32_t rel_seq, rel_ack;
    uint32_t rev_base;           /* the other side's base, for SACK blocks */
    uint64_t win_scaled;
    bool retransmission, dup_ack, zero_window, window_probe, keepalive;
    bool established;            /* this ACK completes the handshake */
    bool peer_fin;               /* the other side had already sent its FIN */
    bool acks_fin;               /* this ACK covers the other side's FIN */
    bool peer_syn;               /* the other side's SYN was seen (numbers start there) */
    bool peer_established;       /* the other side's handshake ACK was seen */
    uint32_t dup_ack_num;        /* the how-manieth dup ACK in a row (0: not one) */
    nc_recovery_t recovery;      /* for retransmissions */
    uint32_t dup_acks_before;    /* dup ACKs the peer had sent for the byte it asked for */
    bool with_new;               /* a retransmission that also carries new bytes */
    uint32_t asked;              /* relative: the byte the peer's last ACK asked for */
    int64_t gap_ns;              /* since this seq (or SYN) was last sent; -1 unknown */
} nc_tcp_seg_t;

/* Returns a new table that holds at most max_flows flows (0: a default). */
nc_flow_table_t *nc_flow_table_new(size_t max_flows);
void nc_flow_table_free(nc_flow_table_t *t);
/* Returns how many flows the table holds now. */
size_t nc_flow_table_count(const nc_flow_table_t *t);

/*
 * A checkpoint of a whole table: its slots in place (so that eviction goes
 * on in the same order) and each connection's stream state (stream.h).
 * A flow that has not changed since the previous checkpoint `prev` (may be
 * NULL) shares prev's copy, so a capture of thousands of finished
 * connections does not copy them again and again. nc_flow_table_save()
 * returns NULL while any stream holds bytes out of order, where a
 * checkpoint could not stand alone; *bytes is what it added.
 * nc_flow_table_restore() makes t what it was when ck was taken; new
 * streams count against budget. The caller owns ck (nc_flow_ck_free; the
 * copies it shares live until the last checkpoint holding them is freed).
 */
typedef struct nc_flow_ck nc_flow_ck_t;
nc_flow_ck_t *nc_flow_table_save(const nc_flow_table_t *t, const nc_flow_ck_t *prev,
                                 size_t *bytes);
struct nc_stream_budget;
void nc_flow_table_restore(nc_flow_table_t *t, const nc_flow_ck_t *ck,
                           struct nc_stream_budget *budget);
void nc_flow_ck_free(nc_flow_ck_t *ck);

/* Finds or creates the flow of k (borrowed, valid until the next call) and
 * sets *dir to the frame's direction in it. Never fails. */
nc_flow_t *nc_flow_get(nc_flow_table_t *t, const nc_flow_key_t *k, int *dir);

/* The flow of k (borrowed, valid until the next nc_flow_get), or NULL
 * when the table has none: a lookup that creates nothing. */
nc_flow_t *nc_flow_find(nc_flow_table_t *t, const nc_flow_key_t *k);

/* The i-th flow of the table (0 <= i < nc_flow_table_count), in no
 * particular order; NULL past the last. */
nc_flow_t *nc_flow_at(nc_flow_table_t *t, size_t i);

/* Runs the TCP analysis of one segment going `dir` in f. */
void nc_flow_tcp(nc_flow_t *f, int dir, nc_tcp_seg_t *s);

#endif
