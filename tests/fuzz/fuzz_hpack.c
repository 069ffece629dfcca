/* fuzz_hpack.c: libFuzzer harness for HPACK as the HTTP/2 decoder uses it:
 * the input is a header block, sent as one HEADERS frame (END_HEADERS) after
 * the preface, then again as HEADERS + CONTINUATION cut in the middle, on
 * one connection, so the second block meets the dynamic table the first
 * one left (see fuzz_layer.h for the decoder's set-up). */
#include "fuzz_layer.h"

#include <stdlib.h>
#include <string.h>

static size_t nc_fuzz_frame(uint8_t *o, size_t len, uint8_t type, uint8_t flags, uint32_t sid,
                            const uint8_t *p)
{
    uint8_t h[9] = {(uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len, type, flags,
                    (uint8_t)(sid >> 24), (uint8_t)(sid >> 16), (uint8_t)(sid >> 8), (uint8_t)sid};
    memcpy(o, h, 9);
    if (len)
        memcpy(o + 9, p, len);
    return 9 + len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 16384)
        return 0;
    uint8_t *buf = malloc(24 + 4 * 9 + 2 * size);
    size_t n = 0;
    memcpy(buf, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
    n = 24;
    n += nc_fuzz_frame(buf + n, size, 1, 0x4, 1, data);
    size_t half = size / 2;
    n += nc_fuzz_frame(buf + n, half, 1, 0x1, 3, data);
    n += nc_fuzz_frame(buf + n, size - half, 9, 0x4, 3, data + half);
    nc_fuzz_layer("http2", buf, n);
    free(buf);
    return 0;
}
