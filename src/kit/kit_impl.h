/*
 * kit_impl.h: what the kit's files share beyond kit.h.
 *
 * The HTTP layer hands its connection's bytes to a WebSocket once the
 * Upgrade is done (both server and client); these are the two halves of
 * that hand-over.
 */
#ifndef NC_KIT_IMPL_H
#define NC_KIT_IMPL_H

#include "kit.h"

/* Bytes that arrived for the WebSocket on h (after the upgrade). */
void nc__kit_ws_feed(nc_kit_ws_t *ws, const char *data, size_t len);
/* The connection under the WebSocket reached its end (EOF or closed). */
void nc__kit_ws_gone(nc_kit_ws_t *ws);
/* Frees a WebSocket when its connection is gone (NULL is fine). */
void nc__kit_ws_free(nc_kit_ws_t *ws);
/* Makes h hand its bytes to ws from now on (borrowed; ws lives as long as
 * the connection). */
void nc__kit_http_upgrade(nc_kit_http_t *h, nc_kit_ws_t *ws);
/* The client: ws takes the stream once the 101 arrives. */
void nc__kit_http_expect_ws(nc_kit_http_t *h, nc_kit_ws_t *ws);
/* The client: the 101 response arrived; hands the bytes after it to ws. */
void nc__kit_ws_opened(nc_kit_ws_t *ws, const nc_kit_http_msg_t *resp);

/* ---- TLS under a connection (tls.c and stream.c) ---- */

/* Hands the bytes of one read to the TLS layer (records in, plaintext out
 * through nc__kit_conn_deliver). */
void nc__kit_tls_feed(nc_kit_tls_t *t, const char *data, size_t len);
/* Encrypts plaintext (queued until the handshake is done). Returns 0 or a
 * libuv code. */
int nc__kit_tls_write(nc_kit_tls_t *t, const void *data, size_t len);
/* Sends close_notify once, before the connection's FIN. */
void nc__kit_tls_close_notify(nc_kit_tls_t *t);
/* Frees the TLS layer (NULL is fine). */
void nc__kit_tls_free(nc_kit_tls_t *t);

/* Reports a read of len bytes and hands them to the connection's owner.
 * text is the sentence (empty: the default); NULL makes the connection
 * count the bytes and ask its describe hook, as for plaintext from TLS. */
void nc__kit_conn_deliver(nc_kit_conn_t *c, const char *data, size_t len, const char *text);
/* Writes bytes as they are, under any TLS layer. */
int nc__kit_conn_write_raw(nc_kit_conn_t *c, const void *data, size_t len);
/* Starts reading (before an owner is set, for a TLS handshake). */
void nc__kit_conn_read_start(nc_kit_conn_t *c);
void nc__kit_conn_set_tls(nc_kit_conn_t *c, nc_kit_tls_t *t);
nc_kit_tls_t *nc__kit_conn_tls(const nc_kit_conn_t *c);

#endif
