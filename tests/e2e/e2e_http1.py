# ctest: timeout=300
"""Lesson 16, HTTP/1.0 and HTTP/1.1, run headless, read from the run's own
events:

- HTTP/1.0: three resources on three connections, a new handshake for
  each, every answer HTTP/1.0 and followed by the server's FIN;
- keep-alive: one handshake, the three requests on one connection, each
  sent after the previous answer arrived;
- pipelined: one handshake, the three requests on the wire before the
  first answer, the answers in the order of the requests;
- chunked: the /news answer's chunk boundaries (sizes that add up to the
  body, a last chunk of 0);
- side by side: the comparison note's numbers equal this test's own count,
  with 3/1/1 connections and 6/4/2 round trips;
- the three checkpoints are decided."""
from comparelib import *

need_lab()
events = run_json("http1")
PAGE = ["/index.html", "/style.css", "/logo.png"]


def exchange(program):
    """The way's requests and answers: (packet index, port, message)."""
    reqs, resps = [], []
    for e, sent in way_packets(events, program):
        port = e["tcp"]["sport"] if sent else e["tcp"]["dport"]
        for h in http_msgs(e):
            (reqs if h.get("request") else resps).append((e["i"], port, h))
    return reqs, resps


def syns(program):
    return [e for e, sent in way_packets(events, program)
            if sent and set(e["tcp"]["flags"]) == {"SYN"}]


# HTTP/1.0: a connection per resource.
reqs, resps = exchange("http10")
check([h["target"] for _, _, h in reqs] == PAGE, f"HTTP/1.0 requests: {reqs}")
check(len({p for _, p, _ in reqs}) == 3 and len(syns("http10")) == 3,
      "HTTP/1.0 did not open one connection per request")
check(all(h["version"] == "HTTP/1.0" for _, _, h in reqs + resps) and len(resps) == 3,
      f"HTTP/1.0 answers: {resps}")
for i, port, _ in resps:
    fins = [e for e, sent in way_packets(events, "http10")
            if "FIN" in e["tcp"]["flags"] and port in (e["tcp"]["sport"], e["tcp"]["dport"])]
    check(fins and fins[0]["from"] == "server" and fins[0]["i"] > i,
          f"the server did not end the HTTP/1.0 connection {port} after its answer")
sizes = [h["body_len"] for _, _, h in resps]

# Keep-alive: one connection, one request at a time.
reqs, resps = exchange("keepalive")
check([h["target"] for _, _, h in reqs] == PAGE and len({p for _, p, _ in reqs}) == 1
      and len(syns("keepalive")) == 1, f"keep-alive requests: {reqs}")
check([h["body_len"] for _, _, h in resps] == sizes, f"keep-alive answers: {resps}")
for k in (1, 2):
    check(reqs[k][0] > resps[k - 1][0], f"keep-alive request {k + 1} left before answer {k}")

# Pipelined: all three requests before the first answer, answers in order.
reqs, resps = exchange("pipelined")
check([h["target"] for _, _, h in reqs] == PAGE and len({p for _, p, _ in reqs}) == 1
      and len(syns("pipelined")) == 1, f"pipelined requests: {reqs}")
check(reqs[-1][0] < resps[0][0], "the third pipelined request left after the first answer")
check([h["body_len"] for _, _, h in resps] == sizes, f"pipelined answers out of order: {resps}")

# Chunk boundaries.
news = [h for e in packets(events, **{"from": "server"}) for h in http_msgs(e) if h.get("chunked")]
check(len(news) == 1, f"chunked answers: {news}")
chunks = news[0]["chunks"]
check(len(chunks) >= 3 and chunks[-1] == 0 and sum(chunks) == news[0]["body_len"]
      and news[0]["chunk_count"] == len(chunks), f"the chunks of /news: {news[0]}")

# Side by side.
note = comparison(events, "http1")
check([w["program"] for w in note["ways"]] == ["http10", "keepalive", "pipelined"],
      f"the ways: {note['ways']}")
ways = check_against_run(events, note)
check([ways[p]["connections"] for p in ("http10", "keepalive", "pipelined")] == [3, 1, 1],
      f"connections: {note['ways']}")
check([ways[p]["round_trips"] for p in ("http10", "keepalive", "pipelined")] == [6, 4, 2],
      f"round trips: {note['ways']}")
check(all(ways[p]["requests"] == 3 and ways[p]["answers"] == 3 for p in ways),
      f"requests: {note['ways']}")
check(ways["http10"]["bytes"] > ways["keepalive"]["bytes"],
      "three connections cost no more bytes than one")

for cp in ("closer", "pipeline", "segments"):
    check(decided(events, cp), f"checkpoint {cp} was not decided")
print("ok: connections 3/1/1, round trips 6/4/2, bytes " +
      "/".join(str(ways[p]["bytes"]) for p in ("http10", "keepalive", "pipelined")))
