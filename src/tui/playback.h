/*
 * playback.h: a replayed file as the ladder's event source.
 *
 * A playback loads a saved run or a capture (replay.h) into a timeline on
 * a thread of its own, so the first screen shows while the rest of a big
 * file is still being read, and keeps a play head: the number of events the
 * ladder may show. Paused at the end, everything loaded is visible; playing,
 * the head advances with the events' own times, at x0.25 to x16, or in
 * paced mode one event at a time. A saved lesson run asks its checkpoints
 * as the head reaches them. Keys (the NC_ACT_PLAY .. NC_ACT_SPEED actions
 * and NC_ACT_PACED), the status text and the footer reach it through the
 * nc_ui_source_t it fills in.
 */
#ifndef NC_PLAYBACK_H
#define NC_PLAYBACK_H

#include "ui.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct nc_playback nc_playback_t;

/* Opens path and starts loading it. Returns NULL with one sentence in err.
 * notify(arg) is called from the loading thread as events arrive. */
nc_playback_t *nc_playback_open(const char *path, void (*notify)(void *), void *arg,
                                char *err, size_t errlen);
/* Stops the loading thread and frees everything. */
void nc_playback_free(nc_playback_t *p);
/* Fills src for nc_ui_set_source (the timeline stays p's). */
void nc_playback_source(nc_playback_t *p, nc_ui_source_t *src);
/* The lesson the saved run came from, or NULL (borrowed). */
const char *nc_playback_lesson(const nc_playback_t *p);
/* The lesson model, once the caller found it in the course (borrowed):
 * steps are then told apart by id. */
void nc_playback_set_lesson(nc_playback_t *p, const nc_lesson_t *l);
/* Paced mode on, at seconds per event (clamped to 0.125 .. 8): one event
 * at a time on the wall clock, pausing at every step's first mark. */
void nc_playback_set_pace(nc_playback_t *p, double seconds);
/* Plays from event h on (0: the start). */
void nc_playback_play(nc_playback_t *p, size_t h);
/* Advances the play head to now (CLOCK_MONOTONIC ns). Returns true when
 * the screen changed. Call from the UI loop's timer. */
bool nc_playback_tick(nc_playback_t *p, nc_ui_t *ui, int64_t now_ns);
/* An error that stopped the loading (a link type netcourse cannot decode),
 * or NULL. */
const char *nc_playback_error(const nc_playback_t *p);

#endif
