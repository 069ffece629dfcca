"""A million-packet capture in the interface costs under 100 MB beyond the
file: peak RSS (VmHWM) minus the file's size, read from /proc after the
capture has loaded, a packet deep in it has been shown with `:`, and a
filter has gone through every packet.

tests/bench/gencap.py writes the capture: 1,000,000 packets of 24
keep-alive HTTP/1.1 connections on loopback. The packet `:` goes to must
read as `replay --dump` prints it (decoded again from a checkpoint, not
in order), and the filter `tcp.flags~FIN` must find the 48 FINs at the
end of the file. The bound is on memory, never on time."""
# ctest: nolab timeout=900
import os
import re
import shutil
import subprocess
import sys
import tempfile

from nctest import *

need_tmux()

PACKETS = 1_000_000
BOUND = 100 * 1024 * 1024
GOTO = 777_777

data = tempfile.mkdtemp(prefix="nc-tui-big-")
src = os.environ["NC_SOURCE_DIR"]
cap = os.path.join(data, "big.pcap")
gen = subprocess.run([sys.executable, os.path.join(src, "tests", "bench", "gencap.py"), cap,
                      str(PACKETS)], capture_output=True, text=True)
check(gen.returncode == 0 and gen.stdout.strip() == str(PACKETS),
      f"gencap.py failed: {gen.stderr}")
size = os.path.getsize(cap)

# What the packet `:` goes to must read as: its line in --dump.
want = None
with subprocess.Popen([BIN, "replay", cap, "--dump"], stdout=subprocess.PIPE, text=True) as p:
    prefix = f"{GOTO:5d} "
    for line in p.stdout:
        if line.startswith(prefix):
            want = line.split("  packet  ", 1)[1].split(" -> ", 1)[1].split(" ", 1)[1].strip()
            break
    p.kill()
check(want, f"--dump printed no event {GOTO}")

def asan_build():
    with open(BIN if os.path.isabs(BIN) else os.path.join(os.getcwd(), BIN), "rb") as f:
        return b"__asan_init" in f.read()


if asan_build():
    # ASan keeps freed memory in a quarantine: without that, its own
    # overhead is what is left above the interface's memory.
    os.environ["ASAN_OPTIONS"] = ":".join(
        filter(None, [os.environ.get("ASAN_OPTIONS"),
                      "quarantine_size_mb=0:allocator_release_to_os_interval_ms=50"]))

tm = Tmux(data)
screen, keys, wait_for = tm.screen, tm.keys, tm.wait_for


def netcourse_pid():
    """The interface's process (the one whose command line names the file)."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].decode(errors="replace") == BIN and cap.encode() in argv:
            return int(pid)
    return None


def vm(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0


def typed(text):
    for ch in text:
        keys("-l", ch)


try:
    tm.start(f"--data-dir {data} replay {cap}", cols=120, rows=40)
    wait_for(lambda s: f"1000000/{PACKETS}" in s and "loading" not in s, timeout=600,
             why="the whole capture loaded")
    pid = netcourse_pid()
    check(pid, "no netcourse process found for the capture")
    loaded = vm(pid, "VmHWM")
    print(f"ok: loaded; peak RSS {loaded / 1048576:.1f} MiB, file {size / 1048576:.1f} MiB")

    keys(":")
    typed(str(GOTO))
    keys("Enter")
    s = wait_for(f"#{GOTO} packet", timeout=120, why=f"the note of event {GOTO}")
    note = s[s.index(f"#{GOTO} packet"):].split("\n", 1)[0]
    check(note.endswith(want), f"event {GOTO} reads {note!r}, --dump says {want!r}")
    print(f"ok: :{GOTO} shows {want!r}, as --dump prints it")

    keys("&")
    typed("tcp.flags~FIN")
    keys("Enter")
    s = wait_for(lambda s: len(re.findall(r"FIN,ACK", s)) >= 10, timeout=600,
                 why="the filtered ladder: the FINs at the end of the file")
    print("ok: the filter went through every packet and shows the FINs")

    peak = vm(pid, "VmHWM")
    beyond = peak - size
    print(f"peak RSS {peak / 1048576:.1f} MiB, beyond the file {beyond / 1048576:.1f} MiB: "
          f"{beyond / PACKETS:.1f} bytes a packet")
    check(beyond < BOUND, f"the interface held {beyond / 1048576:.1f} MiB beyond the file for "
                          f"{PACKETS} packets; the bound is {BOUND // 1048576} MiB")
    print("ok: under 100 MB beyond the file")
finally:
    tm.kill()
    shutil.rmtree(data, ignore_errors=True)
