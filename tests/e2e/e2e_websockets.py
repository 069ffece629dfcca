"""netcourse run websockets --headless --json: the Upgrade request with its
Sec-WebSocket-Key, the 101 with the Sec-WebSocket-Accept that proves it
(computed here again), then text and binary frames both ways (the client's
masked, the server's not, opcode and length decoded), a fragmented message,
ping and pong, and the closing handshake. Every checkpoint's answer is
computed here from the run's own packets."""
import base64
import hashlib

from nctest import *

need_lab()
ev = run_json("websockets")
pk = [e for e in ev if e["type"] == "packet" and not e["dropped"]]
frames = [(p, f) for p in pk for f in msgs(p, "websocket")]

# The handshake: Upgrade, the key, 101 and its proof.
up = [p for p in pk if any(m.get("upgrade") == "websocket" and m.get("request") for m in msgs(p, "http"))]
check(up, "no Upgrade: websocket request on the wire", ev)
req = msgs(up[0], "http")[0]
check(req["method"] == "GET" and req["target"] == "/chat" and req.get("ws_key"),
      f"the upgrade request is {req}", ev)
ok = [p for p in pk if any(m.get("status") == 101 for m in msgs(p, "http"))]
check(ok and ok[0]["from"] == "server" and ok[0]["i"] > up[0]["i"], "no 101 after the upgrade request", ev)
resp = msgs(ok[0], "http")[0]
want = base64.b64encode(hashlib.sha1((req["ws_key"] + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
                                     .encode()).digest()).decode()
check(resp.get("ws_accept") == want, f"Sec-WebSocket-Accept {resp.get('ws_accept')} is not {want}", ev)
for p, what in ((up[0], "Sec-WebSocket-Key"), (ok[0], "Sec-WebSocket-Accept")):
    check(what in p.get("note", ""), f"the note of packet {p['i']} does not explain {what}", ev)
check(all(p["i"] > ok[0]["i"] for p, _ in frames), "a frame came before the 101", ev)

# Frames: opcode, mask and length, both ways.
def ops(side):
    return [f["opcode"] for p, f in frames if p["from"] == side]
for side in ("client", "server"):
    for op in (1, 2, 8):
        check(op in ops(side), f"no frame with opcode {op} from the {side}", ev)
check(9 in ops("client") and 10 in ops("server"), "no ping from the client answered by a pong", ev)
for p, f in frames:
    masked = p["from"] == "client"
    check(f["mask"] == masked and bool(f.get("masking_key")) == masked,
          f"frame in packet {p['i']} from the {p['from']} has mask={f['mask']}", ev)
    check(f["len"] == f["payload_length"] and f["len"] <= 125, f"frame in packet {p['i']}: length", ev)
    check(f"opcode {f['opcode']}" in p.get("note", ""), f"packet {p['i']}'s note does not name the opcode", ev)
text = [f for p, f in frames if f["opcode"] == 1]
check([f["payload"]["text"] for f in text] == ["hello, server"] * 2, "the text did not go out and come back", ev)
frag = [f for p, f in frames if p["from"] == "client" and (f["opcode"] == 2 or f.get("fragment_of") == 2)]
check(len(frag) == 4 and [f["fin"] for f in frag] == [False, False, False, True]
      and sum(f["len"] for f in frag) == 16, "the binary message was not sent in four frames", ev)
back = [(p, f) for p, f in frames if p["from"] == "server" and f["opcode"] == 2]
check(len(back) == 1 and back[0][1]["len"] == 16 and back[0][1]["fin"], "the binary echo is not one frame", ev)
close = [f for p, f in frames if f["opcode"] == 8]
check([f["payload"]["close"]["status_code"] for f in close] == [1000, 1000], "the close codes", ev)

# The checkpoints, decided as the packets say.
check(decided(ev, "upgrade") == "a", "checkpoint upgrade", ev)
stext = [f for p, f in frames if p["from"] == "server" and f["opcode"] == 1][0]
check(decided(ev, "mask") == ("a" if stext["mask"] else "b"), "checkpoint mask", ev)
check(decided(ev, "fragments") == ("a" if back[0][1]["fin"] else "b"), "checkpoint fragments", ev)
fin = [p for p in ev if p["type"] == "packet" and "FIN" in p.get("tcp", {}).get("flags", [])][0]
check(decided(ev, "close") == ("a" if fin["from"] == "server" else "b"), "checkpoint close", ev)
print("ok: the WebSocket handshake and its frames are on the wire and explained")
