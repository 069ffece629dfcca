# ctest: timeout=300
"""Lesson 5, long polling, run headless: the job of lesson 4 polled both
ways in one run, read from the run's own events.

- a held request: the long poller's poll reaches the server, nothing but
  an ACK crosses its connection until the worker moves the job on, and the
  answer leaves right after that step, with no request read in between;
- the long poller's answers all carry news (no empty answer);
- side by side: one comparison note with both ways, whose numbers equal
  this test's own count, and the long poller needs fewer requests, round
  trips and bytes than the short poller for the same job;
- both checkpoints are decided;
- in `netcourse shell long-polling client`, curl submits a job and long
  polls it: the server holds curl's request until the worker moves the job
  on, and since the student's host ran none of the compared programs, the
  run ends without a comparison.
curl is required (.ci/quickstart test_pkgs)."""
import json
import shutil

from comparelib import *

need_lab()
events = run_json("long-polling")

server_writes = [e for e in events if e["type"] == "app" and e["host"] == "server"
                 and e.get("call") == "write" and "job" in e]
steps = apps(events, host="server", call="job")
reads = [e for e in apps(events, host="server", call="read") if "wait=1" in e["text"]]
check(len(reads) >= 2, f"the server read {len(reads)} long polls")

# A held request: a long poll that found no news, answered only after the
# worker's next step, with no other request read meanwhile. (On a loaded
# machine the worker may move before a poll arrives; that poll is then
# answered at once, so the first poll that was held is the one checked.)
all_reads = apps(events, host="server", call="read")
held = []
for r in reads:
    answer = next(w for w in server_writes if w["i"] > r["i"])
    moved = [s for s in steps if r["i"] < s["i"] < answer["i"]]
    others = [x for x in all_reads if r["i"] < x["i"] < answer["i"]]
    if moved and not others:
        held.append((r, answer, moved))
check(held, "no long poll was held until the job moved on")
first, answer, moved = held[0]
port = first["peer_port"]
conn = [e for e in packets(events) if "tcp" in e and port in (e["tcp"]["sport"], e["tcp"]["dport"])]
req_pkt = max(e["i"] for e in conn if e["i"] < first["i"] and e["tcp"]["len"] > 0)
resp_pkt = min(e["i"] for e in conn if e["i"] > answer["i"] and e["tcp"]["len"] > 0)
between = [e for e in conn if req_pkt < e["i"] < resp_pkt]
check(all(e["tcp"]["len"] == 0 for e in between),
      f"data crossed the connection while the request was held: {[e['summary'] for e in between]}")
check(moved[-1]["i"] < answer["i"] < resp_pkt, "the held answer did not follow the worker's step")

# No empty answer for the long poller.
long_answers = [w for w in server_writes if w.get("peer_port") == port]
check(long_answers and all(w["news"] == 1 for w in long_answers),
      f"the long poller got an answer without news: {[w['summary'] for w in long_answers]}")

# Side by side.
note = comparison(events, "polling")
check([w["program"] for w in note["ways"]] == ["shortpoller", "longpoller"],
      f"the ways: {note['ways']}")
ways = check_against_run(events, note)
short, long_ = ways["shortpoller"], ways["longpoller"]
check(long_["empty"] == 0 and short["empty"] >= 1,
      f"empty answers: short {short['empty']}, long {long_['empty']}")
for k in ("requests", "round_trips", "bytes"):
    check(long_[k] < short[k], f"long polling took {long_[k]} {k}, short polling {short[k]}")
check(long_["requests"] <= 6, f"the long poller sent {long_['requests']} requests for 4 steps")

for cp in ("held", "done"):
    check(decided(events, cp), f"checkpoint {cp} was not decided")
print(f"ok: requests {short['requests']} vs {long_['requests']}, round trips "
      f"{short['round_trips']} vs {long_['round_trips']}, bytes {short['bytes']} vs {long_['bytes']}")

# A real client in the lab shell, against the lesson's server.
check(shutil.which("curl"), "curl is missing (Debian package curl)")
CMD = ('curl -s -X POST http://$SERVER:8080/jobs; '
       'curl -s "http://$SERVER:8080/jobs/1?wait=1"')
rc, out, err = run(["shell", "long-polling", "client", "-c", CMD, "--json"])
check(rc == 0, f"`netcourse shell long-polling client` exited {rc}: {err.strip()}")
typed = [l for l in out.splitlines() if not l.startswith("{")]
ev = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
check(typed[:2] == ["job 1 accepted: ask /jobs/1 how it goes", "job 1 is running (25%)"],
      f"curl printed {typed[:2]}", ev)
held = [e for e in ev if e["type"] == "app" and e["host"] == "server" and
        e.get("call") in ("read", "job", "write")]
kinds = [(e["call"], "wait=1" in e["text"]) for e in held]
at = kinds.index(("read", True))
check(kinds[at + 1:at + 3] == [("job", False), ("write", False)],
      f"curl's long poll was not held until the job moved: {[e['summary'] for e in held]}", ev)
check(not [e for e in ev if e["type"] == "note" and "compare" in e],
      "a shell run, whose client programs did not run, ends with a comparison", ev)
print("ok: curl's long poll was held in the lab shell; no comparison there")
