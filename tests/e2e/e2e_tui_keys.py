"""The interface's help, legend, inspector, saved runs, restart and edge
cases, driven in tmux as a new user would meet them:
- `?` opens with the legend of the screen it came from (the ladder's marks,
  the map's), then every key: the answer keys and the class keys too;
- the inspector's n/N go from packet to packet with the layer kept, and say
  where the packet sits in its connection;
- `r` on a run asks before throwing it away;
- `R` lists the saved runs and Enter replays one;
- a too-small terminal says that q quits;
- a data directory that cannot be written stops nothing: the interface runs
  and says once that progress will not be kept, and why;
- in a class, a student's H raises a hand the instructor sees."""
import os
import shutil
import subprocess
import tempfile
import time

from nctest import *

need_lab()
need_tmux()

data = tempfile.mkdtemp(prefix="nc-tui-keys-")
tm = Tmux(data)
screen, keys, wait_for = tm.screen, tm.keys, tm.wait_for

try:
    # A udp run: short, with a checkpoint and packets of two kinds.
    tm.start(f"--data-dir {data} run udp", cols=110, rows=40)
    s = wait_for("UDP: live run", why="the udp ladder")
    for _ in range(200):
        s = screen()
        if "run complete" in s:
            break
        if "Predict, then press" in s:
            keys("a")
        elif "Enter: continue" in s:
            keys("Enter")
        time.sleep(0.1)
    s = wait_for("run complete", timeout=30, why="the end of the udp run")

    # 1, 2: the ladder's legend, then every key.
    keys("?")
    # Wait for the whole legend: tmux can capture the help half drawn.
    s = wait_for(lambda s: "On this screen (ladder)" in s and "client colour" in s,
                 why="the ladder's legend in the help")
    for want in ("✕", "a packet the wire dropped", "•", "a program's call", "── Step",
                 "client colour"):
        check(want in s, f"the ladder's legend lacks {want!r}:\n{s}")
    seen = s
    for _ in range(8):
        keys("PageDown")
        time.sleep(0.15)
        seen += screen()
    for want in ("a b c d", "answer the open checkpoint", "in a class: explore on your own",
                 "F End", "raise or lower your hand", "n N", "the saved runs"):
        check(want in seen, f"the help does not list {want!r}:\n{seen}")
    keys("Escape")
    wait_for(lambda s: "On this screen" not in s, why="the help closed")

    # 3: the inspector walks the packets with the layer kept. Find the
    # first UDP datagram (the note panel names the selected event).
    keys("g")
    for _ in range(80):
        if any(l.startswith(" #") and " packet " in l and "UDP" in l for l in screen().splitlines()):
            break
        keys("j")
        time.sleep(0.08)
    keys("i")
    s = wait_for(": eth", why="the inspector on a UDP datagram")
    keys("Tab", "Tab")
    s = wait_for(lambda x: x.splitlines()[0].endswith(": udp"), why="the udp layer")
    first = s.splitlines()[0]
    check(" packet 1 of 2 in client:" in s.splitlines()[1],
          f"the inspector does not say where the datagram sits:\n{s}")
    keys("n")
    s = wait_for(lambda x: x.splitlines()[0] != first, why="the next packet")
    check(s.splitlines()[0].endswith(": udp"), f"n did not keep the udp layer:\n{s}")
    check(" packet 2 of 2 in client:" in s.splitlines()[1], f"the answer's place:\n{s}")
    keys("N")
    s = wait_for(lambda x: x.splitlines()[0] == first, why="back to the first datagram")
    keys("Escape")
    wait_for("UDP: live run", why="the ladder again")

    # 6: r asks before throwing the run away; another key keeps it.
    keys("r")
    s = wait_for("Press r again", why="the restart question")
    keys("j")
    s = wait_for(lambda s: "Press r again" not in s, why="the question dismissed")
    check("run complete" in s, f"another key did not keep the run:\n{s}")

    # 5: R lists the saved runs (the run above was kept); Enter replays it.
    keys("R")
    s = wait_for("Saved runs", why="the saved runs")
    check("1 run kept" in s and " udp " in s, f"the saved run is not listed:\n{s}")
    keys("Enter")
    s = wait_for("UDP: replay", why="the saved run replayed")
    keys("q", "q")
    wait_for("Part 2", why="the map under the replay")
    keys("?")
    s = wait_for(lambda s: "On this screen (map)" in s and "lesson" in s.split("On this screen (map)")[1],
                 why="the map's legend")
    check("lesson complete" in s or "lesson started" in s, f"the map's legend:\n{s}")
    keys("Escape")

    # 7: too small: say that q quits.
    tm.resize(60, 20)
    s = wait_for(lambda s: "too small" in s and "q to quit" in s, why="the too-small screen")
    check("q to quit" in s, f"the too-small screen does not say q quits:\n{s}")
    keys("q")
    wait_for("EXITED 0", why="q quits from the too-small screen")

    # 20: a data directory that cannot be written.
    # (A read-only bind mount in a mount namespace of its own: root only.)
    if os.geteuid() == 0:
        ro = tempfile.mkdtemp(prefix="ro-", dir=data)
        tm.kill()
        tm.cmd = ["tmux", "-S", tempfile.mktemp(prefix="tmux-", dir=data)]
        env = f"TERM=xterm-256color LANG=C.UTF-8 NETCOURSE_LESSONS={os.environ.get('NC_SOURCE_DIR', '.')}/lessons"
        r = tm.tmux("new-session", "-d", "-s", "nc", "-x", "100", "-y", "30",
                    f"unshare -m sh -c 'mount --bind -o ro {ro} {ro} && env {env} {BIN} --data-dir {ro}'; echo EXITED $?; sleep 30")
        check(r.returncode == 0, f"tmux: {r.stderr}")
        s = wait_for("Part 2", why="the map with a read-only data directory")
        check("progress will not be kept" in s and "Read-only file system" in s,
              f"the interface does not say why progress is not kept:\n{s}")
        keys("j")
        s = wait_for(lambda s: "progress will not be kept" not in s, why="said once")
        keys("q")
        wait_for("EXITED 0", why="a clean exit with a read-only data directory")
    print("ok: help and legends, inspector n/N, restart question, saved runs, too small, read-only data")

    # 4: a raised hand, from a student's interface to the instructor.
    tm.start(f"--data-dir {data}/inst teach udp --port 0", cols=110, rows=32, win="teach")
    s = wait_for("join code", why="the dashboard", win="teach")
    line = [l for l in s.splitlines() if "join code" in l][0].split()
    code, port = line[line.index("code") + 1], line[line.index("port") + 1]
    tm.window("stu", f"--data-dir {data}/stu join 127.0.0.1 {code} --port {port} --name dee")
    wait_for("following instructor", why="the student following", win="stu")
    keys("H", win="stu")
    wait_for("hand raised", why="the student's footer", win="stu")
    s = wait_for("raised", why="the raised hand on the roster", win="teach")
    keys("H", win="stu")
    wait_for(lambda s: "hand raised" not in s, why="the hand lowered", win="stu")
    wait_for(lambda s: "raised" not in s, why="the hand lowered on the roster", win="teach")
    print("ok: a student's H raises and lowers a hand")
finally:
    tm.kill()
    shutil.rmtree(data, ignore_errors=True)
