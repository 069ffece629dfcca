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

#endif
