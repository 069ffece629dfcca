/*
 * fuzz_runfile.c: libFuzzer harness for the capture readers and the saved
 * run's record.
 *
 * Input: a whole file. It goes through nc_replay_open_mem and every event
 * is built (pcap and pcapng readers, the netcourse Custom Block, the
 * decoders on the packets) and printed as JSON. An input that starts with
 * '{' is also parsed line by line as the Custom Block's JSON Lines, so the
 * JSON parser is reached without the pcapng framing around it.
 */
#include "runfile/replay.h"
#include "runfile/runfile.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    nc_evb_t b;
    nc_evb_init(&b);
    nc_buf_t out;
    nc_buf_init(&out);
    nc_replay_t *r = nc_replay_open_mem(data, size, err, sizeof err);
    if (r) {
        /* Bounded: a fuzzer's file of tiny packets must not take forever. */
        for (int n = 0; n < 200000 && nc_replay_next(r, &b, err, sizeof err) == 1; n++) {
            nc_buf_reset(&out);
            nc_event_json(nc_evb_view(&b), &out);
        }
        nc_replay_close(r);
    }
    if (size > 0 && data[0] == '{') {
        const char *p = (const char *)data, *end = p + size;
        nc_evb_t extra;
        nc_evb_init(&extra);
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            const char *e = nl ? nl : end;
            uint64_t idx;
            int kind = nc_runfile_line_parse(p, (size_t)(e - p), &extra, &idx, err, sizeof err);
            if (kind == NC_RUNFILE_LINE_PACKET) {
                nc_evb_reset(&b, NC_EV_PACKET, 0);
                nc_evb_str(&b, "from", "a");
                nc_evb_bool(&b, "dropped", false);
                nc_runfile_apply(&b, &extra);
            }
            nc_buf_reset(&out);
            nc_event_json(nc_evb_view(&extra), &out);
            p = nl ? nl + 1 : end;
        }
        nc_evb_done(&extra);
        nc_runfile_info_t info;
        size_t body;
        nc_runfile_info_parse(data, size, &info, &body, err, sizeof err);
        nc_runfile_info_done(&info);
    }
    nc_buf_done(&out);
    nc_evb_done(&b);
    return 0;
}
