/*
 * udp.c: the UDP lesson's programs.
 *
 * The server host runs three services, each on its own UDP port: a DNS
 * server (53) that knows a few names under .lab, an echo service (7) and a
 * time service (37, the 4-byte RFC 868 answer). The client runs three apps,
 * each with its own socket and so its own source port: an echo client, a
 * time client, and a resolver that asks three names one after another. The
 * lesson's wire drops the resolver's second query; the resolver waits one
 * second, reports the timeout and moves on: nothing resends a datagram.
 */
#include "scenario.h"

#include "../core/words.h"

#include <arpa/inet.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define UDP_TIMEOUT_MS 1000

/* The names the lesson's DNS server knows. */
static const struct {
    const char *name;
    const char *addr;
} udp_zone[] = {
    {"web.lab", "10.0.0.2"},
    {"db.lab", "10.0.0.20"},
    {"cache.lab", "10.0.0.30"},
};

/* What the client does, in order: which app, which service, what it sends. */
typedef enum { UDP_ECHO, UDP_TIME, UDP_DNS } udp_app_t;

static const struct {
    udp_app_t app;
    int port;
    const char *arg; /* echo text, or the name to resolve */
    uint16_t id;     /* DNS query id */
} udp_plan[] = {
    {UDP_ECHO, 7, "hello over UDP", 0},
    {UDP_TIME, 37, "", 0},
    {UDP_DNS, 53, "web.lab", 0x1a01},
    {UDP_DNS, 53, "db.lab", 0x1a02},
    {UDP_DNS, 53, "cache.lab", 0x1a03},
};
#define UDP_STEPS (sizeof(udp_plan) / sizeof(udp_plan[0]))

static const char *const udp_app_names[] = {
    [UDP_ECHO] = "echo app",
    [UDP_TIME] = "time app",
    [UDP_DNS] = "resolver",
};

typedef struct udp_state {
    nc_scn_t *s;
    nc_scn_signal_t ready;
    atomic_int client_done;
    /* server */
    uv_udp_t svc[3];
    uv_timer_t poll;
    /* client: one socket per app */
    uv_udp_t app[3];
    uv_timer_t timeout;
    size_t step;
    struct sockaddr_in server;
} udp_state_t;

typedef struct udp_send {
    uv_udp_send_t req;
    char data[512];
} udp_send_t;

static void udp_sent(uv_udp_send_t *req, int status)
{
    free(req);
}

static void udp_sendto(uv_udp_t *h, const struct sockaddr *to, const void *data, size_t len)
{
    udp_send_t *s = calloc(1, sizeof(*s));
    if (len > sizeof(s->data))
        len = sizeof(s->data);
    memcpy(s->data, data, len);
    uv_buf_t buf = uv_buf_init(s->data, (unsigned)len);
    if (uv_udp_send(&s->req, h, &buf, 1, to, udp_sent) != 0)
        free(s);
}

/* ---- a minimal DNS message codec, enough for one A question ---- */

/* Writes a query for name into out; returns its length. */
static size_t udp_dns_query(uint8_t *out, size_t cap, uint16_t id, const char *name)
{
    size_t n = 0;
    const uint8_t head[12] = {id >> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
    memcpy(out, head, sizeof(head));
    n = sizeof(head);
    const char *p = name;
    while (*p && n + 64 < cap) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        out[n++] = (uint8_t)len;
        memcpy(out + n, p, len);
        n += len;
        p += len + (dot ? 1 : 0);
    }
    out[n++] = 0;
    const uint8_t tail[4] = {0, 1, 0, 1}; /* QTYPE A, QCLASS IN */
    memcpy(out + n, tail, 4);
    return n + 4;
}

/* Reads the question name of a query into name; returns the offset after
 * the question, or 0 when the message is not a query we can answer. */
static size_t udp_dns_question(const uint8_t *q, size_t len, char *name, size_t namecap)
{
    if (len < 12)
        return 0;
    size_t off = 12, out = 0;
    while (off < len && q[off] != 0) {
        size_t l = q[off++];
        if (l > 63 || off + l > len || out + l + 2 > namecap)
            return 0;
        if (out)
            name[out++] = '.';
        memcpy(name + out, q + off, l);
        out += l;
        off += l;
    }
    name[out] = '\0';
    if (off + 5 > len)
        return 0;
    return off + 5;
}

/* ---- server ---- */

static void udp_server_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf,
                            const struct sockaddr *from, unsigned flags)
{
    udp_state_t *st = h->data;
    /* n == 0 with an address is an empty datagram (the time query); with
     * no address it only means the socket has nothing more to read. */
    if (n < 0 || from == NULL)
        return;
    char peer[64];
    nc_scn_peer_name(st->s, from, peer, sizeof(peer));
    if (h == &st->svc[1]) {
        nc_scn_app(st->s, "server", "recvfrom",
                   "echo service: recvfrom() got %zd %s from %s; sending %s back", n,
                   nc_words_plural(n, "byte", "bytes"), peer, nc_words_plural(n, "it", "them"));
        udp_sendto(h, from, buf->base, (size_t)n);
    } else if (h == &st->svc[2]) {
        uint32_t secs = (uint32_t)(time(NULL) + 2208988800u); /* since 1900 */
        uint8_t out[4] = {secs >> 24, secs >> 16, secs >> 8, secs};
        nc_scn_app(st->s, "server", "recvfrom",
                   "time service: recvfrom() got a datagram from %s; answering with 4 bytes",
                   peer);
        udp_sendto(h, from, out, sizeof(out));
    } else {
        const uint8_t *q = (const uint8_t *)buf->base;
        char name[256];
        size_t qend = udp_dns_question(q, (size_t)n, name, sizeof(name));
        if (qend == 0)
            return;
        uint8_t out[512];
        memcpy(out, q, qend);
        out[2] = 0x81; /* response, recursion desired */
        out[3] = 0x80; /* recursion available, NOERROR */
        size_t len = qend;
        const char *addr = NULL;
        for (size_t k = 0; k < sizeof(udp_zone) / sizeof(udp_zone[0]); k++)
            if (strcmp(udp_zone[k].name, name) == 0)
                addr = udp_zone[k].addr;
        if (addr) {
            struct in_addr a;
            inet_pton(AF_INET, addr, &a);
            const uint8_t rr[12] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0x01, 0x2c, 0, 4};
            memcpy(out + len, rr, sizeof(rr));
            memcpy(out + len + sizeof(rr), &a, 4);
            len += sizeof(rr) + 4;
            out[7] = 1; /* ANCOUNT */
        } else {
            out[3] = 0x83; /* NXDOMAIN */
        }
        nc_scn_app(st->s, "server", "recvfrom",
                   "DNS server: query id 0x%02x%02x for %s from %s; answering %s", q[0], q[1],
                   name, peer, addr ? addr : "NXDOMAIN");
        udp_sendto(h, from, out, len);
    }
}

static void udp_server_poll(uv_timer_t *t)
{
    udp_state_t *st = t->data;
    if (!atomic_load(&st->client_done))
        return;
    for (int k = 0; k < 3; k++)
        uv_close((uv_handle_t *)&st->svc[k], NULL);
    uv_close((uv_handle_t *)t, NULL);
}

static void *udp_server(void *arg)
{
    udp_state_t *st = arg;
    uv_loop_t loop;
    uv_loop_init(&loop);
    static const int ports[3] = {53, 7, 37};
    static const char *const what[3] = {"DNS server", "echo service", "time service"};
    for (int k = 0; k < 3; k++) {
        uv_udp_init(&loop, &st->svc[k]);
        st->svc[k].data = st;
        struct sockaddr_in addr;
        uv_ip4_addr(nc_scn_addr(st->s, "server"), ports[k], &addr);
        int rc = uv_udp_bind(&st->svc[k], (const struct sockaddr *)&addr, 0);
        if (rc != 0) {
            nc_scn_fail(st->s, "server: cannot bind UDP port %d: %s", ports[k], uv_strerror(rc));
            atomic_store(&st->client_done, 1);
            continue;
        }
        uv_udp_recv_start(&st->svc[k], nc_scn_alloc, udp_server_recv);
        nc_scn_app(st->s, "server", "bind",
                   "%s: bind() to UDP port %d; datagrams for that port now reach it",
                   what[k], ports[k]);
    }
    uv_timer_init(&loop, &st->poll);
    st->poll.data = st;
    uv_timer_start(&st->poll, udp_server_poll, 20, 20);
    nc_scn_signal_set(&st->ready);
    nc_scn_loop_run(st->s, &loop, "server", 30000);
    uv_loop_close(&loop);
    return NULL;
}

/* ---- client ---- */

static void udp_client_next(udp_state_t *st);

static void udp_client_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf,
                            const struct sockaddr *from, unsigned flags)
{
    udp_state_t *st = h->data;
    if (n < 0 || from == NULL || st->step >= UDP_STEPS)
        return;
    udp_app_t app = udp_plan[st->step].app;
    if (h != &st->app[app])
        return;
    const uint8_t *p = (const uint8_t *)buf->base;
    if (app == UDP_ECHO) {
        nc_scn_app(st->s, "client", "recvfrom", "echo app: recvfrom() got its %zd %s back", n,
                   nc_words_plural(n, "byte", "bytes"));
    } else if (app == UDP_TIME) {
        nc_scn_app(st->s, "client", "recvfrom",
                   "time app: recvfrom() got %zd %s: the server's clock", n,
                   nc_words_plural(n, "byte", "bytes"));
    } else {
        if (n < 12 || ((p[0] << 8) | p[1]) != udp_plan[st->step].id)
            return; /* an answer to an earlier, timed-out query: ignore it */
        nc_scn_app(st->s, "client", "recvfrom",
                   "resolver: recvfrom() got the answer to query 0x%04x for %s", udp_plan[st->step].id,
                   udp_plan[st->step].arg);
    }
    uv_timer_stop(&st->timeout);
    st->step++;
    udp_client_next(st);
}

static void udp_client_timeout(uv_timer_t *t)
{
    udp_state_t *st = t->data;
    nc_scn_app(st->s, "client", "timeout",
               "%s: no answer after %d ms. UDP will not resend the datagram; the app gives up "
               "on it", udp_app_names[udp_plan[st->step].app], UDP_TIMEOUT_MS);
    st->step++;
    udp_client_next(st);
}

static void udp_client_next(udp_state_t *st)
{
    if (st->step >= UDP_STEPS) {
        for (int k = 0; k < 3; k++)
            uv_close((uv_handle_t *)&st->app[k], NULL);
        uv_close((uv_handle_t *)&st->timeout, NULL);
        atomic_store(&st->client_done, 1);
        return;
    }
    udp_app_t app = udp_plan[st->step].app;
    struct sockaddr_in to = st->server;
    to.sin_port = htons((uint16_t)udp_plan[st->step].port);
    uint8_t msg[512];
    size_t len;
    if (app == UDP_DNS) {
        len = udp_dns_query(msg, sizeof(msg), udp_plan[st->step].id, udp_plan[st->step].arg);
        nc_scn_app(st->s, "client", "sendto",
                   "resolver: sendto() a DNS query (id 0x%04x) for %s to server:53",
                   udp_plan[st->step].id, udp_plan[st->step].arg);
    } else {
        len = strlen(udp_plan[st->step].arg);
        memcpy(msg, udp_plan[st->step].arg, len);
        nc_scn_app(st->s, "client", "sendto", "%s: sendto() %zu %s to server:%d",
                   udp_app_names[app], len, nc_words_plural((long long)len, "byte", "bytes"),
                   udp_plan[st->step].port);
    }
    udp_sendto(&st->app[app], (const struct sockaddr *)&to, msg, len);
    uv_timer_start(&st->timeout, udp_client_timeout, UDP_TIMEOUT_MS, 0);
}

static void *udp_client(void *arg)
{
    udp_state_t *st = arg;
    uv_loop_t loop;
    uv_loop_init(&loop);
    uv_ip4_addr(nc_scn_addr(st->s, "server"), 0, &st->server);
    for (int k = 0; k < 3; k++) {
        uv_udp_init(&loop, &st->app[k]);
        st->app[k].data = st;
        struct sockaddr_in any;
        uv_ip4_addr(nc_scn_addr(st->s, "client"), 0, &any);
        uv_udp_bind(&st->app[k], (const struct sockaddr *)&any, 0);
        struct sockaddr_storage me;
        int len = sizeof(me);
        char name[64] = "?";
        if (uv_udp_getsockname(&st->app[k], (struct sockaddr *)&me, &len) == 0)
            nc_scn_peer_name(st->s, (struct sockaddr *)&me, name, sizeof(name));
        nc_scn_app(st->s, "client", "bind",
                   "%s: its socket got %s; that port is how replies find this app",
                   udp_app_names[k], name);
        uv_udp_recv_start(&st->app[k], nc_scn_alloc, udp_client_recv);
    }
    uv_timer_init(&loop, &st->timeout);
    st->timeout.data = st;
    udp_client_next(st);
    nc_scn_loop_run(st->s, &loop, "client", 30000);
    atomic_store(&st->client_done, 1);
    uv_loop_close(&loop);
    return NULL;
}

static int udp_run(nc_scn_t *s)
{
    udp_state_t *st = calloc(1, sizeof(*st));
    st->s = s;
    nc_scn_signal_init(&st->ready);
    int rc = nc_scn_run_pair(s, udp_server, udp_client, st, &st->ready);
    atomic_store(&st->client_done, 1);
    nc_scn_signal_done(&st->ready);
    free(st);
    return rc;
}

const nc_scenario_t nc_scenario_udp = {
    .name = "udp",
    .topology = "pair",
    .about = "echo, time and DNS over UDP; one query lost",
    .run = udp_run,
};
