/*
 * fuzz_quicframes.c: libFuzzer harness for QUIC's frame parsers (and the
 * HTTP/3 decoder behind STREAM frames), through protection as a capture
 * would reach them.
 *
 * The input is the plaintext payload of a client Initial packet (at most
 * 1100 bytes: frames, back to back). The harness protects it as a client
 * would (RFC 9001: Initial keys from the DCID 0x8394c8f03e515708,
 * AES-128-GCM, header protection) and hands the datagram to the QUIC
 * decoder with the decryptor (src/decrypt) twice, packet numbers 0 and 1,
 * so the decoder opens it and reads every frame the fuzzer wrote; the
 * second packet meets the first one's state (a frame sent again). Each
 * event is annotated and printed as JSON, as a live run would.
 */
#include "annotate/annotate.h"
#include "core/buf.h"
#include "decode/decode.h"
#include "decrypt/decrypt.h"

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Seals pt (n bytes) as an Initial with packet number pn into pkt;
 * returns the packet's length, or 0. */
static size_t seal(const nc_quic_keys_t *k, uint32_t pn, const uint8_t *pt, size_t n,
                   uint8_t *pkt)
{
    static const uint8_t dcid[8] = {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08};
    size_t at = 0;
    pkt[at++] = 0xc3; /* long header, Initial, 4-byte packet number */
    memcpy(pkt + at, "\x00\x00\x00\x01", 4);
    at += 4;
    pkt[at++] = 8;
    memcpy(pkt + at, dcid, 8);
    at += 8;
    pkt[at++] = 0;    /* no SCID */
    pkt[at++] = 0;    /* no token */
    size_t len = 4 + n + 16;
    pkt[at++] = (uint8_t)(0x40 | (len >> 8));
    pkt[at++] = (uint8_t)len;
    size_t pn_off = at;
    for (int i = 3; i >= 0; i--)
        pkt[at++] = (uint8_t)(pn >> (8 * i));
    uint8_t nonce[12];
    memcpy(nonce, k->iv, 12);
    for (int i = 0; i < 4; i++)
        nonce[11 - i] ^= (uint8_t)(pn >> (8 * i));
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int l = 0, ok = c && EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), NULL, k->key, nonce) > 0 &&
                    EVP_EncryptUpdate(c, NULL, &l, pkt, (int)at) > 0 &&
                    EVP_EncryptUpdate(c, pkt + at, &l, pt, (int)n) > 0 &&
                    EVP_EncryptFinal_ex(c, pkt + at + l, &l) > 0 &&
                    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, pkt + at + n) > 0;
    EVP_CIPHER_CTX_free(c);
    uint8_t mask[5];
    if (!ok || !nc_decrypt_tls.quic_mask(k, pkt + pn_off + 4, mask))
        return 0;
    pkt[0] ^= mask[0] & 0x0f;
    for (int i = 0; i < 4; i++)
        pkt[pn_off + i] ^= mask[1 + i];
    return at + n + 16;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1100)
        return 0;
    nc_quic_keyreq_t req = {.level = NC_QUIC_INITIAL, .client = true, .dcidlen = 8};
    memcpy(req.dcid, "\x83\x94\xc8\xf0\x3e\x51\x57\x08", 8);
    nc_quic_keys_t k;
    if (!nc_decrypt_tls.quic_keys(NULL, &req, &k))
        return 0;
    nc_keylog_t *kl = nc_keylog_new();
    nc_decoder_t *d = nc_decoder_new();
    nc_decoder_set_decryptor(d, &nc_decrypt_tls, kl);
    nc_evb_t b;
    nc_evb_init(&b);
    nc_buf_t out;
    nc_buf_init(&out);
    static uint8_t pkt[1200];
    for (uint32_t pn = 0; pn < 2; pn++) {
        size_t n = seal(&k, pn, data, size, pkt);
        if (n == 0)
            break;
        nc_evb_reset(&b, NC_EV_PACKET, 0);
        nc_decoder_layer(d, "quic", pkt, (uint32_t)n, &b);
        nc_annotate_event(&b);
        nc_buf_reset(&out);
        nc_event_json(nc_evb_view(&b), &out);
    }
    nc_buf_done(&out);
    nc_evb_done(&b);
    nc_decoder_free(d);
    nc_keylog_free(kl);
    return 0;
}
