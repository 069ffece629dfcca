"""The command line as a user meets it: help, version, list, progress, and
one clear sentence with a non-zero exit for every mistake."""
# ctest: timeout=300 (it runs two lessons, so it takes the lab lock)
import json
import os
import subprocess
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
check(rc == 2 and out == "", f"a bad --link: exit {rc}, where a command-line error exits 2")
one_sentence(err, "bad --link")

# Every bad --link value is a command-line error (exit 2) in one sentence
# that says what a good one looks like, and says "link" once.
for spec, want in (("delay=-1", "cannot be negative"), ("delay=5", "needs a unit"),
                   ("delay=fast", "is not a time"), ("loss=200%", "between 0% and 100%"),
                   ("rate=1mbps", "needs a unit"), ("delay", "is not key=value")):
    rc, out, err = run(["run", "tcp", "--headless", "--link", spec], data_dir=data)
    check(rc == 2 and out == "", f"--link {spec}: exit {rc}, not 2")
    one_sentence(err, f"--link {spec}")
    check(want in err, f"--link {spec}: the message does not say {want!r}: {err!r}")
    check(err.count("link") == 1, f"--link {spec}: the message repeats itself: {err!r}")
    check("is not a number" not in err, f"--link {spec}: {err!r}")

# `list` says what each lab looks like, in words, and shows the numbers
# that name lessons as well as their ids.
rc, out, err = run(["list"], data_dir=data)
check("two hosts, client ~ server" in out and "one host, over loopback" in out,
      f"list does not say what the labs look like:\n{out}")
check(" pair " not in out and " local " not in out, f"list still shows the bare topology:\n{out}")

# A lesson's number is accepted wherever its id is; an unknown number is
# a command-line error like an unknown id.
rc, out, err = run(["run", "99", "--headless"], data_dir=data)
check(rc == 2 and out == "", f"run 99: exit {rc}")
one_sentence(err, "run 99")
rc, out, err = run(["teach", "99", "--headless"], data_dir=data)
check(rc == 2 and "no lesson \"99\"" in err, f"teach 99: exit {rc} {err!r}")

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
# What needs a lab: a lesson named by its number, `runs` in columns sized
# to their content, and a read-only data directory.
if os.geteuid() == 0:
    rc, out, err = run(["run", "13", "--headless", "--json"], data_dir=data)
    check(rc == 0, f"run 13 (the udp lesson by its number) exited {rc}: {err!r}")
    check('"step":' in out and "DNS" in out, "run 13 did not run the udp lesson")
    rc, out, err = run(["run", "socket-buffers", "--headless"], data_dir=data)
    check(rc == 0, f"run socket-buffers exited {rc}: {err!r}")
    rc, out, err = run(["runs"], data_dir=data)
    lines = out.splitlines()
    check(len(lines) == 3, f"runs: a heading and two runs expected:\n{out}")
    # Every column starts at the same place on every line: the file's path
    # (the last column) included.
    at = [l.index(data) if data in l else l.index("file") for l in lines]
    check(len(set(at)) == 1, f"runs: the file column shifts:\n{out}")
    for word in ("packets", "events", "size"):
        end = lines[0].index(word) + len(word)
        check(all(l[end - 1] != " " and l[end] == " " for l in lines[1:]),
              f"runs: the {word} column is not aligned under its heading:\n{out}")

    # A data directory that cannot be written: the run still runs, and says
    # once, before it, that progress will not be kept and why.
    ro = tempfile.mkdtemp(prefix="nc-cli-ro-")
    p = subprocess.run(["unshare", "-m", "sh", "-c",
                        f"mount --bind -o ro {ro} {ro} && exec {BIN} --data-dir {ro} "
                        "run udp --headless --json"],
                       capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    check(p.returncode == 0, f"a read-only data directory stopped the run: {p.returncode} {p.stderr!r}")
    one_sentence(p.stderr, "read-only data directory")
    check("progress will not be kept" in p.stderr and "cannot be written" in p.stderr
          and "Read-only file system" in p.stderr, f"the reason is not given: {p.stderr!r}")
    check(all(json.loads(l) for l in p.stdout.splitlines()), "stdout is not only JSON")
    check(not os.listdir(ro), f"something was written to the read-only directory: {os.listdir(ro)}")
print("ok: cli")
