/*
 * wire.c: the capture/wire thread and its recorder.
 *
 * One thread, inside one namespace, runs a libuv loop. With a wire it
 * holds one capture per port (topology.c numbers them), each reading only
 * frames arriving from its host (PCAP_D_IN). Ports belong to links. For
 * every frame read the policy (wire_policy.c) decides to forward or drop
 * it, and a forwarded frame waits in the release queue of its direction
 * (the port it came in by) until its release time (its link's delay and
 * rate) and then leaves by its way out: on a two-ended link the other
 * port; on a longer one (a switch) the port that the destination MAC
 * address was last seen coming from, or every other port of the link when
 * the address is a group one or not yet known. Frames leaving by one port
 * wait in that port's outbox and go out together by one sendmmsg() on its
 * capture's socket at the end of each batch read or released. Releases
 * are driven by one timerfd per direction (uv timers tick in
 * milliseconds; a rate needs microseconds). Queues are FIFO and release
 * times never decrease, so order is kept. Without a wire ("local") the
 * thread captures lo and only records.
 *
 * The NAT box (wire_nat.c), when the lesson has one, rewrites frames on
 * the NAT port's link before the policy sees them: those leaving by the
 * NAT port get the public source, those for the public address from the
 * link's other ports get their inside destination, or are dropped as the
 * NAT's filter says. Its mappings are made on this thread, and expire on a
 * timer here; each change goes through the record ring as a record of its
 * own (iface NAT_REC), so the recorder turns it into a "state" event in
 * capture order.
 *
 * Recording is not the wire's work: the wire thread only forwards and
 * decides. Each frame it reads, with its verdict and delay, is copied into
 * the record ring (one producer, one consumer, bytes in place) and a
 * second thread, the recorder, turns the verdict into the packet's record
 * ("dropped" and a "wire" object) and hands frame and record to the
 * pipeline (src/pipeline: decode, annotate, timeline), forwarded or not.
 * The ring keeps capture order. When it is full the wire waits for the
 * recorder (every frame is recorded; nothing is sampled away), so at worst
 * forwarding slows to the recording rate.
 * The recorder is started only with a timeline and is joined after the
 * wire thread, then the capture's summary note is added last.
 *
 * The policy needs decoded frames only when there are faults: the wire
 * thread then decodes with a pipeline of its own (ppipe), which has seen
 * every frame since the first fault was added, as the recorder's has seen
 * every frame. Lesson faults are added before any traffic, so both see the
 * same frames; a fault added live mid-connection sees that connection's
 * relative numbers from its first frame after the fault.
 *
 * The wire thread owns ppipe, pb and the queues; the recorder owns pipe,
 * rb and b; other threads only read the atomic counters and ask the wire
 * to stop through a uv_async. Faults may be added while the wire runs (an
 * instructor's live "drop the next SYN-ACK"): the policy is then touched
 * under policy_lock, which only the wire thread and nc_wire_add_fault
 * take.
 */
#include "lab_impl.h"

#include "capture/capture.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/words.h"
#include "core/xmalloc.h"
#include "pipeline/pipeline.h"

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
    RING_BYTES = 32 << 20,    /* frames waiting for the recorder */
    OUTBOX_FRAMES = 64,       /* frames sent by one sendmmsg */
    OUTBOX_BYTES = 1 << 20,   /* more than the largest frame kept (snaplen) */
    MAX_PORTS = 16,
    MAC_ENTRIES = 16,         /* addresses a switch link remembers */
    NAT_REC = -1,             /* a record's iface for a NAT table change */
    NAT_TICK_MS = 100,        /* how often mappings are checked for expiry */
    SNAPLEN = 262144,
};

/* Frames due to leave in one direction, copied (the capture's ring slot is
 * the kernel's again once the callback returns) and sent together by
 * outbox_flush at the end of each batch read or released. */
typedef struct outbox {
    uint8_t *buf;
    size_t used, n;
    struct iovec iov[OUTBOX_FRAMES];
} outbox_t;

/* One frame in the record ring, followed by caplen bytes; size covers both,
 * rounded up to 8. A record of size 0 at the end of the buffer means the
 * next one starts at offset 0. */
typedef struct rec {
    uint32_t size, caplen, wirelen;
    int32_t iface;
    int64_t ts_ns;
    int64_t delay_ns;
    nc_wire_verdict_t v;
} rec_t;

/* The record ring. head and tail only grow (offsets are taken modulo
 * RING_BYTES); the wire thread writes head, the recorder tail. A side that
 * finds nothing to do sets its waiting flag under the lock and sleeps on
 * its condition; the other side signals it after moving its counter. */
typedef struct ring {
    uint8_t *buf;
    atomic_size_t head, tail;
    atomic_bool rec_waiting, wire_waiting, closed;
    pthread_mutex_t lock;
    pthread_cond_t nonempty, nonfull;
} ring_t;

typedef struct pending {
    struct pending *next;
    int64_t release_ns; /* CLOCK_MONOTONIC */
    int out;            /* the port it leaves by, or -1: every other port of its link */
    uint32_t len;
    uint8_t data[];
} pending_t;

/* Frames read on port i travel in direction i. */
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
    size_t link;  /* index of its link in the topology */
    int peer;     /* the other end of a two-ended link, or -1 (a switch) */
    outbox_t out; /* frames leaving by this port */
    bool dirty;   /* listed in the wire's dirty ports */
} port_t;

/* A switch link's memory: which port each MAC address was seen on. */
typedef struct mac_table {
    struct {
        uint8_t mac[6];
        int port;
    } e[MAC_ENTRIES];
    size_t n, next;
} mac_table_t;

struct nc_wire {
    nc_wire_cfg_t cfg;
    const nc_topology_t *topo;
    bool bridge;
    size_t nports;
    port_t ports[MAX_PORTS];
    direction_t dirs[MAX_PORTS];
    size_t link_first[NC_TOPO_LINKS], link_ports[NC_TOPO_LINKS];
    mac_table_t macs[NC_TOPO_LINKS];
    int dirty[MAX_PORTS]; /* ports whose outbox holds frames */
    size_t ndirty;

    nc_nat_t *nat;     /* wire thread only */
    int nat_port;      /* -1 without a NAT */
    uv_timer_t nat_timer;
    uint8_t *scratch;  /* a frame being rewritten */

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
    nc_pipeline_t *ppipe; /* the policy's decoding, on the wire thread */
    nc_evb_t pb;
    nc_pipeline_t *pipe; /* the recorder's: decode, annotate, timeline */
    nc_evb_t rb;         /* the recorder's verdict record */
    nc_evb_t b;          /* the recorder's NAT changes and closing note */
    ring_t ring;
    pthread_t recorder;
    bool recording, started;

    atomic_uint_fast64_t captured, lost, wire_drops, inject_errors;
};

static size_t rec_size(uint32_t caplen)
{
    return (sizeof(rec_t) + caplen + 7) & ~(size_t)7;
}

/* Wakes the recorder if it sleeps. Called once per batch of frames. */
static void ring_kick(ring_t *r)
{
    if (atomic_load(&r->rec_waiting)) {
        pthread_mutex_lock(&r->lock);
        pthread_cond_signal(&r->nonempty);
        pthread_mutex_unlock(&r->lock);
    }
}

/* Waits, on the wire thread, until need bytes are free. */
static void ring_wait_room(ring_t *r, size_t need)
{
    size_t head = atomic_load(&r->head);
    if (RING_BYTES - (head - atomic_load(&r->tail)) >= need)
        return;
    ring_kick(r);
    pthread_mutex_lock(&r->lock);
    atomic_store(&r->wire_waiting, true);
    while (RING_BYTES - (head - atomic_load(&r->tail)) < need)
        pthread_cond_wait(&r->nonfull, &r->lock);
    atomic_store(&r->wire_waiting, false);
    pthread_mutex_unlock(&r->lock);
}

/* Copies one frame and its verdict into the ring (the wire thread). */
static void ring_put(ring_t *r, const rec_t *h, const uint8_t *data)
{
    size_t size = rec_size(h->caplen);
    size_t head = atomic_load(&r->head), off = head % RING_BYTES;
    if (RING_BYTES - off < size) { /* no room before the end: wrap */
        ring_wait_room(r, (RING_BYTES - off) + size);
        ((rec_t *)(r->buf + off))->size = 0;
        head += RING_BYTES - off;
        off = 0;
    } else {
        ring_wait_room(r, size);
    }
    rec_t *dst = (rec_t *)(r->buf + off);
    *dst = *h;
    dst->size = (uint32_t)size;
    memcpy(dst + 1, data, h->caplen);
    atomic_store(&r->head, head + size);
}

/* The next record for the recorder, or NULL once the ring is closed and
 * empty. *skip is set to the bytes to release after handling it. */
static const rec_t *ring_take(ring_t *r, size_t *skip)
{
    for (;;) {
        size_t tail = atomic_load(&r->tail);
        if (tail != atomic_load(&r->head)) {
            size_t off = tail % RING_BYTES;
            const rec_t *h = (const rec_t *)(r->buf + off);
            if (RING_BYTES - off >= sizeof(rec_t) && h->size != 0) {
                *skip = h->size;
                return h;
            }
            atomic_store(&r->tail, tail + (RING_BYTES - off)); /* wrap marker */
            continue;
        }
        pthread_mutex_lock(&r->lock);
        atomic_store(&r->rec_waiting, true);
        while (atomic_load(&r->tail) == atomic_load(&r->head) && !atomic_load(&r->closed))
            pthread_cond_wait(&r->nonempty, &r->lock);
        atomic_store(&r->rec_waiting, false);
        bool done = atomic_load(&r->tail) == atomic_load(&r->head);
        pthread_mutex_unlock(&r->lock);
        if (done)
            return NULL;
    }
}

static void ring_release(ring_t *r, size_t skip)
{
    atomic_store(&r->tail, atomic_load(&r->tail) + skip);
    if (atomic_load(&r->wire_waiting)) {
        pthread_mutex_lock(&r->lock);
        pthread_cond_signal(&r->nonfull);
        pthread_mutex_unlock(&r->lock);
    }
}

static void outbox_flush(nc_wire_t *w, int port)
{
    outbox_t *o = &w->ports[port].out;
    if (!o->n)
        return;
    size_t refused = nc_capture_inject_many(w->ports[port].cap, o->iov, o->n);
    if (refused)
        atomic_fetch_add(&w->inject_errors, refused);
    o->n = o->used = 0;
}

/* Sends every outbox that holds frames: the end of a batch. */
static void outbox_flush_all(nc_wire_t *w)
{
    for (size_t i = 0; i < w->ndirty; i++) {
        outbox_flush(w, w->dirty[i]);
        w->ports[w->dirty[i]].dirty = false;
    }
    w->ndirty = 0;
}

/* Stages a frame to leave by port out; sent at the batch's end. */
static void inject_one(nc_wire_t *w, int out, const uint8_t *data, uint32_t len)
{
    outbox_t *o = &w->ports[out].out;
    if (o->n == OUTBOX_FRAMES || o->used + len > OUTBOX_BYTES)
        outbox_flush(w, out);
    if (!w->ports[out].dirty) {
        w->ports[out].dirty = true;
        w->dirty[w->ndirty++] = out;
    }
    memcpy(o->buf + o->used, data, len);
    o->iov[o->n++] = (struct iovec){.iov_base = o->buf + o->used, .iov_len = len};
    o->used += len;
}

/* Stages a frame that came in by port in to leave by out, or by every
 * other port of in's link when out is -1. */
static void inject(nc_wire_t *w, int in, int out, const uint8_t *data, uint32_t len)
{
    if (out >= 0) {
        inject_one(w, out, data, len);
        return;
    }
    size_t l = w->ports[in].link;
    for (size_t q = w->link_first[l]; q < w->link_first[l] + w->link_ports[l]; q++)
        if ((int)q != in)
            inject_one(w, (int)q, data, len);
}

/* The way out of a frame read on port pt: the other end of a cable; on a
 * switch the port its destination was seen on (learning its source's
 * port first), or -1 to flood. */
static int way_out(nc_wire_t *w, const port_t *pt, const uint8_t *data, uint32_t len)
{
    if (pt->peer >= 0)
        return pt->peer;
    if (len < 14)
        return -1;
    mac_table_t *t = &w->macs[pt->link];
    if (!(data[6] & 1)) {
        size_t i = 0;
        while (i < t->n && memcmp(t->e[i].mac, data + 6, 6) != 0)
            i++;
        if (i == t->n) {
            i = t->n < MAC_ENTRIES ? t->n++ : t->next++ % MAC_ENTRIES;
            memcpy(t->e[i].mac, data + 6, 6);
        }
        t->e[i].port = pt->idx;
    }
    if (data[0] & 1)
        return -1;
    for (size_t i = 0; i < t->n; i++)
        if (memcmp(t->e[i].mac, data, 6) == 0)
            return t->e[i].port != pt->idx ? t->e[i].port : -1;
    return -1;
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
static void forward(nc_wire_t *w, int dir, int out, const uint8_t *data, uint32_t len,
                    int64_t release, int64_t now)
{
    direction_t *d = &w->dirs[dir];
    if (!d->head && release <= now) {
        inject(w, dir, out, data, len);
        return;
    }
    pending_t *p = nc_xmalloc(sizeof *p + len);
    p->next = NULL;
    p->release_ns = release;
    p->out = out;
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
        inject(w, dir, p->out, p->data, p->len);
        free(p);
    }
    outbox_flush_all(w);
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

/* The wire's verdict on a frame as the packet's record: "dropped" and the
 * "wire" object (the pipeline leads a dropped packet's note with it). */
static void verdict_record(nc_wire_t *w, int h_iface, const nc_wire_verdict_t *v, double delay_s)
{
    nc_evb_t *b = &w->rb;
    nc_evb_reset(b, NC_EV_PACKET, 0);
    nc_evb_bool(b, "dropped", v->drop);
    if (!w->bridge)
        return; /* no wire on a loopback: nothing is ever dropped by the lesson */
    nc_evb_obj(b, "wire");
    nc_evb_str(b, "action", v->drop ? "drop" : "forward");
    nc_evb_num(b, "delay", v->drop ? 0 : delay_s);
    if (v->reason[0])
        nc_evb_str(b, "reason", v->reason);
    nc_evb_str(b, "link", w->topo->links[w->ports[h_iface].link].name);
    if (v->nat[0])
        nc_evb_str(b, "nat", v->nat);
    nc_evb_end(b);
}

/* The recorder's half of a frame: the frame and the wire's verdict go
 * down the pipeline (decode, annotate, timeline). */
static void record_frame(nc_wire_t *w, const rec_t *h)
{
    verdict_record(w, h->iface, &h->v, (double)h->delay_ns / 1e9);
    nc_frame_t f = {
        .ts_ns = h->ts_ns,
        .linktype = w->ports[h->iface].linktype,
        .data = (const uint8_t *)(h + 1),
        .caplen = h->caplen,
        .wirelen = h->wirelen,
        .iface = (uint32_t)h->iface,
    };
    nc_pipeline_push(w->pipe, &f, &(nc_pipeline_rec_t){.fields = &w->rb});
}

/* The recorder's half of a NAT table change: one "state" event from the
 * nat host, with the change, and the whole table as it now stands. */
static void record_nat(nc_wire_t *w, const rec_t *h)
{
    const nc_nat_change_t *c = (const nc_nat_change_t *)(h + 1);
    const char *table = (const char *)(c + 1);
    const char *kind = h->v.reason; /* the NAT's behaviour */
    nc_evb_t *b = &w->b;
    nc_evb_reset(b, NC_EV_STATE, h->ts_ns);
    nc_evb_host(b, w->topo->hosts[nc_topology_port(w->topo, (size_t)w->nat_port, NULL)->host].name);
    bool add = strcmp(c->what, "add") == 0;
    nc_evb_summary(b, "NAT %s: %s %s %s = %s%s%s (%zu %s)", kind, add ? "new mapping" : "expired",
                   c->proto, c->inside, c->outside, c->remote[0] ? " for " : "", c->remote,
                   c->mappings, nc_words_plural((long long)c->mappings, "mapping", "mappings"));
    nc_evb_str(b, "nat", kind);
    nc_evb_str(b, "change", c->what);
    nc_evb_str(b, "proto", c->proto);
    nc_evb_str(b, "inside", c->inside);
    nc_evb_str(b, "outside", c->outside);
    if (c->remote[0])
        nc_evb_str(b, "remote", c->remote);
    nc_evb_int(b, "mappings", (int64_t)c->mappings);
    nc_evb_list(b, "table");
    for (const char *line = table; *line;) {
        size_t n = strcspn(line, "\n");
        nc_evb_strn(b, NULL, line, n);
        line += n + (line[n] == '\n');
    }
    nc_evb_end(b);
    if (add)
        nc_evb_note(b, "The NAT (%s) gave %s the public %s%s%s: from now on the outside sees "
                       "that address and port, never the inside one.",
                    kind, c->inside, c->outside,
                    c->remote[0] ? ", for packets to " : "", c->remote);
    else
        nc_evb_note(b, "No packet left through %s for the NAT's timeout, so the NAT forgot it: "
                       "an answer sent to it now is dropped.",
                    c->outside);
    nc_pipeline_add(w->pipe, b);
}

static void *recorder_main(void *arg)
{
    nc_wire_t *w = arg;
    pthread_setname_np(pthread_self(), "nc-recorder");
    const rec_t *h;
    size_t skip;
    while ((h = ring_take(&w->ring, &skip)) != NULL) {
        if (h->iface == NAT_REC)
            record_nat(w, h);
        else
            record_frame(w, h);
        ring_release(&w->ring, skip);
    }
    return NULL;
}

/* Puts a NAT table change in the ring, ahead of the frame that made it. */
static void nat_record(nc_wire_t *w, int64_t ts_ns, const nc_nat_change_t *c)
{
    if (!w->recording)
        return;
    char table[8192];
    size_t tlen = nc_nat_table(w->nat, table, sizeof table);
    size_t n = sizeof *c + tlen + 1;
    uint8_t *buf = w->scratch + SNAPLEN; /* the scratch's second half */
    memcpy(buf, c, sizeof *c);
    memcpy(buf + sizeof *c, table, tlen + 1);
    rec_t h = {.caplen = (uint32_t)n, .wirelen = (uint32_t)n, .iface = NAT_REC, .ts_ns = ts_ns};
    snprintf(h.v.reason, sizeof h.v.reason, "%s", nc_nat_kind_name(w->nat));
    ring_put(&w->ring, &h, buf);
}

static void on_nat_tick(uv_timer_t *t)
{
    nc_wire_t *w = t->data;
    nc_nat_change_t c[16];
    size_t n;
    do {
        n = nc_nat_expire(w->nat, nc_clock_mono_ns(), c, 16);
        for (size_t i = 0; i < n; i++)
            nat_record(w, nc_clock_real_ns(), &c[i]);
    } while (n == 16);
    if (w->recording)
        ring_kick(&w->ring);
}

/* The NAT's part of a frame on its link: data is copied to the scratch
 * and rewritten there, or the verdict says drop. Returns the bytes to
 * forward and record. */
static const uint8_t *nat_frame(nc_wire_t *w, const port_t *pt, int64_t ts_ns,
                                const uint8_t *data, uint32_t caplen, nc_wire_verdict_t *v)
{
    memcpy(w->scratch, data, caplen);
    nc_nat_change_t c;
    nc_nat_result_t r;
    int64_t now = nc_clock_mono_ns();
    if (pt->idx == w->nat_port) {
        r = nc_nat_outbound(w->nat, w->scratch, caplen, now, v->reason, sizeof v->reason, &c);
        if (r == NC_NAT_NEW_MAPPING)
            nat_record(w, ts_ns, &c);
    } else {
        r = nc_nat_inbound(w->nat, w->scratch, caplen, now, v->reason, sizeof v->reason);
    }
    /* The reason is the NAT's line; it stays a reason only for a drop. */
    if (r == NC_NAT_DROP) {
        v->drop = true;
    } else {
        if (r != NC_NAT_PASS)
            snprintf(v->nat, sizeof v->nat, "%.*s", (int)sizeof v->nat - 1, v->reason);
        v->reason[0] = '\0';
    }
    return r == NC_NAT_PASS ? data : w->scratch;
}

static void on_frame(void *arg, int64_t ts_ns, const uint8_t *data, uint32_t caplen,
                     uint32_t wirelen)
{
    port_t *pt = arg;
    nc_wire_t *w = pt->w;
    int dir = pt->idx;
    atomic_fetch_add(&w->captured, 1);
    rec_t h = {.caplen = caplen, .wirelen = wirelen, .iface = dir, .ts_ns = ts_ns};
    if (!w->bridge) {
        if (w->recording)
            ring_put(&w->ring, &h, data);
        return;
    }
    nc_wire_verdict_t *v = &h.v;
    /* A frame the NAT rewrites is recorded as the outside link carries
     * it: leaving the NAT port, rewritten; arriving for it, as it was. */
    nc_wire_verdict_t natv;
    const uint8_t *seen = data;
    bool nat = w->nat && pt->link == w->ports[w->nat_port].link && caplen == wirelen;
    if (nat) {
        natv.drop = false;
        natv.reason[0] = natv.nat[0] = '\0';
        data = nat_frame(w, pt, ts_ns, data, caplen, &natv);
        if (pt->idx == w->nat_port)
            seen = data;
    }
    bool decode = atomic_load(&w->has_faults);
    if (decode) {
        nc_frame_t f = {ts_ns, pt->linktype, seen, caplen, wirelen, (uint32_t)pt->idx};
        nc_pipeline_build(w->ppipe, &f, &(nc_pipeline_rec_t){.bare = true}, &w->pb);
        nc_evb_obj(&w->pb, "wire");
        nc_evb_str(&w->pb, "link", w->topo->links[pt->link].name);
        nc_evb_end(&w->pb);
    }
    pthread_mutex_lock(&w->policy_lock);
    nc_wire_policy_decide(w->policy, dir, decode ? nc_evb_view(&w->pb) : NULL, v);
    pthread_mutex_unlock(&w->policy_lock);
    if (nat) {
        memcpy(v->nat, natv.nat, sizeof v->nat);
        if (natv.drop && !v->drop) {
            v->drop = true;
            memcpy(v->reason, natv.reason, sizeof v->reason);
        }
    }
    int64_t now = nc_clock_mono_ns();
    int64_t release = now;
    if (!v->drop && caplen < wirelen) {
        v->drop = true;
        snprintf(v->reason, sizeof v->reason, "frame of %u bytes is bigger than the capture keeps",
                 wirelen);
    }
    if (!v->drop && w->dirs[dir].frames >= QUEUE_MAX_FRAMES) {
        v->drop = true;
        snprintf(v->reason, sizeof v->reason, "the link's queue is full (%d frames)",
                 QUEUE_MAX_FRAMES);
    }
    if (!v->drop) {
        pthread_mutex_lock(&w->policy_lock);
        release = nc_wire_policy_release(w->policy, dir, now, wirelen);
        pthread_mutex_unlock(&w->policy_lock);
        forward(w, dir, way_out(w, pt, data, caplen), data, caplen, release, now);
    } else {
        atomic_fetch_add(&w->wire_drops, 1);
    }
    if (w->recording) {
        h.delay_ns = v->drop ? 0 : release - now;
        ring_put(&w->ring, &h, seen);
    }
}

static void read_port(port_t *pt, int max)
{
    nc_capture_dispatch(pt->cap, max, on_frame, pt);
    if (pt->w->bridge)
        outbox_flush_all(pt->w);
    if (pt->w->recording)
        ring_kick(&pt->w->ring);
}

static void on_readable(uv_poll_t *h, int status, int events)
{
    read_port(h->data, DISPATCH_BATCH);
}

static bool queues_empty(const nc_wire_t *w)
{
    for (size_t i = 0; w->bridge && i < w->nports; i++)
        if (w->dirs[i].head)
            return false;
    return true;
}

static void close_handle(uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

/* The capture's closing note: what was captured, lost and dropped. Added
 * after the recorder has put every frame on the timeline. */
static void summarize(nc_wire_t *w)
{
    nc_evb_t *b = &w->b;
    uint64_t captured = atomic_load(&w->captured), drops = atomic_load(&w->wire_drops);
    uint64_t lost = atomic_load(&w->lost);
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
    nc_pipeline_add(w->pipe, b);
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
    for (size_t i = 0; i < w->nports; i++)
        close_handle((uv_handle_t *)&w->ports[i].poll);
    for (size_t i = 0; i < (w->bridge ? w->nports : 0u); i++)
        close_handle((uv_handle_t *)&w->dirs[i].tpoll);
    if (w->nat)
        close_handle((uv_handle_t *)&w->nat_timer);
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
    pthread_mutex_lock(&w->policy_lock);
    int64_t delay = nc_wire_policy_max_delay(w->policy);
    pthread_mutex_unlock(&w->policy_lock);
    w->drain_deadline = nc_clock_mono_ns() + delay + 200 * 1000000ll;
    if (queues_empty(w))
        finish(w);
    else
        uv_timer_start(&w->drain_timer, on_drain_tick, 2, 2);
}

static int open_ports(nc_wire_t *w)
{
    for (size_t i = 0; i < w->nports; i++) {
        nc_capture_opts_t o = {
            .snaplen = SNAPLEN,
            .buffer_bytes = w->bridge ? PORT_BUFFER : LO_BUFFER,
            .in_only = w->bridge,
        };
        port_t *pt = &w->ports[i];
        pt->cap = nc_capture_open(w->bridge ? nc_topology_port(w->topo, i, NULL)->port : "lo", &o,
                                  w->start_err, sizeof w->start_err);
        if (!pt->cap)
            return NC_EIO;
        pt->linktype = nc_capture_linktype(pt->cap);
        uv_poll_init(&w->loop, &pt->poll, nc_capture_fd(pt->cap));
        pt->poll.data = pt;
        uv_poll_start(&pt->poll, UV_READABLE, on_readable);
    }
    for (size_t i = 0; i < (w->bridge ? w->nports : 0u); i++) {
        direction_t *d = &w->dirs[i];
        w->ports[i].out.buf = nc_xmalloc(OUTBOX_BYTES);
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
    pthread_setname_np(pthread_self(), "nc-wire");
    uv_loop_init(&w->loop);
    w->loop.data = w;
    uv_async_init(&w->loop, &w->stop_async, on_stop);
    w->stop_async.data = w;
    uv_timer_init(&w->loop, &w->drain_timer);
    w->drain_timer.data = w;
    if (w->nat) {
        uv_timer_init(&w->loop, &w->nat_timer);
        w->nat_timer.data = w;
        uv_timer_start(&w->nat_timer, on_nat_tick, NAT_TICK_MS, NAT_TICK_MS);
    }
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

/* A pipeline that knows the lab's hosts by name, adding to tl (or NULL:
 * the policy's, which only decodes). */
static nc_pipeline_t *new_pipeline(const nc_wire_cfg_t *c, nc_timeline_t *tl)
{
    const nc_topology_t *topo = c->topo;
    nc_pipeline_t *p = nc_pipeline_new(c->dec, c->dec_ctx, tl);
    for (size_t i = 0; i < topo->nhosts; i++)
        nc_pipeline_name_host(p, topo->hosts[i].addr, topo->hosts[i].name);
    for (size_t l = 0; l < topo->nlinks; l++)
        for (size_t e = 0; e < topo->links[l].nends; e++)
            nc_pipeline_name_host(p, topo->links[l].ends[e].addr,
                                  topo->hosts[topo->links[l].ends[e].host].name);
    for (size_t i = 0; i < topo->naliases; i++)
        nc_pipeline_name_host(p, topo->aliases[i].addr, topo->aliases[i].name);
    return p;
}

/* Closes the ring and waits for the recorder to put what is left on the
 * timeline. */
static void stop_recorder(nc_wire_t *w)
{
    if (!w->recording)
        return;
    pthread_mutex_lock(&w->ring.lock);
    atomic_store(&w->ring.closed, true);
    pthread_cond_signal(&w->ring.nonempty);
    pthread_mutex_unlock(&w->ring.lock);
    pthread_join(w->recorder, NULL);
    w->recording = false;
}

nc_wire_t *nc_wire_start(const nc_wire_cfg_t *c, char *err, size_t errlen)
{
    nc_wire_t *w = nc_xcalloc(1, sizeof *w);
    w->cfg = *c;
    w->topo = c->topo;
    w->bridge = c->topo->wire;
    w->nports = nc_topology_nports(c->topo);
    w->nat_port = -1;
    if (w->nports > MAX_PORTS) {
        snprintf(err, errlen, "lab: the %s topology has more ports than the wire can hold.",
                 c->topo->name);
        free(w);
        return NULL;
    }
    for (size_t i = 0; i < MAX_PORTS; i++)
        w->dirs[i].tfd = -1;
    w->policy = nc_wire_policy_new(&c->link, c->faults, c->nfaults, c->seed, err, errlen);
    if (!w->policy) {
        free(w);
        return NULL;
    }
    size_t port_link[MAX_PORTS] = {0};
    for (size_t i = 0; i < w->nports; i++) {
        port_t *pt = &w->ports[i];
        pt->w = w;
        pt->idx = (int)i;
        pt->peer = -1;
        if (w->bridge)
            nc_topology_port(c->topo, i, &pt->link);
        port_link[i] = pt->link;
    }
    for (size_t l = 0, first = 0; l < c->topo->nlinks; l++) {
        w->link_first[l] = first;
        w->link_ports[l] = c->topo->links[l].nends;
        if (w->link_ports[l] == 2) {
            w->ports[first].peer = (int)first + 1;
            w->ports[first + 1].peer = (int)first;
        }
        first += c->topo->links[l].nends;
    }
    if (w->bridge) {
        nc_wire_policy_ports(w->policy, &c->link, c->topo->nlinks, port_link, w->nports);
        for (size_t i = 0; i < c->nlinks_on; i++) {
            int l = nc_topology_link_find(c->topo, c->links_on[i].name);
            if (l < 0) {
                snprintf(err, errlen, "lab: the %s topology has no link \"%s\".", c->topo->name,
                         c->links_on[i].name);
                nc_wire_policy_free(w->policy);
                free(w);
                return NULL;
            }
            nc_wire_policy_link(w->policy, (size_t)l, &c->links_on[i].link);
        }
    }
    if (c->nat && c->topo->nat_port < 0) {
        snprintf(err, errlen, "lab: the %s topology has no NAT box (nat: needs topology: nat).",
                 c->topo->name);
        nc_wire_policy_free(w->policy);
        free(w);
        return NULL;
    }
    if (c->topo->nat_port >= 0) {
        /* A NAT topology always has its NAT; the most common kind unless
         * the lesson names one. */
        const char *kind = c->nat ? c->nat : "port-restricted";
        const nc_topo_end_t *e = nc_topology_port(c->topo, (size_t)c->topo->nat_port, NULL);
        w->nat = nc_nat_new(kind, e->addr, c->topo->nat_inside, c->nat_timeout_ns);
        if (!w->nat) {
            snprintf(err, errlen, "lab: unknown NAT behaviour \"%s\"; expected one of %s.", kind,
                     nc_nat_names());
            nc_wire_policy_free(w->policy);
            free(w);
            return NULL;
        }
        w->nat_port = c->topo->nat_port;
    }
    w->scratch = nc_xmalloc(2 * SNAPLEN);
    pthread_mutex_init(&w->policy_lock, NULL);
    atomic_store(&w->has_faults, nc_wire_policy_needs_decode(w->policy));
    w->ppipe = new_pipeline(c, NULL);
    w->pipe = new_pipeline(c, c->tl);
    nc_evb_init(&w->pb);
    nc_evb_init(&w->rb);
    nc_evb_init(&w->b);
    sem_init(&w->ready, 0, 0);
    ring_t *r = &w->ring;
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->nonempty, NULL);
    pthread_cond_init(&r->nonfull, NULL);
    if (c->tl) {
        r->buf = nc_xmalloc(RING_BYTES);
        if (pthread_create(&w->recorder, NULL, recorder_main, w) != 0) {
            snprintf(err, errlen, "lab: cannot start the wire's recorder thread.");
            w->joined = true;
            nc_wire_free(w);
            return NULL;
        }
        w->recording = true;
    }
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
    w->started = true;
    return w;
}

void nc_wire_stop(nc_wire_t *w)
{
    if (!w)
        return;
    if (!w->joined) {
        uv_async_send(&w->stop_async);
        pthread_join(w->thread, NULL);
        w->joined = true;
    }
    bool recorded = w->recording;
    stop_recorder(w);
    if (recorded && w->started)
        summarize(w);
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

void nc_wire_cut(nc_wire_t *w, int link, bool cut)
{
    pthread_mutex_lock(&w->policy_lock);
    nc_wire_policy_cut(w->policy, link, cut);
    pthread_mutex_unlock(&w->policy_lock);
}

void nc_wire_free(nc_wire_t *w)
{
    if (!w)
        return;
    nc_wire_stop(w);
    for (size_t i = 0; i < MAX_PORTS; i++) {
        direction_t *d = &w->dirs[i];
        while (d->head) {
            pending_t *p = d->head;
            d->head = p->next;
            free(p);
        }
        if (d->tfd >= 0)
            close(d->tfd);
        free(w->ports[i].out.buf);
    }
    nc_nat_free(w->nat);
    free(w->scratch);
    for (size_t i = 0; i < w->nports; i++)
        nc_capture_close(w->ports[i].cap);
    nc_wire_policy_free(w->policy);
    pthread_mutex_destroy(&w->policy_lock);
    nc_pipeline_free(w->ppipe);
    nc_pipeline_free(w->pipe);
    nc_evb_done(&w->pb);
    nc_evb_done(&w->rb);
    nc_evb_done(&w->b);
    free(w->ring.buf);
    pthread_mutex_destroy(&w->ring.lock);
    pthread_cond_destroy(&w->ring.nonempty);
    pthread_cond_destroy(&w->ring.nonfull);
    sem_destroy(&w->ready);
    free(w);
}
