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
 * QUIC (quic.c) asks the same decryptor for its packet protection keys.
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

/* QUIC packet protection (RFC 9001 section 5). Levels name the packet
 * number spaces' keys: Initial keys come from the client's first
 * Destination Connection ID alone; Handshake and 1-RTT keys from the key
 * log's TLS 1.3 secrets of the connection (its client random). */
enum { NC_QUIC_INITIAL = 0, NC_QUIC_HANDSHAKE = 1, NC_QUIC_1RTT = 2, NC_QUIC_0RTT = 3 };

typedef struct nc_quic_keyreq {
    uint8_t level;           /* NC_QUIC_* */
    bool client;             /* keys protecting what the client sends */
    uint16_t suite;          /* the TLS cipher suite (Initial: ignored) */
    uint32_t generation;     /* 1-RTT: key updates so far ("quic ku") */
    uint8_t dcidlen;         /* Initial: the client's first DCID */
    uint8_t dcid[20];
    uint8_t client_random[NC_TLS_RANDOM];
} nc_quic_keyreq_t;

/* One direction's packet protection at one level: plain bytes. */
typedef struct nc_quic_keys {
    bool ok;
    uint16_t suite;
    uint8_t keylen;
    uint8_t key[32], iv[12], hp[32];
} nc_quic_keys_t;

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
    /* QUIC: derives the keys req names into *out (false: no secret for
     * the connection, or a suite it does not decrypt). Initial keys need
     * no key log. */
    bool (*quic_keys)(void *ctx, const nc_quic_keyreq_t *req, nc_quic_keys_t *out);
    /* QUIC header protection: the 5-byte mask for a 16-byte sample of the
     * protected payload (borrowed). False when the cipher refuses. */
    bool (*quic_mask)(const nc_quic_keys_t *k, const uint8_t *sample, uint8_t mask[5]);
    /* Opens one QUIC packet's payload: hdr its hlen header bytes with the
     * protection removed (the additional data), ct its n bytes (tag
     * last), pn its full packet number. Writes n - 16 bytes into pt and
     * returns that length, or -1 when it does not authenticate. */
    int (*quic_open)(const nc_quic_keys_t *k, uint64_t pn, const uint8_t *hdr, size_t hlen,
                     const uint8_t *ct, size_t n, uint8_t *pt);
} nc_decryptor_t;

#endif
