/*
 * decrypt.h: TLS record decryption with OpenSSL, behind decode's decryptor
 * interface (src/decode/decryptor.h).
 *
 * nc_decrypt_tls's context is an nc_keylog_t (keylog.h): the secrets it
 * derives keys from. TLS 1.3 (TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384,
 * TLS_CHACHA20_POLY1305_SHA256) takes its traffic secrets from the key log
 * and expands them with HKDF-Expand-Label (the TLS13-KDF KDF; KeyUpdate's
 * "traffic upd" too); TLS 1.2 with ECDHE and AES-GCM or ChaCha20-Poly1305
 * expands the master secret (CLIENT_RANDOM) with the TLS 1.2 PRF (the
 * TLS1-PRF KDF) into the key block. Records are opened with EVP AEAD
 * decryption.
 */
#ifndef NC_DECRYPT_DECRYPT_H
#define NC_DECRYPT_DECRYPT_H

#include "../decode/decryptor.h"
#include "keylog.h"

#include <stddef.h>
#include <stdint.h>

/* The decryptor; its ctx is an nc_keylog_t * (borrowed by the decoder). */
extern const nc_decryptor_t nc_decrypt_tls;

/* HKDF-Expand-Label (RFC 8446 7.1) with the hash named by digest ("SHA256",
 * "SHA384"): writes outlen bytes into out. Returns 0, or -1 when OpenSSL
 * refuses. Exposed for the unit tests' RFC 8448 vectors. */
int nc_decrypt_expand_label(const char *digest, const uint8_t *secret, size_t secretlen,
                            const char *label, uint8_t *out, size_t outlen);

#endif
