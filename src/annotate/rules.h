/*
 * rules.h: the annotation rule tables (internal to src/annotate).
 *
 * A rule is {name, match, write}: match looks at the built event through the
 * nc_event_* lookups, write appends sentences with nc_evb_note(). Each
 * rules_*.c file exports one table for one protocol family; annotate.c runs
 * every table in order and, within a table, every rule that matches (the
 * predicates of one table are written to be exclusive where two notes would
 * say the same thing twice).
 */
#ifndef NC_ANNOTATE_RULES_H
#define NC_ANNOTATE_RULES_H

#include "../core/event.h"

#include <stddef.h>

typedef struct nc_rule {
    const char *name;
    bool (*match)(const nc_event_t *ev);
    void (*write)(nc_evb_t *b, const nc_event_t *ev);
} nc_rule_t;

typedef struct nc_rule_set {
    const nc_rule_t *rules;
    size_t count;
} nc_rule_set_t;

extern const nc_rule_set_t nc_rules_ip, nc_rules_tcp, nc_rules_udp, nc_rules_dns,
    nc_rules_http;

/* "the client" for a lab host name, the address as it is otherwise; "from"
 * or "to" of ev. Borrowed from ev, or static. */
const char *nc_annotate_who(const nc_event_t *ev, const char *key, char *buf, size_t n);
/* Integer field or def. */
int64_t nc_annotate_int(const nc_event_t *ev, const char *path, int64_t def);

#endif
