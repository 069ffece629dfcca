# ctest: timeout=300
"""Lesson 10, the sidecar pattern, run headless with --json --save, read
from the run's own events (the catalogue's "two connections of different
protocols for one logical request"):

- the inside leg: the application speaks plain HTTP/1.1 to its sidecar on
  its own host (its writes, the sidecar's reads and `request` events, proto
  HTTP/1.1), and no packet of it is on the wire (nothing on port 8080, no
  HTTP/1 anywhere in the capture);
- the outside leg: one TCP connection (one SYN) and one TLS handshake
  from the sidecar to the service, ALPN h2 offered alone and chosen;
  every request a stream on it (1, 3, 5, then 7 `reused` on the open
  connection), the first three leaving in one packet; every HTTP/2 frame
  on the wire sits under a TLS record and is marked decrypted, and the
  decrypted HEADERS carry the paths the application asked for;
- the sidecar's decisions: one `upstream`, a `stream` per request naming
  the application connection it came on, an `answer` per request on that
  connection, in HTTP/1.1 again; GOAWAY before the close;
- the three checkpoints decided by the run;
- the saved run: tshark decrypts it with no key file and agrees with
  netcourse's replay of the file on every packet's HTTP/2 frames."""
import json
import os
import subprocess
import tempfile

from nctest import *
from oraclelib import h2_rows, layer_list, netcourse_packets, same_h2_as_tshark, tshark_h2_rows

need_lab()
check(subprocess.run(["which", "tshark"], capture_output=True).returncode == 0,
      "tshark is missing (Debian package tshark; .ci/quickstart installs it)")
tmp = tempfile.mkdtemp(prefix="nc-e2e-sidecar-")
saved = os.path.join(tmp, "sidecar.pcapng")
events = run_json("sidecar", extra=("--save", saved), data_dir=tmp)
PATHS = ["/profile", "/orders", "/cart", "/profile"]
wire = [e for e in events if e["type"] == "packet" and "tcp" in e]

# The inside leg: HTTP/1.1 on the client host, app events only.
reqs = apps(events, program="sidecar", call="request")
check([r["path"] for r in reqs] == PATHS, f"the sidecar's requests: {[r['path'] for r in reqs]}")
check(all(r["proto"] == "HTTP/1.1" and r["method"] == "GET" for r in reqs),
      f"the application did not speak HTTP/1.1 GET: {reqs}")
app_writes = [e for e in apps(events, program="app", call="write") if "GET /" in e["text"]]
check(len(app_writes) == 4, f"the application's request writes: {[e['text'] for e in app_writes]}")
check(len({r["peer_port"] for r in reqs}) == 4,
      f"the application's four requests did not come on four connections: {reqs}")
leaked = [e["i"] for e in wire if 8080 in (e["tcp"]["sport"], e["tcp"]["dport"])]
check(not leaked, f"packets of the loopback leg (port 8080) on the wire: {leaked}")
h1 = [e["i"] for e in wire if layer_list(e, "http")]
check(not h1, f"HTTP/1 crossed the wire: packets {h1}")
print("ok: the application spoke HTTP/1.1 to its sidecar on four local connections; "
      "none of it crossed the wire")

# The outside leg: one connection, TLS with ALPN h2.
syns = [e for e in wire if e["from"] == "client" and e["tcp"]["flags"] == ["SYN"]]
check(len({e["tcp"]["sport"] for e in syns}) == 1 and all(e["tcp"]["dport"] == 8443 for e in syns),
      f"the sidecar's connections to the service: {[(e['tcp']['sport'], e['tcp']['dport']) for e in syns]}")
up = apps(events, program="sidecar", call="upstream")
check(len(up) == 1 and up[0]["conns"] == 1, f"the sidecar's upstream decisions: {up}")
hellos = [m for e in wire for m in layer_list(e, "tls") if m.get("handshake", {}).get("type") == 1]
check(len(hellos) == 1 and hellos[0]["handshake"]["extensions_alpn_str"] == "h2",
      f"the sidecar's ClientHello(s): {hellos}")
conn = apps(events, program="sidecar", call="SSL_connect")
check(len(conn) == 1 and conn[0]["alpn"] == "h2", f"the sidecar's handshake: {conn}")
check(any(e["tcp"]["sport"] == 8443 and any(m.get("handshake", {}).get("type") == 8
                                           for m in layer_list(e, "tls")) for e in wire),
      "the service's EncryptedExtensions (its ALPN choice) was not decrypted")
print(f"ok: one TCP connection, one TLS handshake (ALPN h2), from port {syns[0]['tcp']['sport']}")

# Every HTTP/2 frame on the wire is under TLS and decrypted.
h2pk = [e for e in wire if layer_list(e, "http2")]
check(h2pk, "no HTTP/2 on the wire")
plain = [e["i"] for e in h2pk
         if not all(m.get("decrypted") for m in layer_list(e, "http2"))
         or not any(m.get("decrypted") for m in layer_list(e, "tls"))]
check(not plain, f"HTTP/2 frames not marked decrypted under TLS: packets {plain}")
heads = [(m["streamid"], h["value"]) for e in h2pk if e["from"] == "client"
         for m in layer_list(e, "http2") if m.get("type_name") == "HEADERS"
         for h in m.get("header", []) if h["name"] == ":path"]
check(heads == list(zip([1, 3, 5, 7], PATHS)), f"the decrypted requests on the wire: {heads}")
first = next(e for e in h2pk if e["from"] == "client"
             and any(m.get("type_name") == "HEADERS" for m in layer_list(e, "http2")))
sids = sorted(m["streamid"] for m in layer_list(first, "http2") if m.get("type_name") == "HEADERS")
check(sids == [1, 3, 5], f"the first packet of requests carries streams {sids}, not 1, 3 and 5")
answers = sorted(m["streamid"] for e in h2pk if e["from"] == "server"
                 for m in layer_list(e, "http2") if m.get("type_name") == "DATA")
check(answers == [1, 3, 5, 7], f"the service's answers on streams {answers}")
goaway = [e for e in h2pk if e["from"] == "client"
          and any(m.get("type_name") == "GOAWAY" for m in layer_list(e, "http2"))]
fin = [e for e in wire if e["from"] == "client" and "FIN" in e["tcp"]["flags"]]
check(goaway and fin and goaway[0]["i"] < fin[0]["i"], "the sidecar sent no GOAWAY before its FIN")
print(f"ok: {len(h2pk)} packets of HTTP/2, all decrypted; streams 1, 3, 5 in packet "
      f"{first['i']}, stream 7 later; GOAWAY before the FIN")

# The sidecar's decisions, linked to the connections they concern.
streams = apps(events, program="sidecar", call="stream")
check([(s["stream"], s["path"]) for s in streams] == list(zip([1, 3, 5, 7], PATHS)),
      f"the sidecar's streams: {streams}")
check([bool(s["reused"]) for s in streams] == [False, False, False, True],
      f"which streams found the connection open: {[s['reused'] for s in streams]}")
check(all(s["conns"] == 1 and s["port"] == syns[0]["tcp"]["sport"] for s in streams),
      f"a stream on another connection: {streams}")
check([s["in_peer_port"] for s in streams] == [r["peer_port"] for r in reqs],
      "a stream does not name the application connection its request came on")
ans = apps(events, program="sidecar", call="answer")
check(sorted((a["stream"], a["path"], a["status"]) for a in ans)
      == sorted(zip([1, 3, 5, 7], PATHS, [200] * 4)), f"the sidecar's answers: {ans}")
by_stream = {s["stream"]: s["in_peer_port"] for s in streams}
check(all(a["peer_port"] == by_stream[a["stream"]] for a in ans),
      "an answer went to another application connection than its request's")
got = [e for e in apps(events, program="app", call="read") if "response 200" in e["text"]]
check(len(got) == 4, f"the application's answers: {[e['text'] for e in got]}")
print("ok: one upstream, a stream per request (the last reused), each answer back on its "
      "own HTTP/1.1 connection")

for cp, want in (("protocol", "b"), ("streams", "a"), ("reuse", "a")):
    check(decided(events, cp) == want, f"checkpoint {cp}: {decided(events, cp)}, expected {want}")
    asked = marks(events, checkpoint=cp, event="asked")
    check(asked, f"checkpoint {cp} was never asked")
print("ok: the three checkpoints were asked and decided by the run")

# The saved run: tshark decrypts it with no key file (the secrets ride in a
# Decryption Secrets Block) and agrees with netcourse's replay.
p = subprocess.run(["tshark", "-r", saved, "-Y", "http2.headers.path", "-T", "fields",
                    "-E", "aggregator=|", "-e", "http2.headers.path"],
                   capture_output=True, text=True, timeout=300)
check(p.returncode == 0, f"tshark exited {p.returncode}: {p.stderr[:300]}")
their_paths = [x for line in p.stdout.split() for x in line.split("|")]
check(their_paths == PATHS, f"tshark -r on the saved run did not decrypt the requests: {their_paths}")
ours = h2_rows(netcourse_packets(saved))
n = same_h2_as_tshark(ours, tshark_h2_rows(saved), "HTTP/2 frames of the saved run")
print(f"ok: tshark -r decrypts the saved run with no key file ({n} HTTP/2 frames agree)")

# A service the sidecar cannot use: the first time it speaks no TLS (the
# handshake fails), then it is gone (connect refused). The application
# gets the sidecar's own 502 each time, with a `refuse` that says why, and
# the run goes on (no retry loop, no crash).
BAD = r'''---
id: sc-bad
title: A sidecar whose service speaks no TLS
number: 950
part: 9 Fixtures
summary: The sidecar's TLS handshake fails, then its connect is refused; its application gets 502 each time.
topology: pair
---
# Fixture

A sidecar in front of a service that is not what it expects.

```program
name: service
host: server
listen 8443
accept
read 10
write "HTTP/1.1 400 Bad Request\r\n\r\n"
close
```

```program
name: sidecar
host: client
sidecar 8080 server 8443
wait app done
```

```program
name: app
host: client
wait sidecar listening
wait service listening
http-connect client 8080
get /x
post /y body="hello"
close
```
'''
bad_dir = tempfile.mkdtemp(prefix="nc-e2e-sidecar-bad-")
with open(os.path.join(bad_dir, "sc-bad.md"), "w") as f:
    f.write(BAD)
rc, out, err = run(["--lessons", bad_dir, "run", "sc-bad", "--headless", "--json"],
                   data_dir=bad_dir)
check(rc == 0, f"the run with a broken service exited {rc}: {err.strip()}")
bad = [json.loads(l) for l in out.splitlines()]
check(any(e.get("call") == "SSL_connect" and "failed" in e["text"] for e in bad),
      "the sidecar's failed handshake was not reported")
ref = apps(bad, program="sidecar", call="refuse")
check([r["path"] for r in ref] == ["/x", "/y"], f"the sidecar's refusals: {ref}")
got = [e["text"] for e in apps(bad, program="app", call="read") if "response" in e["text"]]
check(len(got) == 2 and all("502" in t for t in got), f"the application's answers: {got}")
check(len(apps(bad, program="sidecar", call="upstream")) == 2,
      "the sidecar did not try once per request (or looped)")
print("ok: a service without TLS, then none: 502 from the sidecar each time, with the reason")
