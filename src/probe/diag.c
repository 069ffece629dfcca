/*
 * diag.c: sock_diag requests and answers, and /proc/net/netstat.
 *
 * One request per address family: an inet_diag_req_v2 for IPPROTO_TCP with
 * the wanted state bits and idiag_ext asking for INET_DIAG_INFO and
 * INET_DIAG_SKMEMINFO, so every full socket comes with its struct tcp_info
 * and its buffer limits. The answer is a multipart dump: inet_diag_msg
 * records, each followed by attributes, ending with NLMSG_DONE (request and
 * timewait sockets have no attributes). Every length is checked before the
 * bytes are trusted; tcp_info is read by offset after checking the
 * attribute holds the field, because the kernel's copy may be older or
 * newer than <linux/tcp.h>
 * (tcpi_rcv_wnd, from 6.2, follows tcpi_snd_wnd and is not in Debian 12's
 * headers).
 */
#include "diag.h"

#include "../core/error.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *const nc_diag_states[] = {
    "?",          "ESTABLISHED", "SYN_SENT", "SYN_RECV",  "FIN_WAIT1", "FIN_WAIT2",
    "TIME_WAIT",  "CLOSE",       "CLOSE_WAIT", "LAST_ACK", "LISTEN",    "CLOSING",
    "NEW_SYN_RECV",
};

const char *nc_diag_state_name(unsigned state)
{
    return state < sizeof nc_diag_states / sizeof nc_diag_states[0] ? nc_diag_states[state] : "?";
}

int nc_diag_open(void)
{
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    return fd < 0 ? NC_ESYS : fd;
}

/* A u32 of tcp_info at byte offset off, when the attribute holds it. */
static bool nc_diag_u32(const uint8_t *info, size_t len, size_t off, uint32_t *out)
{
    if (off + 4 > len)
        return false;
    memcpy(out, info + off, 4);
    return true;
}

static void nc_diag_info(nc_diag_sock_t *sk, const uint8_t *info, size_t len)
{
    /* The fields every kernel since 4.x has; a shorter attribute means none. */
    if (!nc_diag_u32(info, len, offsetof(struct tcp_info, tcpi_snd_cwnd), &sk->cwnd) ||
        !nc_diag_u32(info, len, offsetof(struct tcp_info, tcpi_unacked), &sk->unacked) ||
        !nc_diag_u32(info, len, offsetof(struct tcp_info, tcpi_total_retrans),
                     &sk->total_retrans))
        return;
    sk->has_info = true;
    nc_diag_u32(info, len, offsetof(struct tcp_info, tcpi_notsent_bytes), &sk->notsent);
    nc_diag_u32(info, len, offsetof(struct tcp_info, tcpi_snd_wnd), &sk->snd_wnd);
    sk->has_rcv_wnd =
        nc_diag_u32(info, len, offsetof(struct tcp_info, tcpi_snd_wnd) + 4, &sk->rcv_wnd);
}

/* The buffer limits of INET_DIAG_SKMEMINFO: an array of u32 indexed by
 * SK_MEMINFO_*, as long as the kernel's. */
static void nc_diag_mem(nc_diag_sock_t *sk, const uint8_t *mem, size_t len)
{
    if (nc_diag_u32(mem, len, SK_MEMINFO_RCVBUF * 4, &sk->rcvbuf) &&
        nc_diag_u32(mem, len, SK_MEMINFO_SNDBUF * 4, &sk->sndbuf))
        sk->has_mem = true;
}

static int nc_diag_msg(const uint8_t *p, size_t len, nc_diag_cb cb, void *arg)
{
    struct inet_diag_msg m;
    if (len < sizeof m)
        return NC_EBADDATA;
    memcpy(&m, p, sizeof m);
    nc_diag_sock_t sk;
    memset(&sk, 0, sizeof sk);
    sk.family = m.idiag_family;
    sk.state = m.idiag_state;
    sk.sport = ntohs(m.id.idiag_sport);
    sk.dport = ntohs(m.id.idiag_dport);
    sk.rqueue = m.idiag_rqueue;
    sk.wqueue = m.idiag_wqueue;
    sk.inode = m.idiag_inode;
    sk.retrans = m.idiag_retrans;
    sk.expires_ms = m.idiag_expires;
    int af = m.idiag_family == AF_INET6 ? AF_INET6 : AF_INET;
    inet_ntop(af, m.id.idiag_src, sk.src, sizeof sk.src);
    inet_ntop(af, m.id.idiag_dst, sk.dst, sizeof sk.dst);
    size_t off = NLMSG_ALIGN(sizeof m);
    while (off + sizeof(struct nlattr) <= len) {
        struct nlattr a;
        memcpy(&a, p + off, sizeof a);
        if (a.nla_len < sizeof a || a.nla_len > len - off)
            return NC_EBADDATA;
        if ((a.nla_type & NLA_TYPE_MASK) == INET_DIAG_INFO)
            nc_diag_info(&sk, p + off + sizeof a, a.nla_len - sizeof a);
        else if ((a.nla_type & NLA_TYPE_MASK) == INET_DIAG_SKMEMINFO)
            nc_diag_mem(&sk, p + off + sizeof a, a.nla_len - sizeof a);
        off += NLA_ALIGN(a.nla_len);
    }
    cb(&sk, arg);
    return 0;
}

int nc_diag_parse(const uint8_t *buf, size_t len, nc_diag_cb cb, void *arg)
{
    size_t off = 0;
    while (off + sizeof(struct nlmsghdr) <= len) {
        struct nlmsghdr h;
        memcpy(&h, buf + off, sizeof h);
        if (h.nlmsg_len < sizeof h || h.nlmsg_len > len - off)
            return NC_EBADDATA;
        if (h.nlmsg_type == NLMSG_DONE)
            return 1;
        if (h.nlmsg_type == NLMSG_ERROR)
            return NC_EBADDATA;
        if (h.nlmsg_type == SOCK_DIAG_BY_FAMILY) {
            int rc = nc_diag_msg(buf + off + NLMSG_HDRLEN, h.nlmsg_len - NLMSG_HDRLEN, cb, arg);
            if (rc != 0)
                return rc;
        }
        size_t step = NLMSG_ALIGN(h.nlmsg_len);
        if (step > len - off)
            break;
        off += step;
    }
    return 0;
}

static int nc_diag_request(int fd, uint8_t family, uint32_t states)
{
    struct {
        struct nlmsghdr h;
        struct inet_diag_req_v2 r;
    } req;
    memset(&req, 0, sizeof req);
    req.h.nlmsg_len = sizeof req;
    req.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    req.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    req.r.sdiag_family = family;
    req.r.sdiag_protocol = IPPROTO_TCP;
    req.r.idiag_states = states;
    req.r.idiag_ext = (1 << (INET_DIAG_INFO - 1)) | (1 << (INET_DIAG_SKMEMINFO - 1));
    struct sockaddr_nl nl = {.nl_family = AF_NETLINK};
    ssize_t n = sendto(fd, &req, sizeof req, 0, (struct sockaddr *)&nl, sizeof nl);
    return n == (ssize_t)sizeof req ? 0 : NC_ESYS;
}

int nc_diag_dump(int fd, uint32_t states, uint8_t *buf, size_t cap, nc_diag_cb cb, void *arg)
{
    /* IPv4 only: lab namespaces have IPv6 turned off, and each family's
     * dump walks the namespace's whole TCP hash table. */
    static const uint8_t families[] = {AF_INET};
    for (size_t f = 0; f < sizeof families; f++) {
        int rc = nc_diag_request(fd, families[f], states);
        if (rc != 0)
            return rc;
        for (;;) {
            /* The kernel builds each part of a dump inside recv(); the poll
             * only guards against a reply that never comes. */
            struct pollfd pfd = {.fd = fd, .events = POLLIN};
            if (poll(&pfd, 1, 100) <= 0)
                return NC_ETIMEDOUT;
            ssize_t n = recv(fd, buf, cap, MSG_DONTWAIT);
            if (n < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (n <= 0)
                return NC_ESYS;
            rc = nc_diag_parse(buf, (size_t)n, cb, arg);
            if (rc < 0) {
                /* IPv6 may be missing from the kernel: its request fails. */
                if (families[f] == AF_INET6)
                    break;
                return rc;
            }
            if (rc == 1)
                break;
        }
    }
    return 0;
}

/* Finds the value under name in a "Prefix: name name ..." / "Prefix: v v ..."
 * pair of lines. */
static bool nc_diag_column(const char *names, size_t nlen, const char *vals, size_t vlen,
                           const char *name, uint64_t *out)
{
    size_t want = strlen(name), ni = 0, vi = 0;
    for (;;) {
        while (ni < nlen && names[ni] == ' ')
            ni++;
        while (vi < vlen && vals[vi] == ' ')
            vi++;
        if (ni >= nlen || vi >= vlen)
            return false;
        size_t ns = ni, vs = vi;
        while (ni < nlen && names[ni] != ' ')
            ni++;
        while (vi < vlen && vals[vi] != ' ')
            vi++;
        if (ni - ns == want && memcmp(names + ns, name, want) == 0) {
            uint64_t v = 0;
            for (size_t k = vs; k < vi; k++) {
                if (vals[k] < '0' || vals[k] > '9')
                    return false;
                v = v * 10 + (uint64_t)(vals[k] - '0');
            }
            *out = v;
            return true;
        }
    }
}

int nc_diag_netstat_parse(const char *text, size_t len, uint64_t *overflows, uint64_t *drops)
{
    *overflows = *drops = 0;
    static const char prefix[] = "TcpExt:";
    const size_t pl = sizeof prefix - 1;
    size_t off = 0;
    while (off < len) {
        const char *nl = memchr(text + off, '\n', len - off);
        size_t end = nl ? (size_t)(nl - text) : len;
        if (end - off >= pl && memcmp(text + off, prefix, pl) == 0) {
            /* The names line; the values line follows with the same prefix. */
            size_t voff = end + 1;
            if (voff >= len)
                return NC_ENOENT;
            const char *vnl = memchr(text + voff, '\n', len - voff);
            size_t vend = vnl ? (size_t)(vnl - text) : len;
            if (vend - voff < pl || memcmp(text + voff, prefix, pl) != 0)
                return NC_ENOENT;
            const char *n = text + off + pl, *v = text + voff + pl;
            size_t nn = end - off - pl, vn = vend - voff - pl;
            bool a = nc_diag_column(n, nn, v, vn, "ListenOverflows", overflows);
            bool b = nc_diag_column(n, nn, v, vn, "ListenDrops", drops);
            if (a && b)
                return 0;
            *overflows = *drops = 0;
            return NC_ENOENT;
        }
        off = end + 1;
    }
    return NC_ENOENT;
}
