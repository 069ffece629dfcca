# ctest: timeout=300
"""QUIC and HTTP/3 of lesson 19 (http3) agree with tshark on the lesson's
saved run, packet by packet, with no key file on either side: the run
carries its secrets in a Decryption Secrets Block. Compared as in
e2e_oracle_quic.py (quiclib.py): quic.frame_type and quic.stream.stream_id
on every packet, http3.frame_type and http3.stream_type with the README's
deliberate differences.

Also what tshark does not say: the wire dropped one of the server's answer
packets (a scripted fault of the lesson); the server's later STREAM frame
that carries the lost bytes again names the dropped packet's number
(retransmission_of) and that it was never acknowledged, the note says
"Sent again", and the four requests' HEADERS decode through QPACK with
their paths. tshark is required (.ci/quickstart test_pkgs)."""
import os
import shutil
import tempfile

from nctest import *
from quiclib import *

need_lab()
check(shutil.which("tshark"), "tshark is missing (Debian package tshark; .ci/quickstart installs it)")
tmp = tempfile.mkdtemp(prefix="nc-e2e-oracle-quic-lesson-")
saved = os.path.join(tmp, "http3.pcapng")
events = run_json("http3", extra=("--save", saved), data_dir=tmp)
nframes, h3s, quics, evs = compare("lesson http3", saved, None)
check(nframes >= 30, f"tshark saw only {nframes} QUIC frames in the lesson's run")

dropped = [(n, e) for n, e in enumerate(evs, 1) if e.get("dropped") and "quic" in e]
check(len(dropped) == 1, f"expected one dropped QUIC packet, got {[n for n, _ in dropped]}")
n_drop, drop = dropped[0]
lost = listed(drop["quic"])
lost_pns = {q["packet_number"] for q in lost if "packet_number" in q}
lost_streams = {f["stream"]["stream_id"] for q in lost for f in q.get("frame", []) if "stream" in f}
check(lost_pns and lost_streams, f"the dropped packet was not decrypted: {lost}")
again = [(n, f) for n, q in quics if n > n_drop for f in q.get("frame", [])
         if f.get("retransmission_of", {}).get("packet_number") in lost_pns and "stream" in f]
check(again, f"no later frame names the dropped packet {sorted(lost_pns)}")
n, f = again[0]
check(not f["retransmission_of"]["acked"] and f["stream"]["stream_id"] in lost_streams,
      f"packet {n}'s frame {f} should carry the dropped stream's bytes, never acknowledged")
note = evs[n - 1].get("note", "")
check("Sent again" in note and f"packet {f['retransmission_of']['packet_number']}" in note,
      f"packet {n}'s note does not say it is sent again: {note!r}")
paths = sorted(m.get("path") for m in h3s if m.get("frame_type") == 1 and m.get("method"))
check(paths == ["/img1.jpg", "/img2.jpg", "/main.css", "/main.js"], f"HTTP/3 request paths: {paths}")
shutil.rmtree(tmp, ignore_errors=True)
print(f"ok: {nframes} QUIC frames of the lesson's saved run agree with tshark; the dropped packet "
      f"{sorted(lost_pns)} (stream {sorted(lost_streams)}) is named by packet {n}'s frame sent again")
