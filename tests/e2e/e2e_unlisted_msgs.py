"""A packet of more messages than one event lists: replay --json lists the
first 128 (TLS records, HTTP/2 frames) and counts the rest in
"unlisted_msgs". Before, past 32 they vanished from the JSON, and the summary's
"(+N more)" was cut off with the summary (found by tests/bench/tls_bench.sh:
30 requests in one segment of curl's showed as 16). The capture is made here:
an h2c connection whose second client segment holds 200 PINGs."""
# ctest: nolab
import json
import os
import struct
import tempfile

from nctest import *


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def tcp_packet(src_port, dst_port, seq, ack, flags, payload=b""):
    ip_src = ip_dst = bytes([127, 0, 0, 1])
    tcp = struct.pack("!HHIIBBHHH", src_port, dst_port, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload
    pseudo = ip_src + ip_dst + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0x4000, 64, 6, 0, ip_src, ip_dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return b"\0" * 12 + b"\x08\x00" + ip + tcp


def h2_frame(ftype, payload=b"", flags=0, sid=0):
    return struct.pack("!I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack("!I", sid) + payload


SYN, ACK, PSH = 0x02, 0x10, 0x08
first = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + h2_frame(4)
pings = b"".join(h2_frame(6, bytes(range(8))) for _ in range(200))
c, s = 1000, 5000
packets = [
    tcp_packet(40000, 8080, c, 0, SYN),
    tcp_packet(8080, 40000, s, c + 1, SYN | ACK),
    tcp_packet(40000, 8080, c + 1, s + 1, ACK),
    tcp_packet(40000, 8080, c + 1, s + 1, ACK | PSH, first),
    tcp_packet(40000, 8080, c + 1 + len(first), s + 1, ACK | PSH, pings),
]
work = tempfile.mkdtemp(prefix="nc-unlisted-")
path = os.path.join(work, "pings.pcap")
with open(path, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for i, p in enumerate(packets):
        f.write(struct.pack("<IIII", 1_700_000_000, i * 1000, len(p), len(p)) + p)

rc, out, err = run(["replay", path, "--json"], timeout=60)
check(rc == 0, f"replay failed: {err}")
events = [json.loads(line) for line in out.splitlines()]
last = [e for e in events if e.get("type") == "packet"][-1]
frames = last.get("http2")
check(isinstance(frames, list), f"the PING packet has no HTTP/2 list: {sorted(last)}")
check(len(frames) == 128, f"the event lists {len(frames)} frames, not the bound of 128")
check(all(f.get("type_name") == "PING" for f in frames), "the listed frames are not all PINGs")
check(last.get("unlisted_msgs") == 72, f"unlisted_msgs is {last.get('unlisted_msgs')}, not 200 - 128")
print("ok: 128 PINGs listed, 72 counted as unlisted_msgs")
