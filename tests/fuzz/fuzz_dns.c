/* fuzz_dns.c: libFuzzer harness for the dns decoder alone (see fuzz_layer.h). */
#include "fuzz_layer.h"

NC_FUZZ_LAYER("dns")
