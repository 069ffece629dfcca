/*
 * program.c: parsing `program` blocks, the lesson's own programs.
 *
 * A program block is a header (`name: NAME`, `host: HOST`) and then one
 * statement a line: a verb, its arguments, and options written key=value.
 * A word, a number, a duration (20ms) or a quoted string ("thanks\n", with
 * \n \r \t \" \\ escapes) is an argument; a value may be quoted too.
 * Lines indented under a `repeat` are its body; `#` starts a comment line.
 *
 * Data model: the grammar is one table (nc_prog_verbs) of verbs, each with
 * the kinds of its arguments (one letter each, below) and the options it
 * takes; the parser checks every statement against it, so a mistake is
 * "FILE:LINE: sentence" when the lesson loads, not a surprise in the run.
 * The result is the lesson model's nc_program_t (core/course.h), owned by
 * the lesson; src/scenario/program.c runs it.
 */
#include "program.h"
#include "lesson_priv.h"

#include "core/error.h"
#include "core/xmalloc.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Argument kinds:  p port (1-65535)   n count (1-1000000)   d duration
 *                  w word   s any text   h lab host   x count or text
 *                  r count or "eof"   k "text" or "binary"   c close code
 *                  S "start" or "stop"   a "session" or "token"
 *                  m "l4" or "l7"   P a balancing policy
 *                  i paths of a page (1-64)   o a pool's connections (1-16)
 *                  g a gRPC call kind (unary, server-stream, client-stream, bidi)
 *                  R "offer" or "answer" (an ICE agent's role)
 * Option kinds are the same letters, plus b (yes/no), H (a "Name: value"
 * header), v (1.0 or 1.1), e (a WebSocket route's mode: echo or push) and
 * j (a job route's part: submit, status or wait). An option in upper case
 * may repeat.
 */
typedef struct nc_prog_optdef {
    const char *key;
    char kind;
    bool repeat;
} nc_prog_optdef_t;

typedef struct nc_prog_verb {
    const char *name;
    const char *args;     /* kinds of the required arguments */
    const char *optional; /* kinds of the arguments that may follow */
    nc_prog_optdef_t opts[24]; /* route uses 20 */
    bool body;
} nc_prog_verb_t;

#define SAY {"say", 's', false}

static const nc_prog_verb_t nc_prog_verbs[] = {
    {"listen", "p", "", {SAY, {"backlog", 'n', false}, {"accept", 's', false}}, false},
    {"accept", "", "", {{0}}, false},
    {"connect", "hp", "", {SAY, {"done", 's', false}, {"nodelay", 'b', false}}, false},
    {"write", "x", "", {SAY}, false},
    {"read", "r", "", {SAY}, false},
    {"close", "", "", {SAY}, false},
    {"sleep", "d", "", {{0}}, false},
    {"repeat", "n", "", {{"every", 'd', false}, {"until", 's', false}}, true},
    {"signal", "w", "", {{0}}, false},
    {"wait", "ww", "", {{0}}, false},
    {"http-listen", "p", "", {SAY, {"backlog", 'n', false}, {"accept", 's', false}}, false},
    {"route", "ssn", "",
     {{"header", 'H', true}, {"body", 's', false}, {"chunks", 'n', false}, {"hold", 'w', false},
      {"sse", 'n', false}, {"every", 'd', false}, {"ws", 'e', false}, SAY,
      {"close", 's', false}, {"delay", 'd', false}, {"upload", 'b', false},
      {"issue", 'a', false}, {"require", 'a', false}, {"end", 'b', false},
      {"push", 's', false}, {"job", 'j', false}, {"steps", 'n', false},
      {"record", 'b', false}, {"size", 'n', false}}, false},
    {"serve", "n", "", {{0}}, false},
    {"restart", "", "", {SAY}, false},
    {"http-connect", "hp", "", {SAY, {"done", 's', false}, {"nodelay", 'b', false}}, false},
    {"tls-listen", "p", "",
     {SAY, {"backlog", 'n', false}, {"accept", 's', false}, {"version", 't', false},
      {"alpn", 's', false}, {"nodelay", 'b', false}, {"early", 'b', false},
      {"fastopen", 'b', false}}, false},
    {"tls-connect", "hp", "",
     {SAY, {"done", 's', false}, {"version", 't', false}, {"alpn", 's', false},
      {"sni", 'w', false}, {"nodelay", 'b', false}, {"early", 'b', false},
      {"fastopen", 'b', false}}, false},
    {"get", "s", "",
     {{"header", 'H', true}, {"version", 'v', false}, {"pipelined", 'b', false}, SAY,
      {"reconnect", 'b', false}}, false},
    {"head", "s", "",
     {{"header", 'H', true}, {"version", 'v', false}, {"pipelined", 'b', false}, SAY,
      {"reconnect", 'b', false}}, false},
    {"post", "s", "",
     {{"header", 'H', true}, {"version", 'v', false}, {"pipelined", 'b', false},
      {"body", 's', false}, {"chunks", 'n', false}, {"expect", 'b', false}, SAY,
      {"reconnect", 'b', false}, {"size", 'n', false}}, false},
    {"await", "", "", {{0}}, false},
    {"events", "sn", "",
     {{"header", 'H', true}, SAY, {"idle", 'd', false}, {"retry", 'd', false}}, false},
    {"ws-connect", "hps", "", {SAY, {"done", 's', false}}, false},
    {"ws-send", "ks", "", {{"fragments", 'n', false}, SAY}, false},
    {"ws-ping", "", "s", {SAY}, false},
    {"ws-read", "", "", {{0}}, false},
    {"ws-close", "c", "s", {SAY}, false},
    {"cut", "d", "", {SAY, {"restore", 's', false}, {"link", 'w', false}}, false},
    {"sysctl", "s", "sssssss", {SAY}, false},
    {"h2-listen", "p", "",
     {SAY, {"backlog", 'n', false}, {"accept", 's', false}, {"tls", 'b', false},
      {"version", 't', false}}, false},
    {"h2-connect", "hp", "",
     {SAY, {"done", 's', false}, {"upgrade", 's', false}, {"window", 'n', false}}, false},
    {"h2-get", "s", "sssssssss", {{"header", 'H', true}, SAY, {"count", 'i', false}}, false},
    {"pool-get", "hps", "", {SAY, {"count", 'i', false}, {"pool", 'o', false}}, false},
    {"h3-listen", "p", "", {SAY}, false},
    {"h3-connect", "hp", "", {SAY}, false},
    {"h3-get", "s", "sssssssss", {{"header", 'H', true}, SAY}, false},
    {"relay", "php", "", {SAY}, false},
    {"sidecar", "php", "", {SAY}, false},
    {"stun-serve", "p", "", {SAY}, false},
    {"stun-bind", "hp", "", {SAY, {"from", 'n', false}}, false},
    {"udp-send", "hps", "", {SAY, {"from", 'n', false}}, false},
    {"udp-listen", "p", "", {SAY, {"count", 'n', false}}, false},
    {"upload", "sn", "",
     {{"chunk", 'n', false}, {"every", 'd', false}, {"timeout", 'd', false},
      {"resume", 'b', false}, {"header", 'H', true}, SAY}, false},
    {"fetch", "hps", "", {{"async", 'b', false}, SAY}, false},
    {"stopwatch", "S", "", {SAY}, false},
    /* middleboxes (src/kit/proxy.c, balance.c, broker.c) */
    {"backend", "hp", "", {{"path", 's', false}}, false},
    {"forward-proxy", "p", "", {SAY, {"max", 'n', false}, {"idle", 'd', false}}, false},
    {"reverse-proxy", "p", "", {SAY, {"max", 'n', false}, {"idle", 'd', false}}, false},
    {"balance", "p", "",
     {SAY, {"mode", 'm', false}, {"policy", 'P', false}, {"cache", 'b', false},
      {"max", 'n', false}, {"idle", 'd', false}, {"tls", 'b', false}}, false},
    {"retry-proxy", "p", "",
     {SAY, {"timeout", 'd', false}, {"retries", 'n', false}, {"max", 'n', false}}, false},
    {"broker", "p", "", {SAY, {"ack", 'd', false}}, false},
    {"broker-connect", "hp", "", {SAY, {"done", 's', false}}, false},
    {"subscribe", "ww", "", {SAY}, false},
    {"publish", "ws", "", {SAY}, false},
    {"receive", "n", "", {SAY, {"ack", 'b', false}}, false},
    {"ws-push", "ks", "", {SAY}, false},
    /* gRPC (src/kit/grpc.c) */
    {"grpc-listen", "p", "",
     {SAY, {"backlog", 'n', false}, {"accept", 's', false}, {"tls", 'b', false},
      {"version", 't', false}}, false},
    {"rpc", "gs", "",
     {{"reply", 's', false}, {"replies", 'n', false}, {"every", 'd', false},
      {"status", 'n', false}, {"message", 's', false}, SAY}, false},
    {"grpc-connect", "hp", "", {SAY, {"done", 's', false}}, false},
    {"grpc-call", "gs", "ssssssss", {{"every", 'd', false}}, false},
    /* WebRTC's way through NATs (src/kit/turn.c, ice.c, signal.c, firewall.c) */
    {"turn-serve", "p", "",
     {SAY, {"user", 'w', false}, {"password", 'w', false}, {"max", 'n', false},
      {"lifetime", 'd', false}}, false},
    {"signal-serve", "p", "", {SAY}, false},
    {"ice", "hp", "",
     {{"role", 'R', false}, {"room", 'w', false}, {"stun", 'h', false}, {"stun-port", 'p', false},
      {"turn", 'h', false}, {"turn-port", 'p', false}, {"user", 'w', false},
      {"password", 'w', false}, {"from", 'p', false}}, false},
    {"ice-send", "s", "", {SAY}, false},
    {"ice-read", "", "", {{0}}, false},
    {"firewall", "", "", {SAY}, false},
};

#define NC_PROG_MAX_DEPTH 4

typedef struct nc_pp {
    const char *path;
    char *err;
    size_t errlen;
} nc_pp_t;

static int nc_pp_fail(nc_pp_t *p, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int nc_pp_fail(nc_pp_t *p, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    nc__lesson_verr(p->err, p->errlen, p->path, line, fmt, ap);
    va_end(ap);
    return NC_ESYNTAX;
}

static const nc_prog_verb_t *nc_prog_verb_find(const char *name)
{
    for (size_t i = 0; i < sizeof nc_prog_verbs / sizeof nc_prog_verbs[0]; i++)
        if (strcmp(nc_prog_verbs[i].name, name) == 0)
            return &nc_prog_verbs[i];
    return NULL;
}

int64_t nc_prog_duration_ns(const char *s)
{
    static const struct {
        const char *unit;
        int64_t ns;
    } units[] = {{"ns", 1}, {"us", 1000}, {"ms", 1000000}, {"s", 1000000000}};
    char *end;
    if (!isdigit((unsigned char)*s))
        return -1;
    long long v = strtoll(s, &end, 10);
    if (v < 0 || v > 3600000)
        return -1;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(end, units[i].unit) == 0 && v * units[i].ns <= 3600LL * 1000000000)
            return v * units[i].ns;
    return -1;
}

long nc_prog_number(const char *s, long min, long max)
{
    if (!isdigit((unsigned char)*s) || strlen(s) > 9)
        return -1;
    char *end;
    long v = strtol(s, &end, 10);
    return *end || v < min || v > max ? -1 : v;
}

/* ---- tokens ---- */

/* Reads a quoted string at *s (which points at the opening quote) into a
 * heap copy with escapes resolved. */
static int nc_pp_quoted(nc_pp_t *p, int line, const char **s, const char *end, char **out)
{
    const char *q = *s + 1;
    char *v = nc_xmalloc((size_t)(end - q) + 1);
    size_t n = 0;
    while (q < end && *q != '"') {
        char c = *q++;
        if (c == '\\') {
            if (q >= end) {
                free(v);
                return nc_pp_fail(p, line, "a '\\' ends the line inside a quoted string");
            }
            static const char from[] = "nrt\"\\", to[] = "\n\r\t\"\\";
            const char *k = memchr(from, *q, sizeof from - 1);
            if (!k) {
                free(v);
                return nc_pp_fail(p, line, "unknown escape \"\\%c\" (use \\n, \\r, \\t, \\\" or \\\\)",
                                  isprint((unsigned char)*q) ? *q : '?');
            }
            c = to[k - from];
            q++;
        }
        v[n++] = c;
    }
    if (q >= end) {
        free(v);
        return nc_pp_fail(p, line, "a quoted string is not closed on its line");
    }
    v[n] = '\0';
    *s = q + 1;
    *out = v;
    return 0;
}

static bool nc_pp_blank(char c)
{
    return c == ' ' || c == '\t';
}

static void nc_stmt_done(nc_prog_stmt_t *st)
{
    free(st->verb);
    for (size_t i = 0; i < st->nargs; i++)
        free(st->args[i]);
    free(st->args);
    for (size_t i = 0; i < st->nopts; i++) {
        free(st->opts[i].key);
        free(st->opts[i].value);
    }
    free(st->opts);
    for (size_t i = 0; i < st->nbody; i++)
        nc_stmt_done(&st->body[i]);
    free(st->body);
    memset(st, 0, sizeof *st);
}

/* The kinds that are a number in a range, and what the number is. */
static const struct {
    char kind;
    long min, max;
    const char *what;
} nc_pp_ranges[] = {
    {'p', 1, 65535, "a port"},
    {'n', 1, 1000000, "a whole number"},
    {'i', 1, 64, "a number of paths"},
    {'o', 1, 16, "a number of connections"},
    {'c', 1000, 4999, "a close code"},
};

/* Checks one value against its kind. */
static int nc_pp_kind(nc_pp_t *p, int line, char kind, const char *what, const char *v)
{
    for (size_t i = 0; i < sizeof nc_pp_ranges / sizeof nc_pp_ranges[0]; i++)
        if (nc_pp_ranges[i].kind == kind) {
            if (nc_prog_number(v, nc_pp_ranges[i].min, nc_pp_ranges[i].max) >= 0)
                return 0;
            return nc_pp_fail(p, line, "%s: expected %s from %ld to %ld, found \"%s\"", what,
                              nc_pp_ranges[i].what, nc_pp_ranges[i].min, nc_pp_ranges[i].max, v);
        }
    switch (kind) {
    case 'd':
        if (nc_prog_duration_ns(v) < 0)
            return nc_pp_fail(p, line, "%s: expected a duration such as 20ms or 1s, found \"%s\"",
                              what, v);
        return 0;
    case 'r':
        if (strcmp(v, "eof") != 0 && nc_prog_number(v, 1, 1000000000) < 0)
            return nc_pp_fail(p, line, "%s: expected a byte count or eof, found \"%s\"", what, v);
        return 0;
    case 'k':
        if (strcmp(v, "text") != 0 && strcmp(v, "binary") != 0)
            return nc_pp_fail(p, line, "%s: expected text or binary, found \"%s\"", what, v);
        return 0;
    case 'b':
        if (strcmp(v, "yes") != 0 && strcmp(v, "no") != 0)
            return nc_pp_fail(p, line, "%s: expected yes or no, found \"%s\"", what, v);
        return 0;
    case 'S':
    case 'a':
    case 'e':
    case 'j':
    case 'm':
    case 'R':
    case 'P': {
        /* The kinds that are one of a few words. */
        static const struct {
            char kind;
            const char *words[3]; /* NULL after the last */
        } sets[] = {{'S', {"start", "stop"}},
                    {'a', {"session", "token"}},
                    {'e', {"echo", "push"}},
                    {'j', {"submit", "status", "wait"}},
                    {'m', {"l4", "l7"}},
                    {'R', {"offer", "answer"}},
                    {'P', {"round-robin", "least-conn", "source-hash"}}};
        size_t k = 0;
        while (k + 1 < sizeof sets / sizeof sets[0] && sets[k].kind != kind)
            k++;
        size_t n = 0;
        while (n < 3 && sets[k].words[n] && strcmp(v, sets[k].words[n]) != 0)
            n++;
        if (n < 3 && sets[k].words[n])
            return 0;
        size_t last = sets[k].words[2] ? 2 : 1;
        return nc_pp_fail(p, line, "%s: expected %s%s%s or %s, found \"%s\"", what,
                          sets[k].words[0], last == 2 ? ", " : "", last == 2 ? sets[k].words[1] : "",
                          sets[k].words[last], v);
    }
    case 'g':
        if (strcmp(v, "unary") != 0 && strcmp(v, "server-stream") != 0 &&
            strcmp(v, "client-stream") != 0 && strcmp(v, "bidi") != 0)
            return nc_pp_fail(p, line, "%s: expected a gRPC call kind (unary, server-stream, "
                              "client-stream or bidi), found \"%s\"", what, v);
        return 0;
    case 'v':
        if (strcmp(v, "1.0") != 0 && strcmp(v, "1.1") != 0)
            return nc_pp_fail(p, line, "%s: expected 1.0 or 1.1, found \"%s\"", what, v);
        return 0;
    case 't':
        if (strcmp(v, "1.2") != 0 && strcmp(v, "1.3") != 0)
            return nc_pp_fail(p, line, "%s: expected TLS version 1.2 or 1.3, found \"%s\"", what,
                              v);
        return 0;
    case 'H': {
        const char *colon = strchr(v, ':');
        if (!colon || colon == v || strpbrk(v, "\r\n"))
            return nc_pp_fail(p, line, "%s: expected \"Name: value\" on one line, found \"%s\"",
                              what, v);
        return 0;
    }
    case 'h':
    case 'w':
        for (const char *c = v; *c; c++)
            if (!isalnum((unsigned char)*c) && !strchr("-_.", *c))
                return nc_pp_fail(p, line, "%s: \"%s\" is not a plain word", what, v);
        if (!*v)
            return nc_pp_fail(p, line, "%s: a word is missing", what);
        return 0;
    default: /* s, x: any text */
        return 0;
    }
}

/* Parses one statement line (without its indentation) into st. */
static int nc_pp_stmt(nc_pp_t *p, int line, const char *s, const char *end, nc_prog_stmt_t *st)
{
    st->line = line;
    int rc = 0;
    bool verb = true;
    while (rc == 0) {
        while (s < end && nc_pp_blank(*s))
            s++;
        if (s >= end)
            break;
        char *word = NULL;
        char *key = NULL;
        if (*s == '"') {
            rc = nc_pp_quoted(p, line, &s, end, &word);
        } else {
            const char *w = s;
            while (s < end && !nc_pp_blank(*s) && *s != '=' && *s != '"')
                s++;
            if (s < end && *s == '=' && !verb) {
                key = nc_xstrndup(w, (size_t)(s - w));
                s++;
                if (s < end && *s == '"') {
                    rc = nc_pp_quoted(p, line, &s, end, &word);
                } else {
                    const char *v = s;
                    while (s < end && !nc_pp_blank(*s))
                        s++;
                    word = nc_xstrndup(v, (size_t)(s - v));
                }
            } else {
                while (s < end && !nc_pp_blank(*s))
                    s++;
                word = nc_xstrndup(w, (size_t)(s - w));
            }
        }
        if (rc == 0 && s < end && !nc_pp_blank(*s))
            rc = nc_pp_fail(p, line, "put a blank after a quoted string");
        if (rc != 0) {
            free(word);
            free(key);
            break;
        }
        if (verb) {
            st->verb = word;
            verb = false;
        } else if (key) {
            st->opts = nc_xrealloc(st->opts, (st->nopts + 1) * sizeof *st->opts);
            st->opts[st->nopts++] = (nc_prog_opt_t){key, word};
        } else if (st->nopts) {
            free(word);
            rc = nc_pp_fail(p, line, "arguments come before the key=value options");
        } else {
            st->args = nc_xrealloc(st->args, (st->nargs + 1) * sizeof *st->args);
            st->args[st->nargs++] = word;
        }
    }
    if (rc != 0)
        return rc;
    const nc_prog_verb_t *v = nc_prog_verb_find(st->verb);
    if (!v) {
        char known[600] = "";
        size_t n = 0;
        for (size_t i = 0; i < sizeof nc_prog_verbs / sizeof nc_prog_verbs[0] && n < sizeof known; i++)
            n += (size_t)snprintf(known + n, sizeof known - n, "%s%s", i ? ", " : "",
                                  nc_prog_verbs[i].name);
        return nc_pp_fail(p, line, "unknown verb \"%s\" (known: %s)", st->verb, known);
    }
    size_t need = strlen(v->args), may = need + strlen(v->optional);
    if (st->nargs < need || st->nargs > may)
        return nc_pp_fail(p, line, "%s takes %zu argument%s%s, not %zu", v->name, need,
                          need == 1 ? "" : "s", may > need ? " (and one more, optional)" : "",
                          st->nargs);
    for (size_t i = 0; i < st->nargs; i++) {
        char kind = i < need ? v->args[i] : v->optional[i - need];
        if ((rc = nc_pp_kind(p, line, kind, v->name, st->args[i])) != 0)
            return rc;
    }
    for (size_t i = 0; i < st->nopts; i++) {
        const nc_prog_optdef_t *d = NULL;
        for (size_t k = 0; k < sizeof v->opts / sizeof v->opts[0] && v->opts[k].key; k++)
            if (strcmp(v->opts[k].key, st->opts[i].key) == 0)
                d = &v->opts[k];
        if (!d)
            return nc_pp_fail(p, line, "%s takes no option \"%s\"", v->name, st->opts[i].key);
        for (size_t j = 0; j < i && !d->repeat; j++)
            if (strcmp(st->opts[j].key, st->opts[i].key) == 0)
                return nc_pp_fail(p, line, "option \"%s\" is given twice", d->key);
        if ((rc = nc_pp_kind(p, line, d->kind, d->key, st->opts[i].value)) != 0)
            return rc;
    }
    return 0;
}

typedef struct nc_pp_line {
    const char *s, *end;
    int indent;
    int line;
    char *own; /* the joined text, when continuation lines were added */
} nc_pp_line_t;

/* Parses lines[*i..n) at indentation `indent` into a statement list. */
static int nc_pp_list(nc_pp_t *p, const nc_pp_line_t *lines, size_t n, size_t *i, int indent,
                      int depth, nc_prog_stmt_t **out, size_t *nout)
{
    while (*i < n && lines[*i].indent >= indent) {
        const nc_pp_line_t *l = &lines[*i];
        if (l->indent > indent)
            return nc_pp_fail(p, l->line, "this line is indented, but no repeat comes before it");
        *out = nc_xrealloc(*out, (*nout + 1) * sizeof **out);
        nc_prog_stmt_t *st = &(*out)[(*nout)++];
        memset(st, 0, sizeof *st);
        int rc = nc_pp_stmt(p, l->line, l->s, l->end, st);
        (*i)++;
        if (rc != 0)
            return rc;
        const nc_prog_verb_t *v = nc_prog_verb_find(st->verb);
        bool indented = *i < n && lines[*i].indent > indent;
        if (v->body && !indented)
            return nc_pp_fail(p, l->line, "%s needs its statements indented under it", v->name);
        if (v->body) {
            if (depth + 1 >= NC_PROG_MAX_DEPTH)
                return nc_pp_fail(p, l->line, "repeats nest at most %d deep", NC_PROG_MAX_DEPTH - 1);
            rc = nc_pp_list(p, lines, n, i, lines[*i].indent, depth + 1, &st->body, &st->nbody);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

void nc_program_done(nc_program_t *pg)
{
    free(pg->name);
    free(pg->host);
    for (size_t i = 0; i < pg->nstmts; i++)
        nc_stmt_done(&pg->stmts[i]);
    free(pg->stmts);
    memset(pg, 0, sizeof *pg);
}

static int nc_pp_header(nc_pp_t *p, const nc_pp_line_t *l, nc_program_t *pg, bool *taken)
{
    static const char *const keys[] = {"name:", "host:"};
    for (size_t k = 0; k < 2; k++) {
        size_t kl = strlen(keys[k]);
        if ((size_t)(l->end - l->s) < kl || memcmp(l->s, keys[k], kl) != 0)
            continue;
        const char *v = l->s + kl;
        while (v < l->end && nc_pp_blank(*v))
            v++;
        const char *e = l->end;
        while (e > v && nc_pp_blank(e[-1]))
            e--;
        char **slot = k == 0 ? &pg->name : &pg->host;
        if (*slot)
            return nc_pp_fail(p, l->line, "the program's %.4s is given twice", keys[k]);
        *slot = nc_xstrndup(v, (size_t)(e - v));
        *taken = true;
        return nc_pp_kind(p, l->line, 'w', keys[k], *slot);
    }
    *taken = false;
    return 0;
}

int nc_program_parse(const char *path, const char *text, size_t len, int first_line,
                     nc_program_t *out, char *err, size_t errlen)
{
    nc_pp_t p = {path ? path : "<lesson>", err, errlen};
    memset(out, 0, sizeof *out);
    out->line = first_line - 1;
    nc_pp_line_t *lines = NULL;
    size_t n = 0;
    int rc = 0;
    const char *end = text + len;
    int line = first_line;
    bool header = true;
    for (const char *s = text; s < end && rc == 0; line++) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *e = nl ? nl : end;
        const char *next = nl ? nl + 1 : end;
        if (e > s && e[-1] == '\r')
            e--;
        int indent = 0;
        const char *q = s;
        while (q < e && nc_pp_blank(*q))
            q++, indent++;
        const char *t = e;
        while (t > q && nc_pp_blank(t[-1]))
            t--;
        if (q < t && *q != '#') {
            /* An indented line that starts with key= continues the
             * statement above it (a repeat's body starts with a verb). */
            size_t w = 0;
            while (q + w < t && (islower((unsigned char)q[w]) || q[w] == '_'))
                w++;
            bool more = indent > 0 && w > 0 && q + w < t && q[w] == '=' && n > 0 && !header;
            if (more) {
                nc_pp_line_t *prev = &lines[n - 1];
                char *joined = nc_xasprintf("%.*s %.*s", (int)(prev->end - prev->s), prev->s,
                                            (int)(t - q), q);
                free(prev->own);
                prev->own = joined;
                prev->s = joined;
                prev->end = joined + strlen(joined);
            } else {
                nc_pp_line_t l = {q, t, indent, line, NULL};
                bool taken = false;
                if (header && indent == 0)
                    rc = nc_pp_header(&p, &l, out, &taken);
                if (!taken) {
                    header = false;
                    lines = nc_xrealloc(lines, (n + 1) * sizeof *lines);
                    lines[n++] = l;
                }
            }
        }
        s = next;
    }
    if (rc == 0 && !out->name)
        rc = nc_pp_fail(&p, out->line, "the program has no \"name:\" line");
    if (rc == 0 && !out->host)
        rc = nc_pp_fail(&p, out->line, "the program has no \"host:\" line (the lab host it runs on)");
    if (rc == 0 && n == 0)
        rc = nc_pp_fail(&p, out->line, "the program has no statements");
    size_t i = 0;
    if (rc == 0)
        rc = nc_pp_list(&p, lines, n, &i, lines[0].indent, 0, &out->stmts, &out->nstmts);
    if (rc == 0 && i < n)
        rc = nc_pp_fail(&p, lines[i].line, "this line is indented less than the program's first "
                                           "statement");
    for (size_t k = 0; k < n; k++)
        free(lines[k].own);
    free(lines);
    if (rc != 0)
        nc_program_done(out);
    return rc;
}

/* Finds `wait PROGRAM EVENT` and `hold=PROGRAM.EVENT` naming no program. */
static int nc_pp_check_list(nc_pp_t *p, const nc_lesson_t *l, const nc_prog_stmt_t *st, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *target = NULL;
        size_t tlen = 0;
        if (strcmp(st[i].verb, "wait") == 0) {
            target = st[i].args[0];
            tlen = strlen(target);
        }
        for (size_t k = 0; k < st[i].nopts; k++)
            if (strcmp(st[i].opts[k].key, "hold") == 0) {
                target = st[i].opts[k].value;
                tlen = strcspn(target, ".");
                if (target[tlen] != '.' || !target[tlen + 1])
                    return nc_pp_fail(p, st[i].line, "hold: expected PROGRAM.EVENT, found \"%s\"",
                                      target);
            }
        bool found = !target;
        for (size_t k = 0; !found && k < l->nprograms; k++)
            found = strlen(l->programs[k].name) == tlen &&
                    memcmp(l->programs[k].name, target, tlen) == 0;
        if (!found)
            return nc_pp_fail(p, st[i].line, "no program of this lesson is named \"%.*s\"",
                              (int)tlen, target);
        int rc = nc_pp_check_list(p, l, st[i].body, st[i].nbody);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int nc_program_check(const nc_lesson_t *l, char *err, size_t errlen)
{
    nc_pp_t p = {l->path ? l->path : "<lesson>", err, errlen};
    for (size_t i = 0; i < l->nprograms; i++) {
        for (size_t k = 0; k < i; k++)
            if (strcmp(l->programs[k].name, l->programs[i].name) == 0)
                return nc_pp_fail(&p, l->programs[i].line, "program \"%s\" is already defined on line %d",
                                  l->programs[i].name, l->programs[k].line);
        int rc = nc_pp_check_list(&p, l, l->programs[i].stmts, l->programs[i].nstmts);
        if (rc != 0)
            return rc;
    }
    if (l->nprograms && l->scenario)
        return nc_pp_fail(&p, l->programs[0].line,
                          "a lesson runs either its scenario \"%s\" or its programs, not both",
                          l->scenario);
    if (!l->nprograms && !l->scenario)
        return nc_pp_fail(&p, 1, "the lesson has neither a \"scenario\" key nor program blocks");
    return 0;
}
