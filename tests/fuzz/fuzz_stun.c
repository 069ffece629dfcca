/* fuzz_stun.c: libFuzzer harness for the stun decoder alone (see fuzz_layer.h). */
#include "fuzz_layer.h"

NC_FUZZ_LAYER("stun")
