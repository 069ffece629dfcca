"""Helpers for netcourse's end-to-end tests: run the real binary, read its
JSON Lines, and fail with a message that says what was expected."""
import json
import os
import subprocess
import sys
import tempfile

BIN = os.environ.get("NETCOURSE_BIN", "netcourse")


def fail(msg, events=None):
    print("FAIL: " + msg, file=sys.stderr)
    if events:
        print("--- timeline ---", file=sys.stderr)
        for e in events:
            print(f'{e["i"]:4} {e["t"]:10.6f} {e["type"]:6} {e.get("host",""):8} {e["summary"]}',
                  file=sys.stderr)
    sys.exit(1)


def check(cond, msg, events=None):
    if not cond:
        fail(msg, events)


def run(args, data_dir=None, env=None, timeout=120, user=None):
    """Runs netcourse with args; returns (rc, stdout, stderr)."""
    cmd = [BIN]
    if data_dir:
        cmd += ["--data-dir", data_dir]
    cmd += args
    if user:
        cmd = ["su", user, "-s", "/bin/sh", "-c", " ".join(map(sh_quote, cmd))]
    full_env = dict(os.environ)
    full_env.update(env or {})
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=full_env,
                       stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


def sh_quote(s):
    return "'" + s.replace("'", "'\\''") + "'"


def run_json(lesson, extra=(), data_dir=None, user=None):
    """Runs a lesson headless with --json; checks it succeeded and that
    stdout holds nothing but JSON objects; returns the events."""
    data_dir = data_dir or tempfile.mkdtemp(prefix="nc-e2e-")
    rc, out, err = run(["run", lesson, "--headless", "--json", *extra], data_dir=data_dir,
                       user=user)
    check(rc == 0, f"`netcourse run {lesson} --headless --json` exited {rc}: {err.strip()}")
    events = []
    for n, line in enumerate(out.splitlines(), 1):
        try:
            ev = json.loads(line)
        except ValueError:
            fail(f"stdout line {n} is not JSON: {line[:120]!r}")
        check(isinstance(ev, dict), f"stdout line {n} is not an object")
        events.append(ev)
    check(events, "the run printed no events")
    for n, ev in enumerate(events):
        check(ev.get("i") == n, f"event {n} has i={ev.get('i')}")
        for key in ("t", "type", "host", "summary"):
            check(key in ev, f"event {n} has no {key!r}: {ev}")
        check(ev["type"] in ("packet", "app", "state", "mark", "note"),
              f"event {n} has type {ev['type']!r}")
        if ev["type"] == "packet":
            for key in ("from", "to", "proto", "len", "dropped"):
                check(key in ev, f"packet {n} has no {key!r}: {ev}")
    times = [ev["t"] for ev in events]
    check(all(a <= b + 1e-9 for a, b in zip(times, times[1:])),
          "event times go backwards", events)
    return events


def packets(events, **where):
    """Packets whose fields equal the given values (tcp_flags as a set)."""
    out = []
    for ev in events:
        if ev["type"] != "packet":
            continue
        ok = True
        for k, v in where.items():
            if k == "tcp_flags":
                ok = ok and "tcp" in ev and set(ev["tcp"]["flags"]) == set(v)
            elif k == "proto":
                ok = ok and ev.get("proto") == v
            else:
                ok = ok and ev.get(k) == v
        if ok:
            out.append(ev)
    return out


def marks(events, **where):
    return [e for e in events if e["type"] == "mark" and all(e.get(k) == v for k, v in where.items())]


def need_lab():
    """Exits 77 (skip) with a reason when this machine cannot build labs."""
    if os.geteuid() == 0:
        return
    try:
        with open("/proc/sys/user/max_user_namespaces") as f:
            if int(f.read()) == 0:
                print("SKIP: user namespaces are disabled (user.max_user_namespaces=0)")
                sys.exit(77)
    except OSError:
        pass


def states(events, socket=None, prefix=None):
    """State events, optionally of one socket or of sockets whose name starts
    with prefix."""
    out = []
    for e in events:
        if e["type"] != "state":
            continue
        name = e.get("socket", "")
        if socket is not None and name != socket:
            continue
        if prefix is not None and not name.startswith(prefix):
            continue
        out.append(e)
    return out


def apps(events, **where):
    """App events whose fields equal the given values."""
    return [e for e in events if e["type"] == "app" and all(e.get(k) == v for k, v in where.items())]


def decided(events, checkpoint):
    """The answer key the run decided for a checkpoint, or None."""
    m = marks(events, checkpoint=checkpoint, event="decided")
    return m[0]["answer"] if m else None
