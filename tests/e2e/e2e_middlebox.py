"""The chain and fan topologies, end to end: a TCP echo from a client
through a relay (the kit's, from a program block) on the middle host to
a server, over two links of the wire, each with conditions of its own.
One link is slow (its packets carry wire.delay), a fault named by its
link drops the client's first segment there (and only there), and a
`cut link=` cuts one link while the other keeps forwarding. All of it is
read from the run's JSON events, and then nothing is left on the host:
every network namespace the run's process held while it ran is gone when
it exits, and the host has the interfaces it had, as root and as an
ordinary user."""
# ctest: timeout=300
import glob
import json
import os
import shutil
import subprocess
import tempfile
import time

from nctest import *

need_lab()
LESSONS = os.path.join(os.environ["NC_SOURCE_DIR"], "tests", "e2e", "lessons")


def order(ev, *matches):
    """The index of each first match, each after the one before."""
    at, out = -1, []
    for want in matches:
        hit = next((e["i"] for e in ev if e["i"] > at and want(e)), None)
        check(hit is not None, f"nothing after event {at} matches step {len(out) + 1}", ev)
        out.append(hit)
        at = hit
    return out


def app(host, call, text=""):
    return lambda e: e["type"] == "app" and e["host"] == host and e["call"] == call and text in e["text"]


def echo(lesson, client, middle, server, near, far, user=None, data=None, save=None):
    """Runs a relay fixture and checks the echo, the links and the fault."""
    os.environ["NETCOURSE_LESSONS"] = LESSONS_NOW[0]
    ev = run_json(lesson, ["--save", save] if save else [], data_dir=data, user=user)
    pk = [e for e in ev if e["type"] == "packet"]
    check(pk and all("wire" in e and e["wire"].get("link") in (near, far) for e in pk
                     if e["from"] in (client, middle, server) and "tcp" in e),
          f"a TCP packet is not on link {near} or {far}", ev)
    # The fault names its link: the client's first data segment is dropped
    # on the near link, and no data segment is dropped on the far one by it.
    drops = [e for e in pk if e["dropped"] and "scripted" in e["wire"].get("reason", "")]
    check(len(drops) == 1 and drops[0]["wire"]["link"] == near and drops[0]["from"] == client
          and drops[0]["tcp"]["len"] > 0,
          f"the scripted drop is {[(e['from'], e['wire']) for e in drops]}", ev)
    # Delay: every frame on the far link waited 30 ms, none on the near one.
    for e in pk:
        if e["dropped"]:
            continue
        want = 0.03 if e["wire"]["link"] == far else 0.0
        check(abs(e["wire"]["delay"] - want) < 0.002,
              f"packet {e['i']} on {e['wire']['link']} has delay {e['wire']['delay']}", ev)
    # The echo, through the relay: in on one side, out on the other. Only
    # what causes what is ordered: the relay reads its client only once
    # its own connection to the server is up.
    retrans = lambda e: (e["type"] == "packet" and e["from"] == client and e["wire"]["link"] == near
                         and e.get("tcp", {}).get("len") == 5 and e["tcp"].get("retransmission")
                         and not e["dropped"])
    order(ev,
          app(client, "write"),
          lambda e: e["i"] == drops[0]["i"],
          retrans,
          app(middle, "read", "returned 5 bytes"),
          app(middle, "write", f"on to {server}:7000"),
          lambda e: e["type"] == "packet" and e["from"] == middle and e["to"] == server
          and e["wire"]["link"] == far and e.get("tcp", {}).get("len") == 5,
          app(server, "read", "returned 5 bytes"),
          app(server, "write"),
          app(middle, "write", f"back to {client}:"),
          app(client, "read", "returned 5 bytes"))
    order(ev,
          app(middle, "accept", f"from {client}:"),
          app(middle, "connect", f"connected to {server}:7000"),
          app(middle, "read", "returned 5 bytes"))
    accepted = [e for e in ev if e["type"] == "app" and e["host"] == server and e["call"] == "accept"]
    check(accepted and accepted[0]["text"].endswith(f"from {middle}:{accepted[0]['peer'].split(':')[1]}"),
          f"the server's accept does not name {middle}: {accepted}", ev)
    return ev


LESSONS_NOW = [LESSONS]
saved = os.path.join(tempfile.mkdtemp(prefix="nc-mb-"), "chain.pcapng")
ev = echo("relay-chain", "client", "middle", "server", "client-middle", "middle-server",
          save=saved)
# The saved run replays as it ran: every address (the middle host's two)
# named, every packet's link kept.
rc, out, err = run(["replay", saved, "--json"])
check(rc == 0 and [json.loads(l) for l in out.splitlines()] == ev,
      f"the saved chain run replays differently ({rc}: {err.strip()})", ev)
# cut link=middle-server: that link drops, the other one keeps forwarding.
cut = next(e for e in ev if e["type"] == "app" and e["call"] == "cut")
check(cut.get("link") == "middle-server", f"the cut event names {cut.get('link')}", ev)
restore = next(e for e in ev if e["type"] == "app" and e["call"] == "restore")
during = [e for e in ev if e["type"] == "packet" and cut["i"] < e["i"] < restore["i"]]
cutdrops = [e for e in during if e["dropped"]]
check(cutdrops and all(e["wire"]["link"] == "middle-server" and "cut" in e["wire"]["reason"]
                       for e in cutdrops),
      "the cut dropped frames off its link, or none", ev)
check(any(e["wire"]["link"] == "client-middle" and not e["dropped"] and e["from"] == "client"
          and e.get("tcp", {}).get("len") == 6 for e in during),
      "the client's segment on the other link did not get through during the cut", ev)
order(ev, app("server", "read", "returned 6 bytes"), app("client", "read", "returned 6 bytes"))

ev = echo("relay-fan", "client1", "balancer", "backend2", "client1-balancer", "balancer-backend2")
# client2 reaches backend1 through the balancer's routing, over two links.
direct = [e for e in ev if e["type"] == "packet" and "tcp" in e and e["from"] == "client2"
          and e["to"] == "backend1"]
check({e["wire"]["link"] for e in direct} == {"client2-balancer", "balancer-backend1"},
      f"client2's packets to backend1 crossed {sorted({e['wire']['link'] for e in direct})}", ev)
order(ev, app("backend1", "read", "returned 4 bytes"), app("client2", "read", "returned 4 bytes"))
# The balancer's program ends while client1's connection is open: the
# relay closes both of its sides, and client1 reads the end of the stream.
order(ev, app("client1", "read", "returned 5 bytes"),
      app("balancer", "close", "the relay's program ends"),
      app("client1", "read", "returned 0"))
check(len(apps(ev, host="balancer", call="close")) == 2,
      "the relay did not close both sides of client1's connection", ev)


def host_links():
    return sorted(os.listdir("/sys/class/net"))


def net_namespaces(pids):
    """The network namespaces the processes pids are in or hold an fd of."""
    out = set()
    for pid in pids:
        for path in glob.glob(f"/proc/{pid}/task/*/ns/net") + glob.glob(f"/proc/{pid}/fd/*"):
            try:
                link = os.readlink(path)
            except OSError:
                continue
            if link.startswith("net:["):
                out.add(link)
    return out


def all_pids():
    return [d for d in os.listdir("/proc") if d.isdigit()]


def watched_run(lesson, user=None, data=None):
    """Runs a lesson headless, noting every network namespace its process
    holds while it runs; returns those (the host's own left out)."""
    import nctest
    binary = os.path.realpath(nctest.BIN)
    cmd = [binary, "--data-dir", data, "run", lesson,
           "--headless", "--json"]
    if user:
        cmd = ["su", user, "-s", "/bin/sh", "-c", " ".join(map(sh_quote, cmd))]
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL)
    seen = set()
    while p.poll() is None:
        seen |= net_namespaces(ours(binary, data))
        time.sleep(0.005)
    err = p.stderr.read().decode()
    check(p.returncode == 0, f"{lesson} exited {p.returncode}: {err.strip()}")
    return seen - {os.readlink("/proc/self/ns/net")}


def ours(binary, data):
    """The processes of this run now: those running binary with the run's
    own data directory on their command line (forks keep it). Other tests
    run the same binary at the same time (ctest -j2), so the binary alone
    does not tell."""
    out = []
    for pid in all_pids():
        try:
            if (os.path.realpath(f"/proc/{pid}/exe") == binary and
                    data.encode() in open(f"/proc/{pid}/cmdline", "rb").read()):
                out.append(pid)
        except OSError:
            pass
    return out


def pinned():
    """Network namespaces kept alive by a mount (as `ip netns add` does)."""
    with open("/proc/self/mountinfo") as f:
        return {w for line in f for w in line.split() if w.startswith("net:[")}


def nothing_left(lesson, hosts, user=None, data=None):
    import nctest
    binary = os.path.realpath(nctest.BIN)
    links = host_links()
    data = data or tempfile.mkdtemp(prefix="nc-mb-")
    held = watched_run(lesson, user, data)
    # Each host's namespace and the wire's were seen while it ran ...
    check(len(held) >= hosts + 1, f"{lesson}: only {len(held)} lab namespaces were seen")
    # ... and none of them outlives the run: no process of the run is left
    # to hold one, and no mount pins one (a namespace's number may be given
    # to another one made later, by another test: that is not ours).
    check(not ours(binary, data), f"{lesson}: a process of the run is still there")
    left = held & (net_namespaces(ours(binary, data)) | pinned())
    check(not left, f"{lesson}: namespaces {sorted(left)} outlived the run")
    check(host_links() == links, f"{lesson}: the run left interfaces {set(host_links()) ^ set(links)}")


os.environ["NETCOURSE_LESSONS"] = LESSONS
nothing_left("relay-chain", 3)
nothing_left("relay-fan", 6)
if os.geteuid() == 0:
    user, work, lessons, data = ordinary_user(LESSONS)
    LESSONS_NOW[0] = lessons
    echo("relay-chain", "client", "middle", "server", "client-middle", "middle-server",
         user=user, data=data)
    echo("relay-fan", "client1", "balancer", "backend2", "client1-balancer", "balancer-backend2",
         user=user, data=data)
    os.environ["NETCOURSE_LESSONS"] = lessons
    nothing_left("relay-chain", 3, user=user, data=data)
    nothing_left("relay-fan", 6, user=user, data=data)
    shutil.rmtree(work, ignore_errors=True)
print("ok: chain and fan relay an echo over links of their own; faults and cuts name their link")
