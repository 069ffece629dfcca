/* fuzz_http3.c: libFuzzer harness for the HTTP/3 decoder alone: the input
 * is the client's request stream 0 from its first byte (frames, HEADERS
 * through nghttp3's QPACK decoder; see fuzz_layer.h). The second pass goes
 * on where the first stopped. */
#include "fuzz_layer.h"

NC_FUZZ_LAYER("http3")
