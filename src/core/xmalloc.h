/*
 * xmalloc.h: allocation that never returns NULL.
 *
 * Out of memory is not something netcourse can teach its way out of: these
 * wrappers print one line and abort. Everything else in the tree allocates
 * through them, so there is one place that decides.
 */
#ifndef NC_XMALLOC_H
#define NC_XMALLOC_H

#include <stddef.h>

void *nc_xmalloc(size_t n);
void *nc_xcalloc(size_t count, size_t size);
void *nc_xrealloc(void *p, size_t n);
/* Returns a heap copy of s (caller frees); NULL stays NULL. */
char *nc_xstrdup(const char *s);
/* Returns a heap copy of the first n bytes of s, NUL-terminated. */
char *nc_xstrndup(const char *s, size_t n);
/* printf into a new heap string (caller frees). */
char *nc_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
