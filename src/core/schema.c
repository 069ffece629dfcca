/*
 * schema.c: the declared fields of state, mark, note and app events.
 *
 * One table of {type, path}. When a producer adds a field, it adds a line
 * here; the lesson loader then accepts matchers that name it, and
 * tests/e2e/e2e_oracle_lessons fails on a run whose state, mark or note
 * events carry a field this table lacks.
 */
#include "schema.h"

#include <string.h>

static const struct {
    nc_event_type_t type;
    const char *path;
} nc_schema_table[] = {
    /* probe.c: one socket's sample, and the namespace's overflow counters. */
    {NC_EV_STATE, "socket"},
    {NC_EV_STATE, "state"},
    {NC_EV_STATE, "syn_queue"},
    {NC_EV_STATE, "accept_queue"},
    {NC_EV_STATE, "backlog"},
    {NC_EV_STATE, "recv_q"},
    {NC_EV_STATE, "send_q"},
    {NC_EV_STATE, "notsent"},
    {NC_EV_STATE, "snd_wnd"},
    {NC_EV_STATE, "rcv_wnd"},
    {NC_EV_STATE, "cwnd"},
    {NC_EV_STATE, "unacked"},
    {NC_EV_STATE, "retrans"},
    {NC_EV_STATE, "rcvbuf"},
    {NC_EV_STATE, "sndbuf"},
    {NC_EV_STATE, "scope"},
    {NC_EV_STATE, "listen_overflows"},
    {NC_EV_STATE, "listen_drops"},
    /* scenario/run.c: steps and checkpoints. */
    {NC_EV_MARK, "step"},
    {NC_EV_MARK, "checkpoint"},
    {NC_EV_MARK, "event"},
    {NC_EV_MARK, "title"},
    {NC_EV_MARK, "question"},
    {NC_EV_MARK, "choices"},
    {NC_EV_MARK, "answer"},
    {NC_EV_MARK, "right"},
    {NC_EV_MARK, "by"},
    {NC_EV_MARK, "explain"},
    {NC_EV_MARK, "target"},
    {NC_EV_MARK, "reason"},
    {NC_EV_MARK, "asked"},
    /* lab/wire.c's closing counts; runfile and replay's error notes. */
    {NC_EV_NOTE, "captured"},
    {NC_EV_NOTE, "lost"},
    {NC_EV_NOTE, "wire_drops"},
    {NC_EV_NOTE, "inject_errors"},
    {NC_EV_NOTE, "error"},
    /* scenario/compare.c: a lesson's comparison, one object a way. */
    {NC_EV_NOTE, "compare"},
    {NC_EV_NOTE, "title"},
    {NC_EV_NOTE, "ways"},
    {NC_EV_NOTE, "ways.label"},
    {NC_EV_NOTE, "ways.program"},
    {NC_EV_NOTE, "ways.requests"},
    {NC_EV_NOTE, "ways.answers"},
    {NC_EV_NOTE, "ways.empty"},
    {NC_EV_NOTE, "ways.connections"},
    {NC_EV_NOTE, "ways.round_trips"},
    {NC_EV_NOTE, "ways.packets"},
    {NC_EV_NOTE, "ways.bytes"},
    {NC_EV_NOTE, "ways.time_ms"},
    /* scenario.c: every app event; scenarios add their own fields. */
    {NC_EV_APP, "call"},
    {NC_EV_APP, "text"},
};

bool nc_schema_has(nc_event_type_t type, const char *path)
{
    if (type == NC_EV_APP)
        return true;
    for (size_t i = 0; i < sizeof(nc_schema_table) / sizeof(nc_schema_table[0]); i++)
        if (nc_schema_table[i].type == type && strcmp(nc_schema_table[i].path, path) == 0)
            return true;
    return false;
}

void nc_schema_names(nc_event_type_t type, nc_buf_t *out)
{
    bool first = true;
    for (size_t i = 0; i < sizeof(nc_schema_table) / sizeof(nc_schema_table[0]); i++) {
        if (nc_schema_table[i].type != type)
            continue;
        nc_buf_printf(out, "%s%s", first ? "" : ", ", nc_schema_table[i].path);
        first = false;
    }
}
