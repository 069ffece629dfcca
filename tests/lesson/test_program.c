/*
 * test_program.c: the parser of program blocks (src/lesson/program.c).
 *
 * A good program is parsed statement by statement (arguments, options,
 * continuation lines, a repeat's body); then a table of broken programs,
 * one per error class, each checked for the "path:line:" it must report and
 * a word of its sentence; then lesson-wide checks (a wait naming no
 * program, a scenario and programs at once), through nc_lesson_parse.
 */
#include "lesson/lesson.h"
#include "lesson/program.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char good[] = "name: client\n"
                           "host: client\n"
                           "# a comment\n"
                           "wait server listening\n"
                           "connect server 7000 nodelay=yes\n"
                           "  say=\"connect() to \\\"server\\\"\"\n"
                           "  done=\"returned\"\n"
                           "repeat 6 every=20ms\n"
                           "  write 1000 say=\"message {i} of {count}\"\n"
                           "  sleep 1ms\n"
                           "write \"thanks\\n\"\n"
                           "get /a header=\"A: b\" header=\"C: d\"\n";

static void test_good(void **state)
{
    nc_program_t pg;
    char err[512] = "";
    int rc = nc_program_parse("t.md", good, strlen(good), 20, &pg, err, sizeof err);
    assert_int_equal(rc, 0);
    assert_string_equal(pg.name, "client");
    assert_string_equal(pg.host, "client");
    assert_int_equal(pg.nstmts, 5);
    assert_string_equal(pg.stmts[0].verb, "wait");
    assert_int_equal(pg.stmts[0].line, 23);
    assert_string_equal(pg.stmts[1].verb, "connect");
    assert_int_equal(pg.stmts[1].nargs, 2);
    assert_int_equal(pg.stmts[1].nopts, 3);
    assert_string_equal(pg.stmts[1].opts[1].key, "say");
    assert_string_equal(pg.stmts[1].opts[1].value, "connect() to \"server\"");
    assert_string_equal(pg.stmts[1].opts[2].value, "returned");
    assert_string_equal(pg.stmts[2].verb, "repeat");
    assert_int_equal(pg.stmts[2].nbody, 2);
    assert_string_equal(pg.stmts[2].body[0].opts[0].value, "message {i} of {count}");
    assert_int_equal(pg.stmts[2].body[1].line, 29);
    assert_string_equal(pg.stmts[3].args[0], "thanks\n");
    assert_int_equal(pg.stmts[4].nopts, 2);
    nc_program_done(&pg);
    assert_int_equal(nc_prog_duration_ns("20ms"), 20000000);
    assert_int_equal(nc_prog_duration_ns("2s"), 2000000000);
    assert_int_equal(nc_prog_duration_ns("20"), -1);
    assert_int_equal(nc_prog_duration_ns("-1ms"), -1);
}

typedef struct bad_case {
    const char *name;
    const char *text;
    const char *where;
    const char *words;
} bad_case_t;

#define HEAD "name: p\nhost: client\n"

static const bad_case_t bad_cases[] = {
    {"unknown verb", HEAD "fly 3\n", "t.md:4:", "unknown verb \"fly\""},
    {"too few arguments", HEAD "connect server\n", "t.md:4:", "connect takes 2 arguments"},
    {"bad port", HEAD "listen 70000\n", "t.md:4:", "port"},
    {"bad duration", HEAD "sleep 3 weeks\n", "t.md:4:", "takes 1 argument"},
    {"bad duration unit", HEAD "sleep 3w\n", "t.md:4:", "duration"},
    {"unknown option", HEAD "write 3 colour=red\n", "t.md:4:", "no option \"colour\""},
    {"option twice", HEAD "write 3 say=a say=b\n", "t.md:4:", "given twice"},
    {"unclosed quote", HEAD "write \"abc\n", "t.md:4:", "not closed"},
    {"bad escape", HEAD "write \"a\\qb\"\n", "t.md:4:", "unknown escape"},
    {"bad header", HEAD "get / header=nocolon\n", "t.md:4:", "Name: value"},
    {"bad yes/no", HEAD "connect server 80 nodelay=maybe\n", "t.md:4:", "yes or no"},
    {"argument after option", HEAD "write say=x 3\n", "t.md:4:", "before the key=value"},
    {"indented without repeat", HEAD "sleep 1ms\n  write 3\n", "t.md:5:", "no repeat"},
    {"repeat without body", HEAD "repeat 3\nwrite 3\n", "t.md:4:", "indented under it"},
    {"no name", "host: client\nwrite 3\n", "t.md:1:", "\"name:\""},
    {"no host", "name: p\nwrite 3\n", "t.md:1:", "\"host:\""},
    {"no statements", HEAD, "t.md:1:", "no statements"},
    {"bad close code", HEAD "ws-close 99\n", "t.md:4:", "close code"},
    {"bad job part", HEAD "route GET /jobs/* 200 job=finish\n", "t.md:4:",
     "submit, status or wait"},
    {"bad job steps", HEAD "route POST /jobs 202 job=submit steps=0\n", "t.md:4:", "whole number"},
    {"until on a statement", HEAD "get /a until=done\n", "t.md:4:", "no option \"until\""},
    {"bad ws mode", HEAD "route GET /c 101 ws=shout\n", "t.md:4:", "echo or push"},
    {"bad end", HEAD "route GET /e 200 sse=3 end=never\n", "t.md:4:", "yes or no"},
    {"bad idle", HEAD "events /e 3 idle=soon\n", "t.md:4:", "duration"},
    {"bad retry", HEAD "events /e 3 retry=5\n", "t.md:4:", "duration"},
    {"ws-push kind", HEAD "ws-push morse \"hi\"\n", "t.md:4:", "text or binary"},
    {"ws-push no data", HEAD "ws-push text\n", "t.md:4:", "ws-push takes 2 arguments"},
    {"bad stopwatch", HEAD "stopwatch pause\n", "t.md:4:", "start or stop"},
    {"bad state kind", HEAD "route GET /a 200 require=cookie\n", "t.md:4:", "session or token"},
    {"bad chunk size", HEAD "upload /a 100 chunk=0\n", "t.md:4:", "whole number"},
    {"fetch without path", HEAD "fetch server 80\n", "t.md:4:", "fetch takes 3 arguments"},
    {"bad balance mode", HEAD "balance 8000 mode=l3\n", "t.md:4:", "l4 or l7"},
    {"bad policy", HEAD "balance 8000 policy=random\n", "t.md:4:", "round-robin, least-conn"},
    {"backend without port", HEAD "backend server\n", "t.md:4:", "backend takes 2 arguments"},
    {"bad backend host", HEAD "backend \"a b\" 80\n", "t.md:4:", "not a plain word"},
    {"bad retry timeout", HEAD "retry-proxy 8090 timeout=soon\n", "t.md:4:", "duration"},
    {"topic with a blank", HEAD "subscribe me \"a b\"\n", "t.md:4:", "not a plain word"},
    {"bad ack", HEAD "receive 2 ack=maybe\n", "t.md:4:", "yes or no"},
    {"bad record", HEAD "route POST /c 201 record=1\n", "t.md:4:", "yes or no"},
    {"bad balance tls", HEAD "balance 8443 tls=on\n", "t.md:4:", "yes or no"},
    {"page too big", HEAD "pool-get server 80 /i/{i} count=65\n", "t.md:4:", "from 1 to 64"},
    {"pool too big", HEAD "pool-get server 80 /i/{i} count=20 pool=17\n", "t.md:4:",
     "connections from 1 to 16"},
    {"h2 count", HEAD "h2-get /i/{i} count=0\n", "t.md:4:", "paths from 1 to 64"},
    {"h2 window", HEAD "h2-connect server 80 window=none\n", "t.md:4:", "whole number"},
    {"route size", HEAD "route GET /a 200 size=big\n", "t.md:4:", "whole number"},
};

/* The statements of the patterns lessons: a route for any method (it was
 * refused as "not a plain word" before), state options, uploads, fetches
 * and the stopwatch. */
static const char patterns[] = "name: p\nhost: client\n"
                               "route * /uploads/* 204 upload=yes delay=30ms\n"
                               "route GET /cart 200 require=session issue=token\n"
                               "upload /u 40000 chunk=8000 every=100ms timeout=500ms resume=yes\n"
                               "fetch server 8080 /a async=yes\n"
                               "get /cart reconnect=yes\n"
                               "post /images size=40000\n"
                               "stopwatch start\n"
                               "stopwatch stop say=\"{ms} ms\"\n";

static void test_patterns(void **state)
{
    nc_program_t pg;
    char err[512] = "";
    int rc = nc_program_parse("t.md", patterns, strlen(patterns), 2, &pg, err, sizeof err);
    if (rc != 0)
        print_error("%s\n", err);
    assert_int_equal(rc, 0);
    assert_int_equal(pg.nstmts, 8);
    assert_string_equal(pg.stmts[0].args[0], "*");
    assert_int_equal(pg.stmts[2].nopts, 4);
    nc_program_done(&pg);
}

static void test_errors(void **state)
{
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const bad_case_t *c = &bad_cases[i];
        nc_program_t pg;
        char err[512] = "";
        /* The block's first line is line 2 of the file (after the fence). */
        int rc = nc_program_parse("t.md", c->text, strlen(c->text), 2, &pg, err, sizeof err);
        if (rc == 0 || strncmp(err, c->where, strlen(c->where)) != 0 || !strstr(err, c->words)) {
            print_error("case \"%s\": rc %d, got \"%s\", want \"%s ...%s...\"\n", c->name, rc, err,
                        c->where, c->words);
            fail();
        }
    }
}

#define FRONT "---\nid: t\ntitle: T\nnumber: 5\npart: 1 P\nsummary: s\ntopology: pair\n"

static void test_lesson_checks(void **state)
{
    static const struct {
        const char *text;
        const char *want; /* NULL: parses */
    } cases[] = {
        {FRONT "---\n# P\ntext\n```program\nname: a\nhost: client\nwait b done\n```\n",
         "t.md:14: no program of this lesson is named \"b\""},
        {FRONT "---\n# P\n```program\nname: a\nhost: client\nsleep 1ms\n```\n"
               "```program\nname: a\nhost: server\nsleep 1ms\n```\n",
         "t.md:15: program \"a\" is already defined on line 10"},
        {FRONT "scenario: tcp\n---\n# P\n```program\nname: a\nhost: client\nsleep 1ms\n```\n",
         "not both"},
        {FRONT "---\n# P\n```program\nname: a\nhost: client\nroute GET / 200 hold=a\n```\n",
         "PROGRAM.EVENT"},
        {FRONT "---\n# P\n```program\nname: a\nhost: client\nwait a x\n```\n", NULL},
        /* compare blocks: every way names a program of the lesson */
        {FRONT "---\n# P\n```program\nname: a\nhost: client\nsleep 1ms\n```\n"
               "```compare\nid: c\ntitle: T\nway: one | b\n```\n",
         "t.md:15: compare \"c\": no program of this lesson is named \"b\""},
        {FRONT "---\n# P\n```program\nname: a\nhost: client\nsleep 1ms\n```\n"
               "```compare\nid: c\ntitle: T\nway: just a label\n```\n",
         "t.md:18: a way is \"LABEL | PROGRAM\""},
        {FRONT "---\n# P\n```program\nname: a\nhost: client\nsleep 1ms\n```\n"
               "```compare\nid: c\ntitle: T\n```\n",
         "t.md:15: the compare has no \"way\""},
        {FRONT "---\n# P\n```program\nname: a\nhost: client\nsleep 1ms\n```\n"
               "```compare\nid: c\ntitle: T\nway: x | a\n```\n"
               "```compare\nid: c\ntitle: U\nway: y | a\n```\n",
         "t.md:20: compare id \"c\" is already used on line 15"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nc_lesson_t *l = NULL;
        char err[512] = "";
        int rc = nc_lesson_parse("t.md", cases[i].text, strlen(cases[i].text), &l, err, sizeof err);
        if (!cases[i].want) {
            if (rc != 0)
                print_error("case %zu: %s\n", i, err);
            assert_int_equal(rc, 0);
            assert_int_equal(l->nprograms, 1);
            assert_null(l->scenario);
            nc_lesson_free(l);
            continue;
        }
        if (rc == 0 || !strstr(err, cases[i].want)) {
            print_error("case %zu: got \"%s\", want \"%s\"\n", i, err, cases[i].want);
            fail();
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_patterns),
        cmocka_unit_test(test_lesson_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
