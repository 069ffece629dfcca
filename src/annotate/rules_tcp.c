/*
 * rules_tcp.c: notes for TCP segments: the three-way handshake, data and
 * cumulative ACKs, duplicate ACKs, retransmissions, windows, FIN and RST.
 *
 * Sequence and ACK numbers in the notes are the relative ones of the event
 * (the SYN is byte 0 of each side's stream, data starts at byte 1), the
 * same numbers the ladder shows. tcp_prepare() reads the "tcp" object once
 * into nc_tcp_facts_t, so the predicates below are bit tests: this set runs
 * on most packets of every replay.
 *
 * A note states only what this run showed. What depends on the flow's
 * history (whether the peer already sent its FIN, how many duplicate ACKs
 * came before a retransmission, how long after the previous transmission it
 * went out) is read from the fields the decoder's flow table wrote
 * (decode/tcp.c: recovery, dup_ack_num and the private _peer_fin, _peer_syn,
 * _dup_acks_before, _gap_ns), never assumed from a textbook schedule.
 */
#include "rules.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

enum { T_SYN = 1, T_ACK = 2, T_FIN = 4, T_RST = 8, T_PSH = 16 };

static const struct {
    const char *name;
    unsigned bit;
} tcp_flag_bits[] = {{"SYN", T_SYN}, {"ACK", T_ACK}, {"FIN", T_FIN}, {"RST", T_RST},
                     {"PSH", T_PSH}};

/* The members tcp_prepare() reads: key, whether it is an integer (else a
 * boolean), and where it goes. */
static const struct {
    const char *key;
    bool is_int;
    size_t off;
} tcp_keys[] = {
    {"seq", true, offsetof(nc_tcp_facts_t, seq)},
    {"ack", true, offsetof(nc_tcp_facts_t, ack)},
    {"len", true, offsetof(nc_tcp_facts_t, len)},
    {"win", true, offsetof(nc_tcp_facts_t, win)},
    {"mss", true, offsetof(nc_tcp_facts_t, mss)},
    {"wscale", true, offsetof(nc_tcp_facts_t, wscale)},
    {"retransmission", false, offsetof(nc_tcp_facts_t, retransmission)},
    {"dup_ack", false, offsetof(nc_tcp_facts_t, dup_ack)},
    {"zero_window", false, offsetof(nc_tcp_facts_t, zero_window)},
    {"window_probe", false, offsetof(nc_tcp_facts_t, window_probe)},
    {"keepalive", false, offsetof(nc_tcp_facts_t, keepalive)},
    {"_established", false, offsetof(nc_tcp_facts_t, established)},
    {"sack_perm", false, offsetof(nc_tcp_facts_t, sack_perm)},
    {"dup_ack_num", true, offsetof(nc_tcp_facts_t, dup_ack_num)},
    {"_dup_acks_before", true, offsetof(nc_tcp_facts_t, dup_acks_before)},
    {"_asked", true, offsetof(nc_tcp_facts_t, asked)},
    {"_gap_ns", true, offsetof(nc_tcp_facts_t, gap_ns)},
    {"_peer_fin", false, offsetof(nc_tcp_facts_t, peer_fin)},
    {"_peer_syn", false, offsetof(nc_tcp_facts_t, peer_syn)},
    {"_with_new", false, offsetof(nc_tcp_facts_t, with_new)},
    {"_acks_fin", false, offsetof(nc_tcp_facts_t, acks_fin)},
    {"_peer_established", false, offsetof(nc_tcp_facts_t, peer_established)},
};

/* One walk over the tcp object (and its options object). */
static void tcp_prepare(nc_annot_t *a)
{
    nc_tcp_facts_t *t = &a->tcp;
    memset(t, 0, sizeof(*t));
    t->mss = t->wscale = t->gap_ns = -1;
    const nc_field_t *f = a->ev->fields;
    uint32_t n = a->ev->nfields;
    bool in_flags = false;
    for (uint32_t k = 1; k < n; k++) {
        const nc_field_t *tok = &f[k];
        if (tok->kind == NC_F_END) {
            in_flags = false;
            continue;
        }
        if (in_flags && tok->kind == NC_F_STR) {
            for (size_t i = 0; i < sizeof(tcp_flag_bits) / sizeof(tcp_flag_bits[0]); i++)
                if (strcmp(tok->v.s, tcp_flag_bits[i].name) == 0)
                    t->flags |= tcp_flag_bits[i].bit;
            continue;
        }
        if (tok->key == NULL)
            continue;
        if (tok->kind == NC_F_LIST) {
            in_flags = strcmp(tok->key, "flags") == 0;
            if (!in_flags) {
                uint32_t end = nc_fields_skip(f, n, k);
                if (strcmp(tok->key, "sack") == 0) {
                    t->nsack = end - k - 2;
                    if (k + 1 < n && f[k + 1].kind == NC_F_STR)
                        t->sack_first = f[k + 1].v.s;
                }
                k = end - 1;
            }
            continue;
        }
        if (tok->kind == NC_F_STR && strcmp(tok->key, "recovery") == 0) {
            t->recovery = tok->v.s;
            continue;
        }
        if (tok->kind != NC_F_INT && tok->kind != NC_F_BOOL)
            continue;
        for (size_t i = 0; i < sizeof(tcp_keys) / sizeof(tcp_keys[0]); i++) {
            if (tok->key[0] != tcp_keys[i].key[0] || tok->key[1] != tcp_keys[i].key[1] ||
                strcmp(tok->key, tcp_keys[i].key) != 0)
                continue;
            if (tcp_keys[i].is_int && tok->kind == NC_F_INT)
                *(int64_t *)((char *)t + tcp_keys[i].off) = tok->v.i;
            else if (!tcp_keys[i].is_int && tok->kind == NC_F_BOOL)
                *(bool *)((char *)t + tcp_keys[i].off) = tok->v.b != 0;
            break;
        }
    }
}

static bool tcp_has(const nc_annot_t *a, unsigned bits)
{
    return (a->tcp.flags & bits) == bits;
}

static bool tcp_plain(const nc_annot_t *a)
{
    return !(a->tcp.flags & (T_SYN | T_FIN | T_RST));
}

/* Appends "It offers MSS 1460 and window scaling x128." for SYNs. */
static void tcp_offers(const nc_annot_t *a)
{
    const nc_tcp_facts_t *t = &a->tcp;
    char what[160] = "";
    size_t n = 0;
    if (t->mss >= 0)
        n += (size_t)snprintf(what + n, sizeof(what) - n, "MSS %lld", (long long)t->mss);
    if (t->wscale >= 0 && n < sizeof(what))
        n += (size_t)snprintf(what + n, sizeof(what) - n, "%swindow scaling x%lld",
                              n ? (t->sack_perm ? ", " : " and ") : "",
                              1LL << (t->wscale > 14 ? 14 : t->wscale));
    if (t->sack_perm && n < sizeof(what))
        snprintf(what + n, sizeof(what) - n, "%sselective ACKs (SACK)", n ? " and " : "");
    if (what[0])
        nc_evb_note(a->b, "It offers %s.", what);
}

static bool syn_match(const nc_annot_t *a)
{
    return tcp_has(a, T_SYN) && !tcp_has(a, T_ACK) && !a->tcp.retransmission;
}

static void syn_write(const nc_annot_t *a)
{
    nc_evb_note(a->b, "SYN: %s asks %s to open a connection and picks its initial sequence "
                      "number, shown as 0 (relative).",
                a->from, a->to);
    tcp_offers(a);
}

static bool synack_match(const nc_annot_t *a)
{
    return tcp_has(a, T_SYN | T_ACK) && !a->tcp.retransmission;
}

static void synack_write(const nc_annot_t *a)
{
    nc_evb_note(a->b, "SYN-ACK: %s accepts. It picks its own initial sequence number (0, "
                      "relative) and acknowledges the SYN with ack %lld: a SYN counts as one "
                      "byte.",
                a->from, (long long)a->tcp.ack);
    tcp_offers(a);
}

static bool established_match(const nc_annot_t *a)
{
    return a->tcp.established;
}

static void established_write(const nc_annot_t *a)
{
    nc_evb_note(a->b, "ACK: %s acknowledges the SYN-ACK. That completes the three-way "
                      "handshake: the connection is now established on both sides.",
                a->from);
}

static bool data_match(const nc_annot_t *a)
{
    return a->tcp.len > 0 && !a->tcp.retransmission && !a->tcp.window_probe &&
           !a->tcp.keepalive;
}

static void data_write(const nc_annot_t *a)
{
    /* Data on a SYN (TCP Fast Open) starts after the SYN's byte. */
    int64_t seq = a->tcp.seq + (tcp_has(a, T_SYN) ? 1 : 0), len = a->tcp.len;
    if (len == 1)
        nc_evb_note(a->b, "Data: 1 byte, byte %lld of %s's stream.", (long long)seq, a->from);
    else
        nc_evb_note(a->b, "Data: %lld bytes that carry bytes %lld-%lld of %s's stream.",
                    (long long)len, (long long)seq, (long long)(seq + len - 1), a->from);
}

static bool retrans_match(const nc_annot_t *a)
{
    return a->tcp.retransmission;
}

/* ", 0.204 s after the previous one" into out, or "" when the gap is unknown. */
static void tcp_gap_text(const nc_annot_t *a, const char *what, char *out, size_t n)
{
    out[0] = '\0';
    if (a->tcp.gap_ns >= 0)
        snprintf(out, n, ", %.3f s after %s", (double)a->tcp.gap_ns / 1e9, what);
}

static bool recovery_is(const nc_annot_t *a, const char *kind)
{
    return a->tcp.recovery && strcmp(a->tcp.recovery, kind) == 0;
}

static void retrans_write(const nc_annot_t *a)
{
    const nc_tcp_facts_t *t = &a->tcp;
    char gap[64];
    long long seq = (long long)t->seq, end = (long long)(t->seq + t->len - 1);
    long long dups = (long long)t->dup_acks_before, asked = (long long)t->asked;
    if (tcp_has(a, T_SYN)) {
        tcp_gap_text(a, "the previous one", gap, sizeof(gap));
        if (tcp_has(a, T_ACK) && t->peer_established)
            nc_evb_note(a->b, "Retransmitted SYN-ACK%s: %s did send the ACK that completes the "
                              "handshake (it is in this capture), yet %s sends its SYN-ACK "
                              "again: the ACK was lost on the way, or %s's kernel dropped it (on "
                              "Linux, a full accept queue drops it while "
                              "net.ipv4.tcp_abort_on_overflow is 0).",
                        gap, a->to, a->from, a->from);
        else if (tcp_has(a, T_ACK))
            nc_evb_note(a->b, "Retransmitted SYN-ACK: no ACK came back, so %s sends its SYN-ACK "
                              "again%s.",
                        a->from, gap);
        else
            nc_evb_note(a->b, "Retransmitted SYN: no SYN-ACK came back, so %s sends its SYN "
                              "again%s. The waits between tries are the kernel's settings (on "
                              "Linux net.ipv4.tcp_syn_retries and tcp_syn_linear_timeouts).",
                        a->from, gap);
        return;
    }
    tcp_gap_text(a, t->len > 0 ? "they were last sent" : "it was last sent", gap, sizeof(gap));
    if (t->len > 0)
        nc_evb_note(a->b, "Retransmission of bytes %lld-%lld%s.", seq, end, gap);
    else
        nc_evb_note(a->b, "Retransmission%s%s: no ACK came for it, so the sender's kernel sends "
                          "it again.",
                    tcp_has(a, T_FIN) ? " of the FIN" : "", gap);
    if (t->len == 0)
        return;
    if (t->with_new)
        nc_evb_note(a->b, "Only its first bytes were sent before; the rest is new data, so this "
                          "is no recovery of a loss.");
    else if (recovery_is(a, "sack"))
        nc_evb_note(a->b, "%s had sent %lld duplicate ACK%s asking for byte %lld, with SACK "
                          "blocks showing that later bytes had arrived; that was enough for the "
                          "sender to resend the gap without waiting for three (SACK loss "
                          "recovery; Linux's RACK, RFC 8985).",
                    a->To, dups, dups == 1 ? "" : "s", asked);
    else if (recovery_is(a, "fast"))
        nc_evb_note(a->b, "%s had sent %lld duplicate ACKs asking for byte %lld: fast "
                          "retransmit.",
                    a->To, dups, asked);
    else if (recovery_is(a, "dupack"))
        nc_evb_note(a->b, "%s had sent %lld duplicate ACK%s asking for byte %lld, without SACK "
                          "blocks.",
                    a->To, dups, dups == 1 ? "" : "s", asked);
    else if (recovery_is(a, "rto"))
        nc_evb_note(a->b, "No duplicate ACK asked for these bytes: the sender's retransmission "
                          "timer (RTO) expired.");
    else if (recovery_is(a, "tlp"))
        nc_evb_note(a->b, "These were the last bytes sent and no ACK came for them: a tail loss "
                          "probe (RFC 8985) resends them to draw an ACK that shows what is "
                          "missing.");
    else if (recovery_is(a, "timer"))
        nc_evb_note(a->b, "No ACK or duplicate ACK came for these bytes, the only ones "
                          "unacknowledged, so a timer fired: the retransmission timeout, or on "
                          "Linux a tail loss probe.");
}

static bool ack_match(const nc_annot_t *a)
{
    return tcp_plain(a) && tcp_has(a, T_ACK) && a->tcp.len == 0 && !a->tcp.established &&
           !a->tcp.dup_ack && !a->tcp.keepalive && !a->tcp.window_probe;
}

static void ack_write(const nc_annot_t *a)
{
    int64_t ack = a->tcp.ack;
    if (a->tcp.acks_fin) {
        nc_evb_note(a->b, "ACK %lld acknowledges %s's FIN (byte %lld of its stream): everything "
                          "%s sent has arrived.",
                    (long long)ack, a->to, (long long)(ack - 1), a->to);
        return;
    }
    if (ack <= 1 && a->tcp.peer_syn) {
        nc_evb_note(a->b, "ACK %lld: no data of %s's stream has arrived yet (its SYN was byte "
                          "0); byte 1 is expected first. The window says %lld bytes fit in the "
                          "receive buffer.",
                    (long long)ack, a->to, (long long)a->tcp.win);
        return;
    }
    if (ack <= 1) {
        nc_evb_note(a->b, "ACK %lld: the capture began in the middle of this connection, so "
                          "byte numbers count from the first one seen; byte %lld of %s's "
                          "stream is expected next. The window says %lld bytes fit in the "
                          "receive buffer.",
                    (long long)ack, (long long)ack, a->to, (long long)a->tcp.win);
        return;
    }
    nc_evb_note(a->b, "ACK %lld is cumulative: everything up to byte %lld of %s's stream has "
                      "arrived, and byte %lld is expected next. The window says %lld more "
                      "bytes fit in the receive buffer.",
                (long long)ack, (long long)(ack - 1), a->to, (long long)ack,
                (long long)a->tcp.win);
}

static bool dupack_match(const nc_annot_t *a)
{
    return a->tcp.dup_ack;
}

static void dupack_write(const nc_annot_t *a)
{
    long long ack = (long long)a->tcp.ack, n = (long long)a->tcp.dup_ack_num;
    if (n > 1) {
        nc_evb_note(a->b, "Duplicate ACK #%lld for byte %lld: another segment past the gap "
                          "arrived%s%s%s.",
                    n, ack, a->tcp.sack_first ? " (SACK now reaches " : "",
                    a->tcp.sack_first ? a->tcp.sack_first : "",
                    a->tcp.sack_first ? ")" : "");
        return;
    }
    nc_evb_note(a->b, "Duplicate ACK%s: %s asks again for byte %lld, because a segment "
                      "after it arrived while the one starting at byte %lld did not.",
                n == 1 ? " #1" : "", a->from, ack, ack);
    if (a->tcp.sack_first)
        nc_evb_note(a->b, "Its SACK block%s (%s%s) name%s the bytes that did arrive past the "
                          "gap.",
                    a->tcp.nsack > 1 ? "s" : "", a->tcp.sack_first,
                    a->tcp.nsack > 1 ? ", ..." : "", a->tcp.nsack > 1 ? "" : "s");
}

static bool fin_match(const nc_annot_t *a)
{
    return tcp_has(a, T_FIN) && !tcp_has(a, T_RST);
}

static void fin_write(const nc_annot_t *a)
{
    if (a->tcp.peer_fin) {
        nc_evb_note(a->b, "FIN: %s closes its side too (the FIN takes one sequence number). "
                          "%s had already sent its FIN, so neither side sends data any more; "
                          "once this FIN is acknowledged the connection is closed, and the "
                          "side that sent the first FIN waits in TIME_WAIT.",
                    a->from, a->To);
        return;
    }
    nc_evb_note(a->b, "FIN: %s has no more data to send and closes its side of the "
                      "connection (the FIN takes one sequence number). Until it closes too, "
                      "%s can still send.",
                a->from, a->to);
}

static bool rst_match(const nc_annot_t *a)
{
    return tcp_has(a, T_RST);
}

static void rst_write(const nc_annot_t *a)
{
    nc_evb_note(a->b, "RST: %s aborts the connection at once; nothing more is delivered in "
                      "either direction. Typical causes: no one listens on the port, or an "
                      "application closed a socket with unread data.",
                a->from);
}

static bool zerowin_match(const nc_annot_t *a)
{
    return a->tcp.zero_window;
}

static void zerowin_write(const nc_annot_t *a)
{
    nc_evb_note(a->b, "Zero window: %s's receive buffer is full (its application has not yet "
                      "read what arrived), so %s must stop sending until the window opens "
                      "again.",
                a->from, a->to);
}

static bool probe_match(const nc_annot_t *a)
{
    return a->tcp.window_probe;
}

static void probe_write(const nc_annot_t *a)
{
    if (a->tcp.len == 0) {
        nc_evb_note(a->b, "Zero-window probe: %s sends a segment with no data and an old "
                          "sequence number (%lld, one below the next byte), which %s must "
                          "answer at once with an ACK that carries its current window. Linux "
                          "probes a zero window this way.",
                    a->from, (long long)a->tcp.seq, a->to);
        return;
    }
    nc_evb_note(a->b, "Window probe: %s pushes %lld byte%s into the zero window to ask whether "
                      "%s has room again; the answer's window tells.",
                a->from, (long long)a->tcp.len, a->tcp.len == 1 ? "" : "s", a->to);
}

static bool keepalive_match(const nc_annot_t *a)
{
    return a->tcp.keepalive;
}

static void keepalive_write(const nc_annot_t *a)
{
    nc_evb_note(a->b, "Keep-alive: after a quiet spell %s re-sends an old sequence number to "
                      "check that %s is still there; the answer is a plain ACK.",
                a->from, a->to);
}

static const nc_rule_t tcp_rules[] = {
    {"syn", syn_match, syn_write},
    {"syn-ack", synack_match, synack_write},
    {"established", established_match, established_write},
    {"data", data_match, data_write},
    {"retransmission", retrans_match, retrans_write},
    {"dup-ack", dupack_match, dupack_write},
    {"ack", ack_match, ack_write},
    {"fin", fin_match, fin_write},
    {"rst", rst_match, rst_write},
    {"zero-window", zerowin_match, zerowin_write},
    {"window-probe", probe_match, probe_write},
    {"keepalive", keepalive_match, keepalive_write},
};

const nc_rule_set_t nc_rules_tcp = {
    .layer = "tcp",
    .rules = tcp_rules,
    .count = sizeof(tcp_rules) / sizeof(tcp_rules[0]),
    .prepare = tcp_prepare,
};
