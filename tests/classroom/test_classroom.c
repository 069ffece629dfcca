/*
 * test_classroom.c: the class protocol's pieces without a network: the JSON
 * reader, events back from JSON (printing them again gives the same line),
 * the frame reader (split anywhere, limits checked from the header alone),
 * the instructor's identity and the students' pins on disk, students'
 * names (cleaned, NFC, look-alikes sharing a skeleton) and the roster's
 * string map (removals, growth).
 */
#include "classroom/evjson.h"
#include "classroom/json.h"
#include "classroom/name.h"
#include "classroom/proto.h"
#include "classroom/strmap.h"
#include "classroom/tls.h"
#include "core/error.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

static int parses(const char *text)
{
    nc_json_doc_t d;
    int rc = nc_json_parse(&d, text, strlen(text), NULL, 0);
    nc_json_doc_done(&d);
    return rc == 0;
}

static void test_json_values(void **state)
{
    const char *text = "{\"a\":1,\"b\":-2.5,\"c\":\"x\\ny\\u00e9\\ud83d\\ude00\",\"d\":[true,false,"
                       "null],\"e\":{\"f\":9007199254740993},\"g\":1e3}";
    nc_json_doc_t d;
    char err[100];
    assert_int_equal(nc_json_parse(&d, text, strlen(text), err, sizeof err), 0);
    int64_t i = 0;
    assert_true(nc_json_int(d.root, "a", &i));
    assert_int_equal(i, 1);
    assert_int_equal(nc_json_get(d.root, "b")->kind, NC_JSON_NUM);
    assert_string_equal(nc_json_str(d.root, "c"), "x\ny\xc3\xa9\xf0\x9f\x98\x80");
    const nc_json_t *list = nc_json_get(d.root, "d");
    assert_int_equal(list->kind, NC_JSON_ARR);
    assert_true(list->child->v.b);
    assert_false(list->child->next->v.b);
    assert_int_equal(list->child->next->next->kind, NC_JSON_NULL);
    assert_true(nc_json_int(nc_json_get(d.root, "e"), "f", &i));
    assert_int_equal(i, 9007199254740993LL);
    assert_int_equal(nc_json_get(d.root, "g")->kind, NC_JSON_NUM);
    assert_null(nc_json_str(d.root, "a"));
    assert_true(nc_json_bool(d.root, "missing", true));
    nc_json_doc_done(&d);
}

static void test_json_rejects(void **state)
{
    static const char *const bad[] = {
        "", "{", "[1,]", "01", "1.", "-", "tru", "\"\x01\"", "\"abc", "{\"a\" 1}", "{1:2}",
        "[1] 2", "\"\\x\"", "\"\\u12\"", "nul", "{\"a\":}",
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        if (parses(bad[k]))
            fail_msg("accepted %s", bad[k]);
    }
    /* Lone surrogates and NUL become U+FFFD: strings stay C strings. */
    nc_json_doc_t d;
    const char *t = "\"a\\u0000b\\ud800c\"";
    assert_int_equal(nc_json_parse(&d, t, strlen(t), NULL, 0), 0);
    assert_string_equal(d.root->v.s, "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c");
    nc_json_doc_done(&d);
    char deep[128];
    memset(deep, '[', 60);
    memset(deep + 60, ']', 60);
    deep[120] = '\0';
    assert_false(parses(deep));
    memset(deep, '[', 20);
    memset(deep + 20, ']', 20);
    deep[40] = '\0';
    assert_true(parses(deep));
}

static void test_event_round_trip(void **state)
{
    nc_evb_t b;
    nc_evb_init(&b);
    nc_evb_reset(&b, NC_EV_PACKET, 1500000000);
    nc_evb_host(&b, "client");
    nc_evb_summary(&b, "SYN seq=0 \"quoted\"");
    nc_evb_note(&b, "The first packet.");
    nc_evb_str(&b, "from", "client");
    nc_evb_int(&b, "len", 74);
    nc_evb_bool(&b, "dropped", false);
    nc_evb_obj(&b, "tcp");
    nc_evb_int(&b, "sport", 40112);
    nc_evb_list(&b, "flags");
    nc_evb_str(&b, NULL, "SYN");
    nc_evb_str(&b, NULL, "ACK");
    nc_evb_end(&b);
    nc_evb_num(&b, "rtt", 0.005);
    nc_evb_end(&b);
    nc_evb_num(&b, "whole", 2.0);
    nc_buf_t one, two;
    nc_buf_init(&one);
    nc_buf_init(&two);
    nc_event_t ev = *nc_evb_view(&b);
    ev.i = 7;
    nc_event_json(&ev, &one);

    nc_json_doc_t d;
    assert_int_equal(nc_json_parse(&d, one.data, one.len, NULL, 0), 0);
    nc_evb_t c;
    nc_evb_init(&c);
    char err[200];
    assert_int_equal(nc_event_from_json(d.root, &c, err, sizeof err), 0);
    assert_int_equal(c.ev.t_ns, 1500000000);
    assert_int_equal(c.ev.i, 7);
    const nc_event_t *back = nc_evb_view(&c);
    assert_true(nc_event_has(back, "tcp.flags", "ACK"));
    nc_event_json(back, &two);
    assert_string_equal(nc_buf_cstr(&one), nc_buf_cstr(&two));
    nc_json_doc_done(&d);

    static const char *const bad[] = {
        "[]", "{\"t\":1}", "{\"type\":\"wat\",\"t\":1}", "{\"type\":\"app\"}",
        "{\"type\":\"app\",\"t\":1,\"_off\":3}", "{\"type\":\"app\",\"t\":1e300}",
        "{\"type\":\"app\",\"t\":1,\"x\":{\"_p\":1}}",
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        assert_int_equal(nc_json_parse(&d, bad[k], strlen(bad[k]), NULL, 0), 0);
        if (nc_event_from_json(d.root, &c, err, sizeof err) == 0)
            fail_msg("accepted event %s", bad[k]);
        nc_json_doc_done(&d);
    }
    nc_buf_done(&one);
    nc_buf_done(&two);
    nc_evb_done(&b);
    nc_evb_done(&c);
}

typedef struct seen {
    int n;
    int types[8];
    char bodies[8][64];
} seen_t;

static int on_frame(void *arg, int type, const uint8_t *body, uint32_t len)
{
    seen_t *s = arg;
    s->types[s->n] = type;
    snprintf(s->bodies[s->n], sizeof s->bodies[s->n], "%.*s", (int)len, (const char *)body);
    s->n++;
    return 0;
}

static void test_frames(void **state)
{
    nc_buf_t f;
    nc_buf_init(&f);
    nc_frame_put(&f, NC_MSG_HELLO, "{\"v\":1}", 7);
    nc_frame_put(&f, NC_MSG_PING, "", 0);
    nc_frame_put(&f, NC_MSG_ANSWER, "{\"id\":\"x\"}", 10);
    char err[120];
    for (size_t chunk = 1; chunk <= f.len; chunk++) {
        nc_frame_reader_t r;
        nc_frame_reader_init(&r, NC_FRAME_STUDENT_MAX);
        seen_t s = {0};
        for (size_t off = 0; off < f.len; off += chunk) {
            size_t n = f.len - off < chunk ? f.len - off : chunk;
            assert_int_equal(nc_frame_push(&r, (uint8_t *)f.data + off, n, on_frame, &s, err,
                                           sizeof err),
                             0);
        }
        assert_int_equal(s.n, 3);
        assert_int_equal(s.types[0], NC_MSG_HELLO);
        assert_string_equal(s.bodies[0], "{\"v\":1}");
        assert_int_equal(s.types[1], NC_MSG_PING);
        assert_string_equal(s.bodies[1], "");
        assert_string_equal(s.bodies[2], "{\"id\":\"x\"}");
        nc_frame_reader_done(&r);
    }
    nc_buf_done(&f);

    /* Limits are checked from the header alone. */
    static const uint8_t huge[] = {0x7f, 0xff, 0xff, 0xf0, NC_MSG_HELLO};
    static const uint8_t big_hand[] = {0, 0, 1, 0, NC_MSG_HAND};
    static const uint8_t empty[] = {0, 0, 0, 0, NC_MSG_HELLO};
    static const uint8_t unknown[] = {0, 0, 0, 1, 99};
    const uint8_t *bad[] = {huge, big_hand, empty, unknown};
    for (size_t k = 0; k < 4; k++) {
        nc_frame_reader_t r;
        nc_frame_reader_init(&r, NC_FRAME_STUDENT_MAX);
        seen_t s = {0};
        assert_int_equal(nc_frame_push(&r, bad[k], 5, on_frame, &s, err, sizeof err), NC_EBADDATA);
        assert_int_equal(s.n, 0);
        nc_frame_reader_done(&r);
    }
    /* A student may not send an event frame even of a legal size. */
    nc_frame_reader_t r;
    nc_frame_reader_init(&r, NC_FRAME_STUDENT_MAX);
    uint8_t ev[] = {0, 0, 0x20, 0, NC_MSG_EVENT};
    assert_int_equal(nc_frame_push(&r, ev, 5, on_frame, NULL, err, sizeof err), NC_EBADDATA);
    assert_non_null(strstr(err, "over its limit"));
    nc_frame_reader_done(&r);
    assert_string_equal(nc_msg_name(NC_MSG_REVEAL), "reveal");
    assert_true(nc_msg_desc(NC_MSG_ANSWER)->from & NC_FROM_STUDENT);
    assert_false(nc_msg_desc(NC_MSG_PAGE)->from & NC_FROM_STUDENT);
}

static void test_identity_and_pins(void **state)
{
    char dir[] = "/tmp/nc-test-class-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char fp1[NC_TLS_FP_LEN], fp2[NC_TLS_FP_LEN], err[800];
    SSL_CTX *a = nc_tls_server_ctx(dir, fp1, err, sizeof err);
    assert_non_null(a);
    SSL_CTX *b = nc_tls_server_ctx(dir, fp2, err, sizeof err);
    assert_non_null(b);
    assert_string_equal(fp1, fp2); /* made once, reused */
    assert_int_equal(strlen(fp1), 95);
    char path[256];
    snprintf(path, sizeof path, "%s/class/instructor.key", dir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    SSL_CTX_free(a);
    SSL_CTX_free(b);

    const char *other = "AA:BB";
    /* A peek writes nothing: the pin waits for the class to admit us. */
    assert_int_equal(nc_tls_pin_peek(dir, "h:1", fp1, false, err, sizeof err), NC_TLS_PIN_NEW);
    assert_int_equal(nc_tls_pin_peek(dir, "h:1", fp1, false, err, sizeof err), NC_TLS_PIN_NEW);
    assert_int_equal(nc_tls_pin_check(dir, "h:1", fp1, false, err, sizeof err), NC_TLS_PIN_NEW);
    assert_int_equal(nc_tls_pin_peek(dir, "h:1", fp1, false, err, sizeof err), NC_TLS_PIN_MATCH);
    assert_int_equal(nc_tls_pin_peek(dir, "h:1", other, false, err, sizeof err), NC_EPERM);
    assert_int_equal(nc_tls_pin_peek(dir, "h:1", other, true, err, sizeof err),
                     NC_TLS_PIN_REPLACED);
    assert_int_equal(nc_tls_pin_check(dir, "h:2", other, false, err, sizeof err), NC_TLS_PIN_NEW);
    assert_int_equal(nc_tls_pin_check(dir, "h:1", fp1, false, err, sizeof err), NC_TLS_PIN_MATCH);
    assert_int_equal(nc_tls_pin_check(dir, "h:1", other, false, err, sizeof err), NC_EPERM);
    assert_non_null(strstr(err, "--trust-new-certificate"));
    assert_int_equal(nc_tls_pin_check(dir, "h:1", other, true, err, sizeof err),
                     NC_TLS_PIN_REPLACED);
    assert_int_equal(nc_tls_pin_check(dir, "h:1", other, false, err, sizeof err),
                     NC_TLS_PIN_MATCH);
    assert_int_equal(nc_tls_pin_check(dir, "h:2", other, false, err, sizeof err),
                     NC_TLS_PIN_MATCH);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_names(void **state)
{
    char out[NC_CLASS_NAME_MAX + 1], skel[NC_CLASS_SKEL_MAX], skel2[NC_CLASS_SKEL_MAX], why[200];
    assert_int_equal(nc_class_name_clean("  ann \xc2\xa0 lee ", out, skel, why, sizeof why), 0);
    assert_string_equal(out, "ann lee");
    /* NFC: e + COMBINING ACUTE ACCENT is U+00E9. */
    assert_int_equal(nc_class_name_clean("Rene\xcc\x81", out, skel, why, sizeof why), 0);
    assert_string_equal(out, "Ren\xc3\xa9");
    /* "ann", "Ann" and a Cyrillic "\xd0\xb0nn" look alike. */
    assert_int_equal(nc_class_name_clean("ann", out, skel, why, sizeof why), 0);
    assert_int_equal(nc_class_name_clean("Ann", out, skel2, why, sizeof why), 0);
    assert_string_equal(skel, skel2);
    assert_int_equal(nc_class_name_clean("\xd0\xb0nn", out, skel2, why, sizeof why), 0);
    assert_string_equal(out, "\xd0\xb0nn");
    assert_string_equal(skel, skel2);
    assert_int_equal(nc_class_name_clean("bob", out, skel2, why, sizeof why), 0);
    assert_string_not_equal(skel, skel2);
    static const char *const bad[] = {
        "ann\xe2\x80\x8b",      /* ZERO WIDTH SPACE */
        "\xe2\x80\xae" "ann",   /* RIGHT-TO-LEFT OVERRIDE */
        "\xc2\x85" "ann",        /* a C1 control, NEL */
        "a\x01nn", "a\xffnn", "an\xe2\x80\x8dn", "ann#2", "a\"b", "", "   ",
        "abcdefghijklmnopqrstuvwxyzabcdefg", /* 33 bytes */
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        why[0] = '\0';
        assert_int_equal(nc_class_name_clean(bad[k], out, skel, why, sizeof why), -1);
        assert_true(why[0] != '\0');
    }
}

static void test_strmap(void **state)
{
    nc_strmap_t m;
    nc_strmap_init(&m);
    enum { N = 5000 };
    static char keys[N][16];
    for (int k = 0; k < N; k++) {
        snprintf(keys[k], sizeof keys[k], "key%d", k);
        nc_strmap_put(&m, keys[k], keys[k]);
    }
    assert_int_equal(m.n, N);
    for (int k = 0; k < N; k += 2)
        assert_ptr_equal(nc_strmap_del(&m, keys[k]), keys[k]);
    for (int k = 0; k < N; k++)
        assert_ptr_equal(nc_strmap_get(&m, keys[k]), k % 2 ? keys[k] : NULL);
    /* Removed slots are reused and swept out as the table grows again. */
    for (int round = 0; round < 20; round++)
        for (int k = 0; k < N; k += 2) {
            nc_strmap_put(&m, keys[k], keys[k]);
            assert_ptr_equal(nc_strmap_del(&m, keys[k]), keys[k]);
        }
    assert_int_equal(m.n, N / 2);
    assert_null(nc_strmap_get(&m, "missing"));
    assert_null(nc_strmap_del(&m, "missing"));
    nc_strmap_done(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_values),       cmocka_unit_test(test_json_rejects),
        cmocka_unit_test(test_event_round_trip),  cmocka_unit_test(test_frames),
        cmocka_unit_test(test_identity_and_pins), cmocka_unit_test(test_names),
        cmocka_unit_test(test_strmap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
