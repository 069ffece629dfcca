/*
 * udp.c: User Datagram Protocol (RFC 768).
 *
 *   +----------------+----------------+
 *   | source port    | dest. port     |
 *   | length         | checksum       |
 *   +----------------+----------------+
 *
 * Fields: sport, dport, len (the length field as the header holds it, the 8
 * header bytes included: tshark's udp.length), payload_len (the bytes after
 * the header), checksum and checksum_status (csum.c; "none" for a checksum
 * of 0). A length of 0 over IPv6 is a jumbogram (RFC 2675): the IP layer's
 * length counts. The payload goes to the application decoders (DNS).
 */
#include "proto.h"

#include "../core/error.h"

static int udp_decode(nc_dctx_t *x, nc_cursor_t *c)
{
    uint16_t sport, dport, len, csum;
    nc_decode_open(x, "udp", c);
    nc_cursor_t seg = *c;
    size_t avail = nc_cur_left(c);
    if (!nc_cur_u16be(c, &sport) || !nc_cur_u16be(c, &dport) || !nc_cur_u16be(c, &len) ||
        !nc_cur_u16be(c, &csum))
        return nc_decode_fail(x, NC_ETRUNC, "udp: header truncated (%zu of 8 bytes)", avail);
    nc_evb_int(x->b, "sport", sport);
    nc_evb_int(x->b, "dport", dport);
    x->l4 = 17;
    x->sport = sport;
    x->dport = dport;
    nc_evb_int(x->b, "len", len);
    if (len != 0 && len < 8)
        return nc_decode_fail(x, NC_EBADDATA, "udp: length %u is less than 8", len);
    /* A length of 0 happens with IPv6 jumbograms: the IP layer knows. A
     * first IP fragment carries only part of the datagram its length
     * counts. */
    uint32_t dlen = len == 0 ? x->l4_len : len;
    if (dlen < 8)
        return nc_decode_fail(x, NC_EBADDATA, "udp: length %u is less than 8", dlen);
    if (dlen > x->l4_len && !x->fragment)
        return nc_decode_fail(x, NC_EBADDATA, "udp: length %u is more than the IP payload (%u)",
                              dlen, x->l4_len);
    uint32_t plen = dlen - 8;
    nc_evb_int(x->b, "payload_len", plen);
    if (csum == 0) {
        nc_evb_int(x->b, "checksum", 0);
        nc_csum_status(x, "none");
    } else {
        nc_csum_write_l4(x, seg, dlen, csum, true);
    }
    nc_decode_close(x, c);
    nc_cur_limit(c, plen);
    x->l7_len = plen;
    nc_decode_sum_reset(x);
    nc_decode_sum_str(x, "UDP ");
    nc_decode_sum_uint(x, sport);
    nc_decode_sum_str(x, " > ");
    nc_decode_sum_uint(x, dport);
    nc_decode_sum_str(x, " len=");
    nc_decode_sum_uint(x, dlen);
    nc_decode_sum_str(x, " payload=");
    nc_decode_sum_uint(x, plen);
    return nc_decode_app(x, c);
}

/* Every field this layer writes (proto.h); a name-or-number field is NC_F_STR. */
static const nc_field_decl_t udp_fields[] = {
    {"sport", NC_F_INT},
    {"dport", NC_F_INT},
    {"len", NC_F_INT},
    {"payload_len", NC_F_INT},
    {"checksum", NC_F_INT},
    {"checksum_status", NC_F_STR},
    {NULL, 0},
};

const nc_proto_t nc_udp_proto = {"udp", udp_decode, udp_fields};
