"""netcourse run udp --headless --json: datagrams between three apps and
three services, a DNS query dropped by the lab's wire that nobody resends."""
from nctest import *

need_lab()
ev = run_json("udp")
udp = [e for e in ev if e["type"] == "packet" and "udp" in e]
check(len(udp) >= 8, f"only {len(udp)} UDP packets", ev)
for e in udp:
    # udp.len is the header's length field (8 header bytes included, tshark's
    # udp.length); udp.payload_len the bytes after it; IPv4 adds 20.
    check(e["ip"]["len"] == 20 + e["udp"]["len"], "IP length is not 20 + udp.len", ev)
    check(e["udp"]["payload_len"] == e["udp"]["len"] - 8, "udp.payload_len is not len - 8", ev)
dropped = [e for e in udp if e["dropped"]]
check(len(dropped) == 1, f"expected one dropped datagram, saw {len(dropped)}", ev)
d = dropped[0]
check("dns" in d and not d["dns"]["response"], "the dropped datagram is not a DNS query", ev)
qid = d["dns"]["id"]
again = [e for e in udp if e["i"] > d["i"] and "dns" in e and e["dns"]["id"] == qid]
check(not again, "the dropped DNS query was sent again (or answered)", ev)
check(any(e["type"] == "app" and e["call"] == "timeout" for e in ev if e["i"] > d["i"]),
      "the resolver never reported the timeout", ev)
answers = [e for e in udp if "dns" in e and e["dns"]["response"]]
check(len(answers) == 2, f"expected two DNS answers, saw {len(answers)}", ev)
sports = {e["udp"]["sport"] for e in udp if e["from"] == "client"}
check(len(sports) == 3, f"expected three client apps (source ports), saw {sorted(sports)}", ev)
dports = {e["udp"]["dport"] for e in udp if e["from"] == "client"}
check(dports == {7, 37, 53}, f"client datagrams went to ports {sorted(dports)}", ev)
check(len(marks(ev, event="decided")) >= 2, "fewer than two checkpoints decided", ev)
# Each answer, computed here from the run's packets.
udp_pk = [e for e in ev if e["type"] == "packet" and e.get("proto") in ("udp", "dns")]
empty = [e for e in udp_pk if e["from"] == "client" and e.get("udp", {}).get("dport") == 37 and not e["dropped"]][0]
got = [e for e in udp_pk if e["from"] == "server" and e.get("udp", {}).get("sport") == 37 and e["i"] > empty["i"]]
check(decided(ev, "empty") == ("a" if got else "b"), "checkpoint empty", ev)
lost = [e for e in udp_pk if e["dropped"] and e["from"] == "client"][0]
again = [e for e in udp_pk if e["from"] == "client" and e["i"] > lost["i"] and e.get("dns", {}).get("id") == lost["dns"]["id"]]
check(decided(ev, "resend") == ("a" if again else "b"), "checkpoint resend", ev)
print("ok: udp run shows the dropped query gone for good")

# --link and --seed: random loss is repeatable for a seed.
def drops(seed):
    ev = run_json("udp", extra=("--link", "loss=25%", "--seed", str(seed)))
    pk = [e for e in ev if e["type"] == "packet"]
    check(all(e["wire"]["reason"] for e in pk if e["dropped"]), "a drop without a reason", ev)
    return [(n, e["proto"], e.get("dns", {}).get("id")) for n, e in enumerate(pk) if e["dropped"]]

first, again, other = drops(7), drops(7), drops(8)
check(len(first) >= 2, f"loss=25% dropped only {first}")
check(first == again, f"the same seed dropped different packets: {first} vs {again}")
check(first != other, "a different seed dropped the same packets")
print("ok: --link loss with --seed is repeatable")
