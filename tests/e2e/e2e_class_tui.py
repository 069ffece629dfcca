"""A live class in the interface, driven in tmux: the instructor's dashboard
shows the join code, the roster and a live tally; a student's screen
follows the instructor (the class's page, the streamed run in the ladder)
and says so in its footer; `u` leaves and rejoins the instructor."""
import os
import shutil
import subprocess
import sys
import tempfile
import time

from classlib import Proc
from nctest import BIN, Tmux, check, fail, need_lab, need_tmux

need_lab()
need_tmux()

data = tempfile.mkdtemp(prefix="nc-class-tui-")
tm = Tmux(data)


def screen(win):
    return tm.screen(win)


def keys(win, *k):
    tm.keys(*k, win=win)


def wait_for(win, pred, why, timeout=20):
    return tm.wait_for(pred, why, timeout, win)


def start(win, args, first=False):
    if first:
        tm.start(args, cols=110, rows=32, win=win)
    else:
        tm.window(win, args)


students = []
try:
    start("teach", f"--data-dir {data}/inst teach tcp --port 0", first=True)
    # tmux may capture the dashboard half drawn: wait for its roster line too.
    s = wait_for("teach", lambda s: "join code" in s and "Students:" in s, "the dashboard")
    check("Class: TCP (watch)" in s and "Students: 0 connected" in s, f"dashboard:\n{s}")
    line = [l for l in s.splitlines() if "join code" in l][0].split()
    code, port = line[line.index("code") + 1], line[line.index("port") + 1]

    for name, answer in (("ann", "b"), ("bob", "b"), ("cy", "a")):
        path = os.path.join(data, name + ".answers")
        with open(path, "w") as f:
            f.write(f"header {answer}\n")
        students.append(Proc(name, ["join", "127.0.0.1", code, "--port", port, "--name", name,
                                    "--headless", "--answers", path], f"{data}/{name}"))
    start("stu", f"--data-dir {data}/dee join 127.0.0.1 {code} --port {port} --name dee")
    wait_for("teach", lambda s: "Students: 4 connected of 4" in s, "four students")
    st = wait_for("stu", lambda s: "following instructor" in s and "page 1 of" in s,
                  "the student's reader following the instructor")

    keys("teach", "l")  # next page: the student follows
    wait_for("stu", lambda s: "page 2 of" in s, "the student on page 2")
    keys("teach", "Enter")  # open the first checkpoint
    wait_for("stu", lambda s: "press its letter to answer" in s, "the open checkpoint")
    keys("stu", "c")
    s = wait_for("teach", lambda s: "4 answered of 4" in s, "the tally of four answers")
    check('Checkpoint "header" (open)' in s, f"dashboard:\n{s}")
    rows = {l.split()[0]: l for l in s.splitlines() if l.split() and
            l.split()[0] in ("ann", "bob", "cy", "dee")}
    check(len(rows) == 4 and all("following" in r for r in rows.values()), f"roster:\n{s}")
    # Each choice: "a) its text", then its bar and count on the next row.
    right = [l.split("│", 1)[1] if "│" in l else "" for l in s.splitlines()]
    bars = {r.split()[0][0]: right[k + 1].split()[-1] for k, r in enumerate(right[:-1])
            if r.strip()[:3] in ("a) ", "b) ", "c) ")}
    check(bars == {"a": "1", "b": "2", "c": "1"}, f"tally bars {bars}:\n{s}")

    keys("teach", "r")  # run: the student's ladder follows the streamed run
    wait_for("stu", lambda s: "TCP: live run" in s, "the streamed run in the student's ladder")
    keys("stu", "g")  # the run may have scrolled past its first packets
    wait_for("stu", lambda s: "SYN seq=0" in s, "the run's first packet in the student's ladder")
    check("Predict, then press" not in screen("stu"),
          "the ladder asks again what the student answered to the class")
    # The reveal gives what the instructor's run decided: let it get there
    # (under ASan and load a run takes longer than the keys).
    wait_for("teach", lambda s: "Run finished" in s, "the run finished on the dashboard")
    keys("teach", "Enter")  # reveal
    s = wait_for("teach", lambda s: "(revealed)" in s and "More than 20 bytes" in s, "the reveal")
    wait_for("stu", lambda s: "following instructor" in s, "following after the reveal")
    keys("stu", "u")
    wait_for("stu", lambda s: "exploring on your own" in s, "unfollowed")
    keys("stu", "F")
    wait_for("stu", lambda s: "following instructor" in s, "following again")
    keys("teach", "q")
    wait_for("teach", lambda s: "End the class?" in s, "the question before ending the class")
    keys("teach", "y")
    wait_for("teach", lambda s: "EXITED 0" in s, "the instructor's exit")
    wait_for("stu", lambda s: "The instructor ended the class" in s,
             "the end of the class on the student's")
    keys("stu", "q")  # the student keeps their screen until they leave
    wait_for("stu", lambda s: "EXITED 0" in s, "the student's exit")
    for p in students:
        p.wait_class("bye")
        check(p.finish() == 0, f"{p.name} did not exit 0")
    print("ok: dashboard with roster and tally; a student following the instructor")
finally:
    for p in students:
        p.kill()
    tm.kill()
