#!/usr/bin/env python3
"""Seeds the QUIC and HTTP/3 fuzz corpora (corpus/quic, corpus/http3,
corpus/quicframes).

corpus/quic: the UDP payloads of a capture of QUIC (one file per distinct
first byte and length class), for example one e2e_oracle_quic.py makes.
corpus/http3 and corpus/quicframes: byte strings written here by hand, one
per frame kind, so the fuzzer starts from every parser.

    python3 tests/fuzz/seed_quic.py [CAPTURE.pcap]
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def write(name, seeds):
    d = os.path.join(HERE, "corpus", name)
    os.makedirs(d, exist_ok=True)
    for i, s in enumerate(seeds):
        with open(os.path.join(d, f"seed-{i:02d}"), "wb") as f:
            f.write(s)


def udp_payloads(path):
    data = open(path, "rb").read()
    end = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" else ">"
    off = 24
    while off + 16 <= len(data):
        caplen = struct.unpack(end + "I", data[off + 8:off + 12])[0]
        frame = data[off + 16:off + 16 + caplen]
        off += 16 + caplen
        ip = frame[14:]
        if len(ip) > 28 and ip[9] == 17:
            yield ip[(ip[0] & 15) * 4 + 8:]


# An HTTP/3 request stream: HEADERS (QPACK, static table only: GET, /,
# https, and :authority "x" as a literal), DATA "abc", and a SETTINGS.
headers = bytes([0x00, 0x00, 0xd1, 0xc1, 0xd7, 0x50, 0x01]) + b"x"
http3 = [bytes([0x01, len(headers)]) + headers,
         bytes([0x01, len(headers)]) + headers + b"\x00\x03abc",
         b"\x04\x04\x01\x40\x64\x07\x08\x00",
         b"\x07\x01\x04\x00\x00"]
stream0 = bytes([0x0f, 0x00, 0x00, 2 + len(headers)]) + bytes([0x01, len(headers)]) + headers
quicframes = [
    b"\x06\x00\x08\x01\x00\x00\x04\x03\x03\x00\x00" + b"\x00" * 20,  # CRYPTO
    b"\x02\x05\x00\x01\x03\x01\x01",                       # ACK with a range
    b"\x03\x05\x00\x00\x05\x01\x02\x03",                   # ACK with ECN
    stream0,                                               # STREAM carrying HEADERS
    stream0 + stream0,                                     # the same data again
    b"\x0b\x02\x06\x00control\x0e\x02\x01\x41",            # uni stream, offset
    b"\x18\x01\x00\x08" + b"\x11" * 8 + b"\x22" * 16,      # NEW_CONNECTION_ID
    b"\x1c\x0a\x00\x03bye", b"\x1d\x00\x02ok",             # CONNECTION_CLOSE
    b"\x1a" + b"\x33" * 8 + b"\x1b" + b"\x33" * 8,         # PATH_CHALLENGE/RESPONSE
    b"\x10\x44\x00\x11\x00\x44\x00\x12\x05\x13\x05\x14\x01\x15\x00\x01\x16\x01\x17\x01",
    b"\x04\x00\x01\x02\x05\x00\x01\x07\x02ab\x19\x01\x1e\x01\x00\x00\x00",
    b"\x31\x03abc\x30zz",                                   # DATAGRAM
]
write("http3", http3)
write("quicframes", quicframes)
if len(sys.argv) > 1:
    seen, seeds = set(), []
    for p in udp_payloads(sys.argv[1]):
        key = (p[0] & 0xf0, len(p) // 400)
        if p and key not in seen:
            seen.add(key)
            seeds.append(p)
    write("quic", seeds[:12])
