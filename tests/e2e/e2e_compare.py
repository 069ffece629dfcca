# ctest: timeout=300
"""`netcourse compare A B`: two saved runs, made here (the tls lesson, whose
client makes two HTTPS connections, and the tcp lesson, whose wire drops
one data segment), compared:

- --json: every measure of each run equals this test's own count of the
  run's events (`replay --json` of the saved file, counted by comparelib:
  connections, round trips before the first answer, bytes on the wire,
  time to first and last byte, stalled streams...), and "differs" lists
  exactly the measures that differ; the tcp run's lost segment makes one
  stalled stream;
- RUN@PROGRAM measures one program's way: TLS 1.3 takes one round trip
  fewer than TLS 1.2 before its first byte;
- --svg: the chart parses as XML, has one lane per connection of each run,
  a red cross per dropped packet, and the summary's values as --json says;
- `export --compare-svg` draws the tls lesson's comparison: a bar pair per
  way, labelled with the note's times;
- bad input: one run, a missing file, a file that is no capture, a capture
  that is no saved run, an unknown program: one sentence, non-zero exit;
- the interface: both runs' lanes on one axis and the summary, the values
  as --json gives them; s writes the chart to a file beside it; q quits."""
import json
import os
import re
import struct
import tempfile
import xml.etree.ElementTree as ET

from comparelib import *

need_lab()
need_tmux()
tmp = tempfile.mkdtemp(prefix="nc-e2e-compare-")
A = os.path.join(tmp, "tls.pcapng")
B = os.path.join(tmp, "tcp.pcapng")
run_json("tls", extra=("--save", A), data_dir=tmp)
run_json("tcp", extra=("--save", B), data_dir=tmp)


def saved_events(path):
    rc, out, err = run(["replay", path, "--json"])
    check(rc == 0, f"replay {path} exited {rc}: {err.strip()}")
    return [json.loads(l) for l in out.splitlines()]


ev = {A: saved_events(A), B: saved_events(B)}
KEYS = ("requests", "answers", "empty", "connections", "round_trips", "first_byte_round_trips",
        "packets", "bytes", "first_byte_ms", "time_ms", "stalled_streams")


def summary(*args):
    rc, out, err = run(["compare", *args, "--json"], data_dir=tmp)
    check(rc == 0, f"compare {args} exited {rc}: {err.strip()}")
    lines = out.splitlines()
    check(len(lines) == 1, f"--json printed {len(lines)} lines")
    return json.loads(lines[0])


def same(got, mine, what):
    for k in KEYS:
        if k.endswith("_ms"):
            check(abs(got[k] - mine[k]) < 0.2, f"{what}: {k} is {got[k]}, the events say {mine[k]:.3f}")
        else:
            check(got[k] == mine[k], f"{what}: {k} is {got[k]}, the events say {mine[k]}")


# The whole runs, against the runs' own events.
s = summary(A, B)
ma, mb = measure(ev[A]), measure(ev[B])
same(s["a"], ma, "run A (tls)")
same(s["b"], mb, "run B (tcp)")
check(s["a"]["name"] == "tls.pcapng" and s["b"]["name"] == "tcp.pcapng", f"names: {s}")
differs = [k for k in KEYS if (abs(s["a"][k] - s["b"][k]) >= 0.05 if k.endswith("_ms")
                               else s["a"][k] != s["b"][k])]
check(s["differs"] == differs, f"differs says {s['differs']}, the values {differs}")
check(s["a"]["connections"] == 2 and s["b"]["connections"] == 1, f"connections: {s}")
dropped = [e for e in ev[B] if e["type"] == "packet" and e["dropped"] and e.get("tcp", {}).get("len")]
check(dropped, "the tcp run dropped no data segment")
check(s["b"]["stalled_streams"] == 1, f"the tcp run's lost segment stalled "
                                      f"{s['b']['stalled_streams']} streams, not 1")
check(s["a"]["stalled_streams"] == 0, "the tls run lost nothing, yet has stalled streams")

# One program each: TLS 1.2 against TLS 1.3 in one run.
s2 = summary(A + "@client12", A + "@client13")
same(s2["a"], measure(ev[A], "client12"), "client12")
same(s2["b"], measure(ev[A], "client13"), "client13")
check(s2["a"]["first_byte_round_trips"] == s2["b"]["first_byte_round_trips"] + 1 == 4,
      f"round trips before the first byte: TLS 1.2 {s2['a']['first_byte_round_trips']}, "
      f"TLS 1.3 {s2['b']['first_byte_round_trips']}")

# The chart.
svg = os.path.join(tmp, "cmp.svg")
rc, out, err = run(["compare", A, B, "--svg", svg], data_dir=tmp)
check(rc == 0 and out == "", f"compare --svg exited {rc}: {err.strip()}")
root = ET.parse(svg).getroot()
NS = "{http://www.w3.org/2000/svg}"
check(root.tag == NS + "svg", f"the chart's root is {root.tag}")
lanes = {"A": 0, "B": 0}
crosses = 0
for g in root.iter(NS + "g"):
    if g.get("class") == "conn":
        lanes[g.get("data-run")] += 1
        crosses += sum(1 for p in g.iter(NS + "path") if p.get("class") == "drop")
ends = lambda evs: {c for _, _, c in run_packets(evs)}
check(lanes == {"A": len(ends(ev[A])), "B": len(ends(ev[B]))}, f"lanes {lanes}")
check(crosses == sum(1 for e, _, _ in run_packets(ev[B]) if e["dropped"]),
      f"{crosses} red crosses for the tcp run's dropped packets")
rows = {g.get("data-key"): [t.text for t in g.iter(NS + "text")]
        for g in root.iter(NS + "g") if g.get("class") == "measure"}
check(set(rows) == set(KEYS), f"the chart's summary rows: {sorted(rows)}")
for k in KEYS:
    want = [f"{s[w][k]:.1f} ms" if k.endswith("_ms") else str(s[w][k]) for w in ("a", "b")]
    check(rows[k][1:] == want, f"the chart's {k}: {rows[k][1:]}, --json: {want}")

# The lesson's own comparison, exported.
chart = os.path.join(tmp, "tls-compare.svg")
rc, out, err = run(["export", A, "--compare-svg", chart], data_dir=tmp)
check(rc == 0, f"export --compare-svg exited {rc}: {err.strip()}")
note = comparison(ev[A], "tls")
ways = {g.get("data-label"): g for g in ET.parse(chart).getroot().iter(NS + "g")
        if g.get("class") == "way"}
check(sorted(ways) == sorted(w["label"] for w in note["ways"]), f"the chart's ways: {sorted(ways)}")
for w in note["ways"]:
    g = ways[w["label"]]
    check(float(g.get("data-first-byte-ms")) == w["first_byte_ms"] and
          float(g.get("data-time-ms")) == w["time_ms"], f"{w['label']}: the chart and the note differ")
    check(len([r for r in g.iter(NS + "rect")]) == 2, f"{w['label']} has no pair of bars")
rc, out, err = run(["export", B, "--compare-svg", chart], data_dir=tmp)
check(rc != 0 and "no comparison" in err and len(err.strip().splitlines()) == 1,
      f"a run without a comparison: {rc} {err!r}")

# Bad input.
notrun = os.path.join(tmp, "plain.pcap")
with open(notrun, "wb") as f:  # a pcap with one empty Ethernet frame
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    f.write(struct.pack("<IIII", 1, 0, 14, 14) + bytes(12) + b"\x08\x00")
text = os.path.join(tmp, "notes.txt")
with open(text, "w") as f:
    f.write("hello\n")
for args, want in (([A], "two saved runs"), ([A, os.path.join(tmp, "nope.pcapng")], "cannot open"),
                   ([text, A], "not a pcap"), ([notrun, A], "not a run saved by netcourse"),
                   ([A + "@nobody", A], "no program \"nobody\""), ([A, B, "extra"], "two saved runs")):
    rc, out, err = run(["compare", *args, "--json"], data_dir=tmp)
    check(rc != 0 and out == "", f"compare {args} exited {rc} with {out!r}")
    check(want in err and len(err.strip().splitlines()) == 1 and "netcourse:" in err,
          f"compare {args} said {err!r}, not one sentence with {want!r}")

# The interface: both runs on one axis, and the summary.
tm = Tmux(tmp)
tm.start(f"compare {A} {B}", cols=110, rows=40)
def complete(scr):
    return ("stalled streams" in scr and "A: tls.pcapng" in scr and "B: tcp.pcapng" in scr
            and "q quit" in scr)
scr = tm.wait_for(complete, why="the two runs and their summary", timeout=20)
for _, _, (host, port) in run_packets(ev[A]) + run_packets(ev[B]):
    check(f"{host}:{port} >" in scr, f"no lane for {host}:{port}:\n{scr}")
check(scr.index("A: tls.pcapng") < scr.index("B: tcp.pcapng") < scr.index("stalled streams"),
      f"the runs and the summary are out of order:\n{scr}")
check("x" in scr.split("B: tcp.pcapng")[1].split("0 ms")[0], f"the dropped segment is not shown:\n{scr}")
NAMES = {"connections": "connections", "bytes on the wire": "bytes", "packets": "packets",
         "round trips before first byte": "first_byte_round_trips",
         "stalled streams": "stalled_streams"}
for line in scr.splitlines():
    m = re.match(r"\s+([a-z ]+?)\s+(\d+)\s+(\d+)\s*$", line)
    if m and m.group(1) in NAMES:
        k = NAMES.pop(m.group(1))
        check((int(m.group(2)), int(m.group(3))) == (s["a"][k], s["b"][k]),
              f"{k}: the screen shows {m.group(2)}, {m.group(3)}; --json {s['a'][k]}, {s['b'][k]}")
check(not NAMES, f"rows missing from the screen: {list(NAMES)}\n{scr}")
m = re.search(r"time to first byte\s+([\d.]+) ms\s+([\d.]+) ms", scr)
check(m and (float(m.group(1)), float(m.group(2))) == (s["a"]["first_byte_ms"], s["b"]["first_byte_ms"]),
      f"time to first byte on screen: {m and m.groups()}")
# s writes the chart beside it, as --svg does.
before = set(os.listdir(tmp))
tm.keys("s")
scr = tm.wait_for("The chart is in", why="the chart's file name")
made = [f for f in set(os.listdir(tmp)) - before if f.endswith(".svg")]
check(len(made) == 1 and made[0] in scr.replace("\n", ""), f"s wrote {made}:\n{scr}")
keys = {g.get("data-key") for g in ET.parse(os.path.join(tmp, made[0])).getroot().iter(NS + "g")
        if g.get("class") == "measure"}
check(keys == set(KEYS), f"the chart s wrote has the measures {sorted(keys)}")
tm.keys("q")
tm.wait_for("EXITED 0", why="netcourse to quit on q")
tm.kill()
print("ok")
