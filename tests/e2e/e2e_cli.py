"""The command line as a user meets it: help, version, list, progress, and
one clear sentence with a non-zero exit for every mistake."""
# ctest: nolab
import json
import tempfile

from nctest import *

data = tempfile.mkdtemp(prefix="nc-cli-")


def one_sentence(err, what):
    lines = [l for l in err.splitlines() if l.strip()]
    check(len(lines) == 1, f"{what}: expected one line on stderr, got {err!r}")
    check(lines[0].startswith("netcourse: "), f"{what}: message does not start with 'netcourse: '")


rc, out, err = run(["--help"])
check(rc == 0 and "run LESSON" in out and "progress" in out, "--help does not list the commands")
rc, out, err = run(["--version"])
check(rc == 0 and out.startswith("netcourse "), "--version")

rc, out, err = run(["list"], data_dir=data)
check(rc == 0, f"list failed: {err}")
for lesson in ("osi", "udp", "tcp"):
    check(f" {lesson} " in out, f"list does not show {lesson}")

rc, out, err = run(["run", "no-such-lesson", "--headless"], data_dir=data)
check(rc == 2 and out == "", f"unknown lesson: rc {rc}")
one_sentence(err, "unknown lesson")
check("no-such-lesson" in err, "the message does not name the lesson")

rc, out, err = run(["frobnicate"])
check(rc == 2, "unknown command exit status")
one_sentence(err, "unknown command")

rc, out, err = run(["run", "tcp", "--headless", "--link", "dely=5ms"], data_dir=data)
check(rc != 0 and out == "", "a bad --link was accepted")
one_sentence(err, "bad --link")

rc, out, err = run(["run", "tcp", "--headless", "--seed", "x"], data_dir=data)
check(rc == 2, "a bad --seed was accepted")
one_sentence(err, "bad --seed")

rc, out, err = run(["run", "tcp", "--headless", "--bogus"], data_dir=data)
check(rc == 2, "an unknown option was accepted")
one_sentence(err, "unknown option")

# No terminal: the TUI refuses and points at --headless.
rc, out, err = run([], data_dir=data)
check(rc != 0 and "--headless" in err, f"plain netcourse without a terminal: rc {rc} {err!r}")
one_sentence(err, "no terminal")

rc, out, err = run(["progress"], data_dir=data)
check(rc == 0 and "No lessons started" in out, f"progress on a new data dir: {out!r}")
rc, out, err = run(["progress", "--json"], data_dir=data)
check(rc == 0, "progress --json")
doc = json.loads(out)
check(doc["completed"] == 0 and len(doc["lessons"]) >= 3, "progress --json content")

# A data directory that cannot be created.
rc, out, err = run(["progress"], data_dir="/proc/nope/netcourse")
check(rc == 1, "an unusable data dir was accepted")
one_sentence(err, "bad data dir")

# A malformed lesson file: one sentence naming file and line.
bad = tempfile.mkdtemp(prefix="nc-lessons-")
with open(f"{bad}/broken.md", "w") as f:
    f.write("---\nid: broken\ntitle: Broken\nnumber: 1\npart: 1 Test\ntopology: moon\nscenario: tcp\n---\n# Page\ntext\n")
rc, out, err = run(["list"], data_dir=data, env={"NETCOURSE_LESSONS": bad})
check(rc != 0, "a malformed lesson was accepted")
one_sentence(err, "malformed lesson")
check("broken.md:" in err, f"the message does not give file:line: {err!r}")
print("ok: cli")
