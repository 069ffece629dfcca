"""netcourse run accept-queue --headless --json: the listener's accept queue
reaches backlog + 1, SYNs are dropped (listen overflows and drops counted)
and retransmitted by the clients, the queue drains to 0 once the server
calls accept(), the SYN queue holds the silent client's half-open
handshakes, and every accept() points at the ACK that completed it."""
from nctest import *

need_lab()
ev = run_json("accept-queue")
lst = states(ev, socket="server:7000 listen")
check(lst, "no state events for the listening socket server:7000", ev)
live = [e for e in lst if e["state"] == "LISTEN"]
check(all(e["backlog"] == 2 for e in live), "the listener's backlog is not 2", ev)

# The accept queue reaches its limit: backlog + 1.
full = [e for e in live if e["accept_queue"] == 3]
check(full, f"the accept queue never reached 3 (max {max(e['accept_queue'] for e in live)})", ev)
check(max(e["accept_queue"] for e in live) == 3, "the accept queue went past backlog + 1", ev)

# The overflow: counted drops, and SYNs sent again.
host = [e for e in ev if e["type"] == "state" and e.get("scope") == "host" and e["host"] == "server"]
check(host and max(e["listen_drops"] for e in host) >= 3, "fewer than 3 listen drops counted", ev)
check(max(e["listen_overflows"] for e in host) >= 3, "fewer than 3 listen overflows counted", ev)
first_drop = min(e["i"] for e in host if e["listen_drops"] >= 1)
check(first_drop > full[0]["i"], "drops were counted before the queue was full", ev)
resent = [e for e in packets(ev, tcp_flags=["SYN"]) if e["from"] == "client" and e["tcp"].get("retransmission")]
check(len(resent) >= 3, f"expected at least 3 retransmitted SYNs, saw {len(resent)}", ev)

# Draining: once accept() runs the queue only shrinks until it is sampled at
# 0 (a sample may fall between two accept() calls, so the first one after
# the first accept() need not be 0 yet), and it is 0 when the listener
# closes.
accepts = [e for e in apps(ev, call="accept") if "peer_port" in e]
check(len(accepts) == 6, f"expected 6 accept() calls, saw {len(accepts)}", ev)
after = [e["accept_queue"] for e in live if e["i"] > accepts[0]["i"]]
check(0 in after, "the queue did not drain to 0 after accept()", ev)
drain = after[:after.index(0) + 1]
check(all(a >= b for a, b in zip(drain, drain[1:])), f"the queue grew while it drained: {drain}", ev)
# The last sample may catch a retransmitted SYN's connection in the queue
# for an instant; then accept() must take it afterwards.
taken_later = sum(1 for a in accepts if a["i"] > live[-1]["i"])
check(live[-1]["accept_queue"] <= taken_later, "connections were left in the accept queue", ev)
check(lst[-1]["state"] == "CLOSED", "the listener's closing was not reported", ev)

# Half-open handshakes in the SYN queue.
check(max(e["syn_queue"] for e in live) >= 1, "the SYN queue never held a half-open handshake", ev)
synacks = [e for e in packets(ev, tcp_flags=["SYN", "ACK"]) if e["to"] == "silent"]
check(len(synacks) >= 2, "the silent client's SYNs were not answered", ev)

# Every accept() points at the client's handshake ACK for its connection.
for a in accepts:
    check("packet" in a, f"accept event {a['i']} has no packet link", ev)
    p = ev[a["packet"]]
    check(p["type"] == "packet" and p["tcp"]["flags"] == ["ACK"] and p["tcp"]["sport"] == a["peer_port"]
          and p["tcp"]["dport"] == 7000 and p["i"] < a["i"],
          f"accept event {a['i']} points at {p['i']}, not its handshake ACK", ev)

# The checkpoints were decided by the run.
c1 = [e for e in apps(ev, call="connect") if e.get("client") == 1]
c2 = [e for e in apps(ev, call="connect") if e.get("client") == 2][0]
returned = [e for e in c1 if "port" in e and e["i"] < c2["i"]]
check(decided(ev, "connect") == ("a" if returned else None), "checkpoint connect", ev)
wake = apps(ev, host="server", call="sleep")[0]
answer = [e for e in packets(ev, tcp_flags=["SYN", "ACK"]) if e["i"] > wake["i"]][0]
resyn = [e for e in ev if e["type"] == "packet" and e["from"] == "client" and wake["i"] < e["i"] < answer["i"]
         and set(e["tcp"]["flags"]) == {"SYN"} and e["tcp"].get("retransmission")]
check(decided(ev, "retry") == ("b" if resyn else "a"), "checkpoint retry", ev)
print("ok: accept queue full at 3, drops counted, SYNs resent, drained, SYN queue seen")
