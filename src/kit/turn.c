/*
 * turn.c: a TURN relay (RFC 8656, the subset a lesson needs) on libuv UDP.
 *
 * Data model. An nc_kit_turn_t is one UDP socket on the TURN host (the
 * "server transport address" clients talk to) and a table of at most
 * max allocations. An allocation belongs to one client 5-tuple (the
 * client's public address and port as the server sees them, after any
 * NAT) and owns a relay socket of its own (the "relayed transport
 * address", a port on the TURN host), its permissions (peer IP addresses
 * that may send to the relay, at most NC_TURN_PERMS, 300 s each) and its
 * channels (a number 0x4000-0x7FFF bound to one peer address, at most
 * NC_TURN_CHANNELS, 600 s each). Each allocation is its own allocation in
 * memory, since its relay socket closes asynchronously; the server frees
 * itself when its socket, its sweep timer and every relay socket are
 * closed.
 *
 * What it does:
 *   Allocate         with long-term credentials (a fixed user, password and
 *                    realm; the first request without them gets 401 with
 *                    REALM and NONCE), REQUESTED-TRANSPORT UDP; answered
 *                    with XOR-RELAYED-ADDRESS, XOR-MAPPED-ADDRESS, LIFETIME;
 *   Refresh          a new lifetime, or 0: the allocation is released;
 *   CreatePermission each XOR-PEER-ADDRESS's IP may now send to the relay;
 *   ChannelBind      a channel number for a peer (and its permission; RFC
 *                    8656's 0x4000-0x4FFF, or RFC 5766's wider 0x4000-
 *                    0x7FFF, which coturn's client uses);
 *   Send indication  DATA goes from the relay to XOR-PEER-ADDRESS, when
 *                    the peer has a permission (otherwise it is dropped);
 *   ChannelData      the same, 4 bytes of framing instead of 36;
 *   from a peer      to the relay, with a permission, goes to the client
 *                    as ChannelData when a channel is bound to the peer,
 *                    else as a Data indication; without one it is dropped.
 * Every authenticated request is checked with MESSAGE-INTEGRITY (HMAC-SHA1
 * with MD5(user:realm:password)) and answered with one. A request from a
 * client without an allocation (other than Allocate) gets 437; a full
 * table 486; a full permission or channel list 508. Nothing an unknown
 * client sends makes the server keep state: its 401 is computed from the
 * request alone.
 *
 * Reports: every decision is an app event ("allocate", "permission",
 * "channel", "relay", "refresh", "release", "expire", "refuse") with the
 * client, peer and relay addresses; a hostile client could send without
 * end, so after NC_TURN_REPORTS events the server only counts, and says
 * once that it does; 401 challenges, which anyone may ask for, are
 * reported NC_TURN_CHALLENGES times at most.
 */
#include "kit_impl.h"

#include "../core/xmalloc.h"

#include <arpa/inet.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    NC_TURN_PERMS = 8,
    NC_TURN_CHANNELS = 8,
    NC_TURN_MAX_ALLOCS = 64,
    NC_TURN_REPORTS = 400,
    NC_TURN_CHALLENGES = 20, /* 401s reported, of the budget: anyone can ask for them */
    NC_TURN_PERM_MS = 300000,
    NC_TURN_CHANNEL_MS = 600000,
    NC_TURN_SWEEP_MS = 200,
};

typedef struct turn_alloc turn_alloc_t;

struct nc_kit_turn {
    uv_udp_t udp; /* must stay first */
    uv_timer_t sweep;
    nc_kit_t *k;
    int port;
    int open_handles;
    bool closing;
    char user[64], realm[64], password[64], nonce[33];
    uint8_t key[16];
    int lifetime_s;
    size_t max;
    turn_alloc_t *allocs[NC_TURN_MAX_ALLOCS];
    size_t nallocs, peak;
    size_t reports, unreported, challenges;
};

typedef struct turn_perm {
    uint32_t addr; /* network order */
    uint64_t expires;
} turn_perm_t;

typedef struct turn_channel {
    uint16_t number;
    struct sockaddr_in peer;
    uint64_t expires;
} turn_channel_t;

struct turn_alloc {
    uv_udp_t relay; /* must stay first */
    nc_kit_turn_t *t;
    struct sockaddr_in client, relayed;
    uint8_t tid[12]; /* the Allocate that made it (a retransmission is answered again) */
    uint64_t expires;
    turn_perm_t perms[NC_TURN_PERMS];
    size_t nperms;
    turn_channel_t chans[NC_TURN_CHANNELS];
    size_t nchans;
};

/* Reports an app event unless the budget is spent (then counts it). */
#define TURN_REPORT(t, call, kv, nkv, ...)                                                         \
    do {                                                                                           \
        if ((t)->reports < NC_TURN_REPORTS) {                                                      \
            (t)->reports++;                                                                        \
            nc_kit_report((t)->k, NULL, call, kv, nkv, NULL, __VA_ARGS__);                         \
        } else if ((t)->unreported++ == 0) {                                                       \
            nc_kit_report((t)->k, NULL, "quiet", NULL, 0, NULL,                                    \
                          "the TURN server has reported %d events: from now on it only counts "  \
                          "them",                                                                  \
                          NC_TURN_REPORTS);                                                        \
        }                                                                                          \
    } while (0)

static void turn_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    nc_scn_alloc(h, suggested, buf);
}

static void turn_handle_closed(uv_handle_t *h)
{
    nc_kit_turn_t *t = h->data;
    if (--t->open_handles == 0)
        free(t);
}

static void turn_relay_closed(uv_handle_t *h)
{
    turn_alloc_t *a = (turn_alloc_t *)h;
    nc_kit_turn_t *t = a->t;
    free(a);
    if (--t->open_handles == 0)
        free(t);
}

static void turn_sent(uv_udp_send_t *req, int status)
{
    free(req);
}

static void turn_sendto(uv_udp_t *h, const void *m, size_t n, const struct sockaddr_in *to)
{
    uv_udp_send_t *req = nc_xmalloc(sizeof *req + n);
    memcpy(req + 1, m, n);
    uv_buf_t b = uv_buf_init((char *)(req + 1), (unsigned)n);
    nc_scn_call_begin("sendto");
    if (uv_udp_send(req, h, &b, 1, (const struct sockaddr *)to, turn_sent) != 0)
        free(req);
}

static bool same_endpoint(const struct sockaddr_in *a, const struct sockaddr_in *b)
{
    return a->sin_addr.s_addr == b->sin_addr.s_addr && a->sin_port == b->sin_port;
}

static turn_alloc_t *alloc_of(nc_kit_turn_t *t, const struct sockaddr_in *client)
{
    for (size_t i = 0; i < t->nallocs; i++)
        if (same_endpoint(&t->allocs[i]->client, client))
            return t->allocs[i];
    return NULL;
}

static void alloc_release(nc_kit_turn_t *t, size_t i)
{
    turn_alloc_t *a = t->allocs[i];
    t->allocs[i] = t->allocs[--t->nallocs];
    uv_close((uv_handle_t *)&a->relay, turn_relay_closed);
}

static const char *error_reason(int code)
{
    static const struct {
        int code;
        const char *reason;
    } reasons[] = {
        {400, "Bad Request"},        {401, "Unauthorized"},         {437, "Allocation Mismatch"},
        {438, "Stale Nonce"},        {442, "Unsupported Transport Protocol"},
        {486, "Allocation Quota Reached"}, {508, "Insufficient Capacity"},
    };
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (reasons[i].code == code)
            return reasons[i].reason;
    return "Error";
}

/* Answers a request with an error; 401 and 438 carry the realm and a
 * nonce, and an authenticated request's answer carries integrity. */
static void answer_error(nc_kit_turn_t *t, const nc__stun_msg_t *req,
                         const struct sockaddr_in *from, int code, bool integrity,
                         const char *why)
{
    nc__stun_buf_t b;
    nc__stun_begin(&b, nc__stun_type(nc__stun_method(req->type), NC_STUN_ERROR), req->tid);
    const char *reason = error_reason(code);
    uint8_t ec[64] = {0, 0, (uint8_t)(code / 100), (uint8_t)(code % 100)};
    size_t rl = strlen(reason);
    memcpy(ec + 4, reason, rl);
    nc__stun_put(&b, NC_STUN_ERROR_CODE, ec, 4 + rl);
    if (code == 401 || code == 438) {
        nc__stun_put(&b, NC_STUN_REALM, t->realm, strlen(t->realm));
        nc__stun_put(&b, NC_STUN_NONCE, t->nonce, strlen(t->nonce));
    }
    nc__stun_put(&b, NC_STUN_SOFTWARE, "netcourse", 9);
    if (integrity)
        nc__stun_integrity(&b, t->key, sizeof t->key);
    nc__stun_fingerprint(&b);
    turn_sendto(&t->udp, b.m, b.n, from);
    if (code == 401 && ++t->challenges > NC_TURN_CHALLENGES) {
        t->unreported++; /* a flood of them must not spend the reports */
        return;
    }
    char who[64];
    nc__stun_addr_text(from, who, sizeof who);
    TURN_REPORT(t, "refuse",
                ((nc_scn_kv_t[]){NC_KV_S("client", who), NC_KV_I("error", code),
                                 NC_KV_S("reason", reason)}),
                3, "sendto(): %d %s to %s: %s", code, reason, who, why);
}

/* The long-term credential check of an authenticated request: 0 when it
 * passes, else the error code to answer. */
static int check_auth(nc_kit_turn_t *t, const nc__stun_msg_t *req)
{
    char user[64], realm[64], nonce[64];
    size_t milen;
    if (!nc__stun_find(req, NC_STUN_MESSAGE_INTEGRITY, &milen) ||
        !nc__stun_find_text(req, NC_STUN_USERNAME, user, sizeof user) ||
        !nc__stun_find_text(req, NC_STUN_REALM, realm, sizeof realm) ||
        !nc__stun_find_text(req, NC_STUN_NONCE, nonce, sizeof nonce))
        return 401;
    if (strcmp(nonce, t->nonce) != 0)
        return 438;
    if (strcmp(user, t->user) != 0 || strcmp(realm, t->realm) != 0 ||
        !nc__stun_check_integrity(req, t->key, sizeof t->key))
        return 401;
    return 0;
}

static void answer_success(nc_kit_turn_t *t, const nc__stun_msg_t *req,
                           const struct sockaddr_in *to, nc__stun_buf_t *b)
{
    nc__stun_put(b, NC_STUN_SOFTWARE, "netcourse", 9);
    nc__stun_integrity(b, t->key, sizeof t->key);
    nc__stun_fingerprint(b);
    turn_sendto(&t->udp, b->m, b->n, to);
}

static void relay_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *addr,
                       unsigned flags);

static void allocate(nc_kit_turn_t *t, const nc__stun_msg_t *req, const struct sockaddr_in *from)
{
    char who[64];
    nc__stun_addr_text(from, who, sizeof who);
    turn_alloc_t *a = alloc_of(t, from);
    if (a && memcmp(a->tid, req->tid, 12) != 0) {
        answer_error(t, req, from, 437, true, "this address already has an allocation");
        return;
    }
    if (!a) {
        uint32_t transport;
        if (!nc__stun_find_u32(req, NC_STUN_REQUESTED_TRANSPORT, &transport)) {
            answer_error(t, req, from, 400, true, "an Allocate must say which transport");
            return;
        }
        if ((transport >> 24) != 17) {
            answer_error(t, req, from, 442, true, "this relay relays UDP only");
            return;
        }
        if (t->nallocs >= t->max) {
            answer_error(t, req, from, 486, true, "every allocation this server allows is taken");
            return;
        }
        a = nc_xcalloc(1, sizeof *a);
        a->t = t;
        a->client = *from;
        memcpy(a->tid, req->tid, 12);
        uv_udp_init(nc_kit_loop(t->k), &a->relay);
        a->relay.data = a;
        t->open_handles++;
        struct sockaddr_in me;
        int rc = uv_ip4_addr(nc_scn_addr(nc_kit_scn(t->k), nc_kit_host(t->k)), 0, &me);
        if (rc == 0)
            rc = uv_udp_bind(&a->relay, (const struct sockaddr *)&me, 0);
        if (rc == 0)
            rc = uv_udp_recv_start(&a->relay, turn_alloc_cb, relay_recv);
        int alen = sizeof a->relayed;
        if (rc == 0)
            rc = uv_udp_getsockname(&a->relay, (struct sockaddr *)&a->relayed, &alen);
        if (rc != 0) {
            uv_close((uv_handle_t *)&a->relay, turn_relay_closed);
            answer_error(t, req, from, 508, true, "no relay socket could be opened");
            return;
        }
        t->allocs[t->nallocs++] = a;
        if (t->nallocs > t->peak)
            t->peak = t->nallocs;
    }
    uint32_t life = (uint32_t)t->lifetime_s;
    a->expires = uv_now(nc_kit_loop(t->k)) + (uint64_t)life * 1000;
    nc__stun_buf_t b;
    nc__stun_begin(&b, nc__stun_type(NC_STUN_ALLOCATE, NC_STUN_SUCCESS), req->tid);
    nc__stun_put_xaddr(&b, NC_STUN_XOR_RELAYED_ADDRESS, &a->relayed);
    nc__stun_put32(&b, NC_STUN_LIFETIME, life);
    nc__stun_put_xaddr(&b, NC_STUN_XOR_MAPPED_ADDRESS, from);
    answer_success(t, req, from, &b);
    char relayed[64];
    nc__stun_addr_text(&a->relayed, relayed, sizeof relayed);
    TURN_REPORT(t, "allocate",
                ((nc_scn_kv_t[]){NC_KV_S("client", who), NC_KV_S("relayed", relayed),
                                 NC_KV_S("mapped", who), NC_KV_I("lifetime", life),
                                 NC_KV_I("allocations", t->nallocs)}),
                5, "allocate: %s gets the relayed address %s for %u s (it is seen as %s)", who,
                relayed, life, who);
}

static void refresh(nc_kit_turn_t *t, turn_alloc_t *a, const nc__stun_msg_t *req)
{
    uint32_t life = (uint32_t)t->lifetime_s;
    nc__stun_find_u32(req, NC_STUN_LIFETIME, &life);
    if (life > 3600)
        life = 3600;
    nc__stun_buf_t b;
    nc__stun_begin(&b, nc__stun_type(NC_STUN_REFRESH, NC_STUN_SUCCESS), req->tid);
    nc__stun_put32(&b, NC_STUN_LIFETIME, life);
    struct sockaddr_in client = a->client;
    answer_success(t, req, &client, &b);
    char who[64];
    nc__stun_addr_text(&client, who, sizeof who);
    if (life == 0) {
        for (size_t i = 0; i < t->nallocs; i++)
            if (t->allocs[i] == a) {
                alloc_release(t, i);
                break;
            }
        TURN_REPORT(t, "release",
                    ((nc_scn_kv_t[]){NC_KV_S("client", who), NC_KV_I("allocations", t->nallocs)}),
                    2, "release: %s asked for lifetime 0, so its allocation is gone", who);
        return;
    }
    a->expires = uv_now(nc_kit_loop(t->k)) + (uint64_t)life * 1000;
    TURN_REPORT(t, "refresh", ((nc_scn_kv_t[]){NC_KV_S("client", who), NC_KV_I("lifetime", life)}),
                2, "refresh: %s's allocation lives %u s more", who, life);
}

static turn_perm_t *perm_of(turn_alloc_t *a, uint32_t addr)
{
    for (size_t i = 0; i < a->nperms; i++)
        if (a->perms[i].addr == addr)
            return &a->perms[i];
    return NULL;
}

/* Installs or refreshes a permission; false when the list is full. */
static bool perm_add(turn_alloc_t *a, uint32_t addr, uint64_t now)
{
    turn_perm_t *p = perm_of(a, addr);
    if (!p) {
        if (a->nperms == NC_TURN_PERMS)
            return false;
        p = &a->perms[a->nperms++];
        p->addr = addr;
    }
    p->expires = now + NC_TURN_PERM_MS;
    return true;
}

static void create_permission(nc_kit_turn_t *t, turn_alloc_t *a, const nc__stun_msg_t *req)
{
    /* Every XOR-PEER-ADDRESS of the request: all or none are installed. */
    struct sockaddr_in peers[NC_TURN_PERMS];
    size_t npeers = 0;
    nc__stun_msg_t rest = *req;
    for (size_t off = 20; off + 4 <= req->n;) {
        uint16_t type = (uint16_t)(req->m[off] << 8 | req->m[off + 1]);
        size_t alen = (size_t)(req->m[off + 2] << 8 | req->m[off + 3]);
        if (type == NC_STUN_XOR_PEER_ADDRESS) {
            rest.m = req->m + off - 20; /* a view whose first attribute is this one */
            rest.n = 20 + 4 + alen;
            if (npeers == NC_TURN_PERMS ||
                !nc__stun_find_xaddr(&rest, NC_STUN_XOR_PEER_ADDRESS, &peers[npeers])) {
                answer_error(t, req, &a->client, npeers == NC_TURN_PERMS ? 508 : 400, true,
                             "too many or malformed peer addresses");
                return;
            }
            npeers++;
        }
        off += 4 + ((alen + 3) & ~(size_t)3);
    }
    if (npeers == 0) {
        answer_error(t, req, &a->client, 400, true, "a CreatePermission names no peer");
        return;
    }
    size_t fresh = 0;
    for (size_t i = 0; i < npeers; i++)
        if (!perm_of(a, peers[i].sin_addr.s_addr))
            fresh++;
    if (a->nperms + fresh > NC_TURN_PERMS) {
        answer_error(t, req, &a->client, 508, true, "the allocation holds all the permissions "
                                                    "it may");
        return;
    }
    uint64_t now = uv_now(nc_kit_loop(t->k));
    char who[64], relayed[64];
    nc__stun_addr_text(&a->client, who, sizeof who);
    nc__stun_addr_text(&a->relayed, relayed, sizeof relayed);
    for (size_t i = 0; i < npeers; i++) {
        perm_add(a, peers[i].sin_addr.s_addr, now);
        char ip[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &peers[i].sin_addr, ip, sizeof ip);
        TURN_REPORT(t, "permission",
                    ((nc_scn_kv_t[]){NC_KV_S("client", who), NC_KV_S("peer", ip),
                                     NC_KV_S("relayed", relayed),
                                     NC_KV_I("permissions", a->nperms)}),
                    4, "permission: %s may now send to %s's relayed address %s", ip, who, relayed);
    }
    nc__stun_buf_t b;
    nc__stun_begin(&b, nc__stun_type(NC_STUN_CREATE_PERMISSION, NC_STUN_SUCCESS), req->tid);
    answer_success(t, req, &a->client, &b);
}

static void channel_bind(nc_kit_turn_t *t, turn_alloc_t *a, const nc__stun_msg_t *req)
{
    uint32_t cn;
    struct sockaddr_in peer;
    if (!nc__stun_find_u32(req, NC_STUN_CHANNEL_NUMBER, &cn) ||
        !nc__stun_find_xaddr(req, NC_STUN_XOR_PEER_ADDRESS, &peer) || (cn >> 16) < 0x4000 ||
        (cn >> 16) > 0x7FFF) {
        /* RFC 8656 gives 0x4000-0x4FFF; RFC 5766's 0x4000-0x7FFF, which
         * coturn's clients still use, is taken too. */
        answer_error(t, req, &a->client, 400, true, "a ChannelBind needs a channel number "
                                                    "0x4000-0x7FFF and a peer");
        return;
    }
    uint16_t number = (uint16_t)(cn >> 16);
    turn_channel_t *c = NULL;
    for (size_t i = 0; i < a->nchans; i++) {
        bool num = a->chans[i].number == number, addr = same_endpoint(&a->chans[i].peer, &peer);
        if (num != addr) {
            answer_error(t, req, &a->client, 400, true, "that channel or that peer is bound "
                                                        "already");
            return;
        }
        if (num)
            c = &a->chans[i];
    }
    uint64_t now = uv_now(nc_kit_loop(t->k));
    if ((!c && a->nchans == NC_TURN_CHANNELS) ||
        (!perm_of(a, peer.sin_addr.s_addr) && a->nperms == NC_TURN_PERMS)) {
        answer_error(t, req, &a->client, 508, true, "the allocation holds all the channels it "
                                                    "may");
        return;
    }
    if (!c) {
        c = &a->chans[a->nchans++];
        c->number = number;
        c->peer = peer;
    }
    c->expires = now + NC_TURN_CHANNEL_MS;
    perm_add(a, peer.sin_addr.s_addr, now);
    char who[64], p[64];
    nc__stun_addr_text(&a->client, who, sizeof who);
    nc__stun_addr_text(&peer, p, sizeof p);
    TURN_REPORT(t, "channel",
                ((nc_scn_kv_t[]){NC_KV_S("client", who), NC_KV_S("peer", p),
                                 NC_KV_I("channel", number)}),
                3, "channel: 0x%04x now stands for %s between %s and the relay: 4 bytes of "
                   "framing instead of a Send indication's 36",
                number, p, who);
    nc__stun_buf_t b;
    nc__stun_begin(&b, nc__stun_type(NC_STUN_CHANNEL_BIND, NC_STUN_SUCCESS), req->tid);
    answer_success(t, req, &a->client, &b);
}

/* Relays len bytes from a's relayed address to peer, when allowed. */
static void relay_out(nc_kit_turn_t *t, turn_alloc_t *a, const struct sockaddr_in *peer,
                      const uint8_t *data, size_t len, const char *how)
{
    char who[64], p[64];
    nc__stun_addr_text(&a->client, who, sizeof who);
    nc__stun_addr_text(peer, p, sizeof p);
    turn_perm_t *perm = perm_of(a, peer->sin_addr.s_addr);
    if (!perm) {
        TURN_REPORT(t, "refuse",
                    ((nc_scn_kv_t[]){NC_KV_S("client", who), NC_KV_S("peer", p),
                                     NC_KV_S("reason", "no permission")}),
                    3, "dropped: %s's %s to %s, for which it has no permission", who, how, p);
        return;
    }
    turn_sendto(&a->relay, data, len, peer);
    char relayed[64];
    nc__stun_addr_text(&a->relayed, relayed, sizeof relayed);
    TURN_REPORT(t, "relay",
                ((nc_scn_kv_t[]){NC_KV_S("client", who), NC_KV_S("peer", p),
                                 NC_KV_S("relayed", relayed), NC_KV_S("direction", "to peer"),
                                 NC_KV_S("how", how), NC_KV_I("bytes", (int64_t)len)}),
                6, "relay: %zu bytes from %s (a %s) leave %s for %s", len, who, how, relayed, p);
}

static void send_indication(nc_kit_turn_t *t, turn_alloc_t *a, const nc__stun_msg_t *m)
{
    struct sockaddr_in peer;
    size_t len;
    const uint8_t *data = nc__stun_find(m, NC_STUN_DATA_ATTR, &len);
    if (!data || !nc__stun_find_xaddr(m, NC_STUN_XOR_PEER_ADDRESS, &peer))
        return; /* an indication gets no answer, not even an error */
    relay_out(t, a, &peer, data, len, "Send indication");
}

/* A datagram a peer sent to a relayed address. */
static void relay_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *addr,
                       unsigned flags)
{
    turn_alloc_t *a = h->data;
    nc_kit_turn_t *t = a->t;
    if (n <= 0 || !addr || addr->sa_family != AF_INET || t->closing)
        return;
    const struct sockaddr_in *peer = (const struct sockaddr_in *)addr;
    char who[64], p[64], relayed[64];
    nc__stun_addr_text(&a->client, who, sizeof who);
    nc__stun_addr_text(peer, p, sizeof p);
    nc__stun_addr_text(&a->relayed, relayed, sizeof relayed);
    if (!perm_of(a, peer->sin_addr.s_addr)) {
        TURN_REPORT(t, "refuse",
                    ((nc_scn_kv_t[]){NC_KV_S("client", who), NC_KV_S("peer", p),
                                     NC_KV_S("relayed", relayed),
                                     NC_KV_S("reason", "no permission")}),
                    4, "dropped: %s sent to %s, but %s made no permission for it", p, relayed,
                    who);
        return;
    }
    const char *how = "Data indication";
    for (size_t i = 0; i < a->nchans; i++) {
        if (!same_endpoint(&a->chans[i].peer, peer))
            continue;
        if ((size_t)n > NC_STUN_MAX - 4)
            return;
        uint8_t cd[NC_STUN_MAX];
        cd[0] = (uint8_t)(a->chans[i].number >> 8);
        cd[1] = (uint8_t)a->chans[i].number;
        cd[2] = (uint8_t)(n >> 8);
        cd[3] = (uint8_t)n;
        memcpy(cd + 4, buf->base, (size_t)n);
        size_t total = (4 + (size_t)n + 3) & ~(size_t)3; /* padded over UDP too */
        memset(cd + 4 + n, 0, total - 4 - (size_t)n);
        turn_sendto(&t->udp, cd, total, &a->client);
        how = "ChannelData";
        break;
    }
    if (strcmp(how, "Data indication") == 0) {
        nc__stun_buf_t b;
        nc__stun_begin(&b, nc__stun_type(NC_STUN_DATA, NC_STUN_INDICATION), NULL);
        nc__stun_put_xaddr(&b, NC_STUN_XOR_PEER_ADDRESS, peer);
        if ((size_t)n + 60 > sizeof b.m)
            return;
        nc__stun_put(&b, NC_STUN_DATA_ATTR, buf->base, (size_t)n);
        turn_sendto(&t->udp, b.m, b.n, &a->client);
    }
    TURN_REPORT(t, "relay",
                ((nc_scn_kv_t[]){NC_KV_S("client", who), NC_KV_S("peer", p),
                                 NC_KV_S("relayed", relayed), NC_KV_S("direction", "to client"),
                                 NC_KV_S("how", how), NC_KV_I("bytes", (int64_t)n)}),
                6, "relay: %zd bytes from %s reached %s and go on to %s in a %s", n, p, relayed,
                who, how);
}

static void channel_data(nc_kit_turn_t *t, const uint8_t *m, size_t n,
                         const struct sockaddr_in *from)
{
    turn_alloc_t *a = alloc_of(t, from);
    if (!a || n < 4)
        return;
    uint16_t number = (uint16_t)(m[0] << 8 | m[1]);
    size_t len = (size_t)(m[2] << 8 | m[3]);
    if (4 + len > n)
        return;
    for (size_t i = 0; i < a->nchans; i++)
        if (a->chans[i].number == number) {
            relay_out(t, a, &a->chans[i].peer, m + 4, len, "ChannelData");
            return;
        }
}

static void serve_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *addr,
                       unsigned flags)
{
    nc_kit_turn_t *t = h->data;
    if (n <= 0 || !addr || addr->sa_family != AF_INET || t->closing)
        return;
    const struct sockaddr_in *from = (const struct sockaddr_in *)addr;
    const uint8_t *m = (const uint8_t *)buf->base;
    if ((m[0] & 0xc0) == 0x40) {
        channel_data(t, m, (size_t)n, from);
        return;
    }
    nc__stun_msg_t req;
    if (!nc__stun_parse(m, (size_t)n, &req))
        return; /* not STUN: a server stays silent */
    uint16_t method = nc__stun_method(req.type);
    unsigned cls = nc__stun_class(req.type);
    turn_alloc_t *a = alloc_of(t, from);
    if (cls == NC_STUN_INDICATION) {
        if (method == NC_STUN_SEND && a)
            send_indication(t, a, &req);
        return;
    }
    if (cls != NC_STUN_REQUEST)
        return;
    if (method == NC_STUN_BINDING) {
        nc__stun_buf_t b;
        nc__stun_begin(&b, nc__stun_type(NC_STUN_BINDING, NC_STUN_SUCCESS), req.tid);
        nc__stun_put_xaddr(&b, NC_STUN_XOR_MAPPED_ADDRESS, from);
        nc__stun_put(&b, NC_STUN_SOFTWARE, "netcourse", 9);
        nc__stun_fingerprint(&b);
        turn_sendto(&t->udp, b.m, b.n, from);
        return;
    }
    if (method != NC_STUN_ALLOCATE && method != NC_STUN_REFRESH &&
        method != NC_STUN_CREATE_PERMISSION && method != NC_STUN_CHANNEL_BIND) {
        answer_error(t, &req, from, 400, false, "this relay does not know that method");
        return;
    }
    int code = check_auth(t, &req);
    if (code) {
        size_t milen;
        answer_error(t, &req, from, code, false,
                     !nc__stun_find(&req, NC_STUN_MESSAGE_INTEGRITY, &milen)
                         ? "the request carries no credentials: here are the realm and a nonce"
                     : code == 438 ? "the nonce is not the server's"
                                   : "the credentials do not check");
        return;
    }
    if (method == NC_STUN_ALLOCATE) {
        allocate(t, &req, from);
        return;
    }
    if (!a) {
        answer_error(t, &req, from, 437, true, "this address has no allocation");
        return;
    }
    if (method == NC_STUN_REFRESH)
        refresh(t, a, &req);
    else if (method == NC_STUN_CREATE_PERMISSION)
        create_permission(t, a, &req);
    else
        channel_bind(t, a, &req);
}

/* Expires allocations, permissions and channels whose time is up. */
static void turn_sweep(uv_timer_t *timer)
{
    nc_kit_turn_t *t = timer->data;
    uint64_t now = uv_now(nc_kit_loop(t->k));
    for (size_t i = t->nallocs; i-- > 0;) {
        turn_alloc_t *a = t->allocs[i];
        for (size_t j = a->nperms; j-- > 0;)
            if (a->perms[j].expires <= now)
                a->perms[j] = a->perms[--a->nperms];
        for (size_t j = a->nchans; j-- > 0;)
            if (a->chans[j].expires <= now)
                a->chans[j] = a->chans[--a->nchans];
        if (a->expires <= now) {
            char who[64];
            nc__stun_addr_text(&a->client, who, sizeof who);
            alloc_release(t, i);
            TURN_REPORT(t, "expire",
                        ((nc_scn_kv_t[]){NC_KV_S("client", who),
                                         NC_KV_I("allocations", t->nallocs)}),
                        2, "expire: %s did not refresh its allocation, so it is gone", who);
        }
    }
}

nc_kit_turn_t *nc_kit_turn_serve(nc_kit_t *k, int port, const nc_kit_turn_conf_t *conf,
                                 const char *say)
{
    nc_kit_turn_t *t = nc_xcalloc(1, sizeof *t);
    t->k = k;
    t->port = port;
    snprintf(t->user, sizeof t->user, "%s", conf && conf->user ? conf->user : "student");
    snprintf(t->password, sizeof t->password, "%s",
             conf && conf->password ? conf->password : "secret");
    snprintf(t->realm, sizeof t->realm, "%s", "netcourse");
    t->lifetime_s = conf && conf->lifetime_s > 0 ? conf->lifetime_s : 600;
    t->max = conf && conf->max_allocs ? conf->max_allocs : 16;
    if (t->max > NC_TURN_MAX_ALLOCS)
        t->max = NC_TURN_MAX_ALLOCS;
    uint8_t r[16];
    if (RAND_bytes(r, sizeof r) != 1)
        for (size_t i = 0; i < sizeof r; i++)
            r[i] = (uint8_t)rand();
    for (size_t i = 0; i < sizeof r; i++)
        snprintf(t->nonce + 2 * i, 3, "%02x", r[i]);
    nc__stun_long_term_key(t->user, t->realm, t->password, t->key);
    uv_udp_init(nc_kit_loop(k), &t->udp);
    uv_timer_init(nc_kit_loop(k), &t->sweep);
    t->udp.data = t->sweep.data = t;
    t->open_handles = 2;
    struct sockaddr_in a;
    int rc = uv_ip4_addr(nc_scn_addr(nc_kit_scn(k), nc_kit_host(k)), port, &a);
    if (rc == 0)
        rc = uv_udp_bind(&t->udp, (const struct sockaddr *)&a, UV_UDP_REUSEADDR);
    if (rc == 0)
        rc = uv_udp_recv_start(&t->udp, turn_alloc_cb, serve_recv);
    if (rc != 0) {
        nc_scn_fail(nc_kit_scn(k), "%s: cannot bind UDP port %d: %s", nc_kit_host(k), port,
                    uv_strerror(rc));
        nc_kit_turn_close(t);
        return NULL;
    }
    uv_timer_start(&t->sweep, turn_sweep, NC_TURN_SWEEP_MS, NC_TURN_SWEEP_MS);
    uv_unref((uv_handle_t *)&t->sweep);
    nc_kit_report(k, NULL, "bind",
                  (nc_scn_kv_t[]){NC_KV_I("port", port), NC_KV_S("realm", t->realm),
                                  NC_KV_I("max", (int64_t)t->max)},
                  3, say,
                  "bind() UDP port %d: the TURN relay takes Allocate requests here (realm "
                  "\"%s\", at most %zu allocations)",
                  port, t->realm, t->max);
    return t;
}

size_t nc_kit_turn_allocations(const nc_kit_turn_t *t)
{
    return t ? t->nallocs : 0;
}

size_t nc_kit_turn_peak(const nc_kit_turn_t *t)
{
    return t ? t->peak : 0;
}

void nc_kit_turn_close(nc_kit_turn_t *t)
{
    if (!t || t->closing)
        return;
    t->closing = true;
    if (t->unreported)
        nc_kit_report(t->k, NULL, "quiet", (nc_scn_kv_t[]){NC_KV_I("unreported", t->unreported)},
                      1, NULL, "the TURN server left %zu events unreported", t->unreported);
    while (t->nallocs)
        alloc_release(t, t->nallocs - 1);
    uv_close((uv_handle_t *)&t->udp, turn_handle_closed);
    uv_close((uv_handle_t *)&t->sweep, turn_handle_closed);
}
