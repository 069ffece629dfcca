# ctest: timeout=300
"""Lesson 15, TLS 1.2 and TLS 1.3, run headless with --json --save, read
from the run's own events:

- each version's handshake, message by message (tls.handshake.type in
  order), and its round trips: 2 for TLS 1.2, 1 for TLS 1.3;
- the key exchange: TLS 1.2 puts the public values in ServerKeyExchange and
  ClientKeyExchange (no key_share), TLS 1.3 in the hellos' key_share, one
  group, the same on both sides;
- SNI (bank.example) and ALPN (h2,http/1.1 offered, http/1.1 chosen: in the
  clear ServerHello under 1.2, in the encrypted EncryptedExtensions under
  1.3);
- the records: the HTTP request and answer travel as encrypted Application
  Data and are decoded under it, marked decrypted; the certificate is in
  the clear under 1.2 and encrypted (and still decoded) under 1.3;
- the checkpoints are asked before their target and decided by it;
- the comparison note: its numbers equal this test's own count of the
  events (comparelib), TLS 1.2 has one round trip more than TLS 1.3 (4
  against 3: TCP, TLS, the request), and each time to first byte is at
  least its round trips less the last half trip times the link's 100 ms;
- the saved run: `tshark -r` decrypts it with no key file (the secrets ride
  in a Decryption Secrets Block) and agrees with netcourse's replay of the
  file on every packet's TLS records and handshake types."""
import json
import os
import subprocess
import tempfile

from comparelib import *
from oraclelib import layer_list, same_as_tshark, tls_rows, tshark_tls_rows

need_lab()
check(subprocess.run(["which", "tshark"], capture_output=True).returncode == 0,
      "tshark is missing (Debian package tshark; .ci/quickstart installs it)")
tmp = tempfile.mkdtemp(prefix="nc-e2e-tls-lesson-")
saved = os.path.join(tmp, "tls.pcapng")
events = run_json("tls", extra=("--save", saved), data_dir=tmp)
PORT = {"1.2": 8412, "1.3": 8413}
VERSION = {"client12": "1.2", "client13": "1.3"}
RTT_MS = 100  # the front matter's delay=50ms, each way


def packets(version):
    """The packet events of one version's connection, in order."""
    port = PORT[version]
    return [e for e in events if e["type"] == "packet" and "tcp" in e
            and port in (e["tcp"]["sport"], e["tcp"]["dport"])]


def tls_msgs(version):
    """(packet, TLS message) for every TLS message of the connection."""
    return [(e, m) for e in packets(version) for m in layer_list(e, "tls")]


def handshake(version, hs_type):
    """The connection's handshake messages of one type, with their packets."""
    return [(e, m) for e, m in tls_msgs(version) if m.get("handshake", {}).get("type") == hs_type]


def sender(e):
    return "client" if e["from"] == "client" else "server"


# The handshakes, message by message: (sender, handshake type), in order.
want = {
    "1.2": [("client", 1), ("server", 2), ("server", 11), ("server", 12), ("server", 14),
            ("client", 16), ("client", 20), ("server", 4), ("server", 20)],
    "1.3": [("client", 1), ("server", 2), ("server", 8), ("server", 11), ("server", 15),
            ("server", 20), ("client", 20)],
}
for version, seq in want.items():
    got = [(sender(e), m["handshake"]["type"]) for e, m in tls_msgs(version) if "handshake" in m]
    check(got[:len(seq)] == seq, f"TLS {version} handshake messages: {got}, expected {seq} first")
    # TLS 1.3 keeps one ChangeCipherSpec a side, only for old middleboxes.
    ccs = [sender(e) for e, m in tls_msgs(version) if m.get("change_cipher_spec")]
    check(sorted(ccs) == ["client", "server"], f"TLS {version} ChangeCipherSpec records: {ccs}")

# Every message knows its sender (the ClientHello included).
wrong = [(e["i"], m["message"]) for v in PORT for e, m in tls_msgs(v)
         if m.get("from_client") != (e["from"] == "client")]
check(not wrong, f"TLS messages whose from_client is not their sender: {wrong}")

# The round trips each handshake cost, on the message that completes it.
for version, n in (("1.2", 2), ("1.3", 1)):
    rts = [(sender(e), m["round_trips"]) for e, m in tls_msgs(version) if "round_trips" in m]
    check(len(rts) == 1 and rts[0][1] == n,
          f"TLS {version}: round trips {rts}, expected one handshake of {n}")
done = {(e["host"], e["call"], e["version"]) for e in events
        if e["type"] == "app" and e.get("call") in ("SSL_connect", "SSL_accept")}
check(done == {(h, c, f"TLS {v}") for h, c in (("client", "SSL_connect"), ("server", "SSL_accept"))
               for v in ("1.2", "1.3")}, f"handshake reports: {done}")
print("ok: TLS 1.2 took 2 round trips, TLS 1.3 took 1, message by message")

# The key exchange: public values only, in different messages.
hello12 = handshake("1.2", 1)[0][1]["handshake"]
check("extensions_key_share_group" not in hello12, f"a TLS 1.2 ClientHello with a key_share: {hello12}")
for t in (12, 16):
    check(all(not m.get("encrypted") for _, m in handshake("1.2", t)),
          f"TLS 1.2 handshake message {t} should travel in the clear")
groups = [m["handshake"].get("extensions_key_share_group") for t in (1, 2)
          for _, m in handshake("1.3", t)]
check(len(groups) == 2 and all(groups) and groups[1] == groups[0][:1],
      f"TLS 1.3 key_share groups (ClientHello, ServerHello): {groups}")
check(not handshake("1.3", 12) and not handshake("1.3", 16),
      "TLS 1.3 has no ServerKeyExchange or ClientKeyExchange")
print(f"ok: key exchange: 1.2 ServerKeyExchange/ClientKeyExchange, 1.3 key_share group {groups[1]}")

# SNI and ALPN.
for version in PORT:
    ch = handshake(version, 1)
    check(len(ch) == 1 and ch[0][0]["from"] == "client", f"TLS {version}: ClientHellos {ch}")
    h = ch[0][1]["handshake"]
    check(h.get("extensions_server_name") == "bank.example" and
          h.get("extensions_alpn_str") == "h2,http/1.1" and not ch[0][1].get("encrypted"),
          f"TLS {version} ClientHello: SNI and ALPN should be in the clear: {ch[0][1]}")
sh12 = handshake("1.2", 2)[0][1]
check(sh12["handshake"].get("extensions_alpn_str") == "http/1.1" and not sh12.get("encrypted"),
      f"the TLS 1.2 ServerHello should choose http/1.1 in the clear: {sh12}")
ee = handshake("1.3", 8)[0][1]
check(ee["handshake"].get("extensions_alpn_str") == "http/1.1" and ee.get("encrypted"),
      f"the TLS 1.3 EncryptedExtensions should choose http/1.1, encrypted: {ee}")
print("ok: SNI bank.example and ALPN h2,http/1.1 offered, http/1.1 chosen")

# The certificate: in the clear under 1.2, encrypted under 1.3, decoded both
# times.
for version, enc in (("1.2", False), ("1.3", True)):
    cert = handshake(version, 11)
    check(len(cert) == 1 and cert[0][0]["from"] == "server", f"TLS {version} certificates: {cert}")
    m = cert[0][1]
    check(bool(m.get("encrypted")) == enc and m.get("certificate", {}).get("chain_len", 0) >= 1,
          f"TLS {version} certificate: encrypted should be {enc}: {m}")

# The request and its answer: encrypted records, decrypted HTTP.
for version in PORT:
    http = [(e, h) for e in packets(version) for h in layer_list(e, "http")]
    got = [(sender(e), h.get("method"), h.get("target"), h.get("status")) for e, h in http]
    check(got == [("client", "GET", "/balance", None), ("server", None, None, 200)],
          f"TLS {version}: HTTP inside {got}")
    for e, h in http:
        check(h.get("decrypted") is True, f"TLS {version}: HTTP not marked decrypted: {h}")
        recs = layer_list(e, "tls")
        check(recs and all(r.get("encrypted") and r["record"].get("opaque_type", r["record"]
                                                                    ["content_type"]) == 23
                           for r in recs),
              f"TLS {version}: the HTTP should ride in encrypted Application Data: {recs}")
print("ok: certificate clear under 1.2 and encrypted under 1.3; HTTP decrypted from Application Data")

# The checkpoints: asked before their target, decided by it.
marks = {(e["checkpoint"], e["event"]): e for e in events
         if e["type"] == "mark" and e.get("checkpoint")}
for cp, answer in (("alpn", "a"), ("certificate", "b"), ("roundtrips", "a")):
    asked, dec = marks.get((cp, "asked")), marks.get((cp, "decided"))
    check(asked and dec, f"checkpoint {cp} was not asked and decided: {marks.keys()}")
    check(dec["answer"] == answer, f"checkpoint {cp}: the run answered {dec['answer']}, not {answer}")
    check(asked["i"] < dec["target"] <= dec["by"] < dec["i"],
          f"checkpoint {cp}: asked at {asked['i']}, target {dec['target']}, decided at {dec['i']}")
target = {cp: events[marks[(cp, "decided")]["target"]] for cp in ("certificate", "roundtrips")}
check(any(m.get("handshake", {}).get("type") == 11 for m in layer_list(target["certificate"], "tls")),
      "the certificate checkpoint was not decided by the certificate's packet")
check([m.get("round_trips") for m in layer_list(target["roundtrips"], "tls") if "round_trips" in m]
      == [1], "the round-trip checkpoint was not decided by the TLS 1.3 handshake's last message")
print("ok: three checkpoints asked, then decided by the run")

# The comparison: numbers consistent with the events.
note = comparison(events, "tls")
ways = check_against_run(events, note)
w12, w13 = ways["client12"], ways["client13"]
check((w12["round_trips"], w13["round_trips"]) == (4, 3),
      f"round trips before the answer: TLS 1.2 {w12['round_trips']}, TLS 1.3 {w13['round_trips']} "
      "(expected 1 TCP + 2 TLS + 1 request, and 1 + 1 + 1)")
for w in (w12, w13):
    check(w["requests"] == 1 and w["answers"] == 1 and w["connections"] == 1, f"way {w}")
    # The first byte comes after the SYN's trip, the TLS trips and half of
    # the request's: the wire's delay is a floor, not a duration.
    floor = (w["round_trips"] - 0.5) * RTT_MS
    check(0 < w["first_byte_ms"] <= w["time_ms"] and w["first_byte_ms"] >= floor - 1,
          f"{w['label']}: first byte at {w['first_byte_ms']} ms, under the {floor} ms the "
          "round trips cost")
    check(w["bytes"] == sum(e["len"] for e in packets(VERSION[w["program"]])),
          f"{w['label']}: {w['bytes']} bytes, not the connection's packets")
print(f"ok: comparison: round trips {w12['round_trips']} vs {w13['round_trips']}, first byte "
      f"{w12['first_byte_ms']} vs {w13['first_byte_ms']} ms, bytes {w12['bytes']} vs {w13['bytes']}")

# The saved run: tshark decrypts it with no key file, and agrees with the
# replay on every TLS record.
theirs, values = tshark_tls_rows(saved, more=("http.request.method", "http.response.code",
                                              "x509sat.uTF8String"))
their_http = [v for _, vs in sorted(values.items()) for v in vs if v in ("GET", "200")]
check(their_http == ["GET", "200", "GET", "200"],
      f"tshark -r on the saved run did not decrypt the HTTP: {values}")
their_hs = {tuple(r[3]) for r in theirs}
check(any(11 in hs and 8 in hs for hs in their_hs),
      f"tshark did not decrypt the TLS 1.3 server flight (EncryptedExtensions, Certificate): {theirs}")
rc, out, err = run(["replay", saved, "--json"], data_dir=tmp)
check(rc == 0, f"netcourse replay {saved} exited {rc}: {err.strip()}")
ours = tls_rows([e for e in map(json.loads, out.splitlines()) if e["type"] == "packet"])
same_as_tshark(ours, theirs, "TLS records of the saved run", 50)
print(f"ok: tshark -r decrypts the saved run with no key file ({len(theirs)} TLS packets agree)")
