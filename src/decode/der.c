/*
 * der.c: just enough DER (X.690) to name an X.509 certificate (RFC 5280).
 *
 *   Certificate  ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signature }
 *   TBSCertificate ::= SEQUENCE {
 *       [0] version OPTIONAL, serialNumber INTEGER, signature AlgorithmIdentifier,
 *       issuer Name, validity SEQUENCE { notBefore Time, notAfter Time },
 *       subject Name, ... }
 *   Name ::= SEQUENCE OF SET OF SEQUENCE { type OID, value ANY }
 *
 * The TLS decoder hands a certificate's bytes here to show who it names and
 * when it is valid; nothing is verified (the decoders link no crypto). Each
 * TLV is read through the checked cursor, so a hostile certificate can only
 * make a read fail, and then the fields it would have filled stay empty.
 * Names are written as "CN=...,O=..." for the attribute types people know,
 * times as "YYYY-MM-DD HH:MM:SS" (UTC).
 */
#include "der.h"

#include <stdio.h>
#include <string.h>

/* Reads one TLV: its tag, and its value as a cursor of its own. Only
 * single-byte tags and definite lengths up to 4 bytes, as DER has them. */
static bool der_tlv(nc_cursor_t *c, uint8_t *tag, nc_cursor_t *val)
{
    uint8_t b, l;
    if (!nc_cur_u8(c, tag) || !nc_cur_u8(c, &l))
        return false;
    size_t len = l;
    if (l & 0x80) {
        int k = l & 0x7f;
        if (k == 0 || k > 4)
            return false;
        len = 0;
        for (int i = 0; i < k; i++) {
            if (!nc_cur_u8(c, &b))
                return false;
            len = len << 8 | b;
        }
    }
    return nc_cur_sub(c, len, val);
}

/* Attribute types by the last byte of their OID 2.5.4.x. */
static const struct {
    uint8_t id;
    const char *name;
} der_attrs[] = {
    {3, "CN"}, {6, "C"}, {7, "L"}, {8, "ST"}, {10, "O"}, {11, "OU"},
};

static const char *der_attr_name(nc_cursor_t oid)
{
    static const uint8_t prefix[] = {0x55, 0x04};
    if (nc_cur_left(&oid) != 3 || memcmp(oid.ptr, prefix, 2) != 0)
        return NULL;
    for (size_t i = 0; i < sizeof(der_attrs) / sizeof(der_attrs[0]); i++)
        if (der_attrs[i].id == oid.ptr[2])
            return der_attrs[i].name;
    return NULL;
}

/* Appends s (n bytes, printable ASCII only) to out at *pos. */
static void der_append(char *out, size_t outlen, size_t *pos, const char *s, size_t n)
{
    for (size_t i = 0; i < n && *pos + 1 < outlen; i++) {
        unsigned char ch = (unsigned char)s[i];
        out[(*pos)++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    out[*pos] = '\0';
}

static void der_name(nc_cursor_t name, char *out, size_t outlen)
{
    size_t pos = 0;
    out[0] = '\0';
    uint8_t tag;
    nc_cursor_t set, atv, oid, val;
    while (der_tlv(&name, &tag, &set)) {
        while (der_tlv(&set, &tag, &atv)) {
            if (!der_tlv(&atv, &tag, &oid) || tag != 0x06 || !der_tlv(&atv, &tag, &val))
                return;
            const char *an = der_attr_name(oid);
            if (an == NULL)
                continue;
            if (pos)
                der_append(out, outlen, &pos, ",", 1);
            der_append(out, outlen, &pos, an, strlen(an));
            der_append(out, outlen, &pos, "=", 1);
            der_append(out, outlen, &pos, (const char *)val.ptr, nc_cur_left(&val));
        }
    }
}

/* UTCTime (tag 0x17, YYMMDDHHMMSSZ) or GeneralizedTime (0x18, YYYY...). */
static void der_time(uint8_t tag, nc_cursor_t v, char *out, size_t outlen)
{
    size_t n = nc_cur_left(&v);
    const char *s = (const char *)v.ptr;
    char y[5];
    if (tag == 0x17 && n >= 12) {
        snprintf(y, sizeof y, "%s%.2s", (s[0] >= '5') ? "19" : "20", s);
        s += 2;
    } else if (tag == 0x18 && n >= 14) {
        snprintf(y, sizeof y, "%.4s", s);
        s += 4;
    } else {
        out[0] = '\0';
        return;
    }
    for (int i = 0; i < 10; i++)
        if (s[i] < '0' || s[i] > '9') {
            out[0] = '\0';
            return;
        }
    snprintf(out, outlen, "%s-%.2s-%.2s %.2s:%.2s:%.2s", y, s, s + 2, s + 4, s + 6, s + 8);
}

bool nc__der_cert(const uint8_t *p, size_t n, nc_der_cert_t *out)
{
    memset(out, 0, sizeof(*out));
    nc_cursor_t c = nc_cur_make(p, n), cert, tbs, skip, validity, tv;
    uint8_t tag;
    if (!der_tlv(&c, &tag, &cert) || tag != 0x30 || !der_tlv(&cert, &tag, &tbs) || tag != 0x30)
        return false;
    if (!der_tlv(&tbs, &tag, &skip))
        return false;
    if (tag == 0xa0 && !der_tlv(&tbs, &tag, &skip)) /* the version, then the serial */
        return false;
    nc_cursor_t issuer, subject;
    if (!der_tlv(&tbs, &tag, &skip) || !der_tlv(&tbs, &tag, &issuer) ||
        !der_tlv(&tbs, &tag, &validity) || !der_tlv(&tbs, &tag, &subject))
        return false;
    der_name(issuer, out->issuer, sizeof(out->issuer));
    der_name(subject, out->subject, sizeof(out->subject));
    if (der_tlv(&validity, &tag, &tv))
        der_time(tag, tv, out->not_before, sizeof(out->not_before));
    if (der_tlv(&validity, &tag, &tv))
        der_time(tag, tv, out->not_after, sizeof(out->not_after));
    return true;
}
