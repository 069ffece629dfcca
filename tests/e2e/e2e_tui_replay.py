"""Replay in the interface, driven in tmux: a saved tcp run opens in the
ladder titled as a replay, its lesson's step shows, playback keys move the
play head (start, play to the end, step back, next step mark, speed), the
lesson's pages are one key away; and in a live run `s` saves the run to a
file that replays."""
import os
import shutil
import subprocess
import tempfile
import time

from nctest import *

need_tmux()

data = tempfile.mkdtemp(prefix="nc-tui-replay-")
src = os.environ["NC_SOURCE_DIR"]
saved = os.path.join(src, "tests", "runfile", "captures", "tcp_run.pcapng")
tm = Tmux(data)
screen, keys, wait_for = tm.screen, tm.keys, tm.wait_for


def start(*args):
    tm.start(" ".join(["--data-dir", data] + list(args)), cols=110, rows=36)


try:
    start("replay", saved)
    # The run's "header" checkpoint (asked at #15) is asked again: the
    # ladder stops there until it is answered.
    s = wait_for("paused x1, 16/62, your answer?", why="the replay's status (stopped at the "
                 "checkpoint the run asked)")
    check("How long will its TCP header be?" in s, f"the checkpoint is not asked:\n{s}")
    check("TCP: replay" in s, f"the title does not say replay:\n{s}")
    check("Step 1/5" in s, f"the lesson's first step is not shown:\n{s}")
    check("SYN seq=0" in s, f"the SYN is not on the ladder:\n{s}")
    keys("<")
    wait_for("paused x1, 1/62", why="seek to the start")
    keys("]")
    s = wait_for("Step 2/5", why="the next step mark")
    keys(",")
    s = wait_for("Step 1/5", why="one event back, into step 1")
    keys("+", "+")
    wait_for("paused x4", why="speed x4")
    keys("-", "-", "-", "-")
    wait_for("paused x0.25", why="speed x0.25")
    keys("+", "+", "+", "+", "+", "+", "+", "+")
    wait_for("paused x16", why="speed x16, no further")
    keys("p")
    wait_for("playing x16", why="playing")
    wait_for("playing x16, 16/62, your answer?", why="playing stops at the checkpoint")
    keys("b")
    wait_for("Right!", why="the verdict the run decided")
    wait_for("paused x16, 62/62", timeout=10, why="the end of the replay")
    keys("q")
    s = wait_for("r run", why="the lesson's reader under the replay")
    keys("r")
    wait_for("paused x16, 62/62", why="back to the replay from the reader")
    keys("q", "q", "q")
    wait_for("EXITED 0", why="a clean exit")
    print("ok: replay in the interface: status, steps, seek, speed, play, lesson pages")

    if os.geteuid() == 0 or os.path.exists("/proc/sys/user/max_user_namespaces"):
        start("run", "udp")
        wait_for("run complete", timeout=30, why="the end of the live udp run")
        keys("s")
        s = wait_for("Saved ", why="the save notice")
        files = [f for f in os.listdir(data) if f.startswith("netcourse-udp-") and f.endswith(".pcapng")]
        check(len(files) == 1, f"`s` wrote {files} in the current directory")
        rc, out, err = run(["replay", os.path.join(data, files[0]), "--json"])
        check(rc == 0 and '"type":"mark"' in out, f"the file `s` saved does not replay: {err}")
        keys("q", "q", "q", "q")
        wait_for("EXITED 0", why="a clean exit after the live run")
        print("ok: `s` saves a live run that replays")
finally:
    tm.kill()
    shutil.rmtree(data, ignore_errors=True)
