#!/usr/bin/env python3
"""make_pcaps.py: writes the small hand-made captures of the decoder's golden tests.

Each capture is built from bytes here (no third-party modules), so the relative
sequence numbers, retransmission, duplicate-ACK and window logic have a golden
test that does not depend on shared captures. Run it from anywhere:

    python3 tests/decode/pcaps/make_pcaps.py

It rewrites tcp_session.pcap, sll2_mixed.pcap, null_ip_mix.pcap, tcp_recovery.pcap
and notes_truth.pcap beside itself.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENT, SERVER = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
CMAC, SMAC = bytes.fromhex("020000000001"), bytes.fromhex("020000000002")


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ipv4(src, dst, proto, payload, ident=1, ttl=64, df=True, frag=0, mf=False):
    flags = (0x4000 if df else 0) | (0x2000 if mf else 0) | (frag // 8)
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, flags, ttl, proto, 0, src, dst)
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


def l4sum(src, dst, proto, seg):
    pseudo = src + dst + struct.pack("!BBH", 0, proto, len(seg))
    return csum(pseudo + seg)


def tcp(src, dst, sport, dport, seq, ack, flags, win, payload=b"", opts=b""):
    while len(opts) % 4:
        opts += b"\x01"
    off = (20 + len(opts)) // 4
    names = {"F": 1, "S": 2, "R": 4, "P": 8, "A": 16}
    fl = sum(names[c] for c in flags)
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, off << 4, fl, win, 0, 0) + opts
    c = l4sum(src, dst, 6, hdr + payload)
    hdr = hdr[:16] + struct.pack("!H", c) + hdr[18:]
    return ipv4(src, dst, 6, hdr + payload)


def udp(src, dst, sport, dport, payload):
    hdr = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0)
    c = l4sum(src, dst, 17, hdr + payload)
    return ipv4(src, dst, 17, hdr[:6] + struct.pack("!H", c) + payload)


def tcp_partial(src, dst, sport, dport, seq, ack, flags, win, payload=b"", total=None):
    """A TCP segment as the sending host captures it with checksum offload:
    the checksum field holds the pseudo-header's folded sum only (Linux
    CHECKSUM_PARTIAL); total, when given, is the IPv4 total length field
    (0 for a TSO / BIG TCP segment)."""
    names = {"F": 1, "S": 2, "R": 4, "P": 8, "A": 16}
    fl = sum(names[c] for c in flags)
    seg_len = 20 + len(payload)
    pseudo = src + dst + struct.pack("!BBH", 0, 6, seg_len)
    part = (~csum(pseudo)) & 0xFFFF
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, fl, win, part, 0)
    pkt = ipv4(src, dst, 6, hdr + payload)
    if total is not None:
        pkt = pkt[:2] + struct.pack("!H", total) + pkt[4:10] + b"\0\0" + pkt[12:]
        pkt = pkt[:10] + struct.pack("!H", csum(pkt[:20])) + pkt[12:]
    return pkt


def eth(dst, src, etype, payload):
    return dst + src + struct.pack("!H", etype) + payload


def pcap_timed(path, linktype, frames):
    """frames: (seconds since the start, bytes) pairs."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, linktype))
        t0 = 1_700_000_000 * 10**9
        for at, data in frames:
            ts = t0 + round(at * 10**9)
            f.write(struct.pack("<IIII", ts // 10**9, ts % 10**9, len(data), len(data)))
            f.write(data)


def pcap(path, linktype, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, linktype))
        t = 1_700_000_000 * 10**9
        for i, fr in enumerate(frames):
            caplen = len(fr) if not isinstance(fr, tuple) else len(fr[0])
            data, wire = (fr, len(fr)) if not isinstance(fr, tuple) else fr
            ts = t + i * 1_000_000
            f.write(struct.pack("<IIII", ts // 10**9, ts % 10**9, caplen, wire))
            f.write(data)


def tcp_session():
    """Handshake, HTTP request, a lost segment with dup ACKs and a retransmission,
    a zero window with a probe, a keep-alive, FIN both ways."""
    C, S = 0x11223344, 0xA0B0C0D0
    syn_opts = struct.pack("!BBH", 2, 4, 1460) + b"\x04\x02" + struct.pack("!BBII", 8, 10, 1000, 0) + b"\x01\x03\x03\x07"
    sa_opts = struct.pack("!BBH", 2, 4, 1460) + b"\x04\x02" + struct.pack("!BBII", 8, 10, 5000, 1000) + b"\x01\x03\x03\x07"
    req = b"GET /index.html HTTP/1.1\r\nHost: server\r\nUser-Agent: nc\r\n\r\n"
    body = b"x" * 1000
    resp = b"HTTP/1.1 200 OK\r\nContent-Length: 3000\r\nContent-Type: text/plain\r\n\r\n"
    seg1 = resp + body[: 1000 - len(resp)]
    c2s = lambda *a, **k: eth(SMAC, CMAC, 0x0800, tcp(CLIENT, SERVER, 40112, 80, *a, **k))
    s2c = lambda *a, **k: eth(CMAC, SMAC, 0x0800, tcp(SERVER, CLIENT, 80, 40112, *a, **k))
    sack = lambda l, r: struct.pack("!BBBBII", 1, 1, 5, 10, S + l, S + r)
    f = []
    f.append(c2s(C, 0, "S", 64240, opts=syn_opts))
    f.append(s2c(S, C + 1, "SA", 65160, opts=sa_opts))
    f.append(c2s(C + 1, S + 1, "A", 502))
    f.append(c2s(C + 1, S + 1, "PA", 502, req))
    f.append(s2c(S + 1, C + 1 + len(req), "A", 509))
    f.append(s2c(S + 1, C + 1 + len(req), "PA", 509, seg1))          # bytes 1-1000
    # bytes 1001-2000 are lost on the wire: not in the capture
    f.append(s2c(S + 2001, C + 1 + len(req), "PA", 509, body))        # bytes 2001-3000
    f.append(c2s(C + 1 + len(req), S + 1001, "A", 501))
    f.append(c2s(C + 1 + len(req), S + 1001, "A", 501, opts=sack(2001, 3001)))  # dup ACK
    f.append(s2c(S + 3001, C + 1 + len(req), "PA", 509, body[:100]))  # bytes 3001-3100
    f.append(c2s(C + 1 + len(req), S + 1001, "A", 501, opts=sack(2001, 3101)))  # dup ACK
    f.append(s2c(S + 1001, C + 1 + len(req), "PA", 509, body))        # retransmission
    f.append(c2s(C + 1 + len(req), S + 3101, "A", 0))                 # zero window
    f.append(s2c(S + 3101, C + 1 + len(req), "A", 509, b"y"))         # window probe
    f.append(c2s(C + 1 + len(req), S + 3101, "A", 0))
    f.append(c2s(C + 1 + len(req), S + 3101, "A", 400))               # window opens
    f.append(s2c(S + 3101, C + 1 + len(req), "PA", 509, body[:100]))  # 3101-3200, resends the probe byte
    f.append(c2s(C + 1 + len(req), S + 3201, "A", 400))
    f.append(c2s(C + len(req), S + 3201, "A", 400))                   # keep-alive
    f.append(s2c(S + 3201, C + 1 + len(req), "A", 509))               # its answer
    f.append(s2c(S + 3201, C + 1 + len(req), "FA", 509))
    f.append(c2s(C + 1 + len(req), S + 3202, "FA", 400))
    f.append(s2c(S + 3202, C + 2 + len(req), "A", 509))
    pcap(os.path.join(HERE, "tcp_session.pcap"), 1, f)


def dns_name(name):
    out = b""
    for label in name.split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def sll2(proto, pkttype, mac, payload):
    return struct.pack("!HHIHBB8s", proto, 0, 2, 1, pkttype, 6, mac + b"\0\0") + payload


def sll2_mixed():
    """ARP, DNS over UDP (with compression), ICMP echo, UDP echo, DNS over TCP."""
    f = []
    arp_req = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, CMAC, CLIENT, b"\0" * 6, SERVER)
    arp_rep = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 2, SMAC, SERVER, CMAC, CLIENT)
    f.append(sll2(0x0806, 4, CMAC, arp_req))
    f.append(sll2(0x0806, 0, SMAC, arp_rep))
    q = struct.pack("!HHHHHH", 0x1A2B, 0x0100, 1, 0, 0, 0) + dns_name("a.lab") + struct.pack("!HH", 1, 1)
    ans = struct.pack("!HHHHHH", 0x1A2B, 0x8180, 1, 3, 0, 0) + dns_name("a.lab") + struct.pack("!HH", 1, 1)
    ans += b"\xc0\x0c" + struct.pack("!HHIH", 5, 1, 60, 4) + b"\x01b\xc0\x0e"      # a.lab CNAME b.lab
    ans += b"\xc0\x23" + struct.pack("!HHIH4s", 1, 1, 60, 4, SERVER)                # b.lab A 10.0.0.2
    ans += b"\xc0\x0c" + struct.pack("!HHIH", 15, 1, 60, 4) + struct.pack("!H", 10) + b"\xc0\x23"  # MX
    f.append(sll2(0x0800, 4, CMAC, udp(CLIENT, SERVER, 53000, 53, q)))
    f.append(sll2(0x0800, 0, SMAC, udp(SERVER, CLIENT, 53, 53000, ans)))
    nx = struct.pack("!HHHHHH", 0x0BAD, 0x8183, 1, 0, 0, 0) + dns_name("nope.lab") + struct.pack("!HH", 28, 1)
    f.append(sll2(0x0800, 0, SMAC, udp(SERVER, CLIENT, 53, 53001, nx)))
    loop = struct.pack("!HHHHHH", 7, 0x8180, 1, 1, 0, 0) + b"\xc0\x0c" + struct.pack("!HH", 1, 1)
    f.append(sll2(0x0800, 0, SMAC, udp(SERVER, CLIENT, 53, 53002, loop)))      # pointer to itself
    icmp = struct.pack("!BBHHH", 8, 0, 0, 0x42, 1) + b"ping" * 4
    icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
    f.append(sll2(0x0800, 4, CMAC, ipv4(CLIENT, SERVER, 1, icmp)))
    rep = struct.pack("!BBHHH", 0, 0, 0, 0x42, 1) + b"ping" * 4
    rep = rep[:2] + struct.pack("!H", csum(rep)) + rep[4:]
    f.append(sll2(0x0800, 0, SMAC, ipv4(SERVER, CLIENT, 1, rep)))
    f.append(sll2(0x0800, 4, CMAC, udp(CLIENT, SERVER, 40000, 7, b"hello, echo!")))
    unr = struct.pack("!BBHI", 3, 3, 0, 0) + udp(CLIENT, SERVER, 40000, 9, b"x")[:28]
    f.append(sll2(0x0800, 0, SMAC, ipv4(SERVER, CLIENT, 1, unr)))
    tq = struct.pack("!H", len(q)) + q
    f.append(sll2(0x0800, 4, CMAC, tcp(CLIENT, SERVER, 41000, 53, 1000, 0, "S", 64240)))
    f.append(sll2(0x0800, 4, CMAC, tcp(CLIENT, SERVER, 41000, 53, 1001, 1, "PA", 64240, tq)))
    pcap(os.path.join(HERE, "sll2_mixed.pcap"), 276, f)


def ipv6(src, dst, nh, payload, hlim=64):
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), nh, hlim, src, dst) + payload


def null_ip_mix():
    """BSD loopback: IPv6 with a hop-by-hop header, IPv4 fragments, cut frames."""
    A = bytes(15) + b"\x01"
    B = bytes.fromhex("fd000000000000000000000000000002")
    f = []
    fam = lambda af: struct.pack("<I", af)
    u6 = struct.pack("!HHHH", 5000, 6000, 8 + 5, 0) + b"hello"
    hbh = struct.pack("!BB6s", 17, 0, b"\x01\x04\0\0\0\0")
    f.append(fam(30) + ipv6(A, B, 0, hbh + u6))
    ping6 = struct.pack("!BBHHH", 128, 0, 0, 1, 7) + b"abcd"
    f.append(fam(24) + ipv6(A, B, 58, ping6))
    big = struct.pack("!HHHH", 7000, 7001, 8 + 32, 0) + b"z" * 32
    f.append(fam(2) + ipv4(CLIENT, SERVER, 17, big[:24], ident=9, df=False, mf=True))
    f.append(fam(2) + ipv4(CLIENT, SERVER, 17, big[24:], ident=9, df=False, frag=24))
    full = fam(2) + tcp(CLIENT, SERVER, 1234, 80, 5, 0, "S", 1000)
    f.append((full[:4 + 20 + 12], len(full)))                          # cut by the snaplen
    f.append(fam(2) + b"\x45\x00\x00")                                  # IPv4 header cut
    f.append(struct.pack("!I", 2) + ipv4(CLIENT, SERVER, 47, b"\0" * 8))  # network order, GRE
    pcap(os.path.join(HERE, "null_ip_mix.pcap"), 0, f)


def tcp_recovery():
    """What a run did, told from the flow's history: a SYN sent three times
    (1 s apart, as tcp_syn_linear_timeouts makes Linux do), fast retransmit
    after three dup ACKs without SACK, an RTO, a tail loss probe, the rest of
    a window resent in the same RTO episode, a zero-window probe without
    data, an ACK before any data, and the second FIN of a close."""
    C, S = 0x01000000, 0x02000000
    c2s = lambda *a, **k: eth(SMAC, CMAC, 0x0800, tcp(CLIENT, SERVER, 40200, 80, *a, **k))
    s2c = lambda *a, **k: eth(CMAC, SMAC, 0x0800, tcp(SERVER, CLIENT, 80, 40200, *a, **k))
    d = b"d" * 100
    f = []
    t = 0.0
    def at(dt, fr):
        nonlocal t
        t += dt
        f.append((t, fr))
    at(0, c2s(C, 0, "S", 64240))
    at(1.0, c2s(C, 0, "S", 64240))                       # SYN again after 1 s
    at(1.0, c2s(C, 0, "S", 64240))                       # and again after 1 s
    at(0.01, s2c(S, C + 1, "SA", 65160))
    at(0.01, c2s(C + 1, S + 1, "A", 502))
    at(0.001, s2c(S + 1, C + 1, "A", 509))               # ACK 1: nothing has arrived yet
    # Fast retransmit: 1-100 lost, three dup ACKs without SACK.
    for k in range(4):
        at(0.001, s2c(S + 1 + 100 * k, C + 1, "PA", 509, d))
    for k in range(3):
        at(0.001, c2s(C + 1, S + 1, "A", 502))
    at(0.001, s2c(S + 1, C + 1, "PA", 509, d))           # resends 1-100
    at(0.01, c2s(C + 1, S + 401, "A", 502))
    # RTO: 401-500 and 501-600 both lost; 401-500 resent 0.3 s later, then
    # 501-600 in the same episode.
    at(0.001, s2c(S + 401, C + 1, "PA", 509, d))
    at(0.001, s2c(S + 501, C + 1, "PA", 509, d))
    at(0.3, s2c(S + 401, C + 1, "PA", 509, d))
    at(0.001, s2c(S + 501, C + 1, "PA", 509, d))
    at(0.01, c2s(C + 1, S + 601, "A", 502))
    # Tail loss probe: 601-700 and 701-800 unacknowledged; 701-800 resent.
    at(0.001, s2c(S + 601, C + 1, "PA", 509, d))
    at(0.001, s2c(S + 701, C + 1, "PA", 509, d))
    at(0.05, s2c(S + 701, C + 1, "PA", 509, d))
    at(0.01, c2s(C + 1, S + 801, "A", 0))                # zero window
    at(0.2, s2c(S + 800, C + 1, "A", 509))               # probe: seq = acked - 1, no data
    at(0.001, c2s(C + 1, S + 801, "A", 0))
    at(0.01, c2s(C + 1, S + 801, "FA", 502))             # the client closes first
    at(0.001, s2c(S + 801, C + 2, "A", 509))
    at(0.01, s2c(S + 801, C + 2, "FA", 509))             # the server's FIN after it
    at(0.001, c2s(C + 2, S + 802, "A", 502))
    pcap_timed(os.path.join(HERE, "tcp_recovery.pcap"), 1, f)


def notes_truth():
    """Fields and notes that must state only what was decoded: UDP on 443 and
    a truncated UDP header, IPv6 UDP and an IPv6 fragment, a HEAD and a 304
    response with Content-Length, IPv4 total length 0 (TSO) carrying an HTTP
    POST with a partial (offloaded) checksum, a damaged TCP checksum, and a
    retransmitted HEAD request before a GET."""
    A = bytes.fromhex("fd000000000000000000000000000001")
    B = bytes.fromhex("fd000000000000000000000000000002")
    e4 = lambda src, dst, pkt: eth(SMAC if src == CLIENT else CMAC, CMAC if src == CLIENT else SMAC, 0x0800, pkt)
    f = []
    f.append(e4(CLIENT, SERVER, udp(CLIENT, SERVER, 50000, 443, b"\xc3" + b"q" * 40)))
    f.append(e4(CLIENT, SERVER, udp(CLIENT, SERVER, 40000, 7, b"abcd")))
    f.append(e4(CLIENT, SERVER, udp(CLIENT, SERVER, 40000, 9, b"")[:24]))   # UDP header cut
    u6 = struct.pack("!HHHH", 5000, 6000, 8 + 4, 0) + b"wxyz"
    u6 = u6[:6] + struct.pack("!H", l4sum6(A, B, 17, u6)) + u6[8:]
    f.append(eth(SMAC, CMAC, 0x86DD, ipv6(A, B, 17, u6)))
    frag = struct.pack("!BBHI", 17, 0, (3 << 3) | 1, 0x1234) + b"f" * 16  # offset 3 units, MF
    f.append(eth(SMAC, CMAC, 0x86DD, ipv6(A, B, 44, frag)))
    c2s = lambda *a, **k: e4(CLIENT, SERVER, tcp(CLIENT, SERVER, 40300, 80, *a, **k))
    s2c = lambda *a, **k: e4(SERVER, CLIENT, tcp(SERVER, CLIENT, 80, 40300, *a, **k))
    C, S = 5000, 9000
    f.append(c2s(C, 0, "S", 64240))
    f.append(s2c(S, C + 1, "SA", 65160))
    f.append(c2s(C + 1, S + 1, "A", 502))
    head = b"HEAD /a HTTP/1.1\r\nHost: server\r\n\r\n"
    get = b"GET /a HTTP/1.1\r\nHost: server\r\nIf-None-Match: \"x\"\r\n\r\n"
    r1 = b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n"
    r2 = b"HTTP/1.1 304 Not Modified\r\nContent-Length: 7\r\n\r\n"
    f.append(c2s(C + 1, S + 1, "PA", 502, head + get))
    f.append(s2c(S + 1, C + 1 + len(head + get), "PA", 509, r1))
    f.append(s2c(S + 1 + len(r1), C + 1 + len(head + get), "PA", 509, r2))
    bad = tcp(CLIENT, SERVER, 40300, 80, C + 1 + len(head + get), S + 1 + len(r1 + r2), "A", 502)
    bad = bad[:36] + bytes([bad[36] ^ 0xFF]) + bad[37:]
    f.append(e4(CLIENT, SERVER, bad))                                     # damaged checksum
    body = b"<?xml version=\"1.0\"?><r>" + b"x" * 3000 + b"</r>"
    post = (b"POST /upload HTTP/1.1\r\nHost: server\r\nContent-Type: text/xml\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body)) + body
    f.append(e4(CLIENT, SERVER, tcp_partial(CLIENT, SERVER, 40400, 80, 7001, 1, "PA", 502, post, total=0)))
    # A HEAD request sent twice, then a GET; the responses pair with HEAD
    # and GET (the request's copy is no request of its own), and the GET's
    # response sent again still answers the GET.
    c2 = lambda *a, **k: e4(CLIENT, SERVER, tcp(CLIENT, SERVER, 40500, 80, *a, **k))
    s2 = lambda *a, **k: e4(SERVER, CLIENT, tcp(SERVER, CLIENT, 80, 40500, *a, **k))
    f.append(c2(100, 0, "S", 64240))
    f.append(s2(900, 101, "SA", 65160))
    f.append(c2(101, 901, "A", 502))
    get2 = b"GET /b HTTP/1.1\r\nHost: server\r\n\r\n"
    r3 = b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nabcdefg"
    f.append(c2(101, 901, "PA", 502, head))
    f.append(c2(101, 901, "PA", 502, head))                  # the HEAD request again
    f.append(c2(101 + len(head), 901, "PA", 502, get2))
    f.append(s2(901, 101 + len(head + get2), "PA", 509, r1))  # answers HEAD
    f.append(s2(901 + len(r1), 101 + len(head + get2), "PA", 509, r3))  # answers GET
    f.append(s2(901 + len(r1), 101 + len(head + get2), "PA", 509, r3))  # and again
    pcap(os.path.join(HERE, "notes_truth.pcap"), 1, f)


def l4sum6(src, dst, proto, seg):
    pseudo = src + dst + struct.pack("!IxxxB", len(seg), proto)
    return csum(pseudo + seg)


if __name__ == "__main__":
    tcp_session()
    sll2_mixed()
    null_ip_mix()
    tcp_recovery()
    notes_truth()
