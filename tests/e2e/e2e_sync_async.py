"""netcourse run sync-async --headless --json: a blocking client fetches
/a, /b and /c one after another, then an async client (libuv's loop)
issues all three at once. The run shows the blocking caller's spans (block
... resume) beside the wire, serial requests against overlapping ones, and
each client's total time. Every assertion reads the run's own events."""
from nctest import *


need_lab()
ev = run_json("sync-async")
tcp = [e for e in ev if e["type"] == "packet" and "tcp" in e]
sw = apps(ev, call="stopwatch")
check(len(sw) == 2, f"{len(sw)} stopwatch readings, expected one per client", ev)
split = sw[0]["i"]


def requests(lo, hi):
    return [(p, m["target"]) for p in tcp if lo < p["i"] < hi for m in http_msgs(p) if m.get("request")]


def responses(lo, hi):
    return [p for p in tcp if lo < p["i"] < hi for m in http_msgs(p) if not m.get("request")]


# The blocking client: each request is inside a block ... resume span,
# and the next span starts only after the previous resume.
blocks = [e for e in apps(ev, host="client", call="block") if e["i"] < split]
resumes = [e for e in apps(ev, host="client", call="resume") if e["i"] < split]
check([e["path"] for e in blocks] == ["/a", "/b", "/c"] and [e["path"] for e in resumes] == ["/a", "/b", "/c"],
      "the blocking client's spans are not /a, /b, /c", ev)
for b, r in zip(blocks, resumes):
    reqs = [p for p, t in requests(b["i"], r["i"]) if t == b["path"]]
    resp = responses(b["i"], r["i"])
    check(len(reqs) == 1 and len(resp) == 1 and reqs[0]["i"] < resp[0]["i"],
          f"the span of {b['path']} does not hold its request and its response", ev)
    check(r["ms"] >= 100, f"{b['path']}: blocked {r['ms']} ms, less than the server's 100 ms of work", ev)
for r, b in zip(resumes, blocks[1:]):
    check(r["i"] < b["i"], f"{b['path']} was started before the caller resumed", ev)

# Serial on the wire: /b leaves only after /a's response, /c after /b's.
sreq = requests(0, split)
sresp = responses(0, split)
check([t for _, t in sreq] == ["/a", "/b", "/c"] and len(sresp) == 3, "the blocking phase is not three exchanges", ev)
for k in (1, 2):
    check(sreq[k][0]["i"] > sresp[k - 1]["i"], f"{sreq[k][1]} went out before the previous answer", ev)

# Overlapping: the async client's three requests are all on the wire
# before the first answer, and the server works on all three at once.
issues = apps(ev, host="client", call="issue")
check([e["path"] for e in issues] == ["/a", "/b", "/c"], "the async client did not issue /a, /b, /c", ev)
areq = requests(split, len(ev))
aresp = responses(split, len(ev))
check(len(areq) == 3 and len(aresp) == 3 and max(p["i"] for p, _ in areq) < min(p["i"] for p in aresp),
      "the async requests did not all leave before the first answer", ev)
work = [e for e in apps(ev, host="server", call="process") if e["i"] > split]
writes = [e for e in apps(ev, host="server", call="write") if e["i"] > split]
check(len(work) == 3 and max(e["i"] for e in work) < min(e["i"] for e in writes),
      "the server did not work on the three requests side by side", ev)
calls = apps(ev, host="client", call="callback")
check(len(calls) == 3 and all(c["i"] > max(e["i"] for e in issues) for c in calls),
      "the callbacks did not come after every request was issued", ev)
await_end = [e for e in apps(ev, host="client", call="resume") if e["i"] > split]
check(await_end and await_end[0]["i"] > max(c["i"] for c in calls) and await_end[0]["i"] < sw[1]["i"],
      "await did not return after the last callback", ev)

# Total time: the blocking client paid the server's three 100 ms in turn;
# the async one overlapped them.
check(sw[0]["ms"] >= 300, f"the blocking client took {sw[0]['ms']} ms, less than 3 x 100 ms", ev)
check(100 <= sw[1]["ms"] < sw[0]["ms"], f"async {sw[1]['ms']} ms vs blocking {sw[0]['ms']} ms", ev)

check(decided(ev, "serial") == "b", "checkpoint serial", ev)
before_first = [t for p, t in areq if p["i"] < aresp[0]["i"]]
check(decided(ev, "overlap") == {1: "a", 3: "b"}.get(len(before_first), "c"), "checkpoint overlap", ev)
ms = sw[1]["ms"]
check(decided(ev, "total") == ("a" if ms < 200 else "b" if ms >= 300 else "c"), "checkpoint total", ev)
print("ok: sync-async shows blocked spans, serial vs overlapping requests, and both totals")
