/*
 * tls.c: TLS records and handshake messages (RFC 8446 for TLS 1.3, RFC 5246
 * for TLS 1.2) on a reassembled stream, decrypted when a decryptor holds the
 * connection's secrets.
 *
 *   record:  +------+---------+---------+---------------------------+
 *            | type | version | length  |  fragment (length bytes)  |
 *            |  1   |    2    |    2    |                           |
 *            +------+---------+---------+---------------------------+
 *   handshake message (inside type 22 records, possibly spanning several):
 *            +------+-----------+---------------------------+
 *            | type | length(3) |  body                     |
 *            +------+-----------+---------------------------+
 *
 * A stream decoder (stream.h). Per direction the state (nc_tls_dir_t) is the
 * record header being collected and then the body bytes still to come. A
 * body is kept in the direction's first byte store while it is something to
 * read (a handshake, alert or ChangeCipherSpec record in the clear, or a
 * protected record there are keys for); a protected record without keys is
 * only counted. Handshake bytes go on into the second store until a whole
 * message is there, so a message may span records. What both directions
 * share (nc_tls_flow_t) is the handshake: the randoms, the version and suite
 * the server chose, ALPN, and the count of flights, from which each message
 * knows the round trip it belongs to.
 *
 * Protection follows the handshake: in TLS 1.3 both directions switch to
 * handshake keys after the ServerHello, each to application keys after its
 * own Finished and to new ones at each KeyUpdate; in TLS 1.2 each direction
 * switches after its ChangeCipherSpec. The keys come from the decryptor
 * (decryptor.h), asked once per epoch, and are kept as plain bytes here.
 * The plaintext of application data goes to the inner stream decoder that
 * ALPN names (nc_tls_alpn), or to HTTP/1 when it starts like it; the inner
 * decoder keeps its state in the same nc_stream_dir_t (TLS uses none of it)
 * and its messages are marked decrypted.
 *
 * One message is emitted per handshake message, and one per record that
 * completes none (alerts, ChangeCipherSpec, application data, a handshake
 * fragment), at the packet whose bytes complete the record. Fields carry
 * Wireshark's names under the layer: record.content_type (the inner type of
 * a decrypted TLS 1.3 record, whose outer type is record.opaque_type),
 * record.version, record.length, handshake.type, handshake.length,
 * handshake.version, handshake.ciphersuite, handshake.extensions_server_name,
 * handshake.extensions_alpn_str (comma-separated),
 * handshake.extensions.supported_version and
 * handshake.extensions_key_share_group (lists), handshake.sig_hash_alg,
 * handshake.session_ticket_lifetime_hint, alert_message.level and .desc,
 * change_cipher_spec. Derived ones have their own names: message (the
 * message's name), encrypted, epoch, plain_len and plaintext (the first
 * bytes the encryption hid, printable), same_record (a further
 * message of the record just shown), hrr, psk, early_data, cipher_suites,
 * certificate.{chain_len, subject, issuer, not_before, not_after},
 * key_update_request, flight, round_trip and round_trips.
 */
#include "der.h"
#include "proto.h"
#include "stream.h"

#include <stdio.h>
#include <string.h>

enum { T_HDR = 0, T_BODY, T_SKIP, T_LOST };

enum {
    TLS_CCS = 20,
    TLS_ALERT = 21,
    TLS_HANDSHAKE = 22,
    TLS_APPDATA = 23,
};

enum { HS_STORE = 1, REC_STORE = 0 };

/* How many lost records decryption looks past, after a resync. */
#define TLS_SEQ_SEARCH 64

/* The longest handshake message kept whole (a certificate chain fits). */
#define TLS_HS_MAX (256u * 1024u)
/* The largest plaintext a record may carry, plus room for its overhead. */
#define TLS_PLAIN_MAX (16384u + 2048u)

typedef struct {
    uint32_t id;
    const char *name;
} tls_name_t;

/* The name of id in table t (n entries), or fallback. */
static const char *tls_lookup(const tls_name_t *t, size_t n, uint32_t id, const char *fallback)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].id == id)
            return t[i].name;
    return fallback;
}

#define TLS_LOOKUP(table, id, fallback)                                                            \
    tls_lookup(table, sizeof(table) / sizeof(table[0]), id, fallback)

static const tls_name_t tls_content_types[] = {
    {TLS_CCS, "Change Cipher Spec"},
    {TLS_ALERT, "Alert"},
    {TLS_HANDSHAKE, "Handshake"},
    {TLS_APPDATA, "Application Data"},
    {24, "Heartbeat"},
};

static const tls_name_t tls_versions[] = {
    {0x0300, "SSL 3.0"}, {0x0301, "TLS 1.0"}, {0x0302, "TLS 1.1"},
    {0x0303, "TLS 1.2"}, {0x0304, "TLS 1.3"},
};

static const tls_name_t tls_alert_descs[] = {
    {0, "close_notify"},           {10, "unexpected_message"},   {20, "bad_record_mac"},
    {22, "record_overflow"},       {40, "handshake_failure"},    {42, "bad_certificate"},
    {43, "unsupported_certificate"}, {44, "certificate_revoked"}, {45, "certificate_expired"},
    {46, "certificate_unknown"},   {47, "illegal_parameter"},    {48, "unknown_ca"},
    {49, "access_denied"},         {50, "decode_error"},         {51, "decrypt_error"},
    {70, "protocol_version"},      {71, "insufficient_security"}, {80, "internal_error"},
    {86, "inappropriate_fallback"}, {90, "user_canceled"},       {109, "missing_extension"},
    {110, "unsupported_extension"}, {112, "unrecognized_name"},  {116, "certificate_required"},
    {120, "no_application_protocol"},
};

static const tls_name_t tls_groups[] = {
    {23, "secp256r1"}, {24, "secp384r1"}, {25, "secp521r1"}, {29, "x25519"},
    {30, "x448"},      {256, "ffdhe2048"}, {257, "ffdhe3072"},
};

static const tls_name_t tls_suites[] = {
    {0x1301, "TLS_AES_128_GCM_SHA256"},
    {0x1302, "TLS_AES_256_GCM_SHA384"},
    {0x1303, "TLS_CHACHA20_POLY1305_SHA256"},
    {0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
    {0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"},
    {0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
    {0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"},
    {0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
    {0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"},
};

/* The ServerHello random that makes it a HelloRetryRequest (RFC 8446 4.1.3). */
static const uint8_t tls_hrr_random[NC_TLS_RANDOM] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

/* Which inner stream decoder reads the plaintext, by the protocol ALPN
 * chose. A protocol without a line here is read as HTTP/1 when its first
 * bytes look like it, and left alone otherwise. */
static const struct {
    const char *alpn;
    uint8_t app;
} nc_tls_alpn[] = {
    {"http/1.1", NC_SAPP_HTTP},
    {"http/1.0", NC_SAPP_HTTP},
    {"h2", NC_SAPP_HTTP2},
};

bool nc__tls_looks_like(const uint8_t *p, size_t n)
{
    return n >= 3 && p[0] >= TLS_CCS && p[0] <= 24 && p[1] == 3 && p[2] <= 4;
}

/* ---- handshake messages ---- */

static void tls_flight(nc_stream_ctx_t *sc, nc_tls_msg_t *m);

/* What parsing one handshake message sees. */
typedef struct {
    nc_stream_ctx_t *sc;
    nc_tls_msg_t *m;
    nc_cursor_t body;
} tls_hs_t;

static void tls_copy_text(char *dst, size_t dstlen, const uint8_t *p, size_t n)
{
    size_t k = n < dstlen - 1 ? n : dstlen - 1;
    for (size_t i = 0; i < k; i++)
        dst[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
    dst[k] = '\0';
}

/* Appends a protocol name to a comma-separated list. */
static void tls_list_add(char *dst, size_t dstlen, const uint8_t *p, size_t n)
{
    size_t at = strlen(dst);
    if (at && at + 1 < dstlen)
        dst[at++] = ',';
    if (at + 1 < dstlen)
        tls_copy_text(dst + at, dstlen - at, p, n);
}

static void ext_server_name(tls_hs_t *h, nc_cursor_t e, bool server)
{
    uint16_t listlen, namelen;
    uint8_t type;
    nc_cursor_t list, name;
    if (!nc_cur_u16be(&e, &listlen) || !nc_cur_sub(&e, listlen, &list))
        return;
    while (nc_cur_u8(&list, &type) && nc_cur_u16be(&list, &namelen) &&
           nc_cur_sub(&list, namelen, &name))
        if (type == 0 && h->m->sni[0] == '\0')
            tls_copy_text(h->m->sni, sizeof(h->m->sni), name.ptr, namelen);
}

static void ext_alpn(tls_hs_t *h, nc_cursor_t e, bool server)
{
    uint16_t listlen;
    uint8_t len;
    nc_cursor_t list, name;
    if (!nc_cur_u16be(&e, &listlen) || !nc_cur_sub(&e, listlen, &list))
        return;
    while (nc_cur_u8(&list, &len) && nc_cur_sub(&list, len, &name))
        tls_list_add(h->m->alpn, sizeof(h->m->alpn), name.ptr, len);
    if (server) {
        nc_tls_flow_t *f = &h->sc->st->tls;
        size_t k = strnlen(h->m->alpn, sizeof(f->alpn) - 1);
        memcpy(f->alpn, h->m->alpn, k);
        f->alpn[k] = '\0';
    }
}

static void ext_supported_versions(tls_hs_t *h, nc_cursor_t e, bool server)
{
    nc_tls_msg_t *m = h->m;
    uint16_t v;
    if (server) { /* the one version chosen */
        if (nc_cur_u16be(&e, &v)) {
            m->versions[0] = v;
            m->nversions = 1;
        }
        return;
    }
    uint8_t len;
    nc_cursor_t list;
    if (!nc_cur_u8(&e, &len) || !nc_cur_sub(&e, len, &list))
        return;
    while (nc_cur_u16be(&list, &v))
        if (m->nversions < NC_TLS_LIST)
            m->versions[m->nversions++] = v;
}

static void ext_key_share(tls_hs_t *h, nc_cursor_t e, bool server)
{
    nc_tls_msg_t *m = h->m;
    uint16_t group, len;
    if (server) { /* one entry, or (HelloRetryRequest) only a group */
        if (nc_cur_u16be(&e, &group))
            m->groups[m->ngroups++] = group;
        return;
    }
    nc_cursor_t list, skip;
    if (!nc_cur_u16be(&e, &len) || !nc_cur_sub(&e, len, &list))
        return;
    while (nc_cur_u16be(&list, &group) && nc_cur_u16be(&list, &len) &&
           nc_cur_sub(&list, len, &skip))
        if (m->ngroups < NC_TLS_LIST)
            m->groups[m->ngroups++] = group;
}

static void ext_psk(tls_hs_t *h, nc_cursor_t e, bool server)
{
    h->m->psk = true;
}

static void ext_early_data(tls_hs_t *h, nc_cursor_t e, bool server)
{
    h->m->early_data = true;
}

static const struct {
    uint16_t type;
    void (*read)(tls_hs_t *h, nc_cursor_t e, bool server);
} tls_extensions[] = {
    {0, ext_server_name},          {16, ext_alpn},   {41, ext_psk},
    {42, ext_early_data},          {43, ext_supported_versions},
    {51, ext_key_share},
};

/* Reads an extensions block (its 2-byte length first) from c. */
static void tls_extensions_read(tls_hs_t *h, nc_cursor_t *c, bool server)
{
    uint16_t total, type, len;
    nc_cursor_t all, e;
    if (!nc_cur_u16be(c, &total) || !nc_cur_sub(c, total, &all))
        return;
    while (nc_cur_u16be(&all, &type) && nc_cur_u16be(&all, &len) && nc_cur_sub(&all, len, &e))
        for (size_t i = 0; i < sizeof(tls_extensions) / sizeof(tls_extensions[0]); i++)
            if (tls_extensions[i].type == type)
                tls_extensions[i].read(h, e, server);
}

static void tls_protect(nc_tls_dir_t *t, uint8_t epoch);

static void hs_client_hello(tls_hs_t *h)
{
    nc_tls_flow_t *f = &h->sc->st->tls;
    nc_cursor_t *c = &h->body;
    uint8_t random[NC_TLS_RANDOM], sidlen, complen;
    uint16_t suites_len;
    if (!nc_cur_u16be(c, &h->m->hs_version) || !nc_cur_bytes(c, random, sizeof(random)) ||
        !nc_cur_u8(c, &sidlen) || !nc_cur_skip(c, sidlen) || !nc_cur_u16be(c, &suites_len) ||
        !nc_cur_skip(c, suites_len) || !nc_cur_u8(c, &complen) || !nc_cur_skip(c, complen))
        return;
    h->m->nsuites = suites_len / 2;
    h->sc->dir->tls.client = true;
    h->sc->peer->tls.client = false;
    /* The message was begun before its sender was known to be the client. */
    h->m->from_client = true;
    /* A second ClientHello (after a HelloRetryRequest) keeps the random. */
    memcpy(f->client_random, random, sizeof(random));
    f->have_client_random = true;
    tls_extensions_read(h, c, false);
    /* Offering 0-RTT: what the client sends next may be early data. */
    if (h->m->early_data && !f->hrr)
        tls_protect(&h->sc->dir->tls, NC_TLS_EPOCH_EARLY);
}

/* The other direction starts protecting its records: keys of a new epoch. */
static void tls_protect(nc_tls_dir_t *t, uint8_t epoch)
{
    t->protect = true;
    t->epoch = epoch;
    t->recseq = 0;
    t->keys_tried = false;
    memset(&t->keys, 0, sizeof(t->keys));
}

static void hs_server_hello(tls_hs_t *h)
{
    nc_tls_flow_t *f = &h->sc->st->tls;
    nc_cursor_t *c = &h->body;
    uint8_t random[NC_TLS_RANDOM], sidlen, comp;
    if (!nc_cur_u16be(c, &h->m->hs_version) || !nc_cur_bytes(c, random, sizeof(random)) ||
        !nc_cur_u8(c, &sidlen) || !nc_cur_skip(c, sidlen) || !nc_cur_u16be(c, &h->m->suite) ||
        !nc_cur_u8(c, &comp))
        return;
    h->m->hrr = memcmp(random, tls_hrr_random, sizeof(random)) == 0;
    tls_extensions_read(h, c, true);
    if (h->m->hrr) {
        /* Only TLS 1.3 retries: the ChangeCipherSpec records around the
         * second ClientHello are for middleboxes and protect nothing. */
        f->hrr = true;
        f->version = 0x0304;
        return;
    }
    memcpy(f->server_random, random, sizeof(random));
    f->have_server_random = true;
    f->suite = h->m->suite;
    f->version = h->m->nversions ? h->m->versions[0] : h->m->hs_version;
    if (f->version == 0x0304) {
        tls_protect(&h->sc->dir->tls, 1);
        /* A client sending early data keeps its early keys until its
         * EndOfEarlyData, unless the server refuses it (hs_encrypted_extensions). */
        if (h->sc->peer->tls.epoch != NC_TLS_EPOCH_EARLY)
            tls_protect(&h->sc->peer->tls, 1);
    } else if (h->sc->peer->tls.epoch == NC_TLS_EPOCH_EARLY) {
        h->sc->peer->tls.protect = false; /* TLS 1.2 has no early data */
        h->sc->peer->tls.epoch = 0;
    }
}

static void hs_certificate(tls_hs_t *h)
{
    nc_tls_flow_t *f = &h->sc->st->tls;
    nc_cursor_t *c = &h->body;
    uint8_t ctxlen, b0, b1, b2;
    if (f->version == 0x0304 && (!nc_cur_u8(c, &ctxlen) || !nc_cur_skip(c, ctxlen)))
        return;
    nc_cursor_t list, cert;
    if (!nc_cur_u8(c, &b0) || !nc_cur_u8(c, &b1) || !nc_cur_u8(c, &b2) ||
        !nc_cur_sub(c, (size_t)b0 << 16 | (size_t)b1 << 8 | b2, &list))
        return;
    while (nc_cur_u8(&list, &b0) && nc_cur_u8(&list, &b1) && nc_cur_u8(&list, &b2) &&
           nc_cur_sub(&list, (size_t)b0 << 16 | (size_t)b1 << 8 | b2, &cert)) {
        if (h->m->chain_len++ == 0) {
            nc_der_cert_t d;
            nc__der_cert(cert.ptr, nc_cur_left(&cert), &d);
            memcpy(h->m->subject, d.subject, sizeof(h->m->subject));
            memcpy(h->m->issuer, d.issuer, sizeof(h->m->issuer));
            memcpy(h->m->not_before, d.not_before, sizeof(h->m->not_before));
            memcpy(h->m->not_after, d.not_after, sizeof(h->m->not_after));
        }
        uint16_t extlen;
        if (f->version == 0x0304 && (!nc_cur_u16be(&list, &extlen) || !nc_cur_skip(&list, extlen)))
            break;
    }
}

static void hs_certificate_verify(tls_hs_t *h)
{
    nc_cur_u16be(&h->body, &h->m->sig_scheme);
}

static void hs_encrypted_extensions(tls_hs_t *h)
{
    tls_extensions_read(h, &h->body, true);
    /* The server accepts early data by naming it here; without it the
     * client's next records are under handshake keys. */
    if (h->sc->peer->tls.epoch == NC_TLS_EPOCH_EARLY && !h->m->early_data)
        tls_protect(&h->sc->peer->tls, 1);
}

static void hs_end_of_early_data(tls_hs_t *h)
{
    tls_protect(&h->sc->dir->tls, 1);
}

static void hs_new_session_ticket(tls_hs_t *h)
{
    nc_cur_u32be(&h->body, &h->m->ticket_lifetime);
}

/* A Finished from this direction: the handshake ends with the second,
 * after as many round trips as the server sent flights. */
static void tls_finished_seen(nc_stream_ctx_t *sc, nc_tls_msg_t *m)
{
    nc_tls_flow_t *f = &sc->st->tls;
    f->finished |= sc->dir->tls.client ? 1 : 2;
    if (f->finished == 3 && !f->done) {
        f->done = true;
        m->round_trips = f->server_flights;
    }
}

static void hs_finished(tls_hs_t *h)
{
    nc_tls_flow_t *f = &h->sc->st->tls;
    nc_tls_dir_t *t = &h->sc->dir->tls;
    tls_finished_seen(h->sc, h->m);
    /* TLS 1.3: what follows a Finished is under application keys. */
    if (f->version == 0x0304 && t->protect && t->epoch == 1)
        tls_protect(t, 2);
}

static void hs_key_update(tls_hs_t *h)
{
    nc_tls_dir_t *t = &h->sc->dir->tls;
    nc_cur_u8(&h->body, &h->m->key_update_request);
    if (t->protect && t->epoch >= 2 && t->epoch < NC_TLS_EPOCH_EARLY - 1)
        tls_protect(t, (uint8_t)(t->epoch + 1));
}

static const struct {
    uint8_t type;
    const char *name;
    void (*read)(tls_hs_t *h);
} tls_handshakes[] = {
    {0, "HelloRequest", NULL},
    {1, "ClientHello", hs_client_hello},
    {2, "ServerHello", hs_server_hello},
    {4, "NewSessionTicket", hs_new_session_ticket},
    {5, "EndOfEarlyData", hs_end_of_early_data},
    {8, "EncryptedExtensions", hs_encrypted_extensions},
    {11, "Certificate", hs_certificate},
    {12, "ServerKeyExchange", NULL},
    {13, "CertificateRequest", NULL},
    {14, "ServerHelloDone", NULL},
    {15, "CertificateVerify", hs_certificate_verify},
    {16, "ClientKeyExchange", NULL},
    {20, "Finished", hs_finished},
    {24, "KeyUpdate", hs_key_update},
};

static size_t tls_hs_index(uint8_t type)
{
    for (size_t i = 0; i < sizeof(tls_handshakes) / sizeof(tls_handshakes[0]); i++)
        if (tls_handshakes[i].type == type)
            return i;
    return (size_t)-1;
}

/* ---- emitting ---- */

/* A message carrying the current record's header fields. */
static void tls_msg_record(nc_stream_ctx_t *sc, nc_stream_msg_t *msg, uint8_t ctype,
                           bool encrypted, bool decrypted)
{
    nc_tls_dir_t *t = &sc->dir->tls;
    memset(msg, 0, sizeof(*msg));
    msg->proto = &nc_tls_stream;
    msg->seq_start = t->start_seq;
    msg->segments = t->segments;
    msg->decrypted = decrypted;
    nc_tls_msg_t *m = &msg->u.tls;
    /* A TLS 1.3 protected record's outer type is opaque_type; its real
     * type is known only once it is decrypted. */
    bool opaque = encrypted && t->protect &&
                  (sc->st->tls.version == 0x0304 || t->epoch == NC_TLS_EPOCH_EARLY);
    m->content_type = opaque && !decrypted ? 0 : ctype;
    m->opaque_type = opaque ? t->hdr[0] : 0;
    m->rversion = (uint16_t)(t->hdr[1] << 8 | t->hdr[2]);
    m->rlength = (uint16_t)(t->hdr[3] << 8 | t->hdr[4]);
    m->encrypted = encrypted;
    m->decrypted = decrypted;
    m->epoch = encrypted ? t->epoch : 0;
    m->from_client = t->client;
}

/* Counts the flights of the handshake: a new one each time the sender of
 * handshake messages changes. */
static void tls_flight(nc_stream_ctx_t *sc, nc_tls_msg_t *m)
{
    nc_tls_flow_t *f = &sc->st->tls;
    uint8_t who = sc->dir->tls.client ? 1 : 2;
    if (f->last_client != who) {
        f->last_client = who;
        if (f->flights < 255)
            f->flights++;
        if (who == 2 && f->server_flights < 255)
            f->server_flights++;
    }
    m->flight = f->flights;
    m->round_trip = who == 2 ? f->server_flights : (uint8_t)(f->server_flights + 1);
}

/* One whole handshake message (p, n bytes: its header and as much of its
 * body as was kept) from a record of type ctype. */
static void tls_handshake(nc_stream_ctx_t *sc, const uint8_t *p, size_t n, bool encrypted,
                          bool decrypted, bool cut)
{
    nc_tls_dir_t *t = &sc->dir->tls;
    nc_stream_msg_t msg;
    tls_msg_record(sc, &msg, TLS_HANDSHAKE, encrypted, decrypted);
    nc_tls_msg_t *m = &msg.u.tls;
    m->has_hs = true;
    m->hs_type = p[0];
    m->hs_length = (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    m->hs_cut = cut;
    m->same_record = t->hs_in_record > 0;
    tls_hs_t h = {sc, m, nc_cur_make(p + 4, n - 4)};
    size_t i = tls_hs_index(m->hs_type);
    tls_flight(sc, m);
    if (i != (size_t)-1 && tls_handshakes[i].read != NULL && !cut)
        tls_handshakes[i].read(&h);
    t->hs_in_record++;
    nc_stream_emit(sc, &msg, sc->rel);
}

/* Handshake plaintext bytes of the current record: whole messages are
 * read at once, a partial one waits in the handshake store. */
static void tls_handshake_bytes(nc_stream_ctx_t *sc, const uint8_t *p, size_t n, bool encrypted,
                                bool decrypted)
{
    nc_tls_dir_t *t = &sc->dir->tls;
    nc_stream_hold_t *hs = &sc->hold[HS_STORE];
    if (t->hs_skip) {
        size_t k = n < t->hs_skip ? n : t->hs_skip;
        t->hs_skip -= (uint32_t)k;
        p += k;
        n -= k;
    }
    if (n == 0)
        return;
    nc_stream_hold_add(hs, p, n);
    uint32_t at = 0;
    while (hs->len - at >= 4) {
        const uint8_t *q = hs->buf + at;
        uint32_t len = (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
        if (len > TLS_HS_MAX) {
            /* Too long to keep: shown from its header, the rest skipped. */
            uint32_t have = hs->len - at - 4;
            tls_handshake(sc, q, 4, encrypted, decrypted, true);
            t->hs_skip = len > have ? len - have : 0;
            at = hs->len;
            break;
        }
        if (hs->len - at - 4 < len)
            break;
        tls_handshake(sc, q, 4 + len, encrypted, decrypted, false);
        at += 4 + len;
    }
    memmove(hs->buf, hs->buf + at, hs->len - at);
    hs->len -= at;
}

/* Hands plaintext application data to the inner decoder, whose messages
 * are marked decrypted. The inner decoder reads and may change dir->app
 * (HTTP leaving for WebSocket, or giving up): it sees its own app there
 * for the call, in both directions. */
static void tls_inner(nc_stream_ctx_t *sc, const uint8_t *p, size_t n, bool gap)
{
    nc_tls_dir_t *t = &sc->dir->tls, *pt = &sc->peer->tls;
    if (t->inner == NC_SAPP_UNKNOWN) {
        uint8_t app = NC_SAPP_OPAQUE;
        for (size_t i = 0; i < sizeof(nc_tls_alpn) / sizeof(nc_tls_alpn[0]); i++)
            if (strcmp(sc->st->tls.alpn, nc_tls_alpn[i].alpn) == 0)
                app = nc_tls_alpn[i].app;
        if (app == NC_SAPP_OPAQUE && !gap && nc__http1_looks_like(p, n))
            app = NC_SAPP_HTTP;
        t->inner = app;
        if (pt->inner == NC_SAPP_UNKNOWN)
            pt->inner = app;
    }
    const nc_stream_proto_t *pr = nc__stream_app_proto(t->inner);
    if (pr == NULL || pr == &nc_tls_stream)
        return;
    uint8_t app = sc->dir->app, papp = sc->peer->app;
    sc->dir->app = t->inner;
    sc->peer->app = pt->inner;
    nc_stream_ctx_t in = *sc;
    in.rel = t->start_seq + 5;
    in.seg_start = true;
    uint32_t first = sc->out->nmsgs;
    if (gap) {
        pr->gap(&in, (uint32_t)n);
    } else {
        size_t done = 0;
        /* A decoder change (Upgrade) can happen a few times per record. */
        for (int hop = 0; done < n && hop < 4 && pr != NULL && pr != &nc_tls_stream; hop++) {
            in.rel = t->start_seq + 5 + (uint32_t)done;
            size_t used = pr->data(&in, p + done, n - done);
            done += used < n - done ? used : n - done;
            in.seg_start = false;
            pr = nc__stream_app_proto(sc->dir->app);
        }
    }
    for (uint32_t i = first; i < sc->out->nmsgs; i++)
        sc->out->msgs[i].decrypted = true;
    t->inner = sc->dir->app;
    pt->inner = sc->peer->app;
    sc->dir->app = app;
    sc->peer->app = papp;
}

/* The record's plaintext (or clear fragment) of content type ctype. */
static void tls_plaintext(nc_stream_ctx_t *sc, uint8_t ctype, const uint8_t *p, size_t n,
                          bool encrypted, bool decrypted)
{
    nc_tls_dir_t *t = &sc->dir->tls;
    nc_stream_msg_t msg;
    if (ctype == TLS_HANDSHAKE) {
        tls_handshake_bytes(sc, p, n, encrypted, decrypted);
        if (t->hs_in_record)
            return;
    }
    tls_msg_record(sc, &msg, ctype, encrypted, decrypted);
    nc_tls_msg_t *m = &msg.u.tls;
    m->plain_len = (uint32_t)n;
    nc_cursor_t c = nc_cur_make(p, n);
    if (ctype == TLS_ALERT) {
        nc_cur_u8(&c, &m->alert_level);
        nc_cur_u8(&c, &m->alert_desc);
    }
    /* What the encryption hid, for the inspector: the first bytes, with
     * line ends and other control bytes as dots. */
    if (ctype == TLS_APPDATA && decrypted) {
        size_t k = n < sizeof(m->plain) - 1 ? n : sizeof(m->plain) - 1;
        for (size_t i = 0; i < k; i++)
            m->plain[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '.';
        m->plain[k] = '\0';
    }
    nc_stream_emit(sc, &msg, sc->rel);
    /* TLS 1.2's ChangeCipherSpec switches keys; TLS 1.3's (for middleboxes,
     * also sent between a ClientHello and its early data) does not. */
    if (ctype == TLS_CCS && sc->st->tls.version != 0x0304 && t->epoch != NC_TLS_EPOCH_EARLY)
        tls_protect(t, 1);
    if (ctype == TLS_APPDATA)
        tls_inner(sc, p, n, false);
}

/* Whether the current record (its header read) is protected: after the
 * direction switched to keys (in TLS 1.3 only application_data records
 * are), and application data always (met in the middle, it is). */
static bool tls_encrypted(const nc_stream_ctx_t *sc)
{
    const nc_tls_dir_t *t = &sc->dir->tls;
    uint8_t ctype = t->hdr[0];
    return ctype == TLS_APPDATA || (t->protect && sc->st->tls.version != 0x0304 &&
                                    t->epoch != NC_TLS_EPOCH_EARLY);
}

/* Early data's keys: the client random's early secret under the TLS 1.3
 * suite that opens this record (body, n bytes), tried in turn. Returns
 * whether one did (t->keys holds its keys). */
static bool tls_early_keys(nc_stream_ctx_t *sc, const uint8_t *body, size_t n)
{
    static const uint16_t suites[] = {0x1301, 0x1302, 0x1303};
    uint8_t pt[TLS_PLAIN_MAX];
    nc_tls_dir_t *t = &sc->dir->tls;
    nc_tls_keyreq_t req = {.version = 0x0304, .client = true, .epoch = NC_TLS_EPOCH_EARLY};
    memcpy(req.client_random, sc->st->tls.client_random, sizeof(req.client_random));
    for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
        req.suite = suites[i];
        if (sc->dec->keys(sc->dec_ctx, &req, &t->keys) &&
            sc->dec->open(sc->dec_ctx, &t->keys, t->recseq, t->hdr, body, n, pt) >= 0)
            return true;
    }
    memset(&t->keys, 0, sizeof(t->keys));
    return false;
}

/* The AEAD overhead of a record under k: what a lost record's plaintext
 * is short of its length. */
static uint32_t tls_overhead(const nc_tls_keys_t *k)
{
    if (k->version == 0x0304)
        return 17; /* the tag and the inner content type */
    return k->ivlen == 4 ? 24 : 16; /* GCM's explicit nonce, and the tag */
}

/* The record whose body is in the record store is whole. */
static void tls_record_done(nc_stream_ctx_t *sc)
{
    nc_tls_dir_t *t = &sc->dir->tls;
    nc_stream_hold_t *rec = &sc->hold[REC_STORE];
    /* An empty record has no store behind it. */
    static const uint8_t none[1];
    const uint8_t *body = rec->buf ? rec->buf : none;
    uint8_t ctype = t->hdr[0];
    bool encrypted = tls_encrypted(sc);
    t->hs_in_record = 0;
    if (t->gap_bytes) {
        /* Part of the record was never captured: it is shown as cut, and
         * still counts for the sequence numbers. */
        nc_stream_msg_t msg;
        tls_msg_record(sc, &msg, ctype, encrypted, false);
        msg.incomplete = true;
        if (encrypted)
            t->recseq++;
        nc_stream_emit(sc, &msg, sc->rel);
    } else if (!encrypted) {
        tls_plaintext(sc, ctype, body, rec->len, false, false);
    } else if (sc->dec != NULL && rec->len > 0 && rec->len <= TLS_PLAIN_MAX &&
               (t->keys.ok || (t->epoch == NC_TLS_EPOCH_EARLY && tls_early_keys(sc, body, rec->len)))) {
        uint8_t pt[TLS_PLAIN_MAX];
        int n = sc->dec->open(sc->dec_ctx, &t->keys, t->recseq, t->hdr, body, rec->len, pt);
        /* After whole records were lost, the sequence number is found by
         * trying the next ones: only the right one authenticates. */
        for (uint64_t k = 1; n < 0 && t->seq_unsure && k <= TLS_SEQ_SEARCH; k++)
            if ((n = sc->dec->open(sc->dec_ctx, &t->keys, t->recseq + k, t->hdr, body, rec->len,
                                   pt)) >= 0)
                t->recseq += k;
        if (n >= 0)
            t->seq_unsure = false;
        t->recseq++;
        if (n >= 0 && t->keys.version == 0x0304) {
            /* The inner type is the last non-zero byte (RFC 8446 5.2). */
            while (n > 0 && pt[n - 1] == 0)
                n--;
            if (n > 0)
                ctype = pt[--n];
        }
        if (n >= 0) {
            tls_plaintext(sc, ctype, pt, (size_t)n, true, true);
        } else {
            nc_stream_msg_t msg;
            tls_msg_record(sc, &msg, ctype, true, false);
            nc_stream_emit(sc, &msg, sc->rel);
        }
    } else {
        nc_stream_msg_t msg;
        tls_msg_record(sc, &msg, ctype, true, false);
        t->recseq++;
        /* TLS 1.2's first protected handshake record is the Finished: it
         * still ends the handshake's flight when it cannot be read. */
        if (ctype == TLS_HANDSHAKE && sc->st->tls.version != 0x0304) {
            tls_flight(sc, &msg.u.tls);
            tls_finished_seen(sc, &msg.u.tls);
        }
        nc_stream_emit(sc, &msg, sc->rel);
    }
    rec->len = 0;
    t->state = T_HDR;
    t->hlen = 0;
}

/* The record header in t->hdr is whole: decide whether its body is kept. */
static void tls_record_start(nc_stream_ctx_t *sc)
{
    nc_tls_dir_t *t = &sc->dir->tls;
    nc_tls_flow_t *f = &sc->st->tls;
    t->remaining = (uint16_t)(t->hdr[3] << 8 | t->hdr[4]);
    t->gap_bytes = 0;
    if (!nc__tls_looks_like(t->hdr, 5)) {
        t->state = T_LOST; /* not a record: met mid-record, or not TLS after all */
        return;
    }
    bool encrypted = tls_encrypted(sc);
    bool keep = !encrypted;
    if (encrypted && t->protect && sc->dec != NULL && t->epoch == NC_TLS_EPOCH_EARLY) {
        /* Early data's suite is found when its first record is whole. */
        keep = t->keys.ok || f->have_client_random;
    } else if (encrypted && t->protect && sc->dec != NULL) {
        if (!t->keys_tried && f->have_client_random && f->have_server_random) {
            nc_tls_keyreq_t req = {.version = f->version, .suite = f->suite,
                                   .client = t->client, .epoch = t->epoch};
            memcpy(req.client_random, f->client_random, sizeof(req.client_random));
            memcpy(req.server_random, f->server_random, sizeof(req.server_random));
            sc->dec->keys(sc->dec_ctx, &req, &t->keys);
        }
        t->keys_tried = true;
        keep = t->keys.ok;
    }
    t->state = keep ? T_BODY : T_SKIP;
    sc->hold[REC_STORE].len = 0;
}

/* True when p (n bytes, the start of a segment) looks like a record header
 * a lost direction can pick the thread up at. */
static bool tls_resync(const uint8_t *p, size_t n)
{
    return n >= 5 && nc__tls_looks_like(p, n) && (p[3] << 8 | p[4]) <= (int)TLS_PLAIN_MAX;
}

static size_t tls_data(nc_stream_ctx_t *sc, const uint8_t *p, size_t n)
{
    nc_tls_dir_t *t = &sc->dir->tls;
    if (t->state == T_LOST) {
        /* Met mid-record, or bytes lost across records: a segment that
         * starts like a record header picks the thread up again. */
        if (!sc->seg_start || !tls_resync(p, n))
            return n;
        t->state = T_HDR;
        t->hlen = 0;
        t->seq_unsure = t->protect;
    }
    if (sc->seg_start && (t->state != T_HDR || t->hlen > 0))
        t->segments++;
    nc_cursor_t c = nc_cur_make(p, n);
    while (nc_cur_left(&c) > 0 && t->state != T_LOST) {
        uint32_t rel = sc->rel + (uint32_t)(c.ptr - p);
        if (t->state == T_HDR) {
            if (t->hlen == 0) {
                t->start_seq = rel;
                t->segments = 1;
            }
            nc_cur_u8(&c, &t->hdr[t->hlen++]);
            if (t->hlen < 5)
                continue;
            tls_record_start(sc);
            if (t->state == T_LOST || t->remaining > 0)
                continue;
        } else {
            size_t k = nc_cur_left(&c) < t->remaining ? nc_cur_left(&c) : t->remaining;
            if (t->state == T_BODY)
                nc_stream_hold_add(&sc->hold[REC_STORE], c.ptr, k);
            nc_cur_skip(&c, k);
            t->remaining = (uint16_t)(t->remaining - k);
            if (t->remaining > 0)
                continue;
        }
        nc_stream_ctx_t at = *sc;
        at.rel = sc->rel + (uint32_t)(c.ptr - p);
        tls_record_done(&at);
    }
    return n;
}

static void tls_gap(nc_stream_ctx_t *sc, uint32_t n)
{
    nc_tls_dir_t *t = &sc->dir->tls;
    if (t->state == T_LOST)
        return;
    sc->hold[HS_STORE].len = 0;
    t->hs_skip = 0;
    if ((t->state == T_BODY || t->state == T_SKIP) && n <= t->remaining) {
        /* The record's boundaries survive: count the loss, skip its rest
         * and read the next one. */
        bool had_keys = t->state == T_BODY;
        t->remaining = (uint16_t)(t->remaining - n);
        t->gap_bytes += n;
        t->state = T_SKIP;
        sc->hold[REC_STORE].len = 0;
        if (had_keys) {
            uint16_t len = (uint16_t)(t->hdr[3] << 8 | t->hdr[4]);
            uint32_t o = tls_overhead(&t->keys);
            tls_inner(sc, NULL, len > o ? len - o : 0, true);
        }
        if (t->remaining == 0) {
            nc_stream_ctx_t at = *sc;
            at.rel = sc->rel + n;
            tls_record_done(&at);
        }
        return;
    }
    if (t->state != T_HDR || t->hlen > 0) {
        nc_stream_msg_t msg;
        tls_msg_record(sc, &msg, t->hdr[0], t->protect, false);
        msg.incomplete = true;
        nc_stream_emit(sc, &msg, sc->rel);
    }
    t->state = T_LOST;
}

static void tls_end(nc_stream_ctx_t *sc)
{
    nc_tls_dir_t *t = &sc->dir->tls;
    if (t->state == T_BODY || t->state == T_SKIP || (t->state == T_HDR && t->hlen > 0)) {
        nc_stream_msg_t msg;
        tls_msg_record(sc, &msg, t->hdr[0], t->protect, false);
        msg.incomplete = true;
        nc_stream_emit(sc, &msg, sc->rel);
    }
    t->state = T_LOST;
    nc_stream_hold_free(&sc->hold[REC_STORE]);
    nc_stream_hold_free(&sc->hold[HS_STORE]);
    /* The inner decoder's direction ends with the connection's. */
    const nc_stream_proto_t *pr = nc__stream_app_proto(t->inner);
    if (pr != NULL && pr != &nc_tls_stream) {
        uint8_t app = sc->dir->app;
        uint32_t first = sc->out->nmsgs;
        sc->dir->app = t->inner;
        pr->end(sc);
        sc->dir->app = app;
        for (uint32_t i = first; i < sc->out->nmsgs; i++)
            sc->out->msgs[i].decrypted = true;
    }
}

/* ---- writing ---- */

static void tls_write_list(nc_evb_t *b, const char *name, const uint16_t *v, uint8_t n)
{
    nc_evb_list(b, name);
    for (uint8_t i = 0; i < n; i++)
        nc_evb_int(b, NULL, v[i]);
    nc_evb_end(b);
}

static const char *tls_message_name(const nc_tls_msg_t *m)
{
    if (m->has_hs) {
        size_t i = tls_hs_index(m->hs_type);
        if (m->hrr)
            return "HelloRetryRequest";
        return i == (size_t)-1 ? "Handshake" : tls_handshakes[i].name;
    }
    if (m->encrypted && !m->decrypted)
        return m->content_type == TLS_HANDSHAKE ? "Encrypted Handshake Message"
               : m->content_type == TLS_ALERT   ? "Encrypted Alert"
                                                : "Encrypted Application Data";
    return TLS_LOOKUP(tls_content_types, m->content_type, "Record");
}

static void tls_write(nc_evb_t *b, const nc_stream_msg_t *msg)
{
    const nc_tls_msg_t *m = &msg->u.tls;
    nc_evb_str(b, "message", tls_message_name(m));
    nc_evb_obj(b, "record");
    if (m->content_type)
        nc_evb_int(b, "content_type", m->content_type);
    if (m->opaque_type)
        nc_evb_int(b, "opaque_type", m->opaque_type);
    nc_evb_int(b, "version", m->rversion);
    nc_evb_int(b, "length", m->rlength);
    nc_evb_end(b);
    if (m->same_record)
        nc_evb_bool(b, "same_record", true);
    if (m->encrypted) {
        nc_evb_bool(b, "encrypted", true);
        nc_evb_int(b, "epoch", m->epoch);
    }
    if (m->decrypted)
        nc_evb_int(b, "plain_len", m->plain_len);
    if (m->plain[0])
        nc_evb_str(b, "plaintext", m->plain);
    if (m->has_hs) {
        nc_evb_obj(b, "handshake");
        nc_evb_int(b, "type", m->hs_type);
        nc_evb_int(b, "length", m->hs_length);
        if (m->hs_version)
            nc_evb_int(b, "version", m->hs_version);
        if (m->hs_type == 2)
            nc_evb_int(b, "ciphersuite", m->suite);
        if (m->nsuites)
            nc_evb_int(b, "cipher_suites", m->nsuites);
        if (m->sni[0])
            nc_evb_str(b, "extensions_server_name", m->sni);
        if (m->alpn[0])
            nc_evb_str(b, "extensions_alpn_str", m->alpn);
        if (m->nversions) {
            nc_evb_obj(b, "extensions");
            tls_write_list(b, "supported_version", m->versions, m->nversions);
            nc_evb_end(b);
        }
        if (m->ngroups)
            tls_write_list(b, "extensions_key_share_group", m->groups, m->ngroups);
        if (m->sig_scheme)
            nc_evb_int(b, "sig_hash_alg", m->sig_scheme);
        if (m->hs_type == 4)
            nc_evb_int(b, "session_ticket_lifetime_hint", m->ticket_lifetime);
        nc_evb_end(b);
        if (m->hrr)
            nc_evb_bool(b, "hrr", true);
        if (m->psk)
            nc_evb_bool(b, "psk", true);
        if (m->early_data)
            nc_evb_bool(b, "early_data", true);
        if (m->hs_cut)
            nc_evb_bool(b, "cut", true);
        if (m->hs_type == 11) {
            nc_evb_obj(b, "certificate");
            nc_evb_int(b, "chain_len", m->chain_len);
            nc_evb_str(b, "subject", m->subject);
            nc_evb_str(b, "issuer", m->issuer);
            nc_evb_str(b, "not_before", m->not_before);
            nc_evb_str(b, "not_after", m->not_after);
            nc_evb_end(b);
        }
        if (m->hs_type == 24)
            nc_evb_int(b, "key_update_request", m->key_update_request);
        nc_evb_int(b, "flight", m->flight);
        nc_evb_int(b, "round_trip", m->round_trip);
        if (m->round_trips)
            nc_evb_int(b, "round_trips", m->round_trips);
    } else if (m->content_type == TLS_ALERT && (!m->encrypted || m->decrypted)) {
        nc_evb_obj(b, "alert_message");
        nc_evb_int(b, "level", m->alert_level);
        nc_evb_int(b, "desc", m->alert_desc);
        nc_evb_end(b);
    } else if (m->content_type == TLS_CCS) {
        nc_evb_bool(b, "change_cipher_spec", true);
    }
    nc_evb_bool(b, "from_client", m->from_client);
    if (msg->incomplete)
        nc_evb_bool(b, "incomplete", true);
    nc_evb_int(b, "seq_start", msg->seq_start);
    nc_evb_int(b, "seq_end", msg->seq_end);
    nc_evb_int(b, "segments", msg->segments);
}

static void tls_summary(const nc_stream_msg_t *msg, char *s, size_t n)
{
    const nc_tls_msg_t *m = &msg->u.tls;
    int k = snprintf(s, n, "TLS %s", tls_message_name(m));
    if (k < 0 || (size_t)k >= n)
        return;
    char *p = s + k;
    size_t left = n - (size_t)k;
    if (m->has_hs && m->hs_type == 1 && m->sni[0])
        k = snprintf(p, left, " SNI=%s%s%s", m->sni, m->alpn[0] ? " ALPN=" : "", m->alpn);
    else if (m->has_hs && m->hs_type == 2 && !m->hrr)
        k = snprintf(p, left, " %s %s",
                     TLS_LOOKUP(tls_versions, m->nversions ? m->versions[0] : m->hs_version, "?"),
                     TLS_LOOKUP(tls_suites, m->suite, "(suite)"));
    else if (m->has_hs && m->hs_type == 2 && m->ngroups)
        k = snprintf(p, left, " (asks for a key share in %s)",
                     TLS_LOOKUP(tls_groups, m->groups[0], "another group"));
    else if (m->has_hs && m->hs_type == 11 && m->subject[0])
        k = snprintf(p, left, " %s (chain of %u)", m->subject, m->chain_len);
    else if (m->content_type == TLS_ALERT && (!m->encrypted || m->decrypted))
        k = snprintf(p, left, " %s %s", m->alert_level == 2 ? "fatal" : "warning",
                     TLS_LOOKUP(tls_alert_descs, m->alert_desc, "unknown"));
    else if (m->content_type == TLS_APPDATA && m->decrypted)
        k = snprintf(p, left, " %u bytes (decrypted)", m->plain_len);
    else
        k = 0;
    if (msg->incomplete && k >= 0 && (size_t)k < left)
        snprintf(p + k, left - (size_t)k, " (incomplete)");
}

static const nc_field_decl_t tls_fields[] = {
    {"message", NC_F_STR},
    {"record", NC_F_OBJ},
    {"record.content_type", NC_F_INT},
    {"record.opaque_type", NC_F_INT},
    {"record.version", NC_F_INT},
    {"record.length", NC_F_INT},
    {"same_record", NC_F_BOOL},
    {"encrypted", NC_F_BOOL},
    {"decrypted", NC_F_BOOL},
    {"epoch", NC_F_INT},
    {"plain_len", NC_F_INT},
    {"plaintext", NC_F_STR},
    {"handshake", NC_F_OBJ},
    {"handshake.type", NC_F_INT},
    {"handshake.length", NC_F_INT},
    {"handshake.version", NC_F_INT},
    {"handshake.ciphersuite", NC_F_INT},
    {"handshake.cipher_suites", NC_F_INT},
    {"handshake.extensions_server_name", NC_F_STR},
    {"handshake.extensions_alpn_str", NC_F_STR},
    {"handshake.extensions", NC_F_OBJ},
    {"handshake.extensions.supported_version", NC_F_LIST},
    {"handshake.extensions_key_share_group", NC_F_LIST},
    {"handshake.sig_hash_alg", NC_F_INT},
    {"handshake.session_ticket_lifetime_hint", NC_F_INT},
    {"hrr", NC_F_BOOL},
    {"psk", NC_F_BOOL},
    {"early_data", NC_F_BOOL},
    {"cut", NC_F_BOOL},
    {"certificate", NC_F_OBJ},
    {"certificate.chain_len", NC_F_INT},
    {"certificate.subject", NC_F_STR},
    {"certificate.issuer", NC_F_STR},
    {"certificate.not_before", NC_F_STR},
    {"certificate.not_after", NC_F_STR},
    {"key_update_request", NC_F_INT},
    {"flight", NC_F_INT},
    {"round_trip", NC_F_INT},
    {"round_trips", NC_F_INT},
    {"alert_message", NC_F_OBJ},
    {"alert_message.level", NC_F_INT},
    {"alert_message.desc", NC_F_INT},
    {"change_cipher_spec", NC_F_BOOL},
    {"from_client", NC_F_BOOL},
    {"incomplete", NC_F_BOOL},
    {"seq_start", NC_F_INT},
    {"seq_end", NC_F_INT},
    {"segments", NC_F_INT},
    {"other_direction", NC_F_BOOL},
    {NULL, 0},
};

const nc_stream_proto_t nc_tls_stream = {
    .name = "tls",
    .fields = tls_fields,
    .data = tls_data,
    .gap = tls_gap,
    .end = tls_end,
    .write = tls_write,
    .summary = tls_summary,
};

/* nc_decoder_layer("tls"): the bytes as the client's side of a fresh
 * connection (the fuzz harness and tests). */
static int tls_layer(nc_dctx_t *x, nc_cursor_t *c)
{
    return nc__stream_layer(x, c, NC_SAPP_TLS);
}

const nc_proto_t nc_tls_proto = {"tls", tls_layer, tls_fields};
