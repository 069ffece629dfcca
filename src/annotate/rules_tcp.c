/*
 * rules_tcp.c: notes for TCP segments: the three-way handshake, data and
 * cumulative ACKs, duplicate ACKs, retransmissions, windows, FIN and RST.
 *
 * Sequence and ACK numbers in the notes are the relative ones of the event
 * (the SYN is byte 0 of each side's stream, data starts at byte 1), the
 * same numbers the ladder shows.
 */
#include "rules.h"

#include <stdio.h>
#include <string.h>

static bool tcp_flag(const nc_event_t *ev, const char *f)
{
    return nc_event_has(ev, "tcp.flags", f);
}

static bool tcp_plain(const nc_event_t *ev)
{
    return nc_event_get(ev, "tcp") != NULL && !tcp_flag(ev, "SYN") && !tcp_flag(ev, "FIN") &&
           !tcp_flag(ev, "RST");
}

/* Appends " It offers MSS 1460 and window scaling x128." for SYNs. */
static void tcp_offers(nc_evb_t *b, const nc_event_t *ev)
{
    int64_t mss = nc_annotate_int(ev, "tcp.options.mss", -1);
    int64_t ws = nc_annotate_int(ev, "tcp.options.wscale", -1);
    bool sack = nc_event_bool(ev, "tcp.options.sack_perm");
    char what[160] = "";
    size_t n = 0;
    if (mss >= 0)
        n += (size_t)snprintf(what + n, sizeof(what) - n, "MSS %lld", (long long)mss);
    if (ws >= 0 && n < sizeof(what))
        n += (size_t)snprintf(what + n, sizeof(what) - n, "%swindow scaling x%lld",
                              n ? (sack ? ", " : " and ") : "", 1LL << (ws > 14 ? 14 : ws));
    if (sack && n < sizeof(what))
        snprintf(what + n, sizeof(what) - n, "%sselective ACKs (SACK)", n ? " and " : "");
    if (what[0])
        nc_evb_note(b, "It offers %s.", what);
}

static bool syn_match(const nc_event_t *ev)
{
    return tcp_flag(ev, "SYN") && !tcp_flag(ev, "ACK") && !nc_event_bool(ev, "tcp.retransmission");
}

static void syn_write(nc_evb_t *b, const nc_event_t *ev)
{
    char f[64], t[64];
    nc_evb_note(b, "SYN: %s asks %s to open a connection and picks its initial sequence "
                   "number, shown as 0 (relative).",
                nc_annotate_who(ev, "from", f, sizeof(f)), nc_annotate_who(ev, "to", t, sizeof(t)));
    tcp_offers(b, ev);
}

static bool synack_match(const nc_event_t *ev)
{
    return tcp_flag(ev, "SYN") && tcp_flag(ev, "ACK") && !nc_event_bool(ev, "tcp.retransmission");
}

static void synack_write(nc_evb_t *b, const nc_event_t *ev)
{
    char f[64];
    nc_evb_note(b, "SYN-ACK: %s accepts. It picks its own initial sequence number (0, "
                   "relative) and acknowledges the SYN with ack %lld: a SYN counts as one byte.",
                nc_annotate_who(ev, "from", f, sizeof(f)),
                (long long)nc_annotate_int(ev, "tcp.ack", 1));
    tcp_offers(b, ev);
}

static bool established_match(const nc_event_t *ev)
{
    return nc_event_bool(ev, "tcp._established");
}

static void established_write(nc_evb_t *b, const nc_event_t *ev)
{
    char f[64];
    nc_evb_note(b, "ACK: %s acknowledges the SYN-ACK. That completes the three-way handshake: "
                   "the connection is now established on both sides.",
                nc_annotate_who(ev, "from", f, sizeof(f)));
}

static bool data_match(const nc_event_t *ev)
{
    return nc_annotate_int(ev, "tcp.len", 0) > 0 && !nc_event_bool(ev, "tcp.retransmission") &&
           !nc_event_bool(ev, "tcp.window_probe") && !nc_event_bool(ev, "tcp.keepalive");
}

static void data_write(nc_evb_t *b, const nc_event_t *ev)
{
    char f[64];
    int64_t seq = nc_annotate_int(ev, "tcp.seq", 0), len = nc_annotate_int(ev, "tcp.len", 0);
    if (tcp_flag(ev, "SYN"))
        seq++; /* data on a SYN (TCP Fast Open) starts after the SYN's byte */
    nc_evb_note(b, "Data: %lld bytes that carry bytes %lld-%lld of %s's stream.",
                (long long)len, (long long)seq, (long long)(seq + len - 1),
                nc_annotate_who(ev, "from", f, sizeof(f)));
}

static bool retrans_match(const nc_event_t *ev)
{
    return nc_event_bool(ev, "tcp.retransmission");
}

static void retrans_write(nc_evb_t *b, const nc_event_t *ev)
{
    int64_t seq = nc_annotate_int(ev, "tcp.seq", 0), len = nc_annotate_int(ev, "tcp.len", 0);
    if (len > 0)
        nc_evb_note(b, "Retransmission of bytes %lld-%lld: the sender never got an ACK for "
                       "these bytes, so its kernel sends them again (after a timeout, or at "
                       "once after three duplicate ACKs).",
                    (long long)seq, (long long)(seq + len - 1));
    else
        nc_evb_note(b, "Retransmission: the sender never got an answer to this segment, so "
                       "its kernel sends it again after a timeout (doubling the wait each time).");
}

static bool ack_match(const nc_event_t *ev)
{
    return tcp_plain(ev) && tcp_flag(ev, "ACK") && nc_annotate_int(ev, "tcp.len", 0) == 0 &&
           !nc_event_bool(ev, "tcp._established") && !nc_event_bool(ev, "tcp.dup_ack") &&
           !nc_event_bool(ev, "tcp.keepalive");
}

static void ack_write(nc_evb_t *b, const nc_event_t *ev)
{
    char t[64];
    int64_t ack = nc_annotate_int(ev, "tcp.ack", 0);
    nc_evb_note(b, "ACK %lld is cumulative: everything up to byte %lld of %s's stream has "
                   "arrived, and byte %lld is expected next. The window says %lld more bytes "
                   "fit in the receive buffer.",
                (long long)ack, (long long)(ack - 1), nc_annotate_who(ev, "to", t, sizeof(t)),
                (long long)ack, (long long)nc_annotate_int(ev, "tcp.win", 0));
}

static bool dupack_match(const nc_event_t *ev)
{
    return nc_event_bool(ev, "tcp.dup_ack");
}

static void dupack_write(nc_evb_t *b, const nc_event_t *ev)
{
    char f[64];
    int64_t ack = nc_annotate_int(ev, "tcp.ack", 0);
    nc_evb_note(b, "Duplicate ACK: %s asks again for byte %lld. Something after it arrived, "
                   "but the segment that starts at byte %lld is missing; after three duplicate "
                   "ACKs the sender retransmits it at once (fast retransmit).",
                nc_annotate_who(ev, "from", f, sizeof(f)), (long long)ack, (long long)ack);
}

static bool fin_match(const nc_event_t *ev)
{
    return tcp_flag(ev, "FIN") && !tcp_flag(ev, "RST");
}

static void fin_write(nc_evb_t *b, const nc_event_t *ev)
{
    char f[64], t[64];
    nc_evb_note(b, "FIN: %s has no more data to send and closes its side of the connection "
                   "(the FIN takes one sequence number). Until it closes too, %s can still "
                   "send.",
                nc_annotate_who(ev, "from", f, sizeof(f)), nc_annotate_who(ev, "to", t, sizeof(t)));
}

static bool rst_match(const nc_event_t *ev)
{
    return tcp_flag(ev, "RST");
}

static void rst_write(nc_evb_t *b, const nc_event_t *ev)
{
    char f[64];
    nc_evb_note(b, "RST: %s aborts the connection at once; nothing more is delivered in "
                   "either direction. Typical causes: no one listens on the port, or an "
                   "application closed a socket with unread data.",
                nc_annotate_who(ev, "from", f, sizeof(f)));
}

static bool zerowin_match(const nc_event_t *ev)
{
    return nc_event_bool(ev, "tcp.zero_window");
}

static void zerowin_write(nc_evb_t *b, const nc_event_t *ev)
{
    char f[64], t[64];
    nc_evb_note(b, "Zero window: %s's receive buffer is full (its application is not "
                   "reading), so %s must stop sending until the window opens again.",
                nc_annotate_who(ev, "from", f, sizeof(f)), nc_annotate_who(ev, "to", t, sizeof(t)));
}

static bool probe_match(const nc_event_t *ev)
{
    return nc_event_bool(ev, "tcp.window_probe");
}

static void probe_write(nc_evb_t *b, const nc_event_t *ev)
{
    char f[64], t[64];
    nc_evb_note(b, "Window probe: %s pushes one byte into the zero window to ask whether %s "
                   "has room again; the answer's window tells.",
                nc_annotate_who(ev, "from", f, sizeof(f)), nc_annotate_who(ev, "to", t, sizeof(t)));
}

static bool keepalive_match(const nc_event_t *ev)
{
    return nc_event_bool(ev, "tcp.keepalive");
}

static void keepalive_write(nc_evb_t *b, const nc_event_t *ev)
{
    char f[64], t[64];
    nc_evb_note(b, "Keep-alive: after a quiet spell %s re-sends an old sequence number to "
                   "check that %s is still there; the answer is a plain ACK.",
                nc_annotate_who(ev, "from", f, sizeof(f)), nc_annotate_who(ev, "to", t, sizeof(t)));
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

const nc_rule_set_t nc_rules_tcp = {tcp_rules, sizeof(tcp_rules) / sizeof(tcp_rules[0])};
