/* fuzz_websocket.c: libFuzzer harness for the WebSocket decoder alone: the
 * input is the client's side of a connection already upgraded (see
 * fuzz_layer.h). */
#include "fuzz_layer.h"

NC_FUZZ_LAYER("websocket")
