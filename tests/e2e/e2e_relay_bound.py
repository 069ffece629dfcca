# ctest: timeout=120
"""The relay's bound (tests/e2e/lessons/relay-bound.md, through `netcourse
shell relay-bound client`): the server writes 16 MB through the relay on
middle to a peer in the lab shell that reads nothing (a 4 KiB receive
buffer) for 1.5 s, then leaves. The relay shares the boxes' splice
(src/kit/splice.c), so once 256 KiB wait unread on the peer's side it
stops reading the server: it reads well under 2 MB of the 16, where the
relay before the splice was shared read all 16 MB into its memory
(checked failing before the fold)."""
import json
import os
import re
import tempfile

from nctest import *

need_lab()
LESSONS = os.path.join(os.environ["NC_SOURCE_DIR"], "tests", "e2e", "lessons")
PEER = ("import socket, sys, time\n"
        "s = socket.socket()\n"
        "s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)\n"
        "s.connect((sys.argv[1], 7001))\n"
        "time.sleep(1.5)\n"
        "print('left', flush=True)\n"
        "s.close()\n")
tmp = tempfile.mkdtemp(prefix="nc-e2e-")
with open(os.path.join(tmp, "peer.py"), "w") as f:
    f.write(PEER)
os.chmod(tmp, 0o755)
rc, out, err = run(["--lessons", LESSONS, "shell", "relay-bound", "client", "-c",
                    f"python3 {tmp}/peer.py $MIDDLE", "--json"], data_dir=os.path.join(tmp, "d"))
check(rc == 0, f"`netcourse shell relay-bound client` exited {rc}: {err.strip()}")
typed = [l for l in out.splitlines() if not l.startswith("{")]
ev = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
check(typed == ["left"], f"the peer printed {typed}", ev)
reads = [e for e in apps(ev, host="middle", call="read") if e["peer_port"] == 7000]
got = sum(int(re.search(r"returned (\d+)", e["text"]).group(1)) for e in reads
          if re.search(r"returned (\d+)", e["text"]))
check(reads and got < 2 * 1000 * 1000, f"the relay read {got} bytes of the server's 16 MB for a "
      "peer that read nothing", ev)
print(f"ok: the relay read {got} bytes of 16 MB for a peer that read nothing")
