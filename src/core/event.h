/*
 * event.h: the event model of EVENTS.md.
 *
 * Everything a student sees is an nc_event_t: a packet, an app event, a
 * socket-state sample, a lesson mark or a note. The members every event has
 * (i, t, type, host, summary, note) are struct members; everything else is a
 * flat token stream of nc_field_t that mirrors the JSON object of the event:
 *
 *   from="client" to="server" proto="tcp" len=74 dropped=false
 *   ip={ version=4 src="10.0.0.1" ... }  tcp={ sport=40112 flags=[ "SYN" ] ... }
 *
 * An object or list opens with an NC_F_OBJ / NC_F_LIST token that carries the
 * key and closes with an NC_F_END token; tokens inside a list have key NULL.
 * Keys that start with '_' are private (for example a layer's "_off"/"_len",
 * its byte range in the packet for the hex view): they are never printed.
 *
 * Events are built with an nc_evb_t (one per producing thread, reused) and
 * copied into the timeline by nc_timeline_add(). A built event can be viewed
 * as an nc_event_t before it is added, so decoders, the wire and annotation
 * rules all read fields through the same lookups as the views do.
 */
#ifndef NC_EVENT_H
#define NC_EVENT_H

#include "arena.h"
#include "buf.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    NC_EV_PACKET,
    NC_EV_APP,
    NC_EV_STATE,
    NC_EV_MARK,
    NC_EV_NOTE,
    NC_EV__COUNT
} nc_event_type_t;

typedef enum {
    NC_F_INT,  /* v.i */
    NC_F_NUM,  /* v.d, printed with up to 9 decimals */
    NC_F_STR,  /* v.s, UTF-8 or not: the JSON writer replaces bad bytes */
    NC_F_BOOL, /* v.b */
    NC_F_OBJ,  /* opens an object, closed by NC_F_END */
    NC_F_LIST, /* opens a list, closed by NC_F_END */
    NC_F_END
} nc_field_kind_t;

typedef struct nc_field {
    const char *key; /* NULL for list elements and NC_F_END */
    uint8_t kind;    /* nc_field_kind_t */
    union {
        int64_t i;
        double d;
        const char *s;
        int b;
    } v;
} nc_field_t;

typedef struct nc_event {
    uint64_t i;      /* position in the timeline; set when published */
    int64_t t_ns;    /* in a builder: absolute CLOCK_REALTIME ns; in the
                        timeline: ns since the run started */
    nc_event_type_t type;
    const char *host;    /* never NULL once built ("" if unknown) */
    const char *summary; /* never NULL once built */
    const char *note;    /* NULL when there is no annotation */
    const nc_field_t *fields;
    uint32_t nfields;
    /* Packets only: the captured bytes and their link type (DLT_*). */
    const uint8_t *data;
    uint32_t caplen;
    uint32_t wirelen;
    int linktype;
    uint32_t iface; /* index of the capture interface, for saved runs */
} nc_event_t;

/* Returns "packet", "app", "state", "mark" or "note". */
const char *nc_event_type_name(nc_event_type_t type);
/* Returns the type for a name, or -1. */
int nc_event_type_parse(const char *name);

/*
 * Field lookups. A path is dot-separated keys ("tcp.flags", "ip.src"); the
 * first match in document order wins, so inside a list of objects the first
 * element that has the key answers. Returns the token (for objects and lists,
 * the opening token) or NULL.
 */
const nc_field_t *nc_fields_get(const nc_field_t *f, uint32_t n, const char *path);
/* Returns the index just past the value that starts at index idx. */
uint32_t nc_fields_skip(const nc_field_t *f, uint32_t n, uint32_t idx);

const nc_field_t *nc_event_get(const nc_event_t *ev, const char *path);
/* Typed lookups: true when the path exists with a compatible kind. */
bool nc_event_int(const nc_event_t *ev, const char *path, int64_t *out);
bool nc_event_bool(const nc_event_t *ev, const char *path); /* false if absent */
const char *nc_event_str(const nc_event_t *ev, const char *path); /* NULL if absent */
/* True when the list at path holds the string s (e.g. "tcp.flags", "SYN"). */
bool nc_event_has(const nc_event_t *ev, const char *path, const char *s);

/*
 * Appends the text form of a value: strings as they are, numbers in decimal,
 * booleans as true/false, lists as their elements joined with ",", objects as
 * compact JSON. Also answers the pseudo-paths "i", "t", "type", "host",
 * "summary" and "note". Returns false (appending nothing) when absent.
 */
bool nc_event_value(const nc_event_t *ev, const char *path, nc_buf_t *out);
/* The same for the event's fields only: "type" or "host" is a field of that
 * name, not the event's own (an object of a list, read as an event). */
bool nc_event_field_value(const nc_event_t *ev, const char *path, nc_buf_t *out);

/* Appends the value that starts at f[k] as JSON (private '_' keys left out)
 * and returns the index just past it. Numbers are printed as the event
 * stream prints them, or with exact set, with 17 significant digits so
 * that they read back to the same double (saved runs). */
uint32_t nc_fields_json(const nc_field_t *f, uint32_t n, uint32_t k, bool exact, nc_buf_t *out);

/* Appends the event as one line of JSON (no newline), EVENTS.md layout. */
void nc_event_json(const nc_event_t *ev, nc_buf_t *out);

/* Appends the event as the text ladder prints it (`run --headless`,
 * `replay --dump`): index, time, type, who (a packet's "from -> to", "-x"
 * when dropped), summary, newline, and the note on a line of its own. */
void nc_event_text(const nc_event_t *ev, nc_buf_t *out);

/*
 * The builder. Embed one per producing thread; nc_evb_reset() starts a new
 * event. Strings and bytes passed in are copied into the builder's arena.
 */
typedef struct nc_evb {
    nc_event_t ev;
    nc_arena_t arena;
    nc_field_t *fields;
    uint32_t nfields, cap;
    int depth;
    nc_buf_t note; /* annotation being assembled; see nc_evb_note() */
} nc_evb_t;

void nc_evb_init(nc_evb_t *b);
void nc_evb_done(nc_evb_t *b);
/* Starts a new event of this type at absolute time t_ns (CLOCK_REALTIME). */
void nc_evb_reset(nc_evb_t *b, nc_event_type_t type, int64_t t_ns);
void nc_evb_host(nc_evb_t *b, const char *host);
void nc_evb_summary(nc_evb_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends a sentence to the note (a space separates sentences). */
void nc_evb_note(nc_evb_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prepends: for notes that must come first (a lesson's own note). */
void nc_evb_note_first(nc_evb_t *b, const char *text);
void nc_evb_data(nc_evb_t *b, const uint8_t *data, uint32_t caplen, uint32_t wirelen,
                 int linktype);

/* key is copied unless it is a string literal the caller guarantees to be
 * static: all keys are copied, so any string works. key NULL inside lists. */
void nc_evb_int(nc_evb_t *b, const char *key, int64_t v);
void nc_evb_num(nc_evb_t *b, const char *key, double v);
void nc_evb_str(nc_evb_t *b, const char *key, const char *s);
void nc_evb_strn(nc_evb_t *b, const char *key, const char *s, size_t n);
void nc_evb_strf(nc_evb_t *b, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void nc_evb_bool(nc_evb_t *b, const char *key, bool v);
void nc_evb_obj(nc_evb_t *b, const char *key);
void nc_evb_list(nc_evb_t *b, const char *key);
void nc_evb_end(nc_evb_t *b);
/* Returns a mutable token for path (to change a value already added). */
nc_field_t *nc_evb_find(nc_evb_t *b, const char *path);

/* Returns a view of the event as built so far (borrowed; valid until the
 * next change to b). Open objects are not closed in the view. */
const nc_event_t *nc_evb_view(nc_evb_t *b);

#endif
