/*
 * hold.c: the event bodies a class streams, and the held stand-ins of
 * checkpoint marks (see hold.h).
 *
 * The instructor serializes each event of its run once, as the body of an
 * event message: a packet as its bytes and its record (the fields and note
 * no decoder finds in the bytes, nc_pipeline_record_json), which the
 * student builds again through the pipeline, any other event whole; and
 * a lockstep student passes the events of its own run through the same
 * bodies, so both kinds of student see the same held marks. A held
 * stand-in is an nc_event_t made on the stack: the mark's index, time and
 * host, one field ("held": true) and a fixed summary; it borrows nothing
 * but the host.
 */
#include "hold.h"

#include "../core/xmalloc.h"
#include "../pipeline/pipeline.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

nc_hold_kind_t nc_hold_kind(const nc_event_t *ev, const char **cp)
{
    const char *id = ev->type == NC_EV_MARK ? nc_event_str(ev, "checkpoint") : NULL;
    const char *what = id ? nc_event_str(ev, "event") : NULL;
    if (cp)
        *cp = what ? id : NULL;
    if (!what)
        return NC_HOLD_NONE;
    return strcmp(what, "asked") == 0 ? NC_HOLD_ASK : NC_HOLD_DECISION;
}

static void nc_hold_b64(nc_buf_t *b, const uint8_t *p, size_t n)
{
    size_t need = 4 * ((n + 2) / 3) + 1;
    char *tmp = nc_xmalloc(need);
    EVP_EncodeBlock((unsigned char *)tmp, p, (int)n);
    nc_buf_puts(b, tmp);
    free(tmp);
}

void nc_hold_event_body(nc_buf_t *body, int run, int64_t ts, const nc_event_t *ev, bool held,
                        const char *keys)
{
    nc_buf_printf(body, "{\"run\":%d,\"ts\":%lld", run, (long long)ts);
    if (keys && keys[0]) {
        nc_buf_puts(body, ",\"keys\":");
        nc_buf_json_str(body, keys);
    }
    bool bytes = !held && ev->type == NC_EV_PACKET && ev->data && ev->caplen &&
                 ev->caplen <= NC_CLASS_PACKET_MAX;
    if (bytes) {
        nc_buf_printf(body, ",\"dlt\":%d,\"iface\":%u,\"wirelen\":%u,\"caplen\":%u,\"data\":\"",
                      ev->linktype, ev->iface, ev->wirelen, ev->caplen);
        nc_hold_b64(body, ev->data, ev->caplen);
        nc_buf_putc(body, '"');
    }
    nc_buf_puts(body, ",\"ev\":");
    if (held) {
        static const nc_field_t flag[] = {{.key = "held", .kind = NC_F_BOOL, .v.b = 1}};
        nc_event_t h = {
            .i = ev->i,
            .t_ns = ev->t_ns,
            .type = NC_EV_MARK,
            .host = ev->host,
            .summary = "Checkpoint: held until the instructor opens and reveals it",
            .fields = flag,
            .nfields = 1,
        };
        nc_event_json(&h, body);
    } else if (bytes) {
        /* The student decodes the bytes again (src/pipeline): only what
         * they cannot say travels beside them. */
        nc_pipeline_record_json(ev, body);
    } else {
        nc_event_json(ev, body);
    }
    nc_buf_putc(body, '}');
}
