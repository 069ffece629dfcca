# ctest: timeout=300
"""Lesson 19, HTTP/3 and QUIC, run headless with --json --save, read from
the run's own events (no timed assertions: order, content and counts).

What the lesson must make visible (../shared/LESSONS.md): one lost packet
stalls every HTTP/2 stream over TCP, and only one QUIC stream.

- HTTP/2: the four requests leave in one write on one TCP connection; the
  wire drops exactly one of the server's segments (scripted); the segments
  after it reach the client before the retransmission (the lost one held
  bytes of stream 1's DATA only; every byte of the other streams' frames
  arrived in other segments before it), yet no answer
  reaches the program before the retransmission does; all four streams
  are reported stalled (and the kit's "stalled" agrees with its own times
  and round trip), the summary says 4 of 4.
- HTTP/3: a QUIC handshake (ALPN h3, TLS 1.3 cipher) on both sides; the
  four requests on client streams 0, 4, 8, 12; the wire drops exactly one
  UDP packet (scripted), the first of stream 0's answer; three answers
  reach the program before the server sends the lost answer again, the
  fourth (stream 0, whose packet was lost) only after it; one stream
  stalled, the summary says 1 of 4.
- The checkpoints: both asked before their target, decided by the run:
  h2stall "all four", h3stall "only stream 0".
- The saved run: its Decryption Secrets Block holds the four QUIC traffic
  secrets (SSLKEYLOGFILE labels), and `tshark -r` with no key file decrypts
  the QUIC packets: the TLS handshake inside CRYPTO frames, and HTTP/3
  HEADERS and DATA frames on streams 0, 4, 8 and 12.
- Real QUIC peers (Debian's ngtcp2 examples): gtlsclient typed in the lab
  shell on the client host downloads two of the lesson server's answers
  (4000 and 800 bytes); and the kit's client (a fixture lesson) gets files of
  3000 and 5000 bytes and a 404 from gtlsserver run in the shell on the
  server host.
- Bad input: an h3-get with no h3-connect before it, and an h3-connect to a
  port where nothing listens (UDP refuses nothing: the handshake gives up
  after its timeout), each end the run with one sentence naming the
  lesson's line, and a non-zero exit.
"""
import json
import os
import struct
import subprocess
import tempfile

from comparelib import check_against_run, comparison
from nctest import *

need_lab()
check(subprocess.run(["which", "tshark"], capture_output=True).returncode == 0,
      "tshark is missing (Debian package tshark; .ci/quickstart installs it)")
tmp = tempfile.mkdtemp(prefix="nc-e2e-http3-")
saved = os.path.join(tmp, "http3.pcapng")
events = run_json("http3", extra=("--save", saved), data_dir=tmp)


def app(program, call):
    return [e for e in events if e["type"] == "app" and e.get("program") == program
            and e.get("call") == call]


def one(lst, what):
    check(len(lst) == 1, f"expected one {what}, got {len(lst)}: {lst}")
    return lst[0]


def tcp_srv(e):
    return e["type"] == "packet" and "tcp" in e and e["tcp"]["sport"] == 8080


def udp_srv(e):
    return e["type"] == "packet" and "udp" in e and e["udp"]["sport"] == 4433


def check_streams(program, proto, nstalled):
    """The per-stream reports of one client and their summary."""
    resp = app(program, "response")
    size = {"/main.js": 4000, "/main.css": 800, "/img1.jpg": 800, "/img2.jpg": 800}
    check(len(resp) == 4 and all(r["proto"] == proto and r["status"] == 200 and
                                 r["bytes"] == size.get(r["path"]) for r in resp),
          f"{program}: responses {resp}")
    for r in resp:
        # The kit's verdict is its own rule applied to its own numbers.
        late = r["ms"] > 1.5 * r["rtt_ms"] and r["ms"] > r["rtt_ms"] + 10
        check(bool(r["stalled"]) == late or abs(r["ms"] - 1.5 * r["rtt_ms"]) <= 1,
              f"{program}: stream {r['stream']} stalled={r['stalled']} but {r['ms']} ms for "
              f"a {r['rtt_ms']} ms round trip")
    s = one(app(program, "streams"), f"{program} summary")
    check(s["streams"] == 4 and s["stalled"] == nstalled and
          s["stalled"] == sum(1 for r in resp if r["stalled"]),
          f"{program}: summary {s}, expected {nstalled} of 4 stalled")
    return resp, s


# ---- HTTP/2 over TCP: one lost segment, every stream late ----
drops = [e for e in events if e["type"] == "packet" and e["dropped"]]
tcp_drop = one([e for e in drops if "tcp" in e], "dropped TCP segment")
check(tcp_srv(tcp_drop) and tcp_drop["tcp"]["len"] > 1000 and
      "scripted" in tcp_drop["wire"]["reason"], f"the dropped TCP segment: {tcp_drop}")
write = one([w for w in app("h2client", "write") if "HEADERS" in w["text"]], "HTTP/2 request write")
check(all(f"HEADERS on stream {s}" in write["text"] for s in (1, 3, 5, 7)),
      f"the four requests should leave in one write: {write['text']}")
retx = [e for e in events if tcp_srv(e) and e["tcp"].get("retransmission") and e["tcp"]["len"] > 0]
check(retx, "the server never sent the lost segment again")
rx = retx[0]["i"]
after_hole = [e for e in events if tcp_srv(e) and not e["dropped"] and e["tcp"]["len"] > 0
              and not e["tcp"].get("retransmission") and tcp_drop["i"] < e["i"] < rx]
check(after_hole, "no server segment after the lost one arrived before its retransmission")
resp2, sum2 = check_streams("h2client", "HTTP/2", 4)
check(sorted(r["stream"] for r in resp2) == [1, 3, 5, 7], f"HTTP/2 streams {resp2}")
check(all(r["i"] > rx for r in resp2),
      f"an HTTP/2 answer reached the program before the retransmission (event {rx}): "
      f"{[(r['stream'], r['i']) for r in resp2]}")
# The lost segment held bytes of stream 1's DATA only; every byte of the
# other streams' frames came in segments that arrived before the
# retransmission (the decoder's frames say where each one sits in the
# server's byte stream).
frames = [f for e in events if tcp_srv(e) for f in msgs(e, "http2") if "seq_start" in f]
lost = (tcp_drop["tcp"]["seq"], tcp_drop["tcp"]["seq"] + tcp_drop["tcp"]["len"])
data1 = [f for f in frames if f.get("type") == 0 and f.get("streamid") == 1]
check(len(data1) == 1 and data1[0]["seq_start"] + 9 <= lost[0] and lost[1] <= data1[0]["seq_end"],
      f"the lost bytes {lost} should lie inside stream 1's DATA: {data1}")
got = [(e["tcp"]["seq"], e["tcp"]["seq"] + e["tcp"]["len"]) for e in events
       if tcp_srv(e) and not e["dropped"] and e["i"] < rx]
def covered(lo, hi):
    """Whether the bytes lo..hi all came in the segments of got."""
    for a, b in sorted(got):
        if a <= lo < b:
            lo = b
    return lo >= hi


others = [f for f in frames if f.get("streamid") in (3, 5, 7)]
check(len(others) == 6 and all(covered(f["seq_start"], f["seq_end"]) for f in others),
      f"streams 3, 5, 7's frames should all lie in segments that came before the "
      f"retransmission: {[(f['streamid'], f['seq_start'], f['seq_end']) for f in others]} in {got}")
reads = [r for r in app("h2client", "read") if r["i"] < rx]
check(all(r["total"] < lost[0] for r in reads),
      f"the client read bytes from beyond the hole before the retransmission: {reads}")
print(f"ok: HTTP/2: one segment lost, {len(after_hole)} later segment(s) held in the kernel, "
      f"{sum2['stalled']} of 4 streams stalled (last {sum2['last_ms']} ms, round trip "
      f"{sum2['rtt_ms']} ms)")

# ---- HTTP/3 over QUIC: one lost packet, one stream late ----
for prog in ("h3client", "h3server"):
    hs = one(app(prog, "handshake"), f"{prog} QUIC handshake")
    check(hs["alpn"] == "h3" and hs["cipher"], f"{prog} handshake: {hs}")
reqs = app("h3client", "request")
check(sorted(r["stream"] for r in reqs) == [0, 4, 8, 12] and
      {r["path"] for r in reqs} == {"/main.js", "/main.css", "/img1.jpg", "/img2.jpg"},
      f"HTTP/3 requests: {reqs}")
udp_drop = one([e for e in drops if "udp" in e], "dropped UDP packet")
check(udp_srv(udp_drop) and "scripted" in udp_drop["wire"]["reason"],
      f"the dropped UDP packet: {udp_drop}")
# The server's full-size packets: its handshake flight, /main.js's answer
# (the lost packet is the second), and last, the lost bytes sent again.
big = [e for e in events if udp_srv(e) and e["udp"]["payload_len"] >= 1200]
check(len(big) >= 5 and big[1]["i"] == udp_drop["i"] and not big[-1]["dropped"],
      f"the server's full-size packets: {[(e['i'], e['dropped']) for e in big]}")
resent = big[-1]["i"]
resp3, sum3 = check_streams("h3client", "HTTP/3", 1)
on_time = [r for r in resp3 if r["i"] < resent]
check(sorted(r["stream"] for r in on_time) == [4, 8, 12],
      f"the answers before the lost one came again should be streams 4, 8, 12: "
      f"{[(r['stream'], r['i']) for r in resp3]}, resent at {resent}")
late = [r for r in resp3 if r["stalled"]]
check([r["stream"] for r in late] == [0] and late[0]["i"] > resent,
      f"only stream 0 should be late, after its answer came again: {late}")
respond = {r["stream"]: r["i"] for r in app("h3server", "respond")}
check(sorted(respond) == [0, 4, 8, 12], f"server answers {respond}")
print(f"ok: HTTP/3: one packet lost, streams 4, 8, 12 on time, stream 0 late "
      f"({sum3['stalled']} of 4 stalled; last {sum3['last_ms']} ms, round trip "
      f"{sum3['rtt_ms']} ms)")

# ---- the comparison: the note's numbers are the run's, and its stalled
# streams row says 4 for HTTP/2 and 1 for HTTP/3 ----
ways = check_against_run(events, comparison(events, "hol"))
check(ways["h2client"]["stalled_streams"] == 4 and ways["h3client"]["stalled_streams"] == 1,
      f"stalled streams in the comparison: HTTP/2 {ways['h2client']['stalled_streams']}, "
      f"HTTP/3 {ways['h3client']['stalled_streams']}")
print("ok: the comparison: 4 HTTP/2 streams stalled, 1 HTTP/3 stream")

# ---- the checkpoints ----
for cp, answer, target in (("h2stall", "b", tcp_drop), ("h3stall", "a", udp_drop)):
    asked = one(marks(events, checkpoint=cp, event="asked"), f"{cp} asked")
    dec = one(marks(events, checkpoint=cp, event="decided"), f"{cp} decided")
    check(dec["answer"] == answer, f"checkpoint {cp}: the run answered {dec['answer']}, not {answer}")
    check(asked["i"] < dec["target"] == target["i"] <= dec["by"] < dec["i"],
          f"checkpoint {cp}: asked {asked['i']}, target {dec['target']}, by {dec['by']}")
print("ok: h2stall decided 'all four', h3stall decided 'only stream 0'")

# ---- the saved run: secrets in the DSB, tshark decrypts with no key file ----


def dsb_secrets(path):
    """The TLS key log lines of every Decryption Secrets Block of a pcapng."""
    lines = []
    with open(path, "rb") as f:
        data = f.read()
    off = 0
    while off + 12 <= len(data):
        btype, blen = struct.unpack_from("<II", data, off)
        check(blen >= 12 and off + blen <= len(data), f"a broken pcapng block at {off}")
        if btype == 0x0000000A:
            stype, slen = struct.unpack_from("<II", data, off + 8)
            if stype == 0x544C534B:
                lines += data[off + 16:off + 16 + slen].decode().splitlines()
        off += blen
    return lines


secrets = dsb_secrets(saved)
labels = {l.split()[0] for l in secrets if l.strip()}
for label in ("CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
              "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0"):
    check(label in labels, f"the saved run's secrets lack {label}: {sorted(labels)}")
p = subprocess.run(["tshark", "-r", saved, "-Y", "quic", "-T", "fields", "-E", "occurrence=a",
                    "-E", "aggregator=,", "-e", "udp.srcport", "-e", "quic.stream.stream_id",
                    "-e", "http3.frame_type", "-e", "tls.handshake.type"],
                   capture_output=True, text=True, timeout=120)
check(p.returncode == 0, f"tshark -r {saved}: {p.stderr.strip()}")
h3_streams, hs_types, frame_types = set(), set(), set()
for line in p.stdout.splitlines():
    cols = (line.split("\t") + ["", "", "", ""])[:4]
    sids = [int(x) for x in cols[1].split(",") if x]
    fts = [int(x) for x in cols[2].split(",") if x]
    hs_types |= {int(x) for x in cols[3].split(",") if x}
    frame_types |= set(fts)
    if 1 in fts or 0 in fts:
        h3_streams |= {s for s in sids if s % 4 == 0}
check({1, 2, 8, 11, 15, 20} <= hs_types,
      f"tshark did not decrypt the QUIC handshake (ClientHello, ServerHello, EncryptedExtensions, "
      f"Certificate, CertificateVerify, Finished): {sorted(hs_types)}")
check({0, 1, 4} <= frame_types,
      f"tshark saw no HTTP/3 DATA, HEADERS and SETTINGS frames: {sorted(frame_types)}")
check({0, 4, 8, 12} <= h3_streams,
      f"tshark's HTTP/3 frames should ride on streams 0, 4, 8, 12: {sorted(h3_streams)}")
print(f"ok: the saved run carries {len(secrets)} secret lines; tshark -r decrypts QUIC with no "
      f"key file: HTTP/3 frame types {sorted(frame_types)} on streams {sorted(h3_streams)}")

# ---- real QUIC peers: Debian's ngtcp2 example client and server ----
dl = os.path.join(tmp, "download")
os.mkdir(dl)
rc, out, err = run(["shell", "http3", "client", "-c",
                    f"gtlsclient --exit-on-all-streams-close -q --download={dl} 10.0.0.2 4433 "
                    "https://server:4433/main.js https://server:4433/img1.jpg; echo EXIT=$?",
                    "--json"], data_dir=tmp)
check(rc == 0 and "EXIT=0" in out, f"gtlsclient in the lab shell: rc {rc}, {out[-500:]} {err[-500:]}")
got = {f: os.path.getsize(os.path.join(dl, f)) for f in os.listdir(dl)}
check(got == {"main.js": 4000, "img1.jpg": 800}, f"gtlsclient downloaded {got}")
served = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
served = [e for e in served if e["type"] == "app" and e.get("call") == "respond"]
check(len(served) == 2, f"the lesson's HTTP/3 server answered gtlsclient {len(served)} times")

peer = os.path.join(tmp, "peer")
docs = os.path.join(tmp, "htdocs")
os.makedirs(peer)
os.makedirs(docs)
for name, size in (("a.bin", 3000), ("b.bin", 5000)):
    with open(os.path.join(docs, name), "wb") as f:
        f.write(os.urandom(size))
key, cert = os.path.join(tmp, "key.pem"), os.path.join(tmp, "cert.pem")
subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
                "-subj", "/CN=server"], check=True, capture_output=True)
with open(os.path.join(peer, "h3peer.md"), "w") as f:
    f.write("""---
id: h3peer
title: The kit's HTTP/3 client against a real server
number: 901
part: 2 Protocols
summary: The kit's HTTP/3 client against a server the student runs.
topology: pair
---
# Peer

The client asks the server host's HTTP/3 server for two files and one
that is not there.

```program
name: h3client
host: client
sleep 500ms
h3-connect server 4433
h3-get /a.bin /b.bin /missing
close
```

```step
id: all
title: All
text: All of it.
```
""")
rc, out, err = run(["--lessons", peer, "shell", "h3peer", "server", "-c",
                    f"timeout 3 gtlsserver -q -d {docs} 10.0.0.2 4433 {key} {cert}", "--json"],
                   data_dir=tmp)
ev = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
resp = {e["path"]: (e["status"], e["bytes"]) for e in ev
        if e["type"] == "app" and e.get("call") == "response"}
check(resp.get("/a.bin") == (200, 3000) and resp.get("/b.bin") == (200, 5000) and
      resp.get("/missing", (0,))[0] == 404,
      f"the kit's client against gtlsserver got {resp} ({err[-500:]})")
print("ok: gtlsclient downloads from the lesson's HTTP/3 server, and the kit's client from "
      "gtlsserver")

# ---- bad input: one sentence, a non-zero exit ----
BAD = """---
id: h3bad
title: Nobody there
number: 902
part: 2 Protocols
summary: An HTTP/3 client with no server.
topology: pair
---
# Nobody

No server listens on the port.

```program
name: h3client
host: client
%s
h3-get /a
```

```step
id: all
title: All
text: All of it.
```
"""
for first, want in (("sleep 10ms", "17: program h3client: h3-get needs an h3-connect before it"),
                    ("h3-connect server 4433",
                     "16: program h3client: the QUIC connection failed before its handshake ended")):
    bad = tempfile.mkdtemp(prefix="nc-e2e-h3bad-")
    with open(os.path.join(bad, "h3bad.md"), "w") as f:
        f.write(BAD % first)
    rc, out, err = run(["--lessons", bad, "run", "h3bad", "--headless", "--json"], data_dir=tmp)
    lines = [l for l in err.splitlines() if l.strip()]
    check(rc != 0 and len(lines) == 1 and "h3bad.md:" + want in lines[0],
          f"{first!r} then h3-get: rc {rc}, stderr {err!r}")
    if first.startswith("h3-connect"):
        gaveup = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
        check(any(e.get("call") == "close" and "gives up" in e["text"] for e in gaveup),
              "the client did not say why it gave up")
print("ok: h3-get without h3-connect, and a server that never answers: one sentence each")
