"""class_attack.py: one hostile student for the class benchmark's attack row
(class_bench.sh), a script, not a test.

    class_attack.py PORT CODE SECONDS

For SECONDS it keeps up, each from a loopback address of its own, the
three attacks of issue 13 that cost the instructor memory or a core:
- item 1: a student that never reads (a 4 KiB receive buffer) and sends
  pings as fast as it can;
- item 5: a student that toggles its hand as fast as it can;
- item 11: a student that sends TLS KeyUpdates as fast as it can.
Each rejoins as soon as the instructor cuts it. It prints one JSON line:
how many times each was cut.
"""
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from classlib import HAND, PING, frame, key_updates, raw_join  # noqa: E402


class Target:
    def __init__(self, port, code):
        self.port, self.code = port, code


def attack(t, name, src, fn, until, cuts):
    while time.time() < until:
        try:
            s, mtype, _ = raw_join(t, name, src=src, rcvbuf=4096 if name == "pinger" else None)
            if mtype is None:
                s.close()
                time.sleep(0.5)
                continue
            fn(s, until)
            s.close()
        except OSError:
            pass
        cuts[name] += 1


def spam(mtype, body):
    one = frame(mtype, body) * 500

    def go(s, until):
        while time.time() < until:
            s.sendall(one)
    return go


def keys(s, until):
    while time.time() < until:
        if key_updates(s, 1000) < 1000:
            return


def main():
    port, code, seconds = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
    t = Target(port, code)
    until = time.time() + seconds
    cuts = {"pinger": 0, "hands": 0, "keys": 0}
    plans = [("pinger", "127.0.9.1", spam(PING, {"t": 1})),
             ("hands", "127.0.9.2", spam(HAND, {"raised": True})),
             ("keys", "127.0.9.3", keys)]
    threads = [threading.Thread(target=attack, args=(t, n, src, fn, until, cuts), daemon=True)
               for n, src, fn in plans]
    for th in threads:
        th.start()
    for th in threads:
        th.join(seconds + 30)
    print(json.dumps({"cut": cuts}))


if __name__ == "__main__":
    main()
