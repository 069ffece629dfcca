# ctest: timeout=300
"""The comparison table in the interface, driven in tmux: the long-polling
lesson run live, its checkpoints answered as they come; once the ladder
reaches the end, the table opens by itself with both ways side by side,
and its numbers are the ones the run's comparison note holds (read back
from the run the interface kept); s writes it as an SVG chart with the
note's times. Esc goes back to the ladder, T opens the table again; on a run without a comparison, T says so in one sentence."""
import glob
import json
import os
import re
import tempfile
import xml.etree.ElementTree as ET

from nctest import *


def table(s):
    """The comparison view is up: its title is the screen's first line."""
    return s.splitlines()[0].strip().startswith("Comparison:") and "bytes on the wire" in s

need_lab()
need_tmux()

data = tempfile.mkdtemp(prefix="nc-compare-tui-")
tm = Tmux(data)
try:
    tm.start(f"--data-dir {data} run long-polling", cols=100, rows=40)
    # Answer each question as it comes until the table shows.
    answered = 0
    for _ in range(10):
        s = tm.wait_for(lambda s: "Predict, then press" in s or table(s) or
                        "Enter: continue" in s, why="a checkpoint or the table", timeout=30)
        if table(s):
            break
        if "Predict, then press" in s:
            tm.keys("a")
            answered += 1
        else:
            tm.keys("Enter")
        tm.wait_for(lambda t: t != s, why="the screen to change after a key", timeout=10)
    s = tm.wait_for(table, why="the comparison table", timeout=30)
    check(answered >= 2, f"only {answered} checkpoints were asked before the table")
    check("short polling" in s and "long polling" in s, f"the table lacks a way:\n{s}")
    shown = {}
    for line in s.splitlines():
        m = re.match(r"\s+(requests|empty answers|connections|round trips|packets|"
                     r"bytes on the wire)\s+(\d+)\s+(\d+)\s*$", line)
        if m:
            shown[m.group(1)] = (int(m.group(2)), int(m.group(3)))
    check(len(shown) == 6, f"the table's rows: {shown}\n{s}")

    # The same numbers as the run's note (the run the interface kept).
    saved = glob.glob(os.path.join(data, "runs", "*long-polling*.pcapng"))
    check(len(saved) == 1, f"the interface kept {saved}")
    rc, out, err = run(["replay", saved[0], "--json"])
    check(rc == 0, f"replay exited {rc}: {err.strip()}")
    note = [e for e in map(json.loads, out.splitlines()) if e.get("compare") == "polling"]
    check(len(note) == 1, "the kept run has no comparison note")
    ways = note[0]["ways"]
    keys = {"requests": "requests", "empty answers": "empty", "connections": "connections",
            "round trips": "round_trips", "packets": "packets", "bytes on the wire": "bytes"}
    for row, key in keys.items():
        check(shown[row] == (ways[0][key], ways[1][key]),
              f"{row}: the table shows {shown[row]}, the note {ways[0][key]}, {ways[1][key]}")
    check(shown["requests"][1] < shown["requests"][0], f"requests: {shown['requests']}")

    # s writes the table as an SVG chart beside the run, the note's times
    # on its bars.
    before = set(os.listdir(data))
    tm.keys("s")
    tm.wait_for("The chart is in", why="the chart's file name")
    made = [f for f in set(os.listdir(data)) - before if f.endswith(".svg")]
    check(len(made) == 1, f"s wrote {made}")
    bars = {g.get("data-label"): float(g.get("data-first-byte-ms"))
            for g in ET.parse(os.path.join(data, made[0])).getroot().iter()
            if g.get("class") == "way"}
    check(bars == {w["label"]: w["first_byte_ms"] for w in ways}, f"the chart's bars: {bars}")

    # Esc back to the ladder, T for the table again.
    tm.keys("Escape")
    s = tm.wait_for(lambda s: not table(s), why="the ladder")
    tm.keys("T")
    tm.wait_for(table, why="the table again")
    tm.keys("Escape")

    # A run without one: T says so.
    tm.start(f"--data-dir {data} run osi", cols=100, rows=40)
    for _ in range(10):
        s = tm.wait_for(lambda s: "Predict, then press" in s or "run complete" in s or
                        "Enter: continue" in s, why="the osi run", timeout=30)
        if "run complete" in s and "Predict, then press" not in s and "Enter: continue" not in s:
            break
        tm.keys("a" if "Predict, then press" in s else "Enter")
        tm.wait_for(lambda t: t != s, why="the screen to change after a key", timeout=10)
    tm.keys("T")
    tm.wait_for("no comparison table", why="T on a run without a comparison")
finally:
    tm.kill()
print("ok: the comparison table shows the note's numbers, side by side")
