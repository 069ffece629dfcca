/*
 * netlink.c: configuring a namespace's links by hand.
 *
 * rtnetlink requests are built in one fixed buffer: an nlmsghdr, the
 * request's header struct (ifinfomsg or ifaddrmsg), then attributes, some of
 * them nested (an attribute whose payload is more attributes; nest_begin
 * remembers where it started, nest_end fixes its length). Every request asks
 * for an ACK and waits for the kernel's answer, so errors come back as the
 * errno of the request that caused them. Offloads are turned off with the
 * legacy SIOCETHTOOL commands, one feature each, then read back.
 *
 * Everything acts on the network namespace of the calling thread: the
 * netlink and ioctl sockets are created here and belong to it.
 */
#include "lab_impl.h"

#include "core/error.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <linux/veth.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct nl_req {
    union {
        struct nlmsghdr h;
        char buf[1024];
    } u;
} nl_req_t;

static void *req_tail(nl_req_t *r)
{
    return r->u.buf + NLMSG_ALIGN(r->u.h.nlmsg_len);
}

static void req_raw(nl_req_t *r, const void *data, size_t len)
{
    memcpy(req_tail(r), data, len);
    r->u.h.nlmsg_len = NLMSG_ALIGN(r->u.h.nlmsg_len) + (uint32_t)len;
}

static void req_attr(nl_req_t *r, int type, const void *data, size_t len)
{
    struct rtattr *a = req_tail(r);
    a->rta_type = (unsigned short)type;
    a->rta_len = (unsigned short)RTA_LENGTH(len);
    if (len)
        memcpy(RTA_DATA(a), data, len);
    r->u.h.nlmsg_len = NLMSG_ALIGN(r->u.h.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

static void req_str(nl_req_t *r, int type, const char *s)
{
    req_attr(r, type, s, strlen(s) + 1);
}

static struct rtattr *nest_begin(nl_req_t *r, int type)
{
    struct rtattr *a = req_tail(r);
    req_attr(r, type, NULL, 0);
    return a;
}

static void nest_end(nl_req_t *r, struct rtattr *a)
{
    a->rta_len = (unsigned short)((char *)req_tail(r) - (char *)a);
}

static void req_init(nl_req_t *r, int type, int flags, const void *hdr, size_t hdrlen)
{
    memset(r, 0, sizeof *r);
    r->u.h.nlmsg_len = NLMSG_LENGTH(0);
    r->u.h.nlmsg_type = (unsigned short)type;
    r->u.h.nlmsg_flags = (unsigned short)(NLM_F_REQUEST | NLM_F_ACK | flags);
    r->u.h.nlmsg_seq = 1;
    req_raw(r, hdr, hdrlen);
}

/* Sends the request and returns 0 or -errno from the kernel's ACK. */
static int req_talk(nl_req_t *r)
{
    int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (s < 0)
        return -errno;
    struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
    int rc = -EIO;
    if (sendto(s, r, r->u.h.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof sa) < 0) {
        rc = -errno;
        goto out;
    }
    char ans[4096];
    ssize_t n = recv(s, ans, sizeof ans, 0);
    if (n < 0) {
        rc = -errno;
        goto out;
    }
    for (struct nlmsghdr *h = (struct nlmsghdr *)ans; NLMSG_OK(h, (size_t)n);
         h = NLMSG_NEXT(h, n)) {
        if (h->nlmsg_type == NLMSG_ERROR &&
            h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct nlmsgerr))) {
            rc = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
            break;
        }
    }
out:
    close(s);
    return rc;
}

static int fail(char *err, size_t errlen, const char *what, const char *ifname, int e)
{
    snprintf(err, errlen, "lab: cannot %s %s: %s.", what, ifname, strerror(e));
    return e == EPERM ? NC_EPERM : NC_ESYS;
}

int nc_netlink_veth_add(const char *name, const char *peer, int peer_netns, char *err,
                        size_t errlen)
{
    nl_req_t r;
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
    req_init(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof ifi);
    req_str(&r, IFLA_IFNAME, name);
    struct rtattr *info = nest_begin(&r, IFLA_LINKINFO);
    req_str(&r, IFLA_INFO_KIND, "veth");
    struct rtattr *data = nest_begin(&r, IFLA_INFO_DATA);
    struct rtattr *p = nest_begin(&r, VETH_INFO_PEER);
    /* The peer's payload is an ifinfomsg followed by its own attributes. */
    req_raw(&r, &ifi, sizeof ifi);
    req_str(&r, IFLA_IFNAME, peer);
    uint32_t fd = (uint32_t)peer_netns;
    req_attr(&r, IFLA_NET_NS_FD, &fd, sizeof fd);
    nest_end(&r, p);
    nest_end(&r, data);
    nest_end(&r, info);
    int rc = req_talk(&r);
    if (rc < 0) {
        snprintf(err, errlen, "lab: cannot create the veth pair %s/%s: %s.", name, peer,
                 strerror(-rc));
        return rc == -EPERM ? NC_EPERM : NC_ESYS;
    }
    return 0;
}

static int link_change(const char *ifname, unsigned flags, unsigned change, unsigned mtu)
{
    unsigned idx = if_nametoindex(ifname);
    if (!idx)
        return -ENODEV;
    nl_req_t r;
    struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC, .ifi_index = (int)idx,
                            .ifi_flags = flags, .ifi_change = change};
    req_init(&r, RTM_NEWLINK, 0, &ifi, sizeof ifi);
    if (mtu)
        req_attr(&r, IFLA_MTU, &mtu, sizeof mtu);
    return req_talk(&r);
}

int nc_netlink_link_up(const char *ifname, char *err, size_t errlen)
{
    int rc = link_change(ifname, IFF_UP, IFF_UP, 0);
    return rc < 0 ? fail(err, errlen, "bring up", ifname, -rc) : 0;
}

int nc_netlink_mtu_set(const char *ifname, unsigned mtu, char *err, size_t errlen)
{
    int rc = link_change(ifname, 0, 0, mtu);
    return rc < 0 ? fail(err, errlen, "set the MTU of", ifname, -rc) : 0;
}

int nc_netlink_addr_add(const char *ifname, const char *addr, int prefix, char *err,
                        size_t errlen)
{
    struct in_addr a, bcast;
    unsigned idx = if_nametoindex(ifname);
    if (!idx)
        return fail(err, errlen, "find", ifname, ENODEV);
    if (inet_pton(AF_INET, addr, &a) != 1 || prefix < 0 || prefix > 32) {
        snprintf(err, errlen, "lab: %s/%d is not an IPv4 address.", addr, prefix);
        return NC_EINVAL;
    }
    uint32_t mask = prefix ? htonl(~0u << (32 - prefix)) : 0;
    bcast.s_addr = a.s_addr | ~mask;
    nl_req_t r;
    struct ifaddrmsg ifa = {.ifa_family = AF_INET, .ifa_prefixlen = (unsigned char)prefix,
                            .ifa_index = idx};
    req_init(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &ifa, sizeof ifa);
    req_attr(&r, IFA_LOCAL, &a, sizeof a);
    req_attr(&r, IFA_ADDRESS, &a, sizeof a);
    if (prefix < 31)
        req_attr(&r, IFA_BROADCAST, &bcast, sizeof bcast);
    int rc = req_talk(&r);
    if (rc < 0) {
        char what[64];
        snprintf(what, sizeof what, "add %s/%d to", addr, prefix);
        return fail(err, errlen, what, ifname, -rc);
    }
    return 0;
}

/* The offloads a userspace wire cannot live with, as set/get command pairs:
 * partial checksums reach the far side unfinished and are rejected, and
 * segmentation offloads hand the wire frames bigger than the MTU. */
static const struct {
    unsigned set, get;
    const char *name;
} offloads[] = {
    {ETHTOOL_STXCSUM, ETHTOOL_GTXCSUM, "TX checksum offload"},
    {ETHTOOL_STSO, ETHTOOL_GTSO, "TCP segmentation offload"},
    {ETHTOOL_SGSO, ETHTOOL_GGSO, "generic segmentation offload"},
    {ETHTOOL_SGRO, ETHTOOL_GGRO, "generic receive offload"},
};

static int ethtool(int s, const char *ifname, unsigned cmd, uint32_t *data)
{
    struct ethtool_value ev = {.cmd = cmd, .data = *data};
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
    ifr.ifr_data = (char *)&ev;
    if (ioctl(s, SIOCETHTOOL, &ifr) != 0)
        return -errno;
    *data = ev.data;
    return 0;
}

int nc_netlink_offload_off(const char *ifname, char *err, size_t errlen)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return fail(err, errlen, "open a socket to configure", ifname, errno);
    int rc = 0;
    for (size_t i = 0; i < sizeof offloads / sizeof offloads[0] && rc == 0; i++) {
        uint32_t v = 0;
        int e = ethtool(s, ifname, offloads[i].set, &v);
        if (e == 0) {
            v = 0;
            e = ethtool(s, ifname, offloads[i].get, &v);
        }
        if (e < 0 || v != 0) {
            char what[96];
            snprintf(what, sizeof what, "turn off %s on", offloads[i].name);
            rc = fail(err, errlen, what, ifname, e < 0 ? -e : EOPNOTSUPP);
        }
    }
    close(s);
    return rc;
}

int nc_netlink_route_default(const char *gateway, char *err, size_t errlen)
{
    struct in_addr gw;
    if (inet_pton(AF_INET, gateway, &gw) != 1) {
        snprintf(err, errlen, "lab: %s is not an IPv4 address.", gateway);
        return NC_EINVAL;
    }
    nl_req_t r;
    struct rtmsg rt = {.rtm_family = AF_INET, .rtm_table = RT_TABLE_MAIN,
                       .rtm_protocol = RTPROT_BOOT, .rtm_scope = RT_SCOPE_UNIVERSE,
                       .rtm_type = RTN_UNICAST};
    req_init(&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &rt, sizeof rt);
    req_attr(&r, RTA_GATEWAY, &gw, sizeof gw);
    int rc = req_talk(&r);
    if (rc < 0) {
        char what[64];
        snprintf(what, sizeof what, "add a default route via %s", gateway);
        return fail(err, errlen, what, "in the lab", -rc);
    }
    return 0;
}
