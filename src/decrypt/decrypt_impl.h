/*
 * decrypt_impl.h: what decrypt.c (TLS records) and quic.c (QUIC packets)
 * share inside src/decrypt.
 */
#ifndef NC_DECRYPT_IMPL_H
#define NC_DECRYPT_IMPL_H

#include "../decode/decryptor.h"

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

/* The AEAD named name ("AES-128-GCM", "AES-256-GCM", "ChaCha20-Poly1305"),
 * fetched once for the process; NULL for another name. */
const EVP_CIPHER *nc__decrypt_aead_find(const char *name);

/* AEAD-opens ct (n bytes; the 16-byte tag at tag) with key, a 12-byte
 * nonce and aad (all borrowed) into pt; returns n, or -1. */
int nc__decrypt_aead_open(const char *cipher, const uint8_t *key, const uint8_t *nonce,
                          const uint8_t *aad, size_t aadlen, const uint8_t *ct, size_t n,
                          const uint8_t *tag, uint8_t *pt);

/* The QUIC half of nc_decrypt_tls (quic.c); see decryptor.h. */
bool nc__decrypt_quic_keys(void *ctx, const nc_quic_keyreq_t *req, nc_quic_keys_t *out);
bool nc__decrypt_quic_mask(const nc_quic_keys_t *k, const uint8_t *sample, uint8_t mask[5]);
int nc__decrypt_quic_open(const nc_quic_keys_t *k, uint64_t pn, const uint8_t *hdr, size_t hlen,
                          const uint8_t *ct, size_t n, uint8_t *pt);

#endif
