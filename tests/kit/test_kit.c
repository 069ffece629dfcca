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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accept_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
