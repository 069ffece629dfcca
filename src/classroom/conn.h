/*
 * conn.h: one class connection: a libuv TCP stream, TLS through memory
 * BIOs, frames in, frames out, and a count of what is still queued.
 *
 * OpenSSL never touches the socket: bytes libuv reads are written into the
 * SSL's input BIO, and what TLS produces is read from its output BIO and
 * handed to uv_write, so no SSL call ever blocks the loop. The same code
 * serves the instructor (server side) and students (client side).
 *
 * Output is bounded by the owner: nc_conn_backlog() says how many bytes
 * are waiting (written to TLS but not yet taken by the kernel), and the
 * owner stops sending, or closes, past its limit. Closing is deferred:
 * nc_conn_close() flushes what is queued (with a deadline), closes the
 * handle, and only in libuv's close callback calls on_close and frees the
 * connection, never inside one of its own callbacks.
 */
#ifndef NC_CONN_H
#define NC_CONN_H

#include "proto.h"

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

/* A token bucket: up to burst tokens, one more every refill_ms; kept as
 * milliseconds of refill so the arithmetic is integer. Zeroed is full. */
typedef struct nc_rate {
    int64_t tokens_ms;
    int64_t at_ms; /* 0: never used */
} nc_rate_t;

/* Refills r to now_ms, then takes one token when there is one (and
 * consume). Returns whether there was one. */
bool nc_rate_take(nc_rate_t *r, int64_t now_ms, int burst, int refill_ms, bool consume);

/* TLS key updates a peer may send: a burst of this many, then one every
 * NC_CONN_KEYUPDATE_REFILL_MS; past that the connection is closed. */
#define NC_CONN_KEYUPDATE_BURST 8
#define NC_CONN_KEYUPDATE_REFILL_MS 10000

typedef struct nc_conn nc_conn_t;

typedef struct nc_conn_cb {
    /* The TLS handshake finished. */
    void (*on_open)(nc_conn_t *c);
    /* A frame arrived; a non-zero return closes the connection. */
    int (*on_frame)(nc_conn_t *c, int type, const uint8_t *body, uint32_t len);
    /* The backlog fell to zero (all output taken by the kernel). */
    void (*on_drain)(nc_conn_t *c);
    /* The connection is gone; reason says why. c is freed right after. */
    void (*on_close)(nc_conn_t *c, const char *reason);
} nc_conn_cb_t;

struct nc_conn {
    uv_tcp_t tcp;
    void *data; /* the owner's */
    const nc_conn_cb_t *cb;
    SSL *ssl;
    BIO *in, *out;
    nc_frame_reader_t rd;
    nc_buf_t pending;   /* ciphertext not yet handed to libuv */
    size_t inflight;    /* bytes handed to uv_write, not yet completed */
    bool writing;
    bool established;
    bool closing;
    bool counted_close; /* on_close already ran */
    int64_t opened_ns;  /* CLOCK_MONOTONIC */
    int64_t last_rx_ns;
    int64_t close_at;   /* closing: force the close after this time */
    uint64_t rx_bytes;  /* bytes read from the socket so far */
    size_t out_cap;     /* 0, or the largest backlog: a send past it closes */
    nc_rate_t ku;       /* TLS key updates the peer may still send */
    bool ku_flood;      /* the peer sent key updates faster than allowed */
    char peer[64];      /* "address:port" of the other side */
    char reason[160];   /* why it closed */
};

/* A connection on loop, not yet connected or accepted: the owner then calls
 * uv_accept(server, &c->tcp) or uv_tcp_connect on c->tcp, and nc_conn_start
 * once the stream is connected. max is the largest frame body accepted. */
nc_conn_t *nc_conn_new(uv_loop_t *loop, SSL_CTX *ctx, bool server, const nc_conn_cb_t *cb,
                       uint32_t max);
/* Starts reading and, on the client side, the handshake. Returns 0 or a
 * negative libuv code (the caller then closes). */
int nc_conn_start(nc_conn_t *c);
/* Queues one frame. Returns 0, or NC_ESTOPPED when the connection is
 * closing or not yet established, or when the frame would take the backlog
 * past out_cap (the connection is then closed as too slow: every byte
 * queued for a peer counts, replies included). */
int nc_conn_send(nc_conn_t *c, int type, const void *body, size_t len);
/* Queues bytes that already are whole frames (a batch shared by many
 * connections). */
int nc_conn_send_frames(nc_conn_t *c, const void *frames, size_t len);
/* Server side, before TLS: tells the client why it is refused, in one
 * plaintext line "NC-REFUSED CODE TEXT\n" (no TLS record starts with 'N'),
 * and closes. The client side reads it as the close reason
 * "refused (CODE): TEXT". */
void nc_conn_refuse(nc_conn_t *c, const char *code, const char *text);
/* Bytes waiting to leave. */
size_t nc_conn_backlog(const nc_conn_t *c);
/* Closes (see above); reason is copied. Idempotent. */
void nc_conn_close(nc_conn_t *c, const char *reason);
/* For a closing connection whose deadline passed: close the handle now. */
void nc_conn_force_close(nc_conn_t *c);

/* The certificate the peer showed (client side), or NULL. Borrowed. */
X509 *nc_conn_peer_cert(nc_conn_t *c);

#endif
