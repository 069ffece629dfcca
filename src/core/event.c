/*
 * event.c: building events, reading their fields, printing them as JSON.
 *
 * An event's fields are a flat array of tokens (see event.h). Lookups walk
 * the array once: a path like "tcp.flags" finds the object "tcp" at the top
 * level, then "flags" directly inside it. Builders keep their tokens and
 * strings in an arena that is reset for every event, so building a packet
 * event allocates nothing once the arena has warmed up.
 */
#include "event.h"

#include "xmalloc.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const nc_event_type_names[NC_EV__COUNT] = {
    [NC_EV_PACKET] = "packet", [NC_EV_APP] = "app",   [NC_EV_STATE] = "state",
    [NC_EV_MARK] = "mark",     [NC_EV_NOTE] = "note",
};

const char *nc_event_type_name(nc_event_type_t type)
{
    return (unsigned)type < NC_EV__COUNT ? nc_event_type_names[type] : "?";
}

int nc_event_type_parse(const char *name)
{
    for (int t = 0; t < NC_EV__COUNT; t++)
        if (strcmp(name, nc_event_type_names[t]) == 0)
            return t;
    return -1;
}

uint32_t nc_fields_skip(const nc_field_t *f, uint32_t n, uint32_t idx)
{
    if (idx >= n)
        return n;
    if (f[idx].kind != NC_F_OBJ && f[idx].kind != NC_F_LIST)
        return idx + 1;
    int depth = 0;
    for (uint32_t k = idx; k < n; k++) {
        if (f[k].kind == NC_F_OBJ || f[k].kind == NC_F_LIST)
            depth++;
        else if (f[k].kind == NC_F_END && --depth == 0)
            return k + 1;
    }
    return n; /* unclosed (a view of an event being built) */
}

/* Finds key among the direct members of the container whose members span
 * [from, to). Lists of objects are searched element by element. */
static const nc_field_t *nc_fields_find(const nc_field_t *f, uint32_t from, uint32_t to,
                                        const char *key, size_t keylen, const char *rest)
{
    for (uint32_t k = from; k < to;) {
        const nc_field_t *t = &f[k];
        if (t->kind == NC_F_END)
            break;
        /* A scalar is one token: no need to walk it. */
        bool nested = t->kind == NC_F_OBJ || t->kind == NC_F_LIST;
        uint32_t next = nested ? nc_fields_skip(f, to, k) : k + 1;
        if (t->key == NULL && t->kind == NC_F_OBJ) {
            /* an object inside a list: look inside it */
            const nc_field_t *hit = nc_fields_find(f, k + 1, next, key, keylen, rest);
            if (hit)
                return hit;
        } else if (t->key && t->key[0] == key[0] && strncmp(t->key, key, keylen) == 0 &&
                   t->key[keylen] == '\0') {
            if (rest == NULL)
                return t;
            if (t->kind == NC_F_OBJ || t->kind == NC_F_LIST) {
                const char *dot = strchr(rest, '.');
                size_t len = dot ? (size_t)(dot - rest) : strlen(rest);
                const nc_field_t *hit =
                    nc_fields_find(f, k + 1, next, rest, len, dot ? dot + 1 : NULL);
                if (hit)
                    return hit;
            }
        }
        k = next;
    }
    return NULL;
}

const nc_field_t *nc_fields_get(const nc_field_t *f, uint32_t n, const char *path)
{
    if (f == NULL || path == NULL || *path == '\0')
        return NULL;
    const char *dot = strchr(path, '.');
    size_t len = dot ? (size_t)(dot - path) : strlen(path);
    return nc_fields_find(f, 0, n, path, len, dot ? dot + 1 : NULL);
}

const nc_field_t *nc_event_get(const nc_event_t *ev, const char *path)
{
    return nc_fields_get(ev->fields, ev->nfields, path);
}

bool nc_event_int(const nc_event_t *ev, const char *path, int64_t *out)
{
    const nc_field_t *f = nc_event_get(ev, path);
    if (f == NULL)
        return false;
    switch (f->kind) {
    case NC_F_INT:
        *out = f->v.i;
        return true;
    case NC_F_BOOL:
        *out = f->v.b ? 1 : 0;
        return true;
    case NC_F_NUM:
        *out = (int64_t)f->v.d;
        return true;
    default:
        return false;
    }
}

bool nc_event_bool(const nc_event_t *ev, const char *path)
{
    const nc_field_t *f = nc_event_get(ev, path);
    if (f == NULL)
        return false;
    if (f->kind == NC_F_BOOL)
        return f->v.b != 0;
    if (f->kind == NC_F_INT)
        return f->v.i != 0;
    return false;
}

const char *nc_event_str(const nc_event_t *ev, const char *path)
{
    const nc_field_t *f = nc_event_get(ev, path);
    return (f && f->kind == NC_F_STR) ? f->v.s : NULL;
}

bool nc_event_has(const nc_event_t *ev, const char *path, const char *s)
{
    const nc_field_t *f = nc_event_get(ev, path);
    if (f == NULL)
        return false;
    if (f->kind == NC_F_STR)
        return strcmp(f->v.s, s) == 0;
    if (f->kind != NC_F_LIST)
        return false;
    for (const nc_field_t *e = f + 1; e < ev->fields + ev->nfields && e->kind != NC_F_END; e++)
        if (e->kind == NC_F_STR && strcmp(e->v.s, s) == 0)
            return true;
    return false;
}

static void nc_num_text(nc_buf_t *out, double d)
{
    if (!isfinite(d)) {
        nc_buf_puts(out, "null");
        return;
    }
    char tmp[64];
    snprintf(tmp, sizeof(tmp), "%.9f", d);
    /* Trim trailing zeros but keep one digit after the point. */
    char *dot = strchr(tmp, '.');
    if (dot) {
        char *end = tmp + strlen(tmp) - 1;
        while (end > dot + 1 && *end == '0')
            *end-- = '\0';
    }
    nc_buf_puts(out, tmp);
}

/* One byte, without a call when there is room (the JSON writer's commas,
 * colons and brackets are most of its calls). */
static inline void nc_put1(nc_buf_t *out, char c)
{
    if (out->len + 2 > out->cap) {
        nc_buf_putc(out, c);
        return;
    }
    out->data[out->len++] = c;
    out->data[out->len] = '\0';
}

/* Appends v in decimal: the event stream prints millions of integers, and
 * printf's machinery costs more than the rest of an event together. */
static void nc_int_text(nc_buf_t *out, int64_t v)
{
    char tmp[24];
    int n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[sizeof tmp - 1 - n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        tmp[sizeof tmp - 1 - n++] = '-';
    nc_buf_append(out, tmp + sizeof tmp - n, (size_t)n);
}

/* Numbers with 17 significant digits: they read back to the same double. */
static void nc_num_exact(nc_buf_t *out, double d)
{
    if (!isfinite(d))
        nc_buf_puts(out, "null");
    else
        nc_buf_printf(out, "%.17g%s", d, d == floor(d) ? ".0" : "");
}

/* Writes the value starting at f[k] as JSON; returns the index after it. */
static uint32_t nc_fields_json_any(const nc_field_t *f, uint32_t n, uint32_t k, bool exact,
                                   nc_buf_t *out)
{
    const nc_field_t *t = &f[k];
    switch (t->kind) {
    case NC_F_INT:
        nc_int_text(out, t->v.i);
        return k + 1;
    case NC_F_NUM:
        if (exact)
            nc_num_exact(out, t->v.d);
        else
            nc_num_text(out, t->v.d);
        return k + 1;
    case NC_F_STR:
        nc_buf_json_str(out, t->v.s);
        return k + 1;
    case NC_F_BOOL:
        nc_buf_puts(out, t->v.b ? "true" : "false");
        return k + 1;
    case NC_F_OBJ:
    case NC_F_LIST: {
        int obj = t->kind == NC_F_OBJ;
        nc_put1(out, obj ? '{' : '[');
        int first = 1;
        k++;
        while (k < n && f[k].kind != NC_F_END) {
            if (obj && f[k].key && f[k].key[0] == '_') {
                k = nc_fields_skip(f, n, k);
                continue;
            }
            if (!first)
                nc_put1(out, ',');
            first = 0;
            if (obj) {
                nc_buf_json_str(out, f[k].key ? f[k].key : "");
                nc_put1(out, ':');
            }
            k = nc_fields_json_any(f, n, k, exact, out);
        }
        nc_put1(out, obj ? '}' : ']');
        return k < n ? k + 1 : n;
    }
    default:
        nc_buf_puts(out, "null");
        return k + 1;
    }
}

static uint32_t nc_fields_json_value(const nc_field_t *f, uint32_t n, uint32_t k, nc_buf_t *out)
{
    return nc_fields_json_any(f, n, k, false, out);
}

uint32_t nc_fields_json(const nc_field_t *f, uint32_t n, uint32_t k, bool exact, nc_buf_t *out)
{
    return nc_fields_json_any(f, n, k, exact, out);
}

bool nc_event_value(const nc_event_t *ev, const char *path, nc_buf_t *out)
{
    if (strcmp(path, "i") == 0) {
        nc_buf_printf(out, "%" PRIu64, ev->i);
        return true;
    }
    if (strcmp(path, "t") == 0) {
        nc_num_text(out, (double)ev->t_ns / 1e9);
        return true;
    }
    if (strcmp(path, "type") == 0) {
        nc_buf_puts(out, nc_event_type_name(ev->type));
        return true;
    }
    if (strcmp(path, "host") == 0) {
        nc_buf_puts(out, ev->host ? ev->host : "");
        return true;
    }
    if (strcmp(path, "summary") == 0) {
        nc_buf_puts(out, ev->summary ? ev->summary : "");
        return true;
    }
    if (strcmp(path, "note") == 0) {
        if (ev->note == NULL)
            return false;
        nc_buf_puts(out, ev->note);
        return true;
    }
    return nc_event_field_value(ev, path, out);
}

bool nc_event_field_value(const nc_event_t *ev, const char *path, nc_buf_t *out)
{
    const nc_field_t *f = nc_event_get(ev, path);
    if (f == NULL)
        return false;
    if (f->kind == NC_F_STR) {
        nc_buf_puts(out, f->v.s);
    } else if (f->kind == NC_F_LIST) {
        uint32_t k = (uint32_t)(f - ev->fields) + 1;
        int first = 1;
        while (k < ev->nfields && ev->fields[k].kind != NC_F_END) {
            if (!first)
                nc_put1(out, ',');
            first = 0;
            if (ev->fields[k].kind == NC_F_STR) {
                nc_buf_puts(out, ev->fields[k].v.s);
                k++;
            } else {
                k = nc_fields_json_value(ev->fields, ev->nfields, k, out);
            }
        }
    } else {
        nc_fields_json_value(ev->fields, ev->nfields, (uint32_t)(f - ev->fields), out);
    }
    return true;
}

/* Seconds from nanoseconds, as nc_num_text prints (double)ns / 1e9: for
 * times under 10^6 s the double rounds back to the same 9 decimals, so
 * they are written from the integer directly; others go through printf. */
static void nc_ns_text(nc_buf_t *out, int64_t ns)
{
    if (ns <= -1000000000000000LL || ns >= 1000000000000000LL) {
        nc_num_text(out, (double)ns / 1e9);
        return;
    }
    uint64_t u = ns < 0 ? (uint64_t)(-ns) : (uint64_t)ns;
    char frac[10];
    uint64_t f = u % 1000000000u;
    for (int k = 8; k >= 0; k--) {
        frac[k] = (char)('0' + f % 10);
        f /= 10;
    }
    int len = 9;
    while (len > 1 && frac[len - 1] == '0')
        len--;
    if (ns < 0)
        nc_put1(out, '-');
    nc_int_text(out, (int64_t)(u / 1000000000u));
    nc_put1(out, '.');
    nc_buf_append(out, frac, (size_t)len);
}

void nc_event_json(const nc_event_t *ev, nc_buf_t *out)
{
    nc_buf_puts(out, "{\"i\":");
    nc_int_text(out, (int64_t)ev->i);
    nc_buf_puts(out, ",\"t\":");
    nc_ns_text(out, ev->t_ns);
    nc_buf_puts(out, ",\"type\":");
    nc_buf_json_str(out, nc_event_type_name(ev->type));
    nc_buf_puts(out, ",\"host\":");
    nc_buf_json_str(out, ev->host ? ev->host : "");
    nc_buf_puts(out, ",\"summary\":");
    nc_buf_json_str(out, ev->summary ? ev->summary : "");
    if (ev->note && ev->note[0]) {
        nc_buf_puts(out, ",\"note\":");
        nc_buf_json_str(out, ev->note);
    }
    uint32_t k = 0;
    while (k < ev->nfields && ev->fields[k].kind != NC_F_END) {
        const nc_field_t *t = &ev->fields[k];
        if (t->key == NULL || t->key[0] == '_') {
            k = nc_fields_skip(ev->fields, ev->nfields, k);
            continue;
        }
        nc_put1(out, ',');
        nc_buf_json_str(out, t->key);
        nc_put1(out, ':');
        k = nc_fields_json_value(ev->fields, ev->nfields, k, out);
    }
    nc_put1(out, '}');
}

/* Appends s padded with spaces to width columns (bytes; the names are ASCII). */
static void nc_pad_text(nc_buf_t *out, const char *s, size_t width)
{
    size_t n = strlen(s);
    nc_buf_append(out, s, n);
    static const char spaces[] = "                                                  ";
    while (n < width) {
        size_t k = width - n < sizeof spaces - 1 ? width - n : sizeof spaces - 1;
        nc_buf_append(out, spaces, k);
        n += k;
    }
}

void nc_event_text(const nc_event_t *ev, nc_buf_t *out)
{
    char who[48];
    const char *from = nc_event_str(ev, "from");
    const char *to = nc_event_str(ev, "to");
    if (ev->type == NC_EV_PACKET && from && to)
        snprintf(who, sizeof(who), "%s %s %s", from, nc_event_bool(ev, "dropped") ? "-x" : "->",
                 to);
    else
        snprintf(who, sizeof(who), "%s", ev->host && ev->host[0] ? ev->host : "-");
    /* "%5" PRIu64 " %+11.6f  %-7s %-22s %s\n", without printf's cost. */
    char num[24];
    int n = snprintf(num, sizeof num, "%" PRIu64, ev->i);
    for (; n < 5; n++)
        nc_put1(out, ' ');
    nc_buf_puts(out, num);
    nc_put1(out, ' ');
    int64_t us = ev->t_ns >= 0 ? (ev->t_ns + 500) / 1000 : -((-ev->t_ns + 500) / 1000);
    if (us > -1000000000000LL && us < 1000000000000LL) {
        uint64_t u = us < 0 ? (uint64_t)-us : (uint64_t)us;
        char t[32];
        int tl = snprintf(t, sizeof t, "%c%llu.%06llu", ev->t_ns < 0 ? '-' : '+',
                          (unsigned long long)(u / 1000000), (unsigned long long)(u % 1000000));
        for (; tl < 11; tl++)
            nc_put1(out, ' ');
        nc_buf_puts(out, t);
    } else {
        nc_buf_printf(out, "%+11.6f", (double)ev->t_ns / 1e9);
    }
    nc_buf_puts(out, "  ");
    nc_pad_text(out, nc_event_type_name(ev->type), 7);
    nc_put1(out, ' ');
    nc_pad_text(out, who, 22);
    nc_put1(out, ' ');
    nc_buf_puts(out, ev->summary ? ev->summary : "");
    nc_put1(out, '\n');
    if (ev->note) {
        nc_pad_text(out, "", 43);
        nc_buf_puts(out, ev->note);
        nc_put1(out, '\n');
    }
}

/* ---- the builder ---- */

void nc_evb_init(nc_evb_t *b)
{
    memset(b, 0, sizeof(*b));
    nc_arena_init(&b->arena, 16 * 1024);
    nc_buf_init(&b->note);
    b->ev.host = "";
    b->ev.summary = "";
}

void nc_evb_done(nc_evb_t *b)
{
    nc_arena_done(&b->arena);
    nc_buf_done(&b->note);
    free(b->fields);
    memset(b, 0, sizeof(*b));
}

void nc_evb_reset(nc_evb_t *b, nc_event_type_t type, int64_t t_ns)
{
    nc_arena_reset(&b->arena);
    nc_buf_reset(&b->note);
    memset(&b->ev, 0, sizeof(b->ev));
    b->ev.type = type;
    b->ev.t_ns = t_ns;
    b->ev.host = "";
    b->ev.summary = "";
    b->nfields = 0;
    b->depth = 0;
}

void nc_evb_host(nc_evb_t *b, const char *host)
{
    b->ev.host = nc_arena_strdup(&b->arena, host ? host : "");
}

void nc_evb_summary(nc_evb_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = nc_arena_alloc(&b->arena, (size_t)(n > 0 ? n : 0) + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)(n > 0 ? n : 0) + 1, fmt, ap);
    va_end(ap);
    b->ev.summary = s;
}

void nc_evb_note(nc_evb_t *b, const char *fmt, ...)
{
    if (b->note.len)
        nc_buf_putc(&b->note, ' ');
    va_list ap;
    va_start(ap, fmt);
    nc_buf_vprintf(&b->note, fmt, ap);
    va_end(ap);
}

void nc_evb_note_first(nc_evb_t *b, const char *text)
{
    nc_buf_t tmp;
    nc_buf_init(&tmp);
    nc_buf_puts(&tmp, text);
    if (b->note.len) {
        nc_buf_putc(&tmp, ' ');
        nc_buf_append(&tmp, b->note.data, b->note.len);
    }
    nc_buf_done(&b->note);
    b->note = tmp;
}

void nc_evb_data(nc_evb_t *b, const uint8_t *data, uint32_t caplen, uint32_t wirelen,
                 int linktype)
{
    b->ev.data = nc_arena_memdup(&b->arena, data, caplen);
    b->ev.caplen = caplen;
    b->ev.wirelen = wirelen;
    b->ev.linktype = linktype;
}

static nc_field_t *nc_evb_push(nc_evb_t *b, const char *key, nc_field_kind_t kind)
{
    if (b->nfields == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 64;
        b->fields = nc_xrealloc(b->fields, b->cap * sizeof(*b->fields));
    }
    nc_field_t *f = &b->fields[b->nfields++];
    f->key = key ? nc_arena_strdup(&b->arena, key) : NULL;
    f->kind = (uint8_t)kind;
    f->v.i = 0;
    return f;
}

void nc_evb_int(nc_evb_t *b, const char *key, int64_t v)
{
    nc_evb_push(b, key, NC_F_INT)->v.i = v;
}

void nc_evb_num(nc_evb_t *b, const char *key, double v)
{
    nc_evb_push(b, key, NC_F_NUM)->v.d = v;
}

void nc_evb_str(nc_evb_t *b, const char *key, const char *s)
{
    nc_evb_strn(b, key, s ? s : "", s ? strlen(s) : 0);
}

void nc_evb_strn(nc_evb_t *b, const char *key, const char *s, size_t n)
{
    nc_field_t *f = nc_evb_push(b, key, NC_F_STR);
    f->v.s = nc_arena_strndup(&b->arena, s, n);
}

void nc_evb_strf(nc_evb_t *b, const char *key, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n < sizeof(tmp)) {
        nc_evb_strn(b, key, tmp, (size_t)n);
        return;
    }
    char *big = nc_xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    nc_evb_strn(b, key, big, (size_t)n);
    free(big);
}

void nc_evb_bool(nc_evb_t *b, const char *key, bool v)
{
    nc_evb_push(b, key, NC_F_BOOL)->v.b = v ? 1 : 0;
}

void nc_evb_obj(nc_evb_t *b, const char *key)
{
    nc_evb_push(b, key, NC_F_OBJ);
    b->depth++;
}

void nc_evb_list(nc_evb_t *b, const char *key)
{
    nc_evb_push(b, key, NC_F_LIST);
    b->depth++;
}

void nc_evb_end(nc_evb_t *b)
{
    if (b->depth <= 0)
        return; /* unbalanced end: ignore rather than corrupt the stream */
    nc_evb_push(b, NULL, NC_F_END);
    b->depth--;
}

nc_field_t *nc_evb_find(nc_evb_t *b, const char *path)
{
    return (nc_field_t *)nc_fields_get(b->fields, b->nfields, path);
}

const nc_event_t *nc_evb_view(nc_evb_t *b)
{
    b->ev.fields = b->fields;
    b->ev.nfields = b->nfields;
    b->ev.note = b->note.len ? b->note.data : NULL;
    return &b->ev;
}
