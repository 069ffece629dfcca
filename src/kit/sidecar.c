/*
 * sidecar.c: a sidecar proxy, the box that sits beside an application on
 * its own host and speaks the network's protocol for it.
 *
 * Data model. A sidecar is a listener on the program's host and one remote
 * service (host, port). The application connects to the listener and
 * speaks plain HTTP/1.1 (the kit's lenient HTTP server, http.c, parses
 * it); each request becomes an nc_sc_req_t in the sidecar's list, in the
 * order requests arrived. The sidecar keeps ONE upstream connection to the
 * service: TCP, then TLS with ALPN h2 (tls.c, whose secrets go to the
 * run's key log, so the outside leg is decrypted in the timeline and in a
 * saved run), then an HTTP/2 client session (h2.c). Every request is sent
 * as a stream on that connection; requests that come while it is being
 * opened wait and leave together, one HEADERS frame each, in one write.
 * Answers come back on their streams in any order; each front (one
 * application connection) is answered in the order its requests came, as
 * HTTP/1.1 demands.
 *
 * The sidecar's decisions are app events of its host:
 *   "request"   on the application's connection: method, path, proto
 *               (what the application spoke);
 *   "upstream"  the sidecar opens its connection to the service (conns:
 *               how many it has opened so far, waiting: requests queued);
 *   "stream"    on the upstream connection: the request leaves as stream
 *               N (stream, method, path, in_peer_port, conns, reused: the
 *               connection was already open when the request came);
 *   "answer"    on the application's connection: status, stream, bytes;
 *   "refuse"    a request the sidecar cannot carry (a body on a method
 *               other than POST), answered 501, or an upstream that
 *               failed (502 to every request on it).
 *
 * Ownership. The sidecar owns its fronts and its requests; a request
 * points at its front until the front goes (then its answer is dropped).
 * Fronts and the upstream are freed by their connections' close
 * callbacks; nc_kit_sidecar_close closes everything, and the sidecar is
 * freed once its last front and its upstream are gone.
 */
#include "kit.h"

#include "../core/buf.h"
#include "../core/xmalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NC_SC_HEADERS 24

typedef struct nc_sc_front nc_sc_front_t;
typedef struct nc_sc_req nc_sc_req_t;

/* Where the one upstream connection is. */
enum { NC_SC_NONE, NC_SC_OPENING, NC_SC_READY };

struct nc_kit_sidecar {
    nc_kit_t *k;
    nc_kit_listener_t *l;
    char *host;
    int port;
    int state;
    nc_kit_h2_t *h2;      /* the upstream session, NULL unless OPENING or READY */
    nc_kit_conn_t *up;    /* its connection */
    size_t conns;         /* upstream connections opened so far */
    size_t requests;      /* requests taken so far */
    nc_sc_front_t *fronts;
    nc_sc_req_t *reqs, **tail; /* every request not yet answered, oldest first */
    bool closed;
};

/* One application connection. */
struct nc_sc_front {
    nc_kit_sidecar_t *sc;
    nc_kit_http_t *h;
    nc_sc_front_t *prev, *next;
};

/* One request: its copy, its stream, and its answer once it came. */
struct nc_sc_req {
    nc_sc_req_t *next;
    nc_sc_front_t *front; /* NULL once the application hung up */
    char *method, *path;
    nc_kit_header_t hd[NC_SC_HEADERS]; /* lowercase names; all owned */
    size_t nhd;
    nc_buf_t body;
    int32_t stream;       /* 0 while waiting for the upstream */
    bool done;
    bool answered;        /* the service answered (else the status is the sidecar's) */
    int status;
    nc_kit_header_t ahd[NC_SC_HEADERS];
    size_t nahd;
    nc_buf_t answer;
};

/* Headers that belong to one HTTP/1.1 connection (and Host, which HTTP/2
 * carries as :authority): none of them may cross into HTTP/2. */
static const char *const nc_sc_hop[] = {"connection", "keep-alive", "transfer-encoding",
                                        "proxy-connection", "content-length", "upgrade",
                                        "te", "trailer", "host"};

static bool nc_sc_is_hop(const char *name)
{
    for (size_t i = 0; i < sizeof nc_sc_hop / sizeof nc_sc_hop[0]; i++)
        if (strcasecmp(nc_sc_hop[i], name) == 0)
            return true;
    return false;
}

/* Copies the end-to-end headers of m into out, names in lowercase. */
static size_t nc_sc_copy_headers(nc_kit_header_t *out, const nc_kit_http_msg_t *m)
{
    size_t n = 0;
    for (size_t i = 0; i < m->nheaders && n < NC_SC_HEADERS; i++) {
        if (nc_sc_is_hop(m->headers[i].name) || m->headers[i].name[0] == ':')
            continue;
        char *name = nc_xstrdup(m->headers[i].name);
        for (char *p = name; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        out[n++] = (nc_kit_header_t){name, nc_xstrdup(m->headers[i].value)};
    }
    return n;
}

static void nc_sc_headers_free(nc_kit_header_t *hd, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free((char *)hd[i].name);
        free((char *)hd[i].value);
    }
}

static void nc_sc_req_free(nc_sc_req_t *r)
{
    free(r->method);
    free(r->path);
    nc_sc_headers_free(r->hd, r->nhd);
    nc_sc_headers_free(r->ahd, r->nahd);
    nc_buf_done(&r->body);
    nc_buf_done(&r->answer);
    free(r);
}

static void nc_sc_free(nc_kit_sidecar_t *sc)
{
    if (!sc->closed || sc->fronts || sc->h2 || sc->up)
        return;
    while (sc->reqs) {
        nc_sc_req_t *r = sc->reqs;
        sc->reqs = r->next;
        nc_sc_req_free(r);
    }
    free(sc->host);
    free(sc);
}

/* Unlinks the request r (prev points at the link to it). */
static void nc_sc_unlink(nc_kit_sidecar_t *sc, nc_sc_req_t **prev, nc_sc_req_t *r)
{
    *prev = r->next;
    if (sc->tail == &r->next)
        sc->tail = prev;
}

/* Drops the answered requests nobody waits for, and answers each front
 * in order: a front's oldest request first, while it has its answer. */
static void nc_sc_flush(nc_kit_sidecar_t *sc)
{
    for (nc_sc_front_t *f = sc->fronts; f; f = f->next) {
        nc_sc_req_t **prev = &sc->reqs;
        while (*prev) {
            nc_sc_req_t *r = *prev;
            if (r->front != f) {
                prev = &r->next;
                continue;
            }
            if (!r->done)
                break;
            char say[300];
            if (r->answered)
                snprintf(say, sizeof say, "write() HTTP/1.1 %d to the application: the answer "
                         "of HTTP/2 stream %d, turned back into HTTP/1.1 ({n} bytes)", r->status,
                         (int)r->stream);
            else
                snprintf(say, sizeof say, "write() HTTP/1.1 %d to the application: the "
                         "sidecar's own answer, the service gave none ({n} bytes)", r->status);
            nc_kit_report(sc->k, nc_kit_http_conn(f->h), "answer",
                          (nc_scn_kv_t[]){NC_KV_I("status", r->status),
                                          NC_KV_I("stream", r->stream),
                                          NC_KV_S("path", r->path),
                                          NC_KV_I("bytes", (int64_t)r->answer.len)},
                          4, NULL, r->answered ? "the sidecar has the answer to %s %s (stream "
                          "%d, %d): it hands it to the application in HTTP/1.1"
                          : "the service gave no answer to %s %s (stream %d): the sidecar "
                          "answers %d itself", r->method, r->path, (int)r->stream, r->status);
            nc_kit_http_respond(f->h, r->status, r->ahd, r->nahd, NC_KIT_BODY_FIXED,
                                nc_buf_cstr(&r->answer), r->answer.len, 0, say);
            nc_sc_unlink(sc, prev, r);
            nc_sc_req_free(r);
        }
    }
    nc_sc_req_t **prev = &sc->reqs;
    while (*prev) {
        nc_sc_req_t *r = *prev;
        if (r->done && !r->front) {
            nc_sc_unlink(sc, prev, r);
            nc_sc_req_free(r);
        } else {
            prev = &r->next;
        }
    }
}

/* Ends r with a status of the sidecar's own (502, 501). */
static void nc_sc_fail_req(nc_sc_req_t *r, int status)
{
    r->done = true;
    r->status = status;
    nc_buf_reset(&r->answer);
}

/* ---- the upstream: TCP, TLS with ALPN h2, HTTP/2 ---- */

/* The upstream could not be opened: every request still waiting gets 502. */
static void nc_sc_fail_waiting(nc_kit_sidecar_t *sc)
{
    for (nc_sc_req_t *r = sc->reqs; r; r = r->next) {
        if (r->done)
            continue;
        nc_sc_fail_req(r, 502);
        if (r->front)
            nc_kit_report(sc->k, nc_kit_http_conn(r->front->h), "refuse",
                          (nc_scn_kv_t[]){NC_KV_S("reason", "no connection to the service"),
                                          NC_KV_S("path", r->path)},
                          2, NULL, "the sidecar cannot reach %s:%d: it answers %s with 502",
                          sc->host, sc->port, r->path);
    }
    nc_sc_flush(sc);
}

static void nc_sc_open(nc_kit_sidecar_t *sc);

/* Sends every waiting request as a stream of its own, in one write. */
static void nc_sc_send_waiting(nc_kit_sidecar_t *sc, bool reused)
{
    size_t sent = 0;
    for (nc_sc_req_t *r = sc->reqs; r; r = r->next) {
        if (r->stream || r->done)
            continue;
        int32_t id;
        if (r->body.len) {
            id = nc_kit_h2_open(sc->h2, 0, r->path, 0, r->hd, r->nhd);
            if (id > 0) {
                nc_kit_h2_put(sc->h2, id, r->body.data, r->body.len);
                nc_kit_h2_end(sc->h2, id, NULL, 0);
            }
        } else {
            id = nc_kit_h2_submit(sc->h2, r->method, r->path, r->hd, r->nhd);
        }
        if (id <= 0) {
            nc_sc_fail_req(r, 502);
            continue;
        }
        r->stream = id;
        sent++;
        int in_peer = r->front ? nc_kit_conn_port(nc_kit_http_conn(r->front->h), true) : 0;
        nc_kit_report(sc->k, sc->up, "stream",
                      (nc_scn_kv_t[]){NC_KV_I("stream", id), NC_KV_S("method", r->method),
                                      NC_KV_S("path", r->path),
                                      NC_KV_I("in_peer_port", in_peer),
                                      NC_KV_I("conns", (int64_t)sc->conns),
                                      NC_KV_B("reused", reused)},
                      6, NULL, "%s %s leaves as HTTP/2 stream %d on the sidecar's one connection "
                      "to %s:%d%s", r->method, r->path, (int)id, sc->host, sc->port,
                      reused ? " (already open: no new handshake)" : "");
    }
    if (sent) {
        char say[200];
        snprintf(say, sizeof say, "SSL_write() %zu request%s as HTTP/2 HEADERS frames, "
                 "encrypted, on one connection", sent, sent == 1 ? "" : "s");
        nc_kit_h2_send(sc->h2, say);
    }
    nc_sc_flush(sc);
}

static void nc_sc_up_response(nc_kit_h2_t *h, int32_t stream, const nc_kit_http_msg_t *resp,
                              void *data)
{
    (void)h;
    nc_kit_sidecar_t *sc = data;
    for (nc_sc_req_t *r = sc->reqs; r; r = r->next) {
        if (r->stream != stream || r->done)
            continue;
        r->done = true;
        r->answered = true;
        r->status = resp->status;
        r->nahd = nc_sc_copy_headers(r->ahd, resp);
        nc_buf_append(&r->answer, resp->body, resp->body_len);
        break;
    }
    nc_sc_flush(sc);
}

static void nc_sc_up_closed(nc_kit_h2_t *h, void *data)
{
    (void)h;
    nc_kit_sidecar_t *sc = data;
    /* A connection that never got as far as HTTP/2 (TLS failed, no h2)
     * fails its waiting requests too: trying again would loop. */
    bool opened = sc->state == NC_SC_READY;
    sc->h2 = NULL;
    sc->up = NULL;
    sc->state = NC_SC_NONE;
    bool waiting = false;
    for (nc_sc_req_t *r = sc->reqs; r; r = r->next) {
        if (r->done)
            continue;
        if (r->stream || sc->closed || !opened) {
            nc_sc_fail_req(r, 502);
            if (r->front)
                nc_kit_report(sc->k, nc_kit_http_conn(r->front->h), "refuse",
                              (nc_scn_kv_t[]){NC_KV_S("reason", "upstream closed"),
                                              NC_KV_S("path", r->path)},
                              2, NULL, "the connection to %s:%d closed before the answer to %s "
                              "came: the sidecar answers 502", sc->host, sc->port, r->path);
        } else {
            waiting = true;
        }
    }
    if (!sc->closed) {
        nc_sc_flush(sc);
        if (waiting)
            nc_sc_open(sc);
        return;
    }
    nc_sc_free(sc);
}

static void nc_sc_tls_ready(nc_kit_conn_t *c, int status, void *data)
{
    nc_kit_sidecar_t *sc = data;
    if (status != 0 || !sc->h2)
        return; /* the connection closes; nc_sc_up_closed answers 502 */
    if (strcmp(nc_kit_tls_alpn(c), "h2") != 0) {
        nc_kit_close(c, "close(): the service did not agree to HTTP/2 (ALPN), so the sidecar "
                        "cannot use this connection");
        return;
    }
    sc->state = NC_SC_READY;
    nc_sc_send_waiting(sc, false);
}

static void nc_sc_up_connected(nc_kit_conn_t *c, int status, void *data)
{
    nc_kit_sidecar_t *sc = data;
    if (status != 0) {
        sc->up = NULL;
        sc->state = NC_SC_NONE;
        nc_sc_fail_waiting(sc);
        nc_sc_free(sc);
        return;
    }
    if (sc->closed) {
        sc->up = NULL;
        nc_kit_conn_start(c, &(nc_kit_conn_cbs_t){0}, NULL);
        nc_kit_close(c, NULL);
        nc_sc_free(sc);
        return;
    }
    nc_kit_conn_tolerant(c);
    sc->h2 = nc_kit_h2_client(c, nc_sc_up_response, nc_sc_up_closed, sc);
    nc_kit_tls_opts_t o = {.version = 0, .alpn = "h2", .sni = sc->host};
    nc_kit_tls_start(c, false, &o, nc_sc_tls_ready, sc);
}

/* Opens the one upstream connection. */
static void nc_sc_open(nc_kit_sidecar_t *sc)
{
    size_t waiting = 0;
    for (nc_sc_req_t *r = sc->reqs; r; r = r->next)
        waiting += !r->stream && !r->done;
    sc->conns++;
    sc->state = NC_SC_OPENING;
    nc_kit_report(sc->k, NULL, "upstream",
                  (nc_scn_kv_t[]){NC_KV_S("target", sc->host), NC_KV_I("target_port", sc->port),
                                  NC_KV_I("conns", (int64_t)sc->conns),
                                  NC_KV_I("waiting", (int64_t)waiting)},
                  4, NULL, "the sidecar has no connection to %s:%d yet: it opens one (TLS, ALPN "
                  "h2) and every request will share it", sc->host, sc->port);
    char say[200];
    snprintf(say, sizeof say, "connect() to %s:%d: the sidecar's connection to the service",
             sc->host, sc->port);
    sc->up = nc_kit_connect(sc->k, sc->host, sc->port, true, nc_sc_up_connected, sc, say, NULL);
    if (!sc->up) {
        sc->state = NC_SC_NONE;
        nc_sc_fail_waiting(sc);
    }
}

/* ---- the application's side: HTTP/1.1 in ---- */

static void nc_sc_request(nc_kit_http_t *h, const nc_kit_http_msg_t *req, void *data)
{
    nc_sc_front_t *f = data;
    nc_kit_sidecar_t *sc = f->sc;
    sc->requests++;
    nc_sc_req_t *r = nc_xcalloc(1, sizeof *r);
    r->front = f;
    r->method = nc_xstrdup(req->method);
    r->path = nc_xstrdup(req->path);
    nc_buf_init(&r->body);
    nc_buf_init(&r->answer);
    r->nhd = nc_sc_copy_headers(r->hd, req);
    nc_buf_append(&r->body, req->body, req->body_len);
    *sc->tail = r;
    sc->tail = &r->next;
    nc_kit_report(sc->k, nc_kit_http_conn(h), "request",
                  (nc_scn_kv_t[]){NC_KV_S("method", r->method), NC_KV_S("path", r->path),
                                  NC_KV_S("proto", req->http_minor ? "HTTP/1.1" : "HTTP/1.0"),
                                  NC_KV_I("index", (int64_t)sc->requests)},
                  4, NULL, "the application asks the sidecar for %s %s in plain HTTP/1.%d, on "
                  "this host: this leg never crosses the wire", r->method, r->path,
                  req->http_minor);
    if (req->body_len && strcmp(req->method, "POST") != 0) {
        nc_sc_fail_req(r, 501);
        nc_kit_report(sc->k, nc_kit_http_conn(h), "refuse",
                      (nc_scn_kv_t[]){NC_KV_S("reason", "body on a method other than POST"),
                                      NC_KV_S("path", r->path)},
                      2, NULL, "the sidecar carries a body on POST only: %s %s gets 501",
                      r->method, r->path);
        nc_sc_flush(sc);
        return;
    }
    if (sc->state == NC_SC_READY)
        nc_sc_send_waiting(sc, true);
    else if (sc->state == NC_SC_NONE)
        nc_sc_open(sc);
}

static void nc_sc_front_closed(nc_kit_http_t *h, void *data)
{
    (void)h;
    nc_sc_front_t *f = data;
    nc_kit_sidecar_t *sc = f->sc;
    for (nc_sc_req_t *r = sc->reqs; r; r = r->next)
        if (r->front == f)
            r->front = NULL;
    if (f->prev)
        f->prev->next = f->next;
    else
        sc->fronts = f->next;
    if (f->next)
        f->next->prev = f->prev;
    free(f);
    nc_sc_flush(sc);
    nc_sc_free(sc);
}

static void nc_sc_accepted(nc_kit_listener_t *l, nc_kit_conn_t *c, void *data)
{
    (void)l;
    nc_kit_sidecar_t *sc = data;
    nc_sc_front_t *f = nc_xcalloc(1, sizeof *f);
    f->sc = sc;
    f->next = sc->fronts;
    if (sc->fronts)
        sc->fronts->prev = f;
    sc->fronts = f;
    nc_kit_conn_tolerant(c);
    f->h = nc_kit_http_server(c, nc_sc_request, nc_sc_front_closed, f);
    nc_kit_http_lenient(f->h);
}

nc_kit_sidecar_t *nc_kit_sidecar(nc_kit_t *k, int port, const char *host, int target_port,
                                 const char *say)
{
    nc_kit_sidecar_t *sc = nc_xcalloc(1, sizeof *sc);
    sc->k = k;
    sc->host = nc_xstrdup(host);
    sc->port = target_port;
    sc->tail = &sc->reqs;
    char dflt[200];
    snprintf(dflt, sizeof dflt, "the sidecar waits here for its application's HTTP/1.1 and "
             "carries it to %s:%d as HTTP/2 over TLS", host, target_port);
    sc->l = nc_kit_listen(k, port, 16, nc_sc_accepted, sc, say ? say : dflt);
    if (!sc->l) {
        free(sc->host);
        free(sc);
        return NULL;
    }
    return sc;
}

size_t nc_kit_sidecar_conns(const nc_kit_sidecar_t *sc)
{
    return sc->conns;
}

void nc_kit_sidecar_close(nc_kit_sidecar_t *sc)
{
    if (!sc || sc->closed)
        return;
    sc->closed = true;
    nc_kit_listener_close(sc->l);
    const char *say = "close(): the sidecar's program ends, so it closes this connection";
    for (nc_sc_front_t *f = sc->fronts; f; f = f->next)
        nc_kit_close(nc_kit_http_conn(f->h), say);
    if (sc->h2) {
        nc_kit_h2_goaway(sc->h2, "SSL_write() GOAWAY: the sidecar takes no more streams on "
                                 "this connection");
        nc_kit_close(sc->up, say);
    } else if (sc->up) {
        /* Still connecting: nc_sc_up_connected hears of the cancel. */
        nc_kit_close(sc->up, say);
    }
    nc_sc_free(sc);
}
