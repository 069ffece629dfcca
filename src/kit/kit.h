/*
 * kit.h: the protocol kit, the building blocks of lesson programs.
 *
 * Data model. A program runs on one lab host, on one thread with one libuv
 * loop; its nc_kit_t ties that loop to the run (nc_scn_t) and the host. On
 * it the kit makes endpoints:
 *
 *   nc_kit_listener_t  a TCP listener (listen, accept);
 *   nc_kit_conn_t      one TCP connection (connect, read, write, close);
 *   nc_kit_http_t      HTTP/1.x on a connection, as a server (requests in,
 *                      responses out: fixed, chunked, 100-continue, held,
 *                      SSE) or as a client (requests out, pipelined or
 *                      not, chunked uploads, Expect: 100-continue, 1.0);
 *   nc_kit_ws_t        WebSocket on a connection after the Upgrade (text,
 *                      binary, fragments, ping/pong, close codes; the
 *                      client masks its frames);
 *   nc_kit_h2_t        HTTP/2 on a connection, h2c by prior knowledge, as a
 *                      server (requests on streams in, answers out) or a
 *                      client (several requests at once, one stream each);
 *   nc_kit_h3_t        HTTP/3 over QUIC on a UDP socket (quic.c), server or
 *                      client, one QUIC stream per request.
 *
 * Every system call the kit makes on a socket is reported as an app event
 * with the same fields everywhere: "pid", "tid", "port" (the program's own
 * port) and "peer_port", beside "call" and "text", and stamped with the time
 * the call was made (nc_scn_call_begin). So accept() and connect() link to
 * the packets that let them return (src/scenario/applink.c), in every
 * lesson built from the kit. The kit decides no lesson content: each call
 * takes an optional sentence (NULL: the kit's plain default), and reads are
 * described by the connection's owner through its describe hook.
 *
 * Mechanics come from well-kept libraries: HTTP/1 messages are parsed by
 * Node's http_parser (Debian's libhttp-parser), WebSocket frames by wslay,
 * and the handshake's SHA-1 and base64 by OpenSSL. Memory comes from
 * nc_xmalloc. Handles belong to the kit and are freed in their close
 * callbacks; an owner learns of it through on_closed.
 */
#ifndef NC_KIT_H
#define NC_KIT_H

#include "../scenario/scenario.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct nc_kit nc_kit_t;
typedef struct nc_kit_conn nc_kit_conn_t;
typedef struct nc_kit_listener nc_kit_listener_t;
typedef struct nc_kit_http nc_kit_http_t;
typedef struct nc_kit_ws nc_kit_ws_t;
typedef struct nc_kit_tls nc_kit_tls_t;
typedef struct nc_kit_h2 nc_kit_h2_t;
typedef struct nc_kit_pool nc_kit_pool_t;

/* A program's kit: borrowed run, host and loop (all outlive it). */
nc_kit_t *nc_kit_new(nc_scn_t *s, const char *host, uv_loop_t *loop);
void nc_kit_free(nc_kit_t *k);
nc_scn_t *nc_kit_scn(const nc_kit_t *k);
const char *nc_kit_host(const nc_kit_t *k);
uv_loop_t *nc_kit_loop(const nc_kit_t *k);
/* Names the lesson program the kit belongs to (copied): every report then
 * carries it as "program", so a run's events can be told apart by program
 * (src/scenario/compare.c measures each program's share of the wire). */
void nc_kit_set_program(nc_kit_t *k, const char *name);

/*
 * Reports an app event from the kit's host with the common fields of conn
 * (pid and tid always; port and peer_port when conn is connected) plus
 * extra. say is the sentence, or NULL for dflt (a printf format).
 */
void nc_kit_report(nc_kit_t *k, nc_kit_conn_t *conn, const char *call, const nc_scn_kv_t *extra,
                   size_t nextra, const char *say, const char *dflt, ...)
    __attribute__((format(printf, 7, 8)));

/* ---- TCP stream ---- */

/* What a connection's owner hears. Every member may be NULL. */
typedef struct nc_kit_conn_cbs {
    /* Fills out (size outlen) with the sentence for the read() that returned
     * n bytes (0 at end of stream) before it is reported; leaving out empty
     * keeps the kit's default. */
    void (*describe)(nc_kit_conn_t *c, const char *data, size_t n, char *out, size_t outlen);
    /* Bytes that arrived (after the read was reported). */
    void (*on_data)(nc_kit_conn_t *c, const char *data, size_t n);
    /* The peer closed its side (read returned 0). */
    void (*on_eof)(nc_kit_conn_t *c);
    /* The connection is closed and about to be freed. */
    void (*on_closed)(nc_kit_conn_t *c);
    /* Every byte handed to write() has gone to the kernel. */
    void (*on_drain)(nc_kit_conn_t *c);
} nc_kit_conn_cbs_t;

typedef void (*nc_kit_accept_cb)(nc_kit_listener_t *l, nc_kit_conn_t *c, void *data);
typedef void (*nc_kit_connect_cb)(nc_kit_conn_t *c, int status, void *data);

/* Listens on the host's address and port, reporting listen(). Returns the
 * listener (the kit owns it; nc_kit_listener_close ends it) or NULL after
 * reporting the failure with nc_scn_fail. */
nc_kit_listener_t *nc_kit_listen(nc_kit_t *k, int port, int backlog, nc_kit_accept_cb cb,
                                 void *data, const char *say);
/* The sentence for the next accept() (NULL: the default); "%s" in it is
 * replaced by the peer's name. Borrowed until the next accept. */
void nc_kit_listener_say(nc_kit_listener_t *l, const char *say);
int nc_kit_listener_port(const nc_kit_listener_t *l);
/* Closes the listener (no report: closing a listener sends nothing). */
void nc_kit_listener_close(nc_kit_listener_t *l);
/* Lets the listener take data in a SYN (TCP Fast Open, RFC 7413): turns
 * the host's net.ipv4.tcp_fastopen server bit on (its namespace only) and
 * sets TCP_FASTOPEN on the socket. A failure fails the scenario. */
void nc_kit_listener_fastopen(nc_kit_listener_t *l);

/* Connects to host:port, reporting the connect() call now and again when
 * it returns (say_done, NULL: the default). cb gets status 0 or a libuv
 * code; on failure the connection is closed after cb. Returns the
 * connection, or NULL (failure reported). */
/* flags: NC_KIT_NODELAY (true, as callers give it, means this one), and
 * NC_KIT_FASTOPEN: TCP Fast Open (TCP_FASTOPEN_CONNECT), so connect()
 * returns at once and the first write leaves in the SYN when the kernel
 * holds a cookie from an earlier connection to that server (else the SYN
 * asks for one). */
enum { NC_KIT_NODELAY = 1, NC_KIT_FASTOPEN = 2 };
nc_kit_conn_t *nc_kit_connect(nc_kit_t *k, const char *host, int port, unsigned flags,
                              nc_kit_connect_cb cb, void *data, const char *say,
                              const char *say_done);

/* Sets what the owner hears and starts reading. */
void nc_kit_conn_start(nc_kit_conn_t *c, const nc_kit_conn_cbs_t *cbs, void *owner);
/* Turns Nagle's algorithm off on the connection (TCP_NODELAY), as
 * nc_kit_connect's nodelay does; a failure fails the scenario. */
void nc_kit_conn_nodelay(nc_kit_conn_t *c);
void *nc_kit_conn_owner(const nc_kit_conn_t *c);
void nc_kit_conn_set_owner(nc_kit_conn_t *c, void *owner);
nc_kit_t *nc_kit_conn_kit(const nc_kit_conn_t *c);
/* "client:40112": the peer's name. */
const char *nc_kit_conn_peer(const nc_kit_conn_t *c);
/* The peer's IPv4 address ("10.0.0.1") in out, or "?". */
void nc_kit_conn_peer_ip(const nc_kit_conn_t *c, char *out, size_t outlen);
int nc_kit_conn_port(const nc_kit_conn_t *c, bool peer);
bool nc_kit_conn_closing(const nc_kit_conn_t *c);
/* A connection to a peer the program does not control (a middlebox's
 * client): a failed write closes it instead of failing the run. */
void nc_kit_conn_tolerant(nc_kit_conn_t *c);
/* Bytes handed to write() that the kernel has not taken yet. */
size_t nc_kit_conn_queued(const nc_kit_conn_t *c);
/* Stops (true) or restarts reading the connection. */
void nc_kit_conn_pause(nc_kit_conn_t *c, bool pause);
/* Bytes read on the connection so far (every read report carries it as
 * "total"). */
size_t nc_kit_conn_read_total(const nc_kit_conn_t *c);
/* The smallest round trip the kernel measured on the connection so far, in
 * ms (TCP_INFO's tcpi_min_rtt), 0 if unknown. */
double nc_kit_conn_min_rtt_ms(const nc_kit_conn_t *c);
/* Adds an integer field to the next report about c (key borrowed until
 * then; at most NC_KIT_NOTES, a key given twice keeps the last value): a
 * describe hook's way of saying more than the sentence. */
#define NC_KIT_NOTES 4
void nc_kit_conn_note(nc_kit_conn_t *c, const char *key, int64_t value);
/* Writes len bytes (copied), reporting write(). Returns 0 or a libuv code
 * (reported). */
int nc_kit_write(nc_kit_conn_t *c, const void *data, size_t len, const char *say);
/* The same without a report, for a layer that reports its own write. */
int nc_kit_write_quiet(nc_kit_conn_t *c, const void *data, size_t len);
/* Closes the connection, reporting close() first (the FIN leaves inside
 * it). Safe to call twice. */
void nc_kit_close(nc_kit_conn_t *c, const char *say);

/* Closes the connection abortively (SO_LINGER 0): the kernel sends RST
 * instead of FIN and keeps nothing, neither queued bytes nor a TIME_WAIT.
 * Reported as a close() with "linger": "0". Safe to call twice. */
void nc_kit_reset(nc_kit_conn_t *c, const char *say);

/* ---- TLS ---- */

/* How a connection's TLS is set up. */
typedef struct nc_kit_tls_opts {
    int version;      /* 12 or 13: only TLS 1.2 or only 1.3; 0: the highest both know */
    const char *alpn; /* comma-separated protocols ("h2,http/1.1"), or NULL */
    const char *sni;  /* a client's server name, or NULL */
    /* TLS 1.3 0-RTT. A server accepts early data (up to 16 KiB) and may
     * answer it before the handshake ends. A client resumes with the last
     * session ticket any kit client got from the same server (host:port)
     * in this process and sends its first write as early data; with no
     * ticket allowing it, the handshake is an ordinary one. Every kit
     * server shares one ticket key, so a ticket from one connection opens
     * the next. */
    bool early;
} nc_kit_tls_opts_t;

typedef void (*nc_kit_tls_ready_cb)(nc_kit_conn_t *c, int status, void *data);

/*
 * Puts TLS (OpenSSL, in memory BIOs over the libuv connection) on c, as
 * the server (a self-signed certificate made now, naming the host) or the
 * client (which verifies nothing: the lab has no CA). The handshake runs as
 * records arrive; ready(c, 0, data) is called when it is done, or with a
 * negative code when it failed (reported; the connection is closed). From
 * then on nc_kit_write encrypts (reported as SSL_write), reads hand the
 * owner plaintext (reported as SSL_read), and nc_kit_close sends
 * close_notify before the FIN; layers above (HTTP) see no difference.
 * Every secret of the connection goes to the run's key log
 * (nc_scn_keylog), so the capture can be decrypted. Returns 0 or NC_EIO.
 */
int nc_kit_tls_start(nc_kit_conn_t *c, bool server, const nc_kit_tls_opts_t *o,
                     nc_kit_tls_ready_cb ready, void *data);

/* The negotiated ALPN protocol ("" when none), once ready. */
const char *nc_kit_tls_alpn(const nc_kit_conn_t *c);

/* ---- HTTP/1.x ---- */

typedef struct nc_kit_header {
    const char *name;
    const char *value;
} nc_kit_header_t;

/* A request or response as it arrived (all borrowed for the callback). */
typedef struct nc_kit_http_msg {
    const char *method; /* requests */
    const char *path;   /* requests */
    int status;         /* responses */
    int http_minor;     /* 0 or 1 */
    const nc_kit_header_t *headers;
    size_t nheaders;
    const char *body;
    size_t body_len;
    size_t chunks;      /* chunks the body came in, 0 when not chunked */
    bool keep_alive;
    bool upgrade;
} nc_kit_http_msg_t;

/* The header's value (case-insensitive name), or NULL. */
const char *nc_kit_http_header(const nc_kit_http_msg_t *m, const char *name);

/* Server: every complete request is handed to on_request; the owner answers
 * with nc_kit_http_respond (now or later: requests are answered in order,
 * so a held answer holds the ones pipelined behind it). */
typedef void (*nc_kit_http_request_cb)(nc_kit_http_t *h, const nc_kit_http_msg_t *req,
                                       void *data);
/* Wraps an accepted connection as an HTTP server (the kit owns it; it ends
 * with its connection). on_closed (may be NULL) is called once when it does. */
nc_kit_http_t *nc_kit_http_server(nc_kit_conn_t *c, nc_kit_http_request_cb cb,
                                  void (*on_closed)(nc_kit_http_t *h, void *data), void *data);

/* How a response body is sent. */
typedef enum {
    NC_KIT_BODY_FIXED,   /* Content-Length */
    NC_KIT_BODY_CHUNKED, /* Transfer-Encoding: chunked, the body cut in n chunks */
    NC_KIT_BODY_STREAM,  /* chunked, the owner sends pieces (SSE) and ends it */
} nc_kit_body_t;

/* Answers the oldest unanswered request: status line, headers (the kit adds
 * Content-Length or Transfer-Encoding, and Connection: close when the
 * connection ends after it), body. A "{n}" in say becomes the bytes
 * written. With NC_KIT_BODY_STREAM the response
 * stays open for nc_kit_http_send / nc_kit_sse_event until nc_kit_http_end.
 * Returns 0 or a negative code. */
int nc_kit_http_respond(nc_kit_http_t *h, int status, const nc_kit_header_t *headers,
                        size_t nheaders, nc_kit_body_t how, const char *body, size_t len,
                        int nchunks, const char *say);
/* The sentence of the close() that ends the connection after the answer
 * being given (borrowed until then; NULL: the kit's). */
void nc_kit_http_close_say(nc_kit_http_t *h, const char *say);
/* One piece of a streamed response (a chunk). */
int nc_kit_http_send(nc_kit_http_t *h, const char *data, size_t len, const char *say);
/* Ends a streamed response (the last, empty chunk). */
int nc_kit_http_end(nc_kit_http_t *h, const char *say);
/* One server-sent event on a streamed response (text/event-stream): id and
 * event may be NULL; data may hold newlines (one data: line each). */
int nc_kit_sse_event(nc_kit_http_t *h, const char *id, const char *event, const char *data,
                     const char *say);
/* An endpoint whose peer the lesson does not write (a middlebox's client
 * or upstream): a malformed or oversized message closes its connection (a
 * "refuse" app event; a server answers 400 first), writes that fail close
 * it, and a server pauses reading while 16 requests wait; the run goes
 * on. */
void nc_kit_http_lenient(nc_kit_http_t *h);
/* From the request callback: once this turn is over, the connection goes
 * to a new owner as a plain stream (cbs), with the bytes that came after
 * the request handed to cbs->on_data; h is freed without its on_closed.
 * A CONNECT tunnel is made this way. */
void nc_kit_http_detach(nc_kit_http_t *h, const nc_kit_conn_cbs_t *cbs, void *owner);
/* Requests waiting for their answer, and answers sent. */
size_t nc_kit_http_pending(const nc_kit_http_t *h);
size_t nc_kit_http_answered(const nc_kit_http_t *h);
nc_kit_conn_t *nc_kit_http_conn(const nc_kit_http_t *h);
void *nc_kit_http_data(const nc_kit_http_t *h);

/* Client side. A response (or an interim 100) is handed to on_response;
 * an SSE event on a streamed response to on_event. */
typedef void (*nc_kit_http_response_cb)(nc_kit_http_t *h, const nc_kit_http_msg_t *resp,
                                        void *data);
typedef void (*nc_kit_sse_cb)(nc_kit_http_t *h, const char *id, const char *event,
                              const char *data, void *ud);
nc_kit_http_t *nc_kit_http_client(nc_kit_conn_t *c, nc_kit_http_response_cb cb,
                                  nc_kit_sse_cb on_event,
                                  void (*on_closed)(nc_kit_http_t *h, void *data), void *data);

/* A client hears of the server's FIN through on_eof (then closes when it
 * likes) instead of the kit closing at once. */
void nc_kit_http_set_eof(nc_kit_http_t *h, void (*on_eof)(nc_kit_http_t *h, void *data));

/* Lets the owner rewrite the sentence of each read() on h: fn gets the
 * kit's sentence in out (outlen bytes) and may replace it. */
void nc_kit_http_set_describe(nc_kit_http_t *h,
                              void (*fn)(nc_kit_http_t *h, size_t n, char *out, size_t outlen,
                                         void *data));
/* The body length of the last complete response (client) or request
 * (server). */
size_t nc_kit_http_last_body(const nc_kit_http_t *h);

/* How a request is sent. */
typedef struct nc_kit_http_req {
    const char *method;
    const char *path;
    const nc_kit_header_t *headers; /* Host is added when absent */
    size_t nheaders;
    const char *body; /* may be NULL */
    size_t body_len;
    int chunks;      /* > 0: sent chunked, in this many chunks */
    bool expect;     /* Expect: 100-continue: the body waits for the 100 */
    bool http10;     /* HTTP/1.0 */
} nc_kit_http_req_t;
/* Sends a request (pipelined behind any still unanswered). Returns 0 or a
 * negative code. */
int nc_kit_http_request(nc_kit_http_t *h, const nc_kit_http_req_t *r, const char *say);

/* ---- a pool of HTTP/1.1 connections (pool.c) ---- */

/* Every answer of the page is in (or the page cannot complete: a
 * connection failed or closed under a request). */
typedef void (*nc_kit_pool_done_cb)(nc_kit_pool_t *p, void *data);
/* GETs each of the npaths paths (taken: nc_xmalloc'd strings in an
 * nc_xmalloc'd array) from host:port over at most size keep-alive
 * connections opened at once, one request at a time on each; a path that
 * finds every connection busy waits for the first to come free. Each
 * request's write() carries "slot", "resource" and "queued_ms". The kit
 * owns the pool: it frees itself once its connections closed. Returns
 * NULL (failure reported) when no connection could be made. */
nc_kit_pool_t *nc_kit_pool_get(nc_kit_t *k, const char *host, int port, char **paths,
                               size_t npaths, size_t size, nc_kit_pool_done_cb done, void *data);
/* The owner goes away: done is not called, and the pool's connections
 * close. */
void nc_kit_pool_abandon(nc_kit_pool_t *p);

/* ---- a server's state (state.c) ---- */

/* A server's memory: names to numbers (sessions, upload offsets). The
 * owner frees it; a restart clears it. */
typedef struct nc_kit_memo nc_kit_memo_t;
nc_kit_memo_t *nc_kit_memo_new(void);
void nc_kit_memo_free(nc_kit_memo_t *m);
void nc_kit_memo_clear(nc_kit_memo_t *m);
size_t nc_kit_memo_count(const nc_kit_memo_t *m);
/* True and *value (may be NULL) when key is remembered. */
bool nc_kit_memo_get(const nc_kit_memo_t *m, const char *key, int64_t *value);
void nc_kit_memo_set(nc_kit_memo_t *m, const char *key, int64_t value);
/* A new random session id (16 hex digits) in out (17 bytes or more),
 * remembered with value. Returns 0 or -1. */
int nc_kit_session_new(nc_kit_memo_t *m, int64_t value, char *out, size_t outlen);
/* A signed token "USER.MAC" (HMAC-SHA256 with secret, 32 hex digits) that
 * the server can check later without remembering it. Returns 0 or -1 (a
 * user with a '.' or too small an out). */
int nc_kit_token_make(const char *secret, const char *user, char *out, size_t outlen);
bool nc_kit_token_check(const char *secret, const char *token);
/* The value of cookie name in a Cookie header ("a=1; b=2"). */
bool nc_kit_cookie_get(const char *header, const char *name, char *out, size_t outlen);

/* ---- middleboxes (proxy.c, balance.c) ---- */

/*
 * A middlebox listens on a port and stands between the clients that
 * connect to it and the servers behind it. Every decision it makes is an
 * app event on its host, reported on the connection it concerns (so it
 * carries that connection's port and peer_port) with fields naming the
 * other side:
 *   "choose"   backend, backend_port, reason, policy, path (L7), index
 *   "forward"  on the upstream connection: in_port, in_peer_port (the
 *              client's connection), backend, path
 *   "tunnel"   a CONNECT: target, target_port
 *   "cache"    hit (1/0), path, age_ms, max_age
 *   "retry"    attempt, timeout_ms, path; "timeout" when none is left
 *   "refuse"   reason (a malformed request, too many connections, a
 *              client too slow, a peer that reads nothing)
 * A bad client is refused alone: the others carry on.
 */
typedef enum {
    NC_KIT_MB_FORWARD, /* HTTP CONNECT tunnels and absolute-URI requests */
    NC_KIT_MB_REVERSE, /* requests to the backend whose path prefix fits */
    NC_KIT_MB_RETRY,   /* one backend; an attempt that times out is sent again */
    NC_KIT_MB_L4,      /* each connection spliced to one backend, unread */
    NC_KIT_MB_L7,      /* each request to a backend by policy; X-Forwarded-For; cache */
} nc_kit_mb_kind_t;

#define NC_KIT_MB_BACKENDS 8

typedef struct nc_kit_backend {
    char host[64];
    int port;
    char prefix[128]; /* a reverse proxy's paths ("" for all) */
} nc_kit_backend_t;

typedef struct nc_kit_mb_conf {
    nc_kit_mb_kind_t kind;
    nc_kit_backend_t backend[NC_KIT_MB_BACKENDS];
    size_t nbackends;
    const char *policy; /* L4 and L7: a name of nc_kit_policy_names (NULL: round-robin) */
    bool cache;         /* L7: keep GET answers that say Cache-Control: max-age */
    bool tls;           /* L7: clients speak TLS to the box, which ends it (tls.c) */
    int timeout_ms;     /* retry: the first attempt's timeout; each retry doubles it */
    int retries;        /* retry: attempts after the first */
    size_t max_conns;   /* clients at once (0: 64); more are refused */
    int idle_ms;        /* a client without a whole request this long is closed (0: 5000) */
} nc_kit_mb_conf_t;

typedef struct nc_kit_mbox nc_kit_mbox_t;

/* Parses a policy name; returns false for an unknown one. */
bool nc_kit_policy_known(const char *name);
/* "round-robin, least-conn, source-hash": the names, for messages. */
extern const char *const nc_kit_policy_names;

/* Starts a middlebox listening on port (its listen() reported with say).
 * Returns it (nc_kit_mbox_stop ends it) or NULL after nc_scn_fail. */
nc_kit_mbox_t *nc_kit_mbox_start(nc_kit_t *k, int port, const nc_kit_mb_conf_t *conf,
                                 const char *say);
/* Closes the listener and every connection; the box frees itself once the
 * last one is gone. */
void nc_kit_mbox_stop(nc_kit_mbox_t *m);
/* Client connections it holds now, and the most it held at once. */
size_t nc_kit_mbox_clients(const nc_kit_mbox_t *m);
size_t nc_kit_mbox_peak(const nc_kit_mbox_t *m);

/* ---- a broker and its client (broker.c; the line protocol is described
 * at the top of that file) ---- */

typedef struct nc_kit_broker nc_kit_broker_t;
typedef struct nc_kit_bclient nc_kit_bclient_t;

/* Starts a broker on port; a delivery without an ACK after ack_ms (0:
 * 200) is sent again. Returns it or NULL after nc_scn_fail. */
nc_kit_broker_t *nc_kit_broker_start(nc_kit_t *k, int port, int ack_ms, const char *say);
/* Closes it and its connections; it frees itself once they are gone. */
void nc_kit_broker_stop(nc_kit_broker_t *b);

/* A line from the broker: verb ("MSG", "OK", "ERR"), the id, and for MSG
 * the topic and text (all borrowed for the call). */
typedef void (*nc_kit_bclient_cb)(nc_kit_bclient_t *bc, const char *verb, long id,
                                  const char *topic, const char *text, void *data);
/* Speaks the broker's protocol on a connected connection; on_closed (may
 * be NULL) is called once when it ends. Lines are sent with nc_kit_write. */
nc_kit_bclient_t *nc_kit_bclient(nc_kit_conn_t *c, nc_kit_bclient_cb cb,
                                 void (*on_closed)(nc_kit_bclient_t *bc, void *data), void *data);
nc_kit_conn_t *nc_kit_bclient_conn(const nc_kit_bclient_t *bc);

/* ---- WebSocket ---- */

typedef enum {
    NC_KIT_WS_TEXT = 1,
    NC_KIT_WS_BINARY = 2,
    NC_KIT_WS_CLOSE = 8,
    NC_KIT_WS_PING = 9,
    NC_KIT_WS_PONG = 10,
} nc_kit_ws_op_t;

typedef void (*nc_kit_ws_msg_cb)(nc_kit_ws_t *ws, nc_kit_ws_op_t op, const char *data,
                                 size_t len, int close_code, void *ud);

/* Server: answers the upgrade request the server was handed (101 with
 * Sec-WebSocket-Accept) and turns the connection into a WebSocket; the
 * HTTP server hands the stream over. Returns the WebSocket or NULL (a 400
 * was sent). Every received message goes to cb; pings are answered. */
nc_kit_ws_t *nc_kit_ws_accept(nc_kit_http_t *h, const nc_kit_http_msg_t *req,
                              nc_kit_ws_msg_cb cb, void *ud);
/* Client: sends the upgrade request on a connected client. on_open is
 * called with 0 when the 101 arrived and the key was right, else an error. */
nc_kit_ws_t *nc_kit_ws_connect(nc_kit_http_t *h, const char *path,
                               void (*on_open)(nc_kit_ws_t *ws, int status, void *ud),
                               nc_kit_ws_msg_cb cb, void *ud);
/* Sends a message; fragments > 1 cuts it into that many frames. */
int nc_kit_ws_send(nc_kit_ws_t *ws, nc_kit_ws_op_t op, const char *data, size_t len,
                   int fragments, const char *say);
/* Starts the closing handshake with a status code and a reason. */
int nc_kit_ws_close(nc_kit_ws_t *ws, int code, const char *reason, const char *say);
nc_kit_conn_t *nc_kit_ws_conn(const nc_kit_ws_t *ws);

/* ---- HTTP/2 (h2c by prior knowledge, on nghttp2) ---- */

/* A request (server) or response (client) whose stream ended, as an HTTP
 * message (method, path or status, headers, body; borrowed for the call). */
typedef void (*nc_kit_h2_request_cb)(nc_kit_h2_t *h, int32_t stream, const nc_kit_http_msg_t *req,
                                     void *data);
typedef void (*nc_kit_h2_response_cb)(nc_kit_h2_t *h, int32_t stream,
                                      const nc_kit_http_msg_t *resp, void *data);
/* Wraps an accepted connection as an HTTP/2 server: it waits for the
 * client's first bytes (the preface, or an HTTP/1.1 request with "Upgrade:
 * h2c", answered 101: that request is stream 1), writes its SETTINGS, and
 * hands every request to cb, which answers with
 * nc_kit_h2_respond (the answer leaves after cb returns, with the frames
 * the session owes: ACKs, WINDOW_UPDATEs). The kit owns it; it ends with
 * its connection, and on_closed (may be NULL) is called once. */
nc_kit_h2_t *nc_kit_h2_server(nc_kit_conn_t *c, nc_kit_h2_request_cb cb,
                              void (*on_closed)(nc_kit_h2_t *h, void *data), void *data);
/* Wraps a connected connection as an HTTP/2 client; the preface and SETTINGS
 * leave with its first nc_kit_h2_send. */
nc_kit_h2_t *nc_kit_h2_client(nc_kit_conn_t *c, nc_kit_h2_response_cb cb,
                              void (*on_closed)(nc_kit_h2_t *h, void *data), void *data);
/* Client, before its first nc_kit_h2_send: the initial stream window its
 * SETTINGS grant the server (SETTINGS_INITIAL_WINDOW_SIZE; 0 keeps the
 * default, 65535). A small one makes the server's DATA wait for the
 * client's WINDOW_UPDATEs, which nghttp2 sends as the client consumes. */
void nc_kit_h2_window(nc_kit_h2_t *h, uint32_t window);
/* Connects by Upgrade instead: writes GET path over HTTP/1.1 with
 * "Upgrade: h2c" now; when the 101 arrives the client writes its preface
 * and on_open is called with 0 (else a negative code, and the connection
 * closes). The answer to path comes on stream 1, counted as outstanding. */
nc_kit_h2_t *nc_kit_h2_client_upgrade(nc_kit_conn_t *c, const char *path, nc_kit_h2_response_cb cb,
                                      void (*on_open)(nc_kit_h2_t *h, int status, void *data),
                                      void (*on_closed)(nc_kit_h2_t *h, void *data), void *data);
/* Queues a request on a new stream (no body); returns its stream id, or a
 * negative code. Nothing is written before nc_kit_h2_send. */
int32_t nc_kit_h2_submit(nc_kit_h2_t *h, const char *method, const char *path,
                         const nc_kit_header_t *hd, size_t nh);
/* Writes everything queued in one write(), reported with say (NULL: the
 * frames it carries). */
int nc_kit_h2_send(nc_kit_h2_t *h, const char *say);
/* Answers a request's stream: status, headers, body (copied). */
int nc_kit_h2_respond(nc_kit_h2_t *h, int32_t stream, int status, const nc_kit_header_t *hd,
                      size_t nh, const char *body, size_t len);
/* Sends GOAWAY (no error): the connection takes no new streams. */
int nc_kit_h2_goaway(nc_kit_h2_t *h, const char *say);
/* Client: requests sent and not answered yet. */
size_t nc_kit_h2_outstanding(const nc_kit_h2_t *h);
nc_kit_conn_t *nc_kit_h2_conn(const nc_kit_h2_t *h);
/* ---- QUIC and HTTP/3 (quic.c: ngtcp2 0.12 + nghttp3 0.8, GnuTLS) ---- */

typedef struct nc_kit_h3 nc_kit_h3_t;           /* an endpoint: a UDP socket */
typedef struct nc_kit_h3_conn nc_kit_h3_conn_t; /* one QUIC connection on it */

/* A request whose stream ended (server), as an HTTP message (borrowed for
 * the call); the owner answers with nc_kit_h3_respond, now or later. */
typedef void (*nc_kit_h3_request_cb)(nc_kit_h3_t *h, nc_kit_h3_conn_t *c, int64_t stream,
                                     const nc_kit_http_msg_t *req, void *data);
/* A response whose stream ended (client): path is the request's. */
typedef void (*nc_kit_h3_response_cb)(nc_kit_h3_t *h, int64_t stream,
                                      const nc_kit_http_msg_t *resp, void *data);
/* An HTTP/3 server on UDP port (a self-signed certificate naming the host
 * is made now), reported as bind(). Every client's first Initial packet
 * opens a connection; each request is handed to cb. Returns the endpoint
 * (nc_kit_h3_close ends it) or NULL after nc_scn_fail. */
nc_kit_h3_t *nc_kit_h3_listen(nc_kit_t *k, int port, nc_kit_h3_request_cb cb, void *data,
                              const char *say);
/* A client: sends its Initial packet to host:port now; on_ready(h, 0) once
 * the handshake is done, and on_ready(h, negative) when the connection
 * fails or the server closes it (before or after the handshake).
 * Each response is handed to cb. Returns the endpoint or NULL (reported). */
nc_kit_h3_t *nc_kit_h3_connect(nc_kit_t *k, const char *host, int port,
                               void (*on_ready)(nc_kit_h3_t *h, int status, void *data),
                               nc_kit_h3_response_cb cb, void *data, const char *say);
/* Client, once ready: queues a request (no body) on a new bidirectional
 * stream, reported as a "request" app event (say: its sentence). Returns
 * the stream id or a negative code. Nothing leaves before nc_kit_h3_send. */
int64_t nc_kit_h3_submit(nc_kit_h3_t *h, const char *method, const char *path,
                         const nc_kit_header_t *hd, size_t nh, const char *say);
/* Writes every packet the endpoint's connections owe (one stream a packet). */
int nc_kit_h3_send(nc_kit_h3_t *h);
/* Server: answers a request's stream: status, headers, body (copied). */
int nc_kit_h3_respond(nc_kit_h3_conn_t *c, int64_t stream, int status, const nc_kit_header_t *hd,
                      size_t nh, const char *body, size_t len);
/* Client: requests sent and not answered yet. */
size_t nc_kit_h3_outstanding(const nc_kit_h3_t *h);
/* Client: the smallest round trip ngtcp2 measured on the connection, in
 * ms (0 before any). */
double nc_kit_h3_min_rtt_ms(const nc_kit_h3_t *h);
int nc_kit_h3_port(const nc_kit_h3_t *h);
/* Sends CONNECTION_CLOSE on every open connection (reported with say) and
 * closes the socket; the endpoint frees itself. NULL is fine. */
void nc_kit_h3_close(nc_kit_h3_t *h, const char *say);
/* Streaming (gRPC): instead of whole messages at END_STREAM, cb hears each
 * stream after every read that brought it frames: the headers so far (a
 * trailer block's appended), the body bytes new since the last call (then
 * dropped), and whether the peer ended it. Set before the first bytes. */
typedef void (*nc_kit_h2_stream_cb)(nc_kit_h2_t *h, int32_t stream, const nc_kit_http_msg_t *m,
                                    bool ended, void *data);
void nc_kit_h2_set_streaming(nc_kit_h2_t *h, nc_kit_h2_stream_cb cb);
/* Opens a stream whose body is put later: stream 0 (a client) sends a POST
 * to path on a new stream; a server answers stream with status. Headers
 * are copied. Returns the stream id or a negative code; nothing is written
 * before nc_kit_h2_send. */
int32_t nc_kit_h2_open(nc_kit_h2_t *h, int32_t stream, const char *path, int status,
                       const nc_kit_header_t *hd, size_t nh);
/* Puts n bytes (copied) on an open stream's body. */
int nc_kit_h2_put(nc_kit_h2_t *h, int32_t stream, const void *p, size_t n);
/* Ends an open stream once its body is out: with END_STREAM on the last
 * DATA, or, given trailers (copied), on a HEADERS frame after it. */
int nc_kit_h2_end(nc_kit_h2_t *h, int32_t stream, const nc_kit_header_t *trailers, size_t nt);
/* ---- gRPC (grpc.c, on HTTP/2 streams) ---- */

typedef struct nc_kit_grpc nc_kit_grpc_t;
/* A method a gRPC server answers (every pointer borrowed for the server's
 * life). kind is "unary", "server-stream", "client-stream" or "bidi"; reply
 * is a message as "field=value ..." with {n}, {i}, {count} and {FIELD}
 * filled in; a server stream sends replies of them, every every_ms; a
 * non-zero status ends the call with that grpc-status and message, and
 * no reply; say is the sentence of its send_status. */
typedef struct nc_kit_grpc_method {
    const char *kind, *path, *reply, *message, *say;
    size_t replies;
    uint64_t every_ms;
    int status;
} nc_kit_grpc_method_t;
/* A call ended: the grpc-status a client got, or a server sent, and the
 * replies before it. */
typedef void (*nc_kit_grpc_done_cb)(nc_kit_grpc_t *g, int status, size_t replies, void *data);
/* Wraps an accepted connection as a gRPC server (HTTP/2 by prior
 * knowledge) answering by methods; a method it does not have gets
 * UNIMPLEMENTED. on_done hears each call's status leave. The kit owns it;
 * on_closed is called once. */
nc_kit_grpc_t *nc_kit_grpc_server(nc_kit_conn_t *c, const nc_kit_grpc_method_t *methods,
                                  size_t nmethods, nc_kit_grpc_done_cb on_done,
                                  void (*on_closed)(nc_kit_grpc_t *g, void *data), void *data);
/* Wraps a connected connection as a gRPC client; on_done hears each call's
 * end. */
nc_kit_grpc_t *nc_kit_grpc_client(nc_kit_conn_t *c, nc_kit_grpc_done_cb on_done,
                                  void (*on_closed)(nc_kit_grpc_t *g, void *data), void *data);
/* Starts a call of method path (its messages from the course's .proto
 * files) with n request messages (copied; none: one empty message). The
 * first leaves with the HEADERS; a client stream paces the others every
 * every_ms (0: all at once); a bidi call sends each next one when a reply
 * came. Returns 0 or a negative code (the run failed, with the reason). */
int nc_kit_grpc_call(nc_kit_grpc_t *g, const char *kind, const char *path,
                     const char *const *msgs, size_t n, uint64_t every_ms);
int nc_kit_grpc_goaway(nc_kit_grpc_t *g);
nc_kit_conn_t *nc_kit_grpc_conn(const nc_kit_grpc_t *g);

/* ---- boxes in the middle (relay.c) and STUN (stun.c) ---- */

typedef struct nc_kit_relay nc_kit_relay_t;
/* Listens on port and relays every connection to host:target_port (a
 * connection of its own each, bytes passed both ways, a FIN closing both).
 * Returns NULL after reporting a failure. */
nc_kit_relay_t *nc_kit_relay(nc_kit_t *k, int port, const char *host, int target_port,
                             const char *say);
size_t nc_kit_relay_pairs(const nc_kit_relay_t *r);
/* Stops listening; relayed pairs end with their connections. */
void nc_kit_relay_close(nc_kit_relay_t *r);

/* A sidecar (sidecar.c): listens on port for its application's plain
 * HTTP/1.1 and carries every request to host:target_port as a stream of
 * HTTP/2 over TLS (ALPN h2), all on one upstream connection, each decision
 * an app event. Returns it or NULL after nc_scn_fail. */
typedef struct nc_kit_sidecar nc_kit_sidecar_t;
nc_kit_sidecar_t *nc_kit_sidecar(nc_kit_t *k, int port, const char *host, int target_port,
                                 const char *say);
/* Upstream connections it has opened so far. */
size_t nc_kit_sidecar_conns(const nc_kit_sidecar_t *sc);
/* Stops listening, sends GOAWAY and closes every connection; the sidecar
 * frees itself once they are gone. */
void nc_kit_sidecar_close(nc_kit_sidecar_t *sc);

typedef struct nc_kit_stun nc_kit_stun_t;
/* A STUN server (RFC 8489) on UDP port: every Binding request is answered
 * with the source address it came from (XOR-MAPPED-ADDRESS and
 * MAPPED-ADDRESS). Returns NULL after reporting a failure. */
nc_kit_stun_t *nc_kit_stun_serve(nc_kit_t *k, int port, const char *say);
/* A STUN client's Binding request to host:port from the program's UDP
 * socket (made on first use, bound to from_port, 0: any), retransmitted
 * as RFC 8489 says until an answer or 3 tries; cb gets the mapped address
 * ("203.0.113.1:40000") or NULL. Reported as a "stun-bind" app event with
 * "mapped". Returns 0 or a negative code (reported). */
int nc_kit_stun_bind(nc_kit_stun_t **client, nc_kit_t *k, const char *host, int port,
                     int from_port, void (*cb)(const char *mapped, void *data), void *data,
                     const char *say);
/* Closes a server or a client socket (NULL is fine). */
void nc_kit_stun_close(nc_kit_stun_t *s);

/* Sends text in one UDP datagram to host:port from the host's port
 * from_port (0: any), reporting sendto(); nothing waits for an answer
 * (datagram.c). Returns 0 or a libuv code (reported). */
int nc_kit_udp_send(nc_kit_t *k, const char *host, int port, int from_port, const char *text,
                    const char *say);
/* A UDP socket bound to the host's port, reporting bind() and each
 * datagram as a recvfrom() with its size and sender; on_datagram (may be
 * NULL) hears each after the report. Returns it (the kit frees it after
 * nc_kit_udp_close), or NULL after reporting the failure (datagram.c). */
typedef struct nc_kit_udp nc_kit_udp_t;
nc_kit_udp_t *nc_kit_udp_listen(nc_kit_t *k, int port, void (*on_datagram)(void *data),
                                void *data, const char *say);
/* Closes the socket (NULL is fine). */
void nc_kit_udp_close(nc_kit_udp_t *u);

/* base64(SHA-1(key + the protocol's GUID)): the Sec-WebSocket-Accept for a
 * Sec-WebSocket-Key. out needs 29 bytes. Returns 0 or NC_EINVAL. */
int nc_kit_ws_accept_key(const char *key, char *out, size_t outlen);


/* ---- TURN (turn.c), ICE (ice.c) and signalling (signal.c): WebRTC's way
 * through NATs ---- */

typedef struct nc_kit_turn nc_kit_turn_t;
typedef struct nc_kit_turn_conf {
    const char *user, *password; /* the long-term credentials (NULL: student, secret) */
    size_t max_allocs;           /* allocations at once (0: 16; at most 64) */
    int lifetime_s;              /* an allocation's lifetime (0: 600 s) */
} nc_kit_turn_conf_t;
/* A TURN relay (RFC 8656: Allocate, Refresh, CreatePermission, ChannelBind,
 * Send and Data indications, ChannelData) on UDP port; every decision is an
 * app event (turn.c says which). Returns NULL after reporting a failure. */
nc_kit_turn_t *nc_kit_turn_serve(nc_kit_t *k, int port, const nc_kit_turn_conf_t *conf,
                                 const char *say);
/* Allocations held now, and the most held at once. */
size_t nc_kit_turn_allocations(const nc_kit_turn_t *t);
size_t nc_kit_turn_peak(const nc_kit_turn_t *t);
/* Releases every allocation and closes; it frees itself (NULL is fine). */
void nc_kit_turn_close(nc_kit_turn_t *t);

typedef struct nc_kit_signal nc_kit_signal_t;
/* A signalling server on TCP port: peers JOIN a room (two at most) and
 * every line one sends goes to the other (held until it comes). */
nc_kit_signal_t *nc_kit_signal_serve(nc_kit_t *k, int port, const char *say);
size_t nc_kit_signal_members(const nc_kit_signal_t *s);
void nc_kit_signal_stop(nc_kit_signal_t *s);

typedef struct nc_kit_ice nc_kit_ice_t;
typedef struct nc_kit_ice_conf {
    bool controlling;         /* the offerer; the answerer is controlled */
    int port;                 /* the agent's UDP port (0: any) */
    const char *stun_host;    /* NULL: no server-reflexive candidate */
    int stun_port;
    const char *turn_host;    /* NULL: no relayed candidate */
    int turn_port;
    const char *user, *password;
    const char *signal_host;  /* the signalling server (required) */
    int signal_port;
    const char *room;
} nc_kit_ice_conf_t;
enum { NC_KIT_ICE_READY, NC_KIT_ICE_FAILED, NC_KIT_ICE_MESSAGE, NC_KIT_ICE_TIMEOUT };
typedef void (*nc_kit_ice_cb)(nc_kit_ice_t *ice, int event, void *data);
/* Starts an ICE agent: gathers, trades SDP through the signalling server,
 * checks pairs and selects one; cb hears READY or FAILED once, then
 * MESSAGE for each datagram of data. Strings in conf are copied. Returns
 * NULL after reporting a failure. */
nc_kit_ice_t *nc_kit_ice_start(nc_kit_t *k, const nc_kit_ice_conf_t *conf, nc_kit_ice_cb cb,
                               void *data);
/* Sends text over the selected pair (reported; say: the sentence). */
int nc_kit_ice_send(nc_kit_ice_t *ice, const char *text, const char *say);
size_t nc_kit_ice_received(const nc_kit_ice_t *ice);
/* A ready agent that gets no data within ms tells its owner TIMEOUT once
 * (a read must not wait for a peer that gave up). */
void nc_kit_ice_expect(nc_kit_ice_t *ice, int ms);
bool nc_kit_ice_ready(const nc_kit_ice_t *ice);
void nc_kit_ice_close(nc_kit_ice_t *ice);


/* Makes the kit's host a stateful firewall (nftables with conntrack, run
 * through nft): UDP gets in only when it answers something the host sent.
 * done(0 or -1, data) is called once nft has finished. Returns 0 or a
 * libuv code (reported). */
int nc_kit_firewall(nc_kit_t *k, void (*done)(int status, void *data), void *data,
                    const char *say);

#endif
