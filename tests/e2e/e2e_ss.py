"""Agreement with the kernel's own tool. While accept-queue holds its queue
full and while socket-buffers holds its sender blocked, run `ss` inside the
lesson's namespace (nsenter into the network namespace of the netcourse
thread named nc-server or nc-client, as README describes) and check that it
reports the same accept queue (Recv-Q), backlog (Send-Q), send queue and
notsent bytes as netcourse's state events, and that the listener's line on
the ladder says those numbers. The listen queue is held still,
so ss must equal the latest sample; a send queue can still move by a few
segments while ss runs, so its value must be one netcourse reported for
that socket within half a second of the ss call."""
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import time

from nctest import BIN, check, fail, need_lab

need_lab()


def thread_in(pid, name):
    for comm in glob.glob(f"/proc/{pid}/task/*/comm"):
        try:
            if open(comm).read().strip() == name:
                return comm.split("/")[4]
        except OSError:
            pass
    return None


def ss_in(pid, tid, args):
    cmd = ["nsenter", f"--net=/proc/{pid}/task/{tid}/ns/net"]
    if os.geteuid() != 0:
        cmd = ["nsenter", f"--user=/proc/{pid}/ns/user", "--preserve-credentials",
               f"--net=/proc/{pid}/task/{tid}/ns/net"]
    p = subprocess.run(cmd + ["ss", "-H"] + args, capture_output=True, text=True, timeout=10)
    check(p.returncode == 0, f"ss {' '.join(args)} failed: {p.stderr.strip()}")
    return p.stdout


def watch(lesson, ready, compare):
    """Runs lesson; once ready(event, latest) holds, calls compare(pid,
    latest) with the latest state event per socket; checks the run ends
    well."""
    data = tempfile.mkdtemp(prefix="nc-e2e-")
    proc = subprocess.Popen([BIN, "--data-dir", data, "run", lesson, "--headless", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    latest, done, ready_t = {}, False, None
    pending, seen, until = [], {}, None
    deadline = time.time() + 60
    for line in proc.stdout:
        ev = json.loads(line)
        # Compare once the whole sample that made ready() true has been
        # read: its events share one time.
        if not done and ready_t is not None and ev["t"] > ready_t:
            pending = compare(proc.pid, latest) or []
            seen = {(name, key): {latest[name][key]} for name, key, _ in pending}
            until = time.time() + 0.5
            done = True
        if ev["type"] == "state":
            name = ev.get("socket") or ev["host"] + " counters"
            latest[name] = ev
            if until and time.time() < until:
                for (sock, key), values in seen.items():
                    if sock == name and key in ev:
                        values.add(ev[key])
        if not done and ready_t is None and ready(ev, latest):
            ready_t = ev["t"]
        check(time.time() < deadline, f"{lesson} ran for more than 60 s")
    for name, key, value in pending:
        check(value in seen[(name, key)],
              f"ss {key} {value} for {name}: netcourse reported {sorted(seen[(name, key)])} then")
    if pending:
        print(f"ok: {', '.join(f'{k} {v}' for _, k, v in pending)} agree with ss")
    rc = proc.wait(timeout=60)
    check(rc == 0, f"{lesson} exited {rc}: {proc.stderr.read().strip()}")
    check(done, f"{lesson}: the moment to compare with ss never came")


def accept_queue_ready(ev, latest):
    return ev.get("socket") == "server:7000 listen" and ev.get("accept_queue") == 3


def accept_queue_compare(pid, latest):
    tid = thread_in(pid, "nc-server")
    check(tid, "no thread named nc-server in netcourse")
    out = ss_in(pid, tid, ["-ltn", "sport = :7000"])
    rows = [l.split() for l in out.splitlines() if l.strip()]
    check(len(rows) == 1, f"ss -ltn shows {len(rows)} listeners on 7000: {out!r}")
    recvq, sendq = int(rows[0][1]), int(rows[0][2])
    mine = latest["server:7000 listen"]
    check(recvq == mine["accept_queue"], f"ss Recv-Q {recvq} != netcourse accept_queue {mine['accept_queue']}")
    check(sendq == mine["backlog"], f"ss Send-Q {sendq} != netcourse backlog {mine['backlog']}")
    # The ladder's line says the same numbers: the queue, what it holds
    # (backlog + 1, as Linux counts it full only past the backlog), the backlog.
    said = f"accept queue {recvq} of {sendq + 1} (backlog {sendq} + 1)"
    check(said in mine["summary"], f"the ladder says {mine['summary']!r}, ss says {said!r}")
    # The connections waiting in the accept queue, as ss -tin sees them.
    out = ss_in(pid, tid, ["-tin", "state", "established", "sport = :7000"])
    waiting = [l for l in out.splitlines() if l and not l[0].isspace() and ":7000" in l]
    mine = [s for s, e in latest.items() if s.startswith("server:7000->") and e["state"] == "ESTABLISHED"]
    check(len(waiting) == len(mine) == 3,
          f"ss -tin shows {len(waiting)} waiting connections, netcourse {len(mine)}")
    print(f"ok: ss -ltn Recv-Q {recvq} Send-Q {sendq}, 3 established, as netcourse said")


def buffers_ready(ev, latest):
    """The sender is stalled against a zero window with data queued."""
    return any(name.startswith("client:") and st.get("state") == "ESTABLISHED"
               and st.get("snd_wnd") == 0 and st.get("send_q", 0) > 0
               for name, st in latest.items())


def buffers_compare(pid, latest):
    tid = thread_in(pid, "nc-client")
    check(tid, "no thread named nc-client in netcourse")
    out = ss_in(pid, tid, ["-tin", "state", "established", "dport = :7000"])
    lines = out.splitlines()
    check(len(lines) >= 2, f"ss -tin shows no connection to port 7000: {out!r}")
    cols = lines[0].split()
    sendq = int(cols[1])
    local = cols[2].replace("10.0.0.1", "client")
    name = f"{local}->server:7000"
    check(name in latest, f"netcourse has no state for {name}: {sorted(latest)}")
    m = re.search(r"\bnotsent:(\d+)", lines[1])
    notsent = int(m.group(1)) if m else 0
    checks = [(name, "send_q", sendq), (name, "notsent", notsent)]
    m = re.search(r"\bsnd_wnd:(\d+)", lines[1])
    if m:
        checks.append((name, "snd_wnd", int(m.group(1))))
    return checks


watch("accept-queue", accept_queue_ready, accept_queue_compare)
watch("socket-buffers", buffers_ready, buffers_compare)
