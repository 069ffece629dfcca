"""netcourse shell LESSON HOST: a shell inside a lab host. The web fixture's
servers run (the client's programs do not: the student is the client);
real curl, typed into the shell (here given with -c), reaches them by
$SERVER, and its exchanges are captured, decoded and explained in the
timeline printed when the shell exits. Then the same as an ordinary user."""
import json
import os
import shutil
import tempfile

from nctest import *

need_lab()
if not shutil.which("curl"):
    print("SKIP: curl is not installed")
    sys.exit(77)
LESSONS = os.path.join(os.environ["NC_SOURCE_DIR"], "tests", "e2e", "lessons")
CMD = ('echo "on $NETCOURSE_HOST"; curl -s http://$SERVER:8080/hello; '
       'curl -s -H "Expect:" --data-binary @/dev/null http://$SERVER:8080/upload')


def shell(lessons, data_dir=None, user=None):
    data_dir = data_dir or tempfile.mkdtemp(prefix="nc-e2e-")
    rc, out, err = run(["--lessons", lessons, "shell", "web", "client", "-c", CMD, "--json"],
                       data_dir=data_dir, user=user)
    check(rc == 0, f"`netcourse shell web client` exited {rc}: {err.strip()}")
    typed = [l for l in out.splitlines() if not l.startswith("{")]
    ev = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
    check(typed[:3] == ["on client", "hello, world", "stored"],
          f"the shell's commands printed {typed[:3]}", ev)
    reqs = [e for e in ev if e["type"] == "packet" and e.get("http", {}).get("request")]
    check([(e["from"], e["http"]["method"], e["http"]["target"]) for e in reqs] ==
          [("client", "GET", "/hello"), ("client", "POST", "/upload")],
          "the student's requests are not on the wire as sent", ev)
    check(all(e.get("note", "").startswith("Your own traffic") for e in reqs),
          "the student's requests are not explained as the student's own", ev)
    mine = [e for e in ev if e["type"] == "packet" and "tcp" in e]
    check(mine and all(e.get("student") == 1 for e in mine),
          "a packet of the student's connections is not marked as the student's", ev)
    resp = [e["http"]["status"] for e in ev if e["type"] == "packet" and e["from"] == "server"
            and "status" in e.get("http", {})]
    check(resp == [200, 201], f"the server's answers were {resp}", ev)
    accepts = apps(ev, host="server", call="accept")
    check(len(accepts) == 2 and all("packet" in a for a in accepts),
          "the server's accepts of the student's connections are missing or unlinked", ev)
    check(not apps(ev, host="client"), "the client's own programs ran beside the student", ev)
    return ev


shell(LESSONS)
if os.geteuid() == 0:
    user, work, lessons, data = ordinary_user(LESSONS)
    shell(lessons, data_dir=data, user=user)
    shutil.rmtree(work, ignore_errors=True)
print("ok: curl typed in a lab host's shell is captured and explained")
