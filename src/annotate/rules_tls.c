/*
 * rules_tls.c: notes for TLS records and handshake messages (decode/tls.c).
 *
 * One rule per kind of message, chosen from a table keyed by the handshake
 * type (a HelloRetryRequest is a ServerHello with "hrr"), and rules for the
 * records that carry no handshake message: alerts, ChangeCipherSpec and
 * application data. Each note says what the message does for the handshake
 * and, on the message that completes it, how many round trips it cost:
 * decode/tls.c counts the server's flights (one per round trip the client
 * waited through) and writes "round_trips" on that message.
 */
#include <stdio.h>
#include <string.h>

#include "rules.h"
#include "../core/buf.h"
#include "../core/words.h"

/* The text of a field (lists joined with ","), or def, in buf. */
static const char *tls_text(const nc_annot_t *a, const char *path, const char *def, char *buf,
                            size_t n)
{
    nc_buf_t out;
    nc_buf_init(&out);
    bool ok = nc_event_value(a->ev, path, &out) && out.len > 0;
    snprintf(buf, n, "%.*s", ok ? (int)out.len : (int)strlen(def), ok ? out.data : def);
    nc_buf_done(&out);
    return buf;
}

static const char *tls_version_name(int64_t v)
{
    static const struct {
        int64_t v;
        const char *name;
    } names[] = {{0x0301, "TLS 1.0"}, {0x0302, "TLS 1.1"}, {0x0303, "TLS 1.2"},
                 {0x0304, "TLS 1.3"}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].v == v)
            return names[i].name;
    return "an unknown TLS version";
}

static void hs_client_hello(const nc_annot_t *a)
{
    char sni[128], alpn[128];
    int64_t rt = nc_annotate_int(a->ev, "tls.round_trip", 1);
    nc_evb_note(a->b, "ClientHello: %s opens the TLS handshake (round trip %lld). It names the "
                      "server it wants (SNI %s) and offers %lld cipher suites, the application "
                      "protocols %s (ALPN) and its key shares.",
                a->from, (long long)rt, tls_text(a, "tls.handshake.extensions_server_name",
                                                 "not given", sni, sizeof(sni)),
                (long long)nc_annotate_int(a->ev, "tls.handshake.cipher_suites", 0),
                tls_text(a, "tls.handshake.extensions_alpn_str", "(none)", alpn, sizeof(alpn)));
    if (nc_event_bool(a->ev, "tls.psk"))
        nc_evb_note(a->b, "It offers a pre-shared key from an earlier session: the server may "
                          "resume it without a certificate.");
    if (nc_event_bool(a->ev, "tls.early_data"))
        nc_evb_note(a->b, "It also sends early data (0-RTT): a request before the handshake "
                          "ends, which an attacker could replay.");
}

static void hs_server_hello(const nc_annot_t *a)
{
    if (nc_event_bool(a->ev, "tls.hrr")) {
        nc_evb_note(a->b, "HelloRetryRequest: %s can use none of the key shares offered and "
                          "asks for another; the client must send a second ClientHello, "
                          "which costs a whole extra round trip.",
                    a->from);
        return;
    }
    int64_t v = nc_annotate_int(a->ev, "tls.handshake.version", 0);
    const nc_field_t *sv = nc_event_get(a->ev, "tls.handshake.extensions.supported_version");
    if (sv)
        v = 0x0304;
    if (v == 0x0304)
        nc_evb_note(a->b, "ServerHello: %s picks TLS 1.3 and its key share completes the key "
                          "exchange, so everything it sends after this is encrypted with "
                          "handshake keys.",
                    a->from);
    else
        nc_evb_note(a->b, "ServerHello: %s picks %s and a cipher suite; the keys are agreed "
                          "only after its certificate and key exchange, one round trip later.",
                    a->from, tls_version_name(v));
}

static void hs_certificate(const nc_annot_t *a)
{
    char subject[128], issuer[128], nb[32], na[32];
    int64_t n = nc_annotate_int(a->ev, "tls.certificate.chain_len", 0);
    tls_text(a, "tls.certificate.subject", "(no name)", subject, sizeof(subject));
    tls_text(a, "tls.certificate.issuer", "(no name)", issuer, sizeof(issuer));
    nc_evb_note(a->b, "Certificate: %s shows a chain of %lld %s. The first names %s, issued by "
                      "%s%s, valid from %s to %s.",
                a->from, (long long)n, nc_words_plural(n, "certificate", "certificates"), subject,
                issuer, strcmp(subject, issuer) == 0 ? " (itself: self-signed)" : "",
                tls_text(a, "tls.certificate.not_before", "?", nb, sizeof(nb)),
                tls_text(a, "tls.certificate.not_after", "?", na, sizeof(na)));
}

static void hs_finished(const nc_annot_t *a)
{
    nc_evb_note(a->b, "Finished: a MAC over the whole handshake as %s saw it; if anyone had "
                      "changed a message, the peer would reject it.",
                a->from);
    int64_t rts = nc_annotate_int(a->ev, "tls.round_trips", 0);
    if (rts > 0)
        nc_evb_note(a->b, "The handshake is complete: it cost %lld %s before the client could "
                          "send its first request.",
                    (long long)rts, nc_words_plural(rts, "round trip", "round trips"));
}

static void hs_new_session_ticket(const nc_annot_t *a)
{
    nc_evb_note(a->b, "NewSessionTicket: a ticket %s can present later to resume the session "
                      "without a full handshake (valid %lld s).",
                a->to,
                (long long)nc_annotate_int(a->ev, "tls.handshake.session_ticket_lifetime_hint", 0));
}

static void hs_key_update(const nc_annot_t *a)
{
    nc_evb_note(a->b, "KeyUpdate: %s switches to new keys derived from the old ones%s.",
                a->from,
                nc_annotate_int(a->ev, "tls.key_update_request", 0)
                    ? " and asks the peer to do the same"
                    : "");
}

/* Each handshake message's note: a writer, or one sentence whose %s is
 * the sender. */
static const struct {
    int64_t type;
    void (*write)(const nc_annot_t *a);
    const char *said;
} tls_hs_notes[] = {
    {1, hs_client_hello, NULL},
    {2, hs_server_hello, NULL},
    {4, hs_new_session_ticket, NULL},
    {8, NULL, "EncryptedExtensions: the rest of %s's answer to the ClientHello, the first "
              "message under the handshake keys."},
    {11, hs_certificate, NULL},
    {12, NULL, "ServerKeyExchange: %s's half of the (EC)DHE key exchange, signed with its "
               "certificate's key."},
    {14, NULL, "ServerHelloDone: %s has said all it will; the client's turn, one round trip in."},
    {15, NULL, "CertificateVerify: a signature over the handshake so far, made with the "
               "certificate's private key: proof that %s holds it."},
    {16, NULL, "ClientKeyExchange: %s's half of the key exchange; both sides can now compute "
               "the keys."},
    {20, hs_finished, NULL},
    {24, hs_key_update, NULL},
};

static bool handshake_match(const nc_annot_t *a)
{
    return nc_event_get(a->ev, "tls.handshake.type") != NULL;
}

static void handshake_write(const nc_annot_t *a)
{
    int64_t type = nc_annotate_int(a->ev, "tls.handshake.type", -1);
    for (size_t i = 0; i < sizeof(tls_hs_notes) / sizeof(tls_hs_notes[0]); i++) {
        if (tls_hs_notes[i].type != type)
            continue;
        if (tls_hs_notes[i].write)
            tls_hs_notes[i].write(a);
        else
            nc_evb_note(a->b, tls_hs_notes[i].said, a->from);
    }
}

static int64_t tls_ctype(const nc_annot_t *a)
{
    return nc_annotate_int(a->ev, "tls.record.content_type", -1);
}

static bool alert_match(const nc_annot_t *a)
{
    return nc_event_get(a->ev, "tls.alert_message.desc") != NULL;
}

static void alert_write(const nc_annot_t *a)
{
    int64_t desc = nc_annotate_int(a->ev, "tls.alert_message.desc", -1);
    if (desc == 0)
        nc_evb_note(a->b, "Alert close_notify: %s will send nothing more on this connection; "
                          "it says so inside TLS so that a cut connection cannot pass for a "
                          "finished one.",
                    a->from);
    else
        nc_evb_note(a->b, "Alert %lld (%s): %s reports an error%s.", (long long)desc,
                    nc_annotate_int(a->ev, "tls.alert_message.level", 0) == 2 ? "fatal"
                                                                               : "warning",
                    a->from,
                    nc_annotate_int(a->ev, "tls.alert_message.level", 0) == 2
                        ? " and ends the connection"
                        : "");
}

static bool ccs_match(const nc_annot_t *a)
{
    return nc_event_bool(a->ev, "tls.change_cipher_spec");
}

static void ccs_write(const nc_annot_t *a)
{
    nc_evb_note(a->b, "ChangeCipherSpec: from the next record on, %s encrypts (in TLS 1.3 "
                          "this record means nothing and is sent only so that old middleboxes "
                          "let the connection through).",
                    a->from);
}

static bool appdata_match(const nc_annot_t *a)
{
    return (tls_ctype(a) == 23 ||
            (tls_ctype(a) == -1 && nc_annotate_int(a->ev, "tls.record.opaque_type", 0) == 23)) &&
           nc_event_get(a->ev, "tls.handshake") == NULL;
}

static void appdata_write(const nc_annot_t *a)
{
    if (nc_event_bool(a->ev, "tls.decrypted"))
        nc_evb_note(a->b, "Application Data: %lld bytes of plaintext under the encryption, "
                          "decrypted with the connection's secrets; what they carry is shown "
                          "beside it, marked decrypted.",
                    (long long)nc_annotate_int(a->ev, "tls.plain_len", 0));
    else if (tls_ctype(a) == -1)
        nc_evb_note(a->b, "Encrypted record: without the connection's secrets (a key log) "
                          "nobody on the path can read it. In TLS 1.3 every encrypted record "
                          "is labelled application data on the outside, so an observer cannot "
                          "even tell the end of the handshake from the data.");
    else
        nc_evb_note(a->b, "Encrypted Application Data: without the connection's secrets (a key "
                          "log) nobody on the path can read it.");
}

static bool encrypted_handshake_match(const nc_annot_t *a)
{
    return tls_ctype(a) == 22 && nc_event_get(a->ev, "tls.handshake") == NULL &&
           nc_event_bool(a->ev, "tls.encrypted");
}

static void encrypted_handshake_write(const nc_annot_t *a)
{
    nc_evb_note(a->b, "Encrypted Handshake Message: in TLS 1.2 the first record after "
                      "ChangeCipherSpec is the Finished, already encrypted.");
}

static const nc_rule_t tls_rules[] = {
    {"tls-handshake", handshake_match, handshake_write},
    {"tls-alert", alert_match, alert_write},
    {"tls-ccs", ccs_match, ccs_write},
    {"tls-appdata", appdata_match, appdata_write},
    {"tls-encrypted-handshake", encrypted_handshake_match, encrypted_handshake_write},
};

const nc_rule_set_t nc_rules_tls = {
    .layer = "tls",
    .rules = tls_rules,
    .count = sizeof(tls_rules) / sizeof(tls_rules[0]),
};
