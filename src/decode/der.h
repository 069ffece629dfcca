/*
 * der.h: naming an X.509 certificate from its DER bytes (der.c; internal to
 * src/decode, for tls.c and the unit tests).
 */
#ifndef NC_DECODE_DER_H
#define NC_DECODE_DER_H

#include "cursor.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct nc_der_cert {
    char subject[96], issuer[96];   /* "CN=...,O=..." (cut to fit) */
    char not_before[24], not_after[24]; /* "YYYY-MM-DD HH:MM:SS", UTC */
} nc_der_cert_t;

/* Reads the subject, issuer and validity of the certificate in p (n bytes,
 * borrowed) into *out; false when its structure is not a certificate's
 * (fields read before the failure stay filled). */
bool nc__der_cert(const uint8_t *p, size_t n, nc_der_cert_t *out);

#endif
