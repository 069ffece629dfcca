"""Helpers for the decoder oracles (e2e_oracle_*.py): real clients and servers
in a private network namespace, captured by tcpdump, then decoded twice, by
`netcourse replay --json` and by tshark with TCP and HTTP reassembly on, so
the tests can compare message by message.

A test calls in_namespace() first: it re-runs the script inside a new network
namespace (`unshare -n` as root, `unshare -rn` otherwise) with loopback up,
so the servers it starts and the traffic it captures touch nothing else.
Every tool an oracle needs is required: a missing one fails the test with the
Debian package to install (.ci/quickstart installs them all)."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

from nctest import *

TSHARK_REASSEMBLY = ["-o", "tcp.desegment_tcp_streams:TRUE", "-o", "http.desegment_body:TRUE",
                     "-o", "http.desegment_headers:TRUE"]


def need_tools(tools):
    """tools: {program: debian package}. Fails on the first missing one."""
    for prog, pkg in tools.items():
        check(shutil.which(prog), f"{prog} is missing (Debian package {pkg}; .ci/quickstart installs it)")


def in_namespace():
    """Re-executes this script in a fresh network namespace, once."""
    if os.environ.get("NC_ORACLE_INNER") == "1":
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        # On loopback a packet is received on the CPU that sent it. When a
        # busy machine moves a sender between CPUs, two CPUs' backlogs deliver
        # its segments in parallel and out of order: tshark then flags a
        # "lost" segment that arrives later, and the capture is no oracle.
        # Every program of the test (servers, clients, tcpdump) inherits one
        # CPU from here.
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        return
    need_tools({"unshare": "util-linux", "ip": "iproute2"})
    flags = "-n" if os.geteuid() == 0 else "-rn"
    env = dict(os.environ, NC_ORACLE_INNER="1")
    p = subprocess.run(["unshare", flags, sys.executable] + sys.argv, env=env)
    sys.exit(p.returncode)


class Capture:
    """tcpdump on lo into path, from start() until stop()."""

    def __init__(self, path, port_filter):
        self.path, self.filter, self.p = path, port_filter, None

    def start(self):
        self.p = subprocess.Popen(["tcpdump", "-i", "lo", "--immediate-mode", "-U", "-B", "32768", "-s", "0", "-n", "-Z", "root",
                                   "-w", self.path, self.filter],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        # tcpdump says "listening on lo" once its socket is ready.
        line = self.p.stderr.readline()
        check("listening" in line, f"tcpdump did not start: {line.strip()}")
        return self

    def stop(self):
        # tcpdump writes each packet as it reads it (-U); on a busy machine
        # it may lag behind the traffic. Stop once the file has stopped
        # growing for a second (at most 30 s), so no last segment is lost.
        last, still = -1, 0
        for _ in range(150):
            size = os.path.getsize(self.path) if os.path.exists(self.path) else 0
            still = still + 1 if size == last else 0
            if still >= 5:
                break
            last = size
            time.sleep(0.2)
        self.p.send_signal(signal.SIGINT)
        self.p.wait(timeout=20)
        rest = self.p.stderr.read()
        check(os.path.getsize(self.path) > 24, f"tcpdump captured nothing: {rest.strip()}")


def retry_if_lossy(path):
    """A capture that missed segments is no oracle: tshark flags a hole, or a
    connection lacks its FINs (in_namespace explains the usual cause). Then
    the whole test runs again (in the same namespace, its servers stopped),
    three times at most."""
    p = subprocess.run(["tshark", "-r", path, "-Y",
                        "tcp.analysis.lost_segment || tcp.analysis.ack_lost_segment"],
                       capture_output=True, text=True, timeout=120)
    missing = p.stdout.strip()
    # Every connection of these tests ends, with a FIN each way or a reset
    # (a server's readiness probe): one that does not lost its end.
    p = subprocess.run(["tshark", "-r", path, "-T", "fields", "-e", "tcp.stream", "-e",
                        "tcp.flags.fin", "-e", "tcp.flags.reset"],
                       capture_output=True, text=True, timeout=120)
    ends = {}
    for line in p.stdout.splitlines():
        cols = line.split("\t")
        if len(cols) == 3 and cols[0]:
            fin, rst = cols[1] in ("1", "True"), cols[2] in ("1", "True")
            ends[cols[0]] = ends.get(cols[0], 0) + (2 if rst else 1 if fin else 0)
    unclosed = [st for st, n in ends.items() if n < 2]
    if not missing and not unclosed:
        return
    n = int(os.environ.get("NC_ORACLE_ATTEMPT", "1"))
    check(n < 3, f"tcpdump missed segments in {n} captures running:\n{missing[:600]}"
                 f"\nstreams without both FINs: {unclosed}")
    print(f"note: capture {n} missed segments; capturing again", file=sys.stderr)
    os.environ["NC_ORACLE_ATTEMPT"] = str(n + 1)
    sys.stdout.flush()
    os.execv(sys.executable, [sys.executable] + sys.argv)


def wait_listening(port, proc, what):
    """Waits until something accepts on 127.0.0.1:port; fails if proc (the
    server) exits or ten seconds pass."""
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if proc.poll() is not None:
                fail(f"{what} exited: {proc.stderr.read()[:500]}")
            time.sleep(0.05)
    fail(f"{what} is not listening on port {port}")


def netcourse_packets(path, keylog=None):
    """The packet events of `netcourse replay path --json` (with --keylog
    when one is given), each with "frame": its frame number as tshark counts
    (a saved run also holds other events)."""
    rc, out, err = run(["replay", path, *(["--keylog", keylog] if keylog else []), "--json"],
                       timeout=120)
    check(rc == 0, f"netcourse replay {path} --json exited {rc}: {err.strip()}")
    packets = [e for e in map(json.loads, out.splitlines()) if e["type"] == "packet"]
    for n, e in enumerate(packets, 1):
        e["frame"] = n
    return packets


def http_messages(path):
    """netcourse's HTTP messages in path: (frame, conversation, "request",
    method, URI, body length) or (frame, conversation, "response", status,
    None, body length), in order; and how many were chunked with two chunks
    or more."""
    out, chunked = [], 0
    for ev in netcourse_packets(path):
        if "http" not in ev:
            continue
        conv = tuple(sorted([ev["tcp"]["sport"], ev["tcp"]["dport"]]))
        for m in layer_list(ev, "http"):
            if m.get("other_direction"):
                continue
            if m["request"]:
                out.append((ev["frame"], conv, "request", m["method"], m["target"], m["body_len"]))
            elif m.get("event_stream"):
                # A deliberate difference: netcourse reports an event
                # stream's head when its headers end (its events follow as
                # SSE messages); tshark reports the response once its body
                # ends, which an unending stream never does. Neither side
                # counts event streams (see tshark_http_messages).
                continue
            else:
                out.append((ev["frame"], conv, "response", m["status"], None, m.get("body_len", 0)))
                chunked += bool(m.get("chunked")) and len(m.get("chunks", [])) >= 2
    return out, chunked


def tshark_http_messages(path, extra=(), skip_conv=None):
    """tshark's HTTP messages in path, in the shape of http_messages(); the
    body length is tshark's File Data, or the sum of its chunk sizes for a
    compressed body it was told not to inflate."""
    out = []
    for num, protos in tshark_pdml(path, ["-o", "http.decompress_body:FALSE", *extra]):
        conv = tcp_conversation(protos)
        if conv == skip_conv:
            continue
        for p in protos:
            if p.get("name") != "http":
                continue
            data = fields(p, "http.file_data")
            chunks = [int(f.get("show")) for f in fields(p, "http.chunk_size")]
            body = int(data[0].get("size")) if data else sum(chunks)
            method = first_show(p, "http.request.method")
            if method is not None:
                out.append((num, conv, "request", method, first_show(p, "http.request.uri"), body))
            elif (first_show(p, "http.content_type") or "").startswith("text/event-stream"):
                continue  # an event stream: see http_messages
            elif first_show(p, "http.response.code", int) is not None:
                out.append((num, conv, "response", first_show(p, "http.response.code", int), None,
                            body))
            # else a "Continuation": bytes tshark could not place in a message
    return out


def tcp_conversation(protos):
    """The sorted port pair of a PDML packet's TCP layer, or None."""
    for p in protos:
        if p.get("name") == "tcp":
            return tuple(sorted([first_show(p, "tcp.srcport", int), first_show(p, "tcp.dstport", int)]))
    return None


def layer_list(ev, name):
    """A layer's messages in a packet event: none, one object or a list."""
    v = ev.get(name)
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def tshark_pdml(path, extra=()):
    """Runs tshark on path with reassembly on and returns the PDML packets:
    a list of (frame number, [proto elements])."""
    cmd = ["tshark", "-r", path, "-T", "pdml", *TSHARK_REASSEMBLY, *extra]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    check(p.returncode == 0, f"tshark exited {p.returncode}: {p.stderr.strip()[:500]}")
    root = ET.fromstring(p.stdout)
    out = []
    for pkt in root.iter("packet"):
        num = None
        protos = []
        for proto in pkt.findall("proto"):
            if proto.get("name") == "geninfo":
                for f in proto.iter("field"):
                    if f.get("name") == "num":
                        num = int(f.get("show"))
            protos.append(proto)
        out.append((num, protos))
    return out


def fields(proto, name):
    """Every field called name under a PDML proto element, in order."""
    return [f for f in proto.iter("field") if f.get("name") == name]


def first_show(proto, name, conv=str):
    f = fields(proto, name)
    return conv(f[0].get("show")) if f else None


def same_as_tshark(ours, theirs, what, width):
    """Fails, showing both lists side by side, unless they are equal."""
    if ours == theirs:
        return
    lines = [f"{'netcourse':{width}} | tshark"]
    for k in range(max(len(ours), len(theirs))):
        a = str(ours[k]) if k < len(ours) else "-"
        b = str(theirs[k]) if k < len(theirs) else "-"
        lines.append(f"{a:{width}} | {b}{'' if a == b else '   <--'}")
    fail(f"{what} differ from tshark's:\n" + "\n".join(lines))


def tls_rows(packets):
    """netcourse's TLS per packet: (frame, record content types, TLS 1.3
    opaque types, handshake types) for every packet with a TLS record,
    packets being replay's packet events in frame order."""
    rows = []
    for n, ev in enumerate(packets, 1):
        ct, op, hs = [], [], []
        for m in layer_list(ev, "tls"):
            if m.get("other_direction") or m.get("incomplete"):
                continue
            if not m.get("same_record"):
                ct += [m["record"]["content_type"]] if "content_type" in m["record"] else []
                op += [m["record"]["opaque_type"]] if "opaque_type" in m["record"] else []
            hs += [m["handshake"]["type"]] if "handshake" in m else []
        if ct or op or hs:
            rows.append((n, ct, op, hs))
    return rows


def tshark_tls_rows(path, extra=(), more=()):
    """tshark's TLS per packet in the shape of tls_rows(), with TCP
    reassembly on; and the values of the fields in more, per frame
    ({frame: [value, ...]}, empty ones left out)."""
    p = subprocess.run(["tshark", "-r", path, *TSHARK_REASSEMBLY, *extra, "-T", "fields",
                        "-E", "separator=/t", "-e", "frame.number", "-e", "tls.record.content_type",
                        "-e", "tls.record.opaque_type", "-e", "tls.handshake.type",
                        *[a for f in more for a in ("-e", f)]],
                       capture_output=True, text=True, timeout=300)
    check(p.returncode == 0, f"tshark exited {p.returncode}: {p.stderr[-500:]}")
    rows, values = [], {}
    for line in p.stdout.splitlines():
        cols = (line.split("\t") + [""] * (4 + len(more)))[:4 + len(more)]
        ct, op, hs = ([int(v) for v in c.split(",") if v] for c in cols[1:4])
        if ct or op or hs:
            rows.append((int(cols[0]), ct, op, hs))
        got = [v for v in cols[4:] if v]
        if got:
            values[int(cols[0])] = got
    return rows, values


def h2_rows(packets):
    """netcourse's HTTP/2 per packet, packets being replay's packet events
    in frame order (each with "frame"): {frame: ([(http2.type,
    http2.streamid)], [header names], gRPC messages)} for every packet with
    a frame, a header or a gRPC message; the preface is not a frame."""
    rows = {}
    for ev in packets:
        h2 = [m for m in layer_list(ev, "http2") if not m.get("other_direction")]
        g = [m for m in layer_list(ev, "grpc") if not m.get("other_direction")]
        t = [(m["type"], m["streamid"]) for m in h2 if "magic" not in m]
        names = [h["name"] for m in h2 for h in m.get("header", [])]
        n = sum(1 for m in g if "message_length" in m)
        if t or names or n:
            rows[ev["frame"]] = (t, names, n)
    return rows


def tshark_h2_rows(path, ports=(), keylog=None):
    """tshark's HTTP/2 per packet in the shape of h2_rows(), with TCP
    reassembly on, the given TCP ports decoded as HTTP/2 (h2c on a port
    tshark does not guess), and a key log for TLS."""
    extra = [a for port in ports for a in ("-d", f"tcp.port=={port},http2")]
    if keylog:
        extra += ["-o", f"tls.keylog_file:{keylog}"]
    p = subprocess.run(["tshark", "-r", path, *TSHARK_REASSEMBLY, *extra, "-T", "fields",
                        "-E", "aggregator=|", "-e", "frame.number", "-e", "http2.type",
                        "-e", "http2.streamid", "-e", "http2.header.name",
                        "-e", "grpc.message_length"],
                       capture_output=True, text=True, timeout=300)
    check(p.returncode == 0, f"tshark exited {p.returncode}: {p.stderr[:500]}")
    rows = {}
    for line in p.stdout.splitlines():
        c = line.split("\t") + [""] * 5
        if not (c[1] or c[3] or c[4]):
            continue
        ty = [int(x) for x in c[1].split("|")] if c[1] else []
        sid = [int(x) for x in c[2].split("|")] if c[2] else []
        rows[int(c[0])] = (list(zip(ty, sid)), c[3].split("|") if c[3] else [],
                           len(c[4].split("|")) if c[4] else 0)
    return rows


def same_h2_as_tshark(ours, theirs, what):
    """Compares h2_rows() with tshark_h2_rows() frame by frame; returns the
    number of HTTP/2 frames tshark saw."""
    keys = sorted(set(ours) | set(theirs))
    same_as_tshark([(k,) + ours.get(k, ([], [], 0)) for k in keys],
                   [(k,) + theirs.get(k, ([], [], 0)) for k in keys], what, 90)
    return sum(len(v[0]) for v in theirs.values())
