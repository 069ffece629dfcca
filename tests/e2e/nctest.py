"""Helpers for netcourse's end-to-end tests: run the real binary, read its
JSON Lines, and fail with a message that says what was expected."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

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


class ProcSampler:
    """Samples a running process's open descriptors and resident memory
    (VmRSS, kB) every 10 ms from outside, on a thread of its own, until it
    exits: `samples` is a list of (fds, rss). mark() is the index of the
    next sample, to cut the list at moments of the test."""

    def __init__(self, proc):
        import threading
        self.proc, self.samples = proc, []
        self.thread = threading.Thread(target=self._run)
        self.thread.start()

    def _run(self):
        pid = self.proc.pid
        while self.proc.poll() is None:
            try:
                fds = len(os.listdir(f"/proc/{pid}/fd"))
                with open(f"/proc/{pid}/status") as f:
                    rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
                self.samples.append((fds, rss))
            except (OSError, StopIteration):
                pass
            time.sleep(0.01)

    def mark(self):
        return len(self.samples)

    def join(self):
        self.thread.join()


class Tmux:
    """A tmux server of its own for driving the interface as a person
    would: start netcourse in a window, type keys, read the screen. Each
    start() uses a fresh socket, since a server being killed can still
    hold its old one for a moment."""

    def __init__(self, data):
        self.data = data
        self.cmd = None

    def tmux(self, *args):
        return subprocess.run(self.cmd + list(args), capture_output=True, text=True, check=False)

    def _shell(self, args):
        env = (f"TERM=xterm-256color LANG=C.UTF-8 "
               f"NETCOURSE_LESSONS={os.environ.get('NC_SOURCE_DIR', '.')}/lessons")
        return f"cd {self.data} && env {env} {BIN} {args}; echo EXITED $?; sleep 30"

    def start(self, args, cols=100, rows=40, win="nc"):
        """A new server whose first window, win, runs `netcourse ARGS`."""
        self.kill()
        self.cmd = ["tmux", "-S", tempfile.mktemp(prefix="tmux-", dir=self.data)]
        r = self.tmux("new-session", "-d", "-s", win, "-x", str(cols), "-y", str(rows),
                      self._shell(args))
        check(r.returncode == 0, f"tmux failed: {r.stderr}")

    def window(self, win, args):
        """Another window of the same server running `netcourse ARGS`."""
        r = self.tmux("new-window", "-d", "-n", win, self._shell(args))
        check(r.returncode == 0, f"tmux failed: {r.stderr}")

    def screen(self, win="nc"):
        return self.tmux("capture-pane", "-p", "-t", win).stdout

    def keys(self, *k, win="nc"):
        self.tmux("send-keys", "-t", win, *k)

    def resize(self, cols, rows, win="nc"):
        self.tmux("resize-window", "-t", win, "-x", str(cols), "-y", str(rows))

    def wait_for(self, want, why="", timeout=15, win="nc"):
        """Waits until the screen holds the text want (or want(screen) is
        true); returns the screen, or fails saying what it showed."""
        pred = want if callable(want) else (lambda s: want in s)
        deadline = time.time() + timeout
        while time.time() < deadline:
            s = self.screen(win)
            if pred(s):
                return s
            time.sleep(0.05)
        fail(f"{why or repr(want)} never appeared on the {win} screen; it shows:\n{self.screen(win)}")

    def goto(self, i, win="nc"):
        """Goes to event #i on the ladder, through the ':' prompt."""
        self.keys(":", win=win)
        for ch in str(i):
            self.keys("-l", ch, win=win)
        self.keys("Enter", win=win)

    def answer(self, question, key="a", win="nc"):
        """Answers the checkpoint whose question holds the text once it is
        asked, then dismisses the verdict once it is shown."""
        self.wait_for(lambda s: question in s and "Predict, then press" in s,
                      why=f"the question {question!r}", win=win)
        self.keys(key, win=win)
        self.wait_for(lambda s: f"Your answer: {key})" in s and "Enter: continue" in s,
                      why=f"the verdict on {question!r}", win=win)
        self.keys("Enter", win=win)
        self.wait_for(lambda s: "Enter: continue" not in s,
                      why=f"the verdict on {question!r} dismissed", win=win)

    def kill(self):
        if self.cmd:
            self.tmux("kill-server")


def need_tmux():
    if shutil.which("tmux") is None:
        print("SKIP: tmux is not installed")
        sys.exit(77)


def shell_user(prefix):
    """For the lab-shell tests (curl typed in a shell): skips without curl;
    as root, an ordinary user with copies of the binary and the fixture
    lessons (ordinary_user); otherwise the caller as is. Returns (user or
    None, work dir to remove, lessons dir, data dir, binary)."""
    if not shutil.which("curl"):
        print("SKIP: curl is not installed")
        sys.exit(77)
    fixtures = os.path.join(os.environ["NC_SOURCE_DIR"], "tests", "e2e", "lessons")
    if os.geteuid() == 0:
        user, work, lessons, data = ordinary_user(fixtures)
        return user, work, lessons, data, BIN
    work = tempfile.mkdtemp(prefix=prefix)
    return None, work, fixtures, work, BIN


def ordinary_user(lessons, user="nc-e2e"):
    """For a test run as root: makes user (once) and copies the binary and
    the lessons directory where that user can read them. Points BIN at the
    copy and returns (user, work, lessons copy, data dir); the caller removes
    work when done."""
    import pwd
    import shutil
    global BIN
    try:
        pwd.getpwnam(user)
    except KeyError:
        subprocess.run(["useradd", "--no-create-home", "--shell", "/bin/sh", user], check=True)
    work = tempfile.mkdtemp(prefix="nc-user-")
    shutil.copy(BIN, f"{work}/netcourse")
    shutil.copytree(lessons, f"{work}/lessons")
    os.mkdir(f"{work}/data")
    shutil.chown(f"{work}/data", user)
    for root, dirs, files in os.walk(work):
        for name in dirs + files:
            os.chmod(os.path.join(root, name), 0o755)
    os.chmod(work, 0o755)
    BIN = f"{work}/netcourse"
    return user, work, f"{work}/lessons", f"{work}/data"


def msgs(p, layer):
    """The messages of one stream layer a packet completes ("http",
    "websocket", "sse"): one object, or a list when it completes several."""
    v = p.get(layer)
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def http_msgs(p):
    """The HTTP messages a packet completes: none, one, or several (a list,
    when one segment completes pipelined requests)."""
    return msgs(p, "http")
