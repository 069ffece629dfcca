/*
 * null.c: BSD loopback encapsulation (DLT_NULL, DLT_LOOP).
 *
 *   +----------------+---------
 *   | family (4)     | IP packet
 *   +----------------+---------
 *
 * The family is an AF_ value in the capturing host's byte order for
 * DLT_NULL and in network order for DLT_LOOP; since every family number is
 * small, whichever reading gives a value below 65536 is the right one.
 * AF_INET is 2 everywhere; AF_INET6 is 10, 24, 28 or 30 depending on the OS.
 * Field: family.
 */
#include "proto.h"

#include "../core/error.h"

static int null_decode(nc_dctx_t *x, nc_cursor_t *c)
{
    uint32_t fam;
    nc_decode_open(x, "null", c);
    if (!nc_cur_u32le(c, &fam))
        return nc_decode_fail(x, NC_ETRUNC, "null: header truncated (%u of 4 bytes)",
                              x->caplen);
    if (fam > 0xffff)
        fam = (fam >> 24) | ((fam >> 8) & 0xff00) | ((fam << 8) & 0xff0000) | (fam << 24);
    nc_evb_int(x->b, "family", fam);
    nc_decode_close(x, c);
    switch (fam) {
    case 2:
        return nc_ipv4_proto.decode(x, c);
    case 10:
    case 24:
    case 28:
    case 30:
        return nc_ipv6_proto.decode(x, c);
    default:
        nc_decode_summary(x, "loopback frame, family %u", fam);
        return 0;
    }
}

/* Every field this layer writes (proto.h); a name-or-number field is NC_F_STR. */
static const nc_field_decl_t null_fields[] = {
    {"family", NC_F_INT},
    {NULL, 0},
};

const nc_proto_t nc_null_proto = {"null", null_decode, null_fields};
