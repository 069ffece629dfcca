/*
 * test_kit.c: the parts of the kit that need no lab: the WebSocket
 * handshake's proof (RFC 6455 section 1.3 gives the worked example) and its
 * refusal of keys that are missing or absurd. The endpoints themselves are
 * tested end to end (tests/e2e/e2e_program_web.py).
 */
#include "kit/kit.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

static void test_accept_key(void **state)
{
    char out[32];
    assert_int_equal(nc_kit_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out, sizeof out), 0);
    assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    assert_int_not_equal(nc_kit_ws_accept_key(NULL, out, sizeof out), 0);
    assert_int_not_equal(nc_kit_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out, 10), 0);
    char longkey[100];
    memset(longkey, 'a', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    assert_int_not_equal(nc_kit_ws_accept_key(longkey, out, sizeof out), 0);
}

/* A server's memory forgets on clear; a token checks without it, and any
 * change to the user or the MAC is refused. */
static void test_memo_and_token(void **state)
{
    nc_kit_memo_t *m = nc_kit_memo_new();
    char id[32];
    assert_int_equal(nc_kit_session_new(m, 7, id, sizeof id), 0);
    assert_int_equal(strlen(id), 16);
    int64_t v = 0;
    assert_true(nc_kit_memo_get(m, id, &v));
    assert_int_equal(v, 7);
    nc_kit_memo_set(m, "/uploads/a", 8000);
    nc_kit_memo_set(m, "/uploads/a", 16000);
    assert_true(nc_kit_memo_get(m, "/uploads/a", &v));
    assert_int_equal(v, 16000);
    assert_int_equal(nc_kit_memo_count(m), 2);
    nc_kit_memo_clear(m);
    assert_false(nc_kit_memo_get(m, id, NULL));
    assert_int_equal(nc_kit_memo_count(m), 0);
    nc_kit_memo_free(m);

    char tok[80];
    assert_int_equal(nc_kit_token_make("s3cret", "alice", tok, sizeof tok), 0);
    assert_true(nc_kit_token_check("s3cret", tok));
    assert_false(nc_kit_token_check("other", tok));
    tok[0] = 'b';
    assert_false(nc_kit_token_check("s3cret", tok));
    assert_false(nc_kit_token_check("s3cret", "alice"));
    assert_false(nc_kit_token_check("s3cret", ".0123"));
    assert_false(nc_kit_token_check("s3cret", NULL));
    assert_int_not_equal(nc_kit_token_make("s3cret", "a.b", tok, sizeof tok), 0);
    assert_int_not_equal(nc_kit_token_make("s3cret", "alice", tok, 10), 0);

    char out[40];
    assert_true(nc_kit_cookie_get("a=1; session=abc; b=2", "session", out, sizeof out));
    assert_string_equal(out, "abc");
    assert_false(nc_kit_cookie_get("a=1; sessionx=abc", "session", out, sizeof out));
    assert_false(nc_kit_cookie_get(NULL, "session", out, sizeof out));
    assert_false(nc_kit_cookie_get("session=toolongforthis", "session", out, 4));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accept_key),
        cmocka_unit_test(test_memo_and_token),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
