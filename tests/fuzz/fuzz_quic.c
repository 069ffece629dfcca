/* fuzz_quic.c: libFuzzer harness for the QUIC decoder alone: the input is
 * one UDP datagram (long and short headers, coalesced packets; see
 * fuzz_layer.h). Without a decryptor the headers are read, the payloads
 * stay protected; fuzz_quicframes.c reaches the frames. */
#include "fuzz_layer.h"

NC_FUZZ_LAYER("quic")
