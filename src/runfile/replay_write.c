/*
 * replay_write.c: `replay --dump` and `--json` on both cores.
 *
 * Data model: a ring of NC_RP_SLOTS slots, each an event builder and the
 * text that event prints as. The reading thread decodes event k into slot
 * k % NC_RP_SLOTS and publishes it by advancing `produced`; the printing
 * thread (the caller's) finishes each published slot in order, writes its
 * text and frees the slot by advancing `consumed`. Finishing an event
 * (annotating a foreign packet, the filter, printing into the slot's text)
 * needs nothing but the event, so whichever thread has time does it: the
 * reader finishes the event it just decoded itself, before publishing it,
 * whenever the printer is half a ring behind. The work thus splits itself
 * between the two cores, and the output is the same whoever finished what.
 *
 * Waiting: a thread that finds the ring full (reader) or empty (printer)
 * sleeps on its own condition variable after raising its own `sleeping`
 * flag; the other thread, having moved its counter, signals when it sees
 * the flag. Counters and flags are sequentially consistent, so a wake-up is
 * never lost.
 */
#include "replay.h"

#include "../pipeline/pipeline.h"
#include "../core/buf.h"
#include "../core/error.h"
#include "../core/xmalloc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NC_RP_SLOTS 256
#define NC_RP_FLUSH (1u << 16) /* bytes gathered before a write */

typedef struct nc_rp_slot {
    nc_evb_t b;
    nc_buf_t text; /* what the event prints as ("" when filtered out) */
    bool bare;     /* the packet still needs its annotation */
    bool finished; /* text is ready */
} nc_rp_slot_t;

typedef struct nc_rp {
    nc_replay_t *r;
    bool json;
    const nc_match_t *m;
    nc_rp_slot_t *slots; /* NC_RP_SLOTS, owned */
    _Atomic size_t produced, consumed;
    atomic_bool done;    /* the reader has published its last event */
    atomic_bool stop;    /* the printer gave up (the output closed) */
    atomic_bool sleeping[2]; /* NC_RP_READER, NC_RP_PRINTER waits */
    pthread_mutex_t lock;
    pthread_cond_t wake[2];
    int rc; /* the reader's nc_replay_next result, once done */
    char err[512];
} nc_rp_t;

/* Annotates, filters and prints the slot's event into its text. */
static void nc_rp_finish(const nc_rp_t *p, nc_rp_slot_t *s)
{
    nc_buf_reset(&s->text);
    if (s->bare)
        nc_pipeline_annotate(&s->b);
    const nc_event_t *ev = nc_evb_view(&s->b);
    if (!p->m || nc_match_event(p->m, ev, NULL)) {
        if (p->json) {
            nc_event_json(ev, &s->text);
            nc_buf_putc(&s->text, '\n');
        } else {
            nc_event_text(ev, &s->text);
        }
    }
    s->finished = true;
}

enum { NC_RP_READER, NC_RP_PRINTER };

static bool nc_rp_has_room(nc_rp_t *p)
{
    return atomic_load(&p->stop) ||
           atomic_load(&p->produced) - atomic_load(&p->consumed) < NC_RP_SLOTS;
}

static bool nc_rp_has_event(nc_rp_t *p)
{
    return atomic_load(&p->done) || atomic_load(&p->produced) > atomic_load(&p->consumed);
}

/* A sleeping thread is woken only once a quarter of the ring is ready for
 * it, not for every event: fewer sleeps, fewer system calls. */
static bool nc_rp_much_room(nc_rp_t *p)
{
    return atomic_load(&p->stop) ||
           atomic_load(&p->produced) - atomic_load(&p->consumed) <= NC_RP_SLOTS * 3 / 4;
}

static bool nc_rp_many_events(nc_rp_t *p)
{
    return atomic_load(&p->done) ||
           atomic_load(&p->produced) - atomic_load(&p->consumed) >= NC_RP_SLOTS / 4;
}

/* Thread `who` goes on at once when ready(p) holds, else sleeps until
 * plenty(p) does. */
static void nc_rp_wait(nc_rp_t *p, int who, bool (*ready)(nc_rp_t *), bool (*plenty)(nc_rp_t *))
{
    if (ready(p))
        return;
    pthread_mutex_lock(&p->lock);
    atomic_store(&p->sleeping[who], true);
    while (!plenty(p))
        pthread_cond_wait(&p->wake[who], &p->lock);
    atomic_store(&p->sleeping[who], false);
    pthread_mutex_unlock(&p->lock);
}

/* Wakes thread `who` if it sleeps and what it waits for holds. */
static void nc_rp_wake(nc_rp_t *p, int who)
{
    if (!atomic_load(&p->sleeping[who]))
        return;
    if (!(who == NC_RP_READER ? nc_rp_much_room(p) : nc_rp_many_events(p)))
        return;
    pthread_mutex_lock(&p->lock);
    pthread_cond_signal(&p->wake[who]);
    pthread_mutex_unlock(&p->lock);
}

static void *nc_rp_reader(void *arg)
{
    nc_rp_t *p = arg;
    int rc = 0;
    for (size_t k = 0;; k++) {
        nc_rp_wait(p, NC_RP_READER, nc_rp_has_room, nc_rp_much_room);
        if (atomic_load(&p->stop))
            break;
        nc_rp_slot_t *s = &p->slots[k % NC_RP_SLOTS];
        rc = nc_replay_next(p->r, &s->b, p->err, sizeof p->err);
        if (rc != 1)
            break;
        s->b.ev.t_ns -= nc_replay_t0(p->r);
        s->bare = nc_replay_bare(p->r);
        s->finished = false;
        if (k - atomic_load(&p->consumed) >= NC_RP_SLOTS / 2)
            nc_rp_finish(p, s); /* the printer is behind: help it */
        atomic_store(&p->produced, k + 1);
        nc_rp_wake(p, NC_RP_PRINTER);
    }
    p->rc = rc;
    atomic_store(&p->done, true);
    nc_rp_wake(p, NC_RP_PRINTER);
    return NULL;
}

int nc_replay_write(nc_replay_t *r, bool json, const nc_match_t *m, FILE *out, char *err,
                    size_t errlen)
{
    nc_rp_t *p = nc_xcalloc(1, sizeof *p);
    p->r = r;
    p->json = json;
    p->m = m;
    p->slots = nc_xcalloc(NC_RP_SLOTS, sizeof *p->slots);
    for (size_t k = 0; k < NC_RP_SLOTS; k++) {
        nc_evb_init(&p->slots[k].b);
        nc_buf_init(&p->slots[k].text);
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake[0], NULL);
    pthread_cond_init(&p->wake[1], NULL);
    nc_replay_defer_annotation(r);
    pthread_t reader;
    if (pthread_create(&reader, NULL, nc_rp_reader, p) != 0) {
        snprintf(err, errlen, "cannot start the thread that reads the file");
        p->rc = NC_ESYS;
        goto out;
    }
    nc_buf_t buf;
    nc_buf_init(&buf);
    bool write_failed = false;
    for (size_t k = 0;; k++) {
        nc_rp_wait(p, NC_RP_PRINTER, nc_rp_has_event, nc_rp_many_events);
        if (k >= atomic_load(&p->produced))
            break; /* done, and everything printed */
        nc_rp_slot_t *s = &p->slots[k % NC_RP_SLOTS];
        if (!s->finished)
            nc_rp_finish(p, s);
        nc_buf_append(&buf, s->text.data, s->text.len);
        atomic_store(&p->consumed, k + 1);
        nc_rp_wake(p, NC_RP_READER);
        if (buf.len >= NC_RP_FLUSH) {
            write_failed = fwrite(buf.data, 1, buf.len, out) != buf.len;
            nc_buf_reset(&buf);
            if (write_failed)
                break;
        }
    }
    if (write_failed) {
        atomic_store(&p->stop, true);
        nc_rp_wake(p, NC_RP_READER);
    }
    pthread_join(reader, NULL);
    if (!write_failed && buf.len && fwrite(buf.data, 1, buf.len, out) != buf.len)
        write_failed = true;
    if (fflush(out) != 0)
        write_failed = true;
    if (write_failed)
        p->rc = NC_EIO;
    else if (p->rc < 0)
        snprintf(err, errlen, "%s", p->err);
    nc_buf_done(&buf);
out:;
    int rc = p->rc < 0 ? p->rc : 0;
    for (size_t k = 0; k < NC_RP_SLOTS; k++) {
        nc_evb_done(&p->slots[k].b);
        nc_buf_done(&p->slots[k].text);
    }
    free(p->slots);
    pthread_cond_destroy(&p->wake[0]);
    pthread_cond_destroy(&p->wake[1]);
    pthread_mutex_destroy(&p->lock);
    free(p);
    return rc;
}
