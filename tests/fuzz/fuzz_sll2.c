/* fuzz_sll2.c: libFuzzer harness for the sll2 decoder alone (see fuzz_layer.h). */
#include "fuzz_layer.h"

NC_FUZZ_LAYER("sll2")
