/*
 * scenario.c: the scenario registry and what every scenario shares.
 *
 * The registry is one table; adding a scenario is adding a file and a line.
 * The rest are the services a run gives its programs: threads on lab hosts,
 * app events, loops with a watchdog, and one-shot signals.
 */
#include "scenario.h"

#include "../core/clock.h"
#include "../core/error.h"
#include "../core/xmalloc.h"
#include "../decrypt/keylog.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern const nc_scenario_t nc_scenario_udp;
extern const nc_scenario_t nc_scenario_accept_queue;
extern const nc_scenario_t nc_scenario_socket_buffers;
extern const nc_scenario_t nc_scenario_listener_workers;
extern const nc_scenario_t nc_scenario_process_thread;
extern const nc_scenario_t nc_scenario_bench;

static const nc_scenario_t *const nc_scenarios[] = {
    &nc_scenario_udp,
    &nc_scenario_accept_queue,
    &nc_scenario_socket_buffers,
    &nc_scenario_listener_workers,
    &nc_scenario_process_thread,
    &nc_scenario_bench,
};

const nc_scenario_t *nc_scenario_find(const char *name)
{
    for (size_t k = 0; k < sizeof(nc_scenarios) / sizeof(nc_scenarios[0]); k++)
        if (strcmp(nc_scenarios[k]->name, name) == 0)
            return nc_scenarios[k];
    return NULL;
}

/* The run a program thread belongs to, so that a wait that is not handed
 * the run (nc_scn_signal_wait) still ends when the run is stopped. Set by
 * nc_scn_start for the threads nc_scn_spawn starts. */
static __thread nc_scn_t *nc_scn_self;

typedef struct nc_scn_start {
    nc_scn_t *s;
    void *(*fn)(void *);
    void *arg;
} nc_scn_start_t;

static void *nc_scn_start(void *p)
{
    nc_scn_start_t st = *(nc_scn_start_t *)p;
    free(p);
    nc_scn_self = st.s;
    return st.fn(st.arg);
}

int nc_scn_spawn(nc_scn_t *s, const char *host, void *(*fn)(void *), void *arg)
{
    pthread_mutex_lock(&s->lock);
    if (s->nthreads >= (int)(sizeof(s->threads) / sizeof(s->threads[0]))) {
        pthread_mutex_unlock(&s->lock);
        nc_scn_fail(s, "too many programs in one scenario");
        return NC_EINVAL;
    }
    nc_scn_start_t *st = nc_xmalloc(sizeof *st);
    *st = (nc_scn_start_t){s, fn, arg};
    int rc = nc_lab_spawn(s->lab, host, nc_scn_start, st, &s->threads[s->nthreads]);
    if (rc == 0)
        s->nthreads++;
    else
        free(st);
    pthread_mutex_unlock(&s->lock);
    if (rc != 0)
        nc_scn_fail(s, "could not start a program on %s: %s", host, nc_strerror(rc));
    return rc;
}

int nc_scn_join(nc_scn_t *s)
{
    for (;;) {
        pthread_mutex_lock(&s->lock);
        if (s->nthreads == 0) {
            pthread_mutex_unlock(&s->lock);
            break;
        }
        pthread_t t = s->threads[--s->nthreads];
        pthread_mutex_unlock(&s->lock);
        pthread_join(t, NULL);
    }
    return s->error;
}

void nc_scn_fail(nc_scn_t *s, const char *fmt, ...)
{
    pthread_mutex_lock(&s->lock);
    if (s->error == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(s->errmsg, sizeof(s->errmsg), fmt, ap);
        va_end(ap);
        s->error = NC_EIO;
    }
    pthread_mutex_unlock(&s->lock);
}

void nc_scn_keylog(nc_scn_t *s, const char *line)
{
    if (s->keylog)
        nc_keylog_add(s->keylog, line, strlen(line), NULL);
}

const char *nc_scn_addr(nc_scn_t *s, const char *host)
{
    const char *a = nc_lab_host_addr(s->lab, host);
    return a ? a : "127.0.0.1";
}

/*
 * The call this program thread is about to make, and when: set by
 * nc_scn_call_begin, used and cleared by the next app event for that call.
 * A NULL call with a time is a read of any kind (libuv's alloc callback
 * cannot know whether its program reports "read" or "recvfrom").
 */
static _Thread_local const char *nc_scn_call_name;
static _Thread_local int64_t nc_scn_call_ns;
static const char *const nc_scn_reads[] = {"read", "recv", "recvfrom", "recvmsg"};

void nc_scn_call_begin(const char *call)
{
    nc_scn_call_name = call;
    nc_scn_call_ns = nc_clock_real_ns();
}

/* The time of an app event for call: when it was begun, else now. */
static int64_t nc_scn_call_time(const char *call)
{
    int64_t now = nc_clock_real_ns();
    if (nc_scn_call_ns == 0)
        return now;
    bool match = nc_scn_call_name && strcmp(nc_scn_call_name, call) == 0;
    for (size_t k = 0; !nc_scn_call_name && k < sizeof nc_scn_reads / sizeof nc_scn_reads[0]; k++)
        match = match || strcmp(nc_scn_reads[k], call) == 0;
    if (!match)
        return now;
    int64_t t = nc_scn_call_ns;
    nc_scn_call_ns = 0;
    nc_scn_call_name = NULL;
    return t;
}

static void nc_scn_app_v(nc_scn_t *s, const char *host, const char *call,
                         const nc_scn_kv_t *kv, size_t nkv, const char *fmt, va_list ap)
{
    char text[512];
    vsnprintf(text, sizeof(text), fmt, ap);
    nc_evb_t b;
    nc_evb_init(&b);
    nc_evb_reset(&b, NC_EV_APP, nc_scn_call_time(call));
    nc_evb_host(&b, host);
    nc_evb_summary(&b, "%s", text);
    nc_evb_str(&b, "call", call);
    nc_evb_str(&b, "text", text);
    for (size_t k = 0; k < nkv; k++) {
        if (kv[k].kind == 's')
            nc_evb_str(&b, kv[k].key, kv[k].s ? kv[k].s : "");
        else if (kv[k].kind == 'b')
            nc_evb_bool(&b, kv[k].key, kv[k].i != 0);
        else
            nc_evb_int(&b, kv[k].key, kv[k].i);
    }
    nc_timeline_add(s->tl, &b);
    nc_evb_done(&b);
}

void nc_scn_app(nc_scn_t *s, const char *host, const char *call, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    nc_scn_app_v(s, host, call, NULL, 0, fmt, ap);
    va_end(ap);
}

void nc_scn_app_kv(nc_scn_t *s, const char *host, const char *call, const nc_scn_kv_t *kv,
                   size_t nkv, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    nc_scn_app_v(s, host, call, kv, nkv, fmt, ap);
    va_end(ap);
}

void nc_scn_thread_name(const char *host)
{
    char name[16];
    snprintf(name, sizeof(name), "nc-%s", host);
    pthread_setname_np(pthread_self(), name);
}

typedef struct nc_scn_watch {
    nc_scn_t *s;
    int64_t deadline;
    int result;
} nc_scn_watch_t;

static void nc_scn_close_cb(uv_handle_t *h, void *arg)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void nc_scn_watch_tick(uv_timer_t *t)
{
    nc_scn_watch_t *w = t->data;
    int stop = w->s->stop;
    int late = nc_clock_mono_ns() > w->deadline;
    if (!stop && !late)
        return;
    w->result = stop ? NC_ESTOPPED : NC_ETIMEDOUT;
    uv_walk(t->loop, nc_scn_close_cb, NULL);
}

int nc_scn_loop_run(nc_scn_t *s, uv_loop_t *loop, const char *who, int timeout_ms)
{
    nc_scn_watch_t w = {s, nc_clock_mono_ns() + (int64_t)timeout_ms * 1000000, 0};
    uv_timer_t watch;
    uv_timer_init(loop, &watch);
    watch.data = &w;
    uv_timer_start(&watch, nc_scn_watch_tick, 50, 50);
    /* The watchdog does not keep the loop alive: the loop ends when the
     * program's own handles are done, or when the watchdog closes them. */
    uv_unref((uv_handle_t *)&watch);
    uv_run(loop, UV_RUN_DEFAULT);
    if (!uv_is_closing((uv_handle_t *)&watch))
        uv_close((uv_handle_t *)&watch, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    if (w.result == NC_ETIMEDOUT)
        nc_scn_fail(s, "the %s did not finish within %d s", who, timeout_ms / 1000);
    return w.result;
}

void nc_scn_signal_init(nc_scn_signal_t *sig)
{
    pthread_mutex_init(&sig->lock, NULL);
    pthread_cond_init(&sig->cond, NULL);
    sig->set = 0;
}

void nc_scn_signal_done(nc_scn_signal_t *sig)
{
    pthread_mutex_destroy(&sig->lock);
    pthread_cond_destroy(&sig->cond);
}

void nc_scn_signal_set(nc_scn_signal_t *sig)
{
    pthread_mutex_lock(&sig->lock);
    sig->set = 1;
    pthread_cond_broadcast(&sig->cond);
    pthread_mutex_unlock(&sig->lock);
}

/* Waits in slices of at most 50 ms, so that a program thread whose run is
 * stopped gives up at once instead of sitting out its time-out (which held
 * up a restarted run by up to 5 s). */
int nc_scn_signal_wait(nc_scn_signal_t *sig, int timeout_ms)
{
    int64_t deadline = nc_clock_mono_ns() + (int64_t)timeout_ms * 1000000;
    pthread_mutex_lock(&sig->lock);
    for (;;) {
        int64_t left = deadline - nc_clock_mono_ns();
        if (sig->set || left <= 0 || (nc_scn_self && nc_scn_self->stop))
            break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t slice = left < 50000000 ? left : 50000000;
        ts.tv_nsec += (long)slice;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&sig->cond, &sig->lock, &ts);
    }
    int set = sig->set;
    pthread_mutex_unlock(&sig->lock);
    if (set)
        return 0;
    return nc_scn_self && nc_scn_self->stop ? NC_ESTOPPED : NC_ETIMEDOUT;
}

void nc_scn_peer_name(nc_scn_t *s, const struct sockaddr *sa, char *out, size_t outlen)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
        port = ntohs(in->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
        port = ntohs(in6->sin6_port);
    }
    const char *name = ip;
    for (size_t k = 0; k < nc_lab_host_count(s->lab); k++) {
        const char *h = nc_lab_host_name(s->lab, k);
        const char *a = nc_lab_host_addr(s->lab, h);
        if (a && strcmp(a, ip) == 0)
            name = h;
    }
    snprintf(out, outlen, "%s:%d", name, port);
}

void nc_scn_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

void nc_scn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    static _Thread_local char space[65536];
    nc_scn_call_begin(NULL);
    buf->base = space;
    buf->len = sizeof(space);
}

int nc_scn_run_pair(nc_scn_t *s, void *(*server)(void *), void *(*client)(void *), void *arg,
                    nc_scn_signal_t *ready)
{
    if (nc_scn_spawn(s, "server", server, arg) == 0) {
        if (nc_scn_signal_wait(ready, 5000) != 0)
            nc_scn_fail(s, "the server did not start within 5 s");
        else if (s->error == 0)
            nc_scn_spawn(s, "client", client, arg);
    }
    return nc_scn_join(s);
}

int nc_scn_socket(nc_scn_t *s, const char *host, int port, bool nonblock)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0) {
        nc_scn_fail(s, "%s: socket(): %s", host, strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, nc_scn_addr(s, host), &sa.sin_addr);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        nc_scn_fail(s, "%s: bind() to port %d: %s", host, port, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int nc_scn_connect(nc_scn_t *s, int fd, const char *host, int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, nc_scn_addr(s, host), &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno == EINPROGRESS)
        return 0;
    return -errno;
}

int nc_scn_port(int fd, bool peer)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    int rc = peer ? getpeername(fd, (struct sockaddr *)&sa, &len)
                  : getsockname(fd, (struct sockaddr *)&sa, &len);
    return rc == 0 ? ntohs(sa.sin_port) : 0;
}

int nc_scn_wait(nc_scn_t *s, int fd, short events, int timeout_ms)
{
    int64_t deadline = nc_clock_mono_ns() + (int64_t)timeout_ms * 1000000;
    for (;;) {
        if (s->stop)
            return NC_ESTOPPED;
        int64_t left = (deadline - nc_clock_mono_ns()) / 1000000;
        if (left <= 0)
            return 0;
        struct pollfd p = {.fd = fd, .events = events};
        int n = poll(&p, 1, left < 50 ? (int)left : 50);
        if (n > 0)
            return p.revents;
    }
}
