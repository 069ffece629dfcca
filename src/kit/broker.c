/*
 * broker.c: a message broker with topics, at-least-once delivery and
 * acknowledgements, and its client, over a small line protocol on TCP.
 *
 * The protocol (every line ends with "\n"; a line is 1024 bytes at most;
 * NAME and TOPIC are words without blanks, TEXT is the rest of the line):
 *
 *   client -> broker   SUB NAME TOPIC   subscribe as NAME (a durable
 *                                       subscription: the broker keeps it
 *                                       while NAME is away); answered OK 0,
 *                                       then what waits for NAME
 *                      PUB TOPIC TEXT   publish; answered OK ID
 *                      ACK ID           NAME has handled message ID
 *   broker -> client   MSG ID TOPIC TEXT   a delivery (a redelivery has
 *                                          the same ID)
 *                      OK ID            the message was taken
 *                      ERR TEXT         a line the broker cannot use
 *
 * Data model. The broker keeps subscriptions (nc_bk_sub_t: a name, a topic,
 * the connection it is on now or none, and its queue of deliveries), and
 * each message once (nc_bk_msg_t, counted by the deliveries that still
 * need it). A delivery (nc_bk_dlv_t) is held (its subscriber is away), or
 * sent and waiting for its ACK since a time. A sweep resends every
 * delivery whose ACK has not come within the ack timeout ("redeliver"),
 * and a subscriber that comes back (SUB with its name) is sent everything
 * held for it ("deliver" with held 1) and everything it was sent and never
 * acknowledged, its ACK lost with its connection ("redeliver"). So a message is
 * delivered at least once: a subscriber that handled it and lost its ACK
 * gets it again, and must itself ignore an ID it has seen.
 *
 * Every decision is an app event on the broker's host, on the connection
 * it concerns: "publish" (id, topic, subscribers), "deliver" (id, topic,
 * to, held: 1 when it waited for the subscriber), "hold" (id, to),
 * "redeliver" (id, to, tries), "ack" (id, from), "refuse" (reason).
 *
 * Bounds: 64 connections, 64 subscriptions, 256 deliveries waiting per
 * subscription (a publish past that is not kept for that subscriber, and
 * reported), lines of 1024 bytes (a longer one ends its connection), and
 * nothing more is sent to a subscriber with 64 KiB it has not read yet. Ownership: the broker owns all of it; connections are
 * freed by their close callbacks, the broker once stopped and empty.
 */
#include "kit_impl.h"

#include "../core/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NC_BK_CONNS 64
#define NC_BK_SUBS 64
#define NC_BK_QUEUE 256
#define NC_BK_LINE 1024
#define NC_BK_BACKLOG (64 * 1024)

typedef struct nc_bk_msg {
    long id;
    char *topic, *text;
    size_t refs; /* deliveries that still need it */
} nc_bk_msg_t;

typedef struct nc_bk_dlv {
    nc_bk_msg_t *m;
    bool sent;
    int tries;
    uint64_t at; /* uv_now when last sent */
} nc_bk_dlv_t;

typedef struct nc_bk_conn nc_bk_conn_t;

typedef struct nc_bk_sub {
    char *name, *topic;
    nc_bk_conn_t *on; /* NULL while the subscriber is away */
    nc_bk_dlv_t q[NC_BK_QUEUE];
    size_t nq;
} nc_bk_sub_t;

struct nc_bk_conn {
    nc_kit_broker_t *b;
    nc_kit_conn_t *c;
    nc_buf_t line;
    nc_bk_conn_t *next;
};

struct nc_kit_broker {
    nc_kit_t *k;
    nc_kit_listener_t *l;
    uv_timer_t sweep;
    int ack_ms;
    nc_bk_conn_t *conns;
    size_t nconns;
    nc_bk_sub_t *subs[NC_BK_SUBS];
    size_t nsubs;
    long next_id;
    bool stopped;
};

static uint64_t nc_bk_now(const nc_kit_broker_t *b)
{
    return uv_now(nc_kit_loop(b->k));
}

static void nc_bk_msg_unref(nc_bk_msg_t *m)
{
    if (--m->refs > 0)
        return;
    free(m->topic);
    free(m->text);
    free(m);
}

static void nc_bk_free(nc_kit_broker_t *b)
{
    if (!b->stopped || b->nconns || b->sweep.data)
        return;
    for (size_t i = 0; i < b->nsubs; i++) {
        nc_bk_sub_t *s = b->subs[i];
        for (size_t k = 0; k < s->nq; k++)
            nc_bk_msg_unref(s->q[k].m);
        free(s->name);
        free(s->topic);
        free(s);
    }
    free(b);
}

/* Sends (or sends again) delivery d of s on its connection; not while
 * the subscriber has NC_BK_BACKLOG bytes it has not read yet (the sweep
 * tries again later), so one that reads nothing costs bounded memory. */
static void nc_bk_send(nc_kit_broker_t *b, nc_bk_sub_t *s, nc_bk_dlv_t *d, bool held)
{
    if (nc_kit_conn_queued(s->on->c) > NC_BK_BACKLOG)
        return;
    char *line = nc_xasprintf("MSG %ld %s %s\n", d->m->id, d->m->topic, d->m->text);
    bool again = d->tries > 0; /* sent before, and no ACK came */
    d->sent = true;
    d->tries++;
    d->at = nc_bk_now(b);
    nc_kit_conn_t *c = s->on->c;
    if (again)
        nc_kit_report(b->k, c, "redeliver",
                      (nc_scn_kv_t[]){NC_KV_I("id", d->m->id), NC_KV_S("to", s->name),
                                      NC_KV_I("tries", d->tries)},
                      3, NULL, "message %ld has no ACK from %s: the broker sends it again "
                      "(try %d)", d->m->id, s->name, d->tries);
    else if (held)
        nc_kit_report(b->k, c, "deliver",
                      (nc_scn_kv_t[]){NC_KV_I("id", d->m->id), NC_KV_S("topic", d->m->topic),
                                      NC_KV_S("to", s->name), NC_KV_I("held", 1)},
                      4, NULL, "%s is back: the broker delivers message %ld on %s, held for it "
                      "meanwhile", s->name, d->m->id, d->m->topic);
    else
        nc_kit_report(b->k, c, "deliver",
                      (nc_scn_kv_t[]){NC_KV_I("id", d->m->id), NC_KV_S("topic", d->m->topic),
                                      NC_KV_S("to", s->name), NC_KV_I("held", 0)},
                      4, NULL, "the broker delivers message %ld on %s to %s", d->m->id,
                      d->m->topic, s->name);
    char say[200];
    snprintf(say, sizeof say, "write() MSG %ld %s to %s%s", d->m->id, d->m->topic, s->name,
             again ? ", the same id as before" : "");
    nc_kit_write(c, line, strlen(line), say);
    free(line);
}

static nc_bk_sub_t *nc_bk_sub_find(nc_kit_broker_t *b, const char *name, const char *topic)
{
    for (size_t i = 0; i < b->nsubs; i++)
        if (strcmp(b->subs[i]->name, name) == 0 && strcmp(b->subs[i]->topic, topic) == 0)
            return b->subs[i];
    return NULL;
}

static void nc_bk_err(nc_bk_conn_t *bc, const char *text)
{
    char line[200];
    snprintf(line, sizeof line, "ERR %s\n", text);
    char say[240];
    snprintf(say, sizeof say, "write() ERR %s", text);
    nc_kit_write(bc->c, line, strlen(line), say);
}

static void nc_bk_sub(nc_bk_conn_t *bc, const char *name, const char *topic)
{
    nc_kit_broker_t *b = bc->b;
    nc_bk_sub_t *s = nc_bk_sub_find(b, name, topic);
    bool back = s != NULL;
    if (!s) {
        if (b->nsubs == NC_BK_SUBS) {
            nc_bk_err(bc, "too many subscriptions");
            return;
        }
        s = nc_xcalloc(1, sizeof *s);
        s->name = nc_xstrdup(name);
        s->topic = nc_xstrdup(topic);
        b->subs[b->nsubs++] = s;
    }
    s->on = bc;
    nc_scn_kv_t kv[] = {NC_KV_S("name", name), NC_KV_S("topic", topic),
                        NC_KV_I("waiting", (int64_t)s->nq)};
    if (back)
        nc_kit_report(b->k, bc->c, "subscribe", kv, 3, NULL,
                      "%s is back on %s: %zu %s wait for it", name, topic, s->nq,
                      s->nq == 1 ? "message" : "messages");
    else
        nc_kit_report(b->k, bc->c, "subscribe", kv, 3, NULL, "%s subscribes to %s", name, topic);
    static const char ok[] = "OK 0\n";
    nc_kit_write(bc->c, ok, sizeof ok - 1, "write() OK 0: the subscription is in place");
    /* Everything held or never acknowledged goes out now, in order. */
    for (size_t k = 0; k < s->nq; k++)
        nc_bk_send(b, s, &s->q[k], true);
}

static void nc_bk_pub(nc_bk_conn_t *bc, const char *topic, const char *text)
{
    nc_kit_broker_t *b = bc->b;
    nc_bk_msg_t *m = nc_xcalloc(1, sizeof *m);
    m->id = ++b->next_id;
    m->topic = nc_xstrdup(topic);
    m->text = nc_xstrdup(text);
    m->refs = 1; /* this function's, dropped at its end */
    size_t n = 0;
    for (size_t i = 0; i < b->nsubs; i++)
        n += strcmp(b->subs[i]->topic, topic) == 0;
    nc_kit_report(b->k, bc->c, "publish",
                  (nc_scn_kv_t[]){NC_KV_I("id", m->id), NC_KV_S("topic", topic),
                                  NC_KV_I("subscribers", (int64_t)n)},
                  3, NULL, "the broker takes message %ld on %s for its %zu %s", m->id, topic, n,
                  n == 1 ? "subscriber" : "subscribers");
    char ok[40];
    snprintf(ok, sizeof ok, "OK %ld\n", m->id);
    char say[120];
    snprintf(say, sizeof say, "write() OK %ld: the broker has the message, and the publisher "
             "can go on", m->id);
    nc_kit_write(bc->c, ok, strlen(ok), say);
    for (size_t i = 0; i < b->nsubs; i++) {
        nc_bk_sub_t *s = b->subs[i];
        if (strcmp(s->topic, topic) != 0)
            continue;
        if (s->nq == NC_BK_QUEUE) {
            nc_kit_report(b->k, bc->c, "refuse",
                          (nc_scn_kv_t[]){NC_KV_S("reason", "queue full"), NC_KV_S("to", s->name)},
                          2, NULL, "%s already has %d messages waiting: message %ld is not kept "
                          "for it", s->name, NC_BK_QUEUE, m->id);
            continue;
        }
        m->refs++;
        nc_bk_dlv_t *d = &s->q[s->nq++];
        *d = (nc_bk_dlv_t){.m = m};
        if (s->on)
            nc_bk_send(b, s, d, false);
        else
            nc_kit_report(b->k, bc->c, "hold",
                          (nc_scn_kv_t[]){NC_KV_I("id", m->id), NC_KV_S("to", s->name)}, 2, NULL,
                          "%s is away: the broker holds message %ld for it", s->name, m->id);
    }
    nc_bk_msg_unref(m);
}

static void nc_bk_ack(nc_bk_conn_t *bc, long id)
{
    nc_kit_broker_t *b = bc->b;
    for (size_t i = 0; i < b->nsubs; i++) {
        nc_bk_sub_t *s = b->subs[i];
        if (s->on != bc)
            continue;
        for (size_t k = 0; k < s->nq; k++) {
            if (s->q[k].m->id != id)
                continue;
            nc_kit_report(b->k, bc->c, "ack",
                          (nc_scn_kv_t[]){NC_KV_I("id", id), NC_KV_S("from", s->name)}, 2, NULL,
                          "%s acknowledges message %ld: the broker forgets it for %s", s->name, id,
                          s->name);
            nc_bk_msg_unref(s->q[k].m);
            memmove(s->q + k, s->q + k + 1, (s->nq - k - 1) * sizeof *s->q);
            s->nq--;
            return;
        }
    }
}

/* One line from a client. */
static void nc_bk_line(nc_bk_conn_t *bc, char *line)
{
    char *save = NULL; /* strtok_r: programs run on threads of their own */
    char *verb = strtok_r(line, " ", &save);
    char *a = strtok_r(NULL, " ", &save);
    char *rest = strtok_r(NULL, "", &save);
    if (verb && a && strcmp(verb, "SUB") == 0 && rest && !strchr(rest, ' '))
        nc_bk_sub(bc, a, rest);
    else if (verb && a && strcmp(verb, "PUB") == 0)
        nc_bk_pub(bc, a, rest ? rest : "");
    else if (verb && a && strcmp(verb, "ACK") == 0 && !rest)
        nc_bk_ack(bc, strtol(a, NULL, 10));
    else
        nc_bk_err(bc, "expected SUB NAME TOPIC, PUB TOPIC TEXT or ACK ID");
}

/* Cuts data into lines on buf (a "\r" is dropped) and calls each with
 * every complete line. Returns false when a line grows past NC_BK_LINE
 * (the rest is left unread). */
static bool nc_bk_split(nc_buf_t *buf, nc_kit_conn_t *c, const char *data, size_t n,
                        void (*each)(char *line, void *arg), void *arg)
{
    for (size_t i = 0; i < n && !nc_kit_conn_closing(c); i++) {
        if (data[i] == '\r')
            continue;
        if (data[i] != '\n') {
            if (buf->len == NC_BK_LINE)
                return false;
            nc_buf_putc(buf, data[i]);
            continue;
        }
        char *line = nc_buf_steal(buf);
        nc_buf_init(buf);
        each(line, arg);
        free(line);
    }
    return true;
}

static void nc_bk_each(char *line, void *arg)
{
    nc_bk_line(arg, line);
}

static void nc_bk_data(nc_kit_conn_t *c, const char *data, size_t n)
{
    nc_bk_conn_t *bc = nc_kit_conn_owner(c);
    if (nc_bk_split(&bc->line, c, data, n, nc_bk_each, bc))
        return;
    nc_kit_report(bc->b->k, c, "refuse", (nc_scn_kv_t[]){NC_KV_S("reason", "line")}, 1, NULL,
                  "a line from %s is longer than %d bytes: the broker drops that connection",
                  nc_kit_conn_peer(c), NC_BK_LINE);
    nc_kit_reset(c, NULL);
}

static void nc_bk_away(nc_bk_conn_t *bc);

static void nc_bk_eof(nc_kit_conn_t *c)
{
    /* Its subscriptions are away from now on, not once the close is done. */
    nc_bk_away(nc_kit_conn_owner(c));
    nc_kit_close(c, "close(): the client left, so the broker closes its side");
}

/* A subscriber's connection is gone: its deliveries wait for it, the
 * unacknowledged ones to be sent again. */
static void nc_bk_away(nc_bk_conn_t *bc)
{
    nc_kit_broker_t *b = bc->b;
    for (size_t i = 0; i < b->nsubs; i++)
        if (b->subs[i]->on == bc) {
            b->subs[i]->on = NULL;
            for (size_t k = 0; k < b->subs[i]->nq; k++)
                b->subs[i]->q[k].sent = false;
        }
}

static void nc_bk_closed(nc_kit_conn_t *c)
{
    nc_bk_conn_t *bc = nc_kit_conn_owner(c);
    nc_kit_broker_t *b = bc->b;
    nc_bk_away(bc);
    for (nc_bk_conn_t **p = &b->conns; *p; p = &(*p)->next)
        if (*p == bc) {
            *p = bc->next;
            break;
        }
    b->nconns--;
    nc_buf_done(&bc->line);
    free(bc);
    nc_bk_free(b);
}

static void nc_bk_describe(nc_kit_conn_t *c, const char *data, size_t n, char *out, size_t len)
{
    if (n)
        snprintf(out, len, "read() returned %zu bytes from %s: %.*s", n, nc_kit_conn_peer(c),
                 (int)strcspn(data, "\r\n") < (int)n ? (int)strcspn(data, "\r\n") : (int)n, data);
}

static const nc_kit_conn_cbs_t nc_bk_cbs = {
    .describe = nc_bk_describe,
    .on_data = nc_bk_data,
    .on_eof = nc_bk_eof,
    .on_closed = nc_bk_closed,
};

static void nc_bk_accepted(nc_kit_listener_t *l, nc_kit_conn_t *c, void *data)
{
    nc_kit_broker_t *b = data;
    nc_kit_conn_tolerant(c);
    if (b->stopped || b->nconns == NC_BK_CONNS) {
        nc_kit_report(b->k, c, "refuse", (nc_scn_kv_t[]){NC_KV_S("reason", "full")}, 1, NULL,
                      "the broker already holds %zu connections: it refuses %s", b->nconns,
                      nc_kit_conn_peer(c));
        nc_kit_reset(c, NULL);
        return;
    }
    nc_bk_conn_t *bc = nc_xcalloc(1, sizeof *bc);
    bc->b = b;
    bc->c = c;
    nc_buf_init(&bc->line);
    bc->next = b->conns;
    b->conns = bc;
    b->nconns++;
    nc_kit_conn_start(c, &nc_bk_cbs, bc);
}

static void nc_bk_sweep(uv_timer_t *t)
{
    nc_kit_broker_t *b = t->data;
    uint64_t now = nc_bk_now(b);
    for (size_t i = 0; i < b->nsubs; i++) {
        nc_bk_sub_t *s = b->subs[i];
        if (!s->on || nc_kit_conn_closing(s->on->c))
            continue;
        for (size_t k = 0; k < s->nq; k++)
            if (!s->q[k].sent || now - s->q[k].at >= (uint64_t)b->ack_ms)
                nc_bk_send(b, s, &s->q[k], false);
    }
}

nc_kit_broker_t *nc_kit_broker_start(nc_kit_t *k, int port, int ack_ms, const char *say)
{
    nc_kit_broker_t *b = nc_xcalloc(1, sizeof *b);
    b->k = k;
    b->ack_ms = ack_ms > 0 ? ack_ms : 200;
    char text[300];
    snprintf(text, sizeof text, "the broker is ready%s%s", say ? ": " : "", say ? say : "");
    b->l = nc_kit_listen(k, port, 64, nc_bk_accepted, b, text);
    if (!b->l) {
        free(b);
        return NULL;
    }
    uv_timer_init(nc_kit_loop(k), &b->sweep);
    b->sweep.data = b;
    uv_timer_start(&b->sweep, nc_bk_sweep, 10, 10);
    return b;
}

static void nc_bk_sweep_closed(uv_handle_t *h)
{
    nc_kit_broker_t *b = h->data;
    b->sweep.data = NULL;
    nc_bk_free(b);
}

void nc_kit_broker_stop(nc_kit_broker_t *b)
{
    if (!b || b->stopped)
        return;
    b->stopped = true;
    nc_kit_listener_close(b->l);
    for (nc_bk_conn_t *bc = b->conns; bc; bc = bc->next)
        nc_kit_close(bc->c, NULL);
    uv_close((uv_handle_t *)&b->sweep, nc_bk_sweep_closed);
}

/* ---- the client ---- */

struct nc_kit_bclient {
    nc_kit_conn_t *c;
    nc_buf_t line;
    nc_kit_bclient_cb cb;
    void (*on_closed)(nc_kit_bclient_t *bc, void *data);
    void *data;
};

static void nc_bcl_each(char *line, void *arg)
{
    nc_kit_bclient_t *bc = arg;
    char *save = NULL; /* strtok_r: programs run on threads of their own */
    char *verb = strtok_r(line, " ", &save);
    char *id = strtok_r(NULL, " ", &save);
    char *topic = strtok_r(NULL, " ", &save);
    char *text = strtok_r(NULL, "", &save);
    if (verb && id)
        bc->cb(bc, verb, strtol(id, NULL, 10), topic ? topic : "", text ? text : "", bc->data);
}

static void nc_bcl_data(nc_kit_conn_t *c, const char *data, size_t n)
{
    nc_kit_bclient_t *bc = nc_kit_conn_owner(c);
    if (!nc_bk_split(&bc->line, c, data, n, nc_bcl_each, bc))
        nc_kit_close(c, "close(): the broker sent a line longer than the protocol allows");
}

static void nc_bcl_eof(nc_kit_conn_t *c)
{
    nc_kit_close(c, "close(): the broker closed its side");
}

static void nc_bcl_closed(nc_kit_conn_t *c)
{
    nc_kit_bclient_t *bc = nc_kit_conn_owner(c);
    if (bc->on_closed)
        bc->on_closed(bc, bc->data);
    nc_buf_done(&bc->line);
    free(bc);
}

static const nc_kit_conn_cbs_t nc_bcl_cbs = {
    .describe = nc_bk_describe,
    .on_data = nc_bcl_data,
    .on_eof = nc_bcl_eof,
    .on_closed = nc_bcl_closed,
};

nc_kit_bclient_t *nc_kit_bclient(nc_kit_conn_t *c, nc_kit_bclient_cb cb,
                                 void (*on_closed)(nc_kit_bclient_t *bc, void *data), void *data)
{
    nc_kit_bclient_t *bc = nc_xcalloc(1, sizeof *bc);
    bc->c = c;
    bc->cb = cb;
    bc->on_closed = on_closed;
    bc->data = data;
    nc_buf_init(&bc->line);
    nc_kit_conn_start(c, &nc_bcl_cbs, bc);
    return bc;
}

nc_kit_conn_t *nc_kit_bclient_conn(const nc_kit_bclient_t *bc)
{
    return bc->c;
}
