"""A slow student never slows the class. One student reads nothing after
its welcome, with a tiny receive buffer, while the instructor streams a big
run to the class (the lab's bench traffic, 5,000 frames: with packets sent as
bytes and record, still more
than the kernel's socket buffers hold) with --student-buffer 4 (KiB). Once its backlog passes that,
the instructor cuts it from the live stream ("lagging"); the other student
gets every event as it happens; when the slow one reads again it is caught
up from where it stopped, event for event ("caught_up")."""
import glob
import os
import shutil
import socket
import ssl
import tempfile
import time

from classlib import EVENT, HELLO, WELCOME, Student, Teacher, frame, read_frame, read_until
from nctest import check, need_lab


def main():
    need_lab()
    lessons = tempfile.mkdtemp(prefix="nc-slow-lessons-")
    src = os.environ["NC_SOURCE_DIR"]
    for f in glob.glob(f"{src}/lessons/*.md") + [f"{src}/tests/bench/bench.md"]:
        shutil.copy(f, lessons)
    os.environ["NETCOURSE_LESSONS"] = lessons
    os.environ["NETCOURSE_BENCH_PACKETS"] = "5000"
    t = Teacher(lesson="bench", extra=("--student-buffer", "4"))
    fast = Student(t, "fast", "")
    t.wait_class("joined", student="fast")

    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.settimeout(30)
    raw.connect(("127.0.0.1", t.port))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    slow = ctx.wrap_socket(raw)
    slow.sendall(frame(HELLO, {"v": 2, "name": "slow", "code": t.code}))
    check(read_until(slow, WELCOME) is not None, "the slow student was not welcomed")
    t.wait_class("joined", student="slow")

    # The slow student now stops reading; the class runs.
    t.send("run")
    lag = t.wait_class("lagging", student="slow", timeout=60)
    check(lag["behind"] > 0, f"lagging without being behind: {lag}")
    t.wait_class("run", state="done", run=1, timeout=90)
    want = t.students_runs()[1]
    check(len(want) > 2000, f"the run has only {len(want)} events: too few to fill a buffer")
    fast.wait(lambda o: o.get("i") == len(want) - 1 and "type" in o, "the fast student's last event")
    got = fast.runs()[1]
    diff = next(((a, b) for a, b in zip(got, want) if a != b), None)
    check(got == want, f"the fast student's timeline differs from the instructor's "
                       f"({len(got)} and {len(want)} events); first:\n  got  {diff and diff[0]}\n"
                       f"  want {diff and diff[1]}")
    check(t.find(t.klass("caught_up", student="slow")) is None,
          "the slow student was caught up before it read anything")

    # It reads again: every event arrives, in order, and it is caught up.
    events, deadline = [], time.time() + 60
    while len(events) < len(want) and time.time() < deadline:
        mtype, body = read_frame(slow)
        check(mtype is not None, f"the slow student's connection closed after {len(events)} events")
        if mtype == EVENT and body.get("run") == 1:
            events.append(body["ev"])
    check([e["i"] for e in events] == list(range(len(want))),
          "the slow student's events are not the whole run, in order")
    check([e["summary"] for e in events] == [e["summary"] for e in want],
          "the slow student's events differ from the instructor's")
    t.wait_class("caught_up", student="slow", timeout=30)
    slow.close()
    t.send("quit")
    t.finish()
    fast.finish()
    print(f"ok: the slow student lagged {lag['behind']} events behind and was caught up; "
          f"the other got all {len(want)} live")


if __name__ == "__main__":
    main()
