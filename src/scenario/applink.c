/*
 * applink.c: the packet behind an accept(), a connect() or a read().
 *
 * Data model: a small table keyed by (sport, dport) of TCP packets, each
 * slot remembering the last SYN-ACK and the last handshake-ending ACK seen
 * in that direction; and, for reads, the last few delivered data segments
 * (their relative byte range and index), the last FIN, and how many bytes
 * the receiving program has read so far. A read() that returned n bytes
 * links to the segment that carried the last of them (the latest delivered
 * copy: a retransmission, if that is what filled the hole); a read() that
 * returned 0 links to the FIN. The table is bounded (oldest entries are
 * overwritten), which is plenty for a lesson: a link is made within seconds
 * of its packet. A middlebox's decisions link the same way (below): to the
 * segment that brought the request, and its upstream connection to its
 * SYN-ACK.
 */
#include "applink.h"

#include "../core/xmalloc.h"

#include <stdlib.h>
#include <string.h>

#define NC_APPLINK_SLOTS 512
#define NC_APPLINK_SEGS 16

typedef struct nc_applink_seg {
    int64_t first, end; /* relative byte numbers [first, end) */
    long index;
} nc_applink_seg_t;

typedef struct nc_applink_slot {
    uint16_t sport, dport;
    long synack, ack, fin;
    nc_applink_seg_t seg[NC_APPLINK_SEGS];
    size_t nextseg;
    int64_t read; /* bytes the receiver's program has read */
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
        if ((s->synack || s->ack || s->nextseg || s->fin) && s->sport == sport &&
            s->dport == dport)
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

/* A middlebox's decisions (src/kit/proxy.c, balance.c, broker.c) and a
 * server's record of a request link to the packet that brought what they
 * decided on: the last data segment that came in on their connection (for
 * a decision made at accept, before any data, the handshake's ACK). */
static bool nc_applink_decision(const char *call)
{
    static const char *const calls[] = {"choose", "cache",   "tunnel", "refuse",
                                        "publish", "hold",   "subscribe", "ack",
                                        "row",    "duplicate", "forwarded"};
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++)
        if (strcmp(calls[i], call) == 0)
            return true;
    return false;
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
        if (syn && ack) {
            nc_applink_slot_t *s = nc_applink_find(a, sport, dport, 1);
            s->synack = (long)ev->i + 1;
            /* A new connection on the same ports reads from byte 1 again. */
            nc_applink_find(a, dport, sport, 1)->read = 0;
            s->read = 0;
        } else if (!syn && ack && !other && seq == 1 && an == 1 && len == 0) {
            nc_applink_find(a, sport, dport, 1)->ack = (long)ev->i + 1;
        }
        bool dropped = nc_event_bool(ev, "dropped");
        if (!dropped && len > 0 && seq > 0) {
            nc_applink_slot_t *s = nc_applink_find(a, sport, dport, 1);
            s->seg[s->nextseg % NC_APPLINK_SEGS] = (nc_applink_seg_t){seq, seq + len, (long)ev->i};
            s->nextseg++;
        }
        if (!dropped && nc_event_has(ev, "tcp.flags", "FIN"))
            nc_applink_find(a, sport, dport, 1)->fin = (long)ev->i + 1;
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
    /* A middlebox's upstream connection is up: its SYN-ACK, as a connect. */
    if (strcmp(call, "forward") == 0) {
        nc_applink_slot_t *s = nc_applink_find(a, dport, sport, 0);
        return s && s->synack ? s->synack - 1 : -1;
    }
    if (nc_applink_decision(call)) {
        nc_applink_slot_t *s = nc_applink_find(a, dport, sport, 0);
        long best = -1;
        for (size_t k = 0; s && k < NC_APPLINK_SEGS && k < s->nextseg; k++)
            if (s->seg[k].index > best)
                best = s->seg[k].index;
        return best >= 0 ? best : s && s->ack ? s->ack - 1 : -1;
    }
    int64_t bytes;
    if (strcmp(call, "read") == 0 && nc_event_int(ev, "bytes", &bytes)) {
        nc_applink_slot_t *s = nc_applink_find(a, dport, sport, 0);
        if (!s)
            return -1;
        if (bytes == 0)
            return s->fin ? s->fin - 1 : -1;
        s->read += bytes;
        long best = -1;
        for (size_t k = 0; k < NC_APPLINK_SEGS && k < s->nextseg; k++) {
            /* Data bytes are numbered from 1 (relative); the last one read
             * is byte s->read. */
            const nc_applink_seg_t *g = &s->seg[k];
            if (g->first <= s->read && s->read < g->end && g->index > best)
                best = g->index;
        }
        return best;
    }
    return -1;
}
