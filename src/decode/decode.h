/*
 * decode.h: turning captured frames into packet events.
 *
 * A decoder walks one frame layer by layer (link, network, transport,
 * application), each protocol in its own file and listed in one registry
 * table, reading every byte through a bounds-checked cursor. It writes the
 * layers as fields of a packet event (event.h): one object per layer named
 * like the protocol ("eth", "ip", "tcp", "dns" ...), with "_off"/"_len" giving
 * the layer's bytes for the hex view, plus "from", "to", "proto" (the highest
 * layer decoded) and "len" (bytes on the wire), and a one-line summary.
 *
 * It keeps per-flow state between frames: TCP relative sequence numbers per
 * direction, window scaling, retransmission detection, and each connection's
 * reassembled streams with the state of their stream decoders (HTTP/1,
 * WebSocket, SSE; see stream.h), whose messages are written into the packet
 * that completes them. One decoder per timeline, used from one thread at a
 * time.
 */
#ifndef NC_DECODE_H
#define NC_DECODE_H

#include "../core/event.h"
#include "decryptor.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct nc_decoder nc_decoder_t;

nc_decoder_t *nc_decoder_new(void);
void nc_decoder_free(nc_decoder_t *d);

/* Makes d decrypt TLS through dec (borrowed, with its ctx: both must
 * outlive d) on connections it meets from now on; NULL turns it off. */
void nc_decoder_set_decryptor(nc_decoder_t *d, const nc_decryptor_t *dec, void *ctx);

/* Names an address for "from"/"to" and "host": lab hosts are named
 * ("10.0.0.1" -> "client"); unnamed addresses are printed as they are.
 * Both strings are copied. */
void nc_decoder_name_host(nc_decoder_t *d, const char *addr, const char *name);

/*
 * Decodes one frame (DLT_* linktype) into b, which the caller has started
 * with nc_evb_reset(b, NC_EV_PACKET, t). Adds the fields above, sets the
 * summary and host (the sender), and copies the bytes (nc_evb_data).
 * Returns 0, NC_ETRUNC or NC_EBADDATA when a layer was cut short or
 * malformed (the layers before it are kept and the summary says what broke),
 * or NC_EUNSUPP for a link type it does not know. Never crashes on any input.
 */
int nc_decoder_packet(nc_decoder_t *d, int linktype, const uint8_t *data, uint32_t caplen,
                      uint32_t wirelen, nc_evb_t *b);

/*
 * Checkpoints: everything a decoder remembers between frames (flows, their
 * TCP analysis and stream decoders), copied so that decoding can resume
 * from this frame later, elsewhere, with exactly the same results. The
 * names given with nc_decoder_name_host are not part of it. Save returns
 * NULL while a stream holds bytes out of order (try a later frame); *bytes
 * is what the checkpoint costs beyond prev (the previous checkpoint, or
 * NULL), whose unchanged flows it shares: free checkpoints in any order.
 * Restore replaces d's state with ck's (ck is unchanged and may be restored
 * again). The caller owns ck.
 */
typedef struct nc_decoder_ck nc_decoder_ck_t;
nc_decoder_ck_t *nc_decoder_save(const nc_decoder_t *d, const nc_decoder_ck_t *prev,
                                 size_t *bytes);
void nc_decoder_restore(nc_decoder_t *d, const nc_decoder_ck_t *ck);
void nc_decoder_ck_free(nc_decoder_ck_t *ck);

/*
 * At the end of a capture: ends every connection a stream decoder still
 * reads (nc_stream_finish), so that what only the end completes is
 * reported: a body read until the connection closes whose FIN the capture
 * never saw (an HTTP/1.0 response), bytes held behind a hole (a gap). Each
 * call writes one connection's into b as a note event at t_ns ("from",
 * "to", the decoders' objects as in a packet, and a summary and note that
 * say the capture ended there) and returns 1; 0 once none is left.
 */
int nc_decoder_finish(nc_decoder_t *d, int64_t t_ns, nc_evb_t *b);

/* True when linktype (DLT_* / LINKTYPE_*) has a link-layer decoder. */
bool nc_decoder_supports(int linktype);

/*
 * Decodes data as the bytes that reach one decoder, by the name of its
 * file ("eth", "ipv4", "tcp", "dns", "http1", "websocket", "sse" ...), with
 * the context the layers below would have given it made up (IPv4 10.0.0.1 ->
 * 10.0.0.2, ports 40000 -> 53 for DNS and 80 for HTTP). A stream decoder
 * reads data as the client's next bytes on that connection: called again,
 * it goes on where the last call stopped. It exists so that each decoder has a fuzz
 * harness of its own; captured traffic always goes through
 * nc_decoder_packet. Returns as nc_decoder_packet does, or NC_ENOENT for an
 * unknown name.
 */
int nc_decoder_layer(nc_decoder_t *d, const char *name, const uint8_t *data, uint32_t len,
                     nc_evb_t *b);

/* The protobuf-c descriptor of a gRPC method's request (request true) or
 * reply message, from the course's .proto files (lessons/proto), by the
 * call's :path "/package.Service/Method"; NULL when no file has it. The
 * descriptor is static. */
struct ProtobufCMessageDescriptor;
const struct ProtobufCMessageDescriptor *nc_protos_message(const char *path, bool request);

/* The name of a grpc-status code ("NOT_FOUND" for 5; "UNKNOWN" for a code
 * gRPC does not define). Static. */
const char *nc_grpc_status_name(long s);

/*
 * Returns the kind (NC_F_INT, NC_F_STR ... of event.h) of the packet field
 * at path ("tcp.flags", "http.method", "ip.src", "from"), as the decoders
 * declare it, or -1 when no decoder writes it. *layer_known (may be NULL)
 * says whether path's first part names a decoder's layer at all. A layer
 * name alone ("http") is an object. Fields that hold a name, or a number
 * where there is no name, are declared NC_F_STR.
 */
int nc_decode_field_kind(const char *path, bool *layer_known);

/* Appends the declared fields of layer, comma-separated, to out (for the
 * error a lesson matcher with an unknown field gets). */
void nc_decode_field_names(const char *layer, nc_buf_t *out);

#endif
