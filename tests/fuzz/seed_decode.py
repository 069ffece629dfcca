#!/usr/bin/env python3
"""seed_decode.py: builds tests/fuzz/corpus/decode/ from real frames.

Each seed is one frame prefixed with the byte that makes fuzz_decode.c pick
the frame's link type; two hand-made captures are also copied whole, for the
flow history a single frame cannot reach. Frames come from the hand-made captures in
tests/decode/pcaps and from a few shared tcpdump captures (classic pcap only).

    python3 tests/fuzz/seed_decode.py [CAPTURES_DIR]   # default ../shared/captures
"""
import hashlib
import os
import sys

from seed_layers import frames as pcap_frames

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


def frames(path, limit, biggest=1600):
    """Up to limit seeds from path: the link-type byte, then the frame."""
    n = 0
    for lt, frame in pcap_frames(path):
        if n >= limit:
            return
        if lt in LINKTYPES and 0 < len(frame) <= biggest:
            n += 1
            yield bytes([LINKTYPES.index(lt)]) + frame


def main():
    captures = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared", "captures")
    os.makedirs(OUT, exist_ok=True)
    paths = [(os.path.join(ROOT, "tests", "decode", "pcaps", p), 8)
             for p in ("tcp_session.pcap", "sll2_mixed.pcap", "null_ip_mix.pcap")]
    # Every frame of the captures of the truth-of-notes cases (recovery
    # kinds, FINs, HEAD, UDP 443, cut UDP, IPv6 fragment, TSO with its
    # 3 KB frame, checksums).
    paths += [(os.path.join(ROOT, "tests", "decode", "pcaps", p), 64)
              for p in ("tcp_recovery.pcap", "notes_truth.pcap")]
    paths += [(os.path.join(captures, "tcpdump", p), 2) for p in SHARED]
    count = 0
    for path, limit in paths:
        if not os.path.exists(path):
            continue
        for seed in frames(path, limit, 4096 if limit == 64 else 1600):
            name = hashlib.sha1(seed).hexdigest()[:16]
            with open(os.path.join(OUT, name), "wb") as f:
                f.write(seed)
            count += 1
    # The same two captures whole, so that the corpus replay (NcFuzzFile)
    # walks their flow history: dup ACK counts, recovery episodes, FIN state.
    for p in ("tcp_recovery.pcap", "notes_truth.pcap"):
        with open(os.path.join(ROOT, "tests", "decode", "pcaps", p), "rb") as src, \
                open(os.path.join(OUT, p), "wb") as dst:
            dst.write(src.read())
            count += 1
    print("wrote %d seeds to %s" % (count, OUT))


if __name__ == "__main__":
    main()
