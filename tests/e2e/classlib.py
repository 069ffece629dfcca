"""Helpers for the live-class end-to-end tests: run `netcourse teach` and
`netcourse join` headless as real processes on loopback, collect their JSON
Lines as they come, and wait for lines that match."""
import ctypes
import json
import os
import resource
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

    def __init__(self, name, args, data_dir=None, stdin=True, drain=True, nofile=None):
        """drain=False leaves stdout unread until drain() (a reader that
        stalls); nofile caps the process's descriptors (soft and hard)."""
        self.name = name
        self.data_dir = data_dir or tempfile.mkdtemp(prefix=f"nc-class-{name}-")
        cmd = [BIN, "--data-dir", self.data_dir] + args
        limit = None
        if nofile:
            def limit():
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  bufsize=1, preexec_fn=limit)
        self.lines = []
        self.bad = []
        self.eof = False
        self.cv = threading.Condition()
        self.err = ""
        if drain:
            self.drain()
        threading.Thread(target=self._read_err, daemon=True).start()

    def drain(self):
        threading.Thread(target=self._read, daemon=True).start()

    def first_line(self):
        """Reads one line while stdout is not being drained."""
        return json.loads(self.p.stdout.readline())

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
    def __init__(self, lesson="tcp", extra=(), data_dir=None, port=0, drain=True, nofile=None):
        super().__init__("teacher", ["teach", lesson, "--headless", "--port", str(port),
                                     *extra], data_dir, drain=drain, nofile=nofile)
        first = self.wait_class("listening", timeout=20) if drain else self.first_line()
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


def tcp_connect(port, src=None, rcvbuf=None):
    """A plain TCP connection to the class from a loopback source address
    (127.0.0.0/8 is all loopback: each address is its own source)."""
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    if src:
        s.bind((src, 0))
    s.settimeout(10)
    s.connect(("127.0.0.1", port))
    return s


def tls_connect(port, src=None, rcvbuf=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx.wrap_socket(tcp_connect(port, src, rcvbuf))


def raw_join(t, name, token=None, src=None, code=None, rcvbuf=None):
    """A hand-made student: TLS, hello, and the first answer (welcome or
    error) as (socket, type, body)."""
    s = tls_connect(t.port, src, rcvbuf)
    hello = {"v": 2, "name": name, "code": code or t.code}
    if token:
        hello["token"] = token
    s.sendall(frame(HELLO, hello))
    for _ in range(50):
        mtype, body = read_frame(s)
        if mtype in (None, WELCOME, ERROR):
            return s, mtype, body
    return s, None, None


def closed_by_peer(s, wait=0.0):
    """True when the other side closed s (EOF or reset), without reading
    anything that matters: only for sockets the test no longer reads."""
    s.settimeout(wait if wait else 0.0001)
    try:
        while True:
            raw = s.recv(65536) if not hasattr(s, "_sslobj") else s.read(65536)
            if not raw:
                return True
    except (BlockingIOError, socket.timeout, ssl.SSLWantReadError, TimeoutError):
        return False
    except (ConnectionError, ssl.SSLError, OSError):
        return True


_libssl = None


def key_updates(s, n):
    """Sends up to n TLS 1.3 KeyUpdate messages on an ssl socket, through
    the libssl the ssl module uses (the module has no call for it); returns
    how many went before the peer closed."""
    global _libssl
    if _libssl is None:
        _libssl = ctypes.CDLL("libssl.so.3")
        for fn in ("SSL_key_update", "SSL_do_handshake", "SSL_version"):
            getattr(_libssl, fn).argtypes = [ctypes.c_void_p] + (
                [ctypes.c_int] if fn == "SSL_key_update" else [])
    # CPython's _ssl._SSLSocket: PyObject_HEAD, the socket's weakref, SSL *.
    ptr = ctypes.c_void_p.from_address(id(s._sslobj) + 3 * ctypes.sizeof(ctypes.c_void_p)).value
    if _libssl.SSL_version(ptr) != 0x0304:
        fail("could not reach the SSL object of a Python ssl socket")
    s.setblocking(True)
    for k in range(n):
        if _libssl.SSL_key_update(ptr, 0) != 1 or _libssl.SSL_do_handshake(ptr) != 1:
            return k
    return n


def proc_rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def proc_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


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
