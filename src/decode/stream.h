/*
 * stream.h: TCP reassembly and the stream-decoder interface (internal to
 * src/decode, exposed for the unit tests and fuzz harnesses).
 *
 * The stream-decoder interface
 * ----------------------------
 * A stream decoder (http1.c, websocket.c, sse.c) never sees packets. It sees
 * the bytes of one direction of a TCP connection, in order, exactly once,
 * through three calls of its const nc_stream_proto_t descriptor:
 *
 *   data(sc, p, n)   the next n bytes of the direction (p is borrowed for the
 *                    call only); returns how many it consumed. Less than n
 *                    means "the rest belongs to another decoder": the caller
 *                    hands it to whatever sc->dir->app now names (an HTTP
 *                    Upgrade switches both directions to WebSocket).
 *   gap(sc, n)       n bytes at this point were never captured.
 *   end(sc)          the direction ended (FIN, RST, or nc_stream_finish).
 *
 * Which decoder reads a direction is chosen by its first bytes (HTTP/1 when
 * they start a request or a response); a direction the capture met in the
 * middle of a connection waits up to NC_STREAM_PROBES segments for one that
 * starts a message.
 *
 * Each decoder keeps its state in a plain struct inside nc_stream_dir_t (or
 * in nc_stream_state_t when both directions share it, as HTTP's queue of
 * request methods does). Those structs hold no pointers at all: text a
 * message needs later (a method, a target) is copied, bounded, into them, and
 * sequence numbers are relative (the raw bases live once, in the flow table,
 * and come with every segment). So nc_stream_state_t is a checkpoint: copy it
 * (nc_stream_save) at any packet where nothing is held out of order, and
 * decoding resumed from the copy (nc_stream_restore), beside the flow's
 * nc_flow_dir_t pair, emits exactly what the original emits from there on.
 *
 * A decoder reports a finished message with nc_stream_emit(): the message is
 * attached to the packet whose bytes completed it, and carries the byte range
 * it spans (relative sequence numbers of its first byte and one past its last,
 * as the tcp layer shows them) and how many segments it took.
 *
 * Reassembly
 * ----------
 * Each direction remembers the next sequence number it expects. A segment at
 * that number is delivered at once, then whatever it makes contiguous from
 * the out-of-order store. Bytes already delivered (an overlapping
 * retransmission) are trimmed off. A segment beyond a hole is copied into the
 * direction's out-of-order store, bounded by NC_STREAM_OOO_BYTES and
 * NC_STREAM_OOO_SEGS, and all of a decoder's stores together by its budget
 * (NC_STREAM_BUDGET_DEFAULT). A hole becomes a gap, delivered to the decoder and
 * written into the packet as reassembly.gap_start/gap_end, when the peer has
 * acknowledged bytes past it (they were sent but the capture never saw them;
 * also past everything seen, with nothing held), when the store is full, or
 * when the direction ends; the bytes a snapshot length cut off a segment are
 * a gap at once. Gaps are never papered over: the decoder knows exactly how
 * many bytes are missing.
 */
#ifndef NC_DECODE_STREAM_H
#define NC_DECODE_STREAM_H

#include "../core/event.h"
#include "decryptor.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NC_STREAM_OOO_BYTES (256u * 1024u)
#define NC_STREAM_OOO_SEGS 64
/* Messages (TLS records, HTTP/2 frames, ...) listed in one packet's event.
 * A 1500-byte segment of small requests holds about 60; a 64 KiB one of empty
 * frames thousands, and those beyond the bound are only counted
 * ("unlisted_msgs"), so one packet's event stays bounded. */
#define NC_STREAM_MAX_MSGS 128
#define NC_STREAM_PROBES 16   /* segments a mid-connection start may wait for a message */

/* Which decoder reads a direction. */
typedef enum {
    NC_SAPP_UNKNOWN = 0, /* no payload seen yet */
    NC_SAPP_OPAQUE,      /* not a protocol a stream decoder knows */
    NC_SAPP_HTTP,
    NC_SAPP_WEBSOCKET,
    NC_SAPP_TUNNEL,      /* after CONNECT or a non-WebSocket Upgrade */
    NC_SAPP_SSE,         /* only where a test or fuzzer feeds SSE directly */
    NC_SAPP_TLS,         /* TLS records (tls.c); the plaintext goes to the inner app */
    NC_SAPP_HTTP2,       /* the preface, a 101 to "Upgrade: h2c", or TLS's ALPN "h2" */
} nc_sapp_t;

/* ---- the decoders' plain state (no pointers) ---- */

#define NC_HTTP_TEXT 256
#define NC_HTTP_CHUNKS 16
#define NC_HTTP_PENDING 16

typedef struct nc_http_dir {
    uint8_t state;            /* http1.c's parser state */
    bool cr;                  /* the line's last byte so far is a CR */
    uint16_t linelen;         /* bytes of the current line kept in line[] */
    uint32_t linetotal;       /* bytes of the current line seen (kept or not) */
    char line[NC_HTTP_TEXT];  /* the current start, header or chunk-size line */
    /* The message being read. */
    bool request;
    char method[24], target[NC_HTTP_TEXT], version[16], reason[64];
    char content_type[64], last_event_id[64];
    char ws_key[32], ws_accept[32]; /* Sec-WebSocket-Key and -Accept */
    char request_method[16];  /* a response's: the method of the request it answers */
    int status;
    uint32_t headers;
    int64_t content_length;   /* -1 when absent */
    bool chunked, upgrade_ws, upgrade_other, ws_deflate, truncated;
    bool upgrade_h2c;         /* "Upgrade: h2c" (a request's, or the 101's) */
    uint64_t remaining;       /* body or chunk bytes still to come */
    uint64_t body_len;        /* body bytes seen (dechunked) */
    uint64_t gap_bytes;       /* of those, never captured */
    uint32_t nchunks;
    uint32_t chunk_sizes[NC_HTTP_CHUNKS];
    uint32_t start_seq;       /* relative seq of the message's first byte */
    uint32_t segments;        /* segments that carried its bytes */
    bool sse;                 /* the body is a text/event-stream */
    uint8_t sent;             /* requests and/or responses seen so far (http1.c) */
    uint8_t switch_to;        /* nc_sapp_t to switch to once this request ends */
    bool switch_deflate;
} nc_http_dir_t;

/* What both directions of an HTTP connection share: the requests waiting
 * for their responses, oldest first (a response to HEAD has no body, a 101
 * to an Upgrade: websocket request switches the connection). */
typedef struct nc_http_pending {
    char method[16];          /* cut to 15 bytes */
    bool upgrade_ws, ws_deflate, upgrade_h2c;
} nc_http_pending_t;

typedef struct nc_http_flow {
    nc_http_pending_t q[NC_HTTP_PENDING];
    uint8_t qhead, qlen;
} nc_http_flow_t;

typedef struct nc_ws_dir {
    uint8_t state;            /* websocket.c's parser state */
    uint8_t hdr[14], hlen, need;
    uint64_t remaining, plen;
    uint8_t key[4], kpos;
    bool fin, mask;           /* the frame header's fields */
    uint8_t rsv, opcode, len7;
    bool deflate;             /* permessage-deflate was negotiated */
    bool in_fragmented;       /* a message started without FIN */
    uint8_t frag_opcode;
    uint32_t frag_count;
    uint16_t textlen;
    char text[128];           /* the payload's first bytes, unmasked */
    uint32_t start_seq, segments;
    uint64_t gap_bytes;
} nc_ws_dir_t;

typedef struct nc_sse_dir {
    bool in_event, after_cr;
    uint16_t linelen;
    char line[256];
    char id[64], event[64], data[256];
    uint32_t datalen, data_lines;
    int64_t retry;
    bool has_id, has_event, has_retry, any;
    uint32_t start_seq, segments;
} nc_sse_dir_t;

/* TLS (tls.c). What one direction's record parser holds, beside the
 * record body and handshake bytes in the stream's byte stores. */
typedef struct nc_tls_dir {
    uint8_t state;            /* tls.c's parser state */
    uint8_t hdr[5], hlen;     /* the record header being collected */
    uint16_t remaining;       /* record body bytes still to come */
    uint32_t start_seq, segments;
    uint32_t gap_bytes;       /* of the current record, never captured */
    bool client;              /* this direction sent the ClientHello */
    bool protect;             /* its records are encrypted from here on */
    uint8_t epoch;            /* decryptor.h's epochs */
    bool keys_tried;          /* asked the decryptor for this epoch's keys */
    uint64_t recseq;          /* the record's sequence number under the keys */
    bool seq_unsure;          /* records were lost whole: recseq may lag */
    nc_tls_keys_t keys;
    uint8_t inner;            /* nc_sapp_t reading the plaintext (0: not chosen) */
    uint32_t hs_skip;         /* bytes left of a handshake message too long to keep */
    uint8_t hs_in_record;     /* handshake messages emitted from the current record */
} nc_tls_dir_t;

/* What both directions of a TLS connection share: the handshake so far. */
typedef struct nc_tls_flow {
    uint8_t client_random[NC_TLS_RANDOM], server_random[NC_TLS_RANDOM];
    bool have_client_random, have_server_random;
    uint16_t version;         /* negotiated (0 until the ServerHello) */
    uint16_t suite;
    bool hrr;                 /* the server asked for another ClientHello */
    bool done;                /* both Finished messages were seen */
    uint8_t flights;          /* handshake flights so far: a new one at each turn */
    uint8_t last_client;      /* the sender of the last handshake message: 1 client, 2 server */
    uint8_t server_flights;   /* flights the server sent: the round trips they cost */
    uint8_t finished;         /* bit 0: client Finished, bit 1: server Finished */
    char alpn[32];            /* the protocol the server chose */
} nc_tls_flow_t;

#define NC_TLS_TEXT 96
#define NC_TLS_LIST 8

/* One TLS message as emitted: a record, or one handshake message of it. */
typedef struct nc_tls_msg {
    uint8_t content_type;     /* the record's (the inner type once decrypted) */
    uint8_t opaque_type;      /* a TLS 1.3 protected record's outer type, or 0 */
    uint16_t rversion, rlength;
    bool encrypted, decrypted, same_record;
    uint32_t plain_len;       /* plaintext bytes under a decrypted record */
    char plain[NC_TLS_TEXT];  /* application data's first plaintext bytes, printable */
    uint8_t epoch;
    bool has_hs;
    uint8_t hs_type;
    uint32_t hs_length;
    bool hs_cut;              /* longer than kept: only its header was read */
    uint16_t hs_version, suite;
    uint16_t nsuites;
    bool hrr;
    char sni[NC_TLS_TEXT];
    char alpn[NC_TLS_TEXT];   /* protocols, comma-separated */
    uint16_t versions[NC_TLS_LIST], groups[NC_TLS_LIST];
    uint8_t nversions, ngroups;
    bool psk, early_data;
    uint8_t chain_len;
    char subject[NC_TLS_TEXT], issuer[NC_TLS_TEXT];
    char not_before[24], not_after[24];
    uint32_t ticket_lifetime;
    uint8_t key_update_request;
    uint16_t sig_scheme;
    uint8_t alert_level, alert_desc;
    uint8_t flight, round_trip, round_trips; /* round_trips: on the message ending the handshake */
    bool from_client;
} nc_tls_msg_t;

typedef struct nc_stream_dir {
    bool started, ended, fin_seen, acked_set;
    bool midstream;           /* the capture began after the connection did */
    uint8_t probes;           /* segments looked at before choosing a decoder */
    /* Sequence numbers here are relative, as the tcp layer shows them: the
     * raw base they are relative to lives once, in the flow table. */
    uint32_t acked;           /* the highest ACK the peer sent for it */
    uint32_t next;            /* the next byte to deliver */
    uint32_t fin_seq;         /* just past the last byte, once FIN was seen */
    uint8_t app;              /* nc_sapp_t */
    nc_http_dir_t http;
    nc_ws_dir_t ws;
    nc_sse_dir_t sse;
    nc_tls_dir_t tls;
} nc_stream_dir_t;

/* A flow's whole decoder state, and a checkpoint of it: plain data. */
typedef struct nc_stream_state {
    nc_stream_dir_t dir[2];
    nc_http_flow_t http;
    nc_tls_flow_t tls;
} nc_stream_state_t;

/* ---- HTTP/2, gRPC and protobuf messages (http2.c, grpc.c, protobuf.c) ----
 *
 * HTTP/2's connection state (streams, windows, the two HPACK inflaters) is
 * not plain data: it lives in a heap object the stream owns (struct
 * nc_h2_conn, http2.c), reached through nc_stream_ctx_t.h2. These are only
 * the messages one frame or one gRPC message leaves in a packet. */

#define NC_H2_HDRS 24         /* header fields kept per header block */
#define NC_H2_HTEXT 1024      /* bytes of their names and values kept */
#define NC_H2_SETTINGS 12     /* settings kept per SETTINGS frame */

typedef struct nc_h2_frame {
    bool magic;               /* the client connection preface, not a frame */
    uint32_t length;          /* the header's fields */
    uint8_t type, flags;
    bool r;
    uint32_t streamid;
    uint8_t pad_length;       /* PADDED frames */
    bool has_prio, exclusive; /* HEADERS with PRIORITY, and PRIORITY */
    uint32_t stream_dependency;
    uint8_t weight;
    uint32_t promised;        /* PUSH_PROMISE */
    uint32_t error;           /* RST_STREAM, GOAWAY */
    uint32_t last_stream_id;  /* GOAWAY */
    uint32_t increment;       /* WINDOW_UPDATE */
    uint8_t ping[8];
    uint8_t nsettings;
    uint16_t settings_id[NC_H2_SETTINGS];
    uint32_t settings_value[NC_H2_SETTINGS];
    uint32_t data_len;        /* DATA: payload bytes without padding */
    /* A header block that ended (END_HEADERS) with this frame. */
    bool has_block, hpack_error;
    uint16_t nhdr, hdr_more;  /* fields kept, fields not kept */
    uint16_t name_off[NC_H2_HDRS], name_len[NC_H2_HDRS];
    uint16_t value_off[NC_H2_HDRS], value_len[NC_H2_HDRS];
    uint32_t block_len;       /* the block's HPACK bytes over all its frames */
    uint32_t list_size;       /* its decoded size: name + value + 32 per field */
    uint32_t block_frames;    /* HEADERS/PUSH_PROMISE plus CONTINUATIONs */
    /* What the frame did to its stream and to the windows (http2.c). */
    uint8_t state;            /* the stream's state after it, sender's view */
    bool windowed;            /* DATA and WINDOW_UPDATE: the windows below */
    int64_t conn_window, stream_window; /* the DATA sender's windows after it */
    bool conn_exhausted, stream_exhausted; /* this DATA brought one to 0 or below */
    bool conn_reopened, stream_reopened;   /* this WINDOW_UPDATE opened a closed one */
    bool resumed;             /* DATA: the first since a used-up window reopened */
    bool malformed;           /* lengths that do not add up */
    uint64_t gap_bytes;
    char htext[NC_H2_HTEXT];  /* last: a frame is cleared up to here */
} nc_h2_frame_t;

#define NC_GRPC_KEEP 256      /* message bytes kept for the protobuf walk */

typedef struct nc_grpc_msg {
    bool trailers;            /* grpc-status trailers, not a message */
    uint8_t compressed_flag;
    uint32_t message_length;
    uint32_t streamid, index; /* its stream, and its place on it (from 1) */
    bool request;             /* sent by the stream's initiator */
    char path[96];            /* the stream's :path (the method) */
    int64_t status;           /* trailers: grpc-status, -1 when absent */
    char message[128];        /* trailers: grpc-message */
    uint16_t keeplen;
    uint8_t keep[NC_GRPC_KEEP];
    uint64_t gap_bytes;
} nc_grpc_msg_t;

#define NC_PB_FIELDS 16

typedef struct nc_pb_field {
    uint8_t depth, wiretype;
    uint32_t number;
    uint8_t kind;             /* protobuf.c's value kinds */
    uint64_t value;           /* varint, fixed32/64; the length for LEN */
    char text[28];            /* a string's first bytes */
    char name[24];            /* from the .proto, when the message is known */
} nc_pb_field_t;

typedef struct nc_pb_msg {
    uint32_t streamid, index; /* the gRPC message it reads */
    uint32_t length;          /* bytes walked */
    bool truncated;           /* fewer bytes were kept than the message has */
    bool malformed;           /* the walk stopped on bytes that are no message */
    uint16_t nfields, more;   /* fields kept, fields past NC_PB_FIELDS */
    char message_name[64];    /* its type from the .proto ("netcourse.demo.Note") */
    nc_pb_field_t f[NC_PB_FIELDS];
} nc_pb_msg_t;

/* A gRPC stream direction's message parser (grpc.c), kept per stream in
 * HTTP/2's state: the 5-byte prefix being collected, then the message's
 * bytes still to come. */
typedef struct nc_grpc_dir {
    uint8_t hdr[5], hlen;
    bool in_msg, lost;
    uint32_t remaining, start_seq, count;
    nc_grpc_msg_t m;          /* the message being read */
} nc_grpc_dir_t;

/* Walks n bytes of a protobuf message into m (protobuf.c): with its type
 * from a compiled .proto (protobuf-c's descriptor) when desc is not NULL,
 * without a schema otherwise. */
struct ProtobufCMessageDescriptor;
void nc__protobuf_walk(const uint8_t *p, size_t n, const struct ProtobufCMessageDescriptor *desc,
                       nc_pb_msg_t *m);
/* The request (or response) message type of the gRPC method at path
 * ("/netcourse.demo.Echo/Say"), from the course's .proto files; NULL when
 * none declares it (protos.c). */
const struct ProtobufCMessageDescriptor *nc__protos_find(const char *path, bool request);

/* ---- messages ---- */

typedef struct nc_stream_msg {
    const struct nc_stream_proto *proto;
    uint32_t seq_start, seq_end, segments;
    uint8_t dir;              /* the direction that sent it */
    bool incomplete;          /* the direction ended before the message did */
    bool decrypted;           /* read from a decrypted TLS record */
    union {
        nc_http_dir_t http;   /* a copy of the parser's message fields */
        nc_ws_dir_t ws;
        nc_sse_dir_t sse;
        nc_h2_frame_t h2;
        nc_grpc_msg_t grpc;
        nc_pb_msg_t pb;
        nc_tls_msg_t tls;
    } u;
} nc_stream_msg_t;

/* The messages and gaps one packet completes (owned by the decoder). */
typedef struct nc_stream_out {
    nc_stream_msg_t msgs[NC_STREAM_MAX_MSGS];
    uint32_t nmsgs, dropped;  /* dropped: beyond NC_STREAM_MAX_MSGS */
    uint32_t gap_start, gap_end, ngaps;
    bool gap_reverse;         /* the first gap is in the other direction */
    /* The packet's own payload: its relative seq, length and offset in the
     * frame (for each layer's _off/_len). */
    uint32_t pkt_rel, pkt_len, pkt_off;
    uint8_t pkt_dir;
} nc_stream_out_t;

/* A byte store a decoder may keep beside its plain state (a TLS record to
 * decrypt, a handshake message spread over records). Owned by the stream;
 * nc_stream_save refuses while one holds bytes. */
typedef struct nc_stream_hold {
    uint8_t *buf;             /* owned by the stream */
    uint32_t len, cap;
} nc_stream_hold_t;

#define NC_STREAM_HOLDS 2

/* Appends n bytes (p borrowed) to h. */
void nc_stream_hold_add(nc_stream_hold_t *h, const uint8_t *p, size_t n);
/* Empties h and gives its memory back (a direction that ended). */
void nc_stream_hold_free(nc_stream_hold_t *h);

/* What a decoder call sees. */
typedef struct nc_stream_ctx {
    nc_stream_state_t *st;
    nc_stream_dir_t *dir, *peer;
    int d;                    /* 0 or 1: which direction */
    uint32_t rel;             /* relative seq of the first byte of this call */
    bool seg_start;           /* this call starts a new segment's bytes */
    nc_stream_out_t *out;
    struct nc_h2_conn **h2;   /* the stream's HTTP/2 state slot (owned by the stream) */
    nc_stream_hold_t *hold;   /* the direction's NC_STREAM_HOLDS byte stores */
    const nc_decryptor_t *dec; /* borrowed, or NULL: no decryption */
    void *dec_ctx;
} nc_stream_ctx_t;

typedef struct nc_stream_proto {
    const char *name; /* the layer's key in the event */
    const struct nc_field_decl *fields; /* what write() can write */
    size_t (*data)(nc_stream_ctx_t *sc, const uint8_t *p, size_t n);
    void (*gap)(nc_stream_ctx_t *sc, uint32_t n);
    void (*end)(nc_stream_ctx_t *sc);
    /* Writes one message's fields into the open layer object. */
    void (*write)(nc_evb_t *b, const nc_stream_msg_t *m);
    /* Appends the message's summary (at most n bytes, NUL-terminated). */
    void (*summary)(const nc_stream_msg_t *m, char *s, size_t n);
} nc_stream_proto_t;

extern const nc_stream_proto_t nc_http1_stream, nc_websocket_stream, nc_sse_stream,
    nc_tls_stream;

/* The stream decoder of an nc_sapp_t, or NULL. */
const nc_stream_proto_t *nc__stream_app_proto(uint8_t app);

/* TLS record test used to pick the decoder of a new stream: true when p
 * starts like a TLS record (a content type, then version 3.x). */
bool nc__tls_looks_like(const uint8_t *p, size_t n);
extern const nc_stream_proto_t nc_http2_stream, nc_grpc_stream, nc_protobuf_stream;

/* HTTP/2 (http2.c). A direction switched to NC_SAPP_HTTP2 is read by
 * nc_http2_stream.data like any other: tls.c hands it the plaintext as its
 * inner decoder when ALPN chose "h2", and nc_stream_plain feeds plaintext
 * recovered elsewhere. The client's side begins with the connection
 * preface; the server's with its SETTINGS. */
/* True when p starts like the client preface or a server's first SETTINGS. */
bool nc__http2_looks_like(const uint8_t *p, size_t n, bool *client);
/* After a 101 to "Upgrade: h2c": dir `client` sent the upgrade request,
 * which became stream 1 (RFC 7540 3.2). */
void nc__http2_upgraded(nc_stream_ctx_t *sc, int client);
/* Frees an HTTP/2 connection state (NULL is fine). */
void nc__http2_free(struct nc_h2_conn *c);
/* Feeds a DATA frame's payload bytes of a gRPC stream (grpc.c); called by
 * http2.c with the stream's gRPC parser state. */
struct nc_grpc_dir;
void nc__grpc_data(nc_stream_ctx_t *sc, struct nc_grpc_dir *g, const uint8_t *p, size_t n,
                   uint32_t rel);
void nc__grpc_gap(struct nc_grpc_dir *g, uint32_t n);
/* Emits the trailers message of a gRPC stream (grpc.c). */
void nc__grpc_trailers(nc_stream_ctx_t *sc, const nc_grpc_msg_t *t, uint32_t end);

/* Adds m to the packet being decoded; sets its byte range from seq_start to
 * `end` (relative seq one past its last byte). */
void nc_stream_emit(nc_stream_ctx_t *sc, const nc_stream_msg_t *m, uint32_t end);

/* The SSE decoder is fed by HTTP (the dechunked body of a text/event-stream
 * response), not by the reassembler: these are its entry points. */
void nc__sse_data(nc_stream_ctx_t *sc, const uint8_t *p, size_t n, uint32_t rel);
void nc__sse_end(nc_stream_ctx_t *sc);

/* HTTP/1 start-line test used to pick the decoder of a new stream: true when
 * p starts like a request ("GET ") or a response ("HTTP/1."). */
bool nc__http1_looks_like(const uint8_t *p, size_t n);

/* Starts reading HTTP on a direction met in the middle of a message: the
 * decoder waits for a segment that starts one. */
void nc__http1_join(nc_stream_dir_t *dir);

/* ---- the reassembler ---- */

typedef struct nc_stream nc_stream_t;

/* One TCP segment as the reassembler needs it. */
typedef struct nc_stream_seg {
    int dir;                  /* 0 or 1 */
    uint32_t seq, len;        /* raw seq; payload bytes */
    bool syn, fin, rst;
    uint32_t base, peer_base; /* each direction's relative 0, from the flow */
    bool from_syn;            /* the SYN was seen: the stream starts at 1 */
    bool ack;                 /* the ACK flag, and the raw ACK number: */
    uint32_t ack_seq;         /* it acknowledges the other direction's bytes */
    const uint8_t *payload;   /* borrowed: len bytes, of which caplen captured */
    uint32_t caplen;
} nc_stream_seg_t;

/* Returns a new, empty stream (the caller frees it with nc_stream_free). */
nc_stream_t *nc_stream_new(void);
void nc_stream_free(nc_stream_t *s);

/* What all the streams of one decoder may hold out of order together, so
 * that a capture with thousands of holes costs a bounded amount. */
typedef struct nc_stream_budget {
    uint64_t used, max;
} nc_stream_budget_t;

#define NC_STREAM_BUDGET_DEFAULT (64u * 1024u * 1024u)

/* Makes s count its out-of-order bytes against b (borrowed: it must outlive
 * s). Without a budget, only the per-stream bounds apply. */
void nc_stream_set_budget(nc_stream_t *s, nc_stream_budget_t *b);

/* Feeds one segment; what it completes is appended to out (which the caller
 * cleared). Returns true when a stream decoder reads this direction (so the
 * per-packet application decoders must not). */
bool nc_stream_segment(nc_stream_t *s, const nc_stream_seg_t *g, nc_stream_out_t *out);

/* Ends both directions (the capture ended): flushes held bytes as gaps. */
void nc_stream_finish(nc_stream_t *s, nc_stream_out_t *out);

/* Feeds n bytes of direction d that follow, in order, whatever was fed
 * before: the plaintext a TLS decryptor recovered, say, in a stream of its
 * own (set both directions' app to NC_SAPP_HTTP2 first when ALPN chose
 * "h2"; otherwise the first bytes choose, as for TCP). Message ranges are
 * then offsets in that plaintext, from 1. What the bytes complete is
 * appended to out. */
void nc_stream_plain(nc_stream_t *s, int d, const uint8_t *p, size_t n, nc_stream_out_t *out);
/* Makes s decrypt TLS through dec (borrowed, with its ctx; NULL: never). */
void nc_stream_set_decryptor(nc_stream_t *s, const nc_decryptor_t *dec, void *ctx);

/* Forces direction d to be read by app from its next byte (tests, fuzzing). */
void nc_stream_set_app(nc_stream_t *s, int d, nc_sapp_t app);

/* Copies the decoder state into ck; false (ck untouched) while bytes are
 * held out of order, where a checkpoint could not stand alone. */
bool nc_stream_save(const nc_stream_t *s, nc_stream_state_t *ck);
/* Replaces s's state with a checkpoint (its out-of-order store is emptied). */
void nc_stream_restore(nc_stream_t *s, const nc_stream_state_t *ck);

/* Writes out's messages and gaps into the packet event: one layer object per
 * decoder, or a list of objects when a packet completes several messages of
 * one decoder; sets x->proto and the summary. Defined in decode.c's terms,
 * so it takes the walk's context. */
struct nc_dctx;
void nc__stream_write(struct nc_dctx *x, const nc_stream_out_t *out);

/* nc_decoder_layer() for a stream decoder: c's bytes as one segment from the
 * made-up client, read by app from the stream's first byte. */
struct nc_cursor;
int nc__stream_layer(struct nc_dctx *x, struct nc_cursor *c, nc_sapp_t app);

/* tcp.c's hand-over: feeds the segment s of flow f going dir, whose payload
 * is c (borrowed), and writes what it completes. Returns true when a stream
 * decoder reads this direction. */
struct nc_flow;
struct nc_tcp_seg;
bool nc__stream_tcp(struct nc_dctx *x, struct nc_flow *f, int dir, const struct nc_tcp_seg *s,
                    const struct nc_cursor *c);

#endif
