/* fuzz_arp.c: libFuzzer harness for the arp decoder alone (see fuzz_layer.h). */
#include "fuzz_layer.h"

NC_FUZZ_LAYER("arp")
