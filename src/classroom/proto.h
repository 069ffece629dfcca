/*
 * proto.h: the class protocol's frames and message types (PROTOCOL.md).
 *
 * Inside TLS, both directions are a sequence of frames:
 *
 *   +--------+--------+--------+--------+--------+------------------+
 *   |       length (32-bit big-endian)  |  type  |  body (JSON)     |
 *   +--------+--------+--------+--------+--------+------------------+
 *                length counts the type byte and the body
 *
 * Each type has a name, the side(s) allowed to send it and a largest body.
 * The reader checks the length against that limit as soon as the 5-byte
 * header is in, before buffering any body, so a huge length prefix costs
 * nothing; it holds at most one partial frame.
 */
#ifndef NC_PROTO_H
#define NC_PROTO_H

#include "../core/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NC_CLASS_PROTO_VERSION 2
#define NC_FRAME_HDR 5
/* The largest body of any frame (an event with its packet bytes). */
#define NC_FRAME_MAX (256u * 1024u)
/* The largest body a student may send. */
#define NC_FRAME_STUDENT_MAX 4096u

typedef enum {
    NC_MSG_HELLO = 1,
    NC_MSG_WELCOME,
    NC_MSG_RUN,
    NC_MSG_EVENT,
    NC_MSG_PAGE,
    NC_MSG_STEP,
    NC_MSG_CHECKPOINT,
    NC_MSG_ANSWER,
    NC_MSG_TALLY,
    NC_MSG_REVEAL,
    NC_MSG_HAND,
    NC_MSG_PING,
    NC_MSG_PONG,
    NC_MSG_FOLLOW,
    NC_MSG_INJECT,
    NC_MSG_RESULT,
    NC_MSG_BYE,
    NC_MSG_ERROR,
    NC_MSG__COUNT
} nc_msg_type_t;

enum { NC_FROM_INSTRUCTOR = 1, NC_FROM_STUDENT = 2 };

typedef struct nc_msg_desc {
    uint8_t type;
    const char *name;
    uint8_t from;     /* NC_FROM_* bits: who may send it */
    uint32_t max;     /* largest body, bytes */
} nc_msg_desc_t;

/* The descriptor of a type, or NULL when the type is unknown. */
const nc_msg_desc_t *nc_msg_desc(int type);
/* The type's name ("hello"), or "unknown". */
const char *nc_msg_name(int type);

/* Appends one frame to out. */
void nc_frame_put(nc_buf_t *out, int type, const void *body, size_t len);

typedef struct nc_frame_reader {
    uint8_t *buf;  /* one partial frame, header included */
    size_t len, cap;
    uint32_t max;  /* largest body accepted from this peer */
} nc_frame_reader_t;

/* Called for each complete frame; the body is borrowed for the call. A
 * non-zero return stops the reader and is returned by nc_frame_push. */
typedef int (*nc_frame_fn)(void *arg, int type, const uint8_t *body, uint32_t len);

void nc_frame_reader_init(nc_frame_reader_t *r, uint32_t max);
void nc_frame_reader_done(nc_frame_reader_t *r);
/* Feeds n bytes; calls fn for each frame they complete. Returns 0, fn's
 * non-zero result, or NC_EBADDATA with one sentence in err when the peer
 * sent garbage (an empty frame, an unknown type, a length over the type's
 * or the reader's limit). After an error the reader must not be fed. */
int nc_frame_push(nc_frame_reader_t *r, const uint8_t *data, size_t n, nc_frame_fn fn, void *arg,
                  char *err, size_t errlen);

#endif
