/*
 * json.c: the JSON reader (RFC 8259) behind the class protocol.
 *
 * A recursive-descent parser over a cursor {p, end}. Each value becomes an
 * nc_json_t allocated from the document's arena; objects and arrays chain
 * their members through child/next, in document order. Recursion is bounded
 * by NC_JSON_MAX_DEPTH and every read checks the cursor against end, so
 * hostile input costs at most its own length in time and a small multiple
 * of it in memory.
 */
#include "json.h"

#include "../core/error.h"
#include "../core/hex.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct nc_jp {
    const char *p, *end;
    nc_arena_t *arena;
    const char *why;
} nc_jp_t;

static nc_json_t *nc_jp_value(nc_jp_t *jp, int depth);

static void nc_jp_ws(nc_jp_t *jp)
{
    while (jp->p < jp->end &&
           (*jp->p == ' ' || *jp->p == '\t' || *jp->p == '\n' || *jp->p == '\r'))
        jp->p++;
}

static nc_json_t *nc_jp_fail(nc_jp_t *jp, const char *why)
{
    if (!jp->why)
        jp->why = why;
    return NULL;
}

static nc_json_t *nc_jp_node(nc_jp_t *jp, nc_json_kind_t kind)
{
    nc_json_t *n = nc_arena_alloc(jp->arena, sizeof *n);
    memset(n, 0, sizeof *n);
    n->kind = kind;
    return n;
}

static int nc_jp_hex4(const char *p)
{
    int v = 0;
    for (int k = 0; k < 4; k++) {
        char c = p[k];
        int d = nc_hex_digit(c);
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

static size_t nc_jp_utf8(char *out, unsigned cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Reads a string at jp->p (on the opening quote) into the arena. The
 * decoded text is never longer than its source, so one allocation of the
 * source's length suffices. */
static const char *nc_jp_string(nc_jp_t *jp)
{
    const char *s = ++jp->p;
    const char *q = s;
    /* The closing quote is the first one after an even run of backslashes;
     * memchr keeps long strings (packet bytes in base64) cheap. */
    for (;;) {
        const char *quote = q < jp->end ? memchr(q, '"', (size_t)(jp->end - q)) : NULL;
        if (!quote)
            return (const char *)nc_jp_fail(jp, "a string is not closed");
        size_t nb = 0;
        while (quote - nb > s && quote[-1 - (long)nb] == '\\')
            nb++;
        q = quote;
        if (nb % 2 == 0)
            break;
        q++;
    }
    char *out = nc_arena_alloc(jp->arena, (size_t)(q - s) + 1);
    size_t n = 0;
    const char *p = s;
    while (p < q) {
        const char *bs = memchr(p, '\\', (size_t)(q - p));
        const char *stop = bs ? bs : q;
        for (const char *x = p; x < stop; x++)
            if ((unsigned char)*x < 0x20)
                return (const char *)nc_jp_fail(jp, "a string holds a raw control character");
        memcpy(out + n, p, (size_t)(stop - p));
        n += (size_t)(stop - p);
        p = stop;
        if (p == q)
            break;
        p++;
        char e = *p++;
        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        const char *hit = e ? strchr(from, e) : NULL;
        if (hit) {
            out[n++] = to[hit - from];
            continue;
        }
        if (e != 'u' || q - p < 4)
            return (const char *)nc_jp_fail(jp, "a string holds a bad escape");
        int cp = nc_jp_hex4(p);
        if (cp < 0)
            return (const char *)nc_jp_fail(jp, "a string holds a bad \\u escape");
        p += 4;
        unsigned code = (unsigned)cp;
        if (cp >= 0xD800 && cp <= 0xDBFF && q - p >= 6 && p[0] == '\\' && p[1] == 'u') {
            int lo = nc_jp_hex4(p + 2);
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                code = 0x10000 + (((unsigned)cp - 0xD800) << 10) + ((unsigned)lo - 0xDC00);
                p += 6;
            }
        }
        if (code == 0 || (code >= 0xD800 && code <= 0xDFFF))
            code = 0xFFFD;
        /* \uXXXX is 6 source bytes and at most 3 UTF-8 bytes; a pair is 12
         * and 4: the output never overtakes the input. */
        n += nc_jp_utf8(out + n, code);
    }
    out[n] = '\0';
    jp->p = q + 1;
    return out;
}

static nc_json_t *nc_jp_number(nc_jp_t *jp)
{
    const char *s = jp->p, *p = s;
    bool integral = true;
    if (p < jp->end && *p == '-')
        p++;
    if (p >= jp->end || *p < '0' || *p > '9')
        return nc_jp_fail(jp, "a value is not valid JSON");
    if (*p == '0')
        p++;
    else
        while (p < jp->end && *p >= '0' && *p <= '9')
            p++;
    if (p < jp->end && *p == '.') {
        integral = false;
        p++;
        if (p >= jp->end || *p < '0' || *p > '9')
            return nc_jp_fail(jp, "a number has no digits after its point");
        while (p < jp->end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < jp->end && (*p == 'e' || *p == 'E')) {
        integral = false;
        p++;
        if (p < jp->end && (*p == '+' || *p == '-'))
            p++;
        if (p >= jp->end || *p < '0' || *p > '9')
            return nc_jp_fail(jp, "a number has no digits in its exponent");
        while (p < jp->end && *p >= '0' && *p <= '9')
            p++;
    }
    char tmp[64];
    size_t len = (size_t)(p - s);
    if (len >= sizeof tmp)
        return nc_jp_fail(jp, "a number is too long");
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    jp->p = p;
    if (integral) {
        errno = 0;
        long long v = strtoll(tmp, NULL, 10);
        if (errno == 0) {
            nc_json_t *n = nc_jp_node(jp, NC_JSON_INT);
            n->v.i = v;
            return n;
        }
    }
    nc_json_t *n = nc_jp_node(jp, NC_JSON_NUM);
    n->v.d = strtod(tmp, NULL);
    return n;
}

static bool nc_jp_word(nc_jp_t *jp, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(jp->end - jp->p) < n || memcmp(jp->p, w, n) != 0)
        return false;
    jp->p += n;
    return true;
}

static nc_json_t *nc_jp_container(nc_jp_t *jp, int depth, bool obj)
{
    if (depth >= NC_JSON_MAX_DEPTH)
        return nc_jp_fail(jp, "the JSON is nested too deeply");
    nc_json_t *n = nc_jp_node(jp, obj ? NC_JSON_OBJ : NC_JSON_ARR);
    nc_json_t **tail = &n->child;
    char close = obj ? '}' : ']';
    jp->p++;
    nc_jp_ws(jp);
    if (jp->p < jp->end && *jp->p == close) {
        jp->p++;
        return n;
    }
    for (;;) {
        const char *key = NULL;
        if (obj) {
            nc_jp_ws(jp);
            if (jp->p >= jp->end || *jp->p != '"')
                return nc_jp_fail(jp, "an object member has no name");
            if ((key = nc_jp_string(jp)) == NULL)
                return NULL;
            nc_jp_ws(jp);
            if (jp->p >= jp->end || *jp->p != ':')
                return nc_jp_fail(jp, "an object member has no ':'");
            jp->p++;
        }
        nc_json_t *v = nc_jp_value(jp, depth + 1);
        if (!v)
            return NULL;
        v->key = key;
        *tail = v;
        tail = &v->next;
        nc_jp_ws(jp);
        if (jp->p >= jp->end)
            return nc_jp_fail(jp, obj ? "an object is not closed" : "a list is not closed");
        if (*jp->p == ',') {
            jp->p++;
            continue;
        }
        if (*jp->p == close) {
            jp->p++;
            return n;
        }
        return nc_jp_fail(jp, "expected ',' between values");
    }
}

static nc_json_t *nc_jp_value(nc_jp_t *jp, int depth)
{
    nc_jp_ws(jp);
    if (jp->p >= jp->end)
        return nc_jp_fail(jp, "the JSON ends where a value should be");
    switch (*jp->p) {
    case '{':
        return nc_jp_container(jp, depth, true);
    case '[':
        return nc_jp_container(jp, depth, false);
    case '"': {
        const char *s = nc_jp_string(jp);
        if (!s)
            return NULL;
        nc_json_t *n = nc_jp_node(jp, NC_JSON_STR);
        n->v.s = s;
        return n;
    }
    default:
        break;
    }
    if (nc_jp_word(jp, "true") || nc_jp_word(jp, "false")) {
        nc_json_t *n = nc_jp_node(jp, NC_JSON_BOOL);
        n->v.b = jp->p[-1] == 'e' && jp->p[-2] == 'u';
        return n;
    }
    if (nc_jp_word(jp, "null"))
        return nc_jp_node(jp, NC_JSON_NULL);
    return nc_jp_number(jp);
}

int nc_json_parse(nc_json_doc_t *doc, const char *text, size_t len, char *err, size_t errlen)
{
    nc_arena_init(&doc->arena, len < 2048 ? 4096 : len * 2 + 1024);
    doc->root = NULL;
    nc_jp_t jp = {text, text + len, &doc->arena, NULL};
    nc_json_t *root = nc_jp_value(&jp, 0);
    if (root) {
        nc_jp_ws(&jp);
        if (jp.p != jp.end) {
            root = NULL;
            jp.why = "there is more after the JSON value";
        }
    }
    if (!root) {
        if (err)
            snprintf(err, errlen, "%s", jp.why ? jp.why : "the JSON is not valid");
        return NC_EBADDATA;
    }
    doc->root = root;
    return 0;
}

void nc_json_doc_done(nc_json_doc_t *doc)
{
    nc_arena_done(&doc->arena);
    doc->root = NULL;
}

const nc_json_t *nc_json_get(const nc_json_t *obj, const char *key)
{
    if (!obj || obj->kind != NC_JSON_OBJ)
        return NULL;
    for (const nc_json_t *m = obj->child; m; m = m->next)
        if (m->key && strcmp(m->key, key) == 0)
            return m;
    return NULL;
}

const char *nc_json_str(const nc_json_t *obj, const char *key)
{
    const nc_json_t *m = nc_json_get(obj, key);
    return m && m->kind == NC_JSON_STR ? m->v.s : NULL;
}

bool nc_json_int(const nc_json_t *obj, const char *key, int64_t *out)
{
    const nc_json_t *m = nc_json_get(obj, key);
    if (m && m->kind == NC_JSON_INT) {
        *out = m->v.i;
        return true;
    }
    if (m && m->kind == NC_JSON_NUM && isfinite(m->v.d) && m->v.d == floor(m->v.d) &&
        fabs(m->v.d) < 9e15) {
        *out = (int64_t)m->v.d;
        return true;
    }
    return false;
}

bool nc_json_bool(const nc_json_t *obj, const char *key, bool def)
{
    const nc_json_t *m = nc_json_get(obj, key);
    return m && m->kind == NC_JSON_BOOL ? m->v.b : def;
}
