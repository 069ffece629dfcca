/*
 * arena.h: a bump allocator whose allocations never move.
 *
 * Memory comes from a chain of blocks; a pointer handed out stays valid
 * until nc_arena_reset() or nc_arena_done(). There is no per-object free.
 * The timeline keeps every event's strings and fields in one, and a decoder
 * keeps a scratch one per packet.
 */
#ifndef NC_ARENA_H
#define NC_ARENA_H

#include <stddef.h>

typedef struct nc_arena_block nc_arena_block_t;

typedef struct nc_arena {
    nc_arena_block_t *head; /* the block being filled */
    size_t block_size;
    size_t used_total; /* bytes handed out, for the memory benchmark */
} nc_arena_t;

/* block_size 0 picks a default (64 KiB). */
void nc_arena_init(nc_arena_t *a, size_t block_size);
void nc_arena_done(nc_arena_t *a);
/* Forgets every allocation but keeps one block for reuse. */
void nc_arena_reset(nc_arena_t *a);
/* Returns n bytes aligned for any type (borrowed from the arena). */
void *nc_arena_alloc(nc_arena_t *a, size_t n);
/* Copies of strings and bytes are packed with no alignment: read them as
 * bytes, never as structs. */
char *nc_arena_strdup(nc_arena_t *a, const char *s);
char *nc_arena_strndup(nc_arena_t *a, const char *s, size_t n);
void *nc_arena_memdup(nc_arena_t *a, const void *p, size_t n);

#endif
