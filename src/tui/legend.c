/*
 * legend.c: what each view's marks and colours mean, for the help overlay.
 *
 * One array per view, each row a mark drawn as that view draws it (its
 * UTF-8 and ASCII forms and its style) and one sentence on what it means;
 * a row with a NULL meaning ends the array. The views point at their array
 * (nc_view_t.legend) and help.c shows the one of the view it was opened
 * from. A view that changes how it draws something changes its row here.
 */
#include "ui.h"

#define NC_LEGEND_END {NULL, NULL, NC_PLAIN, NULL}

const nc_legend_t nc_legend_map[] = {
    {"✓", "*", NC_STYLE(NC_A_BOLD, NC_ROLE_OK), "lesson complete: every checkpoint answered"},
    {"◐", "~", NC_STYLE(0, NC_ROLE_ACCENT), "lesson started: pages read, a run watched or answers"},
    {"·", ".", NC_STYLE(0, NC_ROLE_MUTED), "lesson not started"},
    {"12", "12", NC_PLAIN, "the lesson's number: `netcourse run 12` runs it"},
    {"▸", ">", NC_STYLE(NC_A_BOLD, NC_ROLE_ACCENT), "the selected lesson: Enter reads it, r runs it"},
    NC_LEGEND_END,
};

const nc_legend_t nc_legend_reader[] = {
    {"Heading", "Heading", NC_STYLE(NC_A_BOLD, NC_ROLE_ACCENT), "the page's title and sections"},
    {"code", "code", NC_STYLE(0, NC_ROLE_ACCENT), "commands, code and names as typed"},
    {"│ quote", "| quote", NC_STYLE(0, NC_ROLE_MUTED), "a quotation or an aside"},
    {"page 2 of 5", "page 2 of 5", NC_STYLE(0, NC_ROLE_MUTED),
     "where you are; the last page leads to the live run (r)"},
    NC_LEGEND_END,
};

const nc_legend_t nc_legend_ladder[] = {
    {"│", "|", NC_STYLE(0, NC_ROLE_MUTED), "a host's line, named at the top; time runs down"},
    {"───→", "--->", NC_STYLE(0, NC_ROLE_CLIENT), "a packet the client sent (client colour)"},
    {"←───", "<---", NC_STYLE(0, NC_ROLE_SERVER), "a packet the server sent (server colour)"},
    {"──✕", "--X", NC_STYLE(NC_A_BOLD, NC_ROLE_DROPPED),
     "a packet the wire dropped: it stops half-way, at the cross"},
    {"• accept", "* accept", NC_STYLE(NC_A_BOLD, NC_ROLE_CLIENT),
     "a program's call (connect, accept, send...) beside its host's line"},
    {"── Step", "-- Step", NC_STYLE(NC_A_DIM, NC_ROLE_MUTED),
     "across the width: a lesson step, a checkpoint, a note or a socket sample"},
    {"+0.012345", "+0.012345", NC_STYLE(0, NC_ROLE_MUTED), "seconds since the run started"},
    {"you: GET /", "you: GET /", NC_STYLE(0, NC_ROLE_CLIENT),
     "your own traffic, from a shell you opened in the lab (!)"},
    {":8080", ":8080", NC_STYLE(NC_A_BOLD, NC_ROLE_SERVER),
     "where both ends are one host (loopback), a lane per port; the host is over the times"},
    {"selected", "selected", NC_STYLE(NC_A_REVERSE, NC_ROLE_NORMAL),
     "the selected event; its annotation is in the panel below"},
    {"annotation", "annotation", NC_STYLE(0, NC_ROLE_NOTE), "what the selected event means"},
    {"Right!", "Right!", NC_STYLE(NC_A_BOLD, NC_ROLE_OK), "your prediction matched the run"},
    {"Not this time", "Not this time", NC_STYLE(NC_A_BOLD, NC_ROLE_BAD),
     "the run showed another answer, and says why"},
    {"queues", "queues", NC_STYLE(NC_A_BOLD, NC_ROLE_NORMAL),
     "at 100 columns: each socket's queues and buffers as of the selected event"},
    {"•── choose ──•", "*-- choose --*", NC_STYLE(NC_A_BOLD, NC_ROLE_ACCENT),
     "a middlebox's decision, across its in and out lanes; selected, it marks (•) the "
     "requests in and out"},
    {"→H ←D", "->H <-D", NC_STYLE(NC_A_BOLD, NC_ROLE_CLIENT),
     "stream lanes (S): a frame on that stream's lane, its direction and first letter "
     "(HEADERS, DATA, WINDOW_UPDATE...)"},
    NC_LEGEND_END,
};

const nc_legend_t nc_legend_inspector[] = {
    {"▸ tcp", "> tcp", NC_STYLE(NC_A_REVERSE, NC_ROLE_ACCENT),
     "the selected layer (Tab, h and l change it)"},
    {"45 00", "45 00", NC_STYLE(NC_A_REVERSE, NC_ROLE_ACCENT),
     "the selected layer's bytes in the hex dump"},
    {"0040", "0040", NC_STYLE(0, NC_ROLE_MUTED), "the offset of a hex row, in hexadecimal"},
    {"3 of 14", "3 of 14", NC_STYLE(0, NC_ROLE_MUTED),
     "the packet's place in its connection (n and N: next and previous packet)"},
    NC_LEGEND_END,
};

const nc_legend_t nc_legend_convs[] = {
    {"▸", ">", NC_STYLE(NC_A_BOLD, NC_ROLE_ACCENT),
     "the selected conversation: Enter shows its ladder alone"},
    {"a ↔ b", "a <-> b", NC_PLAIN, "its two endpoints, host and port, either direction"},
    {"1 reset", "1 reset", NC_STYLE(0, NC_ROLE_BAD),
     "its problems: retransmissions, resets, zero windows"},
    NC_LEGEND_END,
};

const nc_legend_t nc_legend_runs[] = {
    {"▸", ">", NC_STYLE(NC_A_BOLD, NC_ROLE_ACCENT), "the selected run: Enter replays it"},
    {"udp", "udp", NC_PLAIN, "the lesson the run came from"},
    {"63 pkts", "63 pkts", NC_STYLE(0, NC_ROLE_MUTED),
     "its packets and events, and the file's size"},
    NC_LEGEND_END,
};
