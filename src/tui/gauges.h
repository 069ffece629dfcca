/*
 * gauges.h: the kernel's state beside the ladder.
 *
 * Both panels read state events ("state", EVENTS.md) straight from a
 * timeline and draw into a rectangle of a canvas; the ladder places them.
 *
 * Gauges show the state as of one event, the ladder's cursor: for each
 * socket, its latest state event at or before the cursor (a socket whose
 * latest event says CLOSED is gone). Listeners get bars for the accept
 * queue (out of its limit, backlog + 1) and the SYN queue; connections get
 * bars for recv_q, send_q and the window (snd_wnd), each out of the
 * largest value that socket shows in the whole run; a host's overflow
 * counters are one line.
 *
 * The chart draws one value of one socket over the run with block
 * characters, a column per slice of time, and marks the cursor's time. The
 * value is chosen from the run: the accept queue of a listener that had
 * one, else the send window of the connection whose window moved most,
 * else the cwnd of the busiest connection.
 */
#ifndef NC_GAUGES_H
#define NC_GAUGES_H

#include "../core/timeline.h"
#include "canvas.h"

#include <stdbool.h>
#include <stddef.h>

/* True when events [0, upto) hold at least one state event. */
bool nc_gauges_any(const nc_timeline_t *tl, size_t upto);

/* Draws the gauges as of event cursor (< upto) into (y, x, h, w). */
void nc_gauges_draw(nc_canvas_t *c, const nc_timeline_t *tl, size_t upto, size_t cursor, int y,
                    int x, int h, int w);

/* Draws the chart of events [0, upto) with the cursor's time marked into
 * (y, x, h, w); the first row is its title. */
void nc_chart_draw(nc_canvas_t *c, const nc_timeline_t *tl, size_t upto, size_t cursor, int y,
                   int x, int h, int w);

#endif
