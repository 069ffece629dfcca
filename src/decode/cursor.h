/*
 * cursor.h: bounds-checked reads of untrusted packet bytes.
 *
 * A cursor is a window {ptr, end} over captured bytes. Every getter checks
 * that the bytes it wants are inside the window and returns false, reading
 * nothing and leaving the cursor where it was, when they are not. Decoders
 * read every byte through these getters and never cast wire structs, so a
 * cut or hostile frame can only make a getter fail, never read past the end.
 * Multi-byte integers are big-endian (network order) unless named _le.
 */
#ifndef NC_CURSOR_H
#define NC_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct nc_cursor {
    const uint8_t *ptr; /* next byte to read */
    const uint8_t *end; /* one past the last readable byte */
} nc_cursor_t;

/* Returns a cursor over n bytes at p (borrowed). */
static inline nc_cursor_t nc_cur_make(const uint8_t *p, size_t n)
{
    nc_cursor_t c = {p, p + n};
    return c;
}

/* Returns how many bytes are left. */
static inline size_t nc_cur_left(const nc_cursor_t *c)
{
    return (size_t)(c->end - c->ptr);
}

static inline bool nc_cur_u8(nc_cursor_t *c, uint8_t *out)
{
    if (nc_cur_left(c) < 1)
        return false;
    *out = c->ptr[0];
    c->ptr += 1;
    return true;
}

static inline bool nc_cur_u16be(nc_cursor_t *c, uint16_t *out)
{
    if (nc_cur_left(c) < 2)
        return false;
    *out = (uint16_t)((uint16_t)c->ptr[0] << 8 | c->ptr[1]);
    c->ptr += 2;
    return true;
}

static inline bool nc_cur_u16le(nc_cursor_t *c, uint16_t *out)
{
    if (nc_cur_left(c) < 2)
        return false;
    *out = (uint16_t)((uint16_t)c->ptr[1] << 8 | c->ptr[0]);
    c->ptr += 2;
    return true;
}

static inline bool nc_cur_u32be(nc_cursor_t *c, uint32_t *out)
{
    if (nc_cur_left(c) < 4)
        return false;
    *out = (uint32_t)c->ptr[0] << 24 | (uint32_t)c->ptr[1] << 16 | (uint32_t)c->ptr[2] << 8 |
           (uint32_t)c->ptr[3];
    c->ptr += 4;
    return true;
}

static inline bool nc_cur_u32le(nc_cursor_t *c, uint32_t *out)
{
    if (nc_cur_left(c) < 4)
        return false;
    *out = (uint32_t)c->ptr[3] << 24 | (uint32_t)c->ptr[2] << 16 | (uint32_t)c->ptr[1] << 8 |
           (uint32_t)c->ptr[0];
    c->ptr += 4;
    return true;
}

/* Moves past n bytes. */
static inline bool nc_cur_skip(nc_cursor_t *c, size_t n)
{
    if (nc_cur_left(c) < n)
        return false;
    c->ptr += n;
    return true;
}

/* Copies n bytes into out and moves past them. */
static inline bool nc_cur_bytes(nc_cursor_t *c, void *out, size_t n)
{
    if (nc_cur_left(c) < n)
        return false;
    for (size_t i = 0; i < n; i++)
        ((uint8_t *)out)[i] = c->ptr[i];
    c->ptr += n;
    return true;
}

/* Splits off the next n bytes as a cursor of their own (borrowed) and moves
 * past them in c. */
static inline bool nc_cur_sub(nc_cursor_t *c, size_t n, nc_cursor_t *out)
{
    if (nc_cur_left(c) < n)
        return false;
    out->ptr = c->ptr;
    out->end = c->ptr + n;
    c->ptr += n;
    return true;
}

/* Shortens the window to at most n bytes from the current position (drops
 * link-layer padding past an IP datagram's end). */
static inline void nc_cur_limit(nc_cursor_t *c, size_t n)
{
    if (nc_cur_left(c) > n)
        c->end = c->ptr + n;
}

/* Reads the byte at offset off from the current position without moving. */
static inline bool nc_cur_peek_u8(const nc_cursor_t *c, size_t off, uint8_t *out)
{
    if (nc_cur_left(c) <= off)
        return false;
    *out = c->ptr[off];
    return true;
}

#endif
