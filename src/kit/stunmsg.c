/*
 * stunmsg.c: building and reading STUN messages (RFC 8489), shared by the
 * TURN relay (turn.c) and the ICE agent (ice.c).
 *
 * Data model. A message being built is an nc__stun_buf_t: a fixed array
 * (STUN messages in the lab stay far below one MTU) and the bytes used;
 * every attribute appended updates the header's length, so the buffer is
 * always a whole message. MESSAGE-INTEGRITY (HMAC-SHA1 over the message
 * up to it, with the header's length already counting it, RFC 8489 14.5)
 * and FINGERPRINT (CRC-32 XOR 0x5354554E, 14.7) go last, in that order. A
 * message being read is an nc__stun_msg_t that borrows the datagram: the
 * header's fields and the attribute area, which the finders walk with
 * every length checked against the bytes received.
 */
#include "stunmsg.h"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/md5.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STUN_COOKIE 0x2112A442u

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)get16(p) << 16 | get16(p + 2);
}

void nc__stun_begin(nc__stun_buf_t *b, uint16_t type, const uint8_t tid[12])
{
    memset(b->m, 0, 20);
    put16(b->m, type);
    b->m[4] = 0x21, b->m[5] = 0x12, b->m[6] = 0xA4, b->m[7] = 0x42;
    if (tid)
        memcpy(b->m + 8, tid, 12);
    else if (RAND_bytes(b->m + 8, 12) != 1)
        for (int i = 0; i < 12; i++)
            b->m[8 + i] = (uint8_t)rand();
    b->n = 20;
}

void nc__stun_put(nc__stun_buf_t *b, uint16_t type, const void *v, size_t len)
{
    size_t padded = (len + 3) & ~(size_t)3;
    if (b->n + 4 + padded > sizeof b->m)
        return;
    put16(b->m + b->n, type);
    put16(b->m + b->n + 2, (uint16_t)len);
    if (len)
        memcpy(b->m + b->n + 4, v, len);
    memset(b->m + b->n + 4 + len, 0, padded - len);
    b->n += 4 + padded;
    put16(b->m + 2, (uint16_t)(b->n - 20));
}

void nc__stun_put32(nc__stun_buf_t *b, uint16_t type, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    nc__stun_put(b, type, x, 4);
}

void nc__stun_put_xaddr(nc__stun_buf_t *b, uint16_t type, const struct sockaddr_in *a)
{
    uint8_t v[8];
    uint16_t port = ntohs(a->sin_port) ^ (uint16_t)(STUN_COOKIE >> 16);
    uint32_t addr = ntohl(a->sin_addr.s_addr) ^ STUN_COOKIE;
    v[0] = 0;
    v[1] = 0x01;
    put16(v + 2, port);
    put16(v + 4, (uint16_t)(addr >> 16));
    put16(v + 6, (uint16_t)addr);
    nc__stun_put(b, type, v, 8);
}

void nc__stun_integrity(nc__stun_buf_t *b, const void *key, size_t keylen)
{
    if (b->n + 24 > sizeof b->m)
        return;
    /* The length counts MESSAGE-INTEGRITY before the HMAC is taken. */
    put16(b->m + 2, (uint16_t)(b->n + 24 - 20));
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned maclen = 0;
    HMAC(EVP_sha1(), key, (int)keylen, b->m, b->n, mac, &maclen);
    nc__stun_put(b, NC_STUN_MESSAGE_INTEGRITY, mac, 20);
}

uint32_t nc__stun_crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
    }
    return ~c;
}

void nc__stun_fingerprint(nc__stun_buf_t *b)
{
    if (b->n + 8 > sizeof b->m)
        return;
    put16(b->m + 2, (uint16_t)(b->n + 8 - 20));
    nc__stun_put32(b, NC_STUN_FINGERPRINT, nc__stun_crc32(b->m, b->n) ^ 0x5354554Eu);
}

bool nc__stun_parse(const uint8_t *m, size_t n, nc__stun_msg_t *out)
{
    if (n < 20 || (m[0] & 0xc0) != 0 || get32(m + 4) != STUN_COOKIE)
        return false;
    size_t len = get16(m + 2);
    if ((len & 3) || 20 + len > n)
        return false;
    out->m = m;
    out->n = 20 + len;
    out->type = get16(m);
    memcpy(out->tid, m + 8, 12);
    /* Every attribute must fit: a message whose walk overruns is refused
     * whole, so the finders below never meet a bad length. */
    for (size_t off = 20; off < out->n;) {
        if (off + 4 > out->n)
            return false;
        size_t alen = get16(m + off + 2);
        if (off + 4 + alen > out->n)
            return false;
        off += 4 + ((alen + 3) & ~(size_t)3);
    }
    return true;
}

const uint8_t *nc__stun_find(const nc__stun_msg_t *msg, uint16_t type, size_t *len)
{
    for (size_t off = 20; off + 4 <= msg->n;) {
        uint16_t t = get16(msg->m + off);
        size_t alen = get16(msg->m + off + 2);
        if (t == type) {
            *len = alen;
            return msg->m + off + 4;
        }
        off += 4 + ((alen + 3) & ~(size_t)3);
    }
    return NULL;
}

bool nc__stun_find_xaddr(const nc__stun_msg_t *msg, uint16_t type, struct sockaddr_in *out)
{
    size_t len;
    const uint8_t *v = nc__stun_find(msg, type, &len);
    if (!v || len < 8 || v[1] != 0x01)
        return false;
    memset(out, 0, sizeof *out);
    out->sin_family = AF_INET;
    out->sin_port = htons(get16(v + 2) ^ (uint16_t)(STUN_COOKIE >> 16));
    out->sin_addr.s_addr = htonl(get32(v + 4) ^ STUN_COOKIE);
    return true;
}

bool nc__stun_find_u32(const nc__stun_msg_t *msg, uint16_t type, uint32_t *out)
{
    size_t len;
    const uint8_t *v = nc__stun_find(msg, type, &len);
    if (!v || len < 4)
        return false;
    *out = get32(v);
    return true;
}

bool nc__stun_find_text(const nc__stun_msg_t *msg, uint16_t type, char *out, size_t outlen)
{
    size_t len;
    const uint8_t *v = nc__stun_find(msg, type, &len);
    if (!v || len >= outlen)
        return false;
    memcpy(out, v, len);
    out[len] = '\0';
    return memchr(out, '\0', len) == NULL;
}

bool nc__stun_check_integrity(const nc__stun_msg_t *msg, const void *key, size_t keylen)
{
    /* The HMAC covers the header (its length set to end after the
     * MESSAGE-INTEGRITY) and every attribute before it. */
    for (size_t off = 20; off + 4 <= msg->n;) {
        uint16_t t = get16(msg->m + off);
        size_t alen = get16(msg->m + off + 2);
        if (t == NC_STUN_MESSAGE_INTEGRITY) {
            if (alen != 20 || off + 24 > msg->n)
                return false;
            uint8_t copy[NC_STUN_MAX];
            if (off > sizeof copy)
                return false;
            memcpy(copy, msg->m, off);
            put16(copy + 2, (uint16_t)(off + 24 - 20));
            uint8_t mac[EVP_MAX_MD_SIZE];
            unsigned maclen = 0;
            HMAC(EVP_sha1(), key, (int)keylen, copy, off, mac, &maclen);
            return maclen == 20 && CRYPTO_memcmp(mac, msg->m + off + 4, 20) == 0;
        }
        off += 4 + ((alen + 3) & ~(size_t)3);
    }
    return false;
}

void nc__stun_long_term_key(const char *user, const char *realm, const char *password,
                            uint8_t key[16])
{
    char text[400];
    int n = snprintf(text, sizeof text, "%s:%s:%s", user, realm, password);
    unsigned len = 16;
    EVP_Digest(text, n > 0 && (size_t)n < sizeof text ? (size_t)n : 0, key, &len, EVP_md5(),
               NULL);
}

void nc__stun_addr_text(const struct sockaddr_in *a, char *out, size_t outlen)
{
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
    snprintf(out, outlen, "%s:%u", ip, ntohs(a->sin_port));
}

uint16_t nc__stun_method(uint16_t type)
{
    return (uint16_t)((type & 0x000f) | ((type & 0x00e0) >> 1) | ((type & 0x3e00) >> 2));
}

uint16_t nc__stun_type(uint16_t method, unsigned cls)
{
    return (uint16_t)((method & 0x000f) | ((method & 0x0070) << 1) | ((method & 0x0f80) << 2) |
                      ((cls & 1) << 4) | ((cls & 2) << 7));
}

unsigned nc__stun_class(uint16_t type)
{
    return ((type >> 4) & 1) | ((type >> 7) & 2);
}
