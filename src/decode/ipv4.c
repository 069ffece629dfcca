/*
 * ipv4.c: Internet Protocol version 4 (RFC 791).
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |Version|  IHL  |Type of Service|          Total Length         |
 *   |         Identification        |Flags|      Fragment Offset    |
 *   |  Time to Live |    Protocol   |         Header Checksum       |
 *   |                       Source Address                          |
 *   |                    Destination Address                        |
 *   |                    Options (IHL > 5)                          |
 *
 * Fields of the "ip" object: version, src, dst, ttl, len (the total length
 * field as the header holds it), proto, id, df, checksum and checksum_status
 * (csum.c), and for fragments frag_off (the header's offset field, in 8-byte
 * units, tshark's ip.frag_offset), frag_bytes (the same offset in bytes) and
 * mf. The payload is cut to the total length (Ethernet pads short frames); a
 * capture cut short by the snapshot length keeps what was captured, and the
 * transport learns the real length from l4_len. A total length of 0 is what
 * a capture on the sending host shows for a segment the network card (TSO)
 * or the kernel (BIG TCP, over 64 KiB) splits later: the length is then the
 * frame's, which len holds as tshark shows it, and len_from_frame says so.
 * Only the first fragment's transport header is decoded; later fragments
 * are summarised as "IP fragment".
 */
#include "proto.h"

#include "../core/error.h"

#include <string.h>

static int ipv4_decode(nc_dctx_t *x, nc_cursor_t *c)
{
    uint8_t vihl, tos, ttl, proto;
    uint16_t total, id, frag, csum;
    uint8_t src[4], dst[4];
    nc_decode_open(x, "ip", c);
    nc_cursor_t hdr = *c;
    size_t avail = nc_cur_left(c);
    /* What the frame holds from this header on, on the wire. */
    uint32_t framed = x->wirelen - (uint32_t)(c->ptr - x->frame);
    if (!nc_cur_u8(c, &vihl) || !nc_cur_u8(c, &tos) || !nc_cur_u16be(c, &total) ||
        !nc_cur_u16be(c, &id) || !nc_cur_u16be(c, &frag) || !nc_cur_u8(c, &ttl) ||
        !nc_cur_u8(c, &proto) || !nc_cur_u16be(c, &csum) || !nc_cur_bytes(c, src, 4) ||
        !nc_cur_bytes(c, dst, 4))
        return nc_decode_fail(x, NC_ETRUNC, "ip: header truncated (%zu of 20 bytes)", avail);
    nc_evb_int(x->b, "version", vihl >> 4);
    if (vihl >> 4 != 4)
        return nc_decode_fail(x, NC_EBADDATA, "ip: version %u in an IPv4 header", vihl >> 4);
    unsigned hlen = (vihl & 0x0f) * 4u;
    x->ipver = 4;
    memcpy(x->saddr, src, 4);
    memcpy(x->daddr, dst, 4);
    x->ttl = ttl;
    nc_decode_ip_text(4, src, x->src);
    nc_decode_ip_text(4, dst, x->dst);
    nc_evb_str(x->b, "src", x->src);
    nc_evb_str(x->b, "dst", x->dst);
    nc_evb_int(x->b, "ttl", ttl);
    /* Total length 0: TSO or BIG TCP seen on the sending host; the length
     * is the frame's (as tshark shows ip.len then), flagged below. */
    nc_evb_int(x->b, "len", total == 0 && framed >= hlen ? framed : total);
    nc_evb_int(x->b, "proto", proto);
    nc_evb_int(x->b, "id", id);
    nc_evb_bool(x->b, "df", frag & 0x4000);
    unsigned units = frag & 0x1fffu, off = units * 8u;
    bool mf = frag & 0x2000;
    if (off || mf) {
        nc_evb_int(x->b, "frag_off", units);
        nc_evb_int(x->b, "frag_bytes", off);
        nc_evb_bool(x->b, "mf", mf);
    }
    if (hlen < 20)
        return nc_decode_fail(x, NC_EBADDATA, "ip: header length %u is less than 20", hlen);
    nc_evb_int(x->b, "checksum", csum);
    if (nc_cur_left(&hdr) >= hlen) {
        nc_cur_limit(&hdr, hlen);
        nc_csum_status(x, nc_csum_fold(nc_csum_add(hdr, 0)) == 0xffff ? "good" : "bad");
    } else {
        nc_csum_status(x, "unverified");
    }
    uint32_t ip_total = total;
    if (total == 0 && framed >= hlen) {
        ip_total = framed;
        nc_evb_bool(x->b, "len_from_frame", true);
    } else if (total < hlen)
        return nc_decode_fail(x, NC_EBADDATA, "ip: total length %u is less than the header (%u)",
                              total, hlen);
    if (!nc_cur_skip(c, hlen - 20))
        return nc_decode_fail(x, NC_ETRUNC, "ip: options truncated (%zu of %u bytes)", avail,
                              hlen);
    nc_decode_close(x, c);
    nc_cur_limit(c, ip_total - hlen);
    x->l4_len = ip_total - hlen;
    x->later_fragment = off != 0;
    x->fragment = off != 0 || mf;
    if (x->later_fragment) {
        nc_decode_summary(x, "IP fragment frag_off=%u (byte %u) len=%u", units, off,
                          x->l4_len);
        return 0;
    }
    x->ip_done = true;
    x->ip_proto = proto;
    return nc_decode_ipproto(x, proto, c);
}

/* Every field this layer writes (proto.h); a name-or-number field is NC_F_STR. */
static const nc_field_decl_t ipv4_fields[] = {
    {"version", NC_F_INT},
    {"src", NC_F_STR},
    {"dst", NC_F_STR},
    {"ttl", NC_F_INT},
    {"len", NC_F_INT},
    {"id", NC_F_INT},
    {"df", NC_F_BOOL},
    {"mf", NC_F_BOOL},
    {"frag_off", NC_F_INT},
    {"proto", NC_F_INT},
    {"frag_bytes", NC_F_INT},
    {"checksum", NC_F_INT},
    {"checksum_status", NC_F_STR},
    {"len_from_frame", NC_F_BOOL},
    {NULL, 0},
};

const nc_proto_t nc_ipv4_proto = {"ip", ipv4_decode, ipv4_fields};
