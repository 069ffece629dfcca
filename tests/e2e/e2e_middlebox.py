"""The chain and fan topologies, end to end: a TCP echo from a client
through a relay (the kit's, from a program block) on the middle host to
a server, over two links of the wire, each with conditions of its own.
One link is slow (its packets carry wire.delay), a fault named by its
link drops the client's first segment there (and only there), and a
`cut link=` cuts one link while the other keeps forwarding. All of it is
read from the run's JSON events, and then nothing is left on the host:
no interface, no network namespace, as root and as an ordinary user."""
# ctest: timeout=300
import json
import os
import shutil
import subprocess
import tempfile

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
    # The echo, through the relay: in on one side, out on the other.
    steps = order(ev,
                  app(client, "write"),
                  lambda e: e is drops[0] or e["i"] == drops[0]["i"],
                  app(middle, "accept", f"from {client}:"),
                  app(middle, "connect", f"connected to {server}:7000"),
                  lambda e: e["type"] == "packet" and e["from"] == client and e["wire"]["link"] == near
                  and e["tcp"]["len"] == 5 and e["tcp"].get("retransmission") and not e["dropped"],
                  app(middle, "write", f"on to {server}:7000"),
                  lambda e: e["type"] == "packet" and e["from"] == middle and e["to"] == server
                  and e["wire"]["link"] == far and e.get("tcp", {}).get("len") == 5,
                  app(server, "read", "returned 5 bytes"),
                  app(server, "write"),
                  app(middle, "write", f"on to {client}:"),
                  app(client, "read", "returned 5 bytes"))
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


def host_links():
    return sorted(os.listdir("/sys/class/net"))


def netns_count():
    out = subprocess.run(["lsns", "-n", "-t", "net", "-o", "NS"], capture_output=True, text=True)
    return len(set(out.stdout.split()))


# Nothing left behind, as root and as an ordinary user.
links, nss = host_links(), netns_count()
os.environ["NETCOURSE_LESSONS"] = LESSONS
for lesson in ("relay-chain", "relay-fan"):
    run_json(lesson)
check(host_links() == links, f"runs left interfaces: {set(host_links()) ^ set(links)}")
check(netns_count() == nss, f"runs left network namespaces ({netns_count()} now, {nss} before)")
if os.geteuid() == 0:
    user, work, lessons, data = ordinary_user(LESSONS)
    LESSONS_NOW[0] = lessons
    echo("relay-chain", "client", "middle", "server", "client-middle", "middle-server",
         user=user, data=data)
    echo("relay-fan", "client1", "balancer", "backend2", "client1-balancer", "balancer-backend2",
         user=user, data=data)
    shutil.rmtree(work, ignore_errors=True)
    check(host_links() == links, "an ordinary user's runs left interfaces")
    check(netns_count() == nss, "an ordinary user's runs left network namespaces")
print("ok: chain and fan relay an echo over links of their own; faults and cuts name their link")
