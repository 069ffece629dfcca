"""netcourse run sse --headless --json: one GET answered by one
text/event-stream response whose chunked body is cut into events (id 1,
2, 3 ...) with no request between them; the link is cut, the client gives
the silent connection up and reconnects with Last-Event-ID, and the
server resumes after that id, so the client sees every id from 1 to 10
once. The checkpoints' answers are computed from the packets."""
from nctest import *

need_lab()
ev = run_json("sse")
pk = [e for e in ev if e["type"] == "packet" and "tcp" in e]
got = [p for p in pk if not p["dropped"]]


def conn(p):
    return frozenset({p["tcp"]["sport"], p["tcp"]["dport"]})


heads = [p for p in got if any(m.get("event_stream") for m in msgs(p, "http"))]
check(len(heads) == 2, f"{len(heads)} event-stream responses, expected 2 (one before the cut, one after)", ev)
first = heads[0]
check(msgs(first, "http")[0].get("chunked"), "the event stream is not chunked", ev)
check("text/event-stream" in first["note"], "the response head is not explained as an event stream", ev)
# The first response: its body cut into events, no request in between.
one = [p for p in got if conn(p) == conn(first) and p["i"] > first["i"]]
events = [e for p in one for e in msgs(p, "sse") if p["from"] == "server"]
check(len(events) >= 2, f"the first response carried {len(events)} events", ev)
check(not [p for p in one if p["from"] == "client" and msgs(p, "http")], "a request came inside the stream", ev)
for p in one:
    for e in msgs(p, "sse"):
        check(e["id"] and "Last-Event-ID" in p["note"], f"event in packet {p['i']} has no id or note", ev)
seen = [int(e["id"]) for e in events]
check(seen == list(range(1, len(seen) + 1)), f"the first stream's ids are {seen}", ev)

# The cut, the silence, the reconnect with Last-Event-ID.
cut = apps(ev, call="cut")
check(cut and any(p["dropped"] and p["i"] > cut[0]["i"] for p in pk), "nothing was dropped by the cut", ev)
gave_up = [a for a in apps(ev, host="client", call="close") if "gives up" in a["text"]]
check(gave_up and gave_up[0]["i"] > cut[0]["i"], "the client did not give the silent connection up", ev)
again = [p for p in got if any(m.get("last_event_id") for m in msgs(p, "http"))]
check(again and again[0]["from"] == "client" and again[0]["i"] > gave_up[0]["i"], "no reconnect with Last-Event-ID", ev)
last = msgs(again[0], "http")[0]["last_event_id"]
check(last == str(seen[-1]), f"Last-Event-ID {last}, but the client last received {seen[-1]}", ev)
check(conn(again[0]) != conn(first), "the reconnect reused the old connection", ev)
check("Last-Event-ID" in again[0]["note"], "the reconnect is not explained", ev)
after = [int(e["id"]) for p in got if conn(p) == conn(heads[1]) for e in msgs(p, "sse")]
check(after == list(range(int(last) + 1, 11)), f"after Last-Event-ID {last} the server sent ids {after}", ev)

check(decided(ev, "length") == "b", "checkpoint length", ev)
check(decided(ev, "resume") == ("a" if after[0] == 1 else "b"), "checkpoint resume", ev)
print("ok: one response cut into events, and a resume after Last-Event-ID")
