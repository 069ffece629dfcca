/*
 * tls.c: TLS for the kit's connections, OpenSSL over libuv.
 *
 * Data model. An nc_kit_tls_t sits under one nc_kit_conn_t (which owns it
 * and frees it in its close callback). It holds an SSL object whose two
 * memory BIOs stand for the socket: bytes the connection reads go into the
 * read BIO (nc__kit_tls_feed), and whatever OpenSSL puts into the write BIO
 * (handshake messages, records, alerts) is written to the socket as it is
 * (flush). Until the handshake is done, plaintext the owner writes waits in
 * `pending`; after it, each write is one SSL_write, and each batch of
 * records read is drained with SSL_read into the owner's on_data, as if the
 * socket had carried plaintext.
 *
 * Each connection gets its own SSL_CTX: the lesson picks the version (1.2
 * or 1.3) and ALPN per statement, and a server's certificate is made at
 * run time (an EC P-256 key, self-signed, naming the lab host), so nothing
 * needs files. The keylog callback hands every secret line to the run
 * (nc_scn_keylog): the live decoder decrypts the capture with them and a
 * saved run carries them in a Decryption Secrets Block.
 *
 * Resumption and 0-RTT (TLS 1.3). Every server context shares one ticket
 * key (made once per process), so a ticket one connection got opens the
 * next. Clients keep the newest ticket of each server (by the peer's name,
 * "server:8414") in nc_tls_tickets, a small table under a mutex that owns
 * its SSL_SESSION references for the life of the process. A client with
 * `early` and a ticket that allows early data holds its ClientHello back
 * until the owner's first write, which leaves with it as early data
 * (SSL_write_early_data; a copy is kept in `early` and written again if the
 * server refuses it), and tells the owner it is ready at once. A server
 * with `early` reads early data (SSL_read_early_data) before the handshake
 * ends, hands it to the owner, and writes what the owner answers at once,
 * right behind its own flight (0.5-RTT data).
 */
#include "kit.h"
#include "kit_impl.h"

#include "../core/error.h"
#include "../core/xmalloc.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct nc_kit_tls {
    nc_kit_conn_t *c; /* the connection that owns this */
    SSL_CTX *ctx;
    SSL *ssl;
    BIO *rbio, *wbio; /* owned by ssl */
    bool server, ready, failed, notified;
    nc_kit_tls_ready_cb cb;
    void *data;
    char *pending; /* plaintext written before the handshake ended */
    size_t npending;
    uint8_t alpn_wire[64]; /* the protocols, as ALPN puts them on the wire */
    size_t alpn_len;
    char alpn[32];         /* the protocol chosen */
    bool early_server;     /* a server that reads early data, until it ends */
    bool early_client;     /* a client holding its ClientHello for early data */
    char *early;           /* early data sent, to send again when refused */
    size_t nearly;
    char peer[64];         /* a client's ticket key: the peer's name */
};

/* The newest ticket of each server a kit client met, in this process. */
#define NC_TLS_TICKETS 16
static struct {
    char peer[64];
    SSL_SESSION *sess; /* one reference owned here */
} nc_tls_tickets[NC_TLS_TICKETS];
static size_t nc_tls_nexttk;
static pthread_mutex_t nc_tls_tk_lock = PTHREAD_MUTEX_INITIALIZER;

/* Keeps sess (taking the caller's reference) as peer's newest ticket. */
static void tls_ticket_put(const char *peer, SSL_SESSION *sess)
{
    pthread_mutex_lock(&nc_tls_tk_lock);
    size_t k = 0;
    while (k < NC_TLS_TICKETS && strcmp(nc_tls_tickets[k].peer, peer) != 0)
        k++;
    if (k == NC_TLS_TICKETS)
        k = nc_tls_nexttk++ % NC_TLS_TICKETS;
    SSL_SESSION_free(nc_tls_tickets[k].sess);
    snprintf(nc_tls_tickets[k].peer, sizeof nc_tls_tickets[k].peer, "%s", peer);
    nc_tls_tickets[k].sess = sess;
    pthread_mutex_unlock(&nc_tls_tk_lock);
}

/* peer's newest ticket with a reference for the caller, or NULL. */
static SSL_SESSION *tls_ticket_get(const char *peer)
{
    SSL_SESSION *s = NULL;
    pthread_mutex_lock(&nc_tls_tk_lock);
    for (size_t k = 0; k < NC_TLS_TICKETS && !s; k++)
        if (nc_tls_tickets[k].sess && strcmp(nc_tls_tickets[k].peer, peer) == 0 &&
            SSL_SESSION_up_ref(nc_tls_tickets[k].sess) == 1)
            s = nc_tls_tickets[k].sess;
    pthread_mutex_unlock(&nc_tls_tk_lock);
    return s;
}

static int tls_new_ticket(SSL *ssl, SSL_SESSION *sess)
{
    nc_kit_tls_t *t = SSL_get_app_data(ssl);
    if (!t || !t->peer[0])
        return 0;
    tls_ticket_put(t->peer, sess);
    return 1; /* the reference is kept */
}

/* The ticket key every kit server shares: name, HMAC and AES keys. */
static unsigned char nc_tls_ticket_key[80];
static pthread_once_t nc_tls_ticket_once = PTHREAD_ONCE_INIT;

static void tls_ticket_key_make(void)
{
    if (RAND_bytes(nc_tls_ticket_key, sizeof nc_tls_ticket_key) != 1)
        memset(nc_tls_ticket_key, 0x5a, sizeof nc_tls_ticket_key);
}

/* Writes what OpenSSL produced to the socket. */
static void tls_flush(nc_kit_tls_t *t)
{
    char buf[16384];
    int n;
    while ((n = BIO_read(t->wbio, buf, sizeof buf)) > 0)
        nc__kit_conn_write_raw(t->c, buf, (size_t)n);
}

static void tls_keylog(const SSL *ssl, const char *line)
{
    nc_kit_tls_t *t = SSL_get_app_data(ssl);
    if (t)
        nc_scn_keylog(nc_kit_scn(nc_kit_conn_kit(t->c)), line);
}

/* The server's ALPN choice: its first protocol the client also offers. */
static int tls_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                           const unsigned char *in, unsigned int inlen, void *arg)
{
    nc_kit_tls_t *t = arg;
    unsigned char *sel;
    if (SSL_select_next_proto(&sel, outlen, t->alpn_wire, (unsigned)t->alpn_len, in, inlen) !=
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}

/* A key and a certificate naming cn, valid for a day, signed by itself. */
static int tls_self_signed(SSL_CTX *ctx, const char *cn)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    int ok = key && x && X509_set_version(x, 2) &&
             ASN1_INTEGER_set(X509_get_serialNumber(x), 1) &&
             X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
             X509_gmtime_adj(X509_getm_notAfter(x), 24 * 3600) && X509_set_pubkey(x, key);
    X509_NAME *name = ok ? X509_get_subject_name(x) : NULL;
    ok = ok && name &&
         X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1,
                                    0) &&
         X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                    (const unsigned char *)"netcourse lab", -1, -1, 0) &&
         X509_set_issuer_name(x, name) && X509_sign(x, key, EVP_sha256()) > 0 &&
         SSL_CTX_use_certificate(ctx, x) == 1 && SSL_CTX_use_PrivateKey(ctx, key) == 1;
    X509_free(x);
    EVP_PKEY_free(key);
    return ok ? 0 : NC_EIO;
}

/* "h2,http/1.1" as ALPN's wire format (length-prefixed names). */
static void tls_alpn_wire(nc_kit_tls_t *t, const char *list)
{
    t->alpn_len = 0;
    while (list && *list) {
        const char *comma = strchr(list, ',');
        size_t n = comma ? (size_t)(comma - list) : strlen(list);
        if (n > 0 && n < 32 && t->alpn_len + 1 + n <= sizeof t->alpn_wire) {
            t->alpn_wire[t->alpn_len++] = (uint8_t)n;
            memcpy(t->alpn_wire + t->alpn_len, list, n);
            t->alpn_len += n;
        }
        list = comma ? comma + 1 : NULL;
    }
}

static SSL_CTX *tls_ctx(nc_kit_tls_t *t, const nc_kit_tls_opts_t *o, const char *host)
{
    SSL_CTX *ctx = SSL_CTX_new(t->server ? TLS_server_method() : TLS_client_method());
    if (ctx == NULL)
        return NULL;
    int v = o && o->version == 12 ? TLS1_2_VERSION : TLS1_3_VERSION;
    SSL_CTX_set_min_proto_version(ctx, o && o->version ? v : TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx, o && o->version ? v : TLS1_3_VERSION);
    SSL_CTX_set_keylog_callback(ctx, tls_keylog);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    static const unsigned char sid[] = "netcourse";
    SSL_CTX_set_session_id_context(ctx, sid, sizeof sid - 1);
    if (t->server) {
        if (tls_self_signed(ctx, host) != 0) {
            SSL_CTX_free(ctx);
            return NULL;
        }
        if (t->alpn_len)
            SSL_CTX_set_alpn_select_cb(ctx, tls_alpn_select, t);
        pthread_once(&nc_tls_ticket_once, tls_ticket_key_make);
        SSL_CTX_set_tlsext_ticket_keys(ctx, nc_tls_ticket_key, sizeof nc_tls_ticket_key);
        if (o && o->early) {
            /* The lesson shows 0-RTT, replay risk and all: a ticket may
             * open early data more than once. */
            SSL_CTX_set_max_early_data(ctx, 16384);
            SSL_CTX_set_options(ctx, SSL_OP_NO_ANTI_REPLAY);
        }
    } else {
        SSL_CTX_set_session_cache_mode(ctx,
                                       SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_new_cb(ctx, tls_new_ticket);
    }
    return ctx;
}

static const char *tls_version_name(const SSL *ssl)
{
    return SSL_version(ssl) == TLS1_3_VERSION ? "TLS 1.3" : "TLS 1.2";
}

/* The handshake ended (or failed): tell the owner, send what waited. */
static void tls_done(nc_kit_tls_t *t, int status)
{
    nc_kit_t *k = nc_kit_conn_kit(t->c);
    const char *call = t->server ? "SSL_accept" : "SSL_connect";
    if (status == 0) {
        t->ready = true;
        const unsigned char *p;
        unsigned int n;
        SSL_get0_alpn_selected(t->ssl, &p, &n);
        snprintf(t->alpn, sizeof t->alpn, "%.*s", (int)n, (const char *)p);
        const char *cipher = SSL_get_cipher_name(t->ssl);
        int st = SSL_get_early_data_status(t->ssl);
        const char *early = st == SSL_EARLY_DATA_ACCEPTED   ? "accepted"
                            : st == SSL_EARLY_DATA_REJECTED ? "rejected"
                                                            : "none";
        bool resumed = SSL_session_reused(t->ssl) == 1;
        nc_kit_report(k, t->c, call,
                      (nc_scn_kv_t[]){NC_KV_S("version", tls_version_name(t->ssl)),
                                      NC_KV_S("cipher", cipher ? cipher : ""),
                                      NC_KV_S("alpn", t->alpn), NC_KV_I("resumed", resumed),
                                      NC_KV_S("early_data", early)},
                      5, NULL, "%s() finished the %s handshake with %s (%s%s%s)%s%s", call,
                      tls_version_name(t->ssl), nc_kit_conn_peer(t->c), cipher ? cipher : "",
                      t->alpn[0] ? ", ALPN " : "", t->alpn,
                      resumed ? ", resumed with a session ticket" : "",
                      st == SSL_EARLY_DATA_ACCEPTED   ? ", early data accepted"
                      : st == SSL_EARLY_DATA_REJECTED ? ", early data refused"
                                                      : "");
    } else {
        char why[160];
        unsigned long e = ERR_get_error();
        ERR_error_string_n(e, why, sizeof why);
        ERR_clear_error();
        t->failed = true;
        nc_kit_report(k, t->c, call, NULL, 0, NULL, "%s() failed: %s", call,
                      e ? why : "the peer broke off the handshake");
    }
    nc_kit_tls_ready_cb cb = t->cb;
    t->cb = NULL;
    if (cb)
        cb(t->c, status, t->data);
    if (status != 0) {
        nc_kit_close(t->c, "close(): the TLS handshake failed, so the program closes it");
        return;
    }
    if (t->nearly && SSL_get_early_data_status(t->ssl) != SSL_EARLY_DATA_ACCEPTED) {
        /* Refused early data is lost: send it again, now protected by the
         * handshake's own keys. */
        char *p = t->early;
        t->early = NULL;
        nc__kit_tls_write(t, p, t->nearly);
        free(p);
    }
    t->nearly = 0;
    if (t->npending) {
        char *p = t->pending;
        size_t n = t->npending;
        t->pending = NULL;
        t->npending = 0;
        nc__kit_tls_write(t, p, n);
        free(p);
    }
}

int nc_kit_tls_start(nc_kit_conn_t *c, bool server, const nc_kit_tls_opts_t *o,
                     nc_kit_tls_ready_cb ready, void *data)
{
    nc_kit_t *k = nc_kit_conn_kit(c);
    nc_kit_tls_t *t = nc_xcalloc(1, sizeof *t);
    t->c = c;
    t->server = server;
    t->cb = ready;
    t->data = data;
    tls_alpn_wire(t, o ? o->alpn : NULL);
    t->ctx = tls_ctx(t, o, nc_kit_host(k));
    t->ssl = t->ctx ? SSL_new(t->ctx) : NULL;
    if (t->ssl == NULL) {
        SSL_CTX_free(t->ctx);
        free(t);
        nc_scn_fail(nc_kit_scn(k), "%s: cannot set up TLS (OpenSSL refused)", nc_kit_host(k));
        return NC_EIO;
    }
    t->rbio = BIO_new(BIO_s_mem());
    t->wbio = BIO_new(BIO_s_mem());
    SSL_set_bio(t->ssl, t->rbio, t->wbio);
    SSL_set_app_data(t->ssl, t);
    nc__kit_conn_set_tls(c, t);
    if (server) {
        SSL_set_accept_state(t->ssl);
        t->early_server = o && o->early;
    } else {
        SSL_set_connect_state(t->ssl);
        if (o && o->sni)
            SSL_set_tlsext_host_name(t->ssl, o->sni);
        if (t->alpn_len)
            SSL_set_alpn_protos(t->ssl, t->alpn_wire, (unsigned)t->alpn_len);
        snprintf(t->peer, sizeof t->peer, "%s", nc_kit_conn_peer(c));
        SSL_SESSION *sess = o && o->early ? tls_ticket_get(t->peer) : NULL;
        if (sess) {
            SSL_set_session(t->ssl, sess);
            t->early_client = SSL_SESSION_get_max_early_data(sess) > 0;
            SSL_SESSION_free(sess);
        }
        nc_scn_call_begin("SSL_connect");
        if (!t->early_client) {
            SSL_do_handshake(t->ssl); /* the ClientHello */
            tls_flush(t);
        }
    }
    nc__kit_conn_read_start(c);
    if (t->early_client) {
        /* Ready now: the first write goes with the ClientHello. */
        nc_kit_report(k, c, "SSL_write_early_data", NULL, 0, NULL,
                      "the client holds a session ticket from %s that allows early data: its "
                      "first write will leave with the ClientHello",
                      t->peer);
        nc_kit_tls_ready_cb cb = t->cb;
        t->cb = NULL;
        if (cb)
            cb(c, 0, t->data);
    }
    return 0;
}

const char *nc_kit_tls_alpn(const nc_kit_conn_t *c)
{
    nc_kit_tls_t *t = nc__kit_conn_tls(c);
    return t ? t->alpn : "";
}

void nc__kit_tls_feed(nc_kit_tls_t *t, const char *data, size_t len)
{
    if (t->failed)
        return;
    BIO_write(t->rbio, data, (int)len);
    char buf[16384];
    while (t->early_server && !t->failed) {
        size_t n = 0;
        int r = SSL_read_early_data(t->ssl, buf, sizeof buf, &n);
        tls_flush(t);
        if (r == SSL_READ_EARLY_DATA_SUCCESS) {
            if (n > 0)
                nc__kit_conn_deliver(t->c, buf, n, NULL);
            continue;
        }
        if (r == SSL_READ_EARLY_DATA_FINISH) {
            t->early_server = false;
            break;
        }
        int e = SSL_get_error(t->ssl, 0);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            return;
        tls_done(t, NC_EIO);
        return;
    }
    if (!t->ready) {
        int rc = SSL_do_handshake(t->ssl);
        tls_flush(t);
        if (rc == 1) {
            tls_done(t, 0);
        } else {
            int e = SSL_get_error(t->ssl, rc);
            if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
                tls_done(t, NC_EIO);
            return;
        }
    }
    /* Every whole record's plaintext, in as few reads as it takes. */
    int n;
    while (!t->failed && !nc_kit_conn_closing(t->c) &&
           (n = SSL_read(t->ssl, buf, sizeof buf)) > 0)
        nc__kit_conn_deliver(t->c, buf, (size_t)n, NULL);
    /* Reading may have produced records of its own (a KeyUpdate answer). */
    tls_flush(t);
    ERR_clear_error();
}

int nc__kit_tls_write(nc_kit_tls_t *t, const void *data, size_t len)
{
    if (t->failed)
        return UV_ECANCELED;
    if (!t->ready && (t->early_client || t->early_server) && len > 0) {
        /* A client's first write as early data with its ClientHello; a
         * server's answer to early data right behind its flight. */
        size_t w = 0;
        bool client = t->early_client;
        t->early_client = false;
        if (SSL_write_early_data(t->ssl, data, len, &w) == 1 && w == len) {
            tls_flush(t);
            if (client) {
                t->early = nc_xmalloc(len);
                memcpy(t->early, data, len);
                t->nearly = len;
            }
            return 0;
        }
        ERR_clear_error();
        tls_flush(t);
    }
    if (!t->ready) {
        t->pending = nc_xrealloc(t->pending, t->npending + len + 1);
        memcpy(t->pending + t->npending, data, len);
        t->npending += len;
        return 0;
    }
    if (len > 0 && SSL_write(t->ssl, data, (int)len) <= 0) {
        ERR_clear_error();
        return UV_EIO;
    }
    tls_flush(t);
    return 0;
}

void nc__kit_tls_close_notify(nc_kit_tls_t *t)
{
    if (!t->ready || t->notified || t->failed)
        return;
    t->notified = true;
    SSL_shutdown(t->ssl);
    tls_flush(t);
    ERR_clear_error();
}

void nc__kit_tls_free(nc_kit_tls_t *t)
{
    if (t == NULL)
        return;
    SSL_free(t->ssl);
    SSL_CTX_free(t->ctx);
    free(t->pending);
    free(t->early);
    free(t);
}
