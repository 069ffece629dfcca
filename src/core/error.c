/*
 * error.c: the phrase for each NC_E* code, generated from NC_ERRNO_MAP.
 */
#include "error.h"

const char *nc_strerror(int code)
{
    switch (code) {
    case NC_OK:
        return "success";
#define NC_ERR_CASE(name, msg)                                                 \
    case NC_##name:                                                            \
        return msg;
        NC_ERRNO_MAP(NC_ERR_CASE)
#undef NC_ERR_CASE
    default:
        return "unknown error";
    }
}
