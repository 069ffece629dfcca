/*
 * quic.c: QUIC packet protection (RFC 9001 section 5) with OpenSSL, the
 * QUIC half of the decryptor (decryptor.h).
 *
 * Keys. Initial packets are protected with keys anyone can derive from the
 * Destination Connection ID of the client's first Initial (5.2):
 *   initial_secret = HKDF-Extract(initial_salt, dcid)
 *   client_initial_secret = HKDF-Expand-Label(initial_secret, "client in", "", 32)
 *   server_initial_secret = HKDF-Expand-Label(initial_secret, "server in", "", 32)
 * with SHA-256 and AES-128-GCM. Handshake and 1-RTT packets use the TLS 1.3
 * handshake and application traffic secrets, read from the key log by the
 * connection's client random, with the cipher suite TLS chose; 0-RTT
 * packets use the client's early traffic secret. From any
 * secret: key = HKDF-Expand-Label(secret, "quic key", "", keylen), iv =
 * ... "quic iv" ... 12, hp = ... "quic hp" ... keylen. A key update (6)
 * moves the 1-RTT secret on with "quic ku"; the header protection key
 * stays the first one's.
 *
 * Header protection (5.4): the mask is the first 5 bytes of AES-ECB(hp,
 * sample), or of ChaCha20(hp, counter = sample[0..3], nonce =
 * sample[4..15]) over zeros. Payloads (5.3): AEAD with nonce = iv XOR the
 * packet number and the unprotected header as additional data. Nothing is
 * kept between calls: the keys live in the decoder's connection state.
 */
#include "decrypt.h"
#include "decrypt_impl.h"

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <string.h>

static const uint8_t nc_quic_v1_salt[20] = {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34,
                                            0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8,
                                            0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a};

/* The TLS 1.3 suites QUIC may use that we open: AEAD, hash, key and hash
 * length, and the cipher header protection runs on. */
static const struct {
    uint16_t suite;
    const char *aead, *digest, *hp;
    uint8_t keylen, hashlen;
} nc_quic_suites[] = {
    {0x1301, "AES-128-GCM", "SHA256", "AES-128-ECB", 16, 32},
    {0x1302, "AES-256-GCM", "SHA384", "AES-256-ECB", 32, 48},
    {0x1303, "ChaCha20-Poly1305", "SHA256", "ChaCha20", 32, 32},
};

static int quic_suite(uint16_t suite)
{
    for (size_t i = 0; i < sizeof(nc_quic_suites) / sizeof(nc_quic_suites[0]); i++)
        if (nc_quic_suites[i].suite == suite)
            return (int)i;
    return -1;
}

/* HKDF-Extract(salt, ikm) with SHA-256 into out (32 bytes). */
static int hkdf_extract(const uint8_t *salt, size_t saltlen, const uint8_t *ikm, size_t ikmlen,
                        uint8_t out[32])
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_HKDF, NULL);
    EVP_KDF_CTX *kc = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    EVP_KDF_free(kdf);
    if (kc == NULL)
        return -1;
    int mode = EVP_KDF_HKDF_MODE_EXTRACT_ONLY;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, "SHA256", 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikmlen),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, saltlen),
        OSSL_PARAM_construct_end(),
    };
    int ok = EVP_KDF_derive(kc, out, 32, params);
    EVP_KDF_CTX_free(kc);
    return ok > 0 ? 0 : -1;
}

/* key, iv and hp from one secret, for suite row s. */
static bool quic_from_secret(int s, const uint8_t *secret, size_t n, nc_quic_keys_t *out)
{
    const char *dg = nc_quic_suites[s].digest;
    uint8_t kl = nc_quic_suites[s].keylen;
    return nc_decrypt_expand_label(dg, secret, n, "quic key", out->key, kl) == 0 &&
           nc_decrypt_expand_label(dg, secret, n, "quic iv", out->iv, 12) == 0 &&
           nc_decrypt_expand_label(dg, secret, n, "quic hp", out->hp, kl) == 0;
}

bool nc__decrypt_quic_keys(void *ctx, const nc_quic_keyreq_t *req, nc_quic_keys_t *out)
{
    memset(out, 0, sizeof(*out));
    uint8_t secret[NC_KEYLOG_SECRET_MAX];
    size_t n = 0;
    uint16_t suite = req->level == NC_QUIC_INITIAL ? 0x1301 : req->suite;
    int s = quic_suite(suite);
    if (s < 0)
        return false;
    if (req->level == NC_QUIC_INITIAL) {
        uint8_t initial[32];
        if (req->dcidlen > 20 ||
            hkdf_extract(nc_quic_v1_salt, sizeof(nc_quic_v1_salt), req->dcid, req->dcidlen,
                         initial) != 0 ||
            nc_decrypt_expand_label("SHA256", initial, 32, req->client ? "client in" : "server in",
                                    secret, 32) != 0)
            return false;
        n = 32;
    } else {
        nc_keylog_label_t label =
            req->level == NC_QUIC_0RTT ? NC_KEYLOG_CLIENT_EARLY
            : req->level == NC_QUIC_HANDSHAKE
                ? (req->client ? NC_KEYLOG_CLIENT_HANDSHAKE : NC_KEYLOG_SERVER_HANDSHAKE)
                : (req->client ? NC_KEYLOG_CLIENT_TRAFFIC_0 : NC_KEYLOG_SERVER_TRAFFIC_0);
        if (ctx == NULL || (req->level == NC_QUIC_0RTT && !req->client) ||
            (n = nc_keylog_find(ctx, label, req->client_random, secret)) == 0)
            return false;
    }
    /* The header protection key is the first secret's, whatever the key
     * phase (RFC 9001 6.1). */
    if (!quic_from_secret(s, secret, n, out))
        return false;
    uint8_t hp[32];
    memcpy(hp, out->hp, sizeof(hp));
    for (uint32_t g = 0; req->level == NC_QUIC_1RTT && g < req->generation; g++)
        if (nc_decrypt_expand_label(nc_quic_suites[s].digest, secret, n, "quic ku", secret, n) != 0)
            return false;
    if (req->generation > 0 && !quic_from_secret(s, secret, n, out))
        return false;
    memcpy(out->hp, hp, sizeof(hp));
    out->ok = true;
    out->suite = suite;
    out->keylen = nc_quic_suites[s].keylen;
    return true;
}

bool nc__decrypt_quic_mask(const nc_quic_keys_t *k, const uint8_t *sample, uint8_t mask[5])
{
    int s = k->ok ? quic_suite(k->suite) : -1;
    if (s < 0)
        return false;
    EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, nc_quic_suites[s].hp, NULL);
    EVP_CIPHER_CTX *cc = c ? EVP_CIPHER_CTX_new() : NULL;
    uint8_t out[32];
    static const uint8_t zeros[16];
    bool chacha = k->suite == 0x1303;
    int len = 0, ok = 0;
    /* ChaCha20's 16-byte IV is the counter and the nonce, the sample as
     * it stands; AES-ECB encrypts the sample itself. */
    if (cc != NULL && EVP_EncryptInit_ex(cc, c, NULL, k->hp, chacha ? sample : NULL) > 0 &&
        EVP_CIPHER_CTX_set_padding(cc, 0) > 0 &&
        EVP_EncryptUpdate(cc, out, &len, chacha ? zeros : sample, 16) > 0 && len >= 5)
        ok = 1;
    EVP_CIPHER_CTX_free(cc);
    EVP_CIPHER_free(c);
    if (ok)
        memcpy(mask, out, 5);
    return ok;
}

int nc__decrypt_quic_open(const nc_quic_keys_t *k, uint64_t pn, const uint8_t *hdr, size_t hlen,
                          const uint8_t *ct, size_t n, uint8_t *pt)
{
    int s = k->ok ? quic_suite(k->suite) : -1;
    if (s < 0 || n < 16)
        return -1;
    uint8_t nonce[12];
    memcpy(nonce, k->iv, 12);
    for (int i = 0; i < 8; i++)
        nonce[11 - i] ^= (uint8_t)(pn >> (8 * i));
    return nc__decrypt_aead_open(nc_quic_suites[s].aead, k->key, nonce, hdr, hlen, ct, n - 16,
                                 ct + n - 16, pt);
}
