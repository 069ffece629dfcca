/*
 * ice.c: an ICE agent (RFC 8445, the parts a lesson shows) with its SDP
 * offer and answer, its STUN client and its TURN client.
 *
 * Why by hand and not libnice: the lesson must show every step as an app
 * event tied to its packets (each candidate as it is gathered, each check
 * and its answer, the nomination, and why a pair won), and it needs one
 * UDP socket per agent on the program's own libuv loop inside a lab host,
 * reported like every other kit call. libnice runs its own GLib main loop,
 * gathers from every interface, speaks full trickle ICE and DTLS-less
 * "reliable" modes we do not need, and reports none of its decisions. One
 * component, one data stream, non-trickle, regular nomination and a fixed
 * role each side (the offerer controls) fit in one file a student can
 * read.
 *
 * Data model. An nc_kit_ice_t owns one UDP socket (the base of every local
 * candidate), the candidates (local: host, server-reflexive from a STUN
 * Binding, relayed from a TURN Allocate; remote: from the answer or offer,
 * plus peer-reflexive ones that checks reveal), the check list of pairs
 * (local host or relayed x every remote candidate; a server-reflexive
 * local candidate is checked from its base, the host one, RFC 8445
 * 6.1.2.4) and a signalling connection. It moves through phases:
 *
 *   GATHER  the socket's address is the host candidate; a Binding request
 *           to the STUN server gives the server-reflexive one; an Allocate
 *           to the TURN server (answered 401, then sent again with the
 *           long-term credentials) the relayed one;
 *   SIGNAL  JOIN the signalling server's room; the offerer sends its SDP,
 *           the answerer waits for it and answers with its own;
 *   CHECK   one check (a Binding request with USERNAME, PRIORITY,
 *           ICE-CONTROLLING or ICE-CONTROLLED, MESSAGE-INTEGRITY with the
 *           peer's ice-pwd, FINGERPRINT) every NC_ICE_TA_MS, highest pair
 *           priority first, each retransmitted after 100, 200 and 400 ms
 *           before it fails; a check received is answered (XOR-MAPPED-
 *           ADDRESS: where it came from) and triggers a check of its pair;
 *   NOMINATE the controlling agent nominates (USE-CANDIDATE) the best
 *           pair that succeeded once no pair still waiting or in flight
 *           could beat it; the controlled agent selects the nominated pair
 *           once its own check of it succeeded;
 *   READY   data goes on the selected pair: straight to the peer, or, when
 *           the local candidate is relayed, through the TURN server (a
 *           Send indication, then ChannelData once a ChannelBind is done).
 *
 * Priorities (RFC 8445 5.1.2.1): (2^24) type preference (host 126,
 * peer-reflexive 110, server-reflexive 100, relayed 0) + (2^8) local
 * preference (65535) + (256 - component 1); a pair's priority (6.1.2.3):
 * 2^32 MIN(G,D) + 2 MAX(G,D) + (G > D), G the controlling agent's
 * candidate.
 *
 * Every step is an app event of the program's host: "candidate" (type,
 * address, priority, base), "sdp" (offer or answer sent or received, with
 * its candidates), "pair" (the check list), "check" (pair, result
 * succeeded or failed, rtt_ms, mapped), "nominate", "selected" (the pair,
 * "path": direct or relayed, and why), "ice-failed", and the data's
 * "sendto"/"recvfrom".
 */
#include "kit_impl.h"

#include "../core/error.h"
#include "../core/xmalloc.h"

#include <arpa/inet.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    NC_ICE_CANDS = 8,
    NC_ICE_PAIRS = 24,
    NC_ICE_TA_MS = 20,
    NC_ICE_RTO_MS = 100,
    NC_ICE_TRIES = 4,
    NC_ICE_GATHER_TRIES = 3,
    NC_ICE_SDP = 4096,
    NC_ICE_REPORTS = 300,
    NC_ICE_DEADLINE_MS = 4000,
};

typedef enum { CAND_HOST, CAND_SRFLX, CAND_PRFLX, CAND_RELAY } cand_type_t;

static const struct {
    const char *name;
    int pref;
} cand_types[] = {{"host", 126}, {"srflx", 100}, {"prflx", 110}, {"relay", 0}};

typedef struct cand {
    cand_type_t type;
    struct sockaddr_in addr, base;
    uint32_t priority;
} cand_t;

typedef enum { PAIR_WAITING, PAIR_PROGRESS, PAIR_SUCCEEDED, PAIR_FAILED } pair_state_t;

typedef struct pair {
    size_t local, remote; /* indices in the candidate lists */
    uint64_t priority;
    pair_state_t state;
    uint8_t tid[12];
    int tries;
    uint64_t sent_at, first_sent;
    bool nominating, nominated;
    bool triggered;
    char mapped[64];
} pair_t;

typedef enum { PH_GATHER_STUN, PH_GATHER_TURN, PH_SIGNAL, PH_CHECK, PH_READY, PH_FAILED } phase_t;

struct nc_kit_ice {
    uv_udp_t udp; /* must stay first */
    uv_timer_t timer;
    nc_kit_t *k;
    nc_kit_ice_conf_t conf;
    char stun_host[64], turn_host[64], signal_host[64], room[64], user[64], password[64];
    int open_handles;
    bool closing;
    phase_t phase;
    nc_kit_ice_cb cb;
    void *data;
    /* gathering */
    struct sockaddr_in stun_addr, turn_addr;
    uint8_t gtid[12];
    int gtries;
    uint64_t gsent;
    nc__stun_buf_t greq; /* the request in flight */
    char realm[64], nonce[128];
    uint8_t key[16];
    bool have_key, have_relay, bound, permitted;
    uint8_t ptid[12], btid[12]; /* CreatePermission and ChannelBind in flight */
    char turn_mapped[64];
    /* candidates and pairs */
    cand_t local[NC_ICE_CANDS], remote[NC_ICE_CANDS];
    size_t nlocal, nremote;
    pair_t pairs[NC_ICE_PAIRS];
    size_t npairs;
    char ufrag[9], pwd[25], rufrag[64], rpwd[64];
    uint8_t tiebreak[8];
    uint64_t next_check, deadline;
    uint64_t read_deadline; /* a read that waits for data gives up then (0: none) */
    int selected; /* pair index, or -1 */
    uint16_t channel;
    /* signalling */
    nc_kit_conn_t *sig;
    char line[1024];
    size_t nline;
    char sdp[NC_ICE_SDP];
    size_t nsdp;
    bool in_sdp, sent_sdp;
    /* data */
    size_t received;
    char last[256];
    size_t reports;
};

static void ice_report(nc_kit_ice_t *ice, const char *call, const nc_scn_kv_t *kv, size_t n,
                       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void ice_datagram(nc_kit_ice_t *ice, const uint8_t *d, size_t n,
                         const struct sockaddr_in *from, bool via_relay);

static void ice_report(nc_kit_ice_t *ice, const char *call, const nc_scn_kv_t *kv, size_t n,
                       const char *fmt, ...)
{
    if (ice->reports++ >= NC_ICE_REPORTS)
        return;
    char text[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    nc_kit_report(ice->k, NULL, call, kv, n, NULL, "%s", text);
}

static uint64_t ice_now(nc_kit_ice_t *ice)
{
    return uv_now(nc_kit_loop(ice->k));
}

static void cand_text(const cand_t *c, char *out, size_t outlen)
{
    nc__stun_addr_text(&c->addr, out, outlen);
}

static uint32_t cand_priority(cand_type_t t)
{
    return ((uint32_t)cand_types[t].pref << 24) | (65535u << 8) | (256u - 1u);
}

static bool same_addr(const struct sockaddr_in *a, const struct sockaddr_in *b)
{
    return a->sin_addr.s_addr == b->sin_addr.s_addr && a->sin_port == b->sin_port;
}

static void ice_sent(uv_udp_send_t *req, int status)
{
    free(req);
}

/* Sends bytes from the agent's socket straight to an address. */
static void ice_sendto(nc_kit_ice_t *ice, const void *m, size_t n, const struct sockaddr_in *to)
{
    uv_udp_send_t *req = nc_xmalloc(sizeof *req + n);
    memcpy(req + 1, m, n);
    uv_buf_t b = uv_buf_init((char *)(req + 1), (unsigned)n);
    nc_scn_call_begin("sendto");
    if (uv_udp_send(req, &ice->udp, &b, 1, (const struct sockaddr *)to, ice_sent) != 0)
        free(req);
}

/* Sends bytes to a peer from the relayed candidate: ChannelData once the
 * channel is bound to that peer, else a Send indication. */
static void ice_relay_to(nc_kit_ice_t *ice, const void *m, size_t n, const struct sockaddr_in *peer)
{
    if (ice->bound && ice->selected >= 0 &&
        same_addr(&ice->remote[ice->pairs[ice->selected].remote].addr, peer) && n + 8 < NC_STUN_MAX) {
        uint8_t cd[NC_STUN_MAX];
        cd[0] = (uint8_t)(ice->channel >> 8);
        cd[1] = (uint8_t)ice->channel;
        cd[2] = (uint8_t)(n >> 8);
        cd[3] = (uint8_t)n;
        memcpy(cd + 4, m, n);
        size_t total = (4 + n + 3) & ~(size_t)3;
        memset(cd + 4 + n, 0, total - 4 - n);
        ice_sendto(ice, cd, total, &ice->turn_addr);
        return;
    }
    nc__stun_buf_t b;
    nc__stun_begin(&b, nc__stun_type(NC_STUN_SEND, NC_STUN_INDICATION), NULL);
    nc__stun_put_xaddr(&b, NC_STUN_XOR_PEER_ADDRESS, peer);
    if (n + 60 > sizeof b.m)
        return;
    nc__stun_put(&b, NC_STUN_DATA_ATTR, m, n);
    ice_sendto(ice, b.m, b.n, &ice->turn_addr);
}

/* Sends from a local candidate to a remote address. */
static void ice_send_from(nc_kit_ice_t *ice, size_t local, const void *m, size_t n,
                          const struct sockaddr_in *to)
{
    if (ice->local[local].type == CAND_RELAY)
        ice_relay_to(ice, m, n, to);
    else
        ice_sendto(ice, m, n, to);
}

static void ice_finish(nc_kit_ice_t *ice, phase_t phase)
{
    ice->phase = phase;
    if (phase == PH_FAILED)
        uv_timer_stop(&ice->timer);
    if (ice->cb)
        ice->cb(ice, phase == PH_READY ? NC_KIT_ICE_READY : NC_KIT_ICE_FAILED, ice->data);
}

/* ---- gathering ---- */

static size_t cand_add(nc_kit_ice_t *ice, cand_t *list, size_t *n, cand_type_t type,
                       const struct sockaddr_in *addr, const struct sockaddr_in *base,
                       uint32_t priority)
{
    for (size_t i = 0; i < *n; i++)
        if (same_addr(&list[i].addr, addr))
            return i;
    if (*n == NC_ICE_CANDS)
        return (size_t)-1;
    cand_t *c = &list[(*n)++];
    c->type = type;
    c->addr = *addr;
    c->base = base ? *base : *addr;
    c->priority = priority ? priority : cand_priority(type);
    return *n - 1;
}

static void local_add(nc_kit_ice_t *ice, cand_type_t type, const struct sockaddr_in *addr,
                      const char *why)
{
    size_t before = ice->nlocal;
    size_t i = cand_add(ice, ice->local, &ice->nlocal, type, addr, &ice->local[0].addr, 0);
    if (i == (size_t)-1 || ice->nlocal == before)
        return;
    char a[64], base[64];
    cand_text(&ice->local[i], a, sizeof a);
    nc__stun_addr_text(&ice->local[i].base, base, sizeof base);
    ice_report(ice, "candidate",
               (nc_scn_kv_t[]){NC_KV_S("candidate", cand_types[type].name), NC_KV_S("address", a),
                               NC_KV_I("priority", ice->local[i].priority),
                               NC_KV_S("base", base), NC_KV_S("side", "local")},
               5, "candidate: %s %s, priority %u: %s", cand_types[type].name, a,
               ice->local[i].priority, why);
}

static void gather_send(nc_kit_ice_t *ice)
{
    ice->gsent = ice_now(ice);
    ice_sendto(ice, ice->greq.m, ice->greq.n,
               ice->phase == PH_GATHER_STUN ? &ice->stun_addr : &ice->turn_addr);
}

static void allocate_request(nc_kit_ice_t *ice)
{
    nc__stun_begin(&ice->greq, nc__stun_type(NC_STUN_ALLOCATE, NC_STUN_REQUEST), NULL);
    memcpy(ice->gtid, ice->greq.m + 8, 12);
    nc__stun_put32(&ice->greq, NC_STUN_REQUESTED_TRANSPORT, 17u << 24);
    if (ice->have_key) {
        nc__stun_put(&ice->greq, NC_STUN_USERNAME, ice->user, strlen(ice->user));
        nc__stun_put(&ice->greq, NC_STUN_REALM, ice->realm, strlen(ice->realm));
        nc__stun_put(&ice->greq, NC_STUN_NONCE, ice->nonce, strlen(ice->nonce));
        nc__stun_integrity(&ice->greq, ice->key, sizeof ice->key);
    }
    nc__stun_fingerprint(&ice->greq);
    ice->gtries = 0;
    gather_send(ice);
}

static void signal_start(nc_kit_ice_t *ice);

static void gather_turn(nc_kit_ice_t *ice)
{
    if (!ice->turn_host[0]) {
        signal_start(ice);
        return;
    }
    ice->phase = PH_GATHER_TURN;
    ice->have_key = false;
    allocate_request(ice);
    ice_report(ice, "sendto", (nc_scn_kv_t[]){NC_KV_S("to", ice->turn_host)}, 1,
               "sendto(): an Allocate request to the TURN server %s:%d: \"lend me an address "
               "of yours\"",
               ice->turn_host, ice->conf.turn_port);
}

static void gather_stun(nc_kit_ice_t *ice)
{
    if (!ice->stun_host[0]) {
        gather_turn(ice);
        return;
    }
    ice->phase = PH_GATHER_STUN;
    nc__stun_begin(&ice->greq, nc__stun_type(NC_STUN_BINDING, NC_STUN_REQUEST), NULL);
    memcpy(ice->gtid, ice->greq.m + 8, 12);
    nc__stun_fingerprint(&ice->greq);
    ice->gtries = 0;
    gather_send(ice);
    ice_report(ice, "sendto", (nc_scn_kv_t[]){NC_KV_S("to", ice->stun_host)}, 1,
               "sendto(): a STUN Binding request to %s:%d: \"what address do you see me as?\"",
               ice->stun_host, ice->conf.stun_port);
}

static void on_gather_response(nc_kit_ice_t *ice, const nc__stun_msg_t *m)
{
    if (memcmp(m->tid, ice->gtid, 12) != 0)
        return;
    uint16_t method = nc__stun_method(m->type);
    unsigned cls = nc__stun_class(m->type);
    struct sockaddr_in mapped;
    if (ice->phase == PH_GATHER_STUN && method == NC_STUN_BINDING) {
        if (cls == NC_STUN_SUCCESS && nc__stun_find_xaddr(m, NC_STUN_XOR_MAPPED_ADDRESS, &mapped)) {
            if (same_addr(&mapped, &ice->local[0].addr)) {
                char a[64];
                nc__stun_addr_text(&mapped, a, sizeof a);
                ice_report(ice, "candidate",
                           (nc_scn_kv_t[]){NC_KV_S("candidate", "srflx"), NC_KV_S("address", a),
                                           NC_KV_S("side", "local"), NC_KV_B("redundant", true)},
                           4, "the STUN server sees this socket as %s, its own address: no NAT "
                              "in between, so no server-reflexive candidate",
                           a);
            } else {
                local_add(ice, CAND_SRFLX, &mapped,
                          "the STUN server saw this socket at the NAT's public address");
            }
        }
        gather_turn(ice);
        return;
    }
    if (ice->phase != PH_GATHER_TURN || method != NC_STUN_ALLOCATE)
        return;
    if (cls == NC_STUN_ERROR && !ice->have_key) {
        if (!nc__stun_find_text(m, NC_STUN_REALM, ice->realm, sizeof ice->realm) ||
            !nc__stun_find_text(m, NC_STUN_NONCE, ice->nonce, sizeof ice->nonce)) {
            signal_start(ice);
            return;
        }
        nc__stun_long_term_key(ice->user, ice->realm, ice->password, ice->key);
        ice->have_key = true;
        ice_report(ice, "sendto", (nc_scn_kv_t[]){NC_KV_S("realm", ice->realm)}, 1,
                   "sendto(): the TURN server wants credentials (401, realm \"%s\"): the Allocate "
                   "goes again with USERNAME, REALM, NONCE and MESSAGE-INTEGRITY",
                   ice->realm);
        allocate_request(ice);
        return;
    }
    struct sockaddr_in relayed;
    if (cls != NC_STUN_SUCCESS || !nc__stun_check_integrity(m, ice->key, sizeof ice->key) ||
        !nc__stun_find_xaddr(m, NC_STUN_XOR_RELAYED_ADDRESS, &relayed)) {
        ice_report(ice, "recvfrom", NULL, 0, "the TURN server refused the allocation: no relayed "
                                             "candidate");
        signal_start(ice);
        return;
    }
    if (nc__stun_find_xaddr(m, NC_STUN_XOR_MAPPED_ADDRESS, &mapped))
        nc__stun_addr_text(&mapped, ice->turn_mapped, sizeof ice->turn_mapped);
    ice->have_relay = true;
    local_add(ice, CAND_RELAY, &relayed, "the TURN server relays what reaches this address");
    signal_start(ice);
}

/* ---- SDP ---- */

/* Writes the agent's SDP (offer or answer) into out. */
static size_t sdp_write(nc_kit_ice_t *ice, const char *kind, char *out, size_t outlen)
{
    size_t n = 0;
#define SDP_LINE(...) n += (size_t)snprintf(out + n, n < outlen ? outlen - n : 0, __VA_ARGS__)
    SDP_LINE("SDP %s\n", kind);
    SDP_LINE("v=0\n");
    SDP_LINE("o=- 1 1 IN IP4 %s\n", nc_scn_addr(nc_kit_scn(ice->k), nc_kit_host(ice->k)));
    SDP_LINE("s=-\n");
    SDP_LINE("t=0 0\n");
    SDP_LINE("m=application %u UDP webrtc-datachannel\n", ntohs(ice->local[0].addr.sin_port));
    SDP_LINE("c=IN IP4 %s\n", nc_scn_addr(nc_kit_scn(ice->k), nc_kit_host(ice->k)));
    SDP_LINE("a=ice-ufrag:%s\n", ice->ufrag);
    SDP_LINE("a=ice-pwd:%s\n", ice->pwd);
    for (size_t i = 0; i < ice->nlocal; i++) {
        const cand_t *c = &ice->local[i];
        char ip[INET_ADDRSTRLEN], rip[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &c->addr.sin_addr, ip, sizeof ip);
        inet_ntop(AF_INET, &c->base.sin_addr, rip, sizeof rip);
        SDP_LINE("a=candidate:%d 1 udp %u %s %u typ %s", (int)c->type + 1, c->priority, ip,
                 ntohs(c->addr.sin_port), cand_types[c->type].name);
        if (c->type != CAND_HOST)
            SDP_LINE(" raddr %s rport %u", rip, ntohs(c->base.sin_port));
        SDP_LINE("\n");
    }
    SDP_LINE("a=end-of-candidates\n.\n");
#undef SDP_LINE
    return n < outlen ? n : outlen - 1;
}

static void pairs_form(nc_kit_ice_t *ice);
static void checks_start(nc_kit_ice_t *ice);

/* Reads the peer's SDP (ufrag, pwd, candidates). Returns false when it has
 * no credentials or no candidate. */
static bool sdp_read(nc_kit_ice_t *ice, char *sdp)
{
    size_t cands = 0;
    char *save = NULL;
    /* strtok_r: two agents parse on two program threads at once. */
    for (char *line = strtok_r(sdp, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char ip[64], typ[16];
        unsigned prio, port, comp;
        int found;
        if (sscanf(line, "a=ice-ufrag:%63s", ice->rufrag) == 1 ||
            sscanf(line, "a=ice-pwd:%63s", ice->rpwd) == 1)
            continue;
        if (sscanf(line, "a=candidate:%d %u udp %u %63s %u typ %15s", &found, &comp, &prio, ip,
                   &port, typ) == 6) {
            struct sockaddr_in a;
            if (comp != 1 || port == 0 || port > 65535 || uv_ip4_addr(ip, (int)port, &a) != 0)
                continue;
            cand_type_t t = CAND_HOST;
            for (size_t k = 0; k < sizeof cand_types / sizeof cand_types[0]; k++)
                if (strcmp(typ, cand_types[k].name) == 0)
                    t = (cand_type_t)k;
            size_t before = ice->nremote;
            size_t i = cand_add(ice, ice->remote, &ice->nremote, t, &a, NULL, prio);
            if (i != (size_t)-1 && ice->nremote > before) {
                cands++;
                char text[64];
                nc__stun_addr_text(&a, text, sizeof text);
                ice_report(ice, "candidate",
                           (nc_scn_kv_t[]){NC_KV_S("candidate", cand_types[t].name),
                                           NC_KV_S("address", text), NC_KV_I("priority", prio),
                                           NC_KV_S("side", "remote")},
                           4, "remote candidate: %s %s, priority %u, from the peer's SDP",
                           cand_types[t].name, text, prio);
            }
        }
    }
    return ice->rufrag[0] && ice->rpwd[0] && cands > 0;
}

static void sig_write(nc_kit_ice_t *ice, const char *kind)
{
    char sdp[NC_ICE_SDP];
    size_t n = sdp_write(ice, kind, sdp, sizeof sdp);
    char say[200];
    snprintf(say, sizeof say,
             "write(): the SDP %s (ice-ufrag, ice-pwd and %zu candidates) goes to the signalling "
             "server",
             kind, ice->nlocal);
    nc_kit_write(ice->sig, sdp, n, say);
    ice->sent_sdp = true;
}

static void sig_line(nc_kit_ice_t *ice, const char *line)
{
    if (!ice->in_sdp) {
        if (strcmp(line, "SDP offer") == 0 || strcmp(line, "SDP answer") == 0) {
            ice->in_sdp = true;
            ice->nsdp = 0;
        }
        return;
    }
    if (strcmp(line, ".") != 0) {
        size_t n = strlen(line);
        if (ice->nsdp + n + 2 < sizeof ice->sdp) {
            memcpy(ice->sdp + ice->nsdp, line, n);
            ice->nsdp += n;
            ice->sdp[ice->nsdp++] = '\n';
            ice->sdp[ice->nsdp] = '\0';
        }
        return;
    }
    ice->in_sdp = false;
    if (ice->phase != PH_SIGNAL)
        return;
    if (!sdp_read(ice, ice->sdp)) {
        ice_report(ice, "ice-failed", NULL, 0, "the peer's SDP holds no ICE credentials or no "
                                               "candidate");
        ice_finish(ice, PH_FAILED);
        return;
    }
    if (!ice->conf.controlling)
        sig_write(ice, "answer");
    pairs_form(ice);
    checks_start(ice);
}

static void sig_data(nc_kit_conn_t *c, const char *data, size_t n)
{
    nc_kit_ice_t *ice = nc_kit_conn_owner(c);
    if (!ice)
        return;
    for (size_t i = 0; i < n; i++) {
        if (data[i] == '\n') {
            ice->line[ice->nline] = '\0';
            ice->nline = 0;
            sig_line(ice, ice->line);
            if (!nc_kit_conn_owner(c))
                return;
        } else if (ice->nline + 1 < sizeof ice->line) {
            ice->line[ice->nline++] = data[i];
        }
    }
}

static void sig_describe(nc_kit_conn_t *c, const char *data, size_t n, char *out, size_t outlen)
{
    if (n == 0)
        return;
    const char *sdp = strstr(data, "SDP ");
    if (sdp && (size_t)(sdp - data) < n)
        snprintf(out, outlen, "read() returned %zu bytes: the peer's SDP %s, through the "
                              "signalling server",
                 n, strncmp(sdp + 4, "offer", 5) == 0 ? "offer" : "answer");
}

static void sig_closed(nc_kit_conn_t *c)
{
    nc_kit_ice_t *ice = nc_kit_conn_owner(c);
    if (ice)
        ice->sig = NULL;
}

static const nc_kit_conn_cbs_t sig_cbs = {
    .describe = sig_describe,
    .on_data = sig_data,
    .on_closed = sig_closed,
};

static void sig_connected(nc_kit_conn_t *c, int status, void *data)
{
    nc_kit_ice_t *ice = data;
    if (status != 0) {
        ice->sig = NULL;
        ice_report(ice, "ice-failed", NULL, 0, "the signalling server cannot be reached");
        ice_finish(ice, PH_FAILED);
        return;
    }
    nc_kit_conn_start(c, &sig_cbs, ice);
    char join[100];
    int n = snprintf(join, sizeof join, "JOIN %s\n", ice->room);
    nc_kit_write(c, join, (size_t)n, NULL);
    if (ice->conf.controlling)
        sig_write(ice, "offer");
}

static void signal_start(nc_kit_ice_t *ice)
{
    ice->phase = PH_SIGNAL;
    ice->sig = nc_kit_connect(ice->k, ice->signal_host, ice->conf.signal_port, true, sig_connected,
                              ice, NULL, NULL);
    if (!ice->sig)
        ice_finish(ice, PH_FAILED);
}

/* ---- checks ---- */

static void pair_text(nc_kit_ice_t *ice, const pair_t *p, char *out, size_t outlen)
{
    char l[64], r[64];
    cand_text(&ice->local[p->local], l, sizeof l);
    cand_text(&ice->remote[p->remote], r, sizeof r);
    snprintf(out, outlen, "%s %s -> %s %s", cand_types[ice->local[p->local].type].name, l,
             cand_types[ice->remote[p->remote].type].name, r);
}

static uint64_t pair_priority(nc_kit_ice_t *ice, size_t local, size_t remote)
{
    uint64_t g = ice->conf.controlling ? ice->local[local].priority : ice->remote[remote].priority;
    uint64_t d = ice->conf.controlling ? ice->remote[remote].priority : ice->local[local].priority;
    return (1ull << 32) * (g < d ? g : d) + 2 * (g > d ? g : d) + (g > d ? 1 : 0);
}

static int pair_find(nc_kit_ice_t *ice, size_t local, size_t remote)
{
    for (size_t i = 0; i < ice->npairs; i++)
        if (ice->pairs[i].local == local && ice->pairs[i].remote == remote)
            return (int)i;
    return -1;
}

/* Adds a pair in priority order; returns its index or -1. */
static int pair_add(nc_kit_ice_t *ice, size_t local, size_t remote)
{
    int found = pair_find(ice, local, remote);
    if (found >= 0 || ice->npairs == NC_ICE_PAIRS)
        return found;
    pair_t p = {.local = local, .remote = remote, .priority = pair_priority(ice, local, remote)};
    size_t at = 0;
    while (at < ice->npairs && ice->pairs[at].priority >= p.priority)
        at++;
    memmove(&ice->pairs[at + 1], &ice->pairs[at], (ice->npairs - at) * sizeof p);
    ice->pairs[at] = p;
    ice->npairs++;
    if (ice->selected >= (int)at)
        ice->selected++;
    return (int)at;
}

static void pairs_form(nc_kit_ice_t *ice)
{
    for (size_t l = 0; l < ice->nlocal; l++) {
        if (ice->local[l].type == CAND_SRFLX)
            continue; /* checked from its base, the host candidate */
        for (size_t r = 0; r < ice->nremote; r++)
            pair_add(ice, l, r);
    }
    for (size_t i = 0; i < ice->npairs; i++) {
        char text[160];
        pair_text(ice, &ice->pairs[i], text, sizeof text);
        ice_report(ice, "pair",
                   (nc_scn_kv_t[]){NC_KV_S("pair", text), NC_KV_I("rank", (int64_t)i + 1),
                                   NC_KV_I("priority", (int64_t)ice->pairs[i].priority)},
                   3, "pair %zu of %zu: %s (pair priority %llu)", i + 1, ice->npairs, text,
                   (unsigned long long)ice->pairs[i].priority);
    }
}

/* Signs an authenticated request to the TURN server with the long-term
 * credentials (USERNAME, REALM, NONCE, MESSAGE-INTEGRITY), adds the
 * FINGERPRINT and sends it. */
static void turn_request_send(nc_kit_ice_t *ice, nc__stun_buf_t *b)
{
    nc__stun_put(b, NC_STUN_USERNAME, ice->user, strlen(ice->user));
    nc__stun_put(b, NC_STUN_REALM, ice->realm, strlen(ice->realm));
    nc__stun_put(b, NC_STUN_NONCE, ice->nonce, strlen(ice->nonce));
    nc__stun_integrity(b, ice->key, sizeof ice->key);
    nc__stun_fingerprint(b);
    ice_sendto(ice, b->m, b->n, &ice->turn_addr);
}

static void permission_request(nc_kit_ice_t *ice)
{
    nc__stun_buf_t b;
    nc__stun_begin(&b, nc__stun_type(NC_STUN_CREATE_PERMISSION, NC_STUN_REQUEST), NULL);
    memcpy(ice->ptid, b.m + 8, 12);
    for (size_t r = 0; r < ice->nremote; r++)
        nc__stun_put_xaddr(&b, NC_STUN_XOR_PEER_ADDRESS, &ice->remote[r].addr);
    turn_request_send(ice, &b);
    ice_report(ice, "sendto", (nc_scn_kv_t[]){NC_KV_I("peers", (int64_t)ice->nremote)}, 1,
               "sendto(): CreatePermission for the peer's %zu candidate addresses: the relay "
               "drops whatever comes from an address without one",
               ice->nremote);
}

static void check_send(nc_kit_ice_t *ice, size_t i)
{
    pair_t *p = &ice->pairs[i];
    if (p->tries == 0) {
        if (RAND_bytes(p->tid, sizeof p->tid) != 1)
            for (size_t k = 0; k < sizeof p->tid; k++)
                p->tid[k] = (uint8_t)rand();
        p->first_sent = ice_now(ice);
    }
    nc__stun_buf_t b;
    nc__stun_begin(&b, nc__stun_type(NC_STUN_BINDING, NC_STUN_REQUEST), p->tid);
    char user[160];
    snprintf(user, sizeof user, "%s:%s", ice->rufrag, ice->ufrag);
    nc__stun_put(&b, NC_STUN_USERNAME, user, strlen(user));
    nc__stun_put32(&b, NC_STUN_PRIORITY, cand_priority(CAND_PRFLX));
    nc__stun_put(&b, ice->conf.controlling ? NC_STUN_ICE_CONTROLLING : NC_STUN_ICE_CONTROLLED,
                 ice->tiebreak, sizeof ice->tiebreak);
    if (p->nominating)
        nc__stun_put(&b, NC_STUN_USE_CANDIDATE, NULL, 0);
    nc__stun_integrity(&b, ice->rpwd, strlen(ice->rpwd));
    nc__stun_fingerprint(&b);
    p->state = PAIR_PROGRESS;
    p->sent_at = ice_now(ice);
    p->tries++;
    ice_send_from(ice, p->local, b.m, b.n, &ice->remote[p->remote].addr);
    char text[160];
    pair_text(ice, p, text, sizeof text);
    ice_report(ice, p->nominating ? "nominate" : "check",
               (nc_scn_kv_t[]){NC_KV_S("pair", text), NC_KV_S("result", "sent"),
                               NC_KV_I("try", p->tries), NC_KV_B("triggered", p->triggered)},
               4, "%s%s %s (try %d%s)",
               p->nominating ? "nominate: a check with USE-CANDIDATE on" : "check:",
               ice->local[p->local].type == CAND_RELAY ? " through the relay," : "", text,
               p->tries, p->triggered ? ", triggered by the peer's check" : "");
}

static void select_pair(nc_kit_ice_t *ice, size_t i);

/* The controlling agent nominates once no pair still waiting or in flight
 * could beat the best one that succeeded. */
static void maybe_nominate(nc_kit_ice_t *ice)
{
    if (!ice->conf.controlling || ice->phase != PH_CHECK)
        return;
    int best = -1;
    for (size_t i = 0; i < ice->npairs; i++) {
        pair_t *p = &ice->pairs[i];
        if (p->nominating)
            return; /* one nomination at a time */
        if (p->state == PAIR_SUCCEEDED) {
            best = (int)i;
            break;
        }
        if (p->state == PAIR_WAITING || p->state == PAIR_PROGRESS)
            return; /* a better pair may still work */
    }
    if (best < 0)
        return;
    pair_t *p = &ice->pairs[best];
    p->nominating = true;
    p->tries = 0;
    check_send(ice, (size_t)best);
}

/* Why the selected pair is what it is, in one sentence. */
static void why_text(nc_kit_ice_t *ice, const pair_t *p, char *out, size_t outlen)
{
    bool relayed = ice->local[p->local].type == CAND_RELAY ||
                   ice->remote[p->remote].type == CAND_RELAY;
    int better_failed = 0;
    for (size_t i = 0; i < ice->npairs; i++)
        if (ice->pairs[i].state != PAIR_SUCCEEDED && ice->pairs[i].priority > p->priority)
            better_failed++; /* failed, or no answer yet when the peer nominated */
    char srflx[64] = "";
    for (size_t i = 0; i < ice->nlocal; i++)
        if (ice->local[i].type == CAND_SRFLX)
            cand_text(&ice->local[i], srflx, sizeof srflx);
    size_t n;
    if (!relayed) {
        n = (size_t)snprintf(out, outlen, "direct: the best pair that answered, no relay needed");
        if (srflx[0] && n < outlen)
            snprintf(out + n, outlen - n, "; the NAT let the peer's checks in at %s, the "
                                          "mapping the STUN server reported",
                     srflx);
        return;
    }
    n = (size_t)snprintf(out, outlen, "relayed: %d %s of higher priority got no answer, "
                                      "so the path goes through the TURN server",
                         better_failed, better_failed == 1 ? "pair" : "pairs");
    if (srflx[0] && ice->turn_mapped[0] && strcmp(srflx, ice->turn_mapped) != 0 && n < outlen)
        snprintf(out + n, outlen - n, "; the NAT mapped this socket to %s for the STUN server "
                                      "but %s for the TURN server, a new mapping per "
                                      "destination, so the address STUN reported was no use "
                                      "to the peer",
                 srflx, ice->turn_mapped);
}

static void select_pair(nc_kit_ice_t *ice, size_t i)
{
    if (ice->phase != PH_CHECK)
        return;
    ice->selected = (int)i;
    pair_t *p = &ice->pairs[i];
    bool relayed = ice->local[p->local].type == CAND_RELAY ||
                   ice->remote[p->remote].type == CAND_RELAY;
    char text[160], why[600], local[64], remote[64];
    pair_text(ice, p, text, sizeof text);
    cand_text(&ice->local[p->local], local, sizeof local);
    cand_text(&ice->remote[p->remote], remote, sizeof remote);
    why_text(ice, p, why, sizeof why);
    ice_report(ice, "selected",
               (nc_scn_kv_t[]){NC_KV_S("pair", text), NC_KV_S("path", relayed ? "relayed" : "direct"),
                               NC_KV_S("local", local), NC_KV_S("remote", remote),
                               NC_KV_S("local_type", cand_types[ice->local[p->local].type].name),
                               NC_KV_S("remote_type", cand_types[ice->remote[p->remote].type].name),
                               NC_KV_S("why", why),
                               NC_KV_S("turn_mapped", ice->turn_mapped)},
               8, "selected: %s, %s", text, why);
    if (ice->local[p->local].type == CAND_RELAY) {
        /* Data will go through the relay: a channel saves 32 bytes each. */
        nc__stun_buf_t b;
        nc__stun_begin(&b, nc__stun_type(NC_STUN_CHANNEL_BIND, NC_STUN_REQUEST), NULL);
        memcpy(ice->btid, b.m + 8, 12);
        ice->channel = 0x4000;
        nc__stun_put32(&b, NC_STUN_CHANNEL_NUMBER, (uint32_t)ice->channel << 16);
        nc__stun_put_xaddr(&b, NC_STUN_XOR_PEER_ADDRESS, &ice->remote[p->remote].addr);
        turn_request_send(ice, &b);
    }
    ice_finish(ice, PH_READY);
}

static void on_check_response(nc_kit_ice_t *ice, const nc__stun_msg_t *m)
{
    for (size_t i = 0; i < ice->npairs; i++) {
        pair_t *p = &ice->pairs[i];
        if (p->state != PAIR_PROGRESS || memcmp(p->tid, m->tid, 12) != 0)
            continue;
        if (nc__stun_class(m->type) != NC_STUN_SUCCESS ||
            !nc__stun_check_integrity(m, ice->rpwd, strlen(ice->rpwd)))
            return;
        struct sockaddr_in mapped;
        if (nc__stun_find_xaddr(m, NC_STUN_XOR_MAPPED_ADDRESS, &mapped))
            nc__stun_addr_text(&mapped, p->mapped, sizeof p->mapped);
        p->state = PAIR_SUCCEEDED;
        char text[160];
        pair_text(ice, p, text, sizeof text);
        int64_t rtt = (int64_t)(ice_now(ice) - p->sent_at);
        ice_report(ice, "check",
                   (nc_scn_kv_t[]){NC_KV_S("pair", text), NC_KV_S("result", "succeeded"),
                                   NC_KV_I("rtt_ms", rtt), NC_KV_S("mapped", p->mapped),
                                   NC_KV_B("nominated", p->nominating)},
                   5, "check succeeded: %s answered in %lld ms; the peer saw this check come "
                      "from %s",
                   text, (long long)rtt, p->mapped);
        if (p->nominating || (!ice->conf.controlling && p->nominated))
            select_pair(ice, i);
        else
            maybe_nominate(ice);
        return;
    }
}

/* A check from the peer: answered from the candidate it reached, and its
 * pair checked in turn (a triggered check). via_relay: it came in a Data
 * indication or on the channel. */
static void on_check_request(nc_kit_ice_t *ice, const nc__stun_msg_t *m,
                             const struct sockaddr_in *from, bool via_relay)
{
    char user[160];
    size_t ul = strlen(ice->ufrag);
    if (!nc__stun_find_text(m, NC_STUN_USERNAME, user, sizeof user) ||
        strncmp(user, ice->ufrag, ul) != 0 || user[ul] != ':' ||
        !nc__stun_check_integrity(m, ice->pwd, strlen(ice->pwd)))
        return; /* not for this agent, or forged: no answer */
    size_t local = 0;
    if (via_relay)
        for (size_t i = 0; i < ice->nlocal; i++)
            if (ice->local[i].type == CAND_RELAY)
                local = i;
    nc__stun_buf_t b;
    nc__stun_begin(&b, nc__stun_type(NC_STUN_BINDING, NC_STUN_SUCCESS), m->tid);
    nc__stun_put_xaddr(&b, NC_STUN_XOR_MAPPED_ADDRESS, from);
    nc__stun_integrity(&b, ice->pwd, strlen(ice->pwd));
    nc__stun_fingerprint(&b);
    ice_send_from(ice, local, b.m, b.n, from);
    if (ice->phase != PH_CHECK)
        return;
    size_t remote = (size_t)-1;
    for (size_t r = 0; r < ice->nremote; r++)
        if (same_addr(&ice->remote[r].addr, from))
            remote = r;
    char fromtext[64];
    nc__stun_addr_text(from, fromtext, sizeof fromtext);
    if (remote == (size_t)-1) {
        uint32_t prio = cand_priority(CAND_PRFLX);
        nc__stun_find_u32(m, NC_STUN_PRIORITY, &prio);
        remote = cand_add(ice, ice->remote, &ice->nremote, CAND_PRFLX, from, NULL, prio);
        if (remote == (size_t)-1)
            return;
        ice_report(ice, "candidate",
                   (nc_scn_kv_t[]){NC_KV_S("candidate", "prflx"), NC_KV_S("address", fromtext),
                                   NC_KV_I("priority", prio), NC_KV_S("side", "remote")},
                   4, "remote candidate: prflx %s: a check came from an address the peer never "
                      "offered (its NAT made a new mapping for this destination)",
                   fromtext);
    }
    int i = pair_add(ice, local, remote);
    if (i < 0)
        return;
    pair_t *p = &ice->pairs[i];
    size_t uclen;
    if (nc__stun_find(m, NC_STUN_USE_CANDIDATE, &uclen) && !ice->conf.controlling) {
        p->nominated = true;
        if (p->state == PAIR_SUCCEEDED) {
            select_pair(ice, (size_t)i);
            return;
        }
    }
    if (p->state == PAIR_WAITING || p->state == PAIR_FAILED) {
        /* A triggered check goes at once. */
        p->triggered = true;
        p->tries = 0;
        check_send(ice, (size_t)i);
    }
}

/* The pacing timer: retransmissions, failures, then the next check. */
static void check_tick(uv_timer_t *t)
{
    nc_kit_ice_t *ice = t->data;
    uint64_t now = ice_now(ice);
    if (ice->phase == PH_GATHER_STUN || ice->phase == PH_GATHER_TURN) {
        if (now - ice->gsent < ((uint64_t)NC_ICE_RTO_MS << ice->gtries))
            return;
        if (++ice->gtries < NC_ICE_GATHER_TRIES) {
            gather_send(ice);
            return;
        }
        ice_report(ice, "recvfrom", NULL, 0, "no answer from the %s server: gathering goes on "
                                             "without that candidate",
                   ice->phase == PH_GATHER_STUN ? "STUN" : "TURN");
        if (ice->phase == PH_GATHER_STUN)
            gather_turn(ice);
        else
            signal_start(ice);
        return;
    }
    if (ice->phase == PH_READY && ice->read_deadline && now >= ice->read_deadline) {
        ice->read_deadline = 0;
        ice_report(ice, "timeout", NULL, 0, "no data came from the peer in time: the read gives "
                                            "up");
        if (ice->cb)
            ice->cb(ice, NC_KIT_ICE_TIMEOUT, ice->data);
        return;
    }
    if (ice->phase != PH_CHECK)
        return;
    bool busy = false;
    for (size_t i = 0; i < ice->npairs; i++) {
        pair_t *p = &ice->pairs[i];
        if (p->state != PAIR_PROGRESS)
            continue;
        if (now - p->sent_at < ((uint64_t)NC_ICE_RTO_MS << (p->tries - 1)))
            continue;
        if (p->tries < NC_ICE_TRIES) {
            check_send(ice, i);
            busy = true;
            continue;
        }
        p->state = PAIR_FAILED;
        p->nominating = false;
        char text[160];
        pair_text(ice, p, text, sizeof text);
        ice_report(ice, "check",
                   (nc_scn_kv_t[]){NC_KV_S("pair", text), NC_KV_S("result", "failed"),
                                   NC_KV_I("tries", p->tries)},
                   3, "check failed: %s: no answer to %d tries%s", text, p->tries,
                   ice->local[p->local].type == CAND_HOST &&
                           ice->remote[p->remote].type != CAND_RELAY
                       ? " (something between the two dropped them)"
                       : "");
        maybe_nominate(ice);
    }
    if (ice->phase != PH_CHECK)
        return;
    if (now >= ice->next_check && !busy) {
        for (size_t i = 0; i < ice->npairs; i++) {
            pair_t *p = &ice->pairs[i];
            if (p->state != PAIR_WAITING)
                continue;
            if (ice->local[p->local].type == CAND_RELAY && !ice->permitted)
                continue; /* the relay drops it until the permission is there */
            check_send(ice, i);
            ice->next_check = now + NC_ICE_TA_MS;
            break;
        }
    }
    bool open = false, any = false;
    for (size_t i = 0; i < ice->npairs; i++) {
        open |= ice->pairs[i].state == PAIR_WAITING || ice->pairs[i].state == PAIR_PROGRESS;
        any |= ice->pairs[i].state == PAIR_SUCCEEDED;
    }
    if ((!open && !any && ice->conf.controlling) || now >= ice->deadline) {
        ice_report(ice, "ice-failed", NULL, 0,
                   any ? "no pair was nominated in time: the connection is given up"
                       : "every candidate pair failed: the peers cannot reach each other");
        ice_finish(ice, PH_FAILED);
    }
}

static void checks_start(nc_kit_ice_t *ice)
{
    ice->phase = PH_CHECK;
    ice->next_check = ice_now(ice);
    ice->deadline = ice->next_check + NC_ICE_DEADLINE_MS;
    if (ice->have_relay)
        permission_request(ice);
    else
        ice->permitted = true;
}

/* ---- the socket ---- */

static void on_turn_message(nc_kit_ice_t *ice, const nc__stun_msg_t *m)
{
    uint16_t method = nc__stun_method(m->type);
    unsigned cls = nc__stun_class(m->type);
    if (method == NC_STUN_DATA && cls == NC_STUN_INDICATION) {
        struct sockaddr_in peer;
        size_t len;
        const uint8_t *data = nc__stun_find(m, NC_STUN_DATA_ATTR, &len);
        if (data && nc__stun_find_xaddr(m, NC_STUN_XOR_PEER_ADDRESS, &peer))
            ice_datagram(ice, data, len, &peer, true);
        return;
    }
    if (method == NC_STUN_CREATE_PERMISSION && memcmp(m->tid, ice->ptid, 12) == 0) {
        ice->permitted = cls == NC_STUN_SUCCESS;
        ice_report(ice, "recvfrom", (nc_scn_kv_t[]){NC_KV_B("permitted", ice->permitted)}, 1,
                   "recvfrom(): the TURN server %s the permissions",
                   ice->permitted ? "installed" : "refused");
        return;
    }
    if (method == NC_STUN_CHANNEL_BIND && memcmp(m->tid, ice->btid, 12) == 0) {
        ice->bound = cls == NC_STUN_SUCCESS;
        ice_report(ice, "recvfrom", (nc_scn_kv_t[]){NC_KV_I("channel", ice->channel)}, 1,
                   "recvfrom(): channel 0x%04x is bound: data to the peer now goes as "
                   "ChannelData",
                   ice->channel);
        return;
    }
    on_gather_response(ice, m);
}

static void ice_datagram(nc_kit_ice_t *ice, const uint8_t *d, size_t n,
                         const struct sockaddr_in *from, bool via_relay)
{
    nc__stun_msg_t m;
    if (nc__stun_parse(d, n, &m)) {
        unsigned cls = nc__stun_class(m.type);
        if (nc__stun_method(m.type) == NC_STUN_BINDING && cls == NC_STUN_REQUEST)
            on_check_request(ice, &m, from, via_relay);
        else if (nc__stun_method(m.type) == NC_STUN_BINDING &&
                 (cls == NC_STUN_SUCCESS || cls == NC_STUN_ERROR))
            on_check_response(ice, &m);
        return;
    }
    if (ice->phase < PH_CHECK)
        return; /* data before the peer is known is not the app's */
    char text[256], who[64];
    size_t len = n < sizeof text - 1 ? n : sizeof text - 1;
    for (size_t i = 0; i < len; i++)
        text[i] = d[i] >= 32 && d[i] < 127 ? (char)d[i] : '.';
    text[len] = '\0';
    snprintf(ice->last, sizeof ice->last, "%s", text);
    ice->received++;
    ice->read_deadline = 0;
    nc__stun_addr_text(from, who, sizeof who);
    nc_kit_report(ice->k, NULL, "recvfrom",
                  (nc_scn_kv_t[]){NC_KV_S("from", who), NC_KV_I("bytes", (int64_t)n),
                                  NC_KV_S("data", text), NC_KV_B("relayed", via_relay)},
                  4, NULL, "recvfrom(): \"%s\" from the peer (%s)%s", text, who,
                  via_relay ? ", through the TURN relay" : "");
    if (ice->cb)
        ice->cb(ice, NC_KIT_ICE_MESSAGE, ice->data);
}

static void ice_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    nc_scn_alloc(h, suggested, buf);
}

static void ice_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *addr,
                     unsigned flags)
{
    nc_kit_ice_t *ice = h->data;
    if (n <= 0 || !addr || addr->sa_family != AF_INET || ice->closing)
        return;
    const struct sockaddr_in *from = (const struct sockaddr_in *)addr;
    const uint8_t *d = (const uint8_t *)buf->base;
    bool from_turn = ice->turn_host[0] && same_addr(from, &ice->turn_addr);
    bool from_stun = ice->stun_host[0] && same_addr(from, &ice->stun_addr);
    if (from_turn && (d[0] & 0xc0) == 0x40 && n >= 4) {
        /* ChannelData: the peer's bytes on our channel. */
        size_t len = (size_t)(d[2] << 8 | d[3]);
        if (ice->bound && ice->selected >= 0 && 4 + len <= (size_t)n &&
            (uint16_t)(d[0] << 8 | d[1]) == ice->channel)
            ice_datagram(ice, d + 4, len, &ice->remote[ice->pairs[ice->selected].remote].addr,
                                 true);
        return;
    }
    nc__stun_msg_t m;
    if ((from_turn || from_stun) && nc__stun_parse(d, (size_t)n, &m)) {
        on_turn_message(ice, &m);
        return;
    }
    ice_datagram(ice, d, (size_t)n, from, false);
}

static void ice_closed(uv_handle_t *h)
{
    nc_kit_ice_t *ice = h->data;
    if (--ice->open_handles == 0)
        free(ice);
}

static bool resolve(nc_kit_ice_t *ice, const char *host, int port, struct sockaddr_in *out)
{
    const char *addr = nc_scn_addr(nc_kit_scn(ice->k), host);
    if (!addr || uv_ip4_addr(addr, port, out) != 0) {
        nc_scn_fail(nc_kit_scn(ice->k), "%s: ice: no host \"%s\" in this lab",
                    nc_kit_host(ice->k), host);
        return false;
    }
    return true;
}

static void random_text(char *out, size_t n)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    uint8_t r[32];
    if (RAND_bytes(r, (int)n) != 1)
        for (size_t i = 0; i < n; i++)
            r[i] = (uint8_t)rand();
    for (size_t i = 0; i < n; i++)
        out[i] = alphabet[r[i] % (sizeof alphabet - 1)];
    out[n] = '\0';
}

nc_kit_ice_t *nc_kit_ice_start(nc_kit_t *k, const nc_kit_ice_conf_t *conf, nc_kit_ice_cb cb,
                               void *data)
{
    nc_kit_ice_t *ice = nc_xcalloc(1, sizeof *ice);
    ice->k = k;
    ice->conf = *conf;
    ice->cb = cb;
    ice->data = data;
    ice->selected = -1;
#define COPY(f) snprintf(ice->f, sizeof ice->f, "%s", conf->f ? conf->f : "")
    COPY(stun_host);
    COPY(turn_host);
    COPY(signal_host);
    COPY(room);
    COPY(user);
    COPY(password);
#undef COPY
    if (!ice->user[0])
        snprintf(ice->user, sizeof ice->user, "student");
    if (!ice->password[0])
        snprintf(ice->password, sizeof ice->password, "secret");
    random_text(ice->ufrag, 8);
    random_text(ice->pwd, 24);
    if (RAND_bytes(ice->tiebreak, sizeof ice->tiebreak) != 1)
        memset(ice->tiebreak, 7, sizeof ice->tiebreak);
    uv_udp_init(nc_kit_loop(k), &ice->udp);
    uv_timer_init(nc_kit_loop(k), &ice->timer);
    ice->udp.data = ice->timer.data = ice;
    ice->open_handles = 2;
    struct sockaddr_in me;
    int rc = uv_ip4_addr(nc_scn_addr(nc_kit_scn(k), nc_kit_host(k)), conf->port, &me);
    if (rc == 0)
        rc = uv_udp_bind(&ice->udp, (const struct sockaddr *)&me, 0);
    if (rc == 0)
        rc = uv_udp_recv_start(&ice->udp, ice_alloc, ice_recv);
    int len = sizeof me;
    if (rc == 0)
        rc = uv_udp_getsockname(&ice->udp, (struct sockaddr *)&me, &len);
    if (rc != 0) {
        nc_scn_fail(nc_kit_scn(k), "%s: ice: cannot bind a UDP socket: %s", nc_kit_host(k),
                    uv_strerror(rc));
        nc_kit_ice_close(ice);
        return NULL;
    }
    if ((ice->stun_host[0] && !resolve(ice, ice->stun_host, conf->stun_port, &ice->stun_addr)) ||
        (ice->turn_host[0] && !resolve(ice, ice->turn_host, conf->turn_port, &ice->turn_addr))) {
        nc_kit_ice_close(ice);
        return NULL;
    }
    cand_add(ice, ice->local, &ice->nlocal, CAND_HOST, &me, &me, 0);
    char a[64];
    nc__stun_addr_text(&me, a, sizeof a);
    ice_report(ice, "candidate",
               (nc_scn_kv_t[]){NC_KV_S("candidate", "host"), NC_KV_S("address", a),
                               NC_KV_I("priority", ice->local[0].priority), NC_KV_S("base", a),
                               NC_KV_S("side", "local"),
                               NC_KV_S("role", conf->controlling ? "controlling" : "controlled")},
               6, "candidate: host %s, priority %u: the socket's own address (the agent is %s)",
               a, ice->local[0].priority, conf->controlling ? "controlling: it offers" :
                                                              "controlled: it answers");
    uv_timer_start(&ice->timer, check_tick, 5, 5);
    gather_stun(ice);
    return ice;
}

int nc_kit_ice_send(nc_kit_ice_t *ice, const char *text, const char *say)
{
    if (!ice || ice->selected < 0)
        return NC_EINVAL;
    pair_t *p = &ice->pairs[ice->selected];
    size_t n = strlen(text);
    char who[64];
    nc__stun_addr_text(&ice->remote[p->remote].addr, who, sizeof who);
    bool via_turn = ice->local[p->local].type == CAND_RELAY;
    bool to_relay = ice->remote[p->remote].type == CAND_RELAY;
    ice_send_from(ice, p->local, text, n, &ice->remote[p->remote].addr);
    const char *how = via_turn ? (ice->bound ? "ChannelData" : "Send indication")
                      : to_relay ? "to the peer's relayed address"
                                 : "direct";
    nc_kit_report(ice->k, NULL, "sendto",
                  (nc_scn_kv_t[]){NC_KV_S("to", who), NC_KV_I("bytes", (int64_t)n),
                                  NC_KV_B("relayed", via_turn || to_relay), NC_KV_S("how", how)},
                  4, say, "sendto(): \"%s\" to the peer at %s%s", text, who,
                  via_turn   ? (ice->bound ? ", through the TURN relay as ChannelData"
                                           : ", through the TURN relay in a Send indication")
                  : to_relay ? ": the peer's relayed address, which the TURN server passes on"
                             : ", straight over the selected pair");
    return 0;
}

size_t nc_kit_ice_received(const nc_kit_ice_t *ice)
{
    return ice ? ice->received : 0;
}

void nc_kit_ice_expect(nc_kit_ice_t *ice, int ms)
{
    if (ice && ice->phase == PH_READY)
        ice->read_deadline = ice_now(ice) + (uint64_t)ms;
}

bool nc_kit_ice_ready(const nc_kit_ice_t *ice)
{
    return ice && ice->phase == PH_READY;
}

void nc_kit_ice_close(nc_kit_ice_t *ice)
{
    if (!ice || ice->closing)
        return;
    ice->closing = true;
    if (ice->sig) {
        nc_kit_conn_set_owner(ice->sig, NULL);
        nc_kit_close(ice->sig, NULL);
        ice->sig = NULL;
    }
    uv_close((uv_handle_t *)&ice->udp, ice_closed);
    uv_close((uv_handle_t *)&ice->timer, ice_closed);
}
