/*
 * md.h: Markdown laid out as styled lines, for the lesson reader.
 *
 * nc_md_layout() parses a page with cmark and walks its tree: headings are
 * bold, emphasis underlined, strong text bold, code spans and code blocks in
 * the accent color, lists get bullets or numbers, block quotes a bar. The
 * result is a list of lines of styled cells, each at most width columns.
 */
#ifndef NC_MD_H
#define NC_MD_H

#include "canvas.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct nc_md_line {
    size_t off, n; /* cells [off, off + n) of nc_md_t.cells */
} nc_md_line_t;

typedef struct nc_md {
    nc_cellv_t cells;
    nc_md_line_t *lines;
    size_t nlines, cap;
} nc_md_t;

void nc_md_init(nc_md_t *md);
void nc_md_done(nc_md_t *md);
/* Lays markdown out at width columns (replacing what md held). utf8 picks
 * bullets and bars or their ASCII stand-ins. */
void nc_md_layout(nc_md_t *md, const char *markdown, int width, bool utf8);

#endif
