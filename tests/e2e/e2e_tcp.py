"""netcourse run tcp --headless --json: the handshake with Wireshark-style
relative numbers, data with cumulative ACKs, one segment dropped by the
lab's wire and then retransmitted by the kernel, FIN and ACK both ways, and
the lesson's checkpoints decided by the run."""
from nctest import *

need_lab()
ev = run_json("tcp")
tcp = [e for e in ev if e["type"] == "packet" and "tcp" in e]
check(len(tcp) >= 10, "fewer than 10 TCP packets", ev)

syn = tcp[0]
check(syn["from"] == "client" and syn["to"] == "server", "the first TCP packet is not client->server", ev)
check(syn["tcp"]["flags"] == ["SYN"], f"first TCP flags {syn['tcp']['flags']}", ev)
check(syn["tcp"]["seq"] == 0, "SYN seq is not 0 (relative)", ev)
synack = tcp[1]
check(synack["from"] == "server" and set(synack["tcp"]["flags"]) == {"SYN", "ACK"}, "second is not SYN-ACK", ev)
check(synack["tcp"]["seq"] == 0 and synack["tcp"]["ack"] == 1, "SYN-ACK is not seq 0 ack 1", ev)
ack = tcp[2]
check(ack["from"] == "client" and ack["tcp"]["flags"] == ["ACK"], "third is not the client's ACK", ev)
check(ack["tcp"]["seq"] == 1 and ack["tcp"]["ack"] == 1, "handshake ACK is not seq 1 ack 1", ev)
for e in (syn, synack, ack):
    check(e.get("note"), f"packet {e['i']} has no annotation", ev)

data = [e for e in tcp if e["from"] == "client" and e["tcp"]["len"] > 0]
check(len(data) >= 7, f"expected 6 data segments and a retransmission, saw {len(data)}", ev)
dropped = [e for e in tcp if e["dropped"]]
check(len(dropped) == 1, f"expected exactly one dropped segment, saw {len(dropped)}", ev)
d = dropped[0]
check(d["from"] == "client" and d["tcp"]["len"] > 0, "the dropped packet is not client data", ev)
check(d["tcp"]["seq"] == 2001, f"the dropped segment is not the third (seq {d['tcp']['seq']})", ev)
check(d.get("note"), "the dropped segment has no note", ev)
retx = [e for e in tcp if e["i"] > d["i"] and e["tcp"].get("retransmission") and e["tcp"]["seq"] <= d["tcp"]["seq"] < e["tcp"]["seq"] + max(1, e["tcp"]["len"])]
check(retx, "the dropped segment was never retransmitted", ev)
check(retx[0]["from"] == "client" and not retx[0]["dropped"], "the retransmission is not a delivered client segment", ev)

# Cumulative ACKs: the server acknowledges at most what arrived in order.
server_acks = [e["tcp"]["ack"] for e in tcp if e["from"] == "server" and "ACK" in e["tcp"]["flags"]]
check(server_acks == sorted(server_acks), "the server's ACK numbers go backwards", ev)
check(6001 in server_acks or any(a >= 6001 for a in server_acks), "the server never acknowledged all 6000 bytes", ev)
before_retx = [e["tcp"]["ack"] for e in tcp if e["from"] == "server" and d["i"] < e["i"] < retx[0]["i"] and "ACK" in e["tcp"]["flags"]]
check(all(a <= 2001 for a in before_retx), "the server acknowledged past the hole before the retransmission", ev)

fins = [e for e in tcp if "FIN" in e["tcp"]["flags"]]
check({e["from"] for e in fins} == {"client", "server"}, "FIN is missing from one side", ev)
last_fin = max(fins, key=lambda e: e["i"])
check(any(e["i"] > last_fin["i"] and "ACK" in e["tcp"]["flags"] for e in tcp), "the last FIN was never acknowledged", ev)

apps = [e for e in ev if e["type"] == "app"]
calls = {e["call"] for e in apps}
for c in ("listen", "connect", "accept", "write", "read", "close"):
    check(c in calls, f"no app event for {c}()", ev)

asked = marks(ev, event="asked")
done = marks(ev, event="decided")
check(len(asked) >= 2, "fewer than two checkpoints were asked", ev)
check({m["checkpoint"] for m in done} == {m["checkpoint"] for m in asked}, "a checkpoint was asked but not decided", ev)
# Each answer, computed here from the run's packets.
first_data = [e for e in tcp if e["from"] == "client" and e["tcp"]["len"] > 0][0]
check(decided(ev, "header") == ("b" if first_data["tcp"]["hdr_len"] > 20 else "a"), "checkpoint header", ev)
resent = [e for e in tcp if e["from"] == "client" and e["tcp"]["seq"] == 3001 and e["tcp"].get("retransmission")]
check(decided(ev, "again") == ("a" if resent else "b"), "checkpoint again", ev)
cfin = [e for e in fins if e["from"] == "client"][0]
sfin = [e for e in fins if e["from"] == "server"][0]
bare = [e for e in tcp if e["from"] == "server" and cfin["i"] < e["i"] < sfin["i"]
        and set(e["tcp"]["flags"]) == {"ACK"} and e["tcp"]["len"] == 0]
check(decided(ev, "ackfin") == ("a" if bare else "b"), "checkpoint ackfin", ev)
# Item 23: the answer is shown after the window closed, not at the first
# matching event: "again" is decided after the server acknowledged 6001.
m = marks(ev, checkpoint="again", event="decided")[0]
all_acked = [e for e in tcp if e["from"] == "server" and e["tcp"]["ack"] >= 6001][0]
check(m["by"] == all_acked["i"] and m["i"] > all_acked["i"], "checkpoint again was decided before its window closed", ev)
print("ok: tcp run shows handshake, data, drop, retransmission and close")
