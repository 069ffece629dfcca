"""The lessons' saved runs: every lesson `netcourse list` shows is run
headless with --save, and the HTTP/1 messages `netcourse replay` finds in
the saved file agree with tshark's (TCP and HTTP reassembly on) for frame,
method, URI, status and body length; a lesson with no HTTP has none on
either side. And every field of the runs' state, mark and note events is
in src/core/schema.c, which the lesson loader checks matchers against.
tshark is required (.ci/quickstart test_pkgs)."""
import os
import re
import shutil
import tempfile

from oraclelib import *

need_tools({"tshark": "tshark"})
need_lab()
tmp = tempfile.mkdtemp(prefix="nc-oracle-lessons-")
data_dir = os.path.join(tmp, "data")
rc, out, err = run(["list"], data_dir=data_dir)
check(rc == 0, f"netcourse list exited {rc}: {err.strip()}")
lessons = [line.split()[1] for line in out.splitlines()
           if len(line.split()) > 1 and line.split()[0].isdigit()]
check(len(lessons) >= 7, f"netcourse list shows {lessons}")
src = os.environ.get("NC_SOURCE_DIR", ".")
with open(os.path.join(src, "src", "core", "schema.c")) as f:
    schema = set(re.findall(r'\{NC_EV_(STATE|MARK|NOTE), "([a-z_0-9.]+)"\}', f.read()))
COMMON = {"i", "t", "type", "host", "summary", "note"}
total = 0
for lesson in lessons:
    saved = os.path.join(tmp, lesson + ".pcapng")
    events = run_json(lesson, extra=["--save", saved], data_dir=data_dir)
    for ev in events:
        if ev["type"] in ("state", "mark", "note"):
            for key in set(ev) - COMMON:
                check((ev["type"].upper(), key) in schema,
                      f"{lesson}: a {ev['type']} event has \"{key}\", which src/core/schema.c "
                      f"does not declare (a lesson could not match on it): {ev}")
    ours, _ = http_messages(saved)
    # tshark finds HTTP on port 80 by itself; tell it about any other port
    # netcourse found HTTP on.
    ports = sorted({p for m in ours for p in m[1] if p != 80 and p < 32768})
    extra = [a for p in ports for a in ("-d", f"tcp.port=={p},http")]
    theirs = tshark_http_messages(saved, extra)
    same_as_tshark(ours, theirs, f"{lesson}: HTTP messages", 60)
    total += len(ours)
check(total >= 2, f"the lessons' runs held only {total} HTTP messages")
shutil.rmtree(tmp, ignore_errors=True)
print(f"ok: {len(lessons)} lessons' saved runs, {total} HTTP messages agree with tshark")
