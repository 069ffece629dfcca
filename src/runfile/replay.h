/*
 * replay.h: the events of a capture file, saved run or foreign capture.
 *
 * A replay reads a file (mapped, never copied) and produces its events one
 * at a time, in timeline order, through an event builder: packets are
 * decoded again (decode.h); for a saved run (runfile.h) each takes its note
 * from its packet comment and its netcourse-only fields from the run's
 * Custom Block, and the events that are not packets are merged back in at
 * their original positions, so the stream equals the live run's. A foreign
 * capture gets the generic annotations (annotate.h), and its hosts are the
 * addresses.
 *
 * Nothing is kept per event: printing a million-packet file costs the
 * decoder's flow table and one builder; the interface keeps a 16-byte row
 * per packet and decodes again what it shows (see nc_replay_decode). A file that breaks off ends with a
 * "note" event saying where; a packet of a link type netcourse cannot decode
 * stops the replay with one sentence (NC_EUNSUPP).
 */
#ifndef NC_REPLAY_H
#define NC_REPLAY_H

#include "runfile.h"

#include "../core/event.h"
#include "../core/match.h"
#include "../decode/decryptor.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct nc_replay nc_replay_t;

/* Opens a file. Returns NULL with one sentence in err (missing, not a
 * capture, a link type netcourse cannot decode). */
nc_replay_t *nc_replay_open(const char *path, char *err, size_t errlen);
/* The same over bytes in memory (borrowed; they must outlive the replay). */
nc_replay_t *nc_replay_open_mem(const uint8_t *data, size_t len, char *err, size_t errlen);
void nc_replay_close(nc_replay_t *r);

/* Makes every replay opened from now on decrypt TLS through dec (borrowed,
 * with its ctx; both must outlive those replays; NULL: no decryption). The
 * key logs of a file's Decryption Secrets Blocks are added to it through
 * dec->add_secrets as the replay meets them. */
void nc_replay_use_decryptor(const nc_decryptor_t *dec, void *ctx);

/* The saved run's header, or NULL for a foreign capture (borrowed). */
const nc_runfile_info_t *nc_replay_info(const nc_replay_t *r);

/*
 * Builds the next event into b (reset first): t_ns is absolute, ev.i is
 * the event's position (from 0). Returns 1, 0 after the last event, or
 * NC_EUNSUPP with one sentence in err.
 */
int nc_replay_next(nc_replay_t *r, nc_evb_t *b, char *err, size_t errlen);

/*
 * Decoding again, for a timeline of lazy rows (timeline.h). After
 * nc_replay_keep_checkpoints, nc_replay_next saves the decoder's state
 * every `every` packets (0: a few thousand; more apart when a checkpoint
 * is big, so that they cost at most a few bytes a packet together). nc_replay_packet_ref then
 * names the packet nc_replay_next just built (0 when that event was not a
 * packet that can be decoded again: every event of a saved run, whose
 * packets carry what its Custom Block says, and a closing note), and
 * nc_replay_decode builds that packet again into b, annotated, from the
 * last checkpoint before it (nc_replay_next leaves such a packet without
 * its annotation: the caller keeps only its time and reference). nc_replay_decode may run on
 * one other thread while nc_replay_next runs; it returns 0, or -1 for a
 * reference not loaded yet. nc_replay_memory is what checkpoints hold.
 */
void nc_replay_keep_checkpoints(nc_replay_t *r, uint64_t every);
/* Leaves a foreign capture's packets without their annotation, for the
 * caller to add on another thread: nc_replay_bare tells whether the event
 * nc_replay_next just built needs nc_annotate_event (true for every such
 * packet once checkpoints are kept). */
void nc_replay_defer_annotation(nc_replay_t *r);
bool nc_replay_bare(const nc_replay_t *r);
uint64_t nc_replay_packet_ref(const nc_replay_t *r);
int nc_replay_decode(nc_replay_t *r, uint64_t ref, nc_evb_t *b);
size_t nc_replay_memory(nc_replay_t *r);

/*
 * `replay --dump` (json false) and `--json`: prints every event m accepts
 * (all when m is NULL) to out, as nc_event_text or as JSON lines, with the
 * times relative to the run's start. Reading and decoding run on a thread
 * of their own while this one prints. Returns 0; NC_EIO when out could not
 * be written (err untouched: the reader went away); or the error of
 * nc_replay_next, with its sentence in err, after printing every event
 * before it.
 */
int nc_replay_write(nc_replay_t *r, bool json, const nc_match_t *m, FILE *out, char *err,
                    size_t errlen);

/* The run's start (absolute ns): a saved run's t0, else the first event's
 * time; 0 before the first event of a foreign capture. */
int64_t nc_replay_t0(const nc_replay_t *r);

#endif
