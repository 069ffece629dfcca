/*
 * rules_stun.c: notes for STUN and TURN messages. What a Binding exchange
 * shows is the point of STUN: the request asks "what address do you see
 * me as?" and the answer's XOR-MAPPED-ADDRESS is that address, which
 * differs from the sender's own when a NAT rewrote it on the way. A note
 * names only what was decoded.
 */
#include "rules.h"

#include <stdio.h>
#include <string.h>

static bool binding_request_match(const nc_annot_t *a)
{
    const char *cls = nc_event_str(a->ev, "stun.class_name");
    return cls && strcmp(cls, "Request") == 0 &&
           nc_annotate_int(a->ev, "stun.type_tree.method", 0) == 1 &&
           !nc_event_get(a->ev, "stun.att.priority");
}

/* An ICE connectivity check: a Binding request between two agents. */
static bool ice_check_match(const nc_annot_t *a)
{
    const char *cls = nc_event_str(a->ev, "stun.class_name");
    return cls && strcmp(cls, "Request") == 0 &&
           nc_annotate_int(a->ev, "stun.type_tree.method", 0) == 1 &&
           nc_event_get(a->ev, "stun.att.priority");
}

static void ice_check_write(const nc_annot_t *a)
{
    bool nominate = false;
    const nc_field_t *list = nc_event_get(a->ev, "stun.attributes");
    for (uint32_t i = list ? (uint32_t)(list - a->ev->fields) + 1 : 0;
         list && i < a->ev->nfields && a->ev->fields[i].kind == NC_F_STR; i++)
        nominate = nominate || strcmp(a->ev->fields[i].v.s, "USE-CANDIDATE") == 0;
    nc_evb_note(a->b, "ICE connectivity check: %s tries this path to %s. USERNAME joins the two "
                      "agents' ice-ufrags, MESSAGE-INTEGRITY proves it knows the peer's ice-pwd "
                      "from the SDP, PRIORITY is what it would give a peer-reflexive candidate%s",
                a->from, a->to,
                nominate ? "; USE-CANDIDATE nominates this pair: the connection will use it."
                         : ".");
}

/* TURN: the relayed address an Allocate got, the indications and
 * ChannelData that carry a peer's bytes through the relay. */
static bool relayed_match(const nc_annot_t *a)
{
    return nc_event_str(a->ev, "stun.relayed") != NULL;
}

static void relayed_write(const nc_annot_t *a)
{
    nc_evb_note(a->b, "TURN Allocate answer: %s lends the client the relayed address %s for "
                      "%lld s. A peer the client gives a permission may send there, and the "
                      "relay passes it on.",
                a->from, nc_event_str(a->ev, "stun.relayed"),
                (long long)nc_annotate_int(a->ev, "stun.att.lifetime", 0));
}

static bool indication_match(const nc_annot_t *a)
{
    return nc_event_str(a->ev, "stun.peer") && nc_event_get(a->ev, "stun.data_len");
}

static void indication_write(const nc_annot_t *a)
{
    bool send = nc_annotate_int(a->ev, "stun.type_tree.method", 0) == 6;
    long long n = (long long)nc_annotate_int(a->ev, "stun.data_len", 0);
    const char *peer = nc_event_str(a->ev, "stun.peer");
    if (send)
        nc_evb_note(a->b, "TURN Send indication: %s hands %lld bytes to the relay, to go on to "
                          "%s from the relayed address. No answer comes: an indication is not "
                          "a request.",
                    a->from, n, peer);
    else
        nc_evb_note(a->b, "TURN Data indication: %s passes on %lld bytes that %s sent to the "
                          "client's relayed address.",
                    a->from, n, peer);
}

static bool channel_match(const nc_annot_t *a)
{
    return nc_event_get(a->ev, "stun.channel") != NULL;
}

static void channel_write(const nc_annot_t *a)
{
    nc_evb_note(a->b, "TURN ChannelData on channel 0x%04llx: %lld bytes behind a 4-byte header, "
                      "where a Send or Data indication spends 36.",
                (long long)nc_annotate_int(a->ev, "stun.channel", 0),
                (long long)nc_annotate_int(a->ev, "stun.length", 0));
}

static void binding_request_write(const nc_annot_t *a)
{
    nc_evb_note(a->b, "STUN Binding request: %s asks %s which address and port its packets "
                      "arrive from. The 12-byte transaction id ties the answer to it; over UDP "
                      "the client itself sends it again if no answer comes.",
                a->from, a->to);
}

static bool mapped_match(const nc_annot_t *a)
{
    return nc_event_str(a->ev, "stun.mapped") != NULL && !nc_event_str(a->ev, "stun.relayed");
}

static void mapped_write(const nc_annot_t *a)
{
    const char *mapped = nc_event_str(a->ev, "stun.mapped");
    bool xor = false;
    const nc_field_t *list = nc_event_get(a->ev, "stun.attributes");
    for (uint32_t i = list ? (uint32_t)(list - a->ev->fields) + 1 : 0;
         list && i < a->ev->nfields && a->ev->fields[i].kind == NC_F_STR; i++)
        xor = xor || strcmp(a->ev->fields[i].v.s, "XOR-MAPPED-ADDRESS") == 0;
    nc_evb_note(a->b, "STUN answer: %s saw the request come from %s. %s",
                a->from, mapped,
                xor ? "The address travels XORed with the magic cookie (XOR-MAPPED-ADDRESS), so "
                      "that a box rewriting addresses it finds in payloads cannot spoil it."
                    : "The address travels in clear (MAPPED-ADDRESS, as in RFC 3489).");
}

static bool error_match(const nc_annot_t *a)
{
    return nc_event_get(a->ev, "stun.att.error") != NULL;
}

static void error_write(const nc_annot_t *a)
{
    const char *reason = nc_event_str(a->ev, "stun.att.error_tree.reason");
    nc_evb_note(a->b, "STUN error %lld%s%s%s from %s.",
                (long long)nc_annotate_int(a->ev, "stun.att.error_code", 0), reason ? " (" : "",
                reason ? reason : "", reason ? ")" : "", a->from);
    if (nc_event_str(a->ev, "stun.att.realm") && nc_event_str(a->ev, "stun.att.nonce"))
        nc_evb_note(a->b, "The server relays only for users it knows: with the REALM and NONCE "
                          "given here, the client sends its request again with USERNAME and a "
                          "MESSAGE-INTEGRITY keyed by its password.");
}

static const nc_rule_t stun_rules[] = {
    {"stun-binding-request", binding_request_match, binding_request_write},
    {"stun-mapped", mapped_match, mapped_write},
    {"stun-error", error_match, error_write},
    {"ice-check", ice_check_match, ice_check_write},
    {"turn-relayed", relayed_match, relayed_write},
    {"turn-indication", indication_match, indication_write},
    {"turn-channel", channel_match, channel_write},
};

const nc_rule_set_t nc_rules_stun = {
    .layer = "stun",
    .rules = stun_rules,
    .count = sizeof(stun_rules) / sizeof(stun_rules[0]),
};
