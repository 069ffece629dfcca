"""A long lecture (issue 13, item 3): a headless watch-mode class with one
student runs the tcp lesson NC_LECTURE_RUNS times (30 here; the lecture
benchmark, tests/bench/class_lecture.sh, runs 100) and must end where it
started: the instructor's open descriptors and resident memory after the
last run are within 10% of what they were after run 1, and it runs no more
threads. Before the fix
every run kept its lab (network namespaces, capture rings, timers) until
the end: 13 descriptors and about 10.8 MB a run. The student gets every
run whole.
"""
import os
import sys
import time

from classlib import Student, Teacher, proc_fds, proc_rss_kb, same_run
from nctest import BIN, check, need_lab


def threads(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("Threads:"))


def asan_build():
    with open(BIN if os.path.isabs(BIN) else os.path.join(os.getcwd(), BIN), "rb") as f:
        return b"__asan_init" in f.read()


def main():
    need_lab()
    runs = int(os.environ.get("NC_LECTURE_RUNS", "30"))
    if asan_build():
        # ASan keeps freed memory in a quarantine for a while: a plateau
        # needs it small.
        os.environ["ASAN_OPTIONS"] = ":".join(
            filter(None, [os.environ.get("ASAN_OPTIONS"), "quarantine_size_mb=0:allocator_release_to_os_interval_ms=50"]))
    t = Teacher()
    ann = Student(t, "ann", "")
    t.wait_class("joined", student="ann")
    first = None
    for r in range(1, runs + 1):
        t.send("run")
        t.wait_class("run", state="done", run=r, timeout=60)
        ann.wait_class("run", state="done", run=r, timeout=60)
        time.sleep(0.2)
        fds, rss, th = proc_fds(t.p.pid), proc_rss_kb(t.p.pid), threads(t.p.pid)
        if first is None:
            first = (fds, rss, th)
        if r % 10 == 0 or r == runs:
            print(f"after run {r}: {fds} descriptors, {rss} KB resident, {th} threads",
                  flush=True)
    print(f"after run 1: {first[0]} descriptors, {first[1]} KB, {first[2]} threads; after run "
          f"{runs}: {fds}, {rss} KB ({100.0 * (rss - first[1]) / first[1]:+.1f}%), {th}")
    check(th <= first[2], f"threads grew from {first[2]} to {th} over {runs} runs")
    check(fds <= first[0] * 1.1, f"descriptors grew from {first[0]} to {fds} over {runs} runs")
    check(rss <= first[1] * 1.1, f"resident memory grew from {first[1]} to {rss} KB over "
                                 f"{runs} runs")
    want = t.students_runs()
    got = ann.runs()
    for r in (1, runs):
        same_run(f"ann (run {r})", got[r], want[r])
    t.send("quit")
    check(t.finish() == 0 and ann.finish() == 0, "the lecture did not end cleanly")


if __name__ == "__main__":
    sys.exit(main())
