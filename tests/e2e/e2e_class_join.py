"""Live class, what `join` and the instructor's commands say, headless
(issue 14 items 9, 13, 14, 15):

- a join to a port where no class listens says what failed and stops
  (exit 1), where a connection lost later is retried by itself;
- a refused join code pins nothing; the certificate is pinned once the
  class admits the student;
- ending the class tells the students, whose `join` exits 0 saying so;
- lockstep: `inject` with no run in progress says it applies to the next
  run, and does; during a run it goes to the students' runs.
"""
import os
import sys

from classlib import (HELLO, INJECT, WELCOME, Student, Teacher, frame, free_port, read_until,
                      tls_connect)
from nctest import check, need_lab, run


def pins(data_dir):
    path = os.path.join(data_dir, "class", "known_instructors")
    if not os.path.exists(path):
        return ""
    with open(path) as f:
        return f.read()


def first_synack_dropped(events):
    """Whether the run's first SYN-ACK was dropped (None: it had none)."""
    synack = [e for e in events if e["type"] == "packet" and
              set(e.get("tcp", {}).get("flags", [])) == {"SYN", "ACK"}]
    return synack[0]["dropped"] if synack else None


def wrong_port():
    port = free_port()
    rc, out, err = run(["join", "127.0.0.1", "AAAA-BBBB-CCCC", "--port", str(port), "--headless"],
                       timeout=30)
    check(rc == 1, f"join to a closed port exited {rc}: {err!r}")
    check(f"could not join the class at 127.0.0.1:{port}" in err and "refused" in err,
          f"join's message: {err!r}")
    check(err.count("\n") == 1, f"join said more than one sentence: {err!r}")
    check('"disconnected"' not in out, f"join retried a connection it never had:\n{out}")


def pinning_and_end():
    t = Teacher()
    eve = Student(t, "eve", "", code="AAAA-BBBB-CCCC")
    check(eve.finish() == 1, "a wrong code did not make join exit 1")
    con = eve.wait_class("connected")
    check(con["pin"] == "unpinned", f"the refused join's connected line: {con}")
    check(not eve.find(eve.klass("pinned")), "a refused join pinned the certificate")
    check(t.fingerprint not in pins(eve.data_dir),
          f"a refused join pinned the certificate: {pins(eve.data_dir)!r}")

    ann = Student(t, "ann", "", data_dir=eve.data_dir)
    ann.wait_class("welcome")
    p = ann.wait_class("pinned")
    check(p["pin"] == "new" and p["fingerprint"] == t.fingerprint, f"pinned {p}")
    check(t.fingerprint in pins(ann.data_dir), "the admitted student's pin is missing")

    # A connection lost later is retried.
    t.send("drop ann")
    ann.wait_class("disconnected")
    ann.wait_class("welcome", resumed=True)
    check(ann.p.poll() is None, "join stopped after a lost connection")

    # The end of the class: the student is told, and exits 0 saying so.
    t.send("quit")
    check(t.finish() == 0, "the instructor did not exit 0")
    bye = ann.wait_class("bye")
    check(bye["text"] == "the instructor ended the class", f"bye {bye}")
    check(ann.finish() == 0, f"ann did not exit 0: {ann.err}")
    check("the instructor ended the class" in ann.err, f"join's last words: {ann.err!r}")


def lockstep_inject():
    t = Teacher(extra=["--mode", "lockstep", "--seed", "7"])
    ann = Student(t, "ann", "")
    t.wait_class("joined", student="ann")
    # A student that never reports keeps run 1 in progress.
    slow = tls_connect(t.port)
    slow.sendall(frame(HELLO, {"v": 2, "name": "slow", "code": t.code}))
    check(read_until(slow, WELCOME) is not None, "the slow student was not welcomed")
    t.wait_class("joined", student="slow")
    t.send("run")
    t.wait_class("results", reported=1, timeout=60)
    t.send("inject drop 1st packet from=server tcp.flags=ACK")
    inj = t.wait_class("inject")
    check(inj["live"] is True and inj["text"] == "added to the students' runs in progress",
          f"inject during the run: {inj}")
    got = read_until(slow, INJECT)
    check(got and got["run"] == 1, f"the slow student's inject: {got}")
    slow.close()
    t.wait_class("left", student="slow")
    # Run 1 is over for everyone connected: nothing is in progress.
    t.send("inject drop 1st packet from=server tcp.flags=SYN,ACK")
    inj = t.wait_class("inject", n=2)
    check(inj["live"] is False and "next run" in inj["text"] and "in progress" in inj["text"] and
          "added" not in inj["text"], f"inject after the run: {inj}")
    t.send("run")
    t.wait_class("results", reported=1, n=2, timeout=60)
    # Messages keep their order: had it been sent, it would be before run 2.
    ann.wait_class("run", run=2)
    check(not ann.find(ann.klass("inject", fault="drop 1st packet from=server tcp.flags=SYN,ACK")),
          "the fault went to a run that was over")
    runs = ann.runs()
    check(first_synack_dropped(runs[2]) is True, "the fault did not apply to the next run",
          runs[2])
    check(first_synack_dropped(runs[1]) is False, "run 1 had the fault", runs[1])
    # Queued faults apply once: run 3 is clean again.
    t.send("run")
    t.wait_class("results", reported=1, n=3, timeout=60)
    ev3 = ann.runs()[3]
    check(first_synack_dropped(ev3) is False, "run 3 still had the fault", ev3)
    t.send("quit")
    check(t.finish() == 0, "the instructor did not exit 0")
    check(ann.finish() == 0, f"ann did not exit 0: {ann.err}")


def main():
    need_lab()
    wrong_port()
    pinning_and_end()
    lockstep_inject()
    print("ok: wrong port, pin after admission, the end of a class, lockstep inject")


if __name__ == "__main__":
    sys.exit(main())
