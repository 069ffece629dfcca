/*
 * balance.c: what a balancer decides and keeps: its policies, the L7
 * balancer's cache, and the splice that an L4 balancer (and a forward
 * proxy's CONNECT tunnel) is made of.
 *
 * Data model. A policy is a row of nc_mb_policies: a name and a function
 * that picks a backend index for a client and says why in a sentence. An
 * L4 balancer asks once per connection (the connection is then pinned to
 * that backend); an L7 balancer once per request.
 *
 * The cache (nc_mb_cached_t, at most NC_MB_CACHE entries, oldest replaced)
 * keeps a 200 answer to a GET for as long as its Cache-Control max-age
 * says, unless it says no-store, no-cache or private: the path, status,
 * Content-Type and body (64 KiB at most), and when it was stored.
 *
 * The splice joins a client connection and an upstream connection without
 * reading what passes: splice.c passes the bytes (with its bounds); this
 * file opens the upstream half, reports it, and answers a CONNECT.
 *
 * Ownership: entries belong to the box (nc__mb_cache_free); the splice's
 * halves are the client (proxy.c's) and an nc_mb_up_t, each freed when
 * splice.c says its connection is gone.
 */
#include "kit_impl.h"

#include "../core/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NC_MB_CACHE_BODY (64 * 1024)

/* ---- policies ---- */

static int nc_mb_round_robin(nc_kit_mbox_t *mb, const nc_mb_client_t *cl, char *why, size_t len)
{
    size_t n = mb->conf.nbackends;
    int i = (int)(mb->rr++ % n);
    snprintf(why, len, "round robin: backend %d of %zu, the next in turn", i + 1, n);
    return i;
}

static int nc_mb_least_conn(nc_kit_mbox_t *mb, const nc_mb_client_t *cl, char *why, size_t len)
{
    size_t n = mb->conf.nbackends;
    size_t best = mb->rr % n;
    for (size_t k = 0; k < n; k++) {
        size_t i = (mb->rr + k) % n;
        if (mb->inflight[i] < mb->inflight[best])
            best = i;
    }
    mb->rr++;
    snprintf(why, len, "least connections: backend %zu has %zu in flight, no other has fewer",
             best + 1, mb->inflight[best]);
    return (int)best;
}

static int nc_mb_source_hash(nc_kit_mbox_t *mb, const nc_mb_client_t *cl, char *why, size_t len)
{
    const char *peer = nc_kit_conn_peer(cl->c);
    size_t plen = strcspn(peer, ":");
    uint32_t h = 2166136261u; /* FNV-1a over the client's address */
    for (size_t i = 0; i < plen; i++)
        h = (h ^ (unsigned char)peer[i]) * 16777619u;
    int i = (int)(h % mb->conf.nbackends);
    snprintf(why, len, "source hash: the address %.*s always maps to backend %d", (int)plen, peer,
             i + 1);
    return i;
}

static const struct {
    const char *name;
    int (*choose)(nc_kit_mbox_t *mb, const nc_mb_client_t *cl, char *why, size_t len);
} nc_mb_policies[] = {
    {"round-robin", nc_mb_round_robin},
    {"least-conn", nc_mb_least_conn},
    {"source-hash", nc_mb_source_hash},
};

const char *const nc_kit_policy_names = "round-robin, least-conn, source-hash";

bool nc_kit_policy_known(const char *name)
{
    for (size_t i = 0; i < sizeof nc_mb_policies / sizeof nc_mb_policies[0]; i++)
        if (strcmp(nc_mb_policies[i].name, name) == 0)
            return true;
    return false;
}

int nc__mb_choose(nc_kit_mbox_t *mb, const nc_mb_client_t *cl, char *why, size_t whylen)
{
    const char *name = mb->conf.policy ? mb->conf.policy : "round-robin";
    for (size_t i = 0; i < sizeof nc_mb_policies / sizeof nc_mb_policies[0]; i++)
        if (strcmp(nc_mb_policies[i].name, name) == 0)
            return nc_mb_policies[i].choose(mb, cl, why, whylen);
    return nc_mb_round_robin(mb, cl, why, whylen);
}

/* ---- the cache ---- */

struct nc_mb_cached {
    char *path, *ctype;
    int status, max_age;
    char *body;
    size_t len;
    uint64_t stored; /* uv_now */
};

static void nc_mb_cached_free(nc_mb_cached_t *e)
{
    if (!e)
        return;
    free(e->path);
    free(e->ctype);
    free(e->body);
    free(e);
}

bool nc__mb_cache_get(nc_kit_mbox_t *mb, const char *path, int *status, const char **ctype,
                      const char **body, size_t *len, int64_t *age_ms, int *max_age)
{
    uint64_t now = uv_now(nc_kit_loop(mb->k));
    for (size_t i = 0; i < NC_MB_CACHE; i++) {
        nc_mb_cached_t *e = mb->cache[i];
        if (!e || strcmp(e->path, path) != 0)
            continue;
        if (now - e->stored >= (uint64_t)e->max_age * 1000)
            return false; /* stale: the next answer replaces it */
        *status = e->status;
        *ctype = e->ctype;
        *body = e->body;
        *len = e->len;
        *age_ms = (int64_t)(now - e->stored);
        *max_age = e->max_age;
        return true;
    }
    return false;
}

void nc__mb_cache_put(nc_kit_mbox_t *mb, const char *path, const nc_kit_http_msg_t *resp)
{
    const char *cc = nc_kit_http_header(resp, "Cache-Control");
    const char *ma = cc ? strstr(cc, "max-age=") : NULL;
    if (resp->status != 200 || !ma || strstr(cc, "no-store") || strstr(cc, "no-cache") ||
        strstr(cc, "private") || resp->body_len > NC_MB_CACHE_BODY)
        return;
    long age = strtol(ma + 8, NULL, 10);
    if (age <= 0)
        return;
    size_t slot = 0;
    for (size_t i = 0; i < NC_MB_CACHE; i++) {
        nc_mb_cached_t *e = mb->cache[i];
        if (!e || strcmp(e->path, path) == 0) {
            slot = i;
            break;
        }
        if (mb->cache[slot] && e->stored < mb->cache[slot]->stored)
            slot = i;
    }
    nc_mb_cached_free(mb->cache[slot]);
    nc_mb_cached_t *e = nc_xcalloc(1, sizeof *e);
    e->path = nc_xstrdup(path);
    const char *ct = nc_kit_http_header(resp, "Content-Type");
    e->ctype = ct ? nc_xstrdup(ct) : NULL;
    e->status = resp->status;
    e->max_age = age > 86400 ? 86400 : (int)age;
    e->body = nc_xmalloc(resp->body_len + 1);
    memcpy(e->body, resp->body ? resp->body : "", resp->body_len);
    e->len = resp->body_len;
    e->stored = uv_now(nc_kit_loop(mb->k));
    mb->cache[slot] = e;
    nc_kit_report(mb->k, NULL, "store",
                  (nc_scn_kv_t[]){NC_KV_S("path", path), NC_KV_I("max_age", e->max_age)}, 2, NULL,
                  "the balancer keeps the answer to GET %s: Cache-Control lets it reuse it for "
                  "%d s", path, e->max_age);
}

void nc__mb_cache_free(nc_kit_mbox_t *mb)
{
    for (size_t i = 0; i < NC_MB_CACHE; i++) {
        nc_mb_cached_free(mb->cache[i]);
        mb->cache[i] = NULL;
    }
}

/* ---- the splice ---- */

/*
 * The box's side of a splice (splice.c passes the bytes): in is the
 * client (its owner cl), out the upstream (its owner an nc_mb_up_t).
 */
static void nc_mb_splice_gone(nc_kit_splice_t *sp, int side, void *owner)
{
    if (side == NC_SPLICE_IN) {
        nc__mb_client_gone(owner);
        return;
    }
    nc_mb_up_t *up = owner;
    if (up->cl)
        up->cl->up = NULL;
    nc__mb_up_free(up);
}

static void nc_mb_splice_flood(nc_kit_splice_t *sp, void *owner)
{
    nc__mb_refuse(owner, "flood", "it sent too much before the upstream was connected");
}

static const nc_kit_splice_hooks_t nc_mb_splice_hooks = {
    .box = "box",
    .gone = nc_mb_splice_gone,
    .flood = nc_mb_splice_flood,
};

void nc__mb_splice_begin(nc_mb_client_t *cl)
{
    cl->splice = true;
    cl->sp = nc__kit_splice_new(&nc_mb_splice_hooks, cl->c, cl);
}

static void nc_mb_splice_connected(nc_kit_conn_t *c, int status, void *data)
{
    nc_mb_up_t *up = data;
    nc_mb_client_t *cl = up->cl;
    if (status != 0) {
        up->c = NULL;
        nc__kit_splice_out_failed(up->sp);
        if (cl) {
            static const char bad[] = "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n";
            if (!cl->h && cl->mb->conf.kind == NC_KIT_MB_FORWARD)
                nc_kit_write(cl->c, bad, sizeof bad - 1, "write() 502: the tunnel's far end "
                                                        "cannot be reached");
            nc_kit_close(cl->c, NULL);
        }
        nc__mb_up_free(up);
        return;
    }
    up->connected = true;
    nc_kit_conn_tolerant(c);
    if (cl) {
        nc_kit_report(cl->mb->k, c, "forward",
                      (nc_scn_kv_t[]){NC_KV_I("in_port", nc_kit_conn_port(cl->c, false)),
                                      NC_KV_I("in_peer_port", nc_kit_conn_port(cl->c, true)),
                                      NC_KV_S("backend", cl->host)},
                      3, NULL, "the box splices %s to %s:%d: one connection in, this one out, "
                      "for as long as they last", nc_kit_conn_peer(cl->c), cl->host, cl->port);
        if (cl->mb->conf.kind == NC_KIT_MB_FORWARD) {
            static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
            nc_kit_write(cl->c, ok, sizeof ok - 1,
                         "write() 200 Connection established: the tunnel is open");
        }
    }
    /* Without its client the splice closes this half at once. */
    nc__kit_splice_out(up->sp, c, up);
}

void nc__mb_splice(nc_mb_client_t *cl, const char *host, int port, int backend, bool reply)
{
    nc_kit_mbox_t *mb = cl->mb;
    if (!reply)
        nc_kit_conn_start(cl->c, &nc__kit_splice_cbs, cl->sp);
    if (host != cl->host)
        snprintf(cl->host, sizeof cl->host, "%s", host);
    cl->port = port;
    nc_mb_up_t *up = nc_xcalloc(1, sizeof *up);
    up->cl = cl;
    up->mb = mb;
    up->sp = cl->sp;
    up->backend = backend;
    mb->nups++;
    if (backend >= 0)
        mb->inflight[backend]++;
    cl->up = up;
    nc__kit_splice_connecting(cl->sp);
    char say[300];
    snprintf(say, sizeof say, "connect() to %s:%d: the box opens the other half of the %s", host,
             port, reply ? "tunnel" : "splice");
    up->c = nc_kit_connect(mb->k, host, port, false, nc_mb_splice_connected, up, say, NULL);
    if (!up->c) {
        nc__kit_splice_out_failed(cl->sp);
        cl->up = NULL;
        nc__mb_up_free(up);
        nc_kit_close(cl->c, NULL);
    }
}
