/*
 * strmap.c: the roster's string-keyed hash table (see strmap.h).
 *
 * Data model: open addressing with linear probing over a power-of-two
 * table of borrowed key pointers and their values; a removed entry is a
 * tombstone (a pointer to a private sentinel) so probes run past it. The
 * table doubles when live plus removed entries pass half of it, which also
 * sweeps the tombstones out.
 */
#include "strmap.h"

#include "../core/xmalloc.h"

#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

static const char nc_strmap_gone[1];

static uint64_t nc_strmap_hash(const nc_strmap_t *m, const char *k)
{
    uint64_t h = 1469598103934665603ull ^ m->key;
    for (const unsigned char *p = (const unsigned char *)k; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    return h ^ (h >> 29);
}

void nc_strmap_init(nc_strmap_t *m)
{
    memset(m, 0, sizeof *m);
    RAND_bytes((unsigned char *)&m->key, sizeof m->key);
}

void nc_strmap_done(nc_strmap_t *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

/* The slot of k, or of the first free slot where it would go. */
static size_t nc_strmap_slot(const nc_strmap_t *m, const char *k, int *found)
{
    size_t mask = m->cap - 1, i = nc_strmap_hash(m, k) & mask, free_at = SIZE_MAX;
    *found = 0;
    for (;;) {
        const char *e = m->keys[i];
        if (e == NULL)
            return free_at != SIZE_MAX ? free_at : i;
        if (e == nc_strmap_gone) {
            if (free_at == SIZE_MAX)
                free_at = i;
        } else if (strcmp(e, k) == 0) {
            *found = 1;
            return i;
        }
        i = (i + 1) & mask;
    }
}

void *nc_strmap_get(const nc_strmap_t *m, const char *k)
{
    if (!m->cap || !k)
        return NULL;
    int found;
    size_t i = nc_strmap_slot(m, k, &found);
    return found ? m->vals[i] : NULL;
}

static void nc_strmap_grow(nc_strmap_t *m)
{
    nc_strmap_t old = *m;
    m->cap = old.cap ? (old.n * 4 > old.cap ? old.cap * 2 : old.cap) : 64;
    m->keys = nc_xcalloc(m->cap, sizeof *m->keys);
    m->vals = nc_xcalloc(m->cap, sizeof *m->vals);
    m->n = m->used = 0;
    for (size_t k = 0; k < old.cap; k++)
        if (old.keys[k] && old.keys[k] != nc_strmap_gone)
            nc_strmap_put(m, old.keys[k], old.vals[k]);
    free(old.keys);
    free(old.vals);
}

void nc_strmap_put(nc_strmap_t *m, const char *k, void *v)
{
    if ((m->used + 1) * 2 > m->cap)
        nc_strmap_grow(m);
    int found;
    size_t i = nc_strmap_slot(m, k, &found);
    if (!found) {
        if (m->keys[i] == NULL)
            m->used++;
        m->n++;
    }
    m->keys[i] = k;
    m->vals[i] = v;
}

void *nc_strmap_del(nc_strmap_t *m, const char *k)
{
    if (!m->cap || !k)
        return NULL;
    int found;
    size_t i = nc_strmap_slot(m, k, &found);
    if (!found)
        return NULL;
    void *v = m->vals[i];
    m->keys[i] = nc_strmap_gone;
    m->vals[i] = NULL;
    m->n--;
    return v;
}
