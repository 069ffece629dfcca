/* fuzz_eth.c: libFuzzer harness for the eth decoder alone (see fuzz_layer.h). */
#include "fuzz_layer.h"

NC_FUZZ_LAYER("eth")
