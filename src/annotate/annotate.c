/*
 * annotate.c: runs the generic annotation rules over one built event.
 *
 * The rule sets are listed in one table, lowest layer first, so that a note
 * reads from what broke (a truncated capture) through the transport (TCP)
 * to the application (DNS, HTTP). Only packet events are annotated here.
 */
#include "annotate.h"

#include "rules.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const nc_rule_set_t *const nc_rule_sets[] = {
    &nc_rules_ip, &nc_rules_tcp, &nc_rules_udp, &nc_rules_dns, &nc_rules_http,
};

const char *nc_annotate_who(const nc_event_t *ev, const char *key, char *buf, size_t n)
{
    const char *s = nc_event_str(ev, key);
    if (s == NULL || s[0] == '\0')
        return strcmp(key, "from") == 0 ? "the sender" : "the receiver";
    for (const char *p = s; *p; p++)
        if (!isalpha((unsigned char)*p) && *p != '-' && *p != '_' &&
            !(p > s && isdigit((unsigned char)*p)))
            return s;
    snprintf(buf, n, "the %s", s);
    return buf;
}

int64_t nc_annotate_int(const nc_event_t *ev, const char *path, int64_t def)
{
    int64_t v;
    return nc_event_int(ev, path, &v) ? v : def;
}

void nc_annotate_event(nc_evb_t *b)
{
    const nc_event_t *ev = nc_evb_view(b);
    if (ev->type != NC_EV_PACKET)
        return;
    for (size_t s = 0; s < sizeof(nc_rule_sets) / sizeof(nc_rule_sets[0]); s++) {
        const nc_rule_set_t *set = nc_rule_sets[s];
        for (size_t i = 0; i < set->count; i++)
            if (set->rules[i].match(ev))
                set->rules[i].write(b, ev);
    }
}
