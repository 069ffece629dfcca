/*
 * match.c: compiling and evaluating event matchers (see match.h).
 *
 * A compiled matcher is an array of terms. Each term is a type test, a
 * truthiness test (possibly negated) or a comparison of the text form of a
 * path with a literal or with a path of the reference event. Evaluation
 * formats values with nc_event_value() into a scratch buffer; matchers run
 * on a few thousand events per lesson, so clarity beats speed here.
 */
#include "match.h"

#include "error.h"
#include "xmalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum {
    NC_OP_TYPE,
    NC_OP_TRUE,
    NC_OP_FALSE,
    NC_OP_EQ,
    NC_OP_NE,
    NC_OP_HAS,
    NC_OP_GT,
    NC_OP_LT,
    NC_OP_GE,
    NC_OP_LE,
} nc_op_t;

/* Operators in the order they must be tried: two-character ones first. */
static const struct {
    const char *text;
    nc_op_t op;
} nc_ops[] = {
    {">=", NC_OP_GE}, {"<=", NC_OP_LE}, {"!=", NC_OP_NE}, {"=", NC_OP_EQ},
    {"~", NC_OP_HAS}, {">", NC_OP_GT},  {"<", NC_OP_LT},
};

typedef struct nc_term {
    nc_op_t op;
    int type;   /* NC_OP_TYPE */
    char *path;
    char *value; /* literal, or a path of the reference event when ref */
    int ref;
} nc_term_t;

struct nc_match {
    nc_term_t *terms;
    size_t nterms;
};

void nc_match_free(nc_match_t *m)
{
    if (m == NULL)
        return;
    for (size_t k = 0; k < m->nterms; k++) {
        free(m->terms[k].path);
        free(m->terms[k].value);
    }
    free(m->terms);
    free(m);
}

static int nc_path_ok(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t k = 0; k < n; k++)
        if (!(isalnum((unsigned char)s[k]) || s[k] == '_' || s[k] == '.' || s[k] == '-'))
            return 0;
    return 1;
}

/* Reads one token (quotes group spaces); returns a heap string or NULL at
 * the end. Sets *bad on an unclosed quote. */
static char *nc_next_token(const char **sp, int *bad)
{
    const char *s = *sp;
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s == '\0') {
        *sp = s;
        return NULL;
    }
    char *out = nc_xmalloc(strlen(s) + 1);
    size_t n = 0;
    int quoted = 0;
    while (*s && (quoted || (*s != ' ' && *s != '\t'))) {
        if (*s == '"') {
            quoted = !quoted;
            s++;
            continue;
        }
        out[n++] = *s++;
    }
    out[n] = '\0';
    if (quoted)
        *bad = 1;
    *sp = s;
    return out;
}

nc_match_t *nc_match_compile(const char *src, char *err, size_t errlen)
{
    nc_match_t *m = nc_xcalloc(1, sizeof(*m));
    const char *s = src ? src : "";
    int bad = 0;
    char *tok;
    while ((tok = nc_next_token(&s, &bad)) != NULL) {
        if (bad) {
            snprintf(err, errlen, "unclosed quote in matcher \"%s\"", src);
            free(tok);
            nc_match_free(m);
            return NULL;
        }
        nc_term_t t = {0};
        int type = nc_event_type_parse(tok);
        const char *opat = NULL;
        size_t oplen = 0;
        if (type >= 0) {
            t.op = NC_OP_TYPE;
            t.type = type;
        } else {
            /* Find the first operator character; then the longest operator there. */
            for (const char *p = tok; *p && opat == NULL; p++) {
                for (size_t k = 0; k < sizeof(nc_ops) / sizeof(nc_ops[0]); k++) {
                    size_t len = strlen(nc_ops[k].text);
                    if (strncmp(p, nc_ops[k].text, len) == 0 && (p != tok || tok[0] != '!')) {
                        opat = p;
                        oplen = len;
                        t.op = nc_ops[k].op;
                        break;
                    }
                }
            }
            if (opat == NULL) {
                int neg = tok[0] == '!';
                const char *path = tok + neg;
                if (!nc_path_ok(path, strlen(path))) {
                    snprintf(err, errlen, "\"%s\" is not a field path in matcher \"%s\"", tok,
                             src);
                    free(tok);
                    nc_match_free(m);
                    return NULL;
                }
                t.op = neg ? NC_OP_FALSE : NC_OP_TRUE;
                t.path = nc_xstrdup(path);
            } else {
                if (!nc_path_ok(tok, (size_t)(opat - tok))) {
                    snprintf(err, errlen, "\"%s\" has no field path before its operator", tok);
                    free(tok);
                    nc_match_free(m);
                    return NULL;
                }
                t.path = nc_xstrndup(tok, (size_t)(opat - tok));
                const char *value = opat + oplen;
                if (value[0] == '$') {
                    t.ref = 1;
                    value++;
                    if (!nc_path_ok(value, strlen(value))) {
                        snprintf(err, errlen, "\"%s\": '$' must be followed by a field path",
                                 tok);
                        free(tok);
                        free(t.path);
                        nc_match_free(m);
                        return NULL;
                    }
                }
                if (t.op >= NC_OP_GT && !t.ref) {
                    char *end;
                    strtod(value, &end);
                    if (*value == '\0' || *end != '\0') {
                        snprintf(err, errlen, "\"%s\": a comparison needs a number", tok);
                        free(tok);
                        free(t.path);
                        nc_match_free(m);
                        return NULL;
                    }
                }
                t.value = nc_xstrdup(value);
            }
        }
        free(tok);
        m->terms = nc_xrealloc(m->terms, (m->nterms + 1) * sizeof(*m->terms));
        m->terms[m->nterms++] = t;
    }
    if (bad) {
        snprintf(err, errlen, "unclosed quote in matcher \"%s\"", src);
        nc_match_free(m);
        return NULL;
    }
    if (m->nterms == 0) {
        snprintf(err, errlen, "empty matcher");
        nc_match_free(m);
        return NULL;
    }
    return m;
}

/* The paths nc_event_value() answers for every event. */
static bool nc_pseudo_path(const char *path)
{
    static const char *const pseudo[] = {"i", "t", "type", "host", "summary", "note"};
    for (size_t k = 0; k < sizeof(pseudo) / sizeof(pseudo[0]); k++)
        if (strcmp(path, pseudo[k]) == 0)
            return true;
    return false;
}

static int nc_match_check_path(nc_match_field_fn known, void *ctx, unsigned types,
                               const char *path, char *err, size_t errlen)
{
    if (nc_pseudo_path(path))
        return 0;
    char why[200] = "";
    if (known(ctx, types, path, why, sizeof(why)))
        return 0;
    snprintf(err, errlen, "no event has the field \"%s\"%s%s", path, why[0] ? ": " : "", why);
    return NC_ESYNTAX;
}

int nc_match_check(const nc_match_t *m, nc_match_field_fn known, void *ctx, char *err,
                   size_t errlen)
{
    unsigned types = 0;
    for (size_t k = 0; k < m->nterms; k++)
        if (m->terms[k].op == NC_OP_TYPE)
            types |= 1u << m->terms[k].type;
    if (types == 0)
        types = (1u << NC_EV__COUNT) - 1;
    for (size_t k = 0; k < m->nterms; k++) {
        const nc_term_t *t = &m->terms[k];
        if (t->op == NC_OP_TYPE)
            continue;
        int rc = nc_match_check_path(known, ctx, types, t->path, err, errlen);
        if (rc == 0 && t->ref)
            rc = nc_match_check_path(known, ctx, (1u << NC_EV__COUNT) - 1, t->value, err,
                                     errlen);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int nc_truthy(const char *s)
{
    return !(s[0] == '\0' || strcmp(s, "false") == 0 || strcmp(s, "0") == 0);
}

/* Does the comma-separated list a hold the same elements as b? */
static int nc_same_set(const char *a, const char *b)
{
    int na = 0, nb = 0;
    for (const char *p = a; *p; p++)
        na += *p == ',';
    for (const char *p = b; *p; p++)
        nb += *p == ',';
    if (na != nb)
        return 0;
    const char *p = b;
    while (1) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        int found = 0;
        const char *q = a;
        while (1) {
            const char *c2 = strchr(q, ',');
            size_t l2 = c2 ? (size_t)(c2 - q) : strlen(q);
            if (l2 == len && strncmp(p, q, len) == 0) {
                found = 1;
                break;
            }
            if (c2 == NULL)
                break;
            q = c2 + 1;
        }
        if (!found)
            return 0;
        if (comma == NULL)
            return 1;
        p = comma + 1;
    }
}

static int nc_list_has(const char *list, const char *item)
{
    size_t len = strlen(item);
    const char *p = list;
    while (1) {
        const char *comma = strchr(p, ',');
        size_t l = comma ? (size_t)(comma - p) : strlen(p);
        if (l == len && strncmp(p, item, len) == 0)
            return 1;
        if (comma == NULL)
            return 0;
        p = comma + 1;
    }
}

/* element: ev is one object of a list (nc_term_eval_each), whose fields
 * are all there is: "type" is its field, not the event's type. */
static bool nc_term_eval(const nc_term_t *t, const nc_event_t *ev, const nc_event_t *ref,
                         nc_buf_t *a, nc_buf_t *b, bool element)
{
    if (t->op == NC_OP_TYPE)
        return (int)ev->type == t->type;
    nc_buf_reset(a);
    bool have = element ? nc_event_field_value(ev, t->path, a) : nc_event_value(ev, t->path, a);
    if (t->op == NC_OP_TRUE)
        return have && nc_truthy(nc_buf_cstr(a));
    if (t->op == NC_OP_FALSE)
        return !have || !nc_truthy(nc_buf_cstr(a));
    const char *want = t->value;
    if (t->ref) {
        nc_buf_reset(b);
        if (ref == NULL || !nc_event_value(ref, t->value, b))
            return false;
        want = nc_buf_cstr(b);
    }
    if (!have)
        return t->op == NC_OP_NE;
    const char *got = nc_buf_cstr(a);
    const nc_field_t *f = nc_event_get(ev, t->path);
    int is_list = f && f->kind == NC_F_LIST;
    switch (t->op) {
    case NC_OP_EQ:
        return is_list ? nc_same_set(got, want) : strcmp(got, want) == 0;
    case NC_OP_NE:
        return is_list ? !nc_same_set(got, want) : strcmp(got, want) != 0;
    case NC_OP_HAS:
        return is_list ? nc_list_has(got, want) : strstr(got, want) != NULL;
    default: {
        char *end1, *end2;
        double x = strtod(got, &end1);
        double y = strtod(want, &end2);
        if (end1 == got || end2 == want)
            return false;
        return t->op == NC_OP_GT ? x > y : t->op == NC_OP_LT ? x < y : t->op == NC_OP_GE ? x >= y
                                                                                           : x <= y;
    }
    }
}

/* A term on "layer.field" where the event holds a list of layer objects
 * (a packet that completes three pipelined requests): it holds when it holds
 * for one of the objects, and a negative term (!path, path!=value) when it
 * holds for each. Anywhere else the term is evaluated as it is. */
static bool nc_term_eval_each(const nc_term_t *t, const nc_event_t *ev, const nc_event_t *ref,
                              nc_buf_t *a, nc_buf_t *b)
{
    const char *dot = t->op != NC_OP_TYPE && t->path ? strchr(t->path, '.') : NULL;
    char head[64];
    if (dot == NULL || (size_t)(dot - t->path) >= sizeof(head))
        return nc_term_eval(t, ev, ref, a, b, false);
    memcpy(head, t->path, (size_t)(dot - t->path));
    head[dot - t->path] = '\0';
    const nc_field_t *l = nc_event_get(ev, head);
    if (l == NULL || l->kind != NC_F_LIST)
        return nc_term_eval(t, ev, ref, a, b, false);
    uint32_t idx = (uint32_t)(l - ev->fields);
    uint32_t end = nc_fields_skip(ev->fields, ev->nfields, idx);
    nc_term_t sub = *t;
    sub.path = (char *)(dot + 1);
    bool negative = t->op == NC_OP_FALSE || t->op == NC_OP_NE;
    bool any = false, all = true, seen = false;
    for (uint32_t k = idx + 1; k < end && ev->fields[k].kind != NC_F_END;) {
        uint32_t next = nc_fields_skip(ev->fields, end, k);
        if (ev->fields[k].kind == NC_F_OBJ && next >= k + 2) {
            /* The object's members, as an event of their own. */
            nc_event_t el = *ev;
            el.fields = ev->fields + k + 1;
            el.nfields = next - k - 2;
            bool r = nc_term_eval(&sub, &el, ref, a, b, true);
            any |= r;
            all &= r;
            seen = true;
        }
        k = next;
    }
    if (!seen)
        return nc_term_eval(t, ev, ref, a, b, false);
    return negative ? all : any;
}

bool nc_match_event(const nc_match_t *m, const nc_event_t *ev, const nc_event_t *ref)
{
    nc_buf_t a, b;
    nc_buf_init(&a);
    nc_buf_init(&b);
    bool ok = true;
    for (size_t k = 0; k < m->nterms && ok; k++)
        ok = nc_term_eval_each(&m->terms[k], ev, ref, &a, &b);
    nc_buf_done(&a);
    nc_buf_done(&b);
    return ok;
}
