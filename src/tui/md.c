/*
 * md.c: laying out Markdown with cmark.
 *
 * The walk keeps a stack of the containers it is inside (block quotes and
 * list items). Each output line starts with a prefix built from that stack:
 * a bar per block quote, and per list item either its bullet (on the item's
 * first line) or as many spaces (on the lines after). Inline content of a
 * paragraph or heading is collected into one vector of styled cells, then
 * word-wrapped to the width left after the prefix. Code blocks keep their
 * lines as they are and are clipped, never wrapped.
 */
#include "md.h"

#include "../core/xmalloc.h"

#include <cmark.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { NC_MD_QUOTE, NC_MD_ITEM };

#define NC_MD_DEPTH 32

typedef struct nc_md_frame {
    int kind;
    char bullet[16]; /* ITEM: "• " or "12. " */
    int bw;          /* its width in columns */
    bool used;       /* the bullet was printed */
} nc_md_frame_t;

typedef struct nc_md_walk {
    nc_md_t *md;
    int width;
    bool utf8;
    nc_md_frame_t stack[NC_MD_DEPTH];
    int depth;
    bool tight[NC_MD_DEPTH]; /* per open list */
    int number[NC_MD_DEPTH]; /* next item number per open list */
    int lists;
    nc_cellv_t para;
    uint8_t block_attr;
    uint8_t block_role;
    int emph, strong, link;
    bool need_blank;
} nc_md_walk_t;

void nc_md_init(nc_md_t *md)
{
    memset(md, 0, sizeof *md);
    nc_cellv_init(&md->cells);
}

void nc_md_done(nc_md_t *md)
{
    nc_cellv_done(&md->cells);
    free(md->lines);
    memset(md, 0, sizeof *md);
}

static void nc_md_push_line(nc_md_t *md, size_t off)
{
    if (md->nlines == md->cap) {
        md->cap = md->cap ? md->cap * 2 : 64;
        md->lines = nc_xrealloc(md->lines, md->cap * sizeof *md->lines);
    }
    md->lines[md->nlines++] = (nc_md_line_t){off, md->cells.n - off};
}

/* Appends the prefix for the current line; returns its width. A bullet is
 * consumed only by a line with content (blank lines never show one). */
static int nc_md_prefix(nc_md_walk_t *w, bool content)
{
    int width = 0;
    for (int i = 0; i < w->depth; i++) {
        nc_md_frame_t *f = &w->stack[i];
        if (f->kind == NC_MD_QUOTE) {
            nc_cellv_puts(&w->md->cells, w->utf8 ? "│ " : "| ", NC_STYLE(0, NC_ROLE_MUTED));
            width += 2;
        } else if (content && !f->used) {
            nc_cellv_puts(&w->md->cells, f->bullet, NC_STYLE(0, NC_ROLE_ACCENT));
            f->used = true;
            width += f->bw;
        } else {
            for (int k = 0; k < f->bw; k++)
                nc_cellv_putc(&w->md->cells, ' ', NC_PLAIN);
            width += f->bw;
        }
    }
    return width;
}

/* The prefix's width without emitting it. */
static int nc_md_prefix_width(const nc_md_walk_t *w)
{
    int width = 0;
    for (int i = 0; i < w->depth; i++)
        width += w->stack[i].kind == NC_MD_QUOTE ? 2 : w->stack[i].bw;
    return width;
}

static void nc_md_blank(nc_md_walk_t *w)
{
    size_t off = w->md->cells.n;
    for (int i = 0; i < w->depth; i++)
        if (w->stack[i].kind == NC_MD_QUOTE)
            nc_cellv_puts(&w->md->cells, w->utf8 ? "│" : "|", NC_STYLE(0, NC_ROLE_MUTED));
    nc_md_push_line(w->md, off);
}

static void nc_md_begin_block(nc_md_walk_t *w)
{
    if (w->need_blank && w->md->nlines > 0)
        nc_md_blank(w);
    w->need_blank = false;
}

/* Wraps the collected paragraph into lines. */
static void nc_md_flush(nc_md_walk_t *w)
{
    int room = w->width - nc_md_prefix_width(w);
    if (room < 10)
        room = 10;
    size_t at = 0, end, next;
    while (nc_cellv_wrap(&w->para, at, room, &end, &next)) {
        size_t off = w->md->cells.n;
        nc_md_prefix(w, true);
        for (size_t i = at; i < end; i++)
            nc_cellv_putc(&w->md->cells, w->para.v[i].ch,
                          NC_STYLE(w->para.v[i].attr, w->para.v[i].role));
        nc_md_push_line(w->md, off);
        at = next;
    }
    nc_cellv_reset(&w->para);
}

/* Emits literal lines (code and HTML blocks), clipped to the width. */
static void nc_md_literal(nc_md_walk_t *w, const char *text, nc_style_t st, int indent)
{
    const char *p = text ? text : "";
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        size_t off = w->md->cells.n;
        int col = nc_md_prefix(w, true) + indent;
        for (int k = 0; k < indent; k++)
            nc_cellv_putc(&w->md->cells, ' ', NC_PLAIN);
        char *line = nc_xstrndup(p, len);
        nc_cellv_t tmp;
        nc_cellv_init(&tmp);
        nc_cellv_puts(&tmp, line, st);
        for (size_t i = 0; i < tmp.n && col + nc_wcwidth(tmp.v[i].ch) <= w->width; i++) {
            col += nc_wcwidth(tmp.v[i].ch);
            nc_cellv_putc(&w->md->cells, tmp.v[i].ch, st);
        }
        nc_cellv_done(&tmp);
        free(line);
        nc_md_push_line(w->md, off);
        p += len;
        if (*p == '\n')
            p++;
    }
}

static nc_style_t nc_md_inline_style(const nc_md_walk_t *w, bool code)
{
    uint8_t attr = w->block_attr;
    uint8_t role = w->block_role;
    if (w->emph || w->link)
        attr |= NC_A_UNDERLINE;
    if (w->strong)
        attr |= NC_A_BOLD;
    if (code || w->link)
        role = NC_ROLE_ACCENT;
    return NC_STYLE(attr, role);
}

static void nc_md_node(nc_md_walk_t *w, cmark_node *node, cmark_event_type ev)
{
    bool enter = ev == CMARK_EVENT_ENTER;
    switch (cmark_node_get_type(node)) {
    case CMARK_NODE_PARAGRAPH:
    case CMARK_NODE_HEADING:
        if (enter) {
            nc_md_begin_block(w);
            nc_cellv_reset(&w->para);
            if (cmark_node_get_type(node) == CMARK_NODE_HEADING) {
                w->block_attr = NC_A_BOLD;
                w->block_role = cmark_node_get_heading_level(node) <= 2 ? NC_ROLE_ACCENT
                                                                         : NC_ROLE_NORMAL;
            }
        } else {
            nc_md_flush(w);
            bool heading = cmark_node_get_type(node) == CMARK_NODE_HEADING;
            w->block_attr = 0;
            w->block_role = NC_ROLE_NORMAL;
            /* In a tight list the items' paragraphs sit on adjacent lines. */
            w->need_blank = heading || w->lists == 0 || !w->tight[w->lists - 1];
        }
        break;
    case CMARK_NODE_CODE_BLOCK:
        nc_md_begin_block(w);
        nc_md_literal(w, cmark_node_get_literal(node), NC_STYLE(0, NC_ROLE_ACCENT), 2);
        w->need_blank = true;
        break;
    case CMARK_NODE_HTML_BLOCK:
        nc_md_begin_block(w);
        nc_md_literal(w, cmark_node_get_literal(node), NC_STYLE(0, NC_ROLE_MUTED), 0);
        w->need_blank = true;
        break;
    case CMARK_NODE_THEMATIC_BREAK: {
        nc_md_begin_block(w);
        size_t off = w->md->cells.n;
        int col = nc_md_prefix(w, false);
        for (; col < w->width; col++)
            nc_cellv_puts(&w->md->cells, w->utf8 ? "─" : "-", NC_STYLE(0, NC_ROLE_MUTED));
        nc_md_push_line(w->md, off);
        w->need_blank = true;
        break;
    }
    case CMARK_NODE_LIST:
        if (enter) {
            if (w->lists == 0)
                nc_md_begin_block(w);
            if (w->lists < NC_MD_DEPTH) {
                w->tight[w->lists] = cmark_node_get_list_tight(node);
                w->number[w->lists] = cmark_node_get_list_type(node) == CMARK_ORDERED_LIST
                                          ? cmark_node_get_list_start(node)
                                          : -1;
            }
            w->lists++;
        } else {
            w->lists--;
            w->need_blank = true;
        }
        break;
    case CMARK_NODE_ITEM:
        if (enter && w->depth < NC_MD_DEPTH) {
            nc_md_frame_t *f = &w->stack[w->depth++];
            memset(f, 0, sizeof *f);
            f->kind = NC_MD_ITEM;
            int li = w->lists > 0 && w->lists <= NC_MD_DEPTH ? w->lists - 1 : 0;
            if (w->number[li] >= 0)
                snprintf(f->bullet, sizeof f->bullet, "%d. ", w->number[li]++);
            else
                snprintf(f->bullet, sizeof f->bullet, "%s ", w->utf8 ? "•" : "*");
            f->bw = nc_text_width(f->bullet);
            if (w->lists > 0 && !w->tight[li] && w->md->nlines > 0)
                nc_md_begin_block(w);
            else
                w->need_blank = false;
        } else if (!enter && w->depth > 0) {
            w->depth--;
        }
        break;
    case CMARK_NODE_BLOCK_QUOTE:
        if (enter && w->depth < NC_MD_DEPTH) {
            nc_md_begin_block(w);
            w->stack[w->depth++] = (nc_md_frame_t){.kind = NC_MD_QUOTE};
        } else if (!enter && w->depth > 0) {
            w->depth--;
            w->need_blank = true;
        }
        break;
    case CMARK_NODE_TEXT:
        nc_cellv_puts(&w->para, cmark_node_get_literal(node), nc_md_inline_style(w, false));
        break;
    case CMARK_NODE_CODE:
        nc_cellv_puts(&w->para, cmark_node_get_literal(node), nc_md_inline_style(w, true));
        break;
    case CMARK_NODE_HTML_INLINE:
        nc_cellv_puts(&w->para, cmark_node_get_literal(node), NC_STYLE(0, NC_ROLE_MUTED));
        break;
    case CMARK_NODE_SOFTBREAK:
    case CMARK_NODE_LINEBREAK:
        nc_cellv_putc(&w->para, ' ', nc_md_inline_style(w, false));
        break;
    case CMARK_NODE_EMPH:
        w->emph += enter ? 1 : -1;
        break;
    case CMARK_NODE_STRONG:
        w->strong += enter ? 1 : -1;
        break;
    case CMARK_NODE_LINK:
        w->link += enter ? 1 : -1;
        break;
    case CMARK_NODE_IMAGE:
        nc_cellv_puts(&w->para, enter ? "[image: " : "]", NC_STYLE(0, NC_ROLE_MUTED));
        break;
    default:
        break;
    }
}

void nc_md_layout(nc_md_t *md, const char *markdown, int width, bool utf8)
{
    nc_cellv_reset(&md->cells);
    md->nlines = 0;
    nc_md_walk_t w;
    memset(&w, 0, sizeof w);
    w.md = md;
    w.width = width > 10 ? width : 10;
    w.utf8 = utf8;
    nc_cellv_init(&w.para);
    const char *text = markdown ? markdown : "";
    cmark_node *doc = cmark_parse_document(text, strlen(text), CMARK_OPT_DEFAULT);
    cmark_iter *it = cmark_iter_new(doc);
    cmark_event_type ev;
    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE)
        nc_md_node(&w, cmark_iter_get_node(it), ev);
    cmark_iter_free(it);
    cmark_node_free(doc);
    nc_cellv_done(&w.para);
}
