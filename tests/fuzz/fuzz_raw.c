/* fuzz_raw.c: libFuzzer harness for the raw decoder alone (see fuzz_layer.h). */
#include "fuzz_layer.h"

NC_FUZZ_LAYER("raw")
