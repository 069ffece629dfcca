/*
 * rules_udp.c: the note for plain UDP datagrams (DNS has its own).
 *
 * The note says what UDP itself does and no more: a datagram whose payload
 * netcourse does not decode may belong to a protocol that adds handshakes,
 * acknowledgements and retransmission on top (QUIC on port 443 does all
 * three), so the note never claims the exchange has none. It is written
 * only when the header was decoded whole: a truncated header has no ports
 * or length to state.
 */
#include "rules.h"
#include "../core/words.h"

#include <string.h>

static bool udp_match(const nc_annot_t *a)
{
    return strcmp(a->proto, "udp") == 0 && nc_event_get(a->ev, "udp.payload_len") != NULL &&
           nc_event_get(a->ev, "udp.sport") != NULL;
}

static void udp_write(const nc_annot_t *a)
{
    const nc_event_t *ev = a->ev;
    int64_t sport = nc_annotate_int(ev, "udp.sport", 0);
    int64_t dport = nc_annotate_int(ev, "udp.dport", 0);
    long long payload = nc_annotate_int(ev, "udp.payload_len", 0);
    nc_evb_note(a->b, "UDP: an 8-byte header (ports, length %lld, checksum) and %lld %s of "
                      "data from port %lld to port %lld. UDP itself has no handshake and no "
                      "acknowledgement and resends nothing; any of that is up to the "
                      "application protocol on top%s.",
                (long long)nc_annotate_int(ev, "udp.len", 0),
                payload, nc_words_plural(payload, "byte", "bytes"), (long long)sport,
                (long long)dport,
                sport == 443 || dport == 443
                    ? " (on port 443 that is usually QUIC, which has all three)"
                    : "");
}

static const nc_rule_t udp_rules[] = {
    {"udp", udp_match, udp_write},
};

const nc_rule_set_t nc_rules_udp = {
    .layer = "udp",
    .rules = udp_rules,
    .count = sizeof(udp_rules) / sizeof(udp_rules[0]),
};
