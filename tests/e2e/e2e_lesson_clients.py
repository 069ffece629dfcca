# ctest: timeout=600
"""Real clients against the lessons' own servers, typed into the client
host's shell (`netcourse shell LESSON client -c CMD --json --save FILE`),
each capture decoded by netcourse and by tshark given the same key log,
and compared packet by packet:

- the tls lesson: `openssl s_client -tls1_2` against its TLS 1.2 server and
  `-tls1_3` against its TLS 1.3 server, writing a key log; both print the
  balance; netcourse (`replay --keylog`) and tshark (`tls.keylog_file`)
  agree on every packet's tls.record.content_type, opaque type and
  tls.handshake.type, and on the decrypted HTTP (method, status); TLS 1.2
  shows ServerKeyExchange and ClientKeyExchange, TLS 1.3 neither. `curl
  --http2` against the same server offers h2 and gets http/1.1 by ALPN
  (the server was built for HTTP/1.1);
- the grpc lesson: a python3-grpcio client (unary, server streaming,
  client streaming, bidirectional, and the call that fails with
  NOT_FOUND), `nghttp` and `h2load` posting gRPC messages framed by hand
  to the kit's gRPC server (h2c), and `curl --http2` over TLS to its TLS
  port (ALPN h2); a call of a method the server lacks gets UNIMPLEMENTED,
  a quote in a request's text comes back in the reply unharmed, and a
  message marked compressed closes its own connection and nothing else;
  a call whose deadline passes is reset by the client (RST_STREAM), and
  the server reports it cancelled and sends no more on it; netcourse and tshark agree on every packet's http2.type
  and http2.streamid, the header names and the count of gRPC messages,
  the TLS connection's records and handshake included (decrypted with
  curl's key log).

The lessons' own saved runs are compared the same way by e2e_tls (the tls
lesson's records, with the key log its Decryption Secrets Block carries)
and e2e_grpc (the grpc lesson's HTTP/2 frames and gRPC messages).
"""
import json
import os
import shutil
import tempfile

from oraclelib import (h2_rows, layer_list, netcourse_packets, same_as_tshark, same_h2_as_tshark,
                       tls_rows, tshark_h2_rows, tshark_tls_rows)
from nctest import *

need_lab()
for tool, pkg in (("openssl", "openssl"), ("curl", "curl"), ("nghttp", "nghttp2-client"),
                  ("h2load", "nghttp2-client"), ("tshark", "tshark")):
    check(shutil.which(tool), f"{tool} is missing (Debian package {pkg}; .ci/quickstart installs it)")
PY = "/usr/bin/python3"
check(subprocess.run([PY, "-c", "import grpc"], capture_output=True).returncode == 0,
      "python3-grpcio is missing (Debian package python3-grpcio; .ci/quickstart installs it)")
LESSONS = os.path.join(os.environ.get("NC_SOURCE_DIR", "."), "lessons")
tmp = tempfile.mkdtemp(prefix="nc-e2e-lesson-clients-")
os.chmod(tmp, 0o755)


def shell(lesson, cmd, save):
    """Runs cmd in the client host's shell beside the lesson's servers,
    saving the run; returns (what the commands printed, the events)."""
    rc, out, err = run(["--lessons", LESSONS, "shell", lesson, "client", "-c", cmd, "--json",
                        "--save", save], data_dir=tempfile.mkdtemp(prefix="nc-e2e-"), timeout=120)
    check(rc == 0, f"`netcourse shell {lesson} client` exited {rc}: {err.strip()}")
    typed = "\n".join(l for l in out.splitlines() if not l.startswith("{"))
    ev = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
    check(ev and os.path.exists(save), f"`netcourse shell {lesson}` printed no events or saved nothing")
    return typed, ev


def compare_tls(path, keylog, what, more=()):
    """netcourse and tshark, the same key log, agree on every TLS packet;
    returns netcourse's packets, tshark's rows and its values of more."""
    pk = netcourse_packets(path, keylog)
    theirs, values = tshark_tls_rows(path, extra=("-o", f"tls.keylog_file:{keylog}"), more=more)
    check(len(theirs) >= 8, f"{what}: tshark saw only {len(theirs)} TLS packets")
    same_as_tshark(tls_rows(pk), theirs, f"{what}: TLS records and handshake types", 60)
    return pk, theirs, values


# ---- the tls lesson: openssl s_client with 1.2 and 1.3, curl --http2 ----
keys = os.path.join(tmp, "tls.keys")
save = os.path.join(tmp, "tls.pcapng")
REQ = "printf 'GET /balance HTTP/1.1\\r\\nHost: bank.example\\r\\nConnection: close\\r\\n\\r\\n'"
typed, ev = shell("tls", (
    f"{REQ} | openssl s_client -connect $SERVER:8412 -tls1_2 -servername bank.example "
    f"-alpn http/1.1 -keylogfile {keys} -quiet 2>/dev/null; "
    f"{REQ} | openssl s_client -connect $SERVER:8413 -tls1_3 -servername bank.example "
    f"-alpn http/1.1 -keylogfile {keys} -quiet 2>/dev/null; "
    f"SSLKEYLOGFILE={keys} curl -sk --http2 -o /dev/null -w 'curl %{{http_version}} %{{http_code}}\\n' "
    f"--resolve bank.example:8413:$SERVER https://bank.example:8413/balance"), save)
check(typed.count("balance: 42 coins") == 2, f"openssl s_client printed:\n{typed}")
check("curl 1.1 200" in typed, f"curl --http2 against an HTTP/1.1-only server printed:\n{typed}")
pk, theirs, values = compare_tls(save, keys, "openssl s_client and curl against the tls lesson",
                                 more=("http.request.method", "http.response.code"))
got = sorted((p["frame"], m.get("method") or m.get("status")) for p in pk for m in layer_list(p, "http")
             if not m.get("other_direction"))
want = sorted((f, v if not v.isdigit() else int(v)) for f, vs in values.items() for v in vs)
same_as_tshark(got, want, "the decrypted HTTP of the tls lesson's clients", 40)
check(len(got) == 6, f"three requests and three answers decrypted: {got}")


def handshakes(port):
    return [m["handshake"]["type"] for p in pk if "tcp" in p and port in (p["tcp"]["sport"], p["tcp"]["dport"])
            for m in layer_list(p, "tls") if "handshake" in m and not m.get("other_direction")]


h12, h13 = handshakes(8412), handshakes(8413)
check(12 in h12 and 16 in h12, f"TLS 1.2 without ServerKeyExchange/ClientKeyExchange: {h12}")
check(12 not in h13 and 16 not in h13 and 8 in h13, f"TLS 1.3 handshake types: {h13}")
alpn = [m["handshake"].get("extensions_alpn_str") for p in pk for m in layer_list(p, "tls")
        if m.get("handshake", {}).get("type") == 1 and "h2" in str(m["handshake"].get("extensions_alpn_str"))]
check(alpn, "curl's ClientHello did not offer h2")
print(f"ok: openssl s_client 1.2 and 1.3 and curl --http2 against the tls lesson: "
      f"{len(theirs)} TLS packets agree with tshark")

# ---- the grpc lesson: python3-grpcio, nghttp, h2load, curl --http2 over TLS ----
client_py = os.path.join(tmp, "grpc_client.py")
with open(client_py, "w") as f:
    f.write("""
import grpc, os
# Messages of lessons/proto/todo.proto, written by hand: Todo is id (1),
# text (2), done (3); ReadRequest is limit (1).
todo = b"\\x12\\x04milk"
ch = grpc.insecure_channel(os.environ["SERVER"] + ":50051")
svc = "/netcourse.todo.Todos/"
# A call the server never ends fails after 10 s instead of hanging. (The
# client stream's END_STREAM comes on an empty DATA frame of its own, which
# the kit once missed: checked failing before the fix in src/kit/h2.c.)
T = 10
print("create", ch.unary_unary(svc + "CreateTodo")(todo, timeout=T).hex())
print("read", len(list(ch.unary_stream(svc + "ReadTodos")(b"\\x08\\x03", timeout=T))))
print("upload", ch.stream_unary(svc + "UploadTodos")(iter([todo, todo, todo]), timeout=T).hex())
print("sync", len(list(ch.stream_stream(svc + "Sync")(iter([b"\\x08\\x07" + todo, b"\\x08\\x08" + todo]),
                                                     timeout=T))))
try:
    ch.unary_unary(svc + "DeleteTodo")(b"\\x08\\x63", timeout=T)
    print("delete succeeded")
except grpc.RpcError as e:
    print("delete", e.code().name, e.details())
try:
    ch.unary_unary(svc + "Nope")(todo, timeout=T)
    print("nope succeeded")
except grpc.RpcError as e:
    print("nope", e.code().name)
# A quote in the text cannot break the server's reply template.
print("quote", ch.unary_unary(svc + "CreateTodo")(b"\\x12\\x04it's", timeout=T).hex())
ch.close()
""")
body = os.path.join(tmp, "todo.bin")
with open(body, "wb") as f:
    f.write(b"\0\0\0\0\x06\x12\x04milk")
# The same message marked compressed: the kit reads no compression, and
# ends that connection alone.
packed = os.path.join(tmp, "packed.bin")
with open(packed, "wb") as f:
    f.write(b"\1\0\0\0\x06\x12\x04milk")
for p in (client_py, body, packed):
    os.chmod(p, 0o644)
keys = os.path.join(tmp, "grpc.keys")
save = os.path.join(tmp, "grpc.pcapng")
URL = "http://$SERVER:50051/netcourse.todo.Todos/CreateTodo"
GRPC_H = "-H 'content-type: application/grpc' -H 'te: trailers'"
typed, ev = shell("grpc", (
    f"{PY} {client_py}; "
    f"nghttp -H ':method: POST' {GRPC_H} -d {body} {URL} | od -An -tx1; "
    f"nghttp -H ':method: POST' {GRPC_H} -d {packed} {URL} >/dev/null 2>&1; "
    f"h2load -n 12 -c 2 -m 3 -d {body} {GRPC_H} {URL} | grep succeeded; "
    f"SSLKEYLOGFILE={keys} curl -sk --http2 {GRPC_H} --data-binary @{body} -o /dev/null "
    f"-w 'curl %{{http_version}} %{{http_code}}\\n' "
    f"https://$SERVER:50443/netcourse.todo.Todos/CreateTodo"), save)
for line in ("create 080112046d696c6b", "read 3", "upload 0803", "sync 2",
             "delete NOT_FOUND no to-do with that id", "nope UNIMPLEMENTED", "120469742773\n",
             "12 succeeded", "curl 2 200"):
    check(line in typed, f"the clients did not print {line!r}:\n{typed}")
check("00 00 00 00 08 08" in typed, f"nghttp's reply was not a gRPC message:\n{typed}")
done = apps(ev, call="send_status")
check(len(done) == 7 + 1 + 12 + 1,
      f"the servers ended {len(done)} calls, expected 21 (7 python, 1 nghttp, 12 h2load, 1 curl)")
check(sorted(a["status"] for a in done) == [0] * 19 + [5, 12],
      f"statuses {[a['status'] for a in done]}: all OK but DeleteTodo's 5 and Nope's 12")
shut = [a for a in apps(ev, call="close", host="server") if "compressed" in a["text"]]
check(len(shut) == 1, "the compressed message should close its connection, saying why")
ours = h2_rows(netcourse_packets(save, keys))
n = same_h2_as_tshark(ours, tshark_h2_rows(save, ports=(50051,), keylog=keys),
                      "the grpc lesson's real clients")
msgs = sum(v[2] for v in ours.values())
# python: 1+1, 1+3, 3+1, 2+2, 1+0, 1+0 and 1+1; nghttp 1+1 and the
# compressed 1; h2load 12+12; curl 1+1.
check(msgs == 18 + 3 + 24 + 2, f"{msgs} gRPC messages in the capture, expected 47")
tls_pk = [p for p in netcourse_packets(save, keys) if "tcp" in p and 50443 in (p["tcp"]["sport"], p["tcp"]["dport"])]
check(any("http2" in p and p.get("tls") for p in tls_pk), "curl's HTTP/2 over TLS was not decrypted")
theirs, _ = tshark_tls_rows(save, extra=("-o", f"tls.keylog_file:{keys}"))
same_as_tshark(tls_rows(netcourse_packets(save, keys)), theirs, "TLS records of the grpc lesson's clients", 60)
print(f"ok: python3-grpcio, nghttp, h2load and curl --http2 over TLS against the grpc lesson: "
      f"{n} HTTP/2 frames and {msgs} gRPC messages agree with tshark")

# A call the client cancels: python3-grpcio resets the stream (RST_STREAM
# CANCEL) when its 15 ms deadline passes, while the server still has two
# of its three 30 ms-spaced replies to send. The server says the call was
# cancelled exactly when the reset came before its trailers.
cancel_py = os.path.join(tmp, "grpc_cancel.py")
with open(cancel_py, "w") as f:
    f.write("""
import grpc, os
ch = grpc.insecure_channel(os.environ["SERVER"] + ":50051")
grpc.channel_ready_future(ch).result(timeout=10)
try:
    list(ch.unary_stream("/netcourse.todo.Todos/ReadTodos")(b"\\x08\\x03", timeout=0.015))
    print("read finished")
except grpc.RpcError as e:
    print("read", e.code().name)
ch.close()
""")
os.chmod(cancel_py, 0o644)
typed, ev = shell("grpc", f"{PY} {cancel_py}; sleep 0.2", os.path.join(tmp, "cancel.pcapng"))
check("read DEADLINE_EXCEEDED" in typed, f"the cancelled call printed:\n{typed}")
got = apps(ev, call="recv_message", method="/netcourse.todo.Todos/ReadTodos")
check(len(got) == 1, f"the server got {len(got)} ReadTodos requests")
sid = got[0]["stream"]
pk = [e for e in ev if e["type"] == "packet" and "tcp" in e and 50051 in (e["tcp"]["sport"], e["tcp"]["dport"])]
rst = [e["i"] for e in pk if e["from"] == "client" and
       any(f.get("type") == 3 and f.get("streamid") == sid for f in layer_list(e, "http2"))]
trailers = [e["i"] for e in pk if any(m.get("trailers") and m.get("streamid") == sid
                                       for m in layer_list(e, "grpc"))]
check(rst, "the client's deadline sent no RST_STREAM")
cancelled = apps(ev, call="cancel", method="/netcourse.todo.Todos/ReadTodos")
early = not trailers or rst[0] < trailers[0]
check(bool(cancelled) == early and len(cancelled) <= 1,
      f"RST_STREAM at {rst[0]}, trailers at {trailers}: the server's cancel events {cancelled}")
if early:
    check(not apps(ev, call="send_status", method="/netcourse.todo.Todos/ReadTodos") and
          not [a for a in apps(ev, call="send_message") if a["i"] > cancelled[0]["i"]],
          "the server went on with a cancelled call")
print(f"ok: a call cancelled by its deadline: RST_STREAM {'before' if early else 'after'} the trailers, "
      f"{len(cancelled)} cancel event(s) on the server")
shutil.rmtree(tmp, ignore_errors=True)
