/*
 * fuzz_tlsdecrypt.c: libFuzzer harness for the TLS decoder with decryption:
 * both directions of a connection, a key log, the decryptor (src/decrypt)
 * and the inner decoders the plaintext goes to.
 *
 * The input is a key log (SSLKEYLOGFILE lines) up to the first NUL byte,
 * then records of
 *
 *   ctl (1 byte)   bit 0: the direction (0 the client's); bit 7: take a
 *                  checkpoint here if one may be taken
 *   len (2 bytes)  big-endian: payload bytes that follow
 *
 * delivered in order, as a reassembled stream would deliver them. The seeds
 * (seed_tls.py) are real TLS 1.2 and 1.3 connections with their key logs, so
 * the fuzzer starts from records that decrypt. Every message is written and
 * summarised as a packet would write it; a checkpoint taken where one may be
 * is restored into a second stream that must take the rest of the input.
 */
#include "fuzz_stream.h"
#include "decrypt/decrypt.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 262144)
        return 0;
    const uint8_t *nul = memchr(data, 0, size);
    size_t klen = nul ? (size_t)(nul - data) : size;
    nc_keylog_t *kl = nc_keylog_new();
    nc_keylog_add(kl, (const char *)data, klen, NULL);
    nc_stream_t *st = nc_stream_new(), *resumed = NULL;
    nc_stream_out_t *out = malloc(sizeof(*out));
    nc_stream_state_t *ck = malloc(sizeof(*ck));
    nc_evb_t b;
    nc_evb_init(&b);
    nc_stream_set_decryptor(st, &nc_decrypt_tls, kl);
    nc_stream_set_app(st, 0, NC_SAPP_TLS);
    nc_stream_set_app(st, 1, NC_SAPP_TLS);
    uint32_t next[2] = {1, 1};
    size_t i = klen + 1;
    while (i + 3 <= size) {
        uint8_t ctl = data[i];
        int d = ctl & 1;
        size_t len = (size_t)data[i + 1] << 8 | data[i + 2];
        i += 3;
        if (len > size - i)
            len = size - i;
        nc_stream_seg_t g = {
            .dir = d,
            .seq = next[d],
            .len = (uint32_t)len,
            .base = 0,
            .peer_base = 0,
            .from_syn = true,
            .payload = data + i,
            .caplen = (uint32_t)len,
        };
        next[d] += (uint32_t)len;
        i += len;
        out->nmsgs = out->dropped = out->ngaps = 0;
        nc_stream_segment(st, &g, out);
        nc_fuzz_write(&b, out);
        if (resumed) {
            out->nmsgs = out->dropped = out->ngaps = 0;
            nc_stream_segment(resumed, &g, out);
            nc_fuzz_write(&b, out);
        } else if (ctl & 0x80 && nc_stream_save(st, ck)) {
            resumed = nc_stream_new();
            nc_stream_set_decryptor(resumed, &nc_decrypt_tls, kl);
            nc_stream_restore(resumed, ck);
        }
    }
    out->nmsgs = out->dropped = out->ngaps = 0;
    nc_stream_finish(st, out);
    nc_fuzz_write(&b, out);
    if (resumed) {
        out->nmsgs = out->dropped = out->ngaps = 0;
        nc_stream_finish(resumed, out);
        nc_fuzz_write(&b, out);
        nc_stream_free(resumed);
    }
    nc_evb_done(&b);
    free(ck);
    free(out);
    nc_stream_free(st);
    nc_keylog_free(kl);
    return 0;
}
