/*
 * icmp.c: Internet Control Message Protocol for IPv4 (RFC 792).
 *
 *   type(1) code(1) checksum(2) rest-of-header(4) data...
 *
 * For echo request/reply the rest of the header is identifier and sequence
 * number. Fields: type, code, name (e.g. "echo request"), reason for
 * destination unreachable codes (e.g. "port unreachable"), id and seq for
 * echoes, checksum and checksum_status (csum.c, over the whole message).
 */
#include "proto.h"

#include "../core/error.h"

static const char *const icmp_types[] = {
    [0] = "echo reply",           [3] = "destination unreachable",
    [4] = "source quench",        [5] = "redirect",
    [8] = "echo request",         [9] = "router advertisement",
    [10] = "router solicitation", [11] = "time exceeded",
    [12] = "parameter problem",   [13] = "timestamp request",
    [14] = "timestamp reply",     [17] = "address mask request",
    [18] = "address mask reply",  [42] = "extended echo request",
    [43] = "extended echo reply",
};

static const char *const icmp_unreach[] = {
    "network unreachable", "host unreachable",  "protocol unreachable",
    "port unreachable",    "fragmentation needed", "source route failed",
    "network unknown",     "host unknown",      "source host isolated",
    "network prohibited",  "host prohibited",   "network unreachable for TOS",
    "host unreachable for TOS", "administratively prohibited",
};

static int icmp_decode(nc_dctx_t *x, nc_cursor_t *c)
{
    uint8_t type, code;
    uint16_t csum, id, seq;
    nc_decode_open(x, "icmp", c);
    nc_cursor_t seg = *c;
    size_t avail = nc_cur_left(c);
    if (!nc_cur_u8(c, &type) || !nc_cur_u8(c, &code) || !nc_cur_u16be(c, &csum))
        return nc_decode_fail(x, NC_ETRUNC, "icmp: header truncated (%zu of 4 bytes)", avail);
    const char *name = type < sizeof(icmp_types) / sizeof(icmp_types[0]) ? icmp_types[type]
                                                                          : NULL;
    nc_evb_int(x->b, "type", type);
    nc_evb_int(x->b, "code", code);
    nc_csum_write_l4(x, seg, x->l4_len, csum, false);
    nc_evb_str(x->b, "name", name ? name : "unknown");
    if (type == 3 && code < sizeof(icmp_unreach) / sizeof(icmp_unreach[0])) {
        nc_evb_str(x->b, "reason", icmp_unreach[code]);
        nc_decode_close(x, c);
        nc_decode_summary(x, "ICMP %s (%s)", name, icmp_unreach[code]);
        return 0;
    }
    if (type == 0 || type == 8) {
        if (!nc_cur_u16be(c, &id) || !nc_cur_u16be(c, &seq))
            return nc_decode_fail(x, NC_ETRUNC, "icmp: echo header truncated (%zu of 8 bytes)",
                                  avail);
        nc_evb_int(x->b, "id", id);
        nc_evb_int(x->b, "seq", seq);
        nc_decode_close(x, c);
        nc_decode_summary(x, "ICMP %s seq=%u", name, seq);
        return 0;
    }
    nc_decode_close(x, c);
    if (name)
        nc_decode_summary(x, "ICMP %s", name);
    else
        nc_decode_summary(x, "ICMP type %u code %u", type, code);
    return 0;
}

/* Every field this layer writes (proto.h); a name-or-number field is NC_F_STR. */
static const nc_field_decl_t icmp_fields[] = {
    {"type", NC_F_INT},
    {"code", NC_F_INT},
    {"name", NC_F_STR},
    {"id", NC_F_INT},
    {"seq", NC_F_INT},
    {"reason", NC_F_STR},
    {"checksum", NC_F_INT},
    {"checksum_status", NC_F_STR},
    {NULL, 0},
};

const nc_proto_t nc_icmp_proto = {"icmp", icmp_decode, icmp_fields};
