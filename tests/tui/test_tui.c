/*
 * test_tui.c: the views, rendered to text.
 *
 * Each snapshot test renders a view into a canvas of a fixed size and
 * compares the text with tests/tui/golden/NAME.txt. A tiny course is parsed
 * from text in this file, and the ladder reads a synthetic timeline built
 * with the event builder (no live run, no network). Checkpoints come from a
 * fake source whose state the test changes by hand.
 *
 * To regenerate the golden files after an intended change:
 *   NC_UPDATE_GOLDEN=1 ctest -R test_tui
 * then review the diff with git.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "golden.h"

#include "core/error.h"
#include "core/xmalloc.h"
#include "decode/decode.h"
#include "lesson/lesson.h"
#include "scenario/compare.h"
#include "store/store.h"
#include "tui/canvas.h"
#include "tui/md.h"
#include "tui/topo.h"
#include "tui/ui.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const nc_test_lesson_text =
    "---\n"
    "id: tcp\n"
    "title: TCP\n"
    "number: 14\n"
    "part: 2 Protocols\n"
    "summary: A reliable byte stream: the handshake, acknowledgements, a lost segment resent.\n"
    "topology: pair\n"
    "scenario: tcp\n"
    "---\n"
    "# A conversation with receipts\n"
    "\n"
    "TCP turns the network's **unreliable packets** into a reliable *stream* of\n"
    "bytes. Every byte has a number, and the receiver acknowledges what it got\n"
    "with `ack`, so the sender knows what to send again.\n"
    "\n"
    "- the **handshake** opens the connection: SYN, SYN-ACK, ACK;\n"
    "- data flows, and every segment is acknowledged;\n"
    "  1. cumulatively,\n"
    "  2. by the next byte expected;\n"
    "- FIN closes each direction.\n"
    "\n"
    "> A lost segment is not an error: it is resent.\n"
    "\n"
    "```\n"
    "client                 server\n"
    "  |------ SYN ---------->|\n"
    "```\n"
    "\n"
    "# The second page\n"
    "\n"
    "Short.\n"
    "\n"
    "```step\n"
    "id: open\n"
    "title: Open the connection\n"
    "until: packet from=client tcp.flags=ACK\n"
    "text: Watch the three packets of the handshake.\n"
    "```\n"
    "\n"
    "```step\n"
    "id: data\n"
    "title: Data, and a loss\n"
    "text: One segment is dropped by the wire and sent again.\n"
    "```\n";

static const char *const nc_test_lesson2_text =
    "---\n"
    "id: udp\n"
    "title: UDP\n"
    "number: 13\n"
    "part: 2 Protocols\n"
    "summary: Datagrams and ports.\n"
    "topology: pair\n"
    "scenario: udp\n"
    "---\n"
    "# Datagrams\n"
    "\n"
    "Each datagram stands alone.\n";

static const char *const nc_test_lesson3_text =
    "---\n"
    "id: push\n"
    "title: Push\n"
    "number: 3\n"
    "part: 1 Communication patterns\n"
    "summary: The server speaks first.\n"
    "topology: local\n"
    "scenario: push\n"
    "---\n"
    "# Push\n"
    "\n"
    "Server-initiated messages.\n";


static nc_lesson_t *nc_test_parse(const char *text)
{
    nc_lesson_t *l = NULL;
    char err[256] = "";
    int rc = nc_lesson_parse("test.md", text, strlen(text), &l, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "%s\n", err);
    assert_int_equal(rc, 0);
    return l;
}

typedef struct nc_fixture {
    nc_course_t course;
    nc_lesson_t *lessons[3];
    nc_ui_t ui;
    nc_timeline_t *tl;
    nc_run_checkpoint_t cps[1];
    nc_checkpoint_t cp;
    nc_choice_t choices[3];
    size_t ncps;
    nc_store_t *store;
    char dir[64];
} nc_fixture_t;

static size_t nc_fake_count(void *ctx)
{
    return ((nc_fixture_t *)ctx)->ncps;
}

static void nc_fake_cp(void *ctx, size_t k, nc_run_checkpoint_t *out)
{
    *out = ((nc_fixture_t *)ctx)->cps[k];
}

/* Step 0 until the handshake's ACK (event 4), then step 1. */
static int nc_fake_step(void *ctx, size_t i)
{
    return i <= 4 ? 0 : 1;
}

/* Bytes of a pretend frame: 14 of Ethernet, 20 of IPv4, 20 of TCP, data. */
static void nc_frame(uint8_t *b, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        b[i] = (uint8_t)(i * 7 + 3);
    b[12] = 0x08, b[13] = 0x00, b[14] = 0x45;
}

static void nc_add_packet(nc_timeline_t *tl, nc_evb_t *b, int64_t t, const char *from,
                          const char *to, const char *summary, const char *flags[],
                          int64_t seq, int64_t ack, int64_t len, bool dropped, const char *note)
{
    nc_evb_reset(b, NC_EV_PACKET, t);
    nc_evb_host(b, from);
    nc_evb_summary(b, "%s", summary);
    if (note)
        nc_evb_note(b, "%s", note);
    nc_evb_str(b, "from", from);
    nc_evb_str(b, "to", to);
    nc_evb_str(b, "proto", "tcp");
    nc_evb_int(b, "len", 54 + len);
    nc_evb_bool(b, "dropped", dropped);
    nc_evb_obj(b, "eth");
    nc_evb_str(b, "src", "02:00:00:00:00:01");
    nc_evb_str(b, "dst", "02:00:00:00:00:02");
    nc_evb_str(b, "type", "0x0800");
    nc_evb_int(b, "_off", 0);
    nc_evb_int(b, "_len", 14);
    nc_evb_end(b);
    nc_evb_obj(b, "ip");
    nc_evb_int(b, "version", 4);
    nc_evb_str(b, "src", strcmp(from, "client") == 0 ? "10.0.0.1" : "10.0.0.2");
    nc_evb_str(b, "dst", strcmp(from, "client") == 0 ? "10.0.0.2" : "10.0.0.1");
    nc_evb_int(b, "ttl", 64);
    nc_evb_int(b, "len", 40 + len);
    nc_evb_int(b, "_off", 14);
    nc_evb_int(b, "_len", 20);
    nc_evb_end(b);
    nc_evb_obj(b, "tcp");
    nc_evb_int(b, "sport", strcmp(from, "client") == 0 ? 40112 : 80);
    nc_evb_int(b, "dport", strcmp(from, "client") == 0 ? 80 : 40112);
    nc_evb_list(b, "flags");
    for (int i = 0; flags[i]; i++)
        nc_evb_str(b, NULL, flags[i]);
    nc_evb_end(b);
    nc_evb_int(b, "seq", seq);
    nc_evb_int(b, "ack", ack);
    nc_evb_int(b, "len", len);
    nc_evb_int(b, "win", 64240);
    nc_evb_obj(b, "options");
    nc_evb_int(b, "mss", 1460);
    nc_evb_bool(b, "sack_perm", true);
    nc_evb_end(b);
    nc_evb_int(b, "_off", 34);
    nc_evb_int(b, "_len", 20);
    nc_evb_end(b);
    uint8_t frame[160];
    uint32_t n = (uint32_t)(54 + len);
    nc_frame(frame, n);
    nc_evb_data(b, frame, n, n, 1);
    nc_timeline_add(tl, b);
}

static void nc_add_simple(nc_timeline_t *tl, nc_evb_t *b, nc_event_type_t type, int64_t t,
                          const char *host, const char *summary, const char *note)
{
    nc_evb_reset(b, type, t);
    nc_evb_host(b, host);
    nc_evb_summary(b, "%s", summary);
    if (note)
        nc_evb_note(b, "%s", note);
    if (type == NC_EV_APP) {
        nc_evb_str(b, "call", "connect");
        nc_evb_str(b, "text", summary);
    }
    nc_timeline_add(tl, b);
}

#define T0 INT64_C(1700000000000000000)

static nc_timeline_t *nc_test_timeline(void)
{
    nc_timeline_t *tl = nc_timeline_new(T0);
    nc_timeline_set_window(tl, 0);
    nc_evb_t b;
    nc_evb_init(&b);
    const char *syn[] = {"SYN", NULL}, *synack[] = {"SYN", "ACK", NULL}, *ack[] = {"ACK", NULL},
               *psh[] = {"PSH", "ACK", NULL};
    nc_add_simple(tl, &b, NC_EV_MARK, T0, "", "step 1 begins: Open the connection", NULL);
    nc_add_simple(tl, &b, NC_EV_APP, T0 + 120000, "client", "connect() to server:80", NULL);
    nc_add_packet(tl, &b, T0 + 150000, "client", "server", "SYN seq=0 win=64240 mss=1460", syn,
                  0, 0, 0, false,
                  "SYN: the client asks to open a connection and picks its initial sequence "
                  "number 0 (relative). The options offer a maximum segment size of 1460 bytes.");
    nc_add_packet(tl, &b, T0 + 12345678, "server", "client", "SYN-ACK seq=0 ack=1 win=65160",
                  synack, 0, 1, 0, false, "SYN-ACK: the server's kernel agrees.");
    nc_add_packet(tl, &b, T0 + 12400000, "client", "server", "ACK seq=1 ack=1", ack, 1, 1, 0,
                  false, NULL);
    nc_add_simple(tl, &b, NC_EV_APP, T0 + 13000000, "server",
                  "accept() returned a connection from client:40112", NULL);
    nc_add_packet(tl, &b, T0 + 14000000, "client", "server", "PSH-ACK seq=1 ack=1 len=100", psh,
                  1, 1, 100, true, "The lesson's wire dropped this segment: it never arrives.");
    nc_add_simple(tl, &b, NC_EV_NOTE, T0 + 14000001, "", "the wire dropped segment 1 (100 bytes)",
                  NULL);
    nc_add_packet(tl, &b, T0 + 220000000, "client", "server",
                  "PSH-ACK seq=1 ack=1 len=100 retransmission", psh, 1, 1, 100, false,
                  "A retransmission: no ACK came back in time.");
    nc_add_packet(tl, &b, T0 + 220500000, "server", "client", "ACK seq=1 ack=101", ack, 1, 101,
                  0, false, NULL);
    nc_timeline_flush(tl, true);
    nc_evb_done(&b);
    return tl;
}

static int nc_setup(void **state)
{
    nc_fixture_t *fx = nc_xcalloc(1, sizeof *fx);
    fx->lessons[0] = nc_test_parse(nc_test_lesson3_text);
    fx->lessons[1] = nc_test_parse(nc_test_lesson2_text);
    fx->lessons[2] = nc_test_parse(nc_test_lesson_text);
    fx->course.lessons = fx->lessons;
    fx->course.nlessons = 3;
    snprintf(fx->dir, sizeof fx->dir, "/tmp/nc-tui-test-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    char err[256];
    fx->store = nc_store_open(fx->dir, err, sizeof err);
    assert_non_null(fx->store);
    nc_ui_init(&fx->ui, &fx->course, fx->store, true);
    fx->tl = nc_test_timeline();
    *state = fx;
    return 0;
}

static int nc_teardown(void **state)
{
    nc_fixture_t *fx = *state;
    nc_ui_done(&fx->ui);
    nc_timeline_free(fx->tl);
    for (int i = 0; i < 3; i++)
        nc_lesson_free(fx->lessons[i]);
    nc_store_close(fx->store);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx->dir);
    assert_int_equal(system(cmd), 0);
    free(fx);
    return 0;
}

static void nc_snapshot(nc_ui_t *ui, const char *view, int w, int h, const char *golden)
{
    nc_buf_t out;
    nc_buf_init(&out);
    assert_int_equal(nc_tui_render_text(ui, view, w, h, &out), 0);
    nc_golden(golden, nc_buf_cstr(&out));
    nc_buf_done(&out);
}

/* Points the ladder at the synthetic timeline, with the TCP lesson open. */
static void nc_fixture_ladder(nc_fixture_t *fx)
{
    nc_ui_open_lesson(&fx->ui, fx->lessons[2]);
    nc_ui_push(&fx->ui, &nc_view_reader);
    nc_ui_push(&fx->ui, &nc_view_ladder);
    nc_ui_source_t src = {
        .tl = fx->tl,
        .ctx = fx,
        .checkpoint_count = nc_fake_count,
        .checkpoint = nc_fake_cp,
        .step_at = nc_fake_step,
    };
    nc_ui_set_source(&fx->ui, &src);
}

/* No cut hides a number or passes silently: a number cut in the middle
 * goes whole ("cwnd …", never "cwnd 1" for 10); a clip rectangle cuts text
 * at its own edge, marked, and keeps other views' cells; text wrapped into
 * too few lines ends with an ellipsis. */
static void test_canvas_cuts(void **state)
{
    nc_canvas_t *c = nc_canvas_new(40, 4, true);
    nc_canvas_textn(c, 0, 0, 21, "snd_wnd 64512 cwnd 10 retrans 0", NC_PLAIN, false);
    nc_canvas_textn(c, 1, 0, 21, "VmRSS 69440 kB, Pss 13808 kB", NC_PLAIN, true);
    nc_canvas_fill(c, 2, 20, 1, 20, '|', NC_PLAIN);
    nc_canvas_clip(c, 0, 0, 4, 20);
    nc_canvas_text(c, 2, 0, "worker 1: 6, worker 2: 2", NC_PLAIN);
    nc_canvas_unclip(c);
    nc_canvas_wrap(c, 3, 0, 1, 40, "connections per worker: worker 1: 6, worker 2: 2, worker 3: 4",
                   NC_PLAIN);
    nc_buf_t out;
    nc_buf_init(&out);
    nc_canvas_to_text(c, &out);
    assert_string_equal(nc_buf_cstr(&out), "snd_wnd 64512 cwnd …\n"
                                           "VmRSS 69440 kB, Pss …\n"
                                           "worker 1: 6, worker…||||||||||||||||||||\n"
                                           "connections per worker: worker 1: 6,…\n");
    /* Styled cells drawn past the edge are cut and marked the same way. */
    nc_cellv_t v;
    nc_cellv_init(&v);
    nc_cellv_puts(&v, "cwnd 10", NC_PLAIN);
    nc_canvas_clear(c);
    assert_int_equal(nc_canvas_cells(c, 0, 35, v.v, v.n), 40);
    nc_buf_reset(&out);
    nc_canvas_to_text(c, &out);
    assert_string_equal(nc_buf_cstr(&out), "                                   cwnd…\n\n\n\n");
    nc_cellv_done(&v);
    nc_buf_done(&out);
    nc_canvas_free(c);
}

static void test_canvas(void **state)
{
    nc_canvas_t *c = nc_canvas_new(12, 3, true);
    nc_canvas_text(c, 0, 0, "héllo wörld, clipped", NC_PLAIN);
    nc_canvas_textn(c, 1, 2, 6, "abcdefghij", NC_PLAIN, true);
    nc_canvas_text(c, 2, 10, "漢字", NC_PLAIN); /* the second one does not fit */
    nc_canvas_text(c, 2, -3, "ignored", NC_PLAIN);
    nc_buf_t out;
    nc_buf_init(&out);
    nc_canvas_to_text(c, &out);
    /* Every cut is marked, even where the caller did not ask (item 20 of
     * issue 8): the first line and the wide character. */
    assert_string_equal(nc_buf_cstr(&out), "héllo wörld…\n  abcde…\n          …\n");
    nc_buf_done(&out);
    nc_canvas_free(c);

    nc_cellv_t v;
    nc_cellv_init(&v);
    nc_cellv_puts(&v, "the quick brown fox jumpsoverthelazydog", NC_PLAIN);
    size_t at = 0, end, next;
    int lines = 0;
    while (nc_cellv_wrap(&v, at, 10, &end, &next)) {
        assert_true(end - at <= 10);
        at = next;
        lines++;
    }
    assert_int_equal(lines, 4); /* "the quick" "brown fox" then a word cut in two */
    nc_cellv_done(&v);

    c = nc_canvas_new(10, 1, false);
    nc_canvas_hline(c, 0, 0, 3, NC_PLAIN);
    nc_canvas_text(c, 0, 4, "→é", NC_PLAIN);
    nc_buf_init(&out);
    nc_canvas_to_text(c, &out);
    assert_string_equal(nc_buf_cstr(&out), "--- ??\n");
    nc_buf_done(&out);
    nc_canvas_free(c);
}

static void test_keys(void **state)
{
    assert_int_equal(nc_key_action('k'), NC_ACT_UP);
    assert_int_equal(nc_key_action(NC_KEY_UP), NC_ACT_UP);
    assert_int_equal(nc_key_action('j'), NC_ACT_DOWN);
    assert_int_equal(nc_key_action('\r'), NC_ACT_OPEN);
    assert_int_equal(nc_key_action(NC_KEY_END), NC_ACT_LIVE);
    assert_int_equal(nc_key_action('z'), NC_ACT_NONE);
    char buf[64];
    assert_string_equal(nc_action_keys(NC_ACT_UP, " ", buf, sizeof buf, 1), "↑ k");
    assert_string_equal(nc_action_keys(NC_ACT_TOP, "/", buf, sizeof buf, 0), "Home/g");
    /* The keys that only mean something in one place are in the table too,
     * so help lists them: a checkpoint's letters, the class keys, the
     * inspector's packet keys, the saved runs. */
    for (int k = 'a'; k <= 'd'; k++)
        assert_int_equal(nc_key_action(k), NC_ACT_ANSWER);
    assert_int_equal(nc_key_action('u'), NC_ACT_EXPLORE);
    assert_int_equal(nc_key_action('F'), NC_ACT_LIVE);
    assert_int_equal(nc_key_action('H'), NC_ACT_HAND);
    assert_int_equal(nc_key_action('n'), NC_ACT_PACKET);
    assert_int_equal(nc_key_action('N'), NC_ACT_PACKET);
    assert_int_equal(nc_key_action('R'), NC_ACT_RUNS);
    /* Every action with a key has a footer label and a help sentence. */
    nc_action_t acts[NC_ACT__COUNT];
    size_t n = nc_key_actions(acts);
    assert_int_equal(n, NC_ACT__COUNT - 1);
    for (size_t i = 0; i < n; i++) {
        assert_true(nc_action_label(acts[i])[0]);
        assert_true(nc_action_help(acts[i])[0]);
    }
}

static void test_map(void **state)
{
    nc_fixture_t *fx = *state;
    /* udp started, tcp complete. */
    assert_int_equal(nc_store_set_position(fx->store, "udp", 0, 0), 0);
    assert_int_equal(nc_store_run_seen(fx->store, "tcp"), 0);
    assert_int_equal(nc_store_update_completion(fx->store, "tcp", 0), 0);
    nc_snapshot(&fx->ui, NULL, 80, 24, "map_80x24");
    assert_int_equal(nc_ui_key(&fx->ui, 'j'), NC_VIEW_HANDLED | NC_VIEW_REDRAW);
    assert_int_equal(nc_ui_key(&fx->ui, NC_KEY_DOWN), NC_VIEW_HANDLED | NC_VIEW_REDRAW);
    assert_int_equal(fx->ui.map_sel, 2);
    nc_ui_key(&fx->ui, 'k');
    assert_int_equal(fx->ui.map_sel, 1);
    nc_ui_key(&fx->ui, NC_KEY_ENTER);
    assert_ptr_equal(nc_ui_top(&fx->ui), &nc_view_reader);
    assert_ptr_equal(fx->ui.lesson, fx->lessons[1]);
    nc_ui_key(&fx->ui, NC_KEY_ESC);
    assert_ptr_equal(nc_ui_top(&fx->ui), &nc_view_map);
    assert_true(nc_ui_key(&fx->ui, 'q') & NC_VIEW_QUIT);
}

/* The reader's header draws the lab: each topology in one line. */
static void test_topo_line(void **state)
{
    static const struct {
        const char *topology, *nat, *line;
    } rows[] = {
        {"local", NULL, ""},
        {"pair", NULL, "client ~wire~ server"},
        {"chain", NULL, "client ~client-middle~ middle ~middle-server~ server"},
        {"fan", NULL, "client1, client2 ~ balancer ~ backend1, backend2, backend3"},
        {"nat", "symmetric", "inside1, inside2 ~inside~ [nat: symmetric] ~outside~ peer, stun, turn"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        nc_lesson_t l = {.topology = (char *)rows[i].topology, .nat = (char *)rows[i].nat};
        char out[256];
        assert_int_equal(nc_topo_line(&l, out, sizeof out), strlen(rows[i].line));
        assert_string_equal(out, rows[i].line);
    }
}

static void test_reader(void **state)
{
    nc_fixture_t *fx = *state;
    nc_ui_open_lesson(&fx->ui, fx->lessons[2]);
    nc_snapshot(&fx->ui, "reader", 80, 24, "reader_80x24");
    nc_ui_key(&fx->ui, 'l');
    assert_int_equal(fx->ui.page, 1);
    nc_snapshot(&fx->ui, "reader", 80, 24, "reader_page2_80x24");
    /* The page is remembered. */
    nc_progress_t p;
    assert_int_equal(nc_store_progress(fx->store, "tcp", &p), 0);
    assert_int_equal(p.page, 1);
    nc_ui_key(&fx->ui, 'h');
    assert_int_equal(fx->ui.page, 0);
    assert_true(nc_ui_key(&fx->ui, 'r') & NC_VIEW_RUN);
    assert_ptr_equal(nc_ui_top(&fx->ui), &nc_view_ladder);
}

static void test_markdown(void **state)
{
    nc_md_t md;
    nc_md_init(&md);
    nc_md_layout(&md, "# Title\n\nA *b* `c` **d**\n\n1. one\n2. two\n\n> quoted text here\n",
                 40, true);
    nc_canvas_t *c = nc_canvas_new(40, (int)md.nlines, true);
    for (size_t i = 0; i < md.nlines; i++)
        nc_canvas_cells(c, (int)i, 0, md.cells.v + md.lines[i].off, md.lines[i].n);
    nc_buf_t out;
    nc_buf_init(&out);
    nc_canvas_to_text(c, &out);
    assert_string_equal(nc_buf_cstr(&out),
                        "Title\n\nA b c d\n\n1. one\n2. two\n\n│ quoted text here\n");
    /* Emphasis is underlined, code spans take the accent color. */
    nc_cell_t *b = nc_canvas_cell(c, 2, 2), *code = nc_canvas_cell(c, 2, 4);
    assert_true(b->attr & NC_A_UNDERLINE);
    assert_int_equal(code->role, NC_ROLE_ACCENT);
    assert_true(nc_canvas_cell(c, 0, 0)->attr & NC_A_BOLD);
    nc_buf_done(&out);
    nc_canvas_free(c);
    nc_md_done(&md);
}

static void test_ladder(void **state)
{
    nc_fixture_t *fx = *state;
    nc_fixture_ladder(fx);
    nc_snapshot(&fx->ui, NULL, 80, 24, "ladder_80x24");
    nc_snapshot(&fx->ui, NULL, 120, 40, "ladder_120x40");
    /* Select the SYN: the cursor row is in reverse video. */
    nc_ui_key(&fx->ui, 'g');
    nc_ui_key(&fx->ui, 'j');
    nc_ui_key(&fx->ui, 'j');
    assert_false(fx->ui.follow);
    assert_int_equal(fx->ui.cursor, 2);
    nc_buf_t out;
    nc_buf_init(&out);
    nc_tui_render_text(&fx->ui, NULL, 80, 24, &out);
    assert_non_null(strstr(nc_buf_cstr(&out), "SYN seq=0 win=64240"));
    assert_non_null(strstr(nc_buf_cstr(&out), "SYN: the client asks to open a connection"));
    nc_buf_done(&out);
    nc_canvas_t *c = nc_canvas_new(80, 24, true);
    nc_ui_render(&fx->ui, c);
    assert_true(nc_canvas_cell(c, 3 + 2, 0)->attr & NC_A_REVERSE);
    assert_false(nc_canvas_cell(c, 3 + 3, 0)->attr & NC_A_REVERSE);
    nc_canvas_free(c);
    nc_snapshot(&fx->ui, NULL, 80, 24, "ladder_syn_80x24");
    /* F returns to the live edge. */
    nc_ui_key(&fx->ui, 'F');
    assert_true(fx->ui.follow);
}

static void test_checkpoint(void **state)
{
    nc_fixture_t *fx = *state;
    fx->choices[0] = (nc_choice_t){.key = "a", .text = "The server answers at once"};
    fx->choices[1] = (nc_choice_t){.key = "b", .text = "Nothing arrives; the client sends it again"};
    fx->choices[2] = (nc_choice_t){.key = "c", .text = "The connection is reset"};
    fx->cp = (nc_checkpoint_t){.id = "lost",
                               .question = "The next data segment will be dropped by the wire. "
                                           "What will the client do?",
                               .explain = "TCP keeps a copy of unacknowledged data and sends it "
                                          "again when no ACK comes back in time.",
                               .choices = fx->choices,
                               .nchoices = 3};
    fx->cps[0] = (nc_run_checkpoint_t){
        .cp = &fx->cp, .asked_at = 5, .target = 6, .right = -1, .decided_at = -1};
    fx->ncps = 1;
    nc_fixture_ladder(fx);
    assert_int_equal(nc_ui_visible(&fx->ui), 6);
    nc_snapshot(&fx->ui, NULL, 80, 24, "ladder_question_80x24");
    assert_int_equal(nc_ui_key(&fx->ui, 'b'), NC_VIEW_HANDLED | NC_VIEW_REDRAW);
    assert_int_equal(nc_ui_visible(&fx->ui), 10);
    assert_false(nc_ui_tick(&fx->ui)); /* not decided: nothing stored */
    nc_snapshot(&fx->ui, NULL, 80, 24, "ladder_waiting_80x24");
    fx->cps[0].right = 1;
    fx->cps[0].decided_at = 8;
    assert_true(nc_ui_tick(&fx->ui));
    char choice[8];
    bool correct = false;
    assert_true(nc_store_get_answer(fx->store, "tcp", "lost", choice, sizeof choice, &correct));
    assert_string_equal(choice, "b");
    assert_true(correct);
    nc_snapshot(&fx->ui, NULL, 80, 24, "ladder_right_80x24");
    nc_ui_key(&fx->ui, NC_KEY_ENTER); /* dismisses the verdict */
    assert_ptr_equal(nc_ui_top(&fx->ui), &nc_view_ladder);
    assert_true(fx->ui.answers[0].seen);
}

/* The ladder, then the inspector on the SYN (the third event). */
static void nc_fixture_inspect_syn(nc_fixture_t *fx)
{
    nc_fixture_ladder(fx);
    nc_ui_key(&fx->ui, 'g');
    nc_ui_key(&fx->ui, 'j');
    nc_ui_key(&fx->ui, 'j');
    nc_ui_key(&fx->ui, NC_KEY_ENTER);
}

static void test_inspector(void **state)
{
    nc_fixture_t *fx = *state;
    nc_fixture_inspect_syn(fx);
    assert_ptr_equal(nc_ui_top(&fx->ui), &nc_view_inspector);
    nc_snapshot(&fx->ui, NULL, 80, 24, "inspector_80x24");
    nc_ui_key(&fx->ui, NC_KEY_TAB);
    nc_ui_key(&fx->ui, NC_KEY_TAB);
    assert_int_equal(fx->ui.layer, 2);
    nc_snapshot(&fx->ui, NULL, 80, 24, "inspector_tcp_80x24");
    /* The tcp layer's bytes (34..53) are highlighted, the ip layer's not. */
    nc_canvas_t *c = nc_canvas_new(80, 24, true);
    nc_ui_render(&fx->ui, c);
    nc_buf_t out;
    nc_buf_init(&out);
    nc_canvas_to_text(c, &out);
    assert_null(strstr(nc_buf_cstr(&out), "_off"));
    nc_buf_done(&out);
    int row = -1;
    for (int y = 0; y < c->h; y++)
        if (nc_canvas_cell(c, y, 1)->ch == '0' && nc_canvas_cell(c, y, 3)->ch == '2' &&
            nc_canvas_cell(c, y, 4)->ch == '0')
            row = y;
    assert_true(row > 0);
    assert_false(nc_canvas_cell(c, row, 10)->attr & NC_A_REVERSE); /* byte 33 */
    assert_true(nc_canvas_cell(c, row, 13)->attr & NC_A_REVERSE);  /* byte 34 */
    assert_true(nc_canvas_cell(c, row, 59)->attr & NC_A_REVERSE);  /* its ASCII */
    nc_canvas_free(c);
    nc_ui_key(&fx->ui, NC_KEY_TAB);
    assert_int_equal(fx->ui.layer, 0);
    nc_ui_key(&fx->ui, NC_KEY_ESC);
    assert_ptr_equal(nc_ui_top(&fx->ui), &nc_view_ladder);
}

/* A packet that completes three pipelined requests: the inspector shows its
 * http layer as one section per request, headed by the request, never as
 * "[0]", "[1]". The packet is decoded by the real decoder. */
static void test_inspector_http_list(void **state)
{
    nc_fixture_t *fx = *state;
    const char *reqs = "GET /a.txt HTTP/1.1\r\nHost: s\r\n\r\n"
                       "GET /b.txt HTTP/1.1\r\nHost: s\r\n\r\n"
                       "HEAD /c.txt HTTP/1.1\r\nHost: s\r\n\r\n";
    nc_timeline_t *tl = nc_timeline_new(T0);
    nc_timeline_set_window(tl, 0);
    nc_decoder_t *d = nc_decoder_new();
    nc_evb_t b;
    nc_evb_init(&b);
    nc_evb_reset(&b, NC_EV_PACKET, T0 + 1000);
    assert_int_equal(
        nc_decoder_layer(d, "http1", (const uint8_t *)reqs, (uint32_t)strlen(reqs), &b), 0);
    nc_timeline_add(tl, &b);
    nc_timeline_flush(tl, true);
    nc_evb_done(&b);
    nc_decoder_free(d);
    const nc_event_t *ev = nc_timeline_get(tl, 0);
    const nc_field_t *http = nc_event_get(ev, "http");
    assert_non_null(http);
    assert_int_equal(http->kind, NC_F_LIST);

    nc_fixture_ladder(fx);
    nc_ui_source_t src = fx->ui.src;
    src.tl = tl;
    nc_ui_set_source(&fx->ui, &src);
    nc_ui_key(&fx->ui, 'g');
    nc_ui_key(&fx->ui, 'i');
    assert_ptr_equal(nc_ui_top(&fx->ui), &nc_view_inspector);
    /* The list is a layer: Tab reaches it, and it is shown whole. */
    for (int k = 0; k < 8 && strcmp(fx->ui.insp_layer, "http") != 0; k++) {
        nc_ui_key(&fx->ui, NC_KEY_TAB);
        nc_buf_t out;
        nc_buf_init(&out);
        nc_tui_render_text(&fx->ui, NULL, 80, 40, &out);
        nc_buf_done(&out);
    }
    assert_string_equal(fx->ui.insp_layer, "http");
    nc_snapshot(&fx->ui, NULL, 80, 40, "inspector_http_list_80x40");
    nc_buf_t out;
    nc_buf_init(&out);
    nc_tui_render_text(&fx->ui, NULL, 80, 40, &out);
    const char *text = nc_buf_cstr(&out);
    assert_non_null(strstr(text, "http: 3 in this packet"));
    assert_non_null(strstr(text, "request 1 of 3: GET /a.txt"));
    assert_non_null(strstr(text, "request 2 of 3: GET /b.txt"));
    assert_non_null(strstr(text, "request 3 of 3: HEAD /c.txt"));
    assert_null(strstr(text, "[0]"));
    assert_null(strstr(text, "[1]"));
    nc_buf_done(&out);
    nc_ui_source_t none = {0};
    nc_ui_set_source(&fx->ui, &none);
    nc_timeline_free(tl);
}

static void test_help(void **state)
{
    nc_fixture_t *fx = *state;
    assert_int_equal(nc_ui_key(&fx->ui, '?'), NC_VIEW_HANDLED | NC_VIEW_REDRAW);
    assert_ptr_equal(nc_ui_top(&fx->ui), &nc_view_help);
    nc_snapshot(&fx->ui, NULL, 80, 24, "help_80x24");
    /* Too many keys for 24 rows: the list scrolls to its end, no further. */
    for (int k = 0; k < 40; k++)
        nc_ui_key(&fx->ui, NC_KEY_DOWN);
    nc_snapshot(&fx->ui, NULL, 80, 24, "help_end_80x24");
    nc_ui_key(&fx->ui, '?');
    assert_ptr_equal(nc_ui_top(&fx->ui), &nc_view_map);
    assert_int_equal(fx->ui.help_scroll, 0);
}

static void test_toosmall(void **state)
{
    nc_fixture_t *fx = *state;
    nc_snapshot(&fx->ui, NULL, 60, 20, "toosmall_60x20");
    /* It says how to leave: q quits. */
    nc_buf_t msg;
    nc_buf_init(&msg);
    nc_tui_render_text(&fx->ui, NULL, 60, 20, &msg);
    assert_non_null(strstr(nc_buf_cstr(&msg), "press q to quit"));
    nc_buf_done(&msg);
    /* Keys other than q do nothing while the terminal is too small. */
    assert_int_equal(nc_ui_key(&fx->ui, NC_KEY_ENTER), 0);
    assert_ptr_equal(nc_ui_top(&fx->ui), &nc_view_map);
    nc_fixture_ladder(fx);
    nc_snapshot(&fx->ui, NULL, 79, 40, "toosmall_79x40");
}

/* Renders the whole help overlay, tall enough for every row. */
static char *nc_help_text(nc_fixture_t *fx)
{
    nc_buf_t out;
    nc_buf_init(&out);
    assert_int_equal(nc_ui_key(&fx->ui, '?'), NC_VIEW_HANDLED | NC_VIEW_REDRAW);
    nc_tui_render_text(&fx->ui, NULL, 100, 120, &out);
    nc_ui_key(&fx->ui, '?');
    char *text = nc_xstrdup(nc_buf_cstr(&out));
    nc_buf_done(&out);
    return text;
}

/* `?` lists every key of the table with its sentence, answer and class keys
 * included, and opens with the legend of the screen it was opened from. */
static void test_help_every_key(void **state)
{
    nc_fixture_t *fx = *state;
    char *map = nc_help_text(fx);
    assert_non_null(strstr(map, "On this screen (map)"));
    assert_non_null(strstr(map, "lesson complete"));
    nc_action_t acts[NC_ACT__COUNT];
    size_t n = nc_key_actions(acts);
    for (size_t i = 0; i < n; i++) {
        char keys[64];
        nc_action_keys(acts[i], " ", keys, sizeof keys, 1);
        /* The shell key is listed only while a run's lab is up (below). */
        if (acts[i] == NC_ACT_SHELL) {
            assert_null(strstr(map, nc_action_help(acts[i])));
            continue;
        }
        assert_non_null(strstr(map, keys));
        /* Long sentences wrap: their first words are on the key's row. */
        char head[31];
        snprintf(head, sizeof head, "%s", nc_action_help(acts[i]));
        assert_non_null(strstr(map, head));
    }
    assert_non_null(strstr(map, "a b c d"));
    assert_non_null(strstr(map, "in a class: raise or lower your hand"));
    free(map);

    nc_fixture_ladder(fx);
    char *ladder = nc_help_text(fx);
    assert_non_null(strstr(ladder, "On this screen (ladder)"));
    assert_non_null(strstr(ladder, "✕"));
    assert_non_null(strstr(ladder, "a packet the wire dropped"));
    assert_non_null(strstr(ladder, "• accept"));
    assert_non_null(strstr(ladder, "── Step"));
    assert_null(strstr(ladder, "lesson complete"));
    assert_null(strstr(ladder, "your shell on a lab host"));
    free(ladder);
    fx->ui.shell_host = "client";
    ladder = nc_help_text(fx);
    assert_non_null(strstr(ladder, "your shell on a lab host"));
    fx->ui.shell_host = NULL;
    free(ladder);
    assert_ptr_equal(nc_ui_top(&fx->ui), &nc_view_ladder);
}

/* The man page's KEYS section says what help says: every action, its keys
 * (as the ASCII footers name them) and its sentence, word for word. */
static void test_man_keys(void **state)
{
    FILE *f = fopen(NC_SOURCE_DIR "/man/netcourse.1", "r");
    assert_non_null(f);
    nc_buf_t man;
    nc_buf_init(&man);
    char line[1024];
    bool in = false;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, ".SH ", 4) == 0)
            in = strcmp(line, ".SH KEYS\n") == 0;
        else if (in)
            nc_buf_puts(&man, line);
    }
    fclose(f);
    nc_action_t acts[NC_ACT__COUNT];
    size_t n = nc_key_actions(acts);
    int missing = 0;
    for (size_t i = 0; i < n; i++) {
        char keys[64], want[512];
        nc_action_keys(acts[i], " ", keys, sizeof keys, 0);
        /* troff: a minus is \-. */
        nc_buf_t w;
        nc_buf_init(&w);
        nc_buf_printf(&w, ".TP\n.B \"%s\"\n%s\n", keys, nc_action_help(acts[i]));
        size_t k = 0;
        for (const char *p = nc_buf_cstr(&w); *p && k + 2 < sizeof want; p++) {
            if (*p == '-')
                want[k++] = '\\';
            want[k++] = *p;
        }
        want[k] = '\0';
        nc_buf_done(&w);
        if (!strstr(nc_buf_cstr(&man), want)) {
            fprintf(stderr, "man/netcourse.1 KEYS lacks:\n%s", want);
            missing++;
        }
    }
    nc_buf_done(&man);
    assert_int_equal(missing, 0);
}

/* The inspector: n and N go to the next and previous packet with the same
 * layer open, and the title rule says where the packet sits in its
 * connection. */
static void test_inspector_packets(void **state)
{
    nc_fixture_t *fx = *state;
    nc_fixture_inspect_syn(fx);
    nc_buf_t out;
    nc_buf_init(&out);
    nc_tui_render_text(&fx->ui, NULL, 80, 24, &out);
    assert_non_null(strstr(nc_buf_cstr(&out), "packet 1 of 6 in client:40112 ↔ server:80 (tcp)"));
    nc_ui_key(&fx->ui, NC_KEY_TAB);
    nc_ui_key(&fx->ui, NC_KEY_TAB);
    nc_buf_reset(&out);
    nc_tui_render_text(&fx->ui, NULL, 80, 24, &out);
    assert_string_equal(fx->ui.insp_layer, "tcp");
    size_t before = fx->ui.cursor;
    assert_int_equal(nc_ui_key(&fx->ui, 'n'), NC_VIEW_HANDLED | NC_VIEW_REDRAW);
    assert_true(fx->ui.cursor > before);
    assert_int_equal(nc_timeline_get(fx->tl, fx->ui.cursor)->type, NC_EV_PACKET);
    nc_buf_reset(&out);
    nc_tui_render_text(&fx->ui, NULL, 80, 24, &out);
    assert_ptr_equal(nc_ui_top(&fx->ui), &nc_view_inspector);
    assert_int_equal(fx->ui.layer, 2);
    assert_non_null(strstr(nc_buf_cstr(&out), "layer 3 of 3: tcp"));
    assert_non_null(strstr(nc_buf_cstr(&out), "packet 2 of 6 in client:40112 ↔ server:80"));
    nc_ui_key(&fx->ui, 'N');
    assert_int_equal(fx->ui.cursor, before);
    nc_buf_reset(&out);
    nc_tui_render_text(&fx->ui, NULL, 80, 24, &out);
    assert_non_null(strstr(nc_buf_cstr(&out), "packet 1 of 6"));
    assert_non_null(strstr(nc_buf_cstr(&out), "layer 3 of 3: tcp"));
    /* Before the first packet there is none to go to: the cursor stays. */
    for (int k = 0; k < 5; k++)
        nc_ui_key(&fx->ui, 'N');
    assert_int_equal(nc_timeline_get(fx->tl, fx->ui.cursor)->type, NC_EV_PACKET);
    nc_buf_done(&out);
}

/* r on a run asks first; only a second r restarts it. */
static void test_restart_asks(void **state)
{
    nc_fixture_t *fx = *state;
    nc_fixture_ladder(fx);
    fx->ui.src.done = true;
    int flags = nc_ui_key(&fx->ui, 'r');
    assert_false(flags & NC_VIEW_RUN);
    assert_true(fx->ui.confirm_run);
    nc_buf_t out;
    nc_buf_init(&out);
    nc_tui_render_text(&fx->ui, NULL, 80, 24, &out);
    assert_non_null(strstr(nc_buf_cstr(&out), "Start a new run? Press r again"));
    /* Another key keeps the run and forgets the question. */
    assert_false(nc_ui_key(&fx->ui, 'j') & NC_VIEW_RUN);
    assert_false(fx->ui.confirm_run);
    assert_false(nc_ui_key(&fx->ui, 'r') & NC_VIEW_RUN);
    assert_true(nc_ui_key(&fx->ui, 'r') & NC_VIEW_RUN);
    /* A run still going says so. */
    fx->ui.src.done = false;
    nc_ui_key(&fx->ui, 'r');
    nc_buf_reset(&out);
    nc_tui_render_text(&fx->ui, NULL, 80, 24, &out);
    assert_non_null(strstr(nc_buf_cstr(&out), "This run is still going"));
    nc_buf_done(&out);
    /* With nothing run yet, r starts at once. */
    nc_ui_source_t none = {0};
    nc_ui_key(&fx->ui, NC_KEY_ESC);
    nc_ui_set_source(&fx->ui, &none);
    assert_true(nc_ui_key(&fx->ui, 'r') & NC_VIEW_RUN);
}

/* R lists the saved runs from the store; Enter asks for a replay of one. */
static void test_runs_view(void **state)
{
    nc_fixture_t *fx = *state;
    setenv("TZ", "UTC", 1);
    char a[128], b[128];
    snprintf(a, sizeof a, "%s/old-udp.pcapng", fx->dir);
    snprintf(b, sizeof b, "%s/new-socket-buffers.pcapng", fx->dir);
    const char *paths[] = {a, b};
    const char *lessons[] = {"udp", "socket-buffers"};
    for (int k = 0; k < 2; k++) {
        FILE *f = fopen(paths[k], "w");
        assert_non_null(f);
        fputs("x", f);
        fclose(f);
        nc_store_saved_t r = {.path = (char *)paths[k], .lesson = (char *)lessons[k],
                              .saved_at = 1700000000 + k * 60, .packets = 11 + k * 52,
                              .events = 46 + k * 152, .bytes = 13619 + k * 88000};
        assert_int_equal(nc_store_saved_add(fx->store, &r), 0);
    }
    assert_int_equal(nc_ui_key(&fx->ui, 'R'), NC_VIEW_HANDLED | NC_VIEW_REDRAW);
    assert_ptr_equal(nc_ui_top(&fx->ui), &nc_view_runs);
    nc_buf_t out;
    nc_buf_init(&out);
    nc_tui_render_text(&fx->ui, NULL, 80, 24, &out);
    const char *t = nc_buf_cstr(&out);
    assert_non_null(strstr(t, "Saved runs"));
    assert_non_null(strstr(t, "2 runs kept"));
    const char *newer = strstr(t, "2023-11-14 22:14:20  socket-buffers");
    const char *older = strstr(t, "2023-11-14 22:13:20  udp");
    assert_non_null(newer);
    assert_non_null(older);
    assert_true(newer < older);
    assert_non_null(strstr(t, b)); /* the selected run's file */
    nc_ui_key(&fx->ui, 'j');
    int flags = nc_ui_key(&fx->ui, NC_KEY_ENTER);
    assert_true(flags & NC_VIEW_REPLAY);
    assert_string_equal(fx->ui.replay_path, a);
    nc_buf_done(&out);
}

/* Said once: a banner (progress that will not be kept) shows over any view
 * until the first key. */
static void test_banner(void **state)
{
    nc_fixture_t *fx = *state;
    snprintf(fx->ui.banner, sizeof fx->ui.banner,
             "progress will not be kept: the data directory /x cannot be written");
    nc_buf_t out;
    nc_buf_init(&out);
    nc_tui_render_text(&fx->ui, NULL, 80, 24, &out);
    assert_non_null(strstr(nc_buf_cstr(&out), "progress will not be kept"));
    nc_ui_key(&fx->ui, 'j');
    nc_buf_reset(&out);
    nc_tui_render_text(&fx->ui, NULL, 80, 24, &out);
    assert_null(strstr(nc_buf_cstr(&out), "progress will not be kept"));
    nc_buf_done(&out);
}

/* A lesson with the local topology: one lane, packets as text beside it. */
/* A packet of one of several parallel connections: only what the ladder
 * reads (hosts, ports, flags). */
static void nc_add_conn_packet(nc_timeline_t *tl, nc_evb_t *b, int64_t t, const char *proto,
                               const char *from, const char *to, int64_t sport, int64_t dport,
                               const char *summary)
{
    nc_evb_reset(b, NC_EV_PACKET, t);
    nc_evb_host(b, from);
    nc_evb_summary(b, "%s", summary);
    nc_evb_str(b, "from", from);
    nc_evb_str(b, "to", to);
    nc_evb_str(b, "proto", proto);
    nc_evb_int(b, "len", 66);
    nc_evb_bool(b, "dropped", false);
    nc_evb_obj(b, proto);
    nc_evb_int(b, "sport", sport);
    nc_evb_int(b, "dport", dport);
    nc_evb_end(b);
    nc_timeline_add(tl, b);
}

/*
 * The end of a run with six parallel connections and long reports: every
 * FIN row names its connection (its client port), the programs' reports
 * wrap instead of losing their numbers at 80 columns, and beside the state
 * panel the ladder's lines stop, marked, at the panel's edge ("cwnd 10",
 * never "cwnd 1").
 */
static nc_timeline_t *nc_truth_timeline(void)
{
    nc_timeline_t *tl = nc_timeline_new(T0);
    nc_timeline_set_window(tl, 0);
    nc_evb_t b;
    nc_evb_init(&b);
    int64_t t = T0;
    nc_add_simple(tl, &b, NC_EV_APP, t += 1000, "server",
                  "reuseport: connections per worker: worker 1: 6, worker 2: 2, worker 3: 4", NULL);
    nc_add_simple(tl, &b, NC_EV_APP, t += 1000, "server",
                  "processes: a child (pid 32262, 1 threads): VmRSS 69440 kB, Pss 13808 kB "
                  "(81% shared)",
                  NULL);
    nc_evb_reset(&b, NC_EV_STATE, t += 1000);
    nc_evb_host(&b, "client");
    nc_evb_summary(&b, "client:40112->server:80 ESTABLISHED recv_q 0 send_q 0 snd_wnd 64512 "
                       "cwnd 10");
    nc_evb_str(&b, "socket", "client:40112->server:80");
    nc_evb_str(&b, "state", "ESTABLISHED");
    nc_evb_int(&b, "recv_q", 0);
    nc_evb_int(&b, "send_q", 0);
    nc_evb_int(&b, "snd_wnd", 64512);
    nc_evb_int(&b, "cwnd", 10);
    nc_timeline_add(tl, &b);
    for (int k = 0; k < 6; k++) {
        nc_add_conn_packet(tl, &b, t += 1000, "tcp", "server", "client", 80, 40112 + k,
                           "FIN,ACK seq=1 ack=6");
        nc_add_conn_packet(tl, &b, t += 1000, "tcp", "client", "server", 40112 + k, 80,
                           "ACK seq=6 ack=2");
    }
    /* A summary that names its ports already gets no tag. */
    nc_add_conn_packet(tl, &b, t += 1000, "udp", "client", "server", 39650, 7,
                       "UDP 39650 > 7 len=14");
    nc_timeline_flush(tl, true);
    nc_evb_done(&b);
    return tl;
}

static void test_ladder_truth(void **state)
{
    nc_fixture_t *fx = *state;
    nc_timeline_free(fx->tl);
    fx->tl = nc_truth_timeline();
    nc_fixture_ladder(fx);
    nc_ui_key(&fx->ui, 'g');
    nc_snapshot(&fx->ui, NULL, 80, 24, "ladder_truth_80x24");
    nc_snapshot(&fx->ui, NULL, 120, 40, "ladder_truth_120x40");
    nc_buf_t out;
    nc_buf_init(&out);
    nc_tui_render_text(&fx->ui, NULL, 80, 24, &out);
    const char *text = nc_buf_cstr(&out);
    assert_non_null(strstr(text, "worker 3: 4"));
    assert_non_null(strstr(text, "Pss 13808 kB"));
    nc_buf_reset(&out);
    nc_tui_render_text(&fx->ui, NULL, 120, 40, &out);
    text = nc_buf_cstr(&out);
    for (int k = 0; k < 6; k++) {
        char tag[32];
        snprintf(tag, sizeof tag, ":%d FIN,ACK seq=1 ack=6", 40112 + k);
        assert_non_null(strstr(text, tag));
    }
    assert_null(strstr(text, "cwnd 1\xe2\x94\x82")); /* "cwnd 1" then the panel's line */
    assert_non_null(strstr(text, " UDP 39650 > 7 len=14 "));
    assert_null(strstr(text, ":39650"));
    nc_buf_done(&out);
}

/*
 * A loopback capture of three connections: the lanes are endpoints (the
 * host over the time column, a lane per port); C lists the conversations;
 * Enter shows one alone; & filters with a matcher, a bad one is one
 * sentence in the prompt and changes nothing; / and n find; :N goes to.
 */
static nc_timeline_t *nc_loopback_timeline(void)
{
    nc_timeline_t *tl = nc_timeline_new(T0);
    nc_timeline_set_window(tl, 0);
    nc_evb_t b;
    nc_evb_init(&b);
    int64_t t = T0;
    for (int k = 0; k < 3; k++) {
        nc_add_conn_packet(tl, &b, t += 1000, "tcp", "127.0.0.1", "127.0.0.1", 40112 + k, 8080,
                           "SYN seq=0");
        nc_add_conn_packet(tl, &b, t += 1000, "tcp", "127.0.0.1", "127.0.0.1", 8080, 40112 + k,
                           "SYN,ACK seq=0 ack=1");
    }
    nc_add_conn_packet(tl, &b, t += 1000, "tcp", "127.0.0.1", "127.0.0.1", 40113, 8080,
                       "GET /missing HTTP/1.1");
    nc_timeline_flush(tl, true);
    nc_evb_done(&b);
    return tl;
}

/* Sends each character of text to the ui as a key. */
static void nc_type(nc_ui_t *ui, const char *text)
{
    for (; *text; text++)
        nc_ui_key(ui, (unsigned char)*text);
}

static void test_navigation(void **state)
{
    nc_fixture_t *fx = *state;
    nc_timeline_free(fx->tl);
    fx->tl = nc_loopback_timeline();
    nc_fixture_ladder(fx);
    fx->ui.lesson = NULL;
    nc_snapshot(&fx->ui, NULL, 80, 24, "ladder_loopback_80x24");
    nc_ui_key(&fx->ui, 'C');
    nc_snapshot(&fx->ui, NULL, 80, 24, "convs_80x24");
    nc_ui_key(&fx->ui, 'g');
    nc_ui_key(&fx->ui, 'j');
    nc_ui_key(&fx->ui, NC_KEY_ENTER); /* the second connection: 3 packets */
    nc_snapshot(&fx->ui, NULL, 80, 24, "ladder_conv_80x24");
    assert_int_equal(fx->ui.cursor, 2);
    nc_ui_key(&fx->ui, 'G');
    nc_ui_key(&fx->ui, '&');
    nc_type(&fx->ui, "tcp.len>x");
    nc_ui_key(&fx->ui, NC_KEY_ENTER);
    nc_snapshot(&fx->ui, NULL, 80, 24, "prompt_error_80x24");
    nc_ui_key(&fx->ui, NC_KEY_ESC);
    nc_ui_key(&fx->ui, '/');
    nc_type(&fx->ui, "missing");
    nc_ui_key(&fx->ui, NC_KEY_ENTER);
    assert_int_equal(fx->ui.cursor, 6);
    nc_ui_key(&fx->ui, ':');
    nc_type(&fx->ui, "0");
    nc_ui_key(&fx->ui, NC_KEY_ENTER); /* hidden by the conversation */
    assert_int_equal(fx->ui.cursor, 6);
    assert_non_null(strstr(fx->ui.notice, "hidden by the filter"));
    nc_ui_key(&fx->ui, '&');
    nc_ui_key(&fx->ui, NC_KEY_ENTER); /* empty: every event again */
    nc_ui_key(&fx->ui, ':');
    nc_type(&fx->ui, "0");
    nc_ui_key(&fx->ui, NC_KEY_ENTER);
    assert_int_equal(fx->ui.cursor, 0);
}

/*
 * The comparison table (compare.c): T on a ladder without a comparison
 * says so; once the run's note is on the timeline and the run is done, the
 * table opens by itself, once, side by side, the fewest of each row in
 * bold; Esc goes back and T opens it again.
 */
static void test_compare(void **state)
{
    nc_fixture_t *fx = *state;
    nc_fixture_ladder(fx);
    nc_ui_key(&fx->ui, 'T');
    assert_ptr_equal(nc_ui_top(&fx->ui), &nc_view_ladder);
    assert_non_null(strstr(fx->ui.notice, "no comparison table"));
    nc_compare_table_t t = {.id = "polling", .title = "One job, two ways", .nrows = 2};
    t.rows[0] = (nc_compare_row_t){"short polling", "shortpoller", 12, 12, 7, 1, 13, 35, 3408,
                               425600000, 20300000, 0, 0};
    t.rows[1] = (nc_compare_row_t){"long polling", "longpoller", 5, 5, 0, 1, 6, 22, 2148, 416600000,
                                   20100000, 0, 0};
    nc_evb_t b;
    nc_evb_init(&b);
    nc_compare_note(&b, &t, T0 + 300000000);
    nc_timeline_add(fx->tl, &b);
    nc_timeline_flush(fx->tl, true);
    nc_evb_done(&b);
    fx->ui.src.done = true;
    assert_true(nc_compare_view_tick(&fx->ui));
    assert_ptr_equal(nc_ui_top(&fx->ui), &nc_view_compare);
    nc_snapshot(&fx->ui, NULL, 80, 24, "compare_80x24");
    nc_ui_key(&fx->ui, NC_KEY_ESC);
    assert_ptr_equal(nc_ui_top(&fx->ui), &nc_view_ladder);
    assert_false(nc_compare_view_tick(&fx->ui));
    nc_ui_key(&fx->ui, 'T');
    assert_ptr_equal(nc_ui_top(&fx->ui), &nc_view_compare);
}

static void test_ladder_local(void **state)
{
    nc_fixture_t *fx = *state;
    nc_fixture_ladder(fx);
    fx->ui.lesson = fx->lessons[0];
    nc_snapshot(&fx->ui, NULL, 80, 24, "ladder_local_80x24");
}

/* Tiny terminals get the message, wrapped, never a squeezed view. */
static void test_tiny(void **state)
{
    nc_fixture_t *fx = *state;
    nc_buf_t out;
    nc_buf_init(&out);
    nc_tui_render_text(&fx->ui, NULL, 20, 5, &out);
    assert_string_equal(nc_buf_cstr(&out),
                        "\nterminal too small:\nneed 80x24, have\n20x5; q quits\n\n");
    nc_buf_reset(&out);
    nc_tui_render_text(&fx->ui, NULL, 1, 1, &out);
    nc_buf_reset(&out);
    nc_tui_render_text(&fx->ui, NULL, 0, 0, &out);
    assert_string_equal(nc_buf_cstr(&out), "");
    nc_buf_done(&out);
}

/* The shipped lessons: every page lays out within 80 columns, and the map
 * lists them all. */
static void test_real_course(void **state)
{
    nc_course_t *co = NULL;
    char err[256] = "";
    int rc = nc_course_load(NC_SOURCE_DIR "/lessons", &co, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "%s\n", err);
    assert_int_equal(rc, 0);
    nc_ui_t ui;
    nc_ui_init(&ui, co, NULL, true);
    nc_buf_t out;
    nc_buf_init(&out);
    /* The course outgrew 24 rows (the map scrolls there): the map is read
     * on a screen tall enough for every lesson and part. */
    nc_tui_render_text(&ui, NULL, 80, 60, &out);
    for (size_t i = 0; i < co->nlessons; i++)
        assert_non_null(strstr(nc_buf_cstr(&out), co->lessons[i]->title));
    for (size_t i = 0; i < co->nlessons; i++) {
        nc_ui_open_lesson(&ui, co->lessons[i]);
        for (size_t p = 0; p < co->lessons[i]->npages; p++) {
            ui.page = (int)p;
            nc_buf_reset(&out);
            assert_int_equal(nc_tui_render_text(&ui, "reader", 80, 24, &out), 0);
            assert_non_null(strstr(nc_buf_cstr(&out), co->lessons[i]->pages[p].title));
        }
    }
    nc_buf_done(&out);
    nc_ui_done(&ui);
    nc_course_free(co);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canvas),
        cmocka_unit_test(test_canvas_cuts),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_markdown),
        cmocka_unit_test_setup_teardown(test_map, nc_setup, nc_teardown),
        cmocka_unit_test_setup_teardown(test_reader, nc_setup, nc_teardown),
        cmocka_unit_test(test_topo_line),
        cmocka_unit_test_setup_teardown(test_ladder, nc_setup, nc_teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint, nc_setup, nc_teardown),
        cmocka_unit_test_setup_teardown(test_inspector, nc_setup, nc_teardown),
        cmocka_unit_test_setup_teardown(test_inspector_http_list, nc_setup, nc_teardown),
        cmocka_unit_test_setup_teardown(test_help, nc_setup, nc_teardown),
        cmocka_unit_test_setup_teardown(test_toosmall, nc_setup, nc_teardown),
        cmocka_unit_test_setup_teardown(test_help_every_key, nc_setup, nc_teardown),
        cmocka_unit_test(test_man_keys),
        cmocka_unit_test_setup_teardown(test_inspector_packets, nc_setup, nc_teardown),
        cmocka_unit_test_setup_teardown(test_restart_asks, nc_setup, nc_teardown),
        cmocka_unit_test_setup_teardown(test_runs_view, nc_setup, nc_teardown),
        cmocka_unit_test_setup_teardown(test_banner, nc_setup, nc_teardown),
        cmocka_unit_test_setup_teardown(test_ladder_local, nc_setup, nc_teardown),
        cmocka_unit_test_setup_teardown(test_ladder_truth, nc_setup, nc_teardown),
        cmocka_unit_test_setup_teardown(test_navigation, nc_setup, nc_teardown),
        cmocka_unit_test_setup_teardown(test_compare, nc_setup, nc_teardown),
        cmocka_unit_test_setup_teardown(test_tiny, nc_setup, nc_teardown),
        cmocka_unit_test(test_real_course),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
