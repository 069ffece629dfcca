/*
 * applink.h: pointing app events at the packets that let them return.
 *
 * The run's publish hook shows every event to an nc_applink_t in timeline
 * order. It remembers, per pair of TCP ports, the index of the latest
 * SYN-ACK and of the latest pure ACK that ends a handshake (seq 1, ack 1, no
 * data). An app event whose call is "accept" or "connect" and that carries
 * "port" (the program's own port) and "peer_port" is then linked: its
 * "packet" is the index of the client's handshake ACK (accept) or of the
 * server's SYN-ACK (connect). When several ACKs qualify (the server dropped
 * one while its accept queue was full) the latest one before the call is the
 * one that completed the connection.
 *
 * A "read" app event with "port", "peer_port" and "bytes" (what the kit
 * reports) is linked to the delivered data segment that carried the last
 * byte read so far on that connection, or, for a read that returned 0, to
 * the peer's FIN. Packets must be shown with their final index (after any
 * mark put before them).
 */
#ifndef NC_APPLINK_H
#define NC_APPLINK_H

#include "../core/event.h"

typedef struct nc_applink nc_applink_t;

nc_applink_t *nc_applink_new(void);
void nc_applink_free(nc_applink_t *a);
/* Sees one published event (ev->i set). Returns the index of the packet an
 * app event should point to, or -1. */
long nc_applink_see(nc_applink_t *a, const nc_event_t *ev);

#endif
