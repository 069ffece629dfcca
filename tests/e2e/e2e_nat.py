"""The NAT box in the wire, in its four behaviours (RFC 4787: mapping and
filtering that depend on nothing, the address, or the address and port),
seen through STUN. For each, tests/e2e/lessons/nat-stun.md runs with its
`nat:` line rewritten: inside1 binds from port 45678 to the STUN server on
ports 3478 and 3479, and the address each answer reports must be the one
the NAT's translation table (its state events) chose, the one the outside
link carries, and the one the STUN decoder reads; symmetric gives a
different mapping per destination, the others one. Then an unsolicited
datagram from another port (stun:3480) and from another address (peer)
is let in or dropped as the kind's filter says; a TCP connection through
the NAT gets a mapping of its own (its handshake completing shows the
rewritten checksums right); and the mappings expire.
tshark agrees with the STUN decoder on the saved run. Last,
turnutils_stunclient (coturn) typed in the lab shell on inside1 gets the
public address the NAT gave it from the lesson's STUN server."""
# ctest: timeout=300
import json
import os
import re
import shutil
import subprocess
import tempfile

from nctest import *

need_lab()
SRC = os.path.join(os.environ["NC_SOURCE_DIR"], "tests", "e2e", "lessons", "nat-stun.md")
PUBLIC = "203.0.113.1"
# kind: (second mapping's port, stun:3480 let in, peer let in)
KINDS = {
    "full-cone": (40000, True, True),
    "address-restricted": (40000, True, False),
    "port-restricted": (40000, False, False),
    "symmetric": (40001, False, False),
}


def lesson_dir(kind):
    d = tempfile.mkdtemp(prefix="nc-nat-")
    with open(SRC) as f:
        text = f.read()
    with open(os.path.join(d, "nat-stun.md"), "w") as f:
        f.write(text.replace("nat: full-cone", f"nat: {kind}"))
    return d


def tshark_stun(pcap):
    out = subprocess.run(["tshark", "-r", pcap, "-Y", "stun", "-T", "fields", "-e", "frame.number",
                          "-e", "stun.type", "-e", "stun.att.type", "-e", "stun.att.ipv4",
                          "-e", "stun.att.port"], capture_output=True, text=True)
    check(out.returncode == 0, f"tshark failed: {out.stderr}")
    rows = {}
    for line in out.stdout.splitlines():
        f = line.split("\t")
        split = lambda s: [x for x in s.split(",") if x]
        rows[int(f[0])] = (int(f[1], 16), [int(x, 16) for x in split(f[2])], split(f[3]),
                           [int(x) for x in split(f[4])])
    return rows


for kind, (second, port_in, addr_in) in KINDS.items():
    d = lesson_dir(kind)
    os.environ["NETCOURSE_LESSONS"] = d
    pcap = os.path.join(d, "run.pcapng")
    ev = run_json("nat-stun", ["--save", pcap])
    got = [e["mapped"] for e in apps(ev, host="inside1", call="recvfrom") if "mapped" in e]
    check(got == [f"{PUBLIC}:40000", f"{PUBLIC}:{second}"],
          f"{kind}: the STUN answers reported {got}", ev)
    table = [e for e in ev if e["type"] == "state" and e["host"] == "nat"]
    adds = [e for e in table if e["change"] == "add" and e["proto"] == "udp"]
    check([e["outside"] for e in adds] == sorted(set(got)) and
          all(e["inside"] == "192.168.1.10:45678" and e["nat"] == kind and e["proto"] == "udp"
              for e in adds),
          f"{kind}: the NAT's table made {[(e['inside'], e['outside']) for e in adds]}", ev)
    check(("remote" in adds[0]) == (kind == "symmetric"),
          f"{kind}: a mapping's remote is shown wrongly: {adds[0]}", ev)
    check(adds[-1]["mappings"] == len(adds) and len(adds[-1]["table"]) == len(adds) and
          all(line.startswith("udp 192.168.1.10:45678 = ") for line in adds[-1]["table"]),
          f"{kind}: the table after the last mapping is {adds[-1]['table']}", ev)
    # The outside link carries the public address; the inside one the private.
    for e in ev:
        if e["type"] != "packet" or "stun" not in e or e["stun"]["class_name"] != "Request":
            continue
        src = (e["ip"]["src"], e["udp"]["sport"])
        want = ("192.168.1.10", 45678) if e["wire"]["link"] == "inside" else None
        if want:
            check(src == want, f"{kind}: an inside request came from {src}", ev)
        else:
            check(src[0] == PUBLIC and f"{PUBLIC}:{src[1]}" in got and e["wire"]["nat"],
                  f"{kind}: a request left the NAT from {src}", ev)
    answers = [e["stun"]["mapped"] for e in ev if e["type"] == "packet" and "stun" in e
               and e["wire"]["link"] == "inside" and "mapped" in e["stun"]]
    check(answers == got, f"{kind}: the decoder read {answers} in the answers", ev)
    # The filter: unsolicited datagrams at the first mapping.
    for sport, let_in, who in ((3480, port_in, "stun"), (6000, addr_in, "peer")):
        outside = [e for e in ev if e["type"] == "packet" and e.get("udp", {}).get("sport") == sport
                   and e["wire"]["link"] == "outside"]
        check(len(outside) == 1 and outside[0]["udp"]["dport"] == 40000,
              f"{kind}: {who}'s datagram on the outside link: {outside}", ev)
        check(outside[0]["dropped"] != let_in,
              f"{kind}: {who}'s datagram was {'dropped' if outside[0]['dropped'] else 'let in'}", ev)
        if not let_in:
            check(outside[0]["wire"]["reason"].startswith(f"NAT ({kind})"),
                  f"{kind}: the drop says {outside[0]['wire']['reason']!r}", ev)
        inside = [e for e in ev if e["type"] == "packet" and e.get("udp", {}).get("sport") == sport
                  and e["wire"]["link"] == "inside"]
        check([e["udp"]["dport"] for e in inside] == ([45678] if let_in else []),
              f"{kind}: {who}'s datagram reached the inside {len(inside)} times", ev)
    # TCP through the NAT: a mapping of its own, the next public port; the
    # handshake completing shows the rewritten checksums are right.
    tcp = [e for e in table if e["change"] == "add" and e["proto"] == "tcp"]
    port = int(got[-1].split(":")[1]) + 1
    check(len(tcp) == 1 and tcp[0]["outside"] == f"{PUBLIC}:{port}",
          f"{kind}: the TCP mapping is {[e['outside'] for e in tcp]}", ev)
    acc = apps(ev, host="peer", call="accept")
    check(acc and acc[0]["peer"] == f"nat:{port}", f"{kind}: peer accepted {acc}", ev)
    check(any("returned 4 bytes" in e["text"] for e in apps(ev, host="inside1", call="read")),
          f"{kind}: inside1 did not read the answer over TCP", ev)
    # Mappings expire after the timeout, after the last packet through them.
    gone = [e for e in table if e["change"] == "expire"]
    check(sorted(e["outside"] for e in gone) == sorted(set(got) | {tcp[0]["outside"]})
          and gone[-1]["mappings"] == 0 and gone[-1]["table"] == [],
          f"{kind}: expired {[e['outside'] for e in gone]}", ev)
    last_use = max(e["i"] for e in ev if e["type"] == "packet" and e["wire"].get("nat"))
    check(all(e["i"] > last_use for e in gone), f"{kind}: a mapping expired while in use", ev)
    # tshark agrees with the STUN decoder on every STUN packet of the run.
    rows = tshark_stun(pcap)
    ours = {}
    n = 0
    for e in ev:
        if e["type"] != "packet":
            continue
        n += 1
        if "stun" in e:
            s = e["stun"]
            ours[n] = (s["type"], s["att"]["type"], s["att"].get("ipv4", []), s["att"].get("port", []))
    check(ours and ours == rows, f"{kind}: tshark and the decoder differ: {ours} vs {rows}")
    shutil.rmtree(d, ignore_errors=True)

# turnutils_stunclient in the lab shell on inside1, against stun:3478.
d = lesson_dir("port-restricted")
rc, out, err = run(["--lessons", d, "shell", "nat-stun", "inside1", "-c",
                    "turnutils_stunclient -p 3478 $STUN", "--json"])
check(rc == 0, f"`netcourse shell nat-stun inside1` exited {rc}: {err.strip()}")
typed = "\n".join(l for l in out.splitlines() if not l.startswith("{"))
ev = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
m = re.search(r"UDP reflexive addr: ([0-9.]+):(\d+)", typed)
check(m, f"turnutils_stunclient printed {typed!r}", ev)
adds = [e for e in ev if e["type"] == "state" and e["host"] == "nat" and e["change"] == "add"]
check(adds and f"{m.group(1)}:{m.group(2)}" == adds[0]["outside"] and m.group(1) == PUBLIC,
      f"turnutils_stunclient got {m.group(0)}; the NAT mapped {[e['outside'] for e in adds]}", ev)
check(any(e.get("mapped") == adds[0]["outside"] for e in apps(ev, host="stun", call="sendto")),
      "the lesson's STUN server did not answer with the NAT's mapping", ev)
shutil.rmtree(d, ignore_errors=True)
print("ok: the four NAT behaviours map and filter as RFC 4787 says, seen through STUN")
