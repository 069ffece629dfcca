/*
 * lesson.c: parsing one lesson file into the lesson model (core/course.h).
 *
 * The text is first checked as a whole (size cap, no NUL bytes, valid
 * UTF-8) and cut into lines (a trailing CR is dropped). The front matter
 * between the two "---" lines and every fenced run block (```step,
 * ```checkpoint, ```note) are read the same way: as a list of key/value
 * entries (nc_kv_t), where a line indented by blanks continues the value
 * above it. Each kind of block then applies its entries through a key table
 * ({name, required, repeatable, setter}), so adding a key is adding a line.
 * The rest of the body is Markdown, cut into pages at level-1 "# " headings
 * that are not inside a fenced code block.
 *
 * Every error is one sentence, "path:line: ...", and stops the parse; the
 * half-built lesson is freed. Matchers are compiled once here (to report
 * syntax errors with their line) and kept as text.
 */
#include "lesson.h"

#include "lesson_priv.h"
#include "program.h"

#include "core/buf.h"
#include "core/error.h"
#include "core/link.h"
#include "core/match.h"
#include "core/schema.h"
#include "core/xmalloc.h"
#include "decode/decode.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NC_LESSON_MAX_BYTES (1024 * 1024)

typedef struct nc_line {
    const char *s;
    size_t len;
} nc_line_t;

/* One "key: value" entry of the front matter or a run block. */
typedef struct nc_kv {
    char *key;
    char *value;
    int line;
} nc_kv_t;

typedef struct nc_kvs {
    nc_kv_t *v;
    size_t n, cap;
} nc_kvs_t;

typedef struct nc_lp {
    const char *path;
    char *err;
    size_t errlen;
    nc_line_t *lines;
    size_t nlines;
    nc_lesson_priv_t *lesson;
} nc_lp_t;

/* ---- small helpers ---- */

static int nc_lp_fail(nc_lp_t *p, int line, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

void nc__lesson_verr(char *err, size_t errlen, const char *path, int line, const char *fmt,
                     va_list ap)
{
    if (errlen == 0)
        return;
    int n = snprintf(err, errlen, "%s:%d: ", path, line);
    if (n >= 0 && (size_t)n < errlen)
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
}

static int nc_lp_fail(nc_lp_t *p, int line, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    nc__lesson_verr(p->err, p->errlen, p->path, line, fmt, ap);
    va_end(ap);
    return code;
}

static bool nc_line_blank(const nc_line_t *l)
{
    for (size_t i = 0; i < l->len; i++)
        if (l->s[i] != ' ' && l->s[i] != '\t')
            return false;
    return true;
}

/* Returns a heap copy of s[0..n) without leading and trailing blanks. */
static char *nc_trimdup(const char *s, size_t n)
{
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    return nc_xstrndup(s, n);
}

static bool nc_line_is(const nc_line_t *l, const char *text)
{
    size_t n = l->len;
    while (n && (l->s[n - 1] == ' ' || l->s[n - 1] == '\t'))
        n--;
    return n == strlen(text) && memcmp(l->s, text, n) == 0;
}

/* Ids and scenario names: lowercase letters, digits and '-'. */
static bool nc_ident_ok(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '-'))
            return false;
    return true;
}

static void nc_kvs_free(nc_kvs_t *k)
{
    for (size_t i = 0; i < k->n; i++) {
        free(k->v[i].key);
        free(k->v[i].value);
    }
    free(k->v);
    k->v = NULL;
    k->n = k->cap = 0;
}

/* ---- whole-file checks ---- */

/* Returns the length of the UTF-8 sequence at s (1..4), or 0 when it is not
 * a valid, shortest-form encoding of a scalar value. */
static size_t nc_utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    uint32_t cp, min;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2, cp = c & 0x1f, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3, cp = c & 0x0f, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4, cp = c & 0x07, min = 0x10000;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

static int nc_lp_check_bytes(nc_lp_t *p, const char *text, size_t len)
{
    if (len > NC_LESSON_MAX_BYTES)
        return nc_lp_fail(p, 1, NC_EBADDATA, "the file is larger than 1 MiB");
    int line = 1;
    const unsigned char *s = (const unsigned char *)text;
    for (size_t i = 0; i < len;) {
        if (s[i] == '\0')
            return nc_lp_fail(p, line, NC_EBADDATA, "the file holds a NUL byte");
        if (s[i] == '\n')
            line++;
        size_t n = nc_utf8_len(s + i, len - i);
        if (n == 0)
            return nc_lp_fail(p, line, NC_EBADDATA, "the text is not valid UTF-8");
        i += n;
    }
    return 0;
}

static void nc_lp_split(nc_lp_t *p, const char *text, size_t len)
{
    size_t cap = 64;
    p->lines = nc_xmalloc(cap * sizeof *p->lines);
    p->nlines = 0;
    size_t start = 0;
    while (start < len) {
        const char *nl = memchr(text + start, '\n', len - start);
        size_t end = nl ? (size_t)(nl - text) : len;
        size_t n = end - start;
        if (n && text[start + n - 1] == '\r')
            n--;
        if (p->nlines == cap) {
            cap *= 2;
            p->lines = nc_xrealloc(p->lines, cap * sizeof *p->lines);
        }
        p->lines[p->nlines++] = (nc_line_t){text + start, n};
        start = end + 1;
    }
}

/* ---- key/value blocks ---- */

/*
 * Reads lines [from, to) as "key: value" entries. Blank lines are skipped; a
 * line that starts with a blank continues the previous value (joined with
 * one space). Keys are lowercase letters, digits and '_'.
 */
static int nc_lp_kvs(nc_lp_t *p, size_t from, size_t to, const char *what, nc_kvs_t *out)
{
    for (size_t i = from; i < to; i++) {
        const nc_line_t *l = &p->lines[i];
        int line = (int)i + 1;
        if (nc_line_blank(l))
            continue;
        if (l->s[0] == ' ' || l->s[0] == '\t') {
            if (out->n == 0)
                return nc_lp_fail(p, line, NC_ESYNTAX,
                                  "an indented line continues a value, but no key came before it in the %s",
                                  what);
            nc_kv_t *kv = &out->v[out->n - 1];
            char *more = nc_trimdup(l->s, l->len);
            char *joined = *kv->value ? nc_xasprintf("%s %s", kv->value, more) : nc_xstrdup(more);
            free(more);
            free(kv->value);
            kv->value = joined;
            continue;
        }
        size_t k = 0;
        while (k < l->len && (islower((unsigned char)l->s[k]) || isdigit((unsigned char)l->s[k]) ||
                              l->s[k] == '_'))
            k++;
        if (k == 0 || k >= l->len || l->s[k] != ':')
            return nc_lp_fail(p, line, NC_ESYNTAX,
                              "expected \"key: value\" in the %s, found \"%.*s\"", what,
                              (int)(l->len > 40 ? 40 : l->len), l->s);
        if (out->n == out->cap) {
            out->cap = out->cap ? out->cap * 2 : 16;
            out->v = nc_xrealloc(out->v, out->cap * sizeof *out->v);
        }
        out->v[out->n++] = (nc_kv_t){nc_xstrndup(l->s, k), nc_trimdup(l->s + k + 1, l->len - k - 1),
                                     line};
    }
    return 0;
}

typedef int (*nc_kv_set_fn)(nc_lp_t *p, void *obj, const nc_kv_t *kv);

typedef struct nc_key {
    const char *name;
    bool required;
    bool repeat;
    nc_kv_set_fn set;
} nc_key_t;

/*
 * Applies entries to obj through a key table. Keys the table does not know
 * go to other() when given (checkpoint choices), else are errors. Checks
 * that required keys are present (reported at `line`, the block's start) and
 * that others appear once. Empty values are errors.
 */
static int nc_lp_apply(nc_lp_t *p, const nc_key_t *keys, size_t nkeys, const nc_kvs_t *kvs,
                       void *obj, nc_kv_set_fn other, const char *what, int line)
{
    int seen[32] = {0};
    for (size_t i = 0; i < kvs->n; i++) {
        const nc_kv_t *kv = &kvs->v[i];
        size_t k = 0;
        while (k < nkeys && strcmp(keys[k].name, kv->key) != 0)
            k++;
        if (*kv->value == '\0')
            return nc_lp_fail(p, kv->line, NC_ESYNTAX, "\"%s\" needs a value", kv->key);
        int rc;
        if (k == nkeys) {
            if (!other) {
                nc_buf_t names;
                nc_buf_init(&names);
                for (size_t j = 0; j < nkeys; j++)
                    nc_buf_printf(&names, "%s%s", j ? ", " : "", keys[j].name);
                rc = nc_lp_fail(p, kv->line, NC_ESYNTAX, "unknown key \"%s\" in the %s (known: %s)",
                                kv->key, what, nc_buf_cstr(&names));
                nc_buf_done(&names);
                return rc;
            }
            rc = other(p, obj, kv);
        } else {
            if (seen[k] && !keys[k].repeat)
                return nc_lp_fail(p, kv->line, NC_ESYNTAX, "duplicate key \"%s\" (first on line %d)",
                                  kv->key, seen[k]);
            seen[k] = kv->line;
            rc = keys[k].set(p, obj, kv);
        }
        if (rc < 0)
            return rc;
    }
    for (size_t k = 0; k < nkeys; k++)
        if (keys[k].required && !seen[k])
            return nc_lp_fail(p, line, NC_ESYNTAX, "the %s has no \"%s\"", what, keys[k].name);
    return 0;
}

/* Can an event of one of `types` carry path? Packet fields are the ones the
 * decoders declare; the others are core/schema.h's. App events are open,
 * except for paths under a decoder's layer name ("app tcp.flags"). */
static bool nc_lp_field_known(void *ctx, unsigned types, const char *path, char *why,
                              size_t whylen)
{
    (void)ctx;
    bool layer = false;
    int kind = nc_decode_field_kind(path, &layer);
    if ((types & (1u << NC_EV_PACKET)) && kind >= 0)
        return true;
    for (int t = 0; t < NC_EV__COUNT; t++) {
        if (t == NC_EV_PACKET || !(types & (1u << t)) || (t == NC_EV_APP && layer))
            continue;
        if (nc_schema_has((nc_event_type_t)t, path))
            return true;
    }
    nc_buf_t names;
    nc_buf_init(&names);
    if (layer) {
        size_t llen = strcspn(path, ".");
        char name[32];
        snprintf(name, sizeof name, "%.*s", (int)(llen < 31 ? llen : 31), path);
        nc_decode_field_names(name, &names);
        snprintf(why, whylen, "no decoder writes it (%s has %s)", name, nc_buf_cstr(&names));
    } else if (kind < 0 && !(types & (1u << NC_EV_APP))) {
        snprintf(why, whylen, "neither a decoder nor the events the matcher names write it");
    }
    nc_buf_done(&names);
    return false;
}

/* Compiles src (the whole matcher) and checks that each field it names is
 * one an event can have. */
static int nc_matcher_validate(const char *src, char *err, size_t errlen)
{
    char merr[256] = "";
    nc_match_t *m = nc_match_compile(src, merr, sizeof merr);
    if (!m) {
        snprintf(err, errlen, "bad matcher \"%s\": %s", src, merr[0] ? merr : "syntax error");
        return NC_ESYNTAX;
    }
    int rc = nc_match_check(m, nc_lp_field_known, NULL, merr, sizeof merr);
    nc_match_free(m);
    if (rc < 0)
        snprintf(err, errlen, "matcher \"%s\": %s", src, merr);
    return rc;
}

static int nc_lp_matcher(nc_lp_t *p, const nc_kv_t *kv, const char *src)
{
    char merr[512] = "";
    if (nc_matcher_validate(src, merr, sizeof merr) < 0)
        return nc_lp_fail(p, kv->line, NC_ESYNTAX, "%s: %s", kv->key, merr);
    return 0;
}

static int nc_lp_bool(nc_lp_t *p, const nc_kv_t *kv, int *out)
{
    static const struct {
        const char *word;
        int value;
    } words[] = {{"yes", 1}, {"true", 1}, {"no", 0}, {"false", 0}};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        if (strcmp(kv->value, words[i].word) == 0) {
            *out = words[i].value;
            return 0;
        }
    }
    return nc_lp_fail(p, kv->line, NC_ESYNTAX, "%s: expected yes or no, found \"%s\"", kv->key,
                      kv->value);
}

/* ---- front matter ---- */

static const char *const nc_topologies[] = {"local", "pair"};

static const char *const nc_fault_actions[] = {"drop"};

static int nc_fm_id(nc_lp_t *p, void *obj, const nc_kv_t *kv)
{
    nc_lesson_priv_t *lp = obj;
    if (!nc_ident_ok(kv->value))
        return nc_lp_fail(p, kv->line, NC_ESYNTAX,
                          "id \"%s\" may hold only lowercase letters, digits and '-'", kv->value);
    lp->pub.id = nc_xstrdup(kv->value);
    lp->id_line = kv->line;
    return 0;
}

static int nc_fm_title(nc_lp_t *p, void *obj, const nc_kv_t *kv)
{
    ((nc_lesson_priv_t *)obj)->pub.title = nc_xstrdup(kv->value);
    return 0;
}

static int nc_fm_summary(nc_lp_t *p, void *obj, const nc_kv_t *kv)
{
    ((nc_lesson_priv_t *)obj)->pub.summary = nc_xstrdup(kv->value);
    return 0;
}

/* Reads a decimal integer in 1..999 at the start of s; *end points past it. */
static bool nc_small_number(const char *s, int *out, const char **end)
{
    int v = 0;
    const char *q = s;
    while (isdigit((unsigned char)*q) && q - s < 4)
        v = v * 10 + (*q++ - '0');
    if (q == s || isdigit((unsigned char)*q) || v < 1 || v > 999)
        return false;
    *out = v;
    *end = q;
    return true;
}

static int nc_fm_number(nc_lp_t *p, void *obj, const nc_kv_t *kv)
{
    nc_lesson_priv_t *lp = obj;
    const char *end;
    if (!nc_small_number(kv->value, &lp->pub.number, &end) || *end)
        return nc_lp_fail(p, kv->line, NC_ESYNTAX, "number: expected a whole number from 1 to 999, found \"%s\"",
                          kv->value);
    lp->number_line = kv->line;
    return 0;
}

static int nc_fm_part(nc_lp_t *p, void *obj, const nc_kv_t *kv)
{
    nc_lesson_priv_t *lp = obj;
    const char *end;
    if (!nc_small_number(kv->value, &lp->pub.part, &end) || (*end != ' ' && *end != '\t'))
        return nc_lp_fail(p, kv->line, NC_ESYNTAX,
                          "part: expected the part's number then its title, as in \"2 Protocols\"");
    char *title = nc_trimdup(end, strlen(end));
    if (!*title) {
        free(title);
        return nc_lp_fail(p, kv->line, NC_ESYNTAX, "part: the part's title is missing");
    }
    lp->pub.part_title = title;
    return 0;
}

static int nc_fm_topology(nc_lp_t *p, void *obj, const nc_kv_t *kv)
{
    for (size_t i = 0; i < sizeof nc_topologies / sizeof nc_topologies[0]; i++) {
        if (strcmp(kv->value, nc_topologies[i]) == 0) {
            ((nc_lesson_priv_t *)obj)->pub.topology = nc_xstrdup(kv->value);
            return 0;
        }
    }
    return nc_lp_fail(p, kv->line, NC_ESYNTAX, "unknown topology \"%s\" (use local or pair)",
                      kv->value);
}

static int nc_fm_scenario(nc_lp_t *p, void *obj, const nc_kv_t *kv)
{
    if (!nc_ident_ok(kv->value))
        return nc_lp_fail(p, kv->line, NC_ESYNTAX,
                          "scenario \"%s\" may hold only lowercase letters, digits and '-'",
                          kv->value);
    ((nc_lesson_priv_t *)obj)->pub.scenario = nc_xstrdup(kv->value);
    return 0;
}

static int nc_fm_link(nc_lp_t *p, void *obj, const nc_kv_t *kv)
{
    char lerr[200] = "";
    int rc = nc_link_parse(kv->value, &((nc_lesson_priv_t *)obj)->pub.link, lerr, sizeof lerr);
    if (rc < 0)
        return nc_lp_fail(p, kv->line, NC_ESYNTAX, "%s", lerr[0] ? lerr : "bad link settings");
    return 0;
}

/* "drop 3rd packet from=client tcp.len>0": an action, an ordinal (digits
 * with an optional st/nd/rd/th) and a matcher (the rest of the line). */
int nc_fault_parse(const char *text, nc_fault_t *out, char *err, size_t errlen)
{
    const char *s = text;
    s += strspn(s, " \t");
    size_t alen = strcspn(s, " \t");
    const char *action = NULL;
    for (size_t i = 0; i < sizeof nc_fault_actions / sizeof nc_fault_actions[0]; i++)
        if (strlen(nc_fault_actions[i]) == alen && memcmp(nc_fault_actions[i], s, alen) == 0)
            action = nc_fault_actions[i];
    if (!action) {
        snprintf(err, errlen, "fault: unknown action \"%.*s\" (expected \"drop <nth> <matcher>\")",
                 (int)(alen > 40 ? 40 : alen), s);
        return NC_ESYNTAX;
    }
    s += alen;
    s += strspn(s, " \t");
    int nth;
    const char *end;
    bool ok = nc_small_number(s, &nth, &end);
    static const char *const suffixes[] = {"st", "nd", "rd", "th"};
    for (size_t i = 0; ok && i < sizeof suffixes / sizeof suffixes[0]; i++)
        if (strncmp(end, suffixes[i], 2) == 0) {
            end += 2;
            break;
        }
    if (!ok || (*end != ' ' && *end != '\t')) {
        snprintf(err, errlen, "fault: expected an ordinal such as 1st, 2nd or 3rd after \"%s\"",
                 action);
        return NC_ESYNTAX;
    }
    char *match = nc_trimdup(end, strlen(end));
    char merr[512] = "";
    if (nc_matcher_validate(match, merr, sizeof merr) < 0) {
        snprintf(err, errlen, "fault: %s", merr);
        free(match);
        return NC_ESYNTAX;
    }
    *out = (nc_fault_t){
        .spec = nc_trimdup(text, strlen(text)),
        .action = nc_xstrdup(action),
        .nth = (unsigned)nth,
        .match = match,
    };
    return 0;
}

void nc_fault_done(nc_fault_t *f)
{
    free(f->spec);
    free(f->action);
    free(f->match);
    memset(f, 0, sizeof *f);
}

static int nc_fm_fault(nc_lp_t *p, void *obj, const nc_kv_t *kv)
{
    nc_lesson_t *l = &((nc_lesson_priv_t *)obj)->pub;
    nc_fault_t f;
    char ferr[400];
    if (nc_fault_parse(kv->value, &f, ferr, sizeof ferr) != 0)
        return nc_lp_fail(p, kv->line, NC_ESYNTAX, "%s", ferr);
    f.line = kv->line;
    l->faults = nc_xrealloc(l->faults, (l->nfaults + 1) * sizeof *l->faults);
    l->faults[l->nfaults++] = f;
    return 0;
}

static const nc_key_t nc_fm_keys[] = {
    {"id", true, false, nc_fm_id},
    {"title", true, false, nc_fm_title},
    {"number", true, false, nc_fm_number},
    {"part", true, false, nc_fm_part},
    {"summary", true, false, nc_fm_summary},
    {"topology", true, false, nc_fm_topology},
    {"scenario", false, false, nc_fm_scenario},
    {"link", false, false, nc_fm_link},
    {"fault", false, true, nc_fm_fault},
};

/* Reads the front matter; returns the index of the first body line. */
static int nc_lp_front(nc_lp_t *p, size_t *body)
{
    if (p->nlines == 0 || !nc_line_is(&p->lines[0], "---"))
        return nc_lp_fail(p, 1, NC_ESYNTAX,
                          "a lesson starts with its front matter: a line \"---\", keys, then \"---\"");
    size_t close = 1;
    while (close < p->nlines && !nc_line_is(&p->lines[close], "---"))
        close++;
    if (close == p->nlines)
        return nc_lp_fail(p, 1, NC_ESYNTAX, "the front matter opened here is never closed with \"---\"");
    nc_kvs_t kvs = {0};
    int rc = nc_lp_kvs(p, 1, close, "front matter", &kvs);
    if (rc == 0)
        rc = nc_lp_apply(p, nc_fm_keys, sizeof nc_fm_keys / sizeof nc_fm_keys[0], &kvs, p->lesson,
                         NULL, "front matter", 1);
    nc_kvs_free(&kvs);
    *body = close + 1;
    return rc;
}

/* ---- run blocks ---- */

static int nc_step_id(nc_lp_t *p, void *obj, const nc_kv_t *kv)
{
    if (!nc_ident_ok(kv->value))
        return nc_lp_fail(p, kv->line, NC_ESYNTAX,
                          "id \"%s\" may hold only lowercase letters, digits and '-'", kv->value);
    ((nc_step_t *)obj)->id = nc_xstrdup(kv->value);
    return 0;
}

static int nc_step_title(nc_lp_t *p, void *obj, const nc_kv_t *kv)
{
    ((nc_step_t *)obj)->title = nc_xstrdup(kv->value);
    return 0;
}

static int nc_step_until(nc_lp_t *p, void *obj, const nc_kv_t *kv)
{
    int rc = nc_lp_matcher(p, kv, kv->value);
    if (rc == 0)
        ((nc_step_t *)obj)->until = nc_xstrdup(kv->value);
    return rc;
}

static int nc_step_text(nc_lp_t *p, void *obj, const nc_kv_t *kv)
{
    ((nc_step_t *)obj)->text = nc_xstrdup(kv->value);
    return 0;
}

static const nc_key_t nc_step_keys[] = {
    {"id", true, false, nc_step_id},
    {"title", true, false, nc_step_title},
    {"until", false, false, nc_step_until},
    {"text", true, false, nc_step_text},
};

static int nc_cp_id(nc_lp_t *p, void *obj, const nc_kv_t *kv)
{
    if (!nc_ident_ok(kv->value))
        return nc_lp_fail(p, kv->line, NC_ESYNTAX,
                          "id \"%s\" may hold only lowercase letters, digits and '-'", kv->value);
    ((nc_checkpoint_t *)obj)->id = nc_xstrdup(kv->value);
    return 0;
}

static int nc_cp_ask(nc_lp_t *p, void *obj, const nc_kv_t *kv)
{
    ((nc_checkpoint_t *)obj)->question = nc_xstrdup(kv->value);
    return 0;
}

/* Checks the {path} placeholders of an explanation: each brace closes on
 * the same value and holds a field path (optionally "$path", the target). */
static int nc_lp_template(nc_lp_t *p, const nc_kv_t *kv)
{
    for (const char *s = kv->value; (s = strchr(s, '{')) != NULL;) {
        const char *close = strchr(s, '}');
        const char *path = s + 1 + (s[1] == '$');
        bool ok = close != NULL && close > path;
        for (const char *q = path; ok && q < close; q++)
            ok = isalnum((unsigned char)*q) || *q == '_' || *q == '.' || *q == '-';
        if (!ok)
            return nc_lp_fail(p, kv->line, NC_ESYNTAX,
                              "%s: \"{\" starts a placeholder, which must be a field path and end with \"}\", as in {w1}",
                              kv->key);
        s = close + 1;
    }
    return 0;
}

static int nc_cp_explain(nc_lp_t *p, void *obj, const nc_kv_t *kv)
{
    int rc = nc_lp_template(p, kv);
    if (rc == 0)
        ((nc_checkpoint_t *)obj)->explain = nc_xstrdup(kv->value);
    return rc;
}

/* Does a matcher read the target ("path=$other")? */
static bool nc_matcher_reads_target(const char *src)
{
    for (const char *s = src; (s = strchr(s, '$')) != NULL; s++)
        if (s > src && strchr("=~<>", s[-1]))
            return true;
    return false;
}

/* A matcher that runs before the target exists may not read it. */
static int nc_lp_untargeted(nc_lp_t *p, const nc_kv_t *kv, char **out)
{
    int rc = nc_lp_matcher(p, kv, kv->value);
    if (rc == 0 && nc_matcher_reads_target(kv->value))
        rc = nc_lp_fail(p, kv->line, NC_ESYNTAX,
                        "%s: \"$path\" reads the checkpoint's target, which is not known yet when \"%s\" is matched",
                        kv->key, kv->key);
    if (rc == 0)
        *out = nc_xstrdup(kv->value);
    return rc;
}

static int nc_cp_before(nc_lp_t *p, void *obj, const nc_kv_t *kv)
{
    return nc_lp_untargeted(p, kv, &((nc_checkpoint_t *)obj)->before);
}

static int nc_cp_after(nc_lp_t *p, void *obj, const nc_kv_t *kv)
{
    return nc_lp_untargeted(p, kv, &((nc_checkpoint_t *)obj)->after);
}

static int nc_cp_reveal(nc_lp_t *p, void *obj, const nc_kv_t *kv)
{
    return nc_lp_untargeted(p, kv, &((nc_checkpoint_t *)obj)->reveal);
}

static int nc_cp_premise(nc_lp_t *p, void *obj, const nc_kv_t *kv)
{
    ((nc_checkpoint_t *)obj)->premise = nc_xstrdup(kv->value);
    return 0;
}

/* window: "until MATCHER", "step" or "run". */
static int nc_cp_window(nc_lp_t *p, void *obj, const nc_kv_t *kv)
{
    nc_checkpoint_t *cp = obj;
    size_t wlen = strcspn(kv->value, " \t");
    const char *rest = kv->value + wlen;
    while (*rest == ' ' || *rest == '\t')
        rest++;
    if (wlen == 5 && memcmp(kv->value, "until", 5) == 0) {
        if (!*rest)
            return nc_lp_fail(p, kv->line, NC_ESYNTAX, "window: \"until\" needs a matcher");
        int rc = nc_lp_matcher(p, kv, rest);
        if (rc == 0) {
            cp->window = NC_WINDOW_UNTIL;
            cp->window_until = nc_xstrdup(rest);
        }
        return rc;
    }
    if (!*rest && wlen == 4 && memcmp(kv->value, "step", 4) == 0) {
        cp->window = NC_WINDOW_STEP;
        return 0;
    }
    if (!*rest && wlen == 3 && memcmp(kv->value, "run", 3) == 0) {
        cp->window = NC_WINDOW_RUN;
        return 0;
    }
    return nc_lp_fail(p, kv->line, NC_ESYNTAX,
                      "window: expected \"until MATCHER\", \"step\" or \"run\", found \"%s\"",
                      kv->value);
}

static const struct {
    const char *word;
    nc_choice_rule_t rule;
    bool has_match;
} nc_choice_rules[] = {
    {"when", NC_CHOICE_WHEN, true},
    {"later", NC_CHOICE_LATER, true},
    {"never", NC_CHOICE_NEVER, true},
    {"otherwise", NC_CHOICE_OTHERWISE, false},
};

/* "explain_a: ...": checked here, attached to its choice by nc_cp_check
 * once every choice is read (the key may come before its choice). */
static int nc_cp_choice_explain(nc_lp_t *p, nc_checkpoint_t *cp, const nc_kv_t *kv)
{
    const char *key = kv->key + 8;
    if (strlen(key) != 1 || !islower((unsigned char)key[0]))
        return nc_lp_fail(p, kv->line, NC_ESYNTAX,
                          "\"%s\": an explanation per choice is named explain_ and the choice's letter, as in explain_a",
                          kv->key);
    return nc_lp_template(p, kv);
}

/* A choice: key "a".."z", value "TEXT | RULE [MATCHER]". The last '|'
 * separates the text from the rule, so the text may hold '|'. */
static int nc_cp_choice(nc_lp_t *p, void *obj, const nc_kv_t *kv)
{
    nc_checkpoint_t *cp = obj;
    if (strncmp(kv->key, "explain_", 8) == 0)
        return nc_cp_choice_explain(p, cp, kv);
    if (strlen(kv->key) != 1 || !islower((unsigned char)kv->key[0]))
        return nc_lp_fail(p, kv->line, NC_ESYNTAX,
                          "unknown key \"%s\" in the checkpoint (known: id, ask, before, after, reveal, premise, window, explain, a to z for choices, explain_a to explain_z)",
                          kv->key);
    for (size_t i = 0; i < cp->nchoices; i++)
        if (strcmp(cp->choices[i].key, kv->key) == 0)
            return nc_lp_fail(p, kv->line, NC_ESYNTAX, "duplicate choice \"%s\"", kv->key);
    const char *bar = strrchr(kv->value, '|');
    if (!bar)
        return nc_lp_fail(p, kv->line, NC_ESYNTAX,
                          "choice %s: expected \"text | when MATCHER\" (or later, never, otherwise)",
                          kv->key);
    char *text = nc_trimdup(kv->value, (size_t)(bar - kv->value));
    char *rule = nc_trimdup(bar + 1, strlen(bar + 1));
    int rc = 0;
    if (!*text) {
        rc = nc_lp_fail(p, kv->line, NC_ESYNTAX, "choice %s has no text before '|'", kv->key);
        goto out;
    }
    size_t wlen = strcspn(rule, " \t");
    size_t r = 0;
    size_t nrules = sizeof nc_choice_rules / sizeof nc_choice_rules[0];
    while (r < nrules && !(strlen(nc_choice_rules[r].word) == wlen &&
                           memcmp(nc_choice_rules[r].word, rule, wlen) == 0))
        r++;
    if (r == nrules) {
        rc = nc_lp_fail(p, kv->line, NC_ESYNTAX,
                        "choice %s: unknown rule \"%.*s\" (use when, later, never or otherwise)",
                        kv->key, (int)wlen, rule);
        goto out;
    }
    char *match = nc_trimdup(rule + wlen, strlen(rule + wlen));
    if (nc_choice_rules[r].has_match && !*match) {
        rc = nc_lp_fail(p, kv->line, NC_ESYNTAX, "choice %s: \"%s\" needs a matcher", kv->key,
                        nc_choice_rules[r].word);
    } else if (!nc_choice_rules[r].has_match && *match) {
        rc = nc_lp_fail(p, kv->line, NC_ESYNTAX, "choice %s: \"otherwise\" takes no matcher",
                        kv->key);
    } else if (nc_choice_rules[r].has_match) {
        rc = nc_lp_matcher(p, kv, match);
    } else {
        for (size_t i = 0; i < cp->nchoices; i++)
            if (cp->choices[i].rule == NC_CHOICE_OTHERWISE)
                rc = nc_lp_fail(p, kv->line, NC_ESYNTAX,
                                "choice %s: only one choice may be \"otherwise\"", kv->key);
    }
    if (rc < 0 || !nc_choice_rules[r].has_match) {
        free(match);
        match = NULL;
    }
    if (rc == 0) {
        cp->choices = nc_xrealloc(cp->choices, (cp->nchoices + 1) * sizeof *cp->choices);
        cp->choices[cp->nchoices++] = (nc_choice_t){
            .key = nc_xstrdup(kv->key),
            .text = text,
            .rule = nc_choice_rules[r].rule,
            .match = match,
        };
        text = NULL;
    }
out:
    free(text);
    free(rule);
    return rc;
}

static const nc_key_t nc_cp_keys[] = {
    {"id", true, false, nc_cp_id},
    {"ask", true, false, nc_cp_ask},
    {"before", true, false, nc_cp_before},
    {"after", false, false, nc_cp_after},
    {"reveal", false, false, nc_cp_reveal},
    {"premise", false, false, nc_cp_premise},
    {"window", false, false, nc_cp_window},
    {"explain", true, false, nc_cp_explain},
};

static int nc_note_when(nc_lp_t *p, void *obj, const nc_kv_t *kv)
{
    int rc = nc_lp_matcher(p, kv, kv->value);
    if (rc == 0)
        ((nc_lesson_note_t *)obj)->match = nc_xstrdup(kv->value);
    return rc;
}

static int nc_note_text(nc_lp_t *p, void *obj, const nc_kv_t *kv)
{
    ((nc_lesson_note_t *)obj)->text = nc_xstrdup(kv->value);
    return 0;
}

static int nc_note_every(nc_lp_t *p, void *obj, const nc_kv_t *kv)
{
    return nc_lp_bool(p, kv, &((nc_lesson_note_t *)obj)->every);
}

static const nc_key_t nc_note_keys[] = {
    {"when", true, false, nc_note_when},
    {"text", true, false, nc_note_text},
    {"every", false, false, nc_note_every},
};

static void nc_step_done(nc_step_t *s)
{
    free(s->id);
    free(s->title);
    free(s->until);
    free(s->text);
}

static void nc_checkpoint_done(nc_checkpoint_t *c)
{
    free(c->id);
    free(c->question);
    free(c->before);
    free(c->after);
    free(c->reveal);
    free(c->premise);
    free(c->window_until);
    free(c->explain);
    for (size_t i = 0; i < c->nchoices; i++) {
        free(c->choices[i].key);
        free(c->choices[i].text);
        free(c->choices[i].match);
        free(c->choices[i].explain);
    }
    free(c->choices);
}

static void nc_note_done(nc_lesson_note_t *n)
{
    free(n->match);
    free(n->text);
}

static int nc_block_step(nc_lp_t *p, const nc_kvs_t *kvs, int line)
{
    nc_lesson_t *l = &p->lesson->pub;
    nc_step_t s = {.line = line};
    int rc = nc_lp_apply(p, nc_step_keys, sizeof nc_step_keys / sizeof nc_step_keys[0], kvs, &s,
                         NULL, "step", line);
    for (size_t i = 0; rc == 0 && i < l->nsteps; i++)
        if (strcmp(l->steps[i].id, s.id) == 0)
            rc = nc_lp_fail(p, line, NC_ESYNTAX, "step id \"%s\" is already used on line %d", s.id,
                            l->steps[i].line);
    if (rc < 0) {
        nc_step_done(&s);
        return rc;
    }
    l->steps = nc_xrealloc(l->steps, (l->nsteps + 1) * sizeof *l->steps);
    l->steps[l->nsteps++] = s;
    return 0;
}

/*
 * Checks what only the whole block can tell: the window fits the choices
 * (later/never need a window that closes after the target; when-only
 * checkpoints are decided on the target and take none), `when` choices do
 * not read the target (they are matched on it), and each explain_X names a
 * choice; attaches the explain_X texts to their choices.
 */
static int nc_cp_check(nc_lp_t *p, nc_checkpoint_t *c, const nc_kvs_t *kvs, int line)
{
    int window_line = line;
    for (size_t i = 0; i < kvs->n; i++)
        if (strcmp(kvs->v[i].key, "window") == 0)
            window_line = kvs->v[i].line;
    const nc_choice_t *watcher = NULL;
    for (size_t i = 0; i < c->nchoices; i++) {
        const nc_choice_t *ch = &c->choices[i];
        if ((ch->rule == NC_CHOICE_LATER || ch->rule == NC_CHOICE_NEVER) && !watcher)
            watcher = ch;
    }
    if (watcher && c->window == NC_WINDOW_TARGET)
        return nc_lp_fail(p, line, NC_ESYNTAX,
                          "checkpoint \"%s\": choice %s is decided by events after the target, so the checkpoint needs a \"window:\" (until MATCHER, step or run) that says when to decide",
                          c->id, watcher->key);
    if (!watcher && c->window != NC_WINDOW_TARGET)
        return nc_lp_fail(p, window_line, NC_ESYNTAX,
                          "checkpoint \"%s\": every choice is decided on the target itself, so a window has nothing to wait for; remove it",
                          c->id);
    for (size_t i = 0; i < kvs->n; i++) {
        const nc_kv_t *kv = &kvs->v[i];
        bool is_explain = strncmp(kv->key, "explain_", 8) == 0;
        const char *key = is_explain ? kv->key + 8 : kv->key;
        if (!is_explain && strlen(key) != 1)
            continue;
        size_t j = 0;
        while (j < c->nchoices && strcmp(c->choices[j].key, key) != 0)
            j++;
        if (!is_explain) {
            if (j < c->nchoices && c->choices[j].rule == NC_CHOICE_WHEN &&
                nc_matcher_reads_target(c->choices[j].match))
                return nc_lp_fail(p, kv->line, NC_ESYNTAX,
                                  "choice %s: a \"when\" rule is matched on the target itself, so \"$path\" has nothing else to read",
                                  key);
            continue;
        }
        if (j == c->nchoices)
            return nc_lp_fail(p, kv->line, NC_ESYNTAX,
                              "\"%s\" explains choice %s, which the checkpoint does not have",
                              kv->key, key);
        if (c->choices[j].explain)
            return nc_lp_fail(p, kv->line, NC_ESYNTAX, "duplicate key \"%s\"", kv->key);
        c->choices[j].explain = nc_xstrdup(kv->value);
    }
    return 0;
}

static int nc_block_checkpoint(nc_lp_t *p, const nc_kvs_t *kvs, int line)
{
    nc_lesson_t *l = &p->lesson->pub;
    nc_checkpoint_t c = {.line = line};
    int rc = nc_lp_apply(p, nc_cp_keys, sizeof nc_cp_keys / sizeof nc_cp_keys[0], kvs, &c,
                         nc_cp_choice, "checkpoint", line);
    if (rc == 0 && c.nchoices < 2)
        rc = nc_lp_fail(p, line, NC_ESYNTAX, "checkpoint \"%s\" needs at least two choices (a: ..., b: ...)",
                        c.id);
    if (rc == 0)
        rc = nc_cp_check(p, &c, kvs, line);
    for (size_t i = 0; rc == 0 && i < l->ncheckpoints; i++)
        if (strcmp(l->checkpoints[i].id, c.id) == 0)
            rc = nc_lp_fail(p, line, NC_ESYNTAX, "checkpoint id \"%s\" is already used on line %d",
                            c.id, l->checkpoints[i].line);
    if (rc < 0) {
        nc_checkpoint_done(&c);
        return rc;
    }
    l->checkpoints = nc_xrealloc(l->checkpoints, (l->ncheckpoints + 1) * sizeof *l->checkpoints);
    l->checkpoints[l->ncheckpoints++] = c;
    return 0;
}

static int nc_block_note(nc_lp_t *p, const nc_kvs_t *kvs, int line)
{
    nc_lesson_t *l = &p->lesson->pub;
    nc_lesson_note_t n = {.line = line};
    int rc = nc_lp_apply(p, nc_note_keys, sizeof nc_note_keys / sizeof nc_note_keys[0], kvs, &n,
                         NULL, "note", line);
    if (rc < 0) {
        nc_note_done(&n);
        return rc;
    }
    l->notes = nc_xrealloc(l->notes, (l->nnotes + 1) * sizeof *l->notes);
    l->notes[l->nnotes++] = n;
    return 0;
}

/* ---- compare: "way: LABEL | PROGRAM", repeatable ---- */

static int nc_cmp_id(nc_lp_t *p, void *obj, const nc_kv_t *kv)
{
    ((nc_compare_t *)obj)->id = nc_xstrdup(kv->value);
    return 0;
}

static int nc_cmp_title(nc_lp_t *p, void *obj, const nc_kv_t *kv)
{
    ((nc_compare_t *)obj)->title = nc_xstrdup(kv->value);
    return 0;
}

static int nc_cmp_way(nc_lp_t *p, void *obj, const nc_kv_t *kv)
{
    nc_compare_t *c = obj;
    const char *bar = strchr(kv->value, '|');
    if (!bar)
        return nc_lp_fail(p, kv->line, NC_ESYNTAX,
                          "a way is \"LABEL | PROGRAM\" (the program that does the work that way)");
    if (c->nways == NC_COMPARE_MAX_WAYS)
        return nc_lp_fail(p, kv->line, NC_ESYNTAX, "a comparison has at most %d ways",
                          NC_COMPARE_MAX_WAYS);
    char *label = nc_trimdup(kv->value, (size_t)(bar - kv->value));
    char *program = nc_trimdup(bar + 1, strlen(bar + 1));
    if (!*label || !*program) {
        free(label);
        free(program);
        return nc_lp_fail(p, kv->line, NC_ESYNTAX, "a way needs a label and a program name");
    }
    c->ways = nc_xrealloc(c->ways, (c->nways + 1) * sizeof *c->ways);
    c->ways[c->nways++] = (nc_compare_way_t){label, program};
    return 0;
}

static const nc_key_t nc_compare_keys[] = {
    {"id", true, false, nc_cmp_id},
    {"title", true, false, nc_cmp_title},
    {"way", true, true, nc_cmp_way},
};

static void nc_compare_done(nc_compare_t *c)
{
    free(c->id);
    free(c->title);
    for (size_t i = 0; i < c->nways; i++) {
        free(c->ways[i].label);
        free(c->ways[i].program);
    }
    free(c->ways);
}

static int nc_block_compare(nc_lp_t *p, const nc_kvs_t *kvs, int line)
{
    nc_lesson_t *l = &p->lesson->pub;
    nc_compare_t c = {.line = line};
    int rc = nc_lp_apply(p, nc_compare_keys, sizeof nc_compare_keys / sizeof nc_compare_keys[0],
                         kvs, &c, NULL, "compare", line);
    for (size_t i = 0; rc == 0 && i < l->ncompares; i++)
        if (strcmp(l->compares[i].id, c.id) == 0)
            rc = nc_lp_fail(p, line, NC_ESYNTAX, "compare id \"%s\" is already used on line %d",
                            c.id, l->compares[i].line);
    if (rc < 0) {
        nc_compare_done(&c);
        return rc;
    }
    l->compares = nc_xrealloc(l->compares, (l->ncompares + 1) * sizeof *l->compares);
    l->compares[l->ncompares++] = c;
    return 0;
}

/* Every way of a comparison names a program of the lesson (known only once
 * the whole file is read). */
static int nc_lp_check_compares(nc_lp_t *p)
{
    const nc_lesson_t *l = &p->lesson->pub;
    for (size_t i = 0; i < l->ncompares; i++)
        for (size_t w = 0; w < l->compares[i].nways; w++) {
            const char *name = l->compares[i].ways[w].program;
            size_t k = 0;
            while (k < l->nprograms && strcmp(l->programs[k].name, name) != 0)
                k++;
            if (k == l->nprograms)
                return nc_lp_fail(p, l->compares[i].line, NC_ESYNTAX,
                                  "compare \"%s\": no program of this lesson is named \"%s\"",
                                  l->compares[i].id, name);
        }
    return 0;
}

static const struct {
    const char *info;
    int (*parse)(nc_lp_t *p, const nc_kvs_t *kvs, int line);
} nc_blocks[] = {
    {"step", nc_block_step},
    {"checkpoint", nc_block_checkpoint},
    {"note", nc_block_note},
    {"compare", nc_block_compare},
};

/* A program block: its lines are handed, as they stand in the file, to the
 * program parser (program.c). */
static int nc_lp_program(nc_lp_t *p, size_t from, size_t to)
{
    nc_lesson_t *l = &p->lesson->pub;
    const char *text = from < to ? p->lines[from].s : "";
    size_t len = from < to ? (size_t)(p->lines[to - 1].s + p->lines[to - 1].len - text) : 0;
    nc_program_t pg;
    int rc = nc_program_parse(p->path, text, len, (int)from + 1, &pg, p->err, p->errlen);
    if (rc != 0)
        return rc;
    l->programs = nc_xrealloc(l->programs, (l->nprograms + 1) * sizeof *l->programs);
    l->programs[l->nprograms++] = pg;
    return 0;
}

/* ---- the body: fences and pages ---- */

typedef struct nc_fence {
    char ch;     /* '`' or '~' */
    size_t n;    /* fence length */
    size_t info; /* offset of the info string */
} nc_fence_t;

/* A fence line: up to 3 spaces, then 3 or more '`' or '~'. */
static bool nc_fence_open(const nc_line_t *l, nc_fence_t *f)
{
    size_t i = 0;
    while (i < 3 && i < l->len && l->s[i] == ' ')
        i++;
    if (i >= l->len || (l->s[i] != '`' && l->s[i] != '~'))
        return false;
    char ch = l->s[i];
    size_t n = 0;
    while (i + n < l->len && l->s[i + n] == ch)
        n++;
    if (n < 3)
        return false;
    if (ch == '`' && memchr(l->s + i + n, '`', l->len - i - n))
        return false;
    *f = (nc_fence_t){ch, n, i + n};
    return true;
}

static bool nc_fence_closes(const nc_line_t *l, const nc_fence_t *open)
{
    nc_fence_t f;
    if (!nc_fence_open(l, &f) || f.ch != open->ch || f.n < open->n)
        return false;
    nc_line_t rest = {l->s + f.info, l->len - f.info};
    return nc_line_blank(&rest);
}

static void nc_page_finish(nc_page_t *pg, nc_buf_t *md)
{
    /* Drop the blank lines around the page's text. */
    const char *s = nc_buf_cstr(md);
    size_t n = md->len;
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
        n--;
    size_t start = 0;
    while (start < n && s[start] == '\n')
        start++;
    pg->markdown = nc_xasprintf("%.*s\n", (int)(n - start), s + start);
    nc_buf_reset(md);
}

static int nc_lp_body(nc_lp_t *p, size_t from)
{
    nc_lesson_t *l = &p->lesson->pub;
    nc_buf_t md;
    nc_buf_init(&md);
    nc_page_t *page = NULL;
    int rc = 0;
    for (size_t i = from; i < p->nlines && rc == 0; i++) {
        const nc_line_t *ln = &p->lines[i];
        int line = (int)i + 1;
        nc_fence_t f;
        if (nc_fence_open(ln, &f)) {
            size_t close = i + 1;
            while (close < p->nlines && !nc_fence_closes(&p->lines[close], &f))
                close++;
            if (close == p->nlines) {
                rc = nc_lp_fail(p, line, NC_ESYNTAX, "the code fence opened here is never closed");
                break;
            }
            nc_line_t info = {ln->s + f.info, ln->len - f.info};
            char *word = nc_trimdup(info.s, info.len);
            size_t b = 0, nb = sizeof nc_blocks / sizeof nc_blocks[0];
            while (b < nb && strcmp(word, nc_blocks[b].info) != 0)
                b++;
            bool program = strcmp(word, "program") == 0;
            free(word);
            if (program) {
                rc = nc_lp_program(p, i + 1, close);
            } else if (b < nb) {
                nc_kvs_t kvs = {0};
                rc = nc_lp_kvs(p, i + 1, close, nc_blocks[b].info, &kvs);
                if (rc == 0)
                    rc = nc_blocks[b].parse(p, &kvs, line);
                nc_kvs_free(&kvs);
            } else if (page) {
                for (size_t j = i; j <= close; j++) {
                    nc_buf_append(&md, p->lines[j].s, p->lines[j].len);
                    nc_buf_putc(&md, '\n');
                }
            } else {
                rc = nc_lp_fail(p, line, NC_ESYNTAX,
                                "text comes before the first page's \"# Title\" heading");
            }
            i = close;
            continue;
        }
        if (ln->len >= 1 && ln->s[0] == '#' && (ln->len == 1 || ln->s[1] == ' ' || ln->s[1] == '\t')) {
            char *title = nc_trimdup(ln->s + 1, ln->len - 1);
            if (!*title) {
                free(title);
                rc = nc_lp_fail(p, line, NC_ESYNTAX, "a page heading needs a title after \"# \"");
                break;
            }
            if (page)
                nc_page_finish(page, &md);
            l->pages = nc_xrealloc(l->pages, (l->npages + 1) * sizeof *l->pages);
            page = &l->pages[l->npages++];
            *page = (nc_page_t){.title = title, .markdown = NULL, .line = line};
            continue;
        }
        if (!page) {
            if (!nc_line_blank(ln))
                rc = nc_lp_fail(p, line, NC_ESYNTAX,
                                "text comes before the first page's \"# Title\" heading");
            continue;
        }
        nc_buf_append(&md, ln->s, ln->len);
        nc_buf_putc(&md, '\n');
    }
    if (rc == 0 && page)
        nc_page_finish(page, &md);
    nc_buf_done(&md);
    if (rc == 0 && l->npages == 0)
        rc = nc_lp_fail(p, (int)from + 1, NC_ESYNTAX,
                        "the lesson has no pages (a page starts with a \"# Title\" line)");
    for (size_t i = 0; rc == 0 && i + 1 < l->nsteps; i++)
        if (!l->steps[i].until)
            rc = nc_lp_fail(p, l->steps[i].line, NC_ESYNTAX,
                            "step \"%s\" has no \"until\"; only the last step may run to the end",
                            l->steps[i].id);
    return rc;
}

/* ---- public ---- */

int nc_lesson_parse(const char *path, const char *text, size_t len, nc_lesson_t **out, char *err,
                    size_t errlen)
{
    *out = NULL;
    if (errlen)
        err[0] = '\0';
    nc_lp_t p = {.path = path ? path : "<lesson>", .err = err, .errlen = errlen};
    p.lesson = nc_xcalloc(1, sizeof *p.lesson);
    p.lesson->pub.path = nc_xstrdup(p.path);
    int rc = nc_lp_check_bytes(&p, text, len);
    size_t body = 0;
    if (rc == 0) {
        nc_lp_split(&p, text, len);
        rc = nc_lp_front(&p, &body);
    }
    if (rc == 0)
        rc = nc_lp_body(&p, body);
    if (rc == 0)
        rc = nc_program_check(&p.lesson->pub, err, errlen);
    if (rc == 0)
        rc = nc_lp_check_compares(&p);
    free(p.lines);
    if (rc < 0) {
        nc_lesson_free(&p.lesson->pub);
        return rc;
    }
    *out = &p.lesson->pub;
    return 0;
}

int nc_lesson_load(const char *path, nc_lesson_t **out, char *err, size_t errlen)
{
    *out = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return errno == ENOENT ? NC_ENOENT : NC_EIO;
    }
    /* Read one byte past the cap so an oversized file is reported as such
     * without reading all of it. */
    size_t cap = NC_LESSON_MAX_BYTES + 1;
    char *text = nc_xmalloc(cap);
    size_t len = fread(text, 1, cap, fp);
    int bad = ferror(fp);
    fclose(fp);
    if (bad) {
        free(text);
        snprintf(err, errlen, "%s: cannot read the file", path);
        return NC_EIO;
    }
    int rc = nc_lesson_parse(path, text, len, out, err, errlen);
    free(text);
    return rc;
}

void nc_lesson_free(nc_lesson_t *l)
{
    if (!l)
        return;
    free(l->path);
    free(l->id);
    free(l->title);
    free(l->summary);
    free(l->part_title);
    free(l->topology);
    free(l->scenario);
    for (size_t i = 0; i < l->nfaults; i++) {
        free(l->faults[i].spec);
        free(l->faults[i].action);
        free(l->faults[i].match);
    }
    free(l->faults);
    for (size_t i = 0; i < l->npages; i++) {
        free(l->pages[i].title);
        free(l->pages[i].markdown);
    }
    free(l->pages);
    for (size_t i = 0; i < l->nsteps; i++)
        nc_step_done(&l->steps[i]);
    free(l->steps);
    for (size_t i = 0; i < l->ncheckpoints; i++)
        nc_checkpoint_done(&l->checkpoints[i]);
    free(l->checkpoints);
    for (size_t i = 0; i < l->nnotes; i++)
        nc_note_done(&l->notes[i]);
    free(l->notes);
    for (size_t i = 0; i < l->nprograms; i++)
        nc_program_done(&l->programs[i]);
    free(l->programs);
    for (size_t i = 0; i < l->ncompares; i++)
        nc_compare_done(&l->compares[i]);
    free(l->compares);
    /* pub is the first member of nc_lesson_priv_t, so this frees it all. */
    free(l);
}
