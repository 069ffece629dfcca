/*
 * eth.c: Ethernet II (IEEE 802.3) frames with optional 802.1Q/802.1ad tags.
 *
 *   0                6               12       14
 *   +----------------+----------------+--------+---------
 *   | destination    | source         | type   | payload
 *   +----------------+----------------+--------+---------
 *
 * A type of 0x8100, 0x88a8 or 0x9100 is a VLAN tag (2 bytes TCI, then the
 * real type); up to four stacked tags are walked. A type of 1500 or less is
 * an 802.3 length (LLC follows), which netcourse does not decode further.
 * Fields: src, dst (MAC text), type ("0x0800", the type after the tags) and
 * vlan (the outer tag's VLAN id) when tagged.
 */
#include "proto.h"

#include "../core/error.h"

#include <stdio.h>

static bool eth_is_tag(uint16_t type)
{
    return type == 0x8100 || type == 0x88a8 || type == 0x9100;
}

static int eth_decode(nc_dctx_t *x, nc_cursor_t *c)
{
    uint8_t dst[6], src[6];
    uint16_t type;
    nc_decode_open(x, "eth", c);
    if (!nc_cur_bytes(c, dst, 6) || !nc_cur_bytes(c, src, 6) || !nc_cur_u16be(c, &type))
        return nc_decode_fail(x, NC_ETRUNC, "eth: header truncated (%u of 14 bytes)",
                              x->caplen);
    nc_decode_mac_text(src, x->src);
    nc_decode_mac_text(dst, x->dst);
    nc_evb_str(x->b, "src", x->src);
    nc_evb_str(x->b, "dst", x->dst);
    int vlan = -1;
    for (int tags = 0; eth_is_tag(type); tags++) {
        uint16_t tci;
        if (tags == 4)
            return nc_decode_fail(x, NC_EBADDATA, "eth: more than 4 VLAN tags");
        if (!nc_cur_u16be(c, &tci) || !nc_cur_u16be(c, &type))
            return nc_decode_fail(x, NC_ETRUNC, "eth: VLAN tag truncated");
        if (vlan < 0)
            vlan = tci & 0x0fff;
    }
    char hex[8];
    nc_decode_hex16(type, hex);
    nc_evb_str(x->b, "type", hex);
    if (vlan >= 0)
        nc_evb_int(x->b, "vlan", vlan);
    nc_decode_close(x, c);
    if (type <= 1500) {
        nc_decode_summary(x, "802.3 frame, %u bytes (LLC)", type);
        return 0;
    }
    return nc_decode_ethertype(x, type, c);
}

/* Every field this layer writes (proto.h); a name-or-number field is NC_F_STR. */
static const nc_field_decl_t eth_fields[] = {
    {"dst", NC_F_STR},
    {"src", NC_F_STR},
    {"type", NC_F_STR},
    {"vlan", NC_F_INT},
    {NULL, 0},
};

const nc_proto_t nc_eth_proto = {"eth", eth_decode, eth_fields};
