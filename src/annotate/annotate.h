/*
 * annotate.h: plain-language explanations of events.
 *
 * Generic rules (a table: TCP handshake and close, data and ACKs,
 * retransmissions, windows, UDP, IP, ARP, ICMP, DNS) look at a decoded packet
 * event and append a sentence or two to its note: "SYN: the client asks to
 * open a connection and picks its initial sequence number 0 (relative)".
 * Lesson-specific notes are added by the lesson runner on top of these.
 */
#ifndef NC_ANNOTATE_H
#define NC_ANNOTATE_H

#include "../core/event.h"

/* Appends the generic annotation for the built event to its note. */
void nc_annotate_event(nc_evb_t *b);

#endif
