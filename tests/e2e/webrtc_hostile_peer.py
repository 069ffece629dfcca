"""Hostile peers against the TURN relay and the signalling server of
tests/e2e/lessons/turn-hostile.md, run inside the lab shell on `peer` by
e2e_webrtc_hostile.py (arguments: the TURN and the signalling server's
addresses). Each attack is followed by an honest exchange that must still
work; one line of results per attack."""
import hashlib
import hmac
import os
import random
import socket
import struct
import sys
import time
import zlib

TURN, SIG = (sys.argv[1], 3478), (sys.argv[2], 8443)
COOKIE = 0x2112A442
random.seed(7)


def attr(t, v):
    return struct.pack("!HH", t, len(v)) + v + b"\0" * (-len(v) % 4)


def xaddr(ip, port):
    a = struct.unpack("!I", socket.inet_aton(ip))[0] ^ COOKIE
    return struct.pack("!BBHI", 0, 1, port ^ (COOKIE >> 16), a)


def msg(mtype, attrs, key=None, tid=None):
    tid = tid or os.urandom(12)
    body = b"".join(attrs)
    if key is not None:
        head = struct.pack("!HHI", mtype, len(body) + 24, COOKIE) + tid
        mac = hmac.new(key, head + body, hashlib.sha1).digest()
        body += attr(0x0008, mac)
    head = struct.pack("!HHI", mtype, len(body) + 8, COOKIE) + tid
    crc = zlib.crc32(head + body) ^ 0x5354554E
    return head + body + attr(0x8028, struct.pack("!I", crc))


def parse(d):
    mtype, length = struct.unpack("!HH", d[:4])
    attrs, off = {}, 20
    while off + 4 <= 20 + length:
        t, n = struct.unpack("!HH", d[off:off + 4])
        attrs.setdefault(t, d[off + 4:off + 4 + n])
        off += 4 + n + (-n % 4)
    return mtype, attrs


def error_of(attrs):
    e = attrs.get(0x0009)
    return e[2] * 100 + e[3] if e else 0


def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", 0))
    s.settimeout(1.0)
    return s


def ask(s, m):
    s.sendto(m, TURN)
    d, _ = s.recvfrom(2048)
    return parse(d)


TRANSPORT = attr(0x0019, bytes([17, 0, 0, 0]))


def allocate(s, password="secret", nonce=None):
    """Allocate with long-term credentials; the answer's type and attrs."""
    t, a = ask(s, msg(0x0003, [TRANSPORT]))
    realm, n = a[0x0014], nonce or a[0x0015]
    key = hashlib.md5(b"student:" + realm + b":" + password.encode()).digest()
    cred = [attr(0x0006, b"student"), attr(0x0014, realm), attr(0x0015, n)]
    t, a = ask(s, msg(0x0003, [TRANSPORT] + cred, key))
    return t, a, key, cred


def honest():
    s = udp()
    try:
        t, a, key, cred = allocate(s)
        ok = t == 0x0103 and 0x0016 in a
        if ok:  # release it again
            ask(s, msg(0x0004, [attr(0x000D, b"\0\0\0\0")] + cred, key))
        return "OK" if ok else f"error{error_of(a)}"
    except OSError as e:
        return f"error-{e.__class__.__name__}"
    finally:
        s.close()


def out(*words):
    print(" ".join(str(w) for w in words), flush=True)


# 1. Garbage: random bytes, STUN headers with lying lengths, truncated
# attributes, ChannelData for channels nobody bound. The server says
# nothing to any of it.
s = udp()
for i in range(3000):
    kind = i % 4
    if kind == 0:
        d = os.urandom(random.randint(1, 600))
    elif kind == 1:
        d = struct.pack("!HHI", 0x0003, random.randint(0, 32767) * 2 + 1, COOKIE) + os.urandom(12)
    elif kind == 2:
        d = struct.pack("!HHI", 0x0003, 8, COOKIE) + os.urandom(12) + struct.pack("!HH", 0x0019, 200)
    else:
        d = struct.pack("!HH", 0x4000 + i % 4096, 9000) + os.urandom(8)
    s.sendto(d, TURN)
answers = 0
try:
    while True:
        s.recvfrom(2048)
        answers += 1
except OSError:
    pass
s.close()
out("garbage", answers, honest())

# 2. Allocate requests without credentials, 1000 of them from one socket:
# each gets 401, and nothing is kept.
s = udp()
codes = set()
for i in range(1000):
    s.sendto(msg(0x0003, [TRANSPORT]), TURN)
got = 0
try:
    while True:
        t, a = parse(s.recvfrom(2048)[0])
        codes.add(error_of(a))
        got += 1
except OSError:
    pass
s.close()
out("unauth", got, ",".join(map(str, sorted(codes))), honest())

# 3. Forged credentials: a wrong password, then a nonce of our own.
s = udp()
t, a, _, _ = allocate(s, password="guess")
wrong = error_of(a)
t, a, _, _ = allocate(s, nonce=b"0123456789abcdef0123456789abcdef")
stale = error_of(a)
s.close()
out("forged", wrong, stale, honest())

# 4. Allocation exhaustion: six clients for four places.
socks = [udp() for _ in range(6)]
results = [allocate(x) for x in socks]
codes = [("ok" if r[0] == 0x0103 else error_of(r[1])) for r in results]
# A second Allocate from an address that has one: 437.
t, a = ask(socks[0], msg(0x0003, [TRANSPORT] + results[0][3], results[0][2]))
mismatch = error_of(a)
# Too many peers in one CreatePermission: 508.
peers = [attr(0x0012, xaddr(f"198.51.100.{i}", 1000)) for i in range(9)]
t, a = ask(socks[0], msg(0x0008, peers + results[0][3], results[0][2]))
toomany = error_of(a)
# A Send indication to a peer without permission is dropped (no answer).
socks[1].sendto(msg(0x0016, [attr(0x0012, xaddr(SIG[0], 9)), attr(0x0013, b"x" * 20)]), TURN)
# A release frees a place for the honest client.
ask(socks[0], msg(0x0004, [attr(0x000D, b"\0\0\0\0")] + results[0][3], results[0][2]))
after = honest()
out("exhaust", " ".join(map(str, codes)), mismatch, toomany, after)
# 5. A relay flood: 2000 Send indications to a permitted peer (this host's
# own sink), more than the server reports; every one is relayed.
sink = udp()
sink.settimeout(0.5)
r = results[1]
myip = sys.argv[3]
ask(socks[1], msg(0x0008, [attr(0x0012, xaddr(myip, sink.getsockname()[1]))] + r[3], r[2]))
for i in range(2000):
    socks[1].sendto(msg(0x0016, [attr(0x0012, xaddr(myip, sink.getsockname()[1])),
                                 attr(0x0013, b"flood %d" % i)]), TURN)
    if i % 200 == 199:
        time.sleep(0.01)
relayed = 0
try:
    while True:
        sink.recvfrom(2048)
        relayed += 1
except OSError:
    pass
for x in socks:
    x.close()
out("flood", relayed, honest())

# 6. The signalling server: 40 connections (32 fit), a line too long, a
# third member in a room, 100 lines waiting for a member who never comes.
conns, refused = [], 0
for i in range(40):
    try:
        c = socket.create_connection(SIG, timeout=2)
        conns.append(c)
    except OSError:
        refused += 1
time.sleep(0.3)
alive = 0
for c in conns:
    c.settimeout(0.05)
    try:
        d = c.recv(100)
        if d == b"":
            refused += 1
            continue
    except socket.timeout:
        pass
    except OSError:
        refused += 1
        continue
    alive += 1
for c in conns:
    c.close()
time.sleep(0.3)


def sig_line(c, data):
    c.sendall(data)
    c.settimeout(2)
    got = b""
    try:
        while not got.endswith(b"\n"):
            d = c.recv(200)
            if not d:
                break
            got += d
    except OSError:
        pass
    return got.decode(errors="replace").strip()


c = socket.create_connection(SIG, timeout=2)
longline = sig_line(c, b"JOIN " + b"x" * 5000 + b"\n")
c.close()
a = socket.create_connection(SIG, timeout=2)
b = socket.create_connection(SIG, timeout=2)
third = socket.create_connection(SIG, timeout=2)
ja, jb = sig_line(a, b"JOIN room\n"), sig_line(b, b"JOIN room\n")
full = sig_line(third, b"JOIN room\n")
for x in (a, b, third):
    x.close()
time.sleep(0.2)
w = socket.create_connection(SIG, timeout=2)
sig_line(w, b"JOIN lonely\n")
held = sig_line(w, b"".join(b"SDP line %d\n" % i for i in range(100)))
w.close()
# An honest pair still meets.
a = socket.create_connection(SIG, timeout=2)
b = socket.create_connection(SIG, timeout=2)
sig_line(a, b"JOIN honest\n")
a.sendall(b"SDP offer\nv=0\n.\n")
b.sendall(b"JOIN honest\n")
b.settimeout(2)
got = b""
try:
    while b".\n" not in got:
        d = b.recv(200)
        if not d:
            break
        got += d
except OSError:
    pass
a.close()
b.close()
out("signal", alive, refused, longline.replace(" ", "_"), ja.replace(" ", "_"),
    jb.replace(" ", "_"), full.replace(" ", "_"), held.replace(" ", "_"),
    "OK" if b"SDP offer\nv=0\n.\n" in got else "lost")
