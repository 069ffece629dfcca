/*
 * ws.c: WebSocket endpoints of the kit (RFC 6455), on wslay.
 *
 * Data model. An nc_kit_ws_t sits on an HTTP connection that was upgraded:
 * the server answered "101 Switching Protocols" with the key's proof, or
 * the client got that answer and checked it. wslay's event context does the
 * framing: masking on the client side, fragmentation, answering pings with
 * pongs and closes with closes. wslay reads from `in` (the bytes the
 * connection delivered) and writes into `out`, which is then handed to the
 * connection in one write() per send, reported with the sentence of the
 * call that caused it. Messages that arrive go to the owner's callback; a
 * close frame (or the connection ending without one, code 1006) is handed
 * over exactly once. The WebSocket is freed with its connection.
 */
#include "kit_impl.h"

#include "../core/buf.h"
#include "../core/error.h"
#include "../core/xmalloc.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wslay/wslay.h>

static const char nc_kit_ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

struct nc_kit_ws {
    nc_kit_http_t *h;
    bool server;
    wslay_event_context_ptr ctx;
    nc_buf_t in;
    size_t in_off;
    nc_buf_t out;
    nc_kit_ws_msg_cb cb;
    void (*on_open)(nc_kit_ws_t *ws, int status, void *ud);
    void *ud;
    char key[32];
    bool close_told; /* the owner heard of the close */
    /* the message being fragmented */
    const char *frag;
    size_t frag_len, frag_off, frag_piece;
};

int nc_kit_ws_accept_key(const char *key, char *out, size_t outlen)
{
    if (!key || outlen < 29 || strlen(key) > 64)
        return NC_EINVAL;
    char both[128];
    int n = snprintf(both, sizeof both, "%s%s", key, nc_kit_ws_guid);
    unsigned char md[SHA_DIGEST_LENGTH];
    if (n < 0 || SHA1((const unsigned char *)both, (size_t)n, md) == NULL)
        return NC_EINVAL;
    if (EVP_EncodeBlock((unsigned char *)out, md, SHA_DIGEST_LENGTH) != 28)
        return NC_EINVAL;
    return 0;
}

/* ---- wslay's callbacks ---- */

static ssize_t nc_kit_ws_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
                              void *ud)
{
    nc_kit_ws_t *ws = ud;
    size_t left = ws->in.len - ws->in_off;
    if (left == 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    size_t n = left < len ? left : len;
    memcpy(buf, ws->in.data + ws->in_off, n);
    ws->in_off += n;
    return (ssize_t)n;
}

static ssize_t nc_kit_ws_sendcb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len,
                                int flags, void *ud)
{
    nc_kit_ws_t *ws = ud;
    nc_buf_append(&ws->out, data, len);
    return (ssize_t)len;
}

static int nc_kit_ws_genmask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *ud)
{
    if (RAND_bytes(buf, (int)len) != 1) {
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return 0;
}

static void nc_kit_ws_tell_close(nc_kit_ws_t *ws, int code)
{
    if (ws->close_told)
        return;
    ws->close_told = true;
    if (ws->cb)
        ws->cb(ws, NC_KIT_WS_CLOSE, "", 0, code, ws->ud);
}

static void nc_kit_ws_msg(wslay_event_context_ptr ctx,
                          const struct wslay_event_on_msg_recv_arg *arg, void *ud)
{
    nc_kit_ws_t *ws = ud;
    if (arg->opcode == WSLAY_CONNECTION_CLOSE) {
        nc_kit_ws_tell_close(ws, arg->status_code);
        return;
    }
    if (ws->cb)
        ws->cb(ws, (nc_kit_ws_op_t)arg->opcode, (const char *)arg->msg, arg->msg_length, 0,
               ws->ud);
}

static ssize_t nc_kit_ws_fragment(wslay_event_context_ptr ctx, uint8_t *buf, size_t len,
                                  const union wslay_event_msg_source *source, int *eof,
                                  void *ud)
{
    nc_kit_ws_t *ws = ud;
    size_t n = ws->frag_len - ws->frag_off;
    if (n > ws->frag_piece)
        n = ws->frag_piece;
    if (n > len)
        n = len;
    memcpy(buf, ws->frag + ws->frag_off, n);
    ws->frag_off += n;
    *eof = ws->frag_off >= ws->frag_len;
    return (ssize_t)n;
}

static const struct wslay_event_callbacks nc_kit_ws_callbacks = {
    .recv_callback = nc_kit_ws_recv,
    .send_callback = nc_kit_ws_sendcb,
    .genmask_callback = nc_kit_ws_genmask,
    .on_msg_recv_callback = nc_kit_ws_msg,
};

/* ---- moving bytes ---- */

static const char *nc_kit_ws_opname(int op)
{
    static const struct {
        int op;
        const char *name;
    } names[] = {{0, "continuation"}, {1, "text"}, {2, "binary"},
                 {8, "close"},        {9, "ping"}, {10, "pong"}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].op == op)
            return names[i].name;
    return "unknown";
}

/* Lets wslay write what it queued, then hands it to the connection in one
 * write(), described by say (or by the first frame's opcode). */
static int nc_kit_ws_flush(nc_kit_ws_t *ws, const char *say)
{
    nc_kit_conn_t *c = nc_kit_http_conn(ws->h);
    int rc = wslay_event_send(ws->ctx);
    if (rc != 0 && !nc_kit_conn_closing(c)) {
        nc_scn_fail(nc_kit_scn(nc_kit_conn_kit(c)), "%s: WebSocket send failed (wslay %d)",
                    nc_kit_host(nc_kit_conn_kit(c)), rc);
        nc_kit_close(c, NULL);
        return NC_EIO;
    }
    if (ws->out.len) {
        int op = (unsigned char)ws->out.data[0] & 0x0f;
        char dflt[200];
        snprintf(dflt, sizeof dflt, "write() a WebSocket %s frame (%zu bytes%s)",
                 nc_kit_ws_opname(op), ws->out.len,
                 ws->server ? "" : ", masked as every client frame is");
        nc_kit_write(c, ws->out.data, ws->out.len, say ? say : dflt);
        nc_buf_reset(&ws->out);
    }
    /* Both close frames have passed: the server ends the TCP connection
     * (RFC 6455 7.1.1); the client waits for it to. */
    if (ws->server && wslay_event_get_close_sent(ws->ctx) &&
        wslay_event_get_close_received(ws->ctx))
        nc_kit_close(c, "close(): the closing handshake is done, so the server ends the "
                        "TCP connection");
    return 0;
}

void nc__kit_ws_feed(nc_kit_ws_t *ws, const char *data, size_t len)
{
    if (!ws->ctx || len == 0)
        return;
    nc_buf_append(&ws->in, data, len);
    int rc = wslay_event_recv(ws->ctx);
    /* Keep only what wslay has not read yet. */
    size_t left = ws->in.len - ws->in_off;
    memmove(ws->in.data, ws->in.data + ws->in_off, left);
    ws->in.len = left;
    ws->in_off = 0;
    nc_kit_conn_t *c = nc_kit_http_conn(ws->h);
    if (rc != 0) {
        nc_scn_fail(nc_kit_scn(nc_kit_conn_kit(c)), "%s: malformed WebSocket frames from %s",
                    nc_kit_host(nc_kit_conn_kit(c)), nc_kit_conn_peer(c));
        nc_kit_close(c, NULL);
        return;
    }
    nc_kit_ws_flush(ws, NULL);
}

void nc__kit_ws_gone(nc_kit_ws_t *ws)
{
    nc_kit_ws_tell_close(ws, 1006);
    nc_kit_close(nc_kit_http_conn(ws->h), NULL);
}

static nc_kit_ws_t *nc_kit_ws_new(nc_kit_http_t *h, bool server, nc_kit_ws_msg_cb cb, void *ud)
{
    nc_kit_ws_t *ws = nc_xcalloc(1, sizeof *ws);
    ws->h = h;
    ws->server = server;
    ws->cb = cb;
    ws->ud = ud;
    nc_buf_init(&ws->in);
    nc_buf_init(&ws->out);
    return ws;
}

static int nc_kit_ws_start(nc_kit_ws_t *ws)
{
    int rc = ws->server
                 ? wslay_event_context_server_init(&ws->ctx, &nc_kit_ws_callbacks, ws)
                 : wslay_event_context_client_init(&ws->ctx, &nc_kit_ws_callbacks, ws);
    if (rc != 0) {
        ws->ctx = NULL;
        return NC_ENOMEM;
    }
    return 0;
}

void nc__kit_ws_free(nc_kit_ws_t *ws)
{
    if (!ws)
        return;
    nc_kit_ws_tell_close(ws, 1006);
    if (ws->ctx)
        wslay_event_context_free(ws->ctx);
    nc_buf_done(&ws->in);
    nc_buf_done(&ws->out);
    free(ws);
}

/* ---- the handshake ---- */

nc_kit_ws_t *nc_kit_ws_accept(nc_kit_http_t *h, const nc_kit_http_msg_t *req,
                              nc_kit_ws_msg_cb cb, void *ud)
{
    const char *upgrade = nc_kit_http_header(req, "Upgrade");
    const char *key = nc_kit_http_header(req, "Sec-WebSocket-Key");
    char accept[32];
    if (!upgrade || strcasecmp(upgrade, "websocket") != 0 || !key ||
        nc_kit_ws_accept_key(key, accept, sizeof accept) != 0) {
        static const char why[] = "a WebSocket upgrade with a Sec-WebSocket-Key was expected\n";
        nc_kit_http_respond(h, 400, NULL, 0, NC_KIT_BODY_FIXED, why, sizeof why - 1, 0, NULL);
        return NULL;
    }
    nc_kit_ws_t *ws = nc_kit_ws_new(h, true, cb, ud);
    if (nc_kit_ws_start(ws) != 0) {
        nc__kit_ws_free(ws);
        return NULL;
    }
    char resp[256];
    int n = snprintf(resp, sizeof resp,
                     "HTTP/1.1 101 Switching Protocols\r\n"
                     "Upgrade: websocket\r\n"
                     "Connection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: %s\r\n\r\n",
                     accept);
    nc_kit_write(nc_kit_http_conn(h), resp, (size_t)n,
                 "write() 101 Switching Protocols: from now on this connection carries "
                 "WebSocket frames");
    nc__kit_http_upgrade(h, ws);
    return ws;
}

nc_kit_ws_t *nc_kit_ws_connect(nc_kit_http_t *h, const char *path,
                               void (*on_open)(nc_kit_ws_t *ws, int status, void *ud),
                               nc_kit_ws_msg_cb cb, void *ud)
{
    unsigned char nonce[16];
    if (RAND_bytes(nonce, sizeof nonce) != 1)
        return NULL;
    nc_kit_ws_t *ws = nc_kit_ws_new(h, false, cb, ud);
    ws->on_open = on_open;
    if (EVP_EncodeBlock((unsigned char *)ws->key, nonce, sizeof nonce) != 24) {
        nc__kit_ws_free(ws);
        return NULL;
    }
    nc_kit_header_t hd[] = {
        {"Upgrade", "websocket"},
        {"Connection", "Upgrade"},
        {"Sec-WebSocket-Key", ws->key},
        {"Sec-WebSocket-Version", "13"},
    };
    nc_kit_http_req_t r = {.method = "GET", .path = path, .headers = hd, .nheaders = 4};
    nc__kit_http_expect_ws(h, ws);
    char say[300];
    snprintf(say, sizeof say, "write() GET %s with Upgrade: websocket, asking to switch protocols",
             path);
    if (nc_kit_http_request(h, &r, say) != 0)
        return NULL; /* freed with the connection */
    return ws;
}

void nc__kit_ws_opened(nc_kit_ws_t *ws, const nc_kit_http_msg_t *resp)
{
    char want[32];
    const char *got = nc_kit_http_header(resp, "Sec-WebSocket-Accept");
    int status = 0;
    if (nc_kit_ws_accept_key(ws->key, want, sizeof want) != 0 || !got || strcmp(got, want) != 0)
        status = NC_EBADDATA;
    else if (nc_kit_ws_start(ws) != 0)
        status = NC_ENOMEM;
    if (ws->on_open)
        ws->on_open(ws, status, ws->ud);
}

/* ---- sending ---- */

int nc_kit_ws_send(nc_kit_ws_t *ws, nc_kit_ws_op_t op, const char *data, size_t len,
                   int fragments, const char *say)
{
    if (!ws->ctx || nc_kit_conn_closing(nc_kit_http_conn(ws->h)))
        return NC_EINVAL;
    int rc;
    if (fragments > 1 && (op == NC_KIT_WS_TEXT || op == NC_KIT_WS_BINARY)) {
        ws->frag = data;
        ws->frag_len = len;
        ws->frag_off = 0;
        ws->frag_piece = (len + (size_t)fragments - 1) / (size_t)fragments;
        if (ws->frag_piece == 0)
            ws->frag_piece = 1;
        struct wslay_event_fragmented_msg m = {
            .opcode = (uint8_t)op,
            .read_callback = nc_kit_ws_fragment,
        };
        rc = wslay_event_queue_fragmented_msg(ws->ctx, &m);
    } else {
        struct wslay_event_msg m = {
            .opcode = (uint8_t)op,
            .msg = (const uint8_t *)data,
            .msg_length = len,
        };
        rc = wslay_event_queue_msg(ws->ctx, &m);
    }
    if (rc != 0)
        return NC_EINVAL;
    rc = nc_kit_ws_flush(ws, say);
    ws->frag = NULL;
    return rc;
}

int nc_kit_ws_close(nc_kit_ws_t *ws, int code, const char *reason, const char *say)
{
    if (!ws->ctx)
        return NC_EINVAL;
    size_t n = reason ? strlen(reason) : 0;
    if (wslay_event_queue_close(ws->ctx, (uint16_t)code, (const uint8_t *)reason, n) != 0)
        return NC_EINVAL;
    return nc_kit_ws_flush(ws, say);
}

nc_kit_conn_t *nc_kit_ws_conn(const nc_kit_ws_t *ws)
{
    return nc_kit_http_conn(ws->h);
}
