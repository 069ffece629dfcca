/*
 * fuzz_stream.h: what the stream harnesses (fuzz_reassembly.c,
 * fuzz_tlsdecrypt.c) share: writing each message a stream completed, and
 * its summary, as a packet event would.
 */
#ifndef NC_FUZZ_STREAM_H
#define NC_FUZZ_STREAM_H

#include "core/event.h"
#include "decode/stream.h"

static void nc_fuzz_write(nc_evb_t *b, const nc_stream_out_t *out)
{
    for (uint32_t i = 0; i < out->nmsgs; i++) {
        char s[256];
        nc_evb_reset(b, NC_EV_PACKET, 0);
        nc_evb_obj(b, out->msgs[i].proto->name);
        out->msgs[i].proto->write(b, &out->msgs[i]);
        nc_evb_end(b);
        out->msgs[i].proto->summary(&out->msgs[i], s, sizeof(s));
    }
}

#endif
