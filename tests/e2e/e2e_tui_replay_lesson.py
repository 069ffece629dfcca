"""A saved lesson run replayed as a lesson, driven in tmux: `replay FILE
--pace S` plays one event at a time (not in real time), pauses at every
step's first mark and at every checkpoint the run asked, asks it as the
live run did, shows the verdict the run decided, and records each answer
in the student's progress; the footer shows the replay's own keys (no
`r`), and - + change the pace.

The saved run is made here (`run tcp --headless --save`) so that its
checkpoints are the lesson's own; it is replayed with another data
directory, so the progress read at the end is the replay's alone."""
import json
import os
import re
import shutil
import tempfile

from nctest import *

need_tmux()
need_lab()

data = tempfile.mkdtemp(prefix="nc-tui-lesson-")
maker, student = os.path.join(data, "maker"), os.path.join(data, "student")
saved = os.path.join(data, "tcp.pcapng")
rc, out, err = run(["run", "tcp", "--headless", "--save", saved], data_dir=maker)
check(rc == 0, f"`run tcp --headless --save` exited {rc}: {err.strip()}")
rc, out, err = run(["replay", saved, "--json"])
check(rc == 0, f"`replay --json` exited {rc}: {err.strip()}")
events = [json.loads(l) for l in out.splitlines()]
n = len(events)

# Where the paced replay must stop, in order: each step's first mark (but
# the first, where it starts) and each checkpoint the run asked.
stops = []
for e in events:
    if e["type"] == "mark" and e.get("event") == "begin" and e["i"] > 0:
        stops.append(("step", e["i"], None))
    if e["type"] == "mark" and e.get("event") == "asked":
        dec = [d for d in events if d["type"] == "mark" and d.get("event") == "decided" and
               d.get("checkpoint") == e["checkpoint"]]
        check(dec, f"checkpoint {e['checkpoint']} was asked and never decided", events)
        stops.append(("checkpoint", e["i"], (e, dec[0])))
asked = [s for s in stops if s[0] == "checkpoint"]
check(len(asked) >= 2, f"the tcp run asked {len(asked)} checkpoints; the test needs two", events)
# Up to the mark that decides the second checkpoint.
last = asked[1][2][1]["i"]
stops = [st for st in stops if st[1] < last] + [("end", last + 1, None)]

tm = Tmux(data)
screen, keys, wait_for = tm.screen, tm.keys, tm.wait_for


def status(s):
    """The play head's status on the title row: (state, pace, shown)."""
    m = re.search(r"(playing|paused) paced ([0-9.]+)s/event, (\d+)/" + str(n), s.splitlines()[0])
    return (m.group(1), m.group(2), int(m.group(3))) if m else None


try:
    tm.start(f"--data-dir {student} replay {saved} --pace 0.25", cols=110, rows=40)
    s = wait_for(lambda s: status(s) is not None, why="the paced status")
    foot = s.splitlines()[-1]
    check("p play" in foot and "P paced" in foot and " r run" not in foot,
          f"the footer does not show the replay's own keys (and no r):\n{s}")
    keys("+")
    wait_for("paced 0.125s/event", why="+ halves the seconds an event")
    print("ok: paced status, the replay's footer, + sets the pace")

    answers, pending = [], []  # pending: (decided index, verdict) not yet shown
    for kind, i, cp in stops:
        # A verdict shows once the head has passed the mark that decided it.
        while pending and pending[0][0] < i:
            wait_for(pending[0][1], timeout=60, why=f"the verdict {pending[0][1]!r}")
            keys("Enter")
            pending.pop(0)
        if kind == "end":
            break
        seen = set()

        def at_stop(s):
            st = status(s)
            if st:
                seen.add(st[2])
            if kind == "step":
                return st == ("paused", "0.125", i + 1) and "Step " in s.splitlines()[1]
            flat = " ".join(s.split())  # the question wraps in its panel
            return (st and st[2] == i + 1 and "your answer?" in s and
                    " ".join(cp[0]["question"].split()) in flat)
        wait_for(at_stop, timeout=60, why=f"the replay stopped at the {kind} mark #{i}")
        # One event at a time: the head was seen on its way (more than the
        # stop itself and where it left from).
        check(len(seen) >= 3, f"the head jumped to #{i} (seen at {sorted(seen)}), it was not paced")
        if kind == "step":
            keys("p")
            continue
        ask, dec = cp
        right = dec["answer"]
        # The first question is answered right, the second wrong.
        keys_ = [c.split(":")[0] for c in ask["choices"]]
        mine = right if not answers else next(k for k in keys_ if k != right)
        answers.append((ask["checkpoint"], mine == right))
        keys(mine)
        pending.append((dec["i"], "Right!" if mine == right else "Not this time"))
    print(f"ok: paced replay stopped at {len(stops)} marks in order, one event at a time; "
          f"answered {answers}")

    keys("P")
    wait_for(lambda s: re.search(r"(playing|paused) x1,", s.splitlines()[0]),
             why="P: back to real time")
    keys("q", "q", "q")
    wait_for("EXITED 0", why="a clean exit")
finally:
    tm.kill()

rc, out, err = run(["progress", "--json"], data_dir=student)
check(rc == 0, f"`progress --json` exited {rc}: {err.strip()}")
tcp = [l for l in json.loads(out)["lessons"] if l["id"] == "tcp"][0]
check(tcp["answered"] == 2 and tcp["correct"] == 1 and tcp["run_seen"],
      f"the replay's answers are not in the student's progress: {tcp}")
print("ok: the answers given in the replay are in the progress:", tcp)
shutil.rmtree(data, ignore_errors=True)
