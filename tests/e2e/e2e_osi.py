"""netcourse run osi --headless --json: one HTTP request whose packets
carry every layer: link, IP, TCP and HTTP."""
from nctest import *

need_lab()
ev = run_json("osi")
pk = [e for e in ev if e["type"] == "packet"]
check(pk[0]["proto"] == "arp", f"the first packet is {pk[0]['proto']}, not ARP", ev)
http = [e for e in pk if e["proto"] == "http"]
check(len(http) >= 2, "no HTTP request and response", ev)
req = http[0]
for layer in ("eth", "ip", "tcp", "http"):
    check(layer in req, f"the request has no {layer} layer", ev)
check(req["http"]["method"] == "GET" and req["http"]["target"] == "/index.html", "the request is not GET /index.html", ev)
resp = [e for e in http if e["from"] == "server"]
check(resp and resp[0]["http"]["status"] == 200, "no 200 response from the server", ev)
check(req["ip"]["ttl"] == 64, "the client's TTL is not 64", ev)
check(len(marks(ev, event="decided")) >= 2, "fewer than two checkpoints decided", ev)
# Each answer, computed here from the run's packets.
pk = [e for e in ev if e["type"] == "packet" and e.get("ip", {}).get("version") != 6]
check(decided(ev, "first-packet") == {"arp": "c", "http": "a"}.get(pk[0]["proto"], "b"), "checkpoint first-packet", ev)
get = [e for e in pk if e["from"] == "client" and e["proto"] == "http"][0]
resp = [e for e in pk if e["from"] == "server" and e.get("tcp", {}).get("len", 0) > 0][0]
bare = [e for e in pk if e["from"] == "server" and get["i"] < e["i"] < resp["i"] and e.get("tcp", {}).get("len") == 0
        and set(e["tcp"]["flags"]) == {"ACK"}]
check(decided(ev, "ack") == ("a" if bare else "b"), "checkpoint ack", ev)
fin = [e for e in pk if "FIN" in e.get("tcp", {}).get("flags", [])][0]
check(decided(ev, "closer") == ("b" if fin["from"] == "server" else "a"), "checkpoint closer", ev)
# Item 3: the close() row that would give the answer away comes after the question.
asked = marks(ev, checkpoint="closer", event="asked")[0]
first_close = [e for e in ev if e["type"] == "app" and e.get("call") == "close"][0]
check(asked["i"] < first_close["i"], "the close() row was shown before the question about the first FIN", ev)
print("ok: osi run shows every layer")
