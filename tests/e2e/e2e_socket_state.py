"""The kernel state a run reports is true to the end, and says one thing.
  tcp             the client closes first: after the final ACK its socket is
                  reported in TIME_WAIT (with no queues left), the server's
                  as CLOSED; no socket is left in LAST_ACK, FIN_WAIT1,
                  FIN_WAIT2 or CLOSE_WAIT at the end of the run.
  every lesson    no socket ends the run half-closed; a connection's events
  with TCP        carry the buffer limits (rcvbuf, sndbuf) from the kernel.
  accept-queue    a listener's line states the numbers of its fields: the
                  accept queue (ss Recv-Q), the backlog (ss Send-Q) and the
                  limit, backlog + 1."""
import re

from nctest import *

need_lab()

HALF_CLOSED = {"LAST_ACK", "FIN_WAIT1", "FIN_WAIT2", "CLOSE_WAIT", "CLOSING"}


def last_states(ev):
    last = {}
    for e in states(ev):
        if "socket" in e:
            last[e["socket"]] = e
    return last


def no_half_closed(lesson, ev):
    last = last_states(ev)
    stale = {s: e["state"] for s, e in last.items() if e["state"] in HALF_CLOSED}
    check(not stale, f"{lesson}: sockets still half-closed at the end of the run: {stale}", ev)
    conns = [e for e in states(ev) if "->" in e.get("socket", "") and "recv_q" in e]
    check(conns, f"{lesson}: no connection state at all", ev)
    check(all(e.get("rcvbuf", 0) > 0 and e.get("sndbuf", 0) > 0 for e in conns),
          f"{lesson}: a connection's state has no buffer limits", ev)


ev = run_json("tcp")
no_half_closed("tcp", ev)
last = last_states(ev)
client = [s for s in last if s.startswith("client:") and "->server:7000" in s]
server = [s for s in last if s.startswith("server:7000->")]
check(len(client) == 1 and len(server) == 1, f"tcp: sockets {sorted(last)}", ev)
tw = last[client[0]]
check(tw["state"] == "TIME_WAIT", f"tcp: the client's socket ends in {tw['state']}, not TIME_WAIT", ev)
check("recv_q" not in tw and "TIME_WAIT" in tw["summary"], f"tcp: the TIME_WAIT event: {tw}", ev)
final_ack = [e for e in ev if e["type"] == "packet" and e["from"] == "client" and "tcp" in e
             and e["tcp"]["flags"] == ["ACK"]][-1]
check(tw["i"] > final_ack["i"], "tcp: TIME_WAIT is reported before the client's final ACK", ev)
check(last[server[0]]["state"] == "CLOSED", f"tcp: the server's socket ends in {last[server[0]]['state']}", ev)
print(f"ok: tcp: {client[0]} TIME_WAIT after the final ACK #{final_ack['i']}, the server's CLOSED")

for lesson in ("socket-buffers", "listener-workers", "process-thread"):
    ev = run_json(lesson)
    # The probe samples every few milliseconds, and listener-workers'
    # loopback connections can all live less than that on a slow (ASan)
    # build: a run that caught none is run once more before it counts.
    if not [e for e in states(ev) if "->" in e.get("socket", "") and "recv_q" in e]:
        print(f"{lesson}: the probe caught no connection; running it again")
        ev = run_json(lesson)
    no_half_closed(lesson, ev)

ev = run_json("accept-queue")
no_half_closed("accept-queue", ev)
lst = [e for e in states(ev, socket="server:7000 listen") if "accept_queue" in e]
check(lst, "accept-queue: no listener state", ev)
for e in lst:
    q, b = e["accept_queue"], e["backlog"]
    m = re.search(r"accept queue (\d+) of (\d+) \(backlog (\d+) \+ 1\)", e["summary"])
    check(m and (int(m[1]), int(m[2]), int(m[3])) == (q, b + 1, b),
          f"accept-queue: #{e['i']} says {e['summary']!r} for accept_queue {q}, backlog {b}", ev)
    check((", full" in e["summary"]) == (q > b), f"accept-queue: #{e['i']} full or not: {e['summary']!r}", ev)
print("ok: no half-closed socket at the end of five lessons; the listener's line agrees with its fields")
