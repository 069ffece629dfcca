"""netcourse run stateful-stateless --headless --json: both servers restart
mid-session. The raw TCP session breaks: the terminal's next line gets a
RST. The HTTP clients open new connections (a new handshake each) and
resend their cookies: the session kept in the old process's memory is gone
(401), the signed token still works (200). Every assertion reads the run's
own events."""
from nctest import *


need_lab()
ev = run_json("stateful-stateless")
tcp = [e for e in ev if e["type"] == "packet" and "tcp" in e]
restarts = [e for e in apps(ev, host="server", call="close") if "restarts" in e["text"]]
check(len(restarts) >= 2, f"{len(restarts)} restart closes, expected the shop's and the web server's", ev)
r0 = restarts[0]["i"]
listens = apps(ev, host="server", call="listen")
check(len(listens) == 4 and all(e["i"] > r0 for e in listens[2:]), "the servers did not listen again", ev)

# Before the restart all three sessions work.
def answers(path, after=0, before=None):
    """The statuses of the server's answers to requests for path."""
    out, asked = [], set()
    for p in tcp:
        for m in http_msgs(p):
            if m.get("request") and m.get("target") == path:
                asked.add(p["tcp"]["sport"])
            elif (not m.get("request") and p["tcp"]["dport"] in asked and after < p["i"]
                  and (before is None or p["i"] < before)):
                out.append(m["status"])
    return out
check(answers("/cart", before=r0) == [200] and answers("/profile", before=r0) == [200],
      "the cart and the profile did not work before the restart", ev)
shop_reads = [e for e in apps(ev, host="server", call="read") if e.get("port") == 7000 and e["i"] < r0]
check(len(shop_reads) == 2, "the shop did not read LOGIN and ADD before the restart", ev)

# The raw TCP session: the server's FIN, the terminal's next line, the RST.
term_port = shop_reads[0]["peer_port"]
fin = [p for p in tcp if p["from"] == "server" and p["tcp"]["sport"] == 7000 and "FIN" in p["tcp"]["flags"]]
check(fin and fin[0]["i"] > r0, "the shop's restart sent no FIN on the session", ev)
late = [p for p in tcp if p["from"] == "client" and p["tcp"]["dport"] == 7000 and p["tcp"]["len"] > 0 and p["i"] > fin[0]["i"]]
check(late, "the terminal did not write on the old connection after the restart", ev)
rst = [p for p in tcp if p["from"] == "server" and p["tcp"]["sport"] == 7000 and "RST" in p["tcp"]["flags"]
       and p["tcp"]["dport"] == term_port]
check(rst and rst[0]["i"] > late[0]["i"], "no RST answered the terminal's line", ev)
check(not [p for p in tcp if p["from"] == "server" and p["tcp"]["sport"] == 7000 and p["tcp"]["len"] > 0
           and p["i"] > r0], "the restarted shop answered the old session", ev)

# The HTTP clients: a new handshake each, after the restart, on 8080.
syns = [p for p in tcp if p["from"] == "client" and p["tcp"]["flags"] == ["SYN"] and p["i"] > r0]
check(len(syns) == 2 and all(p["tcp"]["dport"] == 8080 for p in syns),
      f"{len(syns)} new handshakes after the restart, expected two to port 8080", ev)
check(all(any(q["from"] == "server" and set(q["tcp"]["flags"]) == {"SYN", "ACK"}
              and q["tcp"]["dport"] == p["tcp"]["sport"] for q in tcp) for p in syns),
      "a new connection was not accepted", ev)

# Which requests survived: the in-memory session did not, the token did.
check(answers("/cart", after=r0) == [401], f"the cart after the restart: {answers('/cart', after=r0)}", ev)
check(answers("/profile", after=r0) == [200], f"the profile after the restart: {answers('/profile', after=r0)}", ev)
look = [e for e in apps(ev, host="server", call="lookup")]
check([e["found"] for e in look] == [1, 0], f"the session lookups found {[e['found'] for e in look]}", ev)
ver = [e for e in apps(ev, host="server", call="verify")]
check([e["found"] for e in ver] == [1, 1], f"the token checks found {[e['found'] for e in ver]}", ev)
check(look[1]["text"].split()[4] == look[0]["text"].split()[4], "the cart sent another session id", ev)

check(decided(ev, "rst") == "b" and decided(ev, "cart") == "b" and decided(ev, "token") == "a",
      "the checkpoints disagree with the run", ev)
print("ok: stateful-stateless shows the RST, the new handshakes, and which requests survived")
