/*
 * timeline.c: the append-only, time-ordered event log.
 *
 * Storage: each published event is one 16-byte row, in fixed-size chunks
 * whose addresses never change (the chunk table is allocated once, large
 * enough for 2^26 events): its time, and either the address of the event
 * itself or, for a lazy row, the NC_TL_LAZY bit and a reference its source
 * understands. A whole event (nc_event_t, fields, strings, bytes) lives in
 * one arena; keys are interned there, so a packet's "sport" is one shared
 * string however many packets there are.
 *
 * Lazy rows are how a replay holds a million packets in a few bytes each:
 * the source (nc_timeline_set_source) decodes a row's packet again when a
 * reader asks for it, and the copy waits in a direct-mapped cache of
 * NC_TL_CACHE slots (event i in slot i % NC_TL_CACHE), so a screenful of
 * rows, and the pointers to them, stay put while the screen is drawn.
 *
 * Adding: producers copy their built event in under the lock; it waits in
 * `pending`, kept sorted by time, until it is older than the reorder window.
 * Publishing takes due events in time order, writes them to the next slots
 * and only then advances `count` with a release store, so a reader that
 * loads `count` with acquire sees complete events.
 *
 * With a publish hook (a live run's lesson logic), due events are not
 * published by the thread that found them due: they move, in order, to
 * `staged`, and the timeline's own consumer thread ("nc-lesson") takes
 * them, runs the hook on each without the timeline's lock, and publishes
 * it with what the hook put before and after it, taking the lock only to
 * write. So no producer (the wire's recorder, a scenario, the probe) ever
 * waits for a lesson's notes, steps and checkpoints. `nstaged` counts every
 * event staged and `npublished` every one the consumer finished, so a
 * flush waits for exactly what was due when it was called.
 */
#include "timeline.h"

#include "clock.h"
#include "xmalloc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NC_TL_CHUNK_BITS 12
#define NC_TL_CHUNK (1u << NC_TL_CHUNK_BITS)
#define NC_TL_MAX_CHUNKS (1u << 14)
#define NC_TL_KEYS_MIN 256
#define NC_TL_LAZY (1ULL << 63)
#define NC_TL_CACHE 4096
#define NC_TL_BEHIND 64 /* rows decoded before a missed one: see nc_timeline_decode */

typedef struct nc_tl_row {
    int64_t t;    /* ns since t0 */
    uint64_t ref; /* NC_TL_LAZY | the source's reference, or the event's address */
} nc_tl_row_t;

/* One decoded lazy row; `arena` holds its fields, strings and bytes. */
typedef struct nc_tl_slot {
    size_t i; /* the event it holds, when used */
    bool used;
    nc_event_t ev;
    nc_arena_t arena;
} nc_tl_slot_t;

struct nc_timeline {
    pthread_mutex_t lock;
    nc_arena_t arena;
    int64_t t0;
    int64_t window;
    int64_t last_due; /* absolute time of the last event published from pending */
    nc_tl_row_t **chunks;
    _Atomic size_t count;
    nc_event_t *pending;
    size_t npending, cap_pending;
    nc_event_t *follow;
    size_t nfollow, cap_follow;
    const char **keys; /* interned keys, open addressing */
    size_t nkeys, cap_keys;
    nc_timeline_hook_fn hook;
    void *hook_arg;
    void (*notify)(void *);
    void *notify_arg;
    size_t overflow; /* events refused because the table is full */
    /* With a hook: events due, waiting for the consumer, in order. */
    nc_event_t *staged;
    size_t nstage, cap_stage;
    uint64_t nstaged, npublished;
    pthread_t consumer;
    bool consumer_on, stopping;
    pthread_cond_t work, done; /* with lock: staged grew; npublished grew */
    /* Lazy rows: the source, and the cache of rows decoded again. */
    nc_timeline_source_fn source;
    void *source_arg;
    pthread_mutex_t cache_lock;
    nc_tl_slot_t *cache; /* NC_TL_CACHE slots, allocated with the first lazy row */
    nc_evb_t *scratch;   /* what the source decodes into */
};

nc_timeline_t *nc_timeline_new(int64_t t0_ns)
{
    nc_timeline_t *tl = nc_xcalloc(1, sizeof(*tl));
    pthread_mutex_init(&tl->lock, NULL);
    nc_arena_init(&tl->arena, 256 * 1024);
    tl->t0 = t0_ns;
    tl->window = 30 * 1000000LL;
    pthread_mutex_init(&tl->cache_lock, NULL);
    pthread_cond_init(&tl->work, NULL);
    pthread_cond_init(&tl->done, NULL);
    tl->chunks = nc_xcalloc(NC_TL_MAX_CHUNKS, sizeof(*tl->chunks));
    tl->cap_keys = NC_TL_KEYS_MIN;
    tl->keys = nc_xcalloc(tl->cap_keys, sizeof(*tl->keys));
    return tl;
}

void nc_timeline_free(nc_timeline_t *tl)
{
    if (tl == NULL)
        return;
    if (tl->consumer_on) {
        pthread_mutex_lock(&tl->lock);
        tl->stopping = true;
        pthread_cond_signal(&tl->work);
        pthread_mutex_unlock(&tl->lock);
        pthread_join(tl->consumer, NULL);
    }
    free(tl->staged);
    pthread_cond_destroy(&tl->work);
    pthread_cond_destroy(&tl->done);
    for (size_t c = 0; c < NC_TL_MAX_CHUNKS && tl->chunks[c]; c++)
        free(tl->chunks[c]);
    free(tl->chunks);
    free(tl->pending);
    free(tl->follow);
    free(tl->keys);
    for (size_t k = 0; tl->cache && k < NC_TL_CACHE; k++)
        nc_arena_done(&tl->cache[k].arena);
    free(tl->cache);
    if (tl->scratch) {
        nc_evb_done(tl->scratch);
        free(tl->scratch);
    }
    nc_arena_done(&tl->arena);
    pthread_mutex_destroy(&tl->cache_lock);
    pthread_mutex_destroy(&tl->lock);
    free(tl);
}

int64_t nc_timeline_t0(const nc_timeline_t *tl)
{
    return tl->t0;
}

void nc_timeline_set_window(nc_timeline_t *tl, int64_t window_ns)
{
    pthread_mutex_lock(&tl->lock);
    tl->window = window_ns < 0 ? 0 : window_ns;
    pthread_mutex_unlock(&tl->lock);
}

void nc_timeline_set_notify(nc_timeline_t *tl, void (*fn)(void *), void *arg)
{
    tl->notify = fn;
    tl->notify_arg = arg;
}

static void *nc_timeline_consume(void *arg);
static size_t nc_timeline_publish_due(nc_timeline_t *tl, int64_t now, bool all);

static void nc_timeline_wait_staged(nc_timeline_t *tl);

void nc_timeline_set_hook(nc_timeline_t *tl, nc_timeline_hook_fn fn, void *arg)
{
    if (fn == NULL && tl->consumer_on) {
        /* What is due goes through the old hook first; then the consumer
         * stops, and the timeline publishes on the producers' threads. */
        pthread_mutex_lock(&tl->lock);
        nc_timeline_publish_due(tl, 0, true);
        nc_timeline_wait_staged(tl);
        tl->stopping = true;
        pthread_cond_signal(&tl->work);
        pthread_mutex_unlock(&tl->lock);
        pthread_join(tl->consumer, NULL);
        tl->consumer_on = false;
        tl->stopping = false;
    }
    tl->hook = fn;
    tl->hook_arg = arg;
    if (fn && !tl->consumer_on && pthread_create(&tl->consumer, NULL, nc_timeline_consume, tl) == 0)
        tl->consumer_on = true;
}

static uint64_t nc_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
    return h;
}

/* Returns the interned copy of key (lock held). */
static const char *nc_timeline_key(nc_timeline_t *tl, const char *key)
{
    if (key == NULL)
        return NULL;
    if (tl->nkeys * 2 >= tl->cap_keys) {
        size_t cap = tl->cap_keys * 2;
        const char **keys = nc_xcalloc(cap, sizeof(*keys));
        for (size_t k = 0; k < tl->cap_keys; k++) {
            if (tl->keys[k] == NULL)
                continue;
            size_t h = nc_hash(tl->keys[k]) & (cap - 1);
            while (keys[h])
                h = (h + 1) & (cap - 1);
            keys[h] = tl->keys[k];
        }
        free(tl->keys);
        tl->keys = keys;
        tl->cap_keys = cap;
    }
    size_t h = nc_hash(key) & (tl->cap_keys - 1);
    while (tl->keys[h]) {
        if (strcmp(tl->keys[h], key) == 0)
            return tl->keys[h];
        h = (h + 1) & (tl->cap_keys - 1);
    }
    tl->keys[h] = nc_arena_strdup(&tl->arena, key);
    tl->nkeys++;
    return tl->keys[h];
}

/* Deep-copies the builder's event into arena a; keys are interned in the
 * timeline when intern is set (lock held), copied otherwise. */
static nc_event_t nc_timeline_copy_to(nc_timeline_t *tl, nc_arena_t *a, nc_evb_t *b, bool intern)
{
    const nc_event_t *src = nc_evb_view(b);
    nc_event_t ev = *src;
    /* Close anything the producer left open so the stream is well formed. */
    uint32_t n = b->nfields + (uint32_t)(b->depth > 0 ? b->depth : 0);
    nc_field_t *f = nc_arena_alloc(a, (n ? n : 1) * sizeof(*f));
    for (uint32_t k = 0; k < b->nfields; k++) {
        f[k] = src->fields[k];
        const char *key = src->fields[k].key;
        f[k].key = intern ? nc_timeline_key(tl, key) : key ? nc_arena_strdup(a, key) : NULL;
        if (f[k].kind == NC_F_STR)
            f[k].v.s = nc_arena_strdup(a, src->fields[k].v.s);
    }
    for (uint32_t k = b->nfields; k < n; k++) {
        f[k].key = NULL;
        f[k].kind = NC_F_END;
        f[k].v.i = 0;
    }
    ev.fields = f;
    ev.nfields = n;
    const char *host = src->host ? src->host : "";
    ev.host = intern ? nc_timeline_key(tl, host) : nc_arena_strdup(a, host);
    ev.summary = nc_arena_strdup(a, src->summary ? src->summary : "");
    ev.note = src->note && src->note[0] ? nc_arena_strdup(a, src->note) : NULL;
    if (src->data && src->caplen)
        ev.data = nc_arena_memdup(a, src->data, src->caplen);
    else
        ev.data = NULL;
    return ev;
}

static nc_event_t nc_timeline_copy(nc_timeline_t *tl, nc_evb_t *b)
{
    return nc_timeline_copy_to(tl, &tl->arena, b, true);
}

/* Appends a row and makes it visible (lock held); false when full. */
static bool nc_timeline_push(nc_timeline_t *tl, int64_t t, uint64_t ref)
{
    size_t i = atomic_load_explicit(&tl->count, memory_order_relaxed);
    size_t c = i >> NC_TL_CHUNK_BITS;
    if (c >= NC_TL_MAX_CHUNKS) {
        tl->overflow++;
        return false;
    }
    if (tl->chunks[c] == NULL)
        tl->chunks[c] = nc_xmalloc(NC_TL_CHUNK * sizeof(nc_tl_row_t));
    tl->chunks[c][i & (NC_TL_CHUNK - 1)] = (nc_tl_row_t){t, ref};
    atomic_store_explicit(&tl->count, i + 1, memory_order_release);
    return true;
}

/* Writes ev to the next slot and makes it visible (lock held). */
static void nc_timeline_publish_one(nc_timeline_t *tl, nc_event_t *ev)
{
    size_t i = atomic_load_explicit(&tl->count, memory_order_relaxed);
    if ((i >> NC_TL_CHUNK_BITS) >= NC_TL_MAX_CHUNKS) {
        tl->overflow++;
        return;
    }
    ev->i = i;
    nc_event_t *kept = nc_arena_alloc(&tl->arena, sizeof(*kept));
    *kept = *ev;
    nc_timeline_push(tl, ev->t_ns, (uint64_t)(uintptr_t)kept);
}

/* The event the hook is looking at, so precede() can renumber it. */
static _Thread_local nc_event_t *nc_hook_current;

/* The hook runs on the consumer without the lock: what it calls takes the
 * lock for the arena, the keys and the rows it touches. */
void nc_timeline_precede(nc_timeline_t *tl, nc_evb_t *b)
{
    pthread_mutex_lock(&tl->lock);
    nc_event_t ev = nc_timeline_copy(tl, b);
    int64_t t = nc_hook_current ? nc_hook_current->t_ns : ev.t_ns - tl->t0;
    ev.t_ns = t;
    nc_timeline_publish_one(tl, &ev);
    if (nc_hook_current)
        nc_hook_current->i = atomic_load_explicit(&tl->count, memory_order_relaxed);
    pthread_mutex_unlock(&tl->lock);
}

void nc_timeline_follow(nc_timeline_t *tl, nc_evb_t *b)
{
    pthread_mutex_lock(&tl->lock);
    nc_event_t ev = nc_timeline_copy(tl, b);
    if (nc_hook_current)
        ev.t_ns = nc_hook_current->t_ns;
    if (tl->nfollow == tl->cap_follow) {
        tl->cap_follow = tl->cap_follow ? tl->cap_follow * 2 : 8;
        tl->follow = nc_xrealloc(tl->follow, tl->cap_follow * sizeof(*tl->follow));
    }
    tl->follow[tl->nfollow++] = ev;
    pthread_mutex_unlock(&tl->lock);
}

void nc_timeline_add_int(nc_timeline_t *tl, nc_event_t *ev, const char *key, int64_t v)
{
    pthread_mutex_lock(&tl->lock);
    nc_field_t *f = nc_arena_alloc(&tl->arena, (ev->nfields + 1) * sizeof(*f));
    if (ev->nfields)
        memcpy(f, ev->fields, ev->nfields * sizeof(*f));
    f[ev->nfields] = (nc_field_t){.key = nc_timeline_key(tl, key), .kind = NC_F_INT, .v.i = v};
    ev->fields = f;
    ev->nfields++;
    pthread_mutex_unlock(&tl->lock);
}

char *nc_timeline_strdup(nc_timeline_t *tl, const char *s)
{
    pthread_mutex_lock(&tl->lock);
    char *copy = nc_arena_strdup(&tl->arena, s);
    pthread_mutex_unlock(&tl->lock);
    return copy;
}

/* Publishes pending events due at `now` (lock held), or with a hook hands
 * them to the consumer; returns how many were published here. */
static size_t nc_timeline_publish_due(nc_timeline_t *tl, int64_t now, bool all)
{
    size_t done = 0;
    while (done < tl->npending) {
        nc_event_t ev = tl->pending[done];
        if (!all && ev.t_ns > now - tl->window)
            break;
        done++;
        tl->last_due = ev.t_ns;
        ev.t_ns -= tl->t0;
        if (tl->consumer_on) {
            if (tl->nstage == tl->cap_stage) {
                tl->cap_stage = tl->cap_stage ? tl->cap_stage * 2 : 64;
                tl->staged = nc_xrealloc(tl->staged, tl->cap_stage * sizeof(*tl->staged));
            }
            tl->staged[tl->nstage++] = ev;
            tl->nstaged++;
            continue;
        }
        nc_timeline_publish_one(tl, &ev);
    }
    if (done) {
        memmove(tl->pending, tl->pending + done, (tl->npending - done) * sizeof(*tl->pending));
        tl->npending -= done;
    }
    if (tl->consumer_on) {
        if (done)
            pthread_cond_signal(&tl->work);
        return 0;
    }
    return done;
}

/* The consumer: runs the hook on each staged event, in order, without the
 * lock, then publishes it and its followers. */
static void *nc_timeline_consume(void *arg)
{
    nc_timeline_t *tl = arg;
    pthread_setname_np(pthread_self(), "nc-lesson");
    nc_event_t *batch = NULL;
    size_t cap = 0;
    pthread_mutex_lock(&tl->lock);
    for (;;) {
        while (tl->nstage == 0 && !tl->stopping)
            pthread_cond_wait(&tl->work, &tl->lock);
        if (tl->stopping)
            break;
        size_t n = tl->nstage;
        if (n > cap) {
            cap = n;
            batch = nc_xrealloc(batch, cap * sizeof(*batch));
        }
        memcpy(batch, tl->staged, n * sizeof(*batch));
        tl->nstage = 0;
        pthread_mutex_unlock(&tl->lock);
        for (size_t k = 0; k < n; k++) {
            nc_event_t *ev = &batch[k];
            ev->i = nc_timeline_count(tl);
            nc_hook_current = ev;
            tl->hook(tl, ev, tl->hook_arg);
            nc_hook_current = NULL;
            pthread_mutex_lock(&tl->lock);
            nc_timeline_publish_one(tl, ev);
            /* Followers may themselves be looked at by the hook (a step
             * that ends on a mark); they are published as they are. */
            for (size_t j = 0; j < tl->nfollow; j++)
                nc_timeline_publish_one(tl, &tl->follow[j]);
            tl->nfollow = 0;
            pthread_mutex_unlock(&tl->lock);
        }
        if (tl->notify)
            tl->notify(tl->notify_arg);
        pthread_mutex_lock(&tl->lock);
        tl->npublished += n;
        pthread_cond_broadcast(&tl->done);
    }
    pthread_mutex_unlock(&tl->lock);
    free(batch);
    return NULL;
}

/* Waits (lock held) until the consumer has published every event staged
 * so far. */
static void nc_timeline_wait_staged(nc_timeline_t *tl)
{
    uint64_t want = tl->nstaged;
    while (tl->consumer_on && tl->npublished < want && !tl->stopping)
        pthread_cond_wait(&tl->done, &tl->lock);
}

void nc_timeline_add(nc_timeline_t *tl, nc_evb_t *b)
{
    pthread_mutex_lock(&tl->lock);
    nc_event_t ev = nc_timeline_copy(tl, b);
    if (tl->t0 == 0)
        tl->t0 = ev.t_ns;
    /* An event reported later than the reorder window (a thread that was
     * descheduled between making a call and reporting it) would land before
     * events already published: times in a live timeline never go
     * backwards, so it takes the time of the last one published. A replay
     * (window 0) keeps a file's own times, whatever order they are in. */
    if (tl->window > 0 && tl->last_due && ev.t_ns < tl->last_due)
        ev.t_ns = tl->last_due;
    if (tl->npending == tl->cap_pending) {
        tl->cap_pending = tl->cap_pending ? tl->cap_pending * 2 : 64;
        tl->pending = nc_xrealloc(tl->pending, tl->cap_pending * sizeof(*tl->pending));
    }
    /* Insert in time order; equal times keep arrival order. */
    size_t k = tl->npending;
    while (k > 0 && tl->pending[k - 1].t_ns > ev.t_ns) {
        tl->pending[k] = tl->pending[k - 1];
        k--;
    }
    tl->pending[k] = ev;
    tl->npending++;
    size_t done = tl->window == 0 ? nc_timeline_publish_due(tl, 0, true)
                                  : nc_timeline_publish_due(tl, nc_clock_real_ns(), false);
    pthread_mutex_unlock(&tl->lock);
    if (done && tl->notify)
        tl->notify(tl->notify_arg);
}

void nc_timeline_flush(nc_timeline_t *tl, bool all)
{
    pthread_mutex_lock(&tl->lock);
    size_t done = nc_timeline_publish_due(tl, nc_clock_real_ns(), all);
    nc_timeline_wait_staged(tl);
    pthread_mutex_unlock(&tl->lock);
    if (done && tl->notify)
        tl->notify(tl->notify_arg);
}

size_t nc_timeline_count(const nc_timeline_t *tl)
{
    return atomic_load_explicit(&((nc_timeline_t *)tl)->count, memory_order_acquire);
}

static const nc_tl_row_t *nc_timeline_row(const nc_timeline_t *tl, size_t i)
{
    return &tl->chunks[i >> NC_TL_CHUNK_BITS][i & (NC_TL_CHUNK - 1)];
}

void nc_timeline_set_source(nc_timeline_t *tl, nc_timeline_source_fn fn, void *arg)
{
    tl->source = fn;
    tl->source_arg = arg;
}

void nc_timeline_add_lazy(nc_timeline_t *tl, int64_t t_ns, uint64_t ref)
{
    pthread_mutex_lock(&tl->lock);
    /* Events before it go first: a lazy row is never held back. */
    size_t done = nc_timeline_publish_due(tl, 0, true);
    if (tl->t0 == 0)
        tl->t0 = t_ns;
    if (tl->cache == NULL) {
        tl->cache = nc_xcalloc(NC_TL_CACHE, sizeof(*tl->cache));
        for (size_t k = 0; k < NC_TL_CACHE; k++)
            nc_arena_init(&tl->cache[k].arena, 4096);
        tl->scratch = nc_xmalloc(sizeof(*tl->scratch));
        nc_evb_init(tl->scratch);
    }
    done += nc_timeline_push(tl, t_ns - tl->t0, NC_TL_LAZY | (ref & ~NC_TL_LAZY));
    pthread_mutex_unlock(&tl->lock);
    if (done && tl->notify)
        tl->notify(tl->notify_arg);
}

static const nc_tl_row_t *nc_timeline_row(const nc_timeline_t *tl, size_t i);

static bool nc_timeline_cached(const nc_timeline_t *tl, size_t i)
{
    const nc_tl_slot_t *slot = &tl->cache[i % NC_TL_CACHE];
    return slot->used && slot->i == i;
}

/* Decodes lazy row i again into its cache slot (cache_lock held). */
static void nc_timeline_fill(nc_timeline_t *tl, size_t i)
{
    const nc_tl_row_t *row = nc_timeline_row(tl, i);
    nc_tl_slot_t *slot = &tl->cache[i % NC_TL_CACHE];
    nc_evb_t *b = tl->scratch;
    if (tl->source(tl->source_arg, row->ref & ~NC_TL_LAZY, b) != 0) {
        /* The source could not read it again (it always should). */
        nc_evb_reset(b, NC_EV_PACKET, 0);
        nc_evb_host(b, "replay");
        nc_evb_summary(b, "packet %zu could not be read again", i);
    }
    nc_arena_reset(&slot->arena);
    slot->ev = nc_timeline_copy_to(tl, &slot->arena, b, false);
    slot->ev.t_ns = row->t;
    slot->ev.i = i;
    slot->i = i;
    slot->used = true;
}

/* Lazy row i, from the cache or decoded again. A source decodes forward
 * cheaply and backward dearly (from a checkpoint), so a row missed whose
 * predecessor is missing too brings up to NC_TL_BEHIND rows before it
 * along: a ladder scrolled up then finds them ready. */
static const nc_event_t *nc_timeline_decode(nc_timeline_t *tl, size_t i)
{
    pthread_mutex_lock(&tl->cache_lock);
    if (!nc_timeline_cached(tl, i)) {
        size_t lo = i;
        while (lo > 0 && i - lo < NC_TL_BEHIND && !nc_timeline_cached(tl, lo - 1) &&
               (nc_timeline_row(tl, lo - 1)->ref & NC_TL_LAZY))
            lo--;
        for (size_t j = lo; j <= i; j++)
            nc_timeline_fill(tl, j);
    }
    pthread_mutex_unlock(&tl->cache_lock);
    return &tl->cache[i % NC_TL_CACHE].ev;
}

const nc_event_t *nc_timeline_get(const nc_timeline_t *tl, size_t i)
{
    if (i >= nc_timeline_count(tl))
        return NULL;
    const nc_tl_row_t *row = nc_timeline_row(tl, i);
    if (row->ref & NC_TL_LAZY)
        return nc_timeline_decode((nc_timeline_t *)tl, i);
    return (const nc_event_t *)(uintptr_t)row->ref;
}

nc_event_type_t nc_timeline_type(const nc_timeline_t *tl, size_t i)
{
    const nc_tl_row_t *row = nc_timeline_row(tl, i);
    if (row->ref & NC_TL_LAZY)
        return NC_EV_PACKET;
    return ((const nc_event_t *)(uintptr_t)row->ref)->type;
}

int64_t nc_timeline_time(const nc_timeline_t *tl, size_t i)
{
    return nc_timeline_row(tl, i)->t;
}

size_t nc_timeline_memory(const nc_timeline_t *tl)
{
    size_t chunks = 0, cache = 0;
    for (size_t c = 0; c < NC_TL_MAX_CHUNKS && tl->chunks[c]; c++)
        chunks++;
    for (size_t k = 0; tl->cache && k < NC_TL_CACHE; k++)
        cache += sizeof(tl->cache[k]) + tl->cache[k].arena.used_total;
    return tl->arena.used_total + chunks * NC_TL_CHUNK * sizeof(nc_tl_row_t) + cache;
}
