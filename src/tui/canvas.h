/*
 * canvas.h: the grid every view draws into.
 *
 * An nc_canvas_t is w x h cells; each cell holds one Unicode code point, a
 * few attribute bits and a color role. Views draw with the primitives below
 * and never see a terminal: curses.c copies a canvas to the screen, and
 * nc_canvas_to_text() turns it into plain text for snapshot tests. A wide
 * character (CJK, most emoji) takes two cells; the second holds code point 0
 * and is skipped by both backends.
 *
 * Text is UTF-8 everywhere in netcourse. Rich text (the lesson reader's
 * Markdown, wrapped notes) is first decoded into an nc_cellv_t, a vector of
 * styled cells that can be word-wrapped and then drawn line by line.
 */
#ifndef NC_CANVAS_H
#define NC_CANVAS_H

#include "../core/buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Color roles. A backend maps each to a color, or to attributes only when
 * the terminal is monochrome or NO_COLOR is set. */
typedef enum {
    NC_ROLE_NORMAL,
    NC_ROLE_ACCENT,
    NC_ROLE_CLIENT,
    NC_ROLE_SERVER,
    NC_ROLE_DROPPED,
    NC_ROLE_NOTE,
    NC_ROLE_OK,
    NC_ROLE_BAD,
    NC_ROLE_MUTED,
    NC_ROLE__COUNT
} nc_role_t;

enum {
    NC_A_BOLD = 1,
    NC_A_DIM = 2,
    NC_A_REVERSE = 4,
    NC_A_UNDERLINE = 8,
};

typedef struct nc_style {
    uint8_t attr; /* NC_A_* bits */
    uint8_t role; /* nc_role_t */
} nc_style_t;

#define NC_STYLE(a, r) ((nc_style_t){(uint8_t)(a), (uint8_t)(r)})
#define NC_PLAIN NC_STYLE(0, NC_ROLE_NORMAL)

typedef struct nc_cell {
    uint32_t ch; /* code point; 0 = right half of a wide character */
    uint8_t attr;
    uint8_t role;
} nc_cell_t;

typedef struct nc_canvas {
    int w, h;
    bool utf8; /* false: glyphs fall back to ASCII */
    nc_cell_t *cells;
    int clip_y, clip_x, clip_h, clip_w; /* drawing stays inside (nc_canvas_clip) */
} nc_canvas_t;

/* Glyphs with an ASCII fallback; see nc_canvas_glyph(). */
typedef enum {
    NC_G_HLINE,
    NC_G_VLINE,
    NC_G_CROSS,
    NC_G_RARROW,
    NC_G_LARROW,
    NC_G_DROP,
    NC_G_CHECK,
    NC_G_HALF,
    NC_G_DOT,
    NC_G_BULLET,
    NC_G_ELLIPSIS,
    NC_G_QUOTE,
    NC_G_TL,
    NC_G_TR,
    NC_G_BL,
    NC_G_BR,
    NC_G_UP,
    NC_G_DOWN,
    NC_G_DASH,
    NC_G__COUNT
} nc_glyph_t;

/* Creates a blank canvas (caller frees with nc_canvas_free). */
nc_canvas_t *nc_canvas_new(int w, int h, bool utf8);
void nc_canvas_free(nc_canvas_t *c);
/* Changes the size; the contents become blank. */
void nc_canvas_resize(nc_canvas_t *c, int w, int h);
/* Blanks every cell. */
void nc_canvas_clear(nc_canvas_t *c);
/*
 * Limits drawing to the rectangle (y, x, h, w) until nc_canvas_unclip: a
 * view that shares the screen (the ladder beside the state panel) clips to
 * its own part, so its text is cut, and marked as cut, at its own edge
 * instead of being silently drawn over. Resizing unclips.
 */
void nc_canvas_clip(nc_canvas_t *c, int y, int x, int h, int w);
void nc_canvas_unclip(nc_canvas_t *c);
/* Returns the cell at (y, x), or NULL outside the canvas (borrowed). */
nc_cell_t *nc_canvas_cell(nc_canvas_t *c, int y, int x);
/* Returns the UTF-8 text of a glyph, or its ASCII stand-in (static). */
const char *nc_canvas_glyph(const nc_canvas_t *c, nc_glyph_t g);

/* Puts one code point at (y, x); returns the columns it took (0 when
 * clipped). */
int nc_canvas_putc(nc_canvas_t *c, int y, int x, uint32_t ch, nc_style_t st);
/*
 * Draws UTF-8 text at (y, x), clipped to maxw columns (negative: to the
 * canvas edge) and to the clip rectangle. No text is ever cut silently:
 * text that does not fit ends with an ellipsis, whatever ellip says (the
 * argument remains for the callers written before), and a cut never falls
 * inside a number: "cwnd 10" cut after "cwnd 1" shows "cwnd …", never a
 * wrong number. Control characters are drawn as spaces. Returns the column
 * after the last cell drawn.
 */
int nc_canvas_textn(nc_canvas_t *c, int y, int x, int maxw, const char *s, nc_style_t st,
                    bool ellip);
/* nc_canvas_textn(c, y, x, -1, s, st, false). */
int nc_canvas_text(nc_canvas_t *c, int y, int x, const char *s, nc_style_t st);
/* printf, then nc_canvas_textn with maxw = -1. */
int nc_canvas_printf(nc_canvas_t *c, int y, int x, nc_style_t st, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Fills a rectangle with one code point. */
void nc_canvas_fill(nc_canvas_t *c, int y, int x, int h, int w, uint32_t ch, nc_style_t st);
/* Box-drawing lines and a frame (rectangle outline). */
void nc_canvas_hline(nc_canvas_t *c, int y, int x, int w, nc_style_t st);
void nc_canvas_vline(nc_canvas_t *c, int y, int x, int h, nc_style_t st);
void nc_canvas_box(nc_canvas_t *c, int y, int x, int h, int w, nc_style_t st);
/* Adds attribute bits to a run of cells (and sets the role unless it is
 * NC_ROLE_NORMAL); used for the cursor row and hex highlights. */
void nc_canvas_mark(nc_canvas_t *c, int y, int x, int w, nc_style_t st);

/* Plain text: one line per row, trailing spaces trimmed, each line ending
 * with '\n'. Appends to out. */
void nc_canvas_to_text(const nc_canvas_t *c, nc_buf_t *out);

/* Display width of a code point (0, 1 or 2) and of UTF-8 text. */
int nc_wcwidth(uint32_t ch);
int nc_text_width(const char *s);
/* Decodes one code point from s (at most n bytes); bad bytes decode as
 * U+FFFD. Returns the bytes consumed (>= 1 when n > 0). */
size_t nc_utf8_decode(const char *s, size_t n, uint32_t *out);
/* Appends the UTF-8 encoding of ch. */
void nc_utf8_put(nc_buf_t *b, uint32_t ch);

/* A vector of styled cells: rich text before it is laid out. */
typedef struct nc_cellv {
    nc_cell_t *v;
    size_t n, cap;
} nc_cellv_t;

void nc_cellv_init(nc_cellv_t *v);
void nc_cellv_done(nc_cellv_t *v);
void nc_cellv_reset(nc_cellv_t *v);
void nc_cellv_putc(nc_cellv_t *v, uint32_t ch, nc_style_t st);
/* Appends UTF-8 text; newlines and tabs become spaces. */
void nc_cellv_puts(nc_cellv_t *v, const char *s, nc_style_t st);
/*
 * Word wrap: finds the line that starts at index start and fits width
 * columns. Sets *end (exclusive, trailing spaces dropped) and *next (the
 * start of the next line, spaces skipped). Words longer than a line are cut.
 * Returns false when start is at the end.
 */
bool nc_cellv_wrap(const nc_cellv_t *v, size_t start, int width, size_t *end, size_t *next);
/* Draws n cells at (y, x); cells past the canvas or the clip are cut and
 * the cut marked with an ellipsis. Returns the column after them. */
int nc_canvas_cells(nc_canvas_t *c, int y, int x, const nc_cell_t *cells, size_t n);
/* Draws styled cells word-wrapped into the rectangle (y, x, h, w); returns
 * the number of lines they need (it may be more than h). When they need
 * more than h (h > 0), the last line drawn ends with an ellipsis. */
int nc_canvas_wrapv(nc_canvas_t *c, int y, int x, int h, int w, const nc_cellv_t *v);
/* Draws UTF-8 text word-wrapped into the rectangle (y, x, h, w); returns the
 * number of lines the whole text needs (it may be more than h). */
int nc_canvas_wrap(nc_canvas_t *c, int y, int x, int h, int w, const char *s, nc_style_t st);

#endif
