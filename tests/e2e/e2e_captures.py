"""Any capture replays: every file in ../shared/captures/tcpdump goes through
`netcourse replay --dump` and `--json` without a crash, a hang or a sanitizer
report (exit 0, or 1 with one sentence for a link type netcourse cannot
decode); real captures of every supported link type, in every encoding
(pcap micro/nano, both byte orders, pcapng with several sections, obsolete
and simple packet blocks) give the packets tshark counts; a truncated file
shows everything before the break, then a note saying where it broke."""
# ctest: nolab
import glob
import json
import os
import shutil
import subprocess
import tempfile

from nctest import *

src = os.environ.get("NC_SOURCE_DIR", ".")
caps = os.environ.get("NC_CAPTURES") or os.path.join(src, "..", "shared", "captures")
mine = os.path.join(src, "tests", "runfile", "captures")
tshark = shutil.which("tshark")
check(tshark, "tshark is missing (Debian package tshark); .ci/quickstart installs it")


def replay(path, mode):
    rc, out, err = run(["replay", path, mode], timeout=60)
    check("Sanitizer" not in err and "runtime error" not in err,
          f"{path} {mode}: sanitizer report:\n{err[:2000]}")
    return rc, out, err


files = sorted(glob.glob(os.path.join(caps, "tcpdump", "*")))
if not files:
    print(f"SKIP: no captures in {caps}/tcpdump")
    raise SystemExit(77)
decoded = refused = 0
for f in files:
    for mode in ("--dump", "--json"):
        try:
            rc, out, err = replay(f, mode)
        except subprocess.TimeoutExpired:
            fail(f"{f} {mode}: no answer in 60 s")
        check(rc in (0, 1), f"{f} {mode}: exit {rc}: {err[:300]}")
        if rc == 1:
            lines = err.strip().splitlines()
            check(len(lines) == 1 and lines[0].startswith("netcourse: ") and "cannot decode" in lines[0],
                  f"{f} {mode}: exit 1 without one clear sentence: {err[:300]!r}")
        if mode == "--json" and rc == 0:
            for n, line in enumerate(out.splitlines()):
                ev = json.loads(line)
                check(ev["i"] == n, f"{f}: event {n} has i={ev['i']}")
    decoded += rc == 0
    refused += rc == 1
print(f"ok: {len(files)} shared captures replayed ({decoded} decoded, {refused} refused clearly)")


def packets_of(path):
    rc, out, err = replay(path, "--json")
    check(rc == 0, f"{path}: exit {rc}: {err.strip()}")
    return [json.loads(l) for l in out.splitlines()]


def tshark_count(path):
    """Frames tshark shows, without the records it makes of pcapng Custom
    Blocks (column Protocol "PCAPNG"): those are not packets."""
    p = subprocess.run([tshark, "-r", path, "-T", "fields", "-e", "_ws.col.Protocol"],
                       capture_output=True, text=True, timeout=60)
    return len([l for l in p.stdout.splitlines() if l.strip() != "PCAPNG"])


# One real capture per supported link type (and encoding).
link_types = {
    "Ethernet": os.path.join(caps, "tcpdump", "tcp_rst_data.pcap"),
    "Ethernet, pcapng": os.path.join(caps, "tcpdump", "dhcp-option-108.pcapng"),
    "Linux SLL": os.path.join(caps, "tcpdump", "mptcp-v1.pcap"),
    "Linux SLL, pcapng": os.path.join(caps, "tcpdump", "bgp-ovs.pcapng"),
    "Linux SLL2": os.path.join(mine, "sll2_any.pcap"),
    "raw IP (LINKTYPE_RAW)": os.path.join(caps, "tcpdump", "babel_rtt.pcap"),
    "raw IPv6 (LINKTYPE_RAW)": os.path.join(caps, "tcpdump", "LINKTYPE_RAW_ipv6.pcap"),
    "raw IPv4 (LINKTYPE_IPV4)": os.path.join(caps, "tcpdump", "LINKTYPE_IPV4_invalid.pcap"),
    "raw IPv6 (LINKTYPE_IPV6)": os.path.join(caps, "tcpdump", "LINKTYPE_IPV6_invalid.pcap"),
    "BSD loopback": os.path.join(caps, "tcpdump", "ikev2four.pcap"),
    "BSD loopback, pcapng": os.path.join(caps, "tcpdump", "ikev2pI2-segfault.pcapng"),
    "SLL2, big-endian pcap": os.path.join(mine, "sll2_any_be.pcap"),
    "SLL2, nanosecond pcap": os.path.join(mine, "sll2_any_nano_le.pcap"),
    "SLL2, big-endian nanosecond pcap": os.path.join(mine, "sll2_any_nano_be.pcap"),
    "SLL2, pcapng with obsolete and simple packet blocks": os.path.join(mine, "sll2_any_opb_spb.pcapng"),
    "saved run, big-endian pcapng": os.path.join(mine, "tcp_run_be.pcapng"),
}
for name, path in link_types.items():
    check(os.path.exists(path), f"{name}: {path} is missing")
    ev = packets_of(path)
    pk = [e for e in ev if e["type"] == "packet"]
    check(pk, f"{name}: no packets from {path}")
    check(not any("link type" in e.get("error", "") for e in pk), f"{name}: link type not decoded")
    n = tshark_count(path)
    check(len(pk) == n, f"{name}: {len(pk)} packets, tshark counts {n}")
print(f"ok: {len(link_types)} link types and encodings give tshark's packet counts")

# The same packets, whatever the encoding.
base = packets_of(os.path.join(mine, "sll2_any.pcap"))
for v in ("sll2_any_be.pcap", "sll2_any_nano_le.pcap", "sll2_any_nano_be.pcap"):
    check(packets_of(os.path.join(mine, v)) == base, f"{v} does not replay like sll2_any.pcap")
check(packets_of(os.path.join(mine, "tcp_run_be.pcapng")) == packets_of(os.path.join(mine, "tcp_run.pcapng")),
      "the big-endian saved run does not replay like the little-endian one")

tmp = tempfile.mkdtemp(prefix="nc-e2e-caps-")
# Several sections with different link types in one file.
multi = os.path.join(tmp, "multi.pcapng")
with open(multi, "wb") as out:
    for part in ("bgp-ovs.pcapng", "dhcp-option-108.pcapng", "ikev2pI2-segfault.pcapng"):
        out.write(open(os.path.join(caps, "tcpdump", part), "rb").read())
pk = [e for e in packets_of(multi) if e["type"] == "packet"]
check(len(pk) == 4, f"three sections: {len(pk)} packets, expected 1 + 2 + 1")
check(tshark_count(multi) == 4, "tshark disagrees about the three-section file")

# A truncated saved run: every packet before the break, then a note.
whole = open(os.path.join(mine, "tcp_run.pcapng"), "rb").read()
cut = os.path.join(tmp, "cut.pcapng")
open(cut, "wb").write(whole[:len(whole) // 2])
ev = packets_of(cut)
check(ev[-1]["type"] == "note" and "breaks off at byte" in ev[-1]["summary"],
      f"a truncated file does not end with a note saying where: {ev[-1]}")
pk = [e for e in ev if e["type"] == "packet"]
p = subprocess.run([tshark, "-r", cut, "-T", "fields", "-e", "frame.number"],
                   capture_output=True, text=True, timeout=60)
n = len([l for l in p.stdout.splitlines() if l.strip()])
check(len(pk) == n, f"truncated: {len(pk)} packets before the break, tshark reads {n}")
rc, out, err = replay(cut, "--dump")
check(rc == 0 and "breaks off at byte" in out, "--dump of a truncated file does not say where it broke")

# A file that is not a capture, and a link type netcourse cannot decode.
bad = os.path.join(tmp, "notes.txt")
open(bad, "w").write("hello, not a capture\n")
rc, out, err = replay(bad, "--json")
check(rc == 1 and out == "" and len(err.strip().splitlines()) == 1 and "not a pcap" in err,
      f"a text file: exit {rc}, {err!r}")
rc, out, err = replay(os.path.join(caps, "tcpdump", "unsupported-link-type-dbus.pcap"), "--json")
check(rc == 1 and out == "" and "cannot decode" in err, f"D-Bus capture: exit {rc}, {err!r}")
shutil.rmtree(tmp)
print("ok: several sections, a truncated file, a non-capture and an unknown link type")
