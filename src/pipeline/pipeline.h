/*
 * pipeline.h: decode -> annotate -> timeline, one path for every packet.
 *
 * A packet reaches the timeline from three sources: the lab's wire (a live
 * run), a capture file (replay) and an instructor's stream (a class). Each
 * hands the pipeline the same two things: the frame (its bytes, link type,
 * sizes, time and interface) and, when the source knows more than the bytes
 * say, the packet's record: the netcourse-only fields that no decoder can
 * find in the bytes ("dropped", the wire's decision "wire", "student") and
 * the packet's note as the run wrote it. The pipeline decodes the frame
 * with a decoder of its own (its flows, streams and TLS keys), sets the
 * record's fields, and gives the packet the record's note, or else the
 * generic annotation, led by what the wire's verdict means for a packet
 * whose record says it dropped it ("dropped by the lesson's wire"); then,
 * when it has a timeline, adds the event.
 *
 * Because the student's and a replay's packets are decoded again from the
 * bytes by this same code, they carry everything the live packet carried,
 * the private byte ranges ("_off", "_len") the inspector highlights with
 * included; only the record travels beside the bytes.
 *
 * The pipeline does not know where the bytes came from: a source names the
 * lab's hosts (nc_pipeline_name_host) and hands it the key log's decryptor.
 * One pipeline is used by one thread at a time.
 */
#ifndef NC_PIPELINE_H
#define NC_PIPELINE_H

#include "../core/buf.h"
#include "../core/event.h"
#include "../core/timeline.h"
#include "../decode/decode.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct nc_pipeline nc_pipeline_t;

/* One frame as its source read it (data borrowed for the call). */
typedef struct nc_frame {
    int64_t ts_ns; /* absolute, CLOCK_REALTIME ns */
    int linktype;  /* DLT_* */
    const uint8_t *data;
    uint32_t caplen, wirelen;
    uint32_t iface; /* the capture interface (saved runs' IDB index) */
} nc_frame_t;

/* What a packet's source knows beyond its bytes (all borrowed). */
typedef struct nc_pipeline_rec {
    /* The record's fields (only its record keys are taken: a scalar the
     * packet already has is replaced in place), or NULL. */
    const nc_evb_t *fields;
    /* The packet's note as the run wrote it, replacing the generic
     * annotation (len bytes; "" is no note); NULL: annotate. */
    const char *note;
    size_t note_len;
    /* With note NULL: leave the annotation to nc_pipeline_annotate, on
     * another thread (replay's printer) or never (a lazy row's time). */
    bool bare;
} nc_pipeline_rec_t;

/* The keys of a packet's record: the top-level fields no decoder writes. */
extern const char *const nc_pipeline_record_keys[];
extern const size_t nc_pipeline_nrecord_keys;
bool nc_pipeline_is_record_key(const char *key);

/* A pipeline whose decoder decrypts TLS through dec (borrowed with its
 * ctx; both must outlive it; NULL: no decryption) and, when tl is set
 * (borrowed), adds what nc_pipeline_push builds to tl. */
nc_pipeline_t *nc_pipeline_new(const nc_decryptor_t *dec, void *ctx, nc_timeline_t *tl);
void nc_pipeline_free(nc_pipeline_t *p);
/* Names a host for "from", "to" and "host" (both strings copied). */
void nc_pipeline_name_host(nc_pipeline_t *p, const char *addr, const char *name);
/* The pipeline's decoder, for checkpoints and the end of a capture
 * (borrowed; it lives as long as p). */
nc_decoder_t *nc_pipeline_decoder(nc_pipeline_t *p);

/* Decode and annotate: builds frame f with its record (rec may be NULL:
 * none) into b, which it resets. Returns what nc_decoder_packet returns. */
int nc_pipeline_build(nc_pipeline_t *p, const nc_frame_t *f, const nc_pipeline_rec_t *rec,
                      nc_evb_t *b);
/* The annotation left out of a bare build. */
void nc_pipeline_annotate(nc_evb_t *b);
/* Decode, annotate, timeline: nc_pipeline_build into the pipeline's own
 * builder, then nc_timeline_add. */
void nc_pipeline_push(nc_pipeline_t *p, const nc_frame_t *f, const nc_pipeline_rec_t *rec);
/* Adds an event built elsewhere (a NAT change, a note) to the timeline
 * in the same order as the packets pushed. */
void nc_pipeline_add(nc_pipeline_t *p, nc_evb_t *b);

/* Sets the top-level fields of extra on the packet event in b: a scalar b
 * already has is replaced in place, anything else appended. */
void nc_pipeline_apply(nc_evb_t *b, const nc_evb_t *extra);

/* Appends ev's record keys as the inside of a JSON object (",key:value"
 * each; numbers to 17 digits with exact, as a saved run keeps them). */
void nc_pipeline_record_fields(const nc_event_t *ev, bool exact, nc_buf_t *out);

/* Appends the record of packet ev as one JSON object: "i", "t", "type",
 * "host", "summary", its note, and its record keys. What a class streams
 * beside the bytes; the receiver rebuilds the rest with nc_pipeline_build. */
void nc_pipeline_record_json(const nc_event_t *ev, nc_buf_t *out);

#endif
