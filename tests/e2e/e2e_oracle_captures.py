"""HTTP/1 messages in every capture we keep (tests/decode/pcaps) and every
shared one (../shared/captures/tcpdump) agree with tshark's, TCP and HTTP
reassembly on, for frame, method, URI, status and body length. An IPv4 total
length of 0 (TSO) must not hide an HTTP POST. Where netcourse differs on
purpose, the capture is named below with the reason, and only the messages
that both show are compared there. tshark is required (.ci/quickstart)."""
# ctest: nolab timeout=600
import glob
import os

from oraclelib import *

need_tools({"tshark": "tshark"})
src = os.environ.get("NC_SOURCE_DIR", ".")
caps = os.environ.get("NC_CAPTURES") or os.path.join(src, "..", "shared", "captures")
files = sorted(glob.glob(os.path.join(caps, "tcpdump", "*")))
check(files, f"no shared captures in {caps}/tcpdump")
files += sorted(glob.glob(os.path.join(src, "tests", "decode", "pcaps", "*.pcap")))

# Deliberate differences (README.md, "Where netcourse and tshark differ"):
DIFFER = {
    # A response whose middle was never captured: netcourse shows it with
    # gap_bytes; tshark cannot reassemble it and shows nothing.
    "stream_reorder.pcap": "a response with bytes never captured",
    # An event stream's response head is shown when its headers arrive;
    # tshark shows it when the body ends.
    "stream_sse.pcap": "an event stream's head is shown at once",
    # A capture that begins inside a body that holds a request line:
    # netcourse waits for a segment that starts a message.
    "stream_midstream.pcap": "a body met in the middle is not a request",
    # Responses to HEAD, pipelined and retransmitted: tshark 4.0 gives them
    # the body their Content-Length announces and swallows the next response
    # (as e2e_oracle_http shows against nginx).
    "notes_truth.pcap": "tshark reads a body after a HEAD response",
}

total = 0
for path in files:
    rc, out, err = run(["replay", path, "--json"], timeout=120)
    if rc != 0:
        continue  # a link type netcourse refuses clearly (e2e_captures checks that)
    ours, _ = http_messages(path)
    theirs = tshark_http_messages(path)
    name = os.path.basename(path)
    if name in DIFFER:
        both = [m for m in ours if m in theirs]
        check(len(both) >= 2, f"{name}: only {len(both)} messages in common")
        continue
    same_as_tshark(ours, theirs, f"{name}: HTTP messages", 60)
    total += len(ours)
post = [m for m in http_messages(os.path.join(src, "tests", "decode", "pcaps", "notes_truth.pcap"))[0]
        if m[3] == "POST"]
check(post, "notes_truth.pcap: the POST behind an IPv4 total length of 0 is missing")
check(total >= 20, f"only {total} HTTP messages compared")
print(f"ok: {total} HTTP messages in {len(files)} captures agree with tshark")
