/*
 * fuzz_diag.c: libFuzzer harness for the probe's parsers of kernel answers.
 *
 * The first byte picks the parser: even, the bytes are one read of a
 * sock_diag dump (nc_diag_parse: netlink headers, inet_diag_msg records,
 * attributes, tcp_info read by offset); odd, they are the text of
 * /proc/net/netstat (nc_diag_netstat_parse). The corpus holds a real dump
 * and a real netstat file, and broken variants.
 */
#include "probe/diag.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void nc_fuzz_sock(const nc_diag_sock_t *sk, void *arg)
{
    size_t *n = arg;
    *n += strlen(sk->src) + strlen(sk->dst) + sk->rqueue + sk->wqueue + sk->cwnd + sk->snd_wnd +
          (sk->has_rcv_wnd ? sk->rcv_wnd : 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t sum = 0;
    if ((data[0] & 1) == 0) {
        nc_diag_parse(data + 1, size - 1, nc_fuzz_sock, &sum);
    } else {
        uint64_t ov, dr;
        nc_diag_netstat_parse((const char *)data + 1, size - 1, &ov, &dr);
    }
    return (int)(sum & 0);
}
