# ctest: timeout=300
"""Lesson 20, gRPC, run headless with --json --save, read from the run's
own events:

- one TCP connection carries the five calls, each on an HTTP/2 stream of
  its own (1, 3, 5, 7, 9), opened by a POST HEADERS whose :path names the
  method and whose content-type is application/grpc;
- the four call kinds, by the messages each stream carried (grpc layer,
  kind request/response, index per direction): unary 1 and 1, server
  streaming 1 and 3 (each reply in a packet of its own), client streaming
  3 (each in a packet of its own, all before the reply) and 1,
  bidirectional 2 and 2 with the server's first reply before the client's
  second request;
- length-prefixed messages: each grpc message's message_length is its
  protobuf walk's length and the bytes the sender's send_message reported;
- protobuf field names from lessons/proto/todo.proto: the CreateTodo
  request is a netcourse.todo.Todo with field 2 named text, "buy milk";
  the ReadTodos replies have ids 1, 2, 3; the UploadTodos reply is a
  Summary whose created is 3;
- trailers: every call ends with a HEADERS frame with END_STREAM holding
  grpc-status, 0 for four calls and 5 NOT_FOUND with its grpc-message for
  DeleteTodo, whose head still said :status 200; the programs' status
  events agree;
- the four checkpoints are asked before their target and decided by it;
- the saved run: tshark agrees with netcourse's replay on every packet's
  HTTP/2 frame types and stream ids, header names and gRPC message count.
"""
import os
import subprocess
import tempfile

from oraclelib import h2_rows, layer_list, netcourse_packets, same_h2_as_tshark, tshark_h2_rows
from nctest import *

need_lab()
check(subprocess.run(["which", "tshark"], capture_output=True).returncode == 0,
      "tshark is missing (Debian package tshark; .ci/quickstart installs it)")
tmp = tempfile.mkdtemp(prefix="nc-e2e-grpc-")
saved = os.path.join(tmp, "grpc.pcapng")
events = run_json("grpc", extra=("--save", saved), data_dir=tmp)
SVC = "/netcourse.todo.Todos/"
CALLS = {  # method: (stream, kind, requests, replies, grpc-status)
    "CreateTodo": (1, "unary", 1, 1, 0),
    "ReadTodos": (3, "server-stream", 1, 3, 0),
    "UploadTodos": (5, "client-stream", 3, 1, 0),
    "Sync": (7, "bidi", 2, 2, 0),
    "DeleteTodo": (9, "unary", 1, 0, 5),
}

pk = [e for e in events if e["type"] == "packet" and "tcp" in e]
conns = {(e["tcp"]["sport"], e["tcp"]["dport"]) for e in pk if e["from"] == "client"}
check(len(conns) == 1 and next(iter(conns))[1] == 50051,
      f"the calls should share one connection to port 50051: {conns}")

# Each call's stream: its opening HEADERS, its messages, its trailers.
for method, (sid, kind, nreq, nrep, status) in CALLS.items():
    path = SVC + method
    heads = [(e, f) for e in pk if e["from"] == "client" for f in layer_list(e, "http2")
             if f.get("type") == 1 and f.get("streamid") == sid]
    check(len(heads) == 1, f"{method}: {len(heads)} client HEADERS on stream {sid}")
    hd = {h["name"]: h["value"] for h in heads[0][1]["header"]}
    check(hd.get(":method") == "POST" and hd.get(":path") == path and
          hd.get("content-type") == "application/grpc",
          f"{method}: the call's HEADERS were {hd}")
    msgs = [(e, m) for e in pk for m in layer_list(e, "grpc")
            if m.get("streamid") == sid and "message_length" in m and not m.get("other_direction")]
    req = [(e, m) for e, m in msgs if m["kind"] == "request"]
    rep = [(e, m) for e, m in msgs if m["kind"] == "response"]
    check(len(req) == nreq and len(rep) == nrep,
          f"{method} ({kind}): {len(req)} requests and {len(rep)} replies, "
          f"expected {nreq} and {nrep}")
    check(all(e["from"] == "client" for e, _ in req) and all(e["from"] == "server" for e, _ in rep),
          f"{method}: a message came from the wrong side")
    check([m["index"] for _, m in req] == list(range(1, nreq + 1)) and
          [m["index"] for _, m in rep] == list(range(1, nrep + 1)),
          f"{method}: message indices {[m['index'] for _, m in msgs]}")
    # Length-prefixed: the prefix's length is the protobuf message's, and
    # the sender said it sent that many bytes.
    for e, m in msgs:
        pb = [p for p in layer_list(e, "protobuf") if p.get("streamid") == sid and
              p.get("index") == m["index"]]
        check(pb and pb[0]["length"] == m["message_length"] and m["compressed_flag"] == 0,
              f"{method}: message {m} has protobuf {pb}")
    sent = [a["bytes"] for a in apps(events, call="send_message", method=path)]
    check(sent == [m["message_length"] for _, m in sorted(msgs, key=lambda x: x[0]["i"])],
          f"{method}: send_message bytes {sent} against the wire's "
          f"{[m['message_length'] for _, m in msgs]}")
    tr = [(e, m) for e in pk for m in layer_list(e, "grpc") if m.get("trailers") and
          m.get("streamid") == sid]
    check(len(tr) == 1 and tr[0][0]["from"] == "server" and tr[0][1]["status"] == status,
          f"{method}: trailers {[m for _, m in tr]}, expected grpc-status {status}")
    end = [f for f in layer_list(tr[0][0], "http2") if f.get("streamid") == sid and
           f.get("type") == 1 and "END_STREAM" in f.get("flag_names", "")]
    check(end and any(h["name"] == "grpc-status" for h in end[-1]["header"]),
          f"{method}: the trailers are not a HEADERS frame with END_STREAM: {end}")
    check(all(e["i"] < tr[0][0]["i"] or (e is tr[0][0] and m["seq_end"] <= tr[0][1]["seq_start"])
              for e, m in msgs), f"{method}: a message after the trailers")
    got = apps(events, call="recv_status", method=path)
    check(len(got) == 1 and got[0]["status"] == status and got[0]["replies"] == nrep and
          got[0]["kind"] == kind, f"{method}: the client's recv_status {got}")
    if kind == "server-stream" or kind == "client-stream":
        many = rep if kind == "server-stream" else req
        check(len({e["i"] for e, _ in many}) == len(many),
              f"{method}: the streamed messages should leave one packet each")
    if kind == "client-stream":
        check(max(e["i"] for e, _ in req) < rep[0][0]["i"], f"{method}: a reply before the last request")
    if kind == "bidi":
        check(rep[0][0]["i"] < req[1][0]["i"],
              f"{method}: the server's first reply should come before the client's second request")
    CALLS[method] = CALLS[method] + (msgs, tr[0])

# Field names from todo.proto.
e, m = CALLS["CreateTodo"][5][0]
pb = layer_list(e, "protobuf")[0]
check(pb.get("message_name") == "netcourse.todo.Todo" and
      [(f["number"], f.get("name"), f.get("text")) for f in pb["field"]] == [(2, "text", "buy milk")],
      f"the CreateTodo request's protobuf: {pb}")
ids = [f.get("value") for e, m in CALLS["ReadTodos"][5] if m["kind"] == "response"
       for p in layer_list(e, "protobuf") if p.get("index") == m["index"] and p.get("streamid") == 3
       for f in p["field"] if f.get("name") == "id"]
check(ids == [1, 2, 3], f"ReadTodos reply ids {ids}")
summ = [p for e in pk for p in layer_list(e, "protobuf") if p.get("message_name") == "netcourse.todo.Summary"]
check(len(summ) == 1 and any(f.get("name") == "created" and f.get("value") == 3 for f in summ[0]["field"]),
      f"the UploadTodos Summary: {summ}")

# The error: HTTP said 200, gRPC said 5 NOT_FOUND with a message.
e, t = CALLS["DeleteTodo"][6]
check(t.get("status_name") == "NOT_FOUND" and t.get("message") == "no to-do with that id",
      f"DeleteTodo's trailers: {t}")
head = [h["value"] for e2 in pk if e2["from"] == "server" for f in layer_list(e2, "http2")
        if f.get("streamid") == 9 and f.get("type") == 1 for h in f["header"] if h["name"] == ":status"]
check(head == ["200"], f"DeleteTodo's answer head :status {head}")
st = apps(events, call="send_status", method=SVC + "DeleteTodo")
check(len(st) == 1 and st[0]["status"] == 5 and st[0]["status_name"] == "NOT_FOUND",
      f"the server's send_status for DeleteTodo: {st}")

# Checkpoints.
for cp, answer in (("size", "a"), ("stream", "a"), ("chat", "a"), ("status", "a")):
    asked = marks(events, checkpoint=cp, event="asked")
    dec = marks(events, checkpoint=cp, event="decided")
    check(asked and dec, f"checkpoint {cp} was not asked and decided")
    check(dec[0]["answer"] == answer, f"checkpoint {cp}: the run answered {dec[0]['answer']}, not {answer}")
    check(asked[0]["i"] < dec[0]["target"] <= dec[0]["by"] < dec[0]["i"],
          f"checkpoint {cp}: asked {asked[0]['i']}, target {dec[0]['target']}, by {dec[0]['by']}, "
          f"decided {dec[0]['i']}")

# The saved run against tshark.
ours = h2_rows(netcourse_packets(saved))
n = same_h2_as_tshark(ours, tshark_h2_rows(saved, ports=(50051,)), "the grpc lesson's saved run")
grpc_msgs = sum(v[2] for v in ours.values())
check(grpc_msgs == sum(c[2] + c[3] for c in CALLS.values()), f"{grpc_msgs} gRPC messages in the saved run")
print(f"ok: five calls of four kinds on streams 1-9; {n} HTTP/2 frames and {grpc_msgs} gRPC "
      f"messages agree with tshark")
