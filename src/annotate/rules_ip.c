/*
 * rules_ip.c: notes for what lies below the transport: a frame that could not
 * be decoded completely, ARP, ICMP and ICMPv6, IP fragments.
 */
#include "rules.h"

#include <string.h>

static bool ip_error_match(const nc_annot_t *a)
{
    const nc_event_t *ev = a->ev;
    return nc_event_str(ev, "error") != NULL;
}

static void ip_error_write(const nc_annot_t *a)
{
    const nc_event_t *ev = a->ev;
    nc_evb_t *b = a->b;
    nc_evb_note(b, "This packet could not be decoded completely (%s); the layers before the "
                   "problem are shown.",
                nc_event_str(ev, "error"));
}

static bool arp_request_match(const nc_annot_t *a)
{
    const nc_event_t *ev = a->ev;
    const char *op = nc_event_str(ev, "arp.op");
    return op && strcmp(op, "request") == 0 && nc_event_str(ev, "arp.target_ip");
}

static void arp_request_write(const nc_annot_t *a)
{
    const nc_event_t *ev = a->ev;
    nc_evb_t *b = a->b;
    nc_evb_note(b, "ARP request: %s needs the MAC address of %s before it can send it an "
                   "Ethernet frame, so it broadcasts the question to every host on the link.",
                a->from, nc_event_str(ev, "arp.target_ip"));
}

static bool arp_reply_match(const nc_annot_t *a)
{
    const nc_event_t *ev = a->ev;
    const char *op = nc_event_str(ev, "arp.op");
    return op && strcmp(op, "reply") == 0 && nc_event_str(ev, "arp.sender_mac");
}

static void arp_reply_write(const nc_annot_t *a)
{
    const nc_event_t *ev = a->ev;
    nc_evb_t *b = a->b;
    nc_evb_note(b, "ARP reply: %s answers that %s is at %s. The asker keeps this in its ARP "
                   "cache, so the next packets go out without asking again.",
                a->from, nc_event_str(ev, "arp.sender_ip"),
                nc_event_str(ev, "arp.sender_mac"));
}

static bool icmp_match(const nc_annot_t *a)
{
    const nc_event_t *ev = a->ev;
    return nc_event_str(ev, "icmp.name") != NULL || nc_event_str(ev, "icmpv6.name") != NULL;
}

static void icmp_write(const nc_annot_t *a)
{
    const nc_event_t *ev = a->ev;
    nc_evb_t *b = a->b;
    const char *from = a->from;
    const char *to = a->to;
    bool v6 = nc_event_str(ev, "icmp.name") == NULL;
    const char *name = nc_event_str(ev, v6 ? "icmpv6.name" : "icmp.name");
    const char *reason = nc_event_str(ev, "icmp.reason");
    if (strcmp(name, "echo request") == 0)
        nc_evb_note(b, "ICMP echo request (ping): %s asks %s to send the same data back, to "
                       "check that it is reachable and to time the round trip.",
                    from, to);
    else if (strcmp(name, "echo reply") == 0)
        nc_evb_note(b, "ICMP echo reply: %s answers the ping from %s.", from, to);
    else if (strcmp(name, "destination unreachable") == 0)
        nc_evb_note(b, "ICMP destination unreachable%s%s%s: %s tells %s that a packet it sent "
                       "could not be delivered; the original header is quoted inside.",
                    reason ? " (" : "", reason ? reason : "", reason ? ")" : "", from, to);
    else if (strcmp(name, "time exceeded") == 0)
        nc_evb_note(b, "ICMP time exceeded: a packet's TTL reached 0 at %s, which dropped it "
                       "and tells %s (this is how traceroute finds each hop).",
                    from, to);
    else if (strcmp(name, "neighbor solicitation") == 0)
        nc_evb_note(b, "Neighbor solicitation: IPv6's ARP. %s asks who has %s.", from,
                    nc_event_str(ev, "icmpv6.target") ? nc_event_str(ev, "icmpv6.target")
                                                      : "the target address");
    else if (strcmp(name, "neighbor advertisement") == 0)
        nc_evb_note(b, "Neighbor advertisement: IPv6's ARP reply; %s announces its link-layer "
                       "address.",
                    from);
    else
        nc_evb_note(b, "%s %s: a control message from %s to %s, carried directly in IP.",
                    v6 ? "ICMPv6" : "ICMP", name, from, to);
}

static bool frag_match(const nc_annot_t *a)
{
    const nc_event_t *ev = a->ev;
    return nc_annotate_int(ev, "ip.frag_off", 0) > 0 || nc_event_bool(ev, "ip.mf");
}

static void frag_write(const nc_annot_t *a)
{
    const nc_event_t *ev = a->ev;
    nc_evb_t *b = a->b;
    if (nc_annotate_int(ev, "ip.frag_off", 0) == 0) {
        nc_evb_note(b, "First IP fragment: the datagram was too big for the link and was "
                       "split; more fragments follow, and only this one carries the transport "
                       "header.");
        return;
    }
    nc_evb_note(b, "IP fragment at offset %lld: a datagram too big for the link was split; "
                   "only the first fragment carries the transport header, and the receiver "
                   "reassembles the pieces.",
                (long long)nc_annotate_int(ev, "ip.frag_off", 0));
}

static const nc_rule_t error_rules[] = {{"error", ip_error_match, ip_error_write}};
static const nc_rule_t arp_rules[] = {
    {"arp-request", arp_request_match, arp_request_write},
    {"arp-reply", arp_reply_match, arp_reply_write},
};
static const nc_rule_t icmp_rules[] = {{"icmp", icmp_match, icmp_write}};
static const nc_rule_t ip_rules[] = {{"ip-fragment", frag_match, frag_write}};

const nc_rule_set_t nc_rules_error = {
    .layer = NULL,
    .rules = error_rules,
    .count = 1,
};
const nc_rule_set_t nc_rules_arp = {
    .layer = "arp",
    .rules = arp_rules,
    .count = sizeof(arp_rules) / sizeof(arp_rules[0]),
};
const nc_rule_set_t nc_rules_icmp = {
    .layer = "icmp",
    .rules = icmp_rules,
    .count = 1,
};
const nc_rule_set_t nc_rules_icmpv6 = {
    .layer = "icmpv6",
    .rules = icmp_rules,
    .count = 1,
};
const nc_rule_set_t nc_rules_ip = {
    .layer = "ip",
    .rules = ip_rules,
    .count = 1,
};
