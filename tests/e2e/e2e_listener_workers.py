"""netcourse run listener-workers --headless --json: for each design, which
worker took each connection, matched with the answers the client read, and
the spread over workers (SO_REUSEPORT's included)."""
from nctest import *

need_lab()
ev = run_json("listener-workers")
conns = {"single": 6, "dispatch": 6, "shared": 6, "reuseport": 12}
for pattern, n in conns.items():
    took = [e for e in ev if e["type"] == "app" and e.get("pattern") == pattern
            and e.get("worker", 0) >= 1 and e["call"] in ("accept", "read") and e["host"] == "server"]
    check(len(took) == n, f"{pattern}: {len(took)} connections taken by workers, expected {n}", ev)
    check(len({e["peer_port"] for e in took}) == n, f"{pattern}: a connection was taken twice", ev)
    # The client's answers name the same worker and TID.
    answers = [e for e in apps(ev, host="client", call="read") if e.get("pattern") == pattern]
    by_port = {e["port"]: e for e in answers}
    for t in took:
        a = by_port.get(t["peer_port"])
        check(a and f"worker {t['worker']} (tid {t['tid']})" in a["summary"],
              f"{pattern}: the answer on port {t['peer_port']} does not name worker {t['worker']}", ev)
    spread = apps(ev, call="spread", pattern=pattern)
    check(len(spread) == 1, f"{pattern}: no spread event", ev)
    counts = [spread[0][k] for k in ("w1", "w2", "w3")]
    check(sum(counts) == n, f"{pattern}: the spread {counts} does not add up to {n}", ev)
    for w in (1, 2, 3):
        check(counts[w - 1] == sum(1 for t in took if t["worker"] == w),
              f"{pattern}: the spread disagrees with the accepts of worker {w}", ev)
    tids = {t["tid"] for t in took}
    if pattern == "single":
        check(counts == [6, 0, 0] and len(tids) == 1, "single: not one worker for all", ev)
    elif pattern == "dispatch":
        check(counts == [2, 2, 2], f"dispatch: round robin gave {counts}", ev)
        acc = [e for e in apps(ev, call="accept", pattern="dispatch") if e.get("worker") == 0]
        check(len(acc) == 6 and len({e["tid"] for e in acc}) == 1, "dispatch: not one acceptor", ev)
        check(not tids & {e["tid"] for e in acc}, "dispatch: the acceptor served a connection", ev)
    elif pattern == "reuseport":
        check(sum(1 for c in counts if c > 0) >= 2, f"reuseport: all on one listener {counts}", ev)
    started = [e for e in apps(ev, call="pthread_create") if e.get("pattern") == pattern]
    check({e["tid"] for e in started} >= tids, f"{pattern}: a worker's start was not reported", ev)
# Each answer, computed here from the counts; item 5: the explanation quotes
# this run's counts.
for cp, pattern, even in (("turns", "shared", 2), ("spread", "reuseport", 4)):
    sp = apps(ev, call="spread", pattern=pattern)[0]
    counts = [sp["w1"], sp["w2"], sp["w3"]]
    check(decided(ev, cp) == ("a" if counts == [even] * 3 else "b"), f"checkpoint {cp}", ev)
    m = marks(ev, checkpoint=cp, event="decided")[0]
    check(all(f"worker {w}: {c}" in m["explain"] or counts == [even] * 3 for w, c in zip((1, 2, 3), counts)),
          f"checkpoint {cp}: the explanation does not give this run's counts {counts}: {m['explain']}", ev)
    check("almost always" not in m["explain"], f"checkpoint {cp}: a fixed claim in the explanation", ev)
print("ok: every pattern shows who took each connection; spread",
      [apps(ev, call="spread", pattern=p)[0]["summary"] for p in conns])
