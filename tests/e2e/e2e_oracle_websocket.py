# ctest: nolab
"""WebSocket frames agree with tshark (TCP reassembly on) for FIN, opcode,
mask, payload length (the 7-bit field and the extended one) and the
permessage-deflate bit, frame by frame, on a capture this test makes of a real
client and server (Debian's python3-websockets) on loopback, in a network
namespace of its own: text, a 300-byte and a 70000-byte binary message (16-
and 64-bit lengths), a fragmented message, ping/pong and a close with code
1000, once without compression and once with permessage-deflate.

tshark, tcpdump and python3-websockets are required (.ci/quickstart
test_pkgs)."""
import os
import shutil
import subprocess
import tempfile

from oraclelib import *

need_tools({"tshark": "tshark", "tcpdump": "tcpdump"})


def websockets_python():
    """An interpreter that has the websockets module: this one or Debian's."""
    for py in (sys.executable, "/usr/bin/python3"):
        if os.path.exists(py) and subprocess.run([py, "-c", "import websockets"],
                                                 capture_output=True).returncode == 0:
            return py
    fail("python3-websockets is missing (Debian package python3-websockets; .ci/quickstart installs it)")


PY = websockets_python()
in_namespace()
PORT = 8765
tmp = tempfile.mkdtemp(prefix="nc-oracle-ws-")
server_py = os.path.join(tmp, "server.py")
client_py = os.path.join(tmp, "client.py")
with open(server_py, "w") as f:
    f.write(f"""
import asyncio, websockets

async def echo(ws, path=None):
    async for msg in ws:
        await ws.send(msg)

async def main():
    async with websockets.serve(echo, "127.0.0.1", {PORT}, max_size=None):
        await asyncio.Future()

asyncio.run(main())
""")
with open(client_py, "w") as f:
    f.write(f"""
import asyncio, sys, websockets

async def session(compression):
    async with websockets.connect("ws://127.0.0.1:{PORT}/chat", compression=compression,
                                  max_size=None) as ws:
        await ws.send("hello")
        assert await ws.recv() == "hello"
        await ws.send(bytes(range(256)) + bytes(44))
        assert len(await ws.recv()) == 300
        await ws.send(bytes(70000))
        assert len(await ws.recv()) == 70000
        await ws.send(["frag-", "ment", "ed"])
        assert await ws.recv() == "frag-mented"
        pong = await ws.ping(b"hb")
        await pong
        await ws.close(1000, "bye")

asyncio.run(session(None))
asyncio.run(session("deflate"))
print("ok")
""")
cap_path = os.path.join(tmp, "ws.pcap")
cap = Capture(cap_path, f"tcp port {PORT}").start()
server = subprocess.Popen([PY, server_py], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True)
try:
    wait_listening(PORT, server, "the WebSocket server")
    p = subprocess.run([PY, client_py], capture_output=True, text=True, timeout=60)
    check(p.returncode == 0 and "ok" in p.stdout, f"the WebSocket client failed: {p.stderr[-800:]}")
finally:
    cap.stop()
    server.terminate()
    server.wait(timeout=10)
retry_if_lossy(cap_path)

# (frame, conversation, fin, opcode, mask, payload_length, extended length, pmc)
ours = []
for ev in netcourse_packets(cap_path):
    if "websocket" not in ev:
        continue
    conv = tuple(sorted([ev["tcp"]["sport"], ev["tcp"]["dport"]]))
    for m in layer_list(ev, "websocket"):
        ext = m.get("payload_length_ext_16", m.get("payload_length_ext_64"))
        ours.append((ev["frame"], conv, m["fin"], m["opcode"], m["mask"], m["payload_length"], ext,
                     m.get("pmc", False)))

theirs = []
for num, protos in tshark_pdml(cap_path, ["-d", f"tcp.port=={PORT},http"]):
    ports = tcp_conversation(protos)
    for p in protos:
        if p.get("name") != "websocket":
            continue
        flag = lambda name: first_show(p, name) in ("1", "True", "true")
        ext = first_show(p, "websocket.payload_length_ext_16", int)
        if ext is None:
            ext = first_show(p, "websocket.payload_length_ext_64", int)
        theirs.append((num, ports, flag("websocket.fin"), first_show(p, "websocket.opcode", int),
                       flag("websocket.mask"), first_show(p, "websocket.payload_length", int), ext,
                       flag("websocket.pmc")))

check(len(theirs) >= 20, f"tshark saw only {len(theirs)} WebSocket frames: {theirs}")
same_as_tshark(ours, theirs, "WebSocket frames", 66)
ops = {m[3] for m in ours}
check({0, 1, 2, 8, 9, 10} <= ops, f"opcodes seen: {sorted(ops)}")
check(any(m[6] is not None and m[6] > 65535 for m in ours), "no 64-bit length")
check(any(m[7] for m in ours), "no compressed (permessage-deflate) frame")
print(f"ok: {len(ours)} WebSocket frames agree with tshark (FIN, opcode, mask, lengths, pmc)")
shutil.rmtree(tmp, ignore_errors=True)
