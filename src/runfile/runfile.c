/*
 * runfile.c: writing saved runs, and the text of their Custom Block.
 *
 * Data model: a writer is an open FILE (a temporary name beside the target)
 * plus the Custom Block's text, built while events are added: packets are
 * written at once as Enhanced Packet Blocks, everything else becomes a line
 * of `tail`, which is written as one block at close. `extra` holds the last
 * "p" line's fields, so that a packet whose netcourse-only fields repeat the
 * previous packet's adds no line (runfile.h).
 *
 * The reading half parses those lines back into event builders with a small
 * recursive-descent JSON parser that checks every byte against the end of
 * the line and refuses nesting deeper than NC_JSON_DEPTH.
 */
#include "runfile.h"

#include "../core/error.h"
#include "../core/hex.h"
#include "../core/xmalloc.h"
#include "../pipeline/pipeline.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Top-level packet fields that only a live run has (the wire's decision,
 * the student's traffic: the pipeline's record keys) travel in "p" lines,
 * since decoding the frame again cannot know them. */

#define NC_JSON_DEPTH 64
#define NC_COMMENT_MAX 65532u /* an option's value fits 16 bits, padded */

struct nc_runfile_writer {
    FILE *f;
    char *path, *tmp;
    nc_buf_t tail;   /* the Custom Block's JSON Lines, header excluded */
    nc_buf_t header; /* its first line */
    nc_buf_t extra, line, scratch;
    uint32_t nifaces; /* IDBs written */
    const nc_runfile_meta_t *m;
    uint64_t packets, events;
    bool failed;
};

/* ---- writing ---- */

static void nc_put32(nc_buf_t *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    nc_buf_append(b, x, 4);
}

static void nc_put16(nc_buf_t *b, uint16_t v)
{
    uint8_t x[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    nc_buf_append(b, x, 2);
}

static void nc_pad4(nc_buf_t *b)
{
    static const uint8_t zero[4];
    if (b->len % 4)
        nc_buf_append(b, zero, 4 - b->len % 4);
}

static void nc_put_opt(nc_buf_t *b, uint16_t code, const void *v, size_t n)
{
    nc_put16(b, code);
    nc_put16(b, (uint16_t)n);
    nc_buf_append(b, v, n);
    nc_pad4(b);
}

/* Writes a block: type, length, body (padded), length. */
static void nc_runfile_block(nc_runfile_writer_t *w, uint32_t type, nc_buf_t *body)
{
    nc_pad4(body);
    uint32_t total = (uint32_t)body->len + 12;
    uint8_t head[8], foot[4];
    for (int k = 0; k < 4; k++) {
        head[k] = (uint8_t)(type >> (8 * k));
        head[4 + k] = foot[k] = (uint8_t)(total >> (8 * k));
    }
    if (fwrite(head, 1, 8, w->f) != 8 || fwrite(body->data ? body->data : "", 1, body->len,
                                                w->f) != body->len ||
        fwrite(foot, 1, 4, w->f) != 4)
        w->failed = true;
}

static void nc_runfile_idb(nc_runfile_writer_t *w, uint32_t iface, int linktype)
{
    nc_buf_t *b = &w->scratch;
    nc_buf_reset(b);
    nc_put16(b, (uint16_t)linktype);
    nc_put16(b, 0);
    nc_put32(b, 262144);
    char name[32];
    const char *n = iface < w->m->nifaces && w->m->ifaces[iface] ? w->m->ifaces[iface] : NULL;
    if (n == NULL) {
        snprintf(name, sizeof name, "if%u", iface);
        n = name;
    }
    nc_put_opt(b, 2, n, strlen(n));
    uint8_t resol = 9;
    nc_put_opt(b, 9, &resol, 1);
    nc_put16(b, 0);
    nc_put16(b, 0);
    nc_runfile_block(w, 1, b);
}


/* The packet's netcourse-only fields as the inside of a JSON object. */
static void nc_runfile_extras(const nc_event_t *ev, nc_buf_t *out)
{
    nc_pipeline_record_fields(ev, true, out);
}

/* The longest prefix of s, at most max bytes, that does not cut a UTF-8
 * sequence in two. */
static size_t nc_utf8_clip(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    size_t n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

nc_runfile_writer_t *nc_runfile_writer_new(const char *path, const nc_runfile_meta_t *m,
                                           char *err, size_t errlen)
{
    nc_runfile_writer_t *w = nc_xcalloc(1, sizeof *w);
    w->m = m;
    w->path = nc_xstrdup(path);
    w->tmp = nc_xasprintf("%s.tmp%ld", path, (long)getpid());
    w->f = fopen(w->tmp, "wb");
    if (w->f == NULL) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        free(w->path);
        free(w->tmp);
        free(w);
        return NULL;
    }
    setvbuf(w->f, NULL, _IOFBF, 1 << 20);
    nc_buf_init(&w->tail);
    nc_buf_init(&w->header);
    nc_buf_init(&w->extra);
    nc_buf_init(&w->line);
    nc_buf_init(&w->scratch);

    nc_buf_t *b = &w->scratch;
    nc_put32(b, 0x1A2B3C4D);
    nc_put16(b, 1);
    nc_put16(b, 0);
    nc_put32(b, 0xFFFFFFFF); /* section length: unknown */
    nc_put32(b, 0xFFFFFFFF);
    char app[64];
    snprintf(app, sizeof app, "netcourse %s", NC_VERSION);
    nc_put_opt(b, 4, app, strlen(app));
    if (m->lesson) {
        char c[160];
        snprintf(c, sizeof c, "netcourse run of lesson \"%s\"", m->lesson);
        nc_put_opt(b, 1, c, strlen(c));
    }
    nc_put16(b, 0);
    nc_put16(b, 0);
    nc_runfile_block(w, 0x0A0D0D0A, b);
    if (m->secrets_len)
        nc_runfile_writer_secrets(w, m->secrets, m->secrets_len);
    /* Every lab interface gets its block up front, even a silent one. */
    for (uint32_t i = 0; i < m->nifaces; i++)
        nc_runfile_idb(w, i, 1);
    w->nifaces = (uint32_t)m->nifaces;
    return w;
}

void nc_runfile_writer_secrets(nc_runfile_writer_t *w, const char *text, size_t len)
{
    /* Decryption Secrets Block: secrets type "TLSK" (an NSS key log),
     * secrets length, the secrets, padding, no options. */
    nc_buf_t *b = &w->scratch;
    nc_buf_reset(b);
    nc_put32(b, 0x544c534b);
    nc_put32(b, (uint32_t)len);
    nc_buf_append(b, text, len);
    nc_pad4(b);
    nc_runfile_block(w, 0x0000000A, b);
}

int nc_runfile_writer_add(nc_runfile_writer_t *w, const nc_event_t *ev)
{
    w->events++;
    if (ev->type != NC_EV_PACKET) {
        nc_event_json(ev, &w->tail);
        nc_buf_putc(&w->tail, '\n');
        return w->failed ? NC_EIO : 0;
    }
    w->packets++;
    /* An interface the meta did not list gets a block before its first use. */
    while (w->nifaces <= ev->iface && w->nifaces < 1024)
        nc_runfile_idb(w, w->nifaces++, ev->linktype);
    uint32_t iface = ev->iface < w->nifaces ? ev->iface : 0;

    nc_buf_reset(&w->line);
    nc_runfile_extras(ev, &w->line);
    if (w->line.len != w->extra.len ||
        (w->line.len && memcmp(w->line.data, w->extra.data, w->line.len) != 0)) {
        nc_buf_printf(&w->tail, "{\"p\":%" PRIu64 "%s}\n", w->packets, nc_buf_cstr(&w->line));
        nc_buf_reset(&w->extra);
        nc_buf_append(&w->extra, w->line.data ? w->line.data : "", w->line.len);
    }

    nc_buf_t *b = &w->scratch;
    nc_buf_reset(b);
    uint64_t ts = (uint64_t)(w->m->t0_ns + ev->t_ns);
    nc_put32(b, iface);
    nc_put32(b, (uint32_t)(ts >> 32));
    nc_put32(b, (uint32_t)ts);
    nc_put32(b, ev->caplen);
    nc_put32(b, ev->wirelen > ev->caplen ? ev->wirelen : ev->caplen);
    if (ev->caplen && ev->data)
        nc_buf_append(b, ev->data, ev->caplen);
    nc_pad4(b);
    if (ev->note && ev->note[0]) {
        size_t n = nc_utf8_clip(ev->note, strlen(ev->note), NC_COMMENT_MAX);
        nc_put_opt(b, 1, ev->note, n);
        nc_put16(b, 0);
        nc_put16(b, 0);
    }
    nc_runfile_block(w, 6, b);
    return w->failed ? NC_EIO : 0;
}

static void nc_runfile_writer_free(nc_runfile_writer_t *w)
{
    nc_buf_done(&w->tail);
    nc_buf_done(&w->header);
    nc_buf_done(&w->extra);
    nc_buf_done(&w->line);
    nc_buf_done(&w->scratch);
    free(w->path);
    free(w->tmp);
    free(w);
}

void nc_runfile_writer_abort(nc_runfile_writer_t *w)
{
    if (w == NULL)
        return;
    fclose(w->f);
    unlink(w->tmp);
    nc_runfile_writer_free(w);
}

int nc_runfile_writer_close(nc_runfile_writer_t *w, char *err, size_t errlen)
{
    const nc_runfile_meta_t *m = w->m;
    nc_buf_t *h = &w->header;
    nc_buf_puts(h, "{\"netcourse\":");
    nc_buf_json_str(h, NC_VERSION);
    if (m->lesson) {
        nc_buf_puts(h, ",\"lesson\":");
        nc_buf_json_str(h, m->lesson);
    }
    nc_buf_printf(h, ",\"seed\":%" PRIu64, m->seed);
    if (m->link) {
        nc_buf_puts(h, ",\"link\":");
        nc_buf_json_str(h, m->link);
    }
    nc_buf_printf(h, ",\"t0_ns\":%" PRId64 ",\"packets\":%" PRIu64 ",\"events\":%" PRIu64,
                  m->t0_ns, w->packets, w->events);
    nc_buf_puts(h, ",\"hosts\":{");
    for (size_t i = 0; i < m->nhosts; i++) {
        if (i)
            nc_buf_putc(h, ',');
        nc_buf_json_str(h, m->host_addrs[i] ? m->host_addrs[i] : "");
        nc_buf_putc(h, ':');
        nc_buf_json_str(h, m->host_names[i] ? m->host_names[i] : "");
    }
    nc_buf_puts(h, "}}\n");

    nc_buf_t *b = &w->scratch;
    nc_buf_reset(b);
    nc_put32(b, NC_RUNFILE_PEN);
    nc_buf_puts(b, NC_RUNFILE_MAGIC);
    nc_buf_append(b, h->data, h->len);
    nc_buf_append(b, w->tail.data ? w->tail.data : "", w->tail.len);
    nc_runfile_block(w, 0x40000BAD, b);
    if (fflush(w->f) != 0 || ferror(w->f))
        w->failed = true;
    if (fclose(w->f) != 0)
        w->failed = true;
    int rc = 0;
    if (w->failed) {
        snprintf(err, errlen, "cannot write %s: %s", w->path, strerror(errno));
        unlink(w->tmp);
        rc = NC_EIO;
    } else if (rename(w->tmp, w->path) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", w->path, strerror(errno));
        unlink(w->tmp);
        rc = NC_EIO;
    }
    nc_runfile_writer_free(w);
    return rc;
}

int nc_runfile_save(const char *path, const nc_timeline_t *tl, const nc_runfile_meta_t *m,
                    char *err, size_t errlen)
{
    nc_runfile_writer_t *w = nc_runfile_writer_new(path, m, err, errlen);
    if (w == NULL)
        return NC_EIO;
    size_t n = nc_timeline_count(tl);
    for (size_t i = 0; i < n; i++) {
        if (nc_runfile_writer_add(w, nc_timeline_get(tl, i)) < 0) {
            snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
            nc_runfile_writer_abort(w);
            return NC_EIO;
        }
    }
    return nc_runfile_writer_close(w, err, errlen);
}

/* ---- reading: JSON into event builders ---- */

typedef struct nc_json {
    const char *p, *end;
    nc_buf_t s; /* the last string read */
    int depth;
} nc_json_t;

static void nc_json_ws(nc_json_t *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n'))
        j->p++;
}

static bool nc_json_lit(nc_json_t *j, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
        return false;
    j->p += n;
    return true;
}

static bool nc_json_hex4(nc_json_t *j, unsigned *out)
{
    if (j->end - j->p < 4)
        return false;
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        int h = nc_hex_digit(j->p[k]);
        if (h < 0)
            return false;
        v = v << 4 | (unsigned)h;
    }
    j->p += 4;
    *out = v;
    return true;
}

static void nc_utf8_put(nc_buf_t *b, unsigned cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | cp >> 6);
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | cp >> 12);
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | cp >> 18);
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    nc_buf_append(b, u, n);
}

/* Reads a string into j->s (a NUL inside it, from \u0000, ends it there,
 * as it would in any C string). */
static bool nc_json_string(nc_json_t *j)
{
    nc_buf_reset(&j->s);
    if (j->p >= j->end || *j->p != '"')
        return false;
    j->p++;
    while (j->p < j->end) {
        const char *q = j->p;
        while (q < j->end && *q != '"' && *q != '\\')
            q++;
        nc_buf_append(&j->s, j->p, (size_t)(q - j->p));
        j->p = q;
        if (q >= j->end)
            return false;
        if (*q == '"') {
            j->p++;
            return true;
        }
        if (j->end - q < 2)
            return false;
        char e = q[1];
        j->p = q + 2;
        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        const char *hit = strchr(from, e);
        if (e && hit) {
            nc_buf_putc(&j->s, to[hit - from]);
        } else if (e == 'u') {
            unsigned cp;
            if (!nc_json_hex4(j, &cp))
                return false;
            if (cp >= 0xD800 && cp < 0xDC00) {
                unsigned lo;
                if (j->end - j->p >= 6 && j->p[0] == '\\' && j->p[1] == 'u') {
                    j->p += 2;
                    if (!nc_json_hex4(j, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                        return false;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                } else {
                    cp = 0xFFFD;
                }
            } else if (cp >= 0xDC00 && cp < 0xE000) {
                cp = 0xFFFD;
            }
            if (cp == 0)
                cp = 0xFFFD;
            nc_utf8_put(&j->s, cp);
        } else {
            return false;
        }
    }
    return false;
}

/* A number's text span; *integer when it has no fraction or exponent. */
static bool nc_json_number(nc_json_t *j, const char **start, size_t *n, bool *integer)
{
    const char *q = j->p;
    *integer = true;
    if (q < j->end && *q == '-')
        q++;
    const char *digits = q;
    while (q < j->end && ((*q >= '0' && *q <= '9') || *q == '.' || *q == 'e' || *q == 'E' ||
                          *q == '+' || *q == '-')) {
        if (*q == '.' || *q == 'e' || *q == 'E')
            *integer = false;
        q++;
    }
    if (q == digits || q - j->p > 64)
        return false;
    *start = j->p;
    *n = (size_t)(q - j->p);
    j->p = q;
    return true;
}

static bool nc_json_value(nc_json_t *j, nc_evb_t *b, const char *key);

static bool nc_json_container(nc_json_t *j, nc_evb_t *b, const char *key, bool obj)
{
    if (++j->depth > NC_JSON_DEPTH)
        return false;
    j->p++;
    if (obj)
        nc_evb_obj(b, key);
    else
        nc_evb_list(b, key);
    nc_json_ws(j);
    if (j->p < j->end && *j->p == (obj ? '}' : ']')) {
        j->p++;
        nc_evb_end(b);
        j->depth--;
        return true;
    }
    for (;;) {
        nc_json_ws(j);
        char *k = NULL;
        if (obj) {
            if (!nc_json_string(j))
                return false;
            k = nc_xstrdup(nc_buf_cstr(&j->s));
            nc_json_ws(j);
            if (j->p >= j->end || *j->p != ':') {
                free(k);
                return false;
            }
            j->p++;
        }
        bool ok = nc_json_value(j, b, k);
        free(k);
        if (!ok)
            return false;
        nc_json_ws(j);
        if (j->p >= j->end)
            return false;
        if (*j->p == ',') {
            j->p++;
            continue;
        }
        if (*j->p != (obj ? '}' : ']'))
            return false;
        j->p++;
        nc_evb_end(b);
        j->depth--;
        return true;
    }
}

static bool nc_json_value(nc_json_t *j, nc_evb_t *b, const char *key)
{
    nc_json_ws(j);
    if (j->p >= j->end)
        return false;
    switch (*j->p) {
    case '{':
        return nc_json_container(j, b, key, true);
    case '[':
        return nc_json_container(j, b, key, false);
    case '"':
        if (!nc_json_string(j))
            return false;
        nc_evb_strn(b, key, j->s.data ? j->s.data : "", j->s.len);
        return true;
    case 't':
        if (!nc_json_lit(j, "true"))
            return false;
        nc_evb_bool(b, key, true);
        return true;
    case 'f':
        if (!nc_json_lit(j, "false"))
            return false;
        nc_evb_bool(b, key, false);
        return true;
    case 'n':
        if (!nc_json_lit(j, "null"))
            return false;
        nc_evb_num(b, key, NAN);
        return true;
    default: {
        const char *s;
        size_t n;
        bool integer;
        if (!nc_json_number(j, &s, &n, &integer))
            return false;
        char tmp[72];
        memcpy(tmp, s, n);
        tmp[n] = '\0';
        char *endp;
        if (integer) {
            errno = 0;
            long long v = strtoll(tmp, &endp, 10);
            if (*endp || errno)
                return false;
            nc_evb_int(b, key, v);
        } else {
            double d = strtod(tmp, &endp);
            if (*endp)
                return false;
            nc_evb_num(b, key, d);
        }
        return true;
    }
    }
}

/* "t" in seconds to nanoseconds, exactly for the "%.9f" the stream prints. */
static bool nc_json_time(nc_json_t *j, int64_t *ns)
{
    const char *s;
    size_t n;
    bool integer;
    if (!nc_json_number(j, &s, &n, &integer))
        return false;
    const char *q = s, *e = s + n;
    bool neg = q < e && *q == '-';
    if (neg)
        q++;
    int64_t sec = 0, frac = 0;
    int fd = 0;
    while (q < e && *q >= '0' && *q <= '9' && sec < 1000000000000LL)
        sec = sec * 10 + (*q++ - '0');
    if (q < e && *q == '.') {
        q++;
        while (q < e && *q >= '0' && *q <= '9') {
            if (fd < 9) {
                frac = frac * 10 + (*q - '0');
                fd++;
            }
            q++;
        }
    }
    if (q != e) { /* an exponent: let strtod do it */
        char tmp[72];
        memcpy(tmp, s, n);
        tmp[n] = '\0';
        double d = strtod(tmp, NULL);
        if (!isfinite(d) || fabs(d) > 1e9)
            return false;
        *ns = (int64_t)llround(d * 1e9);
        return true;
    }
    if (sec > 4000000000LL) /* past 2096 as a run time: not ours */
        return false;
    for (; fd < 9; fd++)
        frac *= 10;
    *ns = (sec * 1000000000LL + frac) * (neg ? -1 : 1);
    return true;
}

int nc_runfile_line_parse(const char *line, size_t len, nc_evb_t *b, uint64_t *index,
                          char *err, size_t errlen)
{
    nc_json_t j = {line, line + len, {0}, 0};
    nc_buf_init(&j.s);
    nc_evb_reset(b, NC_EV_NOTE, 0);
    int kind = -1;
    bool have_index = false;
    char *key = NULL;
    nc_json_ws(&j);
    if (j.p >= j.end || *j.p != '{')
        goto bad;
    j.p++;
    nc_json_ws(&j);
    if (j.p < j.end && *j.p == '}')
        goto bad;
    for (;;) {
        nc_json_ws(&j);
        if (!nc_json_string(&j))
            goto bad;
        free(key);
        key = nc_xstrdup(nc_buf_cstr(&j.s));
        nc_json_ws(&j);
        if (j.p >= j.end || *j.p != ':')
            goto bad;
        j.p++;
        nc_json_ws(&j);
        if ((strcmp(key, "i") == 0 || strcmp(key, "p") == 0) && !have_index) {
            const char *s;
            size_t n;
            bool integer;
            if (!nc_json_number(&j, &s, &n, &integer) || !integer || s[0] == '-')
                goto bad;
            *index = strtoull(s, NULL, 10);
            have_index = true;
            kind = key[0] == 'i' ? NC_RUNFILE_LINE_EVENT : NC_RUNFILE_LINE_PACKET;
        } else if (kind == NC_RUNFILE_LINE_EVENT && strcmp(key, "t") == 0) {
            if (!nc_json_time(&j, &b->ev.t_ns))
                goto bad;
        } else if (kind == NC_RUNFILE_LINE_EVENT &&
                   (strcmp(key, "type") == 0 || strcmp(key, "host") == 0 ||
                    strcmp(key, "summary") == 0 || strcmp(key, "note") == 0)) {
            if (!nc_json_string(&j))
                goto bad;
            const char *v = nc_buf_cstr(&j.s);
            if (key[0] == 't') {
                int type = nc_event_type_parse(v);
                if (type < 0 || type == NC_EV_PACKET)
                    goto bad;
                b->ev.type = (nc_event_type_t)type;
            } else if (key[0] == 'h') {
                nc_evb_host(b, v);
            } else if (key[0] == 's') {
                nc_evb_summary(b, "%s", v);
            } else {
                nc_buf_reset(&b->note);
                nc_evb_note(b, "%s", v);
            }
        } else if (kind < 0) {
            goto bad; /* the first key must say what the line is */
        } else if (!nc_json_value(&j, b, key)) {
            goto bad;
        }
        nc_json_ws(&j);
        if (j.p >= j.end)
            goto bad;
        if (*j.p == ',') {
            j.p++;
            continue;
        }
        if (*j.p != '}')
            goto bad;
        j.p++;
        break;
    }
    nc_json_ws(&j);
    if (j.p != j.end)
        goto bad;
    free(key);
    nc_buf_done(&j.s);
    return kind;
bad:
    free(key);
    nc_buf_done(&j.s);
    while (b->depth > 0)
        nc_evb_end(b);
    snprintf(err, errlen, "a line of the run's record is not valid (byte %zu of %zu)",
             (size_t)(j.p - line), len);
    return NC_EBADDATA;
}

void nc_runfile_apply(nc_evb_t *b, const nc_evb_t *extra)
{
    nc_pipeline_apply(b, extra);
}

/* ---- the header line ---- */

void nc_runfile_info_done(nc_runfile_info_t *info)
{
    free(info->lesson);
    free(info->version);
    free(info->link);
    for (size_t i = 0; i < info->nhosts; i++) {
        free(info->host_addrs[i]);
        free(info->host_names[i]);
    }
    free(info->host_addrs);
    free(info->host_names);
    memset(info, 0, sizeof *info);
}

int nc_runfile_info_parse(const uint8_t *payload, size_t len, nc_runfile_info_t *out,
                          size_t *body, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    size_t ml = strlen(NC_RUNFILE_MAGIC);
    if (len < ml || memcmp(payload, NC_RUNFILE_MAGIC, ml) != 0) {
        snprintf(err, errlen, "the file's netcourse block is of a version this netcourse "
                              "does not read");
        return NC_EBADDATA;
    }
    const char *line = (const char *)payload + ml;
    const char *end = (const char *)payload + len;
    const char *nl = memchr(line, '\n', (size_t)(end - line));
    if (nl == NULL) {
        snprintf(err, errlen, "the file's netcourse block has no header line");
        return NC_EBADDATA;
    }
    /* Parse it as a generic object into a builder, then pick the keys. */
    nc_evb_t b;
    nc_evb_init(&b);
    nc_json_t j = {line, nl, {0}, 0};
    nc_buf_init(&j.s);
    bool ok = nc_json_value(&j, &b, NULL);
    nc_json_ws(&j);
    ok = ok && j.p == nl && b.nfields > 0 && b.fields[0].kind == NC_F_OBJ;
    if (ok) {
        const nc_event_t *ev = nc_evb_view(&b);
        const nc_field_t *root = ev->fields;
        uint32_t n = ev->nfields;
        const char *s;
        if ((s = nc_event_str(ev, "netcourse")))
            out->version = nc_xstrdup(s);
        if ((s = nc_event_str(ev, "lesson")))
            out->lesson = nc_xstrdup(s);
        if ((s = nc_event_str(ev, "link")))
            out->link = nc_xstrdup(s);
        int64_t v;
        if (nc_event_int(ev, "seed", &v))
            out->seed = (uint64_t)v;
        /* Clamped so that a time plus t0 never overflows. */
        if (nc_event_int(ev, "t0_ns", &v))
            out->t0_ns = v < 0 ? 0 : v > 4000000000000000000LL ? 4000000000000000000LL : v;
        if (nc_event_int(ev, "packets", &v))
            out->packets = (uint64_t)v;
        if (nc_event_int(ev, "events", &v))
            out->events = (uint64_t)v;
        const nc_field_t *hosts = nc_event_get(ev, "hosts");
        if (hosts && hosts->kind == NC_F_OBJ) {
            uint32_t k = (uint32_t)(hosts - root) + 1;
            while (k < n && root[k].kind != NC_F_END) {
                if (root[k].kind == NC_F_STR && root[k].key) {
                    out->host_addrs = nc_xrealloc(out->host_addrs,
                                                  (out->nhosts + 1) * sizeof(char *));
                    out->host_names = nc_xrealloc(out->host_names,
                                                  (out->nhosts + 1) * sizeof(char *));
                    out->host_addrs[out->nhosts] = nc_xstrdup(root[k].key);
                    out->host_names[out->nhosts] = nc_xstrdup(root[k].v.s);
                    out->nhosts++;
                }
                k = nc_fields_skip(root, n, k);
            }
        }
    }
    nc_buf_done(&j.s);
    nc_evb_done(&b);
    if (!ok) {
        nc_runfile_info_done(out);
        snprintf(err, errlen, "the file's netcourse block has a damaged header line");
        return NC_EBADDATA;
    }
    *body = (size_t)(nl + 1 - (const char *)payload);
    return 0;
}
