"""Live class, lockstep mode: the instructor starts the run for everyone at
once; each of three headless students runs the lesson in a lab of their own
(same seed, same faults, including one the instructor injected) and reports
a summary; the instructor sees "3 saw a retransmission, 0 did not".
"""
import sys

from classlib import Student, Teacher
from nctest import check, need_lab


def kinds(events):
    """What a run is made of, independent of ports, times and ISNs: its
    lesson marks in order, and the set of packet kinds."""
    marks = [(e.get("step") or e.get("checkpoint"), e.get("event"))
             for e in events if e["type"] == "mark"]
    pkts = {(e.get("proto"), e["from"], tuple(sorted(e.get("tcp", {}).get("flags", []))))
            for e in events if e["type"] == "packet" and e.get("proto") == "tcp"}
    return marks, pkts


def main():
    need_lab()
    t = Teacher(extra=["--mode", "lockstep", "--seed", "7"])
    names = ["ann", "bob", "cy"]
    st = {n: Student(t, n, "* b\n") for n in names}
    for n in names:
        t.wait_class("joined", student=n)
    t.send("inject drop 1st packet from=server tcp.flags=SYN,ACK")
    t.wait_class("inject", live=False)
    t.send("run")
    res = t.wait_class("results", reported=3, timeout=60)
    check(res["text"] == "3 saw a retransmission, 0 did not", f"results {res}")
    runs = {}
    for n, s in st.items():
        r = s.wait_class("result", timeout=60)
        check(r["completed"] and r["saw_retransmission"] and r["dropped"] >= 2,
              f"{n}'s result {r}")
        ev = s.runs()[1]
        check(len(ev) == r["events"], f"{n} printed {len(ev)} events, reported {r['events']}")
        synack = [e for e in ev if e["type"] == "packet" and
                  set(e.get("tcp", {}).get("flags", [])) == {"SYN", "ACK"}]
        check(len(synack) >= 2 and synack[0]["dropped"],
              f"{n}: the injected fault did not drop the first SYN-ACK", ev)
        check(any(e.get("tcp", {}).get("retransmission") for e in ev),
              f"{n} saw no retransmission", ev)
        runs[n] = ev
    base = kinds(runs["ann"])
    for n in names[1:]:
        check(kinds(runs[n]) == base, f"{n}'s run is not made of the same kinds of events as ann's")
    # Each run is the student's own: the instructor streamed no events.
    check(not t.events(), "the instructor streamed events in lockstep mode")

    # The checkpoint is judged by each student's own run.
    t.send("open header")
    t.wait_class("tally", answered=3)
    t.send("reveal")
    rev = t.wait_class("reveal")
    check(rev["answer"] == "b" and rev["right"] == 3, f"reveal {rev}")
    for n, s in st.items():
        r = s.wait_class("reveal")
        check(r["correct"] is True, f"{n}'s reveal {r}")
    t.send("quit")
    check(t.finish() == 0, "the instructor did not exit 0")
    for n, s in st.items():
        check(s.finish() == 0, f"{n} did not exit 0: {s.err}")
    print("ok: lockstep runs, results, judged answers")


if __name__ == "__main__":
    sys.exit(main())
