/*
 * stun.c: STUN messages (RFC 8489) and TURN's methods and attributes
 * (RFC 8656), over UDP or TCP.
 *
 *   0                   1                   2                   3
 *   |0 0| message type (14 bits)  |        message length         |
 *   |                 magic cookie 0x2112A442                     |
 *   |            transaction id (96 bits)                         |
 *   attributes: type(2) length(2) value, padded to 4 bytes
 *
 * The type's 14 bits interleave a class (request, indication, success or
 * error response: bits 4 and 8) and a method (Binding, Allocate ...). Data
 * model: two tables, methods and attributes; each attribute row says how
 * its value reads (an address, an address XORed with the cookie, text, a
 * number, an error code, raw bytes, a list of attribute types), and one
 * reader per kind writes it. Field names follow Wireshark's (stun.type,
 * stun.length, stun.cookie, stun.id, stun.att.type, stun.att.ipv4,
 * stun.att.port ...; EVENTS.md): a field that may occur once per attribute
 * is a list in attribute order, as tshark prints it. "mapped" (the address
 * the server saw, from XOR-MAPPED-ADDRESS or else MAPPED-ADDRESS, as
 * "addr:port") and the names ("class_name", "method_name", "attributes")
 * are ours, and so are "peer" and "relayed" (XOR-PEER-ADDRESS and
 * XOR-RELAYED-ADDRESS as "addr:port"), "data_len" (DATA's length) and
 * "att.error_code" (401; Wireshark's stun.att.error is the 1 of it). Over
 * TCP a message is read whole from one segment (a lesson's TURN over TCP
 * sends one per segment). TURN's ChannelData (a channel number 0x4000-
 * 0x7FFF, a length, the data) is decoded on the TURN port, as Wireshark
 * does: "channel" and "length" (stun.channel, stun.length).
 */
#include "proto.h"

#include "../core/error.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#define STUN_COOKIE 0x2112A442u
#define STUN_MAX_ATTRS 32

static const struct {
    uint16_t method;
    const char *name;
} stun_methods[] = {
    {0x001, "Binding"},          {0x003, "Allocate"}, {0x004, "Refresh"},
    {0x006, "Send"},             {0x007, "Data"},     {0x008, "CreatePermission"},
    {0x009, "ChannelBind"},
};

static const char *const stun_classes[] = {"Request", "Indication", "Success Response",
                                           "Error Response"};

typedef enum {
    AK_ADDR,    /* family, port, address */
    AK_XADDR,   /* the same XORed with the cookie (and the id for IPv6) */
    AK_TEXT,    /* UTF-8 text */
    AK_U32,     /* a 32-bit number */
    AK_ERROR,   /* class, number, reason */
    AK_BYTES,   /* shown as hex */
    AK_TYPES,   /* a list of 16-bit attribute types */
    AK_U8FIRST, /* a number in the first byte (REQUESTED-TRANSPORT) */
    AK_U16FIRST, /* a number in the first two bytes (CHANNEL-NUMBER) */
    AK_NONE,    /* no value kept */
} attr_kind_t;

/* Each row: the type, its RFC name, how its value reads, and the field
 * (under "att") it writes, Wireshark's name. */
static const struct {
    uint16_t type;
    const char *name;
    attr_kind_t kind;
    const char *field;
} stun_attrs[] = {
    {0x0001, "MAPPED-ADDRESS", AK_ADDR, NULL},
    {0x0006, "USERNAME", AK_TEXT, "username"},
    {0x0008, "MESSAGE-INTEGRITY", AK_BYTES, "hmac"},
    {0x0009, "ERROR-CODE", AK_ERROR, NULL},
    {0x000A, "UNKNOWN-ATTRIBUTES", AK_TYPES, "unknown_attribute"},
    {0x000C, "CHANNEL-NUMBER", AK_U16FIRST, "channelnum"},
    {0x000D, "LIFETIME", AK_U32, "lifetime"},
    {0x0012, "XOR-PEER-ADDRESS", AK_XADDR, NULL},
    {0x0013, "DATA", AK_NONE, NULL},
    {0x0014, "REALM", AK_TEXT, "realm"},
    {0x0015, "NONCE", AK_TEXT, "nonce"},
    {0x0016, "XOR-RELAYED-ADDRESS", AK_XADDR, NULL},
    {0x0019, "REQUESTED-TRANSPORT", AK_U8FIRST, "transp"},
    {0x001A, "DONT-FRAGMENT", AK_NONE, NULL},
    {0x001C, "MESSAGE-INTEGRITY-SHA256", AK_BYTES, "hmac-sha256"},
    {0x001D, "PASSWORD-ALGORITHM", AK_NONE, NULL},
    {0x001E, "USERHASH", AK_BYTES, "userhash"},
    {0x0020, "XOR-MAPPED-ADDRESS", AK_XADDR, NULL},
    {0x0022, "RESERVATION-TOKEN", AK_BYTES, "token"},
    {0x0024, "PRIORITY", AK_U32, "priority"},
    {0x0025, "USE-CANDIDATE", AK_NONE, NULL},
    {0x8022, "SOFTWARE", AK_TEXT, "software"},
    {0x8023, "ALTERNATE-SERVER", AK_ADDR, NULL},
    {0x8028, "FINGERPRINT", AK_U32, "crc32"},
    {0x8029, "ICE-CONTROLLED", AK_BYTES, "tie-breaker"},
    {0x802A, "ICE-CONTROLLING", AK_BYTES, "tie-breaker"},
};

static const char *method_name(uint16_t m, char *tmp, size_t n)
{
    for (size_t i = 0; i < sizeof stun_methods / sizeof stun_methods[0]; i++)
        if (stun_methods[i].method == m)
            return stun_methods[i].name;
    snprintf(tmp, n, "method 0x%03x", m);
    return tmp;
}

static int attr_index(uint16_t type)
{
    for (size_t i = 0; i < sizeof stun_attrs / sizeof stun_attrs[0]; i++)
        if (stun_attrs[i].type == type)
            return (int)i;
    return -1;
}

/* Whether c holds a STUN message: two zero bits, the cookie, a length that
 * is a multiple of 4 and fits. */
static bool stun_looks(const nc_cursor_t *c)
{
    nc_cursor_t r = *c;
    uint16_t type, len;
    uint32_t cookie;
    return nc_cur_u16be(&r, &type) && nc_cur_u16be(&r, &len) && nc_cur_u32be(&r, &cookie) &&
           (type & 0xc000) == 0 && cookie == STUN_COOKIE && (len & 3) == 0 &&
           nc_cur_left(&r) >= 12 + (size_t)len;
}

/* One attribute's values, gathered so that each list is written once. */
typedef struct stun_vals {
    uint16_t types[STUN_MAX_ATTRS];
    char ipv4[STUN_MAX_ATTRS][48];
    int64_t ports[STUN_MAX_ATTRS];
    size_t ntypes, naddrs;
    char mapped[64];
    bool mapped_xor;
    char peer[64], relayed[64]; /* XOR-PEER-ADDRESS, XOR-RELAYED-ADDRESS */
    int64_t data_len;           /* DATA's length, or -1 */
} stun_vals_t;

/* An address attribute's value: IPv4 or IPv6, XORed when xor. */
static bool stun_addr(const nc_cursor_t *v, bool xor, const uint8_t id[12], char *addr,
                      size_t alen, uint16_t *port)
{
    nc_cursor_t r = *v;
    uint8_t zero, fam;
    uint8_t a[16];
    if (!nc_cur_u8(&r, &zero) || !nc_cur_u8(&r, &fam) || !nc_cur_u16be(&r, port))
        return false;
    size_t n = fam == 1 ? 4 : fam == 2 ? 16 : 0;
    if (!n || !nc_cur_bytes(&r, a, n))
        return false;
    if (xor) {
        uint8_t key[16] = {0x21, 0x12, 0xA4, 0x42};
        memcpy(key + 4, id, 12);
        *port ^= (uint16_t)(STUN_COOKIE >> 16);
        for (size_t i = 0; i < n; i++)
            a[i] ^= key[i];
    }
    return inet_ntop(n == 4 ? AF_INET : AF_INET6, a, addr, (socklen_t)alen) != NULL;
}

static void stun_hex(nc_evb_t *b, const char *key, nc_cursor_t v)
{
    char hex[2 * 64 + 1];
    size_t n = 0;
    uint8_t ch;
    while (n + 2 < sizeof hex && nc_cur_u8(&v, &ch)) {
        snprintf(hex + n, 3, "%02x", ch);
        n += 2;
    }
    hex[n] = '\0';
    nc_evb_str(b, key, hex);
}

static void stun_text(nc_evb_t *b, const char *key, nc_cursor_t v)
{
    char text[256];
    size_t n = 0;
    uint8_t ch;
    while (n + 1 < sizeof text && nc_cur_u8(&v, &ch))
        text[n++] = ch >= 32 && ch != 127 ? (char)ch : '?';
    text[n] = '\0';
    nc_evb_str(b, key, text);
}

/* Writes one attribute's own fields (the address lists wait in vals). */
static int stun_attr(nc_dctx_t *x, uint16_t type, nc_cursor_t v, const uint8_t id[12],
                     stun_vals_t *vals)
{
    int k = attr_index(type);
    if (k < 0)
        return 0;
    nc_evb_t *b = x->b;
    const char *field = stun_attrs[k].field;
    switch (stun_attrs[k].kind) {
    case AK_ADDR:
    case AK_XADDR: {
        bool xor = stun_attrs[k].kind == AK_XADDR;
        uint16_t port;
        char addr[48];
        if (!stun_addr(&v, xor, id, addr, sizeof addr, &port))
            return nc_decode_fail(x, NC_EBADDATA, "stun: %s is malformed", stun_attrs[k].name);
        if (vals->naddrs < STUN_MAX_ATTRS) {
            snprintf(vals->ipv4[vals->naddrs], sizeof vals->ipv4[0], "%s", addr);
            vals->ports[vals->naddrs++] = port;
        }
        char *named = type == 0x0012 ? vals->peer : type == 0x0016 ? vals->relayed : NULL;
        if (named && !named[0])
            snprintf(named, sizeof vals->peer, strchr(addr, ':') ? "[%s]:%u" : "%s:%u", addr,
                     port);
        if (type == 0x0020 || (type == 0x0001 && !vals->mapped_xor)) {
            snprintf(vals->mapped, sizeof vals->mapped, strchr(addr, ':') ? "[%s]:%u" : "%s:%u",
                     addr, port);
            vals->mapped_xor = type == 0x0020;
        }
        return 0;
    }
    case AK_TEXT:
        stun_text(b, field, v);
        return 0;
    case AK_BYTES:
        stun_hex(b, field, v);
        return 0;
    case AK_U32:
    case AK_U8FIRST:
    case AK_U16FIRST: {
        /* A number in the value's first 4, 1 or 2 bytes. */
        size_t width = stun_attrs[k].kind == AK_U32 ? 4 : stun_attrs[k].kind == AK_U8FIRST ? 1 : 2;
        uint8_t raw[4];
        if (!nc_cur_bytes(&v, raw, width))
            return nc_decode_fail(x, NC_ETRUNC, "stun: %s is short", stun_attrs[k].name);
        int64_t n = 0;
        for (size_t i = 0; i < width; i++)
            n = n << 8 | raw[i];
        nc_evb_int(b, field, n);
        return 0;
    }
    case AK_ERROR: {
        uint16_t zero;
        uint8_t cls, num;
        if (!nc_cur_u16be(&v, &zero) || !nc_cur_u8(&v, &cls) || !nc_cur_u8(&v, &num))
            return nc_decode_fail(x, NC_ETRUNC, "stun: ERROR-CODE is short");
        /* Wireshark's stun.att.error is the number within the class (1 of
         * 401); the whole code is ours, error_code. */
        nc_evb_int(b, "error", num);
        nc_evb_int(b, "error_code", (cls & 7) * 100 + num);
        nc_evb_obj(b, "error_tree");
        nc_evb_int(b, "class", cls & 7);
        nc_evb_int(b, "number", num);
        stun_text(b, "reason", v);
        nc_evb_end(b);
        return 0;
    }
    case AK_TYPES: {
        nc_evb_list(b, field);
        uint16_t t;
        while (nc_cur_u16be(&v, &t))
            nc_evb_int(b, NULL, t);
        nc_evb_end(b);
        return 0;
    }
    case AK_NONE:
        return 0;
    }
    return 0;
}

static int stun_message(nc_dctx_t *x, nc_cursor_t *c)
{
    uint16_t type, len;
    uint32_t cookie;
    uint8_t id[12];
    if (!nc_cur_u16be(c, &type) || !nc_cur_u16be(c, &len) || !nc_cur_u32be(c, &cookie) ||
        !nc_cur_bytes(c, id, sizeof id))
        return nc_decode_fail(x, NC_ETRUNC, "stun: header truncated");
    uint16_t method = (uint16_t)((type & 0x000f) | ((type & 0x00e0) >> 1) | ((type & 0x3e00) >> 2));
    unsigned cls = ((type >> 4) & 1) | ((type >> 7) & 2);
    char tmp[24], idtext[3 * 12];
    const char *mname = method_name(method, tmp, sizeof tmp);
    for (size_t i = 0, n = 0; i < 12; i++)
        n += (size_t)snprintf(idtext + n, sizeof idtext - n, i ? ":%02x" : "%02x", id[i]);
    nc_evb_t *b = x->b;
    nc_evb_int(b, "type", type);
    nc_evb_obj(b, "type_tree");
    nc_evb_int(b, "method", method);
    nc_evb_end(b);
    nc_evb_str(b, "class_name", stun_classes[cls]);
    nc_evb_str(b, "method_name", mname);
    nc_evb_int(b, "length", len);
    nc_evb_int(b, "cookie", cookie);
    nc_evb_str(b, "id", idtext);
    nc_cursor_t body;
    if (!nc_cur_sub(c, len, &body))
        return nc_decode_fail(x, NC_ETRUNC, "stun: %u attribute bytes announced, fewer captured",
                              len);
    stun_vals_t vals = {.data_len = -1};
    int64_t error = -1;
    nc_evb_obj(b, "att");
    int rc = 0;
    while (rc == 0 && nc_cur_left(&body) > 0) {
        uint16_t at, alen;
        nc_cursor_t v;
        if (!nc_cur_u16be(&body, &at) || !nc_cur_u16be(&body, &alen) ||
            !nc_cur_sub(&body, alen, &v)) {
            rc = nc_decode_fail(x, NC_ETRUNC, "stun: attribute %zu truncated", vals.ntypes + 1);
            break;
        }
        nc_cur_skip(&body, (4 - (alen & 3)) & 3);
        if (vals.ntypes < STUN_MAX_ATTRS)
            vals.types[vals.ntypes++] = at;
        if (at == 0x0009 && nc_cur_left(&v) >= 4)
            error = (v.ptr[2] & 7) * 100 + v.ptr[3];
        if (at == 0x0013)
            vals.data_len = (int64_t)alen;
        rc = stun_attr(x, at, v, id, &vals);
    }
    if (rc != 0)
        return rc; /* nc_decode_fail closed the layer */
    nc_evb_list(b, "type");
    for (size_t i = 0; i < vals.ntypes; i++)
        nc_evb_int(b, NULL, vals.types[i]);
    nc_evb_end(b);
    if (vals.naddrs) {
        nc_evb_list(b, "ipv4");
        for (size_t i = 0; i < vals.naddrs; i++)
            nc_evb_str(b, NULL, vals.ipv4[i]);
        nc_evb_end(b);
        nc_evb_list(b, "port");
        for (size_t i = 0; i < vals.naddrs; i++)
            nc_evb_int(b, NULL, vals.ports[i]);
        nc_evb_end(b);
    }
    nc_evb_end(b); /* att */
    nc_evb_list(b, "attributes");
    for (size_t i = 0; i < vals.ntypes; i++) {
        int k = attr_index(vals.types[i]);
        if (k >= 0)
            nc_evb_str(b, NULL, stun_attrs[k].name);
        else
            nc_evb_strf(b, NULL, "0x%04x", vals.types[i]);
    }
    nc_evb_end(b);
    if (vals.mapped[0])
        nc_evb_str(b, "mapped", vals.mapped);
    if (vals.peer[0])
        nc_evb_str(b, "peer", vals.peer);
    if (vals.relayed[0])
        nc_evb_str(b, "relayed", vals.relayed);
    if (vals.data_len >= 0)
        nc_evb_int(b, "data_len", vals.data_len);
    if (vals.relayed[0])
        nc_decode_summary(x, "STUN %s %s: XOR-RELAYED-ADDRESS %s", mname, stun_classes[cls],
                          vals.relayed);
    else if (vals.mapped[0])
        nc_decode_summary(x, "STUN %s %s: %s %s", mname, stun_classes[cls],
                          vals.mapped_xor ? "XOR-MAPPED-ADDRESS" : "MAPPED-ADDRESS", vals.mapped);
    else if (vals.peer[0] && vals.data_len >= 0)
        nc_decode_summary(x, "STUN %s %s: %lld bytes, peer %s", mname, stun_classes[cls],
                          (long long)vals.data_len, vals.peer);
    else if (vals.peer[0])
        nc_decode_summary(x, "STUN %s %s: peer %s", mname, stun_classes[cls], vals.peer);
    else if (error >= 0)
        nc_decode_summary(x, "STUN %s %s %lld", mname, stun_classes[cls], (long long)error);
    else
        nc_decode_summary(x, "STUN %s %s", mname, stun_classes[cls]);
    return 0;
}

/* Whether c holds TURN ChannelData: a channel number whose first two bits
 * are 01 (RFC 8656 uses 0x4000-0x4FFF, RFC 5766 allowed up to 0x7FFF, and
 * Wireshark takes both), a length that fits in what follows (12.4). */
static bool channel_looks(const nc_cursor_t *c)
{
    nc_cursor_t r = *c;
    uint16_t ch, len;
    return nc_cur_u16be(&r, &ch) && nc_cur_u16be(&r, &len) && ch >= 0x4000 && ch <= 0x7FFF &&
           nc_cur_left(&r) >= len;
}

/* ChannelData: the channel, the length, then the application's bytes
 * (padded to 4 over UDP); Wireshark's stun.channel and stun.length. */
static int channel_message(nc_dctx_t *x, nc_cursor_t *c)
{
    uint16_t ch, len;
    if (!nc_cur_u16be(c, &ch) || !nc_cur_u16be(c, &len))
        return nc_decode_fail(x, NC_ETRUNC, "stun: ChannelData header truncated");
    nc_evb_int(x->b, "channel", ch);
    nc_evb_int(x->b, "length", len);
    nc_evb_str(x->b, "method_name", "ChannelData");
    nc_decode_summary(x, "TURN ChannelData 0x%04x: %u bytes", ch, len);
    return 0;
}

static int stun_decode(nc_dctx_t *x, nc_cursor_t *c)
{
    nc_decode_open(x, "stun", c);
    int rc = !stun_looks(c) && channel_looks(c) ? channel_message(x, c) : stun_message(x, c);
    if (rc == 0) {
        c->ptr = c->end;
        nc_decode_close(x, c);
    }
    return rc;
}

static bool stun_match(const nc_dctx_t *x, const nc_cursor_t *c)
{
    if (x->l4 != 17 && x->l4 != 6)
        return false;
    bool port = x->sport == 3478 || x->dport == 3478 || x->sport == 3479 || x->dport == 3479;
    /* ChannelData has no cookie to go by: only on a TURN server's port. */
    return (stun_looks(c) && (port || x->l4 == 17)) || (port && x->l4 == 17 && channel_looks(c));
}

/* Every field this layer writes (proto.h). */
static const nc_field_decl_t stun_fields[] = {
    {"type", NC_F_INT},
    {"type_tree", NC_F_OBJ},
    {"type_tree.method", NC_F_INT},
    {"class_name", NC_F_STR},
    {"method_name", NC_F_STR},
    {"length", NC_F_INT},
    {"cookie", NC_F_INT},
    {"id", NC_F_STR},
    {"att", NC_F_OBJ},
    {"att.type", NC_F_LIST},
    {"att.ipv4", NC_F_LIST},
    {"att.port", NC_F_LIST},
    {"att.username", NC_F_STR},
    {"att.hmac", NC_F_STR},
    {"att.hmac-sha256", NC_F_STR},
    {"att.userhash", NC_F_STR},
    {"att.token", NC_F_STR},
    {"att.tie-breaker", NC_F_STR},
    {"att.error", NC_F_INT},
    {"att.error_code", NC_F_INT},
    {"att.error_tree", NC_F_OBJ},
    {"att.error_tree.class", NC_F_INT},
    {"att.error_tree.number", NC_F_INT},
    {"att.error_tree.reason", NC_F_STR},
    {"att.unknown_attribute", NC_F_LIST},
    {"att.channelnum", NC_F_INT},
    {"att.lifetime", NC_F_INT},
    {"att.realm", NC_F_STR},
    {"att.nonce", NC_F_STR},
    {"att.transp", NC_F_INT},
    {"att.priority", NC_F_INT},
    {"att.software", NC_F_STR},
    {"att.crc32", NC_F_INT},
    {"attributes", NC_F_LIST},
    {"mapped", NC_F_STR},
    {"peer", NC_F_STR},
    {"relayed", NC_F_STR},
    {"data_len", NC_F_INT},
    {"channel", NC_F_INT},
    {NULL, 0},
};

const nc_proto_t nc_stun_proto = {"stun", stun_decode, stun_fields};
const nc_app_proto_t nc_stun_app = {&nc_stun_proto, stun_match};
