/*
 * arp.c: Address Resolution Protocol (RFC 826) for IPv4 over Ethernet.
 *
 *   htype(2) ptype(2) hlen(1) plen(1) op(2)
 *   sender hw (hlen) sender proto (plen) target hw (hlen) target proto (plen)
 *
 * Only Ethernet/IPv4 (hlen 6, plen 4) is decoded into addresses; other
 * combinations keep op and the sizes. Fields: op ("request", "reply",
 * "rarp request", "rarp reply" or the number), sender_mac, sender_ip,
 * target_mac, target_ip. "from"/"to" are the sender and target IPs.
 */
#include "proto.h"

#include "../core/error.h"

static const char *const arp_ops[] = {NULL, "request", "reply", "rarp request", "rarp reply"};

static int arp_decode(nc_dctx_t *x, nc_cursor_t *c)
{
    uint16_t htype, ptype, op;
    uint8_t hlen, plen;
    nc_decode_open(x, "arp", c);
    size_t avail = nc_cur_left(c);
    if (!nc_cur_u16be(c, &htype) || !nc_cur_u16be(c, &ptype) || !nc_cur_u8(c, &hlen) ||
        !nc_cur_u8(c, &plen) || !nc_cur_u16be(c, &op))
        return nc_decode_fail(x, NC_ETRUNC, "arp: header truncated (%zu of 8 bytes)", avail);
    const char *opname = op < 5 ? arp_ops[op] : NULL;
    if (opname)
        nc_evb_str(x->b, "op", opname);
    else
        nc_evb_int(x->b, "op", op);
    if (hlen != 6 || plen != 4 || ptype != 0x0800) {
        nc_evb_int(x->b, "htype", htype);
        nc_evb_strf(x->b, "ptype", "0x%04x", ptype);
        nc_decode_close(x, c);
        nc_decode_summary(x, "ARP %s (hardware type %u, protocol 0x%04x)",
                          opname ? opname : "op", htype, ptype);
        return 0;
    }
    uint8_t sha[6], spa[4], tha[6], tpa[4];
    if (!nc_cur_bytes(c, sha, 6) || !nc_cur_bytes(c, spa, 4) || !nc_cur_bytes(c, tha, 6) ||
        !nc_cur_bytes(c, tpa, 4))
        return nc_decode_fail(x, NC_ETRUNC, "arp: addresses truncated (%zu of 28 bytes)",
                              avail);
    char smac[NC_ADDR_TEXT], tmac[NC_ADDR_TEXT];
    nc_decode_mac_text(sha, smac);
    nc_decode_mac_text(tha, tmac);
    nc_decode_ip_text(4, spa, x->src);
    nc_decode_ip_text(4, tpa, x->dst);
    nc_evb_str(x->b, "sender_mac", smac);
    nc_evb_str(x->b, "sender_ip", x->src);
    nc_evb_str(x->b, "target_mac", tmac);
    nc_evb_str(x->b, "target_ip", x->dst);
    nc_decode_close(x, c);
    if (op == 1)
        nc_decode_summary(x, "ARP who has %s? tell %s", x->dst, x->src);
    else if (op == 2)
        nc_decode_summary(x, "ARP %s is at %s", x->src, smac);
    else
        nc_decode_summary(x, "ARP %s from %s", opname ? opname : "op", x->src);
    return 0;
}

/* Every field this layer writes (proto.h); a name-or-number field is NC_F_STR. */
static const nc_field_decl_t arp_fields[] = {
    {"htype", NC_F_INT},
    {"ptype", NC_F_STR},
    {"op", NC_F_STR},
    {"sender_mac", NC_F_STR},
    {"sender_ip", NC_F_STR},
    {"target_mac", NC_F_STR},
    {"target_ip", NC_F_STR},
    {NULL, 0},
};

const nc_proto_t nc_arp_proto = {"arp", arp_decode, arp_fields};
