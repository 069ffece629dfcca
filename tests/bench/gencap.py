#!/usr/bin/env python3
"""gencap.py: writes a big, well-formed capture for the replay tests and bench.

    gencap.py OUT PACKETS [--conns N]

The file is a classic pcap (Ethernet, microseconds) of N keep-alive HTTP/1.1
connections on loopback (127.0.0.1, client ports 40000+k, server port 8080),
interleaved round robin: each connection opens with a handshake, then trades
request / ACK / response / ACK rounds (a few with a chunked body, a few 404s),
and the last packets close every connection. Every checksum is right, so the
decoder says nothing about them. It stops at exactly PACKETS packets (the
closes included), so the count is known without reading the file back.
"""
import struct
import sys

ETH = b"\x00" * 12 + b"\x08\x00"
IP = bytes([127, 0, 0, 1])
SERVER = 8080


def csum_words(data):
    if len(data) % 2:
        data += b"\x00"
    return sum(struct.unpack("!%dH" % (len(data) // 2), data))


def fold(s):
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


class Writer:
    def __init__(self, out):
        self.out = out
        self.t = 1_700_000_000 * 1_000_000
        self.ipid = 0
        self.count = 0
        self.payload_sums = {}
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))

    def packet(self, sport, dport, seq, ack, flags, payload=b""):
        self.ipid = (self.ipid + 1) & 0xFFFF
        tcp_len = 20 + len(payload)
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + tcp_len, self.ipid, 0x4000, 64, 6, 0, IP, IP)
        ip = ip[:10] + struct.pack("!H", fold(csum_words(ip))) + ip[12:]
        tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
        psum = self.payload_sums.get(payload)
        if psum is None:
            psum = csum_words(payload)
            self.payload_sums[payload] = psum
        pseudo = csum_words(IP + IP) + 6 + tcp_len
        c = fold(pseudo + csum_words(tcp) + psum)
        tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
        frame = ETH + ip + tcp + payload
        self.t += 7
        self.out.write(struct.pack("<IIII", self.t // 1_000_000, self.t % 1_000_000, len(frame), len(frame)))
        self.out.write(frame)
        self.count += 1


def request(n):
    return ("GET /item/%d HTTP/1.1\r\nHost: bench.test\r\nUser-Agent: gencap\r\n"
            "Accept: */*\r\n\r\n" % (n % 64)).encode()


def response(n):
    if n % 17 == 5:
        body = b"not here\n"
        return (b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n"
                % len(body)) + body
    if n % 11 == 3:
        return (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"10\r\n0123456789abcdef\r\n4\r\nwxyz\r\n0\r\n\r\n")
    body = (b"item %d " % (n % 64)) * 8 + b"\n"
    return (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n"
            % len(body)) + body


def main():
    args = sys.argv[1:]
    conns = 24
    if "--conns" in args:
        k = args.index("--conns")
        conns = int(args[k + 1])
        del args[k:k + 2]
    if len(args) != 2:
        sys.exit("usage: gencap.py OUT PACKETS [--conns N]")
    total = int(args[1])
    reqs = [request(n) for n in range(64 * 17 * 11)]
    resps = [response(n) for n in range(64 * 17 * 11)]
    with open(args[0], "wb") as f:
        w = Writer(f)
        # Each connection: client port, client next seq, server next seq.
        state = []
        for k in range(conns):
            cport = 40000 + k
            cseq, sseq = 1000 + 7919 * k, 5000 + 104729 * k
            w.packet(cport, SERVER, cseq, 0, 0x02)
            w.packet(SERVER, cport, sseq, cseq + 1, 0x12)
            w.packet(cport, SERVER, cseq + 1, sseq + 1, 0x10)
            state.append([cport, cseq + 1, sseq + 1])
        closing = 4 * conns
        n = 0
        while w.count + 4 + closing <= total:
            st = state[n % conns]
            cport, cseq, sseq = st
            rq, rs = reqs[n % len(reqs)], resps[n % len(resps)]
            w.packet(cport, SERVER, cseq, sseq, 0x18, rq)
            cseq += len(rq)
            w.packet(SERVER, cport, sseq, cseq, 0x10)
            w.packet(SERVER, cport, sseq, cseq, 0x18, rs)
            sseq += len(rs)
            w.packet(cport, SERVER, cseq, sseq, 0x10)
            st[1], st[2] = cseq, sseq
            n += 1
        for cport, cseq, sseq in state:
            if w.count + 4 > total:
                break
            w.packet(cport, SERVER, cseq, sseq, 0x11)
            w.packet(SERVER, cport, sseq, cseq + 1, 0x10)
            w.packet(SERVER, cport, sseq, cseq + 1, 0x11)
            w.packet(cport, SERVER, cseq + 1, sseq + 1, 0x10)
        while w.count < total:  # pad with ACKs to the exact count
            cport, cseq, sseq = state[0]
            w.packet(cport, SERVER, cseq + 1, sseq + 1, 0x10)
    print(w.count)


if __name__ == "__main__":
    main()
