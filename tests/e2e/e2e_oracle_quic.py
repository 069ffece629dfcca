# ctest: nolab timeout=600
"""QUIC and HTTP/3 agree with tshark given the same key log, packet by
packet, on captures this test makes on loopback in a network namespace of
its own: Debian's ngtcp2 example server and client over GnuTLS
(gtlsserver, gtlsclient), HTTP/3 with several requests on one connection,
the client writing its secrets through SSLKEYLOGFILE.

- A clean run: four requests (a small file, a 100 kB one, a 20-byte one,
  the small one again), the client updating its keys after 1 ms (a key
  phase change: netcourse moves to the next generation of 1-RTT keys).
- A 0-RTT run: a second connection resumes the first one's session and
  sends its request as 0-RTT data, decrypted with the client's early
  traffic secret.
- A lossy run: the client drops a tenth of what it receives
  (gtlsclient --rx-loss), after the capture saw it, so the server sends
  the lost frames again in new packets.

On every packet: the frame types of all its QUIC packets (quic.frame_type)
and the stream ids of its STREAM frames (quic.stream.stream_id), and the
HTTP/3 frame types (http3.frame_type) and unidirectional stream types
(http3.stream_type), with two deliberate differences (README, "tshark
differences"): netcourse reports an HTTP/3 frame once, in the packet whose
bytes complete it, and not again when a retransmission carries its bytes
again; tshark 4.0 reports only HTTP/3 frames held whole by one STREAM
frame, and reports them again in a retransmission.

Also checks what tshark does not say: the Initial packets decrypted from
the DCID alone (without the key log too), the ClientHello's SNI and ALPN,
HEADERS decoded through QPACK with the request's :method and :path, a
header block smaller than its decoded size, and in the lossy run STREAM
frames that name the earlier, unacknowledged packet whose data they carry
again, with the annotation saying so.

tshark, tcpdump, ethtool, ngtcp2-client and ngtcp2-server are required
(.ci/quickstart test_pkgs). UDP segmentation offload is turned off on the
namespace's loopback so that each QUIC datagram is captured as sent (with
it, tcpdump sees one 40 kB "datagram" that neither decoder can read)."""
import json
import os
import shutil
import subprocess
import tempfile

from oraclelib import *
from quiclib import *

need_tools({"tshark": "tshark", "tcpdump": "tcpdump", "openssl": "openssl",
            "gtlsserver": "ngtcp2-server", "gtlsclient": "ngtcp2-client", "ethtool": "ethtool"})
in_namespace()
subprocess.run(["ethtool", "-K", "lo", "tx-udp-segmentation", "off"], capture_output=True)

PORT = 4433
tmp = tempfile.mkdtemp(prefix="nc-oracle-quic-")
key, cert = os.path.join(tmp, "key.pem"), os.path.join(tmp, "cert.pem")
subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost"],
               check=True, capture_output=True)
www = os.path.join(tmp, "www")
os.mkdir(www)
for name, size in (("a", 3000), ("big", 100000), ("tiny", 20)):
    with open(os.path.join(www, name), "wb") as f:
        f.write(bytes((i * 13) & 0xff for i in range(size)))


class QuicCapture(Capture):
    """tcpdump with a small snap length and a large buffer: with -s 0 each
    slot of the capture ring is 256 kB and a burst of QUIC datagrams on
    loopback overflows it (the 100 kB answer lost half its packets)."""

    def start(self):
        self.p = subprocess.Popen(["tcpdump", "-i", "lo", "--immediate-mode", "-U", "-s", "2048",
                                   "-B", "16384", "-n", "-Z", "root", "-w", self.path, self.filter],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        line = self.p.stderr.readline()
        check("listening" in line, f"tcpdump did not start: {line.strip()}")
        return self


def capture_run(name, client_args, paths=("a", "big", "tiny", "a"), prime=False):
    """Captures one connection; returns (pcap path, key log path). prime:
    a first connection, not captured, leaves a session ticket and transport
    parameters for the captured one to resume with (0-RTT)."""
    path, keylog = os.path.join(tmp, f"{name}.pcap"), os.path.join(tmp, f"{name}.keys")
    srv = subprocess.Popen(["gtlsserver", "-q", "-d", www, "127.0.0.1", str(PORT), key, cert],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"https://127.0.0.1:{PORT}"
    client = ["gtlsclient", "-q", "--exit-on-all-streams-close", *client_args, "127.0.0.1",
              str(PORT), *[f"{base}/{p}" for p in paths]]
    if prime:
        p = subprocess.run(client, capture_output=True, timeout=60)
        check(p.returncode == 0, f"gtlsclient (the priming connection) failed: {p.stderr[-400:]!r}")
    cap = QuicCapture(path, f"udp port {PORT}").start()
    try:
        p = subprocess.run(client, capture_output=True, timeout=60,
                           env=dict(os.environ, SSLKEYLOGFILE=keylog))
        check(os.path.exists(keylog) and os.path.getsize(keylog) > 0,
              f"gtlsclient wrote no key log (exit {p.returncode}): {p.stderr[-400:]!r}")
    finally:
        cap.stop()
        srv.terminate()
        srv.wait(timeout=10)
    return path, keylog


clean, clean_keys = capture_run("clean", ["--key-update=1ms"])
n1, h3s, quics, evs = compare("clean run", clean, clean_keys)
check(n1 >= 60, f"tshark saw only {n1} QUIC frames in the clean run")

initial = [q for _, q in quics if q.get("packet_type_name") == "Initial" and q.get("from_client")]
check(initial and initial[0].get("decrypted") and initial[0].get("keys") == "initial",
      f"the client's first Initial was not decrypted: {initial[:1]}")
check(initial[0].get("sni") == "localhost" and initial[0].get("alpn") == "h3",
      f"the ClientHello's SNI/ALPN: {initial[0].get('sni')}, {initial[0].get('alpn')}")
levels = {q.get("keys") for _, q in quics if q.get("decrypted")}
check({"initial", "handshake", "1-RTT"} <= levels, f"keys used: {levels}")
gens = {(q.get("from_client"), q.get("key_generation", 0)) for _, q in quics if q.get("keys") == "1-RTT"}
check((True, 1) in gens, f"no client packet after the key update was decrypted: {gens}")
undecrypted = [(n, q.get("undecrypted")) for n, q in quics if not q.get("decrypted")]
check(not undecrypted, f"QUIC packets left encrypted: {undecrypted[:5]}")
reqs = [m for m in h3s if m.get("frame_type") == 1 and m.get("method")]
check(sorted(m["path"] for m in reqs) == ["/a", "/a", "/big", "/tiny"],
      f"the requests' :path: {[m.get('path') for m in reqs]}")
heads = [m for m in h3s if m.get("frame_type") == 1]
check(all(not m.get("qpack_failed") and m["header_block_len"] < m["header_list_size"] for m in heads),
      f"a header block did not decode smaller than its size: {heads[:2]}")
check(any(m.get("status") == "200" for m in heads), "no response HEADERS with :status 200")
names = {h["name"] for m in heads for h in m.get("header", [])}
check({":method", ":path", ":scheme", ":authority", ":status"} <= names, f"header names: {names}")
check({0, 2, 3} <= {m.get("stream_type") for m in h3s}, "control and QPACK streams not named")
datas = sum(m.get("frame_length", 0) for m in h3s if m.get("frame_type") == 0)
check(datas == 3000 + 100000 + 20 + 3000,
      f"DATA frames carry {datas} bytes: {[(m['stream_id'], m['frame_length']) for m in h3s if m.get('frame_type') == 0]} (kept in {tmp})")

# Without the key log: the Initial packets still open, the rest do not.
rows, _, q2, _ = ours(clean, None)
check(any(q.get("decrypted") and q.get("keys") == "initial" for _, q in q2),
      "without a key log, the Initial packets were not decrypted from the DCID")
check(not any(q.get("keys") in ("handshake", "1-RTT") for _, q in q2),
      "without a key log, Handshake or 1-RTT packets were decrypted")

lossy, lossy_keys = capture_run("lossy", ["--rx-loss=0.1"])
n2, h3s, quics, evs = compare("lossy run", lossy, lossy_keys)
linked = [(n, f) for n, q in quics for f in q.get("frame", []) if "retransmission_of" in f]
check(linked, "no frame of the lossy run names the packet it was first sent in")
unacked = [(n, f) for n, f in linked if not f["retransmission_of"]["acked"]]
check(unacked, "no retransmitted frame names an unacknowledged earlier packet")
n, f = unacked[0]
note = evs[n - 1].get("note", "")
pn = f["retransmission_of"]["packet_number"]
check(f"packet {pn}" in note and "again" in note, f"the note of packet {n} does not say so: {note!r}")
# 0-RTT: a connection that resumes a session sends its request in its first
# flight, in a 0-RTT packet beside the Initial.
ticket, tp = os.path.join(tmp, "session.pem"), os.path.join(tmp, "tp.txt")
early, early_keys = capture_run("early", [f"--session-file={ticket}", f"--tp-file={tp}"],
                                paths=("tiny",), prime=True)
n3, h3s, quics, evs = compare("0-RTT run", early, early_keys)
zero = [(n, q) for n, q in quics if q.get("packet_type_name") == "0-RTT"]
check(zero and all(q.get("keys") == "0-RTT" for _, q in zero),
      f"0-RTT packets not decrypted with the early traffic secret: {zero[:2]}")
check(any(m.get("path") == "/tiny" for m in h3s if m.get("frame_type") == 1),
      "the request sent as 0-RTT was not decoded")
check("0-RTT packet" in evs[zero[0][0] - 1].get("note", ""), "no note on the 0-RTT packet")
shutil.rmtree(tmp, ignore_errors=True)

print(f"ok: {n1} and {n2} QUIC frames agree with tshark (types, stream ids, HTTP/3 frames); "
      f"{len(linked)} retransmitted frames linked to their first packet")
