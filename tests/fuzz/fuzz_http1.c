/* fuzz_http1.c: libFuzzer harness for the http1 decoder alone (see fuzz_layer.h). */
#include "fuzz_layer.h"

NC_FUZZ_LAYER("http1")
