/*
 * capture.c: libpcap handles on lab interfaces.
 *
 * An nc_capture_t is a pcap_t plus the interface name and the callback of
 * the dispatch in progress. Frames reach the callback with nanosecond
 * CLOCK_REALTIME stamps (PCAP_TSTAMP_PRECISION_NANO puts nanoseconds in
 * tv_usec). Immediate mode matters on Linux: without it TPACKET_V3 holds a
 * trickle of frames for up to its timeout, and blocking reads never time
 * out at all in libpcap 1.10, so handles are always non-blocking and
 * driven by poll on the selectable fd.
 */
#include "capture.h"

#include "core/error.h"
#include "core/xmalloc.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct nc_capture {
    pcap_t *p;
    char *ifname;
    nc_capture_fn fn;
    void *arg;
};

enum { DEFAULT_SNAPLEN = 262144, DEFAULT_BUFFER = 4 << 20 };

/* Each setting with the phrase that names it in an error sentence. */
static int apply_settings(pcap_t *p, const nc_capture_opts_t *o, const char **what)
{
    int snaplen = o && o->snaplen > 0 ? o->snaplen : DEFAULT_SNAPLEN;
    int buffer = o && o->buffer_bytes > 0 ? o->buffer_bytes : DEFAULT_BUFFER;
    if ((*what = "set the snapshot length", pcap_set_snaplen(p, snaplen)) != 0)
        return -1;
    if ((*what = "set the buffer size", pcap_set_buffer_size(p, buffer)) != 0)
        return -1;
    if ((*what = "set immediate mode", pcap_set_immediate_mode(p, 1)) != 0)
        return -1;
    if ((*what = "ask for nanosecond timestamps",
         pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO)) != 0)
        return -1;
    *what = "start capturing";
    return 0;
}

nc_capture_t *nc_capture_open(const char *ifname, const nc_capture_opts_t *o, char *err,
                              size_t errlen)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_create(ifname, ebuf);
    if (!p) {
        snprintf(err, errlen, "capture: cannot open %s: %s.", ifname, ebuf);
        return NULL;
    }
    const char *what = "";
    if (apply_settings(p, o, &what) != 0) {
        snprintf(err, errlen, "capture: cannot %s on %s.", what, ifname);
        pcap_close(p);
        return NULL;
    }
    int rc = pcap_activate(p);
    if (rc < 0) {
        const char *detail = rc == PCAP_ERROR_PERM_DENIED
                                 ? "permission denied (capturing needs CAP_NET_RAW in the lab's namespace)"
                             : rc == PCAP_ERROR_NO_SUCH_DEVICE ? "no such interface in this namespace"
                                                               : pcap_geterr(p);
        snprintf(err, errlen, "capture: cannot start capturing on %s: %s.", ifname, detail);
        pcap_close(p);
        return NULL;
    }
    if (o && o->in_only && pcap_setdirection(p, PCAP_D_IN) != 0) {
        snprintf(err, errlen, "capture: cannot restrict %s to incoming frames: %s.", ifname,
                 pcap_geterr(p));
        pcap_close(p);
        return NULL;
    }
    if (pcap_setnonblock(p, 1, ebuf) != 0) {
        snprintf(err, errlen, "capture: cannot make %s non-blocking: %s.", ifname, ebuf);
        pcap_close(p);
        return NULL;
    }
    nc_capture_t *c = nc_xcalloc(1, sizeof *c);
    c->p = p;
    c->ifname = nc_xstrdup(ifname);
    return c;
}

void nc_capture_close(nc_capture_t *c)
{
    if (!c)
        return;
    pcap_close(c->p);
    free(c->ifname);
    free(c);
}

int nc_capture_fd(const nc_capture_t *c)
{
    return pcap_get_selectable_fd(c->p);
}

int nc_capture_linktype(const nc_capture_t *c)
{
    return pcap_datalink(c->p);
}

const char *nc_capture_ifname(const nc_capture_t *c)
{
    return c->ifname;
}

static void on_frame(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
    nc_capture_t *c = (nc_capture_t *)user;
    int64_t ts = (int64_t)h->ts.tv_sec * 1000000000 + (int64_t)h->ts.tv_usec;
    c->fn(c->arg, ts, data, h->caplen, h->len);
}

int nc_capture_dispatch(nc_capture_t *c, int max, nc_capture_fn fn, void *arg)
{
    c->fn = fn;
    c->arg = arg;
    int n = pcap_dispatch(c->p, max > 0 ? max : -1, on_frame, (u_char *)c);
    return n < 0 ? NC_EIO : n;
}

int nc_capture_inject(nc_capture_t *c, const void *frame, size_t len)
{
    return pcap_inject(c->p, frame, len) == (int)len ? 0 : NC_EIO;
}

/* pcap_inject() on Linux is send() on the handle's socket, which is bound
 * to the interface; sendmmsg() on the same socket sends a batch the same
 * way. A frame the kernel refuses is counted and skipped, like a failed
 * pcap_inject(). */
size_t nc_capture_inject_many(nc_capture_t *c, const struct iovec *frames, size_t n)
{
    enum { BATCH = 64 };
    struct mmsghdr m[BATCH];
    int fd = pcap_get_selectable_fd(c->p);
    size_t refused = 0, done = 0;
    while (done < n) {
        size_t k = n - done < BATCH ? n - done : BATCH;
        for (size_t i = 0; i < k; i++)
            m[i] = (struct mmsghdr){
                .msg_hdr = {.msg_iov = (struct iovec *)&frames[done + i], .msg_iovlen = 1}};
        int sent = fd >= 0 ? sendmmsg(fd, m, (unsigned)k, 0) : -1;
        if (sent < 0 && errno == EINTR)
            continue;
        if (sent <= 0) { /* the first frame was refused */
            refused++;
            done++;
            continue;
        }
        for (int i = 0; i < sent; i++)
            refused += m[i].msg_len != frames[done + (size_t)i].iov_len;
        done += (size_t)sent;
    }
    return refused;
}

int nc_capture_stats(nc_capture_t *c, uint64_t *received, uint64_t *lost)
{
    struct pcap_stat st;
    if (pcap_stats(c->p, &st) != 0)
        return NC_EIO;
    *received = st.ps_recv;
    *lost = st.ps_drop;
    return 0;
}

const char *nc_capture_error(const nc_capture_t *c)
{
    return pcap_geterr(c->p);
}
