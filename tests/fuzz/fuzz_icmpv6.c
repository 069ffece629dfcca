/* fuzz_icmpv6.c: libFuzzer harness for the icmpv6 decoder alone (see fuzz_layer.h). */
#include "fuzz_layer.h"

NC_FUZZ_LAYER("icmpv6")
