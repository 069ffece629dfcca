"""A lesson written only in Markdown (tests/e2e/lessons/web.md: program
blocks, no C) run through `netcourse --lessons DIR run web --headless
--json`: HTTP/1.1 keep-alive, pipelining, HEAD, a chunked answer, a chunked
upload behind `Expect: 100-continue`, HTTP/1.0, an answer held until another
program signals, server-sent events and a WebSocket (text, fragmented
binary, ping/pong, close). Every kit call is an app event with pid, tid and
both ports; accept() and connect() link to their packets. Then the same run
as an ordinary user."""
import json
import os
import shutil
import tempfile


from nctest import *

def http_msgs(p):
    """The HTTP messages a packet completes: one object, or a list when it
    completes several (pipelined requests in one segment)."""
    h = p.get("http")
    if h is None:
        return []
    return h if isinstance(h, list) else [h]


need_lab()
LESSONS = os.path.join(os.environ["NC_SOURCE_DIR"], "tests", "e2e", "lessons")


def run_web(lessons, data_dir=None, user=None):
    data_dir = data_dir or tempfile.mkdtemp(prefix="nc-e2e-")
    rc, out, err = run(["--lessons", lessons, "run", "web", "--headless", "--json"],
                       data_dir=data_dir, user=user)
    check(rc == 0, f"`netcourse --lessons {lessons} run web` exited {rc}: {err.strip()}")
    ev = [json.loads(line) for line in out.splitlines()]
    check(ev and all(e["i"] == n for n, e in enumerate(ev)), "the events are not numbered in order")
    return ev


def first(ev, what, **where):
    hits = [e for e in apps(ev, **{k: v for k, v in where.items() if k != "text"})
            if where.get("text", "") in e["text"]]
    check(hits, f"no app event for {what}", ev)
    return hits[0]


ev = run_web(LESSONS)
app = [e for e in ev if e["type"] == "app"]

# The same fields on every kit call.
for e in app:
    for key in ("pid", "tid"):
        check(key in e, f"app event {e['i']} ({e['call']}) has no {key}", ev)
    if e["call"] in ("accept", "read", "write", "close") or (e["call"] == "connect" and "returned" in e["text"]):
        check(e.get("port", 0) > 0 and e.get("peer_port", 0) > 0,
              f"app event {e['i']} ({e['call']}) lacks its ports", ev)
pk = {e["i"]: e for e in ev if e["type"] == "packet"}
links = [e for e in app if e["call"] in ("accept", "connect") and "port" in e]
check(len(links) >= 8, f"expected 4 connections seen from both sides, saw {len(links)} accept/connect", ev)
for e in links:
    p = pk.get(e.get("packet"))
    check(p is not None, f"{e['call']} #{e['i']} is not linked to its packet", ev)
    check({p["tcp"]["sport"], p["tcp"]["dport"]} == {e["port"], e["peer_port"]},
          f"{e['call']} #{e['i']} links to packet {p['i']} of another connection", ev)

# Every read() links to what it read: the segment that carried its last
# byte (bytes counted from 1 on each connection), or the peer's FIN.
for e in app:
    if e["call"] != "read" or "port" not in e:
        continue
    p = pk.get(e.get("packet"))
    check(p is not None and p["tcp"]["sport"] == e["peer_port"] and p["tcp"]["dport"] == e["port"]
          and not p["dropped"], f"read #{e['i']} is not linked to a packet that reached it", ev)
    if e["bytes"] == 0:
        check("FIN" in p["tcp"]["flags"], f"read #{e['i']} returned 0 but links to no FIN", ev)
    else:
        check(p["tcp"]["len"] > 0, f"read #{e['i']} links to a segment without data", ev)

# Keep-alive and pipelining: one connection carries several requests, and
# the three pipelined ones are all written before the first answer is read.
ka = first(ev, "GET /hello", host="client", call="write", text="GET /hello")
same = [e for e in app if e["host"] == "client" and e["call"] == "write" and e.get("port") == ka["port"]]
check(len(same) >= 7, f"the first connection carried {len(same)} writes, not a keep-alive series", ev)
wc = first(ev, "GET /page/c", host="client", call="write", text="GET /page/c")
wa = first(ev, "GET /page/a", host="client", call="write", text="GET /page/a")
# Reads of the same connection: the fixture's other client programs (the
# WebSocket reader) read on their own connections meanwhile.
reads = [e for e in app if e["host"] == "client" and e["call"] == "read" and e["i"] > wa["i"]
         and e.get("port") == wa["port"]]
check(reads and wc["i"] < reads[0]["i"], "the pipelined requests waited for an answer", ev)

# HEAD gets the headers of a GET and no body; the decoder agrees.
heads = [m for p in pk.values() for m in http_msgs(p)
         if m.get("status") == 200 and m.get("content_length") == 13 and m["body_len"] == 0]
check(heads, "no bodiless answer to HEAD /hello", ev)

# 100-continue: the head, then 100 Continue, then the body.
post = first(ev, "POST /upload", host="client", call="write", text="POST /upload")
cont = first(ev, "100 Continue", host="server", call="write", text="100 Continue")
body = first(ev, "the held body", host="client", call="write", text="now that the server said 100")
check(post["i"] < cont["i"] < body["i"], "the body was not held back until 100 Continue", ev)
check(any(m.get("status") == 201 for p in pk.values() for m in http_msgs(p)), "no 201 for the upload", ev)

# HTTP/1.0 without keep-alive: the server closes first.
old = [p for p in pk.values() if any(m.get("version") == "HTTP/1.0" and m.get("request") for m in http_msgs(p))]
check(old, "no HTTP/1.0 request on the wire", ev)
sclose = first(ev, "the server's close after the 1.0 answer", host="server", call="close",
               text="last on this connection")
check(sclose["i"] > old[0]["i"], "the server closed before the HTTP/1.0 request", ev)

# The held answer comes only after the client's signal (sent after its 201).
got201 = first(ev, "the 201", host="client", call="read", text="response 201")
held = [e for e in app if e["call"] == "write" and e["host"] == "server" and e["i"] > 0
        and e.get("peer_port") == first(ev, "GET /held", host="client", call="write", text="/held")["port"]]
check(held and held[0]["i"] > got201["i"], "the held answer was sent before the other program's event", ev)

# Server-sent events: three events on one streamed answer.
sse = [e for e in app if e["host"] == "server" and "server-sent event" in e["text"]]
check(len(sse) >= 3, f"{len(sse)} server-sent events, expected 3", ev)

# WebSocket: the 101, frames both ways, a pong, the closing handshake, and
# the server ending the TCP connection.
for host, text in (("server", "101 Switching Protocols"), ("client", "text frame"),
                   ("client", "binary frame"), ("client", "ping frame"), ("server", "pong frame"),
                   ("client", "close frame"), ("server", "close frame"),
                   ("server", "the closing handshake is done")):
    first(ev, f"{host}: {text}", host=host, text=text)
echoes = [e for e in app if e["host"] == "server" and "echoes" in e["text"]]
check(len(echoes) == 2, f"the server echoed {len(echoes)} messages, not 2", ev)

# ws-push: the server speaks first, twice, on the reader's WebSocket.
news = [(p, f) for p in pk.values() if p["from"] == "server" and not p["dropped"]
        for f in msgs(p, "websocket") if "news" in f.get("payload", {}).get("text", "")]
check([f["payload"]["text"] for p, f in news] == ["news 1 of 2", "news 2 of 2"],
      f"the pushed news were {[f['payload']['text'] for p, f in news]}", ev)
port = news[0][0]["tcp"]["dport"]
before = [p for p in pk.values() if p["from"] == "client" and p.get("tcp", {}).get("sport") == port
          and p["i"] < news[-1][0]["i"] and "websocket" in p]
check(not before, "the reader sent a frame before the server's news", ev)
check(len([e for e in app if e["host"] == "server" and "never asked for" in e["text"]]) == 2,
      "the server did not report two ws-push writes", ev)

# A link cut for a while: what is sent meanwhile is dropped by the wire,
# and TCP delivers it again once the link is back.
cut = first(ev, "the cut", host="server", call="cut")
restore = first(ev, "the restore", host="server", call="restore")
late = first(ev, "the request sent during the cut", host="client", call="write", text="while the link is cut")
lost = [p for p in pk.values() if p["dropped"] and cut["i"] < p["i"] < restore["i"]]
check(lost and any(p["from"] == "client" and p["tcp"]["len"] > 0 for p in lost),
      "nothing the client sent was dropped while the link was cut", ev)
check(all("cut" in p.get("note", "") for p in lost), "a drop during the cut does not say why", ev)
check(any(p["from"] == "client" and not p["dropped"] and p["i"] > restore["i"]
          and any(m.get("method") == "GET" for m in http_msgs(p)) for p in pk.values()),
      "the request was never delivered after the link came back", ev)
check(cut["i"] < late["i"], "the request was not sent during the cut", ev)

# A restart: the server drops its connection, listens again, and answers.
listens = [e for e in app if e["host"] == "server" and e["call"] == "listen"]
check(len(listens) == 2, f"{len(listens)} listen() calls, expected 2 (a restart)", ev)
dropped = first(ev, "the restart's close", host="server", call="close", text="restarts")
check(dropped["i"] < listens[1]["i"], "the server listened again before dropping its connection", ev)
again = first(ev, "the request after the restart", host="client", call="write", text="restarted server")
answers = [e for e in app if e["host"] == "client" and e["call"] == "read" and e["i"] > again["i"]
           and "response 200" in e["text"]]
check(again["i"] > listens[1]["i"] and answers, "the restarted server did not answer", ev)

# A server whose client left while it was still answering (the SSE
# stream) closes its side once it is done, not when it is torn down.
sse_port = first(ev, "GET /events", host="client", call="write", text="GET /events")["port"]
sse_close = [e for e in app if e["host"] == "server" and e["call"] == "close" and e.get("peer_port") == sse_port]
check(sse_close and "restarts" not in sse_close[0]["text"],
      "the server kept the SSE connection half-closed until its restart", ev)

# Every connection ends closed on both sides.
last = {}
for e in states(ev):
    if "->" in e.get("socket", ""):
        last[e["socket"]] = e["state"]
stale = {k: v for k, v in last.items() if v in ("LAST_ACK", "FIN_WAIT1", "FIN_WAIT2", "CLOSE_WAIT", "CLOSING")}
check(last and not stale, f"sockets half-closed at the end of the run: {stale}", ev)

check(len(marks(ev, event="decided")) == 2, "the fixture's two checkpoints were not decided", ev)

# The same lesson as an ordinary user (netcourse enters a user namespace).
if os.geteuid() == 0:
    user, work, lessons, data = ordinary_user(LESSONS)
    ev = run_web(lessons, data_dir=data, user=user)
    check(any("101 Switching Protocols" in e.get("text", "") for e in ev),
          "the unprivileged run did not reach the WebSocket", ev)
    shutil.rmtree(work, ignore_errors=True)
print("ok: a lesson written only in Markdown runs HTTP/1.x, SSE and WebSocket programs")
