/*
 * fuzz_layer.h: the body of the per-decoder harnesses, fuzz_<decoder>.c.
 *
 * Each harness hands its input to one decoder through nc_decoder_layer(),
 * with the context the lower layers would give it made up, so the fuzzer
 * spends its time inside that decoder instead of getting past the layers
 * below. The input goes through the same decoder twice (the second pass
 * meets the flow state the first left), is annotated and printed as JSON,
 * as a live run would. fuzz_decode.c covers the whole walk from link types.
 */
#ifndef NC_FUZZ_LAYER_H
#define NC_FUZZ_LAYER_H

#include "annotate/annotate.h"
#include "core/buf.h"
#include "decode/decode.h"

#include <stddef.h>
#include <stdint.h>

static int nc_fuzz_layer(const char *decoder, const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    nc_decoder_t *d = nc_decoder_new();
    nc_decoder_name_host(d, "10.0.0.1", "client");
    nc_evb_t b;
    nc_evb_init(&b);
    nc_buf_t out;
    nc_buf_init(&out);
    for (int pass = 0; pass < 2; pass++) {
        nc_evb_reset(&b, NC_EV_PACKET, 0);
        nc_decoder_layer(d, decoder, data, (uint32_t)size, &b);
        nc_annotate_event(&b);
        nc_buf_reset(&out);
        nc_event_json(nc_evb_view(&b), &out);
    }
    nc_buf_done(&out);
    nc_evb_done(&b);
    nc_decoder_free(d);
    return 0;
}

#define NC_FUZZ_LAYER(decoder)                                                                     \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);                                  \
    int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)                                   \
    {                                                                                              \
        return nc_fuzz_layer(decoder, data, size);                                                 \
    }

#endif
