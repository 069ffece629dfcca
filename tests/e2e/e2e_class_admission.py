"""Live class admission against hostile clients that know the join code
(issue 13, items 2, 4, 7 and 12), on loopback. Each loopback address
127.x.y.z is its own source to the instructor.
- 1,024 idle connections from 16 addresses, reopened as soon as they are
  closed: a new student still joins, and a dropped student resumes (2);
- one address may not hold more admitted students than --per-address,
  but a student resuming with its token is admitted over it (2);
- ten wrong codes from ann's address: ann's resume token still gets her
  back in, and a new `join` from that address waits and retries instead
  of exiting (4);
- takeovers: a second session with ann's token wins once, ann is told why
  and exits without retrying; the token rotates on resume, an old one no
  longer takes a session over, and bye invalidates it (7);
- takeovers do not lower the count of unfinished joins: one address never
  holds more than 64 (7);
- a full class refuses a new student with "full" and admits one resuming
  ahead of it (2); a connection closed before TLS is told why in one plain
  line, and `join` shows it and tries again (12).
"""
import os
import resource
import socket
import sys
import threading
import time

from classlib import (BYE, ERROR, WELCOME, Student, Teacher, closed_by_peer, frame, raw_join,
                      tcp_connect)
from nctest import check, need_lab


def token_of(student):
    with open(os.path.join(student.data_dir, "class", "resume")) as f:
        return f.read().split()[1]


class IdleFlood:
    """count idle TCP connections from each of the sources, each reopened
    when the instructor closes it, until stop() (or at most limit s)."""

    def __init__(self, port, sources, count, limit=90):
        self.port, self.sources, self.count = port, sources, count
        self.socks = {}
        self.reopened = 0
        self.stopping = threading.Event()
        self.deadline = time.time() + limit
        for src in sources:
            self.socks[src] = [self.open(src) for _ in range(count)]
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def open(self, src):
        try:
            return tcp_connect(self.port, src)
        except OSError:
            return None

    def loop(self):
        while not self.stopping.is_set() and time.time() < self.deadline:
            for src, socks in self.socks.items():
                for k, s in enumerate(socks):
                    if s is None or closed_by_peer(s):
                        if s:
                            s.close()
                        socks[k] = self.open(src)
                        self.reopened += 1
            time.sleep(0.05)

    def stop(self):
        self.stopping.set()
        self.thread.join()
        for socks in self.socks.values():
            for s in socks:
                if s:
                    s.close()


def unfinished_flood(t, ann):
    """Item 2: the idle flood neither stops new joins nor resumes."""
    flood = IdleFlood(t.port, [f"127.0.1.{k}" for k in range(1, 17)], 64)
    time.sleep(1)
    # One more from a flooding address: it evicts that address's oldest,
    # and is told why before TLS once it is evicted or timed out in turn.
    extra = tcp_connect(t.port, "127.0.1.1")
    extra.settimeout(20)
    said = extra.recv(200)
    extra.close()
    check(said.startswith(b"NC-REFUSED busy "), f"an idle connection was closed with {said!r}")
    carol = Student(t, "carol", "")
    carol.wait_class("welcome", timeout=40)
    t.send("drop ann")
    ann.wait_class("welcome", resumed=True, timeout=40)
    t.send("roster")
    roster = t.wait_class("roster", n=t.count(t.klass("roster")) + 1)
    check(roster["unfinished"] <= 1024, f"unfinished joins over the cap: {roster}")
    # Under load, connections that say nothing are closed within seconds.
    deadline = time.time() + 15
    while flood.reopened < 1024 and time.time() < deadline:
        time.sleep(0.2)
    check(flood.reopened >= 1024, f"only {flood.reopened} silent connections were closed")
    flood.stop()
    return carol


def per_address(t):
    """Item 2: an address holds at most --per-address (4) students; a
    resume is no new student."""
    socks = []
    for k in range(4):
        s, mtype, body = raw_join(t, f"nat{k}", src="127.0.2.1")
        check(mtype == WELCOME, f"nat{k}: {body}")
        socks.append((s, body["token"]))
    s, mtype, body = raw_join(t, "nat4", src="127.0.2.1")
    check(mtype == ERROR and body["code"] == "full", f"a fifth student from one address: {body}")
    s.close()
    s, mtype, body = raw_join(t, "nat0", src="127.0.2.1", token=socks[0][1])
    check(mtype == WELCOME and body["resumed"], f"a resume over the per-address cap: {body}")
    socks.append((s, body["token"]))
    for s, _ in socks:
        s.close()


def rate_and_resume(t, ann):
    """Item 4."""
    for _ in range(11):
        s, mtype, body = raw_join(t, "guess", code="AAAA-BBBB-CCCC")
        s.close()
    check(mtype == ERROR and body["code"] == "rate", f"the 11th wrong code got {body}")
    before = ann.count(ann.klass("welcome"))
    t.send("drop ann")
    ann.wait(lambda o: o.get("class") == "welcome" and o.get("resumed"),
             "ann resumed despite the rate limit", n=before + 1 - ann.count(
                 lambda o: o.get("class") == "welcome" and not o.get("resumed")))
    dave = Student(t, "dave", "")
    dave.wait(lambda o: o.get("class") == "error" and o.get("code") == "rate", "dave limited")
    check(dave.p.poll() is None, "join exited on a rate limit instead of retrying")
    dave.wait_class("welcome", timeout=40)
    return dave


def takeovers(t, ann):
    """Item 7: a takeover wins once; tokens rotate; bye invalidates."""
    old = token_of(ann)
    s, mtype, body = raw_join(t, "thief", token=old)
    check(mtype == WELCOME and body["resumed"] and body["name"] == "ann",
          f"a session with ann's token: {body}")
    new = body["token"]
    check(new != old, "the token was not rotated on resume")
    err = ann.wait(lambda o: o.get("class") == "error" and o.get("code") == "replaced",
                   "ann told she was replaced")
    check(ann.finish() != 0, "ann did not exit after being replaced")
    check("session ended" in ann.err, f"ann's message: {ann.err!r}")
    check(not ann.find(lambda o: o.get("class") == "disconnected" and
                       "retry_ms" in o and o.get("reason", "").startswith("replaced")),
          "ann tried to reconnect")
    # The replaced token no longer takes the session over.
    r, mtype, body = raw_join(t, "ann", token=old)
    check(mtype == WELCOME and not body["resumed"] and body["name"] != "ann",
          f"an old token took a session: {body}")
    r.close()
    # bye invalidates the current token.
    s.sendall(frame(BYE, {}))
    s.close()
    time.sleep(0.3)
    r, mtype, body = raw_join(t, "ann", token=new)
    check(mtype == WELCOME and not body["resumed"], f"a token after bye resumed: {body}")
    r.close()
    return err


def takeover_accounting(t):
    """Item 7: takeovers do not make room for more unfinished joins."""
    src = "127.0.3.1"
    s, mtype, body = raw_join(t, "tk", src=src)
    check(mtype == WELCOME, f"tk: {body}")
    idle = [tcp_connect(t.port, src) for _ in range(40)]
    tok = body["token"]
    for _ in range(20):
        s2, mtype, body = raw_join(t, "tk", src=src, token=tok)
        check(mtype == WELCOME, f"a takeover: {body}")
        tok = body["token"]
        s.close()
        s = s2
    idle += [tcp_connect(t.port, src) for _ in range(44)]
    time.sleep(1)
    still = sum(1 for c in idle if not closed_by_peer(c))
    check(still <= 64, f"{still} unfinished joins from one address against a cap of 64")
    for c in idle:
        c.close()
    s.close()


def full_class():
    """Item 2 and 12: a full class refuses a new student with "full" and
    admits a resuming one ahead of it; a refusal before TLS is one plain
    line the student shows."""
    t = Teacher(nofile=160)
    socks = []
    while len(socks) <= 200:
        s, mtype, body = raw_join(t, f"s{len(socks)}", src="127.0.4.1")
        if mtype != WELCOME:
            s.close()
            break
        socks.append((s, body["token"]))
    check(len(socks) == 80 and mtype == ERROR and body["code"] == "full",
          f"{len(socks)} students in a class of 80, then {body}")
    s, mtype, body = raw_join(t, "s0", src="127.0.4.1", token=socks[0][1])
    check(mtype == WELCOME and body["resumed"], f"a resume in a full class: {body}")
    socks[0] = (s, body["token"])
    eve = Student(t, "eve", "")
    eve.wait(lambda o: o.get("class") == "error" and o.get("code") == "full", "eve told it is full")
    socks.pop()[0].close()
    eve.wait_class("welcome", timeout=40)
    t.send("quit")
    check(t.finish() == 0, "the full class did not end cleanly")
    for s, _ in socks:
        s.close()
    check(eve.finish() == 0, "eve did not exit 0")


def refused_line():
    """Item 12: what join makes of a refusal before TLS."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    port = srv.getsockname()[1]

    def refuse():
        for _ in range(2):
            c, _ = srv.accept()
            c.sendall(b"NC-REFUSED full the class is full\n")
            c.close()
    threading.Thread(target=refuse, daemon=True).start()

    class Fake:
        code = "AAAA-BBBB-CCCC"
    Fake.port = port
    eve = Student(Fake, "eve", "")
    eve.wait(lambda o: o.get("class") == "disconnected" and
             o.get("reason") == "refused (full): the class is full", "eve told the class is full")
    check(eve.p.poll() is None, "join gave up on a full class instead of trying again")
    eve.kill()
    srv.close()


def main():
    need_lab()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))
    t = Teacher(extra=["--per-address", "4"])
    ann = Student(t, "ann", "")
    ann.wait_class("welcome")
    carol = unfinished_flood(t, ann)
    per_address(t)
    dave = rate_and_resume(t, ann)
    takeovers(t, ann)
    takeover_accounting(t)
    t.send("quit")
    check(t.finish() == 0, "the instructor did not exit 0")
    check(carol.finish() == 0 and dave.finish() == 0, "a student did not exit 0")
    full_class()
    refused_line()
    print("ok: idle flood, per-address cap, rate vs resume, takeovers, accounting, "
          "refused before TLS")


if __name__ == "__main__":
    sys.exit(main())
