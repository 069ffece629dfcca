/* fuzz_icmp.c: libFuzzer harness for the icmp decoder alone (see fuzz_layer.h). */
#include "fuzz_layer.h"

NC_FUZZ_LAYER("icmp")
