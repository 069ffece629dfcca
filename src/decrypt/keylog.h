/*
 * keylog.h: TLS secrets in the NSS key log format (SSLKEYLOGFILE).
 *
 * Each line is "LABEL <client random, hex> <secret, hex>", for example
 * "CLIENT_RANDOM ..." (a TLS 1.2 master secret) or
 * "SERVER_HANDSHAKE_TRAFFIC_SECRET ..." (TLS 1.3); lines starting with #
 * are comments. A key log collects the secrets of a capture: loaded from a
 * file (replay --keylog), from a saved run's Decryption Secrets Block, or
 * line by line from OpenSSL's keylog callback in a live run. It is safe to
 * add to from one thread while another looks secrets up.
 */
#ifndef NC_DECRYPT_KEYLOG_H
#define NC_DECRYPT_KEYLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The labels a key log knows, as decryption asks for them. */
typedef enum {
    NC_KEYLOG_CLIENT_RANDOM = 0, /* TLS 1.2 master secret */
    NC_KEYLOG_CLIENT_EARLY,
    NC_KEYLOG_CLIENT_HANDSHAKE,
    NC_KEYLOG_SERVER_HANDSHAKE,
    NC_KEYLOG_CLIENT_TRAFFIC_0,
    NC_KEYLOG_SERVER_TRAFFIC_0,
    NC_KEYLOG_EXPORTER,
} nc_keylog_label_t;

#define NC_KEYLOG_SECRET_MAX 64

typedef struct nc_keylog nc_keylog_t;

/* Returns a new, empty key log (the caller frees it with nc_keylog_free). */
nc_keylog_t *nc_keylog_new(void);
void nc_keylog_free(nc_keylog_t *k);

/* Adds the lines of text (n bytes, borrowed; need not end in a newline).
 * Returns how many secrets it added; *bad (may be NULL) gets the number of
 * lines that were neither comments nor secrets. A secret already known is
 * not added twice. */
size_t nc_keylog_add(nc_keylog_t *k, const char *text, size_t n, size_t *bad);

/* Loads the file at path. Returns 0, or -1 with one sentence in err when it
 * cannot be read or holds no secret at all. */
int nc_keylog_load(nc_keylog_t *k, const char *path, char *err, size_t errlen);

/* Copies the secret labelled label for the connection whose ClientHello
 * carried client_random (32 bytes) into secret (room for
 * NC_KEYLOG_SECRET_MAX) and returns its length, or 0 when it is unknown. */
size_t nc_keylog_find(nc_keylog_t *k, nc_keylog_label_t label, const uint8_t *client_random,
                      uint8_t *secret);

/* How many secrets k holds. */
size_t nc_keylog_count(nc_keylog_t *k);

/* Appends every secret of k as key log lines to *text (reallocated; the
 * caller frees it) at *len. For a pcapng Decryption Secrets Block. */
void nc_keylog_text(nc_keylog_t *k, char **text, size_t *len);

#endif
