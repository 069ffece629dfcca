/*
 * diag.h: the kernel's socket tables, read through sock_diag.
 *
 * A sock_diag dump (NETLINK_SOCK_DIAG, SOCK_DIAG_BY_FAMILY with an
 * inet_diag_req_v2) lists every TCP socket of the network namespace the
 * netlink socket was created in. Each answer is turned into an
 * nc_diag_sock_t: addresses, ports, the TCP state, the two queue counters
 * (whose meaning depends on the state, see below) and, for full sockets, the
 * part of struct tcp_info the lessons show.
 *
 *   LISTEN      rqueue = connections waiting in the accept queue
 *               wqueue = the backlog the program passed to listen()
 *   SYN_RECV    a request socket: a half-open handshake in the SYN queue of
 *               the listener whose port is sport; retrans = SYN-ACKs resent
 *   TIME_WAIT   a timewait socket: the connection is over and its port pair
 *               is kept for 60 s (expires_ms = what is left); no queues,
 *               no tcp_info, no buffers. An orphaned FIN_WAIT2 socket is
 *               one too, and comes with state FIN_WAIT2.
 *   other       rqueue = bytes received and not read yet (recv_q)
 *               wqueue = bytes written and not acknowledged yet (send_q)
 *
 * Full sockets also come with their buffer limits (INET_DIAG_SKMEMINFO):
 * rcvbuf and sndbuf, in bytes of kernel memory (SO_RCVBUF / SO_SNDBUF as
 * the kernel keeps them, doubled; the data they hold also pays for its
 * bookkeeping, so recv_q and send_q stay well below them).
 * Also here: the overflow counters of a namespace's /proc/net/netstat. The
 * parsers read bytes the kernel wrote, but check every length anyway (they
 * have a fuzz harness).
 */
#ifndef NC_DIAG_H
#define NC_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct nc_diag_sock {
    uint8_t family; /* AF_INET or AF_INET6 */
    uint8_t state;  /* TCP_ESTABLISHED ... as in <netinet/tcp.h> */
    uint16_t sport, dport;
    char src[46], dst[46]; /* addresses as text */
    uint32_t rqueue, wqueue;
    uint32_t inode;
    uint8_t retrans; /* idiag_retrans */
    bool has_info;   /* the tcp_info fields below are set */
    bool has_rcv_wnd; /* the kernel reports tcpi_rcv_wnd (6.2 and later) */
    uint32_t cwnd, unacked, total_retrans, notsent, snd_wnd, rcv_wnd;
    bool has_mem; /* rcvbuf and sndbuf are set */
    uint32_t rcvbuf, sndbuf;
    uint32_t expires_ms; /* idiag_expires: the socket's pending timer */
} nc_diag_sock_t;

typedef void (*nc_diag_cb)(const nc_diag_sock_t *sk, void *arg);

/* Opens a sock_diag netlink socket (close-on-exec) in the calling thread's
 * network namespace. Returns the fd, or a negative NC_E* code. */
int nc_diag_open(void);

/*
 * Dumps the IPv4 TCP sockets (the lab turns IPv6 off) whose state bit is in states
 * (1 << TCP_LISTEN | ...), asking for tcp_info and the buffer limits, and
 * calls cb for each. 1 << TCP_SYN_RECV brings the request sockets, and
 * 1 << TCP_TIME_WAIT the timewait sockets.
 * buf (cap bytes, 32 KiB or more) holds the answers. Never waits for more
 * than the kernel's own dump. Returns 0 or a negative NC_E* code.
 */
int nc_diag_dump(int fd, uint32_t states, uint8_t *buf, size_t cap, nc_diag_cb cb, void *arg);

/*
 * Parses one read's worth of netlink messages (len bytes) and calls cb for
 * each socket. Returns 1 when the dump's end (NLMSG_DONE) was seen, 0 when
 * more is to come, or NC_EBADDATA for malformed input / an error message.
 */
int nc_diag_parse(const uint8_t *buf, size_t len, nc_diag_cb cb, void *arg);

/*
 * Reads ListenOverflows and ListenDrops from the text of /proc/net/netstat
 * (a "TcpExt:" line of names followed by one of values). Returns 0 when both
 * were found, NC_ENOENT otherwise (then *overflows and *drops are 0).
 */
int nc_diag_netstat_parse(const char *text, size_t len, uint64_t *overflows, uint64_t *drops);

/* The name of a TCP state ("LISTEN", "SYN_RECV", ...), or "?". */
const char *nc_diag_state_name(unsigned state);

#endif
