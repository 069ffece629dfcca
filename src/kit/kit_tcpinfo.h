/*
 * kit_tcpinfo.h: the kernel's measures of a TCP socket (tcpinfo.c), for
 * the kit's files; kept apart from kit.h so that tcpinfo.c can include
 * <linux/tcp.h> without libuv's headers.
 */
#ifndef NC_KIT_TCPINFO_H
#define NC_KIT_TCPINFO_H

/* The smallest round trip the kernel measured on the socket (tcpi_min_rtt)
 * in ms, or 0 when it cannot tell. */
double nc__kit_tcp_min_rtt_ms(int fd);

#endif
