/*
 * record.c: a streamed packet built again (see record.h).
 *
 * Data model: none kept. The checks run on the message alone, before the
 * pipeline's decoder sees anything, so a refused message leaves the run's
 * decoding exactly as it was: the next packet decodes as it would have.
 */
#include "record.h"

#include "../core/xmalloc.h"
#include "../decode/decode.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int nc_class_b64(const char *s, size_t max, uint8_t **out)
{
    size_t n = strlen(s);
    if (n == 0 || n % 4 != 0 || n > 4 * ((max + 2) / 3))
        return -1;
    uint8_t *p = nc_xmalloc(n / 4 * 3 + 1);
    int got = EVP_DecodeBlock(p, (const unsigned char *)s, (int)n);
    if (got < 0) {
        free(p);
        return -1;
    }
    if (s[n - 1] == '=')
        got--;
    if (s[n - 2] == '=')
        got--;
    *out = p;
    return got;
}

/* What is wrong with the message's bytes, in one sentence into why, or
 * "": more than a packet can be, not base64, not the count it says, a wire
 * length not possible for them, a link type no decoder reads. *bytes
 * (owned by the caller) gets the bytes and *f the frame. */
static int nc_class_packet_check(const nc_json_t *m, uint8_t **bytes, nc_frame_t *f, char *why,
                                 size_t n)
{
    const char *data = nc_json_str(m, "data");
    int64_t dlt = -1, iface = 0, wirelen = -1, caplen = -1;
    nc_json_int(m, "dlt", &dlt);
    nc_json_int(m, "iface", &iface);
    nc_json_int(m, "wirelen", &wirelen);
    nc_json_int(m, "caplen", &caplen);
    why[0] = '\0';
    size_t chars = data ? strlen(data) : 0;
    int got = -1;
    if (chars > 4 * ((NC_CLASS_PACKET_MAX + 2) / 3) || caplen > (int64_t)NC_CLASS_PACKET_MAX)
        snprintf(why, n, "it carries more than the %u bytes a packet may have",
                 NC_CLASS_PACKET_MAX);
    else if (!data || (got = nc_class_b64(data, NC_CLASS_PACKET_MAX, bytes)) <= 0)
        snprintf(why, n, "its bytes are not valid base64");
    else if (caplen != got)
        snprintf(why, n, "it says %lld captured bytes but carries %d", (long long)caplen, got);
    else if (wirelen < got || wirelen > (1 << 20))
        snprintf(why, n, "its wire length %lld is not possible for %d captured bytes",
                 (long long)wirelen, got);
    else if (dlt < 0 || dlt > 0xffff || !nc_decoder_supports((int)dlt))
        snprintf(why, n, "its link type %lld is not one netcourse decodes", (long long)dlt);
    else if (iface < 0 || iface > 0xffff)
        snprintf(why, n, "its interface %lld is not possible", (long long)iface);
    if (why[0])
        return -1;
    *f = (nc_frame_t){.linktype = (int)dlt,
                      .data = *bytes,
                      .caplen = (uint32_t)got,
                      .wirelen = (uint32_t)wirelen,
                      .iface = (uint32_t)iface};
    return 0;
}

int nc_class_packet_build(nc_pipeline_t *pipe, const nc_json_t *msg, nc_evb_t *rec, int64_t t0,
                          nc_evb_t *out, char *why, size_t n)
{
    uint8_t *bytes = NULL;
    nc_frame_t f;
    const nc_event_t *rv = nc_evb_view(rec);
    uint64_t i = rv->i;
    int rc = nc_class_packet_check(msg, &bytes, &f, why, n);
    if (rc == 0) {
        f.ts_ns = t0 + rv->t_ns;
        const char *note = rv->note ? rv->note : "";
        nc_pipeline_rec_t r = {.fields = rec, .note = note, .note_len = strlen(note)};
        nc_pipeline_build(pipe, &f, &r, out);
        out->ev.i = i;
    }
    free(bytes);
    return rc;
}
