/*
 * splice.c: two TCP connections joined without reading what passes, the
 * one piece under the relay (relay.c), the L4 balancer and a forward
 * proxy's CONNECT tunnel (balance.c).
 *
 * Data model. A splice (nc_kit_splice_t) has two sides, in (the
 * connection the box accepted) and out (the one it opened), each a
 * connection or NULL (out before it is connected; either once gone), with
 * an owner pointer per side that belongs to the splice's user. Bytes read
 * on one side are written to the other, each read and write an app event
 * of the box's host. When one side has NC_KIT_SPLICE_HIGH bytes its kernel
 * has not taken, the other side stops reading until it drains, so a peer
 * that reads nothing stalls only its own splice (TCP's window tells its
 * sender to wait) and the box's memory stays bounded. A FIN on one side
 * closes both. Bytes that arrive on in before out is connected wait in an
 * early buffer (NC_KIT_SPLICE_EARLY at most; past that the user's flood
 * hook decides, or in is closed).
 *
 * Ownership: the user makes the splice with its in connection, starts in
 * with nc__kit_splice_cbs (the splice as owner), announces the connect of
 * out, then hands out over (or says the connect failed). The user hears
 * of each side's end through its gone hook, with that side's owner. The
 * splice frees itself once in is gone and out is gone or never came.
 */
#include "kit_impl.h"

#include "../core/buf.h"
#include "../core/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>

#define NC_KIT_SPLICE_HIGH (256 * 1024)
#define NC_KIT_SPLICE_EARLY (64 * 1024)

struct nc_kit_splice {
    const nc_kit_splice_hooks_t *hooks;
    nc_kit_conn_t *c[2]; /* NC_SPLICE_IN, NC_SPLICE_OUT; NULL: not there */
    void *owner[2];
    nc_buf_t early;
    bool pending; /* out is being connected */
};

static int nc_splice_side(const nc_kit_splice_t *sp, const nc_kit_conn_t *c)
{
    return c == sp->c[NC_SPLICE_IN] ? NC_SPLICE_IN : NC_SPLICE_OUT;
}

static void nc_splice_free_if_done(nc_kit_splice_t *sp)
{
    if (sp->c[NC_SPLICE_IN] || sp->c[NC_SPLICE_OUT] || sp->pending)
        return;
    nc_buf_done(&sp->early);
    free(sp);
}

static void nc_splice_describe(nc_kit_conn_t *c, const char *data, size_t n, char *out,
                               size_t outlen)
{
    nc_kit_splice_t *sp = nc_kit_conn_owner(c);
    if (n)
        snprintf(out, outlen, "read() returned %zu bytes from %s: the %s passes them %s without "
                 "looking at them", n, nc_kit_conn_peer(c), sp->hooks->box,
                 nc_splice_side(sp, c) == NC_SPLICE_IN ? "on" : "back");
}

static void nc_splice_data(nc_kit_conn_t *c, const char *data, size_t n)
{
    nc_kit_splice_t *sp = nc_kit_conn_owner(c);
    int side = nc_splice_side(sp, c);
    nc_kit_conn_t *to = sp->c[!side];
    if (!to && side == NC_SPLICE_IN && sp->pending) {
        if (sp->early.len + n > NC_KIT_SPLICE_EARLY) {
            if (sp->hooks->flood)
                sp->hooks->flood(sp, sp->owner[NC_SPLICE_IN]);
            else
                nc_kit_close(c, "close(): the client sent too much before the other side was "
                                "connected");
            return;
        }
        nc_buf_append(&sp->early, data, n);
        return;
    }
    if (!to)
        return;
    char say[200];
    snprintf(say, sizeof say, "write() passes the %zu bytes %s to %s", n,
             side == NC_SPLICE_IN ? "on" : "back", nc_kit_conn_peer(to));
    nc_kit_write(to, data, n, say);
    if (nc_kit_conn_queued(to) > NC_KIT_SPLICE_HIGH)
        nc_kit_conn_pause(c, true);
}

static void nc_splice_eof(nc_kit_conn_t *c)
{
    nc_kit_splice_t *sp = nc_kit_conn_owner(c);
    nc_kit_conn_t *other = sp->c[!nc_splice_side(sp, c)];
    char say[200];
    snprintf(say, sizeof say, "close(): %s closed its side, so the %s closes the other half",
             nc_kit_conn_peer(c), sp->hooks->box);
    if (other)
        nc_kit_close(other, say);
    snprintf(say, sizeof say, "close(): %s closed its side, so the %s closes this half too",
             nc_kit_conn_peer(c), sp->hooks->box);
    nc_kit_close(c, say);
}

static void nc_splice_closed(nc_kit_conn_t *c)
{
    nc_kit_splice_t *sp = nc_kit_conn_owner(c);
    int side = nc_splice_side(sp, c);
    sp->c[side] = NULL;
    /* The user hears first, so the other side's close can say why. */
    if (sp->hooks->gone)
        sp->hooks->gone(sp, side, sp->owner[side]);
    if (sp->c[!side])
        nc_kit_close(sp->c[!side], NULL);
    nc_splice_free_if_done(sp);
}

static void nc_splice_drain(nc_kit_conn_t *c)
{
    nc_kit_splice_t *sp = nc_kit_conn_owner(c);
    nc_kit_conn_t *other = sp->c[!nc_splice_side(sp, c)];
    if (other)
        nc_kit_conn_pause(other, false);
}

const nc_kit_conn_cbs_t nc__kit_splice_cbs = {
    .describe = nc_splice_describe,
    .on_data = nc_splice_data,
    .on_eof = nc_splice_eof,
    .on_closed = nc_splice_closed,
    .on_drain = nc_splice_drain,
};

nc_kit_splice_t *nc__kit_splice_new(const nc_kit_splice_hooks_t *hooks, nc_kit_conn_t *in,
                                    void *owner)
{
    nc_kit_splice_t *sp = nc_xcalloc(1, sizeof *sp);
    sp->hooks = hooks;
    sp->c[NC_SPLICE_IN] = in;
    sp->owner[NC_SPLICE_IN] = owner;
    nc_buf_init(&sp->early);
    return sp;
}

void nc__kit_splice_connecting(nc_kit_splice_t *sp)
{
    sp->pending = true;
    /* Nothing is read until the other half is there. */
    if (sp->c[NC_SPLICE_IN])
        nc_kit_conn_pause(sp->c[NC_SPLICE_IN], true);
}

bool nc__kit_splice_out(nc_kit_splice_t *sp, nc_kit_conn_t *out, void *owner)
{
    sp->pending = false;
    sp->c[NC_SPLICE_OUT] = out;
    sp->owner[NC_SPLICE_OUT] = owner;
    nc_kit_conn_start(out, &nc__kit_splice_cbs, sp);
    nc_kit_conn_t *in = sp->c[NC_SPLICE_IN];
    if (!in) {
        nc_kit_close(out, NULL);
        return false;
    }
    if (sp->early.len) {
        nc_kit_write(out, sp->early.data, sp->early.len,
                     "write() passes on what the client sent while the other half was connecting");
        nc_buf_reset(&sp->early);
    }
    nc_kit_conn_pause(in, false);
    return true;
}

void nc__kit_splice_out_failed(nc_kit_splice_t *sp)
{
    sp->pending = false;
    nc_splice_free_if_done(sp);
}

nc_kit_conn_t *nc__kit_splice_conn(const nc_kit_splice_t *sp, int side)
{
    return sp->c[side];
}
