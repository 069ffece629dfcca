/*
 * replay.c: merging a capture file's packets with a saved run's record.
 *
 * Data model: a capfile reader over the mapped file gives the packets; for
 * a saved run, `body`..`body_end` is the rest of the Custom Block's text and
 * `line` the next line, peeked: its kind and index are known (`peek_kind`,
 * `peek_index`) before it is parsed in full. Event number `next_i` is the
 * position the next event takes: an event line whose "i" is not past it
 * goes first, otherwise the next packet does. `extra` holds the fields of
 * the last "p" line, appended to every packet from that one on.
 *
 * Decoding again (`lazy`, for the interface): `cks` are the decoder's state
 * before packet `number`, with the reader's mark there, in packet order;
 * the loading thread appends to them under `lock`. The decoding thread has
 * a reader and a pipeline of its own (`lz_cap`, `lz_pipe`) that stand before
 * packet `lz_next`: a packet at or after it, and after the checkpoint
 * before the asked one, is reached by decoding on; any other from that
 * checkpoint.
 */
#include "replay.h"

#include "capfile.h"

#include "../core/error.h"
#include "../core/xmalloc.h"
#include "../decode/decode.h"
#include "../pipeline/pipeline.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct nc_replay {
    uint8_t *map;    /* the mapping, when nc_replay_open made one */
    size_t maplen;
    const uint8_t *data;
    size_t len;
    nc_capfile_t *cap;
    nc_pipeline_t *pipe; /* decode -> annotate, in file order */
    bool saved;
    nc_runfile_info_t info;
    const char *body, *body_end; /* the Custom Block's lines not read yet */
    int peek_kind;               /* -1: none peeked */
    uint64_t peek_index;
    const char *peek_line;
    size_t peek_len;
    nc_evb_t extra;
    bool have_extra;
    uint64_t next_i;
    int64_t t0;
    bool t0_known;
    bool packets_done;
    bool streams_done; /* nc_decoder_finish said all it had */
    bool break_noted;
    char break_msg[256];
    int64_t last_t;
    /* Decoding again (see the top of the file). */
    bool lazy;
    bool bare;            /* foreign packets are built without annotation */
    bool last_bare;       /* the event nc_replay_next built last is one */
    uint64_t last_ref;    /* the packet nc_replay_next built last, or 0 */
    uint64_t next_ck;     /* the packet number the next checkpoint waits for */
    uint64_t ck_every;    /* packets between checkpoints, at least */
    pthread_mutex_t lock; /* cks, ncks, cap_cks, ck_bytes */
    struct nc_replay_ck {
        uint64_t number;
        nc_capfile_mark_t mark;
        nc_decoder_ck_t *dec;
    } *cks;
    size_t ncks, cap_cks, ck_bytes;
    nc_capfile_t *lz_cap;
    nc_pipeline_t *lz_pipe;
    uint64_t lz_next;
};

/* Checkpoints are at least this many packets apart, and further when one
 * is big, so that they cost at most NC_REPLAY_CK_BYTES a packet. */
#define NC_REPLAY_CK_EVERY 2048
#define NC_REPLAY_CK_BYTES 8

/* The decryptor every replay opened from now on decrypts TLS with. */
static const nc_decryptor_t *nc_replay_decryptor;
static void *nc_replay_decryptor_ctx;

void nc_replay_use_decryptor(const nc_decryptor_t *dec, void *ctx)
{
    nc_replay_decryptor = dec;
    nc_replay_decryptor_ctx = ctx;
}

/* Hands the key logs of the Decryption Secrets Blocks read so far to the
 * decryptor, before the packets after them are decoded. */
static void nc_replay_secrets(nc_replay_t *r)
{
    const uint8_t *p;
    size_t n;
    while (nc_capfile_take_secrets(r->cap, &p, &n))
        if (nc_replay_decryptor && nc_replay_decryptor->add_secrets)
            nc_replay_decryptor->add_secrets(nc_replay_decryptor_ctx, (const char *)p, n);
}

static void nc_replay_unsupported(int linktype, char *err, size_t errlen)
{
    const char *name = nc_capfile_linktype_name(linktype);
    char what[96];
    if (name)
        snprintf(what, sizeof what, "%s (link type %d)", name, linktype);
    else
        snprintf(what, sizeof what, "link type %d", linktype);
    snprintf(err, errlen,
             "the capture's frames are %s, which netcourse cannot decode; it reads Ethernet, "
             "Linux cooked (SLL, SLL2), raw IPv4/IPv6 and BSD loopback captures",
             what);
}

nc_replay_t *nc_replay_open_mem(const uint8_t *data, size_t len, char *err, size_t errlen)
{
    nc_capfile_t *cap = nc_capfile_open(data, len, err, errlen);
    if (cap == NULL)
        return NULL;
    if (nc_capfile_iface_count(cap) > 0 &&
        !nc_decoder_supports(nc_capfile_iface_linktype(cap, 0))) {
        nc_replay_unsupported(nc_capfile_iface_linktype(cap, 0), err, errlen);
        nc_capfile_close(cap);
        return NULL;
    }
    nc_replay_t *r = nc_xcalloc(1, sizeof *r);
    r->data = data;
    r->len = len;
    r->cap = cap;
    r->pipe = nc_pipeline_new(nc_replay_decryptor, nc_replay_decryptor_ctx, NULL);
    nc_replay_secrets(r);
    r->peek_kind = -1;
    pthread_mutex_init(&r->lock, NULL);
    nc_evb_init(&r->extra);
    const uint8_t *payload;
    size_t plen, body;
    char why[256];
    if (nc_capfile_custom_tail(cap, NC_RUNFILE_PEN, &payload, &plen)) {
        if (nc_runfile_info_parse(payload, plen, &r->info, &body, why, sizeof why) == 0) {
            r->saved = true;
            r->body = (const char *)payload + body;
            r->body_end = (const char *)payload + plen;
            /* The block is padded with NULs to a multiple of 4. */
            while (r->body_end > r->body && r->body_end[-1] == '\0')
                r->body_end--;
            r->t0 = r->info.t0_ns;
            r->t0_known = true;
            for (size_t i = 0; i < r->info.nhosts; i++)
                nc_pipeline_name_host(r->pipe, r->info.host_addrs[i], r->info.host_names[i]);
        } else {
            snprintf(r->break_msg, sizeof r->break_msg, "%s", why);
        }
    }
    return r;
}

nc_replay_t *nc_replay_open(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s is not a regular file", path);
        close(fd);
        return NULL;
    }
    size_t len = (size_t)st.st_size;
    uint8_t *map = NULL;
    if (len > 0) {
        map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
            close(fd);
            return NULL;
        }
        madvise(map, len, MADV_SEQUENTIAL);
    }
    close(fd);
    char why[512];
    nc_replay_t *r = nc_replay_open_mem(map ? map : (const uint8_t *)"", len, why, sizeof why);
    if (r == NULL) {
        snprintf(err, errlen, "%s: %s", path, why);
        if (map)
            munmap(map, len);
        return NULL;
    }
    r->map = map;
    r->maplen = len;
    return r;
}

void nc_replay_close(nc_replay_t *r)
{
    if (r == NULL)
        return;
    nc_capfile_close(r->cap);
    nc_pipeline_free(r->pipe);
    nc_runfile_info_done(&r->info);
    nc_evb_done(&r->extra);
    for (size_t k = 0; k < r->ncks; k++)
        nc_decoder_ck_free(r->cks[k].dec);
    free(r->cks);
    nc_capfile_close(r->lz_cap);
    nc_pipeline_free(r->lz_pipe);
    pthread_mutex_destroy(&r->lock);
    if (r->map)
        munmap(r->map, r->maplen);
    free(r);
}

const nc_runfile_info_t *nc_replay_info(const nc_replay_t *r)
{
    return r->saved ? &r->info : NULL;
}

int64_t nc_replay_t0(const nc_replay_t *r)
{
    return r->t0_known ? r->t0 : 0;
}

/* Peeks the next line of the block: its kind and index, without parsing it
 * all. A line that does not start as ours ends the block. */
static void nc_replay_peek(nc_replay_t *r)
{
    while (r->peek_kind < 0 && r->body && r->body < r->body_end) {
        const char *nl = memchr(r->body, '\n', (size_t)(r->body_end - r->body));
        const char *end = nl ? nl : r->body_end;
        const char *line = r->body;
        r->body = nl ? nl + 1 : r->body_end;
        size_t n = (size_t)(end - line);
        if (n == 0)
            continue;
        int kind = -1;
        if (n > 5 && memcmp(line, "{\"i\":", 5) == 0)
            kind = NC_RUNFILE_LINE_EVENT;
        else if (n > 5 && memcmp(line, "{\"p\":", 5) == 0)
            kind = NC_RUNFILE_LINE_PACKET;
        if (kind < 0)
            continue; /* a line this version does not know: skipped */
        uint64_t v = 0;
        size_t k = 5;
        while (k < n && line[k] >= '0' && line[k] <= '9' && v < (UINT64_MAX / 10 - 10))
            v = v * 10 + (uint64_t)(line[k++] - '0');
        r->peek_kind = kind;
        r->peek_index = v;
        r->peek_line = line;
        r->peek_len = n;
    }
}

/* The note that closes a file which broke off. */
static void nc_replay_break_note(nc_replay_t *r, nc_evb_t *b)
{
    nc_evb_reset(b, NC_EV_NOTE, r->t0 + r->last_t);
    nc_evb_host(b, "replay");
    nc_evb_summary(b, "%s", r->break_msg);
    nc_evb_note(b, "Everything before this point is shown; the rest of the file is missing or "
                   "unreadable.");
    nc_evb_str(b, "error", r->break_msg);
}

/* Builds packet p into b through pipeline pipe: a saved run's packet with
 * its record (the "p" fields, and its comment for its note), a foreign
 * capture's annotated when `annotate` (not when only the decoder's state
 * matters, or another thread annotates). */
static void nc_replay_build(nc_replay_t *r, nc_pipeline_t *pipe, const nc_capfile_packet_t *p,
                            nc_evb_t *b, bool annotate)
{
    nc_frame_t f = {p->ts_ns, p->linktype, p->data, p->caplen, p->wirelen, p->iface};
    nc_pipeline_rec_t rec = {.bare = !annotate};
    if (r->saved) {
        rec.fields = r->have_extra ? &r->extra : NULL;
        rec.note = p->comment && p->comment_len ? (const char *)p->comment : "";
        rec.note_len = p->comment ? p->comment_len : 0;
    }
    nc_pipeline_build(pipe, &f, &rec, b);
}

/* Decodes packet p into b. */
static void nc_replay_packet(nc_replay_t *r, const nc_capfile_packet_t *p, nc_evb_t *b)
{
    if (!r->t0_known) {
        r->t0 = p->ts_ns;
        r->t0_known = true;
    }
    /* Bare: the caller annotates it on another thread (nc_replay_write), or
     * keeps only its time and decodes it again when shown (the interface). */
    nc_replay_build(r, r->pipe, p, b, !r->bare);
    r->last_bare = r->bare && !r->saved;
}

void nc_replay_defer_annotation(nc_replay_t *r)
{
    r->bare = true;
}

bool nc_replay_bare(const nc_replay_t *r)
{
    return r->last_bare;
}

void nc_replay_keep_checkpoints(nc_replay_t *r, uint64_t every)
{
    r->lazy = !r->saved;
    r->bare = true;
    r->next_ck = 1;
    r->ck_every = every ? every : NC_REPLAY_CK_EVERY;
}

uint64_t nc_replay_packet_ref(const nc_replay_t *r)
{
    return r->last_ref;
}

size_t nc_replay_memory(nc_replay_t *r)
{
    pthread_mutex_lock(&r->lock);
    size_t n = r->ck_bytes + r->cap_cks * sizeof(*r->cks);
    pthread_mutex_unlock(&r->lock);
    return n;
}

/* Saves the decoder's state before packet p, which `mark` points at, when
 * one is due and the decoder can (nothing held out of order). */
static void nc_replay_checkpoint(nc_replay_t *r, const nc_capfile_packet_t *p,
                                 const nc_capfile_mark_t *mark)
{
    if (!r->lazy || p->number < r->next_ck)
        return;
    size_t bytes = 0;
    const nc_decoder_ck_t *prev = r->ncks ? r->cks[r->ncks - 1].dec : NULL;
    nc_decoder_ck_t *ck = nc_decoder_save(nc_pipeline_decoder(r->pipe), prev, &bytes);
    if (ck == NULL)
        return; /* the next packet tries again */
    pthread_mutex_lock(&r->lock);
    if (r->ncks == r->cap_cks) {
        r->cap_cks = r->cap_cks ? r->cap_cks * 2 : 64;
        r->cks = nc_xrealloc(r->cks, r->cap_cks * sizeof(*r->cks));
    }
    r->cks[r->ncks++] = (struct nc_replay_ck){p->number, *mark, ck};
    r->ck_bytes += bytes;
    pthread_mutex_unlock(&r->lock);
    uint64_t every = bytes / NC_REPLAY_CK_BYTES;
    r->next_ck = p->number + (every > r->ck_every ? every : r->ck_every);
}

int nc_replay_decode(nc_replay_t *r, uint64_t ref, nc_evb_t *b)
{
    pthread_mutex_lock(&r->lock);
    size_t lo = 0, hi = r->ncks;
    while (hi - lo > 1) { /* the last checkpoint at or before ref */
        size_t mid = (lo + hi) / 2;
        if (r->cks[mid].number <= ref)
            lo = mid;
        else
            hi = mid;
    }
    struct nc_replay_ck ck = r->ncks ? r->cks[lo] : (struct nc_replay_ck){0};
    pthread_mutex_unlock(&r->lock);
    if (ck.dec == NULL || ck.number > ref)
        return -1;
    char why[256];
    if (r->lz_cap == NULL) {
        r->lz_cap = nc_capfile_open(r->data, r->len, why, sizeof why);
        r->lz_pipe = nc_pipeline_new(nc_replay_decryptor, nc_replay_decryptor_ctx, NULL);
        if (r->lz_cap == NULL)
            return -1;
    }
    if (r->lz_next == 0 || r->lz_next > ref || r->lz_next < ck.number) {
        nc_decoder_restore(nc_pipeline_decoder(r->lz_pipe), ck.dec);
        nc_capfile_seek(r->lz_cap, &ck.mark);
        r->lz_next = ck.number;
    }
    nc_capfile_packet_t p;
    while (nc_capfile_next(r->lz_cap, &p, why, sizeof why) == 1) {
        r->lz_next = p.number + 1;
        nc_replay_build(r, r->lz_pipe, &p, b, p.number == ref);
        if (p.number == ref)
            return 0;
    }
    r->lz_next = 0;
    return -1;
}

int nc_replay_next(nc_replay_t *r, nc_evb_t *b, char *err, size_t errlen)
{
    char why[256];
    r->last_ref = 0;
    r->last_bare = false;
    for (;;) {
        nc_replay_peek(r);
        if (r->peek_kind == NC_RUNFILE_LINE_EVENT &&
            (r->peek_index <= r->next_i || r->packets_done)) {
            uint64_t idx;
            int kind = nc_runfile_line_parse(r->peek_line, r->peek_len, b, &idx, why, sizeof why);
            r->peek_kind = -1;
            if (kind != NC_RUNFILE_LINE_EVENT)
                continue; /* a damaged line: skipped */
            b->ev.t_ns += r->t0;
            r->last_t = b->ev.t_ns - r->t0;
            b->ev.i = r->next_i++;
            nc_evb_view(b);
            return 1;
        }
        if (r->packets_done) {
            /* A capture ends its streams (a saved run replays as it ran
             * live, where the lab's end ends nothing). */
            if (!r->saved && !r->streams_done) {
                if (nc_decoder_finish(nc_pipeline_decoder(r->pipe), r->t0 + r->last_t, b) > 0) {
                    b->ev.i = r->next_i++;
                    nc_evb_view(b);
                    return 1;
                }
                r->streams_done = true;
            }
            if (r->break_msg[0] && !r->break_noted) {
                r->break_noted = true;
                nc_replay_break_note(r, b);
                b->ev.i = r->next_i++;
                nc_evb_view(b);
                return 1;
            }
            return 0;
        }
        nc_capfile_packet_t p;
        nc_capfile_mark_t mark;
        if (r->lazy)
            nc_capfile_tell(r->cap, &mark);
        int rc = nc_capfile_next(r->cap, &p, why, sizeof why);
        nc_replay_secrets(r);
        if (rc <= 0) {
            r->packets_done = true;
            if (rc < 0)
                snprintf(r->break_msg, sizeof r->break_msg, "%s", why);
            continue;
        }
        if (!nc_decoder_supports(p.linktype)) {
            nc_replay_unsupported(p.linktype, err, errlen);
            r->packets_done = true;
            r->break_msg[0] = '\0';
            r->body = NULL;
            r->peek_kind = -1;
            return NC_EUNSUPP;
        }
        /* The "p" line of this packet, when there is one. */
        while (r->peek_kind == NC_RUNFILE_LINE_PACKET && r->peek_index <= p.number) {
            uint64_t idx;
            int kind = nc_runfile_line_parse(r->peek_line, r->peek_len, &r->extra, &idx, why,
                                             sizeof why);
            r->peek_kind = -1;
            r->have_extra = kind == NC_RUNFILE_LINE_PACKET && r->extra.nfields > 0;
            nc_replay_peek(r);
        }
        if (r->lazy)
            nc_replay_checkpoint(r, &p, &mark);
        nc_replay_packet(r, &p, b);
        r->last_ref = r->lazy ? p.number : 0;
        r->last_t = b->ev.t_ns - r->t0;
        b->ev.i = r->next_i++;
        nc_evb_view(b);
        return 1;
    }
}
