/*
 * state.c: what a lesson's server remembers about its clients, and what it
 * can check without remembering anything.
 *
 * Data model. nc_kit_memo_t is a server's memory: a small table of names
 * (a session id, an upload's path) to numbers (a user's number, the bytes
 * received so far). It lives in the server program's process, so a restart
 * empties it (nc_kit_memo_clear): that is what "stateful" costs. A token is
 * the other way: "USER.MAC", where MAC is the first 16 bytes of
 * HMAC-SHA256(secret, USER) in hex. The server keeps only its secret (its
 * configuration, which a restart keeps) and checks each token it is shown,
 * so it can forget everything else. Cookies are read from a Cookie header
 * ("a=1; b=2"). The table grows with nc_xrealloc; keys are owned copies.
 */
#include "kit.h"

#include "../core/xmalloc.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct nc_kit_memo_entry {
    char *key;
    int64_t value;
} nc_kit_memo_entry_t;

struct nc_kit_memo {
    nc_kit_memo_entry_t *e;
    size_t n;
};

nc_kit_memo_t *nc_kit_memo_new(void)
{
    return nc_xcalloc(1, sizeof(nc_kit_memo_t));
}

void nc_kit_memo_clear(nc_kit_memo_t *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++)
        free(m->e[i].key);
    free(m->e);
    m->e = NULL;
    m->n = 0;
}

void nc_kit_memo_free(nc_kit_memo_t *m)
{
    nc_kit_memo_clear(m);
    free(m);
}

size_t nc_kit_memo_count(const nc_kit_memo_t *m)
{
    return m ? m->n : 0;
}

bool nc_kit_memo_get(const nc_kit_memo_t *m, const char *key, int64_t *value)
{
    for (size_t i = 0; m && key && i < m->n; i++)
        if (strcmp(m->e[i].key, key) == 0) {
            if (value)
                *value = m->e[i].value;
            return true;
        }
    return false;
}

void nc_kit_memo_set(nc_kit_memo_t *m, const char *key, int64_t value)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->e[i].key, key) == 0) {
            m->e[i].value = value;
            return;
        }
    m->e = nc_xrealloc(m->e, (m->n + 1) * sizeof *m->e);
    m->e[m->n++] = (nc_kit_memo_entry_t){nc_xstrdup(key), value};
}

int nc_kit_session_new(nc_kit_memo_t *m, int64_t value, char *out, size_t outlen)
{
    unsigned char r[8];
    if (outlen < 2 * sizeof r + 1 || RAND_bytes(r, sizeof r) != 1)
        return -1;
    for (size_t i = 0; i < sizeof r; i++)
        snprintf(out + 2 * i, 3, "%02x", r[i]);
    nc_kit_memo_set(m, out, value);
    return 0;
}

/* The token's MAC for user, in hex (33 bytes with the NUL). */
static int nc_kit_token_mac(const char *secret, const char *user, size_t ulen, char out[33])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    if (!HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)user, ulen, mac,
              &maclen) || maclen < 16)
        return -1;
    for (size_t i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", mac[i]);
    return 0;
}

int nc_kit_token_make(const char *secret, const char *user, char *out, size_t outlen)
{
    char mac[33];
    size_t ul = strlen(user);
    if (ul == 0 || strchr(user, '.') || nc_kit_token_mac(secret, user, ul, mac) != 0)
        return -1;
    int w = snprintf(out, outlen, "%s.%s", user, mac);
    return w < 0 || (size_t)w >= outlen ? -1 : 0;
}

bool nc_kit_token_check(const char *secret, const char *token)
{
    const char *dot = token ? strchr(token, '.') : NULL;
    char mac[33];
    if (!dot || dot == token || strlen(dot + 1) != 32 ||
        nc_kit_token_mac(secret, token, (size_t)(dot - token), mac) != 0)
        return false;
    return CRYPTO_memcmp(mac, dot + 1, 32) == 0;
}

bool nc_kit_cookie_get(const char *header, const char *name, char *out, size_t outlen)
{
    size_t nl = strlen(name);
    for (const char *s = header; s && *s;) {
        while (*s == ' ' || *s == ';')
            s++;
        size_t len = strcspn(s, ";");
        if (len > nl && strncmp(s, name, nl) == 0 && s[nl] == '=') {
            size_t vl = len - nl - 1;
            if (vl + 1 > outlen)
                return false;
            memcpy(out, s + nl + 1, vl);
            out[vl] = '\0';
            return true;
        }
        s += len;
    }
    return false;
}
