#!/usr/bin/env python3
"""Seeds the corpora of the stream harnesses (corpus/reassembly, websocket,
sse, http1) from the conversations of tests/decode/pcaps/make_streams.py.

    python3 tests/fuzz/seed_streams.py

Each seed is small: one conversation cut a few ways, in the record format of
fuzz_reassembly.c, or one direction's bytes for the decoder harnesses.
"""
import hashlib
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "decode", "pcaps"))
import make_streams as ms  # noqa: E402


def save(kind, data):
    d = os.path.join(HERE, "corpus", kind)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
        f.write(data)


def records(app, segs):
    """segs: (dir, off, payload, ctl-extra) tuples."""
    out = bytes([app])
    for d, off, data, extra in segs:
        for k in range(0, max(len(data), 1), 255):
            piece = data[k:k + 255]
            out += bytes([d | extra]) + struct.pack("!h", off) + bytes([len(piece)]) + piece
            off = 0
    return out


def main():
    c = ms.req("GET", "/a") + ms.req("GET", "/b") + ms.req("HEAD", "/c")
    s = (ms.resp(200, "OK", [("Content-Length", "34")], b"GET /fake HTTP/1.1\r\nHost: x\r\n\r\nabc")
         + ms.resp(200, "OK", [("Transfer-Encoding", "chunked")], b"3\r\nabc\r\n0\r\n\r\n")
         + ms.resp(200, "OK", [("Content-Length", "9")]))
    save("reassembly", records(0, [(0, 0, c, 16), (1, 0, s, 16), (0, 0, b"", 4 | 16), (1, 0, b"", 4 | 16)]))
    save("reassembly", records(1, [(0, 0, c[:10], 0), (0, 20, c[30:], 0), (0, -20, c[10:30], 0xc0),
                                   (1, 0, s[:50], 0), (1, 10, s[60:], 16), (0, 0, b"", 16)]))
    save("reassembly", records(0, [(0, 0, b"OPTIONS rtsp://h/m RTSP/1.0\r\nCSeq: 1\r\n\r\n", 0)]))
    up = ms.req("GET", "/ws", [("Upgrade", "websocket"), ("Sec-WebSocket-Extensions", "permessage-deflate")])
    ok = ms.resp(101, "Switching Protocols", [("Upgrade", "websocket"),
                                               ("Sec-WebSocket-Extensions", "permessage-deflate")])
    frames_c = ms.ws_frame(1, b"Hello", mask=b"\x01\x02\x03\x04") + ms.ws_frame(1, b"a", fin=False) + ms.ws_frame(0, b"b")
    frames_s = ms.ws_frame(2, bytes(300)) + ms.ws_frame(8, struct.pack("!H", 1000) + b"bye") + ms.ws_frame(1, b"x", rsv=4)
    save("reassembly", records(0, [(0, 0, up, 0), (1, 0, ok, 16), (0, 0, frames_c, 16), (1, 0, frames_s, 16)]))
    save("websocket", frames_c)
    save("websocket", frames_s)
    save("websocket", ms.ws_frame(2, bytes(70000))[:2000])
    ev = b"retry: 3000\n\n: c\nid: 1\nevent: price\ndata: 42\n\nid: 2\ndata: a\r\ndata: b\r\n\r\ndata: cr\r\r"
    save("sse", ev)
    save("sse", b"data" + b"x" * 600 + b"\n\n")
    sse_resp = ms.resp(200, "OK", [("Content-Type", "text/event-stream"), ("Transfer-Encoding", "chunked")],
                       b"%x\r\n%s\r\n0\r\n\r\n" % (len(ev), ev))
    save("reassembly", records(0, [(0, 0, ms.req("GET", "/ev", [("Last-Event-ID", "2")]), 0), (1, 0, sse_resp, 16)]))
    save("http1", c)
    save("http1", b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n0\r\nT: 1\r\n\r\n")


if __name__ == "__main__":
    main()
