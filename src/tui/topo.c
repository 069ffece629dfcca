/*
 * topo.c: the lesson's lab drawn in one line in the reader's header.
 *
 * Data model: the topology's links as lab.h gives them (a name and the
 * hosts at its ends). A host found at every link is the hub (the middle
 * of a chain, the balancer of a fan, the NAT box); the other hosts of a
 * link where the hub comes last go on its left, the rest on its right, so
 * the line reads from the clients to the servers:
 *
 *   pair   client ~wire~ server
 *   chain  client ~client-middle~ middle ~middle-server~ server
 *   fan    client1, client2 ~ balancer ~ backend1, backend2, backend3
 *   nat    inside1, inside2 ~inside~ [nat: symmetric] ~outside~ peer, stun, turn
 *
 * A side with one link names it; a side with several shows a bare "~"
 * (each link's name is in the packet's wire.link).
 */
#include "topo.h"

#include "../lab/lab.h"

#include <stdio.h>
#include <string.h>

enum { TOPO_LINKS = 8 };

typedef struct topo_link {
    const char *name;
    const char *hosts[4];
    size_t n;
} topo_link_t;

/* Appends s to out (used bytes *n), never past outlen. */
static void put(char *out, size_t outlen, size_t *n, const char *s)
{
    int w = snprintf(out + *n, outlen - *n, "%s", s);
    if (w > 0)
        *n += (size_t)w < outlen - *n ? (size_t)w : outlen - *n - 1;
}

/* Appends the hosts of one side of the hub: those of the links whose hub
 * end is (left) or is not (right) their last end. Returns the number of
 * links on that side and the last one's name in *name. */
static size_t side(const topo_link_t *lk, size_t nl, const char *hub, bool left, char *out,
                   size_t outlen, size_t *n, const char **name)
{
    size_t links = 0;
    bool first = true;
    for (size_t i = 0; i < nl; i++) {
        bool hub_last = strcmp(lk[i].hosts[lk[i].n - 1], hub) == 0;
        if (hub_last != left)
            continue;
        links++;
        *name = lk[i].name;
        for (size_t e = 0; e < lk[i].n; e++) {
            if (strcmp(lk[i].hosts[e], hub) == 0)
                continue;
            put(out, outlen, n, first ? "" : ", ");
            put(out, outlen, n, lk[i].hosts[e]);
            first = false;
        }
    }
    return links;
}

size_t nc_topo_line(const nc_lesson_t *l, char *out, size_t outlen)
{
    if (!out || outlen == 0)
        return 0;
    out[0] = '\0';
    topo_link_t lk[TOPO_LINKS];
    size_t nl = 0;
    while (l && l->topology && nl < TOPO_LINKS &&
           (lk[nl].n = nc_lab_topology_link(l->topology, nl, &lk[nl].name, lk[nl].hosts)) > 0)
        nl++;
    if (nl == 0)
        return 0;
    size_t n = 0;
    if (nl == 1) {
        char line[128];
        snprintf(line, sizeof line, "%s ~%s~ %s", lk[0].hosts[0], lk[0].name, lk[0].hosts[1]);
        put(out, outlen, &n, line);
        return n;
    }
    /* The hub: a host of the first link found in every link. */
    const char *hub = NULL;
    for (size_t e = 0; e < lk[0].n && !hub; e++) {
        bool all = true;
        for (size_t i = 1; i < nl && all; i++) {
            bool found = false;
            for (size_t k = 0; k < lk[i].n; k++)
                found = found || strcmp(lk[i].hosts[k], lk[0].hosts[e]) == 0;
            all = found;
        }
        if (all)
            hub = lk[0].hosts[e];
    }
    if (!hub)
        return 0;
    const char *lname = "", *rname = "";
    char hubtext[96];
    if (l->nat)
        snprintf(hubtext, sizeof hubtext, "[%s: %s]", hub, l->nat);
    else
        snprintf(hubtext, sizeof hubtext, "%s", hub);
    size_t left = side(lk, nl, hub, true, out, outlen, &n, &lname);
    char tail[256];
    size_t tn = 0;
    size_t right = side(lk, nl, hub, false, tail, sizeof tail, &tn, &rname);
    char mid[384];
    snprintf(mid, sizeof mid, " ~%s%s %s ~%s%s ", left == 1 ? lname : "", left == 1 ? "~" : "",
             hubtext, right == 1 ? rname : "", right == 1 ? "~" : "");
    put(out, outlen, &n, mid);
    put(out, outlen, &n, tail);
    return n;
}

void nc_topo_draw(nc_canvas_t *c, int y, const nc_lesson_t *l)
{
    char line[512];
    if (nc_topo_line(l, line, sizeof line) == 0)
        return;
    int w = nc_text_width(line);
    if (w + 4 > c->w)
        return;
    int x = (c->w - w - 2) / 2;
    nc_canvas_text(c, y, x, " ", NC_STYLE(0, NC_ROLE_MUTED));
    nc_canvas_text(c, y, x + 1, line, NC_STYLE(0, NC_ROLE_MUTED));
    nc_canvas_text(c, y, x + 1 + w, " ", NC_STYLE(0, NC_ROLE_MUTED));
}
