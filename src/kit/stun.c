/*
 * stun.c: a STUN server and client (RFC 8489 Binding) on libuv UDP.
 *
 * Data model. An nc_kit_stun_t is one UDP socket of a program, as a server
 * (bound to the host's address and a port, answering every Binding
 * request) or as a client (bound on first use, sending Binding requests
 * one at a time and waiting for the answer). It embeds its uv_udp_t first
 * and a retransmission timer; it is freed once both are closed.
 *
 * Messages: a 20-byte header (type, length, the magic cookie 0x2112A442,
 * a 96-bit transaction id) then attributes (type, length, value padded to
 * 4 bytes). The server's success response carries XOR-MAPPED-ADDRESS (the
 * source address XORed with the cookie, so that a middlebox rewriting
 * addresses in payloads cannot spoil it), MAPPED-ADDRESS (the same, in
 * clear: what RFC 3489 clients read), SOFTWARE and FINGERPRINT (a CRC-32
 * of the message before it, XORed with 0x5354554E). A request holding a
 * comprehension-required attribute the server does not know (below
 * 0x8000) gets a 420 error with UNKNOWN-ATTRIBUTES, as the RFC says. The
 * client retransmits after 500 ms, then 1 s, then gives up after a last
 * wait of 2 s (RFC 8489 6.2.1, with Rc = 3).
 */
#include "kit_impl.h"

#include "../core/xmalloc.h"

#include <arpa/inet.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    STUN_BINDING_REQUEST = 0x0001,
    STUN_BINDING_SUCCESS = 0x0101,
    STUN_BINDING_ERROR = 0x0111,
    ATTR_MAPPED_ADDRESS = 0x0001,
    ATTR_ERROR_CODE = 0x0009,
    ATTR_UNKNOWN_ATTRIBUTES = 0x000A,
    ATTR_XOR_MAPPED_ADDRESS = 0x0020,
    ATTR_SOFTWARE = 0x8022,
    ATTR_FINGERPRINT = 0x8028,
    STUN_TRIES = 3,
    STUN_RTO_MS = 500,
};

static const uint32_t STUN_COOKIE = 0x2112A442u;
static const uint32_t STUN_FP_XOR = 0x5354554Eu;

struct nc_kit_stun {
    uv_udp_t udp; /* must stay first */
    uv_timer_t timer;
    nc_kit_t *k;
    bool server;
    int port;
    int open_handles;
    /* client: the request in flight */
    uint8_t tid[12];
    uint8_t req[20];
    bool waiting;
    int tries;
    struct sockaddr_in to;
    char to_name[64];
    void (*cb)(const char *mapped, void *data);
    void *data;
    const char *say; /* borrowed until the answer */
};

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)get16(p) << 16 | get16(p + 2);
}

/* Appends an attribute to the message in m (used bytes *n, room cap),
 * padded to 4 bytes, and updates the header's length. */
static void attr_put(uint8_t *m, size_t *n, size_t cap, uint16_t type, const void *v, size_t len)
{
    size_t padded = (len + 3) & ~(size_t)3;
    if (*n + 4 + padded > cap)
        return;
    put16(m + *n, type);
    put16(m + *n + 2, (uint16_t)len);
    memcpy(m + *n + 4, v, len);
    memset(m + *n + 4 + len, 0, padded - len);
    *n += 4 + padded;
    put16(m + 2, (uint16_t)(*n - 20));
}

/* An address attribute's value: family IPv4, the port and address, XORed
 * with the cookie when xor is set. */
static void addr_value(uint8_t v[8], const struct sockaddr_in *a, bool xor)
{
    uint16_t port = ntohs(a->sin_port);
    uint32_t addr = ntohl(a->sin_addr.s_addr);
    if (xor) {
        port ^= (uint16_t)(STUN_COOKIE >> 16);
        addr ^= STUN_COOKIE;
    }
    v[0] = 0;
    v[1] = 0x01;
    put16(v + 2, port);
    put32(v + 4, addr);
}

static void fingerprint(uint8_t *m, size_t *n, size_t cap)
{
    /* The length in the header already counts the FINGERPRINT. */
    if (*n + 8 > cap)
        return;
    put16(m + 2, (uint16_t)(*n + 8 - 20));
    uint8_t v[4];
    put32(v, nc__stun_crc32(m, *n) ^ STUN_FP_XOR);
    attr_put(m, n, cap, ATTR_FINGERPRINT, v, 4);
}

/* Checks a message's header: at least 20 bytes, the top two bits zero,
 * the cookie, a length that fits. */
static bool stun_header_ok(const uint8_t *m, size_t n)
{
    return n >= 20 && (m[0] & 0xc0) == 0 && get32(m + 4) == STUN_COOKIE &&
           (size_t)get16(m + 2) + 20 <= n && (get16(m + 2) & 3) == 0;
}

static void endpoint_text(const struct sockaddr_in *a, char *out, size_t outlen)
{
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
    snprintf(out, outlen, "%s:%u", ip, ntohs(a->sin_port));
}

static void stun_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    nc_scn_alloc(h, suggested, buf);
}

static void stun_freed(uv_handle_t *h)
{
    nc_kit_stun_t *s = h->data;
    if (--s->open_handles == 0)
        free(s);
}

static void stun_sent(uv_udp_send_t *req, int status)
{
    free(req);
}

static void stun_send(nc_kit_stun_t *s, const uint8_t *m, size_t n, const struct sockaddr_in *to)
{
    uv_udp_send_t *req = nc_xmalloc(sizeof *req + n);
    uint8_t *copy = (uint8_t *)(req + 1);
    memcpy(copy, m, n);
    uv_buf_t b = uv_buf_init((char *)copy, (unsigned)n);
    nc_scn_call_begin("sendto");
    if (uv_udp_send(req, &s->udp, &b, 1, (const struct sockaddr *)to, stun_sent) != 0)
        free(req);
}

/* ---- server ---- */

static void serve_request(nc_kit_stun_t *s, const uint8_t *m, size_t n,
                          const struct sockaddr_in *from)
{
    char who[64];
    endpoint_text(from, who, sizeof who);
    uint8_t unknown[32];
    size_t nunknown = 0;
    size_t len = 20 + (size_t)get16(m + 2);
    for (size_t off = 20; off + 4 <= len;) {
        uint16_t type = get16(m + off), alen = get16(m + off + 2);
        if (type < 0x8000 && nunknown + 2 <= sizeof unknown) {
            put16(unknown + nunknown, type);
            nunknown += 2;
        }
        off += 4 + (((size_t)alen + 3) & ~(size_t)3);
    }
    uint8_t r[256];
    size_t rn = 20;
    memcpy(r + 4, m + 4, 16); /* cookie and transaction id */
    nc_kit_report(s->k, NULL, "recvfrom",
                  (nc_scn_kv_t[]){NC_KV_S("from", who), NC_KV_I("port", s->port)}, 2, NULL,
                  "recvfrom(): a STUN Binding request from %s", who);
    if (nunknown) {
        put16(r, STUN_BINDING_ERROR);
        uint8_t ec[24] = {0, 0, 4, 20};
        memcpy(ec + 4, "Unknown Attribute", 17);
        attr_put(r, &rn, sizeof r, ATTR_ERROR_CODE, ec, 21);
        attr_put(r, &rn, sizeof r, ATTR_UNKNOWN_ATTRIBUTES, unknown, nunknown);
    } else {
        put16(r, STUN_BINDING_SUCCESS);
        uint8_t v[8];
        addr_value(v, from, true);
        attr_put(r, &rn, sizeof r, ATTR_XOR_MAPPED_ADDRESS, v, 8);
        addr_value(v, from, false);
        attr_put(r, &rn, sizeof r, ATTR_MAPPED_ADDRESS, v, 8);
    }
    attr_put(r, &rn, sizeof r, ATTR_SOFTWARE, "netcourse", 9);
    fingerprint(r, &rn, sizeof r);
    stun_send(s, r, rn, from);
    if (nunknown)
        nc_kit_report(s->k, NULL, "sendto", (nc_scn_kv_t[]){NC_KV_S("to", who)}, 1, NULL,
                      "sendto(): 420 Unknown Attribute to %s (the request holds an attribute "
                      "it must understand and this server does not)", who);
    else
        nc_kit_report(s->k, NULL, "sendto",
                      (nc_scn_kv_t[]){NC_KV_S("to", who), NC_KV_S("mapped", who)}, 2, NULL,
                      "sendto(): the Binding response tells the client it is seen as %s", who);
}

static void serve_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *addr,
                       unsigned flags)
{
    nc_kit_stun_t *s = h->data;
    if (n <= 0 || !addr || addr->sa_family != AF_INET)
        return;
    const uint8_t *m = (const uint8_t *)buf->base;
    if (!stun_header_ok(m, (size_t)n) || get16(m) != STUN_BINDING_REQUEST)
        return; /* not a Binding request: a server stays silent */
    serve_request(s, m, (size_t)n, (const struct sockaddr_in *)addr);
}

static nc_kit_stun_t *stun_open(nc_kit_t *k, int port, bool server)
{
    nc_kit_stun_t *s = nc_xcalloc(1, sizeof *s);
    s->k = k;
    s->server = server;
    s->port = port;
    uv_udp_init(nc_kit_loop(k), &s->udp);
    uv_timer_init(nc_kit_loop(k), &s->timer);
    s->udp.data = s->timer.data = s;
    s->open_handles = 2;
    struct sockaddr_in a;
    int rc = uv_ip4_addr(nc_scn_addr(nc_kit_scn(k), nc_kit_host(k)), port, &a);
    if (rc == 0)
        rc = uv_udp_bind(&s->udp, (const struct sockaddr *)&a, UV_UDP_REUSEADDR);
    if (rc == 0)
        rc = uv_udp_recv_start(&s->udp, stun_alloc, serve_recv);
    if (rc != 0) {
        nc_scn_fail(nc_kit_scn(k), "%s: cannot bind UDP port %d: %s", nc_kit_host(k), port,
                    uv_strerror(rc));
        nc_kit_stun_close(s);
        return NULL;
    }
    struct sockaddr_in bound;
    int blen = sizeof bound;
    if (uv_udp_getsockname(&s->udp, (struct sockaddr *)&bound, &blen) == 0)
        s->port = ntohs(bound.sin_port);
    return s;
}

nc_kit_stun_t *nc_kit_stun_serve(nc_kit_t *k, int port, const char *say)
{
    nc_kit_stun_t *s = stun_open(k, port, true);
    if (s)
        nc_kit_report(k, NULL, "bind", (nc_scn_kv_t[]){NC_KV_I("port", s->port)}, 1, say,
                      "bind() UDP port %d: the STUN server answers Binding requests here",
                      s->port);
    return s;
}

/* ---- client ---- */

/* The mapped address in a Binding success response (XOR-MAPPED-ADDRESS,
 * else MAPPED-ADDRESS), written to out; false when it holds none. */
static bool response_mapped(const uint8_t *m, size_t n, char *out, size_t outlen)
{
    size_t len = 20 + (size_t)get16(m + 2);
    bool found = false;
    for (size_t off = 20; off + 4 <= len;) {
        uint16_t type = get16(m + off), alen = get16(m + off + 2);
        if (off + 4 + alen > len)
            break;
        const uint8_t *v = m + off + 4;
        bool xor = type == ATTR_XOR_MAPPED_ADDRESS;
        if ((xor || (type == ATTR_MAPPED_ADDRESS && !found)) && alen >= 8 && v[1] == 0x01) {
            uint16_t port = get16(v + 2);
            uint32_t addr = get32(v + 4);
            if (xor) {
                port ^= (uint16_t)(STUN_COOKIE >> 16);
                addr ^= STUN_COOKIE;
            }
            struct in_addr ia = {.s_addr = htonl(addr)};
            char ip[INET_ADDRSTRLEN];
            inet_ntop(AF_INET, &ia, ip, sizeof ip);
            snprintf(out, outlen, "%s:%u", ip, port);
            found = true;
            if (xor)
                break;
        }
        off += 4 + (((size_t)alen + 3) & ~(size_t)3);
    }
    return found;
}

static void bind_done(nc_kit_stun_t *s, const char *mapped)
{
    s->waiting = false;
    uv_timer_stop(&s->timer);
    if (s->cb)
        s->cb(mapped, s->data);
}

static void client_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *addr,
                        unsigned flags)
{
    nc_kit_stun_t *s = h->data;
    if (n <= 0 || !s->waiting)
        return;
    const uint8_t *m = (const uint8_t *)buf->base;
    if (!stun_header_ok(m, (size_t)n) || memcmp(m + 8, s->tid, 12) != 0)
        return;
    char mapped[64] = "";
    if (get16(m) != STUN_BINDING_SUCCESS || !response_mapped(m, (size_t)n, mapped, sizeof mapped)) {
        nc_kit_report(s->k, NULL, "recvfrom", (nc_scn_kv_t[]){NC_KV_S("from", s->to_name)}, 1,
                      NULL, "recvfrom(): %s answered without a mapped address", s->to_name);
        bind_done(s, NULL);
        return;
    }
    char local[64] = "";
    struct sockaddr_in me;
    int mlen = sizeof me;
    if (uv_udp_getsockname(&s->udp, (struct sockaddr *)&me, &mlen) == 0)
        endpoint_text(&me, local, sizeof local);
    bool same = strcmp(local, mapped) == 0;
    nc_kit_report(s->k, NULL, "recvfrom",
                  (nc_scn_kv_t[]){NC_KV_S("from", s->to_name), NC_KV_S("mapped", mapped),
                                  NC_KV_S("local", local), NC_KV_I("port", s->port)},
                  4, s->say,
                  same ? "recvfrom(): %s sees this socket as %s, its own address: no NAT between"
                       : "recvfrom(): %s sees this socket (%s) as %s: a NAT rewrote it on the way",
                  s->to_name, same ? mapped : local, mapped);
    bind_done(s, mapped);
}

static void client_retry(uv_timer_t *t)
{
    nc_kit_stun_t *s = t->data;
    if (!s->waiting)
        return;
    if (++s->tries >= STUN_TRIES) {
        if (s->tries == STUN_TRIES) {
            /* The last try waits twice as long again before giving up. */
            uv_timer_start(&s->timer, client_retry, (uint64_t)STUN_RTO_MS << s->tries, 0);
            stun_send(s, s->req, sizeof s->req, &s->to);
            nc_kit_report(s->k, NULL, "sendto", (nc_scn_kv_t[]){NC_KV_S("to", s->to_name)}, 1,
                          NULL, "sendto(): no answer yet, so the Binding request goes again "
                                "(the last try)");
            return;
        }
        nc_kit_report(s->k, NULL, "stun-timeout", (nc_scn_kv_t[]){NC_KV_S("to", s->to_name)}, 1,
                      NULL, "no Binding response from %s after %d tries: nothing came back",
                      s->to_name, STUN_TRIES);
        bind_done(s, NULL);
        return;
    }
    stun_send(s, s->req, sizeof s->req, &s->to);
    nc_kit_report(s->k, NULL, "sendto", (nc_scn_kv_t[]){NC_KV_S("to", s->to_name)}, 1, NULL,
                  "sendto(): no answer yet, so the Binding request goes again");
    uv_timer_start(&s->timer, client_retry, (uint64_t)STUN_RTO_MS << s->tries, 0);
}

int nc_kit_stun_bind(nc_kit_stun_t **client, nc_kit_t *k, const char *host, int port,
                     int from_port, void (*cb)(const char *mapped, void *data), void *data,
                     const char *say)
{
    nc_kit_stun_t *s = *client;
    if (!s) {
        s = stun_open(k, from_port, false);
        if (!s)
            return -1;
        uv_udp_recv_stop(&s->udp);
        uv_udp_recv_start(&s->udp, stun_alloc, client_recv);
        *client = s;
    }
    const char *addr = nc_scn_addr(nc_kit_scn(k), host);
    if (!addr || uv_ip4_addr(addr, port, &s->to) != 0) {
        nc_scn_fail(nc_kit_scn(k), "%s: stun-bind: no host \"%s\" in this lab", nc_kit_host(k),
                    host);
        return -1;
    }
    snprintf(s->to_name, sizeof s->to_name, "%s:%d", host, port);
    memset(s->req, 0, sizeof s->req);
    put16(s->req, STUN_BINDING_REQUEST);
    put32(s->req + 4, STUN_COOKIE);
    if (RAND_bytes(s->tid, sizeof s->tid) != 1)
        for (size_t i = 0; i < sizeof s->tid; i++)
            s->tid[i] = (uint8_t)rand();
    memcpy(s->req + 8, s->tid, 12);
    s->cb = cb;
    s->data = data;
    s->say = say;
    s->tries = 0;
    s->waiting = true;
    stun_send(s, s->req, sizeof s->req, &s->to);
    nc_kit_report(k, NULL, "sendto",
                  (nc_scn_kv_t[]){NC_KV_S("to", s->to_name), NC_KV_I("port", s->port)}, 2, NULL,
                  "sendto(): a STUN Binding request from port %d to %s: \"what address do you "
                  "see me as?\"",
                  s->port, s->to_name);
    uv_timer_start(&s->timer, client_retry, STUN_RTO_MS, 0);
    return 0;
}

void nc_kit_stun_close(nc_kit_stun_t *s)
{
    if (!s)
        return;
    s->waiting = false;
    if (!uv_is_closing((uv_handle_t *)&s->udp))
        uv_close((uv_handle_t *)&s->udp, stun_freed);
    if (!uv_is_closing((uv_handle_t *)&s->timer))
        uv_close((uv_handle_t *)&s->timer, stun_freed);
}
