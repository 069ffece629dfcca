# ctest: timeout=300
"""The ladder groups a middlebox's two sides (issue 12), driven in tmux on a
saved run of tests/e2e/lessons-lanes/box-chain.md: a chain whose middle
host runs an L7 balancer in front of two servers, asked twice.

- the middle host has two adjacent lanes, "middle in" facing the client
  and "middle out" facing the server, ordered client, middle in, middle
  out, server, so "request in, request out" reads across the middle;
- the client's request arrow ends on "middle in", the balancer's request
  to the server starts on "middle out";
- the balancer's decision (its `choose` app event) is drawn across its two
  lanes, and selecting it names and marks the packets it is linked to:
  the request in (the event's own `packet`) and the request out (the first
  data segment on the upstream connection its `forward` event names),
  both checked against the run's events; the second decision links the
  second request, not the first."""
import json
import os
import re
import tempfile

from nctest import *

need_lab()
need_tmux()
LESSONS = os.path.join(os.environ["NC_SOURCE_DIR"], "tests", "e2e", "lessons-lanes")
data = tempfile.mkdtemp(prefix="nc-e2e-boxes-")
saved = os.path.join(data, "box.pcapng")
rc, out, err = run(["--lessons", LESSONS, "run", "box-chain", "--headless", "--save", saved],
                   data_dir=data)
check(rc == 0, f"the run failed: {err}")
rc, out, err = run(["replay", saved, "--json"], data_dir=data)
check(rc == 0, f"replay --json exited {rc}: {err}")
events = [json.loads(l) for l in out.splitlines()]
total = len(events)

chooses = [e for e in events if e["type"] == "app" and e.get("call") == "choose"]
check(len(chooses) == 2, f"{len(chooses)} choose events")
want = []
for path, d in zip(("/first", "/second"), chooses):
    inp = events[d["packet"]]
    check(inp["from"] == "client" and f"GET {path}" in inp["summary"],
          f"the decision's packet is not the request in: {inp['summary']}")
    outp = [e for e in events[d["i"]:] if e["type"] == "packet" and e["from"] == "middle"
            and e["to"] == "server" and f"GET {path}" in e["summary"]]
    check(outp, f"no request out for {path}")
    want.append((d["i"], inp["i"], outp[0]["i"]))

tm = Tmux(data)
screen, keys, wait_for = tm.screen, tm.keys, tm.wait_for


def rows(s):
    return [l for l in s.splitlines() if re.match(r"^\+\d+\.\d{6}", l)]


goto = tm.goto


try:
    tm.start(f"--data-dir {data} replay {saved}", cols=200, rows=80)
    s = wait_for(lambda s: f"paused x1, {total}/{total}" in s and "middle out" in s.splitlines()[2],
                 why="the whole run loaded, with its lanes")
    head = s.splitlines()[2]
    names = ["client", "middle in", "middle out", "server"]
    xs = [head.find(n) for n in names]
    check(all(x >= 0 for x in xs) and xs == sorted(xs),
          f"the lanes are not client, middle in, middle out, server: {head!r}")
    check(head.count("middle") == 2, f"the middle host has more than its two lanes: {head!r}")
    print("ok: lanes", " | ".join(names))

    for n, (d, pin, pout) in enumerate(want, 1):
        # The request out first, so the view keeps it on screen when the
        # cursor goes back up to the decision.
        goto(pout)
        wait_for(f"#{pout} packet middle", why=f"packet #{pout} selected")
        goto(d)
        note = f"The box's decision: request in #{pin}, request out #{pout}"
        # Both linked packets and the decision itself are marked (a bullet
        # after the time); wait for the note and the marks, drawn together.
        path = "/first" if n == 1 else "/second"

        def marks(s):
            return [l for l in rows(s) if len(l) > 9 and l[9] == "•"]
        s = wait_for(lambda s: note in s and len(marks(s)) >= 3 and
                     any("L7 balancer" in l for l in marks(s)),
                     why=f"decision {n}'s links in the note panel, and its marks")
        marked = marks(s)
        check(len(marked) == 3, f"{len(marked)} rows marked, expected 3:\n{s}")
        check(sum(f"GET {path} HTTP/1.1" in l for l in marked) == 2,
              f"the marked rows are not the two requests for {path}:\n{s}")
        check(not any(("GET /second" if n == 1 else "GET /first") + " HTTP" in l for l in marked),
              f"decision {n} marks the other request:\n{s}")
        # The request in ends on "middle in"; the request out starts on
        # "middle out"; the decision spans the two.
        head = s.splitlines()[2]
        lin = head.find("middle in") + len("middle in") // 2
        lout = head.find("middle out") + len("middle out") // 2
        rin = [l for l in marked if f"GET {path} HTTP/1.1" in l][0]
        check("→│" in rin and abs(rin.index("→│") + 1 - lin) <= 2,
              f"the request in does not end on the middle's in lane (x={lin}): {rin!r}")
        rout = [l for l in marked if f"GET {path} HTTP/1.1" in l and l is not rin][0]
        check(abs(rout.index("│──") - lout) <= 2,
              f"the request out does not start on the middle's out lane (x={lout}): {rout!r}")
        bridge = [l for l in marked if "L7 balancer" in l]
        check(bridge and abs(bridge[0].index("•─") - lin) <= 2 and
              abs(bridge[0].rindex("─•") + 1 - lout) <= 2,
              f"the decision is not drawn across the middle's two lanes: {bridge}")
        print(f"ok: decision {n} (#{d}) links request in #{pin} and out #{pout}, drawn across")
finally:
    tm.kill()
