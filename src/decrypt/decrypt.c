/*
 * decrypt.c: the decryptor (decrypt.h): keys from secrets, records opened.
 *
 * A table maps each supported cipher suite to its AEAD, key and IV sizes and
 * hash. Keys are derived as the RFCs say:
 *   TLS 1.3 (RFC 8446 7.3): key = HKDF-Expand-Label(secret, "key", "", keylen),
 *     iv = HKDF-Expand-Label(secret, "iv", "", 12); after a KeyUpdate,
 *     secret' = HKDF-Expand-Label(secret, "traffic upd", "", hashlen).
 *   TLS 1.2 (RFC 5246 6.3): key_block = PRF(master, "key expansion",
 *     server_random + client_random), cut into client key, server key,
 *     client IV, server IV (AEAD suites have no MAC keys).
 * and records opened (RFC 8446 5.3, RFC 5288, RFC 7905):
 *   TLS 1.3: nonce = iv XOR seq, additional data = the record header.
 *   TLS 1.2 GCM: nonce = 4-byte salt + the record's 8-byte explicit nonce;
 *   ChaCha20-Poly1305: nonce = iv XOR seq; additional data = seq, type,
 *   version and the plaintext length.
 * Nothing here keeps state between calls but the key log: the derived keys
 * live in the decoder's stream state.
 */
#include "decrypt.h"
#include "decrypt_impl.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <pthread.h>
#include <string.h>

typedef struct {
    uint16_t suite, version;
    const char *cipher; /* EVP cipher name */
    const char *digest;
    uint8_t keylen, ivlen; /* ivlen: the implicit part (TLS 1.2 GCM: the salt) */
} nc_suite_t;

static const nc_suite_t nc_suites[] = {
    {0x1301, 0x0304, "AES-128-GCM", "SHA256", 16, 12},
    {0x1302, 0x0304, "AES-256-GCM", "SHA384", 32, 12},
    {0x1303, 0x0304, "ChaCha20-Poly1305", "SHA256", 32, 12},
    {0xc02b, 0x0303, "AES-128-GCM", "SHA256", 16, 4},
    {0xc02f, 0x0303, "AES-128-GCM", "SHA256", 16, 4},
    {0xc02c, 0x0303, "AES-256-GCM", "SHA384", 32, 4},
    {0xc030, 0x0303, "AES-256-GCM", "SHA384", 32, 4},
    {0xcca8, 0x0303, "ChaCha20-Poly1305", "SHA256", 32, 12},
    {0xcca9, 0x0303, "ChaCha20-Poly1305", "SHA256", 32, 12},
};

static const nc_suite_t *suite_find(uint16_t suite, uint16_t version)
{
    for (size_t i = 0; i < sizeof(nc_suites) / sizeof(nc_suites[0]); i++)
        if (nc_suites[i].suite == suite && nc_suites[i].version == version)
            return &nc_suites[i];
    return NULL;
}

int nc_decrypt_expand_label(const char *digest, const uint8_t *secret, size_t secretlen,
                            const char *label, uint8_t *out, size_t outlen)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_TLS1_3_KDF, NULL);
    EVP_KDF_CTX *kc = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    EVP_KDF_free(kdf);
    if (kc == NULL)
        return -1;
    int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
    static const char prefix[] = "tls13 ";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)digest, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, secretlen),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PREFIX, (void *)prefix,
                                          sizeof(prefix) - 1),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_LABEL, (void *)label, strlen(label)),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_DATA, (void *)"", 0),
        OSSL_PARAM_construct_end(),
    };
    int ok = EVP_KDF_derive(kc, out, outlen, params);
    EVP_KDF_CTX_free(kc);
    return ok > 0 ? 0 : -1;
}

/* The TLS 1.2 PRF: outlen bytes of PRF(secret, label, seed1 + seed2). */
static int prf12(const char *digest, const uint8_t *secret, size_t secretlen, const char *label,
                 const uint8_t *seed1, const uint8_t *seed2, uint8_t *out, size_t outlen)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_TLS1_PRF, NULL);
    EVP_KDF_CTX *kc = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    EVP_KDF_free(kdf);
    if (kc == NULL)
        return -1;
    /* The KDF concatenates repeated seed parameters: the label, then both
     * randoms. */
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)digest, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, (void *)secret, secretlen),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, (void *)label, strlen(label)),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, (void *)seed1, NC_TLS_RANDOM),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, (void *)seed2, NC_TLS_RANDOM),
        OSSL_PARAM_construct_end(),
    };
    int ok = EVP_KDF_derive(kc, out, outlen, params);
    EVP_KDF_CTX_free(kc);
    return ok > 0 ? 0 : -1;
}

static bool keys13(nc_keylog_t *kl, const nc_tls_keyreq_t *req, const nc_suite_t *s,
                   nc_tls_keys_t *out)
{
    uint8_t secret[NC_KEYLOG_SECRET_MAX];
    bool early = req->epoch == NC_TLS_EPOCH_EARLY;
    nc_keylog_label_t label = early ? NC_KEYLOG_CLIENT_EARLY
                              : req->epoch == 1
                                  ? (req->client ? NC_KEYLOG_CLIENT_HANDSHAKE
                                                 : NC_KEYLOG_SERVER_HANDSHAKE)
                                  : (req->client ? NC_KEYLOG_CLIENT_TRAFFIC_0
                                                 : NC_KEYLOG_SERVER_TRAFFIC_0);
    size_t n = nc_keylog_find(kl, label, req->client_random, secret);
    if (n == 0 || req->epoch == 0 || (early && !req->client))
        return false;
    /* Each KeyUpdate moves the application secret one step on. */
    for (int i = 2; !early && i < req->epoch; i++)
        if (nc_decrypt_expand_label(s->digest, secret, n, "traffic upd", secret, n) != 0)
            return false;
    return nc_decrypt_expand_label(s->digest, secret, n, "key", out->key, s->keylen) == 0 &&
           nc_decrypt_expand_label(s->digest, secret, n, "iv", out->iv, s->ivlen) == 0;
}

static bool keys12(nc_keylog_t *kl, const nc_tls_keyreq_t *req, const nc_suite_t *s,
                   nc_tls_keys_t *out)
{
    uint8_t master[NC_KEYLOG_SECRET_MAX], block[2 * 32 + 2 * 12];
    size_t n = nc_keylog_find(kl, NC_KEYLOG_CLIENT_RANDOM, req->client_random, master);
    size_t need = 2u * s->keylen + 2u * s->ivlen;
    if (n == 0 || prf12(s->digest, master, n, "key expansion", req->server_random,
                        req->client_random, block, need) != 0)
        return false;
    size_t k = req->client ? 0 : s->keylen;
    size_t v = 2u * s->keylen + (req->client ? 0 : s->ivlen);
    memcpy(out->key, block + k, s->keylen);
    memcpy(out->iv, block + v, s->ivlen);
    return true;
}

static bool nc_decrypt_keys(void *ctx, const nc_tls_keyreq_t *req, nc_tls_keys_t *out)
{
    memset(out, 0, sizeof(*out));
    const nc_suite_t *s = suite_find(req->suite, req->version);
    if (ctx == NULL || s == NULL)
        return false;
    bool ok = req->version == 0x0304 ? keys13(ctx, req, s, out) : keys12(ctx, req, s, out);
    if (!ok) {
        memset(out, 0, sizeof(*out));
        return false;
    }
    out->ok = true;
    out->version = req->version;
    out->suite = req->suite;
    out->keylen = s->keylen;
    out->ivlen = s->ivlen;
    return true;
}

/* The AEADs, fetched once for the process rather than once a record. */
static const char *const nc_aead_names[] = {"AES-128-GCM", "AES-256-GCM", "ChaCha20-Poly1305"};
static EVP_CIPHER *nc_aeads[3];
static pthread_once_t nc_aeads_once = PTHREAD_ONCE_INIT;

static void aeads_fetch(void)
{
    for (size_t i = 0; i < 3; i++)
        nc_aeads[i] = EVP_CIPHER_fetch(NULL, nc_aead_names[i], NULL);
}

const EVP_CIPHER *nc__decrypt_aead_find(const char *name)
{
    pthread_once(&nc_aeads_once, aeads_fetch);
    for (size_t i = 0; i < 3; i++)
        if (strcmp(nc_aead_names[i], name) == 0)
            return nc_aeads[i];
    return NULL;
}

int nc__decrypt_aead_open(const char *cipher, const uint8_t *key, const uint8_t *nonce,
                     const uint8_t *aad, size_t aadlen, const uint8_t *ct, size_t n,
                     const uint8_t *tag, uint8_t *pt)
{
    const EVP_CIPHER *c = nc__decrypt_aead_find(cipher);
    EVP_CIPHER_CTX *cc = c ? EVP_CIPHER_CTX_new() : NULL;
    int len = 0, fin = 0, ok = 0;
    if (cc != NULL && EVP_DecryptInit_ex(cc, c, NULL, NULL, NULL) > 0 &&
        EVP_CIPHER_CTX_ctrl(cc, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) > 0 &&
        EVP_DecryptInit_ex(cc, NULL, NULL, key, nonce) > 0 &&
        EVP_DecryptUpdate(cc, NULL, &len, aad, (int)aadlen) > 0 &&
        EVP_DecryptUpdate(cc, pt, &len, ct, (int)n) > 0 &&
        EVP_CIPHER_CTX_ctrl(cc, EVP_CTRL_AEAD_SET_TAG, 16, (void *)tag) > 0 &&
        EVP_DecryptFinal_ex(cc, pt + len, &fin) > 0)
        ok = 1;
    EVP_CIPHER_CTX_free(cc);
    return ok ? len + fin : -1;
}

static int nc_decrypt_open(void *ctx, const nc_tls_keys_t *k, uint64_t seq, const uint8_t *hdr,
                           const uint8_t *body, size_t n, uint8_t *pt)
{
    const nc_suite_t *s = suite_find(k->suite, k->version);
    if (s == NULL || !k->ok)
        return -1;
    uint8_t nonce[12], aad[13];
    size_t aadlen;
    bool explicit_nonce = k->version == 0x0303 && s->ivlen == 4;
    size_t pre = explicit_nonce ? 8 : 0;
    if (n < pre + 16)
        return -1;
    size_t ctlen = n - pre - 16;
    if (explicit_nonce) {
        memcpy(nonce, k->iv, 4);
        memcpy(nonce + 4, body, 8);
    } else {
        memcpy(nonce, k->iv, 12);
        for (int i = 0; i < 8; i++)
            nonce[11 - i] ^= (uint8_t)(seq >> (8 * i));
    }
    if (k->version == 0x0304) {
        memcpy(aad, hdr, 5);
        aadlen = 5;
    } else {
        for (int i = 0; i < 8; i++)
            aad[7 - i] = (uint8_t)(seq >> (8 * i));
        aad[8] = hdr[0];
        aad[9] = hdr[1];
        aad[10] = hdr[2];
        aad[11] = (uint8_t)(ctlen >> 8);
        aad[12] = (uint8_t)ctlen;
        aadlen = 13;
    }
    return nc__decrypt_aead_open(s->cipher, k->key, nonce, aad, aadlen, body + pre, ctlen,
                     body + pre + ctlen, pt);
}

static void nc_decrypt_add(void *ctx, const char *text, size_t n)
{
    if (ctx != NULL)
        nc_keylog_add(ctx, text, n, NULL);
}

const nc_decryptor_t nc_decrypt_tls = {
    .keys = nc_decrypt_keys,
    .open = nc_decrypt_open,
    .add_secrets = nc_decrypt_add,
    .quic_keys = nc__decrypt_quic_keys,
    .quic_mask = nc__decrypt_quic_mask,
    .quic_open = nc__decrypt_quic_open,
};
