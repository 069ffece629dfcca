#!/usr/bin/env python3
"""Derives the byte-order and block-type variants the runfile tests read
from two real captures in this directory:

  sll2_any.pcap      tcpdump -i any in a private namespace (Linux SLL2):
                     an HTTP exchange and a UDP datagram on lo
  tcp_run.pcapng     a saved run of the tcp lesson (netcourse run tcp --save)

Outputs (committed; rerun after changing the inputs):
  sll2_any_be.pcap         classic pcap, big-endian, microseconds
  sll2_any_nano_be.pcap    classic pcap, big-endian, nanosecond magic
  sll2_any_nano_le.pcap    classic pcap, little-endian, nanosecond magic
  sll2_any_opb_spb.pcapng  pcapng with obsolete Packet Blocks and Simple
                           Packet Blocks, plus an unknown block to skip
  tcp_run_be.pcapng        the saved run with every block big-endian
"""
import os
import struct

here = os.path.dirname(os.path.abspath(__file__))


def read(name):
    with open(os.path.join(here, name), "rb") as f:
        return f.read()


def write(name, data):
    with open(os.path.join(here, name), "wb") as f:
        f.write(data)


def pcap_records(data):
    magic = struct.unpack("<I", data[:4])[0]
    assert magic == 0xA1B2C3D4, "expected a little-endian microsecond pcap"
    snap, lt = struct.unpack("<II", data[16:24])
    pos, recs = 24, []
    while pos + 16 <= len(data):
        sec, usec, incl, orig = struct.unpack("<IIII", data[pos:pos + 16])
        recs.append((sec, usec, orig, data[pos + 16:pos + 16 + incl]))
        pos += 16 + incl
    return snap, lt, recs


def pcap(recs, snap, lt, endian, nano):
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    out = struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, snap, lt)
    for sec, usec, orig, pkt in recs:
        frac = usec * 1000 if nano else usec
        out += struct.pack(endian + "IIII", sec, frac, len(pkt), orig) + pkt
    return out


def pad(b):
    return b + b"\0" * (-len(b) % 4)


def block(endian, btype, body):
    body = pad(body)
    n = len(body) + 12
    return struct.pack(endian + "II", btype, n) + body + struct.pack(endian + "I", n)


def opt(endian, code, value):
    return struct.pack(endian + "HH", code, len(value)) + pad(value)


def ng_variants():
    snap, lt, recs = pcap_records(read("sll2_any.pcap"))
    e = "<"
    out = block(e, 0x0A0D0D0A, struct.pack(e + "IHHq", 0x1A2B3C4D, 1, 0, -1) + opt(e, 0, b""))
    out += block(e, 1, struct.pack(e + "HHI", lt, 0, snap) + opt(e, 2, b"any") + opt(e, 0, b""))
    out += block(e, 0x00000BAD, struct.pack(e + "I", 99999) + b"not ours")  # skipped
    for k, (sec, usec, orig, pkt) in enumerate(recs):
        ts = sec * 1000000 + usec
        if k % 2 == 0:  # obsolete Packet Block: iface u16, drops u16
            body = struct.pack(e + "HHIIII", 0, 0, ts >> 32, ts & 0xFFFFFFFF, len(pkt), orig)
            body += pad(pkt) + opt(e, 1, b"an obsolete packet block") + opt(e, 0, b"")
            out += block(e, 2, body)
        else:  # Simple Packet Block: no time, no options
            out += block(e, 3, struct.pack(e + "I", orig) + pkt)
    write("sll2_any_opb_spb.pcapng", out)


def swap_options(body, pos, end):
    out = b""
    while pos + 4 <= end:
        code, n = struct.unpack("<HH", body[pos:pos + 4])
        out += struct.pack(">HH", code, n) + body[pos + 4:pos + 4 + n + (-n % 4)]
        pos += 4 + n + (-n % 4)
        if code == 0:
            break
    return out


def pcapng_be(data):
    pos, out = 0, b""
    while pos + 12 <= len(data):
        btype, n = struct.unpack("<II", data[pos:pos + 8])
        body = data[pos + 8:pos + n - 4]
        if btype == 0x0A0D0D0A:
            bom, major, minor, slen = struct.unpack("<IHHq", body[:16])
            nb = struct.pack(">IHHq", bom, major, minor, slen) + swap_options(body, 16, len(body))
        elif btype == 1:
            lt, res, snap = struct.unpack("<HHI", body[:8])
            nb = struct.pack(">HHI", lt, res, snap) + swap_options(body, 8, len(body))
        elif btype == 6:
            iface, hi, lo, cap, orig = struct.unpack("<IIIII", body[:20])
            d = body[20:20 + cap + (-cap % 4)]
            nb = struct.pack(">IIIII", iface, hi, lo, cap, orig) + d
            nb += swap_options(body, 20 + len(d), len(body))
        elif btype in (0x00000BAD, 0x40000BAD):
            nb = struct.pack(">I", struct.unpack("<I", body[:4])[0]) + body[4:]
        else:
            raise SystemExit(f"block type {btype:#x} not handled")
        out += struct.pack(">II", btype, len(nb) + 12) + nb + struct.pack(">I", len(nb) + 12)
        pos += n
    return out


def main():
    snap, lt, recs = pcap_records(read("sll2_any.pcap"))
    write("sll2_any_be.pcap", pcap(recs, snap, lt, ">", False))
    write("sll2_any_nano_be.pcap", pcap(recs, snap, lt, ">", True))
    write("sll2_any_nano_le.pcap", pcap(recs, snap, lt, "<", True))
    ng_variants()
    write("tcp_run_be.pcapng", pcapng_be(read("tcp_run.pcapng")))


main()
