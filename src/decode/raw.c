/*
 * raw.c: raw IP frames (DLT_RAW / LINKTYPE_RAW): no link-layer header, the
 * IP version in the first nibble picks IPv4 or IPv6. There is no layer
 * object of its own.
 */
#include "proto.h"

#include "../core/error.h"

static int raw_decode(nc_dctx_t *x, nc_cursor_t *c)
{
    uint8_t first;
    if (!nc_cur_peek_u8(c, 0, &first))
        return nc_decode_fail(x, NC_ETRUNC, "raw: empty frame");
    switch (first >> 4) {
    case 4:
        return nc_ipv4_proto.decode(x, c);
    case 6:
        return nc_ipv6_proto.decode(x, c);
    default:
        return nc_decode_fail(x, NC_EBADDATA, "raw: IP version %u is neither 4 nor 6",
                              first >> 4);
    }
}

/* Every field this layer writes (proto.h); a name-or-number field is NC_F_STR. */
static const nc_field_decl_t raw_fields[] = {
    {NULL, 0},
};

const nc_proto_t nc_raw_proto = {"raw", raw_decode, raw_fields};
