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
} nc_flow_dir_t;

typedef struct nc_flow {
    uint8_t key[38];
    uint32_t hash;
    int32_t next; /* chain in the bucket, -1 ends */
    bool used;
    nc_flow_dir_t dir[2];
    struct nc_stream *stream; /* owned: reassembly and stream decoders (stream.h) */
    bool stream_off;          /* no stream decoder reads this connection */
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

/* One TCP segment: the caller fills the inputs, nc_flow_tcp the outputs. */
typedef struct nc_tcp_seg {
    uint32_t seq, ack, win, len; /* raw; len = payload bytes */
    uint8_t flags;               /* NC_TCP_* */
    int wscale;                  /* window scale option, -1 when absent */
    uint32_t rel_seq, rel_ack;
    uint32_t rev_base;           /* the other side's base, for SACK blocks */
    uint64_t win_scaled;
    bool retransmission, dup_ack, zero_window, window_probe, keepalive;
    bool established;            /* this ACK completes the handshake */
} nc_tcp_seg_t;

/* Returns a new table that holds at most max_flows flows (0: a default). */
nc_flow_table_t *nc_flow_table_new(size_t max_flows);
void nc_flow_table_free(nc_flow_table_t *t);
/* Returns how many flows the table holds now. */
size_t nc_flow_table_count(const nc_flow_table_t *t);

/* Finds or creates the flow of k (borrowed, valid until the next call) and
 * sets *dir to the frame's direction in it. Never fails. */
nc_flow_t *nc_flow_get(nc_flow_table_t *t, const nc_flow_key_t *k, int *dir);

/* Runs the TCP analysis of one segment going `dir` in f. */
void nc_flow_tcp(nc_flow_t *f, int dir, nc_tcp_seg_t *s);

#endif
