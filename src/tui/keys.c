/*
 * keys.c: the key table.
 *
 * nc_keymap lists every binding, in the order the help overlay shows them:
 * arrows first, then their vi equivalents. nc_actions gives each action a
 * footer label and a help sentence. Adding a binding is adding a line here;
 * the help overlay and footers follow by themselves, and a test checks that
 * the man page's KEYS section names every key with the same sentence.
 * Keys that only mean something in one place (a checkpoint's letters, the
 * class keys) are bound here too, so that help lists them.
 */
#include "keys.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const struct {
    int key;
    nc_action_t action;
} nc_keymap[] = {
    {NC_KEY_UP, NC_ACT_UP},       {'k', NC_ACT_UP},
    {NC_KEY_DOWN, NC_ACT_DOWN},   {'j', NC_ACT_DOWN},
    {NC_KEY_LEFT, NC_ACT_LEFT},   {'h', NC_ACT_LEFT},
    {NC_KEY_RIGHT, NC_ACT_RIGHT}, {'l', NC_ACT_RIGHT},
    {NC_KEY_HOME, NC_ACT_TOP},    {'g', NC_ACT_TOP},
    {'G', NC_ACT_BOTTOM},         {NC_KEY_PGUP, NC_ACT_PGUP},
    {NC_KEY_BACKSPACE, NC_ACT_PGUP}, {NC_KEY_PGDN, NC_ACT_PGDN},
    {NC_KEY_ENTER, NC_ACT_OPEN},  {' ', NC_ACT_NEXT},
    {'r', NC_ACT_RUN},            {'i', NC_ACT_INSPECT},
    {'f', NC_ACT_FOLLOW},         {'F', NC_ACT_LIVE},
    {NC_KEY_END, NC_ACT_LIVE},    {NC_KEY_TAB, NC_ACT_TAB},
    {'p', NC_ACT_PLAY},           {',', NC_ACT_STEP},
    {'.', NC_ACT_STEP},           {'<', NC_ACT_SEEK},
    {'>', NC_ACT_SEEK},           {'[', NC_ACT_MARK},
    {']', NC_ACT_MARK},           {'-', NC_ACT_SPEED},
    {'+', NC_ACT_SPEED},          {'P', NC_ACT_PACED},
    {'s', NC_ACT_SAVE},
    {'/', NC_ACT_SEARCH},         {'n', NC_ACT_PACKET},
    {'N', NC_ACT_PACKET},         {':', NC_ACT_GOTO},
    {'&', NC_ACT_FILTER},         {'C', NC_ACT_CONVS},
    {'T', NC_ACT_TABLE},          {'S', NC_ACT_LANES},
    {'a', NC_ACT_ANSWER},         {'b', NC_ACT_ANSWER},
    {'c', NC_ACT_ANSWER},         {'d', NC_ACT_ANSWER},
    {'u', NC_ACT_EXPLORE},        {'H', NC_ACT_HAND},
    {'R', NC_ACT_RUNS},           {'!', NC_ACT_SHELL},
    {'?', NC_ACT_HELP},           {NC_KEY_ESC, NC_ACT_BACK},
    {'q', NC_ACT_QUIT},
};

static const struct {
    const char *label;
    const char *help;
} nc_actions[NC_ACT__COUNT] = {
    [NC_ACT_NONE] = {"", ""},
    [NC_ACT_UP] = {"up", "move up / scroll up"},
    [NC_ACT_DOWN] = {"down", "move down / scroll down"},
    [NC_ACT_LEFT] = {"prev", "previous page; inspector: previous layer"},
    [NC_ACT_RIGHT] = {"next", "next page; inspector: next layer"},
    [NC_ACT_TOP] = {"top", "go to the first item"},
    [NC_ACT_BOTTOM] = {"bottom", "go to the last item"},
    [NC_ACT_PGUP] = {"page up", "scroll one screen up"},
    [NC_ACT_PGDN] = {"page down", "scroll one screen down"},
    [NC_ACT_OPEN] = {"open", "open the selected lesson, packet or run, or continue; "
                             "dashboard: open, then reveal, a checkpoint"},
    [NC_ACT_NEXT] = {"more", "scroll down, then go to the next page; dashboard: the "
                             "class's next step"},
    [NC_ACT_RUN] = {"run", "start the lesson's live run (asks before replacing one); "
                           "dashboard: a run for the whole class"},
    [NC_ACT_INSPECT] = {"inspect", "inspect the selected packet's layers and bytes"},
    [NC_ACT_FOLLOW] = {"follow", "follow the newest event on or off"},
    [NC_ACT_LIVE] = {"live", "jump to the newest event and follow it; in a class, "
                             "back to the instructor"},
    [NC_ACT_TAB] = {"layer", "inspector: next layer; dashboard: the instructor's own "
                             "timeline"},
    [NC_ACT_PLAY] = {"play", "replay: play or pause"},
    [NC_ACT_STEP] = {"step", "replay: one event back / forward"},
    [NC_ACT_SEEK] = {"seek", "replay: go to the start / the end"},
    [NC_ACT_MARK] = {"steps", "replay: go to the previous / next lesson step"},
    [NC_ACT_SPEED] = {"speed", "replay: slower / faster (x0.25 to x16; paced: 8 to 0.125 s an "
                               "event)"},
    [NC_ACT_PACED] = {"paced", "replay: paced mode on or off: one event at a time, pausing at "
                               "each lesson step"},
    [NC_ACT_SAVE] = {"save", "save the run as a pcapng file (Wireshark opens it)"},
    [NC_ACT_PACKET] = {"next", "ladder: next / previous search hit; inspector: next / previous "
                               "packet, same layer"},
    [NC_ACT_SEARCH] = {"search", "ladder: search the summaries and notes (n / N: the next / "
                                 "previous hit)"},
    [NC_ACT_GOTO] = {"go to", "ladder: go to an event by its number (:12 for #12)"},
    [NC_ACT_FILTER] = {"filter", "ladder: show only the events a matcher accepts "
                                 "(tcp.flags~RST, http.status>=500); empty shows all"},
    [NC_ACT_CONVS] = {"conversations", "ladder: every TCP and UDP conversation; Enter shows "
                                       "one alone"},
    [NC_ACT_TABLE] = {"comparison", "ladder: the run's comparison table, in a lesson that "
                                    "compares ways of doing one thing"},
    [NC_ACT_LANES] = {"streams", "ladder: one lane per stream of the selected HTTP/2 or QUIC "
                                 "connection (per connection of an HTTP/1.1 pool), or one per "
                                 "host again"},
    [NC_ACT_ANSWER] = {"answer", "answer the open checkpoint with that choice"},
    [NC_ACT_EXPLORE] = {"explore", "in a class: explore on your own, or follow again"},
    [NC_ACT_HAND] = {"hand", "in a class: raise or lower your hand"},
    [NC_ACT_RUNS] = {"runs", "the saved runs; Enter replays one (not in a class)"},
    [NC_ACT_SHELL] = {"shell", "ladder, once the run is over and while its lab is up: your "
                               "shell on a lab host; what you do there joins the ladder"},
    [NC_ACT_HELP] = {"help", "show or hide the keys and this screen's legend"},
    [NC_ACT_BACK] = {"back", "go back"},
    [NC_ACT_QUIT] = {"quit", "go back; on the course map, quit; on the dashboard, end the "
                             "class (asks first while students are connected)"},
};

nc_action_t nc_key_action(int key)
{
    if (key == '\r')
        key = NC_KEY_ENTER;
    for (size_t i = 0; i < sizeof nc_keymap / sizeof nc_keymap[0]; i++)
        if (nc_keymap[i].key == key)
            return nc_keymap[i].action;
    return NC_ACT_NONE;
}

const char *nc_action_label(nc_action_t a)
{
    return (unsigned)a < NC_ACT__COUNT ? nc_actions[a].label : "";
}

const char *nc_action_help(nc_action_t a)
{
    return (unsigned)a < NC_ACT__COUNT ? nc_actions[a].help : "";
}

static const struct {
    int key;
    const char *utf8, *ascii;
} nc_keynames[] = {
    {NC_KEY_UP, "↑", "Up"},         {NC_KEY_DOWN, "↓", "Down"},
    {NC_KEY_LEFT, "←", "Left"},     {NC_KEY_RIGHT, "→", "Right"},
    {NC_KEY_HOME, "Home", "Home"},  {NC_KEY_END, "End", "End"},
    {NC_KEY_PGUP, "PgUp", "PgUp"},  {NC_KEY_PGDN, "PgDn", "PgDn"},
    {NC_KEY_ENTER, "Enter", "Enter"}, {NC_KEY_ESC, "Esc", "Esc"},
    {NC_KEY_TAB, "Tab", "Tab"},     {NC_KEY_BTAB, "S-Tab", "S-Tab"},
    {NC_KEY_BACKSPACE, "Bksp", "Bksp"}, {' ', "Space", "Space"},
};

const char *nc_key_name(int key, char *buf, size_t len, int utf8)
{
    for (size_t i = 0; i < sizeof nc_keynames / sizeof nc_keynames[0]; i++)
        if (nc_keynames[i].key == key)
            return utf8 ? nc_keynames[i].utf8 : nc_keynames[i].ascii;
    if (key > 0x20 && key < 0x7F)
        snprintf(buf, len, "%c", key);
    else
        snprintf(buf, len, "#%d", key);
    return buf;
}

char *nc_action_keys(nc_action_t a, const char *sep, char *buf, size_t len, int utf8)
{
    size_t at = 0;
    if (len == 0)
        return buf;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof nc_keymap / sizeof nc_keymap[0]; i++) {
        if (nc_keymap[i].action != a)
            continue;
        char tmp[16];
        const char *name = nc_key_name(nc_keymap[i].key, tmp, sizeof tmp, utf8);
        int n = snprintf(buf + at, len - at, "%s%s", at ? sep : "", name);
        if (n < 0 || (size_t)n >= len - at)
            break;
        at += (size_t)n;
    }
    return buf;
}

size_t nc_key_actions(nc_action_t *out)
{
    size_t n = 0;
    bool seen[NC_ACT__COUNT] = {false};
    for (size_t i = 0; i < sizeof nc_keymap / sizeof nc_keymap[0]; i++) {
        nc_action_t a = nc_keymap[i].action;
        if (seen[a])
            continue;
        seen[a] = true;
        if (out)
            out[n] = a;
        n++;
    }
    return n;
}
