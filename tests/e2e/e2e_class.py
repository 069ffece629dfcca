"""Live class, watch mode, end to end on loopback: one instructor and three
headless students (plus a late joiner).

- the students' timelines equal the instructor's, event for event;
- page and step changes reach every student;
- the checkpoint tally equals the scripted answers, and every answer is in
  the student's own progress database, judged at the reveal;
- a late joiner gets the whole timeline so far;
- a killed and restarted student resumes (same roster entry, whole timeline);
- a student whose connection the instructor drops reconnects by itself;
- a fault injected live applies to the run.
"""
import sqlite3
import sys

from classlib import Student, Teacher, same_run
from nctest import check, need_lab


def main():
    need_lab()
    t = Teacher()
    answers = {"ann": "header a\n", "bob": "header b\n", "cy": "* b\n"}
    st = {n: Student(t, n, a) for n, a in answers.items()}
    for n in st:
        t.wait_class("joined", student=n)
        st[n].wait_class("welcome")

    # Page and step reach everyone.
    t.send("page 2")
    t.send("step 2")
    for n, s in st.items():
        p = s.wait_class("page", page=2)
        check(p["following"] is True, f"{n} is not following")
        s.wait_class("step", step=2)

    # Checkpoint: the tally equals the scripted answers.
    t.send("open header")
    t.wait_class("tally", answered=3)
    tally = t.wait_class("tally", answered=3)
    check(tally["counts"] == {"a": 1, "b": 2, "c": 0}, f"tally {tally['counts']}")

    t.send("run")
    t.wait_class("run", state="done", run=1)
    t.send("reveal")
    rev = t.wait_class("reveal")
    check(rev["answer"] == "b" and rev["right"] == 2 and rev["wrong"] == 1,
          f"reveal {rev}")
    want = t.students_runs()[1]
    check(len(want) > 30, f"the instructor's run has only {len(want)} events")
    # The reveal explains by the run's outcome, as the run's decided mark does.
    dec = [e for e in want if e.get("checkpoint") == "header" and e.get("event") == "decided"]
    check(dec, "the instructor's run did not decide the header checkpoint")
    for n, s in st.items():
        s.wait_class("run", state="done", run=1)
        r = s.wait_class("reveal")
        check(r["mine"] == answers[n].split()[1] and r["correct"] == (n != "ann"),
              f"{n}'s reveal {r}")
        check(r.get("explain") == dec[0]["explain"], f"{n}'s reveal explains {r.get('explain')!r}")
        same_run(n, s.runs()[1], want)
        db = sqlite3.connect(f"{s.data_dir}/progress.db")
        row = db.execute("select choice, correct from answers where lesson='tcp' and "
                         "checkpoint='header'").fetchone()
        check(row == (answers[n].split()[1], int(n != "ann")), f"{n}'s stored answer {row}")

    # A late joiner gets the whole timeline so far.
    late = Student(t, "dee", "")
    late.wait_class("run", state="done", run=1)
    late.wait(lambda o: o.get("i") == len(want) - 1 and "type" in o, "the last event")
    same_run("the late joiner", late.runs()[1], want)

    # A killed and restarted student resumes: same roster entry.
    st["bob"].kill()
    t.wait_class("left", student="bob")
    bob2 = Student(t, "bob", "", data_dir=st["bob"].data_dir)
    t.wait_class("joined", student="bob", resumed=True)
    bob2.wait(lambda o: o.get("i") == len(want) - 1 and "type" in o, "the last event")
    same_run("the restarted bob", bob2.runs()[1], want)
    st["bob"] = bob2

    # Dropped by the server, a student reconnects by itself.
    t.send("drop cy")
    st["cy"].wait_class("disconnected")
    st["cy"].wait_class("welcome", resumed=True)
    t.wait_class("joined", student="cy", resumed=True)

    t.send("roster")
    roster = t.wait_class("roster")
    names = sorted(s["name"] for s in roster["students"])
    check(names == ["ann", "bob", "cy", "dee"], f"roster {names}")
    check(all(s["connected"] for s in roster["students"]), f"roster {roster}")

    # A second run with a fault injected live, then before the run: every
    # student follows it event for event.
    t.send("inject drop 1st packet from=server tcp.flags=SYN,ACK")
    inj = t.wait_class("inject")
    check(inj["live"] is False, f"inject {inj}")
    t.send("run")
    t.wait_class("run", state="started", run=2)
    t.send("inject drop 2nd packet from=server tcp.flags=ACK")
    inj = t.wait_class("inject", n=2)
    t.wait_class("run", state="done", run=2)
    want2 = t.students_runs()[2]
    synacks = [e for e in want2 if e["type"] == "packet" and
               set(e.get("tcp", {}).get("flags", [])) == {"SYN", "ACK"}]
    check(synacks and synacks[0]["dropped"] is True,
          "the injected fault did not drop the first SYN-ACK", want2)
    if inj["live"]:
        notes = [e for e in want2 if "drop 2nd packet" in (e.get("note") or "")]
        check(notes, "the live fault left no trace in the run", want2)
    everyone = dict(st, dee=late)
    for n, s in everyone.items():
        s.wait_class("run", state="done", run=2)
        same_run(f"{n} (run 2)", s.runs()[2], want2)

    t.send("quit")
    check(t.finish() == 0, "the instructor did not exit 0")
    for n, s in everyone.items():
        s.wait_class("bye")
        check(s.finish() == 0, f"{n} did not exit 0: {s.err}")
        check(not s.bad, f"{n} printed lines that are not JSON: {s.bad[:3]}")
    print("ok: watch, page/step, checkpoint, late join, resume, reconnect, live faults")


if __name__ == "__main__":
    sys.exit(main())
