/*
 * fields.c: the packet fields the decoders declare, for lesson matchers.
 *
 * Every decoder's descriptor lists the fields it writes (nc_field_decl_t,
 * proto.h); this file walks them all by layer name, through decode.c's one
 * registry (nc__decode_proto), plus the fields every
 * packet event has (decode.c, and "dropped"/"wire" from the lab's wire) and
 * the reassembler's "reassembly" object (stream.c). Several decoders may
 * share a layer name (IPv4 and IPv6 both write "ip"): a path is known when
 * any of them declares it.
 */
#include "proto.h"
#include "stream.h"

#include <string.h>

/* Fields outside any layer object, and objects written by code that is
 * not a decoder. */
static const nc_field_decl_t packet_fields[] = {
    {"from", NC_F_STR},         {"to", NC_F_STR},          {"proto", NC_F_STR},
    {"len", NC_F_INT},          {"error", NC_F_STR},       {"dropped", NC_F_BOOL},
    {"wire", NC_F_OBJ},         {"wire.action", NC_F_STR}, {"wire.delay", NC_F_NUM},
    {"wire.reason", NC_F_STR},  {"wire.link", NC_F_STR},      {"wire.nat", NC_F_STR},
    {"unlisted_msgs", NC_F_INT},
    {NULL, 0},
};

static const nc_field_decl_t reassembly_fields[] = {
    {"gap_start", NC_F_INT}, {"gap_end", NC_F_INT}, {"gap_len", NC_F_INT},
    {"gaps", NC_F_INT},      {"reverse", NC_F_BOOL}, {NULL, 0},
};

static int decl_find(const nc_field_decl_t *f, const char *path)
{
    for (; f && f->path; f++)
        if (strcmp(f->path, path) == 0)
            return f->kind;
    return -1;
}

int nc_decode_field_kind(const char *path, bool *layer_known)
{
    if (layer_known)
        *layer_known = false;
    int k = decl_find(packet_fields, path);
    if (k >= 0)
        return k;
    const char *dot = strchr(path, '.');
    size_t llen = dot ? (size_t)(dot - path) : strlen(path);
    bool known = llen == 10 && strncmp(path, "reassembly", 10) == 0;
    if (known && dot)
        k = decl_find(reassembly_fields, dot + 1);
    const nc_proto_t *pr;
    for (size_t i = 0; (pr = nc__decode_proto(i)) != NULL; i++) {
        if (strlen(pr->name) != llen || strncmp(pr->name, path, llen) != 0)
            continue;
        known = true;
        if (dot && k < 0)
            k = decl_find(pr->fields, dot + 1);
    }
    if (layer_known)
        *layer_known = known;
    if (known && dot == NULL)
        return NC_F_OBJ; /* the layer itself: "packet http" */
    return k;
}

void nc_decode_field_names(const char *layer, nc_buf_t *out)
{
    bool first = true;
    const nc_proto_t *pr;
    for (size_t i = 0; (pr = nc__decode_proto(i)) != NULL; i++) {
        if (strcmp(pr->name, layer) != 0)
            continue;
        for (const nc_field_decl_t *f = pr->fields; f && f->path; f++) {
            nc_buf_printf(out, "%s%s", first ? "" : ", ", f->path);
            first = false;
        }
    }
}
