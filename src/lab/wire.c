/*
 * wire.c: the capture/wire thread.
 *
 * One thread, inside one namespace, runs a libuv loop. With a wire (the
 * "pair" topology) it holds one capture per port, each reading only frames
 * arriving from its host (PCAP_D_IN). Every frame read is decoded into a
 * packet event, the policy (wire_policy.c) decides to forward or drop it,
 * and a forwarded frame waits in the release queue of its direction until
 * its release time (delay, rate) and then leaves by pcap_inject() on the
 * other port. Releases are driven by one timerfd per direction (uv timers
 * tick in milliseconds; a rate needs microseconds). Queues are FIFO and
 * release times never decrease, so order is kept. Without a wire ("local")
 * the thread captures lo and only records.
 *
 * The event gets "dropped" and a "wire" object, a note when dropped, the
 * generic annotation, and goes to the timeline, forwarded or not. The
 * thread owns the decoder, the event builder and the queues; other threads
 * only read the atomic counters and ask it to stop through a uv_async.
 * Faults may be added while the wire runs (an instructor's live "drop the
 * next SYN-ACK"): the policy is then touched under policy_lock, which only
 * the thread itself and nc_wire_add_fault take.
 */
#include "lab_impl.h"

#include "annotate/annotate.h"
#include "capture/capture.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/words.h"
#include "core/xmalloc.h"
#include "decode/decode.h"

#include <errno.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <uv.h>

enum {
    PORT_BUFFER = 4 << 20,   /* ring per wire port (frames of at most the MTU) */
    LO_BUFFER = 32 << 20,    /* lo frames can be 64 KiB each */
    QUEUE_MAX_FRAMES = 20000, /* the link's buffer, per direction */
    DISPATCH_BATCH = 256,
};

typedef struct pending {
    struct pending *next;
    int64_t release_ns; /* CLOCK_MONOTONIC */
    uint32_t len;
    uint8_t data[];
} pending_t;

/* Frames from host i travel in direction i and leave by the other port. */
typedef struct direction {
    pending_t *head, *tail;
    size_t frames;
    int tfd;
    uv_poll_t tpoll;
} direction_t;

typedef struct port {
    struct nc_wire *w;
    int idx;
    nc_capture_t *cap;
    int linktype;
    uv_poll_t poll;
} port_t;

struct nc_wire {
    nc_wire_cfg_t cfg;
    const nc_topology_t *topo;
    bool bridge;
    size_t nports;
    port_t ports[2];
    direction_t dirs[2];

    pthread_t thread;
    bool joined;
    sem_t ready;
    int start_rc;
    char start_err[256];

    uv_loop_t loop;
    uv_async_t stop_async;
    uv_timer_t drain_timer;
    bool stopping;
    int64_t drain_deadline;

    nc_wire_policy_t *policy;
    pthread_mutex_t policy_lock;
    atomic_bool has_faults; /* decode even without a timeline */
    nc_decoder_t *dec;
    nc_evb_t b;

    atomic_uint_fast64_t captured, lost, wire_drops, inject_errors;
};

static void inject(nc_wire_t *w, int dir, const uint8_t *data, uint32_t len)
{
    if (nc_capture_inject(w->ports[1 - dir].cap, data, len) != 0)
        atomic_fetch_add(&w->inject_errors, 1);
}

static void arm(direction_t *d)
{
    struct itimerspec its = {0};
    if (d->head) {
        its.it_value.tv_sec = d->head->release_ns / 1000000000;
        its.it_value.tv_nsec = d->head->release_ns % 1000000000;
        if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
            its.it_value.tv_nsec = 1;
    }
    timerfd_settime(d->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* Forwards now when nothing waits ahead and the time has come; else queues. */
static void forward(nc_wire_t *w, int dir, const uint8_t *data, uint32_t len, int64_t release,
                    int64_t now)
{
    direction_t *d = &w->dirs[dir];
    if (!d->head && release <= now) {
        inject(w, dir, data, len);
        return;
    }
    pending_t *p = nc_xmalloc(sizeof *p + len);
    p->next = NULL;
    p->release_ns = release;
    p->len = len;
    memcpy(p->data, data, len);
    if (d->tail)
        d->tail->next = p;
    else
        d->head = p;
    d->tail = p;
    d->frames++;
    if (d->head == p)
        arm(d);
}

static void release_due(nc_wire_t *w, int dir)
{
    direction_t *d = &w->dirs[dir];
    int64_t now = nc_clock_mono_ns();
    while (d->head && d->head->release_ns <= now) {
        pending_t *p = d->head;
        d->head = p->next;
        if (!d->head)
            d->tail = NULL;
        d->frames--;
        inject(w, dir, p->data, p->len);
        free(p);
    }
    arm(d);
}

static void on_release(uv_poll_t *h, int status, int events)
{
    direction_t *d = h->data;
    nc_wire_t *w = uv_handle_get_loop((uv_handle_t *)h)->data;
    uint64_t ticks;
    if (read(d->tfd, &ticks, sizeof ticks) < 0 && errno != EAGAIN)
        return;
    release_due(w, (int)(d - w->dirs));
}

/* Adds "dropped", the "wire" object and the drop note to the event. */
static void describe(nc_wire_t *w, const nc_wire_verdict_t *v, double delay_s)
{
    nc_evb_t *b = &w->b;
    nc_field_t *dropped = nc_evb_find(b, "dropped");
    if (dropped && dropped->kind == NC_F_BOOL)
        dropped->v.b = v->drop;
    else
        nc_evb_bool(b, "dropped", v->drop);
    nc_evb_obj(b, "wire");
    nc_evb_str(b, "action", v->drop ? "drop" : "forward");
    nc_evb_num(b, "delay", v->drop ? 0 : delay_s);
    if (v->reason[0])
        nc_evb_str(b, "reason", v->reason);
    nc_evb_end(b);
    if (v->drop) {
        const nc_event_t *ev = nc_evb_view(b);
        const char *from = nc_event_str(ev, "from");
        const char *to = nc_event_str(ev, "to");
        char note[400];
        snprintf(note, sizeof note,
                 "Dropped by the lesson's wire (%s). It left the %s but never reaches the %s.",
                 v->reason, from ? from : "sender", to ? to : "receiver");
        nc_evb_note_first(b, note);
    }
}

static void on_frame(void *arg, int64_t ts_ns, const uint8_t *data, uint32_t caplen,
                     uint32_t wirelen)
{
    port_t *pt = arg;
    nc_wire_t *w = pt->w;
    int dir = pt->idx;
    atomic_fetch_add(&w->captured, 1);
    bool record = w->cfg.tl != NULL;
    bool decode = record || (w->bridge && atomic_load(&w->has_faults));
    if (decode) {
        nc_evb_reset(&w->b, NC_EV_PACKET, ts_ns);
        nc_decoder_packet(w->dec, pt->linktype, data, caplen, wirelen, &w->b);
        w->b.ev.iface = (uint32_t)pt->idx;
    }
    if (!w->bridge) {
        if (record) {
            /* No wire on a loopback: nothing is ever dropped by the lesson,
             * but every packet says so, as EVENTS.md promises. */
            if (!nc_evb_find(&w->b, "dropped"))
                nc_evb_bool(&w->b, "dropped", false);
            nc_annotate_event(&w->b);
            nc_timeline_add(w->cfg.tl, &w->b);
        }
        return;
    }
    nc_wire_verdict_t v;
    pthread_mutex_lock(&w->policy_lock);
    nc_wire_policy_decide(w->policy, dir, decode ? nc_evb_view(&w->b) : NULL, &v);
    pthread_mutex_unlock(&w->policy_lock);
    int64_t now = nc_clock_mono_ns();
    int64_t release = now;
    if (!v.drop && caplen < wirelen) {
        v.drop = true;
        snprintf(v.reason, sizeof v.reason, "frame of %u bytes is bigger than the capture keeps",
                 wirelen);
    }
    if (!v.drop && w->dirs[dir].frames >= QUEUE_MAX_FRAMES) {
        v.drop = true;
        snprintf(v.reason, sizeof v.reason, "the link's queue is full (%d frames)",
                 QUEUE_MAX_FRAMES);
    }
    if (!v.drop) {
        pthread_mutex_lock(&w->policy_lock);
        release = nc_wire_policy_release(w->policy, dir, now, wirelen);
        pthread_mutex_unlock(&w->policy_lock);
        forward(w, dir, data, caplen, release, now);
    } else {
        atomic_fetch_add(&w->wire_drops, 1);
    }
    if (record) {
        describe(w, &v, (double)(release - now) / 1e9);
        nc_annotate_event(&w->b);
        nc_timeline_add(w->cfg.tl, &w->b);
    }
}

static void read_port(port_t *pt, int max)
{
    nc_capture_dispatch(pt->cap, max, on_frame, pt);
}

static void on_readable(uv_poll_t *h, int status, int events)
{
    read_port(h->data, DISPATCH_BATCH);
}

static bool queues_empty(const nc_wire_t *w)
{
    return !w->dirs[0].head && !w->dirs[1].head;
}

static void close_handle(uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

/* Reads what is left, records the counters, and closes every handle so
 * that uv_run returns. */
static void finish(nc_wire_t *w)
{
    uint64_t lost = 0;
    for (size_t i = 0; i < w->nports; i++) {
        read_port(&w->ports[i], 0);
        uint64_t recv, drop;
        if (nc_capture_stats(w->ports[i].cap, &recv, &drop) == 0)
            lost += drop;
    }
    atomic_store(&w->lost, lost);
    if (w->cfg.tl) {
        nc_evb_t *b = &w->b;
        uint64_t captured = atomic_load(&w->captured), drops = atomic_load(&w->wire_drops);
        nc_evb_reset(b, NC_EV_NOTE, nc_clock_real_ns());
        nc_evb_host(b, w->bridge ? "wire" : w->topo->hosts[0].name);
        nc_evb_summary(b, "capture: %llu %s, %llu lost by the capture, %llu dropped by the wire",
                       (unsigned long long)captured,
                       nc_words_plural((long long)captured, "frame", "frames"),
                       (unsigned long long)lost, (unsigned long long)drops);
        nc_evb_int(b, "captured", (int64_t)captured);
        nc_evb_int(b, "lost", (int64_t)lost);
        nc_evb_int(b, "wire_drops", (int64_t)drops);
        uint64_t failed = atomic_load(&w->inject_errors);
        if (failed) {
            nc_evb_int(b, "inject_errors", (int64_t)failed);
            nc_evb_note(b, "The wire failed to pass on %llu %s (the kernel refused them).",
                        (unsigned long long)failed,
                        nc_words_plural((long long)failed, "frame", "frames"));
        }
        if (lost)
            nc_evb_note(b, "The capture missed %llu %s (its buffer was full), so the timeline "
                           "is missing some packets that really were sent.",
                        (unsigned long long)lost,
                        nc_words_plural((long long)lost, "frame", "frames"));
        nc_timeline_add(w->cfg.tl, b);
    }
    for (size_t i = 0; i < w->nports; i++)
        close_handle((uv_handle_t *)&w->ports[i].poll);
    for (size_t i = 0; i < (w->bridge ? 2u : 0u); i++)
        close_handle((uv_handle_t *)&w->dirs[i].tpoll);
    close_handle((uv_handle_t *)&w->drain_timer);
    close_handle((uv_handle_t *)&w->stop_async);
}

static void on_drain_tick(uv_timer_t *t)
{
    nc_wire_t *w = t->data;
    if (queues_empty(w) || nc_clock_mono_ns() >= w->drain_deadline)
        finish(w);
}

static void on_stop(uv_async_t *a)
{
    nc_wire_t *w = a->data;
    if (w->stopping)
        return;
    w->stopping = true;
    for (size_t i = 0; i < w->nports; i++)
        read_port(&w->ports[i], 0);
    w->drain_deadline = nc_clock_mono_ns() + w->cfg.link.delay_ns + 200 * 1000000ll;
    if (queues_empty(w))
        finish(w);
    else
        uv_timer_start(&w->drain_timer, on_drain_tick, 2, 2);
}

static int open_ports(nc_wire_t *w)
{
    for (size_t i = 0; i < w->nports; i++) {
        const nc_topo_host_t *h = &w->topo->hosts[i];
        nc_capture_opts_t o = {
            .snaplen = 262144,
            .buffer_bytes = w->bridge ? PORT_BUFFER : LO_BUFFER,
            .in_only = w->bridge,
        };
        port_t *pt = &w->ports[i];
        pt->w = w;
        pt->idx = (int)i;
        pt->cap = nc_capture_open(w->bridge ? h->port : h->ifname, &o, w->start_err,
                                  sizeof w->start_err);
        if (!pt->cap)
            return NC_EIO;
        pt->linktype = nc_capture_linktype(pt->cap);
        uv_poll_init(&w->loop, &pt->poll, nc_capture_fd(pt->cap));
        pt->poll.data = pt;
        uv_poll_start(&pt->poll, UV_READABLE, on_readable);
    }
    for (size_t i = 0; i < (w->bridge ? 2u : 0u); i++) {
        direction_t *d = &w->dirs[i];
        d->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (d->tfd < 0) {
            snprintf(w->start_err, sizeof w->start_err, "lab: cannot create a timer: %s.",
                     strerror(errno));
            return NC_ESYS;
        }
        uv_poll_init(&w->loop, &d->tpoll, d->tfd);
        d->tpoll.data = d;
        uv_poll_start(&d->tpoll, UV_READABLE, on_release);
    }
    return 0;
}

static void walk_close(uv_handle_t *h, void *arg)
{
    close_handle(h);
}

static void *wire_main(void *arg)
{
    nc_wire_t *w = arg;
    uv_loop_init(&w->loop);
    w->loop.data = w;
    uv_async_init(&w->loop, &w->stop_async, on_stop);
    w->stop_async.data = w;
    uv_timer_init(&w->loop, &w->drain_timer);
    w->drain_timer.data = w;
    w->start_rc = open_ports(w);
    if (w->start_rc != 0) {
        uv_walk(&w->loop, walk_close, NULL);
        uv_run(&w->loop, UV_RUN_DEFAULT);
        uv_loop_close(&w->loop);
        sem_post(&w->ready);
        return NULL;
    }
    sem_post(&w->ready);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    uv_loop_close(&w->loop);
    return NULL;
}

nc_wire_t *nc_wire_start(const nc_wire_cfg_t *c, char *err, size_t errlen)
{
    nc_wire_t *w = nc_xcalloc(1, sizeof *w);
    w->cfg = *c;
    w->topo = c->topo;
    w->bridge = c->topo->wire;
    w->nports = w->bridge ? 2 : 1;
    w->dirs[0].tfd = w->dirs[1].tfd = -1;
    w->policy = nc_wire_policy_new(&c->link, c->faults, c->nfaults, c->seed, err, errlen);
    if (!w->policy) {
        free(w);
        return NULL;
    }
    pthread_mutex_init(&w->policy_lock, NULL);
    atomic_store(&w->has_faults, nc_wire_policy_needs_decode(w->policy));
    w->dec = nc_decoder_new();
    for (size_t i = 0; i < c->topo->nhosts; i++)
        nc_decoder_name_host(w->dec, c->topo->hosts[i].addr, c->topo->hosts[i].name);
    for (size_t i = 0; i < c->topo->naliases; i++)
        nc_decoder_name_host(w->dec, c->topo->aliases[i].addr, c->topo->aliases[i].name);
    nc_evb_init(&w->b);
    sem_init(&w->ready, 0, 0);
    int rc = nc_netns_spawn(c->netns, wire_main, w, &w->thread);
    if (rc != 0) {
        snprintf(err, errlen, "lab: cannot start the wire's thread in its namespace.");
        w->joined = true;
        nc_wire_free(w);
        return NULL;
    }
    while (sem_wait(&w->ready) != 0 && errno == EINTR)
        ;
    if (w->start_rc != 0) {
        snprintf(err, errlen, "%s", w->start_err);
        pthread_join(w->thread, NULL);
        w->joined = true;
        nc_wire_free(w);
        return NULL;
    }
    return w;
}

void nc_wire_stop(nc_wire_t *w)
{
    if (!w || w->joined)
        return;
    uv_async_send(&w->stop_async);
    pthread_join(w->thread, NULL);
    w->joined = true;
}

void nc_wire_stats(const nc_wire_t *w, nc_lab_stats_t *out)
{
    nc_wire_t *m = (nc_wire_t *)w;
    out->captured = atomic_load(&m->captured);
    out->dropped = atomic_load(&m->lost);
    out->wire_drops = atomic_load(&m->wire_drops);
}

int nc_wire_add_fault(nc_wire_t *w, const nc_fault_t *f, char *err, size_t errlen)
{
    pthread_mutex_lock(&w->policy_lock);
    int rc = nc_wire_policy_add(w->policy, f, err, errlen);
    pthread_mutex_unlock(&w->policy_lock);
    if (rc == 0)
        atomic_store(&w->has_faults, true);
    return rc;
}

void nc_wire_cut(nc_wire_t *w, bool cut)
{
    pthread_mutex_lock(&w->policy_lock);
    nc_wire_policy_cut(w->policy, cut);
    pthread_mutex_unlock(&w->policy_lock);
}

void nc_wire_free(nc_wire_t *w)
{
    if (!w)
        return;
    nc_wire_stop(w);
    for (int i = 0; i < 2; i++) {
        direction_t *d = &w->dirs[i];
        while (d->head) {
            pending_t *p = d->head;
            d->head = p->next;
            free(p);
        }
        if (d->tfd >= 0)
            close(d->tfd);
    }
    for (size_t i = 0; i < w->nports; i++)
        nc_capture_close(w->ports[i].cap);
    nc_wire_policy_free(w->policy);
    pthread_mutex_destroy(&w->policy_lock);
    nc_decoder_free(w->dec);
    nc_evb_done(&w->b);
    sem_destroy(&w->ready);
    free(w);
}
