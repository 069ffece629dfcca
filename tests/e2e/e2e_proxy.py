# ctest: timeout=300
"""Lesson 28, proxy and reverse proxy, on the chain topology (client ~
middle ~ server), read from the run's own events:

- who knows whose address: every packet on the client-middle link is
  between the client and middle, every packet on the middle-server link
  between middle and the server; the servers accept connections from
  middle, and only the reverse proxy's requests tell them the client's
  address (X-Forwarded-For, a forwarded app event);
- the two TCP connections of each proxied request, one handshake each,
  the box's decision (choose, tunnel) linked to the packet that brought
  the request in and its upstream connection (forward) to that
  connection's SYN-ACK;
- the forward proxy: an absolute URI in, the origin form out; CONNECT,
  the 200, then a greeting of a non-HTTP service passed through unread
  (the same bytes on both links, no decision about them);
- the reverse proxy: one client connection, two requests, each to the
  server its path prefix names, on a connection of its own;
- the four checkpoints asked before their target and decided by the run;
- the page's `netcourse shell proxy client` commands: real curl through
  both proxies (-x, -p -x, and the reverse proxy by its address)."""
import shutil

from mblib import *

need_lab()
events = run_json("proxy")
ev = events
pk = {e["i"]: e for e in ev if e["type"] == "packet"}
CLIENT, MIDDLE_IN, MIDDLE_OUT, SERVER = "10.0.1.2", "10.0.1.1", "10.0.2.1", "10.0.2.2"


def tcp(e):
    return e["type"] == "packet" and "tcp" in e


def conn(a, b):
    """TCP packets between ports a and b (either way)."""
    return [e for e in ev if tcp(e) and {e["tcp"]["sport"], e["tcp"]["dport"]} == {a, b}]


def requests_on(a, b):
    return [m for p in conn(a, b) for m in http_msgs(p) if m.get("request")]


def one_handshake(a, b, link):
    syn = [p for p in conn(a, b) if p["tcp"]["flags"] == ["SYN"]]
    check(len(syn) == 1, f"the connection {a}-{b} has {len(syn)} SYNs, not one handshake", ev)
    check(all(p["wire"]["link"] == link for p in conn(a, b)),
          f"the connection {a}-{b} is not all on the {link} link", ev)


def upstream(choice):
    """The forward event of the upstream connection a decision opened."""
    out = [f for f in apps(ev, call="forward") if f["in_port"] == choice["port"]
           and f["in_peer_port"] == choice["peer_port"] and f["i"] > choice["i"]]
    check(out, f"decision #{choice['i']} opened no upstream connection", ev)
    return out[0]


def linked_in(e):
    """The decision is linked to a packet of the client's connection, into
    the box."""
    p = pk.get(e.get("packet"))
    check(p and p["tcp"]["sport"] == e["peer_port"] and p["tcp"]["dport"] == e["port"],
          f"{e['call']} #{e['i']} is not linked to a packet of its connection", ev)
    return p


# Who knows whose address: the links carry only their two ends.
for e in ev:
    if e["type"] != "packet" or "ip" not in e:
        continue
    ends = {e["ip"]["src"], e["ip"]["dst"]}
    want = {"client-middle": {CLIENT, MIDDLE_IN}, "middle-server": {MIDDLE_OUT, SERVER}}
    check(ends == want[e["wire"]["link"]], f"packet {e['i']} on {e['wire']['link']} is "
          f"between {sorted(ends)}", ev)
accepts = apps(ev, call="accept", host="server")
check(len(accepts) == 4 and all(a["peer"].startswith("middle:") for a in accepts),
      f"the servers accepted {[a['peer'] for a in accepts]}, expected four from middle", ev)
check({p["ip"]["dst"] for p in ev if tcp(p) and p["from"] == "client"} == {MIDDLE_IN},
      "the client connected somewhere other than middle", ev)
print("ok: each link carries only its two ends; the servers see middle, the client sees middle")

# Forward proxy, absolute URI: one decision, two connections, origin form out.
fwd = apps(ev, call="choose", policy="forward proxy")
check(len(fwd) == 1 and (fwd[0]["backend"], fwd[0]["backend_port"], fwd[0]["path"]) ==
      ("server", 8081, "/who"), "the forward proxy did not go where the URI says", ev)
up = upstream(fwd[0])
inreq, outreq = requests_on(3128, fwd[0]["peer_port"]), requests_on(up["port"], 8081)
check([m["target"] for m in inreq] == ["http://server:8081/who"],
      f"the request into the proxy was {[m['target'] for m in inreq]}", ev)
check([m["target"] for m in outreq] == ["/who"],
      f"the request out of the proxy was {[m['target'] for m in outreq]}", ev)
check(linked_in(fwd[0]) and any(m.get("target") == "http://server:8081/who"
                                for m in http_msgs(pk[fwd[0]["packet"]])),
      "the forward proxy's decision is not linked to the request it decided on", ev)
check(sorted(pk[up["packet"]]["tcp"]["flags"]) == ["ACK", "SYN"],
      "the upstream connection is not linked to its SYN-ACK", ev)
one_handshake(3128, fwd[0]["peer_port"], "client-middle")
one_handshake(up["port"], 8081, "middle-server")
check(not apps(ev, call="forwarded", peer_port=up["port"]),
      "the forward proxy told the server the client's address", ev)
print("ok: forward proxy: GET http://server:8081/who in, GET /who out, two connections")

# CONNECT: a tunnel, its 200, then bytes passed unread, both ways.
tun = apps(ev, call="tunnel")
check(len(tun) == 1 and (tun[0]["target"], tun[0]["target_port"]) == ("server", 7000),
      f"the tunnel decisions were {tun}", ev)
linked_in(tun[0])
tup = upstream(tun[0])
cport = tun[0]["peer_port"]
connect = [m for m in requests_on(3128, cport)]
check([m["method"] for m in connect] == ["CONNECT"] and connect[0]["target"] == "server:7000",
      f"the client's requests on the tunnel connection: {connect}", ev)
ok200 = [m for p in conn(3128, cport) for m in http_msgs(p) if m.get("status")]
check([m["status"] for m in ok200] == [200], f"the proxy answered CONNECT {ok200}", ev)
one_handshake(3128, cport, "client-middle")
one_handshake(tup["port"], 7000, "middle-server")
into = [p["tcp"]["len"] for p in conn(3128, cport) if p["from"] == "client" and p["tcp"]["len"]]
out = [p["tcp"]["len"] for p in conn(tup["port"], 7000) if p["from"] == "middle" and p["tcp"]["len"]]
check(sum(into[1:]) == sum(out) == 22, f"the tunnel changed the client's 22 bytes: {into[1:]} in, "
      f"{out} out", ev)
back = [p["tcp"]["len"] for p in conn(tup["port"], 7000) if p["from"] == "server" and p["tcp"]["len"]]
down = [p["tcp"]["len"] for p in conn(3128, cport) if p["from"] == "middle" and p["tcp"]["len"]]
check(sum(back) == 23 and sum(down) == 39 + sum(back), f"the answer came back changed: {back} "
      f"from the service, {down} to the client (39 of them the tunnel's 200)", ev)
check(not [c for c in apps(ev, call="choose") if c["peer_port"] == cport],
      "the proxy made a decision about bytes inside the tunnel", ev)
svc = apps(ev, program="service", call="accept")
check(len(svc) == 1 and svc[0]["peer"] == f"middle:{tup['port']}",
      f"the service accepted {svc}, not the proxy's half of the tunnel", ev)
print(f"ok: CONNECT server:7000, 200, then {sum(out)} bytes in and {sum(back)} back, unread")

# Reverse proxy: by path, a connection of its own per request, XFF.
rev = apps(ev, call="choose", policy="reverse proxy")
check([(c["path"], c["backend_port"]) for c in rev] == [("/shop/cart", 8081), ("/blog/today", 8082)],
      f"the reverse proxy chose {[(c['path'], c['backend_port']) for c in rev]}", ev)
check(len({(c["port"], c["peer_port"]) for c in rev}) == 1 and rev[0]["port"] == 80,
      "the two requests did not arrive on one client connection to port 80", ev)
ups = [upstream(c) for c in rev]
check(len({u["port"] for u in ups}) == 2, "the reverse proxy reused an upstream connection", ev)
one_handshake(80, rev[0]["peer_port"], "client-middle")
for c, u in zip(rev, ups):
    linked_in(c)
    one_handshake(u["port"], c["backend_port"], "middle-server")
    check([m["target"] for m in requests_on(u["port"], c["backend_port"])] == [c["path"]],
          f"{c['path']} did not go out on its own connection", ev)
    xff = apps(ev, call="forwarded", peer_port=u["port"])
    check(len(xff) == 1 and xff[0]["for"] == CLIENT and xff[0]["peer"] == f"middle:{u['port']}",
          f"the server behind the reverse proxy did not see the client in X-Forwarded-For: {xff}",
          ev)
print("ok: reverse proxy: /shop/cart to web1 and /blog/today to web2, each with X-Forwarded-For")

# The checkpoints.
dec = check_checkpoints(ev, {"origin-form": "a", "tunnel-source": "b", "tunnel-blind": "b",
                             "who-asked": "a"})
t = events[dec["tunnel-source"]["target"]]
check(t["tcp"]["flags"] == ["SYN"] and t["ip"]["src"] == MIDDLE_OUT and t["tcp"]["dport"] == 7000,
      "tunnel-source was not decided by the tunnel's SYN from middle", ev)
t = events[dec["origin-form"]["target"]]
check([m.get("target") for m in http_msgs(t)] == ["/who"] and t["from"] == "middle",
      "origin-form was not decided by the proxy's request to the server", ev)

# The page's commands: real curl in the lab shell.
if shutil.which("curl"):
    cmd = ("curl -s -x http://$MIDDLE:3128 http://$SERVER:8082/who; "
           "curl -s -p -x http://$MIDDLE:3128 http://$SERVER:8081/who; "
           "curl -s http://$MIDDLE/blog/x")
    typed, sev = shell("proxy", "client", cmd)
    check(typed == ["web2 here", "web1 here", "web2 serves the blog"], f"curl printed {typed}", sev)
    check(len(apps(sev, call="tunnel")) == 1 and
          [c["policy"] for c in apps(sev, call="choose")] == ["forward proxy", "reverse proxy"],
          "curl's requests did not meet the proxies' decisions", sev)
    print("ok: curl -x, curl -p -x and curl to the reverse proxy in `netcourse shell proxy client`")
else:
    print("note: curl is not installed; the lab shell part was not run")
