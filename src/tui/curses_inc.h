/*
 * curses_inc.h: the one way netcourse includes curses.
 *
 * Wide-character curses (ncursesw) is asked for explicitly, so cchar_t,
 * setcchar() and wget_wch() exist whatever feature macros the build sets.
 * Only curses.c includes this header; nothing else in the tree sees curses.
 */
#ifndef NC_CURSES_INC_H
#define NC_CURSES_INC_H

#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <curses.h>

#endif
