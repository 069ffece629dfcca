/*
 * client.c: a student's class client (see client.h and PROTOCOL.md).
 *
 * Data model, owned by the client's loop: one connection at a time (conn,
 * NULL while waiting to reconnect); the class position (page, step, open
 * checkpoint, my answer); the runs: in watch mode one local timeline per
 * instructor run, filled from event messages in order (an event whose
 * index is not the next one is a duplicate and is skipped); in lockstep
 * mode the student's own nc_run_t. Old timelines are kept until the client
 * is freed, so a view holding one never dangles. `view` is the copy other
 * threads read, refreshed under `lock` after every change.
 */
#include "client.h"

#include "conn.h"
#include "evjson.h"
#include "hold.h"
#include "json.h"
#include "proto.h"
#include "record.h"
#include "server.h"
#include "tls.h"

#include "../core/buf.h"
#include "../core/clock.h"
#include "../core/error.h"
#include "../core/xmalloc.h"
#include "../decode/decode.h"
#include "../decrypt/decrypt.h"
#include "../decrypt/keylog.h"
#include "../lab/lab.h"
#include "../lesson/lesson.h"
#include "../pipeline/pipeline.h"
#include "../store/store.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { NC_CL_PING_MS = 5000, NC_CL_RETRY_MAX_MS = 5000 };

/* A checkpoint of the current run: what the student's side knows of it
 * (in lockstep, all the student's own run knows), and whether the
 * instructor has opened and revealed it, which decides what the view may
 * show (hold.h). */
typedef struct nc_cl_cp {
    nc_class_cp_t known;
    bool opened, revealed;
} nc_cl_cp_t;

struct nc_class_client {
    nc_class_client_opts_t o;
    char *host, *code, *name, *data_dir, *fingerprint;
    char hostport[300];
    uv_loop_t *loop;
    uv_loop_t own_loop;
    pthread_t thread;
    bool threaded;
    SSL_CTX *ctx;
    nc_conn_t *conn;
    uv_getaddrinfo_t gai;
    bool resolving;
    uv_connect_t connect;
    uv_timer_t ping, retry, poll;
    uv_async_t wake, stop_async;
    int attempts;
    bool stopping, fatal, done;
    bool admitted;              /* welcomed at least once */
    bool reached;               /* the instructor has said something, ever */
    char pin_fp[NC_TLS_FP_LEN]; /* to pin once admitted, "" */
    int status;
    char error[800];
    char token[40];

    pthread_mutex_t lock; /* commands, view, finished */
    char **cmds;
    size_t ncmds;
    nc_class_view_t view;

    /* the class */
    bool welcomed, following;
    char lesson_id[64];
    const nc_lesson_t *lesson;
    bool lockstep;
    int page, step, my_page;
    char cp_id[64];
    bool cp_open;
    char my_answer[8];
    char revealed[8];
    nc_cl_cp_t cps[NC_CLASS_MAX_CPS];
    int ncps;
    int run;
    int64_t t0;
    nc_timeline_t **tls;
    size_t ntls;
    nc_timeline_t *tl;
    nc_run_t **runs;
    size_t nruns;
    nc_run_t *local;
    size_t local_shown;
    bool local_done;
    nc_store_t *store;
    nc_evb_t b;  /* an event message's event, or a packet's record */
    nc_evb_t pb; /* a packet built again from its bytes and record */
    /* The current run's pipeline (src/pipeline): the decoder the streamed
     * packets are built again with, naming the run's hosts and decrypting
     * with keys, the secrets the instructor streamed (watch) or the
     * student's own run's (lockstep, borrowed). */
    nc_pipeline_t *pipe;
    nc_keylog_t *keys;
    nc_buf_t line;
};

/* ---- output ---- */

static void nc_cl_emit(nc_class_client_t *c)
{
    if (c->o.out)
        c->o.out(c->o.arg, nc_buf_cstr(&c->line));
    nc_buf_reset(&c->line);
}

static nc_buf_t *nc_cl_log(nc_class_client_t *c, const char *what)
{
    nc_buf_reset(&c->line);
    nc_buf_puts(&c->line, "{\"class\":");
    nc_buf_json_str(&c->line, what);
    return &c->line;
}

static void nc_cl_kv(nc_buf_t *b, const char *key, const char *val)
{
    nc_buf_putc(b, ',');
    nc_buf_json_str(b, key);
    nc_buf_putc(b, ':');
    if (val)
        nc_buf_json_str(b, val);
    else
        nc_buf_puts(b, "null");
}

static void nc_cl_end(nc_class_client_t *c)
{
    nc_buf_putc(&c->line, '}');
    nc_cl_emit(c);
}

static void nc_cl_status(nc_class_client_t *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void nc_cl_refresh(nc_class_client_t *c)
{
    pthread_mutex_lock(&c->lock);
    nc_class_view_t *v = &c->view;
    v->connected = c->conn && c->conn->established && c->welcomed;
    v->following = c->following;
    v->welcomed = c->welcomed;
    snprintf(v->name, sizeof v->name, "%s", c->name);
    snprintf(v->lesson, sizeof v->lesson, "%s", c->lesson_id);
    snprintf(v->mode, sizeof v->mode, "%s", c->lockstep ? "lockstep" : "watch");
    v->page = c->page;
    v->step = c->step;
    v->my_page = c->my_page;
    snprintf(v->cp_id, sizeof v->cp_id, "%s", c->cp_id);
    v->cp_open = c->cp_open;
    snprintf(v->my_answer, sizeof v->my_answer, "%s", c->my_answer);
    snprintf(v->revealed, sizeof v->revealed, "%s", c->revealed);
    v->run = c->run;
    v->tl = c->tl;
    v->local_run = c->local;
    v->ncps = c->ncps;
    for (int k = 0; k < c->ncps; k++) {
        const nc_cl_cp_t *cp = &c->cps[k];
        nc_class_cp_t *o = &v->cps[k];
        snprintf(o->id, sizeof o->id, "%s", cp->known.id);
        o->asked_at = cp->opened ? cp->known.asked_at : -1;
        o->decided_at = cp->revealed ? cp->known.decided_at : -1;
        snprintf(o->answer, sizeof o->answer, "%s", cp->revealed ? cp->known.answer : "");
        snprintf(o->explain, sizeof o->explain, "%s", cp->revealed ? cp->known.explain : "");
        o->skipped = cp->revealed && cp->known.skipped;
    }
    pthread_mutex_unlock(&c->lock);
}

static void nc_cl_status(nc_class_client_t *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&c->lock);
    vsnprintf(c->view.status, sizeof c->view.status, fmt, ap);
    pthread_mutex_unlock(&c->lock);
    va_end(ap);
}

static void nc_cl_send(nc_class_client_t *c, int type, const nc_buf_t *body)
{
    if (c->conn && c->conn->established)
        nc_conn_send(c->conn, type, body->data, body->len);
}

static void nc_cl_send_follow(nc_class_client_t *c)
{
    nc_buf_t b;
    nc_buf_init(&b);
    nc_buf_printf(&b, "{\"following\":%s,\"page\":%d,\"step\":%d}",
                  c->following ? "true" : "false", c->following ? c->page : c->my_page, c->step);
    nc_cl_send(c, NC_MSG_FOLLOW, &b);
    nc_buf_done(&b);
}

/* ---- the end ---- */

static void nc_cl_finish(nc_class_client_t *c, int status, const char *why)
{
    if (c->done)
        return;
    c->done = true;
    c->status = status;
    pthread_mutex_lock(&c->lock);
    snprintf(c->error, sizeof c->error, "%s", why ? why : "");
    pthread_mutex_unlock(&c->lock);
    uv_timer_stop(&c->ping);
    uv_timer_stop(&c->retry);
    if (c->conn)
        nc_conn_close(c->conn, why ? why : "the class is over");
    nc_cl_status(c, "%s", why ? why : "the class is over");
}

/* ---- progress ---- */

static nc_store_t *nc_cl_store(nc_class_client_t *c)
{
    if (!c->store && c->data_dir) {
        char err[256];
        c->store = nc_store_open(c->data_dir, err, sizeof err);
    }
    return c->store;
}

static void nc_cl_store_answer(nc_class_client_t *c, const char *cp, const char *choice,
                               bool correct)
{
    nc_store_t *st = nc_cl_store(c);
    if (st && c->lesson_id[0])
        nc_store_answer(st, c->lesson_id, cp, choice, correct);
}

/* ---- checkpoints of the current run ---- */

/* The checkpoint with this id, added when new (NULL when the table is
 * full or id is NULL). */
static nc_cl_cp_t *nc_cl_cp(nc_class_client_t *c, const char *id)
{
    if (!id)
        return NULL;
    for (int k = 0; k < c->ncps; k++)
        if (strcmp(c->cps[k].known.id, id) == 0)
            return &c->cps[k];
    if (c->ncps == NC_CLASS_MAX_CPS)
        return NULL;
    nc_cl_cp_t *cp = &c->cps[c->ncps++];
    memset(cp, 0, sizeof *cp);
    snprintf(cp->known.id, sizeof cp->known.id, "%s", id);
    cp->known.asked_at = cp->known.decided_at = -1;
    return cp;
}

/* A new run knows nothing of its checkpoints yet; the one open now is
 * open for it too. */
static void nc_cl_cps_reset(nc_class_client_t *c)
{
    c->ncps = 0;
    nc_cl_cp_t *cp = c->cp_open ? nc_cl_cp(c, c->cp_id) : NULL;
    if (cp)
        cp->opened = true;
}

/* A checkpoint mark that reached the timeline released (the instructor
 * opened or revealed its checkpoint): what it says becomes known. */
static void nc_cl_cp_mark(nc_class_client_t *c, const nc_event_t *ev)
{
    const char *id;
    nc_hold_kind_t kind = nc_hold_kind(ev, &id);
    nc_cl_cp_t *cp = kind != NC_HOLD_NONE ? nc_cl_cp(c, id) : NULL;
    if (!cp)
        return;
    if (kind == NC_HOLD_ASK) {
        cp->known.asked_at = (long)ev->i;
        cp->opened = true;
        return;
    }
    const char *answer = nc_event_str(ev, "answer");
    const char *explain = nc_event_str(ev, "explain");
    const char *what = nc_event_str(ev, "event");
    int64_t by;
    cp->known.skipped = what && strcmp(what, "skipped") == 0;
    snprintf(cp->known.answer, sizeof cp->known.answer, "%s", answer ? answer : "");
    if (explain)
        snprintf(cp->known.explain, sizeof cp->known.explain, "%s", explain);
    cp->known.decided_at = nc_event_int(ev, "by", &by) ? (long)by : (long)ev->i;
    cp->revealed = true;
}

/* Lockstep: the student's own run knows its checkpoints as it goes. */
static void nc_cl_cps_local(nc_class_client_t *c)
{
    for (size_t k = 0; k < nc_run_checkpoint_count(c->local); k++) {
        nc_run_checkpoint_t rc;
        nc_run_checkpoint(c->local, k, &rc);
        bool known = rc.asked_at >= 0 || rc.right >= 0 || rc.skipped;
        nc_cl_cp_t *cp = known ? nc_cl_cp(c, rc.cp->id) : NULL;
        if (!cp)
            continue;
        cp->known.asked_at = rc.asked_at;
        cp->known.skipped = rc.skipped;
        if (rc.explain)
            snprintf(cp->known.explain, sizeof cp->known.explain, "%s", rc.explain);
        if (rc.right >= 0 && (size_t)rc.right < rc.cp->nchoices) {
            snprintf(cp->known.answer, sizeof cp->known.answer, "%s", rc.cp->choices[rc.right].key);
            cp->known.decided_at = rc.decided_at >= 0 ? rc.decided_at : rc.asked_at;
        }
    }
}

/* ---- runs ---- */

/* A new pipeline for a new run: its hosts are names (an object of the run
 * message, address to name, or NULL) or the lab's of a local run; it
 * decrypts with the streamed secrets, or with local's. */
static void nc_cl_new_pipeline(nc_class_client_t *c, const nc_json_t *names, nc_run_t *local)
{
    nc_pipeline_free(c->pipe);
    nc_keylog_free(c->keys);
    c->keys = local ? NULL : nc_keylog_new();
    c->pipe = nc_pipeline_new(&nc_decrypt_tls, local ? nc_run_keylog(local) : c->keys, NULL);
    if (local && nc_run_lab(local)) {
        const char *addrs[32], *hosts[32];
        size_t n = nc_lab_addrs(nc_run_lab(local), addrs, hosts, 32);
        for (size_t k = 0; k < n; k++)
            nc_pipeline_name_host(c->pipe, addrs[k], hosts[k]);
    }
    for (const nc_json_t *h = names && names->kind == NC_JSON_OBJ ? names->child : NULL; h;
         h = h->next)
        if (h->kind == NC_JSON_STR && h->key)
            nc_pipeline_name_host(c->pipe, h->key, h->v.s);
}

static void nc_cl_new_timeline(nc_class_client_t *c, int64_t t0)
{
    nc_timeline_t *tl = nc_timeline_new(t0);
    nc_timeline_set_window(tl, 0);
    c->tls = nc_xrealloc(c->tls, (c->ntls + 1) * sizeof *c->tls);
    c->tls[c->ntls++] = tl;
    c->tl = tl;
}

static void nc_cl_print_event(nc_class_client_t *c, const nc_event_t *ev)
{
    if (!c->o.out)
        return;
    nc_buf_reset(&c->line);
    nc_event_json(ev, &c->line);
    nc_cl_emit(c);
}

static void nc_cl_report(nc_class_client_t *c)
{
    nc_timeline_t *tl = nc_run_timeline(c->local);
    size_t n = nc_timeline_count(tl);
    long packets = 0, dropped = 0, retrans = 0;
    for (size_t i = 0; i < n; i++) {
        const nc_event_t *ev = nc_timeline_get(tl, i);
        if (ev->type != NC_EV_PACKET)
            continue;
        packets++;
        dropped += nc_event_bool(ev, "dropped");
        retrans += nc_event_bool(ev, "tcp.retransmission");
    }
    char err[256] = "";
    bool completed = nc_run_status(c->local, err, sizeof err) == 0;
    nc_buf_t b;
    nc_buf_init(&b);
    nc_buf_printf(&b,
                  "{\"run\":%d,\"events\":%zu,\"packets\":%ld,\"dropped\":%ld,"
                  "\"retransmissions\":%ld,\"saw_retransmission\":%s,\"completed\":%s,"
                  "\"decided\":{",
                  c->run, n, packets, dropped, retrans, retrans ? "true" : "false",
                  completed ? "true" : "false");
    size_t ncp = nc_run_checkpoint_count(c->local);
    int shown = 0;
    for (size_t k = 0; k < ncp && k < 8; k++) {
        nc_run_checkpoint_t rc;
        nc_run_checkpoint(c->local, k, &rc);
        if (rc.right < 0)
            continue;
        nc_buf_printf(&b, "%s", shown++ ? "," : "");
        nc_buf_json_str(&b, rc.cp->id);
        nc_buf_putc(&b, ':');
        nc_buf_json_str(&b, rc.cp->choices[rc.right].key);
    }
    nc_buf_puts(&b, "}}");
    nc_cl_send(c, NC_MSG_RESULT, &b);
    nc_buf_reset(&c->line);
    nc_buf_puts(&c->line, "{\"class\":\"result\",");
    nc_buf_append(&c->line, b.data + 1, b.len - 1);
    nc_cl_emit(c);
    nc_buf_done(&b);
    if (completed && c->lesson_id[0] && nc_cl_store(c))
        nc_store_run_seen(c->store, c->lesson_id);
}

static void nc_cl_local_event(nc_class_client_t *c, const nc_event_t *ev);

static void nc_cl_on_poll(uv_timer_t *t)
{
    nc_class_client_t *c = t->data;
    if (!c->local || c->local_done)
        return;
    bool over = nc_run_poll(c->local);
    nc_timeline_t *tl = nc_run_timeline(c->local);
    size_t n = nc_timeline_count(tl);
    bool more = c->local_shown < n;
    for (; c->local_shown < n; c->local_shown++)
        nc_cl_local_event(c, nc_timeline_get(tl, c->local_shown));
    if (more) {
        nc_cl_cps_local(c);
        nc_cl_refresh(c);
    }
    if (over) {
        c->local_done = true;
        uv_timer_stop(&c->poll);
        nc_cl_report(c);
        nc_cl_refresh(c);
    }
}

/* Lockstep: the instructor started a run; ours is the same lesson with the
 * same seed, link and faults. */
static void nc_cl_start_local(nc_class_client_t *c, const nc_json_t *m)
{
    if (!c->lesson) {
        nc_buf_t *b = nc_cl_log(c, "error");
        nc_cl_kv(b, "text", "this netcourse does not have the class's lesson, so it cannot run it");
        nc_cl_end(c);
        return;
    }
    if (c->local && !c->local_done) {
        nc_run_stop(c->local);
        nc_run_poll(c->local);
    }
    nc_run_opts_t ro = {0};
    int64_t seed = 1;
    nc_json_int(m, "seed", &seed);
    ro.seed = (uint64_t)seed;
    ro.link = nc_json_str(m, "link");
    const nc_json_t *fl = nc_json_get(m, "faults");
    nc_fault_t faults[16];
    size_t nf = 0;
    for (const nc_json_t *f = fl && fl->kind == NC_JSON_ARR ? fl->child : NULL; f && nf < 16;
         f = f->next) {
        char err[300];
        if (f->kind == NC_JSON_STR && nc_fault_parse(f->v.s, &faults[nf], err, sizeof err) == 0)
            nf++;
    }
    ro.faults = faults;
    ro.nfaults = nf;
    char err[512] = "";
    nc_run_t *r = nc_run_start(c->lesson, &ro, err, sizeof err);
    for (size_t k = 0; k < nf; k++)
        nc_fault_done(&faults[k]);
    if (!r) {
        nc_buf_t *b = nc_cl_log(c, "error");
        nc_cl_kv(b, "text", err);
        nc_cl_end(c);
        return;
    }
    c->runs = nc_xrealloc(c->runs, (c->nruns + 1) * sizeof *c->runs);
    c->runs[c->nruns++] = r;
    c->local = r;
    c->local_shown = 0;
    c->local_done = false;
    c->t0 = nc_timeline_t0(nc_run_timeline(r));
    nc_cl_new_timeline(c, c->t0);
    nc_cl_new_pipeline(c, NULL, r);
    nc_cl_cps_reset(c);
    uv_timer_start(&c->poll, nc_cl_on_poll, 10, 10);
}

/* ---- messages from the instructor ---- */

static void nc_cl_save_token(nc_class_client_t *c)
{
    if (!c->data_dir || !c->o.keep_token)
        return;
    char *path = nc_xasprintf("%s/class/resume", c->data_dir);
    FILE *f = fopen(path, "w");
    if (f) {
        fprintf(f, "%s %s\n", c->hostport, c->token);
        fclose(f);
    }
    free(path);
}

static void nc_cl_load_token(nc_class_client_t *c)
{
    if (!c->data_dir || !c->o.keep_token)
        return;
    char *path = nc_xasprintf("%s/class/resume", c->data_dir);
    FILE *f = fopen(path, "r");
    char hp[300], tok[40];
    if (f && fscanf(f, "%299s %39s", hp, tok) == 2 && strcmp(hp, c->hostport) == 0)
        snprintf(c->token, sizeof c->token, "%s", tok);
    if (f)
        fclose(f);
    free(path);
}

/* Admitted: the certificate the connection showed is pinned now (it was
 * only looked at before, so that a refused join pins nothing). */
static void nc_cl_pin(nc_class_client_t *c)
{
    if (!c->pin_fp[0] || !c->data_dir)
        return;
    char err[800] = "";
    int rc =
        nc_tls_pin_check(c->data_dir, c->hostport, c->pin_fp, c->o.trust_new_cert, err, sizeof err);
    nc_buf_t *b = nc_cl_log(c, rc < 0 ? "error" : "pinned");
    nc_cl_kv(b, "fingerprint", c->pin_fp);
    if (rc < 0)
        nc_cl_kv(b, "text", err);
    else
        nc_cl_kv(b, "pin", rc == NC_TLS_PIN_REPLACED ? "replaced" : "new");
    nc_cl_end(c);
    c->pin_fp[0] = '\0';
}

static void nc_cl_welcome(nc_class_client_t *c, const nc_json_t *m)
{
    const char *tok = nc_json_str(m, "token");
    const char *name = nc_json_str(m, "name");
    const char *lesson = nc_json_str(m, "lesson");
    const char *mode = nc_json_str(m, "mode");
    int64_t page = 0, step = 0;
    nc_json_int(m, "page", &page);
    nc_json_int(m, "step", &step);
    if (tok)
        snprintf(c->token, sizeof c->token, "%s", tok);
    if (name) {
        free(c->name);
        c->name = nc_xstrdup(name);
    }
    snprintf(c->lesson_id, sizeof c->lesson_id, "%s", lesson ? lesson : "");
    c->lesson = c->o.course ? nc_course_find(c->o.course, c->lesson_id) : NULL;
    c->lockstep = mode && strcmp(mode, "lockstep") == 0;
    c->page = (int)page;
    c->step = (int)step;
    if (c->following)
        c->my_page = c->page;
    c->welcomed = true;
    c->admitted = true;
    c->attempts = 0;
    nc_cl_save_token(c);
    nc_cl_pin(c);
    nc_buf_t *b = nc_cl_log(c, "welcome");
    nc_cl_kv(b, "name", c->name);
    nc_cl_kv(b, "lesson", c->lesson_id);
    nc_cl_kv(b, "mode", c->lockstep ? "lockstep" : "watch");
    nc_buf_printf(b, ",\"page\":%d,\"step\":%d,\"resumed\":%s", c->page + 1, c->step + 1,
                  nc_json_bool(m, "resumed", false) ? "true" : "false");
    nc_cl_end(c);
    nc_cl_status(c, "%s", c->following ? "following the instructor" : "exploring on your own");
    nc_cl_send_follow(c);
}

static void nc_cl_run(nc_class_client_t *c, const nc_json_t *m)
{
    int64_t run = 0, t0 = 0;
    nc_json_int(m, "run", &run);
    nc_json_int(m, "t0", &t0);
    const char *state = nc_json_str(m, "state");
    nc_buf_t *b = nc_cl_log(c, "run");
    nc_buf_printf(b, ",\"run\":%lld", (long long)run);
    nc_cl_kv(b, "state", state);
    nc_cl_end(c);
    if (c->lockstep) {
        if (state && strcmp(state, "start") == 0) {
            c->run = (int)run;
            nc_cl_start_local(c, m);
        }
        return;
    }
    if ((int)run != c->run || !c->tl) {
        c->run = (int)run;
        c->t0 = t0;
        nc_cl_new_timeline(c, t0);
        nc_cl_new_pipeline(c, nc_json_get(m, "hosts"), NULL);
        nc_cl_cps_reset(c);
    }
}

/* Builds a packet again from its bytes and record (in c->b) into c->pb,
 * through the run's pipeline (record.h). A record that cannot be built
 * becomes a note in its place (so the next event is still the next
 * index), and one log line. */
static nc_evb_t *nc_cl_rebuild(nc_class_client_t *c, const nc_json_t *m)
{
    char why[160];
    if (nc_class_packet_build(c->pipe, m, &c->b, c->t0, &c->pb, why, sizeof why) == 0)
        return &c->pb;
    const nc_event_t *rv = nc_evb_view(&c->b);
    char text[256];
    snprintf(text, sizeof text, "packet %llu of the class's run could not be rebuilt: %s",
             (unsigned long long)rv->i, why);
    nc_buf_t *b = nc_cl_log(c, "error");
    nc_cl_kv(b, "text", text);
    nc_cl_end(c);
    uint64_t i = rv->i;
    nc_evb_reset(&c->pb, NC_EV_NOTE, c->t0 + rv->t_ns);
    nc_evb_host(&c->pb, "class");
    nc_evb_summary(&c->pb, "%s", text);
    nc_evb_str(&c->pb, "error", why);
    c->pb.ev.i = i;
    return &c->pb;
}

/* Adds the event of an event message body to the current timeline. */
static void nc_cl_add_event(nc_class_client_t *c, const nc_json_t *m)
{
    int64_t ts = 0;
    nc_json_int(m, "ts", &ts);
    char err[200];
    const char *keys = nc_json_str(m, "keys");
    if (keys && c->keys)
        nc_keylog_add(c->keys, keys, strlen(keys), NULL);
    if (nc_event_from_json(nc_json_get(m, "ev"), &c->b, err, sizeof err) != 0) {
        nc_buf_t *b = nc_cl_log(c, "error");
        nc_cl_kv(b, "text", err);
        nc_cl_end(c);
        return;
    }
    size_t have = nc_timeline_count(c->tl);
    if (c->b.ev.i != have)
        return; /* a duplicate after a resume (or a gap the resume will fill) */
    nc_evb_t *eb = &c->b;
    if (c->b.ev.type == NC_EV_PACKET && nc_json_get(m, "data"))
        eb = nc_cl_rebuild(c, m);
    else
        c->b.ev.t_ns += c->t0; /* a whole event (a packet without its bytes too) */
    nc_timeline_add(c->tl, eb);
    nc_timeline_flush(c->tl, true);
    const nc_event_t *ev = nc_timeline_get(c->tl, have);
    nc_cl_cp_mark(c, ev);
    if (c->o.on_event)
        c->o.on_event(c->o.arg, ev, ts);
    nc_cl_print_event(c, ev);
}

static void nc_cl_event(nc_class_client_t *c, const nc_json_t *m)
{
    int64_t run = 0;
    nc_json_int(m, "run", &run);
    if (c->lockstep || (int)run != c->run || !c->tl)
        return;
    nc_cl_add_event(c, m);
}

/* Lockstep: an event of the student's own run reaches the student's
 * timeline as the instructor's would, checkpoint marks held. */
static void nc_cl_local_event(nc_class_client_t *c, const nc_event_t *ev)
{
    nc_buf_t body;
    nc_buf_init(&body);
    nc_hold_event_body(&body, c->run, nc_clock_real_ns(), ev,
                       nc_hold_kind(ev, NULL) != NC_HOLD_NONE, NULL);
    nc_json_doc_t doc;
    char why[120];
    if (nc_json_parse(&doc, body.data, body.len, why, sizeof why) == 0)
        nc_cl_add_event(c, doc.root);
    nc_json_doc_done(&doc);
    nc_buf_done(&body);
}

static void nc_cl_answer(nc_class_client_t *c, const char *id, const char *choice)
{
    if (!c->cp_open || strcmp(id, c->cp_id) != 0) {
        nc_buf_t *b = nc_cl_log(c, "error");
        nc_cl_kv(b, "text", "that checkpoint is not open");
        nc_cl_end(c);
        return;
    }
    snprintf(c->my_answer, sizeof c->my_answer, "%s", choice);
    nc_buf_t m;
    nc_buf_init(&m);
    nc_buf_puts(&m, "{\"id\":");
    nc_buf_json_str(&m, id);
    nc_buf_puts(&m, ",\"choice\":");
    nc_buf_json_str(&m, choice);
    nc_buf_putc(&m, '}');
    nc_cl_send(c, NC_MSG_ANSWER, &m);
    nc_buf_done(&m);
    nc_buf_t *b = nc_cl_log(c, "answered");
    nc_cl_kv(b, "id", id);
    nc_cl_kv(b, "choice", choice);
    nc_cl_end(c);
}

static void nc_cl_checkpoint(nc_class_client_t *c, const nc_json_t *m)
{
    const char *id = nc_json_str(m, "id");
    if (!id)
        return;
    bool again = c->cp_open && strcmp(c->cp_id, id) == 0;
    snprintf(c->cp_id, sizeof c->cp_id, "%s", id);
    c->cp_open = true;
    c->revealed[0] = '\0';
    if (!again)
        c->my_answer[0] = '\0';
    nc_cl_cp_t *cp = nc_cl_cp(c, id);
    int64_t run = 0, at = -1;
    if (cp) {
        cp->opened = true;
        if (nc_json_int(m, "run", &run) && run == c->run && nc_json_int(m, "at", &at) && at >= 0)
            cp->known.asked_at = (long)at;
    }
    /* After a resume the instructor says what this student answered: its
     * record outlives ours (a killed join, another machine). */
    const char *yours = nc_json_str(m, "yours");
    if (yours && !c->my_answer[0]) {
        snprintf(c->my_answer, sizeof c->my_answer, "%s", yours);
        again = false;
    }
    nc_buf_t *b = nc_cl_log(c, "checkpoint");
    nc_cl_kv(b, "id", id);
    nc_cl_kv(b, "question", nc_json_str(m, "question"));
    nc_buf_puts(b, ",\"choices\":[");
    const nc_json_t *ch = nc_json_get(m, "choices");
    int k = 0;
    for (const nc_json_t *e = ch && ch->kind == NC_JSON_ARR ? ch->child : NULL; e; e = e->next) {
        const char *key = nc_json_str(e, "key"), *text = nc_json_str(e, "text");
        if (!key)
            continue;
        nc_buf_printf(b, "%s{\"key\":", k++ ? "," : "");
        nc_buf_json_str(b, key);
        nc_buf_puts(b, ",\"text\":");
        nc_buf_json_str(b, text ? text : "");
        nc_buf_putc(b, '}');
    }
    nc_buf_putc(b, ']');
    nc_cl_end(c);
    if (again && c->my_answer[0]) {
        /* After a reconnect the checkpoint is still open: answer again (the
         * server keeps one answer per student). */
        char mine[8];
        snprintf(mine, sizeof mine, "%s", c->my_answer);
        nc_cl_answer(c, id, mine);
        return;
    }
    const char *choice =
        !yours && c->o.on_checkpoint ? c->o.on_checkpoint(c->o.arg, id) : NULL;
    if (choice)
        nc_cl_answer(c, id, choice);
}

static void nc_cl_reveal(nc_class_client_t *c, const nc_json_t *m)
{
    const char *id = nc_json_str(m, "id");
    const char *answer = nc_json_str(m, "answer");
    if (!id)
        return;
    c->cp_open = false;
    snprintf(c->revealed, sizeof c->revealed, "%s", answer ? answer : "");
    nc_cl_cp_t *cp = nc_cl_cp(c, id);
    int64_t run = 0, at = -1, by = -1;
    const char *explain = nc_json_str(m, "explain");
    if (cp) {
        cp->revealed = true;
        /* In lockstep the student's own run chose its explanation. */
        if (explain && (!c->lockstep || !cp->known.explain[0]))
            snprintf(cp->known.explain, sizeof cp->known.explain, "%s", explain);
        if (!c->lockstep && nc_json_int(m, "run", &run) && run == c->run)
            cp->known.skipped = nc_json_bool(m, "skipped", false);
        if (!c->lockstep && nc_json_int(m, "run", &run) && run == c->run) {
            if (nc_json_int(m, "at", &at) && at >= 0)
                cp->known.asked_at = (long)at;
            if (nc_json_int(m, "by", &by) && by >= 0)
                cp->known.decided_at = (long)by;
            if (answer)
                snprintf(cp->known.answer, sizeof cp->known.answer, "%s", answer);
        }
    }
    /* Lockstep: the student's own run is the judge of their answer. */
    const char *judge = answer;
    if (c->lockstep && c->local) {
        judge = NULL;
        for (size_t k = 0; k < nc_run_checkpoint_count(c->local); k++) {
            nc_run_checkpoint_t rc;
            nc_run_checkpoint(c->local, k, &rc);
            if (strcmp(rc.cp->id, id) == 0 && rc.right >= 0)
                judge = rc.cp->choices[rc.right].key;
        }
    }
    /* The instructor's record of our answer wins over ours. */
    const char *yours = nc_json_str(m, "yours");
    if (yours) {
        snprintf(c->cp_id, sizeof c->cp_id, "%s", id);
        snprintf(c->my_answer, sizeof c->my_answer, "%s", yours);
    }
    /* An answer is judged only by a run that decided the checkpoint: one
     * no run decided (skipped, or not reached) is not graded. */
    bool mine = strcmp(c->cp_id, id) == 0 && c->my_answer[0];
    bool correct = mine && judge && strcmp(judge, c->my_answer) == 0;
    if (mine && judge)
        nc_cl_store_answer(c, id, c->my_answer, correct);
    nc_buf_t *b = nc_cl_log(c, "reveal");
    nc_cl_kv(b, "id", id);
    nc_cl_kv(b, "answer", answer);
    nc_cl_kv(b, "mine", mine ? c->my_answer : NULL);
    nc_buf_printf(b, ",\"correct\":%s", !judge ? "null" : correct ? "true" : "false");
    if (explain)
        nc_cl_kv(b, "explain", explain);
    nc_cl_end(c);
}

static void nc_cl_inject(nc_class_client_t *c, const nc_json_t *m)
{
    const char *spec = nc_json_str(m, "fault");
    nc_buf_t *b = nc_cl_log(c, "inject");
    nc_cl_kv(b, "fault", spec);
    nc_cl_end(c);
    if (!spec || !c->local || c->local_done)
        return;
    nc_fault_t f;
    char err[300];
    if (nc_fault_parse(spec, &f, err, sizeof err) == 0) {
        nc_lab_add_fault(nc_run_lab(c->local), &f, err, sizeof err);
        nc_fault_done(&f);
    }
}

static void nc_cl_position(nc_class_client_t *c, const nc_json_t *m, const char *what)
{
    int64_t v = 0;
    nc_json_int(m, what, &v);
    if (strcmp(what, "page") == 0) {
        c->page = (int)v;
        if (c->following)
            c->my_page = c->page;
    } else {
        c->step = (int)v;
    }
    nc_buf_t *b = nc_cl_log(c, what);
    nc_buf_printf(b, ",\"%s\":%lld", what, (long long)v + 1);
    nc_cl_kv(b, "title", nc_json_str(m, "title"));
    nc_buf_printf(b, ",\"following\":%s", c->following ? "true" : "false");
    nc_cl_end(c);
}

static bool nc_cl_fatal_code(const char *code)
{
    /* "rate" and "full" are not: the connection closes and the client
     * tries again later, with its backoff. */
    static const char *const fatal[] = {"code", "version", "name", "replaced", "restarted"};
    for (size_t k = 0; code && k < sizeof fatal / sizeof fatal[0]; k++)
        if (strcmp(code, fatal[k]) == 0)
            return true;
    return false;
}

static int nc_cl_frame(nc_conn_t *conn, int type, const uint8_t *body, uint32_t len)
{
    nc_class_client_t *c = conn->data;
    const nc_msg_desc_t *d = nc_msg_desc(type);
    if (!(d->from & NC_FROM_INSTRUCTOR))
        return 1;
    c->reached = true;
    if (type == NC_MSG_EVENT && c->o.receive_only && c->welcomed) {
        /* The instructor writes {"run":R,"ts":N,... first. */
        char head[64];
        int run = 0;
        long long ts = 0;
        snprintf(head, sizeof head, "%.*s", (int)(len < 63 ? len : 63), (const char *)body);
        if (sscanf(head, "{\"run\":%d,\"ts\":%lld", &run, &ts) == 2 && c->o.on_event)
            c->o.on_event(c->o.arg, NULL, ts);
        return 0;
    }
    nc_json_doc_t doc;
    char why[120];
    if (nc_json_parse(&doc, (const char *)body, len, why, sizeof why) != 0) {
        nc_json_doc_done(&doc);
        return 1;
    }
    const nc_json_t *m = doc.root;
    if (!c->welcomed && type != NC_MSG_WELCOME && type != NC_MSG_ERROR && type != NC_MSG_BYE) {
        nc_json_doc_done(&doc);
        return 1;
    }
    switch (type) {
    case NC_MSG_WELCOME:
        nc_cl_welcome(c, m);
        break;
    case NC_MSG_RUN:
        nc_cl_run(c, m);
        break;
    case NC_MSG_EVENT:
        nc_cl_event(c, m);
        break;
    case NC_MSG_PAGE:
        nc_cl_position(c, m, "page");
        break;
    case NC_MSG_STEP:
        nc_cl_position(c, m, "step");
        break;
    case NC_MSG_CHECKPOINT:
        nc_cl_checkpoint(c, m);
        break;
    case NC_MSG_REVEAL:
        nc_cl_reveal(c, m);
        break;
    case NC_MSG_INJECT:
        nc_cl_inject(c, m);
        break;
    case NC_MSG_ERROR: {
        const char *code = nc_json_str(m, "code");
        const char *text = nc_json_str(m, "text");
        nc_buf_t *b = nc_cl_log(c, "error");
        nc_cl_kv(b, "code", code);
        nc_cl_kv(b, "text", text);
        nc_cl_end(c);
        if (code && strcmp(code, "rate") == 0)
            c->attempts = 5; /* wait the longest backoff before the next try */
        if (nc_cl_fatal_code(code)) {
            char msg[300];
            snprintf(msg, sizeof msg, "%s: %s",
                     strcmp(code, "replaced") == 0 ? "this session ended"
                     : strcmp(code, "restarted") == 0 ? "the class was restarted"
                                                      : "the instructor refused to admit you",
                     text ? text : "no reason given");
            c->fatal = true;
            pthread_mutex_lock(&c->lock);
            snprintf(c->view.refused, sizeof c->view.refused, "%s", code);
            pthread_mutex_unlock(&c->lock);
            nc_cl_finish(c, NC_EPERM, msg);
        }
        break;
    }
    case NC_MSG_BYE: {
        nc_buf_t *b = nc_cl_log(c, "bye");
        nc_cl_kv(b, "text", nc_json_str(m, "text"));
        nc_cl_end(c);
        nc_cl_finish(c, 0, "the instructor ended the class");
        break;
    }
    default:
        break;
    }
    nc_json_doc_done(&doc);
    nc_cl_refresh(c);
    return 0;
}

/* ---- the connection ---- */

static void nc_cl_connect(nc_class_client_t *c);

static void nc_cl_hello(nc_class_client_t *c)
{
    nc_buf_t b;
    nc_buf_init(&b);
    nc_buf_printf(&b, "{\"v\":%d,\"name\":", NC_CLASS_PROTO_VERSION);
    nc_buf_json_str(&b, c->name);
    nc_buf_puts(&b, ",\"code\":");
    nc_buf_json_str(&b, c->code);
    if (c->token[0]) {
        nc_buf_puts(&b, ",\"token\":");
        nc_buf_json_str(&b, c->token);
    }
    if (c->tl && !c->lockstep)
        nc_buf_printf(&b, ",\"run\":%d,\"have\":%zu", c->run, nc_timeline_count(c->tl));
    nc_buf_putc(&b, '}');
    nc_cl_send(c, NC_MSG_HELLO, &b);
    nc_buf_done(&b);
}

/* Fingerprints as people type them: colons, spaces and case do not
 * matter. */
static bool nc_cl_same_fp(const char *a, const char *b)
{
    for (;;) {
        while (*a == ':' || *a == ' ' || *a == '-')
            a++;
        while (*b == ':' || *b == ' ' || *b == '-')
            b++;
        if (!*a || !*b)
            return !*a && !*b;
        char x = *a >= 'a' && *a <= 'f' ? (char)(*a - 32) : *a;
        char y = *b >= 'a' && *b <= 'f' ? (char)(*b - 32) : *b;
        if (x != y)
            return false;
        a++;
        b++;
    }
}

static void nc_cl_on_open(nc_conn_t *conn)
{
    nc_class_client_t *c = conn->data;
    char fp[NC_TLS_FP_LEN] = "";
    X509 *cert = nc_conn_peer_cert(conn);
    if (cert)
        nc_tls_fingerprint(cert, fp);
    const char *pinned = "none";
    c->pin_fp[0] = '\0';
    if (c->fingerprint && !nc_cl_same_fp(c->fingerprint, fp)) {
        char msg[400];
        snprintf(msg, sizeof msg,
                 "the instructor's certificate is %s, not the %s you were given; not joining",
                 fp, c->fingerprint);
        c->fatal = true;
        nc_cl_finish(c, NC_EPERM, msg);
        return;
    }
    if (c->data_dir) {
        char err[800];
        /* Only a look: the pin is written once the class admits us. */
        int rc =
            nc_tls_pin_peek(c->data_dir, c->hostport, fp, c->o.trust_new_cert, err, sizeof err);
        if (rc < 0) {
            nc_buf_t *b = nc_cl_log(c, "certificate_changed");
            nc_cl_kv(b, "fingerprint", fp);
            nc_cl_kv(b, "text", err);
            nc_cl_end(c);
            c->fatal = true;
            nc_cl_finish(c, rc, err);
            return;
        }
        pinned = rc == NC_TLS_PIN_NEW        ? "unpinned"
                 : rc == NC_TLS_PIN_REPLACED ? "changed"
                                             : "match";
        if (rc != NC_TLS_PIN_MATCH)
            snprintf(c->pin_fp, sizeof c->pin_fp, "%s", fp);
    }
    nc_buf_t *b = nc_cl_log(c, "connected");
    nc_cl_kv(b, "to", c->hostport);
    nc_cl_kv(b, "fingerprint", fp);
    nc_cl_kv(b, "pin", pinned);
    nc_cl_end(c);
    nc_cl_hello(c);
}

static void nc_cl_on_retry(uv_timer_t *t)
{
    nc_cl_connect(t->data);
}

static void nc_cl_on_close(nc_conn_t *conn, const char *reason)
{
    nc_class_client_t *c = conn->data;
    if (c->conn == conn)
        c->conn = NULL;
    c->welcomed = false;
    if (c->done || c->stopping) {
        nc_cl_refresh(c);
        return;
    }
    /* A class that answered, if only with a plaintext refusal before TLS
     * (conn.c: "refused (full): ..."), is tried again later. */
    if (strncmp(reason, "refused (", 9) == 0)
        c->reached = true;
    if (!c->admitted && !c->reached) {
        /* No class answered there: nothing was lost, so nothing to resume. */
        char msg[600];
        snprintf(msg, sizeof msg, "could not join the class at %s: %s", c->hostport, reason);
        c->fatal = true;
        nc_cl_finish(c, NC_ESYS, msg);
        nc_cl_refresh(c);
        return;
    }
    int delay = 200 << (c->attempts < 5 ? c->attempts : 5);
    if (delay > NC_CL_RETRY_MAX_MS)
        delay = NC_CL_RETRY_MAX_MS;
    c->attempts++;
    nc_buf_t *b = nc_cl_log(c, "disconnected");
    nc_cl_kv(b, "reason", reason);
    nc_buf_printf(b, ",\"retry_ms\":%d", delay);
    nc_cl_end(c);
    nc_cl_status(c, "connection lost (%s); reconnecting", reason);
    uv_timer_start(&c->retry, nc_cl_on_retry, (uint64_t)delay, 0);
    nc_cl_refresh(c);
}

static const nc_conn_cb_t nc_cl_conn_cb = {
    .on_open = nc_cl_on_open,
    .on_frame = nc_cl_frame,
    .on_close = nc_cl_on_close,
};

static void nc_cl_on_connect(uv_connect_t *req, int status)
{
    nc_conn_t *conn = req->data;
    if (status < 0) {
        char why[160];
        snprintf(why, sizeof why, "cannot connect: %s", uv_strerror(status));
        nc_conn_close(conn, why);
        return;
    }
    if (nc_conn_start(conn) != 0)
        nc_conn_close(conn, "cannot read from the connection");
}

static void nc_cl_on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    nc_class_client_t *c = req->data;
    c->resolving = false;
    if (c->done || c->stopping) {
        uv_freeaddrinfo(res);
        return;
    }
    if (status < 0 || !res) {
        nc_conn_t *conn = nc_conn_new(c->loop, c->ctx, false, &nc_cl_conn_cb, NC_FRAME_MAX);
        conn->data = c;
        c->conn = conn;
        char why[200];
        snprintf(why, sizeof why, "cannot find host %s: %s", c->host, uv_strerror(status));
        nc_conn_close(conn, why);
        uv_freeaddrinfo(res);
        return;
    }
    nc_conn_t *conn = nc_conn_new(c->loop, c->ctx, false, &nc_cl_conn_cb, NC_FRAME_MAX);
    conn->data = c;
    c->conn = conn;
    c->connect.data = conn;
    int rc = uv_tcp_connect(&c->connect, &conn->tcp, res->ai_addr, nc_cl_on_connect);
    uv_freeaddrinfo(res);
    if (rc != 0) {
        char why[160];
        snprintf(why, sizeof why, "cannot connect: %s", uv_strerror(rc));
        nc_conn_close(conn, why);
    }
}

static void nc_cl_connect(nc_class_client_t *c)
{
    if (c->done || c->stopping || c->conn || c->resolving)
        return;
    nc_cl_status(c, "connecting to %s", c->hostport);
    char port[16];
    snprintf(port, sizeof port, "%d", c->o.port);
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    c->gai.data = c;
    c->resolving = true;
    if (uv_getaddrinfo(c->loop, &c->gai, nc_cl_on_resolved, c->host, port, &hints) != 0) {
        c->resolving = false;
        uv_timer_start(&c->retry, nc_cl_on_retry, NC_CL_RETRY_MAX_MS, 0);
    }
}

static void nc_cl_on_ping(uv_timer_t *t)
{
    nc_class_client_t *c = t->data;
    if (!c->conn || !c->welcomed)
        return;
    nc_buf_t b;
    nc_buf_init(&b);
    nc_buf_printf(&b, "{\"t\":%lld}", (long long)nc_clock_real_ns());
    nc_cl_send(c, NC_MSG_PING, &b);
    nc_buf_done(&b);
}

/* ---- commands ---- */

static void nc_cl_command(nc_class_client_t *c, char *line)
{
    char word[32] = "", a[64] = "", b2[16] = "";
    int n = sscanf(line, "%31s %63s %15s", word, a, b2);
    if (n < 1)
        return;
    if (strcmp(word, "answer") == 0 && n >= 2) {
        /* "answer b" answers the open checkpoint. */
        if (n == 2)
            nc_cl_answer(c, c->cp_id, a);
        else
            nc_cl_answer(c, a, b2);
    } else if (strcmp(word, "hand") == 0) {
        nc_buf_t m;
        nc_buf_init(&m);
        bool up = n < 2 || strcmp(a, "down") != 0;
        nc_buf_printf(&m, "{\"raised\":%s}", up ? "true" : "false");
        nc_cl_send(c, NC_MSG_HAND, &m);
        nc_buf_done(&m);
        nc_buf_t *l = nc_cl_log(c, "hand");
        nc_buf_printf(l, ",\"raised\":%s", up ? "true" : "false");
        nc_cl_end(c);
    } else if (strcmp(word, "follow") == 0 || strcmp(word, "unfollow") == 0) {
        c->following = word[0] == 'f';
        if (c->following)
            c->my_page = c->page;
        nc_cl_send_follow(c);
        nc_cl_status(c, "%s", c->following ? "following the instructor" : "exploring on your own");
        nc_buf_t *l = nc_cl_log(c, word);
        nc_buf_printf(l, ",\"page\":%d", (c->following ? c->page : c->my_page) + 1);
        nc_cl_end(c);
    } else if (strcmp(word, "page") == 0 && n >= 2 && !c->following) {
        c->my_page = atoi(a) - 1 < 0 ? 0 : atoi(a) - 1;
        nc_cl_send_follow(c);
    } else if (strcmp(word, "bye") == 0) {
        nc_buf_t m;
        nc_buf_init(&m);
        nc_buf_puts(&m, "{}");
        nc_cl_send(c, NC_MSG_BYE, &m);
        nc_buf_done(&m);
        nc_cl_finish(c, 0, "you left the class");
    } else {
        nc_buf_t *l = nc_cl_log(c, "error");
        nc_cl_kv(l, "text", "the commands are answer [CHECKPOINT] CHOICE, hand [down], "
                            "follow, unfollow, page N, bye");
        nc_cl_end(c);
    }
    nc_cl_refresh(c);
}

/* After a refusal: tries again with another join code (the student
 * retyped it). */
static void nc_cl_rejoin(nc_class_client_t *c, const char *code)
{
    if (c->stopping || !c->fatal)
        return;
    free(c->code);
    c->code = nc_xstrdup(code);
    pthread_mutex_lock(&c->lock);
    c->done = false;
    c->fatal = false;
    c->status = 0;
    c->error[0] = '\0';
    c->view.refused[0] = '\0';
    c->view.rejoins++;
    pthread_mutex_unlock(&c->lock);
    c->attempts = 0;
    uv_timer_start(&c->ping, nc_cl_on_ping, NC_CL_PING_MS, NC_CL_PING_MS);
    nc_cl_connect(c);
    nc_cl_refresh(c);
}

static void nc_cl_on_wake(uv_async_t *a)
{
    nc_class_client_t *c = a->data;
    for (;;) {
        pthread_mutex_lock(&c->lock);
        char *line = NULL;
        if (c->ncmds) {
            line = c->cmds[0];
            memmove(c->cmds, c->cmds + 1, (c->ncmds - 1) * sizeof *c->cmds);
            c->ncmds--;
        }
        pthread_mutex_unlock(&c->lock);
        if (!line)
            break;
        if (!c->done)
            nc_cl_command(c, line);
        else if (strncmp(line, "rejoin ", 7) == 0)
            nc_cl_rejoin(c, line + 7);
        free(line);
    }
}

void nc_class_client_command(nc_class_client_t *c, const char *line)
{
    pthread_mutex_lock(&c->lock);
    if (c->ncmds < 256) {
        c->cmds = nc_xrealloc(c->cmds, (c->ncmds + 1) * sizeof *c->cmds);
        c->cmds[c->ncmds++] = nc_xstrdup(line);
    }
    pthread_mutex_unlock(&c->lock);
    uv_async_send(&c->wake);
}

/* ---- life ---- */

static void nc_cl_shutdown(nc_class_client_t *c)
{
    c->stopping = true;
    uv_timer_stop(&c->ping);
    uv_timer_stop(&c->retry);
    uv_timer_stop(&c->poll);
    if (c->conn)
        nc_conn_force_close(c->conn);
    if (c->resolving)
        uv_cancel((uv_req_t *)&c->gai);
    uv_close((uv_handle_t *)&c->ping, NULL);
    uv_close((uv_handle_t *)&c->retry, NULL);
    uv_close((uv_handle_t *)&c->poll, NULL);
    uv_close((uv_handle_t *)&c->wake, NULL);
    uv_close((uv_handle_t *)&c->stop_async, NULL);
}

static void nc_cl_on_stop(uv_async_t *a)
{
    nc_cl_shutdown(a->data);
}

nc_class_client_t *nc_class_client_new(uv_loop_t *loop, const nc_class_client_opts_t *o)
{
    nc_class_client_t *c = nc_xcalloc(1, sizeof *c);
    c->o = *o;
    if (!c->o.port)
        c->o.port = NC_CLASS_DEFAULT_PORT;
    c->host = nc_xstrdup(o->host);
    c->code = nc_xstrdup(o->code ? o->code : "");
    c->name = nc_xstrdup(o->name ? o->name : "student");
    c->data_dir = o->data_dir ? nc_xstrdup(o->data_dir) : NULL;
    c->fingerprint = o->fingerprint ? nc_xstrdup(o->fingerprint) : NULL;
    bool v6 = strchr(c->host, ':') != NULL;
    snprintf(c->hostport, sizeof c->hostport, v6 ? "[%s]:%d" : "%s:%d", c->host, c->o.port);
    c->loop = loop;
    c->following = true;
    char err[256];
    c->ctx = nc_tls_client_ctx(err, sizeof err);
    pthread_mutex_init(&c->lock, NULL);
    nc_evb_init(&c->b);
    nc_evb_init(&c->pb);
    nc_buf_init(&c->line);
    uv_timer_init(loop, &c->ping);
    uv_timer_init(loop, &c->retry);
    uv_timer_init(loop, &c->poll);
    uv_async_init(loop, &c->wake, nc_cl_on_wake);
    uv_async_init(loop, &c->stop_async, nc_cl_on_stop);
    c->ping.data = c->retry.data = c->poll.data = c->wake.data = c->stop_async.data = c;
    nc_cl_load_token(c);
    nc_cl_refresh(c);
    uv_timer_start(&c->ping, nc_cl_on_ping, NC_CL_PING_MS, NC_CL_PING_MS);
    nc_cl_connect(c);
    return c;
}

static void *nc_cl_thread(void *arg)
{
    nc_class_client_t *c = arg;
    uv_run(c->loop, UV_RUN_DEFAULT);
    return NULL;
}

nc_class_client_t *nc_class_client_start(const nc_class_client_opts_t *o)
{
    uv_loop_t *loop = nc_xcalloc(1, sizeof *loop);
    uv_loop_init(loop);
    nc_class_client_t *c = nc_class_client_new(loop, o);
    c->threaded = true;
    if (pthread_create(&c->thread, NULL, nc_cl_thread, c) != 0)
        c->threaded = false;
    return c;
}

bool nc_class_client_finished(nc_class_client_t *c, int *status, char *err, size_t errlen)
{
    pthread_mutex_lock(&c->lock);
    bool done = c->done;
    if (done) {
        if (status)
            *status = c->status;
        if (err)
            snprintf(err, errlen, "%s", c->error);
    }
    pthread_mutex_unlock(&c->lock);
    return done;
}

void nc_class_client_view(nc_class_client_t *c, nc_class_view_t *out)
{
    pthread_mutex_lock(&c->lock);
    *out = c->view;
    pthread_mutex_unlock(&c->lock);
}

void nc_class_client_free(nc_class_client_t *c)
{
    if (!c)
        return;
    uv_loop_t *loop = c->loop;
    if (c->threaded) {
        uv_async_send(&c->stop_async);
        pthread_join(c->thread, NULL);
    } else {
        nc_cl_shutdown(c);
        uv_run(loop, UV_RUN_NOWAIT);
    }
    for (size_t k = 0; k < c->nruns; k++) {
        nc_run_stop(c->runs[k]);
        nc_run_free(c->runs[k]);
    }
    free(c->runs);
    for (size_t k = 0; k < c->ntls; k++)
        nc_timeline_free(c->tls[k]);
    free(c->tls);
    for (size_t k = 0; k < c->ncmds; k++)
        free(c->cmds[k]);
    free(c->cmds);
    if (c->store)
        nc_store_close(c->store);
    SSL_CTX_free(c->ctx);
    nc_evb_done(&c->b);
    nc_evb_done(&c->pb);
    nc_pipeline_free(c->pipe);
    nc_keylog_free(c->keys);
    nc_buf_done(&c->line);
    pthread_mutex_destroy(&c->lock);
    free(c->host);
    free(c->code);
    free(c->name);
    free(c->data_dir);
    free(c->fingerprint);
    if (c->threaded) {
        uv_loop_close(loop);
        free(loop);
    }
    free(c);
}

void nc_class_client_rejoin(nc_class_client_t *c, const char *code)
{
    char line[128];
    snprintf(line, sizeof line, "rejoin %.100s", code);
    nc_class_client_command(c, line);
}
