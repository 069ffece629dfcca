/*
 * compare_svg.c: comparisons drawn as standalone SVG, and two runs'
 * summaries as JSON.
 *
 * Data model: nothing is kept; each function reads its runs or table
 * (borrowed) and appends one document to a buffer. Layout, in SVG user
 * units: a 220-wide label column, then the time axis over NC_CSVG_AXIS_W.
 * Two runs share one axis, each aligned on its own first packet (time 0),
 * so their handshakes start together and what differs is where they end.
 * Each connection is one lane: a line from its first to its last packet,
 * a tick above the line for every packet the client side sent and below
 * for every packet it received, a red cross for a packet the wire
 * dropped, and a marker at the run's first and last answer. The summary
 * table follows, a row per measure (nc_compare_measures), with the rows
 * where the runs differ in bold.
 */
#include "compare.h"

#include "../runfile/diagram.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define NC_CSVG_LABEL_W 220.0
#define NC_CSVG_AXIS_W 700.0
#define NC_CSVG_W (NC_CSVG_LABEL_W + NC_CSVG_AXIS_W + 240.0)
#define NC_CSVG_LANE_H 22.0
#define NC_CSVG_ROW_H 20.0
#define NC_CSVG_MAX_LANES 24

static void nc_csvg_text(nc_buf_t *out, double x, double y, const char *attrs, const char *s)
{
    nc_buf_printf(out, "<text x=\"%.1f\" y=\"%.1f\"%s%s>", x, y, attrs ? " " : "",
                  attrs ? attrs : "");
    nc_diagram_xml(out, s, strlen(s));
    nc_buf_puts(out, "</text>\n");
}

static void nc_csvg_head(nc_buf_t *out, double h, const char *title)
{
    nc_buf_printf(out,
                  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                  "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
                  "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"13\">\n"
                  "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
                  NC_CSVG_W, h, NC_CSVG_W, h);
    nc_buf_puts(out, "<title>");
    nc_diagram_xml(out, title, strlen(title));
    nc_buf_puts(out, "</title>\n");
    nc_csvg_text(out, 20, 30, "font-size=\"16\" font-weight=\"bold\"", title);
}

/* A measure's value as shown: "123" or "104.2 ms". */
static void nc_csvg_value(const nc_compare_row_t *r, size_t k, char *buf, size_t len)
{
    int64_t v = nc_compare_value(r, k);
    if (nc_compare_measures[k].time)
        snprintf(buf, len, "%.1f ms", (double)v / 1e6);
    else
        snprintf(buf, len, "%" PRId64, v);
}

/* A round length for the axis that holds span_ns, and its tick step. */
static void nc_csvg_axis(int64_t span_ns, double *len_ms, double *step_ms)
{
    /* Steps of 1, 2 and 5 times a power of ten, at most ten of them. */
    static const double m[] = {1, 2, 5};
    double ms = (double)span_ns / 1e6, step = 1;
    for (double p = 1; ms / step > 10; p *= 10)
        for (size_t k = 0; k < 3 && ms / step > 10; k++)
            step = m[k] * p * 10 > step ? m[k] * p * 10 : step;
    *step_ms = step;
    *len_ms = step * (double)((int64_t)(ms / step) + 1);
}

/* The lanes of one run from y on; returns the y after them. */
static double nc_csvg_run(nc_buf_t *out, const nc_compare_run_t *r, const char *tag, double y,
                          double len_ms)
{
    char head[320];
    snprintf(head, sizeof head, "%s: %s", tag, r->name);
    nc_csvg_text(out, 20, y + 14, "font-weight=\"bold\"", head);
    y += NC_CSVG_LANE_H;
    double scale = NC_CSVG_AXIS_W / len_ms;
    for (size_t c = 0; c < r->nconns && c < NC_CSVG_MAX_LANES; c++) {
        const nc_compare_conn_t *cn = &r->conns[c];
        if (cn->n == 0)
            continue;
        double mid = y + NC_CSVG_LANE_H / 2;
        nc_buf_printf(out, "<g class=\"conn\" data-run=\"%s\">\n", tag);
        nc_csvg_text(out, 30, mid + 4, "font-size=\"11\" fill=\"#555\"", cn->label);
        double x0 = NC_CSVG_LABEL_W + (double)(cn->pts[0].t_ns - r->start_ns) / 1e6 * scale;
        double x1 = NC_CSVG_LABEL_W + (double)(cn->pts[cn->n - 1].t_ns - r->start_ns) / 1e6 * scale;
        nc_buf_printf(out,
                      "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\"/>\n",
                      x0, mid, x1, mid);
        for (size_t i = 0; i < cn->n; i++) {
            const nc_compare_point_t *p = &cn->pts[i];
            double x = NC_CSVG_LABEL_W + (double)(p->t_ns - r->start_ns) / 1e6 * scale;
            bool sent = p->flags & NC_COMPARE_SENT;
            if (p->flags & NC_COMPARE_DROPPED)
                nc_buf_printf(out,
                              "<path class=\"drop\" d=\"M%.1f %.1fl6 6m0 -6l-6 6\" "
                              "stroke=\"#c00\" stroke-width=\"2\"/>\n",
                              x - 3, mid - 3);
            else
                nc_buf_printf(out,
                              "<line class=\"%s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                              "stroke=\"%s\" stroke-width=\"%s\"/>\n",
                              sent ? "sent" : "received", x, mid, x, sent ? mid - 8 : mid + 8,
                              sent ? "#1f5fbf" : "#2a8a2a",
                              p->flags & (NC_COMPARE_DATA | NC_COMPARE_ANSWER) ? "2" : "1");
        }
        nc_buf_puts(out, "</g>\n");
        y += NC_CSVG_LANE_H;
    }
    if (r->nconns > NC_CSVG_MAX_LANES) {
        char more[64];
        snprintf(more, sizeof more, "and %zu more connections", r->nconns - NC_CSVG_MAX_LANES);
        nc_csvg_text(out, 30, y + 14, "font-size=\"11\" fill=\"#555\"", more);
        y += NC_CSVG_LANE_H;
    }
    /* The first and last answer, from the first packet. */
    const struct {
        int64_t ns;
        const char *what, *colour;
    } marks[] = {{r->row.first_byte_ns, "first byte", "#e08000"},
                 {r->row.time_ns, "last byte", "#800080"}};
    for (size_t k = 0; k < 2; k++) {
        if (r->row.answers == 0)
            break;
        double x = NC_CSVG_LABEL_W + (double)marks[k].ns / 1e6 * scale;
        char lab[64];
        snprintf(lab, sizeof lab, "%s %.1f ms", marks[k].what, (double)marks[k].ns / 1e6);
        nc_buf_printf(out,
                      "<line class=\"mark\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                      "stroke=\"%s\" stroke-dasharray=\"3 2\"/>\n",
                      x, y - NC_CSVG_LANE_H * (double)(r->nconns ? r->nconns : 1) - 4, x, y,
                      marks[k].colour);
        nc_csvg_text(out, x + 3, y + 12 + 12 * (double)k, "font-size=\"11\"", lab);
    }
    return y + 34;
}

static double nc_csvg_ticks(nc_buf_t *out, double y, double len_ms, double step_ms)
{
    double scale = NC_CSVG_AXIS_W / len_ms;
    nc_buf_printf(out,
                  "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n",
                  NC_CSVG_LABEL_W, y, NC_CSVG_LABEL_W + NC_CSVG_AXIS_W, y);
    for (double t = 0; t <= len_ms + 1e-9; t += step_ms) {
        char lab[32];
        snprintf(lab, sizeof lab, "%g ms", t);
        double x = NC_CSVG_LABEL_W + t * scale;
        nc_buf_printf(out,
                      "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n",
                      x, y, x, y + 5);
        nc_csvg_text(out, x, y + 18, "font-size=\"11\" text-anchor=\"middle\"", lab);
    }
    return y + 34;
}

void nc_compare_svg_runs(const nc_compare_run_t *a, const nc_compare_run_t *b, nc_buf_t *out)
{
    int64_t span = a->end_ns - a->start_ns;
    if (b->end_ns - b->start_ns > span)
        span = b->end_ns - b->start_ns;
    double len_ms, step_ms;
    nc_csvg_axis(span > 0 ? span : 1000000, &len_ms, &step_ms);
    size_t la = a->nconns < NC_CSVG_MAX_LANES ? a->nconns : NC_CSVG_MAX_LANES + 1;
    size_t lb = b->nconns < NC_CSVG_MAX_LANES ? b->nconns : NC_CSVG_MAX_LANES + 1;
    double h = 60 + (double)(la + lb + 2) * NC_CSVG_LANE_H + 2 * 34 + 40 +
               (double)(nc_compare_nmeasures + 2) * NC_CSVG_ROW_H + 40;
    char title[600];
    snprintf(title, sizeof title, "netcourse compare: %s against %s", a->name, b->name);
    nc_csvg_head(out, h, title);
    double y = nc_csvg_run(out, a, "A", 50, len_ms);
    y = nc_csvg_run(out, b, "B", y, len_ms);
    y = nc_csvg_ticks(out, y, len_ms, step_ms);
    nc_csvg_text(out, 20, y, "font-size=\"11\" fill=\"#555\"",
                 "Each run starts at its first packet. Ticks above a line: sent by the client "
                 "side; below: received; red cross: dropped by the wire.");
    y += 30;
    nc_buf_puts(out, "<g class=\"summary\">\n");
    nc_csvg_text(out, 20, y, "font-weight=\"bold\"", "measure");
    nc_csvg_text(out, 320, y, "font-weight=\"bold\" text-anchor=\"end\"", "A");
    nc_csvg_text(out, 460, y, "font-weight=\"bold\" text-anchor=\"end\"", "B");
    for (size_t k = 0; k < nc_compare_nmeasures; k++) {
        y += NC_CSVG_ROW_H;
        char va[32], vb[32];
        nc_csvg_value(&a->row, k, va, sizeof va);
        nc_csvg_value(&b->row, k, vb, sizeof vb);
        bool differs = nc_compare_value(&a->row, k) != nc_compare_value(&b->row, k);
        const char *w = differs ? "font-weight=\"bold\"" : "fill=\"#555\"";
        nc_buf_printf(out, "<g class=\"measure\" data-key=\"%s\" data-differs=\"%d\">\n",
                      nc_compare_measures[k].key, differs);
        nc_csvg_text(out, 20, y, w, nc_compare_measures[k].name);
        char attrs[80];
        snprintf(attrs, sizeof attrs, "%s text-anchor=\"end\"", w);
        nc_csvg_text(out, 320, y, attrs, va);
        nc_csvg_text(out, 460, y, attrs, vb);
        nc_buf_puts(out, "</g>\n");
    }
    nc_buf_puts(out, "</g>\n</svg>\n");
}

void nc_compare_svg_table(const nc_compare_table_t *t, nc_buf_t *out)
{
    int64_t most = 1;
    for (size_t w = 0; w < t->nrows; w++)
        if (t->rows[w].time_ns > most)
            most = t->rows[w].time_ns;
    double len_ms, step_ms;
    nc_csvg_axis(most, &len_ms, &step_ms);
    double scale = NC_CSVG_AXIS_W / len_ms;
    double h = 60 + (double)t->nrows * 44 + 50 + (double)(nc_compare_nmeasures + 2) * NC_CSVG_ROW_H;
    char title[200];
    snprintf(title, sizeof title, "netcourse: %s", t->title);
    nc_csvg_head(out, h, title);
    double y = 50;
    for (size_t w = 0; w < t->nrows; w++) {
        const nc_compare_row_t *r = &t->rows[w];
        nc_buf_printf(out, "<g class=\"way\" data-label=\"");
        nc_diagram_xml(out, r->label, strlen(r->label));
        nc_buf_printf(out, "\" data-first-byte-ms=\"%.1f\" data-time-ms=\"%.1f\">\n",
                      (double)r->first_byte_ns / 1e6, (double)r->time_ns / 1e6);
        nc_csvg_text(out, 20, y + 20, "font-weight=\"bold\"", r->label);
        double wl = (double)r->time_ns / 1e6 * scale, wf = (double)r->first_byte_ns / 1e6 * scale;
        nc_buf_printf(out,
                      "<rect class=\"last\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"14\" "
                      "fill=\"#c9b3e0\"/>\n"
                      "<rect class=\"first\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"14\" "
                      "fill=\"#e08000\"/>\n",
                      NC_CSVG_LABEL_W, y + 6, wl, NC_CSVG_LABEL_W, y + 22, wf);
        char lab[96];
        snprintf(lab, sizeof lab, "last byte %.1f ms", (double)r->time_ns / 1e6);
        nc_csvg_text(out, NC_CSVG_LABEL_W + wl + 4, y + 17, "font-size=\"11\"", lab);
        snprintf(lab, sizeof lab, "first byte %.1f ms, %" PRId64 " round trips",
                 (double)r->first_byte_ns / 1e6, r->first_byte_trips);
        nc_csvg_text(out, NC_CSVG_LABEL_W + wf + 4, y + 33, "font-size=\"11\"", lab);
        nc_buf_puts(out, "</g>\n");
        y += 44;
    }
    y = nc_csvg_ticks(out, y + 4, len_ms, step_ms) + 10;
    nc_buf_puts(out, "<g class=\"summary\">\n");
    for (size_t w = 0; w < t->nrows; w++)
        nc_csvg_text(out, 400 + 140 * (double)w, y, "font-weight=\"bold\" text-anchor=\"end\"",
                     t->rows[w].label);
    for (size_t k = 0; k < nc_compare_nmeasures; k++) {
        y += NC_CSVG_ROW_H;
        nc_csvg_text(out, 20, y, "fill=\"#555\"", nc_compare_measures[k].name);
        for (size_t w = 0; w < t->nrows; w++) {
            char v[32];
            nc_csvg_value(&t->rows[w], k, v, sizeof v);
            nc_csvg_text(out, 400 + 140 * (double)w, y, "text-anchor=\"end\"", v);
        }
    }
    nc_buf_puts(out, "</g>\n</svg>\n");
}

static void nc_compare_json_run(nc_buf_t *out, const nc_compare_run_t *r)
{
    nc_buf_puts(out, "{\"name\":");
    nc_buf_json_str(out, r->name);
    for (size_t k = 0; k < nc_compare_nmeasures; k++) {
        int64_t v = nc_compare_value(&r->row, k);
        if (nc_compare_measures[k].time)
            nc_buf_printf(out, ",\"%s\":%.1f", nc_compare_measures[k].key, (double)v / 1e6);
        else
            nc_buf_printf(out, ",\"%s\":%" PRId64, nc_compare_measures[k].key, v);
    }
    nc_buf_puts(out, "}");
}

void nc_compare_json(const nc_compare_run_t *a, const nc_compare_run_t *b, nc_buf_t *out)
{
    nc_buf_puts(out, "{\"a\":");
    nc_compare_json_run(out, a);
    nc_buf_puts(out, ",\"b\":");
    nc_compare_json_run(out, b);
    nc_buf_puts(out, ",\"differs\":[");
    bool any = false;
    for (size_t k = 0; k < nc_compare_nmeasures; k++)
        if (nc_compare_value(&a->row, k) != nc_compare_value(&b->row, k)) {
            nc_buf_printf(out, "%s\"%s\"", any ? "," : "", nc_compare_measures[k].key);
            any = true;
        }
    nc_buf_puts(out, "]}\n");
}
