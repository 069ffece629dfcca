/*
 * dns.c: Domain Name System messages (RFC 1035) over UDP and TCP.
 *
 *   +------+-------+---------+---------+---------+---------+
 *   | id   | flags | qdcount | ancount | nscount | arcount |  (2 bytes each)
 *   +------+-------+---------+---------+---------+---------+
 *   questions: name type(2) class(2)
 *   records:   name type(2) class(2) ttl(4) rdlength(2) rdata
 *
 * Over TCP every message has a 2-byte length prefix. Names are label
 * sequences that may end in a compression pointer to an earlier offset; the
 * reader follows at most 32 pointers, each strictly backwards from where it
 * was read, so a pointer loop ends, and names longer than 255 characters are
 * cut. Fields: id, response, opcode ("QUERY" ...), rcode ("NOERROR",
 * "NXDOMAIN" ...), qname, qtype, questions, answers, and "records": the
 * answer section as text ("a.lab A 10.0.0.2"), at most 16 of them.
 */
#include "proto.h"

#include "../core/error.h"

#include <stdio.h>
#include <string.h>

#define DNS_NAME_MAX 256
#define DNS_MAX_POINTERS 32
#define DNS_MAX_RECORDS 16

static const struct {
    uint16_t type;
    const char *name;
} dns_types[] = {
    {1, "A"},       {2, "NS"},      {5, "CNAME"},  {6, "SOA"},   {12, "PTR"},
    {13, "HINFO"},  {15, "MX"},     {16, "TXT"},   {28, "AAAA"}, {33, "SRV"},
    {35, "NAPTR"},  {41, "OPT"},    {43, "DS"},    {46, "RRSIG"}, {47, "NSEC"},
    {48, "DNSKEY"}, {64, "SVCB"},   {65, "HTTPS"}, {99, "SPF"},  {252, "AXFR"},
    {255, "ANY"},   {256, "URI"},   {257, "CAA"},
};

static const char *const dns_rcodes[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                         "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
                                         "NXRRSET", "NOTAUTH", "NOTZONE"};
static const char *const dns_opcodes[] = {"QUERY", "IQUERY", "STATUS", NULL, "NOTIFY",
                                          "UPDATE"};

static const char *dns_type_name(uint16_t type, char *tmp, size_t n)
{
    for (size_t i = 0; i < sizeof(dns_types) / sizeof(dns_types[0]); i++)
        if (dns_types[i].type == type)
            return dns_types[i].name;
    snprintf(tmp, n, "TYPE%u", type);
    return tmp;
}

/* A DNS message: its bytes, for compression pointers. */
typedef struct dns_msg {
    const uint8_t *base;
    size_t len;
} dns_msg_t;

/*
 * Reads the name at c into out (NUL-terminated, at most DNS_NAME_MAX-1
 * characters, "." for the root) and moves c past it. Returns false when the
 * name runs off the message or its pointers misbehave.
 */
static bool dns_name(const dns_msg_t *m, nc_cursor_t *c, char *out)
{
    size_t n = 0;
    int jumps = 0;
    nc_cursor_t r = *c; /* where we read now */
    bool jumped = false;
    out[0] = '\0';
    for (;;) {
        uint8_t len;
        size_t here = (size_t)(r.ptr - m->base);
        if (!nc_cur_u8(&r, &len))
            return false;
        if (len == 0)
            break;
        if ((len & 0xc0) == 0xc0) {
            uint8_t lo;
            if (!nc_cur_u8(&r, &lo))
                return false;
            size_t target = ((size_t)(len & 0x3f) << 8) | lo;
            if (target >= here || ++jumps > DNS_MAX_POINTERS)
                return false;
            if (!jumped) {
                c->ptr = r.ptr;
                jumped = true;
            }
            r = nc_cur_make(m->base, m->len);
            nc_cur_skip(&r, target);
            continue;
        }
        if (len & 0xc0)
            return false; /* extended label types are obsolete */
        nc_cursor_t label;
        if (!nc_cur_sub(&r, len, &label))
            return false;
        if (n && n < DNS_NAME_MAX - 1)
            out[n++] = '.';
        uint8_t ch;
        while (nc_cur_u8(&label, &ch))
            if (n < DNS_NAME_MAX - 1)
                out[n++] = (ch > 32 && ch < 127) ? (char)ch : '?';
        out[n] = '\0';
    }
    if (!jumped)
        c->ptr = r.ptr;
    if (n == 0) {
        out[0] = '.';
        out[1] = '\0';
    }
    return true;
}

/* Formats one record's data into out; false when it is malformed. */
static bool dns_rdata(const dns_msg_t *m, uint16_t type, nc_cursor_t rd, char *out, size_t n)
{
    uint8_t a[16];
    char name[DNS_NAME_MAX];
    uint16_t pref;
    switch (type) {
    case 1:
        if (!nc_cur_bytes(&rd, a, 4))
            return false;
        nc_decode_ip_text(4, a, out);
        return true;
    case 28:
        if (!nc_cur_bytes(&rd, a, 16))
            return false;
        nc_decode_ip_text(6, a, out);
        return true;
    case 2:
    case 5:
    case 12:
        if (!dns_name(m, &rd, name))
            return false;
        snprintf(out, n, "%s", name);
        return true;
    case 15:
        if (!nc_cur_u16be(&rd, &pref) || !dns_name(m, &rd, name))
            return false;
        snprintf(out, n, "%u %s", pref, name);
        return true;
    case 6: {
        char rname[DNS_NAME_MAX];
        uint32_t serial;
        if (!dns_name(m, &rd, name) || !dns_name(m, &rd, rname) || !nc_cur_u32be(&rd, &serial))
            return false;
        snprintf(out, n, "%s %s %u", name, rname, serial);
        return true;
    }
    case 16: {
        uint8_t len, ch;
        size_t k = 0;
        if (!nc_cur_u8(&rd, &len))
            return false;
        out[k++] = '"';
        while (len-- && nc_cur_u8(&rd, &ch) && k < n - 2)
            out[k++] = (ch >= 32 && ch < 127 && ch != '"') ? (char)ch : '?';
        out[k++] = '"';
        out[k] = '\0';
        return true;
    }
    default:
        snprintf(out, n, "(%zu bytes)", nc_cur_left(&rd));
        return true;
    }
}

/* Decodes the message in c (all of it). */
static int dns_message(nc_dctx_t *x, nc_cursor_t *c)
{
    dns_msg_t m = {c->ptr, nc_cur_left(c)};
    uint16_t id, flags, qd, an, ns, ar;
    size_t avail = nc_cur_left(c);
    if (!nc_cur_u16be(c, &id) || !nc_cur_u16be(c, &flags) || !nc_cur_u16be(c, &qd) ||
        !nc_cur_u16be(c, &an) || !nc_cur_u16be(c, &ns) || !nc_cur_u16be(c, &ar))
        return nc_decode_fail(x, NC_ETRUNC, "dns: header truncated (%zu of 12 bytes)", avail);
    bool response = flags & 0x8000;
    unsigned opcode = (flags >> 11) & 0xf, rcode = flags & 0xf;
    nc_evb_int(x->b, "id", id);
    nc_evb_bool(x->b, "response", response);
    if (opcode < 6 && dns_opcodes[opcode])
        nc_evb_str(x->b, "opcode", dns_opcodes[opcode]);
    else
        nc_evb_int(x->b, "opcode", opcode);
    const char *rname = rcode < sizeof(dns_rcodes) / sizeof(dns_rcodes[0]) ? dns_rcodes[rcode]
                                                                           : NULL;
    if (rname)
        nc_evb_str(x->b, "rcode", rname);
    else
        nc_evb_int(x->b, "rcode", rcode);
    nc_evb_int(x->b, "questions", qd);
    nc_evb_int(x->b, "answers", an);

    char qname[DNS_NAME_MAX] = "", tmp[16];
    const char *qtype = "";
    for (unsigned i = 0; i < qd; i++) {
        char name[DNS_NAME_MAX];
        uint16_t type, klass;
        if (!dns_name(&m, c, name))
            return nc_decode_fail(x, NC_EBADDATA, "dns: bad name in question %u", i + 1);
        if (!nc_cur_u16be(c, &type) || !nc_cur_u16be(c, &klass))
            return nc_decode_fail(x, NC_ETRUNC, "dns: question %u truncated", i + 1);
        if (i == 0) {
            memcpy(qname, name, sizeof(qname));
            qtype = dns_type_name(type, tmp, sizeof(tmp));
            nc_evb_str(x->b, "qname", qname);
            nc_evb_str(x->b, "qtype", qtype);
        }
    }
    if (!response) {
        nc_decode_summary(x, "DNS query %s %s id=0x%04x", qtype, qname, id);
        return 0;
    }

    char first[DNS_NAME_MAX * 4] = "";
    nc_evb_list(x->b, "records");
    int rc = 0;
    for (unsigned i = 0; i < an; i++) {
        char name[DNS_NAME_MAX], data[DNS_NAME_MAX * 2 + 32], tn[16];
        uint16_t type, klass, rdlen;
        uint32_t ttl;
        nc_cursor_t rd;
        if (!dns_name(&m, c, name)) {
            rc = nc_decode_fail(x, NC_EBADDATA, "dns: bad name in answer %u", i + 1);
            break;
        }
        if (!nc_cur_u16be(c, &type) || !nc_cur_u16be(c, &klass) || !nc_cur_u32be(c, &ttl) ||
            !nc_cur_u16be(c, &rdlen) || !nc_cur_sub(c, rdlen, &rd)) {
            rc = nc_decode_fail(x, NC_ETRUNC, "dns: answer %u truncated", i + 1);
            break;
        }
        if (!dns_rdata(&m, type, rd, data, sizeof(data)))
            snprintf(data, sizeof(data), "(malformed)");
        if (i < DNS_MAX_RECORDS)
            nc_evb_strf(x->b, NULL, "%s %s %s", name, dns_type_name(type, tn, sizeof(tn)), data);
        if (i == 0)
            snprintf(first, sizeof(first), "%s %s %s", name, dns_type_name(type, tn, sizeof(tn)),
                     data);
    }
    if (rc == 0)
        nc_evb_end(x->b); /* on failure nc_decode_fail closed it */
    if (an == 0 || first[0] == '\0')
        nc_decode_summary(x, "DNS answer %s %s: %s, no records", qname, qtype,
                          rname ? rname : "error");
    else if (an > 1)
        nc_decode_summary(x, "DNS answer %s (+%u more)", first, an - 1u);
    else
        nc_decode_summary(x, "DNS answer %s", first);
    return rc;
}

static int dns_decode(nc_dctx_t *x, nc_cursor_t *c)
{
    nc_decode_open(x, "dns", c);
    if (x->l4 == 6) {
        uint16_t mlen;
        if (!nc_cur_u16be(c, &mlen))
            return nc_decode_fail(x, NC_ETRUNC, "dns: TCP length prefix truncated");
        nc_cur_limit(c, mlen);
    }
    int rc = dns_message(x, c);
    if (rc == 0)
        c->ptr = c->end;
    nc_decode_close(x, c);
    return rc;
}

static bool dns_match(const nc_dctx_t *x, const nc_cursor_t *c)
{
    if (x->l4 != 6 && x->l4 != 17)
        return false;
    return x->sport == 53 || x->dport == 53 || (x->l4 == 17 && (x->sport == 5353 ||
                                                                  x->dport == 5353));
}

/* Every field this layer writes (proto.h); a name-or-number field is NC_F_STR. */
static const nc_field_decl_t dns_fields[] = {
    {"id", NC_F_INT},
    {"response", NC_F_BOOL},
    {"opcode", NC_F_STR},
    {"rcode", NC_F_STR},
    {"qname", NC_F_STR},
    {"qtype", NC_F_STR},
    {"questions", NC_F_INT},
    {"answers", NC_F_INT},
    {"records", NC_F_LIST},
    {NULL, 0},
};

const nc_proto_t nc_dns_proto = {"dns", dns_decode, dns_fields};
const nc_app_proto_t nc_dns_app = {&nc_dns_proto, dns_match};
