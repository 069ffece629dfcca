/*
 * rules.h: the annotation rule tables (internal to src/annotate).
 *
 * A rule is {name, match, write}: match looks at the event through the
 * nc_event_* lookups, write appends sentences with nc_evb_note(). Each
 * rules_*.c file exports rule sets; a set names the layer object it reads
 * ("tcp", "dns" ...) and is skipped at once for events without that layer.
 * Its rules see the event narrowed to that object (paths still start with
 * the layer: "tcp.flags"), which keeps every lookup short: annotation runs
 * on every packet of a million-packet replay. annotate.c runs every set in
 * order and, within a set, every rule that matches (the predicates of one
 * set are written to be exclusive where two notes would say the same thing).
 */
#ifndef NC_ANNOTATE_RULES_H
#define NC_ANNOTATE_RULES_H

#include "../core/event.h"

#include <stddef.h>

/* The TCP fields the TCP rules test, read in one walk (rules_tcp.c). */
typedef struct nc_tcp_facts {
    unsigned flags; /* NC_ANNOT_SYN ... */
    int64_t seq, ack, len, win, mss, wscale;
    int64_t dup_ack_num, dup_acks_before, asked, gap_ns; /* gap_ns -1: unknown */
    bool retransmission, dup_ack, zero_window, window_probe, keepalive, established;
    bool sack_perm, peer_fin, peer_syn, with_new, acks_fin, peer_established;
    const char *recovery;   /* "sack", "rto" ... or NULL (decode/tcp.c) */
    const char *sack_first; /* the first SACK block ("2001-3001") or NULL */
    int64_t nsack;          /* SACK blocks in the options */
} nc_tcp_facts_t;

/* What a rule sees: computed once per event. */
typedef struct nc_annot {
    nc_evb_t *b;             /* the builder, for nc_evb_note */
    const nc_event_t *ev;    /* the event narrowed to the set's layer */
    const nc_event_t *full;  /* the whole event */
    const char *proto;       /* top-level "proto" ("" when absent) */
    const char *from, *to;   /* "the client", or the address as it is */
    const char *From, *To;   /* the same for the start of a sentence ("The client") */
    nc_tcp_facts_t tcp;      /* filled by the TCP set's prepare */
} nc_annot_t;

typedef struct nc_rule {
    const char *name;
    bool (*match)(const nc_annot_t *a);
    void (*write)(const nc_annot_t *a);
} nc_rule_t;

typedef struct nc_rule_set {
    const char *layer; /* top-level key the set needs, NULL for the whole event */
    const nc_rule_t *rules;
    size_t count;
    void (*prepare)(nc_annot_t *a); /* optional: runs before the set's rules */
} nc_rule_set_t;

extern const nc_rule_set_t nc_rules_error, nc_rules_arp, nc_rules_icmp, nc_rules_icmpv6,
    nc_rules_ip, nc_rules_tcp, nc_rules_udp, nc_rules_dns, nc_rules_http, nc_rules_csum,
    nc_rules_tls;
extern const nc_rule_set_t nc_rules_websocket, nc_rules_sse, nc_rules_stun;
extern const nc_rule_set_t nc_rules_http2, nc_rules_grpc;
extern const nc_rule_set_t nc_rules_quic, nc_rules_http3;

/* Integer field or def. */
int64_t nc_annotate_int(const nc_event_t *ev, const char *path, int64_t def);

#endif
