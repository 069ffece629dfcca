/*
 * stunmsg.h: building and reading STUN messages (stunmsg.c), shared by the
 * TURN relay and the ICE agent. It needs nothing of the kit, so the fuzz
 * harness (tests/fuzz/fuzz_stunmsg.c) builds it alone.
 */
#ifndef NC_KIT_STUNMSG_H
#define NC_KIT_STUNMSG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    NC_STUN_MAX = 1500,
    NC_STUN_BINDING = 0x001,
    NC_STUN_ALLOCATE = 0x003,
    NC_STUN_REFRESH = 0x004,
    NC_STUN_SEND = 0x006,
    NC_STUN_DATA = 0x007,
    NC_STUN_CREATE_PERMISSION = 0x008,
    NC_STUN_CHANNEL_BIND = 0x009,
    NC_STUN_REQUEST = 0, /* classes */
    NC_STUN_INDICATION = 1,
    NC_STUN_SUCCESS = 2,
    NC_STUN_ERROR = 3,
    NC_STUN_USERNAME = 0x0006,
    NC_STUN_MESSAGE_INTEGRITY = 0x0008,
    NC_STUN_ERROR_CODE = 0x0009,
    NC_STUN_CHANNEL_NUMBER = 0x000C,
    NC_STUN_LIFETIME = 0x000D,
    NC_STUN_XOR_PEER_ADDRESS = 0x0012,
    NC_STUN_DATA_ATTR = 0x0013,
    NC_STUN_REALM = 0x0014,
    NC_STUN_NONCE = 0x0015,
    NC_STUN_XOR_RELAYED_ADDRESS = 0x0016,
    NC_STUN_REQUESTED_TRANSPORT = 0x0019,
    NC_STUN_XOR_MAPPED_ADDRESS = 0x0020,
    NC_STUN_PRIORITY = 0x0024,
    NC_STUN_USE_CANDIDATE = 0x0025,
    NC_STUN_SOFTWARE = 0x8022,
    NC_STUN_FINGERPRINT = 0x8028,
    NC_STUN_ICE_CONTROLLED = 0x8029,
    NC_STUN_ICE_CONTROLLING = 0x802A,
};

/* A message being built: always whole (the header's length follows). */
typedef struct nc__stun_buf {
    uint8_t m[NC_STUN_MAX];
    size_t n;
} nc__stun_buf_t;

/* A message read from a datagram (borrowed): every attribute fits. */
typedef struct nc__stun_msg {
    const uint8_t *m;
    size_t n;
    uint16_t type;
    uint8_t tid[12];
} nc__stun_msg_t;

/* Starts a message of type with transaction id tid (NULL: a random one). */
void nc__stun_begin(nc__stun_buf_t *b, uint16_t type, const uint8_t tid[12]);
void nc__stun_put(nc__stun_buf_t *b, uint16_t type, const void *v, size_t len);
void nc__stun_put32(nc__stun_buf_t *b, uint16_t type, uint32_t v);
void nc__stun_put_xaddr(nc__stun_buf_t *b, uint16_t type, const struct sockaddr_in *a);
/* MESSAGE-INTEGRITY (HMAC-SHA1 with key), then FINGERPRINT: the last two. */
void nc__stun_integrity(nc__stun_buf_t *b, const void *key, size_t keylen);
void nc__stun_fingerprint(nc__stun_buf_t *b);
/* CRC-32 (ISO-HDLC, as zlib's), bit by bit: STUN messages are short. */
uint32_t nc__stun_crc32(const uint8_t *p, size_t n);
/* Reads a message: false unless it is STUN and every attribute fits. */
bool nc__stun_parse(const uint8_t *m, size_t n, nc__stun_msg_t *out);
/* The first attribute of type (its value and *len), or NULL. */
const uint8_t *nc__stun_find(const nc__stun_msg_t *msg, uint16_t type, size_t *len);
bool nc__stun_find_xaddr(const nc__stun_msg_t *msg, uint16_t type, struct sockaddr_in *out);
bool nc__stun_find_u32(const nc__stun_msg_t *msg, uint16_t type, uint32_t *out);
/* A text attribute, NUL-terminated, when it fits in out and holds no NUL. */
bool nc__stun_find_text(const nc__stun_msg_t *msg, uint16_t type, char *out, size_t outlen);
/* Whether the message's MESSAGE-INTEGRITY checks with key. */
bool nc__stun_check_integrity(const nc__stun_msg_t *msg, const void *key, size_t keylen);
/* TURN's long-term key: MD5(user ":" realm ":" password) (RFC 8489 9.2.2). */
void nc__stun_long_term_key(const char *user, const char *realm, const char *password,
                            uint8_t key[16]);
/* "203.0.113.1:40000". */
void nc__stun_addr_text(const struct sockaddr_in *a, char *out, size_t outlen);
/* A type's method and class, and the type of a method and class. */
uint16_t nc__stun_method(uint16_t type);
unsigned nc__stun_class(uint16_t type);
uint16_t nc__stun_type(uint16_t method, unsigned cls);

#endif
