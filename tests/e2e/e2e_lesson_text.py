"""What the seven lessons' runs say in words, checked against what they did.

- Every sentence the runs print agrees with its numbers: "1 thread", not
  "1 threads"; "an 84-byte page", not "a 84-byte page".
- accept-queue: the run reports the lab's kernel settings (the SYN retry
  schedule, tcp_abort_on_overflow, somaxconn ...) in "sysctl" rows at its
  start; the values are those of a fresh network namespace read here
  independently, and the retransmitted SYNs follow the reported schedule
  (linear waits do not grow the way doubling ones do).
- tcp: the run reports SACK, RACK and the minimum retransmission timeout.
- osi: the client's last read calls the 167 bytes the response and the
  84-byte body the page, as Content-Length counted them.
- process-thread: "% shared" is the share of a process's resident pages
  that another process maps too (smaps Shared over Shared + Private), and
  the processes' Pss is summed for the comparison with threads.
"""
import os
import re
import subprocess

from nctest import *

LESSONS = ["osi", "udp", "tcp", "process-thread", "accept-queue", "socket-buffers",
           "listener-workers"]

# Nouns the runs count; after the number 1 each must be singular.
NOUNS = ("threads", "bytes", "connections", "processes", "times", "segments", "packets",
         "frames", "clients", "workers", "datagrams", "queries", "answers", "messages",
         "children", "drops", "overflows", "retries", "probes", "SYNs", "ACKs")
# "1 threads", and "1 listen overflows" (one word may sit between).
ONE_PLURAL = re.compile(r"(?<![\d.,])\b1 (?:[a-z]+ )?(" + "|".join(NOUNS) + r")\b")
ARTICLE = re.compile(r"\b(a|an) (\d+)\b", re.IGNORECASE)


def article(n):
    """The article for n read aloud: "an" for eight, eleven, eighteen,
    eighty-something, eight hundred-something (of the leading group of
    three digits); "a" otherwise."""
    while n >= 1000:
        n //= 1000
    return "an" if n in (8, 11, 18) or 80 <= n <= 89 or 800 <= n <= 899 else "a"


def texts(ev):
    """Every sentence an event carries: its summary, and its notes."""
    out = [ev.get("summary", "")]
    note = ev.get("note")
    if isinstance(note, str):
        out.append(note)
    elif isinstance(note, list):
        out += [n for n in note if isinstance(n, str)]
    return [t for t in out if t]


def check_agreement(lesson, events):
    for ev in events:
        for t in texts(ev):
            m = ONE_PLURAL.search(t)
            check(not m, f"{lesson}: event {ev['i']} says {m.group(0)!r}: {t}" if m else "", events)
            for m in ARTICLE.finditer(t):
                want = article(int(m.group(2)))
                check(m.group(1).lower() == want,
                      f"{lesson}: event {ev['i']} says {m.group(0)!r}, not '{want} {m.group(2)}': {t}",
                      events)


def fresh_netns_sysctls(names):
    """The settings a new network namespace starts with, read here in a
    namespace of our own: the lab's namespaces are made the same way."""
    cmd = ["unshare", "--net"]
    if os.geteuid() != 0:
        cmd.insert(1, "--map-root-user")
    paths = ["/proc/sys/" + n.replace(".", "/") for n in names]
    script = "; ".join(f"cat {p} 2>/dev/null || echo absent" for p in paths)
    p = subprocess.run(cmd + ["sh", "-c", script], capture_output=True, text=True, timeout=30)
    check(p.returncode == 0, f"cannot read sysctls in a new namespace: {p.stderr.strip()}")
    values = p.stdout.split()
    check(len(values) == len(names), f"unexpected sysctl output: {p.stdout!r}")
    return {n.rsplit(".", 1)[1]: (None if v == "absent" else int(v)) for n, v in zip(names, values)}


need_lab()
runs = {lesson: run_json(lesson) for lesson in LESSONS}
for lesson, events in runs.items():
    check_agreement(lesson, events)

# ---- accept-queue: the kernel's settings, read in the lab ----
ev = runs["accept-queue"]
rows = apps(ev, call="sysctl")
check(len(rows) == 2, f"expected 2 sysctl rows in accept-queue, saw {len(rows)}", ev)
first_packet = min(e["i"] for e in ev if e["type"] == "packet")
check(all(r["i"] < first_packet for r in rows), "a sysctl row comes after the first packet", ev)
fresh = fresh_netns_sysctls(["net.ipv4.tcp_syn_linear_timeouts", "net.ipv4.tcp_syn_retries",
                             "net.ipv4.tcp_abort_on_overflow", "net.core.somaxconn",
                             "net.ipv4.tcp_synack_retries"])
seen = {}
for r in rows:
    seen.update({k: v for k, v in r.items() if k.startswith("tcp_") or k == "somaxconn"})
for key, value in fresh.items():
    if value is None:
        check(key not in seen, f"the run reports {key}, which this kernel does not have", ev)
    else:
        check(seen.get(key) == value, f"the run reports {key}={seen.get(key)}, the lab has {value}", ev)
check(seen.get("tcp_syncookies") == 0, "the run does not report SYN cookies off", ev)
client_row = [r for r in rows if r["host"] == "client"][0]
linear = fresh["tcp_syn_linear_timeouts"] or 0
if linear > 0:
    check(f"{linear} more" in client_row["summary"] and "1 s apart" in client_row["summary"],
          f"the SYN schedule row does not state {linear} more waits of 1 s: {client_row['summary']}", ev)
else:
    check("doubles" in client_row["summary"], "the SYN schedule row does not say the wait doubles", ev)
# The retransmitted SYNs follow that schedule: with linear waits the
# second wait is about as long as the first; with doubling, twice as long.
syns = {}
for p in packets(ev, tcp_flags=["SYN"]):
    if p["from"] == "client":
        syns.setdefault(p["tcp"]["sport"], []).append(p["t"])
triples = [ts for ts in syns.values() if len(ts) >= 3]
check(triples, "no client sent its SYN three times", ev)
for ts in triples:
    first, second = ts[1] - ts[0], ts[2] - ts[1]
    if linear >= 2:
        check(second < first * 1.5, f"the second SYN wait ({second:.3f} s) grew from the first "
              f"({first:.3f} s), though the kernel keeps them linear", ev)
    else:
        check(second > first * 1.5, f"the second SYN wait ({second:.3f} s) did not double", ev)

# ---- tcp: how this kernel repairs a loss ----
ev = runs["tcp"]
rows = apps(ev, call="sysctl")
check(len(rows) == 1, "the tcp run does not report its loss-recovery settings", ev)
fresh = fresh_netns_sysctls(["net.ipv4.tcp_sack", "net.ipv4.tcp_recovery"])
check(rows[0].get("tcp_sack") == fresh["tcp_sack"], "the tcp run reports another tcp_sack", ev)
check(rows[0].get("tcp_recovery") == fresh["tcp_recovery"], "the tcp run reports another tcp_recovery", ev)
check(("RACK on" in rows[0]["summary"]) == bool(fresh["tcp_recovery"] & 1),
      f"the RACK wording does not follow tcp_recovery: {rows[0]['summary']}", ev)

# ---- osi: the response is not the page ----
ev = runs["osi"]
resp = [e for e in ev if e["type"] == "packet" and e.get("proto") == "http" and e["from"] == "server"]
check(resp, "no HTTP response", ev)
body = resp[0]["http"]["body_len"]
wire = sum(e["tcp"]["len"] for e in ev if e["type"] == "packet" and e["from"] == "server"
           and "tcp" in e and e["tcp"]["len"] > 0)
last = [e for e in apps(ev, host="client", call="read") if e.get("bytes") == 0]
check(last, "the client's final read() is not reported", ev)
check(last[0]["total"] == wire and last[0]["body_len"] == body,
      f"the client's final read says {last[0].get('total')} bytes and a {last[0].get('body_len')}-byte "
      f"page; the wire carried {wire} bytes and a {body}-byte body", ev)
check("the page is complete" not in last[0]["summary"]
      and f"the response is complete ({wire} bytes" in last[0]["summary"]
      and f"{body}-byte page" in last[0]["summary"],
      f"the final read calls the response the page: {last[0]['summary']}", ev)
write = apps(ev, host="server", call="write")
check(write and write[0]["bytes"] == wire and f"{article(body)} {body}-byte page" in write[0]["summary"],
      f"the server's write() does not tell the response from the page: {write and write[0]['summary']}", ev)

# ---- process-thread: what "% shared" means ----
ev = runs["process-thread"]
mem = apps(ev, call="memory")
check(mem, "no memory rows", ev)
for m in mem:
    for key in ("shared_kb", "private_kb", "shared_pct"):
        check(key in m and m[key] >= 0, f"memory row {m['i']} has no {key}", ev)
    rss = m["shared_kb"] + m["private_kb"]
    check(rss > 0 and m["shared_pct"] == m["shared_kb"] * 100 // rss,
          f"memory row {m['i']}: shared_pct {m['shared_pct']} is not shared/(shared+private)", ev)
kids = [m for m in mem if m["model"] == "processes" and "child" in m["summary"]]
check(len(kids) == 4, f"expected 4 children's memory rows, saw {len(kids)}", ev)
check(all(m["shared_pct"] >= 50 and m["private_kb"] < m["shared_kb"] for m in kids),
      "right after fork() the children do not share most of their pages", ev)
total = apps(ev, call="pss_sum", model="processes")
procs = [m for m in mem if m["model"] == "processes"]
check(total and total[0]["pss_kb"] == sum(m["pss_kb"] for m in procs) and total[0]["processes"] == 5,
      "the processes' Pss sum is missing or wrong", ev)

print("ok: the runs' sentences agree with their numbers; accept-queue and tcp report the lab's "
      "sysctls", {k: v for k, v in seen.items()}, "; osi and process-thread words checked")
