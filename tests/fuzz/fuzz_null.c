/* fuzz_null.c: libFuzzer harness for the null decoder alone (see fuzz_layer.h). */
#include "fuzz_layer.h"

NC_FUZZ_LAYER("null")
