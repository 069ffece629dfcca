"""The interface as a student meets it, driven in tmux: the course map,
the TCP lesson's reader, its live run with the SYN arrow and its
annotation, a checkpoint answered, a too-small terminal, and progress kept
for the next start."""
import os
import shutil
import subprocess
import tempfile
import time

from nctest import *

need_lab()
need_tmux()

data = tempfile.mkdtemp(prefix="nc-tui-")
tm = Tmux(data)
screen, keys, wait_for = tm.screen, tm.keys, tm.wait_for


def lesson_index(lesson_id):
    """The lesson's place on the course map: lessons sorted by number."""
    src = os.environ.get("NC_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
    found = []
    for name in os.listdir(os.path.join(src, "lessons")):
        if name.endswith(".md") and name != "README.md":
            with open(os.path.join(src, "lessons", name), encoding="utf-8") as f:
                head = f.read(2000)
            number = next(int(l.split(":", 1)[1]) for l in head.splitlines() if l.startswith("number:"))
            found.append((number, name[:-3]))
    return [i for _, i in sorted(found)].index(lesson_id)


def start():
    tm.start(f"--data-dir {data}", cols=100, rows=40)


try:
    start()
    s = wait_for("Part 2", why="the course map")
    for title in ("The OSI and TCP/IP models", "UDP", "TCP"):
        check(title in s, f"the map does not list {title}")

    # Down to the TCP lesson (the map starts on the first lesson, in the
    # order of their numbers), open it, start its run.
    keys(*["j"] * lesson_index("tcp"), "Enter")
    wait_for("A phone call, not a postcard", why="the TCP lesson's first page")
    keys("r")
    s = wait_for("SYN seq=0", why="the SYN arrow")
    syn_line = next(l for l in s.splitlines() if "SYN seq=0" in l)
    check("─" in syn_line or "-" in syn_line, f"the SYN is not drawn as an arrow: {syn_line!r}")
    check("→" in syn_line or ">" in syn_line, f"the SYN arrow does not point right: {syn_line!r}")

    # The first checkpoint holds the run before the first data segment.
    s = wait_for("How long will its TCP header be", why="the header checkpoint")
    check("len=1000" not in s, "the first data segment is shown before the checkpoint was answered")

    # Before answering, study the SYN: move the cursor onto it, read its note.
    keys("g")
    for _ in range(12):
        s = screen()
        if "the client asks the server to open a connection" in s:
            break
        keys("j")
        time.sleep(0.15)
    check("the client asks the server to open a connection" in s,
          f"the SYN's annotation never showed; screen:\n{s}")
    keys("b")
    wait_for("Right!", why="the verdict on the checkpoint")
    keys("Enter")

    # The inspector shows the layers.
    keys("i")
    s = wait_for("tcp", why="the inspector")
    keys("Escape")

    # Help overlay.
    keys("?")
    s = wait_for("help", timeout=5, why="the help overlay")
    keys("Escape")

    # A too-small terminal shows one message, never garbage.
    tm.resize(60, 20)
    s = wait_for("too small", timeout=5, why="the too-small message")
    check(len([l for l in s.splitlines() if l.strip()]) <= 3, f"the too-small screen holds more than the message:\n{s}")
    tm.resize(100, 40)
    wait_for("SYN", timeout=5, why="the ladder after resizing back")

    # Quit everything; the answer is in the progress database.
    for _ in range(6):
        keys("q")
        time.sleep(0.2)
    wait_for("EXITED 0", why="a clean exit")
    rc, out, err = run(["progress", "--json"], data_dir=data)
    check(rc == 0, "progress after the TUI")
    import json
    tcp = next(l for l in json.loads(out)["lessons"] if l["id"] == "tcp")
    check(tcp["answered"] >= 1, f"the answer was not kept: {tcp}")
    check(tcp["correct"] >= 1, f"the right answer was not recorded as right: {tcp}")

    # Next start: the map shows the lesson as started.
    start()
    s = wait_for("Part 2", why="the course map on the second start")
    tcp_line = next(l for l in s.splitlines() if "TCP" in l and "14" in l)
    check("·" not in tcp_line.split("14")[0], f"the TCP lesson still looks unstarted: {tcp_line!r}")
    keys("q")
    print("ok: tui in tmux")
finally:
    tm.kill()
