/*
 * diagram.c: sequence diagrams in SVG and Mermaid.
 *
 * Data model: `rows` holds one entry per event: its kind, time, lanes (from
 * and to as indexes into `lanes`, -1 when none), summary and note, all
 * copied. Lanes are the hosts in order of first appearance; rendering
 * orders them (client first, server last) through `order`. Layout, in SVG
 * user units: a time column, the lanes spread over NC_SVG_LANES_W, then the
 * annotation column; each row is as tall as its wrapped note needs. Text
 * widths are estimated (NC_SVG_CHAR_W per character of the 13px sans-serif
 * face), which is all a renderer-independent layout can do.
 */
#include "diagram.h"

#include "../core/xmalloc.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NC_DIAGRAM_MAX_LANES 8
#define NC_SVG_TIME_W 90.0
#define NC_SVG_LANES_W 760.0
#define NC_SVG_NOTE_W 520.0
#define NC_SVG_CHAR_W 7.2 /* average advance of 13px sans-serif */
#define NC_SVG_NOTE_CHAR_W 6.6
#define NC_SVG_LINE_H 16.0
#define NC_SVG_ROW_MIN 34.0
#define NC_SVG_HEAD_H 96.0

typedef struct nc_drow {
    nc_event_type_t type;
    uint64_t i;
    int64_t t_ns;
    int from, to; /* lanes; -1 when none */
    bool dropped;
    char *summary, *note;
} nc_drow_t;

struct nc_diagram {
    nc_drow_t *rows;
    size_t n, cap;
    char *lanes[NC_DIAGRAM_MAX_LANES];
    int nlanes;
};

nc_diagram_t *nc_diagram_new(void)
{
    return nc_xcalloc(1, sizeof(nc_diagram_t));
}

void nc_diagram_free(nc_diagram_t *d)
{
    if (d == NULL)
        return;
    for (size_t k = 0; k < d->n; k++) {
        free(d->rows[k].summary);
        free(d->rows[k].note);
    }
    for (int k = 0; k < d->nlanes; k++)
        free(d->lanes[k]);
    free(d->rows);
    free(d);
}

size_t nc_diagram_count(const nc_diagram_t *d)
{
    return d->n;
}

static int nc_diagram_lane(nc_diagram_t *d, const char *host)
{
    if (host == NULL || host[0] == '\0')
        return -1;
    for (int k = 0; k < d->nlanes; k++)
        if (strcmp(d->lanes[k], host) == 0)
            return k;
    if (d->nlanes == NC_DIAGRAM_MAX_LANES)
        return -1;
    d->lanes[d->nlanes] = nc_xstrdup(host);
    return d->nlanes++;
}

void nc_diagram_add(nc_diagram_t *d, const nc_event_t *ev)
{
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 64;
        d->rows = nc_xrealloc(d->rows, d->cap * sizeof *d->rows);
    }
    nc_drow_t *r = &d->rows[d->n++];
    memset(r, 0, sizeof *r);
    r->type = ev->type;
    r->i = ev->i;
    r->t_ns = ev->t_ns;
    r->from = r->to = -1;
    if (ev->type == NC_EV_PACKET) {
        r->from = nc_diagram_lane(d, nc_event_str(ev, "from"));
        r->to = nc_diagram_lane(d, nc_event_str(ev, "to"));
        r->dropped = nc_event_bool(ev, "dropped");
    } else if (ev->type == NC_EV_APP || ev->type == NC_EV_STATE) {
        r->from = nc_diagram_lane(d, ev->host);
    }
    r->summary = nc_xstrdup(ev->summary ? ev->summary : "");
    r->note = ev->note && ev->note[0] ? nc_xstrdup(ev->note) : NULL;
}

/* Lane order for drawing: order[k] is the lane drawn k-th from the left. */
static void nc_diagram_order(const nc_diagram_t *d, int *pos)
{
    int order[NC_DIAGRAM_MAX_LANES], n = 0, client = -1, server = -1;
    for (int k = 0; k < d->nlanes; k++) {
        if (strcmp(d->lanes[k], "client") == 0)
            client = k;
        else if (strcmp(d->lanes[k], "server") == 0)
            server = k;
    }
    if (client >= 0)
        order[n++] = client;
    for (int k = 0; k < d->nlanes; k++)
        if (k != client && k != server)
            order[n++] = k;
    if (server >= 0)
        order[n++] = server;
    for (int k = 0; k < n; k++)
        pos[order[k]] = k;
}

/* ---- SVG ---- */

void nc_diagram_xml(nc_buf_t *out, const char *s, size_t n)
{
    for (size_t k = 0; k < n && s[k]; k++) {
        unsigned char c = (unsigned char)s[k];
        switch (c) {
        case '<':
            nc_buf_puts(out, "&lt;");
            break;
        case '>':
            nc_buf_puts(out, "&gt;");
            break;
        case '&':
            nc_buf_puts(out, "&amp;");
            break;
        case '"':
            nc_buf_puts(out, "&quot;");
            break;
        default:
            /* XML 1.0 forbids most control characters. */
            nc_buf_putc(out, c < 0x20 ? ' ' : (char)c);
        }
    }
}

/* Counts the UTF-8 characters of s[0..n). */
static size_t nc_chars(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t k = 0; k < n; k++)
        c += ((unsigned char)s[k] & 0xC0) != 0x80;
    return c;
}

/* Splits text into lines of at most width characters at spaces; calls
 * emit(line, len) for each, or only counts them when emit is NULL. */
static int nc_wrap(const char *text, size_t width, nc_buf_t *out, double x, double y, double lh,
                   const char *attrs)
{
    int lines = 0;
    const char *p = text;
    while (p && *p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        const char *end = p, *cut = NULL;
        size_t chars = 0;
        while (*end && chars < width) {
            if (*end == ' ')
                cut = end;
            end++;
            if (((unsigned char)*end & 0xC0) != 0x80)
                chars++;
        }
        if (*end && cut && cut > p)
            end = cut;
        else
            while (*end && ((unsigned char)*end & 0xC0) == 0x80)
                end++;
        if (out) {
            nc_buf_printf(out, "<text x=\"%.1f\" y=\"%.1f\" %s>", x, y + lines * lh, attrs);
            nc_diagram_xml(out, p, (size_t)(end - p));
            nc_buf_puts(out, "</text>\n");
        }
        lines++;
        p = end;
    }
    return lines;
}

/* A single line, cut with an ellipsis to at most width characters. */
static void nc_svg_text(nc_buf_t *out, double x, double y, const char *attrs, const char *s,
                        size_t width)
{
    nc_buf_printf(out, "<text x=\"%.1f\" y=\"%.1f\" %s>", x, y, attrs);
    size_t len = strlen(s);
    if (nc_chars(s, len) <= width) {
        nc_diagram_xml(out, s, len);
    } else {
        size_t k = 0, chars = 0;
        while (k < len && chars + 1 < width) {
            k++;
            if (((unsigned char)s[k] & 0xC0) != 0x80)
                chars++;
        }
        nc_diagram_xml(out, s, k);
        nc_buf_puts(out, "\xe2\x80\xa6");
    }
    nc_buf_puts(out, "</text>\n");
}

static const char *nc_lane_color(const nc_diagram_t *d, int lane)
{
    if (lane < 0)
        return "#555555";
    if (strcmp(d->lanes[lane], "client") == 0)
        return "#1f5fbf";
    if (strcmp(d->lanes[lane], "server") == 0)
        return "#2e7d32";
    static const char *const other[] = {"#8e44ad", "#c0392b", "#d35400", "#16a085"};
    return other[lane % 4];
}

void nc_diagram_svg(const nc_diagram_t *d, const char *title, nc_buf_t *out)
{
    int pos[NC_DIAGRAM_MAX_LANES] = {0};
    nc_diagram_order(d, pos);
    double lx0 = NC_SVG_TIME_W + 70, lx1 = NC_SVG_TIME_W + NC_SVG_LANES_W - 70;
    double lane_x[NC_DIAGRAM_MAX_LANES];
    for (int k = 0; k < d->nlanes; k++)
        lane_x[k] = d->nlanes == 1 ? (lx0 + lx1) / 2
                                   : lx0 + pos[k] * (lx1 - lx0) / (d->nlanes - 1);
    double note_x = NC_SVG_TIME_W + NC_SVG_LANES_W + 20;
    size_t note_chars = (size_t)((NC_SVG_NOTE_W - 30) / NC_SVG_NOTE_CHAR_W);
    double width = NC_SVG_TIME_W + NC_SVG_LANES_W + NC_SVG_NOTE_W;

    /* Heights first: a row is as tall as its wrapped note. */
    double *row_h = nc_xcalloc(d->n ? d->n : 1, sizeof *row_h);
    double height = NC_SVG_HEAD_H + 20;
    for (size_t k = 0; k < d->n; k++) {
        int lines = d->rows[k].note ? nc_wrap(d->rows[k].note, note_chars, NULL, 0, 0, 0, "") : 0;
        row_h[k] = lines * NC_SVG_LINE_H + 12;
        if (row_h[k] < NC_SVG_ROW_MIN)
            row_h[k] = NC_SVG_ROW_MIN;
        height += row_h[k];
    }

    nc_buf_printf(out,
                  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                  "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
                  "viewBox=\"0 0 %.0f %.0f\" font-family=\"DejaVu Sans, Helvetica, Arial, "
                  "sans-serif\" font-size=\"13\">\n",
                  width, height, width, height);
    nc_buf_puts(out, "<defs>\n");
    for (int k = 0; k < d->nlanes; k++)
        nc_buf_printf(out,
                      "<marker id=\"arrow%d\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" "
                      "markerWidth=\"8\" markerHeight=\"8\" orient=\"auto-start-reverse\">"
                      "<path d=\"M0,0 L10,5 L0,10 z\" fill=\"%s\"/></marker>\n",
                      k, nc_lane_color(d, k));
    nc_buf_puts(out, "</defs>\n");
    nc_buf_printf(out, "<rect x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#ffffff\"/>\n",
                  width, height);
    if (title) {
        nc_buf_puts(out, "<text x=\"20\" y=\"30\" font-size=\"20\" font-weight=\"bold\" "
                         "fill=\"#222222\">");
        nc_diagram_xml(out, title, strlen(title));
        nc_buf_puts(out, "</text>\n");
    }
    double head_y = NC_SVG_HEAD_H - 20;
    nc_buf_printf(out, "<text x=\"20\" y=\"%.1f\" font-weight=\"bold\" fill=\"#777777\">time (s)"
                       "</text>\n", head_y);
    nc_buf_printf(out, "<text x=\"%.1f\" y=\"%.1f\" font-weight=\"bold\" fill=\"#777777\">"
                       "what it means</text>\n", note_x, head_y);
    for (int k = 0; k < d->nlanes; k++) {
        nc_buf_printf(out,
                      "<rect x=\"%.1f\" y=\"%.1f\" width=\"120\" height=\"28\" rx=\"6\" "
                      "fill=\"%s\"/>\n",
                      lane_x[k] - 60, head_y - 19, nc_lane_color(d, k));
        nc_buf_printf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"15\" "
                           "font-weight=\"bold\" fill=\"#ffffff\">",
                      lane_x[k], head_y);
        nc_diagram_xml(out, d->lanes[k], strlen(d->lanes[k]));
        nc_buf_puts(out, "</text>\n");
        nc_buf_printf(out,
                      "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                      "stroke-width=\"2\" stroke-opacity=\"0.35\"/>\n",
                      lane_x[k], head_y + 9, lane_x[k], height - 10, nc_lane_color(d, k));
    }

    double y = NC_SVG_HEAD_H;
    for (size_t k = 0; k < d->n; k++) {
        const nc_drow_t *r = &d->rows[k];
        double h = row_h[k], mid = y + 20;
        if (k % 2)
            nc_buf_printf(out, "<rect x=\"0\" y=\"%.1f\" width=\"%.0f\" height=\"%.1f\" "
                               "fill=\"#f5f7fa\"/>\n", y, width, h);
        nc_buf_printf(out, "<text x=\"20\" y=\"%.1f\" fill=\"#888888\" font-size=\"12\">"
                           "%+.6f</text>\n", mid, (double)r->t_ns / 1e9);
        if (r->type == NC_EV_PACKET && r->from >= 0 && r->to >= 0 && r->from != r->to) {
            double x1 = lane_x[r->from], x2 = lane_x[r->to];
            const char *color = r->dropped ? "#c62828" : nc_lane_color(d, r->from);
            double xe = r->dropped ? (x1 + x2) / 2 : x2 + (x2 > x1 ? -2 : 2);
            char tail[64];
            if (r->dropped)
                snprintf(tail, sizeof tail, " stroke-dasharray=\"6,4\"");
            else
                snprintf(tail, sizeof tail, " marker-end=\"url(#arrow%d)\"", r->from);
            nc_buf_printf(out,
                          "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                          "stroke-width=\"2\"%s/>\n",
                          x1, mid, xe, mid + 6, color, tail);
            if (r->dropped)
                nc_buf_printf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                                   "font-size=\"20\" font-weight=\"bold\" fill=\"#c62828\">"
                                   "\xe2\x9c\x95</text>\n", xe, mid + 13);
            double span = (x2 > x1 ? x2 - x1 : x1 - x2) - 20;
            size_t chars = (size_t)(span / NC_SVG_CHAR_W);
            char attrs[128];
            snprintf(attrs, sizeof attrs, "text-anchor=\"middle\" fill=\"%s\"%s",
                     r->dropped ? "#c62828" : "#222222", r->dropped ? " font-weight=\"bold\"" : "");
            nc_svg_text(out, (x1 + x2) / 2, mid - 5, attrs, r->summary, chars ? chars : 1);
        } else if (r->type == NC_EV_MARK || r->type == NC_EV_NOTE || r->from < 0) {
            const char *fill = r->type == NC_EV_MARK ? "#fff4d6" : "#eeeeee";
            nc_buf_printf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"24\" rx=\"4\" "
                               "fill=\"%s\" stroke=\"#d9b44a\" stroke-opacity=\"%s\"/>\n",
                          NC_SVG_TIME_W, mid - 16, NC_SVG_LANES_W - 10, fill,
                          r->type == NC_EV_MARK ? "0.8" : "0");
            nc_svg_text(out, NC_SVG_TIME_W + 10, mid, "font-weight=\"bold\" fill=\"#5a4500\"",
                        r->summary, (size_t)((NC_SVG_LANES_W - 30) / 8.0)); /* bold is wider */
        } else {
            /* An app event or a packet with one end: text beside its lane. */
            double x = lane_x[r->from];
            bool right = pos[r->from] < d->nlanes - 1 || d->nlanes == 1;
            double room = right ? (d->nlanes > 1 && pos[r->from] < d->nlanes - 1
                                       ? (lx1 - lx0) / (d->nlanes - 1) - 20
                                       : NC_SVG_TIME_W + NC_SVG_LANES_W - x - 10)
                                : (d->nlanes > 1 ? (lx1 - lx0) / (d->nlanes - 1) - 20 : 300);
            char attrs[128];
            snprintf(attrs, sizeof attrs, "text-anchor=\"%s\" font-style=\"italic\" fill=\"%s\"",
                     right ? "start" : "end", nc_lane_color(d, r->from));
            nc_buf_printf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"/>\n", x,
                          mid - 4, nc_lane_color(d, r->from));
            nc_svg_text(out, right ? x + 10 : x - 10, mid, attrs, r->summary,
                        (size_t)(room / NC_SVG_CHAR_W));
        }
        if (r->note)
            nc_wrap(r->note, note_chars, out, note_x, y + 18, NC_SVG_LINE_H,
                    "font-size=\"12\" fill=\"#444444\"");
        y += h;
    }
    nc_buf_puts(out, "</svg>\n");
    free(row_h);
}

/* ---- Mermaid ---- */

/* Mermaid message text: no newlines, and ';' and '#' written as entities
 * (a bare ';' ends a statement, '#' starts one). */
static void nc_mermaid_text(nc_buf_t *out, const char *s)
{
    for (; *s; s++) {
        if (*s == ';')
            nc_buf_puts(out, "#59;");
        else if (*s == '#')
            nc_buf_puts(out, "#35;");
        else if (*s == '\n' || *s == '\r')
            nc_buf_putc(out, ' ');
        else
            nc_buf_putc(out, *s);
    }
}

void nc_diagram_mermaid(const nc_diagram_t *d, const char *title, nc_buf_t *out)
{
    int pos[NC_DIAGRAM_MAX_LANES] = {0}, order[NC_DIAGRAM_MAX_LANES];
    nc_diagram_order(d, pos);
    for (int k = 0; k < d->nlanes; k++)
        order[pos[k]] = k;
    nc_buf_puts(out, "sequenceDiagram\n");
    if (title) {
        nc_buf_puts(out, "    title ");
        nc_mermaid_text(out, title);
        nc_buf_putc(out, '\n');
    }
    for (int k = 0; k < d->nlanes; k++) {
        nc_buf_printf(out, "    participant P%d as ", order[k]);
        nc_mermaid_text(out, d->lanes[order[k]]);
        nc_buf_putc(out, '\n');
    }
    int left = d->nlanes ? order[0] : -1, right = d->nlanes ? order[d->nlanes - 1] : -1;
    for (size_t k = 0; k < d->n; k++) {
        const nc_drow_t *r = &d->rows[k];
        if (r->type == NC_EV_PACKET && r->from >= 0 && r->to >= 0 && r->from != r->to) {
            nc_buf_printf(out, "    P%d%sP%d: ", r->from, r->dropped ? "-x" : "->>", r->to);
            nc_mermaid_text(out, r->summary);
            nc_buf_putc(out, '\n');
            if (r->note) {
                nc_buf_printf(out, "    Note right of P%d: ", right);
                nc_mermaid_text(out, r->note);
                nc_buf_putc(out, '\n');
            }
        } else if (r->from >= 0 && r->type != NC_EV_MARK) {
            nc_buf_printf(out, "    Note %s of P%d: ", pos[r->from] == 0 ? "left" : "right",
                          r->from);
            nc_mermaid_text(out, r->summary);
            nc_buf_putc(out, '\n');
        } else if (left >= 0) {
            if (left == right)
                nc_buf_printf(out, "    Note over P%d: ", left);
            else
                nc_buf_printf(out, "    Note over P%d,P%d: ", left, right);
            nc_mermaid_text(out, r->summary);
            nc_buf_putc(out, '\n');
        }
    }
}
