/*
 * quic.c: QUIC and HTTP/3 endpoints of the kit, on ngtcp2 0.12 (with its
 * GnuTLS crypto helper) and nghttp3 0.8, over libuv UDP sockets.
 *
 * These are pre-1.0 APIs that change between releases, so everything that
 * touches them is in this one file, and CMake refuses other versions
 * (src/kit/CMakeLists.txt).
 *
 * Data model. An nc_kit_h3_t is one endpoint: a UDP socket (uv_udp_t) and
 * the QUIC connections on it (nc_kit_h3_conn_t, a list). A server has as
 * many as clients came (told apart by the client's address and port: in
 * the lab a client never migrates); a client has one. A connection owns:
 *
 *   - an ngtcp2_conn (the transport: packets, acknowledgements, loss
 *     recovery, flow control, streams) and its timer (ngtcp2's expiry:
 *     retransmissions, ACK delay, idle);
 *   - a GnuTLS session (the TLS 1.3 handshake inside QUIC's CRYPTO frames;
 *     a server's certificate is made when it starts listening: an ECDSA
 *     P-256 key, self-signed, naming the lab host);
 *   - once the handshake is done, an nghttp3_conn (HTTP/3 frames and QPACK
 *     on the streams: the control and QPACK streams each side opens, and a
 *     bidirectional stream per request);
 *   - the requests or responses in progress (nc_h3_stream_t, a list).
 *
 * Bytes move one way only: a datagram read is handed to ngtcp2, whose
 * stream data goes to nghttp3; then everything either owes is written
 * (nc_h3_flush): nghttp3's stream data is packed by ngtcp2 into packets,
 * one stream's frames to a packet (no coalescing of streams), so a lost
 * packet costs one stream only, and each packet is one sendmsg.
 *
 * What the program sees is reported as app events, as the other kit
 * protocols do: "bind", "connect", "accept", "handshake" (with "alpn",
 * "cipher" and, on the client, "rtt_ms"), "request" (a request sent, or
 * one a server received, with "stream" and "path"), "respond" (the
 * server's answer, with "status" and "bytes"), "close". Each carries
 * "port" and "peer_port" (UDP). The client hands each complete response
 * (its stream's FIN) to its owner, who reports the delivery.
 *
 * Every TLS secret of a connection goes to the run's key log in
 * SSLKEYLOGFILE form (GnuTLS's keylog function), as kit TLS does: the live
 * decoder and a saved run's Decryption Secrets Block decrypt QUIC with them.
 */
#include "kit.h"

#include "../core/buf.h"
#include "../core/error.h"
#include "../core/xmalloc.h"

#include <arpa/inet.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <nghttp3/nghttp3.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NC_H3_HEADERS 32
#define NC_H3_PKT 1500
#define NC_H3_BURST 64 /* packets written per flush at most */
#define NC_H3_HANDSHAKE_S 10 /* seconds a handshake may take */
#define NC_H3_IDLE_S 20      /* seconds of silence that end a connection */

/* TLS 1.3 only (QUIC has no other), no middlebox compatibility mode. */
static const char nc_h3_priority[] =
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:"
    "%DISABLE_TLS13_COMPAT_MODE";
static const char nc_h3_alpn[] = "h3";

typedef struct nc_h3_stream {
    int64_t id;
    struct nc_h3_stream *next;
    char *method, *path;
    int status;
    nc_kit_header_t h[NC_H3_HEADERS]; /* names and values owned */
    size_t nh;
    nc_buf_t body;
    char *out; /* an answer's body (owned until the stream closes) */
    size_t outlen;
} nc_h3_stream_t;

struct nc_kit_h3_conn {
    nc_kit_h3_t *ep;
    nc_kit_h3_conn_t *next;
    ngtcp2_crypto_conn_ref ref;
    ngtcp2_conn *q;
    gnutls_session_t tls;
    nghttp3_conn *h3;
    uv_timer_t timer; /* freed with the connection in its close callback */
    struct sockaddr_in local, remote;
    char peer[64];
    int peer_port;
    bool ready, gone;
    nc_h3_stream_t *streams;
};

struct nc_kit_h3 {
    nc_kit_t *k;
    uv_udp_t udp; /* the endpoint is freed once it and every connection closed */
    bool server, closing, udp_closed;
    int port;
    gnutls_certificate_credentials_t cred;
    nc_kit_h3_conn_t *conns;
    size_t nconns; /* connections not freed yet (their timers close) */
    nc_kit_h3_request_cb on_request;
    nc_kit_h3_response_cb on_response;
    void (*on_ready)(nc_kit_h3_t *h, int status, void *data);
    void *data;
    size_t outstanding;
};

static void nc_h3_conn_drop(nc_kit_h3_conn_t *c);
static int nc_h3_flush(nc_kit_h3_conn_t *c);

static uint64_t nc_h3_now(void)
{
    return uv_hrtime();
}

/* ---- reports ---- */

static void nc_h3_report(nc_kit_h3_conn_t *c, const char *call, const nc_scn_kv_t *extra,
                         size_t nextra, const char *say, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static void nc_h3_report(nc_kit_h3_conn_t *c, const char *call, const nc_scn_kv_t *extra,
                         size_t nextra, const char *say, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    nc_scn_kv_t kv[10];
    size_t n = 0;
    kv[n++] = NC_KV_I("port", c->ep->port);
    kv[n++] = NC_KV_I("peer_port", c->peer_port);
    kv[n++] = NC_KV_S("transport", "quic");
    for (size_t i = 0; i < nextra && n < sizeof kv / sizeof kv[0]; i++)
        kv[n++] = extra[i];
    nc_kit_report(c->ep->k, NULL, call, kv, n, say, "%s", text);
}

/* ---- streams ---- */

static nc_h3_stream_t *nc_h3_stream(nc_kit_h3_conn_t *c, int64_t id, bool make)
{
    for (nc_h3_stream_t *st = c->streams; st; st = st->next)
        if (st->id == id)
            return st;
    if (!make)
        return NULL;
    nc_h3_stream_t *st = nc_xcalloc(1, sizeof *st);
    st->id = id;
    nc_buf_init(&st->body);
    st->next = c->streams;
    c->streams = st;
    return st;
}

static void nc_h3_stream_free(nc_h3_stream_t *st)
{
    free(st->method);
    free(st->path);
    for (size_t i = 0; i < st->nh; i++) {
        free((char *)st->h[i].name);
        free((char *)st->h[i].value);
    }
    nc_buf_done(&st->body);
    free(st->out);
    free(st);
}

static void nc_h3_stream_drop(nc_kit_h3_conn_t *c, int64_t id)
{
    for (nc_h3_stream_t **p = &c->streams; *p; p = &(*p)->next)
        if ((*p)->id == id) {
            nc_h3_stream_t *st = *p;
            *p = st->next;
            nc_h3_stream_free(st);
            return;
        }
}

static char *nc_h3_dup(const uint8_t *p, size_t n)
{
    char *s = nc_xmalloc(n + 1);
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* A :status value (three digits, not NUL-terminated) as a number. */
static int nc_h3_status(nghttp3_vec v)
{
    int code = 0;
    for (size_t i = 0; i < v.len && i < 3 && v.base[i] >= '0' && v.base[i] <= '9'; i++)
        code = code * 10 + (v.base[i] - '0');
    return code;
}

static nc_kit_http_msg_t nc_h3_view(const nc_h3_stream_t *st)
{
    return (nc_kit_http_msg_t){
        .method = st->method,
        .path = st->path,
        .status = st->status,
        .headers = st->h,
        .nheaders = st->nh,
        .body = nc_buf_cstr(&st->body),
        .body_len = st->body.len,
        .keep_alive = true,
    };
}

/* ---- nghttp3's callbacks ---- */

static int nc_h3_on_stream_close(nghttp3_conn *h3, int64_t id, uint64_t err, void *ud, void *sud)
{
    (void)h3, (void)err, (void)sud;
    nc_h3_stream_drop(ud, id);
    return 0;
}

/* Body bytes: kept, and given back to QUIC's flow control at once. */
static int nc_h3_on_data(nghttp3_conn *h3, int64_t id, const uint8_t *data, size_t len, void *ud,
                         void *sud)
{
    (void)h3, (void)sud;
    nc_kit_h3_conn_t *c = ud;
    nc_buf_append(&nc_h3_stream(c, id, true)->body, data, len);
    ngtcp2_conn_extend_max_stream_offset(c->q, id, len);
    ngtcp2_conn_extend_max_offset(c->q, len);
    return 0;
}

static int nc_h3_on_consume(nghttp3_conn *h3, int64_t id, size_t n, void *ud, void *sud)
{
    (void)h3, (void)sud;
    nc_kit_h3_conn_t *c = ud;
    ngtcp2_conn_extend_max_stream_offset(c->q, id, n);
    ngtcp2_conn_extend_max_offset(c->q, n);
    return 0;
}

static int nc_h3_on_header(nghttp3_conn *h3, int64_t id, int32_t token, nghttp3_rcbuf *name,
                           nghttp3_rcbuf *value, uint8_t flags, void *ud, void *sud)
{
    (void)h3, (void)token, (void)flags, (void)sud;
    nc_h3_stream_t *st = nc_h3_stream(ud, id, true);
    nghttp3_vec n = nghttp3_rcbuf_get_buf(name), v = nghttp3_rcbuf_get_buf(value);
    if (n.len == 7 && memcmp(n.base, ":method", 7) == 0 && !st->method)
        st->method = nc_h3_dup(v.base, v.len);
    else if (n.len == 5 && memcmp(n.base, ":path", 5) == 0 && !st->path)
        st->path = nc_h3_dup(v.base, v.len);
    else if (n.len == 7 && memcmp(n.base, ":status", 7) == 0)
        st->status = nc_h3_status(v);
    if (st->nh < NC_H3_HEADERS) {
        st->h[st->nh].name = nc_h3_dup(n.base, n.len);
        st->h[st->nh++].value = nc_h3_dup(v.base, v.len);
    }
    return 0;
}

/* A request (server) or a response (client) is whole: its stream ended. */
static int nc_h3_on_end_stream(nghttp3_conn *h3, int64_t id, void *ud, void *sud)
{
    (void)h3, (void)sud;
    nc_kit_h3_conn_t *c = ud;
    nc_kit_h3_t *ep = c->ep;
    nc_h3_stream_t *st = nc_h3_stream(c, id, true);
    nc_kit_http_msg_t m = nc_h3_view(st);
    char sid[32];
    snprintf(sid, sizeof sid, "%lld", (long long)id);
    if (ep->server) {
        nc_h3_report(c, "request",
                     (nc_scn_kv_t[]){NC_KV_I("stream", id), NC_KV_S("path", st->path ? st->path : ""),
                                     NC_KV_S("method", st->method ? st->method : "")},
                     3, NULL, "HTTP/3 request %s on stream %s: the stream's FIN came, it is whole",
                     st->path ? st->path : "?", sid);
        ep->on_request(ep, c, id, &m, ep->data);
    } else {
        if (ep->outstanding)
            ep->outstanding--;
        ep->on_response(ep, id, &m, ep->data);
    }
    return 0;
}

static int nc_h3_on_reset(nghttp3_conn *h3, int64_t id, uint64_t err, void *ud, void *sud)
{
    (void)h3, (void)err, (void)sud;
    nc_kit_h3_conn_t *c = ud;
    return ngtcp2_conn_shutdown_stream_write(c->q, id, NGHTTP3_H3_NO_ERROR) == 0 ? 0
                                                                               : NGHTTP3_ERR_CALLBACK_FAILURE;
}

static int nc_h3_setup(nc_kit_h3_conn_t *c)
{
    if (c->h3)
        return 0;
    nghttp3_callbacks cb = {
        .stream_close = nc_h3_on_stream_close,
        .recv_data = nc_h3_on_data,
        .deferred_consume = nc_h3_on_consume,
        .recv_header = nc_h3_on_header,
        .end_stream = nc_h3_on_end_stream,
        .reset_stream = nc_h3_on_reset,
    };
    nghttp3_settings set;
    nghttp3_settings_default(&set);
    int rc = c->ep->server ? nghttp3_conn_server_new(&c->h3, &cb, &set, NULL, c)
                           : nghttp3_conn_client_new(&c->h3, &cb, &set, NULL, c);
    if (rc != 0)
        return NC_EIO;
    if (c->ep->server)
        nghttp3_conn_set_max_client_streams_bidi(
            c->h3, ngtcp2_conn_get_local_transport_params(c->q)->initial_max_streams_bidi);
    /* Each side opens three unidirectional streams: control, QPACK
     * encoder, QPACK decoder. */
    int64_t ctrl, qenc, qdec;
    if (ngtcp2_conn_open_uni_stream(c->q, &ctrl, NULL) != 0 ||
        ngtcp2_conn_open_uni_stream(c->q, &qenc, NULL) != 0 ||
        ngtcp2_conn_open_uni_stream(c->q, &qdec, NULL) != 0 ||
        nghttp3_conn_bind_control_stream(c->h3, ctrl) != 0 ||
        nghttp3_conn_bind_qpack_streams(c->h3, qenc, qdec) != 0)
        return NC_EIO;
    return 0;
}

/* ---- ngtcp2's callbacks ---- */

static int nc_h3_q_stream_data(ngtcp2_conn *q, uint32_t flags, int64_t id, uint64_t off,
                               const uint8_t *data, size_t len, void *ud, void *sud)
{
    (void)off, (void)sud;
    nc_kit_h3_conn_t *c = ud;
    if (nc_h3_setup(c) != 0)
        return NGTCP2_ERR_CALLBACK_FAILURE;
    nghttp3_ssize n =
        nghttp3_conn_read_stream(c->h3, id, data, len, flags & NGTCP2_STREAM_DATA_FLAG_FIN);
    if (n < 0) {
        ngtcp2_conn_set_tls_error(q, (int)n);
        return NGTCP2_ERR_CALLBACK_FAILURE;
    }
    ngtcp2_conn_extend_max_stream_offset(q, id, (uint64_t)n);
    ngtcp2_conn_extend_max_offset(q, (uint64_t)n);
    return 0;
}

static int nc_h3_q_acked(ngtcp2_conn *q, int64_t id, uint64_t off, uint64_t len, void *ud,
                         void *sud)
{
    (void)q, (void)off, (void)sud;
    nc_kit_h3_conn_t *c = ud;
    if (c->h3 && nghttp3_conn_add_ack_offset(c->h3, id, len) != 0)
        return NGTCP2_ERR_CALLBACK_FAILURE;
    return 0;
}

static int nc_h3_q_stream_close(ngtcp2_conn *q, uint32_t flags, int64_t id, uint64_t err,
                                void *ud, void *sud)
{
    (void)q, (void)sud;
    nc_kit_h3_conn_t *c = ud;
    if (!(flags & NGTCP2_STREAM_CLOSE_FLAG_APP_ERROR_CODE_SET))
        err = NGHTTP3_H3_NO_ERROR;
    if (c->h3) {
        int rc = nghttp3_conn_close_stream(c->h3, id, err);
        if (rc != 0 && rc != NGHTTP3_ERR_STREAM_NOT_FOUND)
            return NGTCP2_ERR_CALLBACK_FAILURE;
    }
    return 0;
}

static int nc_h3_q_stream_reset(ngtcp2_conn *q, int64_t id, uint64_t size, uint64_t err,
                                void *ud, void *sud)
{
    (void)q, (void)size, (void)err, (void)sud;
    nc_kit_h3_conn_t *c = ud;
    if (c->h3 && nghttp3_conn_shutdown_stream_read(c->h3, id) != 0)
        return NGTCP2_ERR_CALLBACK_FAILURE;
    return 0;
}

static int nc_h3_q_stop_sending(ngtcp2_conn *q, int64_t id, uint64_t err, void *ud, void *sud)
{
    return nc_h3_q_stream_reset(q, id, 0, err, ud, sud);
}

static int nc_h3_q_extend(ngtcp2_conn *q, int64_t id, uint64_t max, void *ud, void *sud)
{
    (void)q, (void)max, (void)sud;
    nc_kit_h3_conn_t *c = ud;
    if (c->h3 && nghttp3_conn_unblock_stream(c->h3, id) != 0)
        return NGTCP2_ERR_CALLBACK_FAILURE;
    return 0;
}

static void nc_h3_q_rand(uint8_t *dest, size_t len, const ngtcp2_rand_ctx *ctx)
{
    (void)ctx;
    gnutls_rnd(GNUTLS_RND_RANDOM, dest, len);
}

static int nc_h3_q_new_cid(ngtcp2_conn *q, ngtcp2_cid *cid, uint8_t *token, size_t len, void *ud)
{
    (void)q, (void)ud;
    if (gnutls_rnd(GNUTLS_RND_RANDOM, cid->data, len) != 0 ||
        gnutls_rnd(GNUTLS_RND_RANDOM, token, NGTCP2_STATELESS_RESET_TOKENLEN) != 0)
        return NGTCP2_ERR_CALLBACK_FAILURE;
    cid->datalen = len;
    return 0;
}

static int nc_h3_q_handshake_done(ngtcp2_conn *q, void *ud)
{
    nc_kit_h3_conn_t *c = ud;
    c->ready = true;
    if (nc_h3_setup(c) != 0)
        return NGTCP2_ERR_CALLBACK_FAILURE;
    gnutls_datum_t alpn = {0};
    char alp[32] = "";
    if (gnutls_alpn_get_selected_protocol(c->tls, &alpn) == 0)
        snprintf(alp, sizeof alp, "%.*s", (int)alpn.size, (const char *)alpn.data);
    const char *cipher = gnutls_cipher_get_name(gnutls_cipher_get(c->tls));
    ngtcp2_conn_stat cs;
    ngtcp2_conn_get_conn_stat(q, &cs);
    double rtt = (double)cs.min_rtt / 1e6;
    char text[300];
    snprintf(text, sizeof text,
             "the QUIC handshake with %s is done: TLS 1.3 inside QUIC (%s, ALPN %s)%s", c->peer,
             cipher ? cipher : "?", alp, c->ep->server ? "" : "; requests may go now");
    nc_h3_report(c, "handshake",
                 (nc_scn_kv_t[]){NC_KV_S("version", "QUIC v1, TLS 1.3"),
                                 NC_KV_S("cipher", cipher ? cipher : ""), NC_KV_S("alpn", alp),
                                 NC_KV_I("rtt_ms", (int64_t)(rtt + 0.5))},
                 c->ep->server ? 3 : 4, NULL, "%s", text);
    if (!c->ep->server && c->ep->on_ready)
        c->ep->on_ready(c->ep, 0, c->ep->data);
    return 0;
}

static ngtcp2_conn *nc_h3_get_conn(ngtcp2_crypto_conn_ref *ref)
{
    nc_kit_h3_conn_t *c = ref->user_data;
    return c->q;
}

/* Every secret the handshake derives, as an SSLKEYLOGFILE line. */
static int nc_h3_keylog(gnutls_session_t s, const char *label, const gnutls_datum_t *secret)
{
    ngtcp2_crypto_conn_ref *ref = gnutls_session_get_ptr(s);
    nc_kit_h3_conn_t *c = ref->user_data;
    gnutls_datum_t cr, sr;
    gnutls_session_get_random(s, &cr, &sr);
    if (cr.size != 32 || secret->size > 64)
        return 0;
    char line[64 + 1 + 64 + 1 + 128 + 1];
    size_t o = (size_t)snprintf(line, sizeof line, "%s ", label);
    for (unsigned i = 0; i < cr.size && o + 3 < sizeof line; i++)
        o += (size_t)snprintf(line + o, sizeof line - o, "%02x", cr.data[i]);
    line[o++] = ' ';
    for (unsigned i = 0; i < secret->size && o + 3 < sizeof line; i++)
        o += (size_t)snprintf(line + o, sizeof line - o, "%02x", secret->data[i]);
    line[o] = '\0';
    nc_scn_keylog(nc_kit_scn(c->ep->k), line);
    return 0;
}

/* ---- the TLS side ---- */

/* A key and a certificate naming cn, valid for a day, signed by itself. */
static int nc_h3_self_signed(gnutls_certificate_credentials_t cred, const char *cn)
{
    gnutls_x509_privkey_t key = NULL;
    gnutls_x509_crt_t crt = NULL;
    time_t now = time(NULL);
    int ok = gnutls_x509_privkey_init(&key) == 0 &&
             gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
                                          GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) ==
                 0 &&
             gnutls_x509_crt_init(&crt) == 0 && gnutls_x509_crt_set_version(crt, 3) == 0 &&
             gnutls_x509_crt_set_serial(crt, "\x01", 1) == 0 &&
             gnutls_x509_crt_set_activation_time(crt, now - 3600) == 0 &&
             gnutls_x509_crt_set_expiration_time(crt, now + 24 * 3600) == 0 &&
             gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
                                           (unsigned)strlen(cn)) == 0 &&
             gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 0,
                                           "netcourse lab", 13) == 0 &&
             gnutls_x509_crt_set_key(crt, key) == 0 &&
             gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0) == 0 &&
             gnutls_certificate_set_x509_key(cred, &crt, 1, key) == 0;
    if (crt)
        gnutls_x509_crt_deinit(crt);
    if (key)
        gnutls_x509_privkey_deinit(key);
    return ok ? 0 : NC_EIO;
}

static int nc_h3_tls(nc_kit_h3_conn_t *c)
{
    bool server = c->ep->server;
    if (gnutls_init(&c->tls, (server ? GNUTLS_SERVER : GNUTLS_CLIENT) |
                                 GNUTLS_NO_END_OF_EARLY_DATA) != 0) {
        c->tls = NULL;
        return NC_EIO;
    }
    gnutls_datum_t alpn = {(unsigned char *)nc_h3_alpn, sizeof nc_h3_alpn - 1};
    int ok = gnutls_priority_set_direct(c->tls, nc_h3_priority, NULL) == 0 &&
             (server ? ngtcp2_crypto_gnutls_configure_server_session(c->tls)
                     : ngtcp2_crypto_gnutls_configure_client_session(c->tls)) == 0 &&
             gnutls_credentials_set(c->tls, GNUTLS_CRD_CERTIFICATE, c->ep->cred) == 0 &&
             gnutls_alpn_set_protocols(c->tls, &alpn, 1, GNUTLS_ALPN_MANDATORY) == 0;
    if (!ok)
        return NC_EIO;
    c->ref.get_conn = nc_h3_get_conn;
    c->ref.user_data = c;
    gnutls_session_set_ptr(c->tls, &c->ref);
    gnutls_session_set_keylog_function(c->tls, nc_h3_keylog);
    if (!server)
        gnutls_server_name_set(c->tls, GNUTLS_NAME_DNS, c->peer, strcspn(c->peer, ":"));
    return 0;
}

/* ---- connections ---- */

static void nc_h3_timer_cb(uv_timer_t *t);

static void nc_h3_ep_maybe_free(nc_kit_h3_t *ep)
{
    if (!ep->udp_closed || ep->nconns > 0)
        return;
    if (ep->cred)
        gnutls_certificate_free_credentials(ep->cred);
    free(ep);
}

static void nc_h3_conn_freed(uv_handle_t *h)
{
    nc_kit_h3_conn_t *c = h->data;
    nc_kit_h3_t *ep = c->ep;
    while (c->streams) {
        nc_h3_stream_t *st = c->streams;
        c->streams = st->next;
        nc_h3_stream_free(st);
    }
    if (c->h3)
        nghttp3_conn_del(c->h3);
    if (c->q)
        ngtcp2_conn_del(c->q);
    if (c->tls)
        gnutls_deinit(c->tls);
    free(c);
    ep->nconns--;
    nc_h3_ep_maybe_free(ep);
}

static nc_kit_h3_conn_t *nc_h3_conn_new(nc_kit_h3_t *ep, const struct sockaddr_in *remote)
{
    nc_kit_h3_conn_t *c = nc_xcalloc(1, sizeof *c);
    c->ep = ep;
    c->remote = *remote;
    int len = sizeof c->local;
    uv_udp_getsockname(&ep->udp, (struct sockaddr *)&c->local, &len);
    if (ep->server || c->local.sin_addr.s_addr == 0) {
        /* A socket bound to any address: the lab host's own. */
        inet_pton(AF_INET, nc_scn_addr(nc_kit_scn(ep->k), nc_kit_host(ep->k)),
                  &c->local.sin_addr);
    }
    char ip[INET_ADDRSTRLEN] = "?";
    inet_ntop(AF_INET, &remote->sin_addr, ip, sizeof ip);
    c->peer_port = ntohs(remote->sin_port);
    snprintf(c->peer, sizeof c->peer, "%s:%d", ip, c->peer_port);
    uv_timer_init(nc_kit_loop(ep->k), &c->timer);
    c->timer.data = c;
    c->next = ep->conns;
    ep->conns = c;
    ep->nconns++;
    return c;
}

static void nc_h3_conn_unlink(nc_kit_h3_conn_t *c)
{
    for (nc_kit_h3_conn_t **p = &c->ep->conns; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            return;
        }
}

/* Forgets the connection: its timer closes and frees it. */
static void nc_h3_conn_drop(nc_kit_h3_conn_t *c)
{
    if (c->gone)
        return;
    c->gone = true;
    nc_h3_conn_unlink(c);
    uv_close((uv_handle_t *)&c->timer, nc_h3_conn_freed);
}

static ngtcp2_path nc_h3_path(nc_kit_h3_conn_t *c)
{
    return (ngtcp2_path){
        {(ngtcp2_sockaddr *)&c->local, sizeof c->local},
        {(ngtcp2_sockaddr *)&c->remote, sizeof c->remote},
        NULL,
    };
}

static void nc_h3_settings(ngtcp2_settings *s, ngtcp2_transport_params *p)
{
    ngtcp2_settings_default(s);
    s->initial_ts = nc_h3_now();
    /* No path MTU probes: every packet on the wire is one the lesson
     * explains (the lab's MTU is known anyway). */
    s->no_pmtud = 1;
    /* A server that never answers (nothing on the port: UDP sends no
     * refusal the client would see) fails the handshake after this. */
    s->handshake_timeout = NC_H3_HANDSHAKE_S * NGTCP2_SECONDS;
    ngtcp2_transport_params_default(p);
    p->initial_max_stream_data_bidi_local = 256 * 1024;
    p->initial_max_stream_data_bidi_remote = 256 * 1024;
    p->initial_max_stream_data_uni = 256 * 1024;
    p->initial_max_data = 1024 * 1024;
    p->initial_max_streams_bidi = 100;
    p->initial_max_streams_uni = 3;
    p->max_idle_timeout = NC_H3_IDLE_S * NGTCP2_SECONDS;
}

/* ngtcp2's callbacks: the crypto helper's, and ours that feed nghttp3. */
static ngtcp2_callbacks nc_h3_callbacks(bool server)
{
    ngtcp2_callbacks cb = {
        .recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb,
        .handshake_completed = nc_h3_q_handshake_done,
        .encrypt = ngtcp2_crypto_encrypt_cb,
        .decrypt = ngtcp2_crypto_decrypt_cb,
        .hp_mask = ngtcp2_crypto_hp_mask_cb,
        .recv_stream_data = nc_h3_q_stream_data,
        .acked_stream_data_offset = nc_h3_q_acked,
        .stream_close = nc_h3_q_stream_close,
        .rand = nc_h3_q_rand,
        .get_new_connection_id = nc_h3_q_new_cid,
        .update_key = ngtcp2_crypto_update_key_cb,
        .stream_reset = nc_h3_q_stream_reset,
        .extend_max_stream_data = nc_h3_q_extend,
        .delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb,
        .delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb,
        .get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb,
        .stream_stop_sending = nc_h3_q_stop_sending,
        .version_negotiation = ngtcp2_crypto_version_negotiation_cb,
    };
    if (server) {
        cb.recv_client_initial = ngtcp2_crypto_recv_client_initial_cb;
    } else {
        cb.client_initial = ngtcp2_crypto_client_initial_cb;
        cb.recv_retry = ngtcp2_crypto_recv_retry_cb;
    }
    return cb;
}

/* Re-arms the connection's timer for ngtcp2's next deadline. */
static void nc_h3_arm(nc_kit_h3_conn_t *c)
{
    if (c->gone)
        return;
    ngtcp2_tstamp exp = ngtcp2_conn_get_expiry(c->q), now = nc_h3_now();
    if (exp == UINT64_MAX) {
        uv_timer_stop(&c->timer);
        return;
    }
    uint64_t ms = exp > now ? (exp - now + 999999) / 1000000 : 0;
    uv_timer_start(&c->timer, nc_h3_timer_cb, ms, 0);
}

static int nc_h3_send(nc_kit_h3_conn_t *c, const uint8_t *p, size_t n)
{
    uv_buf_t b = uv_buf_init((char *)p, (unsigned)n);
    int rc = uv_udp_try_send(&c->ep->udp, &b, 1, (const struct sockaddr *)&c->remote);
    return rc < 0 ? rc : 0;
}

/*
 * Writes every packet the connection owes: nghttp3's stream data (one
 * stream's frames a packet), ACKs, retransmissions, control frames.
 */
static int nc_h3_flush(nc_kit_h3_conn_t *c)
{
    if (c->gone)
        return 0;
    uint8_t buf[NC_H3_PKT];
    ngtcp2_path_storage ps;
    ngtcp2_path_storage_zero(&ps);
    size_t max = ngtcp2_conn_get_max_tx_udp_payload_size(c->q);
    if (max > sizeof buf)
        max = sizeof buf;
    for (int pkts = 0; pkts < NC_H3_BURST;) {
        int64_t sid = -1;
        int fin = 0;
        nghttp3_vec vec[16];
        nghttp3_ssize nv = 0;
        if (c->h3 && ngtcp2_conn_get_max_data_left(c->q)) {
            nv = nghttp3_conn_writev_stream(c->h3, &sid, &fin, vec, 16);
            if (nv < 0)
                return NC_EIO;
        }
        ngtcp2_ssize used = -1;
        ngtcp2_pkt_info pi;
        ngtcp2_ssize n = ngtcp2_conn_writev_stream(
            c->q, &ps.path, &pi, buf, max, &used,
            fin ? NGTCP2_WRITE_STREAM_FLAG_FIN : NGTCP2_WRITE_STREAM_FLAG_NONE, sid,
            (const ngtcp2_vec *)vec, (size_t)nv, nc_h3_now());
        if (n < 0) {
            if (n == NGTCP2_ERR_STREAM_DATA_BLOCKED) {
                nghttp3_conn_block_stream(c->h3, sid);
                continue;
            }
            if (n == NGTCP2_ERR_STREAM_SHUT_WR) {
                nghttp3_conn_shutdown_stream_write(c->h3, sid);
                continue;
            }
            return NC_EIO;
        }
        if (used >= 0 && sid >= 0 && nghttp3_conn_add_write_offset(c->h3, sid, (size_t)used) != 0)
            return NC_EIO;
        if (n == 0)
            break;
        nc_h3_send(c, buf, (size_t)n);
        pkts++;
    }
    nc_h3_arm(c);
    return 0;
}

/* The connection failed or was closed by the peer: say so, drop it. */
static void nc_h3_conn_end(nc_kit_h3_conn_t *c, int rc)
{
    if (c->gone)
        return;
    nc_kit_h3_t *ep = c->ep;
    if (rc == NGTCP2_ERR_DRAINING)
        nc_h3_report(c, "close", NULL, 0, NULL, "%s closed the QUIC connection "
                                                "(CONNECTION_CLOSE)", c->peer);
    else if (rc == NGTCP2_ERR_HANDSHAKE_TIMEOUT || rc == NGTCP2_ERR_IDLE_CLOSE)
        nc_h3_report(c, "close", NULL, 0, NULL,
                     "nothing came back from %s for %d s: the QUIC connection gives up (when "
                     "no server listens, UDP tells the client nothing)", c->peer,
                     rc == NGTCP2_ERR_IDLE_CLOSE ? NC_H3_IDLE_S : NC_H3_HANDSHAKE_S);
    else
        nc_h3_report(c, "close", NULL, 0, NULL, "the QUIC connection with %s failed (%s)",
                     c->peer, ngtcp2_strerror(rc));
    nc_h3_conn_drop(c); /* freed once its timer has closed, after this turn */
    /* A client's owner hears of it, before or after its handshake. */
    if (!ep->server && ep->on_ready)
        ep->on_ready(ep, NC_EIO, ep->data);
}

static void nc_h3_timer_cb(uv_timer_t *t)
{
    nc_kit_h3_conn_t *c = t->data;
    int rc = ngtcp2_conn_handle_expiry(c->q, nc_h3_now());
    if (rc != 0) {
        nc_h3_conn_end(c, rc);
        return;
    }
    if (nc_h3_flush(c) != 0)
        nc_h3_conn_end(c, NGTCP2_ERR_INTERNAL);
}

/* A server's new connection, from the client's first Initial packet. */
static nc_kit_h3_conn_t *nc_h3_accept(nc_kit_h3_t *ep, const struct sockaddr_in *from,
                                      const uint8_t *p, size_t n)
{
    ngtcp2_pkt_hd hd;
    if (ngtcp2_accept(&hd, p, n) != 0)
        return NULL;
    nc_kit_h3_conn_t *c = nc_h3_conn_new(ep, from);
    ngtcp2_settings set;
    ngtcp2_transport_params params;
    nc_h3_settings(&set, &params);
    params.original_dcid = hd.dcid;
    ngtcp2_cid scid = {.datalen = 8};
    gnutls_rnd(GNUTLS_RND_RANDOM, scid.data, scid.datalen);
    ngtcp2_path path = nc_h3_path(c);
    ngtcp2_callbacks cbs = nc_h3_callbacks(true);
    if (nc_h3_tls(c) != 0 ||
        ngtcp2_conn_server_new(&c->q, &hd.scid, &scid, &path, hd.version, &cbs, &set, &params,
                               NULL, c) != 0) {
        nc_h3_report(c, "accept", NULL, 0, NULL, "the server could not set up QUIC for %s",
                     c->peer);
        nc_h3_conn_drop(c);
        return NULL;
    }
    ngtcp2_conn_set_tls_native_handle(c->q, c->tls);
    nc_h3_report(c, "accept", NULL, 0, NULL,
                 "a QUIC Initial packet from %s: the server starts a connection for it (no "
                 "accept() on UDP: the packet itself opens it)", c->peer);
    return c;
}

static void nc_h3_alloc(uv_handle_t *h, size_t want, uv_buf_t *b)
{
    (void)h, (void)want;
    b->base = nc_xmalloc(65536);
    b->len = 65536;
}

static void nc_h3_recv(uv_udp_t *u, ssize_t n, const uv_buf_t *b, const struct sockaddr *addr,
                       unsigned flags)
{
    (void)flags;
    nc_kit_h3_t *ep = u->data;
    if (n <= 0 || addr == NULL || addr->sa_family != AF_INET || ep->closing) {
        free(b->base);
        return;
    }
    const struct sockaddr_in *from = (const struct sockaddr_in *)addr;
    nc_kit_h3_conn_t *c = ep->conns;
    while (c && (c->remote.sin_addr.s_addr != from->sin_addr.s_addr ||
                 c->remote.sin_port != from->sin_port))
        c = c->next;
    if (!c && ep->server)
        c = nc_h3_accept(ep, from, (const uint8_t *)b->base, (size_t)n);
    if (c) {
        ngtcp2_path path = nc_h3_path(c);
        ngtcp2_pkt_info pi = {0};
        int rc = ngtcp2_conn_read_pkt(c->q, &path, &pi, (const uint8_t *)b->base, (size_t)n,
                                      nc_h3_now());
        if (rc != 0)
            nc_h3_conn_end(c, rc);
        else if (nc_h3_flush(c) != 0)
            nc_h3_conn_end(c, NGTCP2_ERR_INTERNAL);
    }
    free(b->base);
}

/* ---- endpoints ---- */

static void nc_h3_udp_closed(uv_handle_t *h)
{
    nc_kit_h3_t *ep = h->data;
    ep->udp_closed = true;
    nc_h3_ep_maybe_free(ep);
}

static nc_kit_h3_t *nc_h3_ep_new(nc_kit_t *k, bool server, int port)
{
    nc_kit_h3_t *ep = nc_xcalloc(1, sizeof *ep);
    ep->k = k;
    ep->server = server;
    uv_udp_init(nc_kit_loop(k), &ep->udp);
    ep->udp.data = ep;
    struct sockaddr_in a;
    uv_ip4_addr("0.0.0.0", port, &a);
    int rc = uv_udp_bind(&ep->udp, (const struct sockaddr *)&a, 0);
    if (rc == 0)
        rc = uv_udp_recv_start(&ep->udp, nc_h3_alloc, nc_h3_recv);
    struct sockaddr_in me;
    int len = sizeof me;
    if (rc == 0 && uv_udp_getsockname(&ep->udp, (struct sockaddr *)&me, &len) == 0)
        ep->port = ntohs(me.sin_port);
    if (rc == 0)
        rc = gnutls_certificate_allocate_credentials(&ep->cred) == 0 ? 0 : UV_ENOMEM;
    if (rc == 0 && server && nc_h3_self_signed(ep->cred, nc_kit_host(k)) != 0)
        rc = UV_EINVAL;
    if (rc != 0) {
        nc_scn_fail(nc_kit_scn(k), "%s: cannot %s UDP port %d for QUIC: %s", nc_kit_host(k),
                    server ? "bind" : "use", port, uv_strerror(rc));
        ep->closing = true;
        uv_close((uv_handle_t *)&ep->udp, nc_h3_udp_closed);
        return NULL;
    }
    return ep;
}

nc_kit_h3_t *nc_kit_h3_listen(nc_kit_t *k, int port, nc_kit_h3_request_cb cb, void *data,
                              const char *say)
{
    nc_scn_call_begin("bind");
    nc_kit_h3_t *ep = nc_h3_ep_new(k, true, port);
    if (!ep)
        return NULL;
    ep->on_request = cb;
    ep->data = data;
    nc_kit_report(k, NULL, "bind", (nc_scn_kv_t[]){NC_KV_I("port", ep->port),
                                                   NC_KV_S("transport", "quic")},
                  2, say,
                  "bind() UDP port %d: the HTTP/3 server waits for QUIC Initial packets (no "
                  "listen(), no accept queue: UDP has no connections)", ep->port);
    return ep;
}

nc_kit_h3_t *nc_kit_h3_connect(nc_kit_t *k, const char *host, int port,
                               void (*on_ready)(nc_kit_h3_t *h, int status, void *data),
                               nc_kit_h3_response_cb cb, void *data, const char *say)
{
    struct sockaddr_in to;
    const char *addr = nc_scn_addr(nc_kit_scn(k), host);
    if (!addr || uv_ip4_addr(addr, port, &to) != 0) {
        nc_scn_fail(nc_kit_scn(k), "%s: no address for %s", nc_kit_host(k), host);
        return NULL;
    }
    nc_kit_h3_t *ep = nc_h3_ep_new(k, false, 0);
    if (!ep)
        return NULL;
    ep->on_ready = on_ready;
    ep->on_response = cb;
    ep->data = data;
    nc_kit_h3_conn_t *c = nc_h3_conn_new(ep, &to);
    snprintf(c->peer, sizeof c->peer, "%s:%d", host, port);
    ngtcp2_settings set;
    ngtcp2_transport_params params;
    nc_h3_settings(&set, &params);
    ngtcp2_cid dcid = {.datalen = 16}, scid = {.datalen = 8};
    gnutls_rnd(GNUTLS_RND_RANDOM, dcid.data, dcid.datalen);
    gnutls_rnd(GNUTLS_RND_RANDOM, scid.data, scid.datalen);
    ngtcp2_path path = nc_h3_path(c);
    ngtcp2_callbacks cbs = nc_h3_callbacks(false);
    nc_scn_call_begin("connect");
    if (nc_h3_tls(c) != 0 ||
        ngtcp2_conn_client_new(&c->q, &dcid, &scid, &path, NGTCP2_PROTO_VER_V1,
                               &cbs, &set, &params, NULL, c) != 0) {
        nc_scn_fail(nc_kit_scn(k), "%s: cannot set up a QUIC client", nc_kit_host(k));
        nc_h3_conn_drop(c);
        ep->closing = true;
        uv_close((uv_handle_t *)&ep->udp, nc_h3_udp_closed);
        return NULL;
    }
    ngtcp2_conn_set_tls_native_handle(c->q, c->tls);
    nc_h3_report(c, "connect", NULL, 0, say,
                 "the client sends a QUIC Initial packet (its TLS ClientHello, padded to 1200 "
                 "bytes) from UDP port %d to %s: the handshake starts with no TCP handshake "
                 "before it", ep->port, c->peer);
    if (nc_h3_flush(c) != 0) {
        nc_h3_conn_end(c, NGTCP2_ERR_INTERNAL);
        return ep;
    }
    return ep;
}

/* nghttp3's name/value pairs for the pseudo-headers and headers given. */
static size_t nc_h3_nv(nghttp3_nv *nv, size_t max, const char *const *pseudo, size_t npseudo,
                       const nc_kit_header_t *hd, size_t nh)
{
    size_t n = 0;
    for (size_t i = 0; i + 1 < npseudo * 2 && n < max; i += 2)
        nv[n++] = (nghttp3_nv){(uint8_t *)pseudo[i], (uint8_t *)pseudo[i + 1], strlen(pseudo[i]),
                               strlen(pseudo[i + 1]), NGHTTP3_NV_FLAG_NONE};
    for (size_t i = 0; i < nh && n < max; i++)
        nv[n++] = (nghttp3_nv){(uint8_t *)hd[i].name, (uint8_t *)hd[i].value, strlen(hd[i].name),
                               strlen(hd[i].value), NGHTTP3_NV_FLAG_NONE};
    return n;
}

int64_t nc_kit_h3_submit(nc_kit_h3_t *h, const char *method, const char *path,
                         const nc_kit_header_t *hd, size_t nh, const char *say)
{
    nc_kit_h3_conn_t *c = h->conns;
    if (!c || !c->h3 || h->server)
        return NC_EINVAL;
    int64_t id;
    if (ngtcp2_conn_open_bidi_stream(c->q, &id, NULL) != 0)
        return NC_EIO;
    char authority[80];
    snprintf(authority, sizeof authority, "%s", c->peer);
    const char *pseudo[] = {":method", method, ":scheme", "https", ":authority", authority,
                            ":path", path};
    nghttp3_nv nv[NC_H3_HEADERS];
    size_t n = nc_h3_nv(nv, NC_H3_HEADERS, pseudo, 4, hd, nh);
    if (nghttp3_conn_submit_request(c->h3, id, nv, n, NULL, NULL) != 0)
        return NC_EIO;
    nc_h3_stream(c, id, true)->path = nc_xstrdup(path);
    h->outstanding++;
    char sid[32];
    snprintf(sid, sizeof sid, "%lld", (long long)id);
    nc_h3_report(c, "request", (nc_scn_kv_t[]){NC_KV_I("stream", id), NC_KV_S("path", path),
                                               NC_KV_S("method", method)},
                 3, say, "HTTP/3 %s on stream %s: a QUIC stream of its own, sent with its FIN",
                 path, sid);
    return id;
}

int nc_kit_h3_send(nc_kit_h3_t *h)
{
    int rc = 0;
    for (nc_kit_h3_conn_t *c = h->conns, *next; c; c = next) {
        next = c->next;
        if (nc_h3_flush(c) != 0) {
            nc_h3_conn_end(c, NGTCP2_ERR_INTERNAL);
            rc = NC_EIO;
        }
    }
    return rc;
}

static nghttp3_ssize nc_h3_body(nghttp3_conn *h3, int64_t id, nghttp3_vec *vec, size_t nvec,
                                uint32_t *flags, void *ud, void *sud)
{
    (void)h3, (void)nvec, (void)sud;
    nc_h3_stream_t *st = nc_h3_stream(ud, id, false);
    *flags |= NGHTTP3_DATA_FLAG_EOF;
    if (!st || st->outlen == 0)
        return 0;
    vec[0].base = (uint8_t *)st->out;
    vec[0].len = st->outlen;
    return 1;
}

int nc_kit_h3_respond(nc_kit_h3_conn_t *c, int64_t id, int status, const nc_kit_header_t *hd,
                      size_t nh, const char *body, size_t len)
{
    nc_h3_stream_t *st = nc_h3_stream(c, id, true);
    char code[8];
    snprintf(code, sizeof code, "%d", status);
    const char *pseudo[] = {":status", code};
    nghttp3_nv nv[NC_H3_HEADERS];
    size_t n = nc_h3_nv(nv, NC_H3_HEADERS, pseudo, 1, hd, nh);
    free(st->out);
    st->out = nc_xmalloc(len ? len : 1);
    memcpy(st->out, body, len);
    st->outlen = len;
    nghttp3_data_reader dr = {.read_data = nc_h3_body};
    if (nghttp3_conn_submit_response(c->h3, id, nv, n, &dr) != 0)
        return NC_EINVAL;
    char sid[32], what[64];
    snprintf(sid, sizeof sid, "%lld", (long long)id);
    snprintf(what, sizeof what, "%d with %zu bytes", status, len);
    nc_h3_report(c, "respond",
                 (nc_scn_kv_t[]){NC_KV_I("stream", id), NC_KV_I("status", status),
                                 NC_KV_I("bytes", (int64_t)len)},
                 3, NULL, "HTTP/3 answer %s on stream %s (HEADERS and DATA frames, then the "
                          "stream's FIN)", what, sid);
    return 0;
}

size_t nc_kit_h3_outstanding(const nc_kit_h3_t *h)
{
    return h->outstanding;
}

double nc_kit_h3_min_rtt_ms(const nc_kit_h3_t *h)
{
    if (!h->conns || !h->conns->q)
        return 0;
    ngtcp2_conn_stat cs;
    ngtcp2_conn_get_conn_stat(h->conns->q, &cs);
    return (double)cs.min_rtt / 1e6;
}

int nc_kit_h3_port(const nc_kit_h3_t *h)
{
    return h->port;
}

/* Sends CONNECTION_CLOSE (H3_NO_ERROR) on every connection still open, then
 * closes the socket; the endpoint frees itself once its handles closed. */
void nc_kit_h3_close(nc_kit_h3_t *h, const char *say)
{
    if (!h || h->closing)
        return;
    h->closing = true;
    while (h->conns) {
        nc_kit_h3_conn_t *c = h->conns;
        if (c->q && !ngtcp2_conn_is_in_closing_period(c->q) &&
            !ngtcp2_conn_is_in_draining_period(c->q)) {
            uint8_t buf[NC_H3_PKT];
            ngtcp2_connection_close_error ce;
            ngtcp2_connection_close_error_set_application_error(&ce, NGHTTP3_H3_NO_ERROR, NULL,
                                                                0);
            ngtcp2_path_storage ps;
            ngtcp2_path_storage_zero(&ps);
            ngtcp2_pkt_info pi;
            ngtcp2_ssize n = ngtcp2_conn_write_connection_close(c->q, &ps.path, &pi, buf,
                                                                sizeof buf, &ce, nc_h3_now());
            if (n > 0) {
                nc_h3_report(c, "close", NULL, 0, say,
                             "the %s closes the QUIC connection with %s: one CONNECTION_CLOSE "
                             "frame, no FIN handshake", h->server ? "server" : "client", c->peer);
                nc_h3_send(c, buf, (size_t)n);
            }
        }
        nc_h3_conn_drop(c);
    }
    uv_close((uv_handle_t *)&h->udp, nc_h3_udp_closed);
}
