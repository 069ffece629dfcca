/*
 * rules_dns.c: notes for DNS queries and answers. A note names only what
 * was decoded: a query without a question type, or an answer whose first
 * record could not be read, is described without it.
 */
#include "rules.h"

#include <string.h>

static bool query_match(const nc_annot_t *a)
{
    const nc_event_t *ev = a->ev;
    return nc_event_get(ev, "dns.id") != NULL && !nc_event_bool(ev, "dns.response") &&
           nc_event_str(ev, "dns.qname") != NULL && nc_event_str(ev, "dns.qtype") != NULL;
}

static void query_write(const nc_annot_t *a)
{
    const nc_event_t *ev = a->ev;
    nc_evb_t *b = a->b;
    nc_evb_note(b, "DNS query: %s asks %s (its DNS resolver) for the %s record of %s (id 0x%04llx); "
                   "the answer must carry the same id.%s",
                a->from, a->to,
                nc_event_str(ev, "dns.qtype"), nc_event_str(ev, "dns.qname"),
                (unsigned long long)nc_annotate_int(ev, "dns.id", 0),
                nc_event_get(a->full, "udp") ? " Over UDP nothing resends a lost query but the "
                                          "client's own timer."
                                        : "");
}

static bool answer_match(const nc_annot_t *a)
{
    const nc_event_t *ev = a->ev;
    return nc_event_bool(ev, "dns.response") && nc_event_get(ev, "dns.records") != NULL;
}

static void answer_write(const nc_annot_t *a)
{
    const nc_event_t *ev = a->ev;
    nc_evb_t *b = a->b;
    const char *rcode = nc_event_str(ev, "dns.rcode");
    const char *qname = nc_event_str(ev, "dns.qname");
    int64_t answers = nc_annotate_int(ev, "dns.answers", 0);
    const nc_field_t *list = nc_event_get(ev, "dns.records");
    const char *first = NULL;
    /* A list's elements follow its opening token in the same array. */
    if (list && list->kind == NC_F_LIST && (uint32_t)(list - ev->fields) + 1 < ev->nfields &&
        list[1].kind == NC_F_STR)
        first = list[1].v.s;
    if (rcode && strcmp(rcode, "NXDOMAIN") == 0)
        nc_evb_note(b, "DNS answer: NXDOMAIN, the name %s does not exist.",
                    qname ? qname : "asked for");
    else if (answers == 0)
        nc_evb_note(b, "DNS answer from %s with no records (%s).",
                    a->from, rcode ? rcode : "error");
    else
        nc_evb_note(b, "DNS answer from %s: %lld record%s%s%s. The TTL says how long the "
                       "asker may cache it.",
                    a->from, (long long)answers, answers == 1 ? "" : "s",
                    first ? ", first " : "", first ? first : "");
}

static const nc_rule_t dns_rules[] = {
    {"dns-query", query_match, query_write},
    {"dns-answer", answer_match, answer_write},
};

const nc_rule_set_t nc_rules_dns = {
    .layer = "dns",
    .rules = dns_rules,
    .count = sizeof(dns_rules) / sizeof(dns_rules[0]),
};
