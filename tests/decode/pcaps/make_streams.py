#!/usr/bin/env python3
"""make_streams.py: hand-made captures for the stream decoders' golden tests.

Each capture is one or more TCP connections whose bytes are cut into segments
the way the test needs (three requests in one segment, a header cut in the
middle, segments out of order, an overlapping retransmission, bytes the capture
never saw). The four regression cases of issue 9 are here: pipelined requests
reported as one, a Content-Length body read as a request "GET /fake" sent by the
server, chunk data read as a "404" response, and RTSP called HTTP.

    python3 tests/decode/pcaps/make_streams.py

It writes stream_*.pcap beside itself, using make_pcaps.py's packet builders.
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_pcaps import CLIENT, SERVER, CMAC, SMAC, HERE, eth, pcap, tcp  # noqa: E402


class Conn:
    """One TCP connection: a handshake, then segments either way."""

    def __init__(self, frames, sport=40112, dport=80, c_isn=0x11223344, s_isn=0xA0B0C0D0,
                 handshake=True):
        self.f, self.sport, self.dport = frames, sport, dport
        self.c, self.s = c_isn + 1, s_isn + 1  # next seq each way
        self.c_isn, self.s_isn = c_isn, s_isn
        if handshake:
            self.f.append(self._c2s(c_isn, 0, "S"))
            self.f.append(self._s2c(s_isn, c_isn + 1, "SA"))
            self.f.append(self._c2s(self.c, self.s, "A"))

    def _c2s(self, seq, ack, flags, data=b""):
        return eth(SMAC, CMAC, 0x0800, tcp(CLIENT, SERVER, self.sport, self.dport, seq, ack, flags, 502, data))

    def _s2c(self, seq, ack, flags, data=b""):
        return eth(CMAC, SMAC, 0x0800, tcp(SERVER, CLIENT, self.dport, self.sport, seq, ack, flags, 509, data))

    def client(self, data, at=None, flags="PA"):
        """Client bytes at relative offset `at` (default: the next ones)."""
        seq = self.c if at is None else self.c_isn + 1 + at
        self.f.append(self._c2s(seq, self.s, flags, data))
        if at is None:
            self.c += len(data)

    def server(self, data, at=None, flags="PA", ack_to=None):
        seq = self.s if at is None else self.s_isn + 1 + at
        self.f.append(self._s2c(seq, self.c, flags, data))
        if at is None:
            self.s += len(data)

    def skip_server(self, n):
        """n server bytes the capture never sees."""
        self.s += n

    def ack_from_client(self):
        self.f.append(self._c2s(self.c, self.s, "A"))

    def close(self):
        self.f.append(self._c2s(self.c, self.s, "FA"))
        self.f.append(self._s2c(self.s, self.c + 1, "FA"))
        self.f.append(self._c2s(self.c + 1, self.s + 1, "A"))


def req(method, target, headers=(), body=b""):
    h = "".join("%s: %s\r\n" % kv for kv in headers)
    return ("%s %s HTTP/1.1\r\nHost: server\r\n%s\r\n" % (method, target, h)).encode() + body


def resp(status, reason, headers=(), body=b""):
    h = "".join("%s: %s\r\n" % kv for kv in headers)
    return ("HTTP/1.1 %d %s\r\n%s\r\n" % (status, reason, h)).encode() + body


def http_pipelined():
    """Three requests in one segment; three responses, the second cut across
    segments in its header block; a Content-Length: 34 body that holds a
    request line (issue 9: read as "GET /fake" sent by the server)."""
    f = []
    c = Conn(f)
    c.client(req("GET", "/a.txt") + req("GET", "/b.txt") + req("GET", "/c.txt"))
    fake = b"GET /fake HTTP/1.1\r\nHost: x\r\n\r\nabc"
    assert len(fake) == 34
    r1 = resp(200, "OK", [("Content-Length", "34")], fake)
    r2 = resp(200, "OK", [("Content-Length", "5"), ("Content-Type", "text/plain")], b"hello")
    r3 = resp(404, "Not Found", [("Content-Length", "0")])
    c.server(r1[:-len(fake)])
    c.server(fake)  # the body starts a segment, as in the capture
    c.server(r2[:20])
    c.server(r2[20:] + r3)
    c.ack_from_client()
    c.close()
    pcap(os.path.join(HERE, "stream_pipelined.pcap"), 1, f)


def http_chunked():
    """A chunked response whose chunk data starts like a response line
    (issue 9: read as a "404" response); chunk sizes cut across segments; a
    trailer; then HEAD (Content-Length but no body), 204, 304 and a 100
    Continue before a POST's 200; and a response that ends at close."""
    f = []
    c = Conn(f)
    c.client(req("GET", "/chunks"))
    chunk1 = b"HTTP/1.1 404 Not Found\r\n\r\n"
    body = b"%x\r\n%s\r\n" % (len(chunk1), chunk1) + b"5\r\nhello\r\n" + b"0\r\nX-Trailer: 1\r\n\r\n"
    head = resp(200, "OK", [("Transfer-Encoding", "chunked")])
    c.server(head + body[:4])
    c.server(body[4:40])  # chunk data that starts a segment, as in the capture
    c.server(body[40:])
    c.client(req("HEAD", "/big"))
    c.server(resp(200, "OK", [("Content-Length", "100000")]))
    c.client(req("DELETE", "/x"))
    c.server(resp(204, "No Content", [("Content-Length", "7")]))
    c.client(req("GET", "/cached", [("If-None-Match", '"v1"')]))
    c.server(resp(304, "Not Modified", [("Content-Length", "50")]))
    c.client(req("POST", "/up", [("Expect", "100-continue"), ("Content-Length", "4")]))
    c.server(resp(100, "Continue"))
    c.client(b"data")
    c.server(resp(200, "OK", [("Content-Length", "2")], b"ok"))
    c.client(req("GET", "/last"))
    c.server(resp(200, "OK", [("Connection", "close")], b"until the end"))
    c.ack_from_client()
    c.close()
    pcap(os.path.join(HERE, "stream_chunked.pcap"), 1, f)


def rtsp():
    """RTSP and SIP look like HTTP (issue 9: RTSP called HTTP): they are not."""
    f = []
    c = Conn(f, sport=40200, dport=554)
    c.client(b"OPTIONS rtsp://server/media RTSP/1.0\r\nCSeq: 1\r\n\r\n")
    c.server(b"RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: DESCRIBE, SETUP\r\n\r\n")
    c.client(b"DESCRIBE rtsp://server/media RTSP/1.0\r\nCSeq: 2\r\n\r\n")
    c.server(b"RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Length: 0\r\n\r\n")
    c.close()
    sip = Conn(f, sport=40300, dport=5060)
    sip.client(b"OPTIONS sip:server SIP/2.0\r\nVia: SIP/2.0/TCP client\r\nCSeq: 1 OPTIONS\r\n"
               b"Content-Length: 0\r\n\r\n")
    sip.server(b"SIP/2.0 200 OK\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
    sip.close()
    pcap(os.path.join(HERE, "stream_rtsp.pcap"), 1, f)


def reorder():
    """A response whose segments arrive out of order, with an overlapping
    retransmission, then one whose middle the capture never saw (a gap the
    client's ACK proves was sent)."""
    f = []
    c = Conn(f)
    c.client(req("GET", "/one"))
    body = bytes(range(65, 91)) * 40  # 1040 bytes
    r = resp(200, "OK", [("Content-Length", str(len(body)))], body)
    a, b, d = r[:400], r[400:800], r[800:]
    c.server(d, at=800)
    c.server(b, at=400)
    c.server(r[300:600], at=300)  # overlaps both neighbours
    c.server(a, at=0)
    c.s += len(r)
    c.ack_from_client()
    c.client(req("GET", "/two"))
    r2 = resp(200, "OK", [("Content-Length", "3000")], b"z" * 3000)
    c.server(r2[:1000])
    c.skip_server(1000)  # never captured
    c.ack_from_client()  # the client got them: the capture missed them
    c.server(r2[2000:])
    c.ack_from_client()
    c.client(req("GET", "/three"))
    c.server(resp(200, "OK", [("Content-Length", "2")], b"ok"))
    c.close()
    pcap(os.path.join(HERE, "stream_reorder.pcap"), 1, f)


def ws_frame(opcode, payload, fin=True, mask=None, rsv=0):
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    n = len(payload)
    if n < 126:
        hdr = bytes([b0, (0x80 if mask else 0) | n])
    elif n < 65536:
        hdr = bytes([b0, (0x80 if mask else 0) | 126]) + struct.pack("!H", n)
    else:
        hdr = bytes([b0, (0x80 if mask else 0) | 127]) + struct.pack("!Q", n)
    if mask:
        hdr += mask
        payload = bytes(p ^ mask[i % 4] for i, p in enumerate(payload))
    return hdr + payload


def websocket():
    """An Upgrade to WebSocket: masked client frames, a fragmented message,
    a 300-byte frame (16-bit length), ping/pong, a close with code 1000; and
    permessage-deflate noticed."""
    f = []
    c = Conn(f)
    c.client(req("GET", "/chat", [("Upgrade", "websocket"), ("Connection", "Upgrade"),
                                  ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
                                  ("Sec-WebSocket-Version", "13"),
                                  ("Sec-WebSocket-Extensions", "permessage-deflate")]))
    c.server(resp(101, "Switching Protocols", [("Upgrade", "websocket"), ("Connection", "Upgrade"),
                                                ("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
                                                ("Sec-WebSocket-Extensions", "permessage-deflate")])
             + ws_frame(1, b"welcome"))
    m = b"\x37\xfa\x21\x3d"
    c.client(ws_frame(1, b"Hello", mask=m))
    c.client(ws_frame(1, b"frag-", fin=False, mask=m) + ws_frame(0, b"ment", fin=False, mask=m))
    c.client(ws_frame(0, b"ed", mask=m))
    big = ws_frame(2, bytes(300))
    c.server(big[:100])
    c.server(big[100:])
    c.server(ws_frame(1, b"\xf2\x48\xcd\xc9\xc9\x07\x00", rsv=4))  # compressed "Hello"
    c.client(ws_frame(9, b"hb", mask=m))
    c.server(ws_frame(10, b"hb"))
    c.client(ws_frame(8, struct.pack("!H", 1000) + b"bye", mask=m))
    c.server(ws_frame(8, struct.pack("!H", 1000)))
    c.close()
    pcap(os.path.join(HERE, "stream_websocket.pcap"), 1, f)


def sse():
    """An event stream over a chunked response, events cut across chunks and
    segments, then the client reconnects with Last-Event-ID."""
    f = []
    c = Conn(f)
    c.client(req("GET", "/events", [("Accept", "text/event-stream")]))
    events = (b"retry: 3000\n\n"
              b": a comment\n"
              b"id: 1\nevent: price\ndata: 42\n\n"
              b"id: 2\ndata: first line\ndata: second line\n\n"
              b"data: no id\r\n\r\n")
    head = resp(200, "OK", [("Content-Type", "text/event-stream"), ("Transfer-Encoding", "chunked")])
    pieces = [events[:20], events[20:50], events[50:]]
    c.server(head)
    for p in pieces:
        c.server(b"%x\r\n%s\r\n" % (len(p), p))
    c.server(b"0\r\n\r\n")
    c.close()
    c2 = Conn(f, sport=40113)
    c2.client(req("GET", "/events", [("Accept", "text/event-stream"), ("Last-Event-ID", "2")]))
    c2.server(resp(200, "OK", [("Content-Type", "text/event-stream")]) + b"id: 3\ndata: again\n\n")
    c2.close()
    pcap(os.path.join(HERE, "stream_sse.pcap"), 1, f)


def midstream():
    """A capture that begins in the middle of a kept-alive connection: the
    end of a response body (which happens to hold a request line), then the
    next exchange, which must be decoded."""
    f = []
    c = Conn(f, handshake=False)
    c.server(b"GET /not-a-request HTTP/1.1\r\n... the rest of a body\n")
    c.server(b"more of that body\n")
    c.client(req("GET", "/next"))
    c.server(resp(200, "OK", [("Content-Length", "2")], b"ok"))
    c.client(req("GET", "/after"))
    c.server(resp(304, "Not Modified"))
    c.close()
    pcap(os.path.join(HERE, "stream_midstream.pcap"), 1, f)


if __name__ == "__main__":
    http_pipelined()
    http_chunked()
    rtsp()
    reorder()
    websocket()
    sse()
    midstream()
