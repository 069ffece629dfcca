# ctest: timeout=300
"""The ladder's stream lanes (key S), driven in tmux on a saved run of
lesson 18 (http2): one lane per HTTP/2 stream of the selected connection,
so that interleaving is seen.

- the help lists S with its sentence;
- S turns the host lanes into stream lanes: the header names the
  connection's own lane ("conn") and the streams 1, 3, 5, 7, 9 in the order
  they appeared, and the protocol and connection;
- the client packet that carries four HEADERS (streams 3, 5, 7, 9) has a
  right-pointing "H" mark under each of those four lanes and none under
  stream 1's;
- the server's DATA frames of the photos (streams 7 and 9) sit under their
  own lanes, one after the other: rows alternate 7, 9, 7, 9 (interleaving);
- selecting an event of the other HTTP/2 connection (the racer's ten
  icons) moves the lanes to its streams 1 to 19;
- S again gives the host lanes back (client and server).
- over HTTP/1.1 (lesson 8, multiplexing), S on a request gives one lane
  per connection of the pool: six lanes #1 to #6, each request's G mark on
  the lane of the connection it left on (lanes in the order the
  connections first appear);
Every screen checked is waited for whole."""
import json
import os
import re
import tempfile
import time

from nctest import *

need_lab()
need_tmux()
data = tempfile.mkdtemp(prefix="nc-e2e-lanes-")
saved = os.path.join(data, "http2.pcapng")
run_json("http2", extra=("--save", saved), data_dir=data)
check(os.path.exists(saved), "the run was not saved")

# The replay's own event numbers, to go to the packets the test checks.
rc, out, err = run(["replay", saved, "--json"], data_dir=data)
check(rc == 0, f"replay --json exited {rc}: {err}")
events = [json.loads(l) for l in out.splitlines()]


def frames(e):
    v = e.get("http2")
    return [] if v is None else v if isinstance(v, list) else [v]


four = [e["i"] for e in events if e["type"] == "packet" and e["from"] == "client" and
        [f.get("streamid") for f in frames(e) if f.get("type") == 1] == [3, 5, 7, 9]]
check(len(four) == 1, "the saved run has no packet with the four HEADERS")
photos = [e["i"] for e in events if e["type"] == "packet" and e["from"] == "server" and
          any(f.get("type") == 0 and f.get("streamid") in (7, 9) for f in frames(e))]
check(len(photos) >= 4, f"the saved run has {len(photos)} packets of the photos' DATA")
racer = [e["i"] for e in events if e["type"] == "packet" and e["from"] == "client" and
         sum(1 for f in frames(e) if f.get("type") == 1) == 10]
check(len(racer) == 1, "the saved run has no packet with the racer's ten HEADERS")
total = len(events)

tm = Tmux(data)
screen, keys, wait_for = tm.screen, tm.keys, tm.wait_for


def rows(s):
    return [l for l in s.splitlines() if re.match(r"^\+\d+\.\d{6} ", l)]


def header(s):
    return s.splitlines()[2]


def lane_x(head, label):
    """The column of a lane's label in the header row."""
    m = re.search(r"(?<= )" + re.escape(label) + r"(?= )", head)
    check(m, f"no lane {label} in the header: {head!r}")
    return m.start()


goto = tm.goto


try:
    tm.start(f"--data-dir {data} replay {saved}", cols=160, rows=50)
    # The replay stops at each checkpoint it reaches ("32/233, your
    # answer?") or, once none is left, at its end.
    wait_for(lambda s: f"/{total}" in s.splitlines()[0], why="the run loaded")
    # The saved run's three checkpoints are asked again: answer each, so
    # the whole run can be visited.
    for q in ("header block packed", "all that the", "HTTP/1.1 fetched the ten icons"):
        tm.answer(q)
    wait_for(f"{total}/{total}", why="the replay at its end")
    # The help lists S (scrolled to it).
    keys("?")
    for _ in range(12):
        s = screen()
        if "one lane per stream of the selected HTTP/2" in s:
            break
        keys("PgDn")
        time.sleep(0.3)
    s = wait_for(lambda s: "one lane per stream of the selected HTTP/2" in s,
                 why="the help listing S")
    check(re.search(r"\bS\b +ladder: one lane per stream of the selected HTTP/2", s),
          f"the help does not bind S to the stream lanes:\n{s}")
    keys("?")
    wait_for(lambda s: "time" in header(s) and "server" in header(s), why="the host lanes back")

    goto(four[0])
    keys("S")
    def drawn(s):
        """The stream lanes' header and the four requests' row drawn with
        them (a screen caught while curses repaints has one without the
        other)."""
        if not ("HTTP/2 client:" in header(s) and " 9 " in header(s)):
            return False
        return any("HEADERS[3]" in l and "→H" in l for l in rows(s))
    s = wait_for(drawn, why="the stream lanes of the browser's connection")
    head = header(s)
    xs = {lab: lane_x(head, lab) for lab in ("conn", "1", "3", "5", "7", "9")}
    check(list(xs.values()) == sorted(xs.values()), f"lanes out of order: {head!r}")
    check("client:" in head and "server:8080" in head and "→" in head, f"the header does not name the connection: {head!r}")
    print("ok: S shows lanes", " ".join(xs), "for", head[head.index("HTTP/2"):].strip())

    # The four requests' row: an H mark under 3, 5, 7 and 9 (the selected
    # row is the one the note names).
    row = [l for l in rows(s) if "HEADERS[3]" in l]
    check(row, f"the four requests' row is not on screen:\n{s}")
    r = row[0]
    for lab in ("3", "5", "7", "9"):
        check(r[xs[lab] + 1:xs[lab] + 2] == "H" and r[xs[lab]] == "→",
              f"no →H under stream {lab}: {r!r}")
    check(r[xs["1"] + 1] != "H", f"stream 1 is marked in the four requests' row: {r!r}")
    print("ok: the four HEADERS sit under streams 3, 5, 7 and 9:", r[:60])

    # The photos' DATA: rows with a D under 7 or 9, interleaved. The last
    # of them first, so that going back up to the first keeps all on screen.
    goto(photos[-1])
    wait_for(f"#{photos[-1]} packet server", why="the photos' last DATA selected")
    goto(photos[0])
    s = wait_for(lambda s: f"#{photos[0]} packet server" in s and
                 sum("←D" in l for l in rows(s)) >= 4, why="the photos' first DATA selected")
    xs = {lab: lane_x(header(s), lab) for lab in ("7", "9")}
    order = []
    for l in rows(s):
        for lab in ("7", "9"):
            if l[xs[lab]:xs[lab] + 2] == "←D":
                order.append(lab)
    switches = sum(1 for a, b in zip(order, order[1:]) if a != b)
    check(len(order) >= 4 and set(order) == {"7", "9"} and switches >= 2,
          f"the photos' {len(photos)} DATA rows are not interleaved under lanes 7 and 9: "
          f"{order}\n{s}")
    print("ok: DATA under 7 and 9 interleaves:", " ".join(order))

    # The racer's connection: its own streams.
    goto(racer[0])
    s = wait_for(lambda s: " 19 " in header(s) and f"#{racer[0]} packet client" in s,
                 why="the racer's streams 1 to 19")
    check(" 11 " in header(s) and "conn" in header(s), f"the racer's lanes: {header(s)!r}")
    print("ok: selecting the other connection shows its streams:", header(s)[:90].strip())

    keys("S")
    s = wait_for(lambda s: "HTTP/2 client:" not in header(s) and "client" in header(s)
                 and "server" in header(s), why="the host lanes again")
    print("ok: S again gives the host lanes back")
finally:
    tm.kill()

# Lesson 8: the HTTP/1.1 pool's six connections as six lanes.
saved = os.path.join(data, "multiplexing.pcapng")
run_json("multiplexing", extra=("--save", saved), data_dir=data)
rc, out, err = run(["replay", saved, "--json"], data_dir=data)
check(rc == 0, f"replay --json exited {rc}: {err}")
events = [json.loads(l) for l in out.splitlines()]
total = len(events)
order = []
for e in events:
    if e["type"] == "packet" and "tcp" in e and e["tcp"]["dport"] == 8081 and \
            e["tcp"]["sport"] not in order:
        order.append(e["tcp"]["sport"])
check(len(order) == 6, f"the pool has {len(order)} connections")
gets = {k: [e for e in events if e["type"] == "packet" and f"GET /img/{k}.jpg HTTP" in e["summary"]
            and e["tcp"]["dport"] == 8081][0] for k in range(7, 13)}
try:
    tm.start(f"--data-dir {data} replay {saved}", cols=160, rows=50)
    wait_for(lambda s: f"/{total}" in s.splitlines()[0], why="the run loaded")
    for q in ("Where will request 7 go", "What stream"):
        tm.answer(q)
    goto(gets[12]["i"])
    wait_for(f"#{gets[12]['i']} packet client", why="GET /img/12 selected")
    goto(gets[7]["i"])
    keys("S")

    def pool(s):
        return ("HTTP/1 connections" in header(s) and " #6 " in header(s) + " " and
                sum(1 for l in rows(s) if "GET /img/" in l and "→G" in l) >= 6)
    s = wait_for(pool, why="the pool's six connection lanes")
    xs = [lane_x(header(s), f"#{k}") for k in range(1, 7)]
    check(xs == sorted(xs), f"lanes out of order: {header(s)!r}")
    for k, e in gets.items():
        lane = order.index(e["tcp"]["sport"])
        row = [l for l in rows(s) if f"GET /img/{k}.jpg HTTP" in l]
        check(row and row[0][xs[lane]:xs[lane] + 2] == "→G",
              f"GET /img/{k}.jpg (port {e['tcp']['sport']}) is not on lane #{lane + 1}: {row}")
    print("ok: the pool's requests 7 to 12 sit on lanes",
          [order.index(e["tcp"]["sport"]) + 1 for e in gets.values()])
finally:
    tm.kill()
