"""The kit's HTTP/2 from a lesson written in Markdown
(tests/e2e/lessons-h2/h2.md), run through `netcourse --lessons DIR run h2
--headless --json`: an h2c server with routes, a client that asks for
three paths at once (three streams in one write), then two more, then
closes with GOAWAY, and a client that comes by Upgrade (an HTTP/1.1 GET
answered 101, then HTTP/2 with that request as stream 1). The run's packets
are decoded as HTTP/2 (frames, states, headers) and its saved capture
agrees with tshark frame by frame (http2.type, http2.streamid, header
names; tshark decodes port 8080 as HTTP, which follows both the preface
and the Upgrade)."""
import glob
import json
import os
import subprocess
import tempfile

from nctest import *

need_lab()
LESSONS = os.path.join(os.environ["NC_SOURCE_DIR"], "tests", "e2e", "lessons-h2")
data_dir = tempfile.mkdtemp(prefix="nc-e2e-h2-")
rc, out, err = run(["--lessons", LESSONS, "run", "h2", "--headless", "--json"], data_dir=data_dir)
check(rc == 0, f"`netcourse run h2` exited {rc}: {err.strip()}")
ev = [json.loads(line) for line in out.splitlines()]


def frames(p):
    v = p.get("http2")
    return [] if v is None else v if isinstance(v, list) else [v]


pk = [e for e in ev if e["type"] == "packet"]
h2 = [(p, f) for p in pk for f in frames(p) if not f.get("other_direction")]
check(any(f.get("magic") for _, f in h2), "no connection preface in the run", ev)
# The first h2-get: one packet from the client with three HEADERS.
first = [p for p in pk if p.get("from") == "client" and
         sum(1 for f in frames(p) if f.get("type") == 1) == 3]
check(first, "no client packet carries three HEADERS frames (three streams at once)", ev)
paths = [h["value"] for f in frames(first[0]) for h in f.get("header", []) if h["name"] == ":path"]
check(paths == ["/a", "/b", "/c/x"], f"the three streams ask for {paths}", ev)
ids = [f["streamid"] for f in frames(first[0]) if f.get("type") == 1]
check(ids == [1, 3, 5], f"stream ids {ids}", ev)
statuses = sorted(h["value"] for _, f in h2 for h in f.get("header", []) if h["name"] == ":status")
check(statuses == ["200"] * 6 + ["404"], f"statuses {statuses}", ev)
check(any(f.get("type") == 7 for _, f in h2), "no GOAWAY when the client closes", ev)
closed = [f for _, f in h2 if f.get("type") == 0 and f.get("stream_state") == "closed"]
check(len(closed) == 7, f"{len(closed)} DATA frames closed their stream, expected 7", ev)
# The Upgrade: an HTTP/1.1 request, the 101, and the answer to it on stream 1.
up = [m for p in pk for m in (p.get("http") if isinstance(p.get("http"), list) else [p.get("http")])
      if m and (m.get("status") == 101 or m.get("upgrade") == "h2c" or m.get("method") == "GET")]
check(any(m.get("status") == 101 for m in up), "no 101 Switching Protocols in the run", ev)
after = [f for p in pk if p.get("from") == "server" for f in frames(p)
         if f.get("type") == 1 and f.get("streamid") == 1 and
         any(h["name"] == ":status" for h in f.get("header", []))]
check(len(after) == 2, f"expected stream 1 answered twice (prior knowledge and Upgrade), saw {len(after)}", ev)
app = [e for e in ev if e["type"] == "app"]
check(any(e["call"] == "write" and "three HEADERS" in e["text"] for e in app),
      "the client's write of three streams is not reported with its sentence", ev)
check(any(e["call"] == "read" and "HTTP/2" in e["text"] and e["host"] == "server" for e in app),
      "the server's reads do not name their frames", ev)
# A checkpoint whose matchers read HTTP/2 fields (http2.streamid), decided
# by the run.
check(decided(ev, "streams") == "a", f"the streams checkpoint was decided {decided(ev, 'streams')}", ev)
notes = " ".join(p.get("note", "") for p in pk)
check("HPACK" in notes and "DATA on stream" in notes, "HTTP/2 frames are not annotated", ev)

# The saved run agrees with tshark.
runs = sorted(glob.glob(os.path.join(data_dir, "**", "*.pcapng"), recursive=True))
check(runs, f"no saved run under {data_dir}")
path = runs[-1]
rc, out, err = run(["replay", path, "--json"], data_dir=data_dir)
check(rc == 0, f"replay exited {rc}: {err}")
ours = {}
n = 0
for e in map(json.loads, out.splitlines()):
    if e["type"] != "packet":
        continue
    n += 1
    fs = [f for f in frames(e) if not f.get("other_direction")]
    t = [(f["type"], f["streamid"]) for f in fs if "magic" not in f]
    names = [h["name"] for f in fs for h in f.get("header", [])]
    if t or names:
        ours[n] = (t, names)
p = subprocess.run(["tshark", "-r", path, "-o", "tcp.desegment_tcp_streams:TRUE", "-d",
                    "tcp.port==8080,http", "-T", "fields", "-E", "aggregator=|", "-e",
                    "frame.number", "-e", "http2.type", "-e", "http2.streamid", "-e",
                    "http2.header.name"], capture_output=True, text=True, timeout=120)
check(p.returncode == 0, f"tshark: {p.stderr[:300]}")
theirs = {}
for line in p.stdout.splitlines():
    c = line.split("\t") + ["", "", ""]
    if not c[1]:
        continue
    theirs[int(c[0])] = (list(zip(map(int, c[1].split("|")), map(int, c[2].split("|")))),
                         c[3].split("|") if c[3] else [])
check(ours == theirs, f"the saved run differs from tshark:\nours   {ours}\ntshark {theirs}")
print(f"ok: {len(h2)} HTTP/2 frames; {sum(len(v[0]) for v in theirs.values())} agree with tshark")
