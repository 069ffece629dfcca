# ctest: timeout=300
"""The kit's middleboxes from program blocks (tests/e2e/lessons/middle.md and
broker.md, run through `netcourse --lessons DIR`), checked from the run's
JSON events: the two TCP connections of a proxied request (in and out, each
on the wire and linked from the box's decision), the X-Forwarded-For the
backend sees, each decision linked to the packet it decided on, the L4
balancer pinning one connection to one backend while
the L7 balancer spreads requests and answers a cache hit with no upstream
request, a retrying proxy that makes duplicate rows without an
Idempotency-Key and none with one; and the broker's fan-out, a message held
for a subscriber that was away, and a redelivery after a missing ack and after an ack lost with its
connection."""
import json
import os
import tempfile

from nctest import *

need_lab()
LESSONS = os.path.join(os.environ["NC_SOURCE_DIR"], "tests", "e2e", "lessons")


def run_lesson(lesson):
    rc, out, err = run(["--lessons", LESSONS, "run", lesson, "--headless", "--json"],
                       data_dir=tempfile.mkdtemp(prefix="nc-e2e-"))
    check(rc == 0, f"`netcourse --lessons DIR run {lesson}` exited {rc}: {err.strip()}")
    return [json.loads(line) for line in out.splitlines()]


def conn_packets(ev, a, b):
    """TCP packets between ports a and b (either way)."""
    return [e for e in ev if e["type"] == "packet" and "tcp" in e
            and {e["tcp"]["sport"], e["tcp"]["dport"]} == {a, b}]


def requests_on(ev, a, b):
    return [m for p in conn_packets(ev, a, b) for m in http_msgs(p) if m.get("request")]


def upstreams(ev, choose):
    """The box's forward events for the client connection a choose is on."""
    return [f for f in apps(ev, call="forward") if f["in_port"] == choose["port"]
            and f["in_peer_port"] == choose["peer_port"] and f["i"] > choose["i"]]


ev = run_lesson("middle")

# Forward proxy: an absolute URI in, the origin form out, on two connections.
fwd = [c for c in apps(ev, call="choose") if c["port"] == 3128]
check(len(fwd) == 1 and fwd[0]["backend"] == "server" and fwd[0]["backend_port"] == 8081,
      "the forward proxy did not choose the host the URI names", ev)
out = upstreams(ev, fwd[0])
check(len(out) == 1, "the forward proxy's request did not go out on a connection of its own", ev)
inreq = requests_on(ev, 3128, fwd[0]["peer_port"])
outreq = requests_on(ev, out[0]["port"], 8081)
check([m["target"] for m in inreq] == ["http://server:8081/who"],
      f"the request into the proxy was {[m['target'] for m in inreq]}", ev)
check([m["target"] for m in outreq] == ["/who"],
      f"the request out of the proxy was {[m['target'] for m in outreq]}", ev)
for (a, b), link in (((3128, fwd[0]["peer_port"]), "client-middle"),
                     ((out[0]["port"], 8081), "middle-server")):
    syn = [p for p in conn_packets(ev, a, b) if p["tcp"]["flags"] == ["SYN"]]
    check(len(syn) == 1, f"the connection {a}-{b} has {len(syn)} SYNs, not one handshake", ev)
    check({p["wire"]["link"] for p in conn_packets(ev, a, b)} == {link},
          f"the connection {a}-{b} is not on the {link} link alone", ev)

# The ladder's links: a decision to the packet that brought the request (in
# on its own connection), the upstream connection to its SYN-ACK. (A link
# is made when its packet is in the timeline in time: every link there is
# must be right, and each kind must have some.)
pk = {e["i"]: e for e in ev if e["type"] == "packet"}
for call in ("choose", "cache", "forwarded", "row", "duplicate", "forward"):
    linked = [e for e in apps(ev, call=call) if "packet" in e]
    check(linked, f"no {call} event is linked to a packet", ev)
    for e in linked:
        p = pk[e["packet"]]
        check(p["tcp"]["sport"] == e["peer_port"] and p["tcp"]["dport"] == e["port"],
              f"{call} #{e['i']} links to packet {p['i']} of another connection", ev)
        if call == "forward":
            check(sorted(p["tcp"]["flags"]) == ["ACK", "SYN"], f"forward #{e['i']} is not linked to "
                  "its upstream connection's SYN-ACK", ev)
        elif call in ("choose", "cache") and e["path"] and e["port"] != 8004:
            check(e["path"] in [m.get("target") for m in http_msgs(p)] or
                  any(m.get("target", "").endswith(e["path"]) for m in http_msgs(p)),
                  f"{call} #{e['i']} for {e['path']} links to packet {p['i']}, not its request", ev)

# Reverse proxy: by path, to two servers; each backend sees who asked.
rev = [c for c in apps(ev, call="choose") if c["port"] == 8000]
check([(c["path"], c["backend_port"]) for c in rev] == [("/a/x", 8081), ("/b/y", 8082)],
      f"the reverse proxy chose {[(c['path'], c['backend_port']) for c in rev]}", ev)
xff = [f for f in apps(ev, call="forwarded") if f["port"] in (8081, 8082)]
check(xff and all(f["for"] == "10.0.1.2" and f["peer"].startswith("middle:") for f in xff),
      "a backend did not see the client in X-Forwarded-For behind the proxy's address", ev)
check(not [f for f in apps(ev, call="forwarded") if f["port"] == 8081
           and f["peer_port"] == out[0]["port"]],
      "the forward proxy added X-Forwarded-For (only the reverse side does)", ev)

# L4: one connection, one backend, three requests on one upstream connection.
l4 = [c for c in apps(ev, call="choose") if c["port"] == 8004]
check(len(l4) == 1 and l4[0]["path"] == "", f"the L4 balancer chose {len(l4)} times", ev)
up4 = upstreams(ev, l4[0])
check(len(up4) == 1, "the L4 balancer opened more than one upstream connection", ev)
check(len(requests_on(ev, up4[0]["port"], l4[0]["backend_port"])) == 3,
      "the three requests did not all go to the one pinned backend connection", ev)
check(not apps(ev, call="forwarded", port=l4[0]["backend_port"], peer_port=up4[0]["port"]),
      "the L4 balancer changed the requests (it must not read them)", ev)

# L7: per request, round robin, and a cache hit answered with no upstream.
l7 = [c for c in apps(ev, call="choose") if c["port"] == 8007]
check([(c["path"], c["index"]) for c in l7] == [("/who", 1), ("/who", 2), ("/who", 1), ("/cached", 2)],
      f"the L7 balancer chose {[(c['path'], c['index']) for c in l7]}", ev)
check(len({f["port"] for c in l7 for f in upstreams(ev, c)}) == 4,
      "the L7 balancer did not open an upstream connection per request", ev)
cache = [c for c in apps(ev, call="cache") if c["path"] == "/cached"]
check([c["hit"] for c in cache] == [0, 1], f"the cache said {[c['hit'] for c in cache]}", ev)
hit = cache[1]
check(not [f for f in apps(ev, call="forward") if f["i"] > hit["i"] and f.get("path") == "/cached"],
      "the cache hit still went upstream", ev)
check(len([m for p in ev if p["type"] == "packet" and p.get("to") in ("middle", "server")
           for m in http_msgs(p) if m.get("target") == "/cached"]) == 3,
      "GET /cached was not asked twice by the client and once by the balancer", ev)

# Retrying proxy: no key, a row per try; with a key, one row and a duplicate.
rows = apps(ev, call="row")
nokey = [r for r in rows if r["key"] == ""]
keyed = [r for r in rows if r["key"] == "k-42"]
check(len(nokey) == 3, f"without a key the retries made {len(nokey)} rows, expected 3", ev)
check(len(keyed) == 1, f"with a key the server made {len(keyed)} rows, expected 1", ev)
dup = apps(ev, call="duplicate", key="k-42")
check(len(dup) == 1 and dup[0]["row"] == keyed[0]["row"], "the keyed retry was not deduplicated", ev)
retries = apps(ev, call="retry")
check(len(retries) == 3 and [r["attempt"] for r in retries] == [2, 3, 2],
      f"the proxy retried {[r['attempt'] for r in retries]}", ev)
check(all(r["port"] == 8090 for r in retries), "a retry is not reported on the client's connection", ev)
resets = [e for e in ev if e["type"] == "packet" and e.get("from") == "middle" and "tcp" in e
          and "RST" in e["tcp"]["flags"] and e["tcp"]["dport"] == 8083]
check(len(resets) >= 3, "the abandoned attempts were not reset", ev)

# The broker.
ev = run_lesson("broker")
pub = apps(ev, call="publish")
check([(p["id"], p["subscribers"]) for p in pub] == [(1, 4), (2, 4)],
      f"the publishes were {[(p['id'], p['subscribers']) for p in pub]}", ev)
first = {(d["to"], d["held"]) for d in apps(ev, call="deliver", id=1)}
check(first == {("format", 0), ("compress", 0), ("archive", 0), ("notify", 1)},
      f"message 1 was delivered as {sorted(first)}", ev)
held = apps(ev, call="hold")
check({(1, "notify"), (2, "notify")} <= {(h["id"], h["to"]) for h in held},
      "the broker did not hold both messages for the subscriber that was away", ev)
back = [s for s in apps(ev, call="subscribe", name="notify") if s["waiting"] == 2]
check(back, "notify's return did not find its two messages waiting", ev)
late = [d for d in apps(ev, call="deliver", to="notify") if d["held"] == 1]
check([d["id"] for d in late] == [1, 2] and all(d["i"] > back[0]["i"] and d["i"] > h["i"]
                                                  for d in late for h in held),
      "the held messages were not delivered on the subscriber's return, in order", ev)
red = apps(ev, call="redeliver", id=1, to="compress")
# (At least once: a slow ACK may meet a second redelivery.)
check(red, "message 1 was not sent to compress again", ev)
mine = red[0]["peer_port"] # compress's port
noack = apps(ev, call="noack", id=1, port=mine)
again = apps(ev, call="message", id=1, again=1, port=mine)
acks = apps(ev, call="ack", id=1, **{"from": "compress"})
check(len(noack) == 1 and again and len(acks) == 1,
      "no redelivery of message 1 after compress's missing ack", ev)
check(noack[0]["i"] < red[0]["i"] < again[0]["i"] < acks[0]["i"],
      "the redelivery did not come after the missing ack and before the ack", ev)
check(red[0]["port"] == 5000, "the redelivery is not reported on the broker's side", ev)
# archive's ACK is lost with its connection: on its return, message 1 is
# sent again on the new connection, and acknowledged there.
first1 = apps(ev, call="deliver", id=1, to="archive")
back = [s for s in apps(ev, call="subscribe", name="archive") if s["waiting"] >= 1]
red = apps(ev, call="redeliver", id=1, to="archive")
check(len(first1) == 1 and len(back) == 1 and red and red[0]["tries"] == 2,
      "archive's unacknowledged message 1 was not sent again when it came back", ev)
check(first1[0]["peer_port"] != red[0]["peer_port"] == back[0]["peer_port"]
      and back[0]["i"] < red[0]["i"], "the redelivery was not on archive's new connection", ev)
check(apps(ev, call="ack", id=1, peer_port=red[0]["peer_port"]),
      "archive did not acknowledge the redelivered message", ev)
print("ok: proxies, balancers, a cache, retries with and without a key, and a broker")
