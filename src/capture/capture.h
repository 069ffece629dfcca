/*
 * capture.h: one libpcap handle on one lab interface.
 *
 * A thin, explicit wrapper: it opens an interface with the settings a live
 * lesson needs (immediate mode so every frame arrives at once, nanosecond
 * timestamps, a ring big enough for a burst, non-blocking with a selectable
 * fd for a uv_poll_t) and hands frames to a callback. It never interprets
 * the bytes. The interface is looked up in the network namespace of the
 * calling thread, so open it from a thread inside the lab host's namespace.
 * One handle is used from one thread.
 */
#ifndef NC_CAPTURE_H
#define NC_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

typedef struct nc_capture nc_capture_t;

typedef struct nc_capture_opts {
    int snaplen;      /* bytes kept per frame; 0 = 262144 */
    int buffer_bytes; /* kernel ring size; 0 = 4 MiB */
    bool in_only;     /* only frames arriving on the interface (PCAP_D_IN) */
} nc_capture_opts_t;

/* Called once per frame: ts_ns is CLOCK_REALTIME nanoseconds; data is
 * borrowed for the duration of the call. */
typedef void (*nc_capture_fn)(void *arg, int64_t ts_ns, const uint8_t *data, uint32_t caplen,
                              uint32_t wirelen);

/* Opens ifname (in the calling thread's network namespace), non-blocking.
 * o may be NULL for the defaults. Returns NULL with one sentence in err. */
nc_capture_t *nc_capture_open(const char *ifname, const nc_capture_opts_t *o, char *err,
                              size_t errlen);
/* Closes the handle; NULL is ignored. */
void nc_capture_close(nc_capture_t *c);

/* The fd to poll for readability (for a uv_poll_t), or -1. */
int nc_capture_fd(const nc_capture_t *c);
/* The link type (DLT_*, for example 1 = Ethernet). */
int nc_capture_linktype(const nc_capture_t *c);
/* The interface name (borrowed). */
const char *nc_capture_ifname(const nc_capture_t *c);

/* Hands at most max frames (max <= 0: all that are waiting) to fn without
 * blocking. Returns the number handled, or NC_EIO. */
int nc_capture_dispatch(nc_capture_t *c, int max, nc_capture_fn fn, void *arg);

/* Sends one whole frame out of the interface. Returns 0 or NC_EIO. */
int nc_capture_inject(nc_capture_t *c, const void *frame, size_t len);

/* Sends n whole frames out of the interface in one system call where the
 * kernel allows (sendmmsg on the handle's packet socket, in order).
 * Returns how many of them the kernel refused. */
size_t nc_capture_inject_many(nc_capture_t *c, const struct iovec *frames, size_t n);

/* Kernel counters since open: frames the kernel handed to the ring
 * (ps_recv; on lo each frame counts twice) and frames lost because the ring
 * was full (ps_drop). Returns 0 or NC_EIO. */
int nc_capture_stats(nc_capture_t *c, uint64_t *received, uint64_t *lost);

/* The last error of the handle (libpcap's text; borrowed). */
const char *nc_capture_error(const nc_capture_t *c);

#endif
