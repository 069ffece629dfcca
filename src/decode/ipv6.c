/*
 * ipv6.c: Internet Protocol version 6 (RFC 8200) and its extension headers.
 *
 *   +-------+---------------+---------------------------------------+
 *   |Version| Traffic Class |               Flow Label              |
 *   |         Payload Length        |  Next Header  |   Hop Limit   |
 *   |                    Source Address (16 bytes)                  |
 *   |                 Destination Address (16 bytes)                |
 *
 * Extension headers (hop-by-hop 0, routing 43, fragment 44, destination
 * options 60, AH 51, mobility 135) are walked, at most eight of them, each
 * length checked against the captured bytes. Fields of the "ip" object:
 * version (6), src, dst, ttl (the hop limit), len (the payload length field
 * as the header holds it: extension headers included, the fixed 40 bytes
 * not; tshark's ipv6.plen), proto (the upper-layer protocol after the
 * extension headers), flow, and for fragments frag_off (the fragment
 * header's offset in 8-byte units, tshark's ipv6.fraghdr.offset), frag_bytes
 * (the same in bytes) and mf. A payload length of 0 is a jumbogram (RFC 2675)
 * or a BIG TCP segment seen on the sending host: the length is then the
 * frame's, and len_from_frame says so.
 */
#include "proto.h"

#include "../core/error.h"

#include <string.h>

static int ipv6_decode(nc_dctx_t *x, nc_cursor_t *c)
{
    uint32_t vtf;
    uint16_t plen;
    uint8_t nh, hlim, src[16], dst[16];
    nc_decode_open(x, "ip", c);
    size_t avail = nc_cur_left(c);
    if (!nc_cur_u32be(c, &vtf) || !nc_cur_u16be(c, &plen) || !nc_cur_u8(c, &nh) ||
        !nc_cur_u8(c, &hlim) || !nc_cur_bytes(c, src, 16) || !nc_cur_bytes(c, dst, 16))
        return nc_decode_fail(x, NC_ETRUNC, "ip: IPv6 header truncated (%zu of 40 bytes)",
                              avail);
    nc_evb_int(x->b, "version", vtf >> 28);
    if (vtf >> 28 != 6)
        return nc_decode_fail(x, NC_EBADDATA, "ip: version %u in an IPv6 header", vtf >> 28);
    x->ipver = 6;
    memcpy(x->saddr, src, 16);
    memcpy(x->daddr, dst, 16);
    x->ttl = hlim;
    nc_decode_ip_text(6, src, x->src);
    nc_decode_ip_text(6, dst, x->dst);
    nc_evb_str(x->b, "src", x->src);
    nc_evb_str(x->b, "dst", x->dst);
    nc_evb_int(x->b, "ttl", hlim);
    nc_evb_int(x->b, "len", plen);
    nc_evb_int(x->b, "flow", vtf & 0xfffff);

    /* A payload length of 0: take what the frame holds on the wire. */
    uint32_t framed = x->wirelen - (uint32_t)(c->ptr - x->frame);
    uint32_t remain = plen ? plen : framed;
    if (plen == 0)
        nc_evb_bool(x->b, "len_from_frame", true);
    nc_cur_limit(c, remain);
    unsigned off = 0, units = 0;
    bool mf = false, frag = false;
    for (int n = 0;; n++) {
        uint8_t next, len8;
        size_t hlen;
        if (nh != 0 && nh != 43 && nh != 44 && nh != 60 && nh != 51 && nh != 135)
            break;
        if (n == 8)
            return nc_decode_fail(x, NC_EBADDATA, "ip: more than 8 IPv6 extension headers");
        const uint8_t *start = c->ptr;
        if (!nc_cur_u8(c, &next) || !nc_cur_u8(c, &len8))
            return nc_decode_fail(x, NC_ETRUNC, "ip: IPv6 extension header truncated");
        if (nh == 44) {
            uint16_t fo;
            hlen = 8;
            if (!nc_cur_u16be(c, &fo))
                return nc_decode_fail(x, NC_ETRUNC, "ip: IPv6 fragment header truncated");
            units = fo >> 3;
            off = units * 8u;
            mf = fo & 1;
            frag = true;
        } else {
            hlen = nh == 51 ? ((size_t)len8 + 2) * 4 : ((size_t)len8 + 1) * 8;
        }
        size_t used = (size_t)(c->ptr - start);
        if (hlen < used || !nc_cur_skip(c, hlen - used))
            return nc_decode_fail(x, NC_ETRUNC, "ip: IPv6 extension header %u truncated", nh);
        if (hlen > remain)
            return nc_decode_fail(x, NC_EBADDATA,
                                  "ip: IPv6 extension headers longer than the payload");
        remain -= (uint32_t)hlen;
        nh = next;
    }
    nc_evb_int(x->b, "proto", nh);
    if (frag) {
        nc_evb_int(x->b, "frag_off", units);
        nc_evb_int(x->b, "frag_bytes", off);
        nc_evb_bool(x->b, "mf", mf);
    }
    nc_decode_close(x, c);
    x->l4_len = remain;
    x->later_fragment = off != 0;
    x->fragment = frag;
    if (x->later_fragment) {
        nc_decode_summary(x, "IP fragment frag_off=%u (byte %u) len=%u", units, off, remain);
        return 0;
    }
    x->ip_done = true;
    x->ip_proto = nh;
    if (nh == 59) {
        nc_decode_summary(x, "IPv6 %s > %s, no next header", x->src, x->dst);
        return 0;
    }
    return nc_decode_ipproto(x, nh, c);
}

/* Every field this layer writes (proto.h); a name-or-number field is NC_F_STR. */
static const nc_field_decl_t ipv6_fields[] = {
    {"version", NC_F_INT},
    {"src", NC_F_STR},
    {"dst", NC_F_STR},
    {"ttl", NC_F_INT},
    {"len", NC_F_INT},
    {"flow", NC_F_INT},
    {"mf", NC_F_BOOL},
    {"frag_off", NC_F_INT},
    {"proto", NC_F_INT},
    {"frag_bytes", NC_F_INT},
    {"len_from_frame", NC_F_BOOL},
    {NULL, 0},
};

const nc_proto_t nc_ipv6_proto = {"ip", ipv6_decode, ipv6_fields};
