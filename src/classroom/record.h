/*
 * record.h: a packet of a class's run, built again from its event message.
 *
 * The instructor streams each packet of its run as the packet's bytes and
 * its record (PROTOCOL.md, the event message); the student checks what the
 * message says of the bytes (base64, the count it claims, the wire length,
 * the link type) and builds the packet again through the pipeline
 * (src/pipeline), with the run's decoder, so it carries every field the
 * instructor's had, its byte ranges included. This is the parser of
 * untrusted bytes a hostile or broken instructor reaches, fuzzed by
 * tests/fuzz/fuzz_classrecord.c.
 */
#ifndef NC_CLASS_RECORD_H
#define NC_CLASS_RECORD_H

#include "json.h"

#include "../core/event.h"
#include "../pipeline/pipeline.h"

#include <stddef.h>
#include <stdint.h>

/* The most bytes of a packet an event message carries (a frame the lab
 * captured is at most 64 KiB; a packet with more travels whole, without its
 * bytes). */
#define NC_CLASS_PACKET_MAX 65536u

/* Decodes base64 s into *out (the caller frees it). Returns the number of
 * bytes, or -1 when s is empty, not base64, or longer than max bytes. */
int nc_class_b64(const char *s, size_t max, uint8_t **out);

/*
 * Builds the packet of event message msg (its parsed body), whose record
 * ("ev") rec already holds (nc_event_from_json: its i, relative t, note
 * and record fields), into out through pipe, at absolute time t0 + t, with
 * out->ev.i the record's. Returns 0, or -1 with one sentence in why (no
 * change to pipe's decoder) when the message's bytes cannot be built.
 */
int nc_class_packet_build(nc_pipeline_t *pipe, const nc_json_t *msg, nc_evb_t *rec, int64_t t0,
                          nc_evb_t *out, char *why, size_t n);

#endif
