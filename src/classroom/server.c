/*
 * server.c: the instructor's class server (see server.h and PROTOCOL.md).
 *
 * Data model, all owned by the class thread:
 *   conns     every open connection, admitted or not (nc_sconn_t in
 *             conn->data, with its index here for O(1) removal);
 *   students  the roster: one nc_student_t per student ever admitted,
 *             found again by its resume token; a student has a connection
 *             while connected;
 *   runs      every run of the class (kept until the end, so a timeline
 *             pointer given to the dashboard stays valid); the current one
 *             has a frame cache: each published event serialized once, as
 *             a whole frame, with its offset, shared by every student;
 *   by_token, by_name, by_skel
 *             hash tables (strmap.h) over the roster: a student by its
 *             current resume token and by its shown name, and how many
 *             names share a look-alike skeleton (name.h), so a join costs
 *             O(1) however many students (or one hostile's thousands of
 *             namesakes) there are;
 *   buckets   per source (IPv4 address or IPv6 /64), a fixed table indexed
 *             by a keyed hash: the failed-join token bucket (no eviction,
 *             so an attacker cannot reset a bucket, and a collision only
 *             makes two sources share one limit), the source's admitted
 *             students, and its unfinished joins, oldest first;
 *   ufirst..ulast
 *             every unfinished join (accepted, hello not yet admitted),
 *             oldest first: admission evicts from the front of this list
 *             or of the source's (PROTOCOL.md, Admission). A connection is
 *             in the lists while sc->unfinished, and leaves them exactly
 *             once, so the counts cannot drift.
 * Every student has `next`, the next event of the current run to send:
 * live streaming and catching up are the same pump, which sends from next
 * while the connection's backlog is under out_limit. A student whose
 * backlog reaches the limit is cut from the live stream (marked lagging)
 * and caught up from next as its socket drains: a slow student never
 * holds memory beyond its limit and never slows anyone else.
 */
#include "server.h"

#include "conn.h"
#include "hold.h"
#include "json.h"
#include "name.h"
#include "proto.h"
#include "strmap.h"
#include "tls.h"

#include "../core/buf.h"
#include "../core/clock.h"
#include "../core/error.h"
#include "../core/xmalloc.h"
#include "../decrypt/keylog.h"
#include "../lab/lab.h"
#include "../lesson/lesson.h"

#include <malloc.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

enum {
    NC_SRV_BUCKETS = 4096,
    NC_SRV_BUCKET_TOKENS = 10,     /* wrong codes allowed per source ... */
    NC_SRV_BUCKET_REFILL_MS = 6000, /* ... and one more every 6 s */
    NC_SRV_PENDING_PER_SOURCE = 64, /* unfinished joins: per source ... */
    NC_SRV_PENDING_MAX = 1024,      /* ... and in all */
    NC_SRV_LOAD_PENDING = 256,      /* past this many the class is under load: */
    NC_SRV_PRETLS_LOAD_MS = 2000,   /* ... a connection silent this long is closed */
    NC_SRV_PER_ADDRESS = 1024,      /* admitted students per source, by default */
    NC_SRV_RESERVE = 16,            /* connections past max_conns, for resumes */
    NC_SRV_MAX_VIOLATIONS = 10,
    NC_SRV_MSG_BURST = 50,          /* messages a student may send at once ... */
    NC_SRV_MSG_REFILL_MS = 100,     /* ... and one more every 100 ms */
    NC_SRV_FLOOD_CUT = 500,         /* messages over the rate (halved every sweep) */
    NC_SRV_SAME_NAME_MAX = 99,      /* students whose names look the same */
    NC_SRV_SWEEP_MS = 500,
    NC_SRV_PAUSE_MS = 3000,         /* a sweep this late: the process was stopped */
    NC_SRV_CHUNK = 32 * 1024,
};

typedef struct nc_student nc_student_t;

typedef struct nc_sconn nc_sconn_t;
struct nc_sconn {
    nc_class_server_t *srv;
    nc_conn_t *conn;
    nc_student_t *st; /* NULL until admitted */
    size_t idx;       /* in srv->conns */
    uint32_t src;     /* bucket index of the source */
    bool unfinished;  /* in the unfinished-join lists (not yet admitted) */
    bool admitted;    /* counted in its source's admitted students */
    nc_sconn_t *prev, *next;   /* all unfinished joins, oldest first */
    nc_sconn_t *sprev, *snext; /* its source's unfinished joins, oldest first */
    nc_rate_t msgs;            /* the messages it may still send */
    unsigned over;             /* messages over the rate, halved every sweep */
    unsigned dropped;          /* ... and not yet logged */
};

typedef struct nc_result {
    bool have;
    int64_t events, packets, dropped, retransmissions;
    bool saw_retransmission, completed;
    char decided[8][2][32]; /* checkpoint id, answer key */
    int ndecided;
} nc_result_t;

struct nc_student {
    uint32_t id;
    char name[33];
    char token[33]; /* "" once the student said bye */
    nc_sconn_t *sc; /* NULL when disconnected */
    bool following, hand, lagging;
    int page, step;
    char answer[8]; /* to the open (or last) checkpoint */
    char (*answers)[8]; /* one per checkpoint of the lesson: what it answered */
    struct nc_skel *skel; /* its name's look-alikes (borrowed from by_skel) */
    int run;     /* the run `next` counts in */
    size_t next; /* next event of that run to send */
    int violations;
    nc_result_t result;
};

/* A checkpoint mark of a run: cached held, with its released frame aside
 * (hold.h). */
typedef struct nc_srv_held {
    size_t i;            /* the mark's index in the run */
    int cp;              /* its checkpoint, an index into the lesson's */
    nc_hold_kind_t kind; /* released by the open (ask) or the reveal */
    size_t off, len;     /* its released frame, in the run's `full` */
} nc_srv_held_t;

typedef struct nc_srun {
    nc_run_t *run;
    int id;
    bool done;
    nc_result_t ref;    /* lockstep: the instructor's own run, as a result */
    nc_buf_t frames;    /* the event frames, back to back */
    size_t *off;        /* off[i]: frame i's offset; off[n] = frames.len */
    size_t n, cap;
    nc_buf_t full;       /* released frames of the checkpoint marks */
    nc_srv_held_t *held; /* the checkpoint marks, in index order */
    size_t nheld;
    bool *opened, *revealed; /* per lesson checkpoint, in this run */
    char *hosts;             /* the lab's hosts as a JSON object, for run messages */
    size_t nkeys;            /* TLS secrets of the run sent so far, and their text's bytes */
    size_t keys_len;
} nc_srun_t;

typedef struct nc_bucket {
    nc_rate_t wrong;   /* wrong codes it may still send */
    uint32_t pending;  /* connections not yet admitted */
    uint32_t admitted; /* connected students */
    nc_sconn_t *head, *tail; /* the unfinished joins, oldest first */
} nc_bucket_t;

/* Students whose names share a skeleton (name.h): how many, and the first
 * one's name. */
typedef struct nc_skel nc_skel_t;
struct nc_skel {
    unsigned count;
    char first[33];
    char key[];
};

typedef struct nc_drop_count {
    char reason[96];
    unsigned count;
} nc_drop_count_t;

struct nc_class_server {
    nc_class_server_opts_t o;
    const nc_lesson_t *lesson;
    SSL_CTX *ctx;
    char fp[NC_TLS_FP_LEN];
    char code[16]; /* XXXX-XXXX-XXXX */
    int port;
    uint8_t hash_key[16];

    uv_loop_t loop;
    uv_tcp_t listen[2];
    int nlisten;
    uv_timer_t sweep, poll;
    uv_async_t wake, stop_async;
    uv_check_t check;
    pthread_t thread;
    bool started;

    pthread_mutex_t lock; /* commands, snapshot, finished */
    char **cmds;
    size_t ncmds;
    atomic_bool finished;
    bool stopping;

    nc_sconn_t **conns;
    size_t nconns, capconns;
    size_t pending;              /* unfinished joins, in the list below */
    nc_sconn_t *ufirst, *ulast;  /* oldest first */
    nc_student_t **students;
    size_t nstudents;
    nc_strmap_t by_token, by_name, by_skel; /* students; nc_skel_t */
    int64_t last_sweep_ns;
    uint32_t next_id;
    nc_bucket_t buckets[NC_SRV_BUCKETS];
    nc_drop_count_t drops[8];

    int page, step;
    int cp;        /* open or last checkpoint index, -1 */
    bool cp_open;
    int right;     /* revealed answer index, -1 */
    nc_srun_t **runs;
    size_t nruns;
    nc_fault_t *inject; /* faults for the next run */
    size_t ninject;

    bool dirty;
    nc_class_snapshot_t snap; /* published copy, under lock */
    nc_buf_t line;            /* log line being built */
};

/* ---- logging ---- */

static void nc_srv_emit(nc_class_server_t *s, nc_buf_t *line)
{
    if (s->o.log)
        s->o.log(s->o.log_arg, nc_buf_cstr(line));
    nc_buf_reset(line);
}

/* Starts a log line {"class":"what" ... ; the caller adds members and
 * calls nc_srv_end. */
static nc_buf_t *nc_srv_log(nc_class_server_t *s, const char *what)
{
    nc_buf_reset(&s->line);
    nc_buf_puts(&s->line, "{\"class\":");
    nc_buf_json_str(&s->line, what);
    return &s->line;
}

static void nc_srv_kv(nc_buf_t *b, const char *key, const char *val)
{
    nc_buf_putc(b, ',');
    nc_buf_json_str(b, key);
    nc_buf_putc(b, ':');
    nc_buf_json_str(b, val);
}

static void nc_srv_end(nc_class_server_t *s)
{
    nc_buf_putc(&s->line, '}');
    nc_srv_emit(s, &s->line);
}

static void nc_srv_note(nc_class_server_t *s, const char *what, const char *text)
{
    nc_buf_t *b = nc_srv_log(s, what);
    nc_srv_kv(b, "text", text);
    nc_srv_end(s);
}

/* Refusals of anonymous connections are counted and logged once a sweep,
 * so a flood costs one line a second, not one per connection. */
static void nc_srv_count_drop(nc_class_server_t *s, const char *reason)
{
    for (size_t k = 0; k < sizeof s->drops / sizeof s->drops[0]; k++) {
        nc_drop_count_t *d = &s->drops[k];
        if (d->count == 0 || strcmp(d->reason, reason) == 0) {
            if (d->count == 0)
                snprintf(d->reason, sizeof d->reason, "%s", reason);
            d->count++;
            return;
        }
    }
}

static void nc_srv_flush_drops(nc_class_server_t *s)
{
    for (size_t k = 0; k < sizeof s->drops / sizeof s->drops[0]; k++) {
        nc_drop_count_t *d = &s->drops[k];
        if (!d->count)
            continue;
        nc_buf_t *b = nc_srv_log(s, "dropped");
        nc_srv_kv(b, "reason", d->reason);
        nc_buf_printf(b, ",\"count\":%u", d->count);
        nc_srv_end(s);
        d->count = 0;
    }
}

/* ---- sources and rate limits ---- */

static uint32_t nc_srv_hash(const nc_class_server_t *s, const uint8_t *p, size_t n)
{
    /* FNV-1a over a random key then the address: sources cannot be chosen
     * to collide without knowing the key. */
    uint32_t h = 2166136261u;
    for (size_t k = 0; k < sizeof s->hash_key; k++)
        h = (h ^ s->hash_key[k]) * 16777619u;
    for (size_t k = 0; k < n; k++)
        h = (h ^ p[k]) * 16777619u;
    return h % NC_SRV_BUCKETS;
}

static uint32_t nc_srv_source(const nc_class_server_t *s, uv_tcp_t *t)
{
    struct sockaddr_storage ss;
    int len = sizeof ss;
    memset(&ss, 0, sizeof ss);
    uv_tcp_getpeername(t, (struct sockaddr *)&ss, &len);
    if (ss.ss_family == AF_INET6) {
        const uint8_t *a = ((struct sockaddr_in6 *)&ss)->sin6_addr.s6_addr;
        static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(a, v4mapped, 12) == 0)
            return nc_srv_hash(s, a + 12, 4);
        return nc_srv_hash(s, a, 8); /* the /64 */
    }
    return nc_srv_hash(s, (const uint8_t *)&((struct sockaddr_in *)&ss)->sin_addr, 4);
}

static bool nc_srv_bucket_take(nc_class_server_t *s, uint32_t src, bool consume)
{
    return nc_rate_take(&s->buckets[src].wrong, (int64_t)uv_now(&s->loop), NC_SRV_BUCKET_TOKENS,
                        NC_SRV_BUCKET_REFILL_MS, consume);
}

/* ---- the code ---- */

static void nc_srv_make_code(char out[16])
{
    /* 12 symbols from 31 (no 0/O, 1/I/L), drawn without bias: 59 bits.
     * PROTOCOL.md has the arithmetic against the join rate limit. */
    static const char alphabet[] = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    int o = 0, k = 0;
    while (k < 12) {
        uint8_t r;
        RAND_bytes(&r, 1);
        if (r >= 31 * 8)
            continue;
        if (k && k % 4 == 0)
            out[o++] = '-';
        out[o++] = alphabet[r % 31];
        k++;
    }
    out[o] = '\0';
}

/* Compares a typed code with ours: case, dashes and spaces do not matter;
 * the comparison takes the same time wherever they differ. */
static bool nc_srv_code_ok(const char *ours, const char *typed)
{
    char a[16] = "", b[16] = "";
    size_t na = 0, nb = 0;
    for (const char *p = ours; *p && na < 15; p++)
        if (*p != '-')
            a[na++] = *p;
    for (const char *p = typed; *p; p++) {
        if (*p == '-' || *p == ' ')
            continue;
        if (nb >= 15)
            return false;
        char c = *p;
        b[nb++] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
    }
    unsigned diff = na != nb;
    for (size_t k = 0; k < 15; k++)
        diff |= (unsigned)(a[k] ^ b[k]);
    return diff == 0;
}

/* ---- runs and the frame cache ---- */

static nc_srun_t *nc_srv_cur(nc_class_server_t *s)
{
    return s->nruns ? s->runs[s->nruns - 1] : NULL;
}

static int nc_srv_cp_index(const nc_class_server_t *s, const char *id)
{
    for (size_t k = 0; id && k < s->lesson->ncheckpoints; k++)
        if (strcmp(s->lesson->checkpoints[k].id, id) == 0)
            return (int)k;
    return -1;
}

/* Serializes event i of the current run into the cache: a checkpoint mark
 * held, with its released frame aside (hold.h). */
static void nc_srv_cache_event(nc_class_server_t *s, nc_srun_t *r, const nc_event_t *ev)
{
    const char *id;
    nc_hold_kind_t kind = nc_hold_kind(ev, &id);
    int64_t ts = nc_clock_real_ns();
    /* The secrets the run's programs logged since the last event go with
     * this one: the student decrypts the packets from here on with them. */
    char *keys = NULL;
    size_t klen = 0;
    nc_keylog_t *kl = r->run ? nc_run_keylog(r->run) : NULL;
    if (kl && nc_keylog_count(kl) > r->nkeys) {
        r->nkeys = nc_keylog_count(kl);
        nc_keylog_text(kl, &keys, &klen);
        keys = nc_xrealloc(keys, klen + 1);
        keys[klen] = '\0';
    }
    const char *fresh = keys && klen > r->keys_len ? keys + r->keys_len : NULL;
    if (keys)
        r->keys_len = klen;
    nc_buf_t body;
    nc_buf_init(&body);
    nc_hold_event_body(&body, r->id, ts, ev, false, fresh);
    if (s->o.log) {
        nc_buf_t line;
        nc_buf_init(&line);
        nc_event_json(ev, &line);
        nc_srv_emit(s, &line);
        nc_buf_done(&line);
    }
    if (kind != NC_HOLD_NONE) {
        int cp = nc_srv_cp_index(s, id);
        if (cp >= 0 && body.len <= NC_FRAME_MAX) {
            r->held = nc_xrealloc(r->held, (r->nheld + 1) * sizeof *r->held);
            r->held[r->nheld++] = (nc_srv_held_t){r->n, cp, kind, r->full.len, 0};
            nc_frame_put(&r->full, NC_MSG_EVENT, body.data, body.len);
            r->held[r->nheld - 1].len = r->full.len - r->held[r->nheld - 1].off;
        }
        nc_buf_reset(&body);
        nc_hold_event_body(&body, r->id, ts, ev, true, fresh);
    }
    if (r->n + 2 > r->cap) {
        r->cap = r->cap ? 2 * r->cap : 256;
        r->off = nc_xrealloc(r->off, r->cap * sizeof *r->off);
    }
    if (body.len > NC_FRAME_MAX) {
        /* Cannot happen with 64 KiB of data; keep the index aligned anyway
         * with a note in its place. */
        nc_buf_reset(&body);
        nc_buf_printf(&body, "{\"run\":%d,\"ts\":0,\"ev\":{\"i\":%llu,\"t\":0.0,\"type\":\"note\","
                             "\"host\":\"\",\"summary\":\"(event too large to stream)\"}}",
                      r->id, (unsigned long long)ev->i);
    }
    r->off[r->n] = r->frames.len;
    nc_frame_put(&r->frames, NC_MSG_EVENT, body.data, body.len);
    r->n++;
    r->off[r->n] = r->frames.len;
    nc_buf_done(&body);
    free(keys);
}

/* The first checkpoint mark at or after event `from` that the instructor
 * has released, or NULL. */
static const nc_srv_held_t *nc_srv_released(const nc_srun_t *r, size_t from)
{
    for (size_t k = 0; k < r->nheld; k++) {
        const nc_srv_held_t *h = &r->held[k];
        if (h->i >= from && (h->kind == NC_HOLD_ASK ? r->opened : r->revealed)[h->cp])
            return h;
    }
    return NULL;
}

static void nc_srv_run_free(nc_srun_t *r)
{
    nc_buf_done(&r->frames);
    nc_buf_done(&r->full);
    free(r->off);
    free(r->held);
    free(r->opened);
    free(r->revealed);
    free(r->hosts);
    free(r);
}

static void nc_srv_send_student(nc_class_server_t *s, nc_student_t *st, int type,
                                const nc_buf_t *body);

/* Sends events from st->next while the backlog allows (see the top). */
static void nc_srv_pump(nc_class_server_t *s, nc_student_t *st)
{
    nc_srun_t *r = nc_srv_cur(s);
    if (!st->sc || !r || st->run != r->id || s->o.mode != NC_CLASS_WATCH)
        return;
    nc_conn_t *c = st->sc->conn;
    while (st->next < r->n && !c->closing) {
        if (nc_conn_backlog(c) >= s->o.out_limit) {
            if (!st->lagging) {
                st->lagging = true;
                s->dirty = true;
                nc_buf_t *b = nc_srv_log(s, "lagging");
                nc_srv_kv(b, "student", st->name);
                nc_buf_printf(b, ",\"behind\":%zu", r->n - st->next);
                nc_srv_kv(b, "text", "cut from the live stream; caught up as it drains");
                nc_srv_end(s);
            }
            return;
        }
        /* One write of whole frames, at most a chunk and at most the room
         * left under the limit (but always one frame), so the backlog stays
         * near the limit however small the limit is. */
        size_t room = s->o.out_limit - nc_conn_backlog(c);
        if (room > NC_SRV_CHUNK)
            room = NC_SRV_CHUNK;
        /* A released checkpoint mark goes in its released form. */
        const nc_srv_held_t *rel = nc_srv_released(r, st->next);
        if (rel && rel->i == st->next) {
            nc_conn_send_frames(c, r->full.data + rel->off, rel->len);
            st->next++;
            continue;
        }
        size_t stop = rel ? rel->i : r->n;
        size_t end = st->next;
        while (end < stop && r->off[end + 1] - r->off[st->next] <= room)
            end++;
        if (end == st->next)
            end++;
        nc_conn_send_frames(c, r->frames.data + r->off[st->next],
                            r->off[end] - r->off[st->next]);
        st->next = end;
    }
    if (st->lagging && st->next == r->n) {
        st->lagging = false;
        s->dirty = true;
        nc_buf_t *b = nc_srv_log(s, "caught_up");
        nc_srv_kv(b, "student", st->name);
        nc_srv_end(s);
    }
}

static void nc_srv_run_msg(nc_class_server_t *s, const nc_srun_t *r, nc_buf_t *b,
                           const char *state)
{
    nc_buf_reset(b);
    nc_buf_printf(b, "{\"run\":%d,\"state\":", r->id);
    nc_buf_json_str(b, state);
    nc_buf_puts(b, ",\"mode\":");
    nc_buf_json_str(b, s->o.mode == NC_CLASS_WATCH ? "watch" : "lockstep");
    nc_buf_puts(b, ",\"lesson\":");
    nc_buf_json_str(b, s->lesson->id);
    nc_buf_printf(b, ",\"seed\":%llu",
                  (unsigned long long)(s->o.run.seed ? s->o.run.seed : 1));
    if (s->o.run.link) {
        nc_buf_puts(b, ",\"link\":");
        nc_buf_json_str(b, s->o.run.link);
    }
    if (r->run)
        nc_buf_printf(b, ",\"t0\":%lld", (long long)nc_timeline_t0(nc_run_timeline(r->run)));
    if (r->hosts)
        nc_buf_printf(b, ",\"hosts\":%s", r->hosts);
    if (r->done)
        nc_buf_printf(b, ",\"events\":%zu", r->n);
    nc_buf_puts(b, ",\"faults\":[");
    for (size_t k = 0; k < s->ninject; k++) {
        if (k)
            nc_buf_putc(b, ',');
        nc_buf_json_str(b, s->inject[k].spec);
    }
    nc_buf_puts(b, "]}");
}

static void nc_srv_broadcast(nc_class_server_t *s, int type, const nc_buf_t *body)
{
    for (size_t k = 0; k < s->nstudents; k++)
        if (s->students[k]->sc)
            nc_srv_send_student(s, s->students[k], type, body);
}

/* Why a student's lockstep result is far from the instructor's own run
 * (the same lesson, seed and faults), or NULL. The result is shown as the
 * student's own either way; this only flags it. */
static const char *nc_srv_outlier(const nc_result_t *ref, const nc_result_t *r)
{
    if (!ref->have || !r->have)
        return NULL;
    if (r->completed != ref->completed)
        return r->completed ? "its run completed, the instructor's did not"
                            : "its run did not complete";
    if (r->saw_retransmission != ref->saw_retransmission)
        return "it saw a retransmission where the instructor's run did not, or the reverse";
    int64_t d = r->packets - ref->packets;
    if (d < 0)
        d = -d;
    if (d > 5 + ref->packets / 2)
        return "its packet count is far from the instructor's run";
    for (int k = 0; k < r->ndecided; k++)
        for (int j = 0; j < ref->ndecided; j++)
            if (strcmp(r->decided[k][0], ref->decided[j][0]) == 0 &&
                strcmp(r->decided[k][1], ref->decided[j][1]) != 0)
                return "its run decided a checkpoint otherwise than the instructor's";
    return NULL;
}

static void nc_srv_log_outlier(nc_class_server_t *s, const nc_student_t *st, const char *why)
{
    nc_buf_t *b = nc_srv_log(s, "outlier");
    nc_srv_kv(b, "student", st->name);
    nc_srv_kv(b, "text", why);
    nc_srv_end(s);
}

/* Lockstep: the instructor's own run is over; it becomes the reference
 * the students' results are compared with. */
static void nc_srv_lockstep_ref(nc_class_server_t *s, nc_srun_t *r)
{
    nc_result_t *ref = &r->ref;
    nc_timeline_t *tl = nc_run_timeline(r->run);
    size_t n = nc_timeline_count(tl);
    memset(ref, 0, sizeof *ref);
    ref->have = true;
    ref->events = (int64_t)n;
    for (size_t i = 0; i < n; i++) {
        const nc_event_t *ev = nc_timeline_get(tl, i);
        if (ev->type != NC_EV_PACKET)
            continue;
        ref->packets++;
        ref->dropped += nc_event_bool(ev, "dropped");
        ref->retransmissions += nc_event_bool(ev, "tcp.retransmission");
    }
    ref->saw_retransmission = ref->retransmissions > 0;
    ref->completed = nc_run_status(r->run, NULL, 0) == 0;
    for (size_t k = 0; k < nc_run_checkpoint_count(r->run) && ref->ndecided < 8; k++) {
        nc_run_checkpoint_t rc;
        nc_run_checkpoint(r->run, k, &rc);
        if (rc.right < 0)
            continue;
        snprintf(ref->decided[ref->ndecided][0], 32, "%s", rc.cp->id);
        snprintf(ref->decided[ref->ndecided][1], 32, "%s", rc.cp->choices[rc.right].key);
        ref->ndecided++;
    }
    nc_buf_t *b = nc_srv_log(s, "reference");
    nc_buf_printf(b,
                  ",\"run\":%d,\"events\":%lld,\"packets\":%lld,\"dropped\":%lld,"
                  "\"retransmissions\":%lld,\"saw_retransmission\":%s,\"completed\":%s",
                  r->id, (long long)ref->events, (long long)ref->packets,
                  (long long)ref->dropped, (long long)ref->retransmissions,
                  ref->saw_retransmission ? "true" : "false", ref->completed ? "true" : "false");
    nc_srv_kv(b, "text", "the instructor's own run: it decides the checkpoints");
    nc_srv_end(s);
    for (size_t k = 0; k < s->nstudents; k++) {
        const char *why = nc_srv_outlier(ref, &s->students[k]->result);
        if (why)
            nc_srv_log_outlier(s, s->students[k], why);
    }
}

/* Publishes what the current run added, and notices its end. */
static void nc_srv_poll_run(nc_class_server_t *s)
{
    nc_srun_t *r = nc_srv_cur(s);
    if (!r || !r->run || r->done)
        return;
    bool over = nc_run_poll(r->run);
    if (s->o.mode == NC_CLASS_LOCKSTEP) {
        /* The instructor's own run: the judge of checkpoints, streamed to
         * nobody. */
        if (over) {
            r->done = true;
            nc_srv_lockstep_ref(s, r);
            uv_timer_stop(&s->poll);
            s->dirty = true;
        }
        return;
    }
    nc_timeline_t *tl = nc_run_timeline(r->run);
    size_t n = nc_timeline_count(tl);
    size_t before = r->n;
    for (size_t i = r->n; i < n; i++)
        nc_srv_cache_event(s, r, nc_timeline_get(tl, i));
    if (r->n != before) {
        for (size_t k = 0; k < s->nstudents; k++)
            nc_srv_pump(s, s->students[k]);
        s->dirty = true;
    }
    if (over) {
        r->done = true;
        char err[256] = "";
        int rc = nc_run_status(r->run, err, sizeof err);
        nc_buf_t body;
        nc_buf_init(&body);
        nc_srv_run_msg(s, r, &body, "done");
        nc_srv_broadcast(s, NC_MSG_RUN, &body);
        nc_buf_done(&body);
        nc_buf_t *b = nc_srv_log(s, "run");
        nc_buf_printf(b, ",\"run\":%d,\"state\":\"done\",\"events\":%zu", r->id, r->n);
        if (rc != 0)
            nc_srv_kv(b, "error", err);
        nc_srv_end(s);
        uv_timer_stop(&s->poll);
        s->dirty = true;
    }
}

static void nc_srv_on_poll(uv_timer_t *t)
{
    nc_srv_poll_run(t->data);
}

/* ---- sending ---- */

static void nc_srv_send_student(nc_class_server_t *s, nc_student_t *st, int type,
                                const nc_buf_t *body)
{
    if (!st->sc)
        return;
    /* Control messages go past the stream's limit, but every byte counts
     * against the connection's cap (4 x out_limit, set at accept): a
     * student that let that much pile up is closed, and will resume. */
    nc_conn_send(st->sc->conn, type, body->data, body->len);
}

static void nc_srv_send_error(nc_conn_t *c, const char *code, const char *text)
{
    nc_buf_t b;
    nc_buf_init(&b);
    nc_buf_puts(&b, "{\"code\":");
    nc_buf_json_str(&b, code);
    nc_buf_puts(&b, ",\"text\":");
    nc_buf_json_str(&b, text);
    nc_buf_putc(&b, '}');
    nc_conn_send(c, NC_MSG_ERROR, b.data, b.len);
    nc_buf_done(&b);
}

/* ---- checkpoints ---- */

static const nc_checkpoint_t *nc_srv_cp(const nc_class_server_t *s)
{
    return s->cp >= 0 ? &s->lesson->checkpoints[s->cp] : NULL;
}

static void nc_srv_counts(const nc_class_server_t *s, int *counts, int *answered)
{
    const nc_checkpoint_t *cp = nc_srv_cp(s);
    memset(counts, 0, 8 * sizeof *counts);
    *answered = 0;
    for (size_t k = 0; cp && k < s->nstudents; k++) {
        const nc_student_t *st = s->students[k];
        if (!st->answer[0])
            continue;
        for (size_t j = 0; j < cp->nchoices && j < 8; j++)
            if (strcmp(cp->choices[j].key, st->answer) == 0) {
                counts[j]++;
                (*answered)++;
            }
    }
}

static void nc_srv_tally_body(const nc_class_server_t *s, nc_buf_t *b)
{
    const nc_checkpoint_t *cp = nc_srv_cp(s);
    int counts[8], answered;
    nc_srv_counts(s, counts, &answered);
    nc_buf_puts(b, ",\"checkpoint\":");
    nc_buf_json_str(b, cp->id);
    nc_buf_puts(b, ",\"counts\":{");
    for (size_t j = 0; j < cp->nchoices && j < 8; j++) {
        if (j)
            nc_buf_putc(b, ',');
        nc_buf_json_str(b, cp->choices[j].key);
        nc_buf_printf(b, ":%d", counts[j]);
    }
    size_t connected = 0;
    for (size_t k = 0; k < s->nstudents; k++)
        connected += s->students[k]->sc != NULL;
    nc_buf_printf(b, "},\"answered\":%d,\"students\":%zu,\"waiting\":[", answered, connected);
    int shown = 0;
    for (size_t k = 0; k < s->nstudents && shown < 50; k++) {
        const nc_student_t *st = s->students[k];
        if (st->sc && !st->answer[0]) {
            if (shown++)
                nc_buf_putc(b, ',');
            nc_buf_json_str(b, st->name);
        }
    }
    nc_buf_putc(b, ']');
}

static void nc_srv_log_tally(nc_class_server_t *s)
{
    if (!nc_srv_cp(s))
        return;
    nc_srv_log(s, "tally");
    nc_srv_tally_body(s, &s->line);
    nc_srv_end(s);
}

/* Where the instructor's run asked the checkpoint (and, at the reveal,
 * what decided it): what the held marks kept from the students. Watch
 * mode only: in lockstep each student's own run knows. */
static void nc_srv_cp_where(const nc_class_server_t *s, nc_buf_t *b, bool decided)
{
    const nc_srun_t *r = s->nruns ? s->runs[s->nruns - 1] : NULL;
    if (s->o.mode != NC_CLASS_WATCH || !r || !r->run || s->cp < 0)
        return;
    nc_run_checkpoint_t rc;
    nc_run_checkpoint(r->run, (size_t)s->cp, &rc);
    bool skipped = decided && rc.skipped;
    if (rc.asked_at < 0 && !skipped)
        return;
    nc_buf_printf(b, ",\"run\":%d", r->id);
    if (rc.asked_at >= 0)
        nc_buf_printf(b, ",\"at\":%ld", rc.asked_at);
    if (decided && rc.right >= 0)
        nc_buf_printf(b, ",\"by\":%ld", rc.decided_at >= 0 ? rc.decided_at : rc.asked_at);
    if (skipped)
        nc_buf_puts(b, ",\"skipped\":true");
}

static void nc_srv_cp_msg(const nc_class_server_t *s, nc_buf_t *b)
{
    const nc_checkpoint_t *cp = nc_srv_cp(s);
    nc_buf_reset(b);
    nc_buf_puts(b, "{\"id\":");
    nc_buf_json_str(b, cp->id);
    nc_buf_puts(b, ",\"question\":");
    nc_buf_json_str(b, cp->question);
    nc_buf_puts(b, ",\"choices\":[");
    for (size_t j = 0; j < cp->nchoices; j++) {
        if (j)
            nc_buf_putc(b, ',');
        nc_buf_puts(b, "{\"key\":");
        nc_buf_json_str(b, cp->choices[j].key);
        nc_buf_puts(b, ",\"text\":");
        nc_buf_json_str(b, cp->choices[j].text);
        nc_buf_putc(b, '}');
    }
    nc_buf_putc(b, ']');
    nc_srv_cp_where(s, b, false);
    nc_buf_putc(b, '}');
}

/* The reveal of the last checkpoint: its answer as the class's run(s)
 * decided it at the reveal (s->right), and the tally. */
static void nc_srv_reveal_msg(const nc_class_server_t *s, nc_buf_t *b)
{
    const nc_checkpoint_t *cp = nc_srv_cp(s);
    int counts[8], answered;
    nc_srv_counts(s, counts, &answered);
    nc_buf_reset(b);
    nc_buf_puts(b, "{\"id\":");
    nc_buf_json_str(b, cp->id);
    nc_buf_puts(b, ",\"answer\":");
    if (s->right >= 0) {
        nc_buf_json_str(b, cp->choices[s->right].key);
        nc_buf_puts(b, ",\"text\":");
        nc_buf_json_str(b, cp->choices[s->right].text);
    } else {
        nc_buf_puts(b, "null");
    }
    /* In watch mode the instructor's run chose the explanation by its
     * outcome (lessons/README.md); otherwise the lesson's general one. */
    const char *explain = cp->explain;
    const nc_srun_t *cur = s->nruns ? s->runs[s->nruns - 1] : NULL;
    if (s->o.mode == NC_CLASS_WATCH && cur && cur->run) {
        nc_run_checkpoint_t rc = {0};
        nc_run_checkpoint(cur->run, (size_t)s->cp, &rc);
        if (rc.explain)
            explain = rc.explain;
    }
    if (explain) {
        nc_buf_puts(b, ",\"explain\":");
        nc_buf_json_str(b, explain);
    }
    nc_srv_cp_where(s, b, true);
    nc_buf_puts(b, ",\"counts\":{");
    for (size_t j = 0; j < cp->nchoices && j < 8; j++) {
        nc_buf_printf(b, "%s", j ? "," : "");
        nc_buf_json_str(b, cp->choices[j].key);
        nc_buf_printf(b, ":%d", counts[j]);
    }
    nc_buf_puts(b, "}}");
}

/* ---- the roster ---- */

static nc_student_t *nc_srv_by_token(nc_class_server_t *s, const char *token)
{
    return token && token[0] ? nc_strmap_get(&s->by_token, token) : NULL;
}

static nc_student_t *nc_srv_by_name(nc_class_server_t *s, const char *name)
{
    return nc_strmap_get(&s->by_name, name);
}

/* A new resume token for st (a resume rotates it; bye clears it). */
static void nc_srv_new_token(nc_class_server_t *s, nc_student_t *st)
{
    if (st->token[0])
        nc_strmap_del(&s->by_token, st->token);
    uint8_t tok[16];
    RAND_bytes(tok, sizeof tok);
    for (int k = 0; k < 16; k++)
        snprintf(st->token + 2 * k, 3, "%02x", tok[k]);
    nc_strmap_put(&s->by_token, st->token, st);
}

/* The name a new student is shown by (name.h): cleaned, and numbered when
 * another student's name looks the same ("ann#2"), so that nobody takes or
 * imitates another's name. The number is the count of look-alikes so far,
 * found in O(1). Returns false with a sentence in why. */
static bool nc_srv_clean_name(nc_class_server_t *s, const char *in, char out[33],
                              char looks_like[33], nc_skel_t **kp, char *why, size_t whylen)
{
    char skel[NC_CLASS_SKEL_MAX];
    looks_like[0] = '\0';
    if (nc_class_name_clean(in, out, skel, why, whylen) != 0)
        return false;
    nc_skel_t *k = nc_strmap_get(&s->by_skel, skel);
    if (!k) {
        size_t n = strlen(skel) + 1;
        k = nc_xcalloc(1, sizeof *k + n);
        memcpy(k->key, skel, n);
        snprintf(k->first, sizeof k->first, "%s", out);
        nc_strmap_put(&s->by_skel, k->key, k);
    }
    *kp = k;
    char base[33];
    memcpy(base, out, sizeof base);
    /* A typed name holds no '#', so only a cut name can collide: try the
     * next number then. */
    do {
        if (k->count >= NC_SRV_SAME_NAME_MAX) {
            snprintf(why, whylen, "%u students already have a name that looks like \"%s\"; "
                                  "pick another name", k->count, base);
            return false;
        }
        k->count++;
        if (k->count == 1)
            break;
        snprintf(looks_like, 33, "%s", k->first);
        /* Cut at a character boundary so that "#N" fits in 32 bytes. */
        size_t room = 32 - (size_t)snprintf(NULL, 0, "#%u", k->count), n = strlen(base);
        if (n > room) {
            n = room;
            while (n > 0 && ((unsigned char)base[n] & 0xC0) == 0x80)
                n--;
        }
        snprintf(out, 33, "%.*s#%u", (int)n, base, k->count);
    } while (nc_srv_by_name(s, out));
    return true;
}

static void nc_srv_send_yours(nc_class_server_t *s, nc_student_t *st, int type,
                              const nc_buf_t *body);

/* The welcome carries the student's answers so far ({checkpoint: key}),
 * so a student that lost its own record (killed, another machine) still
 * knows what it answered and is graded on it at the reveal. */
static void nc_srv_welcome(nc_class_server_t *s, nc_student_t *st, bool resumed, int have_run,
                           int64_t have)
{
    nc_buf_t b;
    nc_buf_init(&b);
    nc_buf_printf(&b, "{\"v\":%d,\"id\":%u,\"name\":", NC_CLASS_PROTO_VERSION, st->id);
    nc_buf_json_str(&b, st->name);
    nc_buf_puts(&b, ",\"token\":");
    nc_buf_json_str(&b, st->token);
    nc_buf_puts(&b, ",\"lesson\":");
    nc_buf_json_str(&b, s->lesson->id);
    nc_buf_puts(&b, ",\"mode\":");
    nc_buf_json_str(&b, s->o.mode == NC_CLASS_WATCH ? "watch" : "lockstep");
    nc_buf_printf(&b, ",\"page\":%d,\"step\":%d,\"resumed\":%s,\"answers\":{", s->page,
                  s->step, resumed ? "true" : "false");
    int na = 0;
    for (size_t k = 0; k < s->lesson->ncheckpoints; k++) {
        if (!st->answers[k][0])
            continue;
        if (na++)
            nc_buf_putc(&b, ',');
        nc_buf_json_str(&b, s->lesson->checkpoints[k].id);
        nc_buf_putc(&b, ':');
        nc_buf_json_str(&b, st->answers[k]);
    }
    nc_buf_puts(&b, "}}");
    nc_srv_send_student(s, st, NC_MSG_WELCOME, &b);
    nc_srun_t *r = nc_srv_cur(s);
    if (r && s->o.mode == NC_CLASS_WATCH) {
        nc_srv_run_msg(s, r, &b, r->done ? "done" : "started");
        nc_srv_send_student(s, st, NC_MSG_RUN, &b);
        st->run = r->id;
        st->next = have_run == r->id && have > 0 && (size_t)have <= r->n ? (size_t)have : 0;
    }
    if (nc_srv_cp(s) && s->cp_open) {
        nc_srv_cp_msg(s, &b);
        nc_srv_send_yours(s, st, NC_MSG_CHECKPOINT, &b);
    } else if (nc_srv_cp(s)) {
        /* Revealed: one who was away then holds the checkpoint's marks
         * held, so the reveal comes again. */
        nc_srv_reveal_msg(s, &b);
        nc_srv_send_yours(s, st, NC_MSG_REVEAL, &b);
    }
    nc_buf_done(&b);
    nc_srv_pump(s, st);
}

/* ---- admission: unfinished joins ---- */

/* Puts a new connection at the end of the unfinished joins (all, and its
 * source's). */
static void nc_srv_unfinished_add(nc_class_server_t *s, nc_sconn_t *sc)
{
    nc_bucket_t *b = &s->buckets[sc->src];
    sc->unfinished = true;
    sc->prev = s->ulast;
    sc->next = NULL;
    if (s->ulast)
        s->ulast->next = sc;
    else
        s->ufirst = sc;
    s->ulast = sc;
    sc->sprev = b->tail;
    sc->snext = NULL;
    if (b->tail)
        b->tail->snext = sc;
    else
        b->head = sc;
    b->tail = sc;
    s->pending++;
    b->pending++;
}

/* Takes a connection out of the unfinished joins (admitted or gone); once
 * only, whatever happens to it after. */
static void nc_srv_unfinished_remove(nc_class_server_t *s, nc_sconn_t *sc)
{
    if (!sc->unfinished)
        return;
    nc_bucket_t *b = &s->buckets[sc->src];
    sc->unfinished = false;
    if (sc->prev)
        sc->prev->next = sc->next;
    else
        s->ufirst = sc->next;
    if (sc->next)
        sc->next->prev = sc->prev;
    else
        s->ulast = sc->prev;
    if (sc->sprev)
        sc->sprev->snext = sc->snext;
    else
        b->head = sc->snext;
    if (sc->snext)
        sc->snext->sprev = sc->sprev;
    else
        b->tail = sc->sprev;
    sc->prev = sc->next = sc->sprev = sc->snext = NULL;
    s->pending--;
    b->pending--;
}

/* Closes an unfinished join to make room for a newer one. One that has
 * sent nothing yet is told why in plain text. */
static void nc_srv_evict(nc_class_server_t *s, nc_sconn_t *sc, const char *why)
{
    nc_srv_unfinished_remove(s, sc);
    nc_srv_count_drop(s, why);
    if (sc->conn->rx_bytes == 0)
        nc_conn_refuse(sc->conn, "busy", "the class is busy admitting others; try again");
    else
        nc_conn_close(sc->conn, why);
}

/* ---- messages from students ---- */

/* Sends st a message that carries the student's own answer ("yours") when
 * it has one: the checkpoint (after a resume) and the reveal. */
static void nc_srv_send_yours(nc_class_server_t *s, nc_student_t *st, int type,
                              const nc_buf_t *body)
{
    if (!st->answer[0] || body->len < 2) {
        nc_srv_send_student(s, st, type, body);
        return;
    }
    nc_buf_t b;
    nc_buf_init(&b);
    nc_buf_append(&b, body->data, body->len - 1);
    nc_buf_puts(&b, ",\"yours\":");
    nc_buf_json_str(&b, st->answer);
    nc_buf_putc(&b, '}');
    nc_srv_send_student(s, st, type, &b);
    nc_buf_done(&b);
}

/* A student that said goodbye gives its name back: the next student to
 * ask for it gets it (the entry stays in the roster, disconnected). */
static void nc_srv_free_name(nc_class_server_t *s, nc_student_t *st)
{
    if (nc_strmap_get(&s->by_name, st->name) != st)
        return;
    nc_strmap_del(&s->by_name, st->name);
    if (st->skel && st->skel->count)
        st->skel->count--;
    st->skel = NULL;
}

static nc_student_t *nc_srv_new_student(nc_class_server_t *s, const char *name, nc_skel_t *k)
{
    nc_student_t *st = nc_xcalloc(1, sizeof *st);
    st->skel = k;
    st->id = ++s->next_id;
    snprintf(st->name, sizeof st->name, "%s", name);
    st->answers = nc_xcalloc(s->lesson->ncheckpoints ? s->lesson->ncheckpoints : 1,
                             sizeof *st->answers);
    nc_srv_new_token(s, st);
    nc_strmap_put(&s->by_name, st->name, st);
    st->following = true;
    st->page = s->page;
    st->step = s->step;
    s->students = nc_xrealloc(s->students, (s->nstudents + 1) * sizeof *s->students);
    s->students[s->nstudents++] = st;
    return st;
}

/* Refuses a hello: the error, and a line in the log. */
static int nc_srv_refuse(nc_class_server_t *s, nc_sconn_t *sc, const char *code,
                         const char *text)
{
    nc_srv_send_error(sc->conn, code, text);
    nc_buf_t *b = nc_srv_log(s, "refused");
    nc_srv_kv(b, "from", sc->conn->peer);
    nc_srv_kv(b, "code", code);
    nc_srv_kv(b, "reason", text);
    nc_srv_end(s);
    return 1;
}

/* Admission (PROTOCOL.md): a valid resume token is the same roster entry
 * and passes the wrong-code limiter and the per-address cap (it is no new
 * student); a stranger needs tokens in its source's bucket, the right
 * code, room under the per-address cap and an acceptable name. */
static int nc_srv_hello(nc_class_server_t *s, nc_sconn_t *sc, const nc_json_t *m)
{
    nc_conn_t *c = sc->conn;
    int64_t v = 0;
    if (!nc_json_int(m, "v", &v) || v != NC_CLASS_PROTO_VERSION) {
        char text[160];
        snprintf(text, sizeof text,
                 "this class speaks protocol version %d; update netcourse to join it",
                 NC_CLASS_PROTO_VERSION);
        nc_srv_send_error(c, "version", text);
        nc_srv_count_drop(s, "wrong protocol version");
        return 1;
    }
    const char *token = nc_json_str(m, "token");
    const char *code = nc_json_str(m, "code");
    nc_student_t *st = nc_srv_by_token(s, token);
    if (!st && !nc_srv_bucket_take(s, sc->src, false)) {
        nc_srv_send_error(c, "rate",
                          "too many wrong join codes from your address; wait a minute");
        nc_srv_count_drop(s, "join refused: too many wrong codes from the source");
        return 1;
    }
    if (!code || !nc_srv_code_ok(s->code, code)) {
        nc_srv_bucket_take(s, sc->src, true);
        if (!st && token && token[0])
            return nc_srv_refuse(s, sc, "restarted",
                                 "this class was restarted and has a new join code; ask the "
                                 "instructor for it and join again with `netcourse join HOST "
                                 "NEW-CODE`");
        return nc_srv_refuse(s, sc, "code", "wrong join code");
    }
    bool resumed = st != NULL;
    char looks_like[33] = "";
    if (!st) {
        if (s->nconns - s->pending >= (size_t)s->o.max_conns) {
            nc_srv_count_drop(s, "join refused: the class is full");
            nc_srv_send_error(c, "full", "the class is full");
            return 1;
        }
        if (s->buckets[sc->src].admitted >= (uint32_t)s->o.max_per_address) {
            char text[200];
            snprintf(text, sizeof text,
                     "the class already has %d students from your address, its limit; ask "
                     "the instructor",
                     s->o.max_per_address);
            nc_srv_count_drop(s, "join refused: too many students from the source");
            nc_srv_send_error(c, "full", text);
            return 1;
        }
        char name[33], why[200];
        nc_skel_t *k = NULL;
        const char *want = nc_json_str(m, "name");
        if (!want || !nc_srv_clean_name(s, want, name, looks_like, &k, why, sizeof why))
            return nc_srv_refuse(s, sc, "name", want ? why : "a hello needs a name");
        st = nc_srv_new_student(s, name, k);
    } else {
        nc_srv_new_token(s, st);
        if (st->sc) {
            /* A takeover: the newer session wins, and the older one is told
             * why (a half-dead one never hears it; a live one, another join
             * with the same token, ends without retrying). */
            nc_sconn_t *old = st->sc;
            old->st = NULL;
            st->sc = NULL;
            nc_srv_send_error(old->conn, "replaced",
                              "another session joined with your resume token (another "
                              "`join` with the same data directory?), and the newer one "
                              "stays");
            nc_conn_close(old->conn, "replaced by the student's new connection");
        }
    }
    nc_srv_unfinished_remove(s, sc);
    sc->admitted = true;
    s->buckets[sc->src].admitted++;
    st->sc = sc;
    sc->st = st;
    st->lagging = false;
    st->violations = 0;
    int64_t have = 0, have_run = 0;
    nc_json_int(m, "have", &have);
    nc_json_int(m, "run", &have_run);
    nc_buf_t *b = nc_srv_log(s, "joined");
    nc_srv_kv(b, "student", st->name);
    nc_srv_kv(b, "from", c->peer);
    nc_buf_printf(b, ",\"resumed\":%s", resumed ? "true" : "false");
    if (looks_like[0])
        nc_srv_kv(b, "looks_like", looks_like);
    nc_srv_end(s);
    nc_srv_welcome(s, st, resumed, (int)have_run, have);
    s->dirty = true;
    return 0;
}

static int nc_srv_answer(nc_class_server_t *s, nc_student_t *st, const nc_json_t *m)
{
    const nc_checkpoint_t *cp = nc_srv_cp(s);
    const char *id = nc_json_str(m, "id");
    const char *choice = nc_json_str(m, "choice");
    if (!cp || !s->cp_open || !id || strcmp(id, cp->id) != 0 || !choice) {
        nc_srv_send_error(st->sc->conn, "closed", "that checkpoint is not open");
        return 0;
    }
    for (size_t j = 0; j < cp->nchoices; j++) {
        if (strcmp(cp->choices[j].key, choice) == 0) {
            snprintf(st->answer, sizeof st->answer, "%s", choice);
            memcpy(st->answers[s->cp], st->answer, sizeof st->answer);
            nc_buf_t *b = nc_srv_log(s, "answer");
            nc_srv_kv(b, "student", st->name);
            nc_srv_kv(b, "checkpoint", cp->id);
            nc_srv_kv(b, "choice", choice);
            nc_srv_end(s);
            nc_srv_log_tally(s);
            s->dirty = true;
            return 0;
        }
    }
    nc_srv_send_error(st->sc->conn, "choice", "no such choice");
    return 0;
}

static void nc_srv_results(nc_class_server_t *s)
{
    int reported = 0, saw = 0;
    for (size_t k = 0; k < s->nstudents; k++) {
        const nc_result_t *r = &s->students[k]->result;
        if (!r->have)
            continue;
        reported++;
        saw += r->saw_retransmission;
    }
    nc_srun_t *cur = nc_srv_cur(s);
    nc_buf_t *b = nc_srv_log(s, "results");
    nc_buf_printf(b, ",\"run\":%d,\"reported\":%d,\"saw_retransmission\":%d", cur ? cur->id : 0,
                  reported, saw);
    char text[200];
    snprintf(text, sizeof text, "%d saw a retransmission, %d did not", saw, reported - saw);
    nc_srv_kv(b, "text", text);
    nc_srv_end(s);
    pthread_mutex_lock(&s->lock);
    snprintf(s->snap.results, sizeof s->snap.results, "%s (%d reported)", text, reported);
    pthread_mutex_unlock(&s->lock);
}

static int nc_srv_result(nc_class_server_t *s, nc_student_t *st, const nc_json_t *m)
{
    nc_result_t *r = &st->result;
    nc_srun_t *cur = nc_srv_cur(s);
    int64_t run = 0;
    if (s->o.mode != NC_CLASS_LOCKSTEP || !cur || !nc_json_int(m, "run", &run) ||
        run != cur->id) {
        nc_srv_send_error(st->sc->conn, "result", "no lockstep run is waiting for results");
        return 0;
    }
    memset(r, 0, sizeof *r);
    r->have = true;
    nc_json_int(m, "events", &r->events);
    nc_json_int(m, "packets", &r->packets);
    nc_json_int(m, "dropped", &r->dropped);
    nc_json_int(m, "retransmissions", &r->retransmissions);
    r->saw_retransmission = nc_json_bool(m, "saw_retransmission", false);
    r->completed = nc_json_bool(m, "completed", false);
    const nc_json_t *d = nc_json_get(m, "decided");
    for (const nc_json_t *e = d && d->kind == NC_JSON_OBJ ? d->child : NULL; e && r->ndecided < 8;
         e = e->next) {
        if (e->kind != NC_JSON_STR)
            continue;
        snprintf(r->decided[r->ndecided][0], 32, "%s", e->key);
        snprintf(r->decided[r->ndecided][1], 32, "%s", e->v.s);
        r->ndecided++;
    }
    nc_buf_t *b = nc_srv_log(s, "result");
    nc_srv_kv(b, "student", st->name);
    nc_buf_printf(b,
                  ",\"run\":%d,\"events\":%lld,\"packets\":%lld,\"dropped\":%lld,"
                  "\"retransmissions\":%lld,\"saw_retransmission\":%s,\"completed\":%s",
                  cur->id, (long long)r->events, (long long)r->packets, (long long)r->dropped,
                  (long long)r->retransmissions, r->saw_retransmission ? "true" : "false",
                  r->completed ? "true" : "false");
    nc_srv_end(s);
    const char *why = nc_srv_outlier(&cur->ref, r);
    if (why)
        nc_srv_log_outlier(s, st, why);
    nc_srv_results(s);
    s->dirty = true;
    return 0;
}

/* A student's message rate: a bucket of NC_SRV_MSG_BURST refilled one
 * every NC_SRV_MSG_REFILL_MS. A message over the rate is dropped unread
 * (no reply, no log line of its own); a student that keeps on is cut. */
static bool nc_srv_msg_allowed(nc_class_server_t *s, nc_sconn_t *sc)
{
    if (nc_rate_take(&sc->msgs, (int64_t)uv_now(&s->loop), NC_SRV_MSG_BURST,
                     NC_SRV_MSG_REFILL_MS, true))
        return true;
    sc->over++;
    sc->dropped++;
    return false;
}

static int nc_srv_frame(nc_conn_t *c, int type, const uint8_t *body, uint32_t len)
{
    nc_sconn_t *sc = c->data;
    nc_class_server_t *s = sc->srv;
    const nc_msg_desc_t *d = nc_msg_desc(type);
    nc_student_t *st = sc->st;
    if (st && !nc_srv_msg_allowed(s, sc)) {
        if (sc->over < NC_SRV_FLOOD_CUT)
            return 0;
        nc_srv_send_error(c, "flood", "you sent too many messages too fast; disconnected");
        nc_buf_t *b = nc_srv_log(s, "flood");
        nc_srv_kv(b, "student", st->name);
        nc_buf_printf(b, ",\"dropped\":%u", sc->dropped);
        nc_srv_kv(b, "text", "cut: too many messages too fast");
        nc_srv_end(s);
        sc->dropped = 0;
        nc_conn_close(c, "cut: too many messages too fast");
        return 0;
    }
    if (!(d->from & NC_FROM_STUDENT) || (!st && type != NC_MSG_HELLO) ||
        (st && type == NC_MSG_HELLO)) {
        char text[160];
        snprintf(text, sizeof text, "%s may not send \"%s\"",
                 st ? "a student" : "a connection that has not said hello", d->name);
        nc_srv_send_error(c, "denied", text);
        if (!st) {
            nc_srv_count_drop(s, "a message before hello");
            return 1;
        }
        nc_buf_t *b = nc_srv_log(s, "denied");
        nc_srv_kv(b, "student", st->name);
        nc_srv_kv(b, "message", d->name);
        nc_srv_kv(b, "reason", "students may only send hello, answer, hand, ping, follow, "
                               "result and bye");
        nc_srv_end(s);
        return ++st->violations >= NC_SRV_MAX_VIOLATIONS;
    }
    nc_json_doc_t doc;
    char why[120];
    if (nc_json_parse(&doc, (const char *)body, len, why, sizeof why) != 0 ||
        doc.root->kind != NC_JSON_OBJ) {
        nc_json_doc_done(&doc);
        char text[200];
        snprintf(text, sizeof text, "garbage: a %s message that is not a JSON object", d->name);
        nc_srv_send_error(c, "garbage", text);
        if (st) {
            nc_buf_t *b = nc_srv_log(s, "garbage");
            nc_srv_kv(b, "student", st->name);
            nc_srv_kv(b, "reason", text);
            nc_srv_end(s);
        } else {
            nc_srv_count_drop(s, "garbage before hello");
        }
        return 1;
    }
    const nc_json_t *m = doc.root;
    int rc = 0;
    switch (type) {
    case NC_MSG_HELLO:
        rc = nc_srv_hello(s, sc, m);
        break;
    case NC_MSG_ANSWER:
        rc = nc_srv_answer(s, st, m);
        break;
    case NC_MSG_HAND:
        st->hand = nc_json_bool(m, "raised", true);
        {
            nc_buf_t *b = nc_srv_log(s, "hand");
            nc_srv_kv(b, "student", st->name);
            nc_buf_printf(b, ",\"raised\":%s", st->hand ? "true" : "false");
            nc_srv_end(s);
        }
        s->dirty = true;
        break;
    case NC_MSG_PING: {
        int64_t t = 0;
        nc_json_int(m, "t", &t);
        nc_buf_t b;
        nc_buf_init(&b);
        nc_buf_printf(&b, "{\"t\":%lld}", (long long)t);
        nc_conn_send(c, NC_MSG_PONG, b.data, b.len);
        nc_buf_done(&b);
        break;
    }
    case NC_MSG_FOLLOW: {
        bool was = st->following;
        st->following = nc_json_bool(m, "following", true);
        int64_t v;
        if (nc_json_int(m, "page", &v) && v >= 0 && (size_t)v < s->lesson->npages)
            st->page = (int)v;
        if (nc_json_int(m, "step", &v) && v >= 0 && (size_t)v <= s->lesson->nsteps)
            st->step = (int)v;
        if (st->following) {
            st->page = s->page;
            st->step = s->step;
        }
        if (was != st->following) {
            nc_buf_t *b = nc_srv_log(s, st->following ? "follow" : "unfollow");
            nc_srv_kv(b, "student", st->name);
            nc_srv_end(s);
        }
        s->dirty = true;
        break;
    }
    case NC_MSG_RESULT:
        rc = nc_srv_result(s, st, m);
        break;
    case NC_MSG_BYE:
        /* Goodbye ends the session for good: its token is no longer a
         * way back in. */
        nc_strmap_del(&s->by_token, st->token);
        st->token[0] = '\0';
        nc_srv_free_name(s, st);
        rc = 1;
        break;
    default:
        break;
    }
    nc_json_doc_done(&doc);
    return rc;
}

/* ---- connections ---- */

static void nc_srv_on_drain(nc_conn_t *c)
{
    nc_sconn_t *sc = c->data;
    if (sc->st)
        nc_srv_pump(sc->srv, sc->st);
}

static void nc_srv_on_close(nc_conn_t *c, const char *reason)
{
    nc_sconn_t *sc = c->data;
    nc_class_server_t *s = sc->srv;
    size_t last = s->nconns - 1;
    s->conns[sc->idx] = s->conns[last];
    s->conns[sc->idx]->idx = sc->idx;
    s->nconns--;
    nc_srv_unfinished_remove(s, sc);
    if (sc->admitted && s->buckets[sc->src].admitted)
        s->buckets[sc->src].admitted--;
    if (sc->dropped && sc->st && !s->stopping) {
        nc_buf_t *b = nc_srv_log(s, "throttled");
        nc_srv_kv(b, "student", sc->st->name);
        nc_buf_printf(b, ",\"dropped\":%u", sc->dropped);
        nc_srv_end(s);
    }
    if (sc->st) {
        nc_student_t *st = sc->st;
        st->sc = NULL;
        st->lagging = false;
        if (!s->stopping) {
            nc_buf_t *b = nc_srv_log(s, "left");
            nc_srv_kv(b, "student", st->name);
            nc_srv_kv(b, "reason", reason);
            nc_srv_end(s);
        }
        s->dirty = true;
    } else {
        if (!s->stopping && strncmp(reason, "garbage", 7) == 0) {
            nc_buf_t *b = nc_srv_log(s, "garbage");
            nc_srv_kv(b, "from", c->peer);
            nc_srv_kv(b, "reason", reason);
            nc_srv_end(s);
        } else if (!s->stopping && strstr(reason, "TLS")) {
            nc_srv_count_drop(s, reason);
        }
    }
    free(sc);
}

static const nc_conn_cb_t nc_srv_conn_cb = {
    .on_frame = nc_srv_frame,
    .on_drain = nc_srv_on_drain,
    .on_close = nc_srv_on_close,
};

static void nc_srv_on_connection(uv_stream_t *server, int status)
{
    nc_class_server_t *s = server->data;
    if (status < 0) {
        nc_srv_count_drop(s, uv_strerror(status));
        return;
    }
    nc_conn_t *c = nc_conn_new(&s->loop, s->ctx, true, &nc_srv_conn_cb, NC_FRAME_STUDENT_MAX);
    nc_sconn_t *sc = nc_xcalloc(1, sizeof *sc);
    sc->srv = s;
    sc->conn = c;
    c->data = sc;
    if (s->nconns == s->capconns) {
        s->capconns = s->capconns ? 2 * s->capconns : 64;
        s->conns = nc_xrealloc(s->conns, s->capconns * sizeof *s->conns);
    }
    sc->idx = s->nconns;
    s->conns[s->nconns++] = sc;
    c->out_cap = 4 * s->o.out_limit;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        nc_conn_close(c, "accept failed");
        return;
    }
    sc->src = nc_srv_source(s, &c->tcp);
    nc_bucket_t *b = &s->buckets[sc->src];
    /* Admission (PROTOCOL.md): room is made by evicting the oldest
     * unfinished join, of this source when the source is at its cap, else
     * of anyone. A class at max_conns still takes NC_SRV_RESERVE more
     * connections, which only a resuming student gets past hello; past
     * that, with no unfinished join left to evict, the class is full. */
    size_t most = (size_t)s->o.max_conns + NC_SRV_RESERVE;
    if (s->nconns > most && !s->ufirst) {
        nc_srv_count_drop(s, "connection refused: the class is full");
        nc_conn_refuse(c, "full", "the class is full");
        return;
    }
    if (b->pending >= NC_SRV_PENDING_PER_SOURCE)
        nc_srv_evict(s, b->head, "evicted: the oldest unfinished join from its source");
    else if (s->pending >= NC_SRV_PENDING_MAX || s->nconns > most)
        nc_srv_evict(s, s->ufirst, "evicted: the oldest unfinished join");
    nc_srv_unfinished_add(s, sc);
    if (nc_conn_start(c) != 0)
        nc_conn_close(c, "cannot read from the connection");
}

/* Every half second: timeouts, flood bookkeeping, the drop counts.
 *
 * A sweep that comes much later than due means the whole process was
 * stopped (SIGSTOP, a suspended laptop): whatever students sent meanwhile
 * waits unread in the sockets, so the time is forgiven (every deadline
 * moves by the gap) rather than counted as their silence. */
static void nc_srv_on_sweep(uv_timer_t *t)
{
    nc_class_server_t *s = t->data;
    int64_t now = nc_clock_mono_ns();
    int64_t gap = now - s->last_sweep_ns;
    s->last_sweep_ns = now;
    int64_t shift = gap > (int64_t)NC_SRV_PAUSE_MS * 1000000 ? gap : 0;
    int64_t hello_ns = (int64_t)s->o.hello_timeout_ms * 1000000;
    int64_t idle_ns = (int64_t)s->o.idle_timeout_ms * 1000000;
    bool load = s->pending > NC_SRV_LOAD_PENDING;
    for (size_t k = 0; k < s->nconns; k++) {
        nc_sconn_t *sc = s->conns[k];
        nc_conn_t *c = sc->conn;
        if (c->closing) {
            if (now > c->close_at + shift)
                nc_conn_force_close(c);
            continue;
        }
        c->opened_ns += shift;
        c->last_rx_ns += shift;
        sc->over /= 2;
        if (!sc->st && now - c->opened_ns > hello_ns) {
            nc_srv_count_drop(s, c->established
                                     ? "timed out: no hello after the TLS handshake"
                                     : "timed out: the TLS handshake did not finish");
            nc_conn_close(c, "timed out before hello");
        } else if (!sc->st && load && c->rx_bytes == 0 &&
                   now - c->opened_ns > (int64_t)NC_SRV_PRETLS_LOAD_MS * 1000000) {
            nc_srv_count_drop(s, "timed out under load: nothing sent");
            nc_conn_refuse(c, "busy", "the class is busy admitting others; try again");
        } else if (sc->st && now - c->last_rx_ns > idle_ns) {
            nc_conn_close(c, "idle: nothing heard for too long");
        }
        if (sc->st && sc->dropped && !c->closing) {
            nc_buf_t *b = nc_srv_log(s, "throttled");
            nc_srv_kv(b, "student", sc->st->name);
            nc_buf_printf(b, ",\"dropped\":%u", sc->dropped);
            nc_srv_end(s);
            sc->dropped = 0;
        }
    }
    if (shift) {
        nc_buf_t *b = nc_srv_log(s, "paused");
        nc_buf_printf(b, ",\"seconds\":%.1f", (double)gap / 1e9);
        nc_srv_kv(b, "text", "the instructor's process was stopped; no student is counted "
                             "idle for that time");
        nc_srv_end(s);
    }
    nc_srv_flush_drops(s);
}

/* ---- instructor commands ---- */

static void nc_srv_do_page(nc_class_server_t *s, const char *arg)
{
    int p = atoi(arg ? arg : "");
    if (p < 1 || (size_t)p > s->lesson->npages) {
        char text[120];
        snprintf(text, sizeof text, "page takes a number from 1 to %zu", s->lesson->npages);
        nc_srv_note(s, "error", text);
        return;
    }
    s->page = p - 1;
    nc_buf_t b;
    nc_buf_init(&b);
    nc_buf_printf(&b, "{\"page\":%d,\"title\":", s->page);
    nc_buf_json_str(&b, s->lesson->pages[s->page].title);
    nc_buf_putc(&b, '}');
    nc_srv_broadcast(s, NC_MSG_PAGE, &b);
    nc_buf_done(&b);
    for (size_t k = 0; k < s->nstudents; k++)
        if (s->students[k]->following)
            s->students[k]->page = s->page;
    nc_buf_t *l = nc_srv_log(s, "page");
    nc_buf_printf(l, ",\"page\":%d", s->page + 1);
    nc_srv_kv(l, "title", s->lesson->pages[s->page].title);
    nc_srv_end(s);
}

static void nc_srv_do_step(nc_class_server_t *s, const char *arg)
{
    int n = arg && *arg ? atoi(arg) : s->step + 2;
    if (n < 1 || (size_t)n > s->lesson->nsteps) {
        char text[120];
        snprintf(text, sizeof text, "step takes a number from 1 to %zu", s->lesson->nsteps);
        nc_srv_note(s, "error", text);
        return;
    }
    s->step = n - 1;
    const nc_step_t *st = &s->lesson->steps[s->step];
    nc_buf_t b;
    nc_buf_init(&b);
    nc_buf_printf(&b, "{\"step\":%d,\"id\":", s->step);
    nc_buf_json_str(&b, st->id);
    nc_buf_puts(&b, ",\"title\":");
    nc_buf_json_str(&b, st->title);
    nc_buf_putc(&b, '}');
    nc_srv_broadcast(s, NC_MSG_STEP, &b);
    nc_buf_done(&b);
    for (size_t k = 0; k < s->nstudents; k++)
        if (s->students[k]->following)
            s->students[k]->step = s->step;
    nc_buf_t *l = nc_srv_log(s, "step");
    nc_buf_printf(l, ",\"step\":%d", s->step + 1);
    nc_srv_kv(l, "id", st->id);
    nc_srv_kv(l, "title", st->title);
    nc_srv_end(s);
}

static void nc_srv_do_open(nc_class_server_t *s, const char *arg)
{
    int found = -1;
    for (size_t k = 0; arg && k < s->lesson->ncheckpoints; k++)
        if (strcmp(s->lesson->checkpoints[k].id, arg) == 0)
            found = (int)k;
    if (found < 0) {
        nc_buf_t ids;
        nc_buf_init(&ids);
        for (size_t k = 0; k < s->lesson->ncheckpoints; k++)
            nc_buf_printf(&ids, "%s%s", k ? ", " : "", s->lesson->checkpoints[k].id);
        char text[300];
        snprintf(text, sizeof text, "open takes a checkpoint of this lesson: %s",
                 nc_buf_cstr(&ids));
        nc_buf_done(&ids);
        nc_srv_note(s, "error", text);
        return;
    }
    s->cp = found;
    s->cp_open = true;
    s->right = -1;
    nc_srun_t *cur = nc_srv_cur(s);
    if (cur && cur->opened) {
        /* Students behind get the asked mark itself from now on. */
        cur->opened[found] = true;
        for (size_t k = 0; k < s->nstudents; k++)
            nc_srv_pump(s, s->students[k]);
    }
    for (size_t k = 0; k < s->nstudents; k++) {
        s->students[k]->answer[0] = '\0';
        s->students[k]->answers[found][0] = '\0';
    }
    nc_buf_t b;
    nc_buf_init(&b);
    nc_srv_cp_msg(s, &b);
    nc_srv_broadcast(s, NC_MSG_CHECKPOINT, &b);
    nc_buf_done(&b);
    nc_buf_t *l = nc_srv_log(s, "open");
    nc_srv_kv(l, "checkpoint", arg);
    nc_srv_kv(l, "question", s->lesson->checkpoints[found].question);
    nc_srv_end(s);
    nc_srv_log_tally(s);
}

/* The answer the instructor's own run decided, in either mode (in
 * lockstep the instructor runs the lesson too, with the students' seed and
 * faults, and streams nothing): never what students report, which is
 * theirs to see and may be forged. -1 when not decided. */
static int nc_srv_decided(nc_class_server_t *s)
{
    nc_srun_t *r = nc_srv_cur(s);
    if (!r || !r->run)
        return -1;
    nc_run_checkpoint_t rc;
    nc_run_checkpoint(r->run, (size_t)s->cp, &rc);
    return rc.right;
}

static void nc_srv_do_reveal(nc_class_server_t *s)
{
    const nc_checkpoint_t *cp = nc_srv_cp(s);
    if (!cp) {
        nc_srv_note(s, "error", "no checkpoint is open: `open CHECKPOINT` first");
        return;
    }
    int right = nc_srv_decided(s);
    s->cp_open = false;
    s->right = right;
    nc_srun_t *cur = nc_srv_cur(s);
    if (cur && cur->revealed)
        cur->revealed[s->cp] = true;
    int counts[8], answered;
    nc_srv_counts(s, counts, &answered);
    nc_buf_t b;
    nc_buf_init(&b);
    nc_srv_reveal_msg(s, &b);
    for (size_t k = 0; k < s->nstudents; k++)
        if (s->students[k]->sc)
            nc_srv_send_yours(s, s->students[k], NC_MSG_REVEAL, &b);
    nc_buf_done(&b);
    nc_buf_t *l = nc_srv_log(s, "reveal");
    nc_srv_tally_body(s, l);
    if (right >= 0) {
        nc_srv_kv(l, "answer", cp->choices[right].key);
        nc_buf_printf(l, ",\"right\":%d,\"wrong\":%d", counts[right], answered - counts[right]);
    } else {
        nc_buf_puts(l, ",\"answer\":null");
        nc_srv_kv(l, "text", "no run has decided this checkpoint yet");
    }
    nc_srv_end(s);
}

/* A new run is about to start: the previous one gives back its lab,
 * probe and frame cache (nobody streams it any more) and keeps its
 * timeline, which the dashboard may still be drawing; older ones are
 * freed. So a long lecture holds one run and one timeline, however many
 * it had. */
/* The lab's hosts, address to name, as the run message carries them: the
 * student's pipeline names the packets it decodes with them. */
static void nc_srv_run_hosts(nc_srun_t *r)
{
    nc_lab_t *lab = nc_run_lab(r->run);
    const char *addrs[32], *names[32];
    size_t n = lab ? nc_lab_addrs(lab, addrs, names, 32) : 0;
    nc_buf_t b;
    nc_buf_init(&b);
    nc_buf_putc(&b, '{');
    for (size_t k = 0; k < n; k++) {
        if (k)
            nc_buf_putc(&b, ',');
        nc_buf_json_str(&b, addrs[k]);
        nc_buf_putc(&b, ':');
        nc_buf_json_str(&b, names[k]);
    }
    nc_buf_putc(&b, '}');
    r->hosts = nc_xstrdup(nc_buf_cstr(&b));
    nc_buf_done(&b);
}

static void nc_srv_release_runs(nc_class_server_t *s)
{
    for (size_t k = 0; k < s->nruns; k++) {
        nc_srun_t *r = s->runs[k];
        nc_buf_done(&r->frames);
        free(r->off);
        r->off = NULL;
        r->cap = 0;
        nc_buf_done(&r->full);
        free(r->held);
        r->held = NULL;
        r->nheld = 0;
        if (r->run && k + 1 < s->nruns) {
            nc_run_free(r->run);
            r->run = NULL;
        } else if (r->run) {
            nc_run_release(r->run);
        }
    }
    malloc_trim(0);
}

static void nc_srv_do_run(nc_class_server_t *s)
{
    nc_srun_t *cur = nc_srv_cur(s);
    if (cur && cur->run && !cur->done) {
        nc_srv_note(s, "error", "a run is still going; wait for it to finish");
        return;
    }
    nc_srun_t *r = nc_xcalloc(1, sizeof *r);
    r->id = (int)s->nruns + 1;
    nc_buf_init(&r->frames);
    nc_buf_init(&r->full);
    size_t ncp = s->lesson->ncheckpoints;
    r->opened = nc_xcalloc(ncp ? ncp : 1, sizeof *r->opened);
    r->revealed = nc_xcalloc(ncp ? ncp : 1, sizeof *r->revealed);
    if (s->cp >= 0 && s->cp_open)
        r->opened[s->cp] = true; /* opened before the run: asked in the open */
    {
        nc_run_opts_t ro = s->o.run;
        ro.faults = s->inject;
        ro.nfaults = s->ninject;
        char err[512] = "";
        r->run = nc_run_start(s->lesson, &ro, err, sizeof err);
        if (!r->run) {
            char text[600];
            snprintf(text, sizeof text, "the run could not start: %s", err);
            nc_srv_note(s, "error", text);
            nc_srv_run_free(r);
            return;
        }
    }
    nc_srv_run_hosts(r);
    nc_srv_release_runs(s);
    s->runs = nc_xrealloc(s->runs, (s->nruns + 1) * sizeof *s->runs);
    s->runs[s->nruns++] = r;
    for (size_t k = 0; k < s->nstudents; k++) {
        s->students[k]->run = r->id;
        s->students[k]->next = 0;
        memset(&s->students[k]->result, 0, sizeof s->students[k]->result);
    }
    nc_buf_t b;
    nc_buf_init(&b);
    nc_srv_run_msg(s, r, &b, s->o.mode == NC_CLASS_WATCH ? "started" : "start");
    nc_srv_broadcast(s, NC_MSG_RUN, &b);
    nc_buf_done(&b);
    nc_buf_t *l = nc_srv_log(s, "run");
    nc_buf_printf(l, ",\"run\":%d,\"state\":\"started\",\"mode\":\"%s\",\"faults\":%zu", r->id,
                  s->o.mode == NC_CLASS_WATCH ? "watch" : "lockstep", s->ninject);
    nc_srv_end(s);
    for (size_t k = 0; k < s->ninject; k++)
        nc_fault_done(&s->inject[k]);
    s->ninject = 0;
    if (r->run)
        uv_timer_start(&s->poll, nc_srv_on_poll, 10, 10);
    s->dirty = true;
}

/* Lockstep: a run is in progress while a connected student it started
 * has not reported its result. */
static bool nc_srv_lockstep_going(const nc_class_server_t *s, const nc_srun_t *r)
{
    for (size_t k = 0; k < s->nstudents; k++) {
        const nc_student_t *st = s->students[k];
        if (st->sc && st->run == r->id && !st->result.have)
            return true;
    }
    return false;
}

static void nc_srv_do_inject(nc_class_server_t *s, const char *arg)
{
    nc_fault_t f;
    char err[400];
    if (nc_fault_parse(arg ? arg : "", &f, err, sizeof err) != 0) {
        nc_srv_note(s, "error", err);
        return;
    }
    nc_srun_t *cur = nc_srv_cur(s);
    bool live = false;
    if (s->o.mode == NC_CLASS_WATCH && cur && cur->run && !cur->done) {
        if (nc_lab_add_fault(nc_run_lab(cur->run), &f, err, sizeof err) != 0) {
            nc_srv_note(s, "error", err);
            nc_fault_done(&f);
            return;
        }
        live = true;
        nc_fault_done(&f);
    } else if (s->o.mode == NC_CLASS_LOCKSTEP && cur && nc_srv_lockstep_going(s, cur)) {
        /* Students' runs are going: they add it live, or ignore it when
         * theirs is over; so does the instructor's own, which judges. */
        if (cur->run && !cur->done)
            nc_lab_add_fault(nc_run_lab(cur->run), &f, err, sizeof err);
        nc_buf_t b;
        nc_buf_init(&b);
        nc_buf_printf(&b, "{\"run\":%d,\"fault\":", cur->id);
        nc_buf_json_str(&b, f.spec);
        nc_buf_putc(&b, '}');
        nc_srv_broadcast(s, NC_MSG_INJECT, &b);
        nc_buf_done(&b);
        live = true;
        nc_fault_done(&f);
    }
    if (!live) {
        s->inject = nc_xrealloc(s->inject, (s->ninject + 1) * sizeof *s->inject);
        s->inject[s->ninject++] = f;
    }
    nc_buf_t *l = nc_srv_log(s, "inject");
    nc_srv_kv(l, "fault", arg);
    nc_buf_printf(l, ",\"live\":%s", live ? "true" : "false");
    nc_srv_kv(l, "text",
              !live                         ? "no run is in progress: it applies to the next run"
              : s->o.mode == NC_CLASS_WATCH ? "added to the run in progress"
                                            : "added to the students' runs in progress");
    nc_srv_end(s);
}

static void nc_srv_do_roster(nc_class_server_t *s)
{
    nc_buf_t *l = nc_srv_log(s, "roster");
    nc_buf_puts(l, ",\"students\":[");
    for (size_t k = 0; k < s->nstudents; k++) {
        const nc_student_t *st = s->students[k];
        nc_buf_printf(l, "%s{\"name\":", k ? "," : "");
        nc_buf_json_str(l, st->name);
        nc_buf_printf(l,
                      ",\"connected\":%s,\"following\":%s,\"page\":%d,\"step\":%d,"
                      "\"answered\":%s,\"hand\":%s,\"lagging\":%s}",
                      st->sc ? "true" : "false", st->following ? "true" : "false", st->page + 1,
                      st->step + 1, st->answer[0] ? "true" : "false", st->hand ? "true" : "false",
                      st->lagging ? "true" : "false");
    }
    nc_buf_printf(l, "],\"connections\":%zu,\"unfinished\":%zu", s->nconns, s->pending);
    nc_srv_end(s);
}

static void nc_srv_do_drop(nc_class_server_t *s, const char *arg)
{
    nc_student_t *st = arg ? nc_srv_by_name(s, arg) : NULL;
    if (!st || !st->sc) {
        nc_srv_note(s, "error", "drop takes the name of a connected student");
        return;
    }
    nc_conn_close(st->sc->conn, "dropped by the instructor");
}

static void nc_srv_stop(nc_class_server_t *s);

static void nc_srv_do_quit(nc_class_server_t *s)
{
    nc_srv_note(s, "quit", "the class is over");
    nc_srv_stop(s);
}

typedef struct nc_srv_cmd {
    const char *name;
    void (*fn)(nc_class_server_t *s, const char *arg);
} nc_srv_cmd_t;

static void nc_srv_cmd_reveal(nc_class_server_t *s, const char *arg)
{
    nc_srv_do_reveal(s);
}
static void nc_srv_cmd_run(nc_class_server_t *s, const char *arg)
{
    nc_srv_do_run(s);
}
static void nc_srv_cmd_roster(nc_class_server_t *s, const char *arg)
{
    nc_srv_do_roster(s);
}
static void nc_srv_cmd_quit(nc_class_server_t *s, const char *arg)
{
    nc_srv_do_quit(s);
}

static const nc_srv_cmd_t nc_srv_cmds[] = {
    {"page", nc_srv_do_page},     {"step", nc_srv_do_step},         {"open", nc_srv_do_open},
    {"reveal", nc_srv_cmd_reveal}, {"inject", nc_srv_do_inject},     {"run", nc_srv_cmd_run},
    {"roster", nc_srv_cmd_roster}, {"drop", nc_srv_do_drop},         {"quit", nc_srv_cmd_quit},
};

static void nc_srv_command(nc_class_server_t *s, char *line)
{
    char *p = line + strspn(line, " \t");
    size_t n = strcspn(p, " \t\r\n");
    char *arg = p + n;
    arg += strspn(arg, " \t");
    arg[strcspn(arg, "\r\n")] = '\0';
    if (n == 0 || *p == '#')
        return;
    for (size_t k = 0; k < sizeof nc_srv_cmds / sizeof nc_srv_cmds[0]; k++) {
        if (strlen(nc_srv_cmds[k].name) == n && strncmp(p, nc_srv_cmds[k].name, n) == 0) {
            nc_srv_cmds[k].fn(s, *arg ? arg : NULL);
            s->dirty = true;
            return;
        }
    }
    char text[200];
    snprintf(text, sizeof text,
             "unknown command \"%.*s\"; the commands are page N, step [N], open CHECKPOINT, "
             "reveal, inject FAULT, run, roster, drop NAME, quit",
             (int)(n > 40 ? 40 : n), p);
    nc_srv_note(s, "error", text);
}

static void nc_srv_on_wake(uv_async_t *a)
{
    nc_class_server_t *s = a->data;
    for (;;) {
        pthread_mutex_lock(&s->lock);
        char *line = NULL;
        if (s->ncmds) {
            line = s->cmds[0];
            memmove(s->cmds, s->cmds + 1, (s->ncmds - 1) * sizeof *s->cmds);
            s->ncmds--;
        }
        pthread_mutex_unlock(&s->lock);
        if (!line)
            break;
        if (!s->stopping)
            nc_srv_command(s, line);
        free(line);
    }
}

/* ---- the snapshot ---- */

static void nc_srv_publish(nc_class_server_t *s)
{
    nc_class_snapshot_t n;
    memset(&n, 0, sizeof n);
    n.mode = s->o.mode;
    n.page = s->page;
    n.step = s->step;
    n.conns = s->nconns;
    n.nstudents = s->nstudents;
    n.students = nc_xcalloc(s->nstudents ? s->nstudents : 1, sizeof *n.students);
    for (size_t k = 0; k < s->nstudents; k++) {
        const nc_student_t *st = s->students[k];
        nc_class_student_info_t *i = &n.students[k];
        snprintf(i->name, sizeof i->name, "%s", st->name);
        i->connected = st->sc != NULL;
        n.nconnected += i->connected;
        i->following = st->following;
        i->hand = st->hand;
        i->answered = st->answer[0] != '\0';
        i->lagging = st->lagging;
        i->reported = st->result.have;
        i->page = st->page;
        i->step = st->step;
        snprintf(i->answer, sizeof i->answer, "%s", st->answer);
    }
    const nc_checkpoint_t *cp = nc_srv_cp(s);
    n.right = -1;
    if (cp) {
        snprintf(n.checkpoint, sizeof n.checkpoint, "%s", cp->id);
        n.cp_open = s->cp_open;
        n.nchoices = (int)(cp->nchoices < 8 ? cp->nchoices : 8);
        for (int j = 0; j < n.nchoices; j++)
            snprintf(n.keys[j], sizeof n.keys[j], "%s", cp->choices[j].key);
        nc_srv_counts(s, n.counts, &n.answered);
        n.right = s->right;
    }
    nc_srun_t *r = nc_srv_cur(s);
    n.run = (int)s->nruns;
    if (r) {
        n.run_active = (r->run && !r->done) ||
                       (s->o.mode == NC_CLASS_LOCKSTEP && nc_srv_lockstep_going(s, r));
        n.tl = r->run && s->o.mode == NC_CLASS_WATCH ? nc_run_timeline(r->run) : NULL;
        n.runp = n.tl ? r->run : NULL;
    }
    pthread_mutex_lock(&s->lock);
    memcpy(n.results, s->snap.results, sizeof n.results);
    free(s->snap.students);
    s->snap = n;
    pthread_mutex_unlock(&s->lock);
}

static void nc_srv_on_check(uv_check_t *h)
{
    nc_class_server_t *s = h->data;
    if (s->dirty) {
        s->dirty = false;
        nc_srv_publish(s);
    }
}

void nc_class_server_snapshot(nc_class_server_t *s, nc_class_snapshot_t *out)
{
    pthread_mutex_lock(&s->lock);
    *out = s->snap;
    out->students = nc_xcalloc(s->snap.nstudents ? s->snap.nstudents : 1, sizeof *out->students);
    if (s->snap.nstudents)
        memcpy(out->students, s->snap.students, s->snap.nstudents * sizeof *out->students);
    pthread_mutex_unlock(&s->lock);
}

void nc_class_snapshot_done(nc_class_snapshot_t *snap)
{
    free(snap->students);
    snap->students = NULL;
}

/* ---- life ---- */

static void nc_srv_walk_close(uv_handle_t *h, void *arg)
{
    if (h->type == UV_TCP && h->data != arg) {
        /* A connection: close it through its owner. */
        nc_conn_t *c = h->data;
        nc_conn_force_close(c);
        return;
    }
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void nc_srv_stop(nc_class_server_t *s)
{
    if (s->stopping)
        return;
    s->stopping = true;
    nc_buf_t bye;
    nc_buf_init(&bye);
    nc_buf_puts(&bye, "{\"text\":\"the instructor ended the class\"}");
    nc_srv_broadcast(s, NC_MSG_BYE, &bye);
    nc_buf_done(&bye);
    for (size_t k = 0; k < s->nconns; k++)
        nc_conn_close(s->conns[k]->conn, "the class is over");
    for (int k = 0; k < s->nlisten; k++)
        uv_close((uv_handle_t *)&s->listen[k], NULL);
    s->nlisten = 0;
    uv_timer_stop(&s->poll);
    atomic_store(&s->finished, true);
    nc_srv_publish(s);
}

/* From nc_class_server_free: stop, then close every handle so that uv_run
 * returns. */
static void nc_srv_final(uv_async_t *a)
{
    nc_class_server_t *s = a->data;
    nc_srv_stop(s);
    uv_walk(&s->loop, nc_srv_walk_close, s);
}

static void *nc_srv_thread(void *arg)
{
    nc_class_server_t *s = arg;
    uv_run(&s->loop, UV_RUN_DEFAULT);
    return NULL;
}

static int nc_srv_listen(nc_class_server_t *s, const char *addr, bool v6only, char *err,
                         size_t errlen)
{
    struct sockaddr_storage ss;
    int port = s->port >= 0 ? s->port : NC_CLASS_DEFAULT_PORT;
    if (uv_ip6_addr(addr, port, (struct sockaddr_in6 *)&ss) != 0 &&
        uv_ip4_addr(addr, port, (struct sockaddr_in *)&ss) != 0) {
        snprintf(err, errlen, "--bind needs an IP address, not \"%s\"", addr);
        return NC_EINVAL;
    }
    uv_tcp_t *t = &s->listen[s->nlisten];
    uv_tcp_init(&s->loop, t);
    t->data = s;
    int rc = uv_tcp_bind(t, (struct sockaddr *)&ss, v6only ? UV_TCP_IPV6ONLY : 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)t, 511, nc_srv_on_connection);
    if (rc != 0) {
        snprintf(err, errlen, "cannot listen on %s port %d: %s", addr, port, uv_strerror(rc));
        uv_close((uv_handle_t *)t, NULL);
        return NC_ESYS;
    }
    struct sockaddr_storage got;
    int len = sizeof got;
    uv_tcp_getsockname(t, (struct sockaddr *)&got, &len);
    s->port = ntohs(got.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&got)->sin6_port
                                              : ((struct sockaddr_in *)&got)->sin_port);
    s->nlisten++;
    return 0;
}

nc_class_server_t *nc_class_server_start(const nc_class_server_opts_t *o, char *err,
                                         size_t errlen)
{
    nc_class_server_t *s = nc_xcalloc(1, sizeof *s);
    s->o = *o;
    s->lesson = o->lesson;
    s->cp = -1;
    s->right = -1;
    s->port = o->port;
    if (!s->o.max_conns)
        s->o.max_conns = 4096;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        (rlim_t)s->o.max_conns + 64 + NC_SRV_RESERVE > rl.rlim_cur)
        s->o.max_conns = rl.rlim_cur > 128 + NC_SRV_RESERVE
                             ? (int)(rl.rlim_cur - 64 - NC_SRV_RESERVE)
                             : 64;
    if (!s->o.hello_timeout_ms)
        s->o.hello_timeout_ms = 10000;
    if (!s->o.idle_timeout_ms)
        s->o.idle_timeout_ms = 30000;
    if (!s->o.out_limit)
        s->o.out_limit = 256 * 1024;
    if (s->o.max_per_address <= 0)
        s->o.max_per_address = NC_SRV_PER_ADDRESS;
    nc_class_name_init();
    nc_strmap_init(&s->by_token);
    nc_strmap_init(&s->by_name);
    nc_strmap_init(&s->by_skel);
    nc_buf_init(&s->line);
    pthread_mutex_init(&s->lock, NULL);
    RAND_bytes(s->hash_key, sizeof s->hash_key);
    nc_srv_make_code(s->code);
    s->ctx = nc_tls_server_ctx(o->data_dir, s->fp, err, errlen);
    if (!s->ctx) {
        nc_buf_done(&s->line);
        pthread_mutex_destroy(&s->lock);
        free(s);
        return NULL;
    }
    uv_loop_init(&s->loop);
    int rc;
    if (o->bind) {
        rc = nc_srv_listen(s, o->bind, false, err, errlen);
    } else {
        /* One dual-stack socket; where IPv6 is off, IPv4 alone. */
        rc = nc_srv_listen(s, "::", false, err, errlen);
        if (rc != 0)
            rc = nc_srv_listen(s, "0.0.0.0", false, err, errlen);
    }
    uv_timer_init(&s->loop, &s->sweep);
    uv_timer_init(&s->loop, &s->poll);
    uv_async_init(&s->loop, &s->wake, nc_srv_on_wake);
    uv_async_init(&s->loop, &s->stop_async, nc_srv_final);
    uv_check_init(&s->loop, &s->check);
    s->sweep.data = s->poll.data = s->wake.data = s->stop_async.data = s->check.data = s;
    if (rc != 0) {
        s->nlisten = 0;
        uv_walk(&s->loop, nc_srv_walk_close, s);
        uv_run(&s->loop, UV_RUN_DEFAULT);
        uv_loop_close(&s->loop);
        SSL_CTX_free(s->ctx);
        nc_buf_done(&s->line);
        pthread_mutex_destroy(&s->lock);
        free(s);
        return NULL;
    }
    s->last_sweep_ns = nc_clock_mono_ns();
    uv_timer_start(&s->sweep, nc_srv_on_sweep, NC_SRV_SWEEP_MS, NC_SRV_SWEEP_MS);
    uv_check_start(&s->check, nc_srv_on_check);
    nc_srv_publish(s);
    nc_buf_t *l = nc_srv_log(s, "listening");
    nc_srv_kv(l, "bind", o->bind ? o->bind : "::");
    nc_buf_printf(l, ",\"port\":%d", s->port);
    nc_srv_kv(l, "code", s->code);
    nc_srv_kv(l, "fingerprint", s->fp);
    nc_srv_kv(l, "lesson", s->lesson->id);
    nc_srv_kv(l, "mode", o->mode == NC_CLASS_WATCH ? "watch" : "lockstep");
    nc_srv_end(s);
    if (pthread_create(&s->thread, NULL, nc_srv_thread, s) != 0) {
        snprintf(err, errlen, "cannot start the class thread");
        nc_class_server_free(s);
        return NULL;
    }
    s->started = true;
    return s;
}

const char *nc_class_server_code(const nc_class_server_t *s)
{
    return s->code;
}

const char *nc_class_server_fingerprint(const nc_class_server_t *s)
{
    return s->fp;
}

int nc_class_server_port(const nc_class_server_t *s)
{
    return s->port;
}

void nc_class_server_command(nc_class_server_t *s, const char *line)
{
    pthread_mutex_lock(&s->lock);
    if (s->ncmds < 1024) {
        s->cmds = nc_xrealloc(s->cmds, (s->ncmds + 1) * sizeof *s->cmds);
        s->cmds[s->ncmds++] = nc_xstrdup(line);
    }
    pthread_mutex_unlock(&s->lock);
    uv_async_send(&s->wake);
}

bool nc_class_server_finished(nc_class_server_t *s)
{
    return atomic_load(&s->finished);
}


void nc_class_server_free(nc_class_server_t *s)
{
    if (!s)
        return;
    if (s->started) {
        uv_async_send(&s->stop_async);
        pthread_join(s->thread, NULL);
    }
    uv_loop_close(&s->loop);
    for (size_t k = 0; k < s->nruns; k++) {
        nc_srun_t *r = s->runs[k];
        if (r->run) {
            nc_run_stop(r->run);
            nc_run_free(r->run);
        }
        nc_srv_run_free(r);
    }
    free(s->runs);
    for (size_t k = 0; k < s->nstudents; k++) {
        free(s->students[k]->answers);
        free(s->students[k]);
    }
    free(s->students);
    for (size_t k = 0; k < s->by_skel.cap; k++)
        if (s->by_skel.vals[k])
            free(s->by_skel.vals[k]);
    nc_strmap_done(&s->by_token);
    nc_strmap_done(&s->by_name);
    nc_strmap_done(&s->by_skel);
    for (size_t k = 0; k < s->ninject; k++)
        nc_fault_done(&s->inject[k]);
    free(s->inject);
    for (size_t k = 0; k < s->ncmds; k++)
        free(s->cmds[k]);
    free(s->cmds);
    free(s->conns);
    free(s->snap.students);
    SSL_CTX_free(s->ctx);
    nc_buf_done(&s->line);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
