/*
 * test_lesson.c: the lesson parser and course loader (src/lesson).
 *
 * A good file is parsed field by field; then a table of broken lessons, one
 * per error class, each checked for the "path:line:" it must report and a
 * word of its sentence. The course loader is tried on temporary
 * directories, and finally every lesson shipped in lessons/ is loaded and
 * each of its matchers compiled.
 */
#include "core/match.h"
#include "lesson/lesson.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FRONT                                                                  \
    "---\n"                                                                    \
    "id: t\n"                                                                  \
    "title: T\n"                                                               \
    "number: 5\n"                                                              \
    "part: 1 Patterns\n"                                                       \
    "summary: s\n"                                                             \
    "topology: pair\n"                                                         \
    "scenario: tcp\n"                                                          \
    "---\n"
/* FRONT is 9 lines: the body starts on line 10. */

static void test_good_file(void **state)
{
    char err[512] = "";
    nc_lesson_t *l;
    int rc = nc_lesson_load(NC_TEST_DATA "/data/good.md", &l, err, sizeof err);
    assert_int_equal(rc, 0);
    assert_string_equal(l->id, "sample");
    assert_string_equal(l->title, "A sample lesson");
    assert_int_equal(l->number, 99);
    assert_int_equal(l->part, 2);
    assert_string_equal(l->part_title, "Protocols");
    assert_string_equal(l->summary, "A lesson used by the parser tests.");
    assert_string_equal(l->topology, "pair");
    assert_string_equal(l->scenario, "tcp");
    assert_int_equal(l->link.delay_ns, 5000000);
    assert_true(l->link.loss > 0.0099 && l->link.loss < 0.0101);
    assert_int_equal(l->link.rate_bps, 0);

    assert_int_equal(l->nfaults, 2);
    assert_string_equal(l->faults[0].action, "drop");
    assert_int_equal(l->faults[0].nth, 3);
    assert_string_equal(l->faults[0].match, "packet from=client tcp.len>0");
    assert_string_equal(l->faults[0].spec, "drop 3rd packet from=client tcp.len>0");
    assert_int_equal(l->faults[0].line, 10);
    assert_int_equal(l->faults[1].nth, 1);

    assert_int_equal(l->npages, 2);
    assert_string_equal(l->pages[0].title, "First page");
    assert_int_equal(l->pages[0].line, 13);
    /* The code block stays, its "# " line is not a page, the step is gone. */
    assert_non_null(strstr(l->pages[0].markdown, "# not a heading"));
    assert_null(strstr(l->pages[0].markdown, "handshake"));
    assert_int_equal(strncmp(l->pages[0].markdown, "Some *Markdown*.", 16), 0);
    assert_string_equal(l->pages[1].title, "Second page");
    assert_string_equal(l->pages[1].markdown, "More text.\n");

    assert_int_equal(l->nsteps, 2);
    assert_string_equal(l->steps[0].id, "handshake");
    assert_string_equal(l->steps[0].title, "Opening the connection");
    assert_string_equal(l->steps[0].until, "packet from=client tcp.flags=ACK !tcp.len");
    assert_string_equal(l->steps[0].text, "Watch the three packets that open the connection.");
    assert_int_equal(l->steps[0].line, 21);
    assert_null(l->steps[1].until);

    assert_int_equal(l->ncheckpoints, 1);
    const nc_checkpoint_t *c = &l->checkpoints[0];
    assert_string_equal(c->id, "synack");
    assert_string_equal(c->before, "packet from=server tcp.flags~SYN");
    assert_string_equal(c->explain, "The server acknowledges the SYN and sends its own.");
    assert_int_equal(c->nchoices, 3);
    assert_string_equal(c->choices[1].key, "b");
    assert_string_equal(c->choices[1].text, "SYN and ACK");
    assert_int_equal(c->choices[1].rule, NC_CHOICE_WHEN);
    assert_string_equal(c->choices[1].match, "tcp.flags=SYN,ACK");
    assert_int_equal(c->choices[2].rule, NC_CHOICE_OTHERWISE);
    assert_null(c->choices[2].match);

    assert_int_equal(l->nnotes, 1);
    assert_string_equal(l->notes[0].match, "packet dropped");
    assert_true(l->notes[0].every);
    nc_lesson_free(l);
}

static void test_minimal_and_crlf(void **state)
{
    const char *text = "---\r\nid: t\r\ntitle: T\r\nnumber: 5\r\npart: 1 P\r\nsummary: s\r\n"
                       "topology: local\r\nscenario: x\r\n---\r\n\r\n# Only\r\nbody\r\n";
    char err[256] = "";
    nc_lesson_t *l;
    assert_int_equal(nc_lesson_parse("m.md", text, strlen(text), &l, err, sizeof err), 0);
    assert_int_equal(l->npages, 1);
    assert_string_equal(l->pages[0].title, "Only");
    assert_string_equal(l->pages[0].markdown, "body\n");
    assert_int_equal(l->nsteps + l->ncheckpoints + l->nnotes + l->nfaults, 0);
    nc_lesson_free(l);
}

static void test_choice_rules(void **state)
{
    const char *text = FRONT "# P\n"
                             "```checkpoint\n"
                             "id: c\n"
                             "ask: q\n"
                             "before: packet dropped\n"
                             "after: app call=bind\n"
                             "reveal: app call=timeout\n"
                             "premise: a query is dropped\n"
                             "window: until packet from=client dns dns.id!=$dns.id\n"
                             "a: again | later packet from=client dns.id=$dns.id\n"
                             "b: gone | never packet from=client dns.id=$dns.id\n"
                             "c: a | b in text | otherwise\n"
                             "explain_b: this run moved on after {$dns.id}\n"
                             "explain: e\n"
                             "```\n";
    char err[256] = "";
    nc_lesson_t *l;
    assert_int_equal(nc_lesson_parse("c.md", text, strlen(text), &l, err, sizeof err), 0);
    const nc_checkpoint_t *c = &l->checkpoints[0];
    assert_int_equal(c->choices[0].rule, NC_CHOICE_LATER);
    assert_string_equal(c->choices[0].match, "packet from=client dns.id=$dns.id");
    assert_int_equal(c->choices[1].rule, NC_CHOICE_NEVER);
    assert_string_equal(c->choices[2].text, "a | b in text");
    assert_int_equal(c->choices[2].rule, NC_CHOICE_OTHERWISE);
    assert_string_equal(c->after, "app call=bind");
    assert_string_equal(c->reveal, "app call=timeout");
    assert_string_equal(c->premise, "a query is dropped");
    assert_int_equal(c->window, NC_WINDOW_UNTIL);
    assert_string_equal(c->window_until, "packet from=client dns dns.id!=$dns.id");
    assert_null(c->choices[0].explain);
    assert_string_equal(c->choices[1].explain, "this run moved on after {$dns.id}");
    nc_lesson_free(l);
}

/* The windows other than "until", and the target window of a checkpoint
 * decided by `when` choices alone. */
static void test_windows(void **state)
{
    static const struct {
        const char *window; /* NULL: no window key */
        const char *rule;
        nc_window_t want;
    } cases[] = {
        {"step", "later tcp", NC_WINDOW_STEP},
        {"run", "never tcp", NC_WINDOW_RUN},
        {NULL, "when tcp", NC_WINDOW_TARGET},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[512];
        snprintf(text, sizeof text,
                 FRONT "# P\n```checkpoint\nid: c\nask: q\nbefore: packet\n%s%s%s"
                       "a: x | %s\nb: y | otherwise\nexplain: e\n```\n",
                 cases[i].window ? "window: " : "", cases[i].window ? cases[i].window : "",
                 cases[i].window ? "\n" : "", cases[i].rule);
        char err[256] = "";
        nc_lesson_t *l;
        if (nc_lesson_parse("w.md", text, strlen(text), &l, err, sizeof err) != 0)
            fail_msg("case %zu: %s", i, err);
        assert_int_equal(l->checkpoints[0].window, cases[i].want);
        assert_null(l->checkpoints[0].window_until);
        nc_lesson_free(l);
    }
}

typedef struct bad_case {
    const char *name;
    const char *text; /* NULL: built by the test */
    const char *where; /* expected "file:line:" prefix */
    const char *words; /* expected in the sentence */
} bad_case_t;

static const bad_case_t bad_cases[] = {
    {"no front matter", "# Page\ntext\n", "bad.md:1:", "front matter"},
    {"empty file", "", "bad.md:1:", "front matter"},
    {"unclosed front matter", "---\nid: t\n# Page\n", "bad.md:1:", "never closed"},
    {"missing key", "---\nid: t\ntitle: T\nnumber: 5\npart: 1 P\nsummary: s\ntopology: pair\n---\n# P\n",
     "bad.md:1:", "\"scenario\""},
    {"unknown key", "---\nid: t\ncolour: red\n---\n# P\n", "bad.md:3:", "unknown key \"colour\""},
    {"duplicate key", "---\nid: t\nid: u\n---\n# P\n", "bad.md:3:", "duplicate key \"id\""},
    {"empty value", "---\nid:\n---\n", "bad.md:2:", "needs a value"},
    {"not key value", "---\nid t\n---\n", "bad.md:2:", "key: value"},
    {"continuation first", "---\n  id: t\n---\n", "bad.md:2:", "continues"},
    {"bad id", "---\nid: Hello World\n---\n", "bad.md:2:", "lowercase"},
    {"bad number", "---\nid: t\nnumber: twelve\n---\n", "bad.md:3:", "whole number"},
    {"number zero", "---\nid: t\nnumber: 0\n---\n", "bad.md:3:", "whole number"},
    {"bad part", "---\nid: t\npart: Protocols\n---\n", "bad.md:3:", "part"},
    {"part without title", "---\nid: t\npart: 2   \n---\n", "bad.md:3:", "part"},
    {"unknown topology", "---\nid: t\ntopology: ring\n---\n", "bad.md:3:", "unknown topology \"ring\""},
    {"bad link unit", "---\nid: t\nlink: delay=5\n---\n", "bad.md:3:", "unit"},
    {"bad link key", "---\nid: t\nlink: jitter=5ms\n---\n", "bad.md:3:", "jitter"},
    {"bad link loss", "---\nid: t\nlink: loss=150%\n---\n", "bad.md:3:", "loss"},
    {"fault action", "---\nid: t\nfault: delay 3rd packet\n---\n", "bad.md:3:", "unknown action"},
    {"fault ordinal", "---\nid: t\nfault: drop third packet\n---\n", "bad.md:3:", "ordinal"},
    {"fault matcher", "---\nid: t\nfault: drop 2nd packet tcp.len>x\n---\n", "bad.md:3:", "bad matcher"},
    {"fault no matcher", "---\nid: t\nfault: drop 2nd\n---\n", "bad.md:3:", "ordinal"},
    {"no pages", FRONT "\n\n", "bad.md:10:", "no pages"},
    {"text before heading", FRONT "hello\n# P\n", "bad.md:10:", "before the first page"},
    {"empty heading", FRONT "#\n", "bad.md:10:", "title"},
    {"unclosed fence", FRONT "# P\n\n```c\nint x;\n", "bad.md:12:", "never closed"},
    {"unclosed run block", FRONT "# P\n```step\nid: s\n", "bad.md:11:", "never closed"},
    {"step missing text", FRONT "# P\n```step\nid: s\ntitle: S\n```\n", "bad.md:11:", "\"text\""},
    {"step unknown key", FRONT "# P\n```step\nid: s\nwhen: x\n```\n", "bad.md:13:", "unknown key \"when\""},
    {"step bad matcher", FRONT "# P\n```step\nid: s\ntitle: S\ntext: t\nuntil: tcp.len>abc\n```\n",
     "bad.md:15:", "bad matcher"},
    {"step unclosed quote", FRONT "# P\n```step\nid: s\ntitle: S\ntext: t\nuntil: summary=\"abc\n```\n",
     "bad.md:15:", "bad matcher"},
    {"step duplicate id",
     FRONT "# P\n```step\nid: s\ntitle: S\ntext: t\nuntil: packet\n```\n"
           "```step\nid: s\ntitle: S\ntext: t\n```\n",
     "bad.md:17:", "already used on line 11"},
    {"step without until not last",
     FRONT "# P\n```step\nid: s\ntitle: S\ntext: t\n```\n```step\nid: u\ntitle: U\ntext: t\n```\n",
     "bad.md:11:", "only the last step"},
    {"checkpoint one choice",
     FRONT "# P\n```checkpoint\nid: c\nask: q\nbefore: packet\na: x | when tcp\nexplain: e\n```\n",
     "bad.md:11:", "two choices"},
    {"checkpoint no before",
     FRONT "# P\n```checkpoint\nid: c\nask: q\na: x | when tcp\nb: y | otherwise\nexplain: e\n```\n",
     "bad.md:11:", "\"before\""},
    {"checkpoint bad before",
     FRONT "# P\n```checkpoint\nid: c\nask: q\nbefore: =x\na: x | when tcp\nb: y | otherwise\nexplain: e\n```\n",
     "bad.md:14:", "bad matcher"},
    {"choice without bar",
     FRONT "# P\n```checkpoint\nid: c\nask: q\nbefore: packet\na: x when tcp\n```\n",
     "bad.md:15:", "text | when"},
    {"choice bad rule",
     FRONT "# P\n```checkpoint\nid: c\nask: q\nbefore: packet\na: x | maybe tcp\n```\n",
     "bad.md:15:", "unknown rule \"maybe\""},
    {"choice rule without matcher",
     FRONT "# P\n```checkpoint\nid: c\nask: q\nbefore: packet\na: x | later\n```\n",
     "bad.md:15:", "needs a matcher"},
    {"choice without text",
     FRONT "# P\n```checkpoint\nid: c\nask: q\nbefore: packet\na:  | when tcp\n```\n",
     "bad.md:15:", "no text"},
    {"choice duplicate",
     FRONT "# P\n```checkpoint\nid: c\nask: q\nbefore: packet\na: x | when tcp\na: y | when udp\n```\n",
     "bad.md:16:", "duplicate choice"},
    {"two otherwise",
     FRONT "# P\n```checkpoint\nid: c\nask: q\nbefore: packet\na: x | otherwise\nb: y | otherwise\n```\n",
     "bad.md:16:", "only one"},
    {"checkpoint unknown key",
     FRONT "# P\n```checkpoint\nid: c\nquestion: q\n```\n", "bad.md:13:", "unknown key \"question\""},
    {"checkpoint duplicate id",
     FRONT "# P\n```checkpoint\nid: c\nask: q\nbefore: packet\na: x | when tcp\nb: y | otherwise\nexplain: e\n```\n"
           "```checkpoint\nid: c\nask: q\nbefore: packet\na: x | when tcp\nb: y | otherwise\nexplain: e\n```\n",
     "bad.md:19:", "already used on line 11"},
    /* The checkpoint model (lessons/README.md): a rule used against its
     * meaning is an error at its line. */
    {"later without window",
     FRONT "# P\n```checkpoint\nid: c\nask: q\nbefore: packet\na: x | later tcp\nb: y | otherwise\nexplain: e\n```\n",
     "bad.md:11:", "needs a \"window:\""},
    {"never without window",
     FRONT "# P\n```checkpoint\nid: c\nask: q\nbefore: packet\na: x | when tcp\nb: y | never udp\nexplain: e\n```\n",
     "bad.md:11:", "choice b is decided by events after the target"},
    {"window on when-only",
     FRONT "# P\n```checkpoint\nid: c\nask: q\nbefore: packet\nwindow: step\na: x | when tcp\nb: y | otherwise\nexplain: e\n```\n",
     "bad.md:15:", "has nothing to wait for"},
    {"bad window",
     FRONT "# P\n```checkpoint\nid: c\nask: q\nbefore: packet\nwindow: soon\n```\n", "bad.md:15:", "until MATCHER"},
    {"window until without matcher",
     FRONT "# P\n```checkpoint\nid: c\nask: q\nbefore: packet\nwindow: until\n```\n", "bad.md:15:", "needs a matcher"},
    {"window bad matcher",
     FRONT "# P\n```checkpoint\nid: c\nask: q\nbefore: packet\nwindow: until tcp.len>x\n```\n", "bad.md:15:", "bad matcher"},
    {"before reads the target",
     FRONT "# P\n```checkpoint\nid: c\nask: q\nbefore: packet dns.id=$dns.id\n```\n", "bad.md:14:",
     "not known yet"},
    {"reveal reads the target",
     FRONT "# P\n```checkpoint\nid: c\nask: q\nbefore: packet\nreveal: app port=$port\n```\n", "bad.md:15:", "not known yet"},
    {"after reads the target",
     FRONT "# P\n```checkpoint\nid: c\nask: q\nbefore: packet\nafter: app port>$port\n```\n", "bad.md:15:", "not known yet"},
    {"when reads the target",
     FRONT "# P\n```checkpoint\nid: c\nask: q\nbefore: packet\na: x | when tcp.seq=$tcp.seq\nb: y | otherwise\nexplain: e\n```\n",
     "bad.md:15:", "nothing else to read"},
    {"explain for no choice",
     FRONT "# P\n```checkpoint\nid: c\nask: q\nbefore: packet\na: x | when tcp\nb: y | otherwise\nexplain_c: e\nexplain: e\n```\n",
     "bad.md:17:", "explains choice c"},
    {"explain bad name",
     FRONT "# P\n```checkpoint\nid: c\nask: q\nbefore: packet\nexplain_ab: e\n```\n", "bad.md:15:", "explain_a"},
    {"explain bad placeholder",
     FRONT "# P\n```checkpoint\nid: c\nask: q\nbefore: packet\na: x | when tcp\nb: y | otherwise\nexplain: {w 1}\n```\n",
     "bad.md:17:", "placeholder"},
    {"explain unclosed placeholder",
     FRONT "# P\n```checkpoint\nid: c\nask: q\nbefore: packet\na: x | when tcp\nb: y | otherwise\nexplain_a: a {w1\nexplain: e\n```\n",
     "bad.md:17:", "placeholder"},
    {"note bad every", FRONT "# P\n```note\nwhen: packet\ntext: t\nevery: sometimes\n```\n", "bad.md:14:",
     "yes or no"},
    {"note missing when", FRONT "# P\n```note\ntext: t\n```\n", "bad.md:11:", "\"when\""},
    {"note bad matcher", FRONT "# P\n```note\nwhen: packet tcp.len>=\ntext: t\n```\n", "bad.md:12:",
     "bad matcher"},
    /* Fields no event has (issue 9: "tcp.dupack" loaded and never fired). */
    {"note unknown tcp field", FRONT "# P\n```note\nwhen: packet tcp.dupack\ntext: t\n```\n",
     "bad.md:12:", "no event has the field \"tcp.dupack\": no decoder writes it (tcp has"},
    {"step unknown http field", FRONT "# P\n```step\nid: s\ntitle: S\ntext: t\nuntil: packet http.methd=GET\n```\n",
     "bad.md:15:", "\"http.methd\""},
    {"app with a layer path", FRONT "# P\n```note\nwhen: app tcp.flags~SYN\ntext: t\n```\n",
     "bad.md:12:", "\"tcp.flags\""},
    {"state typo", FRONT "# P\n```note\nwhen: state acept_queue>=1\ntext: t\n```\n", "bad.md:12:",
     "\"acept_queue\""},
    {"unknown packet field", FRONT "# P\n```note\nwhen: packet dport=80\ntext: t\n```\n", "bad.md:12:",
     "\"dport\""},
    {"unknown reference field", FRONT "# P\n```note\nwhen: packet dns.id=$dns.ident\ntext: t\n```\n",
     "bad.md:12:", "\"dns.ident\""},
    {"fault unknown field", "---\nid: t\nfault: drop 2nd packet tcp.dupack\n---\n", "bad.md:3:",
     "\"tcp.dupack\""},
    {"invalid utf-8", FRONT "# P\ncaf\xc3 au lait\n", "bad.md:11:", "UTF-8"},
    {"overlong utf-8", FRONT "# P\n\xc0\xaf\n", "bad.md:11:", "UTF-8"},
    {"surrogate utf-8", "---\n\xed\xa0\x80\n", "bad.md:2:", "UTF-8"},
};

static void test_errors(void **state)
{
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const bad_case_t *bc = &bad_cases[i];
        char err[512] = "";
        nc_lesson_t *l = (nc_lesson_t *)0x1;
        int rc = nc_lesson_parse("bad.md", bc->text, strlen(bc->text), &l, err, sizeof err);
        if (rc >= 0 || l != NULL || strncmp(err, bc->where, strlen(bc->where)) != 0 ||
            !strstr(err, bc->words))
            fail_msg("case \"%s\": rc %d, got \"%s\", want \"%s ...%s...\"", bc->name, rc, err,
                     bc->where, bc->words);
    }
}

/* Declared fields of every kind of event load: packet layers old and new,
 * state, mark and note fields, and an app event's own fields. */
static void test_known_fields(void **state)
{
    (void)state;
    static const char *const ok[] = {
        "packet http.method=GET http.status>=200 http.chunks~5 tcp.options.mss>0",
        "packet websocket.opcode=1 websocket.payload.close.status_code=1000 sse.id=3",
        "packet reassembly.gap_len>0 from=client dropped wire.action=drop",
        "state socket=\"server:7000 listen\" accept_queue>=1",
        "mark checkpoint=c event=asked",
        "app call=spread w1>0 pattern=reuseport",
        "worker>=1",
        "http",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char text[512], err[512] = "";
        snprintf(text, sizeof text, FRONT "# P\n```note\nwhen: %s\ntext: t\n```\n", ok[i]);
        nc_lesson_t *l = NULL;
        if (nc_lesson_parse("ok.md", text, strlen(text), &l, err, sizeof err) < 0)
            fail_msg("\"%s\" was refused: %s", ok[i], err);
        nc_lesson_free(l);
    }
}

static void test_nul_and_size(void **state)
{
    char err[256] = "";
    nc_lesson_t *l;
    const char text[] = "---\nid: t\0\n---\n";
    assert_true(nc_lesson_parse("n.md", text, sizeof text - 1, &l, err, sizeof err) < 0);
    assert_string_equal(err, "n.md:2: the file holds a NUL byte");

    size_t big = 1024 * 1024 + 1;
    char *huge = malloc(big);
    memset(huge, 'a', big);
    assert_true(nc_lesson_parse("h.md", huge, big, &l, err, sizeof err) < 0);
    assert_non_null(strstr(err, "h.md:1:"));
    assert_non_null(strstr(err, "1 MiB"));

    /* The same through a file: load reads only one byte past the cap. */
    char path[] = "/tmp/nc-lesson-big-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, huge, big), (ssize_t)big);
    close(fd);
    assert_true(nc_lesson_load(path, &l, err, sizeof err) < 0);
    assert_non_null(strstr(err, "1 MiB"));
    unlink(path);
    free(huge);

    assert_true(nc_lesson_load("/nonexistent/x.md", &l, err, sizeof err) < 0);
    assert_non_null(strstr(err, "/nonexistent/x.md: cannot open"));
}

/* A tiny error buffer must truncate, not overflow. */
static void test_small_err(void **state)
{
    char err[8];
    nc_lesson_t *l;
    assert_true(nc_lesson_parse("a-long-path.md", "x", 1, &l, err, sizeof err) < 0);
    assert_int_equal(strlen(err), 7);
    assert_true(nc_lesson_parse("a.md", "x", 1, &l, NULL, 0) < 0);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static const char *lesson_text(char *buf, size_t n, const char *id, int number)
{
    snprintf(buf, n,
             "---\nid: %s\ntitle: T\nnumber: %d\npart: 1 P\nsummary: s\ntopology: pair\n"
             "scenario: x\n---\n# P\ntext\n",
             id, number);
    return buf;
}

static void test_course(void **state)
{
    char dir[] = "/tmp/nc-course-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char buf[512], err[512] = "";
    nc_course_t *c;

    /* Empty directory. */
    assert_true(nc_course_load(dir, &c, err, sizeof err) < 0);
    assert_non_null(strstr(err, "no lessons"));

    write_file(dir, "b.md", lesson_text(buf, sizeof buf, "bee", 20));
    write_file(dir, "a.md", lesson_text(buf, sizeof buf, "ay", 30));
    write_file(dir, "c.md", lesson_text(buf, sizeof buf, "sea", 10));
    write_file(dir, "README.md", "not a lesson\n");
    write_file(dir, "notes.txt", "not a lesson either\n");
    assert_int_equal(nc_course_load(dir, &c, err, sizeof err), 0);
    assert_int_equal(c->nlessons, 3);
    assert_string_equal(c->dir, dir);
    assert_string_equal(c->lessons[0]->id, "sea");
    assert_string_equal(c->lessons[1]->id, "bee");
    assert_string_equal(c->lessons[2]->id, "ay");
    assert_ptr_equal(nc_course_find(c, "bee"), c->lessons[1]);
    assert_null(nc_course_find(c, "wasp"));
    assert_null(nc_course_find(NULL, "bee"));
    nc_course_free(c);

    /* Duplicate number: the error points at the number line of the later file. */
    write_file(dir, "d.md", lesson_text(buf, sizeof buf, "dee", 20));
    assert_true(nc_course_load(dir, &c, err, sizeof err) < 0);
    assert_non_null(strstr(err, "/d.md:4: number 20 is also used by"));
    assert_non_null(strstr(err, "/b.md"));
    write_file(dir, "d.md", lesson_text(buf, sizeof buf, "bee", 40));
    assert_true(nc_course_load(dir, &c, err, sizeof err) < 0);
    assert_non_null(strstr(err, "/d.md:2: id \"bee\" is also used by"));

    /* A broken file stops the load with its own error. */
    write_file(dir, "d.md", "---\nid: d\n");
    assert_true(nc_course_load(dir, &c, err, sizeof err) < 0);
    assert_non_null(strstr(err, "/d.md:1:"));

    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    assert_true(nc_course_load(dir, &c, err, sizeof err) < 0);
    assert_non_null(strstr(err, "cannot open the lessons directory"));
}

static void test_find_dir(void **state)
{
    setenv("NETCOURSE_LESSONS", "/some/where", 1);
    char *d = nc_course_find_dir();
    assert_string_equal(d, "/some/where");
    free(d);
    unsetenv("NETCOURSE_LESSONS");
    d = nc_course_find_dir();
    /* The test binary is not installed, so the source tree's lessons/ is
     * found, unless an installed copy exists. */
    assert_non_null(d);
    assert_non_null(strstr(d, "lessons"));
    free(d);
}

static void compile_ok(const nc_lesson_t *l, const char *what, const char *src)
{
    char err[256] = "";
    nc_match_t *m = nc_match_compile(src, err, sizeof err);
    if (!m)
        fail_msg("%s: %s \"%s\": %s", l->path, what, src, err);
    nc_match_free(m);
}

/* Every lesson we ship loads, has the shape LESSONS.md asks for, and every
 * matcher in it compiles. */
static void test_shipped_lessons(void **state)
{
    char err[512] = "";
    nc_course_t *c;
    int rc = nc_course_load(NC_SOURCE_DIR "/lessons", &c, err, sizeof err);
    if (rc < 0)
        fail_msg("%s", err);
    static const char *const required[] = {"osi", "udp", "tcp"};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        assert_non_null(nc_course_find(c, required[i]));
    for (size_t i = 0; i < c->nlessons; i++) {
        const nc_lesson_t *l = c->lessons[i];
        assert_true(l->npages >= 1);
        assert_true(l->nsteps >= 1);
        if (l->ncheckpoints < 2)
            fail_msg("%s: a lesson needs at least two checkpoints", l->path);
        for (size_t k = 0; k < l->nfaults; k++)
            compile_ok(l, "fault", l->faults[k].match);
        for (size_t k = 0; k < l->nsteps; k++)
            if (l->steps[k].until)
                compile_ok(l, "until", l->steps[k].until);
        for (size_t k = 0; k < l->ncheckpoints; k++) {
            const nc_checkpoint_t *cp = &l->checkpoints[k];
            compile_ok(l, "before", cp->before);
            if (cp->after)
                compile_ok(l, "after", cp->after);
            if (cp->reveal)
                compile_ok(l, "reveal", cp->reveal);
            if (cp->window_until)
                compile_ok(l, "window", cp->window_until);
            for (size_t j = 0; j < cp->nchoices; j++)
                if (cp->choices[j].match)
                    compile_ok(l, "choice", cp->choices[j].match);
        }
        for (size_t k = 0; k < l->nnotes; k++)
            compile_ok(l, "note", l->notes[k].match);
    }
    nc_course_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_file),
        cmocka_unit_test(test_minimal_and_crlf),
        cmocka_unit_test(test_choice_rules),
        cmocka_unit_test(test_windows),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_known_fields),
        cmocka_unit_test(test_nul_and_size),
        cmocka_unit_test(test_small_err),
        cmocka_unit_test(test_course),
        cmocka_unit_test(test_find_dir),
        cmocka_unit_test(test_shipped_lessons),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
