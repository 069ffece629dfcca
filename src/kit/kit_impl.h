/*
 * kit_impl.h: what the kit's files share beyond kit.h.
 *
 * The HTTP layer hands its connection's bytes to a WebSocket once the
 * Upgrade is done (both server and client); these are the two halves of
 * that hand-over.
 */
#ifndef NC_KIT_IMPL_H
#define NC_KIT_IMPL_H

#include "kit.h"

/* Bytes that arrived for the WebSocket on h (after the upgrade). */
void nc__kit_ws_feed(nc_kit_ws_t *ws, const char *data, size_t len);
/* The connection under the WebSocket reached its end (EOF or closed). */
void nc__kit_ws_gone(nc_kit_ws_t *ws);
/* Frees a WebSocket when its connection is gone (NULL is fine). */
void nc__kit_ws_free(nc_kit_ws_t *ws);
/* Makes h hand its bytes to ws from now on (borrowed; ws lives as long as
 * the connection). */
void nc__kit_http_upgrade(nc_kit_http_t *h, nc_kit_ws_t *ws);
/* The client: ws takes the stream once the 101 arrives. */
void nc__kit_http_expect_ws(nc_kit_http_t *h, nc_kit_ws_t *ws);
/* The client: the 101 response arrived; hands the bytes after it to ws. */
void nc__kit_ws_opened(nc_kit_ws_t *ws, const nc_kit_http_msg_t *resp);

/* ---- TLS under a connection (tls.c and stream.c) ---- */

/* Hands the bytes of one read to the TLS layer (records in, plaintext out
 * through nc__kit_conn_deliver). */
void nc__kit_tls_feed(nc_kit_tls_t *t, const char *data, size_t len);
/* Encrypts plaintext (queued until the handshake is done). Returns 0 or a
 * libuv code. */
int nc__kit_tls_write(nc_kit_tls_t *t, const void *data, size_t len);
/* Sends close_notify once, before the connection's FIN. */
void nc__kit_tls_close_notify(nc_kit_tls_t *t);
/* Frees the TLS layer (NULL is fine). */
void nc__kit_tls_free(nc_kit_tls_t *t);

/* Reports a read of len bytes and hands them to the connection's owner.
 * text is the sentence (empty: the default); NULL makes the connection
 * count the bytes and ask its describe hook, as for plaintext from TLS. */
void nc__kit_conn_deliver(nc_kit_conn_t *c, const char *data, size_t len, const char *text);
/* Writes bytes as they are, under any TLS layer. */
int nc__kit_conn_write_raw(nc_kit_conn_t *c, const void *data, size_t len);
/* Starts reading (before an owner is set, for a TLS handshake). */
void nc__kit_conn_read_start(nc_kit_conn_t *c);
void nc__kit_conn_set_tls(nc_kit_conn_t *c, nc_kit_tls_t *t);
nc_kit_tls_t *nc__kit_conn_tls(const nc_kit_conn_t *c);

/* ---- a splice: two connections joined, bytes passed unread (splice.c;
 * under relay.c and balance.c) ---- */

typedef struct nc_kit_splice nc_kit_splice_t;
enum { NC_SPLICE_IN = 0, NC_SPLICE_OUT = 1 };

typedef struct {
    const char *box; /* who passes the bytes, in sentences: "relay", "box" */
    /* side's connection is gone (owner: that side's); the splice closes
     * the other side after this returns */
    void (*gone)(nc_kit_splice_t *sp, int side, void *owner);
    /* in sent more than the early buffer holds before out was there
     * (NULL: in is closed) */
    void (*flood)(nc_kit_splice_t *sp, void *owner);
} nc_kit_splice_hooks_t;

/* What a spliced connection hears: start in with these, the splice as
 * owner (out is started by nc__kit_splice_out). */
extern const nc_kit_conn_cbs_t nc__kit_splice_cbs;
/* A splice of in (owner: the user's, for its side); hooks are borrowed. */
nc_kit_splice_t *nc__kit_splice_new(const nc_kit_splice_hooks_t *hooks, nc_kit_conn_t *in,
                                    void *owner);
/* out is being connected: in is paused until it is there. */
void nc__kit_splice_connecting(nc_kit_splice_t *sp);
/* out is connected: starts it, passes on what in sent meanwhile, resumes
 * in. Returns false (and closes out) when in is already gone. */
bool nc__kit_splice_out(nc_kit_splice_t *sp, nc_kit_conn_t *out, void *owner);
/* out could not be connected (the user closes in). */
void nc__kit_splice_out_failed(nc_kit_splice_t *sp);
/* A side's connection, or NULL. */
nc_kit_conn_t *nc__kit_splice_conn(const nc_kit_splice_t *sp, int side);

/* ---- middleboxes: what proxy.c (the HTTP relay, the box itself) and
 * balance.c (policies, the cache, the splice) share ---- */

#include "../core/buf.h"

typedef struct nc_mb_client nc_mb_client_t;
typedef struct nc_mb_up nc_mb_up_t;
typedef struct nc_mb_cached nc_mb_cached_t;

#define NC_MB_CACHE 32

struct nc_kit_mbox {
    nc_kit_t *k;
    nc_kit_mb_conf_t conf;
    nc_kit_listener_t *l;
    uv_timer_t sweep; /* deadlines: retries, idle and stuck clients */
    nc_mb_client_t *clients; /* a list, newest first */
    size_t nclients, peak;
    size_t nups; /* upstream connections alive: the box outlives them */
    size_t rr; /* round robin: the next backend */
    size_t inflight[NC_KIT_MB_BACKENDS];
    nc_mb_cached_t *cache[NC_MB_CACHE];
    bool stopped;
};

/* One client connection, and the request of it being relayed. */
struct nc_mb_client {
    nc_kit_mbox_t *mb;
    nc_mb_client_t *next, *prev;
    nc_kit_conn_t *c;
    nc_kit_http_t *h; /* the HTTP front; NULL for a splice */
    nc_mb_up_t *up;   /* the upstream connection in use, or NULL */
    uint64_t since;   /* uv_now: accepted, or the last answer given */
    uint64_t stuck;   /* uv_now since which the client has read nothing back */
    bool busy, splice;
    nc_kit_splice_t *sp; /* a splice's joint (it frees itself) */
    /* the request being relayed: owned copies */
    char *method, *path;
    nc_kit_header_t *hd;
    size_t nhd;
    nc_buf_t body;
    int backend, attempt;
    uint64_t deadline; /* a retrying proxy's attempt ends then (0: none) */
    char host[64];     /* where it goes */
    int port;
};

/* One upstream connection: a request's (HTTP) or a splice's other half. */
struct nc_mb_up {
    nc_mb_client_t *cl; /* NULL once the client let it go */
    nc_kit_mbox_t *mb;
    nc_kit_splice_t *sp; /* a splice's joint, or NULL */
    nc_kit_conn_t *c;
    int backend; /* -1: not one of the box's backends */
    bool connected, answered;
};

/* The backend the policy picks for a client; why in why. */
int nc__mb_choose(nc_kit_mbox_t *mb, const nc_mb_client_t *cl, char *why, size_t whylen);
/* A cached answer for GET path (true and the fields), or false. */
bool nc__mb_cache_get(nc_kit_mbox_t *mb, const char *path, int *status, const char **ctype,
                      const char **body, size_t *len, int64_t *age_ms, int *max_age);
/* Keeps resp as the answer for path when its Cache-Control allows. */
void nc__mb_cache_put(nc_kit_mbox_t *mb, const char *path, const nc_kit_http_msg_t *resp);
void nc__mb_cache_free(nc_kit_mbox_t *mb);
/* Makes cl's connection the in side of a splice (cl->sp); its callbacks
 * are then nc__kit_splice_cbs with cl->sp as owner (balance.c). */
void nc__mb_splice_begin(nc_mb_client_t *cl);
/* Splices cl's connection to host:port (a CONNECT answers 200 once the
 * upstream is connected, when reply; nc__mb_splice_begin was called and
 * its callbacks set). */
void nc__mb_splice(nc_mb_client_t *cl, const char *host, int port, int backend, bool reply);
/* The client is done: forgets it and lets its upstream go. */
void nc__mb_client_gone(nc_mb_client_t *cl);
/* A refused client: an app event with reason, then close. */
void nc__mb_refuse(nc_mb_client_t *cl, const char *reason, const char *why);
/* Upstream connections hold on to their box. */
void nc__mb_up_free(nc_mb_up_t *up);


/* ---- STUN messages (stunmsg.h), for the TURN relay and the ICE agent ---- */

#include "stunmsg.h"

#endif
