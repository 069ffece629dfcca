/*
 * gauges.h: the kernel's state beside the ladder.
 *
 * Both panels read state events ("state", EVENTS.md) straight from a
 * timeline and draw into a rectangle of a canvas; the ladder places them.
 *
 * Gauges show the state as of one event, the ladder's cursor: for each
 * socket, its latest state event at or before the cursor. Every bar says
 * what it is drawn against. Listeners get a bar for the accept queue out of
 * what it holds ("3 of 3", with "backlog 2 + 1" beside the name: the numbers
 * of the event, of the ladder's line and of ss -ltn) and the SYN queue as a
 * count; connections get bars for recv_q out of rcvbuf, send_q out of
 * sndbuf (the kernel's buffer limits) and the window (snd_wnd) out of the
 * largest that peer advertised in the run ("of peak"). A connection in
 * TIME_WAIT is one line; sockets whose latest event says CLOSED are counted
 * on one line ("2 sockets closed"); a host's overflow counters are one
 * line. What does not fit is counted on the last row.
 *
 * The chart draws one value of one socket over the run with block
 * characters, a column per slice of time, above a time axis, and marks the
 * cursor's time. The value is chosen from the run: the accept queue of a
 * listener that had one, else the send window of the connection whose
 * window moved most, else the cwnd of the busiest connection.
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
