# ctest: timeout=300
"""Lesson 27, idempotency, on the chain topology (client ~ middle ~
server), read from the run's own events:

- without a key: the client sends one POST and gets one 201, while the
  retrying proxy's timeouts (100 ms, then 200, then 400; the server takes
  250) send it to the server three times (a fourth on a loaded machine), each try on a connection of its own, the abandoned
  ones reset by the proxy (the server's read fails with ECONNRESET); the
  server stores three rows for the one comment: the duplicate rows;
- with an Idempotency-Key: one POST, two tries; the first makes one row
  and remembers the key, the retry is a duplicate answered with that row
  at once (no processing), and no third try is needed; the server holds
  four rows in the end, not six;
- both checkpoints asked before their target and decided by the run;
- real curl in `netcourse shell idempotency client`: two POSTs with one
  key get one row, a POST without a key a row of its own."""
import shutil

from mblib import *

need_lab()
ev = run_json("idempotency")
pk = {e["i"]: e for e in ev if e["type"] == "packet"}
KEY = "5f0c-comment-2"


def conn(a, b):
    return [e for e in ev if e["type"] == "packet" and "tcp" in e
            and {e["tcp"]["sport"], e["tcp"]["dport"]} == {a, b}]


def http_on(a, b, what):
    return [m for p in conn(a, b) for m in http_msgs(p) if m.get(what)]


choices = apps(ev, call="choose", policy="retrying proxy")
check(len(choices) == 2 and all(c["path"] == "/comment" for c in choices),
      f"the proxy took {len(choices)} POSTs, expected the client's two", ev)
rows_by = {}
for c, key in zip(choices, ("", KEY)):
    tries = [f for f in apps(ev, call="forward") if f["in_port"] == 8080
             and f["in_peer_port"] == c["peer_port"]]
    retries = [r for r in apps(ev, call="retry") if r["peer_port"] == c["peer_port"]]
    # The client's side: one request, one answer.
    check([m["method"] for m in http_on(8080, c["peer_port"], "request")] == ["POST"] and
          [m["status"] for m in http_on(8080, c["peer_port"], "status")] == [201],
          f"the client's connection {c['peer_port']} did not carry one POST and one 201", ev)
    # The server's side: one POST per try, each on its own connection.
    check(len({f["port"] for f in tries}) == len(tries) == len(retries) + 1,
          f"{len(tries)} tries on {len({f['port'] for f in tries})} connections for "
          f"{len(retries)} retries", ev)
    check([(r["attempt"], r["timeout_ms"]) for r in retries] ==
          [(2, 200), (3, 400), (4, 800)][:len(retries)], f"the retries were {retries}", ev)
    for f in tries:
        check([m["method"] for m in http_on(f["port"], 8080, "request")] == ["POST"],
              f"try on {f['port']} did not carry the POST", ev)
    for f in tries[:-1]:
        rst = [p for p in conn(f["port"], 8080) if p["from"] == "middle" and "RST" in p["tcp"]["flags"]]
        check(rst and not http_on(f["port"], 8080, "status"),
              f"the abandoned try on {f['port']} was not reset before any answer", ev)
        check(apps(ev, host="server", peer_port=f["port"], errno="ECONNRESET"),
              f"the server did not meet the reset of the try on {f['port']}", ev)
    check([m["status"] for m in http_on(tries[-1]["port"], 8080, "status")] == [201],
          "the last try was not answered 201", ev)
    rows = [r for f in tries for r in apps(ev, call="row", peer_port=f["port"])]
    dups = [d for f in tries for d in apps(ev, call="duplicate", peer_port=f["port"])]
    check(all(r["key"] == key for r in rows), f"rows with the wrong key: {rows}", ev)
    rows_by[key] = (tries, rows, dups)

tries, rows, dups = rows_by[""]
nokey = len(tries)
check(nokey >= 3 and [r["row"] for r in rows] == list(range(1, nokey + 1)) and not dups,
      f"without a key: {nokey} tries made rows {[r['row'] for r in rows]}, expected a row each",
      ev)
check(len(apps(ev, call="process")) >= 3 and
      all(apps(ev, call="process", peer_port=f["port"]) for f in tries),
      "the server did not do the work for every try", ev)
print(f"ok: without a key, one POST, {nokey} tries, {nokey - 1} resets, {nokey} rows, one 201 "
      "to the client")

tries, rows, dups = rows_by[KEY]
row = nokey + 1
check(len(tries) >= 2 and [r["row"] for r in rows] == [row] and rows[0]["peer_port"] == tries[0]["port"],
      f"with a key: {len(tries)} tries made rows {[r['row'] for r in rows]}, expected row {row} once",
      ev)
check([(d["row"], d["key"], d["peer_port"]) for d in dups] ==
      [(row, KEY, f["port"]) for f in tries[1:]], f"the keyed retries were not duplicates: {dups}",
      ev)
check(not [p for f in tries[1:] for p in apps(ev, call="process", peer_port=f["port"])],
      "the server worked again on a request whose key it had seen", ev)
check(max(e["rows"] for e in apps(ev, host="server") if "rows" in e) == row,
      f"the server does not hold {row} rows in the end", ev)
print(f"ok: with a key, {len(tries)} tries, one row, each retry answered at once as a duplicate "
      f"of row {row}")

dec = check_checkpoints(ev, {"second-row": "b", "keyed-retry": "b"})
check(all(ev[d["target"]].get("call") == "retry" for d in dec.values()),
      "a checkpoint is not about a retry", ev)

if shutil.which("curl"):
    cmd = ("curl -s -d one http://$MIDDLE:8080/comment; "
           "curl -s -d two -H 'Idempotency-Key: k1' http://$MIDDLE:8080/comment; "
           "curl -s -d two -H 'Idempotency-Key: k1' http://$MIDDLE:8080/comment; "
           "curl -s -d three http://$MIDDLE:8080/comment")
    typed, sev = shell("idempotency", "client", cmd)
    check(len(typed) == 4 and all(t.startswith("row ") for t in typed) and typed[1] == typed[2]
          and len(set(typed)) == 3, f"curl printed {typed}", sev)
    # The proxy retries curl's slow POSTs too: every try of the keyed
    # ones after the first is a duplicate of its one row.
    check(len(apps(sev, call="row", key="k1")) == 1 and apps(sev, call="duplicate", key="k1"),
          "curl's two keyed POSTs did not make exactly one row", sev)
    print(f"ok: curl through the retrying proxy: {typed}")
else:
    print("note: curl is not installed; the lab shell part was not run")
