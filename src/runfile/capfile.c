/*
 * capfile.c: the pcap and pcapng readers.
 *
 * Data model: the whole file is one borrowed byte range; `pos` is the offset
 * of the next record or block. Multi-byte fields are read through rd16/rd32/
 * rd64, which know the current byte order (`swap`: the file's order is not
 * the machine's) and are only called after the caller checked that the bytes
 * exist. Interfaces are kept in one growing table over all sections; a
 * section's local interface id i is the table entry `base + i`, where base
 * is the table size when the section's header was read.
 *
 * pcapng (draft-ietf-opsawg-pcapng), every block:
 *
 *    0                   1                   2                   3
 *   +---------------------------------------------------------------+
 *   |                          Block Type                           |
 *   |                      Block Total Length                       |
 *   /                          Block Body                           /
 *   |                      Block Total Length                       |
 *   +---------------------------------------------------------------+
 *
 * Classic pcap: a 24-byte header (magic, version, zone, sigfigs, snaplen,
 * link type) and then records of a 16-byte header (seconds, micro- or
 * nanoseconds, captured length, original length) and the bytes.
 */
#include "capfile.h"

#include "../core/error.h"
#include "../core/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    BT_SHB = 0x0A0D0D0A,
    BT_IDB = 1,
    BT_OPB = 2, /* obsolete Packet Block */
    BT_SPB = 3,
    BT_EPB = 6,
    BT_DSB = 0x0000000A, /* Decryption Secrets Block */
    DSB_TLS_KEYLOG = 0x544c534b, /* "TLSK": NSS key log lines */
    BT_CB_COPY = 0x00000BAD,
    BT_CB_NOCOPY = 0x40000BAD,
    BOM = 0x1A2B3C4D,
    OPT_END = 0,
    OPT_COMMENT = 1,
    OPT_IF_NAME = 2,
    OPT_IF_TSRESOL = 9,
    OPT_IF_TSOFFSET = 14,
    /* No captured frame is bigger than this: a larger length is corruption. */
    MAX_FRAME = 256 * 1024 * 1024,
};

typedef struct nc_capfile_iface {
    int linktype;
    uint32_t snaplen;
    bool tsbin;       /* resolution is 2^-tsexp, not 10^-tsexp */
    uint8_t tsexp;
    int64_t tsoffset; /* seconds */
    char *name;
} nc_capfile_iface_t;

struct nc_capfile {
    const uint8_t *p;
    size_t len, pos;
    nc_capfile_format_t format;
    bool swap;
    bool nano;           /* classic pcap with the nanosecond magic */
    nc_capfile_iface_t *ifaces;
    size_t nifaces, cap;
    size_t section_base; /* first interface of the current section */
    uint64_t packets;
    int64_t last_ts;
    /* TLS key logs of Decryption Secrets Blocks met and not yet taken. */
    struct {
        size_t at, len;
    } dsb[16];
    size_t ndsb, dsb_taken;
};

static const struct {
    int linktype;
    const char *name;
} nc_linktype_names[] = {
    {0, "BSD loopback (NULL)"},
    {1, "Ethernet"},
    {12, "raw IP (DLT_RAW)"},
    {14, "raw IP (DLT_RAW, OpenBSD)"},
    {101, "raw IP"},
    {108, "OpenBSD loopback (LOOP)"},
    {113, "Linux cooked (SLL)"},
    {228, "raw IPv4"},
    {229, "raw IPv6"},
    {276, "Linux cooked (SLL2)"},
    {9, "PPP"},
    {104, "Cisco HDLC"},
    {105, "IEEE 802.11"},
    {127, "IEEE 802.11 radiotap"},
    {195, "IEEE 802.15.4"},
    {239, "Linux netfilter log (NFLOG)"},
};

const char *nc_capfile_linktype_name(int linktype)
{
    for (size_t i = 0; i < sizeof nc_linktype_names / sizeof nc_linktype_names[0]; i++)
        if (nc_linktype_names[i].linktype == linktype)
            return nc_linktype_names[i].name;
    return NULL;
}

static uint16_t rd16(const nc_capfile_t *f, size_t off)
{
    const uint8_t *b = f->p + off;
    uint16_t v = (uint16_t)(b[0] | b[1] << 8);
    return f->swap ? (uint16_t)(v >> 8 | v << 8) : v;
}

static uint32_t rd32(const nc_capfile_t *f, size_t off)
{
    const uint8_t *b = f->p + off;
    uint32_t le = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
                  (uint32_t)b[3] << 24;
    uint32_t be = (uint32_t)b[3] | (uint32_t)b[2] << 8 | (uint32_t)b[1] << 16 |
                  (uint32_t)b[0] << 24;
    /* "swap" is relative to little-endian here: files are read as LE unless
     * their magic says otherwise, whatever the machine. */
    return f->swap ? be : le;
}

static uint64_t rd64(const nc_capfile_t *f, size_t off)
{
    /* pcapng 64-bit values are two 32-bit words, high first, in file order. */
    return (uint64_t)rd32(f, off) << 32 | rd32(f, off + 4);
}

static int nc_capfile_fail(nc_capfile_t *f, int code, size_t at, char *err, size_t errlen,
                           const char *why)
{
    if (err && errlen)
        snprintf(err, errlen, "the file %s at byte %zu, in packet %llu: %s",
                 code == NC_ETRUNC ? "breaks off" : "is damaged", at,
                 (unsigned long long)f->packets + 1, why);
    f->pos = f->len; /* nothing more comes out of this reader */
    return code;
}

static nc_capfile_iface_t *nc_capfile_add_iface(nc_capfile_t *f, int linktype, uint32_t snaplen)
{
    if (f->nifaces == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 4;
        f->ifaces = nc_xrealloc(f->ifaces, f->cap * sizeof(*f->ifaces));
    }
    nc_capfile_iface_t *i = &f->ifaces[f->nifaces++];
    memset(i, 0, sizeof *i);
    i->linktype = linktype;
    i->snaplen = snaplen;
    i->tsexp = 6;
    return i;
}

/* Timestamp units of an interface to nanoseconds. */
static int64_t nc_capfile_ts(const nc_capfile_iface_t *i, uint64_t units)
{
    unsigned __int128 ns;
    if (i->tsbin) {
        unsigned e = i->tsexp > 63 ? 63 : i->tsexp;
        ns = ((unsigned __int128)units * 1000000000u) >> e;
    } else if (i->tsexp <= 9) {
        uint64_t mul = 1;
        for (unsigned k = i->tsexp; k < 9; k++)
            mul *= 10;
        ns = (unsigned __int128)units * mul;
    } else {
        unsigned __int128 div = 1;
        for (unsigned k = 9; k < i->tsexp && k < 40; k++)
            div *= 10;
        ns = units / div;
    }
    if (ns > (unsigned __int128)INT64_MAX)
        ns = INT64_MAX;
    return (int64_t)ns + i->tsoffset * 1000000000LL;
}

/* ---- pcapng ---- */

typedef struct nc_opts_walk {
    size_t at, end;
} nc_opts_walk_t;

/* The next option in [at, end): returns false at opt_endofopt or when the
 * options run out or do not fit. */
static bool nc_capfile_opt(const nc_capfile_t *f, nc_opts_walk_t *w, uint16_t *code,
                           size_t *val, uint16_t *vlen)
{
    if (w->at + 4 > w->end)
        return false;
    *code = rd16(f, w->at);
    *vlen = rd16(f, w->at + 2);
    if (*code == OPT_END)
        return false;
    size_t padded = ((size_t)*vlen + 3) & ~(size_t)3;
    if (w->at + 4 + padded > w->end && w->at + 4 + *vlen > w->end)
        return false;
    *val = w->at + 4;
    w->at += 4 + padded;
    return true;
}

static int nc_capfile_shb(nc_capfile_t *f, size_t at, size_t blen)
{
    /* Body: BOM, major, minor, section length (8), options. */
    if (blen < 28)
        return NC_EBADDATA;
    f->section_base = f->nifaces;
    return 0;
}

static void nc_capfile_idb(nc_capfile_t *f, size_t at, size_t blen)
{
    if (blen < 20)
        return;
    nc_capfile_iface_t *i = nc_capfile_add_iface(f, rd16(f, at + 8), rd32(f, at + 12));
    nc_opts_walk_t w = {at + 16, at + blen - 4};
    uint16_t code, vlen;
    size_t val;
    while (nc_capfile_opt(f, &w, &code, &val, &vlen)) {
        if (code == OPT_IF_TSRESOL && vlen >= 1) {
            i->tsbin = (f->p[val] & 0x80) != 0;
            i->tsexp = f->p[val] & 0x7f;
        } else if (code == OPT_IF_TSOFFSET && vlen >= 8) {
            i->tsoffset = (int64_t)rd64(f, val);
            /* Keep the sum of seconds far from overflowing int64 ns. */
            if (i->tsoffset > 4000000000LL || i->tsoffset < -4000000000LL)
                i->tsoffset = 0;
        } else if (code == OPT_IF_NAME && !i->name) {
            i->name = nc_xstrndup((const char *)f->p + val, vlen);
        }
    }
}

/* The first opt_comment among the options in [from, to). */
static void nc_capfile_comment(const nc_capfile_t *f, size_t from, size_t to,
                               nc_capfile_packet_t *out)
{
    nc_opts_walk_t w = {from, to};
    uint16_t code, vlen;
    size_t val;
    while (nc_capfile_opt(f, &w, &code, &val, &vlen)) {
        if (code == OPT_COMMENT) {
            out->comment = (const char *)f->p + val;
            out->comment_len = vlen;
            return;
        }
    }
}

static int nc_capfile_iface_of(nc_capfile_t *f, uint32_t local, nc_capfile_iface_t **out)
{
    size_t g = f->section_base + local;
    if (local >= f->nifaces || g >= f->nifaces)
        return NC_EBADDATA;
    *out = &f->ifaces[g];
    return 0;
}

/* A packet block's captured bytes: clipped to what the block holds. */
static int nc_capfile_bytes(nc_capfile_t *f, size_t data_at, size_t body_end, uint32_t caplen,
                            uint32_t wirelen, nc_capfile_packet_t *out, size_t *next)
{
    if (caplen > MAX_FRAME || data_at + caplen > body_end)
        return NC_EBADDATA;
    out->data = f->p + data_at;
    out->caplen = caplen;
    out->wirelen = wirelen < caplen ? caplen : wirelen;
    *next = data_at + (((size_t)caplen + 3) & ~(size_t)3);
    return 0;
}

static int nc_capfile_next_ng(nc_capfile_t *f, nc_capfile_packet_t *out, char *err,
                              size_t errlen)
{
    for (;;) {
        size_t at = f->pos;
        if (at == f->len)
            return 0;
        if (f->len - at < 12)
            return nc_capfile_fail(f, NC_ETRUNC, at, err, errlen, "a block header is cut short");
        uint32_t type = rd32(f, at);
        if (type == BT_SHB) {
            /* A new section may change the byte order: read its BOM. */
            uint32_t bom_le = (uint32_t)f->p[at + 8] | (uint32_t)f->p[at + 9] << 8 |
                              (uint32_t)f->p[at + 10] << 16 | (uint32_t)f->p[at + 11] << 24;
            if (bom_le == BOM)
                f->swap = false;
            else if (bom_le == 0x4D3C2B1A)
                f->swap = true;
            else
                return nc_capfile_fail(f, NC_EBADDATA, at, err, errlen,
                                       "a section header has no valid byte-order magic");
        }
        uint32_t blen = rd32(f, at + 4);
        if (blen < 12 || blen % 4 != 0)
            return nc_capfile_fail(f, NC_EBADDATA, at, err, errlen,
                                   "a block has an impossible length");
        if (blen > f->len - at)
            return nc_capfile_fail(f, NC_ETRUNC, at, err, errlen,
                                   "the last block is cut short");
        if (rd32(f, at + blen - 4) != blen)
            return nc_capfile_fail(f, NC_EBADDATA, at, err, errlen,
                                   "a block's two lengths disagree");
        f->pos = at + blen;
        size_t body_end = at + blen - 4;
        memset(out, 0, sizeof *out);
        out->offset = at;
        nc_capfile_iface_t *ifc = NULL;
        size_t next = 0;
        switch (type) {
        case BT_SHB:
            if (nc_capfile_shb(f, at, blen) < 0)
                return nc_capfile_fail(f, NC_EBADDATA, at, err, errlen,
                                       "a section header is too short");
            continue;
        case BT_IDB:
            nc_capfile_idb(f, at, blen);
            continue;
        case BT_DSB: {
            /* secrets type, secrets length, the secrets, padding, options */
            size_t slen = blen >= 20 ? rd32(f, at + 12) : 0;
            if (blen >= 20 && rd32(f, at + 8) == DSB_TLS_KEYLOG && slen <= body_end - (at + 16)) {
                if (f->dsb_taken == f->ndsb)
                    f->ndsb = f->dsb_taken = 0;
                if (f->ndsb < sizeof(f->dsb) / sizeof(f->dsb[0])) {
                    f->dsb[f->ndsb].at = at + 16;
                    f->dsb[f->ndsb].len = slen;
                    f->ndsb++;
                }
            }
            continue;
        }
        case BT_EPB:
        case BT_OPB: {
            if (blen < 32)
                return nc_capfile_fail(f, NC_EBADDATA, at, err, errlen,
                                       "a packet block is too short");
            /* The obsolete Packet Block keeps a 16-bit interface id (and a
             * 16-bit drop count) where the Enhanced one has 32 bits. */
            uint32_t ifid = type == BT_EPB ? rd32(f, at + 8) : rd16(f, at + 8);
            if (nc_capfile_iface_of(f, ifid, &ifc) < 0)
                return nc_capfile_fail(f, NC_EBADDATA, at, err, errlen,
                                       "a packet names an interface the file never described");
            uint64_t ts = (uint64_t)rd32(f, at + 12) << 32 | rd32(f, at + 16);
            out->ts_ns = nc_capfile_ts(ifc, ts);
            if (nc_capfile_bytes(f, at + 28, body_end, rd32(f, at + 20), rd32(f, at + 24), out,
                                 &next) < 0)
                return nc_capfile_fail(f, NC_EBADDATA, at, err, errlen,
                                       "a packet claims more bytes than its block holds");
            nc_capfile_comment(f, next, body_end, out);
            break;
        }
        case BT_SPB: {
            if (blen < 16)
                return nc_capfile_fail(f, NC_EBADDATA, at, err, errlen,
                                       "a packet block is too short");
            if (nc_capfile_iface_of(f, 0, &ifc) < 0)
                return nc_capfile_fail(f, NC_EBADDATA, at, err, errlen,
                                       "a packet names an interface the file never described");
            uint32_t wirelen = rd32(f, at + 8);
            size_t room = body_end - (at + 12);
            uint32_t caplen = wirelen;
            if (caplen > room)
                caplen = (uint32_t)room;
            if (ifc->snaplen && caplen > ifc->snaplen)
                caplen = ifc->snaplen;
            out->ts_ns = f->last_ts; /* a simple packet has no time of its own */
            if (nc_capfile_bytes(f, at + 12, body_end, caplen, wirelen, out, &next) < 0)
                return nc_capfile_fail(f, NC_EBADDATA, at, err, errlen,
                                       "a packet claims more bytes than its block holds");
            break;
        }
        default:
            continue; /* name resolution, statistics, custom, unknown: skipped */
        }
        out->iface = (uint32_t)(ifc - f->ifaces);
        out->linktype = ifc->linktype;
        out->number = ++f->packets;
        f->last_ts = out->ts_ns;
        return 1;
    }
}

bool nc_capfile_take_secrets(nc_capfile_t *f, const uint8_t **data, size_t *len)
{
    if (f->dsb_taken == f->ndsb)
        return false;
    *data = f->p + f->dsb[f->dsb_taken].at;
    *len = f->dsb[f->dsb_taken].len;
    f->dsb_taken++;
    return true;
}

/* ---- classic pcap ---- */

static int nc_capfile_next_pcap(nc_capfile_t *f, nc_capfile_packet_t *out, char *err,
                                size_t errlen)
{
    size_t at = f->pos;
    if (at == f->len)
        return 0;
    if (f->len - at < 16)
        return nc_capfile_fail(f, NC_ETRUNC, at, err, errlen, "a record header is cut short");
    uint32_t sec = rd32(f, at), frac = rd32(f, at + 4);
    uint32_t caplen = rd32(f, at + 8), wirelen = rd32(f, at + 12);
    if (caplen > MAX_FRAME)
        return nc_capfile_fail(f, NC_EBADDATA, at, err, errlen,
                               "a record claims an impossible length");
    if (caplen > f->len - at - 16)
        return nc_capfile_fail(f, NC_ETRUNC, at, err, errlen, "the last packet is cut short");
    memset(out, 0, sizeof *out);
    out->offset = at;
    out->ts_ns = (int64_t)sec * 1000000000LL + (int64_t)frac * (f->nano ? 1 : 1000);
    out->data = f->p + at + 16;
    out->caplen = caplen;
    out->wirelen = wirelen < caplen ? caplen : wirelen;
    out->iface = 0;
    out->linktype = f->ifaces[0].linktype;
    out->number = ++f->packets;
    f->pos = at + 16 + caplen;
    f->last_ts = out->ts_ns;
    return 1;
}

/* ---- the reader ---- */

nc_capfile_t *nc_capfile_open(const uint8_t *data, size_t len, char *err, size_t errlen)
{
    if (len < 4) {
        snprintf(err, errlen, "the file is empty or too short to be a capture");
        return NULL;
    }
    nc_capfile_t *f = nc_xcalloc(1, sizeof *f);
    f->p = data;
    f->len = len;
    uint32_t magic = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 |
                     (uint32_t)data[3] << 24;
    if (magic == BT_SHB) {
        f->format = NC_CAPFILE_PCAPNG;
        if (len < 12) {
            snprintf(err, errlen, "the file breaks off inside its first header");
            nc_capfile_close(f);
            return NULL;
        }
        return f; /* blocks are read on demand; the first is the SHB */
    }
    static const struct {
        uint32_t magic;
        bool swap, nano;
    } magics[] = {
        {0xA1B2C3D4, false, false}, {0xD4C3B2A1, true, false},
        {0xA1B23C4D, false, true},  {0x4D3CB2A1, true, true},
    };
    for (size_t k = 0; k < sizeof magics / sizeof magics[0]; k++) {
        if (magic != magics[k].magic)
            continue;
        f->format = NC_CAPFILE_PCAP;
        f->swap = magics[k].swap;
        f->nano = magics[k].nano;
        if (len < 24) {
            snprintf(err, errlen, "the file breaks off inside its pcap header");
            nc_capfile_close(f);
            return NULL;
        }
        /* The top bits of the link type field carry FCS information. */
        nc_capfile_add_iface(f, (int)(rd32(f, 20) & 0x03FFFFFF), rd32(f, 16));
        f->ifaces[0].tsexp = f->nano ? 9 : 6;
        f->pos = 24;
        return f;
    }
    snprintf(err, errlen, "this is not a pcap or pcapng capture file (it starts with bytes "
                          "%02x %02x %02x %02x)",
             data[0], data[1], data[2], data[3]);
    nc_capfile_close(f);
    return NULL;
}

void nc_capfile_close(nc_capfile_t *f)
{
    if (f == NULL)
        return;
    for (size_t i = 0; i < f->nifaces; i++)
        free(f->ifaces[i].name);
    free(f->ifaces);
    free(f);
}

nc_capfile_format_t nc_capfile_format(const nc_capfile_t *f)
{
    return f->format;
}

int nc_capfile_next(nc_capfile_t *f, nc_capfile_packet_t *out, char *err, size_t errlen)
{
    return f->format == NC_CAPFILE_PCAPNG ? nc_capfile_next_ng(f, out, err, errlen)
                                          : nc_capfile_next_pcap(f, out, err, errlen);
}

void nc_capfile_tell(const nc_capfile_t *f, nc_capfile_mark_t *m)
{
    *m = (nc_capfile_mark_t){.pos = f->pos,
                             .section_base = f->section_base,
                             .nifaces = f->nifaces,
                             .packets = f->packets,
                             .last_ts = f->last_ts,
                             .swap = f->swap};
}

void nc_capfile_seek(nc_capfile_t *f, const nc_capfile_mark_t *m)
{
    nc_capfile_packet_t p;
    char err[8];
    while (f->nifaces < m->nifaces && nc_capfile_next(f, &p, err, sizeof err) == 1)
        continue; /* meeting the interfaces declared before the mark */
    f->pos = m->pos;
    f->section_base = m->section_base;
    f->packets = m->packets;
    f->last_ts = m->last_ts;
    f->swap = m->swap;
}

size_t nc_capfile_iface_count(const nc_capfile_t *f)
{
    return f->nifaces;
}

int nc_capfile_iface_linktype(const nc_capfile_t *f, size_t iface)
{
    return iface < f->nifaces ? f->ifaces[iface].linktype : -1;
}

const char *nc_capfile_iface_name(const nc_capfile_t *f, size_t iface)
{
    return iface < f->nifaces ? f->ifaces[iface].name : NULL;
}

bool nc_capfile_custom_tail(const nc_capfile_t *f, uint32_t pen, const uint8_t **data,
                            size_t *len)
{
    if (f->format != NC_CAPFILE_PCAPNG || f->len < 12 + 12)
        return false;
    /* The last block's length is its last word; try both byte orders. */
    for (int order = 0; order < 2; order++) {
        nc_capfile_t probe = *f;
        probe.swap = order == 1;
        uint32_t blen = rd32(&probe, f->len - 4);
        if (blen < 16 || blen % 4 != 0 || blen > f->len - 12)
            continue;
        size_t at = f->len - blen;
        uint32_t type = rd32(&probe, at);
        if ((type != BT_CB_COPY && type != BT_CB_NOCOPY) || rd32(&probe, at + 4) != blen ||
            rd32(&probe, at + 8) != pen)
            continue;
        *data = f->p + at + 12;
        *len = blen - 16;
        return true;
    }
    return false;
}
