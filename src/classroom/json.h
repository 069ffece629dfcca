/*
 * json.h: a small JSON reader for the class protocol's message bodies.
 *
 * Every byte it reads came from the network, so it is strict and bounded:
 * the whole text must be one value (whitespace around it allowed), nesting
 * is at most NC_JSON_MAX_DEPTH deep, strings must be valid escapes (\u
 * escapes become UTF-8; a \u0000 or a lone surrogate becomes U+FFFD, so
 * every string is a C string), numbers follow RFC 8259. A number written
 * without a fraction or exponent that fits in int64 is an INT, any other a
 * NUM. The tree lives in the document's arena; nothing is freed separately.
 */
#ifndef NC_JSON_H
#define NC_JSON_H

#include "../core/arena.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NC_JSON_MAX_DEPTH 24

typedef enum {
    NC_JSON_NULL,
    NC_JSON_BOOL,
    NC_JSON_INT,
    NC_JSON_NUM,
    NC_JSON_STR,
    NC_JSON_ARR,
    NC_JSON_OBJ,
} nc_json_kind_t;

typedef struct nc_json {
    nc_json_kind_t kind;
    const char *key; /* the member's name inside an object, else NULL */
    union {
        bool b;
        int64_t i;
        double d;
        const char *s;
    } v;
    struct nc_json *child; /* first element or member */
    struct nc_json *next;  /* next sibling */
} nc_json_t;

typedef struct nc_json_doc {
    nc_arena_t arena;
    nc_json_t *root;
} nc_json_doc_t;

/* Parses text[0..len). Returns 0 with doc->root set, or NC_EBADDATA with
 * one sentence in err (which may be NULL). Free with nc_json_doc_done, also
 * after a failure. */
int nc_json_parse(nc_json_doc_t *doc, const char *text, size_t len, char *err, size_t errlen);
void nc_json_doc_done(nc_json_doc_t *doc);

/* Lookups in an object (NULL-safe): the member named key, or NULL. */
const nc_json_t *nc_json_get(const nc_json_t *obj, const char *key);
/* The member's string, or NULL when absent or not a string. */
const char *nc_json_str(const nc_json_t *obj, const char *key);
/* True with *out set when the member is an INT (or a NUM with an integral
 * value in range). */
bool nc_json_int(const nc_json_t *obj, const char *key, int64_t *out);
/* The member's boolean, or def when absent or not a boolean. */
bool nc_json_bool(const nc_json_t *obj, const char *key, bool def);

#endif
