/*
 * relay.c: a TCP relay, the simplest box in the middle.
 *
 * Data model. A relay is a listener on the program's host and a target
 * (host, port). Each accepted connection ("in") gets a connection of its
 * own to the target ("out"), and the two are joined by a splice (splice.c):
 * once out is connected, every byte read on one is written to the other,
 * each call reported like any kit call, so the ladder shows the request in
 * and the request out on the middle host; a FIN on one side closes both.
 * The relay keeps its open pairs in a list; nc_kit_relay_close closes its
 * listener and every open pair, and the relay is freed with its last pair
 * (pairs point back at it until then). A pair is freed when the splice says
 * both of its connections are gone.
 */
#include "kit_impl.h"

#include "../core/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct relay_pair relay_pair_t;

struct nc_kit_relay {
    nc_kit_t *k;
    nc_kit_listener_t *l;
    char *host;
    int port;
    size_t pairs;       /* pairs made so far */
    relay_pair_t *open; /* the pairs still open */
    bool closed;        /* nc_kit_relay_close was called */
};

/* One relayed connection: in (accepted) and out (to the target), joined by
 * sp; a side is NULL once its connection is gone. */
struct relay_pair {
    nc_kit_relay_t *r;
    nc_kit_splice_t *sp;
    nc_kit_conn_t *in, *out;
    bool started; /* out is connected and both are read */
    relay_pair_t *prev, *next;
};

static void relay_free(nc_kit_relay_t *r)
{
    free(r->host);
    free(r);
}

/* Unlinks and frees a pair; the relay goes with its last pair once closed. */
static void pair_free(relay_pair_t *p)
{
    nc_kit_relay_t *r = p->r;
    if (p->prev)
        p->prev->next = p->next;
    else
        r->open = p->next;
    if (p->next)
        p->next->prev = p->prev;
    free(p);
    if (r->closed && !r->open)
        relay_free(r);
}

/* The splice says a side's connection is gone (both sides' owner is the
 * pair). */
static void relay_gone(nc_kit_splice_t *sp, int side, void *owner)
{
    relay_pair_t *p = owner;
    if (side == NC_SPLICE_IN)
        p->in = NULL;
    else
        p->out = NULL;
    if (!p->in && !p->out)
        pair_free(p);
}

static const nc_kit_splice_hooks_t relay_hooks = {
    .box = "relay",
    .gone = relay_gone,
};

static void relay_connected(nc_kit_conn_t *c, int status, void *data)
{
    relay_pair_t *p = data;
    if (status != 0) {
        /* The kit closes out itself; in has no one to talk to. */
        p->out = NULL;
        nc__kit_splice_out_failed(p->sp);
        if (p->in)
            nc_kit_close(p->in, "close(): the relay could not reach its target, so it closes "
                                "this one");
        else
            pair_free(p);
        return;
    }
    p->started = true;
    nc__kit_splice_out(p->sp, c, p);
}

static void relay_accepted(nc_kit_listener_t *l, nc_kit_conn_t *c, void *data)
{
    nc_kit_relay_t *r = data;
    relay_pair_t *p = nc_xcalloc(1, sizeof *p);
    p->r = r;
    p->in = c;
    p->next = r->open;
    if (r->open)
        r->open->prev = p;
    r->open = p;
    r->pairs++;
    p->sp = nc__kit_splice_new(&relay_hooks, c, p);
    nc_kit_conn_start(c, &nc__kit_splice_cbs, p->sp);
    nc__kit_splice_connecting(p->sp);
    char say[200];
    snprintf(say, sizeof say, "connect() to %s:%d: the relay opens its own connection for %s",
             r->host, r->port, nc_kit_conn_peer(c));
    p->out = nc_kit_connect(r->k, r->host, r->port, true, relay_connected, p, say, NULL);
    if (!p->out) {
        nc__kit_splice_out_failed(p->sp);
        nc_kit_close(c, NULL);
    }
}

nc_kit_relay_t *nc_kit_relay(nc_kit_t *k, int port, const char *host, int target_port,
                             const char *say)
{
    nc_kit_relay_t *r = nc_xcalloc(1, sizeof *r);
    r->k = k;
    r->host = nc_xstrdup(host);
    r->port = target_port;
    char dflt[200];
    snprintf(dflt, sizeof dflt, "the relay waits here and passes each connection on to %s:%d",
             host, target_port);
    r->l = nc_kit_listen(k, port, 16, relay_accepted, r, say ? say : dflt);
    if (!r->l) {
        relay_free(r);
        return NULL;
    }
    return r;
}

size_t nc_kit_relay_pairs(const nc_kit_relay_t *r)
{
    return r->pairs;
}

void nc_kit_relay_close(nc_kit_relay_t *r)
{
    if (!r || r->closed)
        return;
    r->closed = true;
    nc_kit_listener_close(r->l);
    for (relay_pair_t *p = r->open; p; p = p->next) {
        const char *say = "close(): the relay's program ends, so it closes this connection";
        /* A pair still connecting ends through relay_connected, which
         * hears of the cancelled connect and closes in. */
        if (p->started && p->in)
            nc_kit_close(p->in, say);
        if (p->out)
            nc_kit_close(p->out, say);
    }
    if (!r->open)
        relay_free(r);
}
