"""Live class security, on loopback: three honest headless students, and
- a join with a wrong code, refused;
- a student ("mallory", a raw TLS client speaking the protocol) sending
  instructor-only messages (page, run, inject, checkpoint): each refused
  with an error and logged, and nobody else sees any of it;
- clients spewing garbage: random bytes instead of TLS, and a frame with a
  huge length prefix inside TLS;
- 1,000 idle connections held open;
while the three honest students still receive every event of a run.
Then a changed instructor certificate is detected and refused, and
accepted only with --trust-new-certificate.
"""
import os
import resource
import socket
import struct
import sys
import time

from classlib import (ERROR, HELLO, INJECT, PAGE, RUN, CHECKPOINT, WELCOME, Student, Teacher,
                      frame, read_until, same_run, tls_connect)
from nctest import check, need_lab


def main():
    need_lab()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))
    t = Teacher()
    names = ["ann", "bob", "cy"]
    st = {n: Student(t, n, "") for n in names}
    for n in names:
        t.wait_class("joined", student=n)

    # A wrong join code.
    wrong = Student(t, "eve", "", code="AAAA-BBBB-CCCC")
    check(wrong.finish() == 1, "a wrong code did not make join exit 1")
    check("wrong join code" in wrong.err, f"join's message: {wrong.err!r}")
    t.wait_class("refused", reason="wrong join code")

    # A student sending what only the instructor may send.
    m = tls_connect(t.port)
    m.sendall(frame(HELLO, {"v": 2, "name": "mallory", "code": t.code}))
    check(read_until(m, WELCOME) is not None, "mallory was not welcomed")
    for mtype, body in ((PAGE, {"page": 5}), (RUN, {"run": 9, "state": "start"}),
                        (INJECT, {"run": 1, "fault": "drop 1st packet tcp"}),
                        (CHECKPOINT, {"id": "header"})):
        m.sendall(frame(mtype, body))
        err = read_until(m, ERROR)
        check(err and err["code"] == "denied", f"mallory's message {mtype} got {err}")
    t.wait_class("denied", student="mallory", n=4)

    # Garbage: random bytes where TLS should be, and a huge length prefix.
    g1 = socket.create_connection(("127.0.0.1", t.port))
    g1.sendall(os.urandom(4096))
    g2 = tls_connect(t.port)
    g2.sendall(struct.pack(">IB", 0x7FFFFFF0, HELLO) + b"x" * 100)
    t.wait(lambda o: o.get("class") == "garbage" and "over its limit" in o.get("reason", ""),
           "the huge frame logged as garbage")

    # 1,000 idle connections that never say anything.
    idle = []
    for _ in range(1000):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", t.port))
        idle.append(s)
    time.sleep(0.5)

    # The class goes on: every honest student gets the whole run.
    t.send("run")
    t.wait_class("run", state="done", run=1, timeout=60)
    want = t.students_runs()[1]
    for n, s in st.items():
        s.wait_class("run", state="done", run=1, timeout=60)
        got = s.runs()[1]
        same_run(n, got, want)
        check(not s.find(s.klass("page")), f"{n} saw a page change nobody made")
    dropped = t.wait(lambda o: o.get("class") == "dropped" and "unfinished join" in o["reason"],
                     "idle connections refused")
    check(dropped["count"] > 0, f"dropped {dropped}")
    t.send("roster")
    roster = t.wait_class("roster")
    check(sum(1 for s in roster["students"] if s["connected"]) == 4,
          f"roster after the flood: {roster}")
    for s in idle:
        s.close()
    g1.close()
    g2.close()
    m.close()
    t.send("quit")
    check(t.finish() == 0, "the instructor did not exit 0")
    for s in st.values():
        check(s.finish() == 0, f"{s.name} did not exit 0: {s.err}")

    # A changed certificate: the same address, another identity.
    port = t.port
    ann_dir = st["ann"].data_dir
    t2 = Teacher(port=port)
    check(t2.fingerprint != t.fingerprint, "two data directories made the same certificate")
    ann = Student(t2, "ann", "", data_dir=ann_dir)
    check(ann.finish() == 1, "a changed certificate did not make join exit 1")
    ann.wait_class("certificate_changed")
    check("--trust-new-certificate" in ann.err and t.fingerprint in ann.err,
          f"join's message: {ann.err!r}")
    check(not t2.find(t2.klass("joined")), "the student joined despite the changed certificate")
    ann = Student(t2, "ann", "", data_dir=ann_dir, extra=["--trust-new-certificate"])
    ann.wait_class("connected", pin="changed")
    ann.wait_class("pinned", pin="replaced")
    t2.wait_class("joined", student="ann")
    t2.send("quit")
    check(t2.finish() == 0 and ann.finish() == 0, "the second class did not end cleanly")
    print("ok: wrong code, roles, garbage, 1000 idle connections, certificate pinning")


if __name__ == "__main__":
    sys.exit(main())
