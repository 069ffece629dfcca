#!/usr/bin/env python3
"""seed_decode.py: builds tests/fuzz/corpus/decode/ from real frames.

Each seed is one frame prefixed with the byte that makes fuzz_decode.c pick
the frame's link type. Frames come from the hand-made captures in
tests/decode/pcaps and from a few shared tcpdump captures (classic pcap only).

    python3 tests/fuzz/seed_decode.py [CAPTURES_DIR]   # default ../shared/captures
"""
import hashlib
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(HERE, "corpus", "decode")
# Must match fuzz_linktypes[] in fuzz_decode.c.
LINKTYPES = [1, 113, 276, 12, 101, 228, 229, 0, 108, 147]
SHARED = ["dns_udp_2.pcap", "edns-opts.pcap", "dns-uri.pcap", "tfo-5c1fa7f9ae91.pcap",
          "mptcp-fclose.pcap", "mptcp-v1.pcap", "tcp_rst_data.pcap", "icmpv6-ni-flags.pcap",
          "LINKTYPE_RAW_ipv6.pcap", "hoobr_rt6_print.pcap", "ikev2four.pcap",
          "heapoverflow-tcp_print.pcap", "bgp-4byte-asn.pcap", "icmp-icmp_print-oobr-1.pcap",
          "ipv6hdr-heapoverflow.pcap", "LINKTYPE_IPV4_invalid.pcap"]


def frames(path, limit):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        return
    lt = struct.unpack(e + "I", data[20:24])[0] & 0xFFFF
    if lt not in LINKTYPES:
        return
    off, n = 24, 0
    while off + 16 <= len(data) and n < limit:
        caplen = struct.unpack(e + "I", data[off + 8:off + 12])[0]
        frame = data[off + 16:off + 16 + caplen]
        off += 16 + caplen
        if 0 < len(frame) <= 1600:
            n += 1
            yield bytes([LINKTYPES.index(lt)]) + frame


def main():
    captures = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared", "captures")
    os.makedirs(OUT, exist_ok=True)
    paths = [(os.path.join(ROOT, "tests", "decode", "pcaps", p), 8)
             for p in ("tcp_session.pcap", "sll2_mixed.pcap", "null_ip_mix.pcap")]
    paths += [(os.path.join(captures, "tcpdump", p), 2) for p in SHARED]
    count = 0
    for path, limit in paths:
        if not os.path.exists(path):
            continue
        for seed in frames(path, limit):
            name = hashlib.sha1(seed).hexdigest()[:16]
            with open(os.path.join(OUT, name), "wb") as f:
                f.write(seed)
            count += 1
    print("wrote %d seeds to %s" % (count, OUT))


if __name__ == "__main__":
    main()
