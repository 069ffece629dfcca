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
check(len(heads) >= 2, f"{len(heads)} event-stream responses: no second one after the cut", ev)
first = heads[0]
check(msgs(first, "http")[0].get("chunked"), "the event stream is not chunked", ev)
check("text/event-stream" in first["note"], "the response head is not explained as an event stream", ev)
# The first response: its body cut into events, no request in between.
one = [p for p in got if conn(p) == conn(first) and p["i"] > first["i"]]
check(len([e for p in one for e in msgs(p, "sse")]) >= 2, "the first response carried fewer than 2 events", ev)
check(not [p for p in one if p["from"] == "client" and msgs(p, "http")], "a request came inside the stream", ev)
for p in got:
    for e in msgs(p, "sse"):
        check(e["id"] and "Last-Event-ID" in p["note"], f"event in packet {p['i']} has no id or note", ev)

# The cut, the silence, the reconnect with Last-Event-ID.
cut = apps(ev, call="cut")
check(cut and any(p["dropped"] and p["i"] > cut[0]["i"] for p in pk), "nothing was dropped by the cut", ev)
gave_up = [a for a in apps(ev, host="client", call="close") if "gives up" in a["text"]]
check(gave_up and gave_up[0]["i"] > cut[0]["i"], "the client did not give the silent connection up", ev)
# Each stream: the events the client received on it (delivered before it
# gave that connection up); each later stream was asked for with the last
# id received so far, and goes on right after it.
received = []
for k, head in enumerate(heads):
    port = [p["tcp"]["dport"] for p in [head]][0]
    end = min([a["i"] for a in apps(ev, host="client", call="close") if a.get("port") == port] + [len(ev)])
    ids = [int(e["id"]) for p in got if conn(p) == conn(head) and p["i"] < end for e in msgs(p, "sse")]
    if k > 0:
        req = [p for p in got if conn(p) == conn(head) and p["from"] == "client"
               and any(m.get("last_event_id") for m in msgs(p, "http"))]
        check(req and "Last-Event-ID" in req[0]["note"], f"stream {k + 1} was not asked for with Last-Event-ID", ev)
        last = msgs(req[0], "http")[0]["last_event_id"]
        check(last == str(received[-1]), f"Last-Event-ID {last}, but the client last received {received[-1]}", ev)
        check(not ids or ids[0] == int(last) + 1, f"after Last-Event-ID {last} the server sent {ids}", ev)
    received += ids
check(received == list(range(1, 11)), f"the client received ids {received}, not 1 to 10 once each", ev)
resumed = [int(e["id"]) for p in got if conn(p) == conn(heads[1]) for e in msgs(p, "sse")]

check(decided(ev, "length") == "b", "checkpoint length", ev)
check(decided(ev, "resume") == ("a" if resumed[0] == 1 else "b"), "checkpoint resume", ev)
print("ok: one response cut into events, and a resume after Last-Event-ID")
