/*
 * rules_ip.c: notes for what lies below the transport: a frame that could not
 * be decoded completely, ARP, ICMP and ICMPv6, IP fragments, an IP length
 * taken from the frame, and checksums that do not check out.
 *
 * Checksums (a set of their own, after the transport and application
 * notes): a capture taken on the sending host often shows TCP and UDP
 * checksums that are wrong in one recognisable way ("partial": the kernel
 * left the sum to the network card, and on loopback or veth nothing ever
 * fills it in). That is explained on the first such packet of a capture
 * only, so the notes of a loopback run are not all about offload; a
 * checksum that is simply wrong is noted each time. The decoder sums the
 * verdicts up in the private object "_csum" (decode/csum.c), present only
 * when there is something to say, so this set skips other packets at once.
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
    else if (strcmp(name, "time exceeded") == 0 && nc_annotate_int(ev, v6 ? "icmpv6.code"
                                                                           : "icmp.code", 0) == 1)
        nc_evb_note(b, "ICMP time exceeded (fragment reassembly): %s gave up waiting for the "
                       "missing fragments of a datagram from %s and dropped the pieces it had.",
                    from, to);
    else if (strcmp(name, "time exceeded") == 0)
        nc_evb_note(b, "ICMP time exceeded: a packet's %s reached 0 at %s, which dropped it "
                       "and tells %s (this is how traceroute finds each hop).",
                    v6 ? "hop limit" : "TTL", from, to);
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
    nc_evb_note(b, "IP fragment at offset %lld (%lld bytes into the datagram; the header "
                   "counts in 8-byte units): a datagram too big for the link was split; only "
                   "the first fragment carries the transport header, and the receiver "
                   "reassembles the pieces.",
                (long long)nc_annotate_int(ev, "ip.frag_off", 0),
                (long long)nc_annotate_int(ev, "ip.frag_bytes", 0));
}

static bool len_from_frame_match(const nc_annot_t *a)
{
    return nc_event_bool(a->ev, "ip.len_from_frame");
}

static void len_from_frame_write(const nc_annot_t *a)
{
    bool v6 = nc_annotate_int(a->ev, "ip.version", 4) == 6;
    int64_t bytes = nc_annotate_int(a->full, "len", 0) - nc_annotate_int(a->ev, "ip._off", 0);
    nc_evb_note(a->b, "The IP%s %s length field holds 0, so the length is taken from the "
                      "frame: %lld bytes from the IP header on. %s",
                v6 ? "v6" : "v4", v6 ? "payload" : "total", (long long)bytes,
                v6 ? "This is a jumbogram (RFC 2675), or a BIG TCP segment of more than 64 KiB "
                     "captured on the sending host before it was split."
                   : "A capture on the sending host shows this for a segment that the network "
                     "card (TCP segmentation offload) or the kernel (BIG TCP, over 64 KiB) "
                     "splits into packets of the link's size only after the capture point.");
}

static bool csum_partial_match(const nc_annot_t *a)
{
    return nc_event_str(a->ev, "_csum.partial_first") != NULL;
}

static void csum_partial_write(const nc_annot_t *a)
{
    nc_evb_note(a->b, "The %s checksum holds only the pseudo-header's sum: the sending kernel "
                      "left the rest to the network card (checksum offload), and this capture "
                      "was taken on the sending host before the card filled it in (on loopback "
                      "and veth nothing ever does, as the bytes never leave the machine). The "
                      "packet is not damaged. Later packets of this capture that show the same "
                      "are marked \"partial\" without this note.",
                nc_event_str(a->ev, "_csum.partial_first"));
}

static bool csum_bad_match(const nc_annot_t *a)
{
    return nc_event_str(a->ev, "_csum.bad") != NULL;
}

static void csum_bad_write(const nc_annot_t *a)
{
    nc_evb_note(a->b, "The %s checksum does not match the bytes: the packet was damaged on "
                      "the way (a receiver drops it), or it was captured on the sending host "
                      "before the network card computed the checksum.",
                nc_event_str(a->ev, "_csum.bad"));
}

static bool csum_zero6_match(const nc_annot_t *a)
{
    return nc_event_bool(a->ev, "_csum.zero6");
}

static void csum_zero6_write(const nc_annot_t *a)
{
    nc_evb_note(a->b, "Its UDP checksum is 0, \"none computed\": IPv4 allows that, IPv6 only "
                      "for tunnels (RFC 6935), so most IPv6 receivers drop this datagram.");
}

static const nc_rule_t error_rules[] = {{"error", ip_error_match, ip_error_write}};
static const nc_rule_t arp_rules[] = {
    {"arp-request", arp_request_match, arp_request_write},
    {"arp-reply", arp_reply_match, arp_reply_write},
};
static const nc_rule_t icmp_rules[] = {{"icmp", icmp_match, icmp_write}};
static const nc_rule_t ip_rules[] = {
    {"ip-fragment", frag_match, frag_write},
    {"ip-len-from-frame", len_from_frame_match, len_from_frame_write},
};
static const nc_rule_t csum_rules[] = {
    {"checksum-partial", csum_partial_match, csum_partial_write},
    {"checksum-bad", csum_bad_match, csum_bad_write},
    {"checksum-zero-ipv6", csum_zero6_match, csum_zero6_write},
};

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
    .count = sizeof(ip_rules) / sizeof(ip_rules[0]),
};
const nc_rule_set_t nc_rules_csum = {
    .layer = "_csum",
    .rules = csum_rules,
    .count = sizeof(csum_rules) / sizeof(csum_rules[0]),
};
