/*
 * topo.h: the lesson's lab in one line, for the reader's header (topo.c).
 */
#ifndef NC_TUI_TOPO_H
#define NC_TUI_TOPO_H

#include "canvas.h"
#include "../core/course.h"

#include <stddef.h>

/* Writes the lesson's topology as one line ("client ~client-middle~ middle
 * ~middle-server~ server") into out; returns its length (0 when the lesson
 * has no lab drawing: "local", or no lesson). */
size_t nc_topo_line(const nc_lesson_t *l, char *out, size_t outlen);
/* Draws that line centred on row y over the rule there, if it fits. */
void nc_topo_draw(nc_canvas_t *c, int y, const nc_lesson_t *l);

#endif
