/*
 * rules_quic.c: notes for QUIC packets (decode/quic.c) and HTTP/3 frames
 * (decode/http3.c).
 *
 * What a learner should take from a QUIC packet: which keys opened it
 * (Initial keys that anyone can derive from the client's Destination
 * Connection ID, or the TLS secrets of the key log), what the ClientHello
 * inside the first Initial asks for, why a packet stayed encrypted, and,
 * for a frame sent again, which earlier packet carried its data first and
 * that only that stream waits for it. Each set sees one QUIC packet (a
 * coalesced datagram runs the set once per packet). A note names only
 * what was decoded.
 */
#include "rules.h"

#include <stdio.h>
#include <string.h>

static bool keys_is(const nc_annot_t *a, const char *keys)
{
    const char *k = nc_event_str(a->ev, "quic.keys");
    return k && strcmp(k, keys) == 0;
}

static bool from_client(const nc_annot_t *a)
{
    const nc_field_t *f = nc_event_get(a->ev, "quic.from_client");
    return f && f->kind == NC_F_BOOL && f->v.b;
}

static bool initial_match(const nc_annot_t *a)
{
    return keys_is(a, "initial");
}

static void initial_write(const nc_annot_t *a)
{
    const char *sni = nc_event_str(a->ev, "quic.sni");
    const char *alpn = nc_event_str(a->ev, "quic.alpn");
    if (from_client(a) && sni) {
        nc_evb_note(a->b, "QUIC Initial from %s, decrypted with keys derived from nothing but the "
                          "Destination Connection ID it chose (RFC 9001 5.2): anyone on the path "
                          "can read it. The TLS ClientHello inside names the server %s%s%s.",
                    a->from, sni, alpn ? " and asks for the application protocol " : "",
                    alpn ? alpn : "");
        return;
    }
    nc_evb_note(a->b, "QUIC Initial from %s, decrypted with the Initial keys, derived from the "
                      "client's first Destination Connection ID: they protect the packet from "
                      "changes, not from being read.",
                a->from);
}

static bool secret_match(const nc_annot_t *a)
{
    return keys_is(a, "handshake");
}

static void secret_write(const nc_annot_t *a)
{
    nc_evb_note(a->b, "QUIC Handshake packet from %s, decrypted with the %s handshake traffic "
                      "secret from the key log: the TLS handshake goes on here, hidden from the "
                      "path.",
                a->from, from_client(a) ? "client's" : "server's");
}

static bool early_match(const nc_annot_t *a)
{
    return keys_is(a, "0-RTT");
}

static void early_write(const nc_annot_t *a)
{
    nc_evb_note(a->b, "QUIC 0-RTT packet from %s, decrypted with its early traffic secret from "
                      "the key log: data sent in the first flight, before the handshake is done, "
                      "on the strength of a ticket from an earlier connection. The server may "
                      "refuse it, and an attacker can replay it, so it should only ask for what "
                      "is safe to repeat.",
                a->from);
}

static bool undecrypted_match(const nc_annot_t *a)
{
    return nc_event_str(a->ev, "quic.undecrypted") != NULL;
}

static void undecrypted_write(const nc_annot_t *a)
{
    const char *lvl = nc_event_str(a->ev, "quic.packet_type_name");
    nc_evb_note(a->b, "This QUIC packet (%s) stays encrypted: %s. Only its header can be read.",
                lvl ? lvl : "?", nc_event_str(a->ev, "quic.undecrypted"));
}

static bool vn_match(const nc_annot_t *a)
{
    return nc_event_get(a->ev, "quic.supported_version") != NULL;
}

static void vn_write(const nc_annot_t *a)
{
    nc_evb_note(a->b, "Version Negotiation: %s does not speak the QUIC version %s asked for and "
                      "lists the ones it does. This packet is not protected; the client starts "
                      "again with a version from the list.",
                a->from, a->to);
}

/* Calls fn on each frame object of the packet, seen as an event of its own
 * (paths "stream.stream_id", "retransmission_of.packet_number"). */
static void each_frame(const nc_annot_t *a,
                       void (*fn)(const nc_annot_t *a, const nc_event_t *fr, void *arg), void *arg)
{
    const nc_field_t *l = nc_event_get(a->ev, "quic.frame");
    if (l == NULL || l->kind != NC_F_LIST)
        return;
    const nc_field_t *base = a->ev->fields;
    uint32_t idx = (uint32_t)(l - base);
    uint32_t end = nc_fields_skip(base, a->ev->nfields, idx);
    for (uint32_t k = idx + 1; k < end && base[k].kind != NC_F_END;) {
        uint32_t next = nc_fields_skip(base, end, k);
        if (base[k].kind == NC_F_OBJ && next >= k + 2) {
            nc_event_t el = *a->ev;
            el.fields = base + k + 1;
            el.nfields = next - k - 2;
            fn(a, &el, arg);
        }
        k = next;
    }
}

static bool retrans_match(const nc_annot_t *a)
{
    return nc_event_get(a->ev, "quic.keys") != NULL;
}

static void retrans_one(const nc_annot_t *a, const nc_event_t *fr, void *arg)
{
    (void)arg;
    int64_t pn;
    if (!nc_event_int(fr, "retransmission_of.packet_number", &pn))
        return;
    const nc_field_t *acked = nc_event_get(fr, "retransmission_of.acked");
    bool was_acked = acked && acked->kind == NC_F_BOOL && acked->v.b;
    int64_t off = nc_annotate_int(fr, "stream.offset", nc_annotate_int(fr, "crypto.offset", 0));
    int64_t len = nc_annotate_int(fr, "stream.length", nc_annotate_int(fr, "crypto.length", 0));
    int64_t sid;
    char what[64];
    if (nc_event_int(fr, "stream.stream_id", &sid))
        snprintf(what, sizeof(what), "stream %lld", (long long)sid);
    else
        snprintf(what, sizeof(what), "the TLS handshake (CRYPTO)");
    nc_evb_note(a->b, "Sent again: bytes %lld-%lld of %s first went out in packet %lld, %s. QUIC "
                      "never resends a packet: the lost frame travels again in a new packet "
                      "with a new number, and only %s waits for it, the other streams go on.",
                (long long)off, (long long)(off + len - 1), what, (long long)pn,
                was_acked ? "which the peer had acknowledged (a spurious retransmission)"
                          : "which the peer never acknowledged, so the sender counted it lost",
                what);
}

static void retrans_write(const nc_annot_t *a)
{
    each_frame(a, retrans_one, NULL);
}

static void close_one(const nc_annot_t *a, const nc_event_t *fr, void *arg)
{
    (void)arg;
    int64_t code;
    if (!nc_event_int(fr, "cc.error_code", &code))
        return;
    const nc_field_t *app = nc_event_get(fr, "cc.application");
    const char *reason = nc_event_str(fr, "cc.reason");
    nc_evb_note(a->b, "%s closes the QUIC connection (CONNECTION_CLOSE, %s error code %lld%s%s%s). "
                      "No FIN handshake as in TCP: the peer stops sending at once.",
                a->From, app && app->v.b ? "application" : "transport", (long long)code,
                reason && reason[0] ? ": \"" : "", reason && reason[0] ? reason : "",
                reason && reason[0] ? "\"" : "");
}

static void close_write(const nc_annot_t *a)
{
    each_frame(a, close_one, NULL);
}

/* Appends "stream N bytes A-B" for a STREAM frame sent for the first
 * time (arg: a char[256]). */
static void stream_one(const nc_annot_t *a, const nc_event_t *fr, void *arg)
{
    (void)a;
    char *list = arg;
    int64_t sid, off, len;
    if (!nc_event_int(fr, "stream.stream_id", &sid) || nc_event_get(fr, "retransmission_of"))
        return;
    off = nc_annotate_int(fr, "stream.offset", 0);
    len = nc_annotate_int(fr, "stream.length", 0);
    size_t n = strlen(list);
    char range[48];
    if (len == 0)
        snprintf(range, sizeof(range), "its end, no bytes");
    else if (len == 1)
        snprintf(range, sizeof(range), "byte %lld", (long long)off);
    else
        snprintf(range, sizeof(range), "bytes %lld-%lld", (long long)off, (long long)(off + len - 1));
    if (n + 80 < 256)
        snprintf(list + n, 256 - n, "%sstream %lld %s", n ? ", " : "", (long long)sid, range);
}

static bool onertt_match(const nc_annot_t *a)
{
    return keys_is(a, "1-RTT");
}

static void onertt_write(const nc_annot_t *a)
{
    char list[256] = "";
    each_frame(a, stream_one, list);
    if (!list[0])
        return;
    int64_t gen = nc_annotate_int(a->ev, "quic.key_generation", 0);
    char upd[48] = "";
    if (gen)
        snprintf(upd, sizeof(upd), ", moved on by %lld key update%s", (long long)gen,
                 gen > 1 ? "s" : "");
    nc_evb_note(a->b, "A 1-RTT packet, decrypted with %s application keys (%s from the key "
                      "log%s): %s.",
                from_client(a) ? "the client's" : "the server's",
                from_client(a) ? "CLIENT_TRAFFIC_SECRET_0" : "SERVER_TRAFFIC_SECRET_0", upd, list);
}

static const nc_rule_t quic_rules[] = {
    {"quic-1rtt", onertt_match, onertt_write},
    {"quic-initial", initial_match, initial_write},
    {"quic-handshake", secret_match, secret_write},
    {"quic-0rtt", early_match, early_write},
    {"quic-undecrypted", undecrypted_match, undecrypted_write},
    {"quic-vn", vn_match, vn_write},
    {"quic-retransmission", retrans_match, retrans_write},
    {"quic-close", retrans_match, close_write},
};

const nc_rule_set_t nc_rules_quic = {"quic", quic_rules, sizeof(quic_rules) / sizeof(quic_rules[0]),
                                     NULL};

static bool h3_headers_match(const nc_annot_t *a)
{
    return nc_annotate_int(a->ev, "http3.frame_type", -1) == 1 &&
           nc_event_get(a->ev, "http3.header_list_size") != NULL;
}

static void h3_headers_write(const nc_annot_t *a)
{
    const char *method = nc_event_str(a->ev, "http3.method");
    const char *path = nc_event_str(a->ev, "http3.path");
    const char *status = nc_event_str(a->ev, "http3.status");
    int64_t sid = nc_annotate_int(a->ev, "http3.stream_id", 0);
    char what[200];
    if (method)
        snprintf(what, sizeof(what), "the request %s %s", method, path ? path : "");
    else if (status)
        snprintf(what, sizeof(what), "the response status %s", status);
    else
        snprintf(what, sizeof(what), "header fields");
    nc_evb_note(a->b, "HTTP/3 HEADERS on QUIC stream %lld: %s. QPACK packed %lld bytes of header "
                      "fields into %lld; each request has a stream of its own, so a lost packet "
                      "of another stream does not hold this one up.",
                (long long)sid, what, (long long)nc_annotate_int(a->ev, "http3.header_list_size", 0),
                (long long)nc_annotate_int(a->ev, "http3.header_block_len", 0));
}

static bool h3_stream_match(const nc_annot_t *a)
{
    return nc_event_str(a->ev, "http3.stream_type_name") != NULL;
}

static void h3_stream_write(const nc_annot_t *a)
{
    nc_evb_note(a->b, "QUIC stream %lld opens as HTTP/3's %s stream (a one-way stream whose first "
                      "byte names its use).",
                (long long)nc_annotate_int(a->ev, "http3.stream_id", 0),
                nc_event_str(a->ev, "http3.stream_type_name"));
}

static const nc_rule_t http3_rules[] = {
    {"http3-headers", h3_headers_match, h3_headers_write},
    {"http3-stream", h3_stream_match, h3_stream_write},
};

const nc_rule_set_t nc_rules_http3 = {"http3", http3_rules,
                                      sizeof(http3_rules) / sizeof(http3_rules[0]), NULL};
