/*
 * listener_workers.c: the listener-workers lesson's programs ("local").
 *
 * Four ways for a server to spread connections over threads, one after
 * the other, each on a port of its own and each under the same load: the
 * client (127.0.0.2) opens connections one at a time, sends "hi", reads
 * which worker answered and closes.
 *
 *   single     7001  one thread listens, accepts and serves, in turn
 *   dispatch   7002  one acceptor thread hands each connection to one of
 *                    three worker threads, round robin (over a pipe each)
 *   shared     7003  three threads all block in accept() on one listening
 *                    socket; the kernel wakes one of them per connection
 *   reuseport  7004  three threads, each with its own listening socket on
 *                    the same port (SO_REUSEPORT); the kernel picks the
 *                    socket by a hash of the connection's addresses and ports
 *
 * Every connection is reported once by the worker that took it, as an app
 * event with "pattern", "worker" and "tid" (accept for the acceptors, read
 * for the dispatch workers); each worker reports its own start
 * (pthread_create) and each pattern ends with a "spread" event counting the
 * connections per worker.
 *
 * The workers are threads the server thread creates, so they share its
 * network namespace. Acceptors are stopped by shutdown() on the listening
 * socket, which makes a blocked accept() return.
 */
#include "scenario.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define LW_WORKERS 3
#define LW_MAX_CONN 12

typedef enum { LW_SINGLE, LW_DISPATCH, LW_SHARED, LW_REUSEPORT, LW__COUNT } lw_kind_t;

typedef struct lw_pattern {
    const char *name;
    int port;
    int workers;
    int conns;
    const char *about;
} lw_pattern_t;

static const lw_pattern_t lw_patterns[LW__COUNT] = {
    {"single", 7001, 1, 6, "one thread listens, accepts and serves every connection in turn"},
    {"dispatch", 7002, LW_WORKERS, 6,
     "one acceptor thread hands each connection to a worker thread, round robin"},
    {"shared", 7003, LW_WORKERS, 6, "three threads block in accept() on one listening socket"},
    {"reuseport", 7004, LW_WORKERS, 12,
     "three threads, each with its own SO_REUSEPORT listener on the same port"},
};

typedef struct lw_state lw_state_t;

typedef struct lw_worker {
    lw_state_t *st;
    int id;         /* 1-based */
    int lfd;        /* listener it accepts on, or -1 (dispatch) */
    int pipe[2];    /* dispatch: connections come in here */
    int served;
    pthread_t thread;
} lw_worker_t;

struct lw_state {
    nc_scn_t *s;
    lw_kind_t kind;
    nc_scn_signal_t ready[LW__COUNT], done[LW__COUNT];
    lw_worker_t w[LW_WORKERS];
};

/* Reads the client's request and answers with the worker's name. */
static void lw_serve(lw_worker_t *w, int fd)
{
    char buf[64];
    if (nc_scn_wait(w->st->s, fd, POLLIN, 3000) > 0 && read(fd, buf, sizeof buf) > 0) {
        int n = snprintf(buf, sizeof buf, "worker %d (tid %d)\n", w->id, (int)gettid());
        if (write(fd, buf, (size_t)n) != n)
            nc_scn_fail(w->st->s, "server: write: %s", strerror(errno));
    }
    close(fd);
    w->served++;
}

static void lw_report(lw_worker_t *w, const char *call, int fd, const struct sockaddr_in *peer)
{
    lw_state_t *st = w->st;
    char name[64];
    nc_scn_peer_name(st->s, (const struct sockaddr *)peer, name, sizeof name);
    const lw_pattern_t *p = &lw_patterns[st->kind];
    nc_scn_app_kv(st->s, "server", call,
                  (nc_scn_kv_t[]){NC_KV_S("pattern", p->name), NC_KV_I("worker", w->id),
                                  NC_KV_I("tid", gettid()), NC_KV_I("port", p->port),
                                  NC_KV_I("peer_port", ntohs(peer->sin_port)),
                                  NC_KV_S("peer", name)},
                  6, "%s: worker %d (tid %d) %s the connection from %s", p->name, w->id,
                  (int)gettid(), strcmp(call, "accept") == 0 ? "accepted" : "took", name);
    (void)fd;
}

static void lw_started(lw_worker_t *w, const char *role)
{
    const lw_pattern_t *p = &lw_patterns[w->st->kind];
    nc_scn_app_kv(w->st->s, "server", "pthread_create",
                  (nc_scn_kv_t[]){NC_KV_S("pattern", p->name), NC_KV_I("worker", w->id),
                                  NC_KV_I("tid", gettid())},
                  3, "%s: thread %d started (tid %d), %s", p->name, w->id, (int)gettid(), role);
}

/* An acceptor: accepts on its listener until it is shut down. */
static void *lw_acceptor(void *arg)
{
    lw_worker_t *w = arg;
    lw_started(w, "blocked in accept()");
    for (;;) {
        struct sockaddr_in peer;
        socklen_t len = sizeof peer;
        int fd = accept4(w->lfd, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            break; /* shutdown() on the listener */
        }
        lw_report(w, "accept", fd, &peer);
        lw_serve(w, fd);
    }
    return NULL;
}

/* A dispatch worker: serves the connections the acceptor hands it. */
static void *lw_dispatched(void *arg)
{
    lw_worker_t *w = arg;
    lw_started(w, "waiting for connections from the acceptor");
    int fd;
    while (read(w->pipe[0], &fd, sizeof fd) == (ssize_t)sizeof fd && fd >= 0) {
        struct sockaddr_in peer;
        socklen_t len = sizeof peer;
        getpeername(fd, (struct sockaddr *)&peer, &len);
        lw_report(w, "read", fd, &peer);
        lw_serve(w, fd);
    }
    return NULL;
}

static int lw_listener(lw_state_t *st, int port, bool reuseport)
{
    nc_scn_t *s = st->s;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reuseport)
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, nc_scn_addr(s, "server"), &sa.sin_addr);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 16) != 0) {
        nc_scn_fail(s, "server: cannot listen on port %d: %s", port, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* Runs one pattern on the server side: set up, serve, tear down, report. */
static void lw_pattern_run(lw_state_t *st, lw_kind_t kind)
{
    nc_scn_t *s = st->s;
    const lw_pattern_t *p = &lw_patterns[kind];
    st->kind = kind;
    memset(st->w, 0, sizeof st->w);
    int shared = -1;
    nc_scn_call_begin("listen");
    if (kind != LW_REUSEPORT && (shared = lw_listener(st, p->port, false)) < 0)
        return;
    int nl = kind == LW_REUSEPORT ? p->workers : 1;
    nc_scn_app_kv(s, "server", "listen",
                  (nc_scn_kv_t[]){NC_KV_S("pattern", p->name), NC_KV_I("port", p->port),
                                  NC_KV_I("listeners", nl), NC_KV_I("workers", p->workers)},
                  4, "%s: %s (port %d)", p->name, p->about, p->port);
    for (int k = 0; k < p->workers; k++) {
        lw_worker_t *w = &st->w[k];
        w->st = st;
        w->id = k + 1;
        w->lfd = kind == LW_REUSEPORT ? lw_listener(st, p->port, true)
                 : kind == LW_DISPATCH ? -1
                                       : shared;
        if (kind == LW_DISPATCH && pipe2(w->pipe, O_CLOEXEC) != 0)
            nc_scn_fail(s, "server: pipe: %s", strerror(errno));
        pthread_create(&w->thread, NULL, kind == LW_DISPATCH ? lw_dispatched : lw_acceptor, w);
    }
    nc_scn_sleep_ms(20); /* let every acceptor reach accept() */
    nc_scn_signal_set(&st->ready[kind]);
    if (kind == LW_DISPATCH) {
        /* This thread is the acceptor; it hands connections out in turn. */
        for (int n = 0; n < p->conns && !s->stop; n++) {
            if (nc_scn_wait(s, shared, POLLIN, 3000) <= 0)
                break;
            struct sockaddr_in peer;
            socklen_t len = sizeof peer;
            nc_scn_call_begin("accept");
            int fd = accept4(shared, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);
            if (fd < 0)
                continue;
            lw_worker_t *w = &st->w[n % p->workers];
            char name[64];
            nc_scn_peer_name(s, (struct sockaddr *)&peer, name, sizeof name);
            nc_scn_app_kv(s, "server", "accept",
                          (nc_scn_kv_t[]){NC_KV_S("pattern", p->name), NC_KV_I("worker", 0),
                                          NC_KV_I("tid", gettid()), NC_KV_I("port", p->port),
                                          NC_KV_I("peer_port", ntohs(peer.sin_port)),
                                          NC_KV_I("to_worker", w->id)},
                          6, "dispatch: the acceptor (tid %d) accepted %s and hands it to worker %d",
                          (int)gettid(), name, w->id);
            if (write(w->pipe[1], &fd, sizeof fd) != (ssize_t)sizeof fd)
                close(fd);
        }
    }
    nc_scn_signal_wait(&st->done[kind], 10000);
    /* Stop the workers: a shut-down listener ends accept(); -1 ends a
     * dispatch worker. */
    for (int k = 0; k < p->workers; k++) {
        lw_worker_t *w = &st->w[k];
        if (kind == LW_DISPATCH) {
            int stop = -1;
            if (write(w->pipe[1], &stop, sizeof stop) != (ssize_t)sizeof stop)
                nc_scn_fail(s, "server: cannot stop worker %d", w->id);
        } else if (w->lfd >= 0 && (k == 0 || kind == LW_REUSEPORT)) {
            shutdown(w->lfd, SHUT_RDWR);
        }
    }
    char text[128];
    size_t off = 0;
    for (int k = 0; k < p->workers; k++) {
        lw_worker_t *w = &st->w[k];
        pthread_join(w->thread, NULL);
        if (kind == LW_DISPATCH) {
            close(w->pipe[0]);
            close(w->pipe[1]);
        } else if (kind == LW_REUSEPORT) {
            close(w->lfd);
        }
        off += (size_t)snprintf(text + off, sizeof text - off, "%sworker %d: %d", k ? ", " : "",
                                w->id, w->served);
    }
    if (shared >= 0)
        close(shared);
    nc_scn_app_kv(s, "server", "spread",
                  (nc_scn_kv_t[]){NC_KV_S("pattern", p->name), NC_KV_I("w1", st->w[0].served),
                                  NC_KV_I("w2", st->w[1].served),
                                  NC_KV_I("w3", st->w[2].served)},
                  4, "%s: connections per worker: %s", p->name, text);
}

static void *lw_server(void *arg)
{
    lw_state_t *st = arg;
    nc_scn_thread_name("server");
    for (int k = 0; k < LW__COUNT && !st->s->stop && st->s->error == 0; k++)
        lw_pattern_run(st, (lw_kind_t)k);
    for (int k = 0; k < LW__COUNT; k++)
        nc_scn_signal_set(&st->ready[k]);
    return NULL;
}

static void *lw_client(void *arg)
{
    lw_state_t *st = arg;
    nc_scn_t *s = st->s;
    nc_scn_thread_name("client");
    for (int k = 0; k < LW__COUNT && !s->stop; k++) {
        const lw_pattern_t *p = &lw_patterns[k];
        if (nc_scn_signal_wait(&st->ready[k], 5000) != 0 || s->error)
            break;
        for (int n = 0; n < p->conns && !s->stop; n++) {
            int fd = nc_scn_socket(s, "client", 0, false);
            if (fd < 0)
                break;
            if (nc_scn_connect(s, fd, "server", p->port) != 0) {
                nc_scn_fail(s, "client: cannot connect to port %d", p->port);
                close(fd);
                break;
            }
            char buf[64];
            ssize_t r = -1;
            if (write(fd, "hi\n", 3) == 3 && nc_scn_wait(s, fd, POLLIN, 3000) > 0)
                r = read(fd, buf, sizeof buf - 1);
            if (r > 0) {
                buf[r - 1] = '\0';
                nc_scn_app_kv(s, "client", "read",
                              (nc_scn_kv_t[]){NC_KV_S("pattern", p->name),
                                              NC_KV_I("port", nc_scn_port(fd, false))},
                              2, "%s: connection %d was answered by %s", p->name, n + 1, buf);
            } else {
                nc_scn_fail(s, "client: no answer on port %d", p->port);
            }
            close(fd);
            nc_scn_sleep_ms(15);
        }
        nc_scn_signal_set(&st->done[k]);
    }
    for (int k = 0; k < LW__COUNT; k++)
        nc_scn_signal_set(&st->done[k]);
    return NULL;
}

static int lw_run(nc_scn_t *s)
{
    lw_state_t *st = calloc(1, sizeof *st);
    st->s = s;
    for (int k = 0; k < LW__COUNT; k++) {
        nc_scn_signal_init(&st->ready[k]);
        nc_scn_signal_init(&st->done[k]);
    }
    if (nc_scn_spawn(s, "server", lw_server, st) == 0)
        nc_scn_spawn(s, "client", lw_client, st);
    int rc = nc_scn_join(s);
    for (int k = 0; k < LW__COUNT; k++) {
        nc_scn_signal_done(&st->ready[k]);
        nc_scn_signal_done(&st->done[k]);
    }
    free(st);
    return rc;
}

const nc_scenario_t nc_scenario_listener_workers = {
    .name = "listener-workers",
    .topology = "local",
    .about = "one worker, a dispatcher, shared accept() and SO_REUSEPORT: who took each connection",
    .run = lw_run,
};
