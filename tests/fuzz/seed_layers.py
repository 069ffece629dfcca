#!/usr/bin/env python3
"""Seeds the per-decoder fuzz corpora (corpus/<decoder>/) from real captures.

Reads classic pcap files (default: ../shared/captures/tcpdump), walks each
frame's layers with a few fixed offsets (Ethernet, IPv4, IPv6, ARP, TCP,
UDP, ICMP, DNS on port 53, HTTP/1 start lines) and writes the bytes from
each layer onwards as a seed for that layer's harness, keeping at most
--per seeds per decoder, smallest distinct first. Frames of other link
types seed the link-layer harnesses whole.

    python3 tests/fuzz/seed_layers.py [--per 12] [CAPTURE ...]
"""
import argparse
import glob
import hashlib
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
LINKS = {1: "eth", 113: "sll", 276: "sll2", 12: "raw", 101: "raw", 228: "raw", 229: "raw",
         0: "null", 108: "null"}
HTTP = (b"GET ", b"POST ", b"PUT ", b"HEAD ", b"DELETE ", b"HTTP/1.")


def frames(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        return  # pcapng and others: the link-level corpus has those
    linktype = struct.unpack(end + "I", data[20:24])[0] & 0xFFFF
    off = 24
    while off + 16 <= len(data):
        caplen = struct.unpack(end + "I", data[off + 8:off + 12])[0]
        frame = data[off + 16:off + 16 + caplen]
        off += 16 + caplen
        if len(frame) == caplen:
            yield linktype, frame


def layers(linktype, frame):
    """(decoder, bytes) for every layer netcourse would reach."""
    link = LINKS.get(linktype)
    if link is None:
        return
    yield link, frame
    if link != "eth" or len(frame) < 14:
        return
    etype, rest = struct.unpack(">H", frame[12:14])[0], frame[14:]
    if etype == 0x0806:
        yield "arp", rest
        return
    if etype == 0x0800 and len(rest) >= 20:
        yield "ipv4", rest
        proto, l4 = rest[9], rest[(rest[0] & 0x0F) * 4:]
    elif etype == 0x86DD and len(rest) >= 40:
        yield "ipv6", rest
        proto, l4 = rest[6], rest[40:]
    else:
        return
    if proto == 1:
        yield "icmp", l4
    elif proto == 58:
        yield "icmpv6", l4
    elif proto == 17 and len(l4) >= 8:
        yield "udp", l4
        sport, dport = struct.unpack(">HH", l4[:4])
        if 53 in (sport, dport):
            yield "dns", l4[8:]
    elif proto == 6 and len(l4) >= 20:
        yield "tcp", l4
        payload = l4[(l4[12] >> 4) * 4:]
        if payload.startswith(HTTP):
            yield "http1", payload


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--per", type=int, default=12)
    ap.add_argument("captures", nargs="*")
    args = ap.parse_args()
    paths = args.captures or sorted(glob.glob(os.path.join(HERE, "../../../shared/captures/tcpdump/*.pcap")))
    seeds = {}
    for path in paths:
        for linktype, frame in frames(path):
            for name, raw in layers(linktype, frame):
                if raw:
                    seeds.setdefault(name, {})[hashlib.sha1(raw).hexdigest()[:16]] = raw
    for name, found in sorted(seeds.items()):
        out = os.path.join(HERE, "corpus", name)
        os.makedirs(out, exist_ok=True)
        # Smallest first, but spread over the sizes so long frames are in too.
        ordered = sorted(found.items(), key=lambda kv: len(kv[1]))
        step = max(1, len(ordered) // args.per)
        for key, raw in ordered[::step][:args.per]:
            with open(os.path.join(out, key), "wb") as f:
                f.write(raw)
        print(f"{name}: {min(args.per, len(ordered[::step]))} seeds of {len(found)}")


if __name__ == "__main__":
    main()
