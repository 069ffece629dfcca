/*
 * tcp.c: Transmission Control Protocol (RFC 9293) headers and options.
 *
 *    0                   1                   2                   3
 *   +-------------------------------+-------------------------------+
 *   |          Source Port          |       Destination Port        |
 *   |                        Sequence Number                        |
 *   |                    Acknowledgment Number                      |
 *   |  Data |       |C|E|U|A|P|R|S|F|                               |
 *   | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |
 *   |           Checksum            |         Urgent Pointer        |
 *   |                    Options (Data Offset > 5)                  |
 *
 * Options read: MSS (2), window scale (3), SACK permitted (4), SACK (5),
 * timestamps (8), Fast Open (34); the walk stops at EOL or at a malformed length. The
 * segment then goes through the flow table (flow.c) for relative numbers,
 * the scaled window and retransmission / dup-ACK / zero-window detection.
 * Fields are those of common.md: sport, dport, flags (list), seq, ack,
 * raw_seq, raw_ack, len, win, hdr_len, checksum, checksum_status (csum.c),
 * retransmission, options {mss, wscale, sack_perm, sack, ts_val, ts_ecr,
 * tfo_request, tfo_cookie (hex): TCP Fast Open, kind 34},
 * and zero_window, window_probe, dup_ack (with dup_ack_num, the how-manieth
 * in a row, Wireshark's tcp.analysis.duplicate_ack_num), keepalive when
 * true; a retransmission has recovery: how the flow's history says it came
 * about (tcp_recovery_names). Private fields carry the flow's state to the
 * annotation rules, which see one event at a time: "_established" (this ACK
 * completes the handshake), "_peer_fin" (the other side sent its FIN
 * already), "_acks_fin" (this ACK covers that FIN), "_peer_syn" (the other
 * side's SYN was seen, so its byte numbers start there), "_peer_established"
 * (on a retransmission: the other side's handshake ACK was seen before it),
 * "_dup_acks_before" and "_asked" (the dup ACKs that started this recovery,
 * and the byte they asked for), "_with_new" (a retransmission that also
 * carries bytes never sent) and "_gap_ns" (time since these bytes, or the
 * previous SYN, were last sent).
 */
#include "proto.h"
#include "stream.h"

#include "../core/error.h"

#include <stdio.h>
#include <string.h>

/* Flag names in the order the list and the summary use. */
static const struct {
    uint8_t bit;
    const char *name;
} tcp_flag_names[] = {
    {NC_TCP_SYN, "SYN"}, {NC_TCP_ACK, "ACK"}, {NC_TCP_FIN, "FIN"}, {NC_TCP_RST, "RST"},
    {NC_TCP_PSH, "PSH"}, {NC_TCP_URG, "URG"}, {NC_TCP_ECE, "ECE"}, {NC_TCP_CWR, "CWR"},
};

/* nc_recovery_t by value, as the "recovery" field writes it. */
static const char *const tcp_recovery_names[] = {
    [NC_RECOVERY_NONE] = NULL,     [NC_RECOVERY_SYN] = "syn",
    [NC_RECOVERY_SACK] = "sack",   [NC_RECOVERY_FAST] = "fast",
    [NC_RECOVERY_DUPACK] = "dupack", [NC_RECOVERY_RTO] = "rto",
    [NC_RECOVERY_TLP] = "tlp",     [NC_RECOVERY_TIMER] = "timer",
};

typedef struct tcp_opts {
    int mss, wscale;
    bool sack_perm, ts;
    uint32_t ts_val, ts_ecr;
    int nsack;
    uint32_t sack[4][2];
    bool tfo_request;  /* Fast Open (RFC 7413): an empty option asks for a cookie */
    uint8_t tfo_len;   /* the cookie's bytes (0: none) */
    uint8_t tfo_cookie[16];
    bool any;
} tcp_opts_t;

static void tcp_parse_opts(nc_cursor_t o, tcp_opts_t *t)
{
    memset(t, 0, sizeof(*t));
    t->mss = t->wscale = -1;
    uint8_t kind, len;
    while (nc_cur_u8(&o, &kind)) {
        if (kind == 0)
            break;
        if (kind == 1)
            continue;
        if (!nc_cur_u8(&o, &len) || len < 2 || nc_cur_left(&o) < (size_t)len - 2)
            break;
        nc_cursor_t v;
        nc_cur_sub(&o, (size_t)len - 2, &v);
        uint16_t mss;
        uint8_t ws;
        if (kind == 2 && len == 4 && nc_cur_u16be(&v, &mss)) {
            t->mss = mss;
        } else if (kind == 3 && len == 3 && nc_cur_u8(&v, &ws)) {
            t->wscale = ws;
        } else if (kind == 4 && len == 2) {
            t->sack_perm = true;
        } else if (kind == 5) {
            while (t->nsack < 4 && nc_cur_u32be(&v, &t->sack[t->nsack][0]) &&
                   nc_cur_u32be(&v, &t->sack[t->nsack][1]))
                t->nsack++;
        } else if (kind == 8 && len == 10) {
            t->ts = nc_cur_u32be(&v, &t->ts_val) && nc_cur_u32be(&v, &t->ts_ecr);
        } else if (kind == 34 && len <= 2 + sizeof t->tfo_cookie) {
            t->tfo_len = (uint8_t)(len - 2);
            t->tfo_request = len == 2;
            nc_cur_bytes(&v, t->tfo_cookie, t->tfo_len);
        } else {
            continue;
        }
        t->any = true;
    }
}

static void tcp_write_opts(nc_dctx_t *x, const tcp_opts_t *t, uint32_t rev_base)
{
    nc_evb_obj(x->b, "options");
    if (t->mss >= 0)
        nc_evb_int(x->b, "mss", t->mss);
    if (t->wscale >= 0)
        nc_evb_int(x->b, "wscale", t->wscale);
    if (t->sack_perm)
        nc_evb_bool(x->b, "sack_perm", true);
    if (t->nsack) {
        nc_evb_list(x->b, "sack");
        for (int i = 0; i < t->nsack; i++)
            nc_evb_strf(x->b, NULL, "%u-%u", t->sack[i][0] - rev_base, t->sack[i][1] - rev_base);
        nc_evb_end(x->b);
    }
    if (t->ts) {
        nc_evb_int(x->b, "ts_val", t->ts_val);
        nc_evb_int(x->b, "ts_ecr", t->ts_ecr);
    }
    if (t->tfo_request)
        nc_evb_bool(x->b, "tfo_request", true);
    if (t->tfo_len) {
        char hex[2 * sizeof t->tfo_cookie + 1];
        for (int i = 0; i < t->tfo_len; i++)
            snprintf(hex + 2 * i, 3, "%02x", t->tfo_cookie[i]);
        nc_evb_str(x->b, "tfo_cookie", hex);
    }
    nc_evb_end(x->b);
}

/* The summary names flags in Wireshark's order ("SYN,ACK", "PSH,ACK",
 * "FIN,ACK"): from the lowest bit up. Built without printf: it runs for
 * every TCP segment of a replay. */
static void tcp_summary(nc_dctx_t *x, const nc_tcp_seg_t *s, const tcp_opts_t *t)
{
    static const char *const bit_names[] = {"FIN", "SYN", "RST", "PSH",
                                            "ACK", "URG", "ECE", "CWR"};
    nc_decode_sum_reset(x);
    for (int i = 0; i < 8; i++) {
        if (!(s->flags & (1u << i)))
            continue;
        if (x->sumlen)
            nc_decode_sum_str(x, ",");
        nc_decode_sum_str(x, bit_names[i]);
    }
    if (x->sumlen == 0)
        nc_decode_sum_str(x, "none");
    nc_decode_sum_str(x, " seq=");
    nc_decode_sum_uint(x, s->rel_seq);
    if (s->flags & NC_TCP_ACK) {
        nc_decode_sum_str(x, " ack=");
        nc_decode_sum_uint(x, s->rel_ack);
    }
    if ((s->flags & NC_TCP_SYN) && !(s->flags & NC_TCP_ACK)) {
        nc_decode_sum_str(x, " win=");
        nc_decode_sum_uint(x, s->win_scaled);
    }
    if (s->flags & NC_TCP_SYN) {
        if (t->mss >= 0) {
            nc_decode_sum_str(x, " MSS=");
            nc_decode_sum_uint(x, (uint64_t)t->mss);
        }
        if (t->wscale >= 0) {
            nc_decode_sum_str(x, " WS=");
            nc_decode_sum_uint(x, 1u << (t->wscale > 14 ? 14 : t->wscale));
        }
    }
    if (s->len) {
        nc_decode_sum_str(x, " len=");
        nc_decode_sum_uint(x, s->len);
    }
    if (s->zero_window)
        nc_decode_sum_str(x, " win=0");
    if (s->retransmission)
        nc_decode_sum_str(x, " (retransmission)");
    if (s->dup_ack) {
        nc_decode_sum_str(x, " (dup ACK #");
        nc_decode_sum_uint(x, s->dup_ack_num);
        nc_decode_sum_str(x, ")");
    }
    if (s->keepalive)
        nc_decode_sum_str(x, " (keep-alive)");
    if (s->window_probe)
        nc_decode_sum_str(x, " (window probe)");
    if (s->zero_window)
        nc_decode_sum_str(x, " (zero window)");
}

static int tcp_decode(nc_dctx_t *x, nc_cursor_t *c)
{
    uint16_t sport, dport, offflags, win, csum, urg;
    uint32_t seq, ack;
    nc_decode_open(x, "tcp", c);
    nc_cursor_t seg = *c;
    size_t avail = nc_cur_left(c);
    if (!nc_cur_u16be(c, &sport) || !nc_cur_u16be(c, &dport) || !nc_cur_u32be(c, &seq) ||
        !nc_cur_u32be(c, &ack) || !nc_cur_u16be(c, &offflags) || !nc_cur_u16be(c, &win) ||
        !nc_cur_u16be(c, &csum) || !nc_cur_u16be(c, &urg))
        return nc_decode_fail(x, NC_ETRUNC, "tcp: header truncated (%zu of 20 bytes)", avail);
    nc_evb_int(x->b, "sport", sport);
    nc_evb_int(x->b, "dport", dport);
    x->l4 = 6;
    x->sport = sport;
    x->dport = dport;
    unsigned hlen = (offflags >> 12) * 4u;
    if (hlen < 20)
        return nc_decode_fail(x, NC_EBADDATA, "tcp: header length %u is less than 20", hlen);
    if (x->l4_len < hlen)
        return nc_decode_fail(x, NC_EBADDATA, "tcp: header length %u exceeds the segment (%u)",
                              hlen, x->l4_len);
    nc_cursor_t optc;
    if (!nc_cur_sub(c, hlen - 20, &optc))
        return nc_decode_fail(x, NC_ETRUNC, "tcp: header truncated (%zu of %u bytes)", avail,
                              hlen);
    tcp_opts_t opts;
    tcp_parse_opts(optc, &opts);

    nc_tcp_seg_t s;
    memset(&s, 0, sizeof(s));
    s.seq = seq;
    s.ack = ack;
    s.win = win;
    s.flags = (uint8_t)offflags;
    s.len = x->l4_len - hlen;
    s.wscale = (s.flags & NC_TCP_SYN) ? opts.wscale : -1;
    s.nsack = opts.nsack;
    s.t_ns = x->b->ev.t_ns;
    int dir;
    nc_flow_t *f = nc_decode_flow(x, 6, &dir);
    nc_flow_tcp(f, dir, &s);
    x->flow = f;
    x->flow_dir = dir;
    x->l4_retrans = s.retransmission;

    nc_evb_list(x->b, "flags");
    for (size_t i = 0; i < sizeof(tcp_flag_names) / sizeof(tcp_flag_names[0]); i++)
        if (s.flags & tcp_flag_names[i].bit)
            nc_evb_str(x->b, NULL, tcp_flag_names[i].name);
    nc_evb_end(x->b);
    nc_evb_int(x->b, "seq", s.rel_seq);
    nc_evb_int(x->b, "ack", s.rel_ack);
    nc_evb_int(x->b, "raw_seq", seq);
    nc_evb_int(x->b, "raw_ack", ack);
    nc_evb_int(x->b, "len", s.len);
    nc_evb_int(x->b, "win", (int64_t)s.win_scaled);
    nc_evb_int(x->b, "hdr_len", hlen);
    nc_csum_write_l4(x, seg, x->l4_len, csum, true);
    nc_evb_bool(x->b, "retransmission", s.retransmission);
    if (tcp_recovery_names[s.recovery])
        nc_evb_str(x->b, "recovery", tcp_recovery_names[s.recovery]);
    if (opts.any)
        tcp_write_opts(x, &opts, s.rev_base);
    if (s.zero_window)
        nc_evb_bool(x->b, "zero_window", true);
    if (s.window_probe)
        nc_evb_bool(x->b, "window_probe", true);
    if (s.dup_ack) {
        nc_evb_bool(x->b, "dup_ack", true);
        nc_evb_int(x->b, "dup_ack_num", s.dup_ack_num);
    }
    if (s.keepalive)
        nc_evb_bool(x->b, "keepalive", true);
    if (s.established)
        nc_evb_bool(x->b, "_established", true);
    if (s.peer_fin)
        nc_evb_bool(x->b, "_peer_fin", true);
    if (s.acks_fin)
        nc_evb_bool(x->b, "_acks_fin", true);
    if (s.retransmission && s.peer_established)
        nc_evb_bool(x->b, "_peer_established", true);
    if (s.peer_syn)
        nc_evb_bool(x->b, "_peer_syn", true);
    if (s.dup_acks_before) {
        nc_evb_int(x->b, "_dup_acks_before", s.dup_acks_before);
        nc_evb_int(x->b, "_asked", s.asked);
    }
    if (s.with_new)
        nc_evb_bool(x->b, "_with_new", true);
    if (s.gap_ns >= 0)
        nc_evb_int(x->b, "_gap_ns", s.gap_ns);
    nc_decode_close(x, c);
    tcp_summary(x, &s, &opts);
    nc_cur_limit(c, s.len);
    x->l7_len = s.len;
    /* The stream decoders (stream.h) read connections they recognise;
     * the rest goes to the per-packet application decoders. */
    if (nc__stream_tcp(x, f, dir, &s, c))
        return 0;
    if (s.len == 0 || (s.flags & NC_TCP_RST))
        return 0;
    return nc_decode_app(x, c);
}

/* Every field this layer writes (proto.h); a name-or-number field is NC_F_STR. */
static const nc_field_decl_t tcp_fields[] = {
    {"sport", NC_F_INT},
    {"dport", NC_F_INT},
    {"flags", NC_F_LIST},
    {"seq", NC_F_INT},
    {"ack", NC_F_INT},
    {"raw_seq", NC_F_INT},
    {"raw_ack", NC_F_INT},
    {"len", NC_F_INT},
    {"win", NC_F_INT},
    {"hdr_len", NC_F_INT},
    {"retransmission", NC_F_BOOL},
    {"options", NC_F_OBJ},
    {"options.mss", NC_F_INT},
    {"options.wscale", NC_F_INT},
    {"options.sack_perm", NC_F_BOOL},
    {"options.sack", NC_F_LIST},
    {"options.ts_val", NC_F_INT},
    {"options.ts_ecr", NC_F_INT},
    {"options.tfo_request", NC_F_BOOL},
    {"options.tfo_cookie", NC_F_STR},
    {"zero_window", NC_F_BOOL},
    {"window_probe", NC_F_BOOL},
    {"dup_ack", NC_F_BOOL},
    {"keepalive", NC_F_BOOL},
    {"checksum", NC_F_INT},
    {"checksum_status", NC_F_STR},
    {"recovery", NC_F_STR},
    {"dup_ack_num", NC_F_INT},
    {NULL, 0},
};

const nc_proto_t nc_tcp_proto = {"tcp", tcp_decode, tcp_fields};
