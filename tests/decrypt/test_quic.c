/*
 * test_quic.c: QUIC packet protection against RFC 9001 Appendix A.
 *
 * A.1: the Initial keys both sides derive from the client's Destination
 * Connection ID 0x8394c8f03e515708. A.2: the client Initial's header
 * protection sample and mask. A.3: the server's whole Initial packet,
 * unprotected and opened with the client-side view of the keys, must give
 * the RFC's frames (ACK, CRYPTO with the ServerHello). A.5: a short-header
 * packet under ChaCha20-Poly1305, its secret given as a key log line the
 * way the decoder meets 1-RTT secrets; and RFC 9000 A.3's packet number
 * reconstruction example.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "decode/decode.h"
#include "decode/quic.h"
#include "decrypt/decrypt.h"
#include "hex.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RANDOM_HEX "2222222222222222222222222222222222222222222222222222222222222222"

static void initial_keys(bool client, nc_quic_keys_t *k)
{
    nc_quic_keyreq_t req = {.level = NC_QUIC_INITIAL, .client = client, .dcidlen = 8};
    unhex("8394c8f03e515708", req.dcid);
    /* Initial keys need no key log. */
    assert_true(nc_decrypt_tls.quic_keys(NULL, &req, k));
}

static void test_initial_keys(void **state)
{
    (void)state;
    nc_quic_keys_t k;
    initial_keys(true, &k);
    assert_int_equal(k.keylen, 16);
    assert_hex(k.key, 16, "1f369613dd76d5467730efcbe3b1a22d");
    assert_hex(k.iv, 12, "fa044b2f42a3fd3b46fb255c");
    assert_hex(k.hp, 16, "9f50449e04a0e810283a1e9933adedd2");
    initial_keys(false, &k);
    assert_hex(k.key, 16, "cf3a5331653c364c88f0f379b6067e37");
    assert_hex(k.iv, 12, "0ac1493ca1905853b0bba03e");
    assert_hex(k.hp, 16, "c206b8d9b9f0f37644430b490eeaa314");
}

static void test_client_initial_mask(void **state)
{
    (void)state;
    nc_quic_keys_t k;
    uint8_t sample[16], mask[5];
    initial_keys(true, &k);
    unhex("d1b1c98dd7689fb8ec11d242b123dc9b", sample);
    assert_true(nc_decrypt_tls.quic_mask(&k, sample, mask));
    assert_hex(mask, 5, "437b9aec36");
}

static const char server_initial[] =
    "cf000000010008f067a5502a4262b5004075c0d95a482cd0991cd25b0aac406a"
    "5816b6394100f37a1c69797554780bb38cc5a99f5ede4cf73c3ec2493a1839b3"
    "dbcba3f6ea46c5b7684df3548e7ddeb9c3bf9c73cc3f3bded74b562bfb19fb84"
    "022f8ef4cdd93795d77d06edbb7aaf2f58891850abbdca3d20398c276456cbc4"
    "2158407dd074ee";

static void test_server_initial(void **state)
{
    (void)state;
    uint8_t pkt[135], pt[135], mask[5];
    assert_int_equal(unhex(server_initial, pkt), 135);
    nc_quic_keys_t k;
    initial_keys(false, &k);
    /* The packet number starts at byte 18 (after the length 0x4075); the
     * sample 4 bytes later. */
    assert_true(nc_decrypt_tls.quic_mask(&k, pkt + 22, mask));
    assert_hex(mask, 5, "2ec0d8356a");
    pkt[0] ^= mask[0] & 0x0f;
    size_t pnlen = (pkt[0] & 3) + 1;
    assert_int_equal(pnlen, 2);
    uint64_t trunc = 0;
    for (size_t i = 0; i < pnlen; i++) {
        pkt[18 + i] ^= mask[1 + i];
        trunc = trunc << 8 | pkt[18 + i];
    }
    assert_hex(pkt, 20, "c1000000010008f067a5502a4262b50040750001");
    uint64_t pn = nc_quic_pn_expand(-1, trunc, pnlen);
    assert_int_equal(pn, 1);
    int n = nc_decrypt_tls.quic_open(&k, pn, pkt, 20, pkt + 20, 135 - 20, pt);
    assert_int_equal(n, 135 - 20 - 16);
    assert_hex(pt, (size_t)n,
               "02000000000600405a020000560303eefce7f7b37ba1d1632e96677825ddf739"
               "88cfc79825df566dc5430b9a045a1200130100002e00330024001d00209d3c94"
               "0d89690b84d08a60993c144eca684d1081287c834d5311bcf32bb9da1a002b00"
               "020304");
    /* One flipped bit and it no longer authenticates. */
    pkt[40] ^= 1;
    assert_int_equal(nc_decrypt_tls.quic_open(&k, pn, pkt, 20, pkt + 20, 135 - 20, pt), -1);
}

static void test_chacha_short(void **state)
{
    (void)state;
    static const char line[] =
        "CLIENT_TRAFFIC_SECRET_0 " RANDOM_HEX
        " 9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b\n";
    nc_keylog_t *kl = nc_keylog_new();
    assert_int_equal(nc_keylog_add(kl, line, sizeof(line) - 1, NULL), 1);
    nc_quic_keyreq_t req = {.level = NC_QUIC_1RTT, .client = true, .suite = 0x1303};
    unhex(RANDOM_HEX, req.client_random);
    nc_quic_keys_t k;
    assert_true(nc_decrypt_tls.quic_keys(kl, &req, &k));
    assert_hex(k.key, 32, "c6d98ff3441c3fe1b2182094f69caa2ed4b716b65488960a7a984979fb23e1c8");
    assert_hex(k.iv, 12, "e0459b3474bdd0e44a41c144");
    assert_hex(k.hp, 32, "25a282b9e82f06f21f488917a4fc8f1b73573685608597d0efcb076b0ab7a7a4");

    uint8_t pkt[21], pt[21], mask[5];
    unhex("4cfe4189655e5cd55c41f69080575d7999c25a5bfb", pkt);
    assert_true(nc_decrypt_tls.quic_mask(&k, pkt + 1 + 4, mask));
    assert_hex(mask, 5, "aefefe7d03");
    pkt[0] ^= mask[0] & 0x1f;
    size_t pnlen = (pkt[0] & 3) + 1;
    uint64_t trunc = 0;
    for (size_t i = 0; i < pnlen; i++) {
        pkt[1 + i] ^= mask[1 + i];
        trunc = trunc << 8 | pkt[1 + i];
    }
    assert_hex(pkt, 4, "4200bff4");
    uint64_t pn = nc_quic_pn_expand(654360563, trunc, pnlen);
    assert_int_equal(pn, 654360564);
    int n = nc_decrypt_tls.quic_open(&k, pn, pkt, 4, pkt + 4, 17, pt);
    assert_int_equal(n, 1);
    assert_int_equal(pt[0], 0x01); /* PING */

    /* A key update: the next generation's key differs, the header
     * protection key stays. */
    nc_quic_keys_t k1;
    req.generation = 1;
    assert_true(nc_decrypt_tls.quic_keys(kl, &req, &k1));
    assert_memory_not_equal(k1.key, k.key, 32);
    assert_memory_equal(k1.hp, k.hp, 32);
    /* No secret for another connection. */
    req.client_random[0] ^= 1;
    assert_false(nc_decrypt_tls.quic_keys(kl, &req, &k1));
    nc_keylog_free(kl);
}

static void test_pn_expand(void **state)
{
    (void)state;
    /* RFC 9000 A.3: largest 0xa82f30ea, 2-byte 0x9b32. */
    assert_int_equal(nc_quic_pn_expand(0xa82f30ea, 0x9b32, 2), 0xa82f9b32);
    assert_int_equal(nc_quic_pn_expand(-1, 0, 1), 0);
    assert_int_equal(nc_quic_pn_expand(255, 1, 1), 257);
    assert_int_equal(nc_quic_pn_expand(300, 0xff, 1), 255);
}

/* A datagram whose packet is followed by zeros (a sender padding the
 * datagram, not the packet) holds one packet, not a second one made of
 * zeros. */
static void test_datagram_padding(void **state)
{
    (void)state;
    uint8_t dgram[135 + 20];
    memset(dgram, 0, sizeof(dgram));
    unhex(server_initial, dgram);
    nc_decoder_t *d = nc_decoder_new();
    nc_evb_t b;
    nc_evb_init(&b);
    nc_evb_reset(&b, NC_EV_PACKET, 0);
    assert_int_equal(nc_decoder_layer(d, "quic", dgram, sizeof(dgram), &b), 0);
    const nc_event_t *ev = nc_evb_view(&b);
    assert_non_null(strstr(ev->summary, "Initial"));
    assert_non_null(strstr(ev->summary, "20 bytes of padding"));
    const nc_field_t *q = nc_event_get(ev, "quic");
    assert_non_null(q);
    assert_int_equal(q->kind, NC_F_OBJ);
    nc_evb_done(&b);
    nc_decoder_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_initial_keys),
        cmocka_unit_test(test_client_initial_mask),
        cmocka_unit_test(test_server_initial),
        cmocka_unit_test(test_chacha_short),
        cmocka_unit_test(test_pn_expand),
        cmocka_unit_test(test_datagram_padding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
