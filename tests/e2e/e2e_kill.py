"""A run killed at any moment leaves nothing behind: no interface or
namespace on the host, and the next run works. Ctrl-C (SIGINT) stops a run
with one sentence and exit status 130."""
import os
import signal
import subprocess
import tempfile
import time

from nctest import *

need_lab()
data = tempfile.mkdtemp(prefix="nc-kill-")


def host_links():
    return sorted(os.listdir("/sys/class/net"))


before = host_links()
for delay in (0.05, 0.15, 0.3):
    p = subprocess.Popen([BIN, "--data-dir", data, "run", "tcp", "--headless", "--json"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    time.sleep(delay)
    p.kill()
    p.wait()
check(host_links() == before, f"a killed run left interfaces on the host: {set(host_links()) - set(before)}")

p = subprocess.Popen([BIN, "--data-dir", data, "run", "udp", "--headless"],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
time.sleep(0.5)
p.send_signal(signal.SIGINT)
out, err = p.communicate(timeout=30)
check(p.returncode == 130, f"SIGINT: exit status {p.returncode}, expected 130")
lines = [l for l in err.splitlines() if l.strip()]
check(len(lines) == 1 and "interrupted" in lines[0], f"SIGINT: stderr {err!r}")
check(host_links() == before, "an interrupted run left interfaces on the host")

ev = run_json("tcp", data_dir=data)
check(any(e["type"] == "packet" and e.get("dropped") for e in ev), "the run after the kills is not complete", ev)
print("ok: killed and interrupted runs leave nothing behind")
