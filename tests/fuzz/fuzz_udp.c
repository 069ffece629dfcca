/* fuzz_udp.c: libFuzzer harness for the udp decoder alone (see fuzz_layer.h). */
#include "fuzz_layer.h"

NC_FUZZ_LAYER("udp")
