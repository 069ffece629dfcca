/*
 * annotate.c: runs the generic annotation rules over one built event.
 *
 * The rule sets are listed in one table, lowest layer first, so that a note
 * reads from what broke (a truncated capture) through the transport (TCP)
 * to the application (DNS, HTTP), then checksums. Only packet events are annotated. For
 * each event the top-level tokens are walked once to find "from", "to",
 * "proto" and the layer objects; each set then sees a view narrowed to its
 * layer (see rules.h).
 */
#include "annotate.h"

#include "rules.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const nc_rule_set_t *const nc_rule_sets[] = {
    &nc_rules_error, &nc_rules_arp, &nc_rules_icmp, &nc_rules_icmpv6, &nc_rules_ip,
    &nc_rules_tcp,   &nc_rules_udp, &nc_rules_dns,  &nc_rules_tls, &nc_rules_http, &nc_rules_websocket, &nc_rules_sse,
    &nc_rules_http2, &nc_rules_grpc, &nc_rules_csum, &nc_rules_stun,
    &nc_rules_quic, &nc_rules_http3,
};

#define NC_ANNOT_SETS (sizeof(nc_rule_sets) / sizeof(nc_rule_sets[0]))

int64_t nc_annotate_int(const nc_event_t *ev, const char *path, int64_t def)
{
    int64_t v;
    return nc_event_int(ev, path, &v) ? v : def;
}

/* "the client" for a lab host name, the address as it is otherwise. */
static const char *nc_annotate_who(const char *s, const char *none, char *buf, size_t n)
{
    if (s == NULL || s[0] == '\0')
        return none;
    for (const char *p = s; *p; p++)
        if (!isalpha((unsigned char)*p) && *p != '-' && *p != '_' &&
            !(p > s && isdigit((unsigned char)*p)))
            return s;
    snprintf(buf, n, "the %s", s);
    return buf;
}

/* s with its first letter in capitals, for the start of a sentence: s itself
 * (borrowed) or buf holding the copy. */
static const char *nc_annotate_capital(const char *s, char *buf, size_t n)
{
    if (!islower((unsigned char)s[0]))
        return s;
    snprintf(buf, n, "%s", s);
    buf[0] = (char)toupper((unsigned char)buf[0]);
    return buf;
}

/* Runs one rule set on the view in a->ev. */
static void nc_annotate_set(const nc_rule_set_t *set, nc_annot_t *a)
{
    if (set->prepare)
        set->prepare(a);
    for (size_t i = 0; i < set->count; i++)
        if (set->rules[i].match(a))
            set->rules[i].write(a);
}

/* A layer written as a list of objects (a packet that completes several
 * messages, stream.h): the set runs once per message, each seen as the
 * layer's object on its own. */
static void nc_annotate_each(const nc_rule_set_t *set, nc_annot_t *a, const nc_event_t *ev,
                             uint32_t at, uint32_t end)
{
    nc_field_t one[128];
    for (uint32_t k = at + 1; k < end && ev->fields[k].kind != NC_F_END;) {
        uint32_t next = nc_fields_skip(ev->fields, end, k);
        uint32_t n = next - k; /* the element: its OBJ token, members, END */
        if (ev->fields[k].kind == NC_F_OBJ && n <= sizeof(one) / sizeof(one[0])) {
            memcpy(one, ev->fields + k, n * sizeof(one[0]));
            one[0].key = ev->fields[at].key;
            nc_event_t narrow = *ev;
            narrow.fields = one;
            narrow.nfields = n;
            a->ev = &narrow;
            nc_annotate_set(set, a);
        }
        k = next;
    }
}

void nc_annotate_event(nc_evb_t *b)
{
    const nc_event_t *ev = nc_evb_view(b);
    if (ev->type != NC_EV_PACKET)
        return;
    const char *from = NULL, *to = NULL, *proto = "";
    uint32_t layer_at[NC_ANNOT_SETS], layer_end[NC_ANNOT_SETS];
    memset(layer_at, 0xff, sizeof(layer_at));
    for (uint32_t k = 0; k < ev->nfields && ev->fields[k].kind != NC_F_END;) {
        const nc_field_t *f = &ev->fields[k];
        uint32_t next = nc_fields_skip(ev->fields, ev->nfields, k);
        if (f->key && f->kind == NC_F_STR) {
            if (strcmp(f->key, "from") == 0)
                from = f->v.s;
            else if (strcmp(f->key, "to") == 0)
                to = f->v.s;
            else if (strcmp(f->key, "proto") == 0)
                proto = f->v.s;
        } else if (f->key && (f->kind == NC_F_OBJ || f->kind == NC_F_LIST)) {
            for (size_t s = 0; s < NC_ANNOT_SETS; s++) {
                const char *layer = nc_rule_sets[s]->layer;
                if (layer && layer_at[s] == UINT32_MAX && strcmp(f->key, layer) == 0) {
                    layer_at[s] = k;
                    layer_end[s] = next;
                }
            }
        }
        k = next;
    }
    char fbuf[80], tbuf[80], Fbuf[80], Tbuf[80];
    nc_annot_t a = {
        .b = b,
        .full = ev,
        .proto = proto,
        .from = nc_annotate_who(from, "the sender", fbuf, sizeof(fbuf)),
        .to = nc_annotate_who(to, "the receiver", tbuf, sizeof(tbuf)),
    };
    a.From = nc_annotate_capital(a.from, Fbuf, sizeof(Fbuf));
    a.To = nc_annotate_capital(a.to, Tbuf, sizeof(Tbuf));
    for (size_t s = 0; s < NC_ANNOT_SETS; s++) {
        const nc_rule_set_t *set = nc_rule_sets[s];
        nc_event_t narrow;
        if (set->layer) {
            if (layer_at[s] == UINT32_MAX)
                continue;
            if (ev->fields[layer_at[s]].kind == NC_F_LIST) {
                nc_annotate_each(set, &a, ev, layer_at[s], layer_end[s]);
                continue;
            }
            narrow = *ev;
            narrow.fields = ev->fields + layer_at[s];
            narrow.nfields = layer_end[s] - layer_at[s];
            a.ev = &narrow;
        } else {
            a.ev = ev;
        }
        nc_annotate_set(set, &a);
    }
}
