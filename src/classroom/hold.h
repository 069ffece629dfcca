/*
 * hold.h: what a class streams of an event, and what it holds back.
 *
 * In a class, nothing of a checkpoint is asked or revealed before the
 * instructor opens and reveals it. The run behind the class (the
 * instructor's in watch mode, each student's own in lockstep) asks and
 * decides its checkpoints whenever its events say so, and records that
 * with lesson marks carrying "checkpoint" and "event" ("asked", then
 * "decided", "skipped" or another outcome). Such a mark reaches a student
 * as a held stand-in until it is released: the same index, time and host,
 * a neutral summary, "held": true, and nothing of the question, the
 * choices or the answer. An "asked" mark is released when the instructor
 * opens its checkpoint; every other checkpoint mark when they reveal it.
 * What was held reaches the students with the open and reveal messages
 * instead (PROTOCOL.md), so their timelines keep the instructor's indices.
 */
#ifndef NC_HOLD_H
#define NC_HOLD_H

#include "../core/buf.h"
#include "../core/event.h"
#include "record.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    NC_HOLD_NONE,     /* not a checkpoint mark: streamed as it is */
    NC_HOLD_ASK,      /* the "asked" mark: released when the checkpoint opens */
    NC_HOLD_DECISION, /* any other checkpoint mark: released at the reveal */
} nc_hold_kind_t;

/* Which kind of checkpoint mark ev is; *cp (may be NULL) gets the
 * checkpoint's id (borrowed from ev), or NULL. */
nc_hold_kind_t nc_hold_kind(const nc_event_t *ev, const char **cp);

/* Appends the body of an event message (PROTOCOL.md, type 4) for event ev
 * of run `run`, sent at ts (CLOCK_REALTIME ns): the run's TLS secrets new
 * since the last body (key log lines, borrowed; NULL or "": none); for a packet its bytes in base64 and its record
 * (nc_pipeline_record_json); for any other event (or a packet with no
 * bytes) the event as nc_event_json writes it; with held set, the held
 * stand-in of a checkpoint mark. */
void nc_hold_event_body(nc_buf_t *body, int run, int64_t ts, const nc_event_t *ev, bool held,
                        const char *keys);

#endif
