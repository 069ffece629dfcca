/*
 * program.c: the interpreter of a lesson's `program` blocks.
 *
 * Data model. Each program of the lesson (nc_program_t, parsed by
 * src/lesson/program.c) runs on a thread inside its lab host, with its own
 * libuv loop, as an nc_pi_t: a stack of statement lists (the program, and
 * the body of each repeat being run) with a program counter each, and the
 * endpoints it made with the kit (src/kit): a listener, its current
 * connection, an HTTP client, a WebSocket, and the connections its HTTP
 * server answers. Statements run in order; a statement that must wait
 * (accept, read, a response, another program's event, a sleep) sets a
 * wait kind and returns, and every kit callback "pokes" the program, which
 * resumes once its wait is satisfied. The kit reports every call as an app
 * event; a statement's say= becomes that event's sentence ({n}, {total},
 * {peer}, {i} and {count} are filled in).
 *
 * Programs of a run share one table of events ("server.listening",
 * "server.done", and whatever `signal` names), under a lock; waits on it
 * are polled every 2 ms on the waiting program's loop.
 *
 * A server's jobs (routes with job=) are nc_job_t: a submit route starts
 * one, which a timer of the server's loop moves one step on every `every`
 * until it is done; a status route answers with where it is now, a wait
 * route holds the answer until it has moved since the last answer about
 * it. Each answer about a job carries "job", "progress" and "news" (did
 * it say something the last answer had not) in its write() report, which
 * is how a run counts its empty answers (src/scenario/compare.c).
 *
 * A server program also has a memory (nc_kit_memo_t: sessions it issued,
 * the bytes of each resumable upload) that its restart empties, and a
 * secret for the tokens it signs, which a restart keeps. A client program
 * keeps a cookie jar across its connections, an upload in progress (one
 * request per chunk, resumed from the offset the server reports), and the
 * requests it fetches on connections of their own (nc_fetch_t), waited for
 * one at a time (a blocking caller) or all at once (async, then await).
 */
#include "scenario.h"

#include "../core/course.h"
#include "../core/buf.h"
#include "../core/error.h"
#include "../core/words.h"
#include "../core/xmalloc.h"
#include "../kit/kit.h"
#include "../lesson/program.h"

#include <ctype.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NC_PI_DEPTH 4
#define NC_PI_MAX_CONNS 64
#define NC_PI_TIMEOUT_MS 30000
#define NC_PI_SHELL_TIMEOUT_MS (24 * 3600 * 1000)

typedef struct nc_prun {
    nc_scn_t *s;
    pthread_mutex_t lock;
    size_t running; /* programs not yet at their end (under lock) */
    char **events;
    size_t nevents;
} nc_prun_t;

typedef enum {
    NC_W_NONE,
    NC_W_ACCEPT,
    NC_W_CONNECT,
    NC_W_READ,
    NC_W_EOF,
    NC_W_SERVE,
    NC_W_RESPONSE,
    NC_W_EVENT,
    NC_W_SLEEP,
    NC_W_WSOPEN,
    NC_W_WSMSG,
    NC_W_CLOSED,
    NC_W_EVENTS,
    NC_W_STOP,
    NC_W_STUN,
    NC_W_DATAGRAMS,
    NC_W_UPLOAD,
    NC_W_FETCH,
    NC_W_BROKER_OK,
    NC_W_RECEIVE,
    NC_W_ICE,
    NC_W_ICEMSG,
    NC_W_FIREWALL,
} nc_wait_t;

typedef struct nc_frame {
    const nc_prog_stmt_t *st;
    size_t n, pc;
    long iter, count;
    int64_t every_ms;
    uint64_t t0;
    const char *until; /* a repeat ends after the turn whose last answer holds it */
} nc_frame_t;

typedef struct nc_pi nc_pi_t;

#define NC_PI_MAX_JOBS 16

/* A job of the program's HTTP server: queued at step 0, done at `steps`. */
typedef struct nc_job {
    nc_pi_t *pi;
    uv_timer_t timer; /* moves it on; freed with the job in its close callback */
    long id, step, steps;
    long told; /* the step the last answer about the job gave */
} nc_job_t;

/* A connection the program's HTTP server answers, with the state of the
 * answer in progress (held, or streamed as SSE). */
typedef struct nc_sconn {
    nc_pi_t *pi;
    nc_kit_http_t *h;
    const nc_prog_stmt_t *route;
    nc_job_t *job; /* the job the request is about (job= routes) */
    uv_timer_t timer;
    bool timer_init, gone;
    long sse_i;
    nc_kit_ws_t *ws; /* the WebSocket a ws= route opened, or NULL */
    /* what the server's state decided for the request being answered: a
     * status, headers and a body instead of the route's (0, none, NULL) */
    int status;
    char xhdr[2][300];
    size_t nxhdr;
    const char *xbody;
    char rowbody[64]; /* record=yes: the answer's body */
} nc_sconn_t;

/* Where a client's `events` statement stands: reading the stream, waiting
 * to reconnect after it gave the connection up, or reconnecting. */
typedef enum { NC_SSE_STREAM, NC_SSE_RETRY, NC_SSE_CONNECT } nc_sse_phase_t;

/* A request fetched on a connection of its own (the fetch statement). */
typedef struct nc_fetch {
    nc_pi_t *pi; /* NULL once the program let it go */
    nc_kit_conn_t *c;
    char path[200];
    bool async, answered;
    uint64_t t0; /* uv_hrtime() when it was issued */
} nc_fetch_t;

#define NC_PI_MAX_FETCHES 16
#define NC_PI_JAR 8

struct nc_pi {
    nc_prun_t *pr;
    const nc_program_t *pg;
    nc_scn_t *s;
    nc_kit_t *kit;
    uv_loop_t loop;
    uv_timer_t timer;
    nc_frame_t fr[NC_PI_DEPTH];
    int depth;
    const nc_prog_stmt_t *cur;
    nc_wait_t wait;
    bool finished;
    bool settled;                    /* counted out of pr->running */
    int64_t deadline, hard_deadline; /* uv_hrtime() for the watchdog */
    bool cut;                 /* this program cut the link and will restore it */
    const char *restore_say; /* borrowed from the cut statement */
    const char *cut_link;    /* the link cut (borrowed), or NULL: every link */
    const char *wait_prog, *wait_event;
    size_t want;
    /* server side */
    nc_kit_listener_t *listener;
    const nc_prog_stmt_t *listen_st;
    bool http_server;
    bool tls_server;          /* tls-listen: TLS under the HTTP server */
    nc_kit_conn_t *accepted[NC_PI_MAX_CONNS];
    size_t naccepted;
    nc_sconn_t *sconns[NC_PI_MAX_CONNS];
    size_t nsconns;
    const nc_prog_stmt_t *routes[32];
    size_t nroutes;
    size_t served;
    nc_job_t *jobs[NC_PI_MAX_JOBS];
    size_t njobs;
    /* the current connection (raw, or under the HTTP client) */
    nc_kit_conn_t *conn;
    bool connected, conn_closed;
    size_t avail, total;
    size_t body; /* the body of the answer being given or read */
    bool eof;
    nc_kit_http_t *http;
    size_t outstanding, sse_events;
    nc_kit_ws_t *ws;
    bool ws_open;
    size_t ws_msgs;
    char accept_say[400];
    /* HTTP/2: the server's connections, and the client (h2-connect) */
    bool h2_server;
    nc_kit_h2_t *h2conns[NC_PI_MAX_CONNS];
    size_t nh2conns;
    nc_kit_h2_t *h2;
    nc_kit_pool_t *pool; /* pool-get in flight (the kit owns it) */
    /* HTTP/3 over QUIC: the server (h3-listen) and the client (h3-connect) */
    nc_kit_h3_t *h3srv, *h3;
    /* the streams of the last h2-get or h3-get: their ids and paths, when
     * the requests left, the connection's round trip, and the answers
     * delivered so far (how many stalled, the first and last times) */
    int64_t sids[16];
    const char *spaths[16];
    size_t nsids, ndelivered, nstalled;
    uint64_t req_t0;
    double rtt_ms;
    double first_ms, last_ms;
    /* gRPC: the server's methods (rpc statements) and connections, and the
     * client (grpc-connect) */
    bool grpc_server;
    nc_kit_grpc_method_t rpcs[16];
    size_t nrpcs;
    nc_kit_grpc_t *gconns[NC_PI_MAX_CONNS];
    size_t ngconns;
    nc_kit_grpc_t *grpc;
    char location[256];  /* the Location of the last answer that had one */
    char last_body[256]; /* the start of the last answer's body */
    /* boxes in the middle (relay) and STUN */
    nc_kit_relay_t *relay;
    nc_kit_sidecar_t *sidecar;
    nc_kit_stun_t *stun_servers[4];
    size_t nstun_servers;
    nc_kit_stun_t *stun_client;
    bool stun_done;
    nc_kit_udp_t *udp; /* udp-listen's socket, and the datagrams it got */
    size_t datagrams;
    /* WebRTC: a TURN relay, a signalling server, an ICE agent and the
     * messages it received that no ice-read took yet */
    nc_kit_turn_t *turn;
    nc_kit_signal_t *signal;
    nc_kit_ice_t *ice;
    bool ice_settled, ice_gaveup, fw_done;
    size_t ice_msgs;
    /* a server's state: its memory, users and token secret */
    nc_kit_memo_t *memo;
    long users;
    char secret[40];
    /* a client's cookie jar, and where its last http-connect went */
    char jar[NC_PI_JAR][200];
    size_t njar;
    const char *peer_host;
    int peer_port;
    /* the upload in progress (the upload statement) */
    const nc_prog_stmt_t *up;
    size_t up_size, up_off, up_chunk;
    bool up_head, up_done, up_waiting;
    const char *up_path;
    uint64_t up_sent; /* uv_now() when the last chunk left */
    uv_timer_t aux;   /* the upload's pacing and timeout */
    /* fetches in flight, and the await that waits for them */
    nc_fetch_t *fetches[NC_PI_MAX_FETCHES];
    size_t nfetches;
    bool awaiting;
    uint64_t await_t0, sw_t0;
    int64_t ms; /* {ms} in sentences */
    /* middleboxes: the backends declared so far (for the next proxy or
     * balancer), the boxes running, a broker, and a broker client with the
     * message ids it has not handled yet and the ones it has seen */
    nc_kit_mb_conf_t mbconf;
    nc_kit_mbox_t *mbox[8];
    size_t nmbox;
    nc_kit_broker_t *broker;
    nc_kit_bclient_t *bcl;
    size_t bok; /* OK lines not yet waited for */
    long bq[64];
    size_t nbq, got;
    long seen[64];
    size_t nseen;
    long rows; /* record=yes: rows the server has made */
    /* an `events` statement: the last event id it received, when the last
     * event came, and its phase */
    char last_id[64];
    uint64_t last_event_ms, retry_at_ms;
    nc_sse_phase_t sse_phase;
};

/* ---- the shared events ---- */

static void nc_prun_set(nc_prun_t *pr, const char *prog, const char *event)
{
    char *name = nc_xasprintf("%s.%s", prog, event);
    pthread_mutex_lock(&pr->lock);
    pr->events = nc_xrealloc(pr->events, (pr->nevents + 1) * sizeof *pr->events);
    pr->events[pr->nevents++] = name;
    pthread_mutex_unlock(&pr->lock);
}

static bool nc_prun_has(nc_prun_t *pr, const char *prog, const char *event)
{
    size_t pl = strlen(prog);
    bool found = false;
    pthread_mutex_lock(&pr->lock);
    for (size_t i = 0; i < pr->nevents && !found; i++)
        found = strncmp(pr->events[i], prog, pl) == 0 && pr->events[i][pl] == '.' &&
                strcmp(pr->events[i] + pl + 1, event) == 0;
    pthread_mutex_unlock(&pr->lock);
    return found;
}

/* ---- statements' options and sentences ---- */

static const char *nc_opt(const nc_prog_stmt_t *st, const char *key)
{
    for (size_t i = 0; i < st->nopts; i++)
        if (strcmp(st->opts[i].key, key) == 0)
            return st->opts[i].value;
    return NULL;
}

static bool nc_opt_yes(const nc_prog_stmt_t *st, const char *key)
{
    const char *v = nc_opt(st, key);
    return v && strcmp(v, "yes") == 0;
}

/* The innermost repeat's 1-based iteration and count (1 of 1 outside). */
static void nc_pi_iter(const nc_pi_t *pi, long *i, long *count)
{
    *i = 1;
    *count = 1;
    for (int d = pi->depth; d > 0; d--) {
        *i = pi->fr[d].iter + 1;
        *count = pi->fr[d].count;
        return;
    }
}

/* A sentence's placeholders: {n} (bytes of this call; NC_PI_KEEP_N leaves
 * it for the kit to fill), {bytes} ("byte" or "bytes" after {n}), {total}
 * (bytes read on the connection), {body} and {a_body} (the body of the
 * answer: "84", "an 84"), {head} (total less body), {peer}, {i} and
 * {count} (the innermost repeat's turn and count), {ms} (a stopwatch's
 * reading). */
#define NC_PI_KEEP_N ((size_t)-1)

static void nc_pi_fmt(const nc_pi_t *pi, const char *tpl, size_t n, char *out, size_t outlen)
{
    long i, count;
    nc_pi_iter(pi, &i, &count);
    static const char *const names[] = {"{n}",    "{total}", "{peer}", "{i}",   "{count}",
                                        "{bytes}", "{body}",  "{a_body}", "{head}", "{ms}"};
    size_t nn = sizeof names / sizeof names[0];
    size_t o = 0;
    out[0] = '\0';
    for (const char *s = tpl; *s && o + 1 < outlen;) {
        size_t k = 0;
        while (k < nn && strncmp(s, names[k], strlen(names[k])) != 0)
            k++;
        if (k == nn || (k == 0 && n == NC_PI_KEEP_N)) {
            out[o++] = *s++;
            out[o] = '\0';
            continue;
        }
        char v[64];
        switch (k) {
        case 0: snprintf(v, sizeof v, "%zu", n); break;
        case 1: snprintf(v, sizeof v, "%zu", pi->total); break;
        case 2: snprintf(v, sizeof v, "%s", pi->conn ? nc_kit_conn_peer(pi->conn) : "?"); break;
        case 3: snprintf(v, sizeof v, "%ld", i); break;
        case 4: snprintf(v, sizeof v, "%ld", count); break;
        case 5: snprintf(v, sizeof v, "%s", nc_words_plural((long long)n, "byte", "bytes")); break;
        case 6: snprintf(v, sizeof v, "%zu", pi->body); break;
        case 7:
            snprintf(v, sizeof v, "%s %zu", nc_words_article((long long)pi->body), pi->body);
            break;
        case 8:
            snprintf(v, sizeof v, "%zu", pi->total >= pi->body ? pi->total - pi->body : 0);
            break;
        default: snprintf(v, sizeof v, "%lld", (long long)pi->ms); break;
        }
        int w = snprintf(out + o, outlen - o, "%s", v);
        if (w < 0 || (size_t)w >= outlen - o)
            break;
        o += (size_t)w;
        s += strlen(names[k]);
    }
}

/* The statement's say=, filled in, or NULL. */
static const char *nc_pi_say(const nc_pi_t *pi, const nc_prog_stmt_t *st, size_t n, char *buf,
                             size_t len)
{
    const char *tpl = st ? nc_opt(st, "say") : NULL;
    if (!tpl)
        return NULL;
    nc_pi_fmt(pi, tpl, n, buf, len);
    return buf;
}

static void nc_pi_run(nc_pi_t *pi);
static void nc_pi_finish(nc_pi_t *pi);

static int nc_pi_fail(nc_pi_t *pi, const char *fmt, const char *arg)
{
    char what[300];
    snprintf(what, sizeof what, fmt, arg);
    nc_scn_fail(pi->s, "%s:%d: program %s: %s", pi->s->lesson->path,
                pi->cur ? pi->cur->line : pi->pg->line, pi->pg->name, what);
    return NC_EIO;
}

/* ---- waiting ---- */

static bool nc_pi_receive(nc_pi_t *pi);
static int nc_pi_events_reconnect(nc_pi_t *pi);
static int nc_pi_send_request(nc_pi_t *pi, const nc_prog_stmt_t *st, bool resume);

/*
 * An `events` statement whose stream stopped short: true when it gives up
 * (the connection ended and it has no retry=). With idle=T, a stream
 * silent for T is given up (the client closes it); with retry=T the client
 * then waits T, connects again as its http-connect did, and asks with
 * Last-Event-ID (nc_pi_connected sends that request).
 */
static bool nc_pi_events_lost(nc_pi_t *pi)
{
    const nc_prog_stmt_t *st = pi->cur;
    const char *idle = nc_opt(st, "idle"), *retry = nc_opt(st, "retry");
    uv_update_time(&pi->loop);
    uint64_t now = uv_now(&pi->loop);
    switch (pi->sse_phase) {
    case NC_SSE_STREAM: {
        bool ended = pi->conn_closed || pi->eof;
        bool silent = idle && now - pi->last_event_ms >=
                                  (uint64_t)(nc_prog_duration_ns(idle) / 1000000);
        if (!ended && !silent)
            return false;
        if (!retry && ended)
            return true;
        if (pi->conn) {
            char say[200];
            if (silent && !ended)
                snprintf(say, sizeof say, "close(): no event for %s, the client gives up on this "
                                          "connection", idle);
            else
                snprintf(say, sizeof say, "close(): the stream ended before its last event");
            nc_kit_close(pi->conn, say);
            pi->conn = NULL;
            pi->http = NULL;
        }
        if (!retry)
            return true;
        pi->sse_phase = NC_SSE_RETRY;
        pi->retry_at_ms = now + (uint64_t)(nc_prog_duration_ns(retry) / 1000000);
        return false;
    }
    case NC_SSE_RETRY:
        if (now < pi->retry_at_ms)
            return false;
        pi->sse_phase = NC_SSE_CONNECT;
        return nc_pi_events_reconnect(pi) != 0;
    default:
        return false;
    }
}

static bool nc_pi_ready(nc_pi_t *pi)
{
    switch (pi->wait) {
    case NC_W_ACCEPT:
        if (pi->naccepted == 0)
            return false;
        pi->conn = pi->accepted[0];
        memmove(pi->accepted, pi->accepted + 1, --pi->naccepted * sizeof *pi->accepted);
        return true;
    case NC_W_CONNECT:
        return pi->connected;
    case NC_W_READ:
        if (pi->avail < pi->want)
            return false;
        pi->avail -= pi->want;
        return true;
    case NC_W_EOF:
        return pi->eof || pi->conn_closed;
    case NC_W_SERVE:
        /* A gRPC server also stays until its clients have hung up. */
        return pi->served >= pi->want && (!pi->grpc_server || pi->ngconns == 0);
    case NC_W_RESPONSE:
        return pi->outstanding == 0 && pi->nfetches == 0 && !pi->pool;
    case NC_W_UPLOAD:
        return pi->up_done;
    case NC_W_FETCH:
        return pi->nfetches == 0;
    case NC_W_EVENT:
        return nc_prun_has(pi->pr, pi->wait_prog, pi->wait_event);
    case NC_W_SLEEP:
        return false; /* the timer resumes it */
    case NC_W_WSOPEN:
        return pi->ws_open;
    case NC_W_WSMSG:
        if (pi->ws_msgs == 0)
            return false;
        pi->ws_msgs--;
        return true;
    case NC_W_CLOSED:
        return pi->conn_closed;
    case NC_W_EVENTS:
        return pi->sse_events >= pi->want || nc_pi_events_lost(pi);
    case NC_W_STOP:
        return false; /* only a stopped run ends it (nc_pi_poke) */
    case NC_W_BROKER_OK:
        if (pi->bok == 0)
            return !pi->bcl;
        pi->bok--;
        return true;
    case NC_W_RECEIVE:
        return nc_pi_receive(pi);
    case NC_W_STUN:
        return pi->stun_done;
    case NC_W_DATAGRAMS:
        return pi->datagrams >= pi->want;
    case NC_W_ICE:
        return pi->ice_settled;
    case NC_W_ICEMSG:
        if (pi->ice_msgs == 0)
            return pi->ice_gaveup || !nc_kit_ice_ready(pi->ice);
        pi->ice_msgs--;
        return true;
    case NC_W_FIREWALL:
        return pi->fw_done;
    default:
        return true;
    }
}

/* Called after anything a wait may depend on changed. */
static void nc_pi_poke(nc_pi_t *pi)
{
    if (pi->finished || pi->wait == NC_W_NONE)
        return;
    if (pi->s->stop) {
        nc_pi_finish(pi);
        return;
    }
    /* A read that the end of the stream cuts short. */
    if (pi->wait == NC_W_READ && (pi->eof || pi->conn_closed) && pi->avail < pi->want) {
        nc_pi_fail(pi, "%s", "the connection ended before the bytes the read waits for");
        nc_pi_finish(pi);
        return;
    }
    if (!nc_pi_ready(pi))
        return;
    pi->wait = NC_W_NONE;
    uv_timer_stop(&pi->timer);
    nc_pi_run(pi);
}

static void nc_pi_restore(nc_pi_t *pi)
{
    if (!pi->cut)
        return;
    pi->cut = false;
    char err[200];
    if (nc_lab_cut_link(pi->s->lab, pi->cut_link, false, err, sizeof err) == 0)
        nc_kit_report(pi->kit, NULL, "restore", NULL, 0, pi->restore_say,
                      "the lesson restores the link");
}

static void nc_pi_tick(uv_timer_t *t)
{
    nc_pi_t *pi = t->data;
    if (pi->wait == NC_W_SLEEP) {
        nc_pi_restore(pi);
        pi->wait = NC_W_NONE;
        nc_pi_run(pi);
        return;
    }
    /* Another program's failure ends this one, unless it is done and
     * serves on for the student: a late error (a client's loop closing
     * badly) must not take the lab from under the student's shell. */
    if (pi->s->stop || (pi->s->error && pi->wait != NC_W_STOP)) {
        nc_pi_finish(pi);
        return;
    }
    nc_pi_poke(pi);
}

/* Waits: polls every 2 ms for an event of another program. */
static int nc_pi_wait(nc_pi_t *pi, nc_wait_t w)
{
    pi->wait = w;
    if (nc_pi_ready(pi)) {
        pi->wait = NC_W_NONE;
        return 0;
    }
    /* The poll timer also notices a stopped run; a server waiting for the
     * student to leave need not look as often. */
    uint64_t every = w == NC_W_STOP ? 50 : 2;
    uv_timer_start(&pi->timer, nc_pi_tick, every, every);
    return 1;
}

/* ---- connections ---- */

static void nc_pi_describe(nc_kit_conn_t *c, const char *data, size_t n, char *out, size_t outlen)
{
    nc_pi_t *pi = nc_kit_conn_owner(c);
    pi->total += n;
    const nc_prog_stmt_t *st = pi->cur;
    if (st && strcmp(st->verb, "read") == 0 && pi->wait != NC_W_NONE) {
        bool eof_stmt = strcmp(st->args[0], "eof") == 0;
        if (eof_stmt == (n == 0))
            nc_pi_say(pi, st, n, out, outlen);
    }
}

static void nc_pi_data(nc_kit_conn_t *c, const char *data, size_t n)
{
    nc_pi_t *pi = nc_kit_conn_owner(c);
    pi->avail += n;
    nc_pi_poke(pi);
}

static void nc_pi_eof(nc_kit_conn_t *c)
{
    nc_pi_t *pi = nc_kit_conn_owner(c);
    pi->eof = true;
    nc_pi_poke(pi);
}

static void nc_pi_closed(nc_kit_conn_t *c)
{
    nc_pi_t *pi = nc_kit_conn_owner(c);
    for (size_t i = 0; i < pi->naccepted; i++)
        if (pi->accepted[i] == c) {
            memmove(pi->accepted + i, pi->accepted + i + 1,
                    (pi->naccepted - i - 1) * sizeof *pi->accepted);
            pi->naccepted--;
        }
    if (pi->conn == c) {
        pi->conn = NULL;
        pi->conn_closed = true;
        nc_pi_poke(pi);
    }
}

static const nc_kit_conn_cbs_t nc_pi_conn_cbs = {
    .describe = nc_pi_describe,
    .on_data = nc_pi_data,
    .on_eof = nc_pi_eof,
    .on_closed = nc_pi_closed,
};

/* ---- the HTTP server ---- */

static void nc_sconn_freed(uv_handle_t *h)
{
    free(h->data);
}

static void nc_sconn_gone(nc_kit_http_t *h, void *data)
{
    nc_sconn_t *sc = data;
    nc_pi_t *pi = sc->pi;
    for (size_t i = 0; i < pi->nsconns; i++)
        if (pi->sconns[i] == sc) {
            pi->sconns[i] = pi->sconns[--pi->nsconns];
            break;
        }
    sc->gone = true;
    sc->h = NULL;
    if (sc->timer_init)
        uv_close((uv_handle_t *)&sc->timer, nc_sconn_freed);
    else
        free(sc);
}

static void nc_sconn_served(nc_sconn_t *sc)
{
    sc->pi->served++;
    nc_pi_poke(sc->pi);
}

static size_t nc_route_headers(const nc_prog_stmt_t *r, nc_kit_header_t *hd, size_t max,
                               char names[][64])
{
    size_t n = 0;
    for (size_t i = 0; i < r->nopts && n < max; i++) {
        if (strcmp(r->opts[i].key, "header") != 0)
            continue;
        const char *v = r->opts[i].value;
        size_t nl = strcspn(v, ":");
        snprintf(names[n], 64, "%.*s", (int)nl, v);
        const char *val = v + nl + 1;
        while (*val == ' ')
            val++;
        hd[n] = (nc_kit_header_t){names[n], val};
        n++;
    }
    return n;
}

/* A job's state in words: queued, running or done. */
static const char *nc_job_state(const nc_job_t *j)
{
    return j->step == 0 ? "queued" : j->step < j->steps ? "running" : "done";
}

/* Fills a job route's text: {job} (its number), {state} and {progress}
 * (percent done). */
static void nc_job_fmt(const nc_job_t *j, const char *tpl, char *out, size_t outlen)
{
    static const char *const names[] = {"{job}", "{state}", "{progress}"};
    size_t o = 0;
    out[0] = '\0';
    for (const char *s = tpl; *s && o + 1 < outlen;) {
        size_t k = 0;
        while (k < 3 && strncmp(s, names[k], strlen(names[k])) != 0)
            k++;
        if (k == 3) {
            out[o++] = *s++;
            out[o] = '\0';
            continue;
        }
        int w = k == 0   ? snprintf(out + o, outlen - o, "%ld", j->id)
                : k == 1 ? snprintf(out + o, outlen - o, "%s", nc_job_state(j))
                         : snprintf(out + o, outlen - o, "%ld", j->step * 100 / j->steps);
        if (w < 0 || (size_t)w >= outlen - o)
            break;
        o += (size_t)w;
        s += strlen(names[k]);
    }
}

/* A route's body: body=, or size=N bytes of letters as a file's would be
 * (*made is then the nc_xmalloc'd copy the caller frees), or NULL. */
static const char *nc_route_body(const nc_prog_stmt_t *r, char **made)
{
    const char *size = nc_opt(r, "size");
    *made = NULL;
    if (nc_opt(r, "body") || !size)
        return nc_opt(r, "body");
    size_t n = (size_t)nc_prog_number(size, 1, 1000000);
    *made = nc_xmalloc(n + 1);
    for (size_t i = 0; i < n; i++)
        (*made)[i] = (char)('a' + i % 26);
    (*made)[n] = '\0';
    return *made;
}

static void nc_route_answer(nc_sconn_t *sc)
{
    const nc_prog_stmt_t *r = sc->route;
    nc_kit_header_t hd[12];
    char names[12][64];
    size_t nh = nc_route_headers(r, hd, 8, names);
    for (size_t i = 0; i < sc->nxhdr; i++) {
        size_t nl = strcspn(sc->xhdr[i], ":");
        snprintf(names[nh], 64, "%.*s", (int)nl, sc->xhdr[i]);
        hd[nh] = (nc_kit_header_t){names[nh], sc->xhdr[i] + nl + 2};
        nh++;
    }
    char *made = NULL;
    const char *body = sc->xbody ? sc->xbody : nc_route_body(r, &made);
    const char *chunks = sc->xbody ? NULL : nc_opt(r, "chunks");
    long status = sc->status ? sc->status : nc_prog_number(r->args[2], 100, 999);
    char say[400], text[400], location[64];
    nc_job_t *j = sc->job;
    if (j) {
        /* The answer's news: a step the last answer about the job had not
         * given (a new job is news). */
        bool submit = strcmp(nc_opt(r, "job"), "submit") == 0;
        nc_kit_conn_t *c = nc_kit_http_conn(sc->h);
        nc_kit_conn_note(c, "job", j->id);
        nc_kit_conn_note(c, "progress", j->step * 100 / j->steps);
        nc_kit_conn_note(c, "news", submit || j->step != j->told);
        j->told = j->step;
        nc_job_fmt(j, body ? body : "job {job} is {state} ({progress}%)\n", text, sizeof text);
        body = text;
        if (submit && nh < sizeof hd / sizeof hd[0]) {
            snprintf(location, sizeof location, "/jobs/%ld", j->id);
            hd[nh++] = (nc_kit_header_t){"Location", location};
        }
    }
    sc->pi->body = body ? strlen(body) : 0;
    nc_kit_http_close_say(sc->h, nc_opt(r, "close"));
    nc_kit_http_respond(sc->h, (int)status, hd, nh, chunks ? NC_KIT_BODY_CHUNKED : NC_KIT_BODY_FIXED,
                        body ? body : "", body ? strlen(body) : 0,
                        chunks ? (int)nc_prog_number(chunks, 1, 1000000) : 0,
                        nc_pi_say(sc->pi, r, NC_PI_KEEP_N, say, sizeof say));
    free(made);
    nc_sconn_served(sc);
}

static void nc_sconn_tick(uv_timer_t *t)
{
    nc_sconn_t *sc = t->data;
    /* A finished program has closed its jobs (they are freed before the
     * connection that waits on one is). */
    if (sc->gone || !sc->h || sc->pi->finished)
        return;
    const nc_prog_stmt_t *r = sc->route;
    const char *hold = nc_opt(r, "hold");
    if (sc->job) {
        if (sc->job->step == sc->job->told && !sc->pi->s->stop)
            return;
        uv_timer_stop(t);
        nc_route_answer(sc);
        return;
    }
    if (hold && !nc_opt(r, "sse")) {
        size_t pl = strcspn(hold, ".");
        char prog[64];
        snprintf(prog, sizeof prog, "%.*s", (int)pl, hold);
        if (!nc_prun_has(sc->pi->pr, prog, hold + pl + 1) && !sc->pi->s->stop)
            return;
        uv_timer_stop(t);
        nc_route_answer(sc);
        return;
    }
    long total = nc_prog_number(nc_opt(r, "sse"), 1, 1000000);
    if (sc->sse_i >= total) {
        /* end=no: the stream stays open, as an event stream does, until the
         * client leaves. */
        uv_timer_stop(t);
        if (nc_opt(r, "end") && !nc_opt_yes(r, "end"))
            return;
        nc_kit_http_end(sc->h, NULL);
        nc_sconn_served(sc);
        return;
    }
    sc->sse_i++;
    const char *tpl = nc_opt(r, "body");
    char data[400], id[32];
    snprintf(id, sizeof id, "%ld", sc->sse_i);
    if (tpl) {
        /* {i} is the event's number here. */
        char *mark = strstr(tpl, "{i}");
        if (mark)
            snprintf(data, sizeof data, "%.*s%ld%s", (int)(mark - tpl), tpl, sc->sse_i, mark + 3);
        else
            snprintf(data, sizeof data, "%s", tpl);
    } else {
        snprintf(data, sizeof data, "event %ld", sc->sse_i);
    }
    nc_kit_sse_event(sc->h, id, NULL, data, NULL);
    if (sc->sse_i >= total && nc_opt(r, "end") && !nc_opt_yes(r, "end"))
        nc_sconn_served(sc);
}

static void nc_sconn_delayed(uv_timer_t *t)
{
    nc_sconn_t *sc = t->data;
    if (!sc->gone && sc->h)
        nc_route_answer(sc);
}

static void nc_ws_echo(nc_kit_ws_t *ws, nc_kit_ws_op_t op, const char *data, size_t len, int code,
                       void *ud)
{
    if (op == NC_KIT_WS_TEXT || op == NC_KIT_WS_BINARY)
        nc_kit_ws_send(ws, op, data, len, 1, "write() the message back: the server echoes it");
}

/* ws=push: the server keeps the WebSocket for its own messages (ws-push);
 * what the client sends is read and reported, never answered. */
static void nc_ws_keep(nc_kit_ws_t *ws, nc_kit_ws_op_t op, const char *data, size_t len, int code,
                       void *ud)
{
}

static const struct {
    const char *mode;
    nc_kit_ws_msg_cb cb;
} nc_ws_modes[] = {
    {"echo", nc_ws_echo},
    {"push", nc_ws_keep},
};

/* The server speaks first: a message to every WebSocket its ws= routes
 * hold open, with no request before it (ws-push, and a route's push=).
 * With none open, the news reaches nobody, and the run says so. */
static void nc_pi_push(nc_pi_t *pi, nc_kit_ws_op_t op, const char *data, const char *say)
{
    size_t sent = 0;
    for (size_t i = 0; i < pi->nsconns; i++) {
        nc_sconn_t *sc = pi->sconns[i];
        if (sc->ws && sc->h && !nc_kit_conn_closing(nc_kit_ws_conn(sc->ws))) {
            nc_kit_ws_send(sc->ws, op, data, strlen(data), 1,
                           say ? say : "write() a frame nobody asked for: the server pushes its "
                                       "news");
            sent++;
        }
    }
    if (sent == 0)
        nc_kit_report(pi->kit, NULL, "push", NULL, 0, NULL,
                      "no client holds a WebSocket open: the news \"%.60s\" reaches nobody", data);
}

/* A route's push=: the template with {body} (the request's body, up to its
 * first line) filled in. */
static void nc_route_push(nc_sconn_t *sc, const nc_kit_http_msg_t *req)
{
    const char *tpl = nc_opt(sc->route, "push");
    if (!tpl)
        return;
    size_t blen = req->body ? strcspn(req->body, "\r\n") : 0;
    if (blen > req->body_len)
        blen = req->body_len;
    if (blen > 100)
        blen = 100;
    const char *mark = strstr(tpl, "{body}");
    char data[400];
    if (mark)
        snprintf(data, sizeof data, "%.*s%.*s%s", (int)(mark - tpl), tpl, (int)blen,
                 req->body ? req->body : "", mark + 6);
    else
        snprintf(data, sizeof data, "%s", tpl);
    nc_pi_push(sc->pi, NC_KIT_WS_TEXT, data, NULL);
}

/* A message's Upload-Offset header, or -1. */
static long nc_pi_offset(const nc_kit_http_msg_t *m)
{
    const char *o = nc_kit_http_header(m, "Upload-Offset");
    return o ? nc_prog_number(o, 0, 999999999) : -1;
}

/* A header of the server's state for the answer being prepared. */
static void nc_sconn_header(nc_sconn_t *sc, const char *name, const char *value)
{
    if (sc->nxhdr < sizeof sc->xhdr / sizeof sc->xhdr[0])
        snprintf(sc->xhdr[sc->nxhdr++], sizeof sc->xhdr[0], "%s: %s", name, value);
}

/*
 * A resumable upload (upload=yes, the way the tus protocol does it): the
 * server remembers how many bytes of each path it has. HEAD asks for that
 * number; PATCH carries the next bytes with the offset they start at, and
 * is taken only when that offset is the one the server has (409 Conflict
 * otherwise). Both answers say Upload-Offset.
 */
static void nc_route_upload(nc_sconn_t *sc, const nc_kit_http_msg_t *req)
{
    nc_pi_t *pi = sc->pi;
    int64_t have = 0;
    bool known = nc_kit_memo_get(pi->memo, req->path, &have);
    char num[32];
    if (strcmp(req->method, "HEAD") == 0) {
        sc->status = known ? 200 : 404;
    } else {
        long off = nc_pi_offset(req);
        if (off == have) {
            have += (int64_t)req->body_len;
            nc_kit_memo_set(pi->memo, req->path, have);
            sc->status = 204;
        } else {
            sc->status = 409;
        }
        char text[300];
        if (sc->status == 204)
            snprintf(text, sizeof text, "the server appends %zu bytes to %s: it now has %lld",
                     req->body_len, req->path, (long long)have);
        else
            snprintf(text, sizeof text,
                     "the server has %lld bytes of %s, not the %ld this request starts at: 409",
                     (long long)have, req->path, off);
        nc_kit_report(pi->kit, nc_kit_http_conn(sc->h), "store",
                      (nc_scn_kv_t[]){NC_KV_I("offset", have)}, 1, NULL, "%s", text);
    }
    snprintf(num, sizeof num, "%lld", (long long)have);
    if (sc->status != 404)
        nc_sconn_header(sc, "Upload-Offset", num);
}

/*
 * Sessions and tokens. issue=session makes a session id and keeps it in
 * the server's memory; issue=token signs the user's name (the request's
 * body) and keeps nothing. require=session answers only a cookie the
 * memory holds, require=token only a token whose signature checks; the
 * others get 401. Each decision is an app event ("lookup", "verify") with
 * "found".
 */
static void nc_route_state(nc_sconn_t *sc, const nc_kit_http_msg_t *req)
{
    nc_pi_t *pi = sc->pi;
    const nc_prog_stmt_t *r = sc->route;
    nc_kit_conn_t *c = nc_kit_http_conn(sc->h);
    const char *issue = nc_opt(r, "issue"), *require = nc_opt(r, "require");
    char user[40] = "", value[200], cookie[240];
    if (issue) {
        for (size_t i = 0; i < req->body_len && i + 1 < sizeof user; i++)
            if (isalnum((unsigned char)req->body[i])) {
                size_t n = strlen(user);
                user[n] = req->body[i];
                user[n + 1] = '\0';
            }
        if (!user[0])
            snprintf(user, sizeof user, "user%ld", pi->users + 1);
        pi->users++;
        bool session = strcmp(issue, "session") == 0;
        if (session ? nc_kit_session_new(pi->memo, pi->users, value, sizeof value)
                    : nc_kit_token_make(pi->secret, user, value, sizeof value))
            return;
        snprintf(cookie, sizeof cookie, "%s=%s", issue, value);
        nc_sconn_header(sc, "Set-Cookie", cookie);
        if (session)
            nc_kit_report(pi->kit, c, "session", (nc_scn_kv_t[]){NC_KV_S("session", value)}, 1,
                          NULL, "the server keeps session %s for %s in its memory (%zu in all)",
                          value, user, nc_kit_memo_count(pi->memo));
        else
            nc_kit_report(pi->kit, c, "token", (nc_scn_kv_t[]){NC_KV_S("token", value)}, 1, NULL,
                          "the server signs a token for %s with its secret and keeps nothing", user);
    }
    if (!require)
        return;
    bool session = strcmp(require, "session") == 0;
    const char *jar = nc_kit_http_header(req, "Cookie");
    bool have = nc_kit_cookie_get(jar, require, value, sizeof value);
    bool ok = have && (session ? nc_kit_memo_get(pi->memo, value, NULL)
                               : nc_kit_token_check(pi->secret, value));
    nc_scn_kv_t kv[] = {NC_KV_I("found", ok)};
    if (session)
        nc_kit_report(pi->kit, c, "lookup", kv, 1, NULL,
                      ok ? "the server looks session %s up in its memory: found"
                         : "the server looks session %s up in its memory: not there, so 401",
                      have ? value : "(none)");
    else
        nc_kit_report(pi->kit, c, "verify", kv, 1, NULL,
                      ok ? "the server checks the token's signature with its secret: good"
                         : "the server checks the token's signature with its secret: bad, so 401");
    if (!ok) {
        sc->status = 401;
        sc->xbody = session ? "no such session: log in again\n" : "bad token\n";
    }
}

/*
 * record=yes: the server stores each request as a row (a comment, an
 * order) and honours an Idempotency-Key header: a request whose key it has
 * seen makes no new row and is answered at once with the row the key made.
 * Each decision is an app event: "row" (row, rows, key) or "duplicate"
 * (row, key). Returns true for a duplicate (answered without the route's
 * delay: no work is done again).
 */
static bool nc_route_record(nc_sconn_t *sc, const nc_kit_http_msg_t *req)
{
    nc_pi_t *pi = sc->pi;
    nc_kit_conn_t *c = nc_kit_http_conn(sc->h);
    const char *key = nc_kit_http_header(req, "Idempotency-Key");
    char mkey[240], num[32];
    int64_t row = 0;
    snprintf(mkey, sizeof mkey, "idempotency:%s", key ? key : "");
    bool dup = key && nc_kit_memo_get(pi->memo, mkey, &row);
    if (dup) {
        nc_kit_report(pi->kit, c, "duplicate",
                      (nc_scn_kv_t[]){NC_KV_I("row", row), NC_KV_S("key", key),
                                      NC_KV_I("rows", pi->rows)},
                      3, NULL, "the server has seen Idempotency-Key %s: no new row, it answers "
                      "with row %lld again", key, (long long)row);
    } else {
        row = ++pi->rows;
        if (key)
            nc_kit_memo_set(pi->memo, mkey, row);
        nc_kit_report(pi->kit, c, "row",
                      (nc_scn_kv_t[]){NC_KV_I("row", row), NC_KV_S("key", key ? key : ""),
                                      NC_KV_I("rows", pi->rows)},
                      3, NULL, key ? "the server stores %s %s as row %lld and remembers its "
                                     "Idempotency-Key %s"
                                   : "the server stores %s %s as row %lld%s (no Idempotency-Key: "
                                     "a retry would look like a new request)",
                      req->method, req->path, (long long)row, key ? key : "");
    }
    snprintf(num, sizeof num, "%lld", (long long)row);
    nc_sconn_header(sc, "X-Row", num);
    snprintf(sc->rowbody, sizeof sc->rowbody, "row %lld\n", (long long)row);
    sc->xbody = sc->rowbody;
    return dup;
}

static bool nc_route_matches(const nc_prog_stmt_t *r, const nc_kit_http_msg_t *req)
{
    /* A GET route answers HEAD too (the kit leaves the body out). */
    bool head = strcmp(req->method, "HEAD") == 0 && strcmp(r->args[0], "GET") == 0;
    if (strcmp(r->args[0], "*") != 0 && strcmp(r->args[0], req->method) != 0 && !head)
        return false;
    if (!req->path)
        return false;
    /* A star in the route stands for any text: "/page/" then a star matches
     * every page, "/jobs/" star "?wait=1" a long poll of any job. */
    const char *path = r->args[1], *star = strchr(path, '*');
    if (!star)
        return strcmp(req->path, path) == 0;
    size_t pre = (size_t)(star - path), post = strlen(star + 1), n = strlen(req->path);
    return n >= pre + post && strncmp(req->path, path, pre) == 0 &&
           strcmp(req->path + n - post, star + 1) == 0;
}

static void nc_job_freed(uv_handle_t *h)
{
    free(h->data);
}

/* The worker: one step more, reported as a "job" app event. */
static void nc_job_tick(uv_timer_t *t)
{
    nc_job_t *j = t->data;
    if (j->step >= j->steps)
        return;
    j->step++;
    if (j->step == j->steps)
        uv_timer_stop(t);
    nc_scn_kv_t kv[] = {NC_KV_I("job", j->id), NC_KV_I("progress", j->step * 100 / j->steps),
                        NC_KV_S("state", nc_job_state(j))};
    if (j->step < j->steps)
        nc_kit_report(j->pi->kit, NULL, "job", kv, 3, NULL,
                      "the worker moves job %ld on: %ld%% done", j->id, j->step * 100 / j->steps);
    else
        nc_kit_report(j->pi->kit, NULL, "job", kv, 3, NULL, "the worker finishes job %ld: done",
                      j->id);
}

/* The job a request is about: a new one (submit), or the one whose number
 * follows the route's text before its '*' in the path; NULL when none. */
static nc_job_t *nc_job_for(nc_pi_t *pi, const nc_prog_stmt_t *r, const char *path)
{
    if (strcmp(nc_opt(r, "job"), "submit") != 0) {
        const char *star = strchr(r->args[1], '*');
        long id = star ? atol(path + (star - r->args[1])) : 0;
        for (size_t i = 0; i < pi->njobs; i++)
            if (pi->jobs[i]->id == id)
                return pi->jobs[i];
        return NULL;
    }
    if (pi->njobs == NC_PI_MAX_JOBS)
        return NULL;
    const char *every = nc_opt(r, "every"), *steps = nc_opt(r, "steps");
    int64_t ms = every ? nc_prog_duration_ns(every) / 1000000 : 100;
    nc_job_t *j = nc_xcalloc(1, sizeof *j);
    *j = (nc_job_t){.pi = pi, .id = (long)pi->njobs + 1,
                    .steps = steps ? nc_prog_number(steps, 1, 1000000) : 4};
    pi->jobs[pi->njobs++] = j;
    uv_timer_init(&pi->loop, &j->timer);
    j->timer.data = j;
    uv_timer_start(&j->timer, nc_job_tick, (uint64_t)(ms > 0 ? ms : 1), (uint64_t)(ms > 0 ? ms : 1));
    return j;
}

static void nc_pi_request(nc_kit_http_t *h, const nc_kit_http_msg_t *req, void *data)
{
    nc_sconn_t *sc = data;
    nc_pi_t *pi = sc->pi;
    sc->route = NULL;
    for (size_t i = 0; i < pi->nroutes && !sc->route; i++)
        if (nc_route_matches(pi->routes[i], req))
            sc->route = pi->routes[i];
    if (!sc->route) {
        static const char nf[] = "not found\n";
        nc_kit_http_respond(h, 404, NULL, 0, NC_KIT_BODY_FIXED, nf, sizeof nf - 1, 0, NULL);
        nc_sconn_served(sc);
        return;
    }
    const nc_prog_stmt_t *r = sc->route;
    sc->status = 0;
    sc->nxhdr = 0;
    sc->xbody = NULL;
    /* A request that came through a proxy: the connection is the proxy's,
     * the header names the client. */
    const char *xff = nc_kit_http_header(req, "X-Forwarded-For");
    if (xff)
        nc_kit_report(pi->kit, nc_kit_http_conn(h), "forwarded",
                      (nc_scn_kv_t[]){NC_KV_S("for", xff),
                                      NC_KV_S("peer", nc_kit_conn_peer(nc_kit_http_conn(h)))},
                      2, NULL, "the request comes from %s, a proxy; X-Forwarded-For says it was "
                      "sent for %s", nc_kit_conn_peer(nc_kit_http_conn(h)), xff);
    if (nc_opt_yes(r, "upload"))
        nc_route_upload(sc, req);
    nc_route_state(sc, req);
    if (nc_opt_yes(r, "record") && nc_route_record(sc, req)) {
        nc_route_answer(sc);
        return;
    }
    if (nc_opt(r, "ws")) {
        size_t m = 0;
        while (m + 1 < sizeof nc_ws_modes / sizeof nc_ws_modes[0] &&
               strcmp(nc_ws_modes[m].mode, nc_opt(r, "ws")) != 0)
            m++;
        sc->ws = nc_kit_ws_accept(h, req, nc_ws_modes[m].cb, sc);
        if (sc->ws)
            nc_sconn_served(sc);
        return;
    }
    sc->job = nc_opt(r, "job") ? nc_job_for(pi, r, req->path) : NULL;
    if (nc_opt(r, "job") && !sc->job) {
        static const char nj[] = "no such job\n";
        nc_kit_http_respond(h, 404, NULL, 0, NC_KIT_BODY_FIXED, nj, sizeof nj - 1, 0, NULL);
        nc_sconn_served(sc);
        return;
    }
    /* A wait route holds its answer while the job has not moved since the
     * last answer about it. */
    bool held = sc->job && strcmp(nc_opt(r, "job"), "wait") == 0 &&
                sc->job->step == sc->job->told && sc->job->step < sc->job->steps;
    const char *delay = nc_opt(r, "delay");
    if (!nc_opt(r, "sse") && !nc_opt(r, "hold") && !delay && !held) {
        nc_route_answer(sc);
        nc_route_push(sc, req);
        return;
    }
    if (!sc->timer_init) {
        uv_timer_init(&pi->loop, &sc->timer);
        sc->timer.data = sc;
        sc->timer_init = true;
    }
    if (delay && !nc_opt(r, "sse") && !nc_opt(r, "hold")) {
        /* The server's work on the request: the answer waits for it. */
        int64_t ms = nc_prog_duration_ns(delay) / 1000000;
        nc_kit_report(pi->kit, nc_kit_http_conn(h), "process",
                      (nc_scn_kv_t[]){NC_KV_I("ms", ms)}, 1, NULL,
                      "the server works on %s %s for %lld ms before it can answer", req->method,
                      req->path, (long long)ms);
        uv_timer_start(&sc->timer, nc_sconn_delayed, (uint64_t)ms, 0);
        return;
    }
    int64_t every = nc_opt(r, "every") ? nc_prog_duration_ns(nc_opt(r, "every")) / 1000000 : 100;
    if (nc_opt(r, "sse")) {
        nc_kit_header_t hd[10];
        char names[10][64];
        size_t nh = nc_route_headers(r, hd, 8, names);
        hd[nh++] = (nc_kit_header_t){"Content-Type", "text/event-stream"};
        hd[nh++] = (nc_kit_header_t){"Cache-Control", "no-cache"};
        /* A client that reconnects says the last event it received
         * (Last-Event-ID): the stream goes on after it. */
        const char *last = nc_kit_http_header(req, "Last-Event-ID");
        long after = last ? nc_prog_number(last, 0, 1000000) : -1;
        char say[400];
        const char *text = nc_pi_say(pi, r, 0, say, sizeof say);
        if (!text && after >= 0) {
            snprintf(say, sizeof say, "write() the answer's head: the client's Last-Event-ID is "
                                      "%ld, so the stream goes on with event %ld", after, after + 1);
            text = say;
        }
        nc_kit_http_respond(h, (int)nc_prog_number(r->args[2], 100, 999), hd, nh,
                            NC_KIT_BODY_STREAM, NULL, 0, 0, text);
        sc->sse_i = after > 0 ? after : 0;
        uv_timer_start(&sc->timer, nc_sconn_tick, (uint64_t)(every > 0 ? every : 1),
                       (uint64_t)(every > 0 ? every : 1));
    } else {
        uv_timer_start(&sc->timer, nc_sconn_tick, 2, 2);
    }
}

static void nc_pi_h2_request(nc_kit_h2_t *h, int32_t stream, const nc_kit_http_msg_t *req,
                             void *data);
static void nc_pi_h2_gone(nc_kit_h2_t *h, void *data);
static void nc_pi_h2_response(nc_kit_h2_t *h, int32_t stream, const nc_kit_http_msg_t *resp,
                              void *data);
static void nc_pi_h2_open(nc_kit_h2_t *h, int status, void *data);
/* A tls-listen or tls-connect statement's TLS: version=1.2|1.3 (default:
 * either), alpn= (default http/1.1), sni= (a client's; default its host),
 * early=yes (0-RTT: see nc_kit_tls_opts_t). */
static void nc_pi_tls_opts(const nc_prog_stmt_t *st, nc_kit_tls_opts_t *o)
{
    const char *v = nc_opt(st, "version");
    o->version = v && strcmp(v, "1.2") == 0 ? 12 : v && strcmp(v, "1.3") == 0 ? 13 : 0;
    o->alpn = nc_opt(st, "alpn") ? nc_opt(st, "alpn") : "http/1.1";
    o->sni = nc_opt(st, "sni");
    o->early = nc_opt_yes(st, "early");
    if (o->sni == NULL && strcmp(st->verb, "tls-connect") == 0)
        o->sni = st->args[0];
}

static void nc_pi_grpc_gone(nc_kit_grpc_t *g, void *data);
static void nc_pi_grpc_done(nc_kit_grpc_t *g, int status, size_t replies, void *data);

/* h2-listen or grpc-listen tls=yes: TLS under HTTP/2, ALPN h2 only. */
static void nc_pi_h2_tls(nc_pi_t *pi, nc_kit_conn_t *c)
{
    if (!nc_opt_yes(pi->listen_st, "tls"))
        return;
    nc_kit_tls_opts_t o;
    nc_pi_tls_opts(pi->listen_st, &o);
    o.alpn = "h2";
    nc_kit_tls_start(c, true, &o, NULL, NULL);
}

static void nc_pi_accepted(nc_kit_listener_t *l, nc_kit_conn_t *c, void *data)
{
    nc_pi_t *pi = data;
    if (pi->h2_server || pi->grpc_server)
        nc_pi_h2_tls(pi, c);
    if (pi->grpc_server) {
        if (pi->ngconns == NC_PI_MAX_CONNS) {
            nc_kit_close(c, "close(): too many connections for this lesson's server");
            return;
        }
        pi->gconns[pi->ngconns++] =
            nc_kit_grpc_server(c, pi->rpcs, pi->nrpcs, nc_pi_grpc_done, nc_pi_grpc_gone, pi);
        return;
    }
    if (pi->h2_server) {
        if (pi->nh2conns == NC_PI_MAX_CONNS) {
            nc_kit_close(c, "close(): too many connections for this lesson's server");
            return;
        }
        pi->h2conns[pi->nh2conns++] = nc_kit_h2_server(c, nc_pi_h2_request, nc_pi_h2_gone, pi);
        return;
    }
    if (pi->http_server) {
        if (pi->nsconns == NC_PI_MAX_CONNS) {
            nc_kit_close(c, "close(): too many connections for this lesson's server");
            return;
        }
        nc_sconn_t *sc = nc_xcalloc(1, sizeof *sc);
        sc->pi = pi;
        pi->sconns[pi->nsconns++] = sc;
        /* TLS goes under the HTTP server: the handshake runs as the
         * records come, and HTTP reads the plaintext. */
        if (pi->tls_server) {
            if (nc_opt_yes(pi->listen_st, "nodelay"))
                nc_kit_conn_nodelay(c);
            nc_kit_tls_opts_t o;
            nc_pi_tls_opts(pi->listen_st, &o);
            nc_kit_tls_start(c, true, &o, NULL, NULL);
        }
        sc->h = nc_kit_http_server(c, nc_pi_request, nc_sconn_gone, sc);
        return;
    }
    if (pi->naccepted == NC_PI_MAX_CONNS) {
        nc_kit_close(c, "close(): too many connections waiting for accept()");
        return;
    }
    nc_kit_conn_start(c, &nc_pi_conn_cbs, pi);
    pi->accepted[pi->naccepted++] = c;
    nc_pi_poke(pi);
}

/* ---- the HTTP client ---- */

/* Keeps the cookies a response sets (name=value, up to its first ';'),
 * replacing one of the same name, as a browser's jar does. */
static void nc_pi_jar_keep(nc_pi_t *pi, const nc_kit_http_msg_t *resp)
{
    for (size_t i = 0; i < resp->nheaders; i++) {
        if (strcasecmp(resp->headers[i].name, "Set-Cookie") != 0)
            continue;
        const char *v = resp->headers[i].value;
        size_t len = strcspn(v, ";"), nl = strcspn(v, "=");
        if (nl >= len || len >= sizeof pi->jar[0])
            continue;
        size_t k = 0;
        while (k < pi->njar && strncmp(pi->jar[k], v, nl + 1) != 0)
            k++;
        if (k == NC_PI_JAR)
            continue;
        snprintf(pi->jar[k], sizeof pi->jar[0], "%.*s", (int)len, v);
        if (k == pi->njar)
            pi->njar++;
    }
}

/* The jar as a Cookie header's value in out, or NULL when it is empty. */
static const char *nc_pi_jar_header(const nc_pi_t *pi, char *out, size_t outlen)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t k = 0; k < pi->njar && o < outlen; k++)
        o += (size_t)snprintf(out + o, outlen - o, "%s%s", k ? "; " : "", pi->jar[k]);
    return pi->njar ? out : NULL;
}

static void nc_pi_upload_answer(nc_pi_t *pi, const nc_kit_http_msg_t *resp);

static void nc_pi_response(nc_kit_http_t *h, const nc_kit_http_msg_t *resp, void *data)
{
    nc_pi_t *pi = data;
    if (resp->status == 100)
        return;
    const char *loc = nc_kit_http_header(resp, "Location");
    if (loc)
        snprintf(pi->location, sizeof pi->location, "%s", loc);
    snprintf(pi->last_body, sizeof pi->last_body, "%.*s",
             (int)(resp->body_len < sizeof pi->last_body ? resp->body_len : sizeof pi->last_body - 1),
             resp->body ? resp->body : "");
    nc_pi_jar_keep(pi, resp);
    if (pi->outstanding)
        pi->outstanding--;
    if (pi->up && pi->up_waiting)
        nc_pi_upload_answer(pi, resp);
    nc_pi_poke(pi);
}

static void nc_pi_sse(nc_kit_http_t *h, const char *id, const char *event, const char *data,
                      void *ud)
{
    nc_pi_t *pi = ud;
    pi->sse_events++;
    if (id)
        snprintf(pi->last_id, sizeof pi->last_id, "%s", id);
    pi->last_event_ms = uv_now(&pi->loop);
    nc_pi_poke(pi);
}

static void nc_pi_http_gone(nc_kit_http_t *h, void *data)
{
    nc_pi_t *pi = data;
    if (pi->http != h)
        return; /* a connection the program closed and left already */
    pi->http = NULL;
    pi->ws = NULL;
    pi->conn = NULL;
    pi->conn_closed = true;
    pi->eof = true;
    /* Answers that can no longer come are not waited for. */
    pi->outstanding = 0;
    if (pi->up && pi->up_waiting) {
        uv_timer_stop(&pi->aux);
        pi->up_waiting = false;
        pi->up_done = true;
    }
    nc_pi_poke(pi);
}

/* The sentence of a read() on the program's HTTP client: its read
 * statement's say=, with the answer's sizes; the read that ends the
 * connection also carries the last body's length. */
static void nc_pi_http_describe(nc_kit_http_t *h, size_t n, char *out, size_t outlen, void *data)
{
    nc_pi_t *pi = data;
    nc_kit_conn_t *c = nc_kit_http_conn(h);
    pi->total = nc_kit_conn_read_total(c);
    pi->body = nc_kit_http_last_body(h);
    if (n == 0)
        nc_kit_conn_note(c, "body_len", (int64_t)pi->body);
    const nc_prog_stmt_t *st = pi->cur;
    if (pi->http != h || !st || strcmp(st->verb, "read") != 0 || pi->wait == NC_W_NONE)
        return;
    if ((strcmp(st->args[0], "eof") == 0) == (n == 0) && nc_opt(st, "say"))
        nc_pi_say(pi, st, n, out, outlen);
}

static void nc_pi_http_eof(nc_kit_http_t *h, void *data)
{
    nc_pi_t *pi = data;
    if (pi->http != h) {
        nc_kit_close(nc_kit_http_conn(h), NULL);
        return;
    }
    pi->eof = true;
    nc_pi_poke(pi);
}

static void nc_pi_ws_msg(nc_kit_ws_t *ws, nc_kit_ws_op_t op, const char *data, size_t len,
                         int code, void *ud)
{
    nc_pi_t *pi = ud;
    if (op != NC_KIT_WS_CLOSE)
        pi->ws_msgs++;
    nc_pi_poke(pi);
}

static void nc_pi_ws_open(nc_kit_ws_t *ws, int status, void *ud)
{
    nc_pi_t *pi = ud;
    if (status != 0) {
        nc_pi_fail(pi, "%s", "the server's WebSocket handshake answer was wrong");
        nc_kit_close(nc_kit_ws_conn(ws), NULL);
        return;
    }
    pi->ws_open = true;
    nc_pi_poke(pi);
}

static void nc_pi_bline(nc_kit_bclient_t *bc, const char *verb, long id, const char *topic,
                        const char *text, void *data);
static void nc_pi_bgone(nc_kit_bclient_t *bc, void *data);
/* The client's handshake ended: the connection is ready for requests. */
static void nc_pi_tls_ready(nc_kit_conn_t *c, int status, void *data)
{
    nc_pi_t *pi = data;
    if (status != 0) {
        /* The kit reported why and closes the connection. */
        nc_pi_fail(pi, "%s", "the TLS handshake failed");
        nc_pi_finish(pi);
        return;
    }
    pi->connected = true;
    nc_pi_poke(pi);
}

static void nc_pi_connected(nc_kit_conn_t *c, int status, void *data)
{
    nc_pi_t *pi = data;
    if (status != 0) {
        pi->conn = NULL;
        nc_pi_fail(pi, "connect failed: %s", uv_strerror(status));
        nc_pi_finish(pi);
        return;
    }
    const nc_prog_stmt_t *st = pi->cur;
    if (strcmp(st->verb, "connect") == 0) {
        nc_kit_conn_start(c, &nc_pi_conn_cbs, pi);
    } else if (strcmp(st->verb, "broker-connect") == 0) {
        pi->bcl = nc_kit_bclient(c, nc_pi_bline, nc_pi_bgone, pi);
    } else if (strcmp(st->verb, "events") == 0) {
        /* An events statement reconnecting: ask again, resuming. */
        pi->http = nc_kit_http_client(c, nc_pi_response, nc_pi_sse, nc_pi_http_gone, pi);
        nc_kit_http_set_eof(pi->http, nc_pi_http_eof);
        nc_kit_http_set_describe(pi->http, nc_pi_http_describe);
        pi->sse_phase = NC_SSE_STREAM;
        pi->last_event_ms = uv_now(&pi->loop);
        if (nc_pi_send_request(pi, st, true) != 0)
            nc_pi_finish(pi);
    } else if (strcmp(st->verb, "h2-connect") == 0 && nc_opt(st, "upgrade")) {
        /* Connected once the 101 came and the client switched. */
        pi->h2 = nc_kit_h2_client_upgrade(c, nc_opt(st, "upgrade"), nc_pi_h2_response,
                                          nc_pi_h2_open, nc_pi_h2_gone, pi);
        pi->outstanding = 1;
        return;
    } else if (strcmp(st->verb, "h2-connect") == 0) {
        pi->h2 = nc_kit_h2_client(c, nc_pi_h2_response, nc_pi_h2_gone, pi);
        if (nc_opt(st, "window"))
            nc_kit_h2_window(pi->h2, (uint32_t)nc_prog_number(nc_opt(st, "window"), 1, 1000000));
    } else if (strcmp(st->verb, "grpc-connect") == 0) {
        pi->grpc = nc_kit_grpc_client(c, nc_pi_grpc_done, nc_pi_grpc_gone, pi);
    } else {
        pi->http = nc_kit_http_client(c, nc_pi_response, nc_pi_sse, nc_pi_http_gone, pi);
        /* A WebSocket ends with its connection; an HTTP client closes
         * when its program says so (read eof, then close). */
        if (strcmp(st->verb, "ws-connect") != 0)
            nc_kit_http_set_eof(pi->http, nc_pi_http_eof);
        nc_kit_http_set_describe(pi->http, nc_pi_http_describe);
        if (strcmp(st->verb, "ws-connect") == 0)
            pi->ws = nc_kit_ws_connect(pi->http, st->args[2], nc_pi_ws_open, nc_pi_ws_msg, pi);
    }
    if (strcmp(st->verb, "tls-connect") == 0) {
        /* Connected once the handshake is done (nc_pi_tls_ready). */
        nc_kit_tls_opts_t o;
        nc_pi_tls_opts(st, &o);
        nc_kit_tls_start(c, false, &o, nc_pi_tls_ready, pi);
        return;
    }
    pi->connected = true;
    nc_pi_poke(pi);
}

/* ---- HTTP/2 ---- */

/* The answer an HTTP/2 or HTTP/3 server's routes give req: status,
 * headers (into hd, names) and body (owned by the caller; size=N makes N
 * letters). 404 when no route matches. */
typedef struct nc_pi_answer {
    int status;
    nc_kit_header_t hd[10];
    char names[10][64];
    size_t nh;
    char *body;
    size_t len;
} nc_pi_answer_t;

static void nc_pi_route_answer(nc_pi_t *pi, const nc_kit_http_msg_t *req, nc_pi_answer_t *a)
{
    const nc_prog_stmt_t *r = NULL;
    for (size_t i = 0; i < pi->nroutes && !r; i++)
        if (nc_route_matches(pi->routes[i], req))
            r = pi->routes[i];
    a->nh = 0;
    if (!r) {
        a->status = 404;
        a->body = nc_xstrdup("not found\n");
        a->len = strlen(a->body);
        return;
    }
    a->status = (int)nc_prog_number(r->args[2], 100, 999);
    a->nh = nc_route_headers(r, a->hd, 8, a->names);
    const char *body = nc_opt(r, "body"), *size = nc_opt(r, "size");
    if (size) {
        a->len = (size_t)nc_prog_number(size, 0, 1 << 24);
        a->body = nc_xmalloc(a->len + 1);
        for (size_t i = 0; i < a->len; i++)
            a->body[i] = (char)('a' + i % 26);
        a->body[a->len] = '\0';
    } else {
        a->body = nc_xstrdup(body ? body : "");
        a->len = strlen(a->body);
    }
}

/* The server answers each stream from the route table, as HTTP/1 does
 * (status, header=, body= and size=; hold, sse and ws are HTTP/1's only). */
static void nc_pi_h2_request(nc_kit_h2_t *h, int32_t stream, const nc_kit_http_msg_t *req,
                             void *data)
{
    nc_pi_t *pi = data;
    nc_pi_answer_t a;
    nc_pi_route_answer(pi, req, &a);
    nc_kit_h2_respond(h, stream, a.status, a.hd, a.nh, a.body, a.len);
    free(a.body);
    pi->served++;
    nc_pi_poke(pi);
}

static void nc_pi_h2_gone(nc_kit_h2_t *h, void *data)
{
    nc_pi_t *pi = data;
    for (size_t i = 0; i < pi->nh2conns; i++)
        if (pi->h2conns[i] == h) {
            pi->h2conns[i] = pi->h2conns[--pi->nh2conns];
            break;
        }
    if (pi->h2 != h)
        return;
    pi->h2 = NULL;
    pi->conn = NULL;
    pi->conn_closed = true;
    pi->eof = true;
    nc_pi_poke(pi);
}

/*
 * A stream's answer reached the program (h2-get, h3-get): reported as a
 * "response" app event with when (ms after the requests left) and whether
 * it stalled. An answer costs one round trip when nothing is lost; one
 * that took more than one and a half (and 10 ms more than one) stalled
 * behind a loss. The round trip is the smallest the connection measured
 * so far: the kernel's for TCP (tcpi_min_rtt), ngtcp2's for QUIC. After
 * the batch's last answer, a "streams" app event sums it up (streams,
 * stalled, first_ms, last_ms, rtt_ms). An answer that is not the batch's
 * (an Upgrade's, on stream 1) is not timed: its read() said it all.
 */
static void nc_pi_stream_done(nc_pi_t *pi, nc_kit_conn_t *conn, int64_t stream,
                              const nc_kit_http_msg_t *m, const char *proto, int port)
{
    const char *path = NULL;
    for (size_t i = 0; i < pi->nsids; i++)
        if (pi->sids[i] == stream)
            path = pi->spaths[i];
    if (!path)
        return;
    double ms = (double)(uv_hrtime() - pi->req_t0) / 1e6;
    /* On a link with next to no delay, 1.5 round trips is within the
     * programs' own jitter: a stall is also at least 10 ms late. */
    bool stalled = pi->rtt_ms > 0 && ms > 1.5 * pi->rtt_ms && ms > pi->rtt_ms + 10;
    if (pi->ndelivered++ == 0 || ms < pi->first_ms)
        pi->first_ms = ms;
    if (ms > pi->last_ms)
        pi->last_ms = ms;
    pi->nstalled += stalled;
    nc_scn_kv_t kv[9] = {
        NC_KV_I("stream", stream),      NC_KV_S("path", path),
        NC_KV_I("status", m->status),   NC_KV_I("bytes", (int64_t)m->body_len),
        NC_KV_I("ms", (int64_t)(ms + 0.5)), NC_KV_I("rtt_ms", (int64_t)(pi->rtt_ms + 0.5)),
        NC_KV_B("stalled", stalled),    NC_KV_S("proto", proto),
        NC_KV_I("port", port),
    };
    double rtts = pi->rtt_ms > 0 ? ms / pi->rtt_ms : 0;
    nc_kit_report(pi->kit, conn, "response", kv, conn ? 8 : 9, NULL,
                  "%s stream %lld (%s): %zu bytes reached the program %.0f ms after the requests "
                  "left, %.1f round trips%s", proto, (long long)stream, path, m->body_len, ms,
                  rtts, stalled ? ": late, more than one and a half round trips" : "");
    if (pi->ndelivered < pi->nsids)
        return;
    nc_scn_kv_t sum[7] = {
        NC_KV_I("streams", (int64_t)pi->nsids), NC_KV_I("stalled", (int64_t)pi->nstalled),
        NC_KV_I("first_ms", (int64_t)(pi->first_ms + 0.5)),
        NC_KV_I("last_ms", (int64_t)(pi->last_ms + 0.5)),
        NC_KV_I("rtt_ms", (int64_t)(pi->rtt_ms + 0.5)), NC_KV_S("proto", proto),
        NC_KV_I("port", port),
    };
    nc_kit_report(pi->kit, conn, "streams", sum, conn ? 6 : 7, NULL,
                  "all %zu %s answers are in: %zu of %zu streams stalled (the first after %.0f "
                  "ms, the last after %.0f ms; one round trip is %.0f ms)", pi->nsids, proto,
                  pi->nstalled, pi->nsids, pi->first_ms, pi->last_ms, pi->rtt_ms);
}

/* A request of the batch went out on stream id (negative: it could not). */
static int nc_pi_stream_add(nc_pi_t *pi, int64_t id, const char *path)
{
    if (id < 0)
        return nc_pi_fail(pi, "%s", "the request could not be sent");
    if (pi->nsids < sizeof pi->sids / sizeof pi->sids[0]) {
        pi->sids[pi->nsids] = id;
        pi->spaths[pi->nsids++] = path;
    }
    pi->outstanding++;
    return 0;
}

/* A batch of requests is about to leave: their answers are timed from now. */
static void nc_pi_streams_begin(nc_pi_t *pi)
{
    pi->nsids = pi->ndelivered = pi->nstalled = 0;
    pi->first_ms = pi->last_ms = 0;
    pi->req_t0 = uv_hrtime();
}

static void nc_pi_h2_response(nc_kit_h2_t *h, int32_t stream, const nc_kit_http_msg_t *resp,
                              void *data)
{
    nc_pi_t *pi = data;
    if (pi->outstanding)
        pi->outstanding--;
    pi->rtt_ms = nc_kit_conn_min_rtt_ms(nc_kit_h2_conn(h));
    nc_pi_stream_done(pi, nc_kit_h2_conn(h), stream, resp, "HTTP/2", 0);
    nc_pi_poke(pi);
}

/* h2-connect upgrade=PATH: the 101 came (status 0) or the switch failed. */
static void nc_pi_h2_open(nc_kit_h2_t *h, int status, void *data)
{
    nc_pi_t *pi = data;
    if (status != 0) {
        nc_pi_fail(pi, "%s", "the server did not switch to HTTP/2 (no 101 to Upgrade: h2c)");
        nc_pi_finish(pi);
        return;
    }
    pi->connected = true;
    nc_pi_poke(pi);
}

/* A statement's paths: its arguments, or with count=N its one path N times
 * with {i} replaced by 1..N ("/img/{i}.png"). Returns how many were put in
 * out (nc_xmalloc'd strings, at most max). */
static size_t nc_pi_paths(const nc_prog_stmt_t *st, size_t first, char **out, size_t max)
{
    const char *count = nc_opt(st, "count");
    if (!count) {
        size_t n = 0;
        for (size_t i = first; i < st->nargs && n < max; i++)
            out[n++] = nc_xstrdup(st->args[i]);
        return n;
    }
    size_t n = (size_t)nc_prog_number(count, 1, 1000000);
    if (n > max)
        n = max;
    const char *tpl = st->args[first];
    const char *mark = strstr(tpl, "{i}");
    for (size_t i = 0; i < n; i++) {
        char path[300];
        if (mark)
            snprintf(path, sizeof path, "%.*s%zu%s", (int)(mark - tpl), tpl, i + 1, mark + 3);
        else
            snprintf(path, sizeof path, "%s", tpl);
        out[i] = nc_xstrdup(path);
    }
    return n;
}

#define NC_PI_PAGE 64 /* paths an h2-get or pool-get asks for, at most */

/* h2-get /a /b ...: one stream per path, all written at once, then waits
 * for every answer. */
static int nc_v_h2_get(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    if (!pi->h2)
        return nc_pi_fail(pi, "%s", "h2-get needs an h2-connect before it");
    nc_kit_header_t hd[10];
    char names[10][64];
    size_t nh = nc_route_headers(st, hd, 8, names);
    nc_pi_streams_begin(pi);
    char *paths[NC_PI_PAGE];
    size_t n = nc_pi_paths(st, 0, paths, NC_PI_PAGE);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        /* A stream's path is kept borrowed: with count= the statement's
         * template ("/img/{i}.png") stands for every one. */
        int32_t id = rc == 0 ? nc_kit_h2_submit(pi->h2, "GET", paths[i], hd, nh) : -1;
        if (rc == 0)
            rc = nc_pi_stream_add(pi, id, nc_opt(st, "count") ? st->args[0] : st->args[i]);
        free(paths[i]);
    }
    if (rc != 0)
        return rc;
    char say[400];
    nc_kit_h2_send(pi->h2, nc_pi_say(pi, st, 0, say, sizeof say));
    return nc_pi_wait(pi, NC_W_RESPONSE);
}

/* pool-get's page is in: the program goes on. */
static void nc_pi_pool_done(nc_kit_pool_t *p, void *data)
{
    (void)p;
    nc_pi_t *pi = data;
    pi->pool = NULL;
    nc_pi_poke(pi);
}

/* pool-get HOST PORT PATH count=N pool=K: a page of resources over a pool
 * of K HTTP/1.1 connections (default 6, a browser's), then waits for every
 * answer. */
static int nc_v_pool_get(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    char **paths = nc_xmalloc(NC_PI_PAGE * sizeof *paths);
    size_t n = nc_pi_paths(st, 2, paths, NC_PI_PAGE);
    const char *size = nc_opt(st, "pool");
    char say[400];
    const char *own = nc_pi_say(pi, st, 0, say, sizeof say);
    size_t k = size ? (size_t)nc_prog_number(size, 1, 16) : 6;
    nc_kit_report(pi->kit, NULL, "page", (nc_scn_kv_t[]){NC_KV_I("resources", (int64_t)n),
                                                        NC_KV_I("pool", (int64_t)k)}, 2, own,
                  "%zu resources to fetch over at most %zu HTTP/1.1 connections: one request "
                  "at a time on each, the rest wait in a queue", n, k);
    pi->pool = nc_kit_pool_get(pi->kit, st->args[0], (int)nc_prog_number(st->args[1], 1, 65535),
                               paths, n, k, nc_pi_pool_done, pi);
    if (!pi->pool)
        return NC_EIO;
    return nc_pi_wait(pi, NC_W_RESPONSE);
}

/* ---- HTTP/3 over QUIC ---- */

/* The server answers each request's stream from the route table, as h2-listen does. */
static void nc_pi_h3_request(nc_kit_h3_t *h, nc_kit_h3_conn_t *c, int64_t stream,
                             const nc_kit_http_msg_t *req, void *data)
{
    (void)h;
    nc_pi_t *pi = data;
    nc_pi_answer_t a;
    nc_pi_route_answer(pi, req, &a);
    nc_kit_h3_respond(c, stream, a.status, a.hd, a.nh, a.body, a.len);
    free(a.body);
    pi->served++;
    nc_pi_poke(pi);
}

static int nc_v_h3_listen(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    if (pi->h3srv)
        return nc_pi_fail(pi, "%s", "the program already serves HTTP/3");
    pi->h3srv = nc_kit_h3_listen(pi->kit, (int)nc_prog_number(st->args[0], 1, 65535),
                                 nc_pi_h3_request, pi, nc_opt(st, "say"));
    if (!pi->h3srv)
        return NC_EIO;
    nc_prun_set(pi->pr, pi->pg->name, "listening");
    return 0;
}

/* The client's QUIC handshake ended (status 0), or the connection ended
 * (failed, or closed by the server): a failure while the program still
 * waits on it. */
static void nc_pi_h3_ready(nc_kit_h3_t *h, int status, void *data)
{
    (void)h;
    nc_pi_t *pi = data;
    if (status != 0) {
        bool waiting = !pi->connected || pi->outstanding > 0;
        const char *why = !pi->connected ? "the QUIC connection failed before its handshake ended"
                                         : "the QUIC connection ended before every answer came";
        pi->outstanding = 0;
        if (waiting && !pi->finished) {
            nc_pi_fail(pi, "%s", why);
            nc_pi_finish(pi);
        }
        return;
    }
    pi->connected = true;
    nc_pi_poke(pi);
}

static void nc_pi_h3_response(nc_kit_h3_t *h, int64_t stream, const nc_kit_http_msg_t *resp,
                              void *data)
{
    nc_pi_t *pi = data;
    if (pi->outstanding)
        pi->outstanding--;
    pi->rtt_ms = nc_kit_h3_min_rtt_ms(h);
    nc_pi_stream_done(pi, NULL, stream, resp, "HTTP/3", nc_kit_h3_port(h));
    nc_pi_poke(pi);
}

static int nc_v_h3_connect(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    if (pi->h3)
        return nc_pi_fail(pi, "%s", "the program is already connected over QUIC (close first)");
    char say[400];
    pi->connected = false;
    pi->outstanding = 0;
    pi->h3 = nc_kit_h3_connect(pi->kit, st->args[0], (int)nc_prog_number(st->args[1], 1, 65535),
                               nc_pi_h3_ready, nc_pi_h3_response, pi,
                               nc_opt(st, "say") ? nc_pi_say(pi, st, 0, say, sizeof say) : NULL);
    if (!pi->h3)
        return NC_EIO;
    return nc_pi_wait(pi, NC_W_CONNECT);
}

/* h3-get /a /b ...: one QUIC stream per path, all sent at once, then waits
 * for every answer. */
static int nc_v_h3_get(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    if (!pi->h3 || !pi->connected)
        return nc_pi_fail(pi, "%s", "h3-get needs an h3-connect before it");
    nc_kit_header_t hd[10];
    char names[10][64];
    size_t nh = nc_route_headers(st, hd, 8, names);
    nc_pi_streams_begin(pi);
    char say[400];
    for (size_t i = 0; i < st->nargs; i++) {
        int64_t id = nc_kit_h3_submit(pi->h3, "GET", st->args[i], hd, nh,
                                      nc_opt(st, "say") ? nc_pi_say(pi, st, 0, say, sizeof say)
                                                        : NULL);
        if (nc_pi_stream_add(pi, id, st->args[i]) != 0)
            return NC_EIO;
    }
    nc_kit_h3_send(pi->h3);
    return nc_pi_wait(pi, NC_W_RESPONSE);
}

/* ---- gRPC ---- */

static void nc_pi_grpc_gone(nc_kit_grpc_t *g, void *data)
{
    nc_pi_t *pi = data;
    for (size_t i = 0; i < pi->ngconns; i++)
        if (pi->gconns[i] == g) {
            pi->gconns[i] = pi->gconns[--pi->ngconns];
            break;
        }
    if (pi->grpc != g)
        return;
    pi->grpc = NULL;
    pi->conn = NULL;
    pi->conn_closed = true;
    pi->eof = true;
    pi->outstanding = 0; /* a call the connection took with it */
    nc_pi_poke(pi);
}

static void nc_pi_grpc_done(nc_kit_grpc_t *g, int status, size_t replies, void *data)
{
    nc_pi_t *pi = data;
    if (pi->grpc_server)
        pi->served++;
    else if (pi->outstanding)
        pi->outstanding--;
    nc_pi_poke(pi);
}

/* rpc KIND PATH: a method the program's grpc-listen answers. */
static int nc_v_rpc(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    if (pi->listener)
        return nc_pi_fail(pi, "%s", "rpc statements come before the grpc-listen that serves them");
    if (pi->nrpcs == sizeof pi->rpcs / sizeof pi->rpcs[0])
        return nc_pi_fail(pi, "%s", "too many rpc statements");
    const char *replies = nc_opt(st, "replies"), *every = nc_opt(st, "every");
    const char *status = nc_opt(st, "status");
    pi->rpcs[pi->nrpcs++] = (nc_kit_grpc_method_t){
        .kind = st->args[0],
        .path = st->args[1],
        .reply = nc_opt(st, "reply"),
        .message = nc_opt(st, "message"),
        .say = nc_opt(st, "say"),
        .replies = replies ? (size_t)nc_prog_number(replies, 1, 1000) : 1,
        .every_ms = every ? (uint64_t)(nc_prog_duration_ns(every) / 1000000) : 0,
        .status = status ? (int)nc_prog_number(status, 1, 16) : 0,
    };
    return 0;
}

/* grpc-call KIND PATH MSG...: one call, waited for until its status came. */
static int nc_v_grpc_call(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    if (!pi->grpc)
        return nc_pi_fail(pi, "%s", "grpc-call needs a grpc-connect before it");
    size_t n = st->nargs - 2;
    if (n > 1 && (strcmp(st->args[0], "unary") == 0 || strcmp(st->args[0], "server-stream") == 0))
        return nc_pi_fail(pi, "a %s call sends one message", st->args[0]);
    const char *every = nc_opt(st, "every");
    pi->outstanding = 1;
    if (nc_kit_grpc_call(pi->grpc, st->args[0], st->args[1], (const char *const *)st->args + 2, n,
                         every ? (uint64_t)(nc_prog_duration_ns(every) / 1000000) : 0) != 0)
        return NC_EIO;
    return nc_pi_wait(pi, NC_W_RESPONSE);
}

/* ---- the verbs ---- */

static int nc_v_listen(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    if (pi->listener)
        return nc_pi_fail(pi, "%s", "the program already listens");
    pi->http_server = strcmp(st->verb, "http-listen") == 0 || strcmp(st->verb, "tls-listen") == 0;
    pi->tls_server = strcmp(st->verb, "tls-listen") == 0;
    pi->h2_server = strcmp(st->verb, "h2-listen") == 0;
    pi->grpc_server = strcmp(st->verb, "grpc-listen") == 0;
    pi->listen_st = st;
    const char *backlog = nc_opt(st, "backlog");
    pi->listener = nc_kit_listen(pi->kit, (int)nc_prog_number(st->args[0], 1, 65535),
                                 backlog ? (int)nc_prog_number(backlog, 1, 1000000) : 8,
                                 nc_pi_accepted, pi, nc_opt(st, "say"));
    if (!pi->listener)
        return NC_EIO;
    if (nc_opt_yes(st, "fastopen"))
        nc_kit_listener_fastopen(pi->listener);
    const char *acc = nc_opt(st, "accept");
    if (acc) {
        /* The kit puts the peer's name where "%s" stands. */
        const char *mark = strstr(acc, "{peer}");
        if (mark)
            snprintf(pi->accept_say, sizeof pi->accept_say, "%.*s%%s%s", (int)(mark - acc), acc,
                     mark + 6);
        else
            snprintf(pi->accept_say, sizeof pi->accept_say, "%s", acc);
        nc_kit_listener_say(pi->listener, pi->accept_say);
    }
    nc_prun_set(pi->pr, pi->pg->name, "listening");
    return 0;
}

static int nc_v_accept(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    if (!pi->listener || pi->http_server || pi->h2_server || pi->grpc_server)
        return nc_pi_fail(pi, "%s", "accept needs a listen before it");
    pi->conn_closed = false;
    pi->eof = false;
    pi->avail = pi->total = 0;
    return nc_pi_wait(pi, NC_W_ACCEPT);
}

/* An events statement connects again where the program's last
 * http-connect went, keeping its count of events. */
static int nc_pi_events_reconnect(nc_pi_t *pi)
{
    if (!pi->peer_host)
        return nc_pi_fail(pi, "%s", "events cannot reconnect without an http-connect before it");
    pi->connected = pi->conn_closed = pi->eof = false;
    pi->outstanding = 0;
    pi->conn = nc_kit_connect(pi->kit, pi->peer_host, pi->peer_port, false, nc_pi_connected, pi,
                              "connect(): the client connects again to pick up the stream", NULL);
    return pi->conn ? 0 : NC_EIO;
}

/* Connects the program's connection to host:port; the statement being run
 * (pi->cur) decides what it speaks once connected. */
static int nc_pi_connect(nc_pi_t *pi, const char *host, int port, unsigned flags,
                         const char *say, const char *done, nc_wait_t w)
{
    pi->connected = pi->conn_closed = pi->eof = pi->ws_open = false;
    pi->bok = pi->nbq = 0;
    pi->avail = pi->total = pi->ws_msgs = pi->outstanding = pi->sse_events = 0;
    pi->conn = nc_kit_connect(pi->kit, host, port, flags, nc_pi_connected, pi, say, done);
    if (!pi->conn)
        return NC_EIO;
    return nc_pi_wait(pi, w);
}

static int nc_v_connect(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    if (pi->conn)
        return nc_pi_fail(pi, "%s", "the program is already connected (close first)");
    char say[400];
    int port = (int)nc_prog_number(st->args[1], 1, 65535);
    if (strcmp(st->verb, "http-connect") == 0) {
        pi->peer_host = st->args[0];
        pi->peer_port = port;
    }
    return nc_pi_connect(pi, st->args[0], port,
                         (nc_opt_yes(st, "nodelay") ? NC_KIT_NODELAY : 0) |
                             (nc_opt_yes(st, "fastopen") ? NC_KIT_FASTOPEN : 0),
                         nc_pi_say(pi, st, 0, say, sizeof say), nc_opt(st, "done"),
                         strcmp(st->verb, "ws-connect") == 0 ? NC_W_WSOPEN : NC_W_CONNECT);
}

/* reconnect=yes: when the program's HTTP connection is gone (the server
 * closed or reset it), a new one is opened to where the last http-connect
 * went, and the statement runs again once it is up. Returns 1 (waiting),
 * 0 (the connection is fine) or a negative code. */
static int nc_pi_reconnect(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    if (!nc_opt_yes(st, "reconnect") || (pi->http && !pi->eof && !pi->conn_closed))
        return 0;
    if (!pi->peer_host)
        return nc_pi_fail(pi, "%s", "reconnect=yes needs an http-connect before it");
    if (pi->conn)
        nc_kit_close(pi->conn, NULL);
    pi->conn = NULL;
    pi->http = NULL;
    pi->fr[pi->depth].pc--;
    return nc_pi_connect(pi, pi->peer_host, pi->peer_port, false,
                         "connect(): the old connection is gone, so the client opens a new one",
                         NULL, NC_W_CONNECT);
}

static int nc_v_write(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    if (!pi->conn || pi->http)
        return nc_pi_fail(pi, "%s", "write needs a connection of its own (connect or accept)");
    long n = nc_prog_number(st->args[0], 1, 1000000);
    char say[400];
    if (n < 0) {
        size_t len = strlen(st->args[0]);
        nc_kit_write(pi->conn, st->args[0], len, nc_pi_say(pi, st, len, say, sizeof say));
        return 0;
    }
    long i, count;
    nc_pi_iter(pi, &i, &count);
    char *bytes = nc_xmalloc((size_t)n);
    memset(bytes, 'a' + (int)((i - 1) % 26), (size_t)n);
    nc_kit_write(pi->conn, bytes, (size_t)n, nc_pi_say(pi, st, (size_t)n, say, sizeof say));
    free(bytes);
    return 0;
}

static int nc_v_read(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    if (strcmp(st->args[0], "eof") == 0)
        return nc_pi_wait(pi, NC_W_EOF);
    if (!pi->conn || pi->http)
        return nc_pi_fail(pi, "%s", "read needs a connection of its own (connect or accept)");
    pi->want = (size_t)nc_prog_number(st->args[0], 1, 1000000000);
    return nc_pi_wait(pi, NC_W_READ);
}

static int nc_v_close(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    char say[400];
    if (pi->h3) {
        /* QUIC ends with one CONNECTION_CLOSE frame. */
        nc_kit_h3_close(pi->h3, nc_opt(st, "say") ? nc_pi_say(pi, st, 0, say, sizeof say) : NULL);
        pi->h3 = NULL;
        return 0;
    }
    if (!pi->conn)
        return 0; /* the other side or the kit closed it already */
    /* HTTP/2 says goodbye with GOAWAY before the FIN. */
    if (pi->h2)
        nc_kit_h2_goaway(pi->h2, NULL);
    if (pi->grpc)
        nc_kit_grpc_goaway(pi->grpc);
    nc_kit_close(pi->conn, nc_pi_say(pi, st, 0, say, sizeof say));
    /* The program is done with it: the next connect starts afresh. */
    pi->conn = NULL;
    pi->http = NULL;
    pi->ws = NULL;
    pi->h2 = NULL;
    pi->grpc = NULL;
    pi->bcl = NULL;
    pi->nbq = 0;
    return 0;
}

static void nc_pi_sleep(nc_pi_t *pi, uint64_t ms)
{
    pi->wait = NC_W_SLEEP;
    uv_timer_start(&pi->timer, nc_pi_tick, ms, 0);
}

static int nc_v_sleep(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    nc_pi_sleep(pi, (uint64_t)(nc_prog_duration_ns(st->args[0]) / 1000000));
    return 1;
}

/* A TCP relay on this host: listens, and passes each connection on to
 * host:port; it lasts until the program ends. */
static int nc_v_relay(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    if (pi->relay)
        return nc_pi_fail(pi, "%s", "the program already relays");
    pi->relay = nc_kit_relay(pi->kit, (int)nc_prog_number(st->args[0], 1, 65535), st->args[1],
                             (int)nc_prog_number(st->args[2], 1, 65535), nc_opt(st, "say"));
    if (!pi->relay)
        return NC_EIO;
    nc_prun_set(pi->pr, pi->pg->name, "listening");
    return 0;
}

/* A sidecar on this host: HTTP/1.1 in from the application, HTTP/2 over
 * TLS out to host:port; it lasts until the program ends. */
static int nc_v_sidecar(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    if (pi->sidecar)
        return nc_pi_fail(pi, "%s", "the program already runs a sidecar");
    pi->sidecar = nc_kit_sidecar(pi->kit, (int)nc_prog_number(st->args[0], 1, 65535),
                                 st->args[1], (int)nc_prog_number(st->args[2], 1, 65535),
                                 nc_opt(st, "say"));
    if (!pi->sidecar)
        return NC_EIO;
    nc_prun_set(pi->pr, pi->pg->name, "listening");
    return 0;
}

/* A STUN server on a UDP port; it lasts until the program ends. */
static int nc_v_stun_serve(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    if (pi->nstun_servers == sizeof pi->stun_servers / sizeof pi->stun_servers[0])
        return nc_pi_fail(pi, "%s", "a program serves STUN on at most 4 ports");
    nc_kit_stun_t *srv = nc_kit_stun_serve(pi->kit, (int)nc_prog_number(st->args[0], 1, 65535),
                                           nc_opt(st, "say"));
    if (!srv)
        return NC_EIO;
    pi->stun_servers[pi->nstun_servers++] = srv;
    nc_prun_set(pi->pr, pi->pg->name, "listening");
    return 0;
}

static void nc_pi_stun_answer(const char *mapped, void *data)
{
    nc_pi_t *pi = data;
    pi->stun_done = true;
    nc_pi_poke(pi);
}

/* A STUN Binding request to host:port from the program's UDP socket; the
 * program waits for the answer (or the retries' end). */
static int nc_v_stun_bind(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    const char *from = nc_opt(st, "from");
    pi->stun_done = false;
    if (nc_kit_stun_bind(&pi->stun_client, pi->kit, st->args[0],
                         (int)nc_prog_number(st->args[1], 1, 65535),
                         from ? (int)nc_prog_number(from, 1, 65535) : 0, nc_pi_stun_answer, pi,
                         nc_opt(st, "say")) != 0)
        return NC_EIO;
    return nc_pi_wait(pi, NC_W_STUN);
}

static void nc_pi_datagram(void *data)
{
    nc_pi_t *pi = data;
    pi->datagrams++;
    nc_pi_poke(pi);
}

/* A UDP socket that reports every datagram; count=N waits for N of them.
 * It lasts until the program ends. */
static int nc_v_udp_listen(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    if (pi->udp)
        return nc_pi_fail(pi, "%s", "the program already has a udp-listen socket");
    pi->udp = nc_kit_udp_listen(pi->kit, (int)nc_prog_number(st->args[0], 1, 65535),
                                nc_pi_datagram, pi, nc_opt(st, "say"));
    if (!pi->udp)
        return NC_EIO;
    nc_prun_set(pi->pr, pi->pg->name, "listening");
    const char *count = nc_opt(st, "count");
    if (!count)
        return 0;
    pi->want = (size_t)nc_prog_number(count, 1, 1000000);
    return nc_pi_wait(pi, NC_W_DATAGRAMS);
}

/* One UDP datagram, sent and forgotten. */
static int nc_v_udp_send(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    const char *from = nc_opt(st, "from");
    if (nc_kit_udp_send(pi->kit, st->args[0], (int)nc_prog_number(st->args[1], 1, 65535),
                        from ? (int)nc_prog_number(from, 1, 65535) : 0, st->args[2],
                        nc_opt(st, "say")) != 0)
        return NC_EIO;
    return 0;
}

/* A TURN relay on a UDP port; it lasts until the program ends. */
static int nc_v_turn_serve(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    if (pi->turn)
        return nc_pi_fail(pi, "%s", "the program already runs a TURN relay");
    const char *max = nc_opt(st, "max"), *life = nc_opt(st, "lifetime");
    nc_kit_turn_conf_t conf = {
        .user = nc_opt(st, "user"),
        .password = nc_opt(st, "password"),
        .max_allocs = max ? (size_t)nc_prog_number(max, 1, 1000000) : 0,
        .lifetime_s = life ? (int)(nc_prog_duration_ns(life) / 1000000000) : 0,
    };
    pi->turn = nc_kit_turn_serve(pi->kit, (int)nc_prog_number(st->args[0], 1, 65535), &conf,
                                 nc_opt(st, "say"));
    if (!pi->turn)
        return NC_EIO;
    nc_prun_set(pi->pr, pi->pg->name, "listening");
    return 0;
}

/* A signalling server on a TCP port; it lasts until the program ends. */
static int nc_v_signal_serve(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    if (pi->signal)
        return nc_pi_fail(pi, "%s", "the program already runs a signalling server");
    pi->signal = nc_kit_signal_serve(pi->kit, (int)nc_prog_number(st->args[0], 1, 65535),
                                     nc_opt(st, "say"));
    if (!pi->signal)
        return NC_EIO;
    nc_prun_set(pi->pr, pi->pg->name, "listening");
    return 0;
}

static void nc_pi_ice_event(nc_kit_ice_t *ice, int event, void *data)
{
    nc_pi_t *pi = data;
    if (event == NC_KIT_ICE_MESSAGE)
        pi->ice_msgs++;
    else if (event == NC_KIT_ICE_TIMEOUT)
        pi->ice_gaveup = true;
    else
        pi->ice_settled = true;
    nc_pi_poke(pi);
}

/* An ICE agent: gathers, trades SDP through the signalling server at
 * HOST:PORT, checks and selects a pair; the program waits until then. */
static int nc_v_ice(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    if (pi->ice)
        return nc_pi_fail(pi, "%s", "the program already has an ICE agent");
    const char *role = nc_opt(st, "role"), *sp = nc_opt(st, "stun-port"),
               *tp = nc_opt(st, "turn-port"), *from = nc_opt(st, "from"),
               *room = nc_opt(st, "room");
    nc_kit_ice_conf_t conf = {
        .controlling = !role || strcmp(role, "offer") == 0,
        .port = from ? (int)nc_prog_number(from, 1, 65535) : 0,
        .stun_host = nc_opt(st, "stun"),
        .stun_port = sp ? (int)nc_prog_number(sp, 1, 65535) : 3478,
        .turn_host = nc_opt(st, "turn"),
        .turn_port = tp ? (int)nc_prog_number(tp, 1, 65535) : 3478,
        .user = nc_opt(st, "user"),
        .password = nc_opt(st, "password"),
        .signal_host = st->args[0],
        .signal_port = (int)nc_prog_number(st->args[1], 1, 65535),
        .room = room ? room : "lesson",
    };
    pi->ice_settled = false;
    pi->ice = nc_kit_ice_start(pi->kit, &conf, nc_pi_ice_event, pi);
    if (!pi->ice)
        return NC_EIO;
    return nc_pi_wait(pi, NC_W_ICE);
}

/* Data over the selected pair. When ICE found no path (the network's
 * doing, not the program's), there is nothing to send on: said, and the
 * program goes on. */
static int nc_v_ice_send(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    if (!pi->ice)
        return nc_pi_fail(pi, "%s", "ice-send needs an ice statement before it");
    if (!nc_kit_ice_ready(pi->ice)) {
        nc_kit_report(pi->kit, NULL, "sendto", NULL, 0, NULL,
                      "nothing sent: ICE selected no pair, so there is no path to the peer");
        return 0;
    }
    nc_kit_ice_send(pi->ice, st->args[0], nc_opt(st, "say"));
    return 0;
}

/* Waits for one datagram of data from the peer; gives up after 2 s, or at
 * once when ICE found no path. */
static int nc_v_ice_read(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    if (!pi->ice)
        return nc_pi_fail(pi, "%s", "ice-read needs an ice statement before it");
    pi->ice_gaveup = false;
    nc_kit_ice_expect(pi->ice, 2000);
    return nc_pi_wait(pi, NC_W_ICEMSG);
}

static void nc_pi_fw_done(int status, void *data)
{
    nc_pi_t *pi = data;
    pi->fw_done = true;
    nc_pi_poke(pi);
}

static int nc_v_firewall(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    pi->fw_done = false;
    if (nc_kit_firewall(pi->kit, nc_pi_fw_done, pi, nc_opt(st, "say")) != 0)
        return NC_EIO;
    return nc_pi_wait(pi, NC_W_FIREWALL);
}

/* Cuts the lab's wire for a while: a program "sleeps" through the cut and
 * restores the link when it wakes. */
static int nc_v_cut(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    char err[200];
    const char *link = nc_opt(st, "link");
    if (nc_lab_cut_link(pi->s->lab, link, true, err, sizeof err) != 0)
        return nc_pi_fail(pi, "%s", err);
    pi->cut = true;
    pi->cut_link = link;
    pi->restore_say = nc_opt(st, "restore");
    int64_t ms = nc_prog_duration_ns(st->args[0]) / 1000000;
    nc_scn_kv_t kv = NC_KV_S("link", link);
    nc_kit_report(pi->kit, NULL, "cut", link ? &kv : NULL, link ? 1 : 0, nc_opt(st, "say"),
                  "the lesson cuts the link: nothing gets through");
    nc_pi_sleep(pi, (uint64_t)ms);
    return 1;
}

/*
 * Reads kernel settings in the program's host (its network namespace has
 * its own) and reports them in one "sysctl" app event, a field each, so
 * that a page need not guess this kernel's behaviour. The sentence says
 * what the well-known ones mean, unless say= gives one.
 */
static const struct {
    const char *name;
    const char *on, *off; /* the phrase when the value is odd / even */
} nc_pi_sysctl_words[] = {
    {"net.ipv4.tcp_sack", "SACK on", "SACK off"},
    {"net.ipv4.tcp_recovery", "RACK on", "RACK off"},
    {"net.ipv4.tcp_fastopen", "Fast Open allowed", "Fast Open off"},
};

static int nc_v_sysctl(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    nc_scn_sysctl_t v[8];
    nc_scn_kv_t kv[8];
    size_t n = st->nargs < 8 ? st->nargs : 8;
    for (size_t k = 0; k < n; k++)
        v[k] = (nc_scn_sysctl_t){st->args[k], -1};
    size_t nkv = nc_scn_sysctl_read_all(v, n, kv);
    nc_buf_t t;
    nc_buf_init(&t);
    nc_buf_puts(&t, "sysctl: ");
    for (size_t k = 0; k < n; k++) {
        const char *last = strrchr(v[k].name, '.') ? strrchr(v[k].name, '.') + 1 : v[k].name;
        nc_buf_puts(&t, k ? ", " : "");
        size_t w = 0, nw = sizeof nc_pi_sysctl_words / sizeof nc_pi_sysctl_words[0];
        while (w < nw && strcmp(nc_pi_sysctl_words[w].name, v[k].name) != 0)
            w++;
        if (v[k].value < 0 && strcmp(v[k].name, "net.ipv4.tcp_rto_min_us") == 0)
            nc_buf_puts(&t, "the retransmission timer waits at least 200 ms (built in)");
        else if (v[k].value < 0)
            nc_buf_printf(&t, "%s not on this kernel", last);
        else if (strcmp(v[k].name, "net.ipv4.tcp_rto_min_us") == 0)
            nc_buf_printf(&t, "the retransmission timer waits at least %ld ms (%s %ld)",
                          v[k].value / 1000, last, v[k].value);
        else if (w < nw)
            nc_buf_printf(&t, "%s (%s %ld)",
                          (v[k].value & 1) ? nc_pi_sysctl_words[w].on : nc_pi_sysctl_words[w].off,
                          last, v[k].value);
        else
            nc_buf_printf(&t, "%s %ld", last, v[k].value);
    }
    nc_kit_report(pi->kit, NULL, "sysctl", kv, nkv, nc_opt(st, "say"), "%s", nc_buf_cstr(&t));
    nc_buf_done(&t);
    return 0;
}

static int nc_v_repeat(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    if (pi->depth + 1 >= NC_PI_DEPTH)
        return nc_pi_fail(pi, "%s", "repeats nest too deep");
    const char *every = nc_opt(st, "every");
    pi->fr[++pi->depth] = (nc_frame_t){
        .st = st->body,
        .n = st->nbody,
        .count = nc_prog_number(st->args[0], 1, 1000000),
        .every_ms = every ? nc_prog_duration_ns(every) / 1000000 : 0,
        .t0 = uv_now(&pi->loop),
        .until = nc_opt(st, "until"),
    };
    return 0;
}

static int nc_v_signal(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    nc_prun_set(pi->pr, pi->pg->name, st->args[0]);
    return 0;
}

static int nc_v_wait(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    pi->wait_prog = st->args[0];
    pi->wait_event = st->args[1];
    return nc_pi_wait(pi, NC_W_EVENT);
}

static int nc_v_route(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    if (pi->nroutes == sizeof pi->routes / sizeof pi->routes[0])
        return nc_pi_fail(pi, "%s", "too many routes");
    pi->routes[pi->nroutes++] = st;
    return 0;
}

static int nc_v_serve(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    if (!pi->listener || !(pi->http_server || pi->h2_server || pi->grpc_server))
        return nc_pi_fail(pi, "%s", "serve needs an http-listen, h2-listen or grpc-listen before it");
    pi->want = (size_t)nc_prog_number(st->args[0], 1, 1000000);
    return nc_pi_wait(pi, NC_W_SERVE);
}

static int nc_v_restart(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    if (!pi->listener)
        return nc_pi_fail(pi, "%s", "restart needs a listen before it");
    char say[400];
    const char *text = nc_pi_say(pi, st, 0, say, sizeof say);
    for (size_t i = pi->nsconns; i-- > 0;)
        nc_kit_close(nc_kit_http_conn(pi->sconns[i]->h),
                     text ? text : "close(): the server restarts, dropping its connections");
    for (size_t i = pi->naccepted; i-- > 0;)
        nc_kit_close(pi->accepted[i], text);
    for (size_t i = pi->nh2conns; i-- > 0;)
        nc_kit_close(nc_kit_h2_conn(pi->h2conns[i]), text);
    for (size_t i = pi->ngconns; i-- > 0;)
        nc_kit_close(nc_kit_grpc_conn(pi->gconns[i]), text);
    if (pi->conn && !pi->http && !pi->h2 && !pi->grpc)
        nc_kit_close(pi->conn, text);
    nc_kit_listener_close(pi->listener);
    pi->listener = NULL;
    /* A new process: whatever the server kept in memory is gone. */
    nc_kit_memo_clear(pi->memo);
    return nc_v_listen(pi, pi->listen_st);
}

/* Sends the request a get, head, post or events statement makes; resume
 * (an events statement reconnecting) adds Last-Event-ID. */
static int nc_pi_send_request(nc_pi_t *pi, const nc_prog_stmt_t *st, bool resume)
{
    nc_kit_header_t hd[12]; /* the route's 8, Cookie, Accept and Last-Event-ID */
    char names[10][64], jar[sizeof pi->jar];
    size_t nh = nc_route_headers(st, hd, 8, names);
    if (nc_pi_jar_header(pi, jar, sizeof jar))
        hd[nh++] = (nc_kit_header_t){"Cookie", jar};
    bool events = strcmp(st->verb, "events") == 0;
    if (events)
        hd[nh++] = (nc_kit_header_t){"Accept", "text/event-stream"};
    if (events && resume && pi->last_id[0])
        hd[nh++] = (nc_kit_header_t){"Last-Event-ID", pi->last_id};
    char method[8];
    snprintf(method, sizeof method, "%s", events ? "GET" : st->verb);
    for (char *c = method; *c; c++)
        *c = (char)toupper((unsigned char)*c);
    const char *body = nc_opt(st, "body");
    const char *chunks = nc_opt(st, "chunks");
    const char *version = nc_opt(st, "version");
    /* "{location}": where the last answer with a Location header pointed. */
    char path[512];
    const char *mark = strstr(st->args[0], "{location}");
    if (mark && !pi->location[0])
        return nc_pi_fail(pi, "%s", "{location}: no answer so far had a Location header");
    if (mark)
        snprintf(path, sizeof path, "%.*s%s%s", (int)(mark - st->args[0]), st->args[0],
                 pi->location, mark + 10);
    else
        snprintf(path, sizeof path, "%s", st->args[0]);
    const char *size = nc_opt(st, "size");
    char *made = NULL;
    if (size && !body) {
        /* size=N: a body of N bytes, as a file's would be. */
        size_t n = (size_t)nc_prog_number(size, 1, 1000000);
        made = nc_xmalloc(n + 1);
        for (size_t i = 0; i < n; i++)
            made[i] = (char)('a' + i % 26);
        made[n] = '\0';
        body = made;
    }
    nc_kit_http_req_t r = {
        .method = method,
        .path = path,
        .headers = hd,
        .nheaders = nh,
        .body = body,
        .body_len = body ? strlen(body) : 0,
        .chunks = chunks ? (int)nc_prog_number(chunks, 1, 1000000) : 0,
        .expect = nc_opt_yes(st, "expect"),
        .http10 = version && strcmp(version, "1.0") == 0,
    };
    char say[400];
    const char *text = nc_pi_say(pi, st, 0, say, sizeof say);
    if (events && resume && pi->last_id[0]) {
        snprintf(say, sizeof say, "write() GET %s again with Last-Event-ID: %s, the last event "
                                  "the client received", st->args[0], pi->last_id);
        text = say;
    }
    int rc = nc_kit_http_request(pi->http, &r, text);
    free(made);
    if (rc != 0)
        return nc_pi_fail(pi, "%s", "the request could not be sent");
    pi->outstanding++;
    return 0;
}

static int nc_v_request(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    int again = nc_pi_reconnect(pi, st);
    if (again != 0)
        return again;
    if (!pi->http)
        return nc_pi_fail(pi, "%s needs an http-connect before it", st->verb);
    int rc = nc_pi_send_request(pi, st, false);
    if (rc != 0)
        return rc;
    if (strcmp(st->verb, "events") == 0) {
        pi->sse_events = 0;
        pi->want = (size_t)nc_prog_number(st->args[1], 1, 1000000);
        pi->sse_phase = NC_SSE_STREAM;
        pi->last_event_ms = uv_now(&pi->loop);
        return nc_pi_wait(pi, NC_W_EVENTS);
    }
    return nc_opt_yes(st, "pipelined") ? 0 : nc_pi_wait(pi, NC_W_RESPONSE);
}

static int nc_v_await(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    if (pi->nfetches > 0) {
        pi->awaiting = true;
        pi->await_t0 = uv_hrtime();
        char say[400];
        nc_kit_report(pi->kit, NULL, "block",
                      (nc_scn_kv_t[]){NC_KV_I("in_flight", (int64_t)pi->nfetches)}, 1,
                      nc_pi_say(pi, st, 0, say, sizeof say),
                      "await: the caller has nothing left to do and waits for its %zu %s in "
                      "flight", pi->nfetches,
                      nc_words_plural((long long)pi->nfetches, "request", "requests"));
    }
    return nc_pi_wait(pi, NC_W_RESPONSE);
}

/* ---- uploads in chunks, resumable ---- */

static void nc_pi_upload_send(nc_pi_t *pi);

static void nc_pi_aux_fired(uv_timer_t *t)
{
    nc_pi_t *pi = t->data;
    if (pi->finished || !pi->up || pi->up_done)
        return;
    if (!pi->up_waiting) {
        nc_pi_upload_send(pi); /* the pause between chunks is over */
        return;
    }
    /* No answer in time: the client gives up on this connection. */
    pi->up_waiting = false;
    pi->up_done = true;
    const char *timeout = nc_opt(pi->up, "timeout");
    nc_kit_report(pi->kit, pi->conn, "timeout",
                  (nc_scn_kv_t[]){NC_KV_I("offset", (int64_t)pi->up_off)}, 1, NULL,
                  "no answer to the chunk in %s: the client gives up on this connection, with "
                  "%zu of %zu bytes acknowledged", timeout, pi->up_off, pi->up_size);
    nc_kit_reset(pi->conn, "close() with SO_LINGER 0: the client drops the connection at once "
                           "(RST), so nothing of it is sent again later");
    pi->conn = NULL;
    pi->http = NULL;
    pi->outstanding = 0;
    nc_pi_poke(pi);
}

/* Sends the upload's next request: the HEAD that asks where to resume, or
 * the next chunk as a PATCH; or ends the statement when all is sent. */
static void nc_pi_upload_send(nc_pi_t *pi)
{
    const nc_prog_stmt_t *st = pi->up;
    if (!pi->http) {
        pi->up_done = true;
        nc_pi_poke(pi);
        return;
    }
    if (!pi->up_head && pi->up_off >= pi->up_size) {
        pi->up_done = true;
        nc_pi_poke(pi);
        return;
    }
    nc_kit_header_t hd[12];
    char names[10][64], jar[sizeof pi->jar], off[32], len[32], say[400];
    size_t nh = nc_route_headers(st, hd, 8, names);
    if (nc_pi_jar_header(pi, jar, sizeof jar))
        hd[nh++] = (nc_kit_header_t){"Cookie", jar};
    nc_kit_http_req_t r = {.path = pi->up_path, .headers = hd};
    char *body = NULL;
    if (pi->up_head) {
        r.method = "HEAD";
        snprintf(say, sizeof say, "write() HEAD %s: how many bytes of it does the server have?",
                 pi->up_path);
    } else {
        size_t n = pi->up_size - pi->up_off < pi->up_chunk ? pi->up_size - pi->up_off
                                                          : pi->up_chunk;
        body = nc_xmalloc(n);
        for (size_t i = 0; i < n; i++)
            body[i] = (char)('a' + (pi->up_off + i) % 26);
        snprintf(off, sizeof off, "%zu", pi->up_off);
        snprintf(len, sizeof len, "%zu", pi->up_size);
        hd[nh++] = (nc_kit_header_t){"Upload-Offset", off};
        hd[nh++] = (nc_kit_header_t){"Upload-Length", len};
        hd[nh++] = (nc_kit_header_t){"Content-Type", "application/offset+octet-stream"};
        r.method = "PATCH";
        r.body = body;
        r.body_len = n;
        snprintf(say, sizeof say, "write() PATCH %s: bytes %zu-%zu of %zu, one request for this "
                 "chunk", pi->up_path, pi->up_off, pi->up_off + n - 1, pi->up_size);
    }
    r.nheaders = nh;
    const char *own = nc_opt(st, "say");
    char mine[400];
    if (own && !pi->up_head)
        nc_pi_fmt(pi, own, r.body_len, mine, sizeof mine);
    int rc = nc_kit_http_request(pi->http, &r, own && !pi->up_head ? mine : say);
    free(body);
    if (rc != 0) {
        pi->up_done = true;
        nc_pi_poke(pi);
        return;
    }
    pi->outstanding++;
    pi->up_waiting = true;
    pi->up_sent = uv_now(&pi->loop);
    const char *timeout = nc_opt(st, "timeout");
    if (timeout)
        uv_timer_start(&pi->aux, nc_pi_aux_fired,
                       (uint64_t)(nc_prog_duration_ns(timeout) / 1000000), 0);
}

static void nc_pi_upload_answer(nc_pi_t *pi, const nc_kit_http_msg_t *resp)
{
    uv_timer_stop(&pi->aux);
    pi->up_waiting = false;
    long off = nc_pi_offset(resp);
    bool head = pi->up_head;
    pi->up_head = false;
    if (head) {
        pi->up_off = off > 0 ? (size_t)off : 0;
        nc_kit_report(pi->kit, pi->conn, "offset",
                      (nc_scn_kv_t[]){NC_KV_I("offset", (int64_t)pi->up_off)}, 1, NULL,
                      "the server has %zu of the %zu bytes: the upload resumes from there",
                      pi->up_off, pi->up_size);
    } else if ((resp->status == 204 || resp->status == 409) && off >= 0) {
        pi->up_off = (size_t)off;
        if (resp->status == 204) {
            /* "chunkK": the server has the first K chunks (for `wait`). */
            char name[32];
            snprintf(name, sizeof name, "chunk%zu", (pi->up_off + pi->up_chunk - 1) / pi->up_chunk);
            nc_prun_set(pi->pr, pi->pg->name, name);
        }
    } else {
        pi->up_done = true; /* the server refused the upload */
        return;
    }
    const char *every = nc_opt(pi->up, "every");
    uint64_t next = pi->up_sent + (every ? (uint64_t)(nc_prog_duration_ns(every) / 1000000) : 0);
    uv_update_time(&pi->loop);
    if (!head && uv_now(&pi->loop) < next && pi->up_off < pi->up_size)
        uv_timer_start(&pi->aux, nc_pi_aux_fired, next - uv_now(&pi->loop), 0);
    else
        nc_pi_upload_send(pi);
}

static int nc_v_upload(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    if (!pi->http)
        return nc_pi_fail(pi, "%s", "upload needs an http-connect before it");
    if (!pi->up_path || strcmp(pi->up_path, st->args[0]) != 0)
        pi->up_off = 0;
    pi->up = st;
    pi->up_path = st->args[0];
    pi->up_size = (size_t)nc_prog_number(st->args[1], 1, 1000000);
    const char *chunk = nc_opt(st, "chunk");
    pi->up_chunk = chunk ? (size_t)nc_prog_number(chunk, 1, 1000000) : pi->up_size;
    pi->up_head = nc_opt_yes(st, "resume");
    pi->up_done = pi->up_waiting = false;
    nc_pi_upload_send(pi);
    return nc_pi_wait(pi, NC_W_UPLOAD);
}

/* ---- fetches: one request on a connection of its own ---- */

static void nc_fetch_drop(nc_pi_t *pi, nc_fetch_t *f)
{
    for (size_t i = 0; i < pi->nfetches; i++)
        if (pi->fetches[i] == f) {
            memmove(pi->fetches + i, pi->fetches + i + 1,
                    (pi->nfetches - i - 1) * sizeof *pi->fetches);
            pi->nfetches--;
            break;
        }
}

/* The caller learns its answer: a blocking caller resumes, an async one is
 * called back; an await that waited for the last of them resumes too. */
static void nc_fetch_settle(nc_fetch_t *f, int status)
{
    nc_pi_t *pi = f->pi;
    if (!pi)
        return;
    nc_fetch_drop(pi, f);
    int64_t ms = (int64_t)((uv_hrtime() - f->t0) / 1000000);
    nc_scn_kv_t kv[] = {NC_KV_S("path", f->path), NC_KV_I("ms", ms), NC_KV_I("status", status)};
    if (f->async)
        nc_kit_report(pi->kit, f->c, "callback", kv, 3, NULL,
                      "the event loop calls the program back: GET %s answered %d, %lld ms after "
                      "it was issued", f->path, status, (long long)ms);
    else
        nc_kit_report(pi->kit, f->c, "resume", kv, 3, NULL,
                      "the caller resumes: GET %s answered %d after %lld ms blocked", f->path,
                      status, (long long)ms);
    if (pi->awaiting && pi->nfetches == 0) {
        pi->awaiting = false;
        int64_t w = (int64_t)((uv_hrtime() - pi->await_t0) / 1000000);
        nc_kit_report(pi->kit, NULL, "resume", (nc_scn_kv_t[]){NC_KV_I("ms", w)}, 1, NULL,
                      "await returns: every answer is in, after %lld ms waiting", (long long)w);
    }
    f->pi = NULL;
    nc_pi_poke(pi);
}

static void nc_fetch_response(nc_kit_http_t *h, const nc_kit_http_msg_t *resp, void *data)
{
    nc_fetch_t *f = data;
    if (resp->status == 100 || f->answered)
        return;
    f->answered = true;
    /* Done with the connection before the caller goes on. */
    nc_kit_close(f->c, NULL);
    nc_fetch_settle(f, resp->status);
}

static void nc_fetch_gone(nc_kit_http_t *h, void *data)
{
    nc_fetch_t *f = data;
    if (!f->answered)
        nc_fetch_settle(f, 0);
    free(f);
}

static void nc_fetch_connected(nc_kit_conn_t *c, int status, void *data)
{
    nc_fetch_t *f = data;
    if (status != 0) {
        if (f->pi)
            nc_pi_fail(f->pi, "connect failed: %s", uv_strerror(status));
        nc_fetch_settle(f, 0);
        free(f);
        return;
    }
    if (!f->pi) {
        nc_kit_close(c, NULL);
        free(f);
        return;
    }
    nc_kit_http_t *h = nc_kit_http_client(c, nc_fetch_response, NULL, nc_fetch_gone, f);
    nc_kit_http_req_t r = {.method = "GET", .path = f->path};
    if (nc_kit_http_request(h, &r, NULL) != 0)
        nc_kit_close(c, NULL);
}

static int nc_v_fetch(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    if (pi->nfetches == NC_PI_MAX_FETCHES)
        return nc_pi_fail(pi, "%s", "too many fetches in flight");
    nc_fetch_t *f = nc_xcalloc(1, sizeof *f);
    f->pi = pi;
    f->async = nc_opt_yes(st, "async");
    f->t0 = uv_hrtime();
    snprintf(f->path, sizeof f->path, "%s", st->args[2]);
    pi->fetches[pi->nfetches++] = f;
    char say[400];
    const char *own = nc_pi_say(pi, st, 0, say, sizeof say);
    if (f->async)
        nc_kit_report(pi->kit, NULL, "issue", (nc_scn_kv_t[]){NC_KV_S("path", f->path)}, 1, own,
                      "GET %s is handed to the event loop: the caller goes on at once", f->path);
    else
        nc_kit_report(pi->kit, NULL, "block", (nc_scn_kv_t[]){NC_KV_S("path", f->path)}, 1, own,
                      "GET %s: the caller blocks until the answer is in, and runs nothing else",
                      f->path);
    f->c = nc_kit_connect(pi->kit, st->args[0], (int)nc_prog_number(st->args[1], 1, 65535), false,
                          nc_fetch_connected, f, NULL, NULL);
    if (!f->c) {
        nc_fetch_drop(pi, f);
        free(f);
        return NC_EIO;
    }
    return f->async ? 0 : nc_pi_wait(pi, NC_W_FETCH);
}

/* stopwatch start | stop: times a part of the program; stop reports the
 * milliseconds as "ms" ({ms} in its say=). */
static int nc_v_stopwatch(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    char say[400];
    if (strcmp(st->args[0], "start") == 0) {
        pi->sw_t0 = uv_hrtime();
        return 0;
    }
    pi->ms = (int64_t)((uv_hrtime() - pi->sw_t0) / 1000000);
    nc_kit_report(pi->kit, NULL, "stopwatch", (nc_scn_kv_t[]){NC_KV_I("ms", pi->ms)}, 1,
                  nc_pi_say(pi, st, 0, say, sizeof say), "%lld ms since the stopwatch started",
                  (long long)pi->ms);
    return 0;
}

static int nc_v_ws_send(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    if (!pi->ws || !pi->ws_open)
        return nc_pi_fail(pi, "%s needs a ws-connect before it", st->verb);
    char say[400];
    const char *frag = nc_opt(st, "fragments");
    if (strcmp(st->verb, "ws-ping") == 0) {
        const char *d = st->nargs ? st->args[0] : "";
        nc_kit_ws_send(pi->ws, NC_KIT_WS_PING, d, strlen(d), 1,
                       nc_pi_say(pi, st, strlen(d), say, sizeof say));
        return 0;
    }
    const char *d = st->args[1];
    nc_kit_ws_send(pi->ws, strcmp(st->args[0], "binary") == 0 ? NC_KIT_WS_BINARY : NC_KIT_WS_TEXT,
                   d, strlen(d), frag ? (int)nc_prog_number(frag, 1, 1000000) : 1,
                   nc_pi_say(pi, st, strlen(d), say, sizeof say));
    return 0;
}

static int nc_v_ws_push(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    if (!pi->http_server)
        return nc_pi_fail(pi, "%s", "ws-push needs an http-listen before it");
    char data[400], say[400];
    nc_pi_fmt(pi, st->args[1], 0, data, sizeof data);
    nc_pi_push(pi, strcmp(st->args[0], "binary") == 0 ? NC_KIT_WS_BINARY : NC_KIT_WS_TEXT, data,
               nc_pi_say(pi, st, strlen(data), say, sizeof say));
    return 0;
}

static int nc_v_ws_read(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    if (!pi->ws)
        return nc_pi_fail(pi, "%s", "ws-read needs a ws-connect before it");
    return nc_pi_wait(pi, NC_W_WSMSG);
}

static int nc_v_ws_close(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    if (!pi->ws)
        return nc_pi_fail(pi, "%s", "ws-close needs a ws-connect before it");
    char say[400];
    nc_kit_ws_close(pi->ws, (int)nc_prog_number(st->args[0], 1000, 4999),
                    st->nargs > 1 ? st->args[1] : "", nc_pi_say(pi, st, 0, say, sizeof say));
    return nc_pi_wait(pi, NC_W_CLOSED);
}

/* ---- middleboxes (src/kit/proxy.c, balance.c, broker.c) ---- */

/* backend HOST PORT [path=PREFIX]: a backend for the next proxy or
 * balancer statement, which takes every backend declared before it. */
static int nc_v_backend(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    nc_kit_mb_conf_t *m = &pi->mbconf;
    if (m->nbackends == NC_KIT_MB_BACKENDS)
        return nc_pi_fail(pi, "%s", "a box takes at most 8 backends");
    nc_kit_backend_t *b = &m->backend[m->nbackends++];
    memset(b, 0, sizeof *b);
    snprintf(b->host, sizeof b->host, "%s", st->args[0]);
    b->port = (int)nc_prog_number(st->args[1], 1, 65535);
    const char *path = nc_opt(st, "path");
    snprintf(b->prefix, sizeof b->prefix, "%s", path ? path : "");
    return 0;
}

/* forward-proxy, reverse-proxy, balance, retry-proxy PORT: starts the box;
 * it serves until the program ends. */
static int nc_v_mbox(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    static const struct {
        const char *verb;
        nc_kit_mb_kind_t kind;
    } kinds[] = {{"forward-proxy", NC_KIT_MB_FORWARD},
                 {"reverse-proxy", NC_KIT_MB_REVERSE},
                 {"retry-proxy", NC_KIT_MB_RETRY},
                 {"balance", NC_KIT_MB_L7}};
    if (pi->nmbox == sizeof pi->mbox / sizeof pi->mbox[0])
        return nc_pi_fail(pi, "%s", "a program runs at most 8 boxes");
    nc_kit_mb_conf_t conf = pi->mbconf;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i].verb, st->verb) == 0)
            conf.kind = kinds[i].kind;
    const char *mode = nc_opt(st, "mode");
    if (mode && strcmp(mode, "l4") == 0)
        conf.kind = NC_KIT_MB_L4;
    if (conf.kind != NC_KIT_MB_FORWARD && conf.nbackends == 0)
        return nc_pi_fail(pi, "%s needs a backend statement before it", st->verb);
    conf.policy = nc_opt(st, "policy");
    conf.cache = nc_opt_yes(st, "cache");
    conf.tls = nc_opt_yes(st, "tls");
    if (conf.tls && conf.kind != NC_KIT_MB_L7)
        return nc_pi_fail(pi, "%s", "tls=yes needs mode=l7: an L4 balancer does not read the "
                                    "bytes, so it cannot end TLS");
    const char *v = nc_opt(st, "timeout");
    conf.timeout_ms = v ? (int)(nc_prog_duration_ns(v) / 1000000) : 100;
    v = nc_opt(st, "retries");
    conf.retries = v ? (int)nc_prog_number(v, 1, 10) : 2;
    v = nc_opt(st, "max");
    conf.max_conns = v ? (size_t)nc_prog_number(v, 1, 1000) : 0;
    v = nc_opt(st, "idle");
    conf.idle_ms = v ? (int)(nc_prog_duration_ns(v) / 1000000) : 0;
    nc_kit_mbox_t *mb = nc_kit_mbox_start(pi->kit, (int)nc_prog_number(st->args[0], 1, 65535),
                                          &conf, nc_opt(st, "say"));
    if (!mb)
        return NC_EIO;
    pi->mbox[pi->nmbox++] = mb;
    pi->mbconf.nbackends = 0; /* the next box declares its own */
    nc_prun_set(pi->pr, pi->pg->name, "listening");
    return 0;
}

static int nc_v_broker(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    if (pi->broker)
        return nc_pi_fail(pi, "%s", "the program runs a broker already");
    const char *ack = nc_opt(st, "ack");
    pi->broker = nc_kit_broker_start(pi->kit, (int)nc_prog_number(st->args[0], 1, 65535),
                                     ack ? (int)(nc_prog_duration_ns(ack) / 1000000) : 0,
                                     nc_opt(st, "say"));
    if (!pi->broker)
        return NC_EIO;
    nc_prun_set(pi->pr, pi->pg->name, "listening");
    return 0;
}

/* A line from the broker: OK ends a subscribe or publish; a message is
 * reported as the subscriber takes it (again: 1 when its id was seen
 * before, which at-least-once delivery allows) and waits for receive. */
static void nc_pi_bline(nc_kit_bclient_t *bc, const char *verb, long id, const char *topic,
                        const char *text, void *data)
{
    nc_pi_t *pi = data;
    if (strcmp(verb, "OK") == 0) {
        pi->bok++;
    } else if (strcmp(verb, "MSG") == 0) {
        bool again = false;
        for (size_t i = 0; i < pi->nseen && !again; i++)
            again = pi->seen[i] == id;
        if (!again && pi->nseen < sizeof pi->seen / sizeof pi->seen[0])
            pi->seen[pi->nseen++] = id;
        nc_scn_kv_t kv[] = {NC_KV_I("id", id), NC_KV_S("topic", topic), NC_KV_I("again", again)};
        if (again)
            nc_kit_report(pi->kit, nc_kit_bclient_conn(bc), "message", kv, 3, NULL,
                          "message %ld on %s again: the subscriber has seen this id, so it must "
                          "not act on it twice", id, topic);
        else
            nc_kit_report(pi->kit, nc_kit_bclient_conn(bc), "message", kv, 3, NULL,
                          "the subscriber gets message %ld on %s: %s", id, topic, text);
        if (pi->nbq < sizeof pi->bq / sizeof pi->bq[0])
            pi->bq[pi->nbq++] = id;
    } else {
        nc_pi_fail(pi, "the broker answered: %s", text);
    }
    nc_pi_poke(pi);
}

static void nc_pi_bgone(nc_kit_bclient_t *bc, void *data)
{
    nc_pi_t *pi = data;
    if (pi->bcl != bc)
        return;
    pi->bcl = NULL;
    pi->conn = NULL;
    pi->conn_closed = true;
    nc_pi_poke(pi);
}

/* subscribe NAME TOPIC, publish TOPIC TEXT: one line to the broker, then
 * wait for its OK. */
static int nc_v_bsend(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    if (!pi->bcl)
        return nc_pi_fail(pi, "%s needs a broker-connect before it", st->verb);
    bool sub = strcmp(st->verb, "subscribe") == 0;
    if (strpbrk(st->args[1], "\r\n"))
        return nc_pi_fail(pi, "%s", "a message is one line");
    char *line = nc_xasprintf("%s %s %s\n", sub ? "SUB" : "PUB", st->args[0], st->args[1]);
    char say[400], dflt[400];
    if (sub)
        snprintf(dflt, sizeof dflt, "write() SUB %s %s: the subscriber tells the broker its name "
                 "and topic", st->args[0], st->args[1]);
    else
        snprintf(dflt, sizeof dflt, "write() PUB %s: the publisher hands its message to the "
                 "broker, not to the subscribers", st->args[0]);
    const char *own = nc_pi_say(pi, st, strlen(line), say, sizeof say);
    nc_kit_write(nc_kit_bclient_conn(pi->bcl), line, strlen(line), own ? own : dflt);
    free(line);
    return nc_pi_wait(pi, NC_W_BROKER_OK);
}

/* Takes the messages that came, acknowledging each (ack=no: none, as a
 * subscriber that fails before its ACK), until N are taken. */
static bool nc_pi_receive(nc_pi_t *pi)
{
    const nc_prog_stmt_t *st = pi->cur;
    bool ack = !nc_opt(st, "ack") || nc_opt_yes(st, "ack");
    while (pi->nbq > 0 && pi->got < pi->want) {
        long id = pi->bq[0];
        memmove(pi->bq, pi->bq + 1, --pi->nbq * sizeof *pi->bq);
        pi->got++;
        if (ack && pi->bcl) {
            char line[40], say[400];
            snprintf(line, sizeof line, "ACK %ld\n", id);
            char dflt[200];
            snprintf(dflt, sizeof dflt, "write() ACK %ld: the subscriber has handled message %ld",
                     id, id);
            const char *own = nc_pi_say(pi, st, strlen(line), say, sizeof say);
            nc_kit_write(nc_kit_bclient_conn(pi->bcl), line, strlen(line), own ? own : dflt);
        } else if (pi->bcl) {
            nc_kit_report(pi->kit, nc_kit_bclient_conn(pi->bcl), "noack",
                          (nc_scn_kv_t[]){NC_KV_I("id", id)}, 1, NULL,
                          "the subscriber takes message %ld but sends no ACK (it fails before "
                          "it can): the broker will send it again", id);
        }
    }
    return pi->got >= pi->want || !pi->bcl;
}

static int nc_v_receive(nc_pi_t *pi, const nc_prog_stmt_t *st)
{
    if (!pi->bcl)
        return nc_pi_fail(pi, "%s", "receive needs a broker-connect before it");
    pi->want = (size_t)nc_prog_number(st->args[0], 1, 1000000);
    pi->got = 0;
    return nc_pi_wait(pi, NC_W_RECEIVE);
}

static const struct {
    const char *verb;
    int (*run)(nc_pi_t *pi, const nc_prog_stmt_t *st);
} nc_pi_verbs[] = {
    {"listen", nc_v_listen},       {"http-listen", nc_v_listen}, {"accept", nc_v_accept},
    {"connect", nc_v_connect},     {"http-connect", nc_v_connect}, {"ws-connect", nc_v_connect},
    {"tls-listen", nc_v_listen},   {"tls-connect", nc_v_connect},
    {"write", nc_v_write},         {"read", nc_v_read},          {"close", nc_v_close},
    {"sleep", nc_v_sleep},         {"repeat", nc_v_repeat},      {"signal", nc_v_signal},
    {"wait", nc_v_wait},           {"route", nc_v_route},        {"serve", nc_v_serve},
    {"restart", nc_v_restart},     {"get", nc_v_request},        {"head", nc_v_request},
    {"post", nc_v_request},        {"events", nc_v_request},     {"await", nc_v_await},
    {"ws-send", nc_v_ws_send},     {"ws-ping", nc_v_ws_send},    {"ws-read", nc_v_ws_read},
    {"ws-close", nc_v_ws_close},  {"cut", nc_v_cut},          {"sysctl", nc_v_sysctl},
    {"h2-listen", nc_v_listen},    {"h2-connect", nc_v_connect}, {"h2-get", nc_v_h2_get},
    {"relay", nc_v_relay},         {"stun-serve", nc_v_stun_serve}, {"stun-bind", nc_v_stun_bind},
    {"udp-send", nc_v_udp_send},   {"sidecar", nc_v_sidecar},
    {"upload", nc_v_upload},      {"fetch", nc_v_fetch},      {"stopwatch", nc_v_stopwatch},
    {"backend", nc_v_backend},     {"forward-proxy", nc_v_mbox}, {"reverse-proxy", nc_v_mbox},
    {"balance", nc_v_mbox},        {"retry-proxy", nc_v_mbox},   {"broker", nc_v_broker},
    {"broker-connect", nc_v_connect}, {"subscribe", nc_v_bsend}, {"publish", nc_v_bsend},
    {"receive", nc_v_receive},
    {"ws-push", nc_v_ws_push},
    {"pool-get", nc_v_pool_get},
    {"h3-listen", nc_v_h3_listen}, {"h3-connect", nc_v_h3_connect}, {"h3-get", nc_v_h3_get},
    {"grpc-listen", nc_v_listen},  {"grpc-connect", nc_v_connect}, {"rpc", nc_v_rpc},
    {"grpc-call", nc_v_grpc_call}, {"udp-listen", nc_v_udp_listen},
    {"turn-serve", nc_v_turn_serve}, {"signal-serve", nc_v_signal_serve}, {"ice", nc_v_ice},
    {"ice-send", nc_v_ice_send},   {"ice-read", nc_v_ice_read},  {"firewall", nc_v_firewall},
};

/* ---- running ---- */

/* The program reached its end (or serves on at it): the last one to do so
 * tells the run that the lesson's own run is over. */
static void nc_pi_settle(nc_pi_t *pi)
{
    if (pi->settled)
        return;
    pi->settled = true;
    pthread_mutex_lock(&pi->pr->lock);
    bool last = pi->pr->running > 0 && --pi->pr->running == 0;
    pthread_mutex_unlock(&pi->pr->lock);
    if (last)
        atomic_store(&pi->s->settled, 1);
}

static void nc_pi_run(nc_pi_t *pi)
{
    while (!pi->finished && pi->wait == NC_W_NONE) {
        if (pi->s->stop || pi->s->error) {
            nc_pi_finish(pi);
            return;
        }
        nc_frame_t *f = &pi->fr[pi->depth];
        if (f->pc >= f->n) {
            /* In a lab the student steps into, servers stay up for them. */
            if (pi->depth == 0 && (pi->s->shell_host || pi->s->stay) &&
                (pi->listener || pi->relay || pi->sidecar || pi->nstun_servers || pi->udp ||
                 pi->nmbox || pi->broker || pi->h3srv || pi->turn || pi->signal)) {
                pi->deadline = (int64_t)uv_hrtime() + NC_PI_SHELL_TIMEOUT_MS * 1000000LL;
                nc_pi_settle(pi);
                nc_pi_wait(pi, NC_W_STOP);
                return;
            }
            if (pi->depth == 0) {
                nc_pi_finish(pi);
                return;
            }
            if (++f->iter >= f->count || (f->until && strstr(pi->last_body, f->until))) {
                pi->depth--;
                continue;
            }
            f->pc = 0;
            uint64_t next = f->t0 + (uint64_t)(f->every_ms * f->iter);
            uv_update_time(&pi->loop);
            if (f->every_ms && uv_now(&pi->loop) < next) {
                nc_pi_sleep(pi, next - uv_now(&pi->loop));
                return;
            }
            continue;
        }
        const nc_prog_stmt_t *st = &f->st[f->pc++];
        pi->cur = st;
        size_t k = 0, nv = sizeof nc_pi_verbs / sizeof nc_pi_verbs[0];
        while (k < nv && strcmp(nc_pi_verbs[k].verb, st->verb) != 0)
            k++;
        int rc = k < nv ? nc_pi_verbs[k].run(pi, st) : nc_pi_fail(pi, "unknown verb %s", st->verb);
        if (rc < 0) {
            nc_pi_finish(pi);
            return;
        }
    }
}

/* The program is done (or failed, or the run stopped): whatever it still
 * holds is closed, and its "done" event is set. */
static void nc_pi_finish(nc_pi_t *pi)
{
    if (pi->finished)
        return;
    pi->finished = true;
    nc_pi_settle(pi);
    pi->wait = NC_W_NONE;
    nc_pi_restore(pi);
    if (!uv_is_closing((uv_handle_t *)&pi->timer))
        uv_close((uv_handle_t *)&pi->timer, NULL);
    if (!uv_is_closing((uv_handle_t *)&pi->aux))
        uv_close((uv_handle_t *)&pi->aux, NULL);
    /* Fetches still in flight are let go: their connections close. */
    for (size_t i = pi->nfetches; i-- > 0;) {
        nc_fetch_t *f = pi->fetches[i];
        f->pi = NULL;
        nc_kit_close(f->c, NULL);
    }
    pi->nfetches = 0;
    if (pi->pool)
        nc_kit_pool_abandon(pi->pool);
    pi->pool = NULL;
    for (size_t i = pi->nsconns; i-- > 0;)
        nc_kit_close(nc_kit_http_conn(pi->sconns[i]->h), NULL);
    for (size_t i = pi->naccepted; i-- > 0;)
        nc_kit_close(pi->accepted[i], NULL);
    for (size_t i = pi->nh2conns; i-- > 0;)
        nc_kit_close(nc_kit_h2_conn(pi->h2conns[i]), NULL);
    for (size_t i = pi->ngconns; i-- > 0;)
        nc_kit_close(nc_kit_grpc_conn(pi->gconns[i]), NULL);
    if (pi->conn)
        nc_kit_close(pi->conn, NULL);
    nc_kit_listener_close(pi->listener);
    pi->listener = NULL;
    for (size_t i = 0; i < pi->nmbox; i++)
        nc_kit_mbox_stop(pi->mbox[i]);
    pi->nmbox = 0;
    nc_kit_broker_stop(pi->broker);
    pi->broker = NULL;
    for (size_t i = 0; i < pi->njobs; i++)
        uv_close((uv_handle_t *)&pi->jobs[i]->timer, nc_job_freed);
    pi->njobs = 0;
    nc_kit_relay_close(pi->relay);
    pi->relay = NULL;
    nc_kit_sidecar_close(pi->sidecar);
    pi->sidecar = NULL;
    for (size_t i = 0; i < pi->nstun_servers; i++)
        nc_kit_stun_close(pi->stun_servers[i]);
    pi->nstun_servers = 0;
    nc_kit_stun_close(pi->stun_client);
    pi->stun_client = NULL;
    nc_kit_h3_close(pi->h3srv, NULL);
    pi->h3srv = NULL;
    nc_kit_h3_close(pi->h3, NULL);
    pi->h3 = NULL;
    nc_kit_udp_close(pi->udp);
    pi->udp = NULL;
    nc_kit_turn_close(pi->turn);
    pi->turn = NULL;
    nc_kit_signal_stop(pi->signal);
    pi->signal = NULL;
    nc_kit_ice_close(pi->ice);
    pi->ice = NULL;
    nc_prun_set(pi->pr, pi->pg->name, "done");
}

static void nc_pi_close_any(uv_handle_t *h, void *arg)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

/*
 * The program's watchdog (it does not keep the loop alive): a stopped run,
 * or a program past its time, is finished the orderly way, so that every
 * handle is closed through its own callback and freed. Should something
 * still hold the loop 2 s after that, every handle is closed as is.
 */
static void nc_pi_watch(uv_timer_t *t)
{
    nc_pi_t *pi = t->data;
    int64_t now = (int64_t)uv_hrtime();
    if (!pi->finished && (pi->s->stop || now > pi->deadline)) {
        if (!pi->s->stop)
            nc_pi_fail(pi, "%s", "still waiting here when its time ran out");
        nc_pi_finish(pi);
    }
    if (pi->finished && pi->hard_deadline == 0)
        pi->hard_deadline = now + 2000000000LL;
    if (pi->hard_deadline && now > pi->hard_deadline)
        uv_walk(t->loop, nc_pi_close_any, NULL);
}

static void *nc_pi_thread(void *arg)
{
    nc_pi_t *pi = arg;
    nc_scn_thread_name(pi->pg->host);
    if (uv_loop_init(&pi->loop) != 0) {
        nc_scn_fail(pi->s, "program %s: cannot start its loop", pi->pg->name);
        nc_prun_set(pi->pr, pi->pg->name, "done");
        return NULL;
    }
    pi->kit = nc_kit_new(pi->s, pi->pg->host, &pi->loop);
    nc_kit_set_program(pi->kit, pi->pg->name);
    uv_timer_init(&pi->loop, &pi->timer);
    pi->timer.data = pi;
    uv_timer_init(&pi->loop, &pi->aux);
    pi->aux.data = pi;
    pi->memo = nc_kit_memo_new();
    /* The secret tokens are signed with: the server's configuration, which
     * a restart keeps (a fresh one each run). */
    unsigned char r[16];
    if (RAND_bytes(r, sizeof r) != 1)
        memset(r, 0x5a, sizeof r);
    for (size_t i = 0; i < sizeof r; i++)
        snprintf(pi->secret + 2 * i, 3, "%02x", r[i]);
    /* A shell's lab lasts as long as the student stays. */
    int64_t ms = pi->s->shell_host ? NC_PI_SHELL_TIMEOUT_MS : NC_PI_TIMEOUT_MS;
    pi->deadline = (int64_t)uv_hrtime() + ms * 1000000LL;
    uv_timer_t watch;
    uv_timer_init(&pi->loop, &watch);
    watch.data = pi;
    uv_timer_start(&watch, nc_pi_watch, 50, 50);
    uv_unref((uv_handle_t *)&watch);
    pi->fr[0] = (nc_frame_t){.st = pi->pg->stmts, .n = pi->pg->nstmts, .count = 1};
    nc_pi_run(pi);
    uv_run(&pi->loop, UV_RUN_DEFAULT);
    if (!uv_is_closing((uv_handle_t *)&watch))
        uv_close((uv_handle_t *)&watch, NULL);
    uv_run(&pi->loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&pi->loop) != 0)
        nc_scn_fail(pi->s, "program %s: handles were left open", pi->pg->name);
    nc_kit_free(pi->kit);
    nc_kit_memo_free(pi->memo);
    return NULL;
}

static int nc_programs_run(nc_scn_t *s)
{
    const nc_lesson_t *l = s->lesson;
    for (size_t i = 0; i < l->nprograms; i++)
        if (!nc_lab_host_addr(s->lab, l->programs[i].host)) {
            nc_scn_fail(s, "%s:%d: program %s runs on host \"%s\", which the %s topology does not "
                           "have", l->path, l->programs[i].line, l->programs[i].name,
                        l->programs[i].host, l->topology);
            return NC_EINVAL;
        }
    nc_prun_t pr = {.s = s};
    pthread_mutex_init(&pr.lock, NULL);
    nc_pi_t *pis = nc_xcalloc(l->nprograms, sizeof *pis);
    for (size_t i = 0; i < l->nprograms; i++)
        if (!s->shell_host || strcmp(s->shell_host, l->programs[i].host) != 0)
            pr.running++;
    for (size_t i = 0; i < l->nprograms; i++) {
        pis[i] = (nc_pi_t){.pr = &pr, .pg = &l->programs[i], .s = s};
        /* The student is this host: its programs are not run, and whoever
         * waits for them goes on. */
        if (s->shell_host && strcmp(s->shell_host, l->programs[i].host) == 0) {
            nc_prun_set(&pr, l->programs[i].name, "done");
            continue;
        }
        if (nc_scn_spawn(s, l->programs[i].host, nc_pi_thread, &pis[i]) != 0)
            break;
    }
    int rc = nc_scn_join(s);
    free(pis);
    for (size_t i = 0; i < pr.nevents; i++)
        free(pr.events[i]);
    free(pr.events);
    pthread_mutex_destroy(&pr.lock);
    return rc;
}

const nc_scenario_t nc_scenario_programs = {
    .name = "programs",
    .topology = NULL,
    .about = "the lesson's own program blocks",
    .run = nc_programs_run,
};
