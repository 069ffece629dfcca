# ctest: timeout=300
"""Real clients through the kit's middleboxes, in the lab shell
(`netcourse shell boxes client -c CMD`, fixture tests/e2e/lessons/boxes.md):
curl -x through the forward proxy (an absolute-URI request, then a CONNECT
tunnel with -p), curl through the reverse proxy (two paths, two servers),
the L4 balancer (two requests on one connection: one backend) and the L7
balancer (two requests on one connection: two backends), and curl over
HTTPS to an L7 balancer that ends TLS (tls=yes). Each box's
decision is an app event on the connection it concerns."""
import json
import os
import shutil
import tempfile

from nctest import *

need_lab()
if not shutil.which("curl"):
    print("SKIP: curl is not installed")
    sys.exit(77)
LESSONS = os.path.join(os.environ["NC_SOURCE_DIR"], "tests", "e2e", "lessons")
CMD = ("curl -s -x http://$MIDDLE:3128 http://$SERVER:8081/who; "
       "curl -s -p -x http://$MIDDLE:3128 http://$SERVER:8082/who; "
       "curl -s http://$MIDDLE:8000/a/x http://$MIDDLE:8000/b/y; "
       "curl -s http://$MIDDLE:8004/who http://$MIDDLE:8004/who; "
       "curl -s http://$MIDDLE:8007/who http://$MIDDLE:8007/who; "
       "curl -sk https://$MIDDLE:8443/who https://$MIDDLE:8443/who")

rc, out, err = run(["--lessons", LESSONS, "shell", "boxes", "client", "-c", CMD, "--json"],
                   data_dir=tempfile.mkdtemp(prefix="nc-e2e-"))
check(rc == 0, f"`netcourse shell boxes client` exited {rc}: {err.strip()}")
typed = [l for l in out.splitlines() if not l.startswith("{")]
ev = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
check(typed[:6] == ["web1", "web2", "web1 serves /a", "web2 serves /b", typed[4], typed[4]]
      and typed[4] in ("web1", "web2"), f"curl printed {typed}", ev)
check(sorted(typed[6:8]) == ["web1", "web2"], f"the L7 balancer answered {typed[6:8]}", ev)
check(sorted(typed[8:10]) == ["web1", "web2"], f"the TLS-ending L7 balancer answered {typed[8:10]}", ev)

# curl -x: an absolute URI, relayed on a connection of the proxy's own.
fwd = apps(ev, call="choose", policy="forward proxy")
check(len(fwd) == 1 and fwd[0]["backend_port"] == 8081 and fwd[0]["path"] == "/who",
      "the forward proxy's decision for curl -x is missing", ev)
# curl -p -x: CONNECT, then a splice.
tun = apps(ev, call="tunnel")
check(len(tun) == 1 and tun[0]["target_port"] == 8082, "no CONNECT tunnel to port 8082", ev)
splice = [f for f in apps(ev, call="forward") if f["in_port"] == 3128
          and f["in_peer_port"] == tun[0]["peer_port"]]
check(len(splice) == 1, "the tunnel did not open its other half", ev)
connect = [p for p in ev if p["type"] == "packet" and p.get("http", {}).get("method") == "CONNECT"]
check(connect and connect[0]["from"] == "client", "curl's CONNECT is not on the wire", ev)
ok = [p for p in ev if p["type"] == "packet" and p.get("from") == "middle"
      and p.get("http", {}).get("status") == 200 and "tcp" in p and p["tcp"]["sport"] == 3128]
check(len(ok) == 2, "the proxy's two answers (the relayed 200, the tunnel's 200) are not on the wire", ev)

rev = apps(ev, call="choose", policy="reverse proxy")
check([(c["path"], c["backend_port"]) for c in rev] == [("/a/x", 8081), ("/b/y", 8082)],
      "the reverse proxy did not route curl's two paths to the two servers", ev)
check(len({(c["port"], c["peer_port"]) for c in rev}) == 1, "curl did not reuse its connection", ev)

l4 = [c for c in apps(ev, call="choose") if c["port"] == 8004]
check(len(l4) == 1, f"the L4 balancer decided {len(l4)} times for one connection", ev)
l7 = [c for c in apps(ev, call="choose") if c["port"] == 8007]
check(len(l7) == 2 and l7[0]["peer_port"] == l7[1]["peer_port"]
      and {c["backend_port"] for c in l7} == {8081, 8082},
      "the L7 balancer did not spread curl's two requests on one connection", ev)
# TLS ends at the L7 balancer: a handshake with curl, then per-request
# choices on the plaintext, relayed in plain HTTP.
hs = apps(ev, call="SSL_accept", port=8443)
check(len(hs) == 1, "the balancer did not end curl's TLS", ev)
l7s = [c for c in apps(ev, call="choose") if c["port"] == 8443]
check(len(l7s) == 2 and {c["backend_port"] for c in l7s} == {8081, 8082}
      and all(c["i"] > hs[0]["i"] for c in l7s),
      "the TLS-ending balancer did not spread the decrypted requests", ev)
check(apps(ev, call="SSL_read", port=8443) and apps(ev, call="SSL_write", port=8443),
      "the balancer's side of the client connection is not TLS", ev)
check(len([f for f in apps(ev, call="forwarded") if f["for"] == "10.0.1.2"]) >= 2,
      "the backends behind the TLS balancer did not see the client in X-Forwarded-For", ev)
print("ok: curl through the forward proxy (plain and CONNECT), the reverse proxy, both balancers "
      "and TLS ended at the L7 balancer")
