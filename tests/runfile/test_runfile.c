/*
 * test_runfile.c: saved runs written and read back, without a lab.
 *
 * A timeline is built the way a live run builds it (frames through the
 * decoder, the wire's fields, notes, app and mark events), saved, and
 * replayed: every event must print the same JSON. Then the file is cut at
 * every byte offset: the replay must never crash and must end with a note
 * saying where the file broke whenever a packet was cut.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/timeline.h"
#include "decode/decode.h"
#include "runfile/capfile.h"
#include "runfile/replay.h"
#include "runfile/runfile.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const int64_t T0 = 1700000000000000000LL;

/* An Ethernet + IPv4 + UDP frame from 10.0.0.1:4000 to 10.0.0.2:53. */
static size_t frame(uint8_t *f, int n)
{
    static const uint8_t head[] = {
        2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00,           /* Ethernet */
        0x45, 0, 0, 32, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, /* IPv4 */
        0x0f, 0xa0, 0, 53, 0, 12, 0, 0,                            /* UDP */
    };
    memcpy(f, head, sizeof head);
    memcpy(f + sizeof head, "ping", 4);
    f[sizeof head + 3] = (uint8_t)('0' + n % 10);
    return sizeof head + 4;
}

static nc_timeline_t *make_run(void)
{
    nc_timeline_t *tl = nc_timeline_new(T0);
    nc_timeline_set_window(tl, 0);
    nc_decoder_t *d = nc_decoder_new();
    nc_decoder_name_host(d, "10.0.0.1", "client");
    nc_decoder_name_host(d, "10.0.0.2", "server");
    nc_evb_t b;
    nc_evb_init(&b);
    nc_evb_reset(&b, NC_EV_MARK, T0 + 1000);
    nc_evb_host(&b, "lesson");
    nc_evb_summary(&b, "Step 1 of 1: \"quotes\", tabs\tand é");
    nc_evb_str(&b, "event", "begin");
    nc_evb_note(&b, "A note with a \\ backslash.");
    nc_timeline_add(tl, &b);
    for (int k = 0; k < 6; k++) {
        uint8_t f[64];
        size_t n = frame(f, k);
        nc_evb_reset(&b, NC_EV_PACKET, T0 + 2000 + k * 1000123);
        nc_decoder_packet(d, 1, f, (uint32_t)n, (uint32_t)n, &b);
        b.ev.iface = (uint32_t)(k % 2);
        nc_evb_bool(&b, "dropped", k == 3);
        nc_evb_obj(&b, "wire");
        nc_evb_str(&b, "action", k == 3 ? "drop" : "forward");
        nc_evb_num(&b, "delay", k == 3 ? 0 : 0.000125);
        nc_evb_end(&b);
        if (k != 2)
            nc_evb_note(&b, "Packet %d says ping.", k);
        nc_timeline_add(tl, &b);
        if (k == 1) {
            nc_evb_reset(&b, NC_EV_APP, T0 + 2500 + k * 1000123);
            nc_evb_host(&b, "server");
            nc_evb_summary(&b, "recvfrom() returned 4 bytes");
            nc_evb_str(&b, "call", "recvfrom");
            nc_evb_list(&b, "list");
            nc_evb_int(&b, NULL, -7);
            nc_evb_num(&b, NULL, 2.5);
            nc_evb_end(&b);
            nc_timeline_add(tl, &b);
        }
    }
    nc_evb_done(&b);
    nc_decoder_free(d);
    return tl;
}

static char *tmpfile_path(void)
{
    char *p = strdup("/tmp/nc-test-runfile-XXXXXX");
    int fd = mkstemp(p);
    close(fd);
    return p;
}

/* A decryptor that only keeps the secrets a replay hands it. */
static char dsb_seen[256];

static void dsb_add(void *ctx, const char *text, size_t n)
{
    snprintf(dsb_seen + strlen(dsb_seen), sizeof dsb_seen - strlen(dsb_seen), "%.*s", (int)n,
             text);
}

static const nc_decryptor_t dsb_recorder = {.add_secrets = dsb_add};

static void test_round_trip(void **state)
{
    nc_timeline_t *tl = make_run();
    char *path = tmpfile_path();
    const char *ifaces[] = {"c0", "s0"};
    const char *addrs[] = {"10.0.0.1", "10.0.0.2"}, *names[] = {"client", "server"};
    /* The secrets go in a Decryption Secrets Block and come back to the
     * replay's decryptor; 5 bytes long, so the block is padded. */
    static const char secrets[] = "CLIENT_RANDOM 00 11\n#x\n";
    nc_runfile_meta_t m = {"udp", 7,    NULL,  T0, ifaces, 2, addrs, names, 2, secrets,
                           sizeof secrets - 1};
    char err[256] = "";
    assert_int_equal(nc_runfile_save(path, tl, &m, err, sizeof err), 0);

    dsb_seen[0] = '\0';
    nc_replay_use_decryptor(&dsb_recorder, NULL);
    nc_replay_t *r = nc_replay_open(path, err, sizeof err);
    assert_non_null(r);
    assert_non_null(nc_replay_info(r));
    assert_string_equal(nc_replay_info(r)->lesson, "udp");
    assert_int_equal(nc_replay_info(r)->seed, 7);
    nc_evb_t b;
    nc_evb_init(&b);
    nc_buf_t want, got;
    nc_buf_init(&want);
    nc_buf_init(&got);
    size_t n = 0;
    while (nc_replay_next(r, &b, err, sizeof err) == 1) {
        b.ev.t_ns -= nc_replay_t0(r);
        assert_true(n < nc_timeline_count(tl));
        nc_buf_reset(&want);
        nc_buf_reset(&got);
        nc_event_json(nc_timeline_get(tl, n), &want);
        nc_event_json(&b.ev, &got);
        assert_string_equal(nc_buf_cstr(&got), nc_buf_cstr(&want));
        n++;
    }
    assert_int_equal(n, nc_timeline_count(tl));
    nc_replay_close(r);
    assert_string_equal(dsb_seen, secrets); /* handed over, once */

    /* Cut anywhere: never a crash; a cut inside the packets ends in a note. */
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    rewind(f);
    uint8_t *all = malloc((size_t)len);
    assert_int_equal(fread(all, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    long noted = 0;
    for (long cut = 0; cut < len; cut++) {
        nc_replay_t *c = nc_replay_open_mem(all, (size_t)cut, err, sizeof err);
        if (c == NULL)
            continue;
        bool note = false;
        while (nc_replay_next(c, &b, err, sizeof err) == 1)
            note = b.ev.type == NC_EV_NOTE && strstr(b.ev.summary, "breaks off at byte");
        noted += note;
        nc_replay_close(c);
    }
    nc_replay_use_decryptor(NULL, NULL);
    /* Only a cut that falls exactly between two blocks ends cleanly. */
    assert_true(noted > len * 9 / 10);
    free(all);
    nc_buf_done(&want);
    nc_buf_done(&got);
    nc_evb_done(&b);
    unlink(path);
    free(path);
    nc_timeline_free(tl);
}

static void test_not_a_capture(void **state)
{
    char err[256] = "";
    assert_null(nc_capfile_open((const uint8_t *)"hello world", 11, err, sizeof err));
    assert_non_null(strstr(err, "not a pcap or pcapng"));
    /* A pcap header naming a link type netcourse cannot decode (D-Bus). */
    uint8_t h[24] = {0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                     0xff, 0xff, 0, 0, 231, 0, 0, 0};
    assert_null(nc_replay_open_mem(h, sizeof h, err, sizeof err));
    assert_non_null(strstr(err, "cannot decode"));
}

static void test_lines(void **state)
{
    nc_evb_t b;
    nc_evb_init(&b);
    uint64_t idx = 0;
    char err[128];
    const char *ok = "{\"i\":3,\"t\":-1.5,\"type\":\"note\",\"host\":\"h\",\"summary\":"
                     "\"\\u00e9\\ud83d\\ude00\",\"x\":[1,{\"y\":null}]}";
    assert_int_equal(nc_runfile_line_parse(ok, strlen(ok), &b, &idx, err, sizeof err),
                     NC_RUNFILE_LINE_EVENT);
    assert_int_equal(idx, 3);
    assert_int_equal(b.ev.t_ns, -1500000000LL);
    assert_string_equal(b.ev.summary, "\xc3\xa9\xf0\x9f\x98\x80");
    static const char *const bad[] = {
        "", "{", "{}", "{\"i\":1", "{\"x\":1}", "{\"i\":-1}", "{\"i\":1,\"type\":\"packet\"}",
        "{\"i\":1,\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]}",
        "{\"i\":1,\"s\":\"\\uZZZZ\"}", "{\"i\":1,\"t\":99999999999999}", "{\"i\":1} trailing",
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
        assert_true(nc_runfile_line_parse(bad[k], strlen(bad[k]), &b, &idx, err, sizeof err) < 0);
    nc_evb_done(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_not_a_capture),
        cmocka_unit_test(test_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
