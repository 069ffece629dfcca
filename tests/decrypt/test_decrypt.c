/*
 * test_decrypt.c: the decryptor against RFC 8448's trace of a TLS 1.3
 * handshake (section 3, "Simple 1-RTT Handshake", TLS_AES_128_GCM_SHA256).
 *
 * The RFC publishes each traffic secret, the key and IV expanded from it,
 * and whole protected records with their plaintext. A key log line carrying
 * a secret goes in; the keys the decryptor derives, and the records it
 * opens, must be the RFC's. Then the key log's own contract: comments,
 * duplicates, bad lines, and the text a Decryption Secrets Block carries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "decrypt/decrypt.h"
#include "hex.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Any client random names the connection in the key log. */
#define RANDOM_HEX "1111111111111111111111111111111111111111111111111111111111111111"

static nc_keylog_t *rfc8448_keylog(void)
{
    static const char lines[] =
        "# RFC 8448 section 3\n"
        "SERVER_HANDSHAKE_TRAFFIC_SECRET " RANDOM_HEX
        " b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38\n"
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET " RANDOM_HEX
        " b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21\r\n"
        "SERVER_TRAFFIC_SECRET_0 " RANDOM_HEX
        " a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643\n"
        "CLIENT_TRAFFIC_SECRET_0 " RANDOM_HEX
        " 9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5";
    nc_keylog_t *k = nc_keylog_new();
    size_t bad = 99;
    assert_int_equal(nc_keylog_add(k, lines, sizeof(lines) - 1, &bad), 4);
    assert_int_equal(bad, 0);
    return k;
}

static void keys_for(nc_keylog_t *k, bool client, uint8_t epoch, nc_tls_keys_t *out)
{
    nc_tls_keyreq_t req = {.version = 0x0304, .suite = 0x1301, .client = client, .epoch = epoch};
    unhex(RANDOM_HEX, req.client_random);
    assert_true(nc_decrypt_tls.keys(k, &req, out));
    assert_true(out->ok);
}

static void test_traffic_keys(void **state)
{
    nc_keylog_t *k = rfc8448_keylog();
    nc_tls_keys_t keys;
    keys_for(k, false, 1, &keys);
    assert_int_equal(keys.keylen, 16);
    assert_hex(keys.key, 16, "3fce516009c21727d0f2e4e86ee403bc");
    assert_hex(keys.iv, 12, "5d313eb2671276ee13000b30");
    keys_for(k, true, 1, &keys);
    assert_hex(keys.key, 16, "dbfaa693d1762c5b666af5d950258d01");
    assert_hex(keys.iv, 12, "5bd3c71b836e0b76bb73265f");
    keys_for(k, false, 2, &keys);
    assert_hex(keys.key, 16, "9f02283b6c9c07efc26bb9f2ac92e356");
    assert_hex(keys.iv, 12, "cf782b88dd83549aadf1e984");
    keys_for(k, true, 2, &keys);
    assert_hex(keys.key, 16, "17422dda596ed5d9acd890e3c63f5051");
    assert_hex(keys.iv, 12, "5b78923dee08579033e523d9");
    /* A connection the key log does not know has no keys. */
    nc_tls_keyreq_t req = {.version = 0x0304, .suite = 0x1301, .client = true, .epoch = 2};
    assert_false(nc_decrypt_tls.keys(k, &req, &keys));
    assert_false(keys.ok);
    /* Nor has a suite the decryptor does not do (CBC). */
    unhex(RANDOM_HEX, req.client_random);
    req.suite = 0x002f;
    assert_false(nc_decrypt_tls.keys(k, &req, &keys));
    nc_keylog_free(k);
}

/* Opens a whole record (header and fragment, in hex) at seq. */
static int open_record(const nc_tls_keys_t *keys, uint64_t seq, const char *hex, uint8_t *pt)
{
    uint8_t rec[512];
    size_t n = unhex(hex, rec);
    return nc_decrypt_tls.open(NULL, keys, seq, rec, rec + 5, n - 5, pt);
}

static void test_records(void **state)
{
    nc_keylog_t *k = rfc8448_keylog();
    nc_tls_keys_t keys;
    uint8_t pt[512];
    /* The client's Finished, under its handshake keys. */
    keys_for(k, true, 1, &keys);
    int n = open_record(&keys, 0,
                        "1703030035"
                        "75ec4dc238cce60b298044a71e219c56cc77b0517fe9b93c7a4bfc44d87f38f8"
                        "0338ac98fc46deb384bd1caeacab6867d726c40546",
                        pt);
    assert_int_equal(n, 37);
    assert_int_equal(pt[0], 20); /* Finished */
    assert_int_equal(pt[3], 32); /* its verify_data's length */
    assert_int_equal(pt[36], 22); /* the inner content type: handshake */
    /* The client's application data: the bytes 0..49. */
    keys_for(k, true, 2, &keys);
    n = open_record(&keys, 0,
                    "1703030043a23f7054b62c94d0affafe8228ba55cbefacea42f914aa66bcab3f"
                    "2b9819a8a5b46b395bd54a9a20441e2b62974e1f5a6292a2977014bd1e3deae6"
                    "3aeebb21694915e4",
                    pt);
    assert_int_equal(n, 51);
    for (int i = 0; i < 50; i++)
        assert_int_equal(pt[i], i);
    assert_int_equal(pt[50], 23);
    /* The same record at another sequence number, or altered, fails. */
    assert_int_equal(open_record(&keys, 1,
                                 "1703030043a23f7054b62c94d0affafe8228ba55cbefacea42f914aa66bcab3f"
                                 "2b9819a8a5b46b395bd54a9a20441e2b62974e1f5a6292a2977014bd1e3deae6"
                                 "3aeebb21694915e4",
                                 pt),
                     -1);
    assert_int_equal(open_record(&keys, 0,
                                 "1703030043a23f7054b62c94d0affafe8228ba55cbefacea42f914aa66bcab3f"
                                 "2b9819a8a5b46b395bd54a9a20441e2b62974e1f5a6292a2977014bd1e3deae6"
                                 "3aeebb21694915e5",
                                 pt),
                     -1);
    /* A record shorter than its tag. */
    assert_int_equal(open_record(&keys, 0, "170303000401020304", pt), -1);
    nc_keylog_free(k);
}

static void test_keylog(void **state)
{
    nc_keylog_t *k = rfc8448_keylog();
    static const char more[] =
        "\n# a comment\n"
        "CLIENT_TRAFFIC_SECRET_0 " RANDOM_HEX
        " 9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5\n" /* known */
        "CLIENT_RANDOM 00 11\n"                                                 /* short random */
        "NOT_A_LABEL " RANDOM_HEX " 00\n"
        "CLIENT_RANDOM " RANDOM_HEX " zz\n"
        "CLIENT_RANDOM " RANDOM_HEX
        " 0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f30\n";
    size_t bad;
    assert_int_equal(nc_keylog_add(k, more, sizeof(more) - 1, &bad), 1);
    assert_int_equal(bad, 3);
    assert_int_equal(nc_keylog_count(k), 5);
    uint8_t cr[32], secret[NC_KEYLOG_SECRET_MAX];
    unhex(RANDOM_HEX, cr);
    assert_int_equal(nc_keylog_find(k, NC_KEYLOG_CLIENT_RANDOM, cr, secret), 48);
    assert_int_equal(secret[47], 0x30);
    /* The text round-trips: another key log reads the same secrets. */
    char *text = NULL;
    size_t len = 0;
    nc_keylog_text(k, &text, &len);
    nc_keylog_t *again = nc_keylog_new();
    assert_int_equal(nc_keylog_add(again, text, len, &bad), 5);
    assert_int_equal(bad, 0);
    free(text);
    nc_keylog_free(again);
    nc_keylog_free(k);
    char err[256];
    nc_keylog_t *none = nc_keylog_new();
    assert_int_equal(nc_keylog_load(none, "/nonexistent/keys.txt", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "cannot read the key log"));
    nc_keylog_free(none);
}

static void test_expand_label(void **state)
{
    /* RFC 8448 section 3: the server's handshake write IV, directly. */
    uint8_t secret[32], iv[12];
    unhex("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38", secret);
    assert_int_equal(nc_decrypt_expand_label("SHA256", secret, 32, "iv", iv, 12), 0);
    assert_hex(iv, 12, "5d313eb2671276ee13000b30");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_traffic_keys),
        cmocka_unit_test(test_records),
        cmocka_unit_test(test_keylog),
        cmocka_unit_test(test_expand_label),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
