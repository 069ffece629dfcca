# ctest: timeout=300
"""Lesson 18, HTTP/2, run headless with --json, read from the run's own
events (every "must make visible" point of the catalogue):

- SETTINGS both ways (the client's INITIAL_WINDOW_SIZE 2000) and their
  ACKs; HEADERS, DATA and WINDOW_UPDATE frames, each on its stream;
- streams interleaved on one connection: the client's four requests in one
  packet (streams 3, 5, 7, 9), and the server's DATA frames of different
  streams following one another before any stream has all its DATA;
- HPACK: every header block's size on the wire against its decoded size,
  and the later requests' blocks smaller than the first (the dynamic
  table at work);
- flow control: DATA that uses up a stream's 2000-byte window is
  explained as waiting, the client's WINDOW_UPDATE reopens it, and the
  server's next DATA on the stream is marked as resumed after the wait,
  no earlier than that WINDOW_UPDATE;
- the three checkpoints, asked before their target and decided by the run;
- the race: the comparison's numbers equal this test's own count
  (comparelib), HTTP/2 asks for its ten icons in one packet and needs
  fewer round trips than HTTP/1.1 over one connection."""
from comparelib import *

need_lab()
events = run_json("http2")


def frames(e):
    v = e.get("http2")
    return [] if v is None else v if isinstance(v, list) else [v]


pk = [e for e in events if e["type"] == "packet"]
browser_port = [e["port"] for e in events if e["type"] == "app" and e.get("program") == "browser"
                and e.get("port")][0]


def on_browser(e):
    return "tcp" in e and browser_port in (e["tcp"]["sport"], e["tcp"]["dport"])


bf = [(e, f) for e in pk if on_browser(e) for f in frames(e) if not f.get("other_direction")]
check(any(f.get("magic") for _, f in bf), "no connection preface", events)

# SETTINGS both ways, the client's window, and the ACKs.
sets = [(e["from"], f) for e, f in bf if f.get("type") == 4]
client_set = [f for who, f in sets if who == "client" and not f.get("ack")]
check(client_set, "the client sent no SETTINGS", events)
vals = {s["name"]: s["value"] for s in client_set[0].get("settings", [])}
check(vals.get("INITIAL_WINDOW_SIZE") == 2000, f"the client's SETTINGS say {vals}", events)
check(any(who == "server" and not f.get("ack") for who, f in sets), "the server sent no SETTINGS")
check({who for who, f in sets if f.get("ack")} == {"client", "server"},
      "SETTINGS are not acknowledged by both sides", events)
print("ok: preface, SETTINGS both ways (window 2000) and both ACKs")

# Streams: four requests in one packet, answered interleaved.
four = [e for e in pk if e["from"] == "client" and on_browser(e)
        and [f.get("streamid") for f in frames(e) if f.get("type") == 1] == [3, 5, 7, 9]]
check(len(four) == 1, "the four requests did not leave in one packet (streams 3, 5, 7, 9)", events)
data = [(e["i"], f["streamid"], f.get("flags", 0) & 1) for e, f in bf
        if e["from"] == "server" and f.get("type") == 0]
order = [s for _, s, _ in data]
check(set(order) == {1, 3, 5, 7, 9}, f"DATA on streams {order}", events)
# Interleaving: a stream's DATA comes, then another stream's, then the
# first stream's again.
photo = [s for s in order if s in (7, 9)]
switches = sum(1 for a, b in zip(photo, photo[1:]) if a != b)
check(switches >= 2, f"the photos' DATA frames are not interleaved: {photo}", events)
ended = {s for _, s, end in data if end}
check(ended == {1, 3, 5, 7, 9}, f"streams ended by DATA: {sorted(ended)}", events)
print(f"ok: four streams in one packet; the photos' DATA interleaved {photo}")

# HPACK sizes.
blocks = [(e["from"], f) for e, f in bf if f.get("type") == 1]
for who, f in blocks:
    check(0 < f["header_block_len"] < f["header_list_size"],
          f"a header block of {f['header_block_len']} bytes against {f['header_list_size']}")
reqs = [f for who, f in blocks if who == "client"]
check(len(reqs) == 5, f"{len(reqs)} requests on the browser's connection", events)
first = reqs[0]["header_block_len"]
check(all(f["header_block_len"] * 2 < first for f in reqs[1:]),
      f"later header blocks are not smaller than the first ({first}): "
      f"{[f['header_block_len'] for f in reqs[1:]]}", events)
notes = " ".join(e.get("note", "") for e in pk)
check("HPACK" in notes, "no note explains HPACK", events)
print(f"ok: HPACK: first request {first} bytes, later ones "
      f"{[f['header_block_len'] for f in reqs[1:]]}")

# Flow control: used up, waiting, reopened, resumed.
used = [(e, f) for e, f in bf if e["from"] == "server" and f.get("stream_window_exhausted")]
check(used, "no DATA used up a stream window", events)
for e, f in used:
    check(f["stream_window"] == 0, f"a used-up window left {f['stream_window']}")
    check("must now wait for a WINDOW_UPDATE" in e.get("note", ""),
          f"the DATA that used up stream {f['streamid']}'s window is not explained as waiting: "
          f"{e.get('note')}", events)
ups = [(e, f) for e, f in bf if e["from"] == "client" and f.get("type") == 8]
check(ups and all(f["streamid"] in (7, 9) for _, f in ups),
      f"the client's WINDOW_UPDATEs: {[f.get('streamid') for _, f in ups]}", events)
check(any(f.get("stream_window_reopened") for _, f in ups), "no WINDOW_UPDATE reopened a window")
resumed = [(e, f) for e, f in bf if e["from"] == "server" and f.get("resumed_after_window")]
check(resumed, "no DATA is marked as resumed after waiting", events)
for e, f in resumed:
    before = [u for u, g in ups if g["streamid"] == f["streamid"] and u["i"] < e["i"]]
    check(before, f"DATA on stream {f['streamid']} resumed before any WINDOW_UPDATE for it")
    check("waited for the WINDOW_UPDATE" in e.get("note", ""),
          f"the resumed DATA is not explained: {e.get('note')}")
for s in (7, 9):
    got = sum(f.get("data_len", 0) for e, f in bf
              if e["from"] == "server" and f.get("type") == 0 and f["streamid"] == s)
    check(got == 5000, f"stream {s} carried {got} bytes of DATA, expected 5000")
print(f"ok: flow control: {len(used)} DATA frames used a window up, {len(ups)} WINDOW_UPDATEs, "
      f"{len(resumed)} resumed")

# Checkpoints.
m = {(e["checkpoint"], e["event"]): e for e in events if e["type"] == "mark" and "checkpoint" in e}
for cp, want in (("hpack", "a"), ("window", "a"), ("race", "a")):
    asked, dec = m.get((cp, "asked")), m.get((cp, "decided"))
    check(asked and dec, f"checkpoint {cp} was not asked and decided: {sorted(m)}", events)
    check(asked["i"] < dec["target"] <= dec["by"] < dec["i"],
          f"checkpoint {cp}: asked at {asked['i']}, target {dec['target']}, decided at {dec['i']}")
    check(dec["answer"] == want, f"checkpoint {cp} decided {dec['answer']}", events)
t = events[m[("window", "decided")]["target"]]
check(any(f.get("stream_window_exhausted") for f in frames(t)), "window's target is no used-up DATA")
t = events[m[("race", "decided")]["target"]]
check(sum(1 for f in frames(t) if f.get("type") == 1) == 10, "race's target is not the ten requests")
print("ok: three checkpoints asked, then decided by the run")

# The race.
note = comparison(events, "race")
ways = check_against_run(events, note)
h1, h2 = ways["racer1"], ways["racer2"]
check(h1["requests"] == h2["requests"] == 10 and h1["answers"] == h2["answers"] == 10,
      f"requests/answers {h1['requests']}/{h1['answers']} and {h2['requests']}/{h2['answers']}")
check(h1["connections"] == h2["connections"] == 1, "each racer should use one connection")
check(h1["round_trips"] == 11 and h2["round_trips"] == 2,
      f"round trips: HTTP/1.1 {h1['round_trips']}, HTTP/2 {h2['round_trips']}")
check(h2["time_ms"] < h1["time_ms"], f"HTTP/2 took {h2['time_ms']} ms, HTTP/1.1 {h1['time_ms']}")
print(f"ok: race: HTTP/1.1 {h1['round_trips']} round trips {h1['time_ms']} ms, HTTP/2 "
      f"{h2['round_trips']} round trips {h2['time_ms']} ms")
