/*
 * buf.h: a growable byte buffer, always NUL-terminated.
 *
 * nc_buf_t is embedded by value (nc_buf_init/nc_buf_done). data is NULL
 * until the first append; nc_buf_cstr() never returns NULL.
 */
#ifndef NC_BUF_H
#define NC_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct nc_buf {
    char *data;
    size_t len;
    size_t cap;
} nc_buf_t;

void nc_buf_init(nc_buf_t *b);
void nc_buf_done(nc_buf_t *b);
void nc_buf_reset(nc_buf_t *b);
void nc_buf_append(nc_buf_t *b, const void *p, size_t n);
void nc_buf_puts(nc_buf_t *b, const char *s);
void nc_buf_putc(nc_buf_t *b, char c);
void nc_buf_printf(nc_buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void nc_buf_vprintf(nc_buf_t *b, const char *fmt, va_list ap);
/* Appends s as a JSON string literal, quotes included; bytes that are not
 * valid UTF-8 become U+FFFD so the output is always valid JSON. */
void nc_buf_json_str(nc_buf_t *b, const char *s);
/* Returns the contents (borrowed; "" when empty). */
const char *nc_buf_cstr(const nc_buf_t *b);
/* Hands the heap string to the caller (who frees it) and empties b. */
char *nc_buf_steal(nc_buf_t *b);

#endif
