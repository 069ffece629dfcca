/*
 * compare.c: measuring the ways a lesson compares, from the run's events.
 *
 * Data model. A way is one lesson program. Its connections are the local
 * ports its app events report (every kit call carries "program" and
 * "port"), on its host; its packets are the TCP packets of those ports
 * (sent from its host with that source port, or to it with that
 * destination port). Over them, in timeline order:
 *
 *   connections  SYNs it sent (not retransmissions);
 *   requests     HTTP requests it sent, pipelined ones each counted;
 *   answers      HTTP responses it received;
 *   round trips  every handshake, and every request sent while none of its
 *                earlier ones was still unanswered (a request pipelined
 *                behind another shares that one's trip); a TLS handshake
 *                adds the round trips its decoder counted (tls.round_trips
 *                on the message that completes it);
 *   bytes        every packet's length on the wire, both ways, the ones
 *                the wire dropped included (they were sent);
 *   time         from its first packet to the packet that completes its
 *                last answer (its last packet when it had no answer);
 *   first byte   from its first packet to the first packet that carries
 *                an answer (0 when it had none).
 *
 * Empty answers are counted from the server's side: the write() of an
 * answer about a job carries "news" (src/scenario/program.c), and an
 * answer to one of the way's ports with news 0 told nothing new.
 *
 * A table (nc_compare_table_t) is a fixed-size value: rows hold their label
 * and program by copy, so a table read back from a note event owns
 * nothing.
 */
#include "compare.h"

#include "../core/buf.h"
#include "../core/words.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define NC_COMPARE_MAX_PORTS 64

typedef struct nc_compare_ports {
    const char *host;
    int64_t port[NC_COMPARE_MAX_PORTS];
    size_t n;
} nc_compare_ports_t;

static bool nc_compare_has_port(const nc_compare_ports_t *p, int64_t port)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->port[i] == port)
            return true;
    return false;
}

/* The way's host and local ports, from its own app events. */
static void nc_compare_ports(const nc_timeline_t *tl, size_t n, const char *program,
                             nc_compare_ports_t *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < n; i++) {
        const nc_event_t *ev = nc_timeline_get(tl, i);
        const char *prog = ev->type == NC_EV_APP ? nc_event_str(ev, "program") : NULL;
        int64_t port;
        if (!prog || strcmp(prog, program) != 0 || !nc_event_int(ev, "port", &port))
            continue;
        out->host = ev->host;
        if (!nc_compare_has_port(out, port) && out->n < NC_COMPARE_MAX_PORTS)
            out->port[out->n++] = port;
    }
}

/* Does the packet travel on one of the way's connections? Sets *out to
 * whether the way's host sent it. */
static bool nc_compare_mine(const nc_event_t *ev, const nc_compare_ports_t *p, bool *out)
{
    const char *from = nc_event_str(ev, "from"), *to = nc_event_str(ev, "to");
    int64_t sport, dport;
    if (!p->host || !from || !to || !nc_event_int(ev, "tcp.sport", &sport) ||
        !nc_event_int(ev, "tcp.dport", &dport))
        return false;
    if (strcmp(from, p->host) == 0 && nc_compare_has_port(p, sport)) {
        *out = true;
        return true;
    }
    *out = false;
    return strcmp(to, p->host) == 0 && nc_compare_has_port(p, dport);
}

/* Counts the messages of a packet's layer `layer` (one object or a list
 * of them): for "http", requests in *a and responses in *b; for "tls", the
 * handshake round trips in *a (*b stays 0). */
static void nc_compare_layer(const nc_event_t *ev, const char *layer, int64_t *a, int64_t *b)
{
    *a = *b = 0;
    bool tls = strcmp(layer, "tls") == 0;
    const nc_field_t *f = ev->fields;
    uint32_t n = ev->nfields;
    for (uint32_t k = 0; k < n; k = nc_fields_skip(f, n, k)) {
        if (!f[k].key || strcmp(f[k].key, layer) != 0)
            continue;
        uint32_t end = nc_fields_skip(f, n, k);
        bool list = f[k].kind == NC_F_LIST;
        for (uint32_t o = list ? k + 1 : k; o < end && f[o].kind == NC_F_OBJ;
             o = nc_fields_skip(f, n, o)) {
            uint32_t oend = nc_fields_skip(f, n, o);
            const nc_field_t *in = f + o + 1;
            const nc_field_t *v = nc_fields_get(in, oend - o - 1, tls ? "round_trips" : "request");
            if (tls) {
                if (v && v->kind == NC_F_INT)
                    *a += v->v.i;
            } else if (v && v->kind == NC_F_BOOL && v->v.b)
                (*a)++;
            else if (nc_fields_get(in, oend - o - 1, "status"))
                (*b)++;
            if (!list)
                break;
        }
        return;
    }
}

/* An HTTP/2 frame (the object's fields, n of them) counted as HTTP's: a
 * HEADERS frame with a :method opens a request (*a), and a HEADERS or DATA
 * frame with END_STREAM on a stream ends a message (*b: an answer, when
 * the peer sent it). */
static void nc_compare_h2_frame(const nc_field_t *in, uint32_t n, int64_t *a, int64_t *b)
{
    const nc_field_t *type = nc_fields_get(in, n, "type"), *flags = nc_fields_get(in, n, "flags");
    if (!type || type->kind != NC_F_INT || type->v.i > 1)
        return;
    if (flags && flags->kind == NC_F_INT && (flags->v.i & 1))
        (*b)++;
    const nc_field_t *h = nc_fields_get(in, n, "header");
    if (type->v.i != 1 || !h || h->kind != NC_F_LIST)
        return;
    uint32_t k = (uint32_t)(h - in), end = nc_fields_skip(in, n, k);
    for (uint32_t o = k + 1; o < end; o = nc_fields_skip(in, n, o)) {
        const nc_field_t *name = nc_fields_get(in + o + 1, nc_fields_skip(in, n, o) - o - 1, "name");
        if (name && name->kind == NC_F_STR && strcmp(name->v.s, ":method") == 0) {
            (*a)++;
            return;
        }
    }
}

/* The HTTP/2 requests and ended messages of a packet (its frames: one
 * object or a list). */
static void nc_compare_h2(const nc_event_t *ev, int64_t *a, int64_t *b)
{
    const nc_field_t *f = ev->fields, *h2 = nc_event_get(ev, "http2");
    if (!h2)
        return;
    uint32_t n = ev->nfields, k = (uint32_t)(h2 - f), end = nc_fields_skip(f, n, k);
    bool list = h2->kind == NC_F_LIST;
    for (uint32_t o = list ? k + 1 : k; o < end && f[o].kind == NC_F_OBJ;
         o = nc_fields_skip(f, n, o)) {
        nc_compare_h2_frame(f + o + 1, nc_fields_skip(f, n, o) - o - 1, a, b);
        if (!list)
            break;
    }
}

void nc_compare_measure(const nc_timeline_t *tl, size_t n, const char *program,
                        nc_compare_row_t *row)
{
    nc_compare_ports_t p;
    nc_compare_ports(tl, n, program, &p);
    row->requests = row->answers = row->empty = row->connections = 0;
    row->round_trips = row->packets = row->bytes = row->time_ns = row->first_byte_ns = 0;
    int64_t first = -1, last = -1, first_answer = -1, last_answer = -1, outstanding = 0;
    for (size_t i = 0; i < n; i++) {
        const nc_event_t *ev = nc_timeline_get(tl, i);
        int64_t v;
        if (ev->type == NC_EV_APP) {
            /* An answer about a job to one of the way's connections. */
            const char *call = nc_event_str(ev, "call");
            if (call && strcmp(call, "write") == 0 && nc_event_int(ev, "news", &v) && v == 0 &&
                p.host && strcmp(ev->host, p.host) != 0 && nc_event_int(ev, "peer_port", &v) &&
                nc_compare_has_port(&p, v))
                row->empty++;
            continue;
        }
        bool sent;
        if (ev->type != NC_EV_PACKET || !nc_compare_mine(ev, &p, &sent))
            continue;
        row->packets++;
        if (nc_event_int(ev, "len", &v))
            row->bytes += v;
        if (first < 0)
            first = ev->t_ns;
        last = ev->t_ns;
        if (sent && nc_event_has(ev, "tcp.flags", "SYN") && !nc_event_has(ev, "tcp.flags", "ACK") &&
            !nc_event_bool(ev, "tcp.retransmission")) {
            row->connections++;
            row->round_trips++;
        }
        int64_t rq, rs;
        nc_compare_layer(ev, "tls", &rq, &rs);
        row->round_trips += rq;
        nc_compare_layer(ev, "http", &rq, &rs);
        nc_compare_h2(ev, &rq, &rs);
        if (sent) {
            if (rq && outstanding == 0)
                row->round_trips++;
            outstanding += rq;
            row->requests += rq;
        } else if (rs) {
            outstanding = outstanding > rs ? outstanding - rs : 0;
            row->answers += rs;
            last_answer = ev->t_ns;
            if (first_answer < 0)
                first_answer = ev->t_ns;
        }
    }
    if (first >= 0)
        row->time_ns = (last_answer >= 0 ? last_answer : last) - first;
    if (first_answer >= 0)
        row->first_byte_ns = first_answer - first;
}

void nc_compare_build(const nc_timeline_t *tl, const nc_compare_t *c, nc_compare_table_t *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->id, sizeof out->id, "%s", c->id);
    snprintf(out->title, sizeof out->title, "%s", c->title);
    size_t n = nc_timeline_count(tl);
    for (size_t k = 0; k < c->nways && k < NC_COMPARE_MAX_WAYS; k++) {
        nc_compare_row_t *r = &out->rows[out->nrows++];
        snprintf(r->label, sizeof r->label, "%s", c->ways[k].label);
        snprintf(r->program, sizeof r->program, "%s", c->ways[k].program);
        nc_compare_measure(tl, n, r->program, r);
    }
}

/* The numbers of a row, by name, for the note and for reading it back. */
static const struct {
    const char *key;
    size_t off;
} nc_compare_fields[] = {
    {"requests", offsetof(nc_compare_row_t, requests)},
    {"answers", offsetof(nc_compare_row_t, answers)},
    {"empty", offsetof(nc_compare_row_t, empty)},
    {"connections", offsetof(nc_compare_row_t, connections)},
    {"round_trips", offsetof(nc_compare_row_t, round_trips)},
    {"packets", offsetof(nc_compare_row_t, packets)},
    {"bytes", offsetof(nc_compare_row_t, bytes)},
};

#define NC_COMPARE_NFIELDS (sizeof nc_compare_fields / sizeof nc_compare_fields[0])

static int64_t *nc_compare_at(nc_compare_row_t *r, size_t k)
{
    return (int64_t *)((char *)r + nc_compare_fields[k].off);
}

/* Milliseconds to a tenth, rounded: the note's field and its sentence
 * say the same number. */
static double nc_compare_ms(int64_t ns)
{
    return (double)((ns + 50000) / 100000) / 10.0;
}

void nc_compare_note(nc_evb_t *b, const nc_compare_table_t *t, int64_t t_ns)
{
    nc_evb_reset(b, NC_EV_NOTE, t_ns);
    nc_evb_host(b, "lesson");
    nc_evb_summary(b, "Comparison: %s", t->title);
    nc_evb_str(b, "compare", t->id);
    nc_evb_str(b, "title", t->title);
    nc_evb_list(b, "ways");
    for (size_t i = 0; i < t->nrows; i++) {
        nc_compare_row_t r = t->rows[i];
        nc_evb_obj(b, NULL);
        nc_evb_str(b, "label", r.label);
        nc_evb_str(b, "program", r.program);
        for (size_t k = 0; k < NC_COMPARE_NFIELDS; k++)
            nc_evb_int(b, nc_compare_fields[k].key, *nc_compare_at(&r, k));
        nc_evb_num(b, "time_ms", nc_compare_ms(r.time_ns));
        nc_evb_num(b, "first_byte_ms", nc_compare_ms(r.first_byte_ns));
        nc_evb_end(b);
    }
    nc_evb_end(b);
    /* The note says it in words, one sentence a way. */
    for (size_t i = 0; i < t->nrows; i++) {
        const nc_compare_row_t *r = &t->rows[i];
        char empty[64] = "";
        if (r->empty)
            snprintf(empty, sizeof empty, " (%lld of them empty)", (long long)r->empty);
        nc_evb_note(b, "%s: %lld %s%s on %lld %s, %lld round %s, %lld bytes, %.1f ms.", r->label,
                    (long long)r->requests, nc_words_plural(r->requests, "request", "requests"),
                    empty, (long long)r->connections,
                    nc_words_plural(r->connections, "connection", "connections"),
                    (long long)r->round_trips, nc_words_plural(r->round_trips, "trip", "trips"),
                    (long long)r->bytes, nc_compare_ms(r->time_ns));
    }
}

/* A note's milliseconds (a number or an integer) as nanoseconds; 0 when
 * absent. */
static int64_t nc_compare_ns(const nc_field_t *v)
{
    return !v                    ? 0
           : v->kind == NC_F_NUM ? (int64_t)(v->v.d * 1e6 + 0.5)
           : v->kind == NC_F_INT ? v->v.i * 1000000
                                 : 0;
}

bool nc_compare_from_event(const nc_event_t *ev, nc_compare_table_t *out)
{
    memset(out, 0, sizeof *out);
    const char *id = ev->type == NC_EV_NOTE ? nc_event_str(ev, "compare") : NULL;
    const nc_field_t *ways = id ? nc_event_get(ev, "ways") : NULL;
    if (!ways || ways->kind != NC_F_LIST)
        return false;
    snprintf(out->id, sizeof out->id, "%s", id);
    const char *title = nc_event_str(ev, "title");
    snprintf(out->title, sizeof out->title, "%s", title ? title : id);
    const nc_field_t *f = ev->fields;
    uint32_t n = ev->nfields, k = (uint32_t)(ways - f), end = nc_fields_skip(f, n, k);
    for (uint32_t o = k + 1; o < end && f[o].kind == NC_F_OBJ && out->nrows < NC_COMPARE_MAX_WAYS;
         o = nc_fields_skip(f, n, o)) {
        const nc_field_t *in = f + o + 1;
        uint32_t len = nc_fields_skip(f, n, o) - o - 1;
        nc_compare_row_t *r = &out->rows[out->nrows++];
        const nc_field_t *v = nc_fields_get(in, len, "label");
        snprintf(r->label, sizeof r->label, "%s", v && v->kind == NC_F_STR ? v->v.s : "?");
        v = nc_fields_get(in, len, "program");
        snprintf(r->program, sizeof r->program, "%s", v && v->kind == NC_F_STR ? v->v.s : "?");
        for (size_t j = 0; j < NC_COMPARE_NFIELDS; j++) {
            v = nc_fields_get(in, len, nc_compare_fields[j].key);
            *nc_compare_at(r, j) = v && v->kind == NC_F_INT ? v->v.i : 0;
        }
        r->time_ns = nc_compare_ns(nc_fields_get(in, len, "time_ms"));
        r->first_byte_ns = nc_compare_ns(nc_fields_get(in, len, "first_byte_ms"));
    }
    return true;
}

const nc_event_t *nc_compare_find(const nc_timeline_t *tl, size_t n)
{
    /* The run adds it among its last events: only marks and the capture's
     * counts come after it. */
    for (size_t i = n; i-- > 0 && i + 64 >= n;) {
        const nc_event_t *ev = nc_timeline_get(tl, i);
        if (ev->type == NC_EV_NOTE && nc_event_str(ev, "compare"))
            return ev;
    }
    return NULL;
}
