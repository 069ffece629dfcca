"""`netcourse replay FILE --filter MATCHER` against tshark's display filters:
on real captures (the shared tcpdump corpus and a saved lesson run) the
packets a matcher keeps are, frame for frame, the ones tshark's equivalent
filter keeps, for TCP flags, ports and addresses. Also: --dump filters
like --json; a filter that does not compile is one sentence and exit
status 2, and so is a --pace out of range or given with --json."""
# ctest: nolab timeout=600
import json
import os
import shutil
import subprocess

from nctest import *

check(shutil.which("tshark"), "tshark is not installed (.ci/quickstart test installs it)")
corpus = os.path.join(os.environ["NC_CAPTURES"], "tcpdump")
src = os.environ["NC_SOURCE_DIR"]
saved = os.path.join(src, "tests", "runfile", "captures", "tcp_run.pcapng")

# (capture, our matcher, tshark's display filter). Each pair keeps at least
# one packet of its capture, so no line passes by keeping nothing.
CASES = [
    ("tcp_rst_data.pcap", "tcp.flags~RST", "tcp.flags.reset==1"),
    ("mptcp-fclose.pcap", "tcp.flags~RST", "tcp.flags.reset==1"),
    ("of10_pf5240.pcap", "tcp.flags~RST", "tcp.flags.reset==1"),
    ("of10_pf5240.pcap", "tcp.flags~SYN", "tcp.flags.syn==1"),
    ("bgp-4byte-asn.pcap", "tcp.flags~RST", "tcp.flags.reset==1"),
    ("bgp-4byte-asn.pcap", "tcp.flags~SYN", "tcp.flags.syn==1"),
    ("bgp-4byte-asn.pcap", "tcp.dport=179", "tcp.dstport==179"),
    ("bgp-4byte-asn.pcap", "tcp.sport=179 tcp.flags~ACK", "tcp.srcport==179 && tcp.flags.ack==1"),
    ("mptcp-v1.pcap", "tcp.flags=SYN,ACK", "tcp.flags.syn==1 && tcp.flags.ack==1"),
    ("dns_udp_2.pcap", "udp.dport=53", "udp.dstport==53"),
    ("dns_udp_2.pcap", "udp.sport=53", "udp.srcport==53"),
    ("RADIUS-RFC5176.pcap", "ip.src=10.0.0.1", "ip.src==10.0.0.1"),
    ("RADIUS-RFC5176.pcap", "ip.dst=10.0.0.1", "ip.dst==10.0.0.1"),
    ("of10_7050sx_bsn.pcap", "tcp.flags~RST", "tcp.flags.reset==1"),
]


def ours(path, matcher, fmt="--json"):
    rc, out, err = run(["replay", path, fmt, "--filter", matcher])
    check(rc == 0, f"`replay {path} {fmt} --filter '{matcher}'` exited {rc}: {err.strip()}")
    return out


def frames(path, matcher):
    """Our packets as frame numbers: the packets' places among the file's
    packets (a saved run's marks and app events are not frames)."""
    rc, out, err = run(["replay", path, "--json"])
    check(rc == 0, f"`replay {path} --json` exited {rc}: {err.strip()}")
    frame_of = {}
    for line in out.splitlines():
        ev = json.loads(line)
        if ev["type"] == "packet":
            frame_of[ev["i"]] = len(frame_of) + 1
    kept = [json.loads(l) for l in ours(path, matcher).splitlines()]
    for ev in kept:
        check(ev["type"] == "packet", f"--filter '{matcher}' kept a {ev['type']} event: {ev}")
    return [frame_of[ev["i"]] for ev in kept]


def tshark(path, flt):
    p = subprocess.run(["tshark", "-r", path, "-Y", flt, "-T", "fields", "-e", "frame.number"],
                       capture_output=True, text=True, timeout=120)
    check(p.returncode == 0, f"tshark -r {path} -Y '{flt}' failed: {p.stderr.strip()}")
    return [int(x) for x in p.stdout.split()]


cases = [(os.path.join(corpus, f), m, t) for f, m, t in CASES]
cases += [(saved, "tcp.flags~SYN", "tcp.flags.syn==1"),
          (saved, "tcp.flags~FIN", "tcp.flags.fin==1"),
          (saved, "tcp.dport=7000", "tcp.dstport==7000"),
          (saved, "ip.src=10.0.0.2 tcp.len>0", "ip.src==10.0.0.2 && tcp.len>0")]
for path, matcher, flt in cases:
    mine, theirs = frames(path, matcher), tshark(path, flt)
    check(theirs, f"{os.path.basename(path)}: tshark keeps nothing with '{flt}' (a useless case)")
    check(mine == theirs, f"{os.path.basename(path)}: --filter '{matcher}' keeps frames {mine}, "
                          f"tshark -Y '{flt}' keeps {theirs}")
    print(f"ok: {os.path.basename(path)}: '{matcher}' = tshark '{flt}': {len(mine)} frames")

# --dump prints the same events as --json, as text.
dump = ours(saved, "tcp.flags~FIN", "--dump")
js = [json.loads(l) for l in ours(saved, "tcp.flags~FIN").splitlines()]
check(len(js) == 2 and all(f"{e['i']:5d}" in dump for e in js) and "FIN" in dump,
      f"--dump --filter does not print the {len(js)} FIN packets --json keeps:\n{dump}")
check(dump.count("packet") == 2, f"--dump --filter printed other events:\n{dump}")
print("ok: --dump --filter prints the events --json keeps")

# A bad matcher: one sentence, exit status 2, nothing on stdout.
for bad in ("tcp.len>many", '"tcp.flags~RST'):
    rc, out, err = run(["replay", saved, "--json", "--filter", bad])
    check(rc == 2 and not out, f"--filter '{bad}' exited {rc} with output {out[:80]!r}")
    lines = err.strip().splitlines()
    check(len(lines) == 1 and lines[0].startswith("netcourse: --filter:"),
          f"--filter '{bad}' should say one sentence, said: {err!r}")
rc, out, err = run(["replay", saved, "--filter"])
check(rc == 2 and "--filter needs a matcher" in err, f"--filter alone: {rc} {err!r}")
print("ok: a bad filter is one sentence and exit status 2")

# --pace is for the interface, and takes a sane number of seconds.
for args, why in (([saved, "--pace", "0.01"], "from 0.125 to 8"),
                  ([saved, "--pace", "fast"], "from 0.125 to 8"),
                  ([saved, "--json", "--pace", "1"], "paces the interface")):
    rc, out, err = run(["replay", *args])
    check(rc == 2 and why in err and len(err.strip().splitlines()) == 1,
          f"replay {' '.join(args)}: exit {rc}, said {err!r}")
print("ok: a bad --pace is one sentence and exit status 2")
