/*
 * datagram.c: one UDP datagram sent and forgotten, from a chosen port: the
 * unsolicited packet that shows what a NAT's filter lets in.
 *
 * Data model. Each send makes a uv_udp_t of its own, bound to the host's
 * address and from_port (0: any), sends the text, reports the sendto()
 * and closes the socket once libuv is done with the datagram; the handle
 * and the request live in one allocation freed in the close callback.
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
