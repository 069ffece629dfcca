/*
 * xmalloc.c: allocation wrappers that abort on exhaustion.
 */
#include "xmalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void nc_oom(size_t n)
{
    fprintf(stderr, "netcourse: out of memory (wanted %zu bytes)\n", n);
    abort();
}

void *nc_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        nc_oom(n);
    return p;
}

void *nc_xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (p == NULL)
        nc_oom(count * size);
    return p;
}

void *nc_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL)
        nc_oom(n);
    return q;
}

char *nc_xstrdup(const char *s)
{
    return s ? nc_xstrndup(s, strlen(s)) : NULL;
}

char *nc_xstrndup(const char *s, size_t n)
{
    char *p = nc_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *nc_xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    char *p = nc_xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}
