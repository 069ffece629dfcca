/*
 * fuzz_classproto.c: libFuzzer harness for the class protocol's parsers,
 * everything a hostile peer's bytes reach (src/classroom/proto.c, json.c,
 * evjson.c, name.c).
 *
 * The first input byte picks a chunk size; the rest is fed to two frame
 * readers (the instructor's, with the student limit, and a student's, with
 * the full limit) in chunks of that size, as TLS records would cut it.
 * Every frame body is parsed as JSON; an event frame's "ev" is rebuilt as
 * an event and printed back with nc_event_json, whose output must parse
 * again. A frame's "name" is cleaned as the instructor cleans a student's
 * name; a clean name must clean to itself. The whole input is also parsed
 * directly as JSON and as an event.
 * The corpus holds real frames from a class and broken variants.
 */
#include "classroom/evjson.h"
#include "classroom/json.h"
#include "classroom/name.h"
#include "classroom/proto.h"
#include "core/buf.h"
#include "core/event.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static nc_evb_t nc_fz_b;
static int nc_fz_ready;

static void nc_fz_event(const nc_json_t *obj)
{
    char err[200];
    if (nc_event_from_json(obj, &nc_fz_b, err, sizeof err) != 0)
        return;
    nc_buf_t out;
    nc_buf_init(&out);
    nc_event_json(nc_evb_view(&nc_fz_b), &out);
    nc_json_doc_t again;
    if (nc_json_parse(&again, out.data, out.len, err, sizeof err) != 0) {
        fprintf(stderr, "nc_event_json wrote JSON its reader refuses: %s\n%s\n", err,
                nc_buf_cstr(&out));
        abort();
    }
    nc_json_doc_done(&again);
    nc_buf_done(&out);
}

static int nc_fz_frame(void *arg, int type, const uint8_t *body, uint32_t len)
{
    nc_json_doc_t doc;
    char err[200];
    if (nc_json_parse(&doc, (const char *)body, len, err, sizeof err) == 0) {
        if (type == NC_MSG_EVENT)
            nc_fz_event(nc_json_get(doc.root, "ev"));
        const char *name = nc_json_str(doc.root, "name");
        char clean[NC_CLASS_NAME_MAX + 1], again[NC_CLASS_NAME_MAX + 1];
        char skel[NC_CLASS_SKEL_MAX];
        if (name && nc_class_name_clean(name, clean, skel, err, sizeof err) == 0 &&
            (nc_class_name_clean(clean, again, skel, err, sizeof err) != 0 ||
             strcmp(clean, again) != 0)) {
            fprintf(stderr, "a clean name does not clean to itself: %s\n", clean);
            abort();
        }
        int64_t v;
        (void)nc_json_int(doc.root, "v", &v);
    }
    nc_json_doc_done(&doc);
    return 0;
}

static void nc_fz_frames(const uint8_t *data, size_t size, size_t chunk, uint32_t max)
{
    nc_frame_reader_t r;
    nc_frame_reader_init(&r, max);
    char err[200];
    for (size_t off = 0; off < size; off += chunk) {
        size_t n = size - off < chunk ? size - off : chunk;
        if (nc_frame_push(&r, data + off, n, nc_fz_frame, NULL, err, sizeof err) != 0)
            break;
    }
    nc_frame_reader_done(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!nc_fz_ready) {
        nc_evb_init(&nc_fz_b);
        nc_fz_ready = 1;
    }
    if (size == 0)
        return 0;
    size_t chunk = (size_t)data[0] * 7 + 1;
    nc_fz_frames(data + 1, size - 1, chunk, 4096);
    nc_fz_frames(data + 1, size - 1, chunk, 256 * 1024);
    nc_json_doc_t doc;
    char err[200];
    if (nc_json_parse(&doc, (const char *)data, size, err, sizeof err) == 0)
        nc_fz_event(doc.root);
    nc_json_doc_done(&doc);
    return 0;
}
