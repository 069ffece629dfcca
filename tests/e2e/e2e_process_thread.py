"""netcourse run process-thread --headless --json: the PID (fork per
connection) or TID (thread per connection) behind each connection, as the
server reported it and as the client read it, and the memory of each
model."""
from nctest import *

need_lab()
ev = run_json("process-thread")
forks = apps(ev, call="fork")
check(len(forks) == 4, f"expected 4 fork() events, saw {len(forks)}", ev)
parent = apps(ev, call="listen", model="processes")[0]["pid"]
child_pids = {f["pid"] for f in forks}
check(len(child_pids) == 4 and parent not in child_pids, "fork() did not make 4 new processes", ev)
answers = [e for e in apps(ev, host="client", call="read") if e.get("model") == "processes"]
check(len(answers) == 4, "the client did not read 4 answers from the processes", ev)
for a in answers:
    f = [f for f in forks if f["peer_port"] == a["port"]]
    check(f and f[0]["pid"] == a["pid"], f"connection from port {a['port']} was not answered by its child", ev)
waited = {e["pid"] for e in apps(ev, call="waitpid")}
check(waited == child_pids, "not every child was reaped", ev)

threads = [e for e in apps(ev, call="pthread_create") if e.get("model") == "threads"]
check(len(threads) == 4 and len({t["tid"] for t in threads}) == 4, "expected 4 threads", ev)
check(all(t["pid"] == parent for t in threads), "the threads are not in the server's process", ev)
tanswers = [e for e in apps(ev, host="client", call="read") if e.get("model") == "threads"]
check({a["tid"] for a in tanswers} == {t["tid"] for t in threads}, "answers name other TIDs", ev)

mem = apps(ev, call="memory")
pm = [m for m in mem if m["model"] == "processes"]
tm = [m for m in mem if m["model"] == "threads"]
check(len(pm) == 5 and {m["pid"] for m in pm} == child_pids | {parent}, "memory of parent + 4 children missing", ev)
check(all(m["rss_kb"] > 0 and m["pss_kb"] > 0 for m in pm), "a process has no RSS/PSS", ev)
kids = [m for m in pm if m["pid"] != parent]
check(all(m["pss_kb"] < m["rss_kb"] for m in kids), "the children share nothing with the parent", ev)
check(len(tm) == 1 and tm[0]["threads"] >= 5, "the threaded process does not show its threads", ev)
# Each answer, computed here from the run's events.
acc = [e for e in apps(ev, call="accept") if e.get("model") == "processes"]
check(decided(ev, "order") == ("a" if acc[2]["packet"] > acc[1]["packet"] else "b"), "checkpoint order", ev)
check(decided(ev, "pss") == ("a" if tm[0]["shared_pct"] < 50 else "b"), "checkpoint pss", ev)
print("ok: pids", sorted(child_pids), "tids", sorted(t["tid"] for t in threads),
      "rss/pss kB", [(m["rss_kb"], m["pss_kb"]) for m in pm], "threads", tm[0]["rss_kb"])
