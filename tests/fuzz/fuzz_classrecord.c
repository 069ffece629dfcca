/*
 * fuzz_classrecord.c: libFuzzer harness for the packets a class streams as
 * bytes and record (src/classroom/record.c), the part of an event message
 * a student builds again through the pipeline.
 *
 * The input is event message bodies, one per line, fed in order to one
 * pipeline, as one run's packets reach a student: each is parsed as JSON,
 * its "ev" rebuilt as the record, and the packet built from its bytes. A
 * built packet must print as JSON its reader takes back; a refused one
 * must say why. The corpus holds real bodies from a class run and broken
 * variants (too big, cut, lying about their length).
 */
#include "classroom/evjson.h"
#include "classroom/json.h"
#include "classroom/record.h"
#include "core/buf.h"
#include "core/event.h"
#include "pipeline/pipeline.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void nc_fz_body(nc_pipeline_t *pipe, nc_evb_t *rec, nc_evb_t *out, const char *body,
                       size_t len)
{
    nc_json_doc_t doc;
    char err[200];
    if (nc_json_parse(&doc, body, len, err, sizeof err) != 0) {
        nc_json_doc_done(&doc);
        return;
    }
    if (nc_event_from_json(nc_json_get(doc.root, "ev"), rec, err, sizeof err) == 0 &&
        nc_evb_view(rec)->type == NC_EV_PACKET && nc_json_get(doc.root, "data")) {
        char why[200] = "";
        if (nc_class_packet_build(pipe, doc.root, rec, 1000000000, out, why, sizeof why) == 0) {
            nc_buf_t text;
            nc_buf_init(&text);
            nc_event_json(nc_evb_view(out), &text);
            nc_json_doc_t again;
            if (nc_json_parse(&again, text.data, text.len, err, sizeof err) != 0) {
                fprintf(stderr, "a rebuilt packet prints JSON its reader refuses: %s\n", err);
                abort();
            }
            nc_json_doc_done(&again);
            nc_buf_done(&text);
        } else if (!why[0]) {
            fprintf(stderr, "a refused packet record says nothing of why\n");
            abort();
        }
    }
    nc_json_doc_done(&doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nc_pipeline_t *pipe = nc_pipeline_new(NULL, NULL, NULL);
    nc_pipeline_name_host(pipe, "10.0.0.1", "client");
    nc_pipeline_name_host(pipe, "10.0.0.2", "server");
    nc_evb_t rec, out;
    nc_evb_init(&rec);
    nc_evb_init(&out);
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)((nl ? nl : end) - p);
        nc_fz_body(pipe, &rec, &out, p, n);
        p += n + (nl != NULL);
    }
    nc_evb_done(&rec);
    nc_evb_done(&out);
    nc_pipeline_free(pipe);
    return 0;
}
