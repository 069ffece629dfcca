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
 * What the notes need is kept in the walk's state and written at its end as
 * the private object "_csum" (decode.c): the first bad checksum, and the
 * first partial checksum a decoder meets in a capture, so that the
 * annotation explains offload once per capture, not on every packet.
 * The data is only read through a cursor, never past the captured bytes.
 */
#include "proto.h"

#include <string.h>

/* Folds a 64-bit sum's carries down to 32 bits, keeping room for the
 * additions callers make before the final fold. */
static uint32_t nc_csum_fold32(uint64_t sum)
{
    while (sum >> 17)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint32_t)sum;
}

uint16_t nc_csum_fold(uint32_t acc)
{
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    return (uint16_t)acc;
}

uint32_t nc_csum_add(nc_cursor_t c, uint32_t acc)
{
    /* The ones' complement sum does not depend on byte order (RFC 1071
     * 2(B)) and may be taken over wider words (2(C)): sum 32-bit words as
     * the host reads them, fold to 16 bits and swap to network order once.
     * It runs over every payload byte of a replay. The window is read
     * within its own bounds. */
    size_t n = nc_cur_left(&c), i = 0;
    uint64_t sum = 0;
    for (; i + 4 <= n; i += 4) {
        uint32_t w;
        memcpy(&w, c.ptr + i, 4);
        sum += w;
    }
    for (; i + 2 <= n; i += 2) {
        uint16_t h;
        memcpy(&h, c.ptr + i, 2);
        sum += h;
    }
    if (i < n) {
        uint8_t last[2] = {c.ptr[i], 0};
        uint16_t h;
        memcpy(&h, last, 2);
        sum += h;
    }
    uint16_t host = nc_csum_fold(nc_csum_fold32(sum));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    host = (uint16_t)(host << 8 | host >> 8);
#endif
    return acc + host;
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

void nc_csum_write_l4(nc_dctx_t *x, nc_cursor_t seg, uint32_t len, uint16_t stored, bool pseudo)
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
    nc_csum_status(x, status);
}

/* The open layer's name as a note says it. */
static const char *nc_csum_layer_name(const nc_dctx_t *x)
{
    static const char *const names[][2] = {
        {"ip", "IPv4 header"}, {"tcp", "TCP"},       {"udp", "UDP"},
        {"icmp", "ICMP"},      {"icmpv6", "ICMPv6"},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(x->proto, names[i][0]) == 0)
            return names[i][1];
    return x->proto;
}

void nc_csum_status(nc_dctx_t *x, const char *status)
{
    nc_evb_str(x->b, "checksum_status", status);
    if (strcmp(status, "bad") == 0 && x->csum_bad == NULL) {
        x->csum_bad = nc_csum_layer_name(x);
    } else if (strcmp(status, "partial") == 0 && !x->d->csum_partial_seen) {
        x->d->csum_partial_seen = true;
        x->csum_partial = nc_csum_layer_name(x);
    } else if (strcmp(status, "none") == 0 && x->ipver == 6) {
        x->csum_zero6 = true;
    }
}
