"""The class streams packet bytes, and a student's inspector highlights the
same bytes as the instructor's (issue 12, part 2). An instructor (its
dashboard, then its own timeline) and a student (following) run in tmux
side by side, with a headless student beside them to say which events are
packets. Both open the same packets (those before the run's first
checkpoint, which both screens show) in the inspector and step through
their layers: each layer's highlighted bytes in the hex dump (its
byte range, which a packet streamed as JSON had lost) must be the same on
both screens, and not empty. Screens are read only once they show the
packet's number and its whole hex dump."""
import os
import re
import tempfile
import time

from classlib import Proc
from nctest import Tmux, check, fail, need_lab, need_tmux

need_lab()
need_tmux()

data = tempfile.mkdtemp(prefix="nc-class-bytes-")
tm = Tmux(data)
COLS, ROWS = 120, 48
SGR = re.compile(r"\x1b\[([0-9;]*)m")
HEXLINE = re.compile(r"^(\s*)([0-9a-f]{4})  ((?:[0-9a-f]{2} ?){1,16})")


def cells(line):
    """The visible characters of a captured line, each with whether it was
    drawn in reverse video."""
    out, rev, k = [], False, 0
    for m in SGR.finditer(line):
        out += [(ch, rev) for ch in line[k:m.start()]]
        for p in (m.group(1) or "0").split(";"):
            if p in ("0", ""):
                rev = False
            elif p == "7":
                rev = True
            elif p == "27":
                rev = False
        k = m.end()
    out += [(ch, rev) for ch in line[k:]]
    return out


def highlighted(win):
    """The offsets of the bytes the hex dump shows in reverse video, and how
    many bytes it shows."""
    text = tm.tmux("capture-pane", "-p", "-e", "-t", win).stdout
    hi, shown = set(), 0
    for line in text.splitlines():
        c = cells(line)
        plain = "".join(ch for ch, _ in c)
        m = HEXLINE.match(plain)
        if not m:
            continue
        base, col = int(m.group(2), 16), len(m.group(1)) + 6
        for k in range(16):
            x = col + k * 3 + (1 if k >= 8 else 0)
            if x + 1 >= len(plain) or not re.match(r"[0-9a-f]{2}", plain[x:x + 2]):
                break
            shown += 1
            if c[x][1]:
                hi.add(base + k)
    return hi, shown


def inspect(win, i, caplen, what):
    """Opens event i in win's inspector and waits for the whole of it."""
    tm.keys(":", win=win)
    tm.keys(str(i), "Enter", win=win)
    tm.wait_for(lambda s: f"#{i} " in s or f"#{i}\n" in s, f"event #{i} in the {what}'s ladder",
                30, win)
    tm.keys("i", win=win)
    deadline_rows = min((caplen + 15) // 16, 8)
    tm.wait_for(lambda s: len([l for l in s.splitlines() if HEXLINE.match(l)]) >= deadline_rows,
                f"the hex dump of event #{i} in the {what}'s inspector", 30, win)


def agreed(i, layer, prev, timeout=20):
    """Both screens' highlights once they agree and hold still for a moment
    after a key (each redraws on its own); fails when they never agree."""
    deadline, last, same = time.time() + timeout, None, 0
    while time.time() < deadline:
        a, na = highlighted("teach")
        b, nb = highlighted("stu")
        now = (frozenset(a), frozenset(b), na, nb)
        same = same + 1 if now == last else 0
        last = now
        if a == b and same >= 3 and (prev is None or a != prev or same >= 10):
            return a, b, na, nb
        time.sleep(0.05)
    a, b, na, nb = last
    fail(f"event {i} layer {layer}: the instructor highlights {sorted(a)}, the student "
         f"{sorted(b)}")


students = []
try:
    tm.start(f"--data-dir {data}/inst teach tcp --port 0", cols=COLS, rows=ROWS, win="teach")
    s = tm.wait_for(lambda s: "join code" in s and "Students:" in s, "the dashboard", 20, "teach")
    line = [l for l in s.splitlines() if "join code" in l][0].split()
    code, port = line[line.index("code") + 1], line[line.index("port") + 1]
    watcher = Proc("watcher", ["join", "127.0.0.1", code, "--port", port, "--name", "watcher",
                               "--headless"], f"{data}/watcher")
    students.append(watcher)
    tm.window("stu", f"--data-dir {data}/ann join 127.0.0.1 {code} --port {port} --name ann")
    tm.wait_for(lambda s: "Students: 2 connected of 2" in s, "two students", 20, "teach")
    tm.wait_for(lambda s: "following instructor" in s, "the student following", 20, "stu")

    tm.keys("r", win="teach")
    watcher.wait_class("run", state="done", run=1, timeout=90)
    tm.wait_for(lambda s: "Run finished" in s, "the run finished on the dashboard", 60, "teach")
    events = watcher.runs()[1]
    # Both screens show the run up to its first checkpoint (the
    # instructor's timeline asks it, the student's holds it): the packets
    # before it are the ARP exchange and the handshake.
    first_cp = min(e["i"] for e in events if e.get("held"))
    picks = [e for e in events if e["type"] == "packet" and e["i"] < first_cp]
    check(len(picks) >= 4 and any("tcp" in e for e in picks) and any("arp" in e for e in picks),
          f"the packets before the first checkpoint are not ARP and TCP: {picks}")
    tm.keys("Tab", win="teach")  # the instructor's own timeline
    tm.wait_for(lambda s: "TCP" in s and "#" in s, "the instructor's ladder", 20, "teach")
    tm.wait_for(lambda s: "TCP: live run" in s, "the streamed run in the student's ladder", 30, "stu")
    tm.keys("u", win="stu")  # explore: the ladder stays where the student puts it
    tm.wait_for(lambda s: "exploring on your own" in s, "the student exploring", 20, "stu")

    compared = 0
    for ev in picks:
        for win, what in (("teach", "instructor"), ("stu", "student")):
            inspect(win, ev["i"], ev["len"], what)
        layers = [k for k, v in ev.items() if isinstance(v, dict) or
                  (isinstance(v, list) and v and isinstance(v[0], dict))]
        lit = []
        prev = None
        for k, layer in enumerate(layers):
            for win in ("teach", "stu"):
                tm.wait_for(lambda s: re.search(rf"layer {k + 1} of \d+: {layer}\b", s),
                            f"layer {layer} of event #{ev['i']} selected", 20, win)
            a, b, na, nb = agreed(ev["i"], layer, prev)
            check(na == nb and na > 0, f"event {ev['i']}: the instructor's hex dump shows {na} "
                                       f"bytes, the student's {nb}")
            if a:
                lit.append(layer)
            prev = a
            compared += 1
            for win in ("teach", "stu"):
                tm.keys("Tab", win=win)
        check(len(lit) >= 2, f"event {ev['i']}: only the layers {lit} of {layers} highlight "
                             "any byte")
        for win in ("teach", "stu"):
            tm.keys("Escape", win=win)
            tm.wait_for(lambda s: "Tab layer" not in s, "the ladder again", 20, win)
    print(f"ok: {compared} layers of {len(picks)} packets highlight the same bytes for the "
          "instructor and the student")
finally:
    for p in students:
        p.kill()
    tm.kill()
