/*
 * fuzz_reassembly.c: libFuzzer harness for TCP reassembly and the stream
 * decoders behind it (stream.h), without packets.
 *
 * The input is a script. Its first byte picks who reads the stream (0:
 * chosen by the first bytes, as in a capture; 1: HTTP/1; 2: WebSocket; 3:
 * SSE). Then records follow, each
 *
 *   ctl (1 byte)   bit 0 direction, bit 1 SYN, bit 2 FIN, bit 3 RST,
 *                  bit 4 ACK, bit 5 the capture cut the payload in half
 *   off (2 bytes)  signed big-endian offset of the segment from the
 *                  direction's next expected byte (out of order, overlaps)
 *   len (1 byte)   payload bytes that follow
 *
 * so the fuzzer can reorder, overlap, cut and leave holes. Every message the
 * stream completes is written and summarised as a packet would write it; at
 * the end the stream is finished, and a checkpoint taken where one may be is
 * restored into a second stream that must accept the rest of the script.
 */
#include "fuzz_stream.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    static const nc_sapp_t apps[] = {NC_SAPP_UNKNOWN, NC_SAPP_HTTP, NC_SAPP_WEBSOCKET,
                                     NC_SAPP_SSE};
    nc_sapp_t app = apps[data[0] & 3];
    nc_stream_t *st = nc_stream_new(), *resumed = NULL;
    nc_stream_out_t *out = malloc(sizeof(*out));
    nc_stream_state_t *ck = malloc(sizeof(*ck));
    nc_evb_t b;
    nc_evb_init(&b);
    if (app != NC_SAPP_UNKNOWN) {
        nc_stream_set_app(st, 0, app);
        nc_stream_set_app(st, 1, app == NC_SAPP_SSE ? NC_SAPP_SSE : app);
    }
    uint32_t next[2] = {1000, 900000};
    size_t i = 1;
    while (i + 4 <= size) {
        uint8_t ctl = data[i];
        int16_t off = (int16_t)((uint16_t)data[i + 1] << 8 | data[i + 2]);
        uint8_t len = data[i + 3];
        i += 4;
        if (len > size - i)
            len = (uint8_t)(size - i);
        int d = ctl & 1;
        nc_stream_seg_t g = {
            .dir = d,
            .seq = next[d] + (uint32_t)(int32_t)off,
            .len = len,
            .syn = ctl & 2,
            .fin = ctl & 4,
            .rst = ctl & 8,
            .base = d ? 899999u : 999u,
            .peer_base = d ? 999u : 899999u,
            .from_syn = true,
            .ack = ctl & 16,
            .ack_seq = next[!d] + (uint32_t)(int32_t)off,
            .payload = data + i,
            .caplen = (ctl & 32) ? len / 2u : len,
        };
        if (off >= 0 && (uint32_t)off + len > 0 && !(ctl & 2))
            next[d] = g.seq + len;
        i += len;
        memset(out, 0, sizeof(*out));
        nc_stream_segment(st, &g, out);
        nc_fuzz_write(&b, out);
        if (resumed != NULL) {
            memset(out, 0, sizeof(*out));
            nc_stream_segment(resumed, &g, out);
            nc_fuzz_write(&b, out);
        } else if ((ctl & 0xc0) == 0xc0 && nc_stream_save(st, ck)) {
            resumed = nc_stream_new();
            nc_stream_restore(resumed, ck);
        }
    }
    memset(out, 0, sizeof(*out));
    nc_stream_finish(st, out);
    nc_fuzz_write(&b, out);
    nc_evb_done(&b);
    nc_stream_free(st);
    nc_stream_free(resumed);
    free(out);
    free(ck);
    return 0;
}
