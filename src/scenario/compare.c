/*
 * compare.c: measuring the ways a lesson compares, from the run's events.
 *
 * Data model. A way is one lesson program. Its connections are the local
 * ports its app events report (every kit call carries "program" and
 * "port"), on its host; its packets are the TCP packets, or UDP datagrams
 * (QUIC), of those ports (sent from its host with that source port, or to
 * it with that destination port). A whole run (no program) is every TCP
 * connection, the side that sent the SYN being the client. Over them, in
 * timeline order:
 *
 *   connections  SYNs it sent (not retransmissions), and for UDP the ports
 *                it sent from;
 *   requests     HTTP requests it sent, pipelined ones each counted
 *                (HTTP/3: HEADERS with a method);
 *   answers      HTTP responses it received (HTTP/3: HEADERS with a
 *                status);
 *   round trips  every handshake (a QUIC connection's counts one), and
 *                every request sent while none of its
 *                earlier ones was still unanswered (a request pipelined
 *                behind another shares that one's trip); a TLS handshake
 *                adds the round trips its decoder counted (tls.round_trips
 *                on the message that completes it);
 *   bytes        every packet's length on the wire, both ways, the ones
 *                the wire dropped included (they were sent);
 *   time         from its first packet to the packet that completes its
 *                last answer (its last packet when it had no answer);
 *   first byte   from its first packet to the first packet that carries
 *                an answer (0 when it had none);
 *   round trips before the first byte
 *                the turns from the client speaking (a SYN, or data) to the
 *                server speaking (a SYN-ACK, or data), up to and including
 *                the packet that completes the first answer: a ClientHello
 *                in a Fast Open SYN, or a request in 0-RTT early data,
 *                shares its trip with what went before it;
 *   stalled streams
 *                streams that waited on a retransmission: a data segment
 *                the wire dropped stalls its direction of its connection
 *                until a retransmission arrives, and every HTTP/2 stream
 *                with a frame in that retransmission (or the connection's
 *                own byte stream, without HTTP/2) waited behind the hole.
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
#include "../core/xmalloc.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NC_COMPARE_MAX_PORTS 64
#define NC_COMPARE_MAX_STREAMS 256

/* The measured side's connections: a local port on a host each. */
typedef struct nc_compare_ports {
    const char *host[NC_COMPARE_MAX_PORTS];
    int64_t port[NC_COMPARE_MAX_PORTS];
    size_t n;
} nc_compare_ports_t;

/* The connection of host:port, or -1. */
static int nc_compare_find_port(const nc_compare_ports_t *p, const char *host, int64_t port)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->port[i] == port && host && strcmp(p->host[i], host) == 0)
            return (int)i;
    return -1;
}

static int nc_compare_add_port(nc_compare_ports_t *p, const char *host, int64_t port)
{
    int k = nc_compare_find_port(p, host, port);
    if (k >= 0 || p->n == NC_COMPARE_MAX_PORTS)
        return k;
    p->host[p->n] = host;
    p->port[p->n] = port;
    return (int)p->n++;
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
        nc_compare_add_port(out, ev->host, port);
    }
}

/* A TCP or UDP packet's ports. */
static bool nc_compare_packet_ports(const nc_event_t *ev, int64_t *sport, int64_t *dport)
{
    return (nc_event_int(ev, "tcp.sport", sport) && nc_event_int(ev, "tcp.dport", dport)) ||
           (nc_event_int(ev, "udp.sport", sport) && nc_event_int(ev, "udp.dport", dport));
}

/* The connection a TCP packet, or a UDP datagram of a way (QUIC), travels
 * on (-1: none of the measured side's). Sets *sent to whether the
 * measured side sent it. */
static int nc_compare_mine(const nc_event_t *ev, const nc_compare_ports_t *p, bool *sent)
{
    const char *from = nc_event_str(ev, "from"), *to = nc_event_str(ev, "to");
    int64_t sport, dport;
    if (!from || !to || !nc_compare_packet_ports(ev, &sport, &dport))
        return -1;
    int k = nc_compare_find_port(p, from, sport);
    *sent = k >= 0;
    return k >= 0 ? k : nc_compare_find_port(p, to, dport);
}

/* Counts the messages of a packet's layer `layer` (one object or a list
 * of them): for "http" and "http3", requests in *a (HTTP/1's "request",
 * HTTP/3's HEADERS with a "method") and responses in *b (a "status");
 * for "tls", the handshake round trips in *a (*b stays 0). */
static void nc_compare_layer(const nc_event_t *ev, const char *layer, int64_t *a, int64_t *b)
{
    *a = *b = 0;
    bool tls = strcmp(layer, "tls") == 0, h3 = strcmp(layer, "http3") == 0;
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
            const nc_field_t *v = nc_fields_get(in, oend - o - 1,
                                                tls ? "round_trips" : h3 ? "method" : "request");
            if (tls) {
                if (v && v->kind == NC_F_INT)
                    *a += v->v.i;
            } else if (v && (h3 || (v->kind == NC_F_BOOL && v->v.b)))
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

/* Streams that waited on a retransmission: (connection, direction, HTTP/2
 * stream id or -1 for the connection's own byte stream), each once. */
typedef struct nc_compare_stalls {
    int64_t key[NC_COMPARE_MAX_STREAMS];
    size_t n;
    bool open[NC_COMPARE_MAX_PORTS][2]; /* a loss not yet repaired */
} nc_compare_stalls_t;

static void nc_compare_stall(nc_compare_stalls_t *s, int conn, bool sent, int64_t stream)
{
    int64_t key = ((int64_t)conn * 2 + sent) << 32 | (stream & 0xffffffff);
    for (size_t i = 0; i < s->n; i++)
        if (s->key[i] == key)
            return;
    if (s->n < NC_COMPARE_MAX_STREAMS)
        s->key[s->n++] = key;
}

/* Marks the streams of a packet that waited on a hole: every HTTP/2 stream
 * (id > 0) with a frame in it, or the connection's byte stream when it
 * carries no HTTP/2 frame. */
static void nc_compare_stall_streams(nc_compare_stalls_t *s, const nc_event_t *ev, int conn,
                                     bool sent)
{
    const nc_field_t *f = ev->fields, *h2 = nc_event_get(ev, "http2");
    if (!h2) {
        nc_compare_stall(s, conn, sent, -1);
        return;
    }
    uint32_t n = ev->nfields, k = (uint32_t)(h2 - f), end = nc_fields_skip(f, n, k);
    bool list = h2->kind == NC_F_LIST;
    for (uint32_t o = list ? k + 1 : k; o < end && f[o].kind == NC_F_OBJ;
         o = nc_fields_skip(f, n, o)) {
        const nc_field_t *v = nc_fields_get(f + o + 1, nc_fields_skip(f, n, o) - o - 1, "streamid");
        if (v && v->kind == NC_F_INT && v->v.i > 0)
            nc_compare_stall(s, conn, sent, v->v.i);
        if (!list)
            break;
    }
}

/* Marks the QUIC streams of a packet that carries again a STREAM frame a
 * lost packet held (the decoder's retransmission_of): only those streams
 * waited, as QUIC delivers each stream on its own. True when it marked one. */
static bool nc_compare_stall_quic(nc_compare_stalls_t *s, const nc_event_t *ev, int conn,
                                  bool sent)
{
    const nc_field_t *f = ev->fields, *q = nc_event_get(ev, "quic");
    bool any = false;
    if (!q)
        return false;
    uint32_t n = ev->nfields, k = (uint32_t)(q - f), end = nc_fields_skip(f, n, k);
    bool list = q->kind == NC_F_LIST;
    for (uint32_t o = list ? k + 1 : k; o < end && f[o].kind == NC_F_OBJ;
         o = nc_fields_skip(f, n, o)) {
        uint32_t pend = nc_fields_skip(f, n, o);
        const nc_field_t *fr = nc_fields_get(f + o + 1, pend - o - 1, "frame");
        if (fr && fr->kind == NC_F_LIST) {
            uint32_t fk = (uint32_t)(fr - f), fend = nc_fields_skip(f, n, fk);
            for (uint32_t j = fk + 1; j < fend && f[j].kind == NC_F_OBJ;
                 j = nc_fields_skip(f, n, j)) {
                uint32_t jn = nc_fields_skip(f, n, j) - j - 1;
                const nc_field_t *sid = nc_fields_get(f + j + 1, jn, "stream.stream_id");
                if (sid && sid->kind == NC_F_INT && nc_fields_get(f + j + 1, jn, "retransmission_of")) {
                    nc_compare_stall(s, conn, sent, sid->v.i);
                    any = true;
                }
            }
        }
        if (!list)
            break;
    }
    return any;
}

/* The stalled streams counted: a connection's own byte stream (-1) only
 * when none of its packets named a stream, since a segment behind a hole
 * that completes no HTTP/2 frame still belongs to the streams named. */
static int64_t nc_compare_stall_count(const nc_compare_stalls_t *s)
{
    int64_t n = 0;
    for (size_t i = 0; i < s->n; i++) {
        bool whole = (s->key[i] & 0xffffffff) == 0xffffffff;
        bool named = false;
        for (size_t j = 0; whole && j < s->n; j++)
            named |= (s->key[j] >> 33) == (s->key[i] >> 33) &&
                     (s->key[j] & 0xffffffff) != 0xffffffff;
        n += !(whole && named);
    }
    return n;
}

static void nc_compare_point(nc_compare_run_t *run, int conn, const nc_event_t *ev,
                             const nc_compare_ports_t *p, unsigned flags)
{
    while (run->nconns <= (size_t)conn) {
        run->conns = nc_xrealloc(run->conns, (run->nconns + 1) * sizeof *run->conns);
        nc_compare_conn_t *c = &run->conns[run->nconns];
        memset(c, 0, sizeof *c);
        run->nconns++;
    }
    nc_compare_conn_t *c = &run->conns[conn];
    if (c->n == 0) {
        int64_t sport = 0, dport = 0;
        nc_compare_packet_ports(ev, &sport, &dport);
        bool sent = flags & NC_COMPARE_SENT;
        const char *peer = nc_event_str(ev, sent ? "to" : "from");
        snprintf(c->label, sizeof c->label, "%s:%lld > %s:%lld", p->host[conn],
                 (long long)p->port[conn], peer ? peer : "?", (long long)(sent ? dport : sport));
    }
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->pts = nc_xrealloc(c->pts, c->cap * sizeof *c->pts);
    }
    c->pts[c->n++] = (nc_compare_point_t){ev->t_ns, flags};
}

/* The one pass behind nc_compare_measure and nc_compare_measure_run. */
static void nc_compare_scan(const nc_timeline_t *tl, size_t n, const char *program,
                            nc_compare_row_t *row, nc_compare_run_t *run)
{
    nc_compare_ports_t p;
    if (program)
        nc_compare_ports(tl, n, program, &p);
    else
        memset(&p, 0, sizeof p);
    nc_compare_stalls_t st;
    memset(&st, 0, sizeof st);
    row->requests = row->answers = row->empty = row->connections = 0;
    row->round_trips = row->packets = row->bytes = row->time_ns = row->first_byte_ns = 0;
    row->first_byte_trips = row->stalled = 0;
    int64_t first = -1, last = -1, first_answer = -1, last_answer = -1, outstanding = 0;
    bool turn = false; /* the client spoke since the server last did */
    bool used[NC_COMPARE_MAX_PORTS] = {false}; /* a connection's packet was seen */
    bool held_answer[NC_COMPARE_MAX_PORTS] = {false}; /* an answer waits on a repair */
    for (size_t i = 0; i < n; i++) {
        const nc_event_t *ev = nc_timeline_get(tl, i);
        int64_t v;
        if (ev->type == NC_EV_APP) {
            /* An answer about a job to one of the way's connections. */
            const char *call = nc_event_str(ev, "call");
            if (call && strcmp(call, "write") == 0 && nc_event_int(ev, "news", &v) && v == 0 &&
                nc_event_int(ev, "peer_port", &v)) {
                for (size_t k = 0; k < p.n; k++)
                    if (p.port[k] == v && strcmp(ev->host, p.host[k]) != 0) {
                        row->empty++;
                        break;
                    }
            }
            continue;
        }
        if (ev->type != NC_EV_PACKET)
            continue;
        bool syn = nc_event_has(ev, "tcp.flags", "SYN") && !nc_event_has(ev, "tcp.flags", "ACK");
        bool udp = nc_event_get(ev, "udp") != NULL;
        int64_t sport;
        /* A whole run's client side: whoever sent a SYN. */
        if (!program && syn && nc_event_int(ev, "tcp.sport", &sport) && nc_event_str(ev, "from"))
            nc_compare_add_port(&p, nc_event_str(ev, "from"), sport);
        bool sent;
        int conn = !program && udp ? -1 : nc_compare_mine(ev, &p, &sent);
        if (conn < 0)
            continue;
        row->packets++;
        if (nc_event_int(ev, "len", &v))
            row->bytes += v;
        if (first < 0)
            first = ev->t_ns;
        last = ev->t_ns;
        bool retrans = nc_event_bool(ev, "tcp.retransmission");
        if (sent && syn && !retrans) {
            row->connections++;
            row->round_trips++;
        }
        /* A UDP way's connection (QUIC) is its first datagram from a port,
         * and its handshake one round trip (QUIC's own, TLS inside). */
        if (udp && sent && conn < NC_COMPARE_MAX_PORTS && !used[conn]) {
            row->connections++;
            row->round_trips++;
        }
        if (conn < NC_COMPARE_MAX_PORTS)
            used[conn] = true;
        int64_t rq, rs, rq3, rs3;
        nc_compare_layer(ev, "tls", &rq, &rs);
        row->round_trips += rq;
        nc_compare_layer(ev, "http", &rq, &rs);
        nc_compare_layer(ev, "http3", &rq3, &rs3);
        rq += rq3;
        rs += rs3;
        nc_compare_h2(ev, &rq, &rs);
        bool data = (nc_event_int(ev, "tcp.len", &v) && v > 0) ||
                    (nc_event_int(ev, "udp.payload_len", &v) && v > 0);
        bool dropped = nc_event_bool(ev, "dropped");
        /* The decoder reads a dropped packet as if it arrived. An answer
         * it completes, or one completed over TCP behind a hole not yet
         * repaired, reaches the client only with the repair: it is timed
         * then (held[conn]). */
        bool held = !sent && rs && conn < NC_COMPARE_MAX_PORTS &&
                    (dropped || (!udp && st.open[conn][0] && !(data && retrans)));
        if (sent) {
            if (rq && outstanding == 0)
                row->round_trips++;
            outstanding += rq;
            row->requests += rq;
        } else if (rs) {
            outstanding = outstanding > rs ? outstanding - rs : 0;
            row->answers += rs;
            if (held)
                held_answer[conn] = true;
            else
                last_answer = ev->t_ns;
        }
        /* Round trips before the first byte: the turns from the client
         * speaking (a SYN or data) to the server speaking (a SYN-ACK or
         * data), up to the packet that completes the first answer. */
        if (first_answer < 0) {
            if (sent && (syn || data))
                turn = true;
            else if (!sent && turn && (data || nc_event_has(ev, "tcp.flags", "SYN"))) {
                turn = false;
                row->first_byte_trips++;
            }
            if (!sent && rs && !held)
                first_answer = ev->t_ns;
        }
        /* A lost data segment opens a stall of its direction until the
         * first retransmission that arrives repairs it. Every byte sent
         * after the hole waits in the receiver's kernel meanwhile, so the
         * streams of the lost segment, of every data segment behind it and
         * of the repairing one all waited. */
        bool repaired = false;
        if (data && !udp && conn < NC_COMPARE_MAX_PORTS) {
            if (dropped) {
                st.open[conn][sent] = true;
                nc_compare_stall_streams(&st, ev, conn, sent);
            } else if (st.open[conn][sent]) {
                nc_compare_stall_streams(&st, ev, conn, sent);
                if (retrans) {
                    st.open[conn][sent] = false;
                    repaired = true;
                }
            }
        } else if (udp && conn < NC_COMPARE_MAX_PORTS)
            repaired = nc_compare_stall_quic(&st, ev, conn, sent) && !dropped;
        if (repaired && !sent && held_answer[conn]) {
            held_answer[conn] = false;
            last_answer = last_answer > ev->t_ns ? last_answer : ev->t_ns;
            if (first_answer < 0)
                first_answer = ev->t_ns;
        }
        if (run)
            nc_compare_point(run, conn, ev, &p,
                             (sent ? NC_COMPARE_SENT : 0) | (dropped ? NC_COMPARE_DROPPED : 0) |
                                 (rs && !sent ? NC_COMPARE_ANSWER : 0) |
                                 (retrans ? NC_COMPARE_RETRANS : 0) |
                                 (data ? NC_COMPARE_DATA : 0));
    }
    row->stalled = nc_compare_stall_count(&st);
    if (first >= 0)
        row->time_ns = (last_answer >= 0 ? last_answer : last) - first;
    if (first_answer >= 0)
        row->first_byte_ns = first_answer - first;
    if (run && first >= 0) {
        run->start_ns = first;
        run->end_ns = last;
    }
}

void nc_compare_measure(const nc_timeline_t *tl, size_t n, const char *program,
                        nc_compare_row_t *row)
{
    nc_compare_scan(tl, n, program, row, NULL);
}

void nc_compare_measure_run(const nc_timeline_t *tl, size_t n, const char *program,
                            nc_compare_run_t *run)
{
    nc_compare_scan(tl, n, program, &run->row, run);
}

void nc_compare_run_done(nc_compare_run_t *run)
{
    for (size_t i = 0; i < run->nconns; i++)
        free(run->conns[i].pts);
    free(run->conns);
    run->conns = NULL;
    run->nconns = 0;
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

/* Every measure, in the order tables show them; the note carries each
 * under its key (times as milliseconds). */
const nc_compare_measure_def_t nc_compare_measures[] = {
    {"requests", "requests", offsetof(nc_compare_row_t, requests), false},
    {"answers", "answers", offsetof(nc_compare_row_t, answers), false},
    {"empty answers", "empty", offsetof(nc_compare_row_t, empty), false},
    {"connections", "connections", offsetof(nc_compare_row_t, connections), false},
    {"round trips", "round_trips", offsetof(nc_compare_row_t, round_trips), false},
    {"round trips before first byte", "first_byte_round_trips",
     offsetof(nc_compare_row_t, first_byte_trips), false},
    {"packets", "packets", offsetof(nc_compare_row_t, packets), false},
    {"bytes on the wire", "bytes", offsetof(nc_compare_row_t, bytes), false},
    {"time to first byte", "first_byte_ms", offsetof(nc_compare_row_t, first_byte_ns), true},
    {"time to last byte", "time_ms", offsetof(nc_compare_row_t, time_ns), true},
    {"stalled streams", "stalled_streams", offsetof(nc_compare_row_t, stalled), false},
};
const size_t nc_compare_nmeasures = sizeof nc_compare_measures / sizeof nc_compare_measures[0];

int64_t nc_compare_value(const nc_compare_row_t *r, size_t k)
{
    return *(const int64_t *)((const char *)r + nc_compare_measures[k].off);
}

static int64_t *nc_compare_at(nc_compare_row_t *r, size_t k)
{
    return (int64_t *)((char *)r + nc_compare_measures[k].off);
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
        for (size_t k = 0; k < nc_compare_nmeasures; k++) {
            if (nc_compare_measures[k].time)
                nc_evb_num(b, nc_compare_measures[k].key, nc_compare_ms(*nc_compare_at(&r, k)));
            else
                nc_evb_int(b, nc_compare_measures[k].key, *nc_compare_at(&r, k));
        }
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
        /* A field an older note lacks reads as 0. */
        for (size_t j = 0; j < nc_compare_nmeasures; j++) {
            v = nc_fields_get(in, len, nc_compare_measures[j].key);
            if (nc_compare_measures[j].time)
                *nc_compare_at(r, j) = nc_compare_ns(v);
            else
                *nc_compare_at(r, j) = v && v->kind == NC_F_INT ? v->v.i : 0;
        }
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
