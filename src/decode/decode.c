/*
 * decode.c: the decoder, its registry of protocols and the dispatchers.
 *
 * The registry is four tables: link type -> link-layer decoder, EtherType ->
 * network decoder, IP protocol number -> transport decoder, and an ordered
 * list of application decoders, each with a match function that looks at the
 * transport's ports or payload. A decoder is a flow table plus the names the
 * lab gave to its hosts.
 *
 * nc_decoder_packet() writes "from", "to", "proto" and "len" first with
 * placeholder values (so they lead the JSON object) and patches them once the
 * walk has found the addresses and the highest layer. The walk keeps
 * everything in the nc_dctx_t on the stack; per packet it allocates nothing
 * but the event builder's own arena copies.
 */
#include "proto.h"
#include "stream.h"

#include "../core/error.h"
#include "../core/xmalloc.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    int linktype;
    const nc_proto_t *proto;
} nc_link_table[] = {
    {0, &nc_null_proto},    /* DLT_NULL: BSD loopback */
    {108, &nc_null_proto},  /* DLT_LOOP (LINKTYPE_LOOP) */
    {1, &nc_eth_proto},     /* DLT_EN10MB */
    {12, &nc_raw_proto},    /* DLT_RAW */
    {14, &nc_raw_proto},    /* DLT_RAW on OpenBSD */
    {101, &nc_raw_proto},   /* LINKTYPE_RAW */
    {228, &nc_ipv4_proto},  /* LINKTYPE_IPV4 */
    {229, &nc_ipv6_proto},  /* LINKTYPE_IPV6 */
    {113, &nc_sll_proto},   /* DLT_LINUX_SLL */
    {276, &nc_sll2_proto},  /* DLT_LINUX_SLL2 */
};

static const struct {
    uint16_t type;
    const nc_proto_t *proto;
} nc_ethertype_table[] = {
    {0x0800, &nc_ipv4_proto},
    {0x86dd, &nc_ipv6_proto},
    {0x0806, &nc_arp_proto},
};

static const struct {
    uint8_t proto;
    const nc_proto_t *decoder;
} nc_ipproto_table[] = {
    {6, &nc_tcp_proto},
    {17, &nc_udp_proto},
    {1, &nc_icmp_proto},
    {58, &nc_icmpv6_proto},
    {4, &nc_ipv4_proto},  /* IP in IP */
    {41, &nc_ipv6_proto}, /* IPv6 in IP */
};

/* Per-packet application decoders. HTTP/1, WebSocket and SSE are stream
 * decoders instead (stream.h): tcp.c hands them whole connections. */
static const nc_app_proto_t *const nc_app_table[] = {
    &nc_dns_app,
    &nc_stun_app,
    &nc_quic_app,
};

/* IP-in-IP and stacked tags may nest this deep, no deeper. */
#define NC_DECODE_MAX_DEPTH 4

nc_decoder_t *nc_decoder_new(void)
{
    nc_decoder_t *d = nc_xcalloc(1, sizeof(*d));
    d->flows = nc_flow_table_new(0);
    d->ooo_budget.max = NC_STREAM_BUDGET_DEFAULT;
    return d;
}

struct nc_decoder_ck {
    nc_flow_ck_t *flows;
    bool csum_partial_seen;
};

nc_decoder_ck_t *nc_decoder_save(const nc_decoder_t *d, const nc_decoder_ck_t *prev,
                                 size_t *bytes)
{
    nc_flow_ck_t *flows = nc_flow_table_save(d->flows, prev ? prev->flows : NULL, bytes);
    if (flows == NULL)
        return NULL;
    nc_decoder_ck_t *ck = nc_xmalloc(sizeof(*ck));
    ck->flows = flows;
    ck->csum_partial_seen = d->csum_partial_seen;
    *bytes += sizeof(*ck);
    return ck;
}

void nc_decoder_restore(nc_decoder_t *d, const nc_decoder_ck_t *ck)
{
    /* Freeing the streams it replaces gives their held bytes back; nothing
     * is held out of order in a checkpoint, so the budget is then empty. */
    nc_flow_table_restore(d->flows, ck->flows, &d->ooo_budget);
    d->ooo_budget.used = 0;
    d->csum_partial_seen = ck->csum_partial_seen;
}

void nc_decoder_ck_free(nc_decoder_ck_t *ck)
{
    if (ck == NULL)
        return;
    nc_flow_ck_free(ck->flows);
    free(ck);
}

void nc_decoder_free(nc_decoder_t *d)
{
    if (d == NULL)
        return;
    for (size_t i = 0; i < d->nnames; i++) {
        free(d->names[i].addr);
        free(d->names[i].name);
    }
    free(d->names);
    nc_flow_table_free(d->flows);
    free(d->sout);
    free(d);
}

void nc_decoder_set_decryptor(nc_decoder_t *d, const nc_decryptor_t *dec, void *ctx)
{
    d->dec = dec;
    d->dec_ctx = ctx;
}

void nc_decoder_name_host(nc_decoder_t *d, const char *addr, const char *name)
{
    if (addr == NULL || name == NULL)
        return;
    for (size_t i = 0; i < d->nnames; i++) {
        if (strcmp(d->names[i].addr, addr) == 0) {
            free(d->names[i].name);
            d->names[i].name = nc_xstrdup(name);
            return;
        }
    }
    if (d->nnames == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 8;
        d->names = nc_xrealloc(d->names, d->cap * sizeof(*d->names));
    }
    d->names[d->nnames].addr = nc_xstrdup(addr);
    d->names[d->nnames].name = nc_xstrdup(name);
    d->nnames++;
}

static const char *nc_decoder_lookup(const nc_decoder_t *d, const char *addr)
{
    for (size_t i = 0; i < d->nnames; i++)
        if (strcmp(d->names[i].addr, addr) == 0)
            return d->names[i].name;
    return addr;
}

void nc_decode_open(nc_dctx_t *x, const char *name, const nc_cursor_t *c)
{
    if (x->layer_open)
        nc_decode_close(x, c);
    x->layer_depth = x->b->depth;
    nc_evb_obj(x->b, name);
    nc_evb_int(x->b, "_off", c->ptr - x->frame);
    x->layer_len_idx = x->b->nfields;
    nc_evb_int(x->b, "_len", 0);
    x->layer_start = c->ptr;
    x->layer_open = 1;
    x->proto = name;
}

void nc_decode_close(nc_dctx_t *x, const nc_cursor_t *c)
{
    if (!x->layer_open)
        return;
    x->b->fields[x->layer_len_idx].v.i = c->ptr - x->layer_start;
    while (x->b->depth > x->layer_depth)
        nc_evb_end(x->b);
    x->layer_open = 0;
}

int nc_decode_fail(nc_dctx_t *x, int code, const char *fmt, ...)
{
    if (x->status == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(x->err, sizeof(x->err), fmt, ap);
        va_end(ap);
        x->status = code;
    }
    if (x->layer_open) {
        /* Close the layer and any list or object left open inside it; its
         * byte range is the rest of the frame. */
        x->b->fields[x->layer_len_idx].v.i = (x->frame + x->caplen) - x->layer_start;
        while (x->b->depth > x->layer_depth)
            nc_evb_end(x->b);
        x->layer_open = 0;
    }
    return code;
}

void nc_decode_summary(nc_dctx_t *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(x->summary, sizeof(x->summary), fmt, ap);
    va_end(ap);
    x->sumlen = n < 0 ? 0 : (size_t)n < sizeof(x->summary) ? (size_t)n : sizeof(x->summary) - 1;
}

void nc_decode_sum_reset(nc_dctx_t *x)
{
    x->sumlen = 0;
    x->summary[0] = '\0';
}

void nc_decode_sum_str(nc_dctx_t *x, const char *s)
{
    while (*s && x->sumlen < sizeof(x->summary) - 1)
        x->summary[x->sumlen++] = *s++;
    x->summary[x->sumlen] = '\0';
}

void nc_decode_sum_uint(nc_dctx_t *x, uint64_t v)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n && x->sumlen < sizeof(x->summary) - 1)
        x->summary[x->sumlen++] = tmp[--n];
    x->summary[x->sumlen] = '\0';
}

static const char nc_hex[] = "0123456789abcdef";

void nc_decode_hex16(uint16_t v, char *out)
{
    out[0] = '0';
    out[1] = 'x';
    for (int i = 0; i < 4; i++)
        out[2 + i] = nc_hex[(v >> (12 - 4 * i)) & 0xf];
    out[6] = '\0';
}

void nc_decode_mac_text(const uint8_t *m, char *out)
{
    for (int i = 0; i < 6; i++) {
        out[3 * i] = nc_hex[m[i] >> 4];
        out[3 * i + 1] = nc_hex[m[i] & 0xf];
        out[3 * i + 2] = i < 5 ? ':' : '\0';
    }
}

void nc_decode_ip_text(int ver, const uint8_t *addr, char *out)
{
    if (ver == 6) {
        if (inet_ntop(AF_INET6, addr, out, NC_ADDR_TEXT) == NULL)
            out[0] = '\0';
        return;
    }
    /* IPv4 by hand: inet_ntop goes through printf machinery. */
    size_t n = 0;
    for (int i = 0; i < 4; i++) {
        unsigned v = addr[i];
        if (v >= 100)
            out[n++] = (char)('0' + v / 100);
        if (v >= 10)
            out[n++] = (char)('0' + v / 10 % 10);
        out[n++] = (char)('0' + v % 10);
        out[n++] = i < 3 ? '.' : '\0';
    }
}

int nc_decode_ethertype(nc_dctx_t *x, uint16_t type, nc_cursor_t *c)
{
    for (size_t i = 0; i < sizeof(nc_ethertype_table) / sizeof(nc_ethertype_table[0]); i++)
        if (nc_ethertype_table[i].type == type)
            return nc_ethertype_table[i].proto->decode(x, c);
    nc_decode_summary(x, "EtherType 0x%04x, %u bytes", type, x->wirelen);
    return 0;
}

int nc_decode_ipproto(nc_dctx_t *x, uint8_t proto, nc_cursor_t *c)
{
    if (x->later_fragment) {
        nc_decode_summary(x, "IP fragment");
        return 0;
    }
    for (size_t i = 0; i < sizeof(nc_ipproto_table) / sizeof(nc_ipproto_table[0]); i++) {
        if (nc_ipproto_table[i].proto != proto)
            continue;
        if (proto == 4 || proto == 41) {
            if (x->depth >= NC_DECODE_MAX_DEPTH)
                return nc_decode_fail(x, NC_EBADDATA, "ip: tunnels nested too deep");
            x->depth++;
        }
        return nc_ipproto_table[i].decoder->decode(x, c);
    }
    return 0; /* the summary falls back to the IP line (nc_decoder_packet) */
}

int nc_decode_app(nc_dctx_t *x, nc_cursor_t *c)
{
    if (nc_cur_left(c) == 0)
        return 0;
    for (size_t i = 0; i < sizeof(nc_app_table) / sizeof(nc_app_table[0]); i++)
        if (nc_app_table[i]->match(x, c))
            return nc_app_table[i]->proto->decode(x, c);
    return 0;
}

static nc_flow_key_t nc_decode_flow_key(const nc_dctx_t *x, uint8_t l4)
{
    nc_flow_key_t key;
    memset(&key, 0, sizeof(key));
    key.ipver = (uint8_t)x->ipver;
    key.l4 = l4;
    memcpy(key.saddr, x->saddr, 16);
    memcpy(key.daddr, x->daddr, 16);
    key.sport = x->sport;
    key.dport = x->dport;
    return key;
}

nc_flow_t *nc_decode_flow(nc_dctx_t *x, uint8_t l4, int *dir)
{
    nc_flow_key_t key = nc_decode_flow_key(x, l4);
    return nc_flow_get(x->d->flows, &key, dir);
}

nc_flow_t *nc_decode_flow_find(const nc_dctx_t *x, uint8_t l4)
{
    nc_flow_key_t key = nc_decode_flow_key(x, l4);
    return nc_flow_find(x->d->flows, &key);
}

bool nc_decoder_supports(int linktype)
{
    for (size_t i = 0; i < sizeof(nc_link_table) / sizeof(nc_link_table[0]); i++)
        if (nc_link_table[i].linktype == linktype)
            return true;
    return false;
}

static void nc_decode_patch(nc_evb_t *b, uint32_t idx, const char *s)
{
    b->fields[idx].v.s = nc_arena_strdup(&b->arena, s);
}

/* What a layer below `first` would have left in the walk's state, for
 * nc_decoder_layer(): which kind of context a layer needs. */
typedef enum { NC_CTX_NONE, NC_CTX_IP4, NC_CTX_IP6, NC_CTX_UDP, NC_CTX_TCP } nc_ctx_kind_t;

static void nc_decode_fake_lower(nc_dctx_t *x, nc_ctx_kind_t kind, uint8_t ip_proto,
                                 uint16_t dport, uint32_t len)
{
    if (kind == NC_CTX_NONE)
        return;
    x->ipver = kind == NC_CTX_IP6 ? 6 : 4;
    x->saddr[x->ipver == 6 ? 15 : 3] = 1;
    x->daddr[x->ipver == 6 ? 15 : 3] = 2;
    if (x->ipver == 4) {
        x->saddr[0] = x->daddr[0] = 10;
    } else {
        x->saddr[0] = x->daddr[0] = 0xfd;
    }
    nc_decode_ip_text(x->ipver, x->saddr, x->src);
    nc_decode_ip_text(x->ipver, x->daddr, x->dst);
    x->ttl = 64;
    x->ip_proto = ip_proto;
    x->ip_done = true;
    x->l4_len = len;
    if (kind == NC_CTX_UDP || kind == NC_CTX_TCP) {
        x->l4 = kind == NC_CTX_TCP ? 6 : 17;
        x->sport = 40000;
        x->dport = dport;
        x->l7_len = len;
    }
}

/* The walk shared by whole frames and single layers: the event's fixed
 * fields, then `first` on the bytes, then summary, error and names. */
static int nc_decode_walk(nc_decoder_t *d, const nc_proto_t *first, int linktype,
                          const uint8_t *data, uint32_t caplen, uint32_t wirelen, nc_evb_t *b,
                          nc_ctx_kind_t ctx, uint8_t ip_proto, uint16_t dport)
{
    nc_dctx_t x;
    memset(&x, 0, sizeof(x));
    x.d = d;
    x.b = b;
    x.frame = data;
    x.caplen = data ? caplen : 0;
    x.wirelen = wirelen < x.caplen ? x.caplen : wirelen;
    x.proto = "unknown";
    nc_decode_fake_lower(&x, ctx, ip_proto, dport, x.caplen);

    nc_evb_data(b, data, x.caplen, x.wirelen, linktype);
    uint32_t from_idx = b->nfields;
    nc_evb_str(b, "from", "");
    uint32_t to_idx = b->nfields;
    nc_evb_str(b, "to", "");
    uint32_t proto_idx = b->nfields;
    nc_evb_str(b, "proto", "");
    nc_evb_int(b, "len", x.wirelen);

    nc_cursor_t c = nc_cur_make(data, x.caplen);
    int rc;
    if (first == NULL) {
        rc = nc_decode_fail(&x, NC_EUNSUPP, "link type %d is not supported", linktype);
    } else {
        rc = first->decode(&x, &c);
        if (x.layer_open)
            nc_decode_close(&x, &c);
    }
    if (rc == 0)
        rc = x.status;
    if (x.csum_bad || x.csum_partial || x.csum_zero6) {
        nc_evb_obj(b, "_csum");
        if (x.csum_bad)
            nc_evb_str(b, "bad", x.csum_bad);
        if (x.csum_partial)
            nc_evb_str(b, "partial_first", x.csum_partial);
        if (x.csum_zero6)
            nc_evb_bool(b, "zero6", true);
        nc_evb_end(b);
    }
    if (x.summary[0] == '\0' && x.ip_done)
        nc_decode_summary(&x, "IP%s %s > %s proto %u", x.ipver == 6 ? "v6" : "", x.src, x.dst,
                          x.ip_proto);
    if (x.status != 0) {
        nc_evb_str(b, "error", x.err);
        if (x.summary[0])
            nc_evb_summary(b, "%s [%s]", x.summary, x.err);
        else
            nc_evb_summary(b, "%s", x.err);
    } else {
        /* The builder's summary is a plain arena string: copy it directly. */
        b->ev.summary = nc_arena_strdup(&b->arena, x.summary[0] ? x.summary : "frame");
    }
    const char *from = x.src[0] ? nc_decoder_lookup(d, x.src) : "";
    const char *to = x.dst[0] ? nc_decoder_lookup(d, x.dst) : "";
    nc_decode_patch(b, from_idx, from);
    nc_decode_patch(b, to_idx, to);
    nc_decode_patch(b, proto_idx, x.proto);
    nc_evb_host(b, from);
    return rc;
}

int nc_decoder_packet(nc_decoder_t *d, int linktype, const uint8_t *data, uint32_t caplen,
                      uint32_t wirelen, nc_evb_t *b)
{
    const nc_proto_t *link = NULL;
    for (size_t i = 0; i < sizeof(nc_link_table) / sizeof(nc_link_table[0]); i++)
        if (nc_link_table[i].linktype == linktype)
            link = nc_link_table[i].proto;
    return nc_decode_walk(d, link, linktype, data, caplen, wirelen, b, NC_CTX_NONE, 0, 0);
}

int nc_decoder_finish(nc_decoder_t *d, int64_t t_ns, nc_evb_t *b)
{
    nc_flow_t *f;
    while ((f = nc_flow_at(d->flows, d->finish_at++)) != NULL) {
        if (!f->used || f->stream == NULL)
            continue;
        if (d->sout == NULL)
            d->sout = nc_xmalloc(sizeof(*d->sout));
        nc_stream_out_t *out = d->sout;
        out->nmsgs = out->dropped = out->ngaps = 0;
        out->gap_reverse = false;
        out->pkt_rel = out->pkt_len = out->pkt_off = 0;
        nc_stream_finish(f->stream, out);
        if (out->nmsgs == 0 && out->ngaps == 0)
            continue;
        /* The canonical key: version, protocol, the first endpoint's
         * address (the sender of direction 0), the second's. */
        int dir = out->nmsgs ? out->msgs[0].dir : 0;
        out->pkt_dir = (uint8_t)dir;
        nc_dctx_t x;
        memset(&x, 0, sizeof(x));
        x.d = d;
        x.b = b;
        x.proto = "unknown";
        nc_decode_ip_text(f->key[0], f->key + (dir ? 18 : 2), x.src);
        nc_decode_ip_text(f->key[0], f->key + (dir ? 2 : 18), x.dst);
        const char *from = nc_decoder_lookup(d, x.src), *to = nc_decoder_lookup(d, x.dst);
        nc_evb_reset(b, NC_EV_NOTE, t_ns);
        nc_evb_host(b, from);
        nc_evb_str(b, "from", from);
        nc_evb_str(b, "to", to);
        nc__stream_write(&x, out);
        nc_evb_str(b, "proto", x.proto);
        nc_evb_summary(b, "End of capture: %s", x.summary);
        nc_evb_note(b, "The capture ends here, with this connection still open: what the "
                       "stream held is reported now, as if the connection had closed.");
        return 1;
    }
    return 0;
}

/* Every decoder by the name of its file, with the context its lower layers
 * would give it. */
static const struct {
    const char *name;
    const nc_proto_t *proto;
    nc_ctx_kind_t ctx;
    uint8_t ip_proto;
    uint16_t dport;
} nc_layer_table[] = {
    {"eth", &nc_eth_proto, NC_CTX_NONE, 0, 0},
    {"sll", &nc_sll_proto, NC_CTX_NONE, 0, 0},
    {"sll2", &nc_sll2_proto, NC_CTX_NONE, 0, 0},
    {"raw", &nc_raw_proto, NC_CTX_NONE, 0, 0},
    {"null", &nc_null_proto, NC_CTX_NONE, 0, 0},
    {"ipv4", &nc_ipv4_proto, NC_CTX_NONE, 0, 0},
    {"ipv6", &nc_ipv6_proto, NC_CTX_NONE, 0, 0},
    {"arp", &nc_arp_proto, NC_CTX_NONE, 0, 0},
    {"icmp", &nc_icmp_proto, NC_CTX_IP4, 1, 0},
    {"icmpv6", &nc_icmpv6_proto, NC_CTX_IP6, 58, 0},
    {"udp", &nc_udp_proto, NC_CTX_IP4, 17, 0},
    {"tcp", &nc_tcp_proto, NC_CTX_IP4, 6, 0},
    {"dns", &nc_dns_proto, NC_CTX_UDP, 17, 53},
    {"http1", &nc_http1_proto, NC_CTX_TCP, 6, 80},
    {"websocket", &nc_websocket_proto, NC_CTX_TCP, 6, 80},
    {"sse", &nc_sse_proto, NC_CTX_TCP, 6, 80},
    {"tls", &nc_tls_proto, NC_CTX_TCP, 6, 443},
    {"stun", &nc_stun_proto, NC_CTX_UDP, 17, 3478},
    {"http2", &nc_http2_proto, NC_CTX_TCP, 6, 80},
    {"grpc", &nc_grpc_proto, NC_CTX_TCP, 6, 80},
    {"protobuf", &nc_protobuf_proto, NC_CTX_TCP, 6, 80},
    {"quic", &nc_quic_proto, NC_CTX_UDP, 17, 443},
    {"http3", &nc_http3_proto, NC_CTX_UDP, 17, 443},
};

const nc_proto_t *nc__decode_proto(size_t i)
{
    return i < sizeof(nc_layer_table) / sizeof(nc_layer_table[0]) ? nc_layer_table[i].proto : NULL;
}

int nc_decoder_layer(nc_decoder_t *d, const char *name, const uint8_t *data, uint32_t len,
                     nc_evb_t *b)
{
    for (size_t i = 0; i < sizeof(nc_layer_table) / sizeof(nc_layer_table[0]); i++)
        if (strcmp(nc_layer_table[i].name, name) == 0)
            return nc_decode_walk(d, nc_layer_table[i].proto, -1, data, len, len, b,
                                  nc_layer_table[i].ctx, nc_layer_table[i].ip_proto,
                                  nc_layer_table[i].dport);
    return NC_ENOENT;
}
