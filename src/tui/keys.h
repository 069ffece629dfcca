/*
 * keys.h: key codes and the one table that maps keys to actions.
 *
 * A key is a Unicode code point for characters, or one of the NC_KEY_*
 * values below for keys that have no character. The backend translates the
 * terminal's codes into these, so views and tests never see curses. Views
 * react to actions (NC_ACT_*), not keys; the key table in keys.c is the only
 * place that knows that `k` and the up arrow both mean "up", and the help
 * overlay and the footers are generated from it.
 */
#ifndef NC_KEYS_H
#define NC_KEYS_H

#include <stddef.h>

enum {
    NC_KEY_TAB = 9,
    NC_KEY_ENTER = 10,
    NC_KEY_ESC = 27,
    NC_KEY_SPECIAL = 0x110000, /* past the last code point */
    NC_KEY_UP,
    NC_KEY_DOWN,
    NC_KEY_LEFT,
    NC_KEY_RIGHT,
    NC_KEY_HOME,
    NC_KEY_END,
    NC_KEY_PGUP,
    NC_KEY_PGDN,
    NC_KEY_BTAB,
    NC_KEY_BACKSPACE,
    NC_KEY_RESIZE,
};

typedef enum {
    NC_ACT_NONE,
    NC_ACT_UP,
    NC_ACT_DOWN,
    NC_ACT_LEFT,
    NC_ACT_RIGHT,
    NC_ACT_TOP,
    NC_ACT_BOTTOM,
    NC_ACT_PGUP,
    NC_ACT_PGDN,
    NC_ACT_OPEN,
    NC_ACT_NEXT,
    NC_ACT_RUN,
    NC_ACT_INSPECT,
    NC_ACT_FOLLOW,
    NC_ACT_LIVE,
    NC_ACT_TAB,
    NC_ACT_PLAY,  /* replay: play or pause */
    NC_ACT_STEP,  /* replay: one event back (',') or forward ('.') */
    NC_ACT_SEEK,  /* replay: to the start ('<') or the end ('>') */
    NC_ACT_MARK,  /* replay: to the previous ('[') or next (']') step */
    NC_ACT_SPEED, /* replay: slower ('-') or faster ('+') */
    NC_ACT_PACED, /* replay: paced mode on or off ('P') */
    NC_ACT_SAVE,  /* save the run as a pcapng file */
    NC_ACT_PACKET, /* next ('n') or previous ('N'): search hit; inspector: packet */
    NC_ACT_SEARCH, /* ladder: search summaries and notes ('/') */
    NC_ACT_GOTO,   /* ladder: go to an event by its number (':') */
    NC_ACT_FILTER, /* ladder: filter with a matcher ('&') */
    NC_ACT_CONVS,  /* ladder: the TCP and UDP conversations ('C') */
    NC_ACT_TABLE,  /* ladder: the run's comparison table ('T') */
    NC_ACT_LANES,  /* ladder: one lane per stream of a multiplexed connection ('S') */
    NC_ACT_ANSWER, /* a checkpoint's choice: the key is the choice's letter */
    NC_ACT_EXPLORE, /* class: stop following the instructor, or follow again */
    NC_ACT_HAND,   /* class: raise or lower a hand */
    NC_ACT_RUNS,   /* the saved runs */
    NC_ACT_SHELL,  /* ladder, while a finished run's lab is up: a shell in it ('!') */
    NC_ACT_HELP,
    NC_ACT_BACK,
    NC_ACT_QUIT,
    NC_ACT__COUNT
} nc_action_t;

/* Returns the action bound to key, or NC_ACT_NONE. */
nc_action_t nc_key_action(int key);
/* A short label for the footer ("move", "open") and a sentence for help. */
const char *nc_action_label(nc_action_t a);
const char *nc_action_help(nc_action_t a);
/* The printable name of a key ("k", "Enter", "PgUp"); static or in buf. */
const char *nc_key_name(int key, char *buf, size_t len, int utf8);
/* The keys bound to an action, joined with sep, into buf; returns buf. */
char *nc_action_keys(nc_action_t a, const char *sep, char *buf, size_t len, int utf8);
/* The help overlay's rows: every action with a key, in table order.
 * Returns how many there are; with out, fills out[0 .. n-1]. */
size_t nc_key_actions(nc_action_t *out);

#endif
