/*
 * test_tls.c: the TLS stream decoder with decryption, through the
 * reassembler's API (stream.h), on a real connection: pcaps/tls13.pcap and
 * pcaps/tls12.pcap (openssl s_client asking s_server -www for a page) with
 * their key logs.
 *
 * Every cut of the connection must decode to the same messages: its
 * segments as captured, and each segment fed one byte at a time (records and
 * handshake messages then span many calls). A server segment lost whole,
 * with the client's ACK past it (a gap across record boundaries), must leave
 * the direction lost only until the next segment that starts a record: the
 * records after it are read again, and decrypted once the sequence number is
 * found. And a checkpoint is refused while a record is held half read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "decode/stream.h"
#include "decrypt/decrypt.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int dir;
    uint32_t seq, ack, len;
    bool syn, fin, has_ack;
    uint8_t data[16384];
} pkt_t;

typedef struct {
    pkt_t p[64];
    size_t n;
    uint32_t isn[2];
    nc_keylog_t *keys;
} capture_t;

/* Reads the TCP segments of a loopback Ethernet capture; the SYN's sender
 * is direction 0. */
static void load(capture_t *c, const char *name)
{
    char path[512], err[PCAP_ERRBUF_SIZE];
    snprintf(path, sizeof path, "%s/pcaps/%s.pcap", NC_TEST_DATA, name);
    pcap_t *pc = pcap_open_offline(path, err);
    assert_non_null(pc);
    struct pcap_pkthdr *h;
    const u_char *d;
    uint16_t client_port = 0;
    memset(c, 0, sizeof *c);
    while (pcap_next_ex(pc, &h, &d) == 1 && c->n < 64) {
        const u_char *ip = d + 14, *tcp = ip + (ip[0] & 15) * 4;
        uint32_t iplen = (uint32_t)ip[2] << 8 | ip[3];
        uint32_t hl = (uint32_t)(tcp[12] >> 4) * 4;
        pkt_t *p = &c->p[c->n++];
        uint16_t sport = (uint16_t)(tcp[0] << 8 | tcp[1]);
        p->syn = tcp[13] & 2;
        p->fin = tcp[13] & 1;
        p->has_ack = tcp[13] & 16;
        if (p->syn && !p->has_ack)
            client_port = sport;
        p->dir = sport == client_port ? 0 : 1;
        p->seq = (uint32_t)tcp[4] << 24 | (uint32_t)tcp[5] << 16 | (uint32_t)tcp[6] << 8 | tcp[7];
        p->ack = (uint32_t)tcp[8] << 24 | (uint32_t)tcp[9] << 16 | (uint32_t)tcp[10] << 8 | tcp[11];
        p->len = iplen - (uint32_t)(tcp - ip) - hl;
        assert_true(p->len <= sizeof p->data);
        memcpy(p->data, tcp + hl, p->len);
        if (p->syn)
            c->isn[p->dir] = p->seq;
    }
    pcap_close(pc);
    snprintf(path, sizeof path, "%s/pcaps/%s.keys", NC_TEST_DATA, name);
    c->keys = nc_keylog_new();
    assert_int_equal(nc_keylog_load(c->keys, path, err, sizeof err), 0);
}

/* What the messages of a run say, one line each: the decoder's summary. */
typedef struct {
    char text[4096];
    int decrypted_http;
} seen_t;

static void note(seen_t *s, const nc_stream_out_t *out)
{
    for (uint32_t i = 0; i < out->nmsgs; i++) {
        char one[200];
        out->msgs[i].proto->summary(&out->msgs[i], one, sizeof one);
        size_t at = strlen(s->text);
        snprintf(s->text + at, sizeof s->text - at, "%s\n", one);
        if (out->msgs[i].proto == &nc_http1_stream && out->msgs[i].decrypted)
            s->decrypted_http++;
    }
}

/* Feeds the capture: each payload whole, or one byte a call (but for a
 * direction's first five: its first bytes choose its decoder); the packet
 * numbered drop is not fed at all (its ACKs still are). */
static void run(const capture_t *c, bool bytewise, size_t drop, seen_t *s)
{
    nc_stream_t *st = nc_stream_new();
    nc_stream_set_decryptor(st, &nc_decrypt_tls, c->keys);
    nc_stream_out_t *out = malloc(sizeof *out);
    memset(s, 0, sizeof *s);
    bool started[2] = {false, false};
    for (size_t i = 0; i < c->n; i++) {
        const pkt_t *p = &c->p[i];
        if (i == drop)
            continue;
        size_t step = bytewise && p->len ? 1 : p->len;
        for (size_t off = 0, n = 0; off < p->len || off == 0; off += n) {
            n = p->len - off < step ? p->len - off : step;
            if (bytewise && p->len >= 5 && !started[p->dir]) {
                n = 5;
                started[p->dir] = true;
            }
            nc_stream_seg_t g = {
                .dir = p->dir,
                .seq = p->seq + (uint32_t)off,
                .len = (uint32_t)n,
                .syn = p->syn && off == 0,
                .fin = p->fin && off + n == p->len,
                .base = c->isn[p->dir],
                .peer_base = c->isn[!p->dir],
                .from_syn = true,
                .ack = p->has_ack,
                .ack_seq = p->ack,
                .payload = p->data + off,
                .caplen = (uint32_t)n,
            };
            out->nmsgs = out->dropped = out->ngaps = 0;
            nc_stream_segment(st, &g, out);
            note(s, out);
            if (p->len == 0)
                break;
        }
    }
    out->nmsgs = out->dropped = out->ngaps = 0;
    nc_stream_finish(st, out);
    note(s, out);
    free(out);
    nc_stream_free(st);
}

static void test_cuts(void **state)
{
    static const char *const names[] = {"tls13", "tls12"};
    for (size_t k = 0; k < 2; k++) {
        capture_t *c = malloc(sizeof *c);
        load(c, names[k]);
        seen_t *whole = malloc(sizeof *whole), *bytes = malloc(sizeof *bytes);
        run(c, false, (size_t)-1, whole);
        run(c, true, (size_t)-1, bytes);
        assert_string_equal(bytes->text, whole->text);
        assert_int_equal(whole->decrypted_http, 2); /* the request, the response */
        assert_non_null(strstr(whole->text, "TLS Finished"));
        assert_non_null(strstr(whole->text, "GET / HTTP/1.1"));
        nc_keylog_free(c->keys);
        free(whole);
        free(bytes);
        free(c);
    }
}

static void test_lost_record(void **state)
{
    capture_t *c = malloc(sizeof *c);
    load(c, "tls13");
    /* The server's first NewSessionTicket travels alone in a segment. */
    size_t ticket = (size_t)-1;
    for (size_t i = 0; i < c->n && ticket == (size_t)-1; i++)
        if (c->p[i].dir == 1 && c->p[i].len > 0 && c->p[i].len < 400 && c->p[i].data[0] == 23 &&
            i > 5)
            ticket = i;
    assert_true(ticket != (size_t)-1);
    seen_t *s = malloc(sizeof *s);
    run(c, false, ticket, s);
    /* One ticket is gone; the other, and the response after it, are read. */
    assert_non_null(strstr(s->text, "TLS NewSessionTicket"));
    assert_int_equal(s->decrypted_http, 2);
    nc_keylog_free(c->keys);
    free(s);
    free(c);
}

static void test_checkpoint_mid_record(void **state)
{
    capture_t *c = malloc(sizeof *c);
    load(c, "tls13");
    nc_stream_t *st = nc_stream_new();
    nc_stream_set_decryptor(st, &nc_decrypt_tls, c->keys);
    nc_stream_out_t *out = malloc(sizeof *out);
    nc_stream_state_t *ck = malloc(sizeof *ck);
    /* Up to the ClientHello, then half of it again as a fresh connection. */
    size_t i = 0;
    for (; i < c->n && !(c->p[i].dir == 0 && c->p[i].len > 0); i++) {
        nc_stream_seg_t g = {.dir = c->p[i].dir, .seq = c->p[i].seq, .syn = c->p[i].syn,
                             .base = c->isn[c->p[i].dir], .peer_base = c->isn[!c->p[i].dir],
                             .from_syn = true, .ack = c->p[i].has_ack, .ack_seq = c->p[i].ack};
        out->nmsgs = out->ngaps = 0;
        nc_stream_segment(st, &g, out);
    }
    const pkt_t *p = &c->p[i];
    nc_stream_seg_t g = {.dir = 0, .seq = p->seq, .len = p->len / 2, .base = c->isn[0],
                         .peer_base = c->isn[1], .from_syn = true, .payload = p->data,
                         .caplen = p->len / 2};
    out->nmsgs = out->ngaps = 0;
    nc_stream_segment(st, &g, out);
    assert_int_equal(out->nmsgs, 0);
    assert_false(nc_stream_save(st, ck)); /* half a record is held */
    g.seq += p->len / 2;
    g.len = g.caplen = p->len - p->len / 2;
    g.payload = p->data + p->len / 2;
    nc_stream_segment(st, &g, out);
    assert_int_equal(out->nmsgs, 1);
    assert_true(nc_stream_save(st, ck));
    free(ck);
    free(out);
    nc_stream_free(st);
    nc_keylog_free(c->keys);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cuts),
        cmocka_unit_test(test_lost_record),
        cmocka_unit_test(test_checkpoint_mid_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
