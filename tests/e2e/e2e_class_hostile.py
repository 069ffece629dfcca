"""Live class against one hostile student who has the join code (issue 13,
items 1, 5, 11 and 12), on loopback, with an honest student ("ann") who must
get every event of a run throughout:
- a student that never reads and floods pings, then answers to a closed
  checkpoint: cut, and the instructor's memory stays bounded (item 1);
- the instructor's stdout not read at all while a student floods hand
  toggles: the class goes on (the log never blocks the class thread), and
  the flooder is throttled, then cut (item 5); a log nobody reads drops
  lines and reports how many (item 5);
- a flood of TLS KeyUpdates: the connection is closed (item 11);
- denied messages: the tenth refusal closes the connection, as PROTOCOL.md
  says (item 12);
- `join --fingerprint` typed in lowercase without colons is accepted (12).
Every hostile client stops by itself: counts and timeouts are bounded.
"""
import sys
import time

from classlib import (ANSWER, ERROR, HAND, PAGE, PING, Student, Teacher, closed_by_peer,
                      frame, key_updates, proc_rss_kb, raw_join, read_until, same_run)
from nctest import check, fail, need_lab


def run_reaches(t, ann, run):
    """Starts run number `run` and checks ann gets all of it."""
    t.send("run")
    ann.wait_class("run", state="done", run=run, timeout=60)
    # The instructor's log is written asynchronously: its run is whole once
    # it says the run is done.
    t.wait_class("run", state="done", run=run, timeout=60)
    return ann.runs()[run]


def flood(s, mtype, body, count, batch=500):
    """Sends count frames in batches, without reading; stops early once the
    instructor closed the connection. Returns how many went."""
    one = frame(mtype, body)
    sent = 0
    try:
        while sent < count:
            s.sendall(one * batch)
            sent += batch
    except OSError:
        pass
    return sent


def wait_left(t, name, what, timeout=30):
    return t.wait(lambda o: o.get("class") == "left" and o.get("student") == name,
                  f"{name} cut ({what})", timeout)


def stalled_log(t, ann):
    """Item 5: hand toggles flooded while nobody reads the instructor's log."""
    m, mtype, _ = raw_join(t, "mallory")
    check(mtype is not None, "mallory was not welcomed")
    flood(m, HAND, {"raised": True}, 20000)
    # Commands still work and ann still gets a whole run while nobody reads
    # the instructor's log: before the fix the class thread blocked writing
    # the flood's log lines.
    t.send("run")
    ann.wait_class("run", state="done", run=1, timeout=60)
    t.drain()
    t.wait(lambda o: o.get("class") in ("flood", "throttled") and o.get("student") == "mallory",
           "mallory throttled or cut")
    t.wait_class("run", state="done", run=1)
    hands = t.count(lambda o: o.get("class") == "hand")
    check(hands <= 200, f"{hands} hand toggles were logged: the flood was not throttled")
    want = t.students_runs()[1]
    same_run("ann, while the log was stalled,", ann.runs()[1], want)
    m.close()


def log_drops():
    """Item 5: a log nobody reads drops lines and says how many, instead of
    holding them all or stalling: 100 students and 800 `roster` commands
    (about 12 MB of log) while the instructor's stdout is not read."""
    t = Teacher(drain=False)
    socks = []
    for k in range(100):
        s, mtype, _ = raw_join(t, f"student{k:03d}", src="127.0.7.1")
        check(mtype is not None, f"student{k:03d} was not welcomed")
        socks.append(s)
    for _ in range(800):
        t.send("roster")
    # The class still answers while its log is stuck.
    late, mtype, _ = raw_join(t, "late", src="127.0.7.2")
    check(mtype is not None, "a student could not join while the log was stuck")
    t.drain()
    d = t.wait_class("log_dropped", timeout=60)
    check(d["lines"] > 0, f"log_dropped {d}")
    shown = t.count(t.klass("roster"))
    check(shown + d["lines"] >= 800 and shown < 800,
          f"{shown} roster lines shown and {d['lines']} dropped, of 800")
    for s in socks + [late]:
        s.close()
    t.send("quit")
    check(t.finish() == 0, "the instructor did not exit 0")


def never_reads(t):
    """Item 1: students that never read (a tiny receive buffer, so replies
    pile up at the instructor), flooding pings, then answers to a closed
    checkpoint (each would get an error reply)."""
    rss0 = proc_rss_kb(t.p.pid)
    p, mtype, _ = raw_join(t, "pinger", rcvbuf=4096)
    check(mtype is not None, "the pinger was not welcomed")
    flood(p, PING, {"t": 1}, 200000, batch=2000)
    wait_left(t, "pinger", "a never-reading pinger")
    check(closed_by_peer(p, 5), "the pinger's connection is still open")
    q, mtype, _ = raw_join(t, "asker", rcvbuf=4096)
    flood(q, ANSWER, {"id": "header", "choice": "a"}, 200000, batch=2000)
    wait_left(t, "asker", "a never-reading student answering a closed checkpoint")
    rss1 = proc_rss_kb(t.p.pid)
    check(rss1 - rss0 < 64 * 1024, f"the instructor grew from {rss0} to {rss1} KB")
    p.close()
    q.close()


def key_update_flood(t):
    """Item 11."""
    k, mtype, _ = raw_join(t, "keys")
    check(mtype is not None, "keys was not welcomed")
    sent = key_updates(k, 100000)
    left = wait_left(t, "keys", "a KeyUpdate flood")
    check("key update" in left["reason"], f"keys left for another reason: {left}")
    check(sent < 100000, f"all {sent} key updates were accepted")
    k.close()


def ten_refusals(t):
    """Item 12: the tenth refused message closes the connection."""
    d, mtype, _ = raw_join(t, "denied")
    errors = 0
    for _ in range(12):
        try:
            d.sendall(frame(PAGE, {"page": 1}))
        except OSError:
            break
        body = read_until(d, ERROR, limit=1000)
        if body is None:
            break
        check(body["code"] == "denied", f"a page from a student got {body}")
        errors += 1
    check(errors == 10, f"the connection was closed after {errors} refusals, not 10")
    d.close()


def fingerprint_forms(t):
    """Item 12: a fingerprint typed lowercase, without colons."""
    fp = t.fingerprint.replace(":", "").lower()
    bob = Student(t, "bob", "", extra=["--fingerprint", fp])
    bob.wait_class("welcome", timeout=20)
    return bob


def main():
    need_lab()
    t = Teacher(drain=False)
    ann = Student(t, "ann", "")
    ann.wait_class("welcome")
    stalled_log(t, ann)
    never_reads(t)
    key_update_flood(t)
    ten_refusals(t)
    # The class is unharmed: ann gets the whole of a second run.
    got = run_reaches(t, ann, 2)
    same_run("ann (the second run)", got, t.students_runs()[2])
    bob = fingerprint_forms(t)
    t.send("quit")
    check(t.finish() == 0, "the instructor did not exit 0")
    check(ann.finish() == 0 and bob.finish() == 0, "a student did not exit 0")
    log_drops()
    print("ok: pinger and asker cut, flood throttled with the log stalled, key updates, "
          "10 refusals, fingerprint formats")


if __name__ == "__main__":
    sys.exit(main())
