/*
 * applink.c: the packet behind an accept() or connect().
 *
 * Data model: a small table keyed by (sport, dport) of TCP packets, each
 * slot remembering the last SYN-ACK and the last handshake-ending ACK seen
 * in that direction. It is bounded (oldest entries are overwritten), which
 * is plenty for a lesson: a link is made within seconds of its packet.
 */
#include "applink.h"

#include "../core/xmalloc.h"

#include <stdlib.h>
#include <string.h>

#define NC_APPLINK_SLOTS 512

typedef struct nc_applink_slot {
    uint16_t sport, dport;
    long synack, ack;
} nc_applink_slot_t;

struct nc_applink {
    nc_applink_slot_t slot[NC_APPLINK_SLOTS];
    size_t next;
};

nc_applink_t *nc_applink_new(void)
{
    return nc_xcalloc(1, sizeof(nc_applink_t));
}

void nc_applink_free(nc_applink_t *a)
{
    free(a);
}

static nc_applink_slot_t *nc_applink_find(nc_applink_t *a, int64_t sport, int64_t dport,
                                          int create)
{
    for (size_t k = 0; k < NC_APPLINK_SLOTS; k++) {
        nc_applink_slot_t *s = &a->slot[k];
        if ((s->synack || s->ack) && s->sport == sport && s->dport == dport)
            return s;
    }
    if (!create)
        return NULL;
    nc_applink_slot_t *s = &a->slot[a->next];
    a->next = (a->next + 1) % NC_APPLINK_SLOTS;
    memset(s, 0, sizeof(*s));
    s->sport = (uint16_t)sport;
    s->dport = (uint16_t)dport;
    return s;
}

long nc_applink_see(nc_applink_t *a, const nc_event_t *ev)
{
    int64_t sport, dport;
    if (ev->type == NC_EV_PACKET) {
        if (!nc_event_int(ev, "tcp.sport", &sport) || !nc_event_int(ev, "tcp.dport", &dport))
            return -1;
        bool syn = nc_event_has(ev, "tcp.flags", "SYN"), ack = nc_event_has(ev, "tcp.flags", "ACK");
        bool other = nc_event_has(ev, "tcp.flags", "FIN") || nc_event_has(ev, "tcp.flags", "RST");
        int64_t seq = -1, an = -1, len = -1;
        nc_event_int(ev, "tcp.seq", &seq);
        nc_event_int(ev, "tcp.ack", &an);
        nc_event_int(ev, "tcp.len", &len);
        /* Indices are stored plus one so that 0 means "none". */
        if (syn && ack)
            nc_applink_find(a, sport, dport, 1)->synack = (long)ev->i + 1;
        else if (!syn && ack && !other && seq == 1 && an == 1 && len == 0)
            nc_applink_find(a, sport, dport, 1)->ack = (long)ev->i + 1;
        return -1;
    }
    if (ev->type != NC_EV_APP)
        return -1;
    const char *call = nc_event_str(ev, "call");
    if (!call || !nc_event_int(ev, "port", &sport) || !nc_event_int(ev, "peer_port", &dport))
        return -1;
    if (strcmp(call, "accept") == 0) {
        nc_applink_slot_t *s = nc_applink_find(a, dport, sport, 0);
        return s && s->ack ? s->ack - 1 : -1;
    }
    if (strcmp(call, "connect") == 0) {
        nc_applink_slot_t *s = nc_applink_find(a, dport, sport, 0);
        return s && s->synack ? s->synack - 1 : -1;
    }
    return -1;
}
