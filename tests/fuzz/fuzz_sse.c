/* fuzz_sse.c: libFuzzer harness for the SSE decoder alone: the input is a
 * text/event-stream body (see fuzz_layer.h). */
#include "fuzz_layer.h"

NC_FUZZ_LAYER("sse")
