/*
 * signal.c: a signalling server, the meeting point where two WebRTC peers
 * trade their SDP offer and answer before they can reach each other.
 *
 * The protocol is lines over TCP (each ends with "\n", 1024 bytes at most):
 *
 *   client -> server   JOIN ROOM     enter room ROOM (a word); answered
 *                                    "OK N" (N: members now, 1 or 2) or
 *                                    "ERR full"
 *                      any line      after JOIN: passed as it is to the
 *                                    other member of the room, or held
 *                                    until one joins
 *
 * The server reads no SDP: it only passes lines, which is all a signalling
 * server must do (WebRTC leaves signalling to the application).
 *
 * Data model. The server holds at most NC_SIG_CONNS connections; each
 * member names its room (a room is simply the members that name it, at
 * most two). Lines sent while the room has one member wait in that
 * member's hold queue (NC_SIG_HELD lines, NC_SIG_HELD_BYTES bytes) and go
 * to the second member when it joins. A client that breaks a bound (a line
 * too long, a full queue, a third member, data before JOIN) is told ERR
 * and closed alone. Every decision is an app event: "join", "forward",
 * "hold", "refuse". Ownership: the server owns its members; each is freed
 * with its connection, the server once stopped and empty.
 */
#include "kit_impl.h"

#include "../core/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    NC_SIG_CONNS = 32,
    NC_SIG_LINE = 1024,
    NC_SIG_HELD = 64,
    NC_SIG_HELD_BYTES = 16384,
    NC_SIG_REPORTS = 400,
};

typedef struct sig_member sig_member_t;

struct nc_kit_signal {
    nc_kit_t *k;
    nc_kit_listener_t *l;
    sig_member_t *members; /* a list, newest first */
    size_t nmembers;
    size_t reports, forwarded;
    bool stopped;
};

struct sig_member {
    nc_kit_signal_t *s;
    sig_member_t *next;
    nc_kit_conn_t *c;
    char room[64]; /* empty before JOIN */
    char line[NC_SIG_LINE];
    size_t nline;
    char *out;     /* lines of the read in progress, to pass in one write */
    size_t nout, outlines;
    char *held;    /* lines waiting for the other member */
    size_t nheld, heldlines;
    bool refused;
};

static bool sig_budget(nc_kit_signal_t *s)
{
    return s->reports++ < NC_SIG_REPORTS;
}

static void sig_maybe_free(nc_kit_signal_t *s)
{
    if (s->stopped && !s->members && !s->l)
        free(s);
}

static void sig_refuse(sig_member_t *m, const char *reason)
{
    if (m->refused)
        return;
    m->refused = true;
    char line[200];
    int n = snprintf(line, sizeof line, "ERR %s\n", reason);
    nc_kit_write_quiet(m->c, line, (size_t)n);
    if (sig_budget(m->s))
        nc_kit_report(m->s->k, m->c, "refuse", (nc_scn_kv_t[]){NC_KV_S("reason", reason)}, 1,
                      NULL, "the signalling server refuses %s: %s", nc_kit_conn_peer(m->c),
                      reason);
    nc_kit_close(m->c, NULL);
}

/* The other member of m's room, or NULL. */
static sig_member_t *sig_other(sig_member_t *m)
{
    for (sig_member_t *o = m->s->members; o; o = o->next)
        if (o != m && !o->refused && o->room[0] && strcmp(o->room, m->room) == 0)
            return o;
    return NULL;
}

static size_t sig_room_size(nc_kit_signal_t *s, const char *room)
{
    size_t n = 0;
    for (sig_member_t *o = s->members; o; o = o->next)
        if (!o->refused && strcmp(o->room, room) == 0)
            n++;
    return n;
}

/* What the first line of a batch says, for the report: an SDP's kind. */
static const char *sig_what(const char *line)
{
    if (strncmp(line, "SDP offer", 9) == 0)
        return "offer";
    if (strncmp(line, "SDP answer", 10) == 0)
        return "answer";
    return "line";
}

static void sig_pass(sig_member_t *from, sig_member_t *to, const char *data, size_t n,
                     size_t lines, bool held)
{
    nc_kit_write_quiet(to->c, data, n);
    from->s->forwarded += lines;
    if (sig_budget(from->s))
        nc_kit_report(from->s->k, to->c, "forward",
                      (nc_scn_kv_t[]){NC_KV_S("room", from->room), NC_KV_S("what", sig_what(data)),
                                      NC_KV_I("lines", (int64_t)lines),
                                      NC_KV_I("bytes", (int64_t)n), NC_KV_B("held", held)},
                      5, NULL, "write(): %zu %s (%s) %s to %s in room %s", lines,
                      lines == 1 ? "line" : "lines", sig_what(data),
                      held ? "that waited for it are passed" : "passed", nc_kit_conn_peer(to->c),
                      from->room);
}

static void sig_line(sig_member_t *m, char *line)
{
    nc_kit_signal_t *s = m->s;
    if (!m->room[0]) {
        char room[64];
        if (sscanf(line, "JOIN %63s", room) != 1) {
            sig_refuse(m, "the first line must be JOIN ROOM");
            return;
        }
        if (sig_room_size(s, room) >= 2) {
            sig_refuse(m, "full");
            return;
        }
        snprintf(m->room, sizeof m->room, "%s", room);
        size_t members = sig_room_size(s, room);
        char ok[32];
        int n = snprintf(ok, sizeof ok, "OK %zu\n", members);
        nc_kit_write_quiet(m->c, ok, (size_t)n);
        if (sig_budget(s))
            nc_kit_report(s->k, m->c, "join",
                          (nc_scn_kv_t[]){NC_KV_S("room", room),
                                          NC_KV_I("members", (int64_t)members)},
                          2, NULL, "%s joins room %s (%zu %s there now)", nc_kit_conn_peer(m->c),
                          room, members, members == 1 ? "member" : "members");
        sig_member_t *o = sig_other(m);
        if (o && o->nheld) {
            sig_pass(o, m, o->held, o->nheld, o->heldlines, true);
            free(o->held);
            o->held = NULL;
            o->nheld = o->heldlines = 0;
        }
        return;
    }
    size_t n = strlen(line);
    line[n++] = '\n';
    if (m->nheld + m->nout + n > NC_SIG_HELD_BYTES ||
        m->heldlines + m->outlines == NC_SIG_HELD) {
        sig_refuse(m, "too much at once, or too much waits for a member who has not come");
        return;
    }
    m->out = nc_xrealloc(m->out, m->nout + n);
    memcpy(m->out + m->nout, line, n);
    m->nout += n;
    m->outlines++;
}

/* Passes the lines of one read to the other member in one write, or holds
 * them until it joins. */
static void sig_flush(sig_member_t *m)
{
    if (!m->nout || m->refused)
        return;
    sig_member_t *o = sig_other(m);
    if (o) {
        sig_pass(m, o, m->out, m->nout, m->outlines, false);
    } else {
        m->held = nc_xrealloc(m->held, m->nheld + m->nout);
        memcpy(m->held + m->nheld, m->out, m->nout);
        m->nheld += m->nout;
        if (m->heldlines == 0 && sig_budget(m->s))
            nc_kit_report(m->s->k, m->c, "hold", (nc_scn_kv_t[]){NC_KV_S("room", m->room)}, 1,
                          NULL, "room %s has nobody else yet: the server holds what %s sends",
                          m->room, nc_kit_conn_peer(m->c));
        m->heldlines += m->outlines;
    }
    m->nout = m->outlines = 0;
}

static void sig_data(nc_kit_conn_t *c, const char *data, size_t n)
{
    sig_member_t *m = nc_kit_conn_owner(c);
    for (size_t i = 0; i < n && !m->refused; i++) {
        if (data[i] == '\n') {
            m->line[m->nline] = '\0';
            if (m->nline && m->line[m->nline - 1] == '\r')
                m->line[m->nline - 1] = '\0';
            m->nline = 0;
            sig_line(m, m->line);
            continue;
        }
        if (m->nline + 2 >= sizeof m->line) {
            sig_refuse(m, "a line longer than 1024 bytes");
            return;
        }
        m->line[m->nline++] = data[i];
    }
    sig_flush(m);
}

static void sig_eof(nc_kit_conn_t *c)
{
    nc_kit_close(c, NULL);
}

static void sig_closed(nc_kit_conn_t *c)
{
    sig_member_t *m = nc_kit_conn_owner(c);
    nc_kit_signal_t *s = m->s;
    for (sig_member_t **p = &s->members; *p; p = &(*p)->next)
        if (*p == m) {
            *p = m->next;
            break;
        }
    s->nmembers--;
    free(m->held);
    free(m->out);
    free(m);
    sig_maybe_free(s);
}

static void sig_describe(nc_kit_conn_t *c, const char *data, size_t n, char *out, size_t outlen)
{
    if (n == 0)
        return;
    int first = (int)strcspn(data, "\r\n");
    snprintf(out, outlen, "read() returned %zu bytes: \"%.*s\"%s", n, first < 60 ? first : 60,
             data, (size_t)first < n - 1 ? " ..." : "");
}

static const nc_kit_conn_cbs_t sig_cbs = {
    .describe = sig_describe,
    .on_data = sig_data,
    .on_eof = sig_eof,
    .on_closed = sig_closed,
};

static void sig_accepted(nc_kit_listener_t *l, nc_kit_conn_t *c, void *data)
{
    nc_kit_signal_t *s = data;
    nc_kit_conn_tolerant(c);
    if (s->stopped || s->nmembers == NC_SIG_CONNS) {
        if (sig_budget(s))
            nc_kit_report(s->k, c, "refuse", (nc_scn_kv_t[]){NC_KV_S("reason", "full")}, 1, NULL,
                          "the signalling server already holds %zu connections: it refuses %s",
                          s->nmembers, nc_kit_conn_peer(c));
        nc_kit_reset(c, NULL);
        return;
    }
    sig_member_t *m = nc_xcalloc(1, sizeof *m);
    m->s = s;
    m->c = c;
    m->next = s->members;
    s->members = m;
    s->nmembers++;
    nc_kit_conn_start(c, &sig_cbs, m);
}

nc_kit_signal_t *nc_kit_signal_serve(nc_kit_t *k, int port, const char *say)
{
    nc_kit_signal_t *s = nc_xcalloc(1, sizeof *s);
    s->k = k;
    s->l = nc_kit_listen(k, port, 64, sig_accepted, s,
                         say ? say
                             : "listen(): the signalling server waits for peers to meet in a "
                               "room and trade their offer and answer");
    if (!s->l) {
        free(s);
        return NULL;
    }
    return s;
}

size_t nc_kit_signal_members(const nc_kit_signal_t *s)
{
    return s ? s->nmembers : 0;
}

void nc_kit_signal_stop(nc_kit_signal_t *s)
{
    if (!s || s->stopped)
        return;
    s->stopped = true;
    nc_kit_listener_close(s->l);
    s->l = NULL;
    for (sig_member_t *m = s->members; m; m = m->next)
        nc_kit_close(m->c, NULL);
    sig_maybe_free(s);
}
