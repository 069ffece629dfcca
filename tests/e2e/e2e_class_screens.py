"""The class screens in tmux, as an instructor and a student use them
(issue 14 items 8, 10, 11, 12, 13; issue 8 item 4):

- a student who types a wrong join code is told so, in the words of
  headless join ("wrong join code"), retypes it in the box, and joins;
- the dashboard's roster follows an exploring student's page;
- the dashboard's footer names what its keys do in a class;
- the tally shows each choice's text beside its key;
- a run started before any checkpoint is opened asks the student nothing
  and shows no outcome; opening asks, and right/wrong comes with the
  reveal only;
- `q` on the dashboard asks before ending a class with students in it;
  the students are told, and their `netcourse join` exits 0 saying so;
- a join to a port where no class listens says what failed, and exits 1;
- lockstep: the student's own run asks nothing before the open either.
"""
import re
import sys
import tempfile
import time

from classlib import Teacher, free_port
from nctest import Tmux, check, need_lab, need_tmux

need_lab()
need_tmux()

data = tempfile.mkdtemp(prefix="nc-class-screens-")
tm = Tmux(data)


def wait_for(win, pred, why, timeout=20):
    return tm.wait_for(pred, why, timeout, win)


def roster_row(screen, name):
    for line in screen.splitlines():
        cells = line.split()
        if cells and cells[0] == name:
            return cells
    return None


def boxed(screen):
    """The text inside the box on the screen, its lines joined by spaces."""
    rows = [l.split("│")[1] for l in screen.splitlines() if l.count("│") >= 2]
    return " ".join(" ".join(rows).split())


def secret(screen):
    """What the student's screen must not show before the instructor opens
    and reveals: a question, a verdict, a checkpoint mark that is not held."""
    bad = [l for l in screen.splitlines() if "Checkpoint" in l and "held until" not in l]
    for word in ("Predict, then press", "Right!", "Not this time", "the run shows"):
        if word in screen:
            bad.append(word)
    return bad


try:
    tm.start(f"--data-dir {data}/inst teach tcp --port 0", cols=110, rows=32, win="teach")
    s = wait_for("teach", lambda s: "join code" in s, "the dashboard")
    head = [l for l in s.splitlines() if "join code" in l][0].split()
    code, port = head[head.index("code") + 1], head[head.index("port") + 1]

    # Item 11: the footer says what the keys do in a class.
    foot = s.splitlines()[-1]
    for want in ("page", "next step", "open/reveal", "run", "Tab timeline", "end class"):
        check(want in foot, f"the dashboard footer lacks {want!r}: {foot!r}")
    check("layer" not in foot and "more" not in foot, f"dashboard footer: {foot!r}")
    # ... and the help says the same (its sentences are the man page's KEYS).
    tm.keys("?", win="teach")
    h = boxed(wait_for("teach", lambda s: "Keys" in s, "the help"))
    for _ in range(40):
        tm.keys("Down", win="teach")
    time.sleep(0.3)
    h += " " + boxed(tm.screen("teach"))
    for want in ("dashboard: open, then reveal, a checkpoint", "dashboard: the class's next step",
                 "dashboard: a run for the whole class", "dashboard: the instructor's own timeline",
                 "on the dashboard, end the class (asks first while students are connected)"):
        check(want in h, f"the dashboard's help lacks {want!r}:\n{h}")
    tm.keys("Escape", win="teach")
    wait_for("teach", lambda s: "Keys" not in s, "the help closed")
    # Item 8: a wrong code, said as headless join says it, retyped.
    tm.window("stu", f"--data-dir {data}/stu join 127.0.0.1 WRNG-CODE-XXXX --port {port} "
                     f"--name dee")
    s = wait_for("stu", lambda s: "wrong join code" in s and "Join code: _" in s,
                 "the refusal and the offer to retype the code")
    check("Type the" in s and "code again" in s, f"the box does not offer to retype:\n{s}")
    tm.keys(code, win="stu")
    wait_for("stu", lambda s: f"Join code: {code}_" in s, "the typed code")
    tm.keys("Enter", win="stu")
    wait_for("stu", lambda s: "following instructor" in s and "page 1 of" in s,
             "the student admitted, following the instructor")
    wait_for("teach", lambda s: "Students: 1 connected of 1" in s, "the student on the roster")

    # Item 10: the roster follows a student exploring on their own.
    tm.keys("l", win="stu")
    tm.keys("l", win="stu")
    wait_for("stu", lambda s: "page 3 of" in s and "exploring on your own" in s,
             "the student on page 3, exploring")
    s = wait_for("teach", lambda s: (roster_row(s, "dee") or [""])[1:2] == ["exploring"]
                 and roster_row(s, "dee")[2] == "3", "dee exploring on page 3 in the roster")
    tm.keys("F", win="stu")
    wait_for("stu", lambda s: "following instructor" in s and "page 1 of" in s,
             "the student following again")
    wait_for("teach", lambda s: (roster_row(s, "dee") or ["", ""])[1] == "following"
             and roster_row(s, "dee")[2] == "1", "dee following on page 1 in the roster")

    # Item 4: a run before any checkpoint is opened asks nothing, shows no outcome.
    tm.keys("r", win="teach")
    wait_for("teach", lambda s: "Run finished" in s, "the run finished", timeout=40)
    s = wait_for("stu", lambda s: "TCP: live run" in s and "FIN" in s, "the whole run streamed")
    time.sleep(0.5)
    check(not secret(tm.screen("stu")), f"the student saw a checkpoint before it was opened:\n"
                                        f"{tm.screen('stu')}")
    for key in ("g", "PageDown", "PageDown", "PageDown", "PageDown"):
        tm.keys(key, win="stu")
        time.sleep(0.2)
        s = tm.screen("stu")
        check(not secret(s), f"the student saw a checkpoint before it was opened:\n{s}")
    check("held until the instructor" in s or "held until the instructor" in tm.screen("stu"),
          "no held checkpoint row in the student's ladder")
    tm.keys("F", win="stu")

    # Item 12, and the open: the tally has the choices' texts; the student
    # is asked, and told nothing of the outcome until the reveal.
    tm.keys("Enter", win="teach")
    s = wait_for("teach", lambda s: 'Checkpoint "header" (open)' in s, "the open checkpoint")
    choices = [l.split("│", 1)[1].strip() for l in s.splitlines() if "│" in l]
    texts = [c for c in choices if re.match(r"^[a-d]\) \S", c)]
    check(len(texts) >= 3, f"the tally shows no choice texts:\n{s}")
    s = wait_for("stu", lambda s: "Predict, then press" in s, "the question on the student's screen")
    tm.keys("b", win="stu")
    s = wait_for("stu", lambda s: "Your answer: b)" in s, "the student's answer")
    time.sleep(0.5)
    s = tm.screen("stu")
    check("Right!" not in s and "Not this time" not in s, f"a verdict before the reveal:\n{s}")
    wait_for("teach", lambda s: "1 answered of 1" in s, "the answer in the tally")
    tm.keys("Enter", win="teach")
    wait_for("teach", lambda s: '"header" (revealed)' in s, "the reveal")
    wait_for("stu", lambda s: "Right!" in s or "Not this time" in s, "the verdict after the reveal")

    # Item 13: q asks first; the student is told and leaves cleanly.
    tm.keys("q", win="teach")
    s = wait_for("teach", lambda s: "End the class?" in s, "the question before ending the class")
    check("1 student is connected" in s, f"the end-of-class question:\n{s}")
    tm.keys("n", win="teach")
    wait_for("teach", lambda s: "End the class?" not in s and "join code" in s,
             "the dashboard again")
    check("EXITED" not in tm.screen("teach"), "n ended the class")
    tm.keys("q", win="teach")
    wait_for("teach", lambda s: "End the class?" in s, "the question again")
    tm.keys("y", win="teach")
    wait_for("teach", lambda s: "EXITED 0" in s, "the instructor's exit")
    wait_for("stu", lambda s: "The instructor ended the class. Press any key to leave." in s,
             "the end of the class on the student's screen")
    tm.keys("x", win="stu")
    s = wait_for("stu", lambda s: "EXITED 0" in s, "the student's exit")
    check("netcourse: the instructor ended the class" in s, f"join's last words:\n{s}")
    # Item 9 in the interface: the first connection fails, and join stops.
    port = free_port()
    tm.window("nowhere", f"--data-dir {data}/nowhere join 127.0.0.1 AAAA-BBBB-CCCC "
                         f"--port {port} --name eve")
    s = wait_for("nowhere", lambda s: "Could not join the class" in s and "refused" in s,
                 "the failed first connection")
    check("Join code" not in s, f"a failed connection offers to retype the code:\n{s}")
    tm.keys("x", win="nowhere")
    s = wait_for("nowhere", lambda s: "EXITED 1" in s, "join's exit")
    check(f"could not join the class at 127.0.0.1:{port}" in s, f"join's last words:\n{s}")

    # Lockstep: the student's own run is held back as the instructor's is.
    t = Teacher(extra=["--mode", "lockstep"])
    try:
        tm.window("lock", f"--data-dir {data}/lock join 127.0.0.1 {t.code} --port {t.port} "
                          f"--name fay")
        wait_for("lock", lambda s: "following instructor" in s, "the lockstep student")
        t.send("run")
        t.wait_class("results", reported=1, timeout=60)
        s = wait_for("lock", lambda s: "TCP: live run" in s and "FIN" in s, "the student's run")
        check(not secret(s), f"the lockstep student saw a checkpoint before it was opened:\n{s}")
        t.send("open header")
        wait_for("lock", lambda s: "Predict, then press" in s, "the question, once opened")
        tm.keys("b", win="lock")
        s = wait_for("lock", lambda s: "Your answer: b)" in s, "the lockstep student's answer")
        check("Right!" not in s and "Not this time" not in s, f"a verdict before the reveal:\n{s}")
        t.wait_class("tally", answered=1)
        t.send("reveal")
        wait_for("lock", lambda s: "Right!" in s or "Not this time" in s, "the verdict")
        t.send("quit")
        check(t.finish() == 0, "the lockstep instructor did not exit 0")
    finally:
        t.kill()
    print("ok: wrong code retyped, roster page, footer and help, tally texts, held checkpoints, "
          "ending a class, a wrong port, lockstep")
finally:
    tm.kill()
