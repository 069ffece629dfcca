/*
 * buf.c: growable buffers and JSON string escaping.
 */
#include "buf.h"

#include "xmalloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void nc_buf_init(nc_buf_t *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void nc_buf_done(nc_buf_t *b)
{
    free(b->data);
    nc_buf_init(b);
}

void nc_buf_reset(nc_buf_t *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

static void nc_buf_reserve(nc_buf_t *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1)
        cap *= 2;
    b->data = nc_xrealloc(b->data, cap);
    b->cap = cap;
}

void nc_buf_append(nc_buf_t *b, const void *p, size_t n)
{
    nc_buf_reserve(b, n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void nc_buf_puts(nc_buf_t *b, const char *s)
{
    nc_buf_append(b, s, strlen(s));
}

void nc_buf_putc(nc_buf_t *b, char c)
{
    if (b->len + 2 > b->cap)
        nc_buf_reserve(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

void nc_buf_vprintf(nc_buf_t *b, const char *fmt, va_list ap)
{
    /* Format straight into the spare room; only a text that does not fit
     * is formatted twice. */
    nc_buf_reserve(b, 128);
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap2);
    va_end(ap2);
    if (n <= 0) {
        b->data[b->len] = '\0';
        return;
    }
    if ((size_t)n >= b->cap - b->len) {
        nc_buf_reserve(b, (size_t)n);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    }
    b->len += (size_t)n;
}

void nc_buf_printf(nc_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    nc_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if it is invalid. */
static size_t nc_utf8_len(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    size_t n;
    uint32_t min;
    if ((s[0] & 0xE0) == 0xC0) {
        n = 2;
        min = 0x80;
    } else if ((s[0] & 0xF0) == 0xE0) {
        n = 3;
        min = 0x800;
    } else if ((s[0] & 0xF8) == 0xF0) {
        n = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    uint32_t cp = s[0] & (0x7F >> n);
    for (size_t k = 1; k < n; k++) {
        if ((s[k] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

void nc_buf_json_str(nc_buf_t *b, const char *s)
{
    nc_buf_putc(b, '"');
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p) {
        unsigned char c = *p;
        /* Printable ASCII needs no escape: copy the whole run at once. */
        const unsigned char *q = p;
        while (*q >= 0x20 && *q < 0x7F && *q != '"' && *q != '\\')
            q++;
        if (q > p) {
            nc_buf_append(b, p, (size_t)(q - p));
            p = q;
            continue;
        }
        if (c == '"' || c == '\\') {
            nc_buf_putc(b, '\\');
            nc_buf_putc(b, (char)c);
            p++;
        } else if (c == '\n') {
            nc_buf_puts(b, "\\n");
            p++;
        } else if (c == '\t') {
            nc_buf_puts(b, "\\t");
            p++;
        } else if (c == '\r') {
            nc_buf_puts(b, "\\r");
            p++;
        } else if (c < 0x20 || c == 0x7F) {
            nc_buf_printf(b, "\\u%04x", c);
            p++;
        } else {
            size_t n = nc_utf8_len(p);
            if (n == 0) {
                nc_buf_puts(b, "\\ufffd");
                p++;
            } else {
                nc_buf_append(b, p, n);
                p += n;
            }
        }
    }
    nc_buf_putc(b, '"');
}

const char *nc_buf_cstr(const nc_buf_t *b)
{
    return b->data ? b->data : "";
}

char *nc_buf_steal(nc_buf_t *b)
{
    char *p = b->data ? b->data : nc_xstrdup("");
    nc_buf_init(b);
    return p;
}
