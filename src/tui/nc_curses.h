/*
 * nc_curses.h: the terminal backend (implemented in curses.c).
 *
 * A thin layer that starts and stops curses, reads keys as netcourse key
 * codes (keys.h) and copies a canvas to the screen. It is the only code that
 * talks to curses, and tui.c the only code that talks to it.
 */
#ifndef NC_NC_CURSES_H
#define NC_NC_CURSES_H

#include "canvas.h"

#include <stdbool.h>
#include <stddef.h>

/* Starts curses on the process's terminal (cbreak, noecho, keypad, no
 * cursor, non-blocking reads). Colors are used unless the terminal has none
 * or NO_COLOR is set. Returns 0, or a negative code with one sentence in err. */
int nc_curses_start(char *err, size_t errlen);
/* Restores the terminal. Safe to call twice, and from a signal path. */
void nc_curses_stop(void);
/* Hands the terminal to another program for a while (the lab shell):
 * its modes saved, the screen left as a plain terminal... */
void nc_curses_suspend(void);
/* ...and takes it back: modes restored, the size read again, and the
 * whole screen redrawn on the next blit. */
void nc_curses_resume(void);
/* The terminal's size in columns and rows. */
void nc_curses_size(int *w, int *h);
/* Asks the kernel for the new size after SIGWINCH and tells curses. */
void nc_curses_resize(void);
/* The next key (a code point or NC_KEY_*), or -1 when none is waiting. */
int nc_curses_key(void);
/* Copies the canvas to the screen and refreshes it. */
void nc_curses_blit(const nc_canvas_t *c);
/* True when colors are in use. */
bool nc_curses_colors(void);

#endif
