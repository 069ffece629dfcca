"""Helpers for the live-class end-to-end tests: run `netcourse teach` and
`netcourse join` headless as real processes on loopback, collect their JSON
Lines as they come, and wait for lines that match."""
import json
import os
import socket
import ssl
import struct
import subprocess
import tempfile
import threading
import time

from nctest import BIN, check, fail

# Message types of the class protocol (src/classroom/proto.h).
HELLO, WELCOME, RUN, EVENT, PAGE, STEP, CHECKPOINT, ANSWER, TALLY, REVEAL, HAND, PING, PONG, \
    FOLLOW, INJECT, RESULT, BYE, ERROR = range(1, 19)


class Proc:
    """A netcourse process whose stdout is JSON Lines."""

    def __init__(self, name, args, data_dir=None, stdin=True):
        self.name = name
        self.data_dir = data_dir or tempfile.mkdtemp(prefix=f"nc-class-{name}-")
        cmd = [BIN, "--data-dir", self.data_dir] + args
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  bufsize=1)
        self.lines = []
        self.bad = []
        self.eof = False
        self.cv = threading.Condition()
        self.err = ""
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    def _read(self):
        for line in self.p.stdout:
            try:
                obj = json.loads(line)
            except ValueError:
                obj = None
            with self.cv:
                if isinstance(obj, dict):
                    self.lines.append(obj)
                else:
                    self.bad.append(line)
                self.cv.notify_all()
        with self.cv:
            self.eof = True
            self.cv.notify_all()

    def _read_err(self):
        for line in self.p.stderr:
            self.err += line

    def send(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()

    def find(self, pred, start=0):
        with self.cv:
            for o in self.lines[start:]:
                if pred(o):
                    return o
        return None

    def count(self, pred):
        with self.cv:
            return sum(1 for o in self.lines if pred(o))

    def wait(self, pred, what, timeout=40, n=1):
        """Waits until n lines match pred; returns the nth."""
        deadline = time.time() + timeout
        with self.cv:
            while True:
                hits = [o for o in self.lines if pred(o)]
                if len(hits) >= n:
                    return hits[n - 1]
                left = deadline - time.time()
                if left <= 0 or (self.eof and len(hits) < n):
                    break
                self.cv.wait(min(left, 0.5))
        tail = "\n".join(json.dumps(o)[:200] for o in self.lines[-15:])
        fail(f"{self.name}: waited for {what}; last lines:\n{tail}\nstderr: {self.err[-800:]}")

    def klass(self, what, **where):
        return lambda o: o.get("class") == what and all(o.get(k) == v for k, v in where.items())

    def wait_class(self, what, timeout=40, n=1, **where):
        return self.wait(self.klass(what, **where), f'{{"class": "{what}", {where}}}', timeout, n)

    def events(self):
        with self.cv:
            return [o for o in self.lines if "class" not in o and "type" in o]

    def runs(self):
        """Events split by run: {run id: [events]} (after each run line)."""
        out, cur = {}, None
        with self.cv:
            for o in self.lines:
                if o.get("class") == "run" and o["run"] not in out:
                    cur = o["run"]
                    out[cur] = []
                elif "class" not in o and "type" in o and cur is not None:
                    out[cur].append(o)
        return out

    def finish(self, timeout=30):
        try:
            rc = self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            fail(f"{self.name} did not exit")
        time.sleep(0.1)
        return rc

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


class Teacher(Proc):
    def __init__(self, lesson="tcp", extra=(), data_dir=None, port=0):
        super().__init__("teacher", ["teach", lesson, "--headless", "--port", str(port),
                                     *extra], data_dir)
        first = self.wait_class("listening", timeout=20)
        self.port = first["port"]
        self.code = first["code"]
        self.fingerprint = first["fingerprint"]

    def students_runs(self):
        """The instructor's own events by run id (its log prints them)."""
        out, cur = {}, None
        with self.cv:
            for o in self.lines:
                if o.get("class") == "run" and o.get("state") == "started":
                    cur = o["run"]
                    out.setdefault(cur, [])
                elif "class" not in o and "type" in o and cur is not None:
                    out[cur].append(o)
        return out


class Student(Proc):
    def __init__(self, teacher, name, answers=None, data_dir=None, code=None, extra=()):
        args = ["join", "127.0.0.1", code or teacher.code, "--port", str(teacher.port),
                "--name", name, "--headless"]
        if answers is not None:
            path = os.path.join(tempfile.mkdtemp(prefix="nc-answers-"), "answers")
            with open(path, "w") as f:
                f.write(answers)
            args += ["--answers", path]
        super().__init__(name, args + list(extra), data_dir)


def same_run(who, got, want, released=None):
    """Checks that a student's events (got) are the instructor's (want),
    event for event, except the checkpoint marks the class holds back: a
    held mark keeps the index and time and says nothing of the checkpoint
    (hold.h). released, a set of (checkpoint, "asked" or "decision"),
    names the marks that must have come released and says every other one
    must be held; None accepts either."""
    check(len(got) == len(want), f"{who} has {len(got)} events, the instructor {len(want)}")
    for a, b in zip(got, want):
        if b["type"] == "mark" and "checkpoint" in b:
            kind = "asked" if b["event"] == "asked" else "decision"
            held = (a.get("held") is True and "checkpoint" not in a and "note" not in a and
                    a["i"] == b["i"] and a["t"] == b["t"])
            if released is None:
                check(held or a == b, f"{who}'s mark {b['i']} is neither held nor the "
                                      f"instructor's:\n  got  {a}\n  want {b}")
            elif (b["checkpoint"], kind) in released:
                check(a == b, f"{who}'s released mark {b['i']} differs:\n  got  {a}\n  want {b}")
            else:
                check(held, f"{who}'s mark {b['i']} is not held:\n  got  {a}\n  want {b}")
        else:
            check(a == b, f"{who}'s event {b['i']} differs:\n  got  {a}\n  want {b}")


def free_port():
    """A loopback port where nothing listens (just closed)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def tls_connect(port):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    return ctx.wrap_socket(s)


def frame(mtype, body):
    b = json.dumps(body).encode() if not isinstance(body, bytes) else body
    return struct.pack(">IB", len(b) + 1, mtype) + b


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def read_frame(s):
    hdr = recv_exact(s, 5)
    if hdr is None:
        return None, None
    n, t = struct.unpack(">IB", hdr)
    body = recv_exact(s, n - 1)
    return t, json.loads(body) if body else None


def read_until(s, mtype, limit=200):
    for _ in range(limit):
        t, body = read_frame(s)
        if t is None:
            return None
        if t == mtype:
            return body
    return None
