/* fuzz_http2.c: libFuzzer harness for the HTTP/2 decoder alone: the input
 * is the client's side of a connection read as HTTP/2 from its first byte
 * (the preface, then frames; see fuzz_layer.h). The second pass meets the
 * first one's HPACK table and stream states. */
#include "fuzz_layer.h"

NC_FUZZ_LAYER("http2")
