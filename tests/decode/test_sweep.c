/*
 * test_sweep.c: every packet of every capture in NC_CAPTURES/tcpdump goes
 * through the decoder and the annotation rules, and then every packet again
 * cut to a few shorter lengths. Nothing may crash, hang or leave the event
 * builder unbalanced, and every event must print as JSON. No note may
 * state a value that was not decoded: none prints "(null)", and none
 * describes a UDP header that was cut short. The shared captures are many
 * deliberately malformed files from tcpdump's test suite.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "annotate/annotate.h"
#include "decode/decode.h"

#include <dirent.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

static unsigned long sweep_packets;

static void sweep_one(nc_decoder_t *d, nc_evb_t *b, nc_buf_t *out, int lt, const uint8_t *p,
                      uint32_t caplen, uint32_t len)
{
    nc_evb_reset(b, NC_EV_PACKET, 0);
    nc_decoder_packet(d, lt, p, caplen, len, b);
    nc_annotate_event(b);
    assert_int_equal(b->depth, 0);
    const nc_event_t *ev = nc_evb_view(b);
    if (ev->note) {
        assert_null(strstr(ev->note, "(null)"));
        if (nc_event_get(ev, "udp") && !nc_event_get(ev, "udp.payload_len"))
            assert_null(strstr(ev->note, "UDP: an 8-byte header"));
    }
    nc_buf_reset(out);
    nc_event_json(nc_evb_view(b), out);
    assert_true(out->len > 2);
    sweep_packets++;
}

static void sweep_file(const char *path)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
    if (p == NULL)
        return; /* some files are broken on purpose at the file level */
    nc_decoder_t *d = nc_decoder_new();
    nc_evb_t b;
    nc_evb_init(&b);
    nc_buf_t out;
    nc_buf_init(&out);
    struct pcap_pkthdr *h;
    const u_char *data;
    int lt = pcap_datalink(p);
    while (pcap_next_ex(p, &h, &data) == 1) {
        sweep_one(d, &b, &out, lt, data, h->caplen, h->len);
        for (uint32_t cut = 1; cut < h->caplen; cut += 1 + cut / 2)
            sweep_one(d, &b, &out, lt, data, cut, h->len);
    }
    nc_buf_done(&out);
    nc_evb_done(&b);
    nc_decoder_free(d);
    pcap_close(p);
}

static void test_sweep(void **state)
{
    (void)state;
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/tcpdump", NC_CAPTURES);
    DIR *dp = opendir(dir);
    if (dp == NULL)
        skip();
    struct dirent *e;
    unsigned files = 0;
    while ((e = readdir(dp)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[8192];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        sweep_file(path);
        files++;
    }
    closedir(dp);
    printf("swept %u files, %lu packets (with cuts)\n", files, sweep_packets);
    assert_true(files > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sweep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
