# ctest: timeout=300
"""Lesson 8, multiplexing and demultiplexing, run headless with --json,
read from the run's own events (the catalogue's "must make visible"):

- six lanes with queued requests: the HTTP/1.1 pool opens six connections
  (six SYNs from six ports), carries the twenty requests one at a time per
  connection (no connection has a second request before its answer), and
  the requests after the sixth waited in the queue (queued_ms > 0) for a
  connection whose previous answer had just come;
- interleaved stream ids on one connection: the HTTP/2 client opens one
  connection and sends twenty HEADERS on streams 1, 3, ... 39 in one
  packet, and the server's DATA frames of different streams share it;
- completion time of each: the comparison's numbers equal this test's own
  count (comparelib): 6 connections against 1, 20 requests and answers
  each;
- both checkpoints are asked before their target and decided by it."""
from comparelib import *

need_lab()
events = run_json("multiplexing")


def frames(e):
    v = e.get("http2")
    return [] if v is None else v if isinstance(v, list) else [v]


# The pool: six connections, a queue.
writes = [e for e in events if e["type"] == "app" and e.get("program") == "pool"
          and e["call"] == "write"]
check([e["resource"] for e in writes] == list(range(1, 21)),
      f"the pool's requests: {[e.get('resource') for e in writes]}", events)
ports = {e["slot"]: e["port"] for e in writes}
check(sorted(ports) == [1, 2, 3, 4, 5, 6] and len(set(ports.values())) == 6,
      f"the pool's connections: {ports}", events)
for e in writes:
    check(ports[e["slot"]] == e["port"], f"request {e['resource']} changed connection")
check(all(e["queued_ms"] == 0 for e in writes[:6]), "the first six requests waited", events)
check(all(e["queued_ms"] > 0 for e in writes[6:]), "a queued request did not wait", events)
syns = [e for e in events if e["type"] == "packet" and e["from"] == "client" and "tcp" in e
        and e["tcp"]["dport"] == 8081 and set(e["tcp"]["flags"]) == {"SYN"}]
check(len({e["tcp"]["sport"] for e in syns}) == 6, f"{len(syns)} SYNs to port 8081", events)
# One request at a time on a connection: each request after the sixth
# leaves after an answer on its own connection, and only one request per
# answer.
for e in writes[6:]:
    port = e["port"]
    answers = [p for p in events[:e["i"]] if p["type"] == "packet" and p["from"] == "server"
               and "tcp" in p and p["tcp"]["dport"] == port
               and any("status" in h for h in http_msgs(p))]
    sent = [w for w in writes if w["port"] == port and w["i"] < e["i"]]
    check(len(answers) == len(sent), f"request {e['resource']} left on connection {e['slot']} "
                                     f"with {len(sent)} requests and {len(answers)} answers before it")
print(f"ok: pool: 6 connections, 20 requests, {len(writes) - 6} queued "
      f"(up to {max(e['queued_ms'] for e in writes)} ms)")

# HTTP/2: one connection, twenty streams in one packet, interleaved answers.
mux = [e for e in events if e["type"] == "app" and e.get("program") == "mux" and e.get("port")]
mport = mux[0]["port"]
check(all(e["port"] == mport for e in mux), "the HTTP/2 client used more than one connection")
mp = [e for e in events if e["type"] == "packet" and "tcp" in e and mport in
      (e["tcp"]["sport"], e["tcp"]["dport"])]
reqs = [e for e in mp if e["from"] == "client" and any(f.get("type") == 1 for f in frames(e))]
check(len(reqs) == 1, f"the twenty requests left in {len(reqs)} packets", events)
ids = [f["streamid"] for f in frames(reqs[0]) if f.get("type") == 1]
check(ids == list(range(1, 40, 2)), f"stream ids {ids}", events)
data = [f["streamid"] for e in mp if e["from"] == "server" for f in frames(e)
        if f.get("type") == 0 and not f.get("other_direction")]
check(sorted(set(data)) == ids, f"DATA came on streams {sorted(set(data))}", events)
# The answers interleave: the server's frames switch from stream to stream
# before stream 1 has ended (its HEADERS, other streams' HEADERS, then DATA).
seq = [(f["type"], f["streamid"]) for e in mp if e["from"] == "server" for f in frames(e)
       if f.get("type") in (0, 1) and not f.get("other_direction")]
end1 = seq.index((0, 1))
check(len({sid for _, sid in seq[:end1]}) > 1,
      f"stream 1's answer ended before any other stream's frame: {seq[:4]}", events)
print(f"ok: HTTP/2: one connection, streams 1..39 in one packet; {len({sid for _, sid in seq[:end1]})} "
      f"streams' frames before stream 1's DATA")

# Checkpoints.
m = {(e["checkpoint"], e["event"]): e for e in events if e["type"] == "mark" and "checkpoint" in e}
for cp in ("seventh", "streamids"):
    asked, dec = m.get((cp, "asked")), m.get((cp, "decided"))
    check(asked and dec, f"checkpoint {cp} was not asked and decided: {sorted(m)}", events)
    check(asked["i"] < dec["target"] <= dec["by"] < dec["i"],
          f"checkpoint {cp}: asked at {asked['i']}, target {dec['target']}, decided at {dec['i']}")
    check(dec["answer"] == "a", f"checkpoint {cp} decided {dec['answer']}", events)
check(events[m[("seventh", "decided")]["target"]]["resource"] == 7, "seventh's target")
check(events[m[("streamids", "decided")]["target"]]["i"] == reqs[0]["i"], "streamids' target")
print("ok: two checkpoints asked, then decided by the run")

# The comparison.
note = comparison(events, "page")
ways = check_against_run(events, note)
h1, h2 = ways["pool"], ways["mux"]
check(h1["connections"] == 6 and h2["connections"] == 1,
      f"connections {h1['connections']} and {h2['connections']}")
check(h1["requests"] == h1["answers"] == h2["requests"] == h2["answers"] == 20,
      f"requests and answers {h1['requests']}/{h1['answers']}, {h2['requests']}/{h2['answers']}")
check(h1["round_trips"] > h2["round_trips"],
      f"round trips {h1['round_trips']} and {h2['round_trips']}")
print(f"ok: comparison: pool {h1['connections']} connections {h1['round_trips']} round trips "
      f"{h1['time_ms']} ms; HTTP/2 1 connection {h2['round_trips']} round trips {h2['time_ms']} ms")
