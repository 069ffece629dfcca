/*
 * datagram.c: one UDP datagram sent and forgotten, from a chosen port: the
 * unsolicited packet that shows what a NAT's filter lets in; and a socket
 * that receives datagrams, each recvfrom() reported with its size, so a
 * lesson can show that UDP keeps the edges of what was sent.
 *
 * Data model. Each send makes a uv_udp_t of its own, bound to the host's
 * address and from_port (0: any), sends the text, reports the sendto()
 * and closes the socket once libuv is done with the datagram; the handle
 * and the request live in one allocation freed in the close callback. A
 * receiving socket (nc_kit_udp_t) is a uv_udp_t bound to the host's port,
 * freed in its close callback too.
 */
#include "kit.h"

#include "../core/xmalloc.h"


#include <stdlib.h>
#include <string.h>

typedef struct datagram {
    uv_udp_t udp; /* must stay first */
    uv_udp_send_t req;
    char data[];
} datagram_t;

static void datagram_freed(uv_handle_t *h)
{
    free(h->data);
}

static void datagram_sent(uv_udp_send_t *req, int status)
{
    datagram_t *d = req->data;
    uv_close((uv_handle_t *)&d->udp, datagram_freed);
}

int nc_kit_udp_send(nc_kit_t *k, const char *host, int port, int from_port, const char *text,
                    const char *say)
{
    size_t n = strlen(text);
    datagram_t *d = nc_xcalloc(1, sizeof *d + n + 1);
    memcpy(d->data, text, n);
    d->udp.data = d->req.data = d;
    uv_udp_init(nc_kit_loop(k), &d->udp);
    struct sockaddr_in me, to;
    const char *addr = nc_scn_addr(nc_kit_scn(k), host);
    int rc = uv_ip4_addr(nc_scn_addr(nc_kit_scn(k), nc_kit_host(k)), from_port, &me);
    if (rc == 0)
        rc = uv_udp_bind(&d->udp, (const struct sockaddr *)&me, UV_UDP_REUSEADDR);
    if (rc == 0)
        rc = addr ? uv_ip4_addr(addr, port, &to) : UV_EINVAL;
    uv_buf_t b = uv_buf_init(d->data, (unsigned)n);
    if (rc == 0) {
        nc_scn_call_begin("sendto");
        rc = uv_udp_send(&d->req, &d->udp, &b, 1, (const struct sockaddr *)&to, datagram_sent);
    }
    if (rc != 0) {
        nc_scn_fail(nc_kit_scn(k), "%s: udp-send to %s:%d: %s", nc_kit_host(k), host, port,
                    uv_strerror(rc));
        uv_close((uv_handle_t *)&d->udp, datagram_freed);
        return rc;
    }
    nc_kit_report(k, NULL, "sendto",
                  (nc_scn_kv_t[]){NC_KV_S("to", host), NC_KV_I("to_port", port),
                                  NC_KV_I("bytes", (int64_t)n)},
                  3, say, "sendto() %zu bytes to %s:%d from port %d", n, host, port, from_port);
    return 0;
}

struct nc_kit_udp {
    uv_udp_t udp; /* must stay first */
    nc_kit_t *k;
    int port;
    void (*on_datagram)(void *data);
    void *data;
    char buf[2048];
};

static void udp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    (void)hint;
    nc_kit_udp_t *u = h->data;
    *b = uv_buf_init(u->buf, sizeof u->buf);
}

static void udp_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *b, const struct sockaddr *from,
                     unsigned flags)
{
    (void)b;
    nc_kit_udp_t *u = h->data;
    if (n < 0 || from == NULL)
        return; /* nothing more to read, or an error UDP reports no further */
    char who[96];
    nc_scn_peer_name(nc_kit_scn(u->k), from, who, sizeof who);
    nc_kit_report(u->k, NULL, "recvfrom",
                  (nc_scn_kv_t[]){NC_KV_S("from", who), NC_KV_I("port", u->port),
                                  NC_KV_I("bytes", (int64_t)n)},
                  3, NULL, "recvfrom() returned one datagram of %zd bytes from %s%s", n, who,
                  flags & UV_UDP_PARTIAL ? " (cut short: it was longer than the buffer)" : "");
    if (u->on_datagram)
        u->on_datagram(u->data);
}

nc_kit_udp_t *nc_kit_udp_listen(nc_kit_t *k, int port, void (*on_datagram)(void *data),
                                void *data, const char *say)
{
    nc_kit_udp_t *u = nc_xcalloc(1, sizeof *u);
    u->k = k;
    u->port = port;
    u->on_datagram = on_datagram;
    u->data = data;
    uv_udp_init(nc_kit_loop(k), &u->udp);
    u->udp.data = u;
    struct sockaddr_in me;
    int rc = uv_ip4_addr(nc_scn_addr(nc_kit_scn(k), nc_kit_host(k)), port, &me);
    if (rc == 0)
        rc = uv_udp_bind(&u->udp, (const struct sockaddr *)&me, 0);
    if (rc == 0)
        rc = uv_udp_recv_start(&u->udp, udp_alloc, udp_recv);
    if (rc != 0) {
        nc_scn_fail(nc_kit_scn(k), "%s: udp-listen on port %d: %s", nc_kit_host(k), port,
                    uv_strerror(rc));
        uv_close((uv_handle_t *)&u->udp, datagram_freed);
        return NULL;
    }
    nc_kit_report(k, NULL, "bind", (nc_scn_kv_t[]){NC_KV_I("port", port)}, 1, say,
                  "bind() a UDP socket to port %d: datagrams sent to it are read one by one",
                  port);
    return u;
}

void nc_kit_udp_close(nc_kit_udp_t *u)
{
    if (u && !uv_is_closing((uv_handle_t *)&u->udp))
        uv_close((uv_handle_t *)&u->udp, datagram_freed);
}
