/*
 * runfile.h: saved runs, the file format.
 *
 * A saved run is one pcapng file that Wireshark opens as it is:
 *
 *   SHB                 shb_userappl "netcourse VERSION"
 *   DSB                 when the run's programs used TLS: their secrets as a
 *                       key log (SSLKEYLOGFILE lines), so Wireshark decrypts
 *                       the run with no key file given
 *   IDB per interface   if_name (the lab port: "c0", "s0", "lo"), if_tsresol=9
 *   EPB per packet      in timeline order, so Wireshark's frame N is the run's
 *                       Nth packet; opt_comment = the event's note
 *   Custom Block        (type 0x40000BAD, PEN 32473) after the last packet, so
 *                       it renumbers no frame: the rest of the run as text.
 *
 * The Custom Block's payload is "netcourse-run 1\n" and then JSON Lines:
 *
 *   {"netcourse":"0.1.0","lesson":"tcp","seed":1,"link":"...","t0_ns":...,
 *    "packets":N,"events":M,"hosts":{"10.0.0.1":"client",...}}
 *   then, in timeline order, one line per event that is not a packet: the
 *   event exactly as EVENTS.md prints it (it carries its "i"), and
 *   {"p":K,"dropped":false,"wire":{...}} lines: the netcourse-only fields of
 *   packet K (1-based frame number), which hold for every later packet too,
 *   until the next "p" line (so a run whose packets all carry the same wire
 *   decision costs one line).
 *
 * Packets themselves are rebuilt by decoding the frames again (replay.h); the
 * comment replaces the generic annotation, the "p" fields are appended, and
 * the lab's host names come from "hosts". The writer streams: packets go to
 * the file as they are added; only the Custom Block's text is kept in memory.
 */
#ifndef NC_RUNFILE_H
#define NC_RUNFILE_H

#include "../core/event.h"
#include "../core/timeline.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The private enterprise number of the Custom Block: RFC 5612's number for
 * documentation and examples (netcourse has none of its own). */
#define NC_RUNFILE_PEN 32473u
/* First line of the Custom Block's payload. */
#define NC_RUNFILE_MAGIC "netcourse-run 1\n"

/* What a saved run says about itself. */
typedef struct nc_runfile_meta {
    const char *lesson; /* lesson id, or NULL */
    uint64_t seed;
    const char *link;   /* --link override, or NULL */
    int64_t t0_ns;      /* the timeline's t0 (absolute ns) */
    const char *const *ifaces; /* interface names by index (borrowed) */
    size_t nifaces;
    const char *const *host_addrs; /* the lab's hosts: address and name */
    const char *const *host_names;
    size_t nhosts;
    const char *secrets; /* TLS key log lines for a Decryption Secrets Block, or NULL */
    size_t secrets_len;
} nc_runfile_meta_t;

typedef struct nc_runfile_writer nc_runfile_writer_t;

/* Writes a Decryption Secrets Block holding text (len bytes of key log
 * lines, borrowed) now: the packets added after it can be decrypted. */
void nc_runfile_writer_secrets(nc_runfile_writer_t *w, const char *text, size_t len);

/*
 * Creates path (through a temporary file renamed at close, so a reader
 * never sees half a run) and writes the section header. Returns NULL with
 * one sentence in err.
 */
nc_runfile_writer_t *nc_runfile_writer_new(const char *path, const nc_runfile_meta_t *m,
                                           char *err, size_t errlen);
/* Adds the next event of the timeline (borrowed for the call). Events must
 * come in timeline order; ev->i is taken as given. Returns 0 or NC_EIO. */
int nc_runfile_writer_add(nc_runfile_writer_t *w, const nc_event_t *ev);
/* Writes the Custom Block, closes and renames the file. Returns 0, or a
 * negative code with one sentence in err (the partial file is removed).
 * Frees w either way. */
int nc_runfile_writer_close(nc_runfile_writer_t *w, char *err, size_t errlen);
/* Abandons the file (removes it) and frees w. */
void nc_runfile_writer_abort(nc_runfile_writer_t *w);

/* Writes every published event of tl: the three calls above. Returns 0 or a
 * negative code with one sentence in err. */
int nc_runfile_save(const char *path, const nc_timeline_t *tl, const nc_runfile_meta_t *m,
                    char *err, size_t errlen);

/* ---- reading the Custom Block ---- */

/* The header line, parsed. Strings point into `text` (owned here). */
typedef struct nc_runfile_info {
    char *lesson;
    char *version;
    char *link;
    uint64_t seed;
    int64_t t0_ns;
    uint64_t packets, events;
    char **host_addrs, **host_names;
    size_t nhosts;
} nc_runfile_info_t;

/* Parses the header line of a block payload. Returns 0, or NC_EBADDATA
 * with one sentence in err; *body is set to the first line after it. */
int nc_runfile_info_parse(const uint8_t *payload, size_t len, nc_runfile_info_t *out,
                          size_t *body, char *err, size_t errlen);
void nc_runfile_info_done(nc_runfile_info_t *info);

/* One line of the block after the header. */
typedef enum {
    NC_RUNFILE_LINE_EVENT,  /* a whole non-packet event: b is reset and filled */
    NC_RUNFILE_LINE_PACKET, /* the fields of packet *packet (1-based), in b */
} nc_runfile_line_t;

/*
 * Parses one JSON line (without its newline) into b. For an event line, b
 * holds the event (t_ns = the line's "t" in ns, relative) and *index its
 * "i"; for a packet line, b holds just the extra fields and *index the
 * packet number. Returns the line kind (>= 0) or NC_EBADDATA with err.
 */
int nc_runfile_line_parse(const char *line, size_t len, nc_evb_t *b, uint64_t *index,
                          char *err, size_t errlen);

/* Appends the top-level fields of extra (a built packet line) to the packet
 * event in b; a scalar that b already has is replaced in place. Kept for
 * callers of the old name: it is nc_pipeline_apply. */
void nc_runfile_apply(nc_evb_t *b, const nc_evb_t *extra);

#endif
