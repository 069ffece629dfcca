/*
 * tls.c: the instructor's key and certificate, the TLS contexts, and the
 * students' pins.
 *
 * The identity is made once and reused, so the fingerprint a class saw last
 * week is the one it sees today: a change means another machine, another
 * data directory, or someone in the middle. The key is written with
 * O_EXCL and mode 0600 before the certificate, and loaded back with PEM
 * readers; nothing here runs on the class loop after the context exists.
 */
#include "tls.h"

#include "../core/buf.h"
#include "../core/error.h"
#include "../core/xmalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void nc_tls_why(char *err, size_t errlen, const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[200] = "";
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    snprintf(err, errlen, "%s%s%s", what, buf[0] ? ": " : "", buf);
    ERR_clear_error();
}

static char *nc_tls_class_dir(const char *dir, char *err, size_t errlen)
{
    char *cd = nc_xasprintf("%s/class", dir);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        free(cd);
        return NULL;
    }
    if (mkdir(cd, 0700) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", cd, strerror(errno));
        free(cd);
        return NULL;
    }
    return cd;
}

void nc_tls_fingerprint(X509 *cert, char fp[NC_TLS_FP_LEN])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    fp[0] = '\0';
    if (!X509_digest(cert, EVP_sha256(), md, &n))
        return;
    for (unsigned k = 0; k < n && k < 32; k++)
        snprintf(fp + 3 * k, 4, k + 1 < n ? "%02X:" : "%02X", md[k]);
}

/* A new P-256 key and a self-signed certificate valid for ten years. */
static int nc_tls_make_identity(const char *keypath, const char *crtpath, char *err,
                                size_t errlen)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    if (!key) {
        nc_tls_why(err, errlen, "cannot make the instructor's key");
        return NC_ESYS;
    }
    X509 *x = X509_new();
    unsigned char serial[16];
    RAND_bytes(serial, sizeof serial);
    serial[0] &= 0x7F;
    BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
    BN_free(bn);
    X509_set_version(x, 2);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 10L * 365 * 24 * 3600);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"netcourse instructor",
                               -1, -1, 0);
    X509_set_issuer_name(x, name);
    int rc = 0;
    if (!X509_sign(x, key, EVP_sha256())) {
        nc_tls_why(err, errlen, "cannot sign the instructor's certificate");
        rc = NC_ESYS;
    }
    int fd = rc ? -1 : open(keypath, O_WRONLY | O_CREAT | O_EXCL, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!rc && (!f || !PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL))) {
        snprintf(err, errlen, "cannot write %s: %s", keypath, strerror(errno));
        rc = NC_EIO;
    }
    if (f)
        fclose(f);
    else if (fd >= 0)
        close(fd);
    FILE *c = rc ? NULL : fopen(crtpath, "w");
    if (!rc && (!c || !PEM_write_X509(c, x))) {
        snprintf(err, errlen, "cannot write %s: %s", crtpath, strerror(errno));
        rc = NC_EIO;
    }
    if (c)
        fclose(c);
    X509_free(x);
    EVP_PKEY_free(key);
    return rc;
}

SSL_CTX *nc_tls_server_ctx(const char *dir, char fp[NC_TLS_FP_LEN], char *err, size_t errlen)
{
    char *cd = nc_tls_class_dir(dir, err, errlen);
    if (!cd)
        return NULL;
    char *keypath = nc_xasprintf("%s/instructor.key", cd);
    char *crtpath = nc_xasprintf("%s/instructor.crt", cd);
    free(cd);
    SSL_CTX *ctx = NULL;
    if (access(keypath, F_OK) != 0 && nc_tls_make_identity(keypath, crtpath, err, errlen) != 0)
        goto out;
    ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(ctx, 0);
    if (SSL_CTX_use_certificate_file(ctx, crtpath, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, keypath, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        char what[600];
        snprintf(what, sizeof what, "cannot use the instructor's identity in %s and %s", keypath,
                 crtpath);
        nc_tls_why(err, errlen, what);
        SSL_CTX_free(ctx);
        ctx = NULL;
        goto out;
    }
    nc_tls_fingerprint(SSL_CTX_get0_certificate(ctx), fp);
out:
    free(keypath);
    free(crtpath);
    return ctx;
}

SSL_CTX *nc_tls_client_ctx(char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        nc_tls_why(err, errlen, "cannot make a TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    return ctx;
}

/* The pin check; with save, a new or accepted fingerprint is written. */
static int nc_tls_pin(const char *dir, const char *hostport, const char *fp, bool accept_change,
                      bool save, char *err, size_t errlen)
{
    char *cd = nc_tls_class_dir(dir, err, errlen);
    if (!cd)
        return NC_EIO;
    char *path = nc_xasprintf("%s/known_instructors", cd);
    free(cd);
    nc_buf_t keep;
    nc_buf_init(&keep);
    char pinned[NC_TLS_FP_LEN] = "";
    FILE *f = fopen(path, "r");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        char hp[300], p[NC_TLS_FP_LEN];
        if (sscanf(line, "%299s %95s", hp, p) == 2 && strcmp(hp, hostport) == 0)
            snprintf(pinned, sizeof pinned, "%s", p);
        else
            nc_buf_puts(&keep, line);
    }
    if (f)
        fclose(f);
    int rc;
    if (pinned[0] && strcmp(pinned, fp) == 0) {
        rc = NC_TLS_PIN_MATCH;
    } else if (pinned[0] && !accept_change) {
        snprintf(err, errlen,
                 "the instructor at %s now shows certificate %s, but you joined it before with "
                 "%s; someone may be in the middle, or the instructor moved to another machine. "
                 "Ask the instructor for the fingerprint on their screen, and if it is the new "
                 "one, join again with --trust-new-certificate",
                 hostport, fp, pinned);
        rc = NC_EPERM;
    } else if (!save) {
        rc = pinned[0] ? NC_TLS_PIN_REPLACED : NC_TLS_PIN_NEW;
    } else {
        rc = pinned[0] ? NC_TLS_PIN_REPLACED : NC_TLS_PIN_NEW;
        nc_buf_printf(&keep, "%s %s\n", hostport, fp);
        char *tmp = nc_xasprintf("%s.tmp", path);
        FILE *w = fopen(tmp, "w");
        bool ok = w && fwrite(keep.data, 1, keep.len, w) == keep.len;
        if (w && fclose(w) != 0)
            ok = false;
        if (!ok || rename(tmp, path) != 0) {
            snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
            rc = NC_EIO;
        }
        free(tmp);
    }
    nc_buf_done(&keep);
    free(path);
    return rc;
}

int nc_tls_pin_check(const char *dir, const char *hostport, const char *fp, bool accept_change,
                     char *err, size_t errlen)
{
    return nc_tls_pin(dir, hostport, fp, accept_change, true, err, errlen);
}

int nc_tls_pin_peek(const char *dir, const char *hostport, const char *fp, bool accept_change,
                    char *err, size_t errlen)
{
    return nc_tls_pin(dir, hostport, fp, accept_change, false, err, errlen);
}
