/*
 * fuzz_decode.c: libFuzzer harness for the decoders and annotation rules.
 *
 * Input: the first byte picks a link type from the table below (modulo its
 * size), the rest is one frame. The frame is decoded twice through the same
 * decoder, so the second pass meets the flow state the first one left (TCP
 * retransmission and dup-ACK paths), and each event is annotated and printed
 * as JSON. NcFuzzFile() takes a whole pcap/pcapng file instead (the corpus
 * replay also feeds it every shared capture): libpcap reads it from memory
 * and every packet goes through one decoder.
 */
#include "annotate/annotate.h"
#include "decode/decode.h"

#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>

static const int fuzz_linktypes[] = {1, 113, 276, 12, 101, 228, 229, 0, 108, 147};

static void fuzz_one(nc_decoder_t *d, nc_evb_t *b, nc_buf_t *out, int lt, const uint8_t *p,
                     uint32_t caplen, uint32_t len)
{
    nc_evb_reset(b, NC_EV_PACKET, 0);
    nc_decoder_packet(d, lt, p, caplen, len, b);
    nc_annotate_event(b);
    nc_buf_reset(out);
    nc_event_json(nc_evb_view(b), out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    int lt = fuzz_linktypes[data[0] % (sizeof(fuzz_linktypes) / sizeof(fuzz_linktypes[0]))];
    nc_decoder_t *d = nc_decoder_new();
    nc_decoder_name_host(d, "10.0.0.1", "client");
    nc_evb_t b;
    nc_evb_init(&b);
    nc_buf_t out;
    nc_buf_init(&out);
    for (int pass = 0; pass < 2; pass++)
        fuzz_one(d, &b, &out, lt, data + 1, (uint32_t)(size - 1), (uint32_t)(size - 1));
    nc_buf_done(&out);
    nc_evb_done(&b);
    nc_decoder_free(d);
    return 0;
}

int NcFuzzFile(const char *path, const uint8_t *data, size_t size);

int NcFuzzFile(const char *path, const uint8_t *data, size_t size)
{
    (void)path;
    if (size == 0)
        return 0;
    FILE *f = fmemopen((void *)data, size, "rb");
    if (f == NULL)
        return 0;
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, err);
    if (p == NULL) {
        fclose(f);
        return 0;
    }
    nc_decoder_t *d = nc_decoder_new();
    nc_evb_t b;
    nc_evb_init(&b);
    nc_buf_t out;
    nc_buf_init(&out);
    struct pcap_pkthdr *h;
    const u_char *pkt;
    int lt = pcap_datalink(p);
    while (pcap_next_ex(p, &h, &pkt) == 1)
        fuzz_one(d, &b, &out, lt, pkt, h->caplen, h->len);
    nc_buf_done(&out);
    nc_evb_done(&b);
    nc_decoder_free(d);
    pcap_close(p); /* closes f too */
    return 0;
}
