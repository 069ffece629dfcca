/*
 * decryptor.h: what the TLS decoder asks of a decryptor.
 *
 * The decoders link nothing but core, so they never call a crypto library.
 * TLS decoding (tls.c) follows the handshake in the clear: the randoms, the
 * version and cipher suite the server chose, which direction is the client,
 * and where each direction's records start to be protected and under which
 * keys (TLS 1.3's handshake keys, then application keys and each KeyUpdate;
 * TLS 1.2's keys after ChangeCipherSpec). When the decoder was given a
 * decryptor (nc_decoder_set_decryptor), it asks it for the keys of one
 * direction and epoch, keeps them as plain bytes in the stream's state (so a
 * checkpoint of the state still stands alone), and asks it to open each
 * protected record with them. src/decrypt implements this interface with
 * OpenSSL and a key log (SSLKEYLOGFILE lines).
 *
 * Epochs: 0 is the clear handshake. In TLS 1.3, 1 is the handshake traffic
 * keys, 2 the first application traffic keys and 2 + n the keys after the
 * direction's n-th KeyUpdate. In TLS 1.2, 1 is the keys after
 * ChangeCipherSpec. NC_TLS_EPOCH_EARLY is TLS 1.3's 0-RTT early data, the
 * client's records after a ClientHello that offers it, until its
 * EndOfEarlyData (or until the server's EncryptedExtensions refuses it):
 * keys from the client random alone, so they are asked for before the
 * ServerHello, under each TLS 1.3 suite in turn (the ticket's suite is not
 * on the wire) until one opens the record.
 */
#ifndef NC_DECODE_DECRYPTOR_H
#define NC_DECODE_DECRYPTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NC_TLS_RANDOM 32
#define NC_TLS_EPOCH_EARLY 255

/* Which keys the decoder needs. */
typedef struct nc_tls_keyreq {
    uint16_t version;        /* 0x0303 (TLS 1.2) or 0x0304 (TLS 1.3) */
    uint16_t suite;          /* the cipher suite the server chose */
    bool client;             /* keys protecting what the client sends */
    uint8_t epoch;           /* see above */
    uint8_t client_random[NC_TLS_RANDOM];
    uint8_t server_random[NC_TLS_RANDOM];
} nc_tls_keyreq_t;

/* One direction's record protection: plain bytes, no pointers. */
typedef struct nc_tls_keys {
    bool ok;                 /* derived; false: no secret for this connection */
    uint16_t version, suite;
    uint8_t keylen, ivlen;   /* TLS 1.2 AES-GCM: ivlen 4 (the implicit salt) */
    uint8_t key[32], iv[12];
} nc_tls_keys_t;

typedef struct nc_decryptor {
    /* Derives the keys req names into *out (out->ok false and the function
     * false when the key log holds no secret for the connection, or the
     * suite is one it does not decrypt). ctx is the decryptor's own. */
    bool (*keys)(void *ctx, const nc_tls_keyreq_t *req, nc_tls_keys_t *out);
    /* Opens one protected record: hdr is its 5-byte header (borrowed), body
     * its n bytes (borrowed), seq its sequence number under k. Writes the
     * plaintext into pt (room for n bytes; for TLS 1.3 it still ends with
     * the inner content type and padding) and returns its length, or -1
     * when the record does not authenticate. */
    int (*open)(void *ctx, const nc_tls_keys_t *k, uint64_t seq, const uint8_t *hdr,
                const uint8_t *body, size_t n, uint8_t *pt);
    /* Adds secrets in the key log format (text, n bytes, borrowed): what a
     * capture file carries in a Decryption Secrets Block. */
    void (*add_secrets)(void *ctx, const char *text, size_t n);
} nc_decryptor_t;

#endif
