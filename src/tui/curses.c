/*
 * curses.c: the canvas on a real terminal, through ncursesw.
 *
 * The screen is one curses window (stdscr). Each color role has a color
 * pair on the terminal's default background, or, on a monochrome terminal
 * or with NO_COLOR set (https://no-color.org), a set of attributes instead,
 * so that the ladder still tells a dropped packet from a delivered one.
 * Blitting writes every cell of the canvas into stdscr and lets curses send
 * only what changed.
 */
#include "nc_curses.h"

#include "curses_inc.h"
#include "keys.h"

#include "../core/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

static SCREEN *nc_curses_screen;
static bool nc_curses_color;

/* Per role: { foreground color, attributes without color }. */
static const struct {
    short fg;
    attr_t mono;
} nc_curses_roles[NC_ROLE__COUNT] = {
    [NC_ROLE_NORMAL] = {-1, 0},
    [NC_ROLE_ACCENT] = {COLOR_CYAN, A_BOLD},
    [NC_ROLE_CLIENT] = {COLOR_GREEN, 0},
    [NC_ROLE_SERVER] = {COLOR_MAGENTA, 0},
    [NC_ROLE_DROPPED] = {COLOR_RED, A_BOLD | A_UNDERLINE},
    [NC_ROLE_NOTE] = {COLOR_YELLOW, 0},
    [NC_ROLE_OK] = {COLOR_GREEN, A_BOLD},
    [NC_ROLE_BAD] = {COLOR_RED, A_BOLD},
    [NC_ROLE_MUTED] = {COLOR_BLUE, A_DIM},
};

bool nc_curses_colors(void)
{
    return nc_curses_color;
}

int nc_curses_start(char *err, size_t errlen)
{
    if (nc_curses_screen)
        return 0;
    nc_curses_screen = newterm(NULL, stdout, stdin);
    if (!nc_curses_screen) {
        snprintf(err, errlen, "this terminal (TERM=%s) cannot be used by netcourse",
                 getenv("TERM") ? getenv("TERM") : "unset");
        return NC_EUNSUPP;
    }
    set_term(nc_curses_screen);
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    const char *nocolor = getenv("NO_COLOR");
    nc_curses_color = has_colors() && !(nocolor && *nocolor);
    if (nc_curses_color) {
        start_color();
        use_default_colors();
        for (int r = 1; r < NC_ROLE__COUNT; r++) {
            short fg = nc_curses_roles[r].fg;
            /* Muted text in bright black where the terminal has it. */
            if (r == NC_ROLE_MUTED && COLORS >= 16)
                fg = 8;
            init_pair((short)r, fg, -1);
        }
    }
    return 0;
}

void nc_curses_stop(void)
{
    if (!nc_curses_screen)
        return;
    endwin();
    delscreen(nc_curses_screen);
    nc_curses_screen = NULL;
}

void nc_curses_suspend(void)
{
    if (!nc_curses_screen)
        return;
    def_prog_mode();
    endwin();
}

void nc_curses_resume(void)
{
    if (!nc_curses_screen)
        return;
    reset_prog_mode();
    nc_curses_resize();
    /* What the shell left on the screen is not what curses remembers. */
    clearok(curscr, TRUE);
    refresh();
}

void nc_curses_size(int *w, int *h)
{
    *w = nc_curses_screen ? COLS : 0;
    *h = nc_curses_screen ? LINES : 0;
}

void nc_curses_resize(void)
{
    struct winsize ws;
    if (nc_curses_screen && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 &&
        ws.ws_col > 0)
        resizeterm(ws.ws_row, ws.ws_col);
}

static const struct {
    int curses;
    int nc;
} nc_curses_keys[] = {
    {KEY_UP, NC_KEY_UP},       {KEY_DOWN, NC_KEY_DOWN},   {KEY_LEFT, NC_KEY_LEFT},
    {KEY_RIGHT, NC_KEY_RIGHT}, {KEY_HOME, NC_KEY_HOME},   {KEY_END, NC_KEY_END},
    {KEY_PPAGE, NC_KEY_PGUP},  {KEY_NPAGE, NC_KEY_PGDN},  {KEY_ENTER, NC_KEY_ENTER},
    {KEY_BTAB, NC_KEY_BTAB},   {KEY_BACKSPACE, NC_KEY_BACKSPACE},
    {KEY_RESIZE, NC_KEY_RESIZE},
};

int nc_curses_key(void)
{
    if (!nc_curses_screen)
        return -1;
    wint_t wc;
    int rc = wget_wch(stdscr, &wc);
    if (rc == ERR)
        return -1;
    if (rc == KEY_CODE_YES) {
        for (size_t i = 0; i < sizeof nc_curses_keys / sizeof nc_curses_keys[0]; i++)
            if (nc_curses_keys[i].curses == (int)wc)
                return nc_curses_keys[i].nc;
        return -1;
    }
    if (wc == '\r' || wc == '\n')
        return NC_KEY_ENTER;
    if (wc == 127 || wc == 8)
        return NC_KEY_BACKSPACE;
    return (int)wc;
}

static attr_t nc_curses_attr(const nc_cell_t *cell, short *pair)
{
    attr_t a = 0;
    if (cell->attr & NC_A_BOLD)
        a |= A_BOLD;
    if (cell->attr & NC_A_DIM)
        a |= A_DIM;
    if (cell->attr & NC_A_REVERSE)
        a |= A_REVERSE;
    if (cell->attr & NC_A_UNDERLINE)
        a |= A_UNDERLINE;
    unsigned role = cell->role < NC_ROLE__COUNT ? cell->role : NC_ROLE_NORMAL;
    if (nc_curses_color) {
        *pair = (short)role;
    } else {
        *pair = 0;
        a |= nc_curses_roles[role].mono;
    }
    return a;
}

void nc_curses_blit(const nc_canvas_t *c)
{
    if (!nc_curses_screen)
        return;
    for (int y = 0; y < c->h && y < LINES; y++) {
        for (int x = 0; x < c->w && x < COLS; x++) {
            const nc_cell_t *cell = &c->cells[(size_t)y * (size_t)c->w + (size_t)x];
            if (cell->ch == 0)
                continue;
            short pair;
            attr_t a = nc_curses_attr(cell, &pair);
            wchar_t wch[2] = {(wchar_t)cell->ch, 0};
            cchar_t cc;
            setcchar(&cc, wch, a, pair, NULL);
            /* Writing the bottom-right cell reports an error (the cursor
             * cannot move past it) but draws it; ignore the status. */
            (void)mvwadd_wch(stdscr, y, x, &cc);
        }
    }
    wnoutrefresh(stdscr);
    doupdate();
}
