/*
 * tcpinfo.c: what the kernel measured on a kit connection (TCP_INFO).
 *
 * Data model: none kept; each call asks the kernel. It is a file of its
 * own because it needs <linux/tcp.h>'s struct tcp_info (glibc's lacks
 * tcpi_min_rtt), which cannot share a file with libuv's headers (they
 * bring glibc's <netinet/tcp.h>, and the two define the same structs).
 */
#include "kit_tcpinfo.h"

#include <linux/tcp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>

double nc__kit_tcp_min_rtt_ms(int fd)
{
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 ||
        len < offsetof(struct tcp_info, tcpi_min_rtt) + sizeof ti.tcpi_min_rtt)
        return 0;
    return ti.tcpi_min_rtt / 1000.0;
}
