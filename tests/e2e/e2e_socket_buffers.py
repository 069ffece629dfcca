"""netcourse run socket-buffers --headless --json: the slow reader's receive
queue rises, a window of 0 is advertised on the wire, the sender probes it,
the sender's send queue is full while write() fails with EAGAIN, and the
transfer recovers and completes."""
from nctest import *

need_lab()
ev = run_json("socket-buffers")
srv = [e for e in states(ev, prefix="server:7000->client:") if e["state"] != "CLOSED"]
cli = [e for e in states(ev, prefix="client:") if e["state"] != "CLOSED" and "->server:7000" in e["socket"]]
check(srv and cli, "no state events for the connection's two sockets", ev)

# recv_q rises while nobody reads.
first_read = apps(ev, host="server", call="read")[0]
before = [e["recv_q"] for e in srv if e["i"] < first_read["i"]]
check(len(before) >= 2 and max(before) > min(before) and max(before) >= 2000,
      f"recv_q did not rise before the first read(): {before}", ev)

# Window 0 on the wire, and probes.
zero = [e for e in ev if e["type"] == "packet" and e["from"] == "server" and e.get("tcp", {}).get("win") == 0]
check(zero, "the server never advertised a window of 0", ev)
check(all(e["tcp"].get("zero_window") for e in zero), "a window-0 packet is not flagged zero_window", ev)
probes = [e for e in ev if e["type"] == "packet" and e["from"] == "client" and e.get("tcp", {}).get("window_probe")]
check(probes, "no zero-window probes from the client", ev)
check(probes[0]["i"] > zero[0]["i"], "a probe came before the window closed", ev)

# The sender's send queue is full and its write() blocked.
blocked = apps(ev, host="client", call="write", errno="EAGAIN")
check(blocked and all(b.get("blocked") is True for b in blocked), "no write() blocked with EAGAIN", ev)
stall = [e for e in cli if zero[0]["i"] < e["i"] < first_read["i"]]
check(stall and max(e["send_q"] for e in stall) >= 4000,
      f"the client's send_q was not full during the stall: {[e['send_q'] for e in stall]}", ev)
check(any(e["snd_wnd"] == 0 for e in cli), "the client's socket never saw snd_wnd 0", ev)

# Recovery: the window opens again, the writes resume and all bytes arrive.
opened = [e for e in ev if e["type"] == "packet" and e["from"] == "server" and e["i"] > zero[-1]["i"]
          and e["tcp"]["win"] > 0]
check(opened, "the window never opened again", ev)
resumed = [w for w in apps(ev, host="client", call="write") if w["i"] > first_read["i"] and w["bytes"] > 0]
check(resumed, "the client's writes did not resume", ev)
reads = [e for e in apps(ev, host="server", call="read") if e.get("total")]
check(reads and reads[-1]["total"] == 48 * 1024, "the server did not read all 48 KiB", ev)
# Each answer, computed here from the run's events: did a write() succeed
# between the zero window and the next EAGAIN, and did the probe carry data?
nxt = [w for w in apps(ev, host="client", call="write") if w["i"] > zero[0]["i"]]
upto = next((k for k, w in enumerate(nxt) if w.get("errno") == "EAGAIN"), len(nxt))
check(decided(ev, "write0") == ("a" if any(w["bytes"] > 0 for w in nxt[:upto]) else "b"), "checkpoint write0", ev)
check(decided(ev, "probe") == ("a" if probes[0]["tcp"]["len"] > 0 else "b"), "checkpoint probe", ev)
print("ok: recv_q rose, window 0, probes, send_q full + EAGAIN, recovered")
