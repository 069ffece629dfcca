"""Live class: nothing of a checkpoint reaches a student before the
instructor opens and reveals it (issue 8 item 4), headless, in watch and
lockstep mode.

Watch: the instructor runs the lesson before opening anything. Every
student (one that answers, one that does not, a late joiner, a student the
instructor drops and who reconnects, and one killed and restarted) gets
the whole run with each checkpoint mark held: the same index and time, no
question, no choices, no answer. Opening a checkpoint tells the students
its question and where the run asked it, and nothing of its outcome; the
students' right/wrong appears only with the reveal. A student who joins
after the reveal gets that checkpoint's marks released, and the others
still held.

Lockstep: each student's own run decides its checkpoints, and still
nothing of them reaches the student's output before the open and the
reveal.
"""
import json
import os
import signal
import sqlite3
import sys

from classlib import Student, Teacher, same_run
from nctest import check, need_lab


def cp_marks(lines):
    return [o for o in lines if o.get("type") == "mark" and "checkpoint" in o]


def texts(teacher_events):
    """What the run's checkpoint marks say: every question asked, and every
    summary (the question, or what the run showed)."""
    out = set()
    for e in cp_marks(teacher_events):
        out.add(e["summary"])
        if e.get("event") == "asked":
            out.add(e["question"])
    return out


def leaks(student, secrets, upto=None):
    """Lines of the student's output (up to index upto) that carry a
    checkpoint's question, a choice's text, or a checkpoint mark."""
    with student.cv:
        lines = list(student.lines[:upto])
    bad = []
    for o in lines:
        s = json.dumps(o)
        if "checkpoint" in o and o.get("type") == "mark":
            bad.append(s)
        elif any(t in s for t in secrets):
            bad.append(s)
    return bad


def stored(student, checkpoint):
    """The (choice, correct) the student's progress holds, or None."""
    path = os.path.join(student.data_dir, "progress.db")
    if not os.path.exists(path):
        return None
    db = sqlite3.connect(path)
    try:
        return db.execute("select choice, correct from answers where checkpoint=?",
                          (checkpoint,)).fetchone()
    except sqlite3.OperationalError:
        return None
    finally:
        db.close()


def watch():
    t = Teacher()
    ann = Student(t, "ann", "header b\n")
    bob = Student(t, "bob", "")
    for n in ("ann", "bob"):
        t.wait_class("joined", student=n)

    # The run first: the students see it all, every checkpoint held.
    t.send("run")
    t.wait_class("run", state="done", run=1)
    want = t.students_runs()[1]
    secrets = texts(want)
    check(len(cp_marks(want)) >= 4 and secrets, "the instructor's run asked no checkpoint", want)
    decided = [e for e in want if e.get("checkpoint") == "header" and e.get("event") == "decided"]
    check(decided, "the run did not decide header", want)
    asked = [e for e in want if e.get("checkpoint") == "header" and e.get("event") == "asked"][0]
    for s in (ann, bob):
        s.wait_class("run", state="done", run=1)
        s.wait(lambda o: o.get("i") == len(want) - 1 and "type" in o, "the last event")
        same_run(s.name, s.runs()[1], want, set())
        check(not leaks(s, secrets), f"{s.name} saw a checkpoint before it was opened: "
                                      f"{leaks(s, secrets)[:2]}")
        check(not s.find(s.klass("answered")), f"{s.name} answered a checkpoint nobody opened")

    # A dropped student reconnects and resumes: still nothing.
    t.send("drop bob")
    bob.wait_class("welcome", resumed=True)
    check(not leaks(bob, secrets), f"bob after reconnecting: {leaks(bob, secrets)[:2]}")

    # Open: the question, where it was asked, and nothing of the outcome.
    mark = len(ann.lines)
    t.send("open header")
    for s in (ann, bob):
        cp = s.wait_class("checkpoint", id="header")
        check(cp["question"] == asked["question"], f"{s.name}'s checkpoint {cp}")
    ann.wait_class("answered", id="header", choice="b")
    t.wait_class("tally", answered=1)
    check(stored(ann, "header") is None,
          f"ann's progress judged her answer before the reveal: {stored(ann, 'header')}")
    late = Student(t, "cy", "")
    late.wait(lambda o: o.get("i") == len(want) - 1 and "type" in o, "the last event")
    same_run("the late joiner (open)", late.runs()[1], want, {("header", "asked")})
    for s in (ann, bob, late):
        check(not s.find(s.klass("reveal")), f"{s.name} got a reveal before the reveal")
        got = [o for o in s.lines if o.get("type") == "mark" and
               o.get("checkpoint") == "header" and o.get("event") != "asked"]
        check(not got, f"{s.name} got header's outcome before the reveal: {got}")
    check(not leaks(ann, secrets, upto=mark), "ann saw something before the open")

    # Reveal: now, and only now, right or wrong. bob is away at that
    # moment (stopped, his connection dropped): he gets it when he is back.
    bob.p.send_signal(signal.SIGSTOP)
    t.send("drop bob")
    t.wait_class("left", student="bob")
    t.send("reveal")
    rev = t.wait_class("reveal")
    bob.p.send_signal(signal.SIGCONT)
    t.wait_class("joined", student="bob", resumed=True, n=2)
    for s, mine in ((ann, "b"), (bob, None), (late, None)):
        r = s.wait_class("reveal", id="header")
        check(r["answer"] == decided[0]["answer"] and r["mine"] == mine,
              f"{s.name}'s reveal {r}, the run decided {decided[0]['answer']}")
        if mine:
            check(r["correct"] == (mine == rev["answer"]), f"{s.name}'s reveal {r}")
            check(stored(s, "header") == (mine, int(r["correct"])),
                  f"{s.name}'s stored answer {stored(s, 'header')}")

    # After the reveal, a new student gets header released, the rest held;
    # a killed and restarted one too.
    dee = Student(t, "dee", "")
    dee.wait(lambda o: o.get("i") == len(want) - 1 and "type" in o, "the last event")
    same_run("the late joiner (revealed)", dee.runs()[1], want,
            {("header", "asked"), ("header", "decision")})
    bob.kill()
    t.wait_class("left", student="bob")
    bob2 = Student(t, "bob", "", data_dir=bob.data_dir)
    t.wait_class("joined", student="bob", resumed=True)
    bob2.wait(lambda o: o.get("i") == len(want) - 1 and "type" in o, "the last event")
    same_run("the restarted bob", bob2.runs()[1], want,
            {("header", "asked"), ("header", "decision")})

    t.send("quit")
    check(t.finish() == 0, "the instructor did not exit 0")
    for s in (ann, late, dee, bob2):
        check(s.finish() == 0, f"{s.name} did not exit 0: {s.err}")


def lockstep():
    t = Teacher(extra=["--mode", "lockstep", "--seed", "7"])
    ann = Student(t, "ann", "* b\n")
    t.wait_class("joined", student="ann")
    t.send("run")
    res = ann.wait_class("result", timeout=60)
    ev = ann.runs()[1]
    check(len(ev) == res["events"], f"ann printed {len(ev)} events, reported {res['events']}")
    held = [e for e in ev if e.get("held")]
    check(len(held) >= 4, "ann's own run shows no held checkpoint mark", ev)
    check(not [e for e in ev if "checkpoint" in e], "ann's own run showed a checkpoint mark")
    asked = [o for o in ann.lines if o.get("class") in ("checkpoint", "answered", "reveal")]
    check(not asked, f"ann was asked before the open: {asked}")
    before = len(ann.lines)
    t.send("open header")
    q = ann.wait_class("checkpoint", id="header")["question"]
    check(not [o for o in ann.lines[:before] if q in json.dumps(o)],
          "ann's own run showed the question before the open")
    ann.wait_class("answered", id="header", choice="b")
    check(not ann.find(ann.klass("reveal")), "a reveal before the reveal")
    t.send("reveal")
    r = ann.wait_class("reveal", id="header")
    own = res["decided"].get("header")
    check(r["mine"] == "b" and r["correct"] is (None if own is None else own == "b"),
          f"ann's reveal {r}, her run decided {res['decided']}")
    t.send("quit")
    check(t.finish() == 0, "the instructor did not exit 0")
    check(ann.finish() == 0, f"ann did not exit 0: {ann.err}")


def ungraded():
    """A checkpoint revealed before any run decided it grades nobody."""
    t = Teacher()
    ann = Student(t, "ann", "* b\n")
    t.wait_class("joined", student="ann")
    t.send("open header")
    ann.wait_class("answered", id="header", choice="b")
    t.wait_class("tally", answered=1)
    t.send("reveal")
    r = ann.wait_class("reveal", id="header")
    check(r["answer"] is None and r["mine"] == "b" and r["correct"] is None,
          f"a reveal no run decided: {r}")
    check(stored(ann, "header") is None, f"an ungraded answer was stored: {stored(ann, 'header')}")
    t.send("quit")
    check(t.finish() == 0 and ann.finish() == 0, "the class did not end cleanly")


def main():
    need_lab()
    watch()
    lockstep()
    ungraded()
    print("ok: checkpoints held until the instructor opens and reveals them")


if __name__ == "__main__":
    sys.exit(main())
