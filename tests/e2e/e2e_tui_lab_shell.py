"""The lab of a run in the interface, driven in tmux as an ordinary user:
- after the run the lab and its servers stay up ("lab up"), and `!` (shown
  in the footer and the help only then) opens the user's shell inside the
  client host, with a prompt naming it;
- curl typed there reaches the lesson's server, and when the shell exits
  the interface comes back with that exchange in the ladder, marked as the
  student's own ("you:");
- the shell holds no descriptor of netcourse's, and what it left running
  dies with it;
- leaving the lesson, quitting, being terminated (SIGTERM) and being killed
  (SIGKILL), the last two with the shell open, each
  leave nothing behind: no process in the lab's namespaces (so no
  namespace, and no veth), no interface on the host, no temporary file."""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

from nctest import *

need_lab()
need_tmux()
user, work, lessons, data, binary = shell_user("nc-labshell-")
tmp = tempfile.mkdtemp(prefix="nc-labshell-tmp-")
if user:
    shutil.chown(tmp, user)
    os.chmod(tmp, 0o700)
tm = Tmux(tmp)
screen, keys, wait_for = tm.screen, tm.keys, tm.wait_for


def host_links():
    return sorted(os.listdir("/sys/class/net"))


def start():
    cmd = (f"env SHELL=/bin/sh TERM=xterm-256color LANG=C.UTF-8 TMPDIR={tmp} {binary} "
           f"--data-dir {data} --lessons {lessons} run web")
    if user:
        cmd = f"su {user} -s /bin/sh -c {sh_quote(cmd)}"
    tm.kill()
    tm.cmd = ["tmux", "-S", tempfile.mktemp(prefix="tmux-", dir="/tmp")]
    r = tm.tmux("new-session", "-d", "-s", "nc", "-x", "110", "-y", "50",
                f"{cmd}; echo EXITED $?; sleep 60")
    check(r.returncode == 0, f"tmux: {r.stderr}")


def until_lab_up():
    """Answers the checkpoints until the run is over and its lab is up."""
    wait_for("live run", why="the web lesson's ladder", timeout=30)
    deadline = time.time() + 60
    while time.time() < deadline:
        s = screen()
        if "lab up" in s and "Predict, then press" not in s:
            return s
        if "Predict, then press" in s:
            keys("a")
        elif "Enter: continue" in s:
            keys("Enter")
        time.sleep(0.15)
    fail(f"the lab never said it was up; the screen shows:\n{screen()}")


def netcourse_pid():
    """The interface's own process (not the shell's keeper, its child)."""
    procs = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            comm = open(f"/proc/{p}/comm").read().strip()
            cmdline = open(f"/proc/{p}/cmdline", "rb").read().decode(errors="replace")
            ppid = int(open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
        if comm == "netcourse" and data in cmdline:
            procs[int(p)] = ppid
    mains = [p for p, pp in procs.items() if pp not in procs]
    check(len(mains) == 1, f"not one netcourse process: {procs}")
    return mains[0]


def in_netns(ns):
    """Processes and threads on the machine inside network namespace ns."""
    out = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            tasks = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for t in tasks:
            try:
                if os.readlink(f"/proc/{p}/task/{t}/ns/net") == ns:
                    out.append(f"{p}/{t} {open(f'/proc/{p}/task/{t}/comm').read().strip()}")
            except OSError:
                pass
    return out


def lab_netns(shell_ns):
    """The lab's namespaces: the shell's, and those of netcourse's threads
    (the servers', the wire's) other than its own."""
    pid = netcourse_pid()
    own = os.readlink(f"/proc/{pid}/ns/net")
    out, threads = {shell_ns}, []
    for t in os.listdir(f"/proc/{pid}/task"):
        try:
            ns = os.readlink(f"/proc/{pid}/task/{t}/ns/net")
            threads.append(f"{open(f'/proc/{pid}/task/{t}/comm').read().strip()} {ns}")
            out.add(ns)
        except OSError:
            pass
    out.discard(own)
    check(len(out) >= 3, f"the lab's namespaces were not found: {out} ({threads})")
    return out


def in_lab(nss):
    return [p for ns in nss for p in in_netns(ns)]


def procs_named(word):
    out = []
    for p in os.listdir("/proc"):
        try:
            if p.isdigit() and word in open(f"/proc/{p}/cmdline", "rb").read().decode(errors="replace"):
                out.append(p)
        except OSError:
            pass
    return out


def gone(what, pred, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if not pred():
            return
        time.sleep(0.1)
    fail(f"{what}: {pred()}")


def help_text(view):
    """The whole help, opened on view and paged through, then closed."""
    keys("?")
    seen = wait_for(f"On this screen ({view})", why=f"the {view}'s help")
    for _ in range(8):
        keys("PageDown")
        time.sleep(0.15)
        seen += screen()
    keys("Escape")
    wait_for(lambda s: "On this screen" not in s, why="the help closed")
    return seen


SHELLS = [0]


def open_shell():
    """! on the ladder: the shell on client; returns its network namespace.
    The answer is tagged with this shell's number: the terminal may still
    show an earlier shell's output, and the kernel reuses a freed
    namespace's number, so an untagged match could read a stale one."""
    SHELLS[0] += 1
    tag = f"NS{SHELLS[0]}="
    keys("!")
    wait_for("[netcourse client] $", why="the shell's prompt naming the host")
    keys(f"echo {tag}$(readlink /proc/self/ns/net)", "Enter")
    pat = re.escape(tag) + r"(net:\[\d+\])"
    s = wait_for(lambda s: re.search(pat, s), why="the shell's namespace")
    return re.search(pat, s).group(1)


before = host_links()
try:
    start()
    until_lab_up()
    s = screen()
    check("! shell" in s.splitlines()[-1], f"the footer does not offer the shell:\n{s}")
    seen = help_text("ladder")
    check("your shell on a lab host" in seen, f"the help does not list the shell key:\n{seen}")

    # 2: the shell; curl; exit; the exchange in the ladder, marked.
    ns = open_shell()
    check(in_netns(ns), f"nothing runs in the shell's namespace {ns}")
    nss = lab_netns(ns)
    # The shell holds nothing of netcourse's (its store, the lab's fds).
    keys("echo FDS $(ls /proc/self/fd) END", "Enter")
    wait_for("FDS 0 1 2 3 END", why="a shell with only its terminal (and ls's directory) open")
    keys("sleep 3777 &", "Enter")
    keys("curl -s http://$SERVER:8080/hello", "Enter")
    wait_for("hello, world", why="curl's answer from the lesson's server")
    check(procs_named("sleep\0" + "3777"), "the background sleep is not running")
    keys("exit", "Enter")
    s = wait_for(lambda s: "lab up" in s and "you:" in s, why="the ladder back, with the exchange")
    rows = [l for l in s.splitlines() if "you:" in l]
    check(any("GET /hello" in l for l in rows), f"the request is not marked as yours:\n{s}")
    check(any("200 OK" in l for l in rows), f"the answer is not marked as yours:\n{s}")
    check(any("GET /hello" in l and "→" in l for l in rows), f"the request arrow:\n{s}")
    gone("the shell's background job outlived it", lambda: procs_named("sleep\0" + "3777"))
    check(in_lab(nss - {ns}), "the lab went down with the shell; it should stay until the lesson is left")

    # 1: leaving the lesson takes the lab down; the interface goes on.
    keys("Escape")
    time.sleep(0.3)
    keys("Escape")
    wait_for(lambda s: "q quit" in s.splitlines()[-1], why="the course map")
    gone("the lab outlived the lesson", lambda: in_lab(nss))
    check(host_links() == before, "interfaces were left on the host")
    s = help_text("map")
    check("your shell on a lab host" not in s, f"the map's help lists the shell key:\n{s}")

    # Quitting with the lab up.
    keys("r")
    until_lab_up()
    ns = open_shell()
    nss = lab_netns(ns)
    keys("exit", "Enter")
    wait_for(lambda s: "lab up" in s and "! shell" in s, why="the ladder back")
    for _ in range(4):
        keys("q")
        time.sleep(0.3)
    wait_for("EXITED 0", why="a clean exit")
    gone("the lab outlived the interface", lambda: in_lab(nss))

    # Terminated (SIGTERM) while the shell is open: the interface ends the
    # shell, restores the terminal and takes the lab down.
    start()
    until_lab_up()
    ns = open_shell()
    nss = lab_netns(ns)
    keys("sleep 3999 &", "Enter")
    time.sleep(0.3)
    os.kill(netcourse_pid(), signal.SIGTERM)
    wait_for("EXITED 0", why="the interface ending on SIGTERM")
    gone("the shell's job outlived a terminated netcourse", lambda: procs_named("sleep\0" + "3999"))
    gone("processes stayed in the lab's namespaces", lambda: in_lab(nss))

    # Killed (SIGKILL) while the shell is open, with a job running there.
    start()
    until_lab_up()
    ns = open_shell()
    nss = lab_netns(ns)
    keys("sleep 3888 &", "Enter")
    time.sleep(0.3)
    check(procs_named("sleep\0" + "3888"), "the background sleep is not running")
    os.kill(netcourse_pid(), signal.SIGKILL)
    wait_for("EXITED", why="the killed interface")
    gone("the shell's job outlived a killed netcourse", lambda: procs_named("sleep\0" + "3888"))
    gone("processes stayed in the lab's namespaces", lambda: in_lab(nss))
    check(host_links() == before, "a killed interface left interfaces on the host")
    check(os.listdir(tmp) == [], f"temporary files were left: {os.listdir(tmp)}")
finally:
    tm.kill()
shutil.rmtree(work, ignore_errors=True)
shutil.rmtree(tmp, ignore_errors=True)
print("ok: the lab stays up after the run, ! steps into it, and nothing outlives the lesson")
