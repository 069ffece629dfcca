"""The end of a capture ends its streams: an HTTP/1.0 response whose body
runs until the connection closes, in a capture that stops before the FIN,
is still reported (`replay --json`: a note at the end, "End of capture",
with the response and its whole body), once; a response whose FIN was
captured is reported on the FIN, as before, and not again at the end."""
# ctest: nolab
import json
import os
import struct
import tempfile

from nctest import *

CLIENT, SERVER = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def frame(src, dst, sport, dport, seq, ack, flags, payload=b""):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0x4000, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    eth = bytes.fromhex("020000000002" "020000000001" "0800")
    return eth + ip + tcp


SYN, ACK, PSH, FIN = 0x02, 0x10, 0x08, 0x01


def exchange(sport, body, fin):
    c, s = 1000, 5000
    req = b"GET /old HTTP/1.0\r\n\r\n"
    head = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n"
    half = len(body) // 2
    out = [
        frame(CLIENT, SERVER, sport, 80, c, 0, SYN),
        frame(SERVER, CLIENT, 80, sport, s, c + 1, SYN | ACK),
        frame(CLIENT, SERVER, sport, 80, c + 1, s + 1, ACK),
        frame(CLIENT, SERVER, sport, 80, c + 1, s + 1, PSH | ACK, req),
        frame(SERVER, CLIENT, 80, sport, s + 1, c + 1 + len(req), ACK),
        frame(SERVER, CLIENT, 80, sport, s + 1, c + 1 + len(req), PSH | ACK, head + body[:half]),
        frame(SERVER, CLIENT, 80, sport, s + 1 + len(head) + half, c + 1 + len(req), PSH | ACK,
              body[half:]),
    ]
    if fin:
        out.append(frame(SERVER, CLIENT, 80, sport, s + 1 + len(head) + len(body),
                         c + 1 + len(req), FIN | ACK))
    return out


closed = b"this body ends with a FIN the capture saw\n"
cut = b"this body runs until the connection closes, which the capture never shows\n"
frames = exchange(40001, closed, True) + exchange(40002, cut, False)
work = tempfile.mkdtemp(prefix="nc-finish-")
path = os.path.join(work, "cut.pcap")
with open(path, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for k, fr in enumerate(frames):
        f.write(struct.pack("<IIII", 1700000000, k * 1000, len(fr), len(fr)) + fr)

rc, out, err = run(["replay", path, "--json"], data_dir=work)
check(rc == 0, f"replay --json exited {rc}: {err}")
ev = [json.loads(l) for l in out.splitlines()]
check(len(ev) == len(frames) + 1, f"{len(frames)} packets and one end note expected, got {len(ev)}", ev)


def responses(e):
    h = e.get("http")
    for m in h if isinstance(h, list) else [h] if h else []:
        if not m.get("request"):
            yield m


got = [(e, m) for e in ev for m in responses(e)]
check(len(got) == 2, f"two responses expected, each once: {[(e['i'], m) for e, m in got]}", ev)
(e1, m1), (e2, m2) = got
check(e1["type"] == "packet" and "FIN" in e1["tcp"]["flags"] and m1["body_len"] == len(closed),
      f"the first response is not on its FIN with its body: {e1}", ev)
check(e2["type"] == "note" and e2["i"] == len(ev) - 1 and e2["summary"].startswith("End of capture"),
      f"the cut response is not the end note: {e2}", ev)
check(m2["status"] == 200 and m2["body_len"] == len(cut), f"the cut response: {m2}", ev)
check(e2["from"] == "10.0.0.2" and e2["to"] == "10.0.0.1", f"its ends: {e2}", ev)
check("capture ends here" in e2["note"], f"its note: {e2['note']}", ev)
import shutil
shutil.rmtree(work, ignore_errors=True)
print("ok: the end of a capture reports what only the end completes, once")
