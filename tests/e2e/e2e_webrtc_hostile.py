# ctest: timeout=300
"""Hostile peers against the kit's TURN relay and signalling server
(fixture tests/e2e/lessons/turn-hostile.md: a relay with room for four
allocations), sent from the lab shell on `peer` by webrtc_hostile_peer.py:
3000 datagrams of garbage (random bytes, lying lengths, truncated
attributes, ChannelData on unbound channels), 1000 Allocates without
credentials, forged credentials (a wrong password, a nonce of the
client's own), six clients for four allocations, a second Allocate from
an address that has one, nine peers in one CreatePermission, a Send
indication to a peer without permission, a flood of 2000 Send
indications; then 40 connections to the signalling server (32 fit), a
line of 5000 bytes, a third member in a room, 100 lines held for a member
who never comes. After each attack an honest client is served. Each
refusal is an app event with its reason; the servers' reports stop at
their budget (a "quiet" event says so); and the netcourse process's
descriptors and memory, sampled from outside all along, stay bounded."""
import json
import os
import subprocess
import tempfile

from nctest import *

need_lab()
LESSONS = os.path.join(os.environ["NC_SOURCE_DIR"], "tests", "e2e", "lessons")
PEER = os.path.join(os.environ["NC_SOURCE_DIR"], "tests", "e2e", "webrtc_hostile_peer.py")

cmd = [BIN, "--data-dir", tempfile.mkdtemp(prefix="nc-e2e-"), "--lessons", LESSONS, "shell",
       "turn-hostile", "peer", "--json", "-c", f"python3 {PEER} $TURN $STUN $PEER"]
p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                     stdin=subprocess.DEVNULL)
sampler = ProcSampler(p)
samples = sampler.samples
lines, base, end = [], None, None
for line in p.stdout:
    lines.append(line.rstrip("\n"))
    if base is None and line.startswith("garbage"):
        base = sampler.mark()
    if end is None and line.startswith("signal"):
        end = sampler.mark()
err = p.stderr.read()
p.wait(timeout=240)
sampler.join()
check(p.returncode == 0, f"`netcourse shell turn-hostile peer` exited {p.returncode}: {err.strip()}")
typed = [l.split() for l in lines if not l.startswith("{")]
ev = [json.loads(l) for l in lines if l.startswith("{")]
res = {w[0]: w for w in typed}
check(set(res) == {"garbage", "unauth", "forged", "exhaust", "flood", "signal"},
      f"the hostile peer printed {typed}", ev)
check(res["garbage"] == ["garbage", "0", "OK"], f"garbage: {res['garbage']}", ev)
w = res["unauth"]
check(int(w[1]) > 0 and w[2] == "401" and w[3] == "OK", f"unauthenticated Allocates: {w}", ev)
check(res["forged"] == ["forged", "401", "438", "OK"], f"forged credentials: {res['forged']}", ev)
check(res["exhaust"] == ["exhaust", "ok", "ok", "ok", "ok", "486", "486", "437", "508", "OK"],
      f"exhaustion: {res['exhaust']}", ev)
w = res["flood"]
check(int(w[1]) > 0 and w[2] == "OK", f"the relay flood: {w}", ev)
w = res["signal"]
check(w[1:3] == ["32", "8"] and w[3].startswith("ERR_a_line_longer") and w[4:7] ==
      ["OK_1", "OK_2", "ERR_full"] and w[7].startswith("ERR_too_much") and w[8] == "OK",
      f"the signalling server: {w}", ev)

turn = [e for e in ev if e["type"] == "app" and e["host"] == "turn"]
errors = {e.get("error") for e in turn if e["call"] == "refuse"}
check({401, 438, 486, 437, 508} <= errors, f"the relay's refusals: {errors}", ev)
check(any(e["call"] == "refuse" and e.get("reason") == "no permission" for e in turn),
      "the Send indication to a peer without permission was not refused", ev)
check(any(e["call"] == "quiet" for e in turn) and len(turn) <= 400 + 3,
      f"the relay reported {len(turn)} events and never said it went quiet", ev)
check(any(e["call"] == "release" for e in turn), "no allocation was released", ev)
sig = [e for e in ev if e["type"] == "app" and e["host"] == "stun" and e["call"] == "refuse"]
reasons = [e["reason"] for e in sig]
check(reasons.count("full") == 9 and any("1024" in r for r in reasons) and
      any("too much" in r for r in reasons),
      f"the signalling server's refusals: {reasons}", ev)

check(len(samples) > 20, f"only {len(samples)} samples of the process", ev)
check(base is not None and end is not None and base < end, "no samples during the attacks", ev)
fds = [s[0] for s in samples[base:end]]
rss = [s[1] for s in samples[base:end]]
# Four allocations' relay sockets and 32 signalling connections at most.
check(max(fds) - min(fds) <= 48, f"descriptors grew from {min(fds)} to {max(fds)}", ev)
if "ASAN_OPTIONS" not in os.environ:
    check(max(rss) - min(rss) <= 64 * 1024, f"memory grew from {min(rss)} to {max(rss)} kB", ev)
print(f"ok: the relay and the signalling server refuse alone; descriptors {min(fds)}-{max(fds)}, "
      f"RSS {min(rss) // 1024}-{max(rss) // 1024} MB")
