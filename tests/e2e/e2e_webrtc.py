# ctest: timeout=300
"""Lesson 21 webrtc, once per NAT behaviour (`--nat KIND`): alice on
inside1 behind the lab's NAT, bob on peer behind a stateful firewall,
STUN and signalling on stun, TURN on turn. From each real run:

- the STUN result: alice's server-reflexive candidate is the address the
  STUN server answered and the NAT's first mapping; the TURN server saw
  her at the same public port for the three endpoint-independent kinds,
  and at a new one for symmetric (one mapping per destination, in the
  NAT's table too);
- the outcome: both agents select a direct pair for full-cone,
  address-restricted and port-restricted, and a relayed one for
  symmetric (then the data crosses the TURN server: its relay events
  and Data indications or ChannelData carry it), and each side reads
  the other's message;
- ICE as RFC 8445 says: candidate priorities and every pair's priority
  recomputed here from the formula, checks carrying USERNAME, PRIORITY,
  ICE-CONTROLLING/CONTROLLED, MESSAGE-INTEGRITY and FINGERPRINT, exactly
  one nomination (USE-CANDIDATE) on alice's selected pair;
- TURN: Allocate answered 401 with REALM and NONCE, then with
  XOR-RELAYED-ADDRESS and LIFETIME; permissions for the peer's addresses;
- the SDP: the offer (held at the signalling server when bob has not
  joined yet), then the answer, and every candidate alice gathered
  reaches bob;
- both checkpoints decided by the run, as the NAT kind says;
- tshark agrees with the STUN/TURN decoder on every STUN and ChannelData
  packet of the saved run (stun.* fields)."""
import os
import shutil
import subprocess
import tempfile

from nctest import *

need_lab()
PUBLIC = "203.0.113.1"
KINDS = {"full-cone": "direct", "address-restricted": "direct", "port-restricted": "direct",
         "symmetric": "relayed"}
TYPE_PREF = {"host": 126, "prflx": 110, "srflx": 100, "relay": 0}


def prio(kind):
    return (TYPE_PREF[kind] << 24) | (65535 << 8) | 255


def pair_prio(g, d):
    return (1 << 32) * min(g, d) + 2 * max(g, d) + (1 if g > d else 0)


def tshark_rows(pcap):
    fields = ["frame.number", "stun.type", "stun.att.type", "stun.att.ipv4", "stun.att.port",
              "stun.channel", "stun.length", "stun.att.lifetime", "stun.att.transp",
              "stun.att.channelnum", "stun.att.realm", "stun.att.nonce", "stun.att.error.class",
              "stun.att.error", "stun.att.priority", "stun.att.username"]
    cmd = ["tshark", "-r", pcap, "-Y", "stun", "-T", "fields", "-E", "occurrence=a"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True)
    check(out.returncode == 0, f"tshark failed: {out.stderr}")
    rows = {}
    for line in out.stdout.splitlines():
        f = line.split("\t")
        lst = lambda s: [x for x in s.split(",") if x]
        num = lambda s: int(s, 16) if s.startswith("0x") else int(s) if s else None
        rows[int(f[0])] = {
            "type": num(f[1]), "att.type": [int(x, 16) for x in lst(f[2])], "ipv4": lst(f[3]),
            "port": [int(x) for x in lst(f[4])], "channel": num(f[5]), "length": num(f[6]),
            "lifetime": num(f[7]), "transp": num(f[8]), "channelnum": num(f[9]),
            "realm": f[10] or None, "nonce": f[11] or None, "error.class": num(f[12]),
            "error": num(f[13]), "priority": num(f[14]), "username": f[15] or None,
        }
    return rows


def ours(s):
    a = s.get("att", {})
    return {
        "type": s.get("type"), "att.type": a.get("type", []), "ipv4": a.get("ipv4", []),
        "port": a.get("port", []), "channel": s.get("channel"),
        "length": s.get("length"), "lifetime": a.get("lifetime"), "transp": a.get("transp"),
        "channelnum": a.get("channelnum"), "realm": a.get("realm"), "nonce": a.get("nonce"),
        "error.class": a.get("error_tree", {}).get("class"), "error": a.get("error"),
        "priority": a.get("priority"), "username": a.get("username"),
    }


# A NAT behaviour that does not exist is one sentence and a usage exit.
rc, out, err = run(["run", "webrtc", "--headless", "--nat", "cone"])
check(rc == 2 and err.count("\n") == 1 and "unknown NAT behaviour \"cone\"" in err,
      f"--nat cone: exit {rc}, said {err!r}")

for kind, path in KINDS.items():
    d = tempfile.mkdtemp(prefix="nc-webrtc-")
    pcap = os.path.join(d, "run.pcapng")
    ev = run_json("webrtc", ["--nat", kind, "--save", pcap])
    alice = lambda **w: apps(ev, host="inside1", program="alice", **w)
    bob = lambda **w: apps(ev, host="peer", program="bob", **w)

    # The STUN result, the NAT's table and the TURN server's view.
    srflx = [e for e in alice(call="candidate") if e.get("candidate") == "srflx"]
    check(len(srflx) == 1 and srflx[0]["address"] == f"{PUBLIC}:40000",
          f"{kind}: alice's server-reflexive candidates {srflx}", ev)
    stun_said = [e["mapped"] for e in apps(ev, host="stun", call="sendto") if "mapped" in e]
    # (bob asks too, and either may be answered first)
    check(srflx[0]["address"] in stun_said, f"{kind}: the STUN server said {stun_said}", ev)
    host = [e for e in alice(call="candidate") if e.get("candidate") == "host"][0]["address"]
    adds = [e for e in ev if e["type"] == "state" and e["host"] == "nat" and e["change"] == "add"
            and e["proto"] == "udp" and e["inside"] == host]
    check(adds and adds[0]["outside"] == srflx[0]["address"],
          f"{kind}: the NAT's first mapping for {host}: {[e['outside'] for e in adds]}", ev)
    allocs = {e["client"]: e for e in apps(ev, host="turn", call="allocate")}
    alice_alloc = [e for c, e in allocs.items() if c.startswith(PUBLIC + ":")]
    check(len(allocs) == 2 and len(alice_alloc) == 1, f"{kind}: allocations {list(allocs)}", ev)
    turn_saw = alice_alloc[0]["mapped"]
    if kind == "symmetric":
        check(turn_saw == f"{PUBLIC}:40001" and len(adds) > 2 and
              all(e.get("remote") for e in adds),
              f"{kind}: the TURN server saw {turn_saw}; the NAT made {len(adds)} mappings", ev)
    else:
        check(turn_saw == srflx[0]["address"] and len(adds) == 1,
              f"{kind}: the TURN server saw {turn_saw}, STUN {srflx[0]['address']}; "
              f"{len(adds)} UDP mappings", ev)
    check(not [e for e in bob(call="candidate", side="local") if e.get("candidate") == "srflx"
               and not e.get("redundant")],
          f"{kind}: bob has no NAT, yet got a server-reflexive candidate", ev)

    # Candidate and pair priorities, by RFC 8445's formulas.
    for who in (alice, bob):
        for c in who(call="candidate"):
            if "priority" in c and c.get("side") == "local":
                check(c["priority"] == prio(c["candidate"]), f"{kind}: candidate {c}", ev)
    local = {e["address"]: e["priority"] for e in alice(call="candidate") if e.get("side") == "local"}
    remote = {e["address"]: e["priority"] for e in alice(call="candidate")
              if e.get("side") == "remote"}
    pairs = alice(call="pair")
    check(len(pairs) == (len(local) - 1) * len(remote),
          f"{kind}: alice formed {len(pairs)} pairs from {local} x {remote}", ev)
    for p in pairs:
        l, r = [x.split(" ")[1] for x in p["pair"].split(" -> ")]
        check(p["priority"] == pair_prio(local[l], remote[r]),
              f"{kind}: pair {p['pair']} has priority {p['priority']}", ev)
    check([p["priority"] for p in pairs] == sorted((p["priority"] for p in pairs), reverse=True),
          f"{kind}: the check list is not in priority order", ev)

    # The outcome: both sides, the reason, and the data.
    sel_a, sel_b = alice(call="selected"), bob(call="selected")
    check(len(sel_a) == 1 and len(sel_b) == 1 and sel_a[0]["path"] == path and
          sel_b[0]["path"] == path,
          f"{kind}: selected {[(e['host'], e['pair'], e['path']) for e in sel_a + sel_b]}", ev)
    check(sel_a[0]["why"].startswith(path + ":"), f"{kind}: why {sel_a[0]['why']!r}", ev)
    if kind == "symmetric":
        check("new mapping per destination" in sel_a[0]["why"],
              f"{kind}: alice's reason does not name the NAT's behaviour: {sel_a[0]['why']}", ev)
    got_b = [e["data"] for e in bob(call="recvfrom") if "data" in e]
    got_a = [e["data"] for e in alice(call="recvfrom") if "data" in e]
    check(got_b == ["hello bob"] and got_a == ["hello alice, bob here"],
          f"{kind}: bob read {got_b}, alice read {got_a}", ev)
    relayed = [e for e in apps(ev, host="turn", call="relay") if e["bytes"] in (9, 21)]
    if path == "relayed":
        check(len(relayed) >= 2 and all(e["direction"] in ("to peer", "to client") for e in relayed),
              f"{kind}: the TURN server relayed {relayed}", ev)
    else:
        check(not relayed, f"{kind}: a direct path, yet the TURN server relayed data", ev)
        direct = [e for e in ev if e["type"] == "packet" and e.get("udp", {}).get("payload_len") == 9
                  and e["wire"]["link"] == "outside" and e["from"] == "nat" and e["to"] == "peer"]
        check(direct, f"{kind}: no 9-byte datagram went from the NAT straight to bob", ev)

    # The checks on the wire: attributes and one nomination.
    checks = [e for e in ev if e["type"] == "packet" and e.get("stun", {}).get("method_name") ==
              "Binding" and e["stun"]["class_name"] == "Request" and "PRIORITY" in
              e["stun"]["attributes"]]
    check(checks, f"{kind}: no connectivity check on the wire", ev)
    for c in checks:
        at = c["stun"]["attributes"]
        check("USERNAME" in at and "MESSAGE-INTEGRITY" in at and at[-1] == "FINGERPRINT" and
              ("ICE-CONTROLLING" in at) != ("ICE-CONTROLLED" in at),
              f"{kind}: a check carries {at}", ev)
    noms = [e for e in alice(call="nominate")]
    check(len({e["pair"] for e in noms}) == 1 and noms[0]["pair"] == sel_a[0]["pair"],
          f"{kind}: alice nominated {[e['pair'] for e in noms]}", ev)

    # TURN: 401 first, then the allocation; permissions for the peer.
    err = [e for e in ev if e["type"] == "packet" and e.get("stun", {}).get("att", {}).get(
        "error_code") == 401]
    check(err and all(e["stun"]["att"].get("realm") == "netcourse" and e["stun"]["att"].get("nonce")
                      for e in err), f"{kind}: the 401 answers {err}", ev)
    ok = [e for e in ev if e["type"] == "packet" and "relayed" in e.get("stun", {})]
    check(ok and all(e["stun"]["att"]["lifetime"] == 600 for e in ok),
          f"{kind}: the Allocate answers {ok}", ev)
    perms = {e["peer"] for e in apps(ev, host="turn", call="permission")}
    check({"203.0.113.20", PUBLIC} <= perms, f"{kind}: permissions for {perms}", ev)

    # Signalling: the offer, held when bob had not joined yet (which of the
    # two gathers first is the run's), then the answer; all of it whole.
    fw = apps(ev, host="stun", call="forward")
    held = bool(apps(ev, host="stun", call="hold"))
    check([e["what"] for e in fw] == ["offer", "answer"] and fw[0]["held"] == held and
          not fw[1]["held"],
          f"{kind}: the signalling server passed {[(e['what'], e['held']) for e in fw]}", ev)
    got = {e["address"] for e in bob(call="candidate") if e.get("side") == "remote"}
    check({a for a in local} <= got, f"{kind}: bob learnt {got} of {set(local)}", ev)

    # The checkpoints, decided by this run.
    check(decided(ev, "mapping") == ("a" if kind == "symmetric" else "b"),
          f"{kind}: checkpoint mapping decided {decided(ev, 'mapping')}", ev)
    check(decided(ev, "path") == ("a" if path == "direct" else "b"),
          f"{kind}: checkpoint path decided {decided(ev, 'path')}", ev)

    # tshark agrees with the decoder on every STUN/TURN packet.
    rows = tshark_rows(pcap)
    mine, n = {}, 0
    for e in ev:
        if e["type"] != "packet":
            continue
        n += 1
        if "stun" in e:
            mine[n] = ours(e["stun"])
    check(mine and mine == rows,
          f"{kind}: tshark and the decoder differ: "
          f"{[(k, mine.get(k), rows.get(k)) for k in sorted(set(mine) | set(rows)) if mine.get(k) != rows.get(k)][:3]}")
    if kind == "symmetric":
        check(any(r["channel"] for r in rows.values()) or
              any(r["type"] == 0x17 for r in rows.values()),
              f"{kind}: neither ChannelData nor Data indications in the capture")
    shutil.rmtree(d, ignore_errors=True)
# coturn's turnutils_uclient, in the lab shell on peer, against the kit's
# TURN server (fixture turn-hostile.md): two allocations that send to each
# other through their relays, by channels (ChannelBind, ChannelData), then
# by Send and Data indications (-s). Every message must come back.
FIXTURES = os.path.join(os.environ["NC_SOURCE_DIR"], "tests", "e2e", "lessons")
for flags, how in (("-y -c", "ChannelData"), ("-y -c -s", "Send indication")):
    rc, out, err = run(["--lessons", FIXTURES, "shell", "turn-hostile", "peer", "--json", "-c",
                        f"turnutils_uclient {flags} -u student -w secret -n 5 $TURN 2>&1"])
    check(rc == 0, f"`netcourse shell turn-hostile peer` exited {rc}: {err.strip()}")
    typed = "\n".join(l for l in out.splitlines() if not l.startswith("{"))
    ev = [__import__("json").loads(l) for l in out.splitlines() if l.startswith("{")]
    check("tot_send_msgs=10, tot_recv_msgs=10" in typed and "Total lost packets 0" in typed,
          f"turnutils_uclient {flags} printed {typed[-600:]!r}", ev)
    relays = apps(ev, host="turn", call="relay")
    check(len(apps(ev, host="turn", call="allocate")) >= 2 and
          any(e["how"] == how for e in relays) and not apps(ev, host="turn", call="refuse",
                                                            error=400),
          f"turnutils_uclient {flags}: the relay's events {[e['text'] for e in relays[:3]]}", ev)
# An ordinary user runs it too: the firewall's nft in a lab host of the
# user's own namespaces, found outside the user's PATH (/usr/sbin).
user, work, lessons, data = ordinary_user(os.path.join(os.environ["NC_SOURCE_DIR"], "lessons"))
ev = run_json("webrtc", ["--nat", "symmetric"], data_dir=data, user=user)
check(apps(ev, host="peer", call="firewall") and
      [e["path"] for e in apps(ev, call="selected")] == ["relayed", "relayed"],
      "as an ordinary user: no firewall, or not relayed", ev)
shutil.rmtree(work, ignore_errors=True)
print("ok: webrtc goes direct through three NAT kinds and through TURN for symmetric; "
      "coturn's client relays through the kit's TURN server")
