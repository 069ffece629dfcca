# ctest: timeout=300
"""Lesson 22, many ways to HTTPS, run headless with --json --save, read from
the run's own events:

- the comparison note: every number of every way equals this test's own
  count of the events (comparelib), and the round trips before the first
  byte are 4 (TLS 1.2), 3 (TLS 1.3), 2 (TLS 1.3 0-RTT), 2 (TCP Fast Open
  + TLS 1.3) and 2 (QUIC, whose first datagram holds the ClientHello); each
  time to first byte is at least its round trips, less
  the last half trip, times the link's 100 ms;
- 0-RTT: the client resumed with the ticket of its earlier visit (psk and
  early_data in its ClientHello), its request rides in the ClientHello's
  packet, decrypted (early data), the server's answer leaves before the
  client's Finished, the client's second flight holds EndOfEarlyData, and
  both ends say the early data was accepted;
- TCP Fast Open: the earlier visit's SYN asks for a cookie and its SYN-ACK
  gives one; the compared client's connect() returns before any packet,
  its SYN carries the cookie and the whole ClientHello, and the SYN-ACK
  acknowledges it;
- the checkpoints are asked before their targets and decided by them;
- the saved run: tshark, given no key file, agrees with the replay on every
  packet's TLS records and handshake types, finds the GET in the 0-RTT
  ClientHello's packet (it decrypts early data too), and reads the same
  Fast Open options;
- `export --compare-svg` charts the comparison: a pair of bars per way with
  the note's times."""
import json
import os
import subprocess
import tempfile
import xml.etree.ElementTree as ET

from comparelib import *
from oraclelib import layer_list, same_as_tshark, tls_rows, tshark_tls_rows

need_lab()
check(subprocess.run(["which", "tshark"], capture_output=True).returncode == 0,
      "tshark is missing (Debian package tshark; .ci/quickstart installs it)")
tmp = tempfile.mkdtemp(prefix="nc-e2e-https-ways-")
saved = os.path.join(tmp, "https-ways.pcapng")
events = run_json("https-ways", extra=("--save", saved), data_dir=tmp)
RTT_MS = 100  # the front matter's delay=50ms, each way
PORT = {"tls12": 8412, "tls13": 8413, "early": 8414, "tfo": 8415, "quic": 8416}


def conn_packets(program):
    return [(e, sent) for e, sent in way_packets(events, program)]


# The comparison, side by side, from the run's own packets.
note = comparison(events, "ways")
ways = check_against_run(events, note)
check([w["label"] for w in note["ways"]] == ["TLS 1.2", "TLS 1.3", "TLS 1.3 0-RTT",
                                             "TFO + TLS 1.3", "QUIC (HTTP/3)"],
      f"the ways: {note['ways']}")
trips = {p: ways[p]["first_byte_round_trips"] for p in PORT}
check(trips == {"tls12": 4, "tls13": 3, "early": 2, "tfo": 2, "quic": 2},
      f"round trips before the first byte: {trips}", events)
for p, w in ways.items():
    check(w["connections"] == 1 and w["requests"] == 1 and w["answers"] == 1,
          f"{p}: one connection, one request, one answer: {w}")
    low = (w["first_byte_round_trips"] - 0.5) * RTT_MS - 1
    check(w["first_byte_ms"] >= low, f"{p}: first byte at {w['first_byte_ms']} ms, under the "
                                     f"{low:.0f} ms its round trips take on this link")

# 0-RTT.
pk = conn_packets("early")
hello = [e for e, sent in pk if sent and any(m.get("message") == "ClientHello"
                                             for m in layer_list(e, "tls"))]
check(len(hello) == 1, f"the 0-RTT client sent {len(hello)} ClientHellos", events)
ch = [m for m in layer_list(hello[0], "tls") if m.get("message") == "ClientHello"][0]
check(ch.get("psk") and ch.get("early_data"), f"the ClientHello offers no ticket or early data: {ch}")
reqs = [h for h in http_msgs(hello[0]) if h.get("request")]
check(len(reqs) == 1 and reqs[0].get("decrypted"),
      f"the request is not decrypted in the ClientHello's packet: {hello[0]['summary']}", events)
fin = [e for e, sent in pk if sent and any(m.get("handshake", {}).get("type") == 20
                                           for m in layer_list(e, "tls"))]
answer = [e for e, sent in pk if not sent and any("status" in h for h in http_msgs(e))]
check(fin and answer and answer[0]["i"] < fin[0]["i"],
      "the 0-RTT answer did not leave before the client's Finished", events)
eoed = [m for m in layer_list(fin[0], "tls") if m.get("handshake", {}).get("type") == 5]
check(eoed, f"no EndOfEarlyData before the client's Finished: {fin[0]['summary']}")
for who in ("SSL_connect", "SSL_accept"):
    done = [e for e in events if e["type"] == "app" and e.get("call") == who
            and e.get("early_data") == "accepted"]
    check(len(done) == 1 and done[0]["resumed"] == 1, f"{who}: early data accepted {len(done)} times")

# QUIC: the ClientHello in the first datagram, the request in a 1-RTT packet.
qp = conn_packets("quic")
check(qp and "udp" in qp[0][0] and qp[0][1] and qp[0][0].get("quic"),
      f"the QUIC way does not start with a datagram of its own: {qp[:1]}", events)
check(any(("method" in h) for e, sent in qp if sent for h in
          (e["http3"] if isinstance(e.get("http3"), list) else [e.get("http3") or {}])),
      "the QUIC way's request is not decoded", events)

# TCP Fast Open.
visit = [e for e in events if e["type"] == "packet" and "tcp" in e and
         e["tcp"]["dport"] == 8415 and set(e["tcp"]["flags"]) == {"SYN"}]
check(len(visit) >= 2, f"{len(visit)} SYNs to 8415", events)
first_syn = visit[0]
check(first_syn["tcp"].get("options", {}).get("tfo_request") and first_syn["tcp"]["len"] == 0,
      f"the earlier visit's SYN asks for no cookie: {first_syn['tcp']}")
synacks = [e for e in events if e["type"] == "packet" and "tcp" in e and e["tcp"]["sport"] == 8415
           and set(e["tcp"]["flags"]) == {"SYN", "ACK"}]
cookie = synacks[0]["tcp"].get("options", {}).get("tfo_cookie")
check(cookie, f"the first SYN-ACK gives no cookie: {synacks[0]['tcp']}")
tfo = conn_packets("tfo")
syn = [e for e, sent in tfo if sent and set(e["tcp"]["flags"]) == {"SYN"}]
check(len(syn) == 1 and syn[0]["tcp"]["len"] > 0 and
      syn[0]["tcp"]["options"].get("tfo_cookie") == cookie,
      f"the Fast Open SYN: {syn and syn[0]['tcp']}", events)
check(any(m.get("message") == "ClientHello" for m in layer_list(syn[0], "tls")),
      f"the Fast Open SYN carries no ClientHello: {syn[0]['summary']}")
ack = [e for e, sent in tfo if not sent and set(e["tcp"]["flags"]) == {"SYN", "ACK"}]
check(ack and ack[0]["tcp"]["ack"] == 1 + syn[0]["tcp"]["len"],
      f"the SYN-ACK does not acknowledge the ClientHello: {ack and ack[0]['tcp']}")
conn = [e for e in events if e["type"] == "app" and e.get("program") == "tfo" and
        e.get("call") == "connect"]
check(conn and conn[0].get("fastopen") == 1 and conn[-1]["i"] < syn[0]["i"],
      "the Fast Open connect() did not return before its SYN left", events)

# The checkpoints, each asked before its target and decided by the run.
for cp, want in (("halfrtt", "b"), ("synhello", "b"), ("synack", "a")):
    asked = [e for e in marks(events, checkpoint=cp, event="asked")]
    dec = (marks(events, checkpoint=cp, event="decided") or [None])[0]
    check(asked and dec, f"checkpoint {cp} was not asked and decided", events)
    check(dec["answer"] == want, f"checkpoint {cp}: the run decided {dec['answer']}, not {want}")
    check(asked[0]["i"] < dec["target"] <= dec["by"] < dec["i"],
          f"checkpoint {cp}: asked at {asked[0]['i']}, target {dec['target']}, by {dec['by']}, "
          f"decided at {dec['i']}")

# The saved run against tshark (no key file: the run carries its secrets).
# TLS over TCP only: a QUIC way's handshake rides in CRYPTO frames, which
# e2e_oracle_quic compares.
theirs, values = tshark_tls_rows(saved, extra=("-Y", "tcp"),
                                 more=("http.request.method", "tcp.options.tfo.request",
                                       "tcp.options.tfo.cookie"))
rc, out, err = run(["replay", saved, "--json"], data_dir=tmp)
check(rc == 0, f"netcourse replay exited {rc}: {err.strip()}")
replayed = [e for e in map(json.loads, out.splitlines()) if e["type"] == "packet"]
tcp_frames = {n for n, e in enumerate(replayed, 1) if "tcp" in e}
ours = [r for r in tls_rows(replayed) if r[0] in tcp_frames]
same_as_tshark(ours, theirs, "TLS records of the saved run", 50)
frame = next(n for n, e in enumerate(replayed, 1) if e["i"] == hello[0]["i"])
check("GET" in values.get(frame, []), f"tshark did not decrypt the 0-RTT request in frame {frame}: "
                                      f"{values.get(frame)}")
ours_tfo, their_tfo = {}, {}
for n, e in enumerate(replayed, 1):
    o = e.get("tcp", {}).get("options", {})
    got = (["1"] if o.get("tfo_request") else []) + ([o["tfo_cookie"]] if "tfo_cookie" in o else [])
    if got:
        ours_tfo[n] = got
    t = [v for v in values.get(n, []) if v not in ("GET",)]
    if t:
        their_tfo[n] = t
check(ours_tfo == their_tfo, f"Fast Open options: ours {ours_tfo}, tshark's {their_tfo}")

# The comparison as a chart.
chart = os.path.join(tmp, "ways.svg")
rc, out, err = run(["export", saved, "--compare-svg", chart], data_dir=tmp)
check(rc == 0, f"export --compare-svg exited {rc}: {err.strip()}")
NS = "{http://www.w3.org/2000/svg}"
bars = {g.get("data-label"): g for g in ET.parse(chart).getroot().iter(NS + "g")
        if g.get("class") == "way"}
for w in note["ways"]:
    g = bars.get(w["label"])
    check(g is not None and float(g.get("data-first-byte-ms")) == w["first_byte_ms"],
          f"the chart's {w['label']}: {g is not None and g.attrib}")
print(f"ok: first byte after {trips} round trips "
      f"({', '.join(str(ways[p]['first_byte_ms']) for p in PORT)} ms); tshark agrees on "
      f"{len(theirs)} TLS packets")
