/*
 * proxy.c: the kit's middleboxes that speak HTTP on both sides (a forward
 * proxy, a reverse proxy, a retrying proxy, and the L7 balancer's relay),
 * and the box itself: its listener, its clients, and its deadlines.
 *
 * Data model. An nc_kit_mbox_t (kit_impl.h) is one middlebox on one port:
 * its configuration, the list of its clients (nc_mb_client_t), and a sweep
 * timer that enforces every deadline at once (a retry's timeout, a client
 * that sends no whole request in time, a client that reads nothing back).
 * A client connection has an HTTP front (the kit's lenient server: a
 * malformed request is answered 400 and only that client goes), or, for
 * an L4 balancer and a CONNECT tunnel, a splice (balance.c, on splice.c).
 *
 * Each request a front hands over is copied (method, path, headers, body)
 * and relayed on an upstream connection of its own (nc_mb_up_t), opened
 * for it and closed after its answer: the ladder then shows the two TCP
 * connections of every proxied request, and which backend got it. The
 * answer is given back to the client with its hop-by-hop headers
 * (Connection, Keep-Alive, Transfer-Encoding, Proxy-Connection) dropped and
 * a Via added. Where the request goes is the box's decision, reported as an
 * app event on the client's connection before the upstream connect():
 *   forward  the absolute URI's host and port (CONNECT: a tunnel);
 *   reverse  the backend whose path prefix is the longest that fits;
 *   L7       the policy's pick (balance.c), unless the cache answers;
 *   retry    the one backend, again after each timeout, the timeout
 *            doubled each time (a POST sent twice is what lesson 27 shows).
 *
 * Ownership: the box owns its clients; a client owns its request copy and
 * points at its upstream, which points back until either lets go. Each is
 * freed by its connection's close callback; the box frees itself once it
 * is stopped and the last of them is gone.
 */
#include "kit_impl.h"

#include "../core/xmalloc.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NC_MB_MAX_CONNS 64
#define NC_MB_IDLE_MS 5000
#define NC_MB_SWEEP_MS 10
/* A client with this much of its answers not yet taken by the kernel is
 * reading nothing: past the idle time it is reset. */
#define NC_MB_STUCK_BYTES (256 * 1024)

static const char *const nc_mb_hop[] = {"Connection", "Keep-Alive", "Transfer-Encoding",
                                        "Proxy-Connection", "Content-Length", "Upgrade",
                                        "TE", "Trailer", "Proxy-Authorization"};

static bool nc_mb_is_hop(const char *name)
{
    for (size_t i = 0; i < sizeof nc_mb_hop / sizeof nc_mb_hop[0]; i++)
        if (strcasecmp(nc_mb_hop[i], name) == 0)
            return true;
    return false;
}

static const char *nc_mb_kind_name(nc_kit_mb_kind_t kind)
{
    static const char *const names[] = {"forward proxy", "reverse proxy", "retrying proxy",
                                        "L4 balancer", "L7 balancer"};
    return names[kind];
}

static uint64_t nc_mb_now(const nc_kit_mbox_t *mb)
{
    return uv_now(nc_kit_loop(mb->k));
}

/* ---- the box's life ---- */

static void nc_mb_free_box(nc_kit_mbox_t *mb);

static void nc_mb_sweep_closed(uv_handle_t *h)
{
    nc_kit_mbox_t *mb = h->data;
    mb->sweep.data = NULL;
    nc_mb_free_box(mb);
}

/* Frees the box once it is stopped and nothing refers to it. */
static void nc_mb_free_box(nc_kit_mbox_t *mb)
{
    if (!mb->stopped || mb->nclients || mb->nups || mb->sweep.data)
        return;
    nc__mb_cache_free(mb);
    free(mb);
}

static void nc_mb_request_done(nc_mb_client_t *cl)
{
    free(cl->method);
    free(cl->path);
    for (size_t i = 0; i < cl->nhd; i++) {
        free((char *)cl->hd[i].name);
        free((char *)cl->hd[i].value);
    }
    free(cl->hd);
    cl->method = cl->path = NULL;
    cl->hd = NULL;
    cl->nhd = 0;
    nc_buf_reset(&cl->body);
    cl->deadline = 0;
    cl->attempt = 0;
}

void nc__mb_up_free(nc_mb_up_t *up)
{
    nc_kit_mbox_t *mb = up->mb;
    if (up->backend >= 0 && mb->inflight[up->backend])
        mb->inflight[up->backend]--;
    if (up->cl && up->cl->up == up)
        up->cl->up = NULL;
    mb->nups--;
    free(up);
    nc_mb_free_box(mb);
}

void nc__mb_client_gone(nc_mb_client_t *cl)
{
    nc_kit_mbox_t *mb = cl->mb;
    if (cl->up) {
        cl->up->cl = NULL;
        if (cl->up->c)
            nc_kit_close(cl->up->c, cl->splice ? "close(): the client is gone, so the box closes "
                                                 "the other half of the splice"
                                               : "close(): the client is gone, so the box drops "
                                                 "its request upstream");
        cl->up = NULL;
    }
    if (cl->prev)
        cl->prev->next = cl->next;
    else
        mb->clients = cl->next;
    if (cl->next)
        cl->next->prev = cl->prev;
    mb->nclients--;
    nc_mb_request_done(cl);
    nc_buf_done(&cl->body);
    free(cl);
    nc_mb_free_box(mb);
}

void nc__mb_refuse(nc_mb_client_t *cl, const char *reason, const char *why)
{
    nc_kit_report(nc_kit_conn_kit(cl->c), cl->c, "refuse",
                  (nc_scn_kv_t[]){NC_KV_S("reason", reason)}, 1, NULL, "the %s refuses %s: %s",
                  nc_mb_kind_name(cl->mb->conf.kind), nc_kit_conn_peer(cl->c), why);
    nc_kit_reset(cl->c, "close() with SO_LINGER 0: the box drops this client at once (RST), "
                        "and only this one");
}

/* ---- answers to the client ---- */

/* Answers the client's request with what the box decided itself (an
 * error, or a cached answer). */
static void nc_mb_answer(nc_mb_client_t *cl, int status, const nc_kit_header_t *hd, size_t nhd,
                         const char *body, size_t len, const char *say)
{
    if (!cl->h || !cl->busy)
        return;
    cl->busy = false;
    cl->since = nc_mb_now(cl->mb);
    nc_mb_request_done(cl);
    nc_kit_http_respond(cl->h, status, hd, nhd, NC_KIT_BODY_FIXED, body, len, 0, say);
}

static void nc_mb_error(nc_mb_client_t *cl, int status, const char *text, const char *say)
{
    nc_kit_header_t hd[] = {{"Content-Type", "text/plain"}};
    nc_mb_answer(cl, status, hd, 1, text, strlen(text), say);
}

/* The upstream's answer, given back to the client. */
static void nc_mb_relay_answer(nc_mb_client_t *cl, const nc_kit_http_msg_t *resp, bool miss)
{
    nc_kit_header_t hd[40];
    size_t n = 0;
    for (size_t i = 0; i < resp->nheaders && n < 36; i++)
        if (!nc_mb_is_hop(resp->headers[i].name))
            hd[n++] = resp->headers[i];
    hd[n++] = (nc_kit_header_t){"Via", "1.1 netcourse"};
    if (miss)
        hd[n++] = (nc_kit_header_t){"X-Cache", "MISS"};
    char say[300];
    snprintf(say, sizeof say, "write() the backend's answer %d back to %s ({n} bytes)",
             resp->status, nc_kit_conn_peer(cl->c));
    nc_mb_answer(cl, resp->status, hd, n, resp->body ? resp->body : "", resp->body_len, say);
}

/* ---- upstream requests ---- */

static void nc_mb_attempt(nc_mb_client_t *cl);

static void nc_mb_up_response(nc_kit_http_t *h, const nc_kit_http_msg_t *resp, void *data)
{
    nc_mb_up_t *up = data;
    if (resp->status < 200 || up->answered)
        return;
    up->answered = true;
    nc_kit_close(up->c, "close(): the answer is in, so the box closes its upstream connection");
    nc_mb_client_t *cl = up->cl;
    if (!cl)
        return;
    cl->up = NULL;
    up->cl = NULL;
    bool cacheable = cl->mb->conf.cache && cl->method && strcmp(cl->method, "GET") == 0;
    if (cacheable)
        nc__mb_cache_put(cl->mb, cl->path, resp);
    nc_mb_relay_answer(cl, resp, cacheable);
}

static void nc_mb_up_gone(nc_kit_http_t *h, void *data)
{
    nc_mb_up_t *up = data;
    nc_mb_client_t *cl = up->cl;
    if (cl && !up->answered) {
        cl->up = NULL;
        up->cl = NULL;
        nc_mb_error(cl, 502, "the backend closed the connection without an answer\n", NULL);
    }
    nc__mb_up_free(up);
}

static void nc_mb_up_connected(nc_kit_conn_t *c, int status, void *data)
{
    nc_mb_up_t *up = data;
    nc_mb_client_t *cl = up->cl;
    if (status != 0) {
        up->c = NULL;
        if (cl) {
            cl->up = NULL;
            up->cl = NULL;
            nc_mb_error(cl, 502, "the backend cannot be reached\n",
                        "write() 502 Bad Gateway: the backend refused the connection");
        }
        nc__mb_up_free(up);
        return;
    }
    up->connected = true;
    nc_kit_conn_tolerant(c);
    nc_kit_http_t *h = nc_kit_http_client(c, nc_mb_up_response, NULL, nc_mb_up_gone, up);
    nc_kit_http_lenient(h);
    if (!cl) {
        nc_kit_close(c, "close(): the client is gone, so the box drops its request upstream");
        return;
    }
    nc_kit_t *k = cl->mb->k;
    nc_kit_report(k, c, "forward",
                  (nc_scn_kv_t[]){NC_KV_I("in_port", nc_kit_conn_port(cl->c, false)),
                                  NC_KV_I("in_peer_port", nc_kit_conn_port(cl->c, true)),
                                  NC_KV_S("backend", cl->host), NC_KV_S("path", cl->path)},
                  4, NULL, "the %s passes %s %s from %s on to %s:%d on this connection",
                  nc_mb_kind_name(cl->mb->conf.kind), cl->method, cl->path,
                  nc_kit_conn_peer(cl->c), cl->host, cl->port);
    /* The request as it came, less its hop-by-hop headers, plus who asked
     * (X-Forwarded-For) where the box terminates HTTP for a backend. */
    nc_kit_header_t hd[44];
    size_t n = 0;
    for (size_t i = 0; i < cl->nhd && n < 40; i++)
        if (!nc_mb_is_hop(cl->hd[i].name) && strcasecmp(cl->hd[i].name, "X-Forwarded-For") != 0)
            hd[n++] = cl->hd[i];
    char xff[200], ip[64];
    nc_kit_conn_peer_ip(cl->c, ip, sizeof ip);
    const char *before = NULL;
    for (size_t i = 0; i < cl->nhd; i++)
        if (strcasecmp(cl->hd[i].name, "X-Forwarded-For") == 0)
            before = cl->hd[i].value;
    if (cl->mb->conf.kind != NC_KIT_MB_FORWARD) {
        if (before)
            snprintf(xff, sizeof xff, "%s, %s", before, ip);
        else
            snprintf(xff, sizeof xff, "%s", ip);
        hd[n++] = (nc_kit_header_t){"X-Forwarded-For", xff};
    }
    hd[n++] = (nc_kit_header_t){"Connection", "close"};
    nc_kit_http_req_t r = {
        .method = cl->method,
        .path = cl->path,
        .headers = hd,
        .nheaders = n,
        .body = cl->body.len || strcmp(cl->method, "POST") == 0 || strcmp(cl->method, "PUT") == 0
                    ? nc_buf_cstr(&cl->body)
                    : NULL,
        .body_len = cl->body.len,
    };
    char say[300];
    snprintf(say, sizeof say, "write() %s %s to %s:%d%s", cl->method, cl->path, cl->host, cl->port,
             cl->attempt ? ": the same request again" : "");
    if (nc_kit_http_request(h, &r, say) != 0)
        nc_kit_close(c, NULL);
}

/* Opens an upstream connection for the client's request (a new one for
 * every attempt). */
static void nc_mb_attempt(nc_mb_client_t *cl)
{
    nc_kit_mbox_t *mb = cl->mb;
    nc_mb_up_t *up = nc_xcalloc(1, sizeof *up);
    up->cl = cl;
    up->mb = mb;
    up->backend = cl->backend;
    mb->nups++;
    if (up->backend >= 0)
        mb->inflight[up->backend]++;
    cl->up = up;
    if (mb->conf.kind == NC_KIT_MB_RETRY) {
        int t = mb->conf.timeout_ms > 0 ? mb->conf.timeout_ms : 100;
        cl->deadline = nc_mb_now(mb) + ((uint64_t)t << cl->attempt);
    }
    char say[300];
    snprintf(say, sizeof say, "connect() to %s:%d: the box opens its own connection for this "
             "request", cl->host, cl->port);
    up->c = nc_kit_connect(mb->k, cl->host, cl->port, false, nc_mb_up_connected, up, say, NULL);
    if (!up->c) {
        cl->up = NULL;
        nc__mb_up_free(up);
        nc_mb_error(cl, 502, "the backend cannot be reached\n", NULL);
    }
}

/* ---- where a request goes ---- */

/* "http://host[:port]/path" into host, port and the path's origin form. */
static bool nc_mb_absolute(const char *uri, char *host, size_t hostlen, int *port, const char **path)
{
    if (strncasecmp(uri, "http://", 7) != 0)
        return false;
    const char *h = uri + 7;
    size_t hl = strcspn(h, ":/?");
    if (hl == 0 || hl >= hostlen)
        return false;
    memcpy(host, h, hl);
    host[hl] = '\0';
    const char *p = h + hl;
    *port = 80;
    if (*p == ':') {
        char *end;
        long v = strtol(p + 1, &end, 10);
        if (v < 1 || v > 65535)
            return false;
        *port = (int)v;
        p = end;
    }
    *path = *p == '/' ? p : "/";
    return *p == '\0' || *p == '/';
}

/* A host the lab knows by name, or an IPv4 address. */
static bool nc_mb_reachable(nc_kit_mbox_t *mb, const char *host)
{
    struct in_addr a;
    return inet_pton(AF_INET, host, &a) == 1 || nc_lab_host_addr(nc_kit_scn(mb->k)->lab, host);
}

static void nc_mb_choose_report(nc_mb_client_t *cl, const char *why)
{
    nc_kit_mbox_t *mb = cl->mb;
    const char *policy = mb->conf.kind == NC_KIT_MB_L7 || mb->conf.kind == NC_KIT_MB_L4
                             ? (mb->conf.policy ? mb->conf.policy : "round-robin")
                             : nc_mb_kind_name(mb->conf.kind);
    nc_kit_report(mb->k, cl->c, "choose",
                  (nc_scn_kv_t[]){NC_KV_S("backend", cl->host), NC_KV_I("backend_port", cl->port),
                                  NC_KV_S("reason", why), NC_KV_S("policy", policy),
                                  NC_KV_S("path", cl->path ? cl->path : ""),
                                  NC_KV_I("index", cl->backend + 1)},
                  6, NULL, "the %s sends %s%s%s to %s:%d: %s", nc_mb_kind_name(mb->conf.kind),
                  cl->path ? cl->method : "this connection", cl->path ? " " : "",
                  cl->path ? cl->path : "", cl->host, cl->port, why);
}

static void nc_mb_use_backend(nc_mb_client_t *cl, int i)
{
    const nc_kit_backend_t *b = &cl->mb->conf.backend[i];
    cl->backend = i;
    snprintf(cl->host, sizeof cl->host, "%s", b->host);
    cl->port = b->port;
}

/* The reverse proxy's backend: the longest path prefix that fits. */
static int nc_mb_by_prefix(const nc_kit_mbox_t *mb, const char *path)
{
    int best = -1;
    size_t blen = 0;
    for (size_t i = 0; i < mb->conf.nbackends; i++) {
        size_t n = strlen(mb->conf.backend[i].prefix);
        if (strncmp(path, mb->conf.backend[i].prefix, n) == 0 && (best < 0 || n > blen)) {
            best = (int)i;
            blen = n;
        }
    }
    return best;
}

/* A cache hit answers at once, with no upstream request. */
static bool nc_mb_cached(nc_mb_client_t *cl)
{
    int status, max_age;
    const char *ctype, *body;
    size_t len;
    int64_t age;
    nc_kit_mbox_t *mb = cl->mb;
    bool hit = nc__mb_cache_get(mb, cl->path, &status, &ctype, &body, &len, &age, &max_age);
    if (!hit) {
        nc_kit_report(mb->k, cl->c, "cache",
                      (nc_scn_kv_t[]){NC_KV_I("hit", 0), NC_KV_S("path", cl->path)}, 2, NULL,
                      "cache miss: the balancer has no fresh answer for GET %s, so a backend "
                      "must answer", cl->path);
        return false;
    }
    nc_kit_report(mb->k, cl->c, "cache",
                  (nc_scn_kv_t[]){NC_KV_I("hit", 1), NC_KV_S("path", cl->path),
                                  NC_KV_I("age_ms", age), NC_KV_I("max_age", max_age)},
                  4, NULL, "cache hit: the balancer has GET %s, %lld ms old (fresh for %d s), "
                  "and answers without asking a backend", cl->path, (long long)age, max_age);
    char agebuf[32];
    snprintf(agebuf, sizeof agebuf, "%lld", (long long)(age / 1000));
    nc_kit_header_t hd[4];
    size_t n = 0;
    if (ctype)
        hd[n++] = (nc_kit_header_t){"Content-Type", ctype};
    hd[n++] = (nc_kit_header_t){"Age", agebuf};
    hd[n++] = (nc_kit_header_t){"X-Cache", "HIT"};
    nc_mb_answer(cl, status, hd, n, body, len,
                 "write() the cached answer: no backend hears of this request");
    return true;
}

static void nc_mb_request(nc_kit_http_t *h, const nc_kit_http_msg_t *req, void *data)
{
    nc_mb_client_t *cl = data;
    nc_kit_mbox_t *mb = cl->mb;
    cl->busy = true;
    cl->backend = -1;
    const char *path = req->path ? req->path : "/";
    if (strcmp(req->method, "CONNECT") == 0) {
        char host[64] = "";
        const char *colon = strrchr(path, ':');
        long port = colon ? strtol(colon + 1, NULL, 10) : 0;
        if (mb->conf.kind != NC_KIT_MB_FORWARD || !colon || port < 1 || port > 65535 ||
            (size_t)(colon - path) >= sizeof host) {
            nc_mb_error(cl, 400, "CONNECT host:port, to a forward proxy only\n", NULL);
            return;
        }
        snprintf(host, sizeof host, "%.*s", (int)(colon - path), path);
        if (!nc_mb_reachable(mb, host)) {
            nc_mb_error(cl, 502, "no such host in this lab\n", NULL);
            return;
        }
        nc_kit_report(mb->k, cl->c, "tunnel",
                      (nc_scn_kv_t[]){NC_KV_S("target", host), NC_KV_I("target_port", port)}, 2,
                      NULL, "CONNECT %s:%ld: the proxy opens a tunnel and from then on passes "
                      "bytes both ways without reading them", host, port);
        cl->busy = false;
        nc__mb_splice_begin(cl);
        nc_kit_http_detach(h, &nc__kit_splice_cbs, cl->sp); /* the splice takes the stream */
        cl->h = NULL;
        nc__mb_splice(cl, host, (int)port, -1, true);
        return;
    }
    cl->method = nc_xstrdup(req->method);
    cl->hd = nc_xcalloc(req->nheaders ? req->nheaders : 1, sizeof *cl->hd);
    for (size_t i = 0; i < req->nheaders; i++)
        cl->hd[cl->nhd++] = (nc_kit_header_t){nc_xstrdup(req->headers[i].name),
                                              nc_xstrdup(req->headers[i].value)};
    nc_buf_reset(&cl->body);
    nc_buf_append(&cl->body, req->body ? req->body : "", req->body_len);
    char why[200];
    switch (mb->conf.kind) {
    case NC_KIT_MB_FORWARD: {
        const char *origin;
        if (!nc_mb_absolute(path, cl->host, sizeof cl->host, &cl->port, &origin)) {
            cl->path = nc_xstrdup(path);
            nc_mb_error(cl, 400, "a forward proxy needs an absolute URI (http://host/path)\n",
                        NULL);
            return;
        }
        cl->path = nc_xstrdup(origin);
        if (!nc_mb_reachable(mb, cl->host)) {
            nc_mb_error(cl, 502, "no such host in this lab\n", NULL);
            return;
        }
        snprintf(why, sizeof why, "the request names http://%s:%d itself", cl->host, cl->port);
        break;
    }
    case NC_KIT_MB_REVERSE: {
        cl->path = nc_xstrdup(path);
        int i = nc_mb_by_prefix(mb, path);
        if (i < 0) {
            nc_mb_error(cl, 404, "no backend serves this path\n", NULL);
            return;
        }
        nc_mb_use_backend(cl, i);
        snprintf(why, sizeof why, "%s starts with %s, which that server serves", path,
                 mb->conf.backend[i].prefix[0] ? mb->conf.backend[i].prefix : "/");
        break;
    }
    case NC_KIT_MB_L7:
        cl->path = nc_xstrdup(path);
        if (mb->conf.cache && strcmp(req->method, "GET") == 0 && nc_mb_cached(cl))
            return;
        nc_mb_use_backend(cl, nc__mb_choose(mb, cl, why, sizeof why));
        break;
    default: /* retry */
        cl->path = nc_xstrdup(path);
        nc_mb_use_backend(cl, 0);
        snprintf(why, sizeof why, "its only backend; a try gets %d ms, then goes again (up to "
                 "%d more)", mb->conf.timeout_ms > 0 ? mb->conf.timeout_ms : 100,
                 mb->conf.retries);
        break;
    }
    nc_mb_choose_report(cl, why);
    nc_mb_attempt(cl);
}

static void nc_mb_front_gone(nc_kit_http_t *h, void *data)
{
    nc__mb_client_gone(data);
}

/* ---- the sweep: every deadline ---- */

static void nc_mb_timeout(nc_mb_client_t *cl)
{
    nc_kit_mbox_t *mb = cl->mb;
    nc_mb_up_t *up = cl->up;
    int t = mb->conf.timeout_ms > 0 ? mb->conf.timeout_ms : 100;
    cl->up = NULL;
    cl->deadline = 0;
    if (up) {
        up->cl = NULL;
        if (up->c)
            nc_kit_reset(up->c, "close() with SO_LINGER 0: the proxy gives up on this attempt "
                                "(RST); the backend may have done the work all the same");
    }
    if (cl->attempt >= mb->conf.retries) {
        nc_kit_report(mb->k, cl->c, "timeout",
                      (nc_scn_kv_t[]){NC_KV_I("attempt", cl->attempt + 1), NC_KV_S("path", cl->path)},
                      2, NULL, "no answer to %s %s after %d %s: the proxy gives up", cl->method,
                      cl->path, cl->attempt + 1, cl->attempt ? "tries" : "try");
        nc_mb_error(cl, 504, "the backend did not answer in time\n", NULL);
        return;
    }
    cl->attempt++;
    int next = t << cl->attempt;
    nc_kit_report(mb->k, cl->c, "retry",
                  (nc_scn_kv_t[]){NC_KV_I("attempt", cl->attempt + 1),
                                  NC_KV_I("timeout_ms", next), NC_KV_S("path", cl->path)},
                  3, NULL, "no answer to %s %s within %d ms: the proxy sends it again (try %d, "
                  "now waiting %d ms)", cl->method, cl->path, t << (cl->attempt - 1),
                  cl->attempt + 1, next);
    nc_mb_attempt(cl);
}

static void nc_mb_sweep(uv_timer_t *t)
{
    nc_kit_mbox_t *mb = t->data;
    uint64_t now = nc_mb_now(mb);
    uint64_t idle = (uint64_t)(mb->conf.idle_ms > 0 ? mb->conf.idle_ms : NC_MB_IDLE_MS);
    for (nc_mb_client_t *cl = mb->clients, *next; cl; cl = next) {
        next = cl->next;
        if (nc_kit_conn_closing(cl->c))
            continue;
        if (cl->busy && cl->deadline && now >= cl->deadline) {
            nc_mb_timeout(cl);
            continue;
        }
        size_t queued = nc_kit_conn_queued(cl->c);
        if (queued < NC_MB_STUCK_BYTES)
            cl->stuck = 0;
        else if (!cl->stuck)
            cl->stuck = now;
        if (cl->stuck && now - cl->stuck > idle) {
            nc__mb_refuse(cl, "not reading", "it has left answers unread too long");
            continue;
        }
        if (!cl->busy && !cl->splice && now - cl->since > idle)
            nc__mb_refuse(cl, "idle", "no whole request came in time (a slow or idle client)");
    }
}

/* ---- accepting ---- */

/*
 * The HTTP front of a client connection. With tls, an L7 balancer ends the
 * client's TLS here (tls.c: a TLS server under the HTTP server, which reads
 * the plaintext), and speaks plain HTTP to its backends: the balancer is
 * where TLS ends, and the only one that sees both the request and the
 * client's encrypted bytes.
 */
static void nc_mb_front(nc_mb_client_t *cl)
{
    if (cl->mb->conf.tls) {
        nc_kit_tls_opts_t o = {.alpn = "http/1.1"};
        nc_kit_tls_start(cl->c, true, &o, NULL, NULL);
    }
    cl->h = nc_kit_http_server(cl->c, nc_mb_request, nc_mb_front_gone, cl);
    nc_kit_http_lenient(cl->h);
}

static void nc_mb_accepted(nc_kit_listener_t *l, nc_kit_conn_t *c, void *data)
{
    nc_kit_mbox_t *mb = data;
    size_t max = mb->conf.max_conns ? mb->conf.max_conns : NC_MB_MAX_CONNS;
    nc_kit_conn_tolerant(c);
    if (mb->stopped || mb->nclients >= max) {
        nc_kit_report(mb->k, c, "refuse", (nc_scn_kv_t[]){NC_KV_S("reason", "full")}, 1, NULL,
                      "the %s already holds %zu clients: it refuses %s", nc_mb_kind_name(mb->conf.kind),
                      mb->nclients, nc_kit_conn_peer(c));
        nc_kit_reset(c, "close() with SO_LINGER 0: no room for another client (RST)");
        return;
    }
    nc_mb_client_t *cl = nc_xcalloc(1, sizeof *cl);
    cl->mb = mb;
    cl->c = c;
    cl->backend = -1;
    cl->since = nc_mb_now(mb);
    nc_buf_init(&cl->body);
    cl->next = mb->clients;
    if (cl->next)
        cl->next->prev = cl;
    mb->clients = cl;
    if (++mb->nclients > mb->peak)
        mb->peak = mb->nclients;
    if (mb->conf.kind == NC_KIT_MB_L4) {
        char why[200];
        nc__mb_splice_begin(cl);
        int i = nc__mb_choose(mb, cl, why, sizeof why);
        nc_mb_use_backend(cl, i);
        nc_mb_choose_report(cl, why);
        nc__mb_splice(cl, cl->host, cl->port, i, false);
        return;
    }
    nc_mb_front(cl);
}

nc_kit_mbox_t *nc_kit_mbox_start(nc_kit_t *k, int port, const nc_kit_mb_conf_t *conf,
                                 const char *say)
{
    nc_kit_mbox_t *mb = nc_xcalloc(1, sizeof *mb);
    mb->k = k;
    mb->conf = *conf;
    char text[300];
    snprintf(text, sizeof text, "the %s is ready%s%s", nc_mb_kind_name(conf->kind),
             say ? ": " : "", say ? say : "");
    mb->l = nc_kit_listen(k, port, 64, nc_mb_accepted, mb, text);
    if (!mb->l) {
        free(mb);
        return NULL;
    }
    uv_timer_init(nc_kit_loop(k), &mb->sweep);
    mb->sweep.data = mb;
    uv_timer_start(&mb->sweep, nc_mb_sweep, NC_MB_SWEEP_MS, NC_MB_SWEEP_MS);
    return mb;
}

void nc_kit_mbox_stop(nc_kit_mbox_t *mb)
{
    if (!mb || mb->stopped)
        return;
    mb->stopped = true;
    nc_kit_listener_close(mb->l);
    mb->l = NULL;
    for (nc_mb_client_t *cl = mb->clients; cl; cl = cl->next)
        nc_kit_close(cl->c, NULL);
    uv_close((uv_handle_t *)&mb->sweep, nc_mb_sweep_closed);
}

size_t nc_kit_mbox_clients(const nc_kit_mbox_t *mb)
{
    return mb->nclients;
}

size_t nc_kit_mbox_peak(const nc_kit_mbox_t *mb)
{
    return mb->peak;
}
