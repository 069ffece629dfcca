/*
 * pool.c: a page's resources fetched over a pool of HTTP/1.1 connections,
 * the way a browser does it (at most six connections to one origin).
 *
 * Data model. An nc_kit_pool_t owns the list of paths still to ask for (a
 * queue: `next` is the first not yet sent) and up to NC_KIT_POOL_MAX
 * slots, each one keep-alive HTTP/1.1 connection (nc_kit_http_t, owned by
 * the kit) with at most one request on it at a time. The pool opens its
 * slots at once; a slot that is connected, or whose answer just came,
 * takes the next path from the queue, and closes when the queue is empty.
 * HTTP/1.1 answers in order on a connection, so a request that finds every
 * slot busy waits in the queue: its write() says how long it waited
 * (`queued_ms`) and on which connection it left (`slot`, 1-based), and
 * carries its place in the page (`resource`). When every answer is in,
 * done is called once. The pool frees itself when its last connection has
 * closed, after done (or after nc_kit_pool_abandon: its owner went away).
 */
#include "kit_impl.h"

#include "../core/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NC_KIT_POOL_MAX 16

typedef struct nc_kit_pool_slot {
    nc_kit_pool_t *p;
    nc_kit_http_t *h; /* NULL until connected, and once closed */
    nc_kit_conn_t *c;
    int index; /* 1-based */
    bool busy, closed;
} nc_kit_pool_slot_t;

struct nc_kit_pool {
    nc_kit_t *kit;
    char **paths; /* owned, npaths of them */
    size_t npaths, next, answered;
    uint64_t t0; /* uv_hrtime() when the page was asked for */
    nc_kit_pool_slot_t slot[NC_KIT_POOL_MAX];
    size_t nslots, open; /* slots made; slots not closed yet */
    nc_kit_pool_done_cb done;
    void *data;
};

static void nc_kit_pool_free(nc_kit_pool_t *p)
{
    for (size_t i = 0; i < p->npaths; i++)
        free(p->paths[i]);
    free(p->paths);
    free(p);
}

/* Calls done once, with whatever came in. */
static void nc_kit_pool_settle(nc_kit_pool_t *p)
{
    nc_kit_pool_done_cb done = p->done;
    p->done = NULL;
    if (done)
        done(p, p->data);
}

/* The slot is free: it takes the next path, or closes when none is left. */
static void nc_kit_pool_take(nc_kit_pool_slot_t *s)
{
    nc_kit_pool_t *p = s->p;
    if (p->next == p->npaths) {
        if (!nc_kit_conn_closing(s->c))
            nc_kit_close(s->c, NULL);
        return;
    }
    size_t i = p->next++;
    int64_t waited = (int64_t)((uv_hrtime() - p->t0) / 1000000);
    char say[400];
    if (i < p->nslots)
        snprintf(say, sizeof say, "write() GET %s on connection %d of the pool", p->paths[i],
                 s->index);
    else
        snprintf(say, sizeof say,
                 "write() GET %s on connection %d, the first to come free: it "
                 "waited %lld ms in the queue",
                 p->paths[i], s->index, (long long)waited);
    nc_kit_conn_note(s->c, "slot", s->index);
    nc_kit_conn_note(s->c, "resource", (int64_t)i + 1);
    nc_kit_conn_note(s->c, "queued_ms", i < p->nslots ? 0 : waited);
    s->busy = true;
    nc_kit_http_req_t r = {.method = "GET", .path = p->paths[i]};
    if (nc_kit_http_request(s->h, &r, say) != 0)
        nc_kit_close(s->c, NULL);
}

static void nc_kit_pool_answer(nc_kit_http_t *h, const nc_kit_http_msg_t *resp, void *data)
{
    nc_kit_pool_slot_t *s = data;
    nc_kit_pool_t *p = s->p;
    if (resp->status == 100 || !s->busy)
        return;
    s->busy = false;
    if (++p->answered == p->npaths)
        nc_kit_pool_settle(p);
    nc_kit_pool_take(s);
}

static void nc_kit_pool_gone(nc_kit_http_t *h, void *data)
{
    (void)h;
    nc_kit_pool_slot_t *s = data;
    nc_kit_pool_t *p = s->p;
    s->h = NULL;
    s->closed = true;
    p->open--;
    /* The server closed under a request, or every connection is gone
     * with paths left: the page will not complete. */
    if (s->busy || (p->open == 0 && p->answered < p->npaths))
        nc_kit_pool_settle(p);
    if (p->open == 0)
        nc_kit_pool_free(p);
}

static void nc_kit_pool_connected(nc_kit_conn_t *c, int status, void *data)
{
    nc_kit_pool_slot_t *s = data;
    nc_kit_pool_t *p = s->p;
    if (status != 0) {
        s->closed = true;
        nc_kit_pool_settle(p);
        if (--p->open == 0)
            nc_kit_pool_free(p);
        return;
    }
    s->h = nc_kit_http_client(c, nc_kit_pool_answer, NULL, nc_kit_pool_gone, s);
    nc_kit_pool_take(s);
}

nc_kit_pool_t *nc_kit_pool_get(nc_kit_t *k, const char *host, int port, char **paths, size_t npaths,
                               size_t size, nc_kit_pool_done_cb done, void *data)
{
    nc_kit_pool_t *p = nc_xcalloc(1, sizeof *p);
    p->kit = k;
    p->paths = paths;
    p->npaths = npaths;
    p->done = done;
    p->data = data;
    p->t0 = uv_hrtime();
    if (size > NC_KIT_POOL_MAX)
        size = NC_KIT_POOL_MAX;
    p->nslots = size < npaths ? size : npaths;
    for (size_t i = 0; i < p->nslots; i++) {
        nc_kit_pool_slot_t *s = &p->slot[i];
        s->p = p;
        s->index = (int)i + 1;
        char say[200];
        snprintf(say, sizeof say, "connect(): connection %d of the pool of %zu", s->index,
                 p->nslots);
        p->open++;
        s->c = nc_kit_connect(k, host, port, false, nc_kit_pool_connected, s, say, NULL);
        if (!s->c) {
            p->open--;
            s->closed = true;
        }
    }
    if (p->open == 0) {
        nc_kit_pool_free(p);
        return NULL;
    }
    return p;
}

void nc_kit_pool_abandon(nc_kit_pool_t *p)
{
    p->done = NULL;
    for (size_t i = 0; i < p->nslots; i++)
        if (p->slot[i].h && !nc_kit_conn_closing(p->slot[i].c))
            nc_kit_close(p->slot[i].c, NULL);
}
