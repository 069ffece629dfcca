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
print("ok: osi run shows every layer")
