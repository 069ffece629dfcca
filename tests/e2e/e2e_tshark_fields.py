"""Header fields are the header's own values, as tshark shows them: for every
capture in ../shared/captures/tcpdump and tests/decode/pcaps, each packet's
`udp.len`, IPv4 and IPv6 `ip.len`, `ip.frag_off` and the checksum verdicts
from `netcourse replay --json` are compared with tshark's `udp.length`,
`ip.len`, `ipv6.plen`, `ip.frag_offset`, `ipv6.fraghdr.offset` and
`*.checksum.status`. HTTP is a stream decoder now (a message is written
into the packet that completes it), so e2e_oracle_captures compares it with
tshark's reassembly on, on the same captures. tshark runs with its
checksum checks on, reassembly off and retransmitted payloads decoded, so
that it decodes each frame alone, as netcourse does. netcourse decodes fewer
tunnels than tshark, so per packet its layers must be the first ones tshark
shows, in order. Required: tshark is installed by the quick start."""
# ctest: nolab timeout=600
import glob
import json
import os
import shutil
import subprocess

from nctest import *

src = os.environ.get("NC_SOURCE_DIR", ".")
caps = os.environ.get("NC_CAPTURES") or os.path.join(src, "..", "shared", "captures")
tshark = shutil.which("tshark")
check(tshark, "tshark is missing (Debian package tshark); .ci/quickstart installs it")
files = sorted(glob.glob(os.path.join(caps, "tcpdump", "*")))
check(files, f"no shared captures in {caps}/tcpdump")
files += sorted(glob.glob(os.path.join(src, "tests", "decode", "pcaps", "*.pcap")))

# tshark field -> (netcourse layer, field, which IP version or None).
FIELDS = [
    ("ip.len", "ip", "len", 4),
    ("ip.frag_offset", "ip", "frag_off", 4),
    ("ipv6.plen", "ip", "len", 6),
    ("ipv6.fraghdr.offset", "ip", "frag_off", 6),
    ("udp.length", "udp", "len", None),
    ("ip.checksum.status", "ip", "checksum_status", 4),
    ("tcp.checksum.status", "tcp", "checksum_status", None),
    ("udp.checksum.status", "udp", "checksum_status", None),
    ("icmp.checksum.status", "icmp", "checksum_status", None),
]
# tshark's checksum status values: 0 bad, 1 good, 2 unverified, 3 not present.
STATUS = {"bad": "0", "partial": "0", "good": "1", "unverified": "2", "none": "3"}
OPTS = ["-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
        "-o", "udp.check_checksum:TRUE", "-o", "ip.defragment:FALSE",
        "-o", "ipv6.defragment:FALSE", "-o", "tcp.desegment_tcp_streams:FALSE",
        "-o", "tcp.no_subdissector_on_error:FALSE"]


def tshark_rows(path):
    cmd = [tshark, "-n", "-r", path, *OPTS, "-T", "fields", "-E", "occurrence=a",
           "-E", "aggregator=,", "-e", "_ws.col.Protocol"]
    for f, *_ in FIELDS:
        cmd += ["-e", f]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    check(p.returncode == 0, f"tshark failed on {path}: {p.stderr.strip()[-300:]}")
    rows = []
    for line in p.stdout.splitlines():
        cols = line.split("\t")
        if cols[0] == "PCAPNG":
            continue
        rows.append([c.split(",") if c else [] for c in cols[1:]] +
                    [[]] * (len(FIELDS) + 1 - len(cols)))
    return rows


def layers(line):
    """The event's layer objects in order, duplicates kept (IP in IP)."""
    return json.loads(line, object_pairs_hook=lambda pairs: pairs)


def ours(pairs, layer, field, ver):
    out = []
    v6 = False
    for k, v in pairs:
        if k != layer or not isinstance(v, list):
            if k == "ip" and isinstance(v, list):
                v6 = dict(v).get("version") == 6
            continue
        obj = dict(v)
        if ver is not None and (obj.get("version") != ver or "src" not in obj):
            continue
        if field == "checksum_status" and obj.get(field) == "none" and v6:
            out.append("4")  # tshark: a zero UDP checksum is illegal over IPv6
            continue
        if field == "frag_off" and ver == 4:
            out.append(str(obj.get("frag_off", 0)))  # tshark shows 0 when not a fragment
        elif field == "checksum_status":
            if "checksum_status" in obj:
                out.append(STATUS[obj["checksum_status"]])
        elif field in obj:
            out.append(str(obj[field]))
    return out


compared = {f: 0 for f, *_ in FIELDS}
mismatches = []
for path in files:
    rc, out, err = run(["replay", path, "--json"], timeout=120)
    if rc != 0:
        continue  # a link type netcourse refuses (e2e_captures checks the sentence)
    evs = [layers(l) for l in out.splitlines()]
    evs = [e for e in evs if dict(e).get("type") == "packet"]
    rows = tshark_rows(path)
    if len(rows) != len(evs):
        continue  # e2e_captures compares the packet counts
    for n, (ev, row) in enumerate(zip(evs, rows)):
        top = dict(ev)
        ips = [dict(v) for k, v in ev if k == "ip"]
        for (tf, layer, field, ver), theirs in zip(FIELDS, row):
            mine = ours(ev, layer, field, ver)
            if not mine:
                # In our own captures, whatever tshark decodes netcourse
                # decodes too, but for the datagram an ICMP error quotes,
                # which netcourse leaves as bytes.
                quoted = any(k in ("icmp", "icmpv6") for k, _ in ev)
                if theirs and not quoted and path.startswith(os.path.join(src, "tests")):
                    mismatches.append(f"{os.path.basename(path)} frame {n + 1}: netcourse has "
                                      f"no {layer}.{field}, tshark {tf}={theirs}")
                continue
            # Where tshark stops at a bogus field (an IPv4 total length below
            # the header's), netcourse still shows the header fields it read.
            if not theirs and "error" in top and layer == "ip":
                continue
            # tshark 4.0 cannot decode an IPv6 jumbo payload ([Malformed
            # Packet]); netcourse takes its length from the frame.
            if not theirs and any(i.get("len_from_frame") for i in ips):
                continue
            # A frame shorter than its IP length: tshark sums the bytes there
            # are and calls the checksum bad; netcourse says unverified.
            if mine == ["2"] and theirs[:1] == ["0"] and ips and \
                    top.get("len", 0) < ips[0].get("len", 0):
                continue
            if mine != theirs[:len(mine)]:
                mismatches.append(f"{os.path.basename(path)} frame {n + 1}: netcourse "
                                  f"{layer}.{field}={mine}, tshark {tf}={theirs}")
            else:
                compared[tf] += 1

check(not mismatches, f"{len(mismatches)} fields differ from tshark:\n" + "\n".join(mismatches[:40]))
for tf in ("udp.length", "ipv6.plen", "ip.frag_offset", "ip.len"):
    check(compared[tf] > 20, f"only {compared[tf]} packets compared for {tf}")
check(compared["ipv6.fraghdr.offset"] >= 1, f"too few IPv6 fragments compared: {compared}")
print("ok: fields equal tshark's: " + ", ".join(f"{k} {v}" for k, v in compared.items()))
