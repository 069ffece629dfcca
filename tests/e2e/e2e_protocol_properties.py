# ctest: timeout=300
"""Lesson 11, what makes a protocol, run headless with --json, read from the
run's own events:

- text against binary, measured: the JSON answer's body (http.body_len,
  Content-Length, application/json) against the protobuf message of the
  same to-do (grpc.message_length, equal to the protobuf walk's length,
  fields id, text and done named from todo.proto): the protobuf is less
  than half the JSON, and the bytes each server reported sending agree;
- message framing on a stream: the three UploadTodos messages leave in one
  client packet, the server's gRPC side reads them in one read() and
  still hands over three messages (recv_message 1, 2, 3), because each
  carries a 5-byte length prefix (the grpc layer's message_length);
- datagrams keep their edges: three sendto()s of 7 bytes, three UDP
  packets of 7 bytes of payload, three recvfrom()s of 7 bytes each;
- a bare stream loses write edges: three write()s of 7 bytes each, fewer
  data segments than writes, the server's read() sizes equal the
  segments' payloads (not the writes), and the 21 bytes arrive whole;
- the three checkpoints are asked before their target and decided by it,
  with the answers this run's numbers give.
"""
from oraclelib import layer_list
from nctest import *

need_lab()
events = run_json("protocol-properties")
pk = [e for e in events if e["type"] == "packet" and "tcp" in e]

# JSON.
resp = [m for e in pk if e["from"] == "server" for m in layer_list(e, "http") if not m["request"]]
check(len(resp) == 1 and resp[0]["status"] == 200 and resp[0]["content_type"] == "application/json"
      and resp[0]["body_len"] == resp[0]["content_length"], f"the JSON answer: {resp}")
json_len = resp[0]["body_len"]
check(json_len == len('{"id":7,"text":"walk dog","done":true}'), f"JSON body {json_len} bytes")

# Protobuf: the same to-do.
create = "/netcourse.todo.Todos/CreateTodo"
rep = [(e, m) for e in pk if e["from"] == "server" for m in layer_list(e, "grpc")
       if m.get("path") == create and "message_length" in m]
check(len(rep) == 1, f"CreateTodo replies: {rep}")
e, g = rep[0]
pb = [p for p in layer_list(e, "protobuf") if p.get("streamid") == g["streamid"]]
check(pb and pb[0]["length"] == g["message_length"] and pb[0]["message_name"] == "netcourse.todo.Todo",
      f"the reply's protobuf: {pb}")
fields = {f["name"]: f.get("value", f.get("text")) for f in pb[0]["field"]}
check(fields == {"id": 7, "text": "walk dog", "done": 1}, f"the protobuf to-do's fields: {fields}")
check(2 * g["message_length"] < json_len,
      f"protobuf {g['message_length']} bytes is not under half of JSON's {json_len}")
sent = apps(events, call="send_message", method=create, program="grpcserver")
check(len(sent) == 1 and sent[0]["bytes"] == g["message_length"], f"send_message {sent}")

# A length prefix restores message edges.
upload = "/netcourse.todo.Todos/UploadTodos"
up = [(e, m) for e in pk for m in layer_list(e, "grpc") if m.get("path") == upload and
      m.get("kind") == "request" and "message_length" in m]
check(len(up) == 3 and len({e["i"] for e, _ in up}) == 1,
      f"the three uploads should leave in one packet: {[(e['i'], m['index']) for e, m in up]}")
check([m["index"] for _, m in up] == [1, 2, 3], "upload indices")
got = apps(events, call="recv_message", method=upload, program="grpcserver")
check([a["index"] for a in got] == [1, 2, 3] and
      [a["bytes"] for a in got] == [m["message_length"] for _, m in up],
      f"the server's recv_message events: {got}")
reads = [a for a in apps(events, call="read", program="grpcserver") if a["i"] < got[0]["i"]]
check(reads and "DATA on stream 3" in reads[-1]["text"] and
      all(a["i"] > reads[-1]["i"] for a in got),
      "the three messages should come out of one read()")

# Datagrams.
sent = apps(events, call="sendto", program="udpclient")
dgrams = [e["udp"]["payload_len"] for e in events if e["type"] == "packet" and "udp" in e and
          e["udp"]["dport"] == 9001]
recvd = [a["bytes"] for a in apps(events, call="recvfrom", program="udpserver")]
check([a["bytes"] for a in sent] == [7, 7, 7] and dgrams == [7, 7, 7] and recvd == [7, 7, 7],
      f"sendto {sent}, datagrams {dgrams}, recvfrom {recvd}: each should be three of 7 bytes")
check(all(a["from"].startswith("client:5001") for a in apps(events, call="recvfrom")),
      "recvfrom should name the sender")

# A bare stream.
writes = apps(events, call="write", program="streamclient")
check([w["bytes"] for w in writes] == [7, 7, 7], f"the line client's writes: {writes}")
segs = [e["tcp"]["len"] for e in pk if e["from"] == "client" and e["tcp"]["dport"] == 9000 and
        e["tcp"]["len"] > 0 and not e["tcp"]["retransmission"]]
sreads = [a["bytes"] for a in apps(events, call="read", program="streamserver") if a["bytes"] > 0]
check(sum(segs) == 21 and sum(sreads) == 21, f"segments {segs}, reads {sreads}")
check(len(segs) < 3, f"three writes should leave in fewer segments: {segs}")
check(sreads == segs, f"the reads {sreads} should follow the segments {segs}, not the writes")

for cp, answer in (("size", "b"), ("framing", "a"), ("stream", "b")):
    asked = marks(events, checkpoint=cp, event="asked")
    dec = marks(events, checkpoint=cp, event="decided")
    check(asked and dec, f"checkpoint {cp} was not asked and decided")
    check(dec[0]["answer"] == answer, f"checkpoint {cp}: the run answered {dec[0]['answer']}, not {answer}")
    check(asked[0]["i"] < dec[0]["target"] <= dec[0]["by"] < dec[0]["i"],
          f"checkpoint {cp}: asked {asked[0]['i']}, target {dec[0]['target']}, decided {dec[0]['i']}")
print(f"ok: JSON {json_len} bytes against protobuf {g['message_length']}; three messages out of one "
      f"read by their prefixes; three datagrams, three recvfroms; three writes became segments "
      f"{segs} and reads {sreads}")
