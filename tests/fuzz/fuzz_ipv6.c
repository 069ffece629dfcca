/* fuzz_ipv6.c: libFuzzer harness for the ipv6 decoder alone (see fuzz_layer.h). */
#include "fuzz_layer.h"

NC_FUZZ_LAYER("ipv6")
