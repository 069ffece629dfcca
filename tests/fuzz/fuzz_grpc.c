/* fuzz_grpc.c: libFuzzer harness for the gRPC message reader alone: the
 * input is one direction's DATA bytes of a call (length-prefixed messages),
 * each message walked as protobuf (see fuzz_layer.h). */
#include "fuzz_layer.h"

NC_FUZZ_LAYER("grpc")
