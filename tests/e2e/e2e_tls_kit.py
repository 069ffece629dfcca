# ctest: timeout=300
"""A lesson's TLS from program blocks (tests/e2e/lessons/tlsweb.md: a TLS 1.3
and a TLS 1.2 server, `tls-listen`, and a client, `tls-connect`, speaking
HTTP/1.1 inside), run through `netcourse --lessons DIR run tlsweb --headless
--json --save FILE`:

- the live run decrypts with the secrets the programs logged: the HTTP inside
  is decoded and marked decrypted, each handshake says its round trips (1
  for TLS 1.3, 2 for TLS 1.2), and the kit reports SSL_connect/SSL_accept
  with the version;
- the saved run carries the secrets in a Decryption Secrets Block:
  `tshark -r` decrypts it with no key file given, and agrees with netcourse's
  replay of the saved file on every packet's TLS records and handshake
  types, and on the HTTP inside."""
import json
import os
import subprocess
import tempfile

from oraclelib import *

need_lab()
check(subprocess.run(["which", "tshark"], capture_output=True).returncode == 0,
      "tshark is missing (Debian package tshark; .ci/quickstart installs it)")
LESSONS = os.path.join(os.environ["NC_SOURCE_DIR"], "tests", "e2e", "lessons")
tmp = tempfile.mkdtemp(prefix="nc-e2e-tls-")
saved = os.path.join(tmp, "tlsweb.pcapng")
rc, out, err = run(["--lessons", LESSONS, "run", "tlsweb", "--headless", "--json", "--save", saved],
                   data_dir=tmp)
check(rc == 0, f"`netcourse run tlsweb` exited {rc}: {err.strip()}")
ev = [json.loads(line) for line in out.splitlines()]


def layer(e, name):
    v = e.get(name)
    return [] if v is None else v if isinstance(v, list) else [v]


# The live run: decrypted HTTP, both ways, on both connections.
http = [m for e in ev if e["type"] == "packet" for m in layer(e, "http")]
requests = [m for m in http if m["request"]]
responses = [m for m in http if not m["request"]]
check(len(requests) == 2 and len(responses) == 2,
      f"expected 2 requests and 2 responses inside TLS, found {len(requests)} and {len(responses)}",
      ev)
check(all(m.get("decrypted") is True for m in http), "HTTP inside TLS not marked decrypted", ev)
check(all(m["target"] == "/hello" for m in requests), f"requests: {requests}")
check(all(m["status"] == 200 for m in responses), f"responses: {responses}")
rts = [m["round_trips"] for e in ev if e["type"] == "packet" for m in layer(e, "tls")
       if "round_trips" in m]
check(rts == [1, 2], f"round trips per handshake: {rts} (TLS 1.3 costs 1, TLS 1.2 costs 2)")
hello = [e for e in ev if e["type"] == "packet"
         for m in layer(e, "tls") if m.get("handshake", {}).get("type") == 1]
check(len(hello) == 2 and all(m["handshake"]["extensions_server_name"] == "server"
                              for e in hello for m in layer(e, "tls")
                              if m.get("handshake", {}).get("type") == 1),
      "the ClientHellos do not name the server (SNI)")
done = [(e["host"], e["call"], e["version"]) for e in ev
        if e["type"] == "app" and e.get("call") in ("SSL_connect", "SSL_accept")]
check(sorted(done) == sorted([("client", "SSL_connect", "TLS 1.3"), ("server", "SSL_accept", "TLS 1.3"),
                              ("client", "SSL_connect", "TLS 1.2"), ("server", "SSL_accept", "TLS 1.2")]),
      f"handshake reports: {done}")
check(any(e["type"] == "app" and e.get("call") == "SSL_read" for e in ev), "no SSL_read reported")
steps = [e for e in ev if e["type"] == "mark" and e.get("step") and "End of step" in e.get("summary", "")]
check(len(steps) == 2, "the steps ending on each handshake's round trips did not both end", ev)

# The saved run: tshark decrypts it with no key file.
theirs, values = tshark_tls_rows(saved, more=("http.request.method", "http.response.code"))
their_http = [(n, int(v) if v.isdigit() else v) for n, vs in sorted(values.items()) for v in vs]
check([m for _, m in their_http] == ["GET", 200, "GET", 200],
      f"tshark -r on the saved run did not decrypt the HTTP: {their_http}")

rc, out, err = run(["replay", saved, "--json"], data_dir=tmp)
check(rc == 0, f"netcourse replay {saved} exited {rc}: {err.strip()}")
packets = [e for e in map(json.loads, out.splitlines()) if e["type"] == "packet"]
ours = tls_rows(packets)
our_http = []
for n, e in enumerate(packets, 1):
    for m in layer(e, "http"):
        check(m.get("decrypted") is True, f"replayed HTTP not marked decrypted: {m}")
        our_http.append((n, m["method"] if m["request"] else m["status"]))
same_as_tshark(ours, theirs, "TLS records of the saved run", 50)
check(our_http == their_http, f"HTTP in the saved run: netcourse {our_http}, tshark {their_http}")
print(f"ok: {len(ours)} TLS packets and {len(our_http)} HTTP messages, decrypted live and from the saved run")

# A client that asks for TLS 1.2 from a TLS 1.3-only server: the handshake
# fails, both sides report why, and the run ends with one sentence.
faildir = os.path.join(tmp, "lessons")
os.mkdir(faildir)
with open(os.path.join(LESSONS, "tlsweb.md")) as f:
    text = f.read()
text = (text.replace("id: tlsweb", "id: tlsfail").replace("number: 903", "number: 904")
        .replace("tls-connect server 8444 version=1.2", "tls-connect server 8443 version=1.2"))
with open(os.path.join(faildir, "tlsfail.md"), "w") as f:
    f.write(text)
rc, out, err = run(["--lessons", faildir, "run", "tlsfail", "--headless", "--json"], data_dir=tmp)
check(rc == 1 and "the TLS handshake failed" in err and len(err.strip().splitlines()) == 1,
      f"a failed handshake: exit {rc}, {err!r}")
failed = [e for e in map(json.loads, out.splitlines())
          if e["type"] == "app" and e.get("call") in ("SSL_connect", "SSL_accept")
          and "failed" in e["text"]]
check(len(failed) == 2, f"both sides report the failed handshake: {failed}")
print("ok: a version mismatch fails the run with one sentence")
