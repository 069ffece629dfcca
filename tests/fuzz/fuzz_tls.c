/* fuzz_tls.c: libFuzzer harness for the TLS decoder alone: the input is the
 * client's side of a connection from its first byte (see fuzz_layer.h), so
 * records and handshake messages in the clear; fuzz_tlsdecrypt.c covers
 * both directions with decryption. */
#include "fuzz_layer.h"

NC_FUZZ_LAYER("tls")
