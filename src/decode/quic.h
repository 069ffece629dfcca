/*
 * quic.h: what the QUIC decoder (quic.c) shares with the flow table, the
 * HTTP/3 decoder (http3.c) and the unit tests (internal to src/decode).
 *
 * A QUIC connection's state is one heap object, struct nc_quic_conn, owned
 * by its UDP flow (flow.c frees it). It holds pointers (the HTTP/3 state
 * and nghttp3's QPACK decoder), so a checkpoint of the flow table is not
 * taken while a QUIC connection is open: the lazy timeline re-decodes such
 * a capture from an earlier checkpoint, as it does for HTTP/2.
 */
#ifndef NC_DECODE_QUIC_H
#define NC_DECODE_QUIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nc_quic_conn;
struct nc_dctx;

/* RFC 9000 A.3: the full packet number that a truncated one of pnlen
 * bytes stands for, given the largest one received so far in its number
 * space (-1: none yet). */
uint64_t nc_quic_pn_expand(int64_t largest, uint64_t truncated, size_t pnlen);

/* The HTTP/3 state slot of flow f's QUIC connection, which it creates
 * when needed (for nc_decoder_layer's "http3"). */
struct nc_flow;
struct nc_h3_conn **nc__quic_h3_slot(struct nc_flow *f);

/* Frees a connection's state (NULL is fine). */
void nc__quic_free(struct nc_quic_conn *c);

/* ---- HTTP/3 (http3.c), fed by quic.c with each connection's STREAM data ---- */

#define NC_H3_MSGS 32
#define NC_H3_NAMES 384 /* header names of one message, comma-separated */

/* One HTTP/3 frame, or a unidirectional stream's type, as emitted. */
typedef struct nc_h3_msg {
    uint64_t stream_id;
    int64_t frame_type;      /* -1: the message is a stream type */
    int64_t stream_type;     /* a unidirectional stream's type, or -1 */
    uint64_t frame_length;
    bool from_client;
    bool split;              /* its bytes began in an earlier STREAM frame */
    uint32_t header_block_len, header_list_size;
    uint16_t nheaders;
    bool qpack_failed;       /* the header block would not decode */
    char names[NC_H3_NAMES]; /* header names, comma-separated */
    char method[16], path[128], status[8];
    uint64_t settings[8][2];
    uint8_t nsettings;
    int64_t goaway_id;       /* GOAWAY's stream or push id, or -1 */
} nc_h3_msg_t;

typedef struct nc_h3_out {
    nc_h3_msg_t msgs[NC_H3_MSGS];
    uint32_t n, dropped;
} nc_h3_out_t;

struct nc_h3_conn;
/* The n bytes at p (borrowed) of stream sid at offset off, sent by the
 * client when from_client; fin: the stream ends with them. Frames they
 * complete go to out. *h3 is created on first use (owned by the QUIC
 * connection). */
void nc__http3_data(struct nc_h3_conn **h3, bool from_client, uint64_t sid, uint64_t off,
                    const uint8_t *p, size_t n, bool fin, nc_h3_out_t *out);
/* Writes out's frames as the "http3" layer (one object, or a list). */
void nc__http3_write(struct nc_dctx *x, const nc_h3_out_t *out);
void nc__http3_free(struct nc_h3_conn *h3);

#endif
