/*
 * dump.c: nc-decode-dump, the decoder's golden-test tool.
 *
 *   nc-decode-dump [--text | --fields] [--name ADDR=NAME]... [--keylog KEYS] FILE.pcap|FILE.pcapng
 *
 * Reads a capture with libpcap (nanosecond timestamps), decodes and
 * annotates every packet with one decoder (so flow state carries across
 * packets) and prints one line per packet: the event as JSON (nc_event_json,
 * with "i" counting packets and "t" relative to the first packet), or with
 * --text "i summary | note". --fields leaves out the annotation: the JSON
 * holds the decoded fields only (the decoder's golden files), so that
 * rewording a note changes the annotation goldens (--text) alone. --keylog
 * decrypts TLS with the secrets of an SSLKEYLOGFILE (src/decrypt). Exit
 * status 0, or 1 when the file cannot be read.
 */
#include "annotate/annotate.h"
#include "decode/decode.h"
#include "decrypt/decrypt.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    bool text = false, fields = false;
    const char *path = NULL;
    nc_decoder_t *d = nc_decoder_new();
    nc_keylog_t *kl = nc_keylog_new();
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--text") == 0) {
            text = true;
        } else if (strcmp(argv[i], "--fields") == 0) {
            fields = true;
        } else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc) {
            char *spec = argv[++i], *eq = strchr(spec, '=');
            if (eq == NULL) {
                fprintf(stderr, "nc-decode-dump: --name wants ADDR=NAME\n");
                return 2;
            }
            *eq = '\0';
            nc_decoder_name_host(d, spec, eq + 1);
        } else if (strcmp(argv[i], "--keylog") == 0 && i + 1 < argc) {
            char kerr[256];
            if (nc_keylog_load(kl, argv[++i], kerr, sizeof kerr) != 0) {
                fprintf(stderr, "nc-decode-dump: %s\n", kerr);
                return 1;
            }
            nc_decoder_set_decryptor(d, &nc_decrypt_tls, kl);
        } else {
            path = argv[i];
        }
    }
    if (path == NULL) {
        fprintf(stderr, "usage: nc-decode-dump [--text | --fields] [--name ADDR=NAME]... FILE\n");
        return 2;
    }
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
    if (p == NULL) {
        fprintf(stderr, "nc-decode-dump: %s\n", err);
        nc_decoder_free(d);
        return 1;
    }
    int linktype = pcap_datalink(p);
    nc_evb_t b;
    nc_evb_init(&b);
    nc_buf_t out;
    nc_buf_init(&out);
    struct pcap_pkthdr *h;
    const u_char *data;
    int64_t t0 = -1;
    uint64_t i = 0;
    while (pcap_next_ex(p, &h, &data) == 1) {
        int64_t t = (int64_t)h->ts.tv_sec * 1000000000 + h->ts.tv_usec;
        if (t0 < 0)
            t0 = t;
        nc_evb_reset(&b, NC_EV_PACKET, t);
        nc_decoder_packet(d, linktype, data, h->caplen, h->len, &b);
        if (!fields)
            nc_annotate_event(&b);
        nc_event_t ev = *nc_evb_view(&b);
        ev.i = i++;
        ev.t_ns = t - t0;
        nc_buf_reset(&out);
        if (text)
            nc_buf_printf(&out, "%llu %s | %s", (unsigned long long)ev.i, ev.summary,
                          ev.note ? ev.note : "");
        else
            nc_event_json(&ev, &out);
        puts(nc_buf_cstr(&out));
    }
    nc_buf_done(&out);
    nc_evb_done(&b);
    pcap_close(p);
    nc_decoder_free(d);
    nc_keylog_free(kl);
    return 0;
}
