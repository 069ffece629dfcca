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
           nc_annotate_int(a->ev, "stun.type_tree.method", 0) == 1;
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
    return nc_event_str(a->ev, "stun.mapped") != NULL;
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
                (long long)nc_annotate_int(a->ev, "stun.att.error", 0), reason ? " (" : "",
                reason ? reason : "", reason ? ")" : "", a->from);
}

static const nc_rule_t stun_rules[] = {
    {"stun-binding-request", binding_request_match, binding_request_write},
    {"stun-mapped", mapped_match, mapped_write},
    {"stun-error", error_match, error_write},
};

const nc_rule_set_t nc_rules_stun = {
    .layer = "stun",
    .rules = stun_rules,
    .count = sizeof(stun_rules) / sizeof(stun_rules[0]),
};
