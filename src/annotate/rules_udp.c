/*
 * rules_udp.c: the note for plain UDP datagrams (DNS has its own).
 */
#include "rules.h"

#include <string.h>

static bool udp_match(const nc_annot_t *a)
{
    return strcmp(a->proto, "udp") == 0;
}

static void udp_write(const nc_annot_t *a)
{
    const nc_event_t *ev = a->ev;
    nc_evb_t *b = a->b;
    nc_evb_note(b, "UDP: an 8-byte header (ports, length, checksum) and %lld bytes of data "
                   "from port %lld to port %lld; no handshake, no acknowledgement: if this "
                   "datagram is lost nobody resends it.",
                (long long)nc_annotate_int(ev, "udp.len", 0),
                (long long)nc_annotate_int(ev, "udp.sport", 0),
                (long long)nc_annotate_int(ev, "udp.dport", 0));
}

static const nc_rule_t udp_rules[] = {
    {"udp", udp_match, udp_write},
};

const nc_rule_set_t nc_rules_udp = {
    .layer = "udp",
    .rules = udp_rules,
    .count = sizeof(udp_rules) / sizeof(udp_rules[0]),
};
