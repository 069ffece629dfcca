/*
 * keylog.c: a key log (keylog.h) as an array of secrets.
 *
 * Each entry is a label, the 32-byte client random that names the
 * connection, and the secret's bytes. Lookups walk the array from the most
 * recent entry: a capture's connections are few compared to its packets,
 * and decryption asks once per connection direction and epoch, not per
 * record. A mutex guards the array, as a live run adds secrets from the
 * lesson programs' thread while the capture thread decodes.
 */
#include "keylog.h"

#include "../core/hex.h"
#include "../core/xmalloc.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint8_t label;
    uint8_t len;
    uint8_t random[32];
    uint8_t secret[NC_KEYLOG_SECRET_MAX];
} nc_keylog_entry_t;

struct nc_keylog {
    pthread_mutex_t lock;
    nc_keylog_entry_t *e;
    size_t n, cap;
};

static const struct {
    const char *name;
    nc_keylog_label_t label;
} nc_keylog_labels[] = {
    {"CLIENT_RANDOM", NC_KEYLOG_CLIENT_RANDOM},
    {"CLIENT_EARLY_TRAFFIC_SECRET", NC_KEYLOG_CLIENT_EARLY},
    {"CLIENT_HANDSHAKE_TRAFFIC_SECRET", NC_KEYLOG_CLIENT_HANDSHAKE},
    {"SERVER_HANDSHAKE_TRAFFIC_SECRET", NC_KEYLOG_SERVER_HANDSHAKE},
    {"CLIENT_TRAFFIC_SECRET_0", NC_KEYLOG_CLIENT_TRAFFIC_0},
    {"SERVER_TRAFFIC_SECRET_0", NC_KEYLOG_SERVER_TRAFFIC_0},
    {"EXPORTER_SECRET", NC_KEYLOG_EXPORTER},
};

nc_keylog_t *nc_keylog_new(void)
{
    nc_keylog_t *k = nc_xcalloc(1, sizeof(*k));
    pthread_mutex_init(&k->lock, NULL);
    return k;
}

void nc_keylog_free(nc_keylog_t *k)
{
    if (k == NULL)
        return;
    pthread_mutex_destroy(&k->lock);
    free(k->e);
    free(k);
}

/* Reads hex digits at *p (up to end) into out (at most max bytes); returns
 * the byte count, or 0 when the word is not whole hex bytes that fit. */
static size_t hexword(const char **p, const char *end, uint8_t *out, size_t max)
{
    const char *s = *p;
    size_t n = 0;
    while (s + 1 < end && nc_hex_digit(s[0]) >= 0 && nc_hex_digit(s[1]) >= 0) {
        if (n == max)
            return 0;
        out[n++] = (uint8_t)(nc_hex_digit(s[0]) << 4 | nc_hex_digit(s[1]));
        s += 2;
    }
    if (s < end && *s != ' ' && *s != '\t' && *s != '\r')
        return 0;
    *p = s;
    return n;
}

/* Parses one line (without its newline); true and *e filled for a secret. */
static bool parse_line(const char *s, const char *end, nc_keylog_entry_t *e)
{
    const char *sp = memchr(s, ' ', (size_t)(end - s));
    if (sp == NULL)
        return false;
    bool found = false;
    for (size_t i = 0; i < sizeof(nc_keylog_labels) / sizeof(nc_keylog_labels[0]); i++) {
        const char *name = nc_keylog_labels[i].name;
        if (strlen(name) == (size_t)(sp - s) && memcmp(s, name, (size_t)(sp - s)) == 0) {
            e->label = (uint8_t)nc_keylog_labels[i].label;
            found = true;
        }
    }
    if (!found)
        return false;
    const char *p = sp + 1;
    if (hexword(&p, end, e->random, sizeof(e->random)) != sizeof(e->random) || p >= end ||
        *p != ' ')
        return false;
    p++;
    size_t n = hexword(&p, end, e->secret, sizeof(e->secret));
    if (n == 0)
        return false;
    e->len = (uint8_t)n;
    return true;
}

static bool same_entry(const nc_keylog_entry_t *a, const nc_keylog_entry_t *b)
{
    return a->label == b->label && a->len == b->len &&
           memcmp(a->random, b->random, sizeof(a->random)) == 0 &&
           memcmp(a->secret, b->secret, a->len) == 0;
}

size_t nc_keylog_add(nc_keylog_t *k, const char *text, size_t n, size_t *bad)
{
    size_t added = 0, nbad = 0;
    const char *p = text, *end = text + n;
    pthread_mutex_lock(&k->lock);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *t = le;
        while (t > p && (t[-1] == '\r' || t[-1] == ' ' || t[-1] == '\0'))
            t--;
        nc_keylog_entry_t e;
        memset(&e, 0, sizeof(e));
        if (t == p || *p == '#') {
            /* A blank line or a comment. */
        } else if (parse_line(p, t, &e)) {
            bool dup = false;
            for (size_t i = 0; i < k->n && !dup; i++)
                dup = same_entry(&k->e[i], &e);
            if (!dup) {
                if (k->n == k->cap) {
                    k->cap = k->cap ? k->cap * 2 : 16;
                    k->e = nc_xrealloc(k->e, k->cap * sizeof(*k->e));
                }
                k->e[k->n++] = e;
                added++;
            }
        } else {
            nbad++;
        }
        p = nl ? nl + 1 : end;
    }
    pthread_mutex_unlock(&k->lock);
    if (bad)
        *bad = nbad;
    return added;
}

int nc_keylog_load(nc_keylog_t *k, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "cannot read the key log %s: %s", path, strerror(errno));
        return -1;
    }
    char *text = NULL;
    size_t len = 0, cap = 0, got;
    char chunk[8192];
    while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (len + got > cap) {
            cap = (len + got) * 2;
            text = nc_xrealloc(text, cap);
        }
        memcpy(text + len, chunk, got);
        len += got;
    }
    fclose(f);
    size_t before = nc_keylog_count(k);
    nc_keylog_add(k, text ? text : "", len, NULL);
    free(text);
    if (nc_keylog_count(k) == before && before == 0) {
        snprintf(err, errlen,
                 "%s holds no TLS secret (expected SSLKEYLOGFILE lines such as "
                 "\"CLIENT_RANDOM <hex> <hex>\")",
                 path);
        return -1;
    }
    return 0;
}

size_t nc_keylog_find(nc_keylog_t *k, nc_keylog_label_t label, const uint8_t *client_random,
                      uint8_t *secret)
{
    size_t n = 0;
    pthread_mutex_lock(&k->lock);
    for (size_t i = k->n; i-- > 0;) {
        const nc_keylog_entry_t *e = &k->e[i];
        if (e->label == label && memcmp(e->random, client_random, sizeof(e->random)) == 0) {
            memcpy(secret, e->secret, e->len);
            n = e->len;
            break;
        }
    }
    pthread_mutex_unlock(&k->lock);
    return n;
}

size_t nc_keylog_count(nc_keylog_t *k)
{
    pthread_mutex_lock(&k->lock);
    size_t n = k->n;
    pthread_mutex_unlock(&k->lock);
    return n;
}

void nc_keylog_text(nc_keylog_t *k, char **text, size_t *len)
{
    pthread_mutex_lock(&k->lock);
    for (size_t i = 0; i < k->n; i++) {
        const nc_keylog_entry_t *e = &k->e[i];
        const char *name = "";
        for (size_t j = 0; j < sizeof(nc_keylog_labels) / sizeof(nc_keylog_labels[0]); j++)
            if ((uint8_t)nc_keylog_labels[j].label == e->label)
                name = nc_keylog_labels[j].name;
        size_t need = strlen(name) + 1 + 64 + 1 + 2u * e->len + 2;
        *text = nc_xrealloc(*text, *len + need);
        char *p = *text + *len;
        p += sprintf(p, "%s ", name);
        for (size_t j = 0; j < sizeof(e->random); j++)
            p += sprintf(p, "%02x", e->random[j]);
        *p++ = ' ';
        for (size_t j = 0; j < e->len; j++)
            p += sprintf(p, "%02x", e->secret[j]);
        *p++ = '\n';
        *len = (size_t)(p - *text);
    }
    pthread_mutex_unlock(&k->lock);
}
