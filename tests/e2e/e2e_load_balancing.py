# ctest: timeout=300
"""Lesson 29, layer 4 and layer 7 load balancing, on the fan topology (two
clients, a balancer, three backends), read from the run's own events:

- L4 pins a connection: one choice per client connection, one upstream
  connection for it, every request on it to that one backend, the bytes
  passed unread (the same byte count both ways, no X-Forwarded-For); a
  new connection (client2's) is a new choice, the next backend in turn;
- L7 spreads requests: TLS ends at the balancer (SSL_accept there, the
  client's requests in decrypted Application Data), one choice per
  request, three GETs on one client connection to three backends, each on
  an upstream connection of its own, in plain HTTP, with
  X-Forwarded-For naming the client;
- L7 caches: the first GET /logo is a miss, goes to a backend and is
  stored; the second (client1's) and client2's are hits with no upstream
  request, so a backend hears of /logo once;
- the four checkpoints asked before their target and decided by the run;
- real curl in `netcourse shell load-balancing client1`: two requests on
  one connection through L4 reach one backend, two through L7 over HTTPS
  reach two."""
import shutil

from mblib import *

need_lab()
ev = run_json("load-balancing")
pk = {e["i"]: e for e in ev if e["type"] == "packet"}
C1, C2 = "10.0.1.2", "10.0.2.2"


def conn(a, b):
    return [e for e in ev if e["type"] == "packet" and "tcp" in e
            and {e["tcp"]["sport"], e["tcp"]["dport"]} == {a, b}]


def reqs(a, b):
    return [(p, m) for p in conn(a, b) for m in http_msgs(p) if m.get("request")]


def upstreams(choice):
    return [f for f in apps(ev, call="forward") if f["in_port"] == choice["port"]
            and f["in_peer_port"] == choice["peer_port"] and f["i"] > choice["i"]]


def payload(packets, sender):
    return sum(p["tcp"]["len"] for p in packets if p["from"] == sender)


# L4: one choice per connection, every request to the one backend.
l4 = [c for c in apps(ev, call="choose") if c["port"] == 80]
check(len(l4) == 2, f"the L4 balancer chose {len(l4)} times for two connections", ev)
for c, client, n in zip(l4, ("client1", "client2"), (3, 2)):
    check(c["path"] == "" and pk[c["packet"]]["from"] == client,
          f"L4 decision #{c['i']} is not about {client}'s connection", ev)
    ups = upstreams(c)
    check(len(ups) == 1, f"the L4 balancer opened {len(ups)} upstream connections for one", ev)
    up = ups[0]
    inside = reqs(80, c["peer_port"])
    outside = reqs(up["port"], 8080)
    check(len(inside) == n and len(outside) == n and
          all(p["to"] == c["backend"] for p, _ in outside),
          f"{client}'s {n} requests did not all go to {c['backend']}: "
          f"{[(p['to'], m['target']) for p, m in outside]}", ev)
    a, b = conn(80, c["peer_port"]), conn(up["port"], 8080)
    check(payload(a, client) == payload(b, "balancer") and payload(b, c["backend"]) ==
          payload(a, "balancer"), f"the L4 balancer changed {client}'s bytes", ev)
    check(not apps(ev, call="forwarded", peer_port=up["port"]),
          "the L4 balancer added X-Forwarded-For (it must not read the requests)", ev)
check((l4[0]["index"], l4[1]["index"]) == (1, 2),
      f"client2's new connection did not get the next backend: {[c['index'] for c in l4]}", ev)
print(f"ok: L4 pinned client1 to {l4[0]['backend']} for 3 requests, client2 to "
      f"{l4[1]['backend']} for 2, bytes unread")

# L7: TLS ends here; one choice per request; XFF; plain HTTP behind.
tls_in = apps(ev, call="SSL_accept", host="balancer", port=443)
check(len(tls_in) == 2, f"the balancer ended {len(tls_in)} TLS connections, expected 2", ev)
l7 = [c for c in apps(ev, call="choose") if c["port"] == 443]
check([(c["path"], c["backend"]) for c in l7] ==
      [("/who", "backend1"), ("/who", "backend2"), ("/who", "backend3"), ("/logo", "backend1")],
      f"the L7 balancer chose {[(c['path'], c['backend']) for c in l7]}", ev)
check(len({(c["port"], c["peer_port"]) for c in l7}) == 1,
      "client1's four requests did not come on one TLS connection", ev)
inside = reqs(443, l7[0]["peer_port"])
check([m["target"] for _, m in inside] == ["/who"] * 3 + ["/logo"] * 2 and
      all(m.get("decrypted") for _, m in inside),
      "client1's requests to the L7 balancer are not the five decrypted ones", ev)
ups = [upstreams(c)[:1] for c in l7]
check(all(ups) and len({u[0]["port"] for u in ups}) == 4,
      "the L7 balancer did not open an upstream connection per request", ev)
for c, (u,) in zip(l7, ups):
    out = reqs(u["port"], 8080)
    check([(p["to"], m["target"]) for p, m in out] == [(c["backend"], c["path"])] and
          not any(m.get("decrypted") for _, m in out) and
          not any("tls" in p for p in conn(u["port"], 8080)),
          f"{c['path']} did not reach {c['backend']} in plain HTTP on its own connection", ev)
    xff = apps(ev, call="forwarded", peer_port=u["port"])
    check(len(xff) == 1 and xff[0]["for"] == C1 and xff[0]["host"] == c["backend"],
          f"{c['backend']} did not see client1 in X-Forwarded-For: {xff}", ev)
print("ok: L7 ended TLS, spread client1's GET /who over backend1, 2 and 3, plain HTTP with XFF")

# The cache: one miss, stored, then two hits, one of them client2's.
logo = [c for c in apps(ev, call="cache") if c["path"] == "/logo"]
check([(c["hit"], pk[c["packet"]]["from"]) for c in logo] ==
      [(0, "client1"), (1, "client1"), (1, "client2")],
      f"the cache's answers for /logo: {[(c['hit'], c.get('packet')) for c in logo]}", ev)
store = apps(ev, call="store", path="/logo")
check(len(store) == 1 and store[0]["max_age"] == 60 and logo[0]["i"] < store[0]["i"] < logo[1]["i"],
      "the first /logo answer was not stored between the miss and the first hit", ev)
to_backends = [m for p in ev if p["type"] == "packet" and p.get("from") == "balancer"
               and p.get("to", "").startswith("backend") for m in http_msgs(p)
               if m.get("target") == "/logo"]
check(len(to_backends) == 1, f"the backends were asked for /logo {len(to_backends)} times", ev)
for hit in logo[1:]:
    answers = [m for p in conn(443, hit["peer_port"]) if p["from"] == "balancer"
               for m in http_msgs(p) if m.get("status") == 200 and p["i"] > hit["i"]]
    check(answers, f"the cache hit #{hit['i']} was not answered", ev)
print("ok: the L7 cache: /logo missed once, then answered client1 and client2 itself")

# The checkpoints.
dec = check_checkpoints(ev, {"l4-second": "b", "l7-plain": "b", "l7-spread": "b", "cache": "b"})
t = ev[dec["l7-spread"]["target"]]
check(t["type"] == "packet" and t["to"] == "backend2" and t["i"] < l7[2]["i"],
      "l7-spread was not decided by client1's second request reaching backend2", ev)
t = ev[dec["l4-second"]["target"]]
check(t["from"] == "client1" and t["tcp"]["dport"] == 80 and
      [p["i"] for p, _ in reqs(80, l4[0]["peer_port"])][1] == t["i"],
      "l4-second was not decided on client1's second request to the L4 balancer", ev)

# Real curl in the lab shell.
if shutil.which("curl"):
    cmd = ("curl -s http://$BALANCER/who http://$BALANCER/who; "
           "curl -sk https://$BALANCER/who https://$BALANCER/who")
    typed, sev = shell("load-balancing", "client1", cmd)
    check(len(typed) == 4 and typed[0] == typed[1] and typed[2] != typed[3] and
          all(t.startswith("backend") for t in typed), f"curl printed {typed}", sev)
    spk = {e["i"]: e for e in sev if e["type"] == "packet"}
    # client2's program runs beside the shell: count client1's decisions.
    mine = [c for c in apps(sev, call="choose") if spk.get(c.get("packet"), {}).get("from") == "client1"]
    check([c["port"] for c in mine] == [80, 443, 443],
          f"curl's requests met the decisions {[(c['port'], c['path']) for c in mine]}", sev)
    print(f"ok: curl through L4 reached {typed[0]} twice, through L7 {typed[2]} and {typed[3]}")
else:
    print("note: curl is not installed; the lab shell part was not run")
