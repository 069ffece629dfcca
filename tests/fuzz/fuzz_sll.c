/* fuzz_sll.c: libFuzzer harness for the sll decoder alone (see fuzz_layer.h). */
#include "fuzz_layer.h"

NC_FUZZ_LAYER("sll")
