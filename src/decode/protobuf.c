/*
 * protobuf.c: a schema-less walk of a protobuf message (the wire format of
 * https://protobuf.dev/programming-guides/encoding/).
 *
 * A message is a run of fields, each a varint tag (field number << 3 | wire
 * type) and a value: a varint (0), 8 bytes (1), a length-delimited run (2)
 * or 4 bytes (5); the group types (3, 4) are obsolete and end the walk as
 * malformed. With no schema, a length-delimited value is a guess: text when
 * its bytes are printable UTF-8, a nested message when they parse whole as
 * fields (walked one level deeper, up to PB_DEPTH), bytes otherwise. The
 * walk fills a flat, bounded list (nc_pb_msg_t, stream.h): each field with
 * its depth, so the nesting reads back in order.
 *
 * When the message's type is known (a gRPC method of the course's .proto
 * files, compiled by protoc-c: protos.c), the walk follows it instead of
 * guessing: each field gets its name, a length-delimited field is a string,
 * bytes or a nested message as declared (walked with that message's type),
 * and the message its type's full name. A field the type lacks (an older
 * or newer schema) is walked without one.
 *
 * Fields carry Wireshark's names where it has them (field[].number,
 * field[].wiretype, field[].name, field[].value for varints and fixed
 * values, field[].value_length for length-delimited ones, message_name);
 * kind, depth, text and the message's truncated/malformed flags are ours. grpc.c emits a
 * "protobuf" message after each uncompressed gRPC message; the layer on its
 * own (nc_decoder_layer("protobuf")) walks its bytes as one message.
 */
#include "proto.h"
#include "stream.h"

#include <protobuf-c/protobuf-c.h>
#include <stdio.h>
#include <string.h>

#define PB_DEPTH 6

enum { K_VARINT, K_I64, K_I32, K_STRING, K_BYTES, K_MESSAGE };

static const char *const pb_kinds[] = {"varint", "fixed64", "fixed32", "string", "bytes", "message"};

static bool pb_varint(nc_cursor_t *c, uint64_t *v)
{
    *v = 0;
    for (int i = 0; i < 10; i++) {
        uint8_t b;
        if (!nc_cur_u8(c, &b))
            return false;
        *v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80))
            return true;
    }
    return false;
}

/* Reads one field's tag and value; *sub is a LEN value's bytes. */
static bool pb_field(nc_cursor_t *c, uint32_t *num, uint8_t *wt, uint64_t *v, nc_cursor_t *sub)
{
    uint64_t tag;
    if (!pb_varint(c, &tag) || (tag >> 3) == 0 || (tag >> 3) > 0x1fffffff)
        return false;
    *num = (uint32_t)(tag >> 3);
    *wt = (uint8_t)(tag & 7);
    switch (*wt) { /* the four wire types in use */
    case 0: return pb_varint(c, v);
    case 1: { uint32_t lo, hi; if (!nc_cur_u32le(c, &lo) || !nc_cur_u32le(c, &hi)) return false;
              *v = (uint64_t)hi << 32 | lo; return true; }
    case 5: { uint32_t x; if (!nc_cur_u32le(c, &x)) return false; *v = x; return true; }
    case 2: return pb_varint(c, v) && *v <= nc_cur_left(c) && nc_cur_sub(c, (size_t)*v, sub);
    default: return false;
    }
}

/* True when the bytes parse whole as at least one field. */
static bool pb_is_message(nc_cursor_t c)
{
    if (nc_cur_left(&c) == 0)
        return false;
    while (nc_cur_left(&c) > 0) {
        uint32_t num;
        uint8_t wt;
        uint64_t v;
        nc_cursor_t sub;
        if (!pb_field(&c, &num, &wt, &v, &sub))
            return false;
    }
    return true;
}

/* True when the bytes are printable UTF-8 text (tabs and newlines allowed). */
static bool pb_is_text(nc_cursor_t c)
{
    uint8_t b;
    while (nc_cur_u8(&c, &b)) {
        if (b < 0x80) {
            if (b < 0x20 && b != '\t' && b != '\n' && b != '\r')
                return false;
            if (b == 0x7f)
                return false;
            continue;
        }
        int more = (b & 0xe0) == 0xc0 ? 1 : (b & 0xf0) == 0xe0 ? 2 : (b & 0xf8) == 0xf0 ? 3 : -1;
        if (more < 0)
            return false;
        for (int i = 0; i < more; i++)
            if (!nc_cur_u8(&c, &b) || (b & 0xc0) != 0x80)
                return false;
    }
    return true;
}

static nc_pb_field_t *pb_add(nc_pb_msg_t *m)
{
    if (m->nfields == NC_PB_FIELDS) {
        m->more++;
        return NULL;
    }
    nc_pb_field_t *f = &m->f[m->nfields++];
    memset(f, 0, sizeof(*f));
    return f;
}

/* What the schema says a length-delimited field is, when it says. */
static int pb_declared_kind(const ProtobufCFieldDescriptor *fd)
{
    if (fd == NULL)
        return -1;
    if (fd->type == PROTOBUF_C_TYPE_STRING)
        return K_STRING;
    if (fd->type == PROTOBUF_C_TYPE_MESSAGE)
        return K_MESSAGE;
    return K_BYTES; /* bytes, or a packed repeated scalar */
}

static void pb_walk(nc_cursor_t c, uint8_t depth, const ProtobufCMessageDescriptor *desc,
                    nc_pb_msg_t *m)
{
    while (nc_cur_left(&c) > 0) {
        uint32_t num;
        uint8_t wt;
        uint64_t v;
        nc_cursor_t sub = {0};
        if (!pb_field(&c, &num, &wt, &v, &sub)) {
            m->malformed = true;
            return;
        }
        nc_pb_field_t *f = pb_add(m);
        const ProtobufCFieldDescriptor *fd =
            desc ? protobuf_c_message_descriptor_get_field(desc, num) : NULL;
        uint8_t kind = wt == 0 ? K_VARINT : wt == 1 ? K_I64 : wt == 5 ? K_I32 : K_BYTES;
        int declared = wt == 2 ? pb_declared_kind(fd) : -1;
        if (declared == K_MESSAGE && (depth + 1 >= PB_DEPTH || !pb_is_message(sub)) && v > 0)
            declared = K_BYTES; /* declared a message, yet not one: shown as bytes */
        if (declared >= 0)
            kind = (uint8_t)declared;
        else if (wt == 2 && v > 0 && pb_is_text(sub))
            kind = K_STRING;
        else if (wt == 2 && depth + 1 < PB_DEPTH && pb_is_message(sub))
            kind = K_MESSAGE;
        if (f) {
            f->depth = depth;
            f->number = num;
            f->wiretype = wt;
            f->kind = kind;
            f->value = v;
            if (fd)
                snprintf(f->name, sizeof f->name, "%s", fd->name);
            if (kind == K_STRING) {
                size_t k = nc_cur_left(&sub) < sizeof(f->text) - 1 ? nc_cur_left(&sub)
                                                                   : sizeof(f->text) - 1;
                memcpy(f->text, sub.ptr, k);
                f->text[k] = '\0';
            }
        }
        if (kind == K_MESSAGE)
            pb_walk(sub, (uint8_t)(depth + 1),
                    fd && fd->type == PROTOBUF_C_TYPE_MESSAGE ? fd->descriptor : NULL, m);
    }
}

void nc__protobuf_walk(const uint8_t *p, size_t n, const ProtobufCMessageDescriptor *desc,
                       nc_pb_msg_t *m)
{
    memset(m, 0, sizeof(*m));
    m->length = (uint32_t)n;
    if (desc)
        snprintf(m->message_name, sizeof m->message_name, "%s", desc->name);
    pb_walk(nc_cur_make(p, n), 0, desc, m);
}

static void pb_write(nc_evb_t *b, const nc_stream_msg_t *msg)
{
    const nc_pb_msg_t *m = &msg->u.pb;
    if (m->streamid)
        nc_evb_int(b, "streamid", m->streamid);
    if (m->index)
        nc_evb_int(b, "index", m->index);
    nc_evb_int(b, "length", m->length);
    if (m->message_name[0])
        nc_evb_str(b, "message_name", m->message_name);
    nc_evb_int(b, "field_count", m->nfields + m->more);
    nc_evb_list(b, "field");
    for (uint16_t i = 0; i < m->nfields; i++) {
        const nc_pb_field_t *f = &m->f[i];
        nc_evb_obj(b, NULL);
        nc_evb_int(b, "number", f->number);
        nc_evb_int(b, "wiretype", f->wiretype);
        if (f->name[0])
            nc_evb_str(b, "name", f->name);
        nc_evb_str(b, "kind", pb_kinds[f->kind]);
        if (f->depth)
            nc_evb_int(b, "depth", f->depth);
        if (f->wiretype == 2)
            nc_evb_int(b, "value_length", (int64_t)f->value);
        else
            nc_evb_int(b, "value", (int64_t)f->value);
        if (f->kind == K_STRING)
            nc_evb_str(b, "text", f->text);
        nc_evb_end(b);
    }
    nc_evb_end(b);
    if (m->more)
        nc_evb_int(b, "field_more", m->more);
    if (m->truncated)
        nc_evb_bool(b, "truncated", true);
    if (m->malformed)
        nc_evb_bool(b, "malformed", true);
}

static void pb_summary(const nc_stream_msg_t *msg, char *s, size_t n)
{
    const nc_pb_msg_t *m = &msg->u.pb;
    snprintf(s, n, "protobuf %s%s%u field%s%s", m->message_name, m->message_name[0] ? " " : "",
             m->nfields + m->more, m->nfields + m->more == 1 ? "" : "s",
             m->malformed ? " (malformed)" : "");
}

static const nc_field_decl_t pb_fields[] = {
    {"streamid", NC_F_INT},       {"index", NC_F_INT},         {"length", NC_F_INT},
    {"field_count", NC_F_INT},    {"field", NC_F_LIST},        {"field.number", NC_F_INT},
    {"field.wiretype", NC_F_INT}, {"field.kind", NC_F_STR},    {"field.name", NC_F_STR},
    {"message_name", NC_F_STR},    {"field.depth", NC_F_INT},
    {"field.value", NC_F_INT},    {"field.value_length", NC_F_INT}, {"field.text", NC_F_STR},
    {"field_more", NC_F_INT},     {"truncated", NC_F_BOOL},    {"malformed", NC_F_BOOL},
    {"other_direction", NC_F_BOOL}, {NULL, 0},
};

const nc_stream_proto_t nc_protobuf_stream = {
    .name = "protobuf",
    .fields = pb_fields,
    .write = pb_write,
    .summary = pb_summary,
};

/* nc_decoder_layer("protobuf"): the bytes are one message. */
static int pb_layer(nc_dctx_t *x, nc_cursor_t *c)
{
    nc_stream_msg_t m;
    memset(&m, 0, sizeof(m));
    m.proto = &nc_protobuf_stream;
    nc__protobuf_walk(c->ptr, nc_cur_left(c), NULL, &m.u.pb);
    nc_evb_obj(x->b, "protobuf");
    pb_write(x->b, &m);
    nc_evb_end(x->b);
    char sum[160];
    pb_summary(&m, sum, sizeof(sum));
    nc_decode_sum_reset(x);
    nc_decode_sum_str(x, sum);
    x->proto = "protobuf";
    c->ptr = c->end;
    return 0;
}

const nc_proto_t nc_protobuf_proto = {"protobuf", pb_layer, pb_fields};
