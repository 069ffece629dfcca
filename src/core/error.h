/*
 * error.h: netcourse's error codes.
 *
 * Functions return 0 on success or a negative NC_E* code from the one
 * table below; nc_strerror() turns a code into a short phrase. Where a caller
 * needs context ("lessons/tcp.md:12: unknown key"), the function also fills a
 * message buffer the caller passes in.
 */
#ifndef NC_ERROR_H
#define NC_ERROR_H

#define NC_ERRNO_MAP(X)                                                        \
    X(EINVAL, "invalid argument")                                              \
    X(ENOMEM, "out of memory")                                                 \
    X(ENOENT, "not found")                                                     \
    X(EIO, "input/output error")                                               \
    X(ETRUNC, "truncated data")                                                \
    X(EBADDATA, "malformed data")                                              \
    X(EUNSUPP, "not supported")                                                \
    X(EPERM, "not permitted")                                                  \
    X(ESYS, "system call failed")                                              \
    X(ESYNTAX, "syntax error")                                                 \
    X(EEXIST, "already exists")                                                \
    X(ETIMEDOUT, "timed out")                                                  \
    X(ESTOPPED, "stopped")

typedef enum {
    NC_OK = 0,
#define NC_ERR_ENUM(name, msg) NC_##name,
    NC__EFIRST = -1000,
    NC_ERRNO_MAP(NC_ERR_ENUM)
#undef NC_ERR_ENUM
    NC__ELAST
} nc_errno_t;

/* Returns a static phrase for an NC_E* code (or "success" for 0). */
const char *nc_strerror(int code);

#endif
