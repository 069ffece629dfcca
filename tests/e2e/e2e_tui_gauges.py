"""The state panel in the interface, driven in tmux: the accept-queue
lesson's live run at 120x40, its checkpoints answered, then the cursor
stepped through the timeline: the accept-queue gauge follows the cursor
(0 of 3, filling to 3 of 3, back to 0 after accept()), stepping back shows the
earlier state again, and the chart of the accept queue is drawn."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from nctest import *

need_lab()
need_tmux()

data = tempfile.mkdtemp(prefix="nc-tui-")
tm = Tmux(data)
screen, keys = tm.screen, tm.keys


def gauge(s):
    """The accept-queue gauge's value on screen, or None."""
    m = re.search(r"accept\s+[█░#.]+\s+(\d+) of (\d+)", s)
    return (int(m.group(1)), int(m.group(2))) if m else None


def cursor_index(s):
    m = re.search(r"kernel state at #(\d+)", s)
    return int(m.group(1)) if m else None


try:
    tm.start(f"--data-dir {data} run accept-queue", cols=120, rows=40)

    # Answer the checkpoints as they come, until the run is complete.
    answers = {"half-open": "a", "Client 4": "b", "wakes up": "a"}
    deadline = time.time() + 40
    while time.time() < deadline:
        s = screen()
        if "run complete" in s and "Predict, then press" not in s and "Enter: continue" not in s:
            break
        if "Enter: continue" in s:
            keys("Enter")
        elif "Predict, then press" in s:
            # Read the question in the checkpoint panel, not the state
            # panel's words ("1 half-open").
            panel = s[s.find(" checkpoint "):]
            key = next((k for q, k in answers.items() if q in panel), "a")
            keys(key)
        time.sleep(0.2)
    s = screen()
    check("run complete" in s, f"the run did not complete in the interface:\n{s}")
    check("kernel state at #" in s, f"no state panel beside the ladder at 120x40:\n{s}")
    check("accept_queue, server:7000" in s, f"no chart of the accept queue:\n{s}")

    # Step the cursor from the top and read the gauge at every step.
    keys("g")
    time.sleep(0.3)
    seen = []
    last_index = None
    for _ in range(400):
        s = screen()
        idx, g = cursor_index(s), gauge(s)
        if idx is not None and idx != last_index:
            seen.append((idx, g))
            last_index = idx
        if g == (0, 3) and any(v == (3, 3) for _, v in seen):
            break
        keys("j")
        time.sleep(0.04)
    values = [g for _, g in seen if g]
    check((0, 3) in values, f"the gauge never showed an empty queue: {values}")
    full_at = [i for i, g in seen if g == (3, 3)]
    check(full_at, f"the gauge never showed the queue full (3 of 3): {values}")
    first_full = values.index((3, 3))
    check(any(v[0] in (1, 2) for v in values[:first_full]), f"the gauge did not fill step by step: {values}")
    check(values[-1] == (0, 3), f"the gauge did not drain back to 0: {values}")

    # Step back: the gauge shows the full queue again.
    for _ in range(60):
        keys("k")
        time.sleep(0.04)
        if gauge(screen()) == (3, 3):
            break
    check(gauge(screen()) == (3, 3), f"stepping back did not show the full queue again:\n{screen()}")
    print(f"ok: the gauge followed the cursor through {len(seen)} events: {values[:3]} ... {values[-3:]}")
    for _ in range(6):
        keys("q")
        time.sleep(0.2)
finally:
    tm.kill()
