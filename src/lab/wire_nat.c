/*
 * wire_nat.c: the NAT box in the wire, by header rewriting.
 *
 * Data model. The NAT sits on one wire port: the outside end of the nat
 * host, whose kernel routes between the inside and the outside without
 * translating. Frames that port sends out with an inside source address
 * (the inside prefix) are rewritten to come from the public address and a
 * mapped port; frames other outside hosts send to the public address are
 * rewritten back to the inside endpoint, or dropped when no mapping or
 * filter lets them in. A mapping is {proto, inside addr:port, public
 * port}, plus the remote endpoint it was made for when mapping depends on
 * it, plus the remote endpoints the inside has sent to (its permits: the
 * filter's memory). The four classic behaviours are one table row each,
 * in RFC 4787's terms (mapping, filtering):
 *
 *   full-cone           endpoint-independent,         endpoint-independent
 *   address-restricted  endpoint-independent,         address-dependent
 *   port-restricted     endpoint-independent,         address-and-port-dependent
 *   symmetric           address-and-port-dependent,   address-and-port-dependent
 *
 * A mapping that carries no outbound frame for the timeout expires.
 * Public ports are given out from 40000 upward (never two live mappings on
 * one port, whatever their protocol), so a student can tell them apart.
 * Checksums are fixed incrementally (RFC 1624): the IPv4 header's over the
 * address, TCP's and UDP's over the address (in their pseudo-header) and
 * the port; a UDP checksum of 0 (none) stays 0. Only unfragmented IPv4
 * TCP and UDP is translated; other frames from an inside address are
 * dropped on their way out (an ICMP error, say), and the rest pass as they
 * are (ARP, ICMP to or from the nat host itself).
 *
 * Pure: no clocks, sockets or threads; the wire thread owns the table and
 * passes the time in, and the unit tests drive it with frames built by
 * hand.
 */
#include "lab_impl.h"

#include "core/xmalloc.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { NAT_MAPPINGS = 256, NAT_PERMITS = 8, NAT_FIRST_PORT = 40000 };

/* How much of the remote endpoint a mapping or filter depends on. */
typedef enum { DEP_NONE, DEP_ADDR, DEP_ADDR_PORT } dep_t;

static const struct {
    const char *name;
    dep_t mapping, filtering;
    const char *filter_words; /* why an answer was let in or not */
} nat_kinds[] = {
    {"full-cone", DEP_NONE, DEP_NONE, "lets anyone in through a mapping"},
    {"address-restricted", DEP_NONE, DEP_ADDR, "lets in only addresses the inside host sent to"},
    {"port-restricted", DEP_NONE, DEP_ADDR_PORT,
     "lets in only address:port pairs the inside host sent to"},
    {"symmetric", DEP_ADDR_PORT, DEP_ADDR_PORT,
     "lets in only the address:port pair the mapping was made for"},
};

typedef struct permit {
    uint32_t addr; /* network order */
    uint16_t port; /* host order */
} permit_t;

typedef struct mapping {
    bool used;
    uint8_t proto;
    uint32_t in_addr;
    uint16_t in_port, ext_port;
    uint32_t rem_addr; /* for a dependent mapping: the remote it is for */
    uint16_t rem_port;
    int64_t last_ns;
    permit_t permits[NAT_PERMITS];
    size_t npermits, next_permit;
} mapping_t;

struct nc_nat {
    size_t kind;
    uint32_t public_addr, inside_net, inside_mask; /* network order */
    int64_t timeout_ns;
    mapping_t map[NAT_MAPPINGS];
    uint16_t next_port;
};

const char *nc_nat_names(void)
{
    return "full-cone, address-restricted, port-restricted, symmetric";
}

int nc_nat_kind(const char *name)
{
    for (size_t i = 0; name && i < sizeof nat_kinds / sizeof nat_kinds[0]; i++)
        if (strcmp(nat_kinds[i].name, name) == 0)
            return (int)i;
    return -1;
}

nc_nat_t *nc_nat_new(const char *kind, const char *public_addr, const char *inside_prefix,
                     int64_t timeout_ns)
{
    int k = nc_nat_kind(kind);
    struct in_addr pub, net;
    char buf[32];
    snprintf(buf, sizeof buf, "%s", inside_prefix ? inside_prefix : "");
    char *slash = strchr(buf, '/');
    int prefix = slash ? atoi(slash + 1) : 32;
    if (slash)
        *slash = '\0';
    if (k < 0 || inet_pton(AF_INET, public_addr, &pub) != 1 || inet_pton(AF_INET, buf, &net) != 1 ||
        prefix < 1 || prefix > 32)
        return NULL;
    nc_nat_t *n = nc_xcalloc(1, sizeof *n);
    n->kind = (size_t)k;
    n->public_addr = pub.s_addr;
    n->inside_mask = htonl(~0u << (32 - prefix));
    n->inside_net = net.s_addr & n->inside_mask;
    n->timeout_ns = timeout_ns > 0 ? timeout_ns : 30 * 1000000000ll;
    n->next_port = NAT_FIRST_PORT;
    return n;
}

void nc_nat_free(nc_nat_t *n)
{
    free(n);
}

const char *nc_nat_kind_name(const nc_nat_t *n)
{
    return nat_kinds[n->kind].name;
}

/* ---- frames ---- */

/* The parts of an Ethernet/IPv4/TCP-or-UDP frame the NAT rewrites, found
 * with every length checked. */
typedef struct pkt {
    uint8_t *ip, *l4;
    uint8_t proto;
    uint8_t *csum; /* the transport checksum, or NULL */
} pkt_t;

static bool pkt_parse(uint8_t *f, uint32_t len, pkt_t *p)
{
    if (len < 14 + 20 || f[12] != 0x08 || f[13] != 0x00)
        return false;
    uint8_t *ip = f + 14;
    size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
    if ((ip[0] >> 4) != 4 || ihl < 20 || len < 14 + ihl + 8)
        return false;
    if ((ip[6] & 0x3f) || ip[7]) /* a fragment (MF, or an offset): not translated */
        return false;
    p->ip = ip;
    p->proto = ip[9];
    p->l4 = ip + ihl;
    if (p->proto == 17)
        p->csum = p->l4 + 6;
    else if (p->proto == 6 && len >= 14 + ihl + 20)
        p->csum = p->l4 + 16;
    else
        return false;
    return true;
}

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), one 16-bit word at a time. */
static void csum_word(uint8_t *sum, uint16_t old, uint16_t new)
{
    uint32_t s = (uint16_t)~rd16(sum);
    s += (uint16_t)~old;
    s += new;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    wr16(sum, (uint16_t)~s);
}

/* Replaces a 4-byte address at a (network order) and a port at port,
 * fixing the IPv4 header's checksum and the transport's. */
static void rewrite(pkt_t *p, uint8_t *a, uint32_t addr, uint8_t *port, uint16_t newport)
{
    bool udp_none = p->proto == 17 && rd16(p->csum) == 0;
    uint8_t na[4];
    memcpy(na, &addr, 4);
    for (int i = 0; i < 4; i += 2) {
        uint16_t o = rd16(a + i), n = rd16(na + i);
        csum_word(p->ip + 10, o, n);
        if (!udp_none)
            csum_word(p->csum, o, n);
    }
    memcpy(a, na, 4);
    if (!udp_none)
        csum_word(p->csum, rd16(port), newport);
    wr16(port, newport);
    if (p->proto == 17 && !udp_none && rd16(p->csum) == 0)
        wr16(p->csum, 0xffff); /* a computed 0 is sent as all ones */
}

static void endpoint(char *out, size_t outlen, uint32_t addr, uint16_t port)
{
    char a[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &addr, a, sizeof a);
    snprintf(out, outlen, "%s:%u", a, port);
}

static const char *proto_name(uint8_t proto)
{
    return proto == 6 ? "tcp" : "udp";
}

static size_t count(const nc_nat_t *n)
{
    size_t c = 0;
    for (size_t i = 0; i < NAT_MAPPINGS; i++)
        c += n->map[i].used;
    return c;
}

static void change(const nc_nat_t *n, const mapping_t *m, const char *what, nc_nat_change_t *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->what, sizeof c->what, "%s", what);
    snprintf(c->proto, sizeof c->proto, "%s", proto_name(m->proto));
    endpoint(c->inside, sizeof c->inside, m->in_addr, m->in_port);
    endpoint(c->outside, sizeof c->outside, n->public_addr, m->ext_port);
    if (nat_kinds[n->kind].mapping != DEP_NONE)
        endpoint(c->remote, sizeof c->remote, m->rem_addr, m->rem_port);
    c->mappings = count(n);
}

static bool port_taken(const nc_nat_t *n, uint16_t port)
{
    for (size_t i = 0; i < NAT_MAPPINGS; i++)
        if (n->map[i].used && n->map[i].ext_port == port)
            return true;
    return false;
}

static mapping_t *find_out(nc_nat_t *n, uint8_t proto, uint32_t src, uint16_t sport, uint32_t dst,
                           uint16_t dport)
{
    bool dep = nat_kinds[n->kind].mapping != DEP_NONE;
    for (size_t i = 0; i < NAT_MAPPINGS; i++) {
        mapping_t *m = &n->map[i];
        if (m->used && m->proto == proto && m->in_addr == src && m->in_port == sport &&
            (!dep || (m->rem_addr == dst && m->rem_port == dport)))
            return m;
    }
    return NULL;
}

static void permit_add(mapping_t *m, uint32_t addr, uint16_t port)
{
    for (size_t i = 0; i < m->npermits; i++)
        if (m->permits[i].addr == addr && m->permits[i].port == port)
            return;
    size_t slot = m->npermits < NAT_PERMITS ? m->npermits++ : m->next_permit++ % NAT_PERMITS;
    m->permits[slot] = (permit_t){addr, port};
}

/* The IPv4 source of an Ethernet frame (network order), or false. */
static bool ipv4_src(const uint8_t *f, uint32_t len, uint32_t *src)
{
    if (len < 14 + 20 || f[12] != 0x08 || f[13] != 0x00 || (f[14] >> 4) != 4)
        return false;
    memcpy(src, f + 14 + 12, 4);
    return true;
}

nc_nat_result_t nc_nat_outbound(nc_nat_t *n, uint8_t *frame, uint32_t len, int64_t now_ns,
                                char *what, size_t whatlen, nc_nat_change_t *added)
{
    pkt_t p;
    if (!pkt_parse(frame, len, &p)) {
        /* An inside address must not reach the outside untranslated. */
        uint32_t src;
        if (ipv4_src(frame, len, &src) && (src & n->inside_mask) == n->inside_net) {
            snprintf(what, whatlen, "NAT (%s): only unfragmented TCP and UDP are translated, "
                                    "and an inside address must not leave as it is",
                     nat_kinds[n->kind].name);
            return NC_NAT_DROP;
        }
        return NC_NAT_PASS;
    }
    uint32_t src, dst;
    memcpy(&src, p.ip + 12, 4);
    memcpy(&dst, p.ip + 16, 4);
    if ((src & n->inside_mask) != n->inside_net)
        return NC_NAT_PASS;
    uint16_t sport = rd16(p.l4), dport = rd16(p.l4 + 2);
    mapping_t *m = find_out(n, p.proto, src, sport, dst, dport);
    nc_nat_result_t r = NC_NAT_REWROTE;
    if (!m) {
        for (size_t i = 0; i < NAT_MAPPINGS && !m; i++)
            if (!n->map[i].used)
                m = &n->map[i];
        if (!m) {
            snprintf(what, whatlen, "NAT (%s): its table is full (%d mappings)",
                     nat_kinds[n->kind].name, NAT_MAPPINGS);
            return NC_NAT_DROP;
        }
        uint16_t port = n->next_port;
        for (unsigned tries = 0; port_taken(n, port) && tries < 25000; tries++)
            port = port >= 64999 ? NAT_FIRST_PORT : (uint16_t)(port + 1);
        n->next_port = port >= 64999 ? NAT_FIRST_PORT : (uint16_t)(port + 1);
        *m = (mapping_t){.used = true, .proto = p.proto, .in_addr = src, .in_port = sport,
                         .ext_port = port, .rem_addr = dst, .rem_port = dport};
        r = NC_NAT_NEW_MAPPING;
    }
    m->last_ns = now_ns;
    permit_add(m, dst, dport);
    char in[32], out[32];
    endpoint(in, sizeof in, src, sport);
    endpoint(out, sizeof out, n->public_addr, m->ext_port);
    snprintf(what, whatlen, "%s %s -> %s", r == NC_NAT_NEW_MAPPING ? "new mapping" : "mapped", in,
             out);
    rewrite(&p, p.ip + 12, n->public_addr, p.l4, m->ext_port);
    if (r == NC_NAT_NEW_MAPPING)
        change(n, m, "add", added);
    return r;
}

nc_nat_result_t nc_nat_inbound(nc_nat_t *n, uint8_t *frame, uint32_t len, int64_t now_ns,
                               char *what, size_t whatlen)
{
    pkt_t p;
    if (!pkt_parse(frame, len, &p))
        return NC_NAT_PASS;
    uint32_t src, dst;
    memcpy(&src, p.ip + 12, 4);
    memcpy(&dst, p.ip + 16, 4);
    if (dst != n->public_addr)
        return NC_NAT_PASS;
    uint16_t sport = rd16(p.l4), dport = rd16(p.l4 + 2);
    char from[32], to[32];
    endpoint(from, sizeof from, src, sport);
    endpoint(to, sizeof to, dst, dport);
    mapping_t *m = NULL;
    for (size_t i = 0; i < NAT_MAPPINGS && !m; i++)
        if (n->map[i].used && n->map[i].proto == p.proto && n->map[i].ext_port == dport)
            m = &n->map[i];
    if (!m) {
        snprintf(what, whatlen, "NAT (%s): no mapping for %s %s, so %s cannot get in",
                 nat_kinds[n->kind].name, proto_name(p.proto), to, from);
        return NC_NAT_DROP;
    }
    dep_t f = nat_kinds[n->kind].filtering;
    bool ok = f == DEP_NONE;
    for (size_t i = 0; !ok && i < m->npermits; i++)
        ok = m->permits[i].addr == src && (f == DEP_ADDR || m->permits[i].port == sport);
    char in[32];
    endpoint(in, sizeof in, m->in_addr, m->in_port);
    if (!ok) {
        if (f == DEP_ADDR)
            inet_ntop(AF_INET, &src, from, sizeof from);
        snprintf(what, whatlen, "NAT (%s) %s: %s never sent to %s, so it is filtered",
                 nat_kinds[n->kind].name, nat_kinds[n->kind].filter_words, in, from);
        return NC_NAT_DROP;
    }
    (void)now_ns; /* only outbound frames keep a mapping alive */
    snprintf(what, whatlen, "mapped %s -> %s", to, in);
    rewrite(&p, p.ip + 16, m->in_addr, p.l4 + 2, m->in_port);
    return NC_NAT_REWROTE;
}

size_t nc_nat_expire(nc_nat_t *n, int64_t now_ns, nc_nat_change_t *out, size_t max)
{
    size_t k = 0;
    for (size_t i = 0; i < NAT_MAPPINGS && k < max; i++) {
        mapping_t *m = &n->map[i];
        if (m->used && now_ns - m->last_ns >= n->timeout_ns) {
            m->used = false;
            change(n, m, "expire", &out[k++]);
        }
    }
    return k;
}

size_t nc_nat_table(const nc_nat_t *n, char *out, size_t outlen)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < NAT_MAPPINGS; i++) {
        const mapping_t *m = &n->map[i];
        if (!m->used)
            continue;
        char in[32], ext[32], rem[32] = "";
        endpoint(in, sizeof in, m->in_addr, m->in_port);
        endpoint(ext, sizeof ext, n->public_addr, m->ext_port);
        if (nat_kinds[n->kind].mapping != DEP_NONE)
            endpoint(rem, sizeof rem, m->rem_addr, m->rem_port);
        int w = snprintf(out + used, outlen - used, "%s%s %s = %s%s%s", used ? "\n" : "",
                         proto_name(m->proto), in, ext, rem[0] ? " for " : "", rem);
        if (w < 0 || (size_t)w >= outlen - used) {
            out[used] = '\0';
            break;
        }
        used += (size_t)w;
    }
    return used;
}
