/*
 * icmpv6.c: Internet Control Message Protocol for IPv6 (RFC 4443), with the
 * Neighbor Discovery messages of RFC 4861.
 *
 *   type(1) code(1) checksum(2) message body...
 *
 * Fields: type, code, name (e.g. "echo request", "neighbor solicitation"),
 * id and seq for echoes, target for neighbor solicitations/advertisements,
 * checksum and checksum_status (csum.c, with the IPv6 pseudo-header).
 */
#include "proto.h"

#include "../core/error.h"

static const struct {
    uint8_t type;
    const char *name;
} icmpv6_types[] = {
    {1, "destination unreachable"},
    {2, "packet too big"},
    {3, "time exceeded"},
    {4, "parameter problem"},
    {128, "echo request"},
    {129, "echo reply"},
    {130, "multicast listener query"},
    {131, "multicast listener report"},
    {132, "multicast listener done"},
    {133, "router solicitation"},
    {134, "router advertisement"},
    {135, "neighbor solicitation"},
    {136, "neighbor advertisement"},
    {137, "redirect"},
    {139, "node information query"},
    {140, "node information reply"},
    {143, "multicast listener report v2"},
};

static int icmpv6_decode(nc_dctx_t *x, nc_cursor_t *c)
{
    uint8_t type, code;
    uint16_t csum;
    nc_decode_open(x, "icmpv6", c);
    nc_cursor_t seg = *c;
    size_t avail = nc_cur_left(c);
    if (!nc_cur_u8(c, &type) || !nc_cur_u8(c, &code) || !nc_cur_u16be(c, &csum))
        return nc_decode_fail(x, NC_ETRUNC, "icmpv6: header truncated (%zu of 4 bytes)",
                              avail);
    const char *name = NULL;
    for (size_t i = 0; i < sizeof(icmpv6_types) / sizeof(icmpv6_types[0]); i++)
        if (icmpv6_types[i].type == type)
            name = icmpv6_types[i].name;
    nc_evb_int(x->b, "type", type);
    nc_evb_int(x->b, "code", code);
    nc_csum_write_l4(x, seg, x->l4_len, csum, true);
    nc_evb_str(x->b, "name", name ? name : "unknown");
    if (type == 128 || type == 129) {
        uint16_t id, seq;
        if (!nc_cur_u16be(c, &id) || !nc_cur_u16be(c, &seq))
            return nc_decode_fail(x, NC_ETRUNC,
                                  "icmpv6: echo header truncated (%zu of 8 bytes)", avail);
        nc_evb_int(x->b, "id", id);
        nc_evb_int(x->b, "seq", seq);
        nc_decode_close(x, c);
        nc_decode_summary(x, "ICMPv6 %s seq=%u", name, seq);
        return 0;
    }
    if (type == 135 || type == 136) {
        uint8_t target[16];
        char text[NC_ADDR_TEXT];
        if (!nc_cur_skip(c, 4) || !nc_cur_bytes(c, target, 16))
            return nc_decode_fail(x, NC_ETRUNC,
                                  "icmpv6: neighbor discovery truncated (%zu of 24 bytes)",
                                  avail);
        nc_decode_ip_text(6, target, text);
        nc_evb_str(x->b, "target", text);
        nc_decode_close(x, c);
        nc_decode_summary(x, "ICMPv6 %s %s", name, text);
        return 0;
    }
    nc_decode_close(x, c);
    if (name)
        nc_decode_summary(x, "ICMPv6 %s", name);
    else
        nc_decode_summary(x, "ICMPv6 type %u code %u", type, code);
    return 0;
}

/* Every field this layer writes (proto.h); a name-or-number field is NC_F_STR. */
static const nc_field_decl_t icmpv6_fields[] = {
    {"type", NC_F_INT},
    {"code", NC_F_INT},
    {"name", NC_F_STR},
    {"id", NC_F_INT},
    {"seq", NC_F_INT},
    {"target", NC_F_STR},
    {"checksum", NC_F_INT},
    {"checksum_status", NC_F_STR},
    {NULL, 0},
};

const nc_proto_t nc_icmpv6_proto = {"icmpv6", icmpv6_decode, icmpv6_fields};
