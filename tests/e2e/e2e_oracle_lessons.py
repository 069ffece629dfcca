"""The lessons' saved runs: every lesson `netcourse list` shows is run
headless with --save, and the HTTP/1 messages `netcourse replay` finds in
the saved file agree with tshark's (TCP and HTTP reassembly on) for frame,
method, URI, status and body length; a lesson with no HTTP has none on
either side. And every field of the runs' state, mark and note events is
in src/core/schema.c, which the lesson loader checks matchers against.

The HTTP lessons must hold what they are about, in tshark's reading too
(HTTP_LESSONS below: the messages each needs), and a lesson's comparison
note (src/scenario/compare.c) must agree with tshark on the saved file: for
each way, the requests and answers tshark finds on that program's
connections, and the sum of their frames' lengths (bytes on the wire).
tshark is required (.ci/quickstart test_pkgs)."""
import os
import re
import shutil
import subprocess
import tempfile

from oraclelib import *

need_tools({"tshark": "tshark"})
need_lab()
tmp = tempfile.mkdtemp(prefix="nc-oracle-lessons-")
data_dir = os.path.join(tmp, "data")
rc, out, err = run(["list"], data_dir=data_dir)
check(rc == 0, f"netcourse list exited {rc}: {err.strip()}")
lessons = [line.split()[1] for line in out.splitlines()
           if len(line.split()) > 1 and line.split()[0].isdigit()]
check(len(lessons) >= 7, f"netcourse list shows {lessons}")
src = os.environ.get("NC_SOURCE_DIR", ".")
with open(os.path.join(src, "src", "core", "schema.c")) as f:
    schema = set(re.findall(r'\{NC_EV_(STATE|MARK|NOTE), "([a-z_0-9.]+)"\}', f.read()))
COMMON = {"i", "t", "type", "host", "summary", "note"}
# What each HTTP lesson's run must hold, as tshark reads the saved file:
# (kind, method or status, URI or None, at least this many).
HTTP_LESSONS = {
    "short-polling": [("request", "POST", "/jobs", 1), ("response", 202, None, 1),
                      ("request", "GET", "/jobs/1", 3)],
    "long-polling": [("request", "POST", "/jobs", 2), ("request", "GET", "/jobs/2?wait=1", 2)],
    "http1": [("request", "GET", "/index.html", 3), ("request", "GET", "/style.css", 3),
              ("request", "GET", "/logo.png", 3), ("request", "GET", "/news", 1)],
}


def frame_lengths(path):
    """(port pair, frame length) of every TCP or UDP frame of a saved run, by
    tshark."""
    p = subprocess.run(["tshark", "-r", path, "-T", "fields", "-e", "tcp.srcport", "-e",
                        "tcp.dstport", "-e", "udp.srcport", "-e", "udp.dstport", "-e",
                        "frame.len"], capture_output=True, text=True, timeout=120)
    check(p.returncode == 0, f"tshark exited {p.returncode}: {p.stderr.strip()[:300]}")
    out = []
    for line in p.stdout.splitlines():
        cols = line.split("\t")
        if len(cols) != 5:
            continue
        sport, dport = (cols[0], cols[1]) if cols[0] else (cols[2], cols[3])
        if sport:
            out.append(((int(sport), int(dport)), int(cols[4])))
    return out


def h3_frames(path):
    """tshark's HTTP/3 reading of a saved run (QUIC decrypted with the run's
    own secrets): (port pair, streams) for each direction's HTTP/3 HEADERS.
    tshark 4.0 has no QPACK, so a request is a HEADERS frame from the
    client's port and an answer one towards it (the kit's answers carry no
    trailers). A packet sent again for a loss repeats its stream's HEADERS,
    which tshark reads again: each (direction, stream) counts once. The
    kit's packets hold one stream's frames each, or only HEADERS."""
    p = subprocess.run(["tshark", "-r", path, "-Y", "http3.frame_type == 1", "-T", "fields",
                        "-E", "aggregator=|", "-e", "udp.srcport", "-e", "udp.dstport", "-e",
                        "quic.stream.stream_id"], capture_output=True, text=True, timeout=120)
    check(p.returncode == 0, f"tshark exited {p.returncode}: {p.stderr.strip()[:300]}")
    seen = set()
    for line in p.stdout.splitlines():
        c = line.split("\t") + ["", ""]
        if c[0] and c[2]:
            seen |= {((int(c[0]), int(c[1])), int(sid)) for sid in c[2].split("|")}
    return [(pair, 1) for pair, _ in seen]


def h2_frames(path, ports):
    """tshark's HTTP/2 reading of the connections on ports (decoded as HTTP,
    which follows the preface): (port pair, requests, ended messages) per
    frame, a request being a header block with :method, an ended message
    a HEADERS or DATA frame with END_STREAM."""
    if not ports:
        return []
    extra = [a for p in sorted(ports) for a in ("-d", f"tcp.port=={p},http")]
    p = subprocess.run(["tshark", "-r", path, "-o", "tcp.desegment_tcp_streams:TRUE", *extra,
                        "-T", "fields", "-E", "aggregator=|", "-e", "tcp.srcport", "-e",
                        "tcp.dstport", "-e", "http2.type", "-e", "http2.flags", "-e",
                        "http2.header.name"], capture_output=True, text=True, timeout=120)
    check(p.returncode == 0, f"tshark exited {p.returncode}: {p.stderr.strip()[:300]}")
    out = []
    for line in p.stdout.splitlines():
        c = line.split("\t") + ["", "", ""]
        if not c[0] or not c[2]:
            continue
        types = [int(t) for t in c[2].split("|")]
        flags = [int(f, 0) for f in c[3].split("|")]
        ended = sum(1 for t, f in zip(types, flags) if t in (0, 1) and f & 1)
        out.append(((int(c[0]), int(c[1])), c[4].split("|").count(":method"), ended))
    return out


def check_comparison(lesson, events, saved, theirs):
    """Each way of the run's comparison note, against tshark's reading
    (HTTP/1 messages, HTTP/2 requests and ended streams, HTTP/3 HEADERS)."""
    h2_ports = {p for e in events if e["type"] == "packet" and "http2" in e
                for p in (e["tcp"]["sport"], e["tcp"]["dport"]) if p < 32768}
    h2 = h2_frames(saved, h2_ports)
    h3 = h3_frames(saved) if any("quic" in e for e in events if e["type"] == "packet") else []
    lengths = None
    for note in (e for e in events if e["type"] == "note" and "compare" in e):
        lengths = lengths or frame_lengths(saved)
        for way in note["ways"]:
            ports = {e["port"] for e in events if e["type"] == "app"
                     and e.get("program") == way["program"] and e.get("port")}
            mine = [m for m in theirs if set(m[1]) & ports]
            got = (sum(1 for m in mine if m[2] == "request") +
                   sum(rq for pair, rq, _ in h2 if pair[0] in ports) +
                   sum(n for pair, n in h3 if pair[0] in ports),
                   sum(1 for m in mine if m[2] == "response") +
                   sum(rs for pair, _, rs in h2 if pair[1] in ports) +
                   sum(n for pair, n in h3 if pair[1] in ports),
                   sum(n for pair, n in lengths if set(pair) & ports))
            want = (way["requests"], way["answers"], way["bytes"])
            # A QUIC way's closing exchange (CONNECTION_CLOSE, a last ACK)
            # is not awaited by the kit's client and may reach the wire
            # after the note was made: its bytes are not compared.
            if any(pair for pair, _ in h3 if set(pair) & ports):
                got, want = got[:2], want[:2]
            check(got == want, f"{lesson}: comparison {note['compare']}, {way['label']}: the note "
                               f"says requests, answers, bytes = {want}; tshark reads {got}")
            said = f"{want[2]} bytes" if len(want) == 3 else "bytes not compared"
            print(f"  {lesson} {way['label']}: {want[0]} requests, {want[1]} answers, "
                  f"{said}, as tshark reads them")


total = 0
for lesson in lessons:
    saved = os.path.join(tmp, lesson + ".pcapng")
    events = run_json(lesson, extra=["--save", saved], data_dir=data_dir)
    for ev in events:
        if ev["type"] in ("state", "mark", "note"):
            for key in set(ev) - COMMON:
                check((ev["type"].upper(), key) in schema,
                      f"{lesson}: a {ev['type']} event has \"{key}\", which src/core/schema.c "
                      f"does not declare (a lesson could not match on it): {ev}")
    ours, chunked = http_messages(saved)
    # tshark finds HTTP on port 80 by itself; tell it about any other port
    # netcourse found HTTP on, except under TLS: there tshark finds TLS by
    # itself, decrypts it with the saved run's secrets, and ALPN names HTTP.
    tls_ports = {p for e in events if e["type"] == "packet" and "tls" in e
                 for p in (e["tcp"]["sport"], e["tcp"]["dport"])}
    ports = sorted({p for m in ours for p in m[1] if p != 80 and p < 32768} - tls_ports)
    extra = [a for p in ports for a in ("-d", f"tcp.port=={p},http")]
    theirs = tshark_http_messages(saved, extra)
    same_as_tshark(ours, theirs, f"{lesson}: HTTP messages", 60)
    for kind, what, uri, least in HTTP_LESSONS.get(lesson, []):
        n = sum(1 for m in theirs if m[2] == kind and m[3] == what and (uri is None or m[4] == uri))
        check(n >= least, f"{lesson}: tshark finds {n} {kind}s {what} {uri or ''}, the lesson "
                          f"needs at least {least}")
    if lesson in HTTP_LESSONS:
        check(chunked or lesson != "http1", f"{lesson}: no chunked answer with its chunk sizes")
    check_comparison(lesson, events, saved, theirs)
    total += len(ours)
check(total >= 2, f"the lessons' runs held only {total} HTTP messages")
missing = sorted(set(HTTP_LESSONS) - set(lessons))
check(not missing, f"netcourse list does not show the HTTP lessons {missing}")
shutil.rmtree(tmp, ignore_errors=True)
print(f"ok: {len(lessons)} lessons' saved runs, {total} HTTP messages agree with tshark")
