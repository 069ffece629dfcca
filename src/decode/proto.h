/*
 * proto.h: what the protocol decoders share (internal to src/decode).
 *
 * Decoding one frame is a walk through layers. The walk's state is an
 * nc_dctx_t: the event being built, the frame, what the lower layers found
 * (addresses, the transport's ports and wire length) and what went wrong.
 * Each protocol file exports one const nc_proto_t descriptor {name, decode};
 * decode.c lists them in dispatch tables keyed by link type, EtherType, IP
 * protocol number and application match, so adding a protocol is adding a
 * file and a table line.
 *
 * A layer opens its object with nc_decode_open(), writes its fields, closes
 * it with nc_decode_close() and then hands the rest of the cursor to the next
 * layer through one of the nc_decode_* dispatchers. Layers are siblings in the
 * event, never nested. On a short or malformed layer it returns
 * nc_decode_fail(), which closes the open object and records the error text.
 */
#ifndef NC_DECODE_PROTO_H
#define NC_DECODE_PROTO_H

#include "cursor.h"
#include "decode.h"
#include "flow.h"
#include "stream.h"

#include <stdbool.h>
#include <stdint.h>

#define NC_ADDR_TEXT 64

typedef struct nc_dctx {
    nc_decoder_t *d;
    nc_evb_t *b;
    const uint8_t *frame;
    uint32_t caplen, wirelen;
    const char *proto;         /* highest layer decoded (static string) */
    int status;                /* 0 or the first NC_E* a layer returned */
    char err[160];             /* what broke, when status != 0 */
    char summary[256];         /* the highest layer's summary line */
    size_t sumlen;             /* its length, for the nc_decode_sum_* appenders */
    char src[NC_ADDR_TEXT];    /* sender's address text ("from") */
    char dst[NC_ADDR_TEXT];    /* receiver's address text ("to") */
    /* The layer object being written: its start and the _len token. */
    int layer_open;
    int layer_depth;           /* builder depth outside the layer object */
    const uint8_t *layer_start;
    uint32_t layer_len_idx;
    /* Network layer. */
    int ipver;                 /* 0, 4 or 6 */
    uint8_t saddr[16], daddr[16];
    uint8_t ttl;
    uint8_t ip_proto;          /* upper-layer protocol number */
    bool ip_done;              /* the IP header was decoded whole */
    bool later_fragment;       /* an IP fragment after the first */
    bool fragment;             /* any IP fragment: the transport is not whole */
    uint32_t l4_len;           /* transport bytes per the IP header */
    int depth;                 /* tunnels and tags, to bound recursion */
    /* Transport layer. */
    uint8_t l4;                /* 6 TCP, 17 UDP, 0 none */
    uint16_t sport, dport;
    uint32_t l7_len;           /* application bytes on the wire */
    nc_flow_t *flow;           /* the TCP flow (borrowed, this frame only), or NULL */
    int flow_dir;              /* the frame's direction in it */
    bool l4_retrans;           /* the TCP segment is a retransmission */
    /* What the checksum notes need, written as the private top-level
     * "_csum" object at the end of the walk (only when one is set, so that
     * the annotation skips the other packets at once): the first layer with
     * a bad checksum, the layer of the capture's first partial one, a zero
     * UDP checksum over IPv6. Layer names as a note says them ("TCP"). */
    const char *csum_bad, *csum_partial;
    bool csum_zero6;
} nc_dctx_t;

typedef int (*nc_layer_fn)(nc_dctx_t *x, nc_cursor_t *c);

/* One field a decoder writes: its path inside the layer object ("sport",
 * "options.mss") and its kind (NC_F_INT, NC_F_STR, ... of event.h). A list
 * of these ends with {NULL, 0}. Lesson matchers may only name declared
 * fields (nc_decode_field_kind). */
typedef struct nc_field_decl {
    const char *path;
    uint8_t kind;
} nc_field_decl_t;

typedef struct nc_proto {
    const char *name;      /* layer object key and "proto" value */
    nc_layer_fn decode;    /* reads from c; returns 0 or NC_E* */
    const nc_field_decl_t *fields; /* every field decode can write */
} nc_proto_t;

/* An application decoder also says whether a payload looks like it. */
typedef struct nc_app_proto {
    const nc_proto_t *proto;
    bool (*match)(const nc_dctx_t *x, const nc_cursor_t *c);
} nc_app_proto_t;

struct nc_decoder {
    nc_flow_table_t *flows;
    nc_stream_out_t *sout;         /* owned: what one packet's stream completes */
    nc_stream_budget_t ooo_budget; /* bytes all streams hold out of order */
    bool csum_partial_seen; /* the capture's first partial checksum was met */
    size_t finish_at;       /* nc_decoder_finish: the next flow to end */
    const nc_decryptor_t *dec; /* borrowed: opens TLS records, or NULL */
    void *dec_ctx;
    struct nc_host_name {
        char *addr, *name;
    } *names;
    size_t nnames, cap;
};

/* Starts the layer object `name` at c's position; sets x->proto. */
void nc_decode_open(nc_dctx_t *x, const char *name, const nc_cursor_t *c);
/* Ends the open layer object; its _len is up to c's position. */
void nc_decode_close(nc_dctx_t *x, const nc_cursor_t *c);
/* Records an error (first one wins), closes the open layer and returns code. */
int nc_decode_fail(nc_dctx_t *x, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Replaces the summary line. */
void nc_decode_summary(nc_dctx_t *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Fast summary building without printf (the hot path of a replay): reset,
 * then append strings and unsigned numbers. */
void nc_decode_sum_reset(nc_dctx_t *x);
void nc_decode_sum_str(nc_dctx_t *x, const char *s);
void nc_decode_sum_uint(nc_dctx_t *x, uint64_t v);

/* Dispatchers: hand the rest of c to the layer the key names. Unknown keys
 * leave a summary ("EtherType 0x88cc") and return 0. */
int nc_decode_ethertype(nc_dctx_t *x, uint16_t type, nc_cursor_t *c);
int nc_decode_ipproto(nc_dctx_t *x, uint8_t proto, nc_cursor_t *c);
int nc_decode_app(nc_dctx_t *x, nc_cursor_t *c);

/* The flow of the frame being decoded: its addresses and x->sport/dport,
 * for transport l4 (borrowed, valid until the next flow lookup); *dir is the
 * frame's direction in it. */
nc_flow_t *nc_decode_flow(nc_dctx_t *x, uint8_t l4, int *dir);
/* The same flow if the table already has it, or NULL (creates nothing). */
nc_flow_t *nc_decode_flow_find(const nc_dctx_t *x, uint8_t l4);

/* The i-th decoder of the registry (every protocol file's descriptor), or
 * NULL past the last: how fields.c finds every declared field. */
const nc_proto_t *nc__decode_proto(size_t i);
/* The Internet checksum (csum.c): adds the bytes of c (not moved) to a
 * running ones' complement sum, and folds a sum to 16 bits. */
uint32_t nc_csum_add(nc_cursor_t c, uint32_t acc);
uint16_t nc_csum_fold(uint32_t acc);
/* Writes "checksum" (stored) and "checksum_status" (good, bad, partial or
 * unverified; see csum.c) into the open layer for a transport segment of len
 * bytes starting at seg's position, with the pseudo-header when pseudo. */
void nc_csum_write_l4(nc_dctx_t *x, nc_cursor_t seg, uint32_t len, uint16_t stored,
                      bool pseudo);
/* Writes "checksum_status" (status: a static string) into the open layer
 * and remembers what the notes need (the dctx's csum_* members). */
void nc_csum_status(nc_dctx_t *x, const char *status);

/* Text forms written into out (at least NC_ADDR_TEXT bytes). */
void nc_decode_mac_text(const uint8_t *mac, char *out);
void nc_decode_ip_text(int ver, const uint8_t *addr, char *out);
/* "0x0800" into out (at least 7 bytes). */
void nc_decode_hex16(uint16_t v, char *out);

extern const nc_proto_t nc_eth_proto, nc_sll_proto, nc_sll2_proto, nc_raw_proto,
    nc_null_proto, nc_ipv4_proto, nc_ipv6_proto, nc_arp_proto, nc_icmp_proto,
    nc_icmpv6_proto, nc_udp_proto, nc_tcp_proto, nc_dns_proto, nc_http1_proto;
extern const nc_proto_t nc_websocket_proto, nc_sse_proto, nc_tls_proto;
extern const nc_proto_t nc_http2_proto, nc_grpc_proto, nc_protobuf_proto;
extern const nc_app_proto_t nc_dns_app;
extern const nc_proto_t nc_stun_proto;
extern const nc_app_proto_t nc_stun_app;
extern const nc_proto_t nc_quic_proto, nc_http3_proto;
extern const nc_app_proto_t nc_quic_app;

#endif
