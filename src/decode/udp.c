/*
 * udp.c: User Datagram Protocol (RFC 768).
 *
 *   +----------------+----------------+
 *   | source port    | dest. port     |
 *   | length         | checksum       |
 *   +----------------+----------------+
 *
 * Fields: sport, dport, len (payload bytes: the length field minus the 8
 * header bytes). The payload goes to the application decoders (DNS).
 */
#include "proto.h"

#include "../core/error.h"

static int udp_decode(nc_dctx_t *x, nc_cursor_t *c)
{
    uint16_t sport, dport, len, csum;
    nc_decode_open(x, "udp", c);
    size_t avail = nc_cur_left(c);
    if (!nc_cur_u16be(c, &sport) || !nc_cur_u16be(c, &dport) || !nc_cur_u16be(c, &len) ||
        !nc_cur_u16be(c, &csum))
        return nc_decode_fail(x, NC_ETRUNC, "udp: header truncated (%zu of 8 bytes)", avail);
    nc_evb_int(x->b, "sport", sport);
    nc_evb_int(x->b, "dport", dport);
    x->l4 = 17;
    x->sport = sport;
    x->dport = dport;
    /* A length of 0 happens with IPv6 jumbograms: the IP layer knows. */
    uint32_t plen = len == 0 && x->l4_len >= 8 ? x->l4_len - 8 : (uint32_t)len - 8;
    if (len != 0 && len < 8) {
        nc_evb_int(x->b, "len", 0);
        return nc_decode_fail(x, NC_EBADDATA, "udp: length %u is less than 8", len);
    }
    nc_evb_int(x->b, "len", plen);
    nc_decode_close(x, c);
    nc_cur_limit(c, plen);
    x->l7_len = plen;
    nc_decode_sum_reset(x);
    nc_decode_sum_str(x, "UDP ");
    nc_decode_sum_uint(x, sport);
    nc_decode_sum_str(x, " > ");
    nc_decode_sum_uint(x, dport);
    nc_decode_sum_str(x, " len=");
    nc_decode_sum_uint(x, plen);
    return nc_decode_app(x, c);
}

/* Every field this layer writes (proto.h); a name-or-number field is NC_F_STR. */
static const nc_field_decl_t udp_fields[] = {
    {"sport", NC_F_INT},
    {"dport", NC_F_INT},
    {"len", NC_F_INT},
    {NULL, 0},
};

const nc_proto_t nc_udp_proto = {"udp", udp_decode, udp_fields};
