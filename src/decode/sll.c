/*
 * sll.c: Linux "cooked" capture headers, versions 1 and 2 (DLT_LINUX_SLL,
 * DLT_LINUX_SLL2), what libpcap produces on the "any" device.
 *
 *   SLL (16 bytes):   pkttype(2) hatype(2) halen(2) addr(8) protocol(2)
 *   SLL2 (20 bytes):  protocol(2) reserved(2) ifindex(4) hatype(2)
 *                     pkttype(1) halen(1) addr(8)
 *
 * The address is the sender's link-layer address (only its first halen
 * bytes count). Fields: pkttype ("host", "broadcast", "multicast",
 * "otherhost", "outgoing" or the number), hatype, addr, proto ("0x0800") and,
 * for SLL2, ifindex.
 */
#include "proto.h"

#include "../core/error.h"

#include <stdio.h>

static const char *const sll_pkttypes[] = {"host", "broadcast", "multicast", "otherhost",
                                           "outgoing"};

static void sll_fields(nc_dctx_t *x, uint16_t pkttype, uint16_t hatype, uint16_t halen,
                       const uint8_t *addr, uint16_t proto)
{
    if (pkttype < sizeof(sll_pkttypes) / sizeof(sll_pkttypes[0]))
        nc_evb_str(x->b, "pkttype", sll_pkttypes[pkttype]);
    else
        nc_evb_int(x->b, "pkttype", pkttype);
    nc_evb_int(x->b, "hatype", hatype);
    if (halen == 6) {
        nc_decode_mac_text(addr, x->src);
        nc_evb_str(x->b, "addr", x->src);
    } else {
        char hex[17] = "";
        for (unsigned i = 0; i < halen && i < 8; i++)
            snprintf(hex + 2 * i, 3, "%02x", addr[i]);
        nc_evb_str(x->b, "addr", hex);
    }
    char hex16[8];
    nc_decode_hex16(proto, hex16);
    nc_evb_str(x->b, "proto", hex16);
}

/* Protocols below 0x0600 are Linux's special values (LLC, 802.3 ...). */
static int sll_next(nc_dctx_t *x, uint16_t proto, nc_cursor_t *c)
{
    if (proto < 0x0600) {
        nc_decode_summary(x, "Linux cooked frame, protocol 0x%04x", proto);
        return 0;
    }
    return nc_decode_ethertype(x, proto, c);
}

static int sll_decode(nc_dctx_t *x, nc_cursor_t *c)
{
    uint16_t pkttype, hatype, halen, proto;
    uint8_t addr[8];
    nc_decode_open(x, "sll", c);
    if (!nc_cur_u16be(c, &pkttype) || !nc_cur_u16be(c, &hatype) || !nc_cur_u16be(c, &halen) ||
        !nc_cur_bytes(c, addr, 8) || !nc_cur_u16be(c, &proto))
        return nc_decode_fail(x, NC_ETRUNC, "sll: header truncated (%u of 16 bytes)",
                              x->caplen);
    sll_fields(x, pkttype, hatype, halen, addr, proto);
    nc_decode_close(x, c);
    return sll_next(x, proto, c);
}

static int sll2_decode(nc_dctx_t *x, nc_cursor_t *c)
{
    uint16_t proto, reserved, hatype;
    uint32_t ifindex;
    uint8_t pkttype, halen, addr[8];
    nc_decode_open(x, "sll2", c);
    if (!nc_cur_u16be(c, &proto) || !nc_cur_u16be(c, &reserved) ||
        !nc_cur_u32be(c, &ifindex) || !nc_cur_u16be(c, &hatype) || !nc_cur_u8(c, &pkttype) ||
        !nc_cur_u8(c, &halen) || !nc_cur_bytes(c, addr, 8))
        return nc_decode_fail(x, NC_ETRUNC, "sll2: header truncated (%u of 20 bytes)",
                              x->caplen);
    sll_fields(x, pkttype, hatype, halen, addr, proto);
    nc_evb_int(x->b, "ifindex", ifindex);
    nc_decode_close(x, c);
    return sll_next(x, proto, c);
}

/* Every field these layers write (proto.h); pkttype is a name, or its number. */
static const nc_field_decl_t sll_layer_fields[] = {
    {"pkttype", NC_F_STR}, {"hatype", NC_F_INT}, {"addr", NC_F_STR},
    {"proto", NC_F_STR},   {"ifindex", NC_F_INT}, {NULL, 0},
};

const nc_proto_t nc_sll_proto = {"sll", sll_decode, sll_layer_fields};
const nc_proto_t nc_sll2_proto = {"sll2", sll2_decode, sll_layer_fields};
