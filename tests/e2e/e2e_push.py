"""netcourse run push --headless --json: a subscriber holds a WebSocket
open and the server pushes "user logged in" notifications to it. Each
notification is a server frame with nothing from the subscriber on its
connection since the 101 (no request before it); logins come over
connections of their own; Bob's login, while the subscriber is away,
reaches nobody. The checkpoints' answers are computed from the packets."""
from nctest import *

need_lab()
ev = run_json("push")
pk = [e for e in ev if e["type"] == "packet" and "tcp" in e and not e["dropped"]]


def conn(p):
    t = p["tcp"]
    return frozenset({t["sport"], t["dport"]})


pushes = [p for p in pk if p["from"] == "server" and any(f["opcode"] == 1 for f in msgs(p, "websocket"))]
texts = [f["payload"]["text"] for p in pushes for f in msgs(p, "websocket")]
check(texts == ["alice logged in", "carol logged in"], f"the subscriber was told {texts}", ev)
for p in pushes:
    ok = [q for q in pk if conn(q) == conn(p) and any(m.get("status") == 101 for m in msgs(q, "http"))]
    check(ok and ok[-1]["i"] < p["i"], f"push {p['i']} is not on an upgraded connection", ev)
    asked = [q for q in pk if conn(q) == conn(p) and q["from"] == "client" and ok[-1]["i"] < q["i"] < p["i"]
             and q["tcp"]["len"] > 0]
    check(not asked, f"the subscriber sent {len(asked)} segments with data before push {p['i']}", ev)
    check("nobody asked for" in p.get("note", "") and "opcode 1" in p.get("note", ""),
          f"push {p['i']} is not explained", ev)
    logins = [q for q in pk if any(m.get("target") == "/login" for m in msgs(q, "http")) and q["i"] < p["i"]]
    check(logins and conn(logins[-1]) != conn(p), "the login did not come over a connection of its own", ev)
# The server spoke first: the notification is a frame, with no HTTP head.
check(all(p["tcp"]["len"] == 2 + len(f["payload"]["text"]) for p in pushes for f in msgs(p, "websocket")),
      "a notification is more than a 2-byte frame header and its text", ev)
nobody = apps(ev, host="server", call="push")
check(len(nobody) == 1 and "bob" in nobody[0]["text"], "Bob's login was not reported as reaching nobody", ev)

check(decided(ev, "cost") == {17: "a", 21: "b"}.get(pushes[0]["tcp"]["len"], "c"), "checkpoint cost", ev)
check(decided(ev, "missed") == ("b" if any("bob" in t for t in texts) else "a"), "checkpoint missed", ev)
print("ok: the server pushes frames nobody asked for")
