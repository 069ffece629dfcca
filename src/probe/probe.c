/*
 * probe.c: sampling the lab's sockets and reporting what changed.
 *
 * Data model: one nc_probe_ns_t per distinct lab namespace (aliases share
 * their host's), holding a sock_diag socket and an open /proc/net/netstat
 * of that namespace, the last overflow counters seen, and the table of
 * sockets seen in the previous sample (nc_probe_rec_t: a key, a display
 * name and one value per field of the table nc_probe_fields). A sample dumps
 * each namespace into a fresh table, counts request sockets into their
 * listener's SYN queue, compares every socket with its previous record and
 * adds a state event for each new or changed one, and a "CLOSED" event for
 * each that disappeared; then the fresh table replaces the old.
 *
 * The fds are opened by a short thread inside each namespace (nc_lab_spawn):
 * /proc/thread-self/net/netstat opened there stays that namespace's file,
 * and pread at offset 0 regenerates it on every sample.
 */
#include "probe.h"

#include "diag.h"

#include "../core/clock.h"
#include "../core/error.h"
#include "../core/words.h"
#include "../core/xmalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define NC_PROBE_MAX_NS 4
#define NC_PROBE_BUF (64 * 1024)

/* The values of a socket, in the order events list them. */
enum {
    NC_PV_SYNQ,
    NC_PV_ACCEPTQ,
    NC_PV_BACKLOG,
    NC_PV_RECVQ,
    NC_PV_SENDQ,
    NC_PV_NOTSENT,
    NC_PV_SNDWND,
    NC_PV_RCVWND,
    NC_PV_CWND,
    NC_PV_UNACKED,
    NC_PV_RETRANS,
    NC_PV_RCVBUF,
    NC_PV_SNDBUF,
    NC_PV__COUNT
};

static const char *const nc_probe_fields[NC_PV__COUNT] = {
    "syn_queue", "accept_queue", "backlog", "recv_q",  "send_q", "notsent", "snd_wnd",
    "rcv_wnd",   "cwnd",         "unacked", "retrans", "rcvbuf", "sndbuf",
};

typedef struct nc_probe_rec {
    char key[112];  /* local and remote address and port */
    char name[112]; /* "server:7000 listen", "client:40112->server:7000" */
    const char *host;
    uint16_t sport;
    uint8_t state;
    bool listen;
    uint32_t expires_ms; /* a timewait socket's time left (not compared) */
    uint32_t has; /* bit per NC_PV_* present */
    int64_t v[NC_PV__COUNT];
} nc_probe_rec_t;

typedef struct nc_probe_tab {
    nc_probe_rec_t *r;
    size_t n, cap;
} nc_probe_tab_t;

typedef struct nc_probe_ns {
    int netns;        /* borrowed from the lab, for identity */
    const char *host; /* the host that owns the namespace */
    int diag, netstat;
    int open_rc;
    uint64_t overflows, drops;
    nc_probe_tab_t prev, cur;
} nc_probe_ns_t;

struct nc_probe {
    nc_lab_t *lab;
    nc_timeline_t *tl;
    int period_us;
    int settle_ms;
    nc_probe_ns_t ns[NC_PROBE_MAX_NS];
    size_t nns;
    int tfd, efd;
    pthread_t thread;
    bool running;
    nc_evb_t b;
    uint8_t *buf;
    char *text; /* netstat */
    nc_probe_ns_t *cur_ns;
    _Atomic uint64_t samples, events, errors;
    int64_t start_ns, stop_ns, cpu_ns;
};

/* ---- opening fds inside a namespace ---- */

static void *nc_probe_open_in(void *arg)
{
    nc_probe_ns_t *ns = arg;
    ns->diag = nc_diag_open();
    ns->netstat = open("/proc/thread-self/net/netstat", O_RDONLY | O_CLOEXEC);
    ns->open_rc = ns->diag < 0 ? ns->diag : ns->netstat < 0 ? NC_ESYS : 0;
    return NULL;
}

/* ---- names ---- */

/* The lab host whose address is addr, or NULL. */
static const char *nc_probe_host_of(nc_probe_t *p, const char *addr)
{
    return nc_lab_addr_host(p->lab, addr);
}

static bool nc_probe_wildcard(const char *addr)
{
    return strcmp(addr, "0.0.0.0") == 0 || strcmp(addr, "::") == 0;
}

/* ---- tables ---- */

static nc_probe_rec_t *nc_probe_tab_add(nc_probe_tab_t *t)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 32;
        t->r = nc_xrealloc(t->r, t->cap * sizeof *t->r);
    }
    nc_probe_rec_t *r = &t->r[t->n++];
    memset(r, 0, sizeof *r);
    return r;
}

/* Finds key, trying index hint first: dumps list sockets in the same order
 * from one sample to the next, so the search is usually one comparison. */
static nc_probe_rec_t *nc_probe_tab_find(nc_probe_tab_t *t, const char *key, size_t hint)
{
    if (hint < t->n && strcmp(t->r[hint].key, key) == 0)
        return &t->r[hint];
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->r[i].key, key) == 0)
            return &t->r[i];
    return NULL;
}

static void nc_probe_set(nc_probe_rec_t *r, int k, int64_t v)
{
    r->has |= 1u << k;
    r->v[k] = v;
}

/* The dump callback: full sockets become records; request sockets are
 * kept aside (state SYN_RECV, no record) and counted after the dump. */
static void nc_probe_on_sock(const nc_diag_sock_t *sk, void *arg)
{
    nc_probe_t *p = arg;
    nc_probe_ns_t *ns = p->cur_ns;
    nc_probe_rec_t *r = nc_probe_tab_add(&ns->cur);
    r->state = sk->state;
    r->expires_ms = sk->expires_ms;
    r->sport = sk->sport;
    r->listen = sk->state == TCP_LISTEN;
    const char *lh = nc_probe_host_of(p, sk->src);
    if (!lh && nc_probe_wildcard(sk->src))
        lh = ns->host;
    r->host = lh ? lh : ns->host;
    snprintf(r->key, sizeof r->key, "%s:%u %s:%u%s", sk->src, sk->sport, sk->dst, sk->dport,
             r->listen ? " L" : sk->state == TCP_SYN_RECV ? " R" : "");
    if (r->listen) {
        snprintf(r->name, sizeof r->name, "%s:%u listen", lh ? lh : sk->src, sk->sport);
        nc_probe_set(r, NC_PV_SYNQ, 0);
        nc_probe_set(r, NC_PV_ACCEPTQ, sk->rqueue);
        nc_probe_set(r, NC_PV_BACKLOG, sk->wqueue);
        return;
    }
    const char *rh = nc_probe_host_of(p, sk->dst);
    snprintf(r->name, sizeof r->name, "%s:%u->%s:%u", lh ? lh : sk->src, sk->sport,
             rh ? rh : sk->dst, sk->dport);
    /* A request socket counts in its listener's SYN queue; a timewait
     * socket (TIME_WAIT, or an orphan's FIN_WAIT2: a minisocket without
     * tcp_info or buffers) has nothing left but its state. */
    if (sk->state == TCP_SYN_RECV || sk->state == TCP_TIME_WAIT || (!sk->has_info && !sk->has_mem))
        return;
    nc_probe_set(r, NC_PV_RECVQ, sk->rqueue);
    nc_probe_set(r, NC_PV_SENDQ, sk->wqueue);
    if (sk->has_info) {
        nc_probe_set(r, NC_PV_NOTSENT, sk->notsent);
        nc_probe_set(r, NC_PV_SNDWND, sk->snd_wnd);
        if (sk->has_rcv_wnd)
            nc_probe_set(r, NC_PV_RCVWND, sk->rcv_wnd);
        nc_probe_set(r, NC_PV_CWND, sk->cwnd);
        nc_probe_set(r, NC_PV_UNACKED, sk->unacked);
        nc_probe_set(r, NC_PV_RETRANS, sk->total_retrans);
    }
    if (sk->has_mem) {
        nc_probe_set(r, NC_PV_RCVBUF, sk->rcvbuf);
        nc_probe_set(r, NC_PV_SNDBUF, sk->sndbuf);
    }
}

/* Each request socket counts in the SYN queue of the listener on its port. */
static void nc_probe_count_requests(nc_probe_tab_t *t)
{
    for (size_t i = 0; i < t->n; i++) {
        if (t->r[i].state != TCP_SYN_RECV)
            continue;
        for (size_t j = 0; j < t->n; j++) {
            if (t->r[j].listen && t->r[j].sport == t->r[i].sport) {
                t->r[j].v[NC_PV_SYNQ]++;
                break;
            }
        }
    }
}

/* ---- events ---- */

static bool nc_probe_same(const nc_probe_rec_t *a, const nc_probe_rec_t *b)
{
    if (a->state != b->state || a->has != b->has)
        return false;
    for (int k = 0; k < NC_PV__COUNT; k++)
        if ((a->has & (1u << k)) && a->v[k] != b->v[k])
            return false;
    return true;
}

/*
 * The one line the ladder shows. A listener's numbers mean what they mean
 * in the event's fields and in `ss -ltn` (Recv-Q, Send-Q): the accept
 * queue's length and the backlog. The kernel counts the queue as full only
 * when it holds more than the backlog, so it holds backlog + 1; the line
 * says so wherever the limit is shown.
 */
static void nc_probe_summary(nc_evb_t *b, const nc_probe_rec_t *r)
{
    if (r->listen) {
        long long q = r->v[NC_PV_ACCEPTQ], bl = r->v[NC_PV_BACKLOG];
        nc_evb_summary(b, "%s: accept queue %lld of %lld (backlog %lld + 1)%s, SYN queue %lld",
                       r->name, q, bl + 1, bl, q > bl ? ", full" : "", (long long)r->v[NC_PV_SYNQ]);
        return;
    }
    if (r->state == TCP_TIME_WAIT) {
        nc_evb_summary(b, "%s TIME_WAIT for %u s", r->name, (r->expires_ms + 999) / 1000);
        return;
    }
    if (!(r->has & (1u << NC_PV_SNDWND))) {
        nc_evb_summary(b, "%s %s recv_q %lld send_q %lld", r->name, nc_diag_state_name(r->state),
                       (long long)r->v[NC_PV_RECVQ], (long long)r->v[NC_PV_SENDQ]);
        return;
    }
    nc_evb_summary(b, "%s %s recv_q %lld send_q %lld snd_wnd %lld cwnd %lld", r->name,
                   nc_diag_state_name(r->state), (long long)r->v[NC_PV_RECVQ],
                   (long long)r->v[NC_PV_SENDQ], (long long)r->v[NC_PV_SNDWND],
                   (long long)r->v[NC_PV_CWND]);
}

static void nc_probe_emit(nc_probe_t *p, const nc_probe_rec_t *r, bool closed, int64_t now)
{
    atomic_fetch_add(&p->events, 1);
    if (!p->tl)
        return;
    nc_evb_t *b = &p->b;
    nc_evb_reset(b, NC_EV_STATE, now);
    nc_evb_host(b, r->host);
    if (closed) {
        nc_evb_summary(b, "%s closed", r->name);
    } else {
        nc_probe_summary(b, r);
    }
    nc_evb_str(b, "socket", r->name);
    nc_evb_str(b, "state", closed ? "CLOSED" : nc_diag_state_name(r->state));
    for (int k = 0; k < NC_PV__COUNT && !closed; k++)
        if (r->has & (1u << k))
            nc_evb_int(b, nc_probe_fields[k], r->v[k]);
    nc_timeline_add(p->tl, b);
}

static void nc_probe_counters(nc_probe_t *p, nc_probe_ns_t *ns)
{
    ssize_t n = pread(ns->netstat, p->text, NC_PROBE_BUF - 1, 0);
    int64_t now = nc_clock_real_ns();
    if (n <= 0)
        return;
    uint64_t ov, dr;
    if (nc_diag_netstat_parse(p->text, (size_t)n, &ov, &dr) != 0)
        return;
    if (ov == ns->overflows && dr == ns->drops)
        return;
    ns->overflows = ov;
    ns->drops = dr;
    atomic_fetch_add(&p->events, 1);
    if (!p->tl)
        return;
    nc_evb_t *b = &p->b;
    nc_evb_reset(b, NC_EV_STATE, now);
    nc_evb_host(b, ns->host);
    nc_evb_summary(b, "%s: %llu listen %s, %llu listen %s (SYNs or ACKs thrown away)", ns->host,
                   (unsigned long long)ov, nc_words_plural((long long)ov, "overflow", "overflows"),
                   (unsigned long long)dr, nc_words_plural((long long)dr, "drop", "drops"));
    nc_evb_str(b, "scope", "host");
    nc_evb_int(b, "listen_overflows", (int64_t)ov);
    nc_evb_int(b, "listen_drops", (int64_t)dr);
    nc_timeline_add(p->tl, b);
}

/* Every state but CLOSE (a socket that is gone): what a lesson's programs
 * hold, their half-open handshakes (SYN_RECV), and what a closed
 * connection leaves behind (TIME_WAIT). */
#define NC_PROBE_STATES                                                                            \
    ((1u << TCP_ESTABLISHED) | (1u << TCP_SYN_SENT) | (1u << TCP_SYN_RECV) |                       \
     (1u << TCP_FIN_WAIT1) | (1u << TCP_FIN_WAIT2) | (1u << TCP_TIME_WAIT) |                       \
     (1u << TCP_CLOSE_WAIT) | (1u << TCP_LAST_ACK) | (1u << TCP_LISTEN) | (1u << TCP_CLOSING))

/*
 * One pass over every namespace. A sample is stamped when its dump is
 * complete, not when it began: what it shows was true by then, so a change
 * a program's call made (stamped just before the call) never appears
 * before that call on the timeline.
 */
static void nc_probe_sample(nc_probe_t *p)
{
    for (size_t i = 0; i < p->nns; i++) {
        nc_probe_ns_t *ns = &p->ns[i];
        ns->cur.n = 0;
        p->cur_ns = ns;
        if (nc_diag_dump(ns->diag, NC_PROBE_STATES, p->buf, NC_PROBE_BUF, nc_probe_on_sock, p) !=
            0) {
            atomic_fetch_add(&p->errors, 1);
            continue;
        }
        int64_t now = nc_clock_real_ns();
        nc_probe_count_requests(&ns->cur);
        for (size_t k = 0; k < ns->cur.n; k++) {
            nc_probe_rec_t *r = &ns->cur.r[k];
            if (r->state == TCP_SYN_RECV)
                continue;
            nc_probe_rec_t *old = nc_probe_tab_find(&ns->prev, r->key, k);
            if (!old || !nc_probe_same(old, r))
                nc_probe_emit(p, r, false, now);
        }
        for (size_t k = 0; k < ns->prev.n; k++) {
            nc_probe_rec_t *r = &ns->prev.r[k];
            if (r->state != TCP_SYN_RECV && !nc_probe_tab_find(&ns->cur, r->key, k))
                nc_probe_emit(p, r, true, now);
        }
        nc_probe_tab_t t = ns->prev;
        ns->prev = ns->cur;
        ns->cur = t;
        nc_probe_counters(p, ns);
    }
    atomic_fetch_add(&p->samples, 1);
}

/* True when the last sample saw nothing but timewait sockets: every
 * connection of the lab has finished closing. */
static bool nc_probe_settled(const nc_probe_t *p)
{
    for (size_t i = 0; i < p->nns; i++)
        for (size_t k = 0; k < p->ns[i].prev.n; k++)
            if (p->ns[i].prev.r[k].state != TCP_TIME_WAIT)
                return false;
    return true;
}

/* ---- the thread ---- */

/*
 * Samples on every tick. Once asked to stop, it goes on sampling until the
 * lab's sockets are gone or in TIME_WAIT (the last ACK of a close may still
 * be on the wire, and a socket in LAST_ACK or FIN_WAIT2 is waiting for it),
 * or settle_ms have passed; then it takes one last sample.
 */
static void *nc_probe_main(void *arg)
{
    nc_probe_t *p = arg;
    pthread_setname_np(pthread_self(), "nc-probe");
    struct pollfd pfd[2] = {{.fd = p->tfd, .events = POLLIN}, {.fd = p->efd, .events = POLLIN}};
    nc_probe_sample(p);
    int64_t deadline = 0;
    for (;;) {
        if (poll(pfd, deadline ? 1 : 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (!deadline && pfd[1].revents) {
            uint64_t one;
            if (read(p->efd, &one, sizeof one) < 0)
                break;
            deadline = nc_clock_mono_ns() + (int64_t)p->settle_ms * 1000000;
        }
        uint64_t ticks;
        if (pfd[0].revents && read(p->tfd, &ticks, sizeof ticks) == (ssize_t)sizeof ticks)
            nc_probe_sample(p);
        if (deadline && (nc_probe_settled(p) || nc_clock_mono_ns() >= deadline))
            break;
    }
    nc_probe_sample(p);
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    p->cpu_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    return NULL;
}

nc_probe_t *nc_probe_start(const nc_probe_opts_t *o, char *err, size_t errlen)
{
    nc_probe_t *p = nc_xcalloc(1, sizeof *p);
    p->lab = o->lab;
    p->tl = o->tl;
    p->period_us = o->period_us > 0 ? o->period_us : 4000;
    p->settle_ms = o->settle_ms > 0 ? o->settle_ms : 1500;
    p->tfd = p->efd = -1;
    for (size_t i = 0; i < nc_lab_host_count(o->lab); i++) {
        const char *h = nc_lab_host_name(o->lab, i);
        int netns = nc_lab_host_netns(o->lab, h);
        bool seen = false;
        for (size_t k = 0; k < p->nns; k++)
            seen = seen || p->ns[k].netns == netns;
        if (seen || netns < 0 || p->nns == NC_PROBE_MAX_NS)
            continue;
        nc_probe_ns_t *ns = &p->ns[p->nns++];
        ns->netns = netns;
        ns->host = h;
        ns->diag = ns->netstat = -1;
        pthread_t t;
        int rc = nc_lab_spawn(o->lab, h, nc_probe_open_in, ns, &t);
        if (rc == 0) {
            pthread_join(t, NULL);
            rc = ns->open_rc;
        }
        if (rc != 0) {
            snprintf(err, errlen, "probe: cannot open sock_diag in %s's namespace: %s.", h,
                     nc_strerror(rc));
            nc_probe_free(p);
            return NULL;
        }
    }
    p->buf = nc_xmalloc(NC_PROBE_BUF);
    p->text = nc_xmalloc(NC_PROBE_BUF);
    nc_evb_init(&p->b);
    p->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    p->efd = eventfd(0, EFD_CLOEXEC);
    if (p->tfd < 0 || p->efd < 0) {
        snprintf(err, errlen, "probe: cannot create its timer: %s.", strerror(errno));
        nc_probe_free(p);
        return NULL;
    }
    struct itimerspec its = {
        .it_interval = {p->period_us / 1000000, (long)(p->period_us % 1000000) * 1000},
        .it_value = {p->period_us / 1000000, (long)(p->period_us % 1000000) * 1000},
    };
    timerfd_settime(p->tfd, 0, &its, NULL);
    p->start_ns = nc_clock_mono_ns();
    if (pthread_create(&p->thread, NULL, nc_probe_main, p) != 0) {
        snprintf(err, errlen, "probe: cannot start its thread.");
        nc_probe_free(p);
        return NULL;
    }
    p->running = true;
    return p;
}

void nc_probe_stop(nc_probe_t *p)
{
    if (!p || !p->running)
        return;
    uint64_t one = 1;
    if (write(p->efd, &one, sizeof one) != (ssize_t)sizeof one)
        return;
    pthread_join(p->thread, NULL);
    p->running = false;
    p->stop_ns = nc_clock_mono_ns();
}

void nc_probe_stats(const nc_probe_t *p, nc_probe_stats_t *out)
{
    nc_probe_t *m = (nc_probe_t *)p;
    out->samples = atomic_load(&m->samples);
    out->events = atomic_load(&m->events);
    out->errors = atomic_load(&m->errors);
    out->wall_ns = (p->running ? nc_clock_mono_ns() : p->stop_ns) - p->start_ns;
    out->cpu_ns = p->running ? 0 : p->cpu_ns;
}

void nc_probe_free(nc_probe_t *p)
{
    if (!p)
        return;
    nc_probe_stop(p);
    for (size_t i = 0; i < p->nns; i++) {
        if (p->ns[i].diag >= 0)
            close(p->ns[i].diag);
        if (p->ns[i].netstat >= 0)
            close(p->ns[i].netstat);
        free(p->ns[i].prev.r);
        free(p->ns[i].cur.r);
    }
    if (p->tfd >= 0)
        close(p->tfd);
    if (p->efd >= 0)
        close(p->efd);
    if (p->buf)
        nc_evb_done(&p->b);
    free(p->buf);
    free(p->text);
    free(p);
}
