/*
 * capfile.h: reading capture files (pcapng and classic pcap) from memory.
 *
 * A reader walks a file that is entirely in memory (mapped or read by the
 * caller) and hands out its packets one at a time, in file order, as
 * borrowed views into that memory. It understands:
 *
 *   pcapng   several sections, each with its own byte order (either) and its
 *            own interfaces; Enhanced, Simple and (obsolete) Packet blocks;
 *            if_tsresol / if_tsoffset; opt_comment; Decryption Secrets
 *            Blocks holding a TLS key log; every other block is skipped. A netcourse Custom Block (runfile.h) is remembered.
 *   pcap     micro- and nanosecond magics, both byte orders.
 *
 * Every read is bounds-checked against the end of the buffer. A file that
 * breaks off yields every packet before the break and then NC_ETRUNC, with
 * the byte offset and packet number of the break in the reader's message.
 * The reader does not know which link types netcourse can decode: that is
 * the replay's business (replay.h).
 */
#ifndef NC_CAPFILE_H
#define NC_CAPFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct nc_capfile nc_capfile_t;

typedef enum { NC_CAPFILE_PCAP, NC_CAPFILE_PCAPNG } nc_capfile_format_t;

/* One packet: every pointer borrows the reader's buffer. */
typedef struct nc_capfile_packet {
    uint64_t number;   /* 1-based, as Wireshark numbers frames */
    uint64_t offset;   /* byte offset of its record or block */
    int64_t ts_ns;     /* absolute, nanoseconds since the epoch */
    uint32_t iface;    /* interface index, counted over all sections */
    int linktype;      /* LINKTYPE_* of its interface */
    const uint8_t *data;
    uint32_t caplen, wirelen;
    const char *comment; /* first opt_comment, NOT NUL-terminated, or NULL */
    size_t comment_len;
} nc_capfile_packet_t;

/*
 * Opens a reader over data[0..len) (borrowed; must outlive the reader).
 * Reads the file header (and, for pcapng, the blocks up to the first
 * packet). Returns NULL with one sentence in err when the bytes are not a
 * capture file netcourse can read.
 */
nc_capfile_t *nc_capfile_open(const uint8_t *data, size_t len, char *err, size_t errlen);
void nc_capfile_close(nc_capfile_t *f);

nc_capfile_format_t nc_capfile_format(const nc_capfile_t *f);

/*
 * The next packet. Returns 1 and fills *out, 0 at the clean end of the file,
 * or NC_ETRUNC / NC_EBADDATA with one sentence naming the byte offset and the
 * packet number in err (the packets before it have all been returned).
 */
int nc_capfile_next(nc_capfile_t *f, nc_capfile_packet_t *out, char *err, size_t errlen);

/*
 * Where a reader stands: nc_capfile_tell() before nc_capfile_next() marks
 * that packet, and nc_capfile_seek() puts a reader over the same bytes back
 * there (a replay decodes packets again from saved points this way). A
 * reader seeked to a mark must already know the mark's nifaces interfaces:
 * a reader that has not met them yet is walked forward first to find them.
 */
typedef struct nc_capfile_mark {
    size_t pos, section_base, nifaces;
    uint64_t packets;
    int64_t last_ts;
    bool swap;
} nc_capfile_mark_t;

void nc_capfile_tell(const nc_capfile_t *f, nc_capfile_mark_t *m);
void nc_capfile_seek(nc_capfile_t *f, const nc_capfile_mark_t *m);

/* Interfaces seen so far (pcap: exactly one). */
size_t nc_capfile_iface_count(const nc_capfile_t *f);
int nc_capfile_iface_linktype(const nc_capfile_t *f, size_t iface);
/* if_name, or NULL (borrowed). */
const char *nc_capfile_iface_name(const nc_capfile_t *f, size_t iface);

/*
 * The payload of a Custom Block with private enterprise number pen, if the
 * file's last block is one (found from the file's end, without reading the
 * packets before it). Returns true and sets *data, *len (borrowed).
 */
bool nc_capfile_custom_tail(const nc_capfile_t *f, uint32_t pen, const uint8_t **data,
                            size_t *len);

/*
 * The TLS key log (SSLKEYLOGFILE lines) of the next Decryption Secrets Block
 * read so far and not taken yet: a reader meets them while reading packets,
 * so the caller takes them after each nc_capfile_open / nc_capfile_next,
 * before decoding the packet. Returns true and sets *data, *len (borrowed).
 */
bool nc_capfile_take_secrets(nc_capfile_t *f, const uint8_t **data, size_t *len);

/* Returns a name for a link type ("Ethernet", "Linux cooked (SLL2)", ...) or
 * NULL when netcourse has no name for it. */
const char *nc_capfile_linktype_name(int linktype);

#endif
