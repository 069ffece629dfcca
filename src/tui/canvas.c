/*
 * canvas.c: a grid of styled cells, and text layout onto it.
 *
 * The canvas is a flat array of w*h nc_cell_t, row by row. Drawing never
 * fails: anything outside the grid is clipped, so views can lay out with
 * plain arithmetic and trust the canvas to keep them inside the screen. A
 * wide code point occupies its cell and a continuation cell (ch == 0); when
 * only half of it would fit, a space is drawn instead.
 *
 * UTF-8 is decoded here rather than with mbrtowc so that layout (and the
 * snapshot tests) do not depend on the process locale.
 */
#include "canvas.h"

#include "../core/xmalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* { UTF-8, ASCII } for each glyph, indexed by nc_glyph_t. */
static const char *const nc_glyphs[NC_G__COUNT][2] = {
    [NC_G_HLINE] = {"─", "-"},    [NC_G_VLINE] = {"│", "|"},  [NC_G_CROSS] = {"┼", "+"},
    [NC_G_RARROW] = {"→", ">"},   [NC_G_LARROW] = {"←", "<"}, [NC_G_DROP] = {"✕", "X"},
    [NC_G_CHECK] = {"✓", "*"},    [NC_G_HALF] = {"◐", "~"},   [NC_G_DOT] = {"·", "."},
    [NC_G_BULLET] = {"•", "*"},   [NC_G_ELLIPSIS] = {"…", "~"}, [NC_G_QUOTE] = {"│", "|"},
    [NC_G_TL] = {"┌", "+"},       [NC_G_TR] = {"┐", "+"},     [NC_G_BL] = {"└", "+"},
    [NC_G_BR] = {"┘", "+"},       [NC_G_UP] = {"↑", "^"},     [NC_G_DOWN] = {"↓", "v"},
    [NC_G_DASH] = {"—", "-"},
};

/* Ranges of code points that take two columns (East Asian wide and full
 * width, and the emoji blocks), sorted. */
static const uint32_t nc_wide[][2] = {
    {0x1100, 0x115F},   {0x2E80, 0x303E},   {0x3041, 0x33FF},   {0x3400, 0x4DBF},
    {0x4E00, 0x9FFF},   {0xA000, 0xA4CF},   {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},
    {0xFE30, 0xFE4F},   {0xFF00, 0xFF60},   {0xFFE0, 0xFFE6},   {0x1F300, 0x1F64F},
    {0x1F900, 0x1F9FF}, {0x20000, 0x2FFFD}, {0x30000, 0x3FFFD},
};

int nc_wcwidth(uint32_t ch)
{
    if (ch == 0)
        return 0;
    /* Combining marks and zero-width characters take no column. */
    if ((ch >= 0x0300 && ch <= 0x036F) || (ch >= 0x200B && ch <= 0x200F) || ch == 0xFEFF)
        return 0;
    for (size_t i = 0; i < sizeof nc_wide / sizeof nc_wide[0]; i++)
        if (ch >= nc_wide[i][0] && ch <= nc_wide[i][1])
            return 2;
    return 1;
}

size_t nc_utf8_decode(const char *s, size_t n, uint32_t *out)
{
    const unsigned char *p = (const unsigned char *)s;
    if (n == 0) {
        *out = 0;
        return 0;
    }
    if (p[0] < 0x80) {
        *out = p[0];
        return 1;
    }
    size_t len;
    uint32_t ch, min;
    if ((p[0] & 0xE0) == 0xC0) {
        len = 2, ch = p[0] & 0x1F, min = 0x80;
    } else if ((p[0] & 0xF0) == 0xE0) {
        len = 3, ch = p[0] & 0x0F, min = 0x800;
    } else if ((p[0] & 0xF8) == 0xF0) {
        len = 4, ch = p[0] & 0x07, min = 0x10000;
    } else {
        *out = 0xFFFD;
        return 1;
    }
    if (len > n) {
        *out = 0xFFFD;
        return 1;
    }
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            *out = 0xFFFD;
            return 1;
        }
        ch = (ch << 6) | (p[i] & 0x3F);
    }
    /* Overlong forms, surrogates and values past Unicode are not text. */
    if (ch < min || ch > 0x10FFFF || (ch >= 0xD800 && ch <= 0xDFFF))
        ch = 0xFFFD;
    *out = ch;
    return len;
}

void nc_utf8_put(nc_buf_t *b, uint32_t ch)
{
    char t[4];
    size_t n;
    if (ch < 0x80) {
        t[0] = (char)ch, n = 1;
    } else if (ch < 0x800) {
        t[0] = (char)(0xC0 | (ch >> 6)), t[1] = (char)(0x80 | (ch & 0x3F)), n = 2;
    } else if (ch < 0x10000) {
        t[0] = (char)(0xE0 | (ch >> 12)), t[1] = (char)(0x80 | ((ch >> 6) & 0x3F));
        t[2] = (char)(0x80 | (ch & 0x3F)), n = 3;
    } else {
        t[0] = (char)(0xF0 | (ch >> 18)), t[1] = (char)(0x80 | ((ch >> 12) & 0x3F));
        t[2] = (char)(0x80 | ((ch >> 6) & 0x3F)), t[3] = (char)(0x80 | (ch & 0x3F)), n = 4;
    }
    nc_buf_append(b, t, n);
}

int nc_text_width(const char *s)
{
    int w = 0;
    size_t n = strlen(s);
    while (n > 0) {
        uint32_t ch;
        size_t k = nc_utf8_decode(s, n, &ch);
        w += nc_wcwidth(ch);
        s += k, n -= k;
    }
    return w;
}

nc_canvas_t *nc_canvas_new(int w, int h, bool utf8)
{
    nc_canvas_t *c = nc_xcalloc(1, sizeof *c);
    c->utf8 = utf8;
    nc_canvas_resize(c, w, h);
    return c;
}

void nc_canvas_free(nc_canvas_t *c)
{
    if (!c)
        return;
    free(c->cells);
    free(c);
}

void nc_canvas_resize(nc_canvas_t *c, int w, int h)
{
    c->w = w > 0 ? w : 0;
    c->h = h > 0 ? h : 0;
    free(c->cells);
    c->cells = nc_xcalloc((size_t)c->w * (size_t)c->h + 1, sizeof *c->cells);
    nc_canvas_unclip(c);
    nc_canvas_clear(c);
}

void nc_canvas_clip(nc_canvas_t *c, int y, int x, int h, int w)
{
    c->clip_y = y;
    c->clip_x = x;
    c->clip_h = h > 0 ? h : 0;
    c->clip_w = w > 0 ? w : 0;
}

void nc_canvas_unclip(nc_canvas_t *c)
{
    nc_canvas_clip(c, 0, 0, c->h, c->w);
}

static bool nc_canvas_inside(const nc_canvas_t *c, int y, int x)
{
    return y >= c->clip_y && y < c->clip_y + c->clip_h && x >= c->clip_x &&
           x < c->clip_x + c->clip_w;
}

void nc_canvas_clear(nc_canvas_t *c)
{
    for (size_t i = 0; i < (size_t)c->w * (size_t)c->h; i++)
        c->cells[i] = (nc_cell_t){' ', 0, NC_ROLE_NORMAL};
}

nc_cell_t *nc_canvas_cell(nc_canvas_t *c, int y, int x)
{
    if (y < 0 || x < 0 || y >= c->h || x >= c->w)
        return NULL;
    return &c->cells[(size_t)y * (size_t)c->w + (size_t)x];
}

const char *nc_canvas_glyph(const nc_canvas_t *c, nc_glyph_t g)
{
    if ((unsigned)g >= NC_G__COUNT)
        return "?";
    return nc_glyphs[g][c->utf8 ? 0 : 1];
}

int nc_canvas_putc(nc_canvas_t *c, int y, int x, uint32_t ch, nc_style_t st)
{
    if (ch < 0x20 || ch == 0x7F || (ch >= 0x80 && ch < 0xA0))
        ch = ' ';
    if (!c->utf8 && ch >= 0x80)
        ch = '?';
    int cw = nc_wcwidth(ch);
    if (cw == 0)
        return 0;
    nc_cell_t *cell = nc_canvas_inside(c, y, x) ? nc_canvas_cell(c, y, x) : NULL;
    if (!cell)
        return 0;
    if (cw == 2 && (x + 1 >= c->w || !nc_canvas_inside(c, y, x + 1))) {
        *cell = (nc_cell_t){' ', st.attr, st.role};
        return 1;
    }
    *cell = (nc_cell_t){ch, st.attr, st.role};
    if (cw == 2)
        cell[1] = (nc_cell_t){0, st.attr, st.role};
    return cw;
}

/* A character that belongs to a number: a digit, or a '.' or ',' between
 * digits ("2.96", "1,000"). */
static bool nc_canvas_numeric(const char *s, size_t at, size_t n)
{
    char ch = s[at];
    if (ch >= '0' && ch <= '9')
        return true;
    return (ch == '.' || ch == ',') && at > 0 && at + 1 < n && s[at - 1] >= '0' &&
           s[at - 1] <= '9' && s[at + 1] >= '0' && s[at + 1] <= '9';
}

int nc_canvas_textn(nc_canvas_t *c, int y, int x, int maxw, const char *s, nc_style_t st,
                    bool ellip)
{
    (void)ellip; /* every cut is marked */
    if (!s)
        return x;
    int right = c->clip_x + c->clip_w < c->w ? c->clip_x + c->clip_w : c->w;
    int limit = maxw < 0 ? right - x : maxw;
    if (x + limit > right)
        limit = right - x;
    if (limit <= 0)
        return x;
    size_t n = strlen(s);
    int total = nc_text_width(s);
    int room = total > limit ? limit - 1 : limit;
    /* Where the text stops: the bytes that fit in room columns. */
    size_t stop = 0;
    int used = 0;
    while (stop < n) {
        uint32_t ch;
        size_t k = nc_utf8_decode(s + stop, n - stop, &ch);
        int cw = nc_wcwidth(ch);
        if (used + cw > room)
            break;
        used += cw;
        stop += k;
    }
    /* A cut inside a number moves back to the number's start. */
    if (stop < n && stop > 0 && nc_canvas_numeric(s, stop, n) && nc_canvas_numeric(s, stop - 1, n))
        while (stop > 0 && nc_canvas_numeric(s, stop - 1, n))
            stop--;
    int col = 0;
    for (size_t at = 0; at < stop;) {
        uint32_t ch;
        at += nc_utf8_decode(s + at, stop - at, &ch);
        col += nc_canvas_putc(c, y, x + col, ch, st);
    }
    if (stop < n) {
        uint32_t e;
        const char *g = nc_canvas_glyph(c, NC_G_ELLIPSIS);
        nc_utf8_decode(g, strlen(g), &e);
        col += nc_canvas_putc(c, y, x + col, e, st);
    }
    return x + col;
}

int nc_canvas_text(nc_canvas_t *c, int y, int x, const char *s, nc_style_t st)
{
    return nc_canvas_textn(c, y, x, -1, s, st, false);
}

int nc_canvas_printf(nc_canvas_t *c, int y, int x, nc_style_t st, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    return nc_canvas_textn(c, y, x, -1, tmp, st, false);
}

void nc_canvas_fill(nc_canvas_t *c, int y, int x, int h, int w, uint32_t ch, nc_style_t st)
{
    for (int r = y; r < y + h; r++)
        for (int col = x; col < x + w; col++)
            nc_canvas_putc(c, r, col, ch, st);
}

/* The first code point of a glyph's text. */
static uint32_t nc_canvas_glyph_ch(const nc_canvas_t *c, nc_glyph_t g)
{
    const char *s = nc_canvas_glyph(c, g);
    uint32_t ch;
    nc_utf8_decode(s, strlen(s), &ch);
    return ch;
}

void nc_canvas_hline(nc_canvas_t *c, int y, int x, int w, nc_style_t st)
{
    nc_canvas_fill(c, y, x, 1, w, nc_canvas_glyph_ch(c, NC_G_HLINE), st);
}

void nc_canvas_vline(nc_canvas_t *c, int y, int x, int h, nc_style_t st)
{
    nc_canvas_fill(c, y, x, h, 1, nc_canvas_glyph_ch(c, NC_G_VLINE), st);
}

void nc_canvas_box(nc_canvas_t *c, int y, int x, int h, int w, nc_style_t st)
{
    if (h < 2 || w < 2)
        return;
    nc_canvas_hline(c, y, x + 1, w - 2, st);
    nc_canvas_hline(c, y + h - 1, x + 1, w - 2, st);
    nc_canvas_vline(c, y + 1, x, h - 2, st);
    nc_canvas_vline(c, y + 1, x + w - 1, h - 2, st);
    nc_canvas_putc(c, y, x, nc_canvas_glyph_ch(c, NC_G_TL), st);
    nc_canvas_putc(c, y, x + w - 1, nc_canvas_glyph_ch(c, NC_G_TR), st);
    nc_canvas_putc(c, y + h - 1, x, nc_canvas_glyph_ch(c, NC_G_BL), st);
    nc_canvas_putc(c, y + h - 1, x + w - 1, nc_canvas_glyph_ch(c, NC_G_BR), st);
}

void nc_canvas_mark(nc_canvas_t *c, int y, int x, int w, nc_style_t st)
{
    for (int col = x; col < x + w; col++) {
        nc_cell_t *cell = nc_canvas_inside(c, y, col) ? nc_canvas_cell(c, y, col) : NULL;
        if (!cell)
            continue;
        cell->attr |= st.attr;
        if (st.role != NC_ROLE_NORMAL)
            cell->role = st.role;
    }
}

void nc_canvas_to_text(const nc_canvas_t *c, nc_buf_t *out)
{
    nc_buf_t line;
    nc_buf_init(&line);
    for (int y = 0; y < c->h; y++) {
        nc_buf_reset(&line);
        size_t keep = 0; /* length of the line up to its last non-space */
        for (int x = 0; x < c->w; x++) {
            uint32_t ch = c->cells[(size_t)y * (size_t)c->w + (size_t)x].ch;
            if (ch == 0)
                continue;
            nc_utf8_put(&line, ch);
            if (ch != ' ')
                keep = line.len;
        }
        nc_buf_append(out, nc_buf_cstr(&line), keep);
        nc_buf_putc(out, '\n');
    }
    nc_buf_done(&line);
}

void nc_cellv_init(nc_cellv_t *v)
{
    memset(v, 0, sizeof *v);
}

void nc_cellv_done(nc_cellv_t *v)
{
    free(v->v);
    memset(v, 0, sizeof *v);
}

void nc_cellv_reset(nc_cellv_t *v)
{
    v->n = 0;
}

void nc_cellv_putc(nc_cellv_t *v, uint32_t ch, nc_style_t st)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 64;
        v->v = nc_xrealloc(v->v, v->cap * sizeof *v->v);
    }
    v->v[v->n++] = (nc_cell_t){ch, st.attr, st.role};
}

void nc_cellv_puts(nc_cellv_t *v, const char *s, nc_style_t st)
{
    if (!s)
        return;
    size_t n = strlen(s);
    while (n > 0) {
        uint32_t ch;
        size_t k = nc_utf8_decode(s, n, &ch);
        if (ch == '\n' || ch == '\t' || ch == '\r')
            ch = ' ';
        if (nc_wcwidth(ch) > 0)
            nc_cellv_putc(v, ch, st);
        s += k, n -= k;
    }
}

bool nc_cellv_wrap(const nc_cellv_t *v, size_t start, int width, size_t *end, size_t *next)
{
    if (width < 1)
        width = 1;
    while (start < v->n && v->v[start].ch == ' ')
        start++;
    if (start >= v->n) {
        *end = *next = v->n;
        return false;
    }
    int col = 0;
    size_t i = start, brk = 0; /* brk: index of the last space that fits */
    while (i < v->n) {
        int cw = nc_wcwidth(v->v[i].ch);
        if (col + cw > width)
            break;
        if (v->v[i].ch == ' ')
            brk = i;
        col += cw;
        i++;
    }
    if (i >= v->n) {
        *end = v->n;
    } else if (v->v[i].ch == ' ') {
        *end = i;
    } else if (brk > start) {
        *end = brk;
    } else {
        *end = i > start ? i : start + 1; /* a word longer than the line */
    }
    size_t nx = *end;
    while (*end > start && v->v[*end - 1].ch == ' ')
        (*end)--;
    while (nx < v->n && v->v[nx].ch == ' ')
        nx++;
    *next = nx;
    return true;
}

int nc_canvas_cells(nc_canvas_t *c, int y, int x, const nc_cell_t *cells, size_t n)
{
    /* Cells that run past the canvas or the clip end with an ellipsis, as
     * text does. */
    int right = c->clip_x + c->clip_w < c->w ? c->clip_x + c->clip_w : c->w;
    int total = 0;
    for (size_t i = 0; i < n; i++)
        total += nc_wcwidth(cells[i].ch);
    int room = x + total > right ? right - x - 1 : total;
    int used = 0;
    size_t i = 0;
    for (; i < n && used + nc_wcwidth(cells[i].ch) <= room; i++) {
        used += nc_wcwidth(cells[i].ch);
        x += nc_canvas_putc(c, y, x, cells[i].ch, NC_STYLE(cells[i].attr, cells[i].role));
    }
    if (i < n && room >= 0) {
        const char *g = nc_canvas_glyph(c, NC_G_ELLIPSIS);
        uint32_t e;
        nc_utf8_decode(g, strlen(g), &e);
        x += nc_canvas_putc(c, y, x, e, NC_STYLE(cells[i].attr, cells[i].role));
    }
    return x;
}

int nc_canvas_wrapv(nc_canvas_t *c, int y, int x, int h, int w, const nc_cellv_t *v)
{
    size_t at = 0, end, next;
    int lines = 0, last_x = x;
    nc_style_t last_st = NC_PLAIN;
    while (nc_cellv_wrap(v, at, w, &end, &next)) {
        if (lines < h) {
            last_x = nc_canvas_cells(c, y + lines, x, v->v + at, end - at);
            if (end > at)
                last_st = NC_STYLE(v->v[end - 1].attr, v->v[end - 1].role);
        }
        lines++;
        at = next;
    }
    /* Lines that found no room: the last one drawn says so. */
    if (h > 0 && lines > h) {
        const char *g = nc_canvas_glyph(c, NC_G_ELLIPSIS);
        uint32_t e;
        nc_utf8_decode(g, strlen(g), &e);
        nc_canvas_putc(c, y + h - 1, last_x < x + w ? last_x : x + w - 1, e, last_st);
    }
    return lines;
}

int nc_canvas_wrap(nc_canvas_t *c, int y, int x, int h, int w, const char *s, nc_style_t st)
{
    nc_cellv_t v;
    nc_cellv_init(&v);
    nc_cellv_puts(&v, s, st);
    int lines = nc_canvas_wrapv(c, y, x, h, w, &v);
    nc_cellv_done(&v);
    return lines;
}
