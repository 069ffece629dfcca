/*
 * csum.c: the Internet checksum (RFC 1071) of IPv4 headers, TCP, UDP, ICMP
 * and ICMPv6, and what a failed check most likely means.
 *
 * The checksum is the ones' complement of the ones' complement sum of the
 * 16-bit words it covers; a receiver sums the covered bytes including the
 * stored checksum and expects 0xffff. TCP, UDP and ICMPv6 also cover a
 * pseudo-header: both addresses, the protocol number and the transport
 * length (RFC 9293 3.1, RFC 768, RFC 8200 8.1).
 *
 * A check has one of five outcomes, written as "checksum_status":
 *   good        the sum is right;
 *   bad         it is wrong, and not in the way offload makes it wrong;
 *   partial     the stored value is the pseudo-header's sum alone: the
 *               kernel left the rest to the network card (checksum offload,
 *               Linux CHECKSUM_PARTIAL), and the capture was taken on the
 *               sending host before the card filled it in. On loopback and
 *               veth the card never does, since the bytes never leave;
 *   none        a UDP checksum of 0: the sender computed none (allowed over
 *               IPv4, RFC 768; over IPv6 only for tunnels, RFC 6935);
 *   unverified  not every covered byte was captured (a snapshot length, an
 *               IP fragment), so the sum cannot be checked.
 * The first partial checksum a decoder meets is marked "_csum_first", so the
 * annotation explains offload once per capture, not on every packet.
 * The data is only read through a cursor, never past the captured bytes.
 */
#include "proto.h"

uint32_t nc_csum_add(nc_cursor_t c, uint32_t acc)
{
    uint16_t w;
    uint8_t last;
    while (nc_cur_u16be(&c, &w)) {
        acc += w;
        if (acc & 0x80000000u)
            acc = (acc & 0xffff) + (acc >> 16);
    }
    if (nc_cur_u8(&c, &last))
        acc += (uint32_t)last << 8;
    return acc;
}

uint16_t nc_csum_fold(uint32_t acc)
{
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    return (uint16_t)acc;
}

/* The pseudo-header's sum for the walk's addresses, proto and length. */
static uint32_t nc_csum_pseudo(const nc_dctx_t *x, uint8_t proto, uint32_t len)
{
    size_t alen = x->ipver == 6 ? 16 : 4;
    uint32_t acc = nc_csum_add(nc_cur_make(x->saddr, alen), 0);
    acc = nc_csum_add(nc_cur_make(x->daddr, alen), acc);
    acc += proto;
    acc += len >> 16;
    acc += len & 0xffff;
    return acc;
}

void nc_csum_write_l4(nc_dctx_t *x, nc_cursor_t seg, uint32_t len, uint16_t stored,
                      bool pseudo)
{
    nc_evb_int(x->b, "checksum", stored);
    const char *status;
    if (x->ipver == 0 || x->fragment || nc_cur_left(&seg) < len) {
        status = "unverified";
    } else {
        nc_cur_limit(&seg, len);
        uint32_t head = pseudo ? nc_csum_pseudo(x, x->ip_proto, len) : 0;
        uint16_t part = nc_csum_fold(head);
        if (nc_csum_fold(nc_csum_add(seg, head)) == 0xffff)
            status = "good";
        else if (pseudo && (stored == part || (part == 0xffff && stored == 0)))
            status = "partial";
        else
            status = "bad";
    }
    nc_evb_str(x->b, "checksum_status", status);
    if (status[0] == 'p' && !x->d->csum_partial_seen) {
        x->d->csum_partial_seen = true;
        nc_evb_bool(x->b, "_csum_first", true);
    }
}
