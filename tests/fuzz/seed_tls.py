#!/usr/bin/env python3
"""Seeds the corpora of the TLS harnesses (corpus/tls, corpus/tlsdecrypt)
from real captures and their key logs:

    python3 tests/fuzz/seed_tls.py CAPTURE.pcap KEYLOG [CAPTURE KEYLOG ...]

(tests/e2e/e2e_oracle_tls.py makes such captures: openssl s_client/s_server
with -keylogfile). Each TCP connection of a classic pcap (Ethernet or Linux
cooked) becomes one tlsdecrypt seed: the key log, a NUL, then each segment's
payload as a record of fuzz_tlsdecrypt.c's format, in capture order; and one
tls seed: the client's bytes alone. Captures with lost segments make poor
seeds: take them on an idle machine."""
import hashlib
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def save(kind, data):
    d = os.path.join(HERE, "corpus", kind)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
        f.write(data)


def segments(path):
    """(connection, direction, payload) of every TCP segment with data."""
    raw = open(path, "rb").read()
    magic = raw[:4]
    end = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    link = struct.unpack(end + "I", raw[20:24])[0]
    at, first = 24, {}
    while at + 16 <= len(raw):
        caplen = struct.unpack(end + "I", raw[at + 8:at + 12])[0]
        frame = raw[at + 16:at + 16 + caplen]
        at += 16 + caplen
        ip = frame[14:] if link == 1 else frame[16:]
        if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 6:
            continue
        ihl = (ip[0] & 15) * 4
        tcp = ip[ihl:]
        sport, dport = struct.unpack("!HH", tcp[:4])
        payload = tcp[(tcp[12] >> 4) * 4:struct.unpack("!H", ip[2:4])[0] - ihl]
        key = tuple(sorted([(ip[12:16], sport), (ip[16:20], dport)]))
        if key not in first:
            first[key] = (ip[12:16], sport)  # the SYN's sender: the client
        if payload:
            yield key, 0 if first[key] == (ip[12:16], sport) else 1, payload


def main():
    args = sys.argv[1:]
    if not args or len(args) % 2:
        sys.exit(__doc__)
    for cap, keys in zip(args[::2], args[1::2]):
        log = open(keys, "rb").read()
        conns = {}
        for key, d, payload in segments(cap):
            conns.setdefault(key, []).append((d, payload))
        for segs in conns.values():
            script = log + b"\0"
            for n, (d, payload) in enumerate(segs):
                ctl = d | (0x80 if n == len(segs) // 2 else 0)
                script += bytes([ctl]) + struct.pack("!H", len(payload)) + payload
            save("tlsdecrypt", script)
            save("tls", b"".join(p for d, p in segs if d == 0))


main()
