/*
 * strmap.h: a string-keyed hash table for the class roster.
 *
 * The roster looks students up by resume token, by name, and counts names
 * by their confusable skeleton; a class of thousands, or a hostile student
 * joining thousands of times under one name, must not make a join cost
 * time proportional to the roster. Keys are borrowed: each points into the
 * value it maps to (a student's token or name), so the caller removes a
 * key before changing or freeing the string. The hash is keyed with a
 * random key per table, so keys cannot be chosen to collide.
 */
#ifndef NC_STRMAP_H
#define NC_STRMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct nc_strmap {
    const char **keys; /* NULL: empty; nc_strmap_gone: a removed entry */
    void **vals;
    size_t cap, n, used; /* used counts removed entries too */
    uint64_t key;
} nc_strmap_t;

void nc_strmap_init(nc_strmap_t *m);
void nc_strmap_done(nc_strmap_t *m);
/* The value for k, or NULL. */
void *nc_strmap_get(const nc_strmap_t *m, const char *k);
/* Maps k (borrowed) to v, replacing an earlier value of k. */
void nc_strmap_put(nc_strmap_t *m, const char *k, void *v);
/* Removes k; returns its value, or NULL. */
void *nc_strmap_del(nc_strmap_t *m, const char *k);

#endif
