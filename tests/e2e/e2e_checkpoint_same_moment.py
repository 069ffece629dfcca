# ctest: timeout=120
"""Two checkpoints whose moment is one event (tests/e2e/lessons-cp/
same-moment.md: both about the client's first data segment, both decided
by it). The first is asked before the segment and decided after it; the
second is skipped, never asked, and its skip mark does not come between
the first question and its target, whose recorded index is the segment's.
Before the fix the runner asked both before the segment and recorded the
first's target one event too early; cpcheck (the checkpoint test's own
checker) reports either."""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nctest import *
import cpcheck

need_lab()
DIR = os.path.join(os.environ["NC_SOURCE_DIR"], "tests", "e2e", "lessons-cp")
rc, out, err = run(["--lessons", DIR, "run", "same-moment", "--headless", "--json"],
                   data_dir=tempfile.mkdtemp(prefix="nc-e2e-"))
check(rc == 0, f"`netcourse --lessons DIR run same-moment` exited {rc}: {err.strip()}")
ev = cpcheck.parse_events(out)
problems = cpcheck.check_run(os.path.join(DIR, "same-moment.md"), ev)
check(not problems, f"the checkpoint checker found: {problems}", ev)
m = {(e["checkpoint"], e["event"]): e for e in ev if e["type"] == "mark" and e.get("checkpoint")}
check(set(m) == {("first", "asked"), ("first", "decided"), ("second", "skipped")},
      f"the checkpoints' marks: {sorted(m)}", ev)
seg = [e for e in ev if e["type"] == "packet" and e.get("from") == "client"
       and e.get("tcp", {}).get("len", 0) > 0][0]
check(m[("first", "decided")]["target"] == seg["i"] == m[("first", "asked")]["i"] + 1,
      f"the first checkpoint's target is {m[('first', 'decided')]['target']}, asked at "
      f"{m[('first', 'asked')]['i']}, the segment is {seg['i']}", ev)
check(m[("second", "skipped")]["asked"] is False and m[("second", "skipped")]["i"] > seg["i"],
      "the second checkpoint was asked, or its skip came before the segment", ev)
print("ok: the second checkpoint of one moment is skipped, the first's target is its segment")
