/*
 * inspector.c: one packet's decoded layers and its bytes.
 *
 * The event's field tokens are walked generically, so a new decoder shows
 * up here without a line of code: scalars become "key: value" lines,
 * objects indented sections, lists of scalars one comma-separated line,
 * lists of objects one section per item, headed by what the item is (a
 * packet that completes three pipelined HTTP requests shows "request 1 of
 * 3: GET /a.txt" and so on; see nc_insp_items). Private keys (a leading
 * '_') are hidden. The layers are the top-level objects and lists of
 * objects; ui->layer selects one, whose
 * heading is highlighted and whose bytes (its "_off"/"_len" range) are shown
 * in reverse video in the hex dump below. Tab (or h/l) cycles the layers,
 * j/k scroll the fields, n/N go to the next and previous packet of the
 * timeline with the same layer open (by name: ui->insp_layer). Under the
 * title, the packet's place in its connection: the packets of the visible
 * timeline between the same two endpoints (host and port, either way; for
 * a protocol without ports, the same two hosts and protocol) are counted
 * when the packet or the timeline changes, near the packet in a long one.
 */
#include "ui.h"

#include "../core/xmalloc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NC_INSP_LAYERS 16

typedef struct nc_insp_line {
    size_t off, n;
    int layer; /* the layer whose heading this is, or -1 */
} nc_insp_line_t;

typedef struct nc_insp {
    nc_cellv_t cells;
    nc_insp_line_t *lines;
    size_t nlines, cap;
    int nlayers;
    const char *layer_name[NC_INSP_LAYERS];
    int64_t off[NC_INSP_LAYERS], len[NC_INSP_LAYERS];
} nc_insp_t;

static void nc_insp_line(nc_insp_t *in, int depth, const char *key, const char *value,
                         int layer, nc_style_t kst)
{
    if (in->nlines == in->cap) {
        in->cap = in->cap ? in->cap * 2 : 64;
        in->lines = nc_xrealloc(in->lines, in->cap * sizeof *in->lines);
    }
    size_t off = in->cells.n;
    for (int i = 0; i < depth * 2 + 1; i++)
        nc_cellv_putc(&in->cells, ' ', NC_PLAIN);
    nc_cellv_puts(&in->cells, key, kst);
    if (value) {
        nc_cellv_puts(&in->cells, ": ", kst);
        nc_cellv_puts(&in->cells, value, NC_PLAIN);
    }
    in->lines[in->nlines++] = (nc_insp_line_t){off, in->cells.n - off, layer};
}

static void nc_insp_scalar(const nc_field_t *f, nc_buf_t *out)
{
    switch (f->kind) {
    case NC_F_INT:
        nc_buf_printf(out, "%" PRId64, f->v.i);
        break;
    case NC_F_NUM:
        nc_buf_printf(out, "%.9g", f->v.d);
        break;
    case NC_F_STR:
        nc_buf_puts(out, f->v.s ? f->v.s : "");
        break;
    case NC_F_BOOL:
        nc_buf_puts(out, f->v.b ? "true" : "false");
        break;
    default:
        break;
    }
}

static bool nc_insp_private(const nc_field_t *f)
{
    return f->key && f->key[0] == '_';
}

/*
 * How an item of a list of objects is headed: by the first row whose key
 * the item has, "NOUN K of N: VALUE VALUE2" (a stream decoder's messages:
 * "request 1 of 3: GET /a.txt", "response 2 of 3: 200 OK", a WebSocket
 * "frame 1 of 2: text 5", an SSE "event 1 of 2: tick"); else "item K of N".
 */
static const struct {
    const char *key, *key2, *noun;
} nc_insp_items[] = {
    {"method", "target", "request"}, {"status", "reason", "response"},
    {"opcode_name", "len", "frame"}, {"event", NULL, "event"},
    {"data", NULL, "event"},
};

static void nc_insp_item_label(const nc_field_t *f, uint32_t idx, uint32_t end, int k, int n,
                               nc_buf_t *out)
{
    const nc_field_t *item = f + idx + 1;
    uint32_t len = end > idx + 1 ? end - idx - 1 : 0;
    for (size_t r = 0;
         f[idx].kind == NC_F_OBJ && r < sizeof nc_insp_items / sizeof nc_insp_items[0]; r++) {
        const nc_field_t *v = nc_fields_get(item, len, nc_insp_items[r].key);
        if (!v)
            continue;
        nc_buf_printf(out, "%s %d of %d: ", nc_insp_items[r].noun, k + 1, n);
        nc_insp_scalar(v, out);
        const nc_field_t *v2 =
            nc_insp_items[r].key2 ? nc_fields_get(item, len, nc_insp_items[r].key2) : NULL;
        if (v2) {
            nc_buf_putc(out, ' ');
            nc_insp_scalar(v2, out);
        }
        return;
    }
    nc_buf_printf(out, "item %d of %d", k + 1, n);
}

/* Renders the value at idx (under key, NULL in lists) and returns the
 * index after it. */
static uint32_t nc_insp_value(nc_insp_t *in, const nc_field_t *f, uint32_t n, uint32_t idx,
                              int depth, const char *key, int layer)
{
    const nc_field_t *t = &f[idx];
    uint32_t next = nc_fields_skip(f, n, idx);
    if (nc_insp_private(t))
        return next;
    nc_buf_t b;
    nc_buf_init(&b);
    const char *name = key ? key : "-";
    if (t->kind == NC_F_OBJ) {
        nc_insp_line(in, depth, name, NULL, layer,
                     NC_STYLE(NC_A_BOLD, depth == 0 ? NC_ROLE_ACCENT : NC_ROLE_NORMAL));
        for (uint32_t i = idx + 1; i < next && f[i].kind != NC_F_END;)
            i = nc_insp_value(in, f, n, i, depth + 1, f[i].key, -1);
    } else if (t->kind == NC_F_LIST) {
        bool flat = true;
        for (uint32_t i = idx + 1; i < next && f[i].kind != NC_F_END; i = nc_fields_skip(f, n, i))
            if (f[i].kind == NC_F_OBJ || f[i].kind == NC_F_LIST)
                flat = false;
        if (flat) {
            for (uint32_t i = idx + 1; i < next && f[i].kind != NC_F_END; i++) {
                if (i > idx + 1)
                    nc_buf_puts(&b, ", ");
                nc_insp_scalar(&f[i], &b);
            }
            nc_insp_line(in, depth, name, nc_buf_cstr(&b), layer,
                         NC_STYLE(0, NC_ROLE_MUTED));
        } else {
            int count = 0;
            for (uint32_t i = idx + 1; i < next && f[i].kind != NC_F_END;
                 i = nc_fields_skip(f, n, i))
                count++;
            char many[32];
            snprintf(many, sizeof many, "%d in this packet", count);
            nc_insp_line(in, depth, name, many, layer,
                         NC_STYLE(NC_A_BOLD, depth == 0 ? NC_ROLE_ACCENT : NC_ROLE_NORMAL));
            int k = 0;
            for (uint32_t i = idx + 1; i < next && f[i].kind != NC_F_END; k++) {
                nc_buf_reset(&b);
                nc_insp_item_label(f, i, nc_fields_skip(f, n, i), k, count, &b);
                i = nc_insp_value(in, f, n, i, depth + 1, nc_buf_cstr(&b), -1);
            }
        }
    } else if (t->kind != NC_F_END) {
        nc_insp_scalar(t, &b);
        nc_insp_line(in, depth, name, nc_buf_cstr(&b), layer, NC_STYLE(0, NC_ROLE_MUTED));
    }
    nc_buf_done(&b);
    return next;
}

/* A layer: a top-level object, or a top-level list of objects (a stream
 * decoder's messages, when a packet completes several). */
static bool nc_insp_is_layer(const nc_field_t *f, uint32_t n, uint32_t i)
{
    if (!f[i].key || nc_insp_private(&f[i]))
        return false;
    return f[i].kind == NC_F_OBJ ||
           (f[i].kind == NC_F_LIST && i + 1 < n && f[i + 1].kind == NC_F_OBJ);
}

static void nc_insp_build(nc_insp_t *in, const nc_event_t *ev)
{
    memset(in, 0, sizeof *in);
    nc_cellv_init(&in->cells);
    const nc_field_t *f = ev->fields;
    uint32_t n = ev->nfields;
    for (uint32_t i = 0; i < n;) {
        int layer = -1;
        if (nc_insp_is_layer(f, n, i) && in->nlayers < NC_INSP_LAYERS) {
            layer = in->nlayers++;
            in->layer_name[layer] = f[i].key;
            uint32_t end = f[i].kind == NC_F_OBJ ? nc_fields_skip(f, n, i) : i + 1;
            const nc_field_t *o = nc_fields_get(f + i + 1, end - i - 1, "_off");
            const nc_field_t *l = nc_fields_get(f + i + 1, end - i - 1, "_len");
            in->off[layer] = o && o->kind == NC_F_INT ? o->v.i : -1;
            in->len[layer] = l && l->kind == NC_F_INT ? l->v.i : 0;
        }
        i = nc_insp_value(in, f, n, i, 0, f[i].key, layer);
    }
}

static void nc_insp_free(nc_insp_t *in)
{
    nc_cellv_done(&in->cells);
    free(in->lines);
}

static void nc_insp_hex(nc_canvas_t *c, const nc_event_t *ev, int y, int rows, int64_t off,
                        int64_t len)
{
    size_t nlines = (ev->caplen + 15) / 16;
    size_t top = 0;
    if (off >= 0 && (size_t)off / 16 >= (size_t)rows)
        top = (size_t)off / 16;
    nc_style_t hi = NC_STYLE(NC_A_REVERSE, NC_ROLE_ACCENT);
    for (int r = 0; r < rows && top + (size_t)r < nlines; r++) {
        size_t base = (top + (size_t)r) * 16;
        nc_canvas_printf(c, y + r, 1, NC_STYLE(0, NC_ROLE_MUTED), "%04zx", base);
        for (size_t k = 0; k < 16 && base + k < ev->caplen; k++) {
            size_t at = base + k;
            uint8_t byte = ev->data[at];
            bool in = off >= 0 && (int64_t)at >= off && (int64_t)at < off + len;
            int hx = 7 + (int)k * 3 + (k >= 8 ? 1 : 0);
            nc_canvas_printf(c, y + r, hx, NC_PLAIN, "%02x", byte);
            char ch[2] = {byte >= 0x20 && byte < 0x7F ? (char)byte : '.', 0};
            nc_canvas_text(c, y + r, 57 + (int)k, ch, NC_STYLE(0, NC_ROLE_MUTED));
            if (in) {
                /* The gap after a highlighted byte joins it to the next. */
                bool next_in = (int64_t)at + 1 < off + len && k < 15 && at + 1 < ev->caplen;
                nc_canvas_mark(c, y + r, hx, next_in ? 3 : 2, hi);
                nc_canvas_mark(c, y + r, 57 + (int)k, 1, hi);
            }
        }
    }
}

/* One side of a packet's conversation: "client:40112", or "client" for a
 * protocol without ports. */
static void nc_insp_end(const nc_event_t *ev, bool src, char *out, size_t len)
{
    const char *host = nc_event_str(ev, src ? "from" : "to");
    if (!host)
        host = nc_event_str(ev, src ? "ip.src" : "ip.dst");
    if (!host)
        host = nc_event_str(ev, src ? "ipv6.src" : "ipv6.dst");
    int64_t port;
    if (nc_event_int(ev, src ? "tcp.sport" : "tcp.dport", &port) ||
        nc_event_int(ev, src ? "udp.sport" : "udp.dport", &port))
        snprintf(out, len, "%s:%lld", host ? host : "?", (long long)port);
    else
        snprintf(out, len, "%s", host ? host : "?");
}

/* The protocol a conversation is told apart by: the transport when there
 * is one (an HTTP request and the handshake before it are one connection),
 * else the packet's own protocol (arp, icmp). */
static const char *nc_insp_transport(const nc_event_t *ev)
{
    if (nc_event_get(ev, "tcp"))
        return "tcp";
    if (nc_event_get(ev, "udp"))
        return "udp";
    return nc_event_str(ev, "proto");
}

/* The conversation's key: its protocol and both ends, in a fixed order. */
static void nc_insp_conv(const nc_event_t *ev, char *out, size_t len)
{
    char a[96], b[96];
    nc_insp_end(ev, true, a, sizeof a);
    nc_insp_end(ev, false, b, sizeof b);
    const char *proto = nc_insp_transport(ev);
    bool swap = strcmp(a, b) > 0;
    snprintf(out, len, "%s %s %s", proto ? proto : "", swap ? b : a, swap ? a : b);
}

/* How far from the packet its conversation is counted, each way: a
 * replayed capture of a million packets costs no more per move. */
#define NC_INSP_PLACE_SPAN 5000

/* "packet 5 of 14 in client:40112 ↔ server:7000 (tcp)": the ends in the
 * order of the conversation's first packet. Counted once per packet and
 * number of visible events (ui->place_*), within NC_INSP_PLACE_SPAN events
 * each way, and said so when the timeline goes on beyond them. */
static const char *nc_insp_place(nc_ui_t *ui, const nc_event_t *ev)
{
    size_t vis = nc_ui_visible(ui);
    if (ui->place[0] && ui->place_at == ui->cursor && ui->place_vis == vis)
        return ui->place;
    char key[256], k2[256];
    nc_insp_conv(ev, key, sizeof key);
    size_t lo = ui->cursor > NC_INSP_PLACE_SPAN ? ui->cursor - NC_INSP_PLACE_SPAN : 0;
    size_t hi = vis - ui->cursor > NC_INSP_PLACE_SPAN ? ui->cursor + NC_INSP_PLACE_SPAN : vis;
    size_t nth = 0, total = 0;
    const nc_event_t *first = NULL;
    for (size_t i = lo; i < hi; i++) {
        const nc_event_t *e = nc_timeline_get(ui->src.tl, i);
        if (e->type != NC_EV_PACKET)
            continue;
        nc_insp_conv(e, k2, sizeof k2);
        if (strcmp(key, k2) != 0)
            continue;
        if (!first)
            first = e;
        total++;
        if (e == ev)
            nth = total;
    }
    char a[96], b[96];
    nc_insp_end(first ? first : ev, true, a, sizeof a);
    nc_insp_end(first ? first : ev, false, b, sizeof b);
    const char *proto = nc_insp_transport(ev);
    snprintf(ui->place, sizeof ui->place, " packet %zu of %zu in %s %s %s (%s)%s ", nth, total,
             a, ui->utf8 ? "↔" : "<->", b, proto ? proto : "?",
             lo > 0 || hi < vis ? ", counted within 5000 events each way" : "");
    ui->place_at = ui->cursor;
    ui->place_vis = vis;
    return ui->place;
}

static void nc_insp_draw(nc_canvas_t *c, nc_ui_t *ui)
{
    const nc_event_t *ev = nc_ui_current(ui);
    if (!ev) {
        nc_canvas_text(c, 2, 2, "No packet selected.", NC_PLAIN);
        return;
    }
    nc_insp_t in;
    nc_insp_build(&in, ev);
    /* The layer open on the previous packet stays open when this one has
     * it; a packet without it shows its nearest layer, and the wish is
     * kept for the next. */
    for (int k = 0; ui->insp_layer[0] && k < in.nlayers; k++)
        if (strcmp(in.layer_name[k], ui->insp_layer) == 0)
            ui->layer = k;
    if (in.nlayers == 0)
        ui->layer = 0;
    else if (ui->layer >= in.nlayers)
        ui->layer = in.nlayers - 1;
    if (!ui->insp_layer[0] && in.nlayers)
        snprintf(ui->insp_layer, sizeof ui->insp_layer, "%s", in.layer_name[ui->layer]);
    char title[512], right[64];
    snprintf(title, sizeof title, "Packet #%llu: %s", (unsigned long long)ev->i, ev->summary);
    if (in.nlayers)
        snprintf(right, sizeof right, "layer %d of %d: %s", ui->layer + 1, in.nlayers,
                 in.layer_name[ui->layer]);
    else
        snprintf(right, sizeof right, "no layers");
    nc_ui_title(c, 0, title, right);
    nc_canvas_hline(c, 1, 0, c->w, NC_STYLE(0, NC_ROLE_MUTED));
    nc_canvas_textn(c, 1, 2, c->w - 4, nc_insp_place(ui, ev), NC_STYLE(NC_A_BOLD, NC_ROLE_MUTED),
                    true);

    size_t hex_lines = (ev->caplen + 15) / 16;
    int hex_rows = (int)hex_lines;
    if (hex_rows > (c->h - 4) / 2)
        hex_rows = (c->h - 4) / 2;
    if (hex_rows < 1)
        hex_rows = 1;
    int fy = 2, fh = c->h - 1 - fy - hex_rows - 1;
    int hy = fy + fh;

    int max_scroll = (int)in.nlines > fh ? (int)in.nlines - fh : 0;
    if (ui->insp_scroll < 0) {
        /* Just switched layer: show its whole section if it fits, else
         * start at its heading. */
        ui->insp_scroll = 0;
        for (size_t i = 0; i < in.nlines; i++) {
            if (in.lines[i].layer != ui->layer)
                continue;
            size_t end = i + 1;
            while (end < in.nlines && in.lines[end].layer < 0)
                end++;
            if ((int)end > fh)
                ui->insp_scroll = (int)end - fh < (int)i ? (int)end - fh : (int)i;
            break;
        }
    }
    if (ui->insp_scroll > max_scroll)
        ui->insp_scroll = max_scroll;
    for (int r = 0; r < fh && (size_t)(ui->insp_scroll + r) < in.nlines; r++) {
        const nc_insp_line_t *ln = &in.lines[ui->insp_scroll + r];
        int x = nc_canvas_cells(c, fy + r, 0, in.cells.v + ln->off, ln->n);
        if (in.nlayers && ln->layer == ui->layer) {
            nc_canvas_text(c, fy + r, 0, ui->utf8 ? "▸" : ">", NC_STYLE(NC_A_BOLD, NC_ROLE_ACCENT));
            nc_canvas_mark(c, fy + r, 1, x - 1, NC_STYLE(NC_A_REVERSE, NC_ROLE_ACCENT));
        }
    }

    nc_canvas_hline(c, hy, 0, c->w, NC_STYLE(0, NC_ROLE_MUTED));
    char bytes[96];
    if (in.nlayers && in.off[ui->layer] >= 0)
        snprintf(bytes, sizeof bytes, " %u bytes; %s: %lld-%lld ", ev->caplen,
                 in.layer_name[ui->layer], (long long)in.off[ui->layer],
                 (long long)(in.off[ui->layer] + in.len[ui->layer] - 1));
    else
        snprintf(bytes, sizeof bytes, " %u bytes ", ev->caplen);
    nc_canvas_text(c, hy, 2, bytes, NC_STYLE(NC_A_BOLD, NC_ROLE_MUTED));
    if (!ev->data || ev->caplen == 0)
        nc_canvas_text(c, hy + 1, 1, "No captured bytes for this event.",
                       NC_STYLE(0, NC_ROLE_MUTED));
    else
        nc_insp_hex(c, ev, hy + 1, hex_rows, in.nlayers ? in.off[ui->layer] : -1,
                    in.nlayers ? in.len[ui->layer] : 0);
    nc_insp_free(&in);
}

/* Moves the cursor to the next (dir > 0) or previous packet shown. */
static void nc_insp_move(nc_ui_t *ui, int dir)
{
    size_t vis = nc_ui_visible(ui);
    for (size_t i = ui->cursor; dir > 0 ? i + 1 < vis : i > 0;) {
        i = dir > 0 ? i + 1 : i - 1;
        if (nc_timeline_type(ui->src.tl, i) == NC_EV_PACKET) {
            ui->cursor = i;
            ui->follow = false;
            ui->insp_scroll = -1;
            return;
        }
    }
}

static int nc_insp_key(nc_ui_t *ui, nc_action_t a, int key)
{
    if (a == NC_ACT_TAB || a == NC_ACT_RIGHT || a == NC_ACT_LEFT)
        ui->insp_layer[0] = '\0'; /* the draw records the newly chosen one */
    switch (a) {
    case NC_ACT_PACKET:
        nc_insp_move(ui, key == 'N' ? -1 : 1);
        break;
    case NC_ACT_TAB:
    case NC_ACT_RIGHT:
        ui->layer++; /* wraps in draw, which knows the count */
        {
            const nc_event_t *ev = nc_ui_current(ui);
            int n = 0;
            for (uint32_t i = 0; ev && i < ev->nfields; i = nc_fields_skip(ev->fields, ev->nfields, i))
                if (nc_insp_is_layer(ev->fields, ev->nfields, i))
                    n++;
            if (ui->layer >= n)
                ui->layer = 0;
        }
        ui->insp_scroll = -1;
        break;
    case NC_ACT_LEFT:
        if (ui->layer > 0)
            ui->layer--;
        ui->insp_scroll = -1;
        break;
    case NC_ACT_UP:
        if (ui->insp_scroll > 0)
            ui->insp_scroll--;
        break;
    case NC_ACT_DOWN:
        ui->insp_scroll++;
        break;
    case NC_ACT_TOP:
        ui->insp_scroll = 0;
        break;
    case NC_ACT_OPEN:
        nc_ui_pop(ui);
        break;
    default:
        return 0;
    }
    return NC_VIEW_HANDLED | NC_VIEW_REDRAW;
}

static const nc_action_t nc_insp_footer[] = {
    NC_ACT_TAB, NC_ACT_LEFT, NC_ACT_PACKET, NC_ACT_UP, NC_ACT_DOWN, NC_ACT_HELP, NC_ACT_BACK,
    NC_ACT_NONE,
};

const nc_view_t nc_view_inspector = {
    .name = "inspector",
    .draw = nc_insp_draw,
    .key = nc_insp_key,
    .footer = nc_insp_footer,
    .legend = nc_legend_inspector,
};
