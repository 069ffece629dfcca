"""netcourse shell in a terminal, as a person uses it (tmux), as an ordinary
user: the prompt names the host, curl typed at it reaches the lesson's
server by $SERVER, and when the shell exits the timeline shows that
exchange, decoded, explained and marked as the student's own."""
import json
import os
import shutil
import subprocess
import tempfile
import time

from nctest import *

need_lab()
need_tmux()
user, work, lessons, data, binary = shell_user("nc-shell-")
out = f"{data}/out.jsonl"
cmd = f"{binary} --lessons {lessons} --data-dir {data} shell web client --json > {out}; echo EXITED $? >> {out}"
if user:
    cmd = f"su {user} -s /bin/sh -c {sh_quote(cmd)}"
tm = ["tmux", "-S", tempfile.mktemp(prefix="tmux-", dir="/tmp")]


def screen():
    return subprocess.run(tm + ["capture-pane", "-p", "-t", "nc"], capture_output=True,
                          text=True).stdout


def wait_screen(want, why):
    deadline = time.time() + 15
    while time.time() < deadline:
        s = screen()
        if want in s:
            return s
        time.sleep(0.05)
    fail(f"{why}: the screen shows\n{screen()}")


try:
    subprocess.run(tm + ["new-session", "-d", "-s", "nc", "-x", "100", "-y", "30",
                         f"env SHELL=/bin/sh TERM=xterm {cmd}; sleep 30"], check=True)
    wait_screen("[netcourse client] $", "no prompt naming the host")
    subprocess.run(tm + ["send-keys", "-t", "nc", "curl -s http://$SERVER:8080/hello", "Enter"])
    wait_screen("hello, world", "curl typed in the shell got no answer")
    subprocess.run(tm + ["send-keys", "-t", "nc", "exit", "Enter"])
    deadline = time.time() + 15
    while time.time() < deadline and "EXITED" not in open(out).read():
        time.sleep(0.1)
finally:
    subprocess.run(tm + ["kill-server"], capture_output=True)
lines = open(out).read().splitlines()
check(lines and lines[-1] == "EXITED 0", f"netcourse shell ended with {lines[-1:]}")
ev = [json.loads(l) for l in lines if l.startswith("{")]
reqs = [e for e in ev if e["type"] == "packet" and e.get("http", {}).get("request")]
check(len(reqs) == 1 and reqs[0]["http"]["method"] == "GET" and reqs[0]["http"]["target"] == "/hello"
      and reqs[0]["from"] == "client", "the typed request is not in the timeline", ev)
check(reqs[0].get("student") == 1 and reqs[0]["note"].startswith("Your own traffic"),
      "the typed request is not marked as the student's own", ev)
check(any(e["type"] == "packet" and e.get("http", {}).get("status") == 200 for e in ev),
      "the server's answer is not in the timeline", ev)
shutil.rmtree(work, ignore_errors=True)
print("ok: curl typed at the lab shell's prompt shows up explained in the timeline")
