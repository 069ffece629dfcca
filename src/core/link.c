/*
 * link.c: parsing link conditions ("delay=50ms,loss=5%,rate=1mbit").
 *
 * The spec is a list of key=value items separated by commas or blanks. Each
 * key has one parser in the table below that turns the value (a decimal
 * number and a unit from its unit table) into the field of nc_link_t. The
 * result is built in a copy and only stored when the whole spec is valid.
 */
#include "link.h"

#include "error.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct nc_link_unit {
    const char *name;
    double scale;
} nc_link_unit_t;

static const nc_link_unit_t nc_link_time_units[] = {
    {"ns", 1.0}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}, {NULL, 0}};
static const nc_link_unit_t nc_link_rate_units[] = {
    {"bit", 1.0}, {"kbit", 1e3}, {"mbit", 1e6}, {"gbit", 1e9}, {NULL, 0}};

/* "ns, us, ms, s": the unit names of a table, for messages. */
static void nc_link_unit_list(const nc_link_unit_t *units, char *list, size_t len)
{
    size_t at = 0;
    list[0] = '\0';
    for (const nc_link_unit_t *u = units; u->name && at < len; u++) {
        int n = snprintf(list + at, len - at, "%s%s", u->name, u[1].name ? ", " : "");
        if (n < 0)
            break;
        at += (size_t)n;
    }
}

/* Splits "12.5ms" into a number and a unit; fails on a missing number,
 * a negative or non-finite one, or a unit not in units. "0" alone is allowed
 * without a unit. Each failure is one sentence naming the item and what a
 * good one looks like. */
static int nc_link_number(const char *key, const char *val, size_t n,
                          const nc_link_unit_t *units, double *out, char *err, size_t errlen)
{
    char tmp[64];
    const char *what = units == nc_link_time_units ? "a time such as 50ms" : "a rate such as 1mbit";
    if (n == 0 || n >= sizeof tmp) {
        snprintf(err, errlen, "%s needs %s", key, what);
        return NC_ESYNTAX;
    }
    memcpy(tmp, val, n);
    tmp[n] = '\0';
    if (tmp[0] == '-') {
        snprintf(err, errlen, "%s=%s cannot be negative; give %s", key, tmp, what);
        return NC_ESYNTAX;
    }
    if (!isdigit((unsigned char)tmp[0]) && tmp[0] != '.') {
        snprintf(err, errlen, "%s=%s is not %s", key, tmp, what);
        return NC_ESYNTAX;
    }
    char *end;
    double v = strtod(tmp, &end);
    if (end == tmp || !isfinite(v) || v < 0) {
        snprintf(err, errlen, "%s=%s is not %s", key, tmp, what);
        return NC_ESYNTAX;
    }
    if (*end == '\0' && v == 0) {
        *out = 0;
        return 0;
    }
    for (const nc_link_unit_t *u = units; u->name; u++) {
        if (strcmp(end, u->name) == 0) {
            *out = v * u->scale;
            return 0;
        }
    }
    char list[64];
    nc_link_unit_list(units, list, sizeof list);
    snprintf(err, errlen, "%s=%s needs a unit (%s), as in %s", key, tmp, list,
             units == nc_link_time_units ? "50ms" : "1mbit");
    return NC_ESYNTAX;
}

static int nc_link_delay(const char *val, size_t n, nc_link_t *l, char *err, size_t errlen)
{
    double v;
    int rc = nc_link_number("delay", val, n, nc_link_time_units, &v, err, errlen);
    if (rc < 0)
        return rc;
    if (v > 60e9) {
        snprintf(err, errlen, "delay=%.*s is longer than a minute, the most a link may delay", (int)n, val);
        return NC_ESYNTAX;
    }
    l->delay_ns = (int64_t)llround(v);
    return 0;
}

static int nc_link_loss(const char *val, size_t n, nc_link_t *l, char *err, size_t errlen)
{
    char tmp[64];
    if (n == 0 || n >= sizeof tmp) {
        snprintf(err, errlen, "loss needs a percentage such as 5%%");
        return NC_ESYNTAX;
    }
    memcpy(tmp, val, n);
    tmp[n] = '\0';
    char *end;
    double v = strtod(tmp, &end);
    int pct = *end == '%';
    if (end == tmp || (!isdigit((unsigned char)tmp[0]) && tmp[0] != '.') ||
        end[pct] != '\0' || !isfinite(v)) {
        snprintf(err, errlen, "loss=%s is not a percentage such as 5%%", tmp);
        return NC_ESYNTAX;
    }
    if (pct)
        v /= 100.0;
    if (v < 0 || v > 1) {
        snprintf(err, errlen, "loss=%s is not between 0%% and 100%%", tmp);
        return NC_ESYNTAX;
    }
    l->loss = v;
    return 0;
}

static int nc_link_rate(const char *val, size_t n, nc_link_t *l, char *err, size_t errlen)
{
    double v;
    int rc = nc_link_number("rate", val, n, nc_link_rate_units, &v, err, errlen);
    if (rc < 0)
        return rc;
    if (v > 1e12) {
        snprintf(err, errlen, "rate=%.*s is above 1000gbit, the highest rate a link may have", (int)n, val);
        return NC_ESYNTAX;
    }
    l->rate_bps = (uint64_t)llround(v);
    return 0;
}

typedef struct nc_link_key {
    const char *name;
    int (*parse)(const char *val, size_t n, nc_link_t *l, char *err, size_t errlen);
} nc_link_key_t;

static const nc_link_key_t nc_link_keys[] = {
    {"delay", nc_link_delay},
    {"loss", nc_link_loss},
    {"rate", nc_link_rate},
};

int nc_link_parse(const char *spec, nc_link_t *link, char *err, size_t errlen)
{
    nc_link_t l = *link;
    const char *p = spec ? spec : "";
    for (;;) {
        while (*p == ',' || *p == ' ' || *p == '\t')
            p++;
        if (*p == '\0')
            break;
        const char *item = p;
        while (*p && *p != ',' && *p != ' ' && *p != '\t')
            p++;
        size_t n = (size_t)(p - item);
        const char *eq = memchr(item, '=', n);
        if (!eq) {
            snprintf(err, errlen, "\"%.*s\" is not key=value, as in delay=50ms (the keys are delay, loss and rate)",
                     (int)n, item);
            return NC_ESYNTAX;
        }
        size_t klen = (size_t)(eq - item);
        const nc_link_key_t *k = NULL;
        for (size_t i = 0; i < sizeof nc_link_keys / sizeof nc_link_keys[0]; i++)
            if (strlen(nc_link_keys[i].name) == klen &&
                memcmp(nc_link_keys[i].name, item, klen) == 0)
                k = &nc_link_keys[i];
        if (!k) {
            snprintf(err, errlen, "there is no link setting \"%.*s\"; the settings are delay, loss and rate",
                     (int)klen, item);
            return NC_ESYNTAX;
        }
        int rc = k->parse(eq + 1, n - klen - 1, &l, err, errlen);
        if (rc < 0)
            return rc;
    }
    *link = l;
    return 0;
}
