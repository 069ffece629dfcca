/*
 * evjson.c: an EVENTS.md JSON object back into an nc_event_t.
 *
 * The inverse of nc_event_json(): the members every event has (i, t, type,
 * host, summary, note) go to the builder's struct members, every other
 * member becomes the same token stream the producer built (objects and
 * lists open and close, integers stay integers, numbers with a point stay
 * numbers), so the event a student rebuilds prints back to the very line
 * the instructor sent. JSON null has no field kind and is left out. The
 * input is untrusted: a bounded number of tokens, keys that are not private
 * ('_' keys never travel), and a known type are required.
 */
#include "evjson.h"

#include "../core/error.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum { NC_EVJSON_MAX_TOKENS = 8192 };

static const char *const nc_evjson_top[] = {"i", "t", "type", "host", "summary", "note"};

static bool nc_evjson_is_top(const char *key)
{
    for (size_t k = 0; k < sizeof nc_evjson_top / sizeof nc_evjson_top[0]; k++)
        if (strcmp(key, nc_evjson_top[k]) == 0)
            return true;
    return false;
}

static int nc_evjson_value(nc_evb_t *b, const char *key, const nc_json_t *v, size_t *tokens)
{
    if (++*tokens > NC_EVJSON_MAX_TOKENS)
        return NC_EBADDATA;
    switch (v->kind) {
    case NC_JSON_NULL:
        return 0;
    case NC_JSON_BOOL:
        nc_evb_bool(b, key, v->v.b);
        return 0;
    case NC_JSON_INT:
        nc_evb_int(b, key, v->v.i);
        return 0;
    case NC_JSON_NUM:
        nc_evb_num(b, key, v->v.d);
        return 0;
    case NC_JSON_STR:
        nc_evb_str(b, key, v->v.s);
        return 0;
    case NC_JSON_ARR:
    case NC_JSON_OBJ: {
        bool obj = v->kind == NC_JSON_OBJ;
        if (obj)
            nc_evb_obj(b, key);
        else
            nc_evb_list(b, key);
        for (const nc_json_t *m = v->child; m; m = m->next) {
            if (obj && m->key[0] == '_')
                return NC_EBADDATA;
            int rc = nc_evjson_value(b, obj ? m->key : NULL, m, tokens);
            if (rc)
                return rc;
        }
        nc_evb_end(b);
        return 0;
    }
    }
    return NC_EBADDATA;
}

int nc_event_from_json(const nc_json_t *obj, nc_evb_t *b, char *err, size_t errlen)
{
    if (!obj || obj->kind != NC_JSON_OBJ) {
        snprintf(err, errlen, "an event must be a JSON object");
        return NC_EBADDATA;
    }
    const char *type = nc_json_str(obj, "type");
    int ty = type ? nc_event_type_parse(type) : -1;
    if (ty < 0) {
        snprintf(err, errlen, "an event has no known \"type\"");
        return NC_EBADDATA;
    }
    const nc_json_t *t = nc_json_get(obj, "t");
    double secs = 0;
    if (t && t->kind == NC_JSON_INT)
        secs = (double)t->v.i;
    else if (t && t->kind == NC_JSON_NUM)
        secs = t->v.d;
    else {
        snprintf(err, errlen, "an event has no time \"t\"");
        return NC_EBADDATA;
    }
    /* Times are seconds since the run began: a class is hours, not years. */
    if (!isfinite(secs) || secs < -1e6 || secs > 1e8) {
        snprintf(err, errlen, "an event's time is out of range");
        return NC_EBADDATA;
    }
    nc_evb_reset(b, (nc_event_type_t)ty, (int64_t)llround(secs * 1e9));
    int64_t i = 0;
    if (nc_json_int(obj, "i", &i) && i >= 0)
        b->ev.i = (uint64_t)i;
    const char *host = nc_json_str(obj, "host");
    nc_evb_host(b, host ? host : "");
    const char *summary = nc_json_str(obj, "summary");
    nc_evb_summary(b, "%s", summary ? summary : "");
    const char *note = nc_json_str(obj, "note");
    if (note)
        nc_evb_note(b, "%s", note);
    size_t tokens = 0;
    for (const nc_json_t *m = obj->child; m; m = m->next) {
        if (nc_evjson_is_top(m->key))
            continue;
        if (m->key[0] == '_' || nc_evjson_value(b, m->key, m, &tokens) != 0) {
            snprintf(err, errlen, "an event has a private or oversized field \"%.40s\"", m->key);
            return NC_EBADDATA;
        }
    }
    return 0;
}
