/*
 * relay.c: a TCP relay, the simplest box in the middle.
 *
 * Data model. A relay is a listener on the program's host and a target
 * (host, port). Each accepted connection ("in") gets a connection of its
 * own to the target ("out"); once out is connected both are read, and
 * every byte read on one is written to the other, each call reported like
 * any kit call, so the ladder shows the request in and the request out on
 * the middle host. A FIN on one side closes both. The pair is freed when
 * both connections are gone. The relay keeps its open pairs in a list;
 * nc_kit_relay_close closes its listener and every open pair, and the
 * relay is freed with its last pair (pairs point back at it until then).
 */
#include "kit.h"

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

/* One relayed connection: in (accepted) and out (to the target); a side is
 * NULL once its connection is gone. */
struct relay_pair {
    nc_kit_relay_t *r;
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

static nc_kit_conn_t *relay_other(relay_pair_t *p, nc_kit_conn_t *c)
{
    return c == p->in ? p->out : p->in;
}

static void relay_data(nc_kit_conn_t *c, const char *data, size_t n)
{
    relay_pair_t *p = nc_kit_conn_owner(c);
    nc_kit_conn_t *o = relay_other(p, c);
    if (!o)
        return;
    char say[200];
    snprintf(say, sizeof say, "write() passes the %zu bytes on to %s", n, nc_kit_conn_peer(o));
    nc_kit_write(o, data, n, say);
}

static void relay_eof(nc_kit_conn_t *c)
{
    relay_pair_t *p = nc_kit_conn_owner(c);
    nc_kit_conn_t *o = relay_other(p, c);
    char say[200];
    snprintf(say, sizeof say, "close(): %s closed its side, so the relay closes both",
             nc_kit_conn_peer(c));
    nc_kit_close(c, say);
    if (o)
        nc_kit_close(o, say);
}

static void relay_closed(nc_kit_conn_t *c)
{
    relay_pair_t *p = nc_kit_conn_owner(c);
    if (c == p->in)
        p->in = NULL;
    else
        p->out = NULL;
    nc_kit_conn_t *o = p->in ? p->in : p->out;
    if (o)
        nc_kit_close(o, NULL);
    else
        pair_free(p);
}

static const nc_kit_conn_cbs_t relay_cbs = {
    .on_data = relay_data,
    .on_eof = relay_eof,
    .on_closed = relay_closed,
};

static void relay_connected(nc_kit_conn_t *c, int status, void *data)
{
    relay_pair_t *p = data;
    if (status != 0) {
        /* The kit closes out itself; in has no one to talk to. */
        p->out = NULL;
        nc_kit_conn_t *in = p->in;
        p->in = NULL;
        nc_kit_conn_start(in, &(nc_kit_conn_cbs_t){0}, NULL);
        nc_kit_close(in, "close(): the relay could not reach its target, so it closes this one");
        pair_free(p);
        return;
    }
    p->started = true;
    nc_kit_conn_start(p->in, &relay_cbs, p);
    nc_kit_conn_start(p->out, &relay_cbs, p);
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
    nc_kit_conn_set_owner(c, p);
    char say[200];
    snprintf(say, sizeof say, "connect() to %s:%d: the relay opens its own connection for %s",
             r->host, r->port, nc_kit_conn_peer(c));
    p->out = nc_kit_connect(r->k, r->host, r->port, true, relay_connected, p, say, NULL);
    if (!p->out) {
        nc_kit_conn_start(c, &(nc_kit_conn_cbs_t){0}, NULL);
        nc_kit_close(c, NULL);
        pair_free(p);
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
