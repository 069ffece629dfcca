/*
 * hex.h: hex test vectors for the decrypt tests (test_decrypt.c,
 * test_quic.c). Include after cmocka.h.
 */
#ifndef NC_TEST_DECRYPT_HEX_H
#define NC_TEST_DECRYPT_HEX_H

#include <stdint.h>
#include <stdio.h>

/* Writes the bytes the hex text s spells into out; returns how many. */
static size_t unhex(const char *s, uint8_t *out)
{
    size_t n = 0;
    for (; s[0] && s[1]; s += 2) {
        unsigned v;
        sscanf(s, "%2x", &v);
        out[n++] = (uint8_t)v;
    }
    return n;
}

/* Asserts that the n bytes at p are the (at most 256) bytes hex spells. */
static void assert_hex(const uint8_t *p, size_t n, const char *hex)
{
    uint8_t want[256];
    assert_int_equal(unhex(hex, want), n);
    assert_memory_equal(p, want, n);
}

#endif
