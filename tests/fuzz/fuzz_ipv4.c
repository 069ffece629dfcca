/* fuzz_ipv4.c: libFuzzer harness for the ipv4 decoder alone (see fuzz_layer.h). */
#include "fuzz_layer.h"

NC_FUZZ_LAYER("ipv4")
