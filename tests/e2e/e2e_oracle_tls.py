# ctest: nolab timeout=600
"""TLS decoding and decryption agree with tshark given the same key log,
field by field: the record content types (tls.record.content_type, and
tls.record.opaque_type of TLS 1.3's protected records) and the handshake
message types (tls.handshake.type) of every packet, and the
decrypted HTTP requests and responses, on captures this test makes of real
clients and servers on loopback, in a network namespace of its own:

- openssl s_server / s_client with -tls1_3 (AES-128-GCM, AES-256-GCM and
  ChaCha20-Poly1305), with a HelloRetryRequest (the client's only key share is
  in a group the server does not take), with a KeyUpdate each way, and with
  -tls1_2 (ECDHE with AES-GCM and ChaCha20-Poly1305), each asking for a file
  over HTTP inside;
- curl against nginx-light with TLS, over HTTP/1.1, keeping its secrets
  through SSLKEYLOGFILE.

Both sides write their key logs (-keylogfile, SSLKEYLOGFILE); netcourse reads
them with `replay --keylog`, tshark with -o tls.keylog_file. Without the key
log netcourse must still agree on the records, and decrypt nothing.

tshark, tcpdump, openssl, curl and nginx-light are required (.ci/quickstart
test_pkgs)."""
import os
import shutil
import subprocess
import tempfile

from oraclelib import *

need_tools({"tshark": "tshark", "tcpdump": "tcpdump", "openssl": "openssl", "curl": "curl",
            "nginx": "nginx-light"})
in_namespace()

tmp = tempfile.mkdtemp(prefix="nc-oracle-tls-")
os.chmod(tmp, 0o755)
cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj",
                "/CN=server.lab/O=netcourse"], check=True, capture_output=True)
www = os.path.join(tmp, "www")
os.mkdir(www)
with open(os.path.join(www, "hello.txt"), "w") as f:
    f.write("hello over TLS\n" * 20)
with open(os.path.join(www, "big.txt"), "w") as f:
    f.write("".join(f"line {i:05d} of a body that spans several TLS records\n" for i in range(800)))
keylog = os.path.join(tmp, "keys.txt")
pcap = os.path.join(tmp, "tls.pcap")

# s_server -WWW answers "GET /FILE HTTP/1.x" with the file, HTTP/1.0 style.
SESSIONS = [
    # (server options, client options, file)
    (["-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256"], ["-tls1_3"], "hello.txt"),
    (["-tls1_3", "-ciphersuites", "TLS_AES_256_GCM_SHA384"], ["-tls1_3"], "big.txt"),
    (["-tls1_3", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256"], ["-tls1_3"], "hello.txt"),
    (["-tls1_3", "-groups", "P-256"], ["-tls1_3", "-groups", "X25519:P-256"], "hello.txt"),
    (["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256"], ["-tls1_2"], "hello.txt"),
    (["-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384"], ["-tls1_2"], "big.txt"),
    (["-tls1_2", "-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305"], ["-tls1_2"], "hello.txt"),
]


def s_session(port, sopts, copts, name):
    srv = subprocess.Popen(["openssl", "s_server", "-accept", str(port), "-cert", cert, "-key", key,
                            "-WWW", "-alpn", "http/1.1", "-naccept", "1", *sopts],
                           cwd=www, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True)
    # Not a probe connection: s_server would answer it with an alert that
    # tshark, having seen no handshake on it, does not read as TLS.
    for line in srv.stdout:
        if "ACCEPT" in line:
            break
    else:
        fail("openssl s_server did not start")
    req = f"GET /{name} HTTP/1.1\r\nHost: server.lab\r\nConnection: close\r\n\r\n"
    cli = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername",
                          "server.lab", "-alpn", "http/1.1", "-keylogfile", keylog, "-ign_eof",
                          *copts],
                         input=req, capture_output=True, text=True, timeout=30)
    check(cli.returncode == 0, f"openssl s_client {copts} failed: {cli.stderr[-500:]}")
    srv.wait(timeout=30)


def keyupdate_session(port):
    """TLS 1.3 with a KeyUpdate each way: s_client's K line asks for one
    (and for the server's), before the request."""
    srv = subprocess.Popen(["openssl", "s_server", "-accept", str(port), "-cert", cert, "-key", key,
                            "-WWW", "-naccept", "1", "-tls1_3"],
                           cwd=www, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True)
    for line in srv.stdout:
        if "ACCEPT" in line:
            break
    cli = subprocess.Popen(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-keylogfile",
                            keylog, "-tls1_3"],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True)
    # The session summary ends the handshake; then s_client takes commands.
    for line in cli.stdout:
        if "Verify return code" in line:
            break
    cli.stdin.write("K\n")
    cli.stdin.flush()
    time.sleep(0.5)
    cli.stdin.write("GET /hello.txt HTTP/1.0\r\n\r\n")
    cli.stdin.flush()
    time.sleep(1)
    cli.stdin.close()
    cli.stdout.read()
    cli.wait(timeout=30)
    srv.wait(timeout=30)


def nginx_session(port):
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx.err;
events {{}}
http {{
    access_log off;
    client_body_temp_path {tmp};
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.2 TLSv1.3;
        root {www};
    }}
}}
""")
    srv = subprocess.Popen(["nginx", "-c", conf, "-p", tmp], stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
    wait_listening(port, srv, "nginx")
    env = dict(os.environ, SSLKEYLOGFILE=keylog)
    for version in ("--tlsv1.3", "--tlsv1.2"):
        cli = subprocess.run(["curl", "-sS", "-k", "--http1.1", version, "--tls-max",
                              version[6:], "-o", "/dev/null",
                              f"https://server.lab:{port}/hello.txt",
                              f"https://server.lab:{port}/big.txt", "--resolve",
                              f"server.lab:{port}:127.0.0.1"],
                             env=env, capture_output=True, text=True, timeout=30)
        check(cli.returncode == 0, f"curl {version} failed: {cli.stderr[-500:]}")
    srv.terminate()
    srv.wait()


cap = Capture(pcap, "tcp portrange 8440-8460").start()
for n, (sopts, copts, name) in enumerate(SESSIONS):
    s_session(8441 + n, sopts, copts, name)
keyupdate_session(8450)
nginx_session(8459)
cap.stop()
retry_if_lossy(pcap)
check(os.path.getsize(keylog) > 0, "the clients wrote no key log")


def ours(keys):
    """netcourse's TLS rows (oraclelib.tls_rows) and its packet events."""
    args = ["replay", pcap, "--json"] + (["--keylog", keys] if keys else [])
    rc, out, err = run(args, timeout=300)
    check(rc == 0, f"netcourse {' '.join(args)} exited {rc}: {err.strip()}")
    packets = [e for e in map(json.loads, out.splitlines()) if e["type"] == "packet"]
    return tls_rows(packets), packets


def theirs(keys):
    return tshark_tls_rows(pcap, ["-o", f"tls.keylog_file:{keys}"] if keys else [])[0]


for keys in (keylog, None):
    mine, packets = ours(keys)
    what = "with the key log" if keys else "without a key log"
    same_as_tshark(mine, theirs(keys), f"TLS records and handshake messages {what}", 48)
    decrypted = [ev for ev in packets if "http" in ev]
    if keys:
        # Every session's HTTP, decrypted and marked so.
        check(any(m.get("handshake", {}).get("type") == 24 for ev in packets
                  for m in layer_list(ev, "tls")), "no KeyUpdate decrypted")
        check(len(decrypted) >= 2 * (len(SESSIONS) + 4),
              f"only {len(decrypted)} packets carry decrypted HTTP")
        for ev in decrypted:
            for m in layer_list(ev, "http"):
                check(m.get("decrypted") is True, f"HTTP not marked decrypted: {m}")
        # Round trips: TLS 1.3 costs one, with a HelloRetryRequest two, TLS 1.2 two.
        rts = [m["round_trips"] for ev in packets for m in layer_list(ev, "tls")
               if "round_trips" in m]
        check(rts[:len(SESSIONS)] == [1, 1, 1, 2, 2, 2, 2],
              f"handshake round trips per session: {rts}")
        hrr = [m for ev in packets for m in layer_list(ev, "tls") if m.get("hrr")]
        check(len(hrr) == 1, f"one HelloRetryRequest expected, found {len(hrr)}")
        certs = [m["certificate"] for ev in packets for m in layer_list(ev, "tls")
                 if "certificate" in m]
        check(certs and all(c["subject"] == "CN=server.lab,O=netcourse" and
                            c["issuer"] == c["subject"] and c["chain_len"] == 1 for c in certs),
              f"certificates: {certs[:2]}")
    else:
        check(not decrypted, "HTTP decoded without a key log")

# The decrypted HTTP, message by message.
ext = ["-o", f"tls.keylog_file:{keylog}"]
rc, out, err = run(["replay", pcap, "--json", "--keylog", keylog], timeout=300)
msgs = []
for n, ev in enumerate([e for e in map(json.loads, out.splitlines()) if e["type"] == "packet"], 1):
    for m in layer_list(ev, "http"):
        # tshark shows no HTTP response that ends with its connection
        # (s_server's, without Content-Length) when the connection is TLS;
        # those are compared above only as records.
        if m.get("other_direction") or (not m["request"] and "content_length" not in m):
            continue
        msgs.append((n, "request", m["method"], m["target"]) if m["request"]
                    else (n, "response", m["status"], None))
theirs_http = [(num, kind, a, b) for num, _conv, kind, a, b, _body
               in tshark_http_messages(pcap, ext)]
same_as_tshark(msgs, theirs_http, "decrypted HTTP messages", 40)
# A key log that cannot be read, or holds no secret: one sentence, exit 1.
empty = os.path.join(tmp, "empty.txt")
with open(empty, "w") as f:
    f.write("# nothing here\nnot a key log line\n")
for bad, says in ((os.path.join(tmp, "missing.txt"), "cannot read the key log"),
                  (empty, "holds no TLS secret")):
    rc, out, err = run(["replay", pcap, "--json", "--keylog", bad])
    check(rc == 1 and says in err and len(err.strip().splitlines()) == 1 and not out,
          f"replay --keylog {bad}: exit {rc}, {err!r}")
shutil.rmtree(tmp, ignore_errors=True)
print(f"ok: {len(mine)} TLS packets and {len(msgs)} decrypted HTTP messages agree with tshark")
