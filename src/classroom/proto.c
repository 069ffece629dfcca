/*
 * proto.c: the message table and the frame reader and writer.
 *
 * The table is the protocol's single list of messages: PROTOCOL.md
 * documents the same rows. The reader keeps the bytes of one unfinished
 * frame; complete frames inside a chunk are handed to the callback straight
 * from the chunk, without copying.
 */
#include "proto.h"

#include "../core/error.h"
#include "../core/xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define I NC_FROM_INSTRUCTOR
#define S NC_FROM_STUDENT

static const nc_msg_desc_t nc_msgs[] = {
    {NC_MSG_HELLO, "hello", S, 1024},
    {NC_MSG_WELCOME, "welcome", I, 64 * 1024},
    {NC_MSG_RUN, "run", I, 16 * 1024},
    {NC_MSG_EVENT, "event", I, NC_FRAME_MAX},
    {NC_MSG_PAGE, "page", I, 256},
    {NC_MSG_STEP, "step", I, 256},
    {NC_MSG_CHECKPOINT, "checkpoint", I, 16 * 1024},
    {NC_MSG_ANSWER, "answer", S, 256},
    {NC_MSG_TALLY, "tally", I, 8 * 1024},
    {NC_MSG_REVEAL, "reveal", I, 16 * 1024},
    {NC_MSG_HAND, "hand", S, 64},
    {NC_MSG_PING, "ping", S, 128},
    {NC_MSG_PONG, "pong", I, 128},
    {NC_MSG_FOLLOW, "follow", S, 256},
    {NC_MSG_INJECT, "inject", I, 1024},
    {NC_MSG_RESULT, "result", S, 2048},
    {NC_MSG_BYE, "bye", I | S, 512},
    {NC_MSG_ERROR, "error", I, 1024},
};

#undef I
#undef S

const nc_msg_desc_t *nc_msg_desc(int type)
{
    if (type < 1 || type >= NC_MSG__COUNT)
        return NULL;
    return &nc_msgs[type - 1];
}

const char *nc_msg_name(int type)
{
    const nc_msg_desc_t *d = nc_msg_desc(type);
    return d ? d->name : "unknown";
}

void nc_frame_put(nc_buf_t *out, int type, const void *body, size_t len)
{
    uint32_t n = (uint32_t)len + 1;
    uint8_t hdr[NC_FRAME_HDR] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8),
                                 (uint8_t)n, (uint8_t)type};
    nc_buf_append(out, hdr, sizeof hdr);
    if (len)
        nc_buf_append(out, body, len);
}

void nc_frame_reader_init(nc_frame_reader_t *r, uint32_t max)
{
    memset(r, 0, sizeof *r);
    r->max = max;
}

void nc_frame_reader_done(nc_frame_reader_t *r)
{
    free(r->buf);
    memset(r, 0, sizeof *r);
}

/* Checks a header; returns the body length or -1 with err. */
static long nc_frame_check(const nc_frame_reader_t *r, const uint8_t *h, char *err,
                           size_t errlen)
{
    uint32_t n = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
    if (n == 0) {
        snprintf(err, errlen, "an empty frame (length 0)");
        return -1;
    }
    const nc_msg_desc_t *d = nc_msg_desc(h[4]);
    if (!d) {
        snprintf(err, errlen, "a frame of unknown type %u", h[4]);
        return -1;
    }
    uint32_t body = n - 1;
    uint32_t lim = d->max < r->max ? d->max : r->max;
    if (body > lim) {
        snprintf(err, errlen, "a %s frame of %u bytes, over its limit of %u", d->name, body, lim);
        return -1;
    }
    return (long)body;
}

int nc_frame_push(nc_frame_reader_t *r, const uint8_t *data, size_t n, nc_frame_fn fn, void *arg,
                  char *err, size_t errlen)
{
    while (n > 0) {
        if (r->len > 0 || n < NC_FRAME_HDR) {
            /* Complete the buffered frame (or start one) byte-exactly. */
            size_t want = NC_FRAME_HDR;
            if (r->len >= NC_FRAME_HDR) {
                long body = nc_frame_check(r, r->buf, err, errlen);
                if (body < 0)
                    return NC_EBADDATA;
                want = NC_FRAME_HDR + (size_t)body;
            }
            size_t take = want - r->len < n ? want - r->len : n;
            if (r->cap < want) {
                r->cap = want < 256 ? 256 : want;
                r->buf = nc_xrealloc(r->buf, r->cap);
            }
            memcpy(r->buf + r->len, data, take);
            r->len += take;
            data += take;
            n -= take;
            if (r->len == NC_FRAME_HDR && nc_frame_check(r, r->buf, err, errlen) < 0)
                return NC_EBADDATA;
            if (r->len >= NC_FRAME_HDR) {
                long body = nc_frame_check(r, r->buf, err, errlen);
                if (body < 0)
                    return NC_EBADDATA;
                if (r->len == NC_FRAME_HDR + (size_t)body) {
                    r->len = 0;
                    int rc = fn(arg, r->buf[4], r->buf + NC_FRAME_HDR, (uint32_t)body);
                    /* Keep small buffers; give back what a big frame took. */
                    if (r->cap > 4096) {
                        free(r->buf);
                        r->buf = NULL;
                        r->cap = 0;
                    }
                    if (rc)
                        return rc;
                }
            }
            continue;
        }
        long body = nc_frame_check(r, data, err, errlen);
        if (body < 0)
            return NC_EBADDATA;
        if (n < NC_FRAME_HDR + (size_t)body) {
            if (r->cap < NC_FRAME_HDR + (size_t)body) {
                r->cap = NC_FRAME_HDR + (size_t)body;
                r->buf = nc_xrealloc(r->buf, r->cap);
            }
            memcpy(r->buf, data, n);
            r->len = n;
            return 0;
        }
        int rc = fn(arg, data[4], data + NC_FRAME_HDR, (uint32_t)body);
        if (rc)
            return rc;
        data += NC_FRAME_HDR + (size_t)body;
        n -= NC_FRAME_HDR + (size_t)body;
    }
    return 0;
}
