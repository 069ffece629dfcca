"""Live class identity, grades and long sessions against hostile students
(issue 13, items 6, 8, 9 and 10), on loopback:
- lockstep: three fake students report a run that "decided" the wrong
  answer; the reveal still gives the answer of the instructor's own run,
  the honest student is graded right, and the fakes are flagged (6);
- a student killed with kill -9 after answering rejoins: the instructor
  tells it what it answered, and the reveal grades and stores it (8);
- names: invisible characters, bidi overrides, control characters and
  invalid UTF-8 are refused; a Cyrillic look-alike of "ann" is shown
  numbered; repeated names get predictable numbers, and are bounded (9);
- the instructor stopped (SIGSTOP) for longer than the idle timeout: on
  resume nobody is closed as idle (10);
- the instructor restarted with a new code: a student is told the class
  was restarted and how to rejoin, and exits (10).
"""
import os
import signal
import sqlite3
import sys
import time

from classlib import (ERROR, HELLO, RESULT, RUN, WELCOME, Student, Teacher, frame, raw_join,
                      read_frame, read_until, tls_connect)
from nctest import check, need_lab


def forged_results():
    """Item 6."""
    t = Teacher(extra=["--mode", "lockstep", "--seed", "7"])
    ann = Student(t, "ann", "* b\n")
    t.wait_class("joined", student="ann")
    fakes = []
    for k in range(3):
        s, mtype, body = raw_join(t, f"fake{k}", src=f"127.0.5.{k + 1}")
        check(mtype == WELCOME, f"fake{k}: {body}")
        fakes.append(s)
    t.send("inject drop 1st packet from=server tcp.flags=SYN,ACK")
    t.send("run")
    for s in fakes:
        run = read_until(s, RUN)
        s.sendall(frame(RESULT, {"run": run["run"], "events": 3, "packets": 1, "dropped": 0,
                                 "retransmissions": 0, "saw_retransmission": False,
                                 "completed": True, "decided": {"header": "c"}}))
    t.wait_class("results", reported=4, timeout=60)
    t.wait_class("reference", timeout=60)
    for k in range(3):
        t.wait_class("outlier", student=f"fake{k}")
    check(not t.find(t.klass("outlier", student="ann")), "ann's honest result was flagged")
    t.send("open header")
    t.wait_class("tally", answered=1)
    t.send("reveal")
    rev = t.wait_class("reveal")
    check(rev["answer"] == "b" and rev["right"] == 1, f"the forged results decided: {rev}")
    r = ann.wait_class("reveal")
    check(r["answer"] == "b" and r["correct"], f"ann's reveal {r}")
    for s in fakes:
        s.close()
    t.send("quit")
    check(t.finish() == 0 and ann.finish() == 0, "the lockstep class did not end cleanly")


def grade_after_kill():
    """Item 8."""
    t = Teacher()
    ann = Student(t, "ann", "header b\n")
    t.wait_class("joined", student="ann")
    t.send("run")
    t.wait_class("run", state="done", run=1, timeout=60)
    t.send("open header")
    t.wait_class("answer", student="ann", choice="b")
    ann.p.send_signal(signal.SIGKILL)
    ann.p.wait()
    again = Student(t, "ann", None, data_dir=ann.data_dir)
    again.wait_class("welcome", resumed=True)
    again.wait_class("checkpoint")
    t.send("reveal")
    rev = t.wait_class("reveal")
    check(rev["answer"] == "b", f"reveal {rev}")
    r = again.wait_class("reveal")
    check(r["mine"] == "b" and r["correct"], f"the rejoined student's reveal: {r}")
    db = sqlite3.connect(f"{ann.data_dir}/progress.db")
    row = db.execute("select choice, correct from answers where lesson='tcp' and "
                     "checkpoint='header'").fetchone()
    db.close()
    check(row == ("b", 1), f"the stored answer after the rejoin: {row}")
    t.send("quit")
    check(t.finish() == 0 and again.finish() == 0, "the class did not end cleanly")


def hello_raw(t, body):
    s = tls_connect(t.port)
    s.sendall(frame(HELLO, body))
    for _ in range(50):
        mtype, reply = read_frame(s)
        if mtype in (None, WELCOME, ERROR):
            s.close()
            return mtype, reply
    s.close()
    return None, None


def names():
    """Item 9."""
    t = Teacher()
    for bad in ("ann\u200b", "\u202eann", "\u0085ann", "an\u200dn", "   "):
        mtype, reply = hello_raw(t, {"v": 2, "name": bad, "code": t.code})
        check(mtype == ERROR and reply["code"] == "name", f"the name {bad!r} got {reply}")
    raw = b'{"v":2,"name":"a\xffnn","code":"' + t.code.encode() + b'"}'
    mtype, reply = hello_raw(t, raw)
    check(mtype == ERROR and reply["code"] in ("name", "garbage"),
          f"a name in invalid UTF-8 got {reply}")
    s, mtype, body = raw_join(t, "ann")
    check(body["name"] == "ann", f"ann: {body}")
    # NFC: "e" and a combining acute accent are "\u00e9".
    e, mtype, body = raw_join(t, "Rene\u0301")
    check(body["name"] == "Ren\u00e9", f"an NFD name: {body}")
    c, mtype, body = raw_join(t, "\u0430nn")
    check(mtype == WELCOME and body["name"] == "\u0430nn#2", f"a Cyrillic look-alike: {body}")
    t.wait_class("joined", student="\u0430nn#2", looks_like="ann")
    # Taking a name first: numbers are the count of look-alikes so far.
    socks = []
    for k in range(1, 100):
        d, mtype, body = raw_join(t, "zed", src="127.0.6.1")
        want = "zed" if k == 1 else f"zed#{k}"
        check(mtype == WELCOME and body["name"] == want, f"zed number {k}: {body}")
        socks.append(d)
    d, mtype, body = raw_join(t, "zed", src="127.0.6.2")
    check(mtype == ERROR and body["code"] == "name", f"the 100th zed: {body}")
    check(not t.bad, f"the log has lines that are not JSON: {t.bad[:2]}")
    for x in socks + [s, e, c, d]:
        x.close()
    t.send("quit")
    check(t.finish() == 0, "the names class did not end cleanly")


def pause_and_restart():
    """Item 10."""
    t = Teacher(extra=["--idle-timeout", "8"])
    ann = Student(t, "ann", "")
    t.wait_class("joined", student="ann")
    t.p.send_signal(signal.SIGSTOP)
    time.sleep(11)
    t.p.send_signal(signal.SIGCONT)
    t.wait_class("paused")
    time.sleep(2)
    check(not t.find(t.klass("left", student="ann")), "ann was closed after the pause")
    check(ann.count(ann.klass("welcome")) == 1, "ann had to rejoin after the pause")
    # The instructor dies and starts again: same port and identity, a new
    # code.
    port, data = t.port, t.data_dir
    t.p.send_signal(signal.SIGKILL)
    t.p.wait()
    t2 = Teacher(port=port, data_dir=data)
    err = ann.wait(lambda o: o.get("class") == "error" and o.get("code") == "restarted",
                   "ann told the class was restarted", timeout=40)
    check("join again" in err["text"], f"what ann was told: {err}")
    check(ann.finish() == 1, "ann did not exit 1 after the restart")
    check("restarted" in ann.err and "netcourse join" in ann.err, f"join's message {ann.err!r}")
    t2.send("quit")
    check(t2.finish() == 0, "the restarted class did not end cleanly")


def main():
    need_lab()
    forged_results()
    grade_after_kill()
    names()
    pause_and_restart()
    print("ok: forged results, grade after kill -9, names, pause, restart")


if __name__ == "__main__":
    sys.exit(main())
