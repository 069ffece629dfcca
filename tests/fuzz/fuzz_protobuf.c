/* fuzz_protobuf.c: libFuzzer harness for the schema-less protobuf walk: the
 * input is one message (see fuzz_layer.h). */
#include "fuzz_layer.h"

NC_FUZZ_LAYER("protobuf")
