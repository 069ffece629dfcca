# ctest: nolab timeout=600
"""HTTP/2 and gRPC agree with tshark, packet by packet: every HTTP/2 frame's
type and stream id (http2.type, http2.streamid), the header names HPACK
decodes (http2.header.name) and the count of gRPC messages
(grpc.message_length), on a capture this test makes on loopback in a
network namespace of its own:
- nghttpd (h2c by prior knowledge) serving nghttp with several streams at
  once and small windows (so windows run out and reopen), curl
  --http2-prior-knowledge, curl --http2 (an h2c Upgrade that nghttpd
  refuses: its SETTINGS, then HTTP/1), and h2load (many streams on two
  connections);
- a python3-grpcio server and client: unary, server streaming, client
  streaming, bidirectional (the service of lessons/proto/echo.proto, so the
  protobuf fields are named), and a call of another service that fails with
  NOT_FOUND.

Then h2 over TLS: nghttpd with a certificate made here and curl --http2
writing its key log; `replay --keylog` and tshark with the same key log
agree on the decrypted HTTP/2 frames.

Also checks what tshark does not say: a DATA frame used up a window and a
WINDOW_UPDATE reopened one, the header block's size is below its decoded
size, and the gRPC trailers carry grpc-status 5.

tshark, tcpdump, nghttp2-client, nghttp2-server and python3-grpcio are
required (.ci/quickstart test_pkgs)."""
import json
import os
import shutil
import subprocess
import tempfile

from oraclelib import *

need_tools({"tshark": "tshark", "tcpdump": "tcpdump", "nghttpd": "nghttp2-server", "openssl": "openssl",
            "nghttp": "nghttp2-client", "h2load": "nghttp2-client", "curl": "curl"})
PY = "/usr/bin/python3"
check(subprocess.run([PY, "-c", "import grpc"], capture_output=True).returncode == 0,
      "python3-grpcio is missing (Debian package python3-grpcio; .ci/quickstart installs it)")
in_namespace()

H2, GRPC = 18080, 50051
tmp = tempfile.mkdtemp(prefix="nc-oracle-h2-")
www = os.path.join(tmp, "www")
os.mkdir(www)
for name, size in (("a", 10), ("b", 3000), ("big", 200000)):
    with open(os.path.join(www, name), "wb") as f:
        f.write(bytes((i * 7) & 0xff for i in range(size)))

server_py = os.path.join(tmp, "grpc_server.py")
with open(server_py, "w") as f:
    f.write(f"""
import grpc
from concurrent import futures
# The messages are lessons/proto/echo.proto's, written by hand: Reply is
# note (1, a Note), count (2), tags (3, strings).
def say(req, ctx): return b"\\x0a" + bytes([len(req)]) + req + b"\\x10\\x01"
def watch(req, ctx):
    for i in range(3): yield b"\\x10" + bytes([i + 1]) + b"\\x1a\\x03abc"
def collect(it, ctx): return b"\\x10" + bytes([sum(1 for _ in it)])
def chat(it, ctx):
    for m in it: yield m
def fail(req, ctx): ctx.abort(grpc.StatusCode.NOT_FOUND, "no such thing")
h = grpc.method_handlers_generic_handler("netcourse.demo.Echo", {{
    "Say": grpc.unary_unary_rpc_method_handler(say),
    "Watch": grpc.unary_stream_rpc_method_handler(watch),
    "Collect": grpc.stream_unary_rpc_method_handler(collect),
    "Chat": grpc.stream_stream_rpc_method_handler(chat)}})
other = grpc.method_handlers_generic_handler("demo.Other", {{
    "Fail": grpc.unary_unary_rpc_method_handler(fail)}})
s = grpc.server(futures.ThreadPoolExecutor(4))
s.add_generic_rpc_handlers((h, other))
s.add_insecure_port("127.0.0.1:{GRPC}")
s.start()
s.wait_for_termination()
""")
client_py = os.path.join(tmp, "grpc_client.py")
with open(client_py, "w") as f:
    f.write(f"""
import grpc
ch = grpc.insecure_channel("127.0.0.1:{GRPC}")
# Note{{id: 150, text: "hello", meta: {{priority: 1, hops: 2}}}}
msg = b"\\x08\\x96\\x01\\x12\\x05hello\\x1a\\x04\\x08\\x01\\x10\\x02"
assert ch.unary_unary("/netcourse.demo.Echo/Say")(msg)[2:2 + len(msg)] == msg
assert len(list(ch.unary_stream("/netcourse.demo.Echo/Watch")(msg))) == 3
ch.stream_unary("/netcourse.demo.Echo/Collect")(iter([msg, msg, msg, msg]))
assert len(list(ch.stream_stream("/netcourse.demo.Echo/Chat")(iter([msg, b"\\x08\\x01", msg])))) == 3
try:
    ch.unary_unary("/demo.Other/Fail")(msg)
    raise SystemExit("the failing call succeeded")
except grpc.RpcError as e:
    assert e.code() == grpc.StatusCode.NOT_FOUND
ch.close()
print("ok")
""")

cap_path = os.path.join(tmp, "h2.pcap")
cap = Capture(cap_path, f"tcp port {H2} or tcp port {GRPC}").start()
h2d = subprocess.Popen(["nghttpd", "--no-tls", "-d", www, str(H2)], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
grpcd = subprocess.Popen([PY, server_py], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True)


def client(args, what):
    p = subprocess.run(args, capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, f"{what} failed ({p.returncode}): {p.stderr[-600:]}")
    return p.stdout


try:
    wait_listening(H2, h2d, "nghttpd")
    base = f"http://127.0.0.1:{H2}"
    # Small windows (2^14-1 per stream, 2^15-1 for the connection) make the
    # big file wait on WINDOW_UPDATEs.
    client(["nghttp", "-n", "-w", "14", "-W", "15", f"{base}/a", f"{base}/b", f"{base}/big"], "nghttp")
    client(["curl", "-sS", "-o", "/dev/null", "--http2-prior-knowledge", f"{base}/b"], "curl --http2-prior-knowledge")
    subprocess.run(["curl", "-sS", "-o", "/dev/null", "--max-time", "10", "--http2", f"{base}/a"],
                   capture_output=True, timeout=30)
    out = client(["h2load", "-n", "20", "-c", "2", "-m", "5", f"{base}/b"], "h2load")
    check("20 succeeded" in out, f"h2load: {out[-400:]}")
    wait_listening(GRPC, grpcd, "the gRPC server")
    check("ok" in client([PY, client_py], "the gRPC client"), "the gRPC client did not finish")
finally:
    cap.stop()
    for p in (h2d, grpcd):
        p.terminate()
        p.wait(timeout=10)
retry_if_lossy(cap_path)

# netcourse: per frame, [(type, streamid)], [header names], gRPC messages.
packets_ = netcourse_packets(cap_path)
ours = h2_rows(packets_)
frames, pbs, status5 = [], [], None
for ev in packets_:
    frames += [m for m in layer_list(ev, "http2") if not m.get("other_direction")]
    for m in layer_list(ev, "grpc"):
        if m.get("trailers") and m.get("status") == 5 and not m.get("other_direction"):
            status5 = status5 or m
    pbs += layer_list(ev, "protobuf")
theirs = tshark_h2_rows(cap_path, ports=(H2, GRPC))

nframes = same_h2_as_tshark(ours, theirs, "HTTP/2 frames, header names and gRPC messages")
check(nframes >= 150, f"tshark saw only {nframes} HTTP/2 frames")

types = {m["type"] for m in frames if "type" in m}
check({0, 1, 2, 4, 6, 7, 8} <= types, f"frame types seen: {sorted(types)}")
check(any(m.get("magic") for m in frames), "no connection preface")
check(any(m.get("stream_window_exhausted") or m.get("conn_window_exhausted") for m in frames),
      "no DATA frame used up a window, with windows of 2^14-1")
check(any(m.get("stream_window_reopened") or m.get("conn_window_reopened") for m in frames),
      "no WINDOW_UPDATE reopened a used-up window")
check(any(m.get("resumed_after_window") for m in frames),
      "no DATA frame says it resumed after waiting for a window")
blocks = [m for m in frames if "header_list_size" in m]
check(blocks and all(m["header_block_len"] < m["header_list_size"] for m in blocks),
      "a header block is not smaller than its decoded size")
check(status5 is not None and status5.get("message") == "no such thing",
      "the failing gRPC call's trailers (grpc-status 5) were not found")
# Field names from lessons/proto/echo.proto: the unary request is a Note,
# its answer a Reply holding it; the other service's request has none.
notes_ = [m for m in pbs if m.get("message_name") == "netcourse.demo.Note"]
check(notes_, f"no gRPC message was named netcourse.demo.Note: {pbs[:3]}")
names = [(f.get("name"), f.get("depth", 0)) for f in notes_[0]["field"]]
check(names == [("id", 0), ("text", 0), ("meta", 0), ("priority", 1), ("hops", 1)],
      f"the Note's fields are named {names}")
replies = [m for m in pbs if m.get("message_name") == "netcourse.demo.Reply"]
check(len(replies) == 5, f"{len(replies)} Reply messages named, expected 5 (Say, 3 Watch, Collect)")
check(any(not m.get("message_name") for m in pbs), "the Fail call's message should have no schema")
grpc_msgs = sum(v[2] for v in ours.values())

# h2 over TLS: nghttpd with a certificate made here, curl --http2 writing
# its key log; netcourse (replay --keylog) and tshark (tls.keylog_file) both
# decrypt, and the HTTP/2 inside must agree too.
TLSP = 18443
key, cert, keylog = (os.path.join(tmp, n) for n in ("key.pem", "cert.pem", "keys.txt"))
p = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", "/CN=localhost"], capture_output=True, text=True)
check(p.returncode == 0, f"openssl req failed: {p.stderr[-300:]}")
tls_path = os.path.join(tmp, "h2tls.pcap")
cap = Capture(tls_path, f"tcp port {TLSP}").start()
h2s = subprocess.Popen(["nghttpd", "-d", www, str(TLSP), key, cert], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
try:
    wait_listening(TLSP, h2s, "nghttpd over TLS")
    p = subprocess.run(["curl", "-sSk", "--http2", "-o", "/dev/null", f"https://127.0.0.1:{TLSP}/a",
                        "-o", "/dev/null", f"https://127.0.0.1:{TLSP}/b"],
                       capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, SSLKEYLOGFILE=keylog))
    check(p.returncode == 0, f"curl --http2 over TLS failed: {p.stderr[-300:]}")
finally:
    cap.stop()
    h2s.terminate()
    h2s.wait(timeout=10)
retry_if_lossy(tls_path)
tframes = same_h2_as_tshark(h2_rows(netcourse_packets(tls_path, keylog)),
                           tshark_h2_rows(tls_path, keylog=keylog), "HTTP/2 over TLS")
check(tframes >= 6, f"tshark decrypted only {tframes} HTTP/2 frames")
print(f"ok: {nframes} HTTP/2 frames in {len(ours)} packets and {grpc_msgs} gRPC messages "
      f"agree with tshark (type, stream id, header names, message counts); over TLS "
      f"{tframes} decrypted frames agree")
shutil.rmtree(tmp, ignore_errors=True)
