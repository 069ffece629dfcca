/* fuzz_tcp.c: libFuzzer harness for the tcp decoder alone (see fuzz_layer.h). */
#include "fuzz_layer.h"

NC_FUZZ_LAYER("tcp")
