/*
 * tls.h: the class's TLS identity and trust.
 *
 * The instructor's identity is an EC P-256 key and a self-signed X.509
 * certificate, made with the OpenSSL 3.0 API the first time netcourse
 * teaches and kept in DATA_DIR/class/ (instructor.key is mode 0600). Its
 * fingerprint (SHA-256 of the certificate's DER, as 32 hex pairs joined by
 * ':') is shown to the class.
 *
 * Students trust on first use: DATA_DIR/class/known_instructors holds one
 * line "HOST:PORT FINGERPRINT" per instructor joined before. A fingerprint
 * that differs from the pinned one is refused, unless the student says the
 * change is expected. TLS 1.3 only; no certificate authority is involved.
 */
#ifndef NC_TLS_H
#define NC_TLS_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

/* "AB:CD:..." plus NUL. */
#define NC_TLS_FP_LEN 96

/* The instructor's server context, with the identity in dir/class/ (made
 * when missing). Writes the fingerprint to fp. Returns NULL with one
 * sentence in err. */
SSL_CTX *nc_tls_server_ctx(const char *dir, char fp[NC_TLS_FP_LEN], char *err, size_t errlen);
/* A student's context (no CA verification: the pin decides). */
SSL_CTX *nc_tls_client_ctx(char *err, size_t errlen);
/* The fingerprint of a certificate. */
void nc_tls_fingerprint(X509 *cert, char fp[NC_TLS_FP_LEN]);

enum { NC_TLS_PIN_MATCH = 0, NC_TLS_PIN_NEW = 1, NC_TLS_PIN_REPLACED = 2 };

/* Checks fp against the pin for hostport in dir/class/known_instructors.
 * Returns NC_TLS_PIN_MATCH; NC_TLS_PIN_NEW when there was no pin (fp is now
 * pinned); NC_TLS_PIN_REPLACED when it differed and accept_change let the
 * new one replace it; or NC_EPERM when it differs (err says from what to
 * what), or another negative code when the file cannot be used. */
int nc_tls_pin_check(const char *dir, const char *hostport, const char *fp, bool accept_change,
                     char *err, size_t errlen);
/* The same check without writing anything: what nc_tls_pin_check would
 * return. A student peeks when the TLS handshake is done and pins only
 * once the class has admitted them, so a refused join pins nothing. */
int nc_tls_pin_peek(const char *dir, const char *hostport, const char *fp, bool accept_change,
                    char *err, size_t errlen);

#endif
