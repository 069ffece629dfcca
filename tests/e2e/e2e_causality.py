"""Effects never come before their causes on the timeline. An app event
carries the time its call was made, so a packet the call made the kernel
send comes after it:
  tcp             each side's FIN after its close(); the k-th data segment
                  a side sends (retransmissions aside) after its k-th write();
  socket-buffers  the server's first non-zero window after a zero window
                  (the window update read() sends when it frees space) after
                  a read() that followed the zero window; the client's FIN
                  after its close().
  accept-queue    the server's first FIN after its report that it says goodbye
                  and closes; the clients' first FIN after theirs; every time
                  the accept queue shrinks, as many accept() calls before it.
  every lesson    a listener's first state sample after its program's listen().
The probe stamps a sample when its dump is complete (what it shows was true
by then), and a call is stamped before it is made, so a state change a call
caused comes after the call. Each lesson runs three times: order must hold
in every run, not by luck."""
from nctest import *

need_lab()


def tcp_packets(ev, host):
    return [e for e in ev if e["type"] == "packet" and "tcp" in e and e["from"] == host]


def first_fin_after_close(ev, host):
    fins = [e for e in tcp_packets(ev, host) if "FIN" in e["tcp"]["flags"]]
    closes = apps(ev, host=host, call="close")
    check(fins, f"{host} sent no FIN", ev)
    check(closes, f"{host} reported no close()", ev)
    check(closes[0]["i"] < fins[0]["i"],
          f"{host}'s FIN (#{fins[0]['i']}, +{fins[0]['t']:.6f}) is shown before its close() "
          f"(#{closes[0]['i']}, +{closes[0]['t']:.6f})", ev)
    check(closes[0]["t"] <= fins[0]["t"], f"{host}'s close() is stamped after its FIN", ev)


def writes_before_data(ev, host):
    data = [e for e in tcp_packets(ev, host)
            if e["tcp"]["len"] > 0 and not e["tcp"].get("retransmission")]
    writes = apps(ev, host=host, call="write")
    check(len(writes) >= 1 and len(data) >= len(writes),
          f"{host}: {len(writes)} writes, {len(data)} data segments", ev)
    # Each write here is one segment (Nagle off, 1000 bytes, well apart).
    for k, w in enumerate(writes):
        check(w["i"] < data[k]["i"],
              f"{host}'s data segment #{data[k]['i']} is shown before the write() #{w['i']} "
              f"that sent it", ev)


def listen_before_listener(ev):
    seen = set()
    for e in ev:
        if e["type"] == "app" and e.get("call") == "listen":
            seen.add(e["host"])
        sock = e.get("socket", "") if e["type"] == "state" else ""
        if sock.endswith(" listen") and e["host"] not in seen:
            fail(f"the listener {sock} is sampled (#{e['i']}, +{e['t']:.6f}) before any listen() "
                 f"on {e['host']}", ev)


def accepts_before_shrinks(ev):
    accepts, shrunk, q = 0, 0, 0
    for e in ev:
        if e["type"] == "app" and e["host"] == "server" and e.get("call") == "accept":
            accepts += 1
        if e["type"] == "state" and e.get("socket") == "server:7000 listen" and "accept_queue" in e:
            shrunk += max(0, q - e["accept_queue"])
            q = e["accept_queue"]
            check(shrunk <= accepts, f"the accept queue shrank to {q} (#{e['i']}) before the "
                  f"accept() that took a connection off it ({accepts} accepts, {shrunk} taken)", ev)


def tcp_run():
    ev = run_json("tcp")
    listen_before_listener(ev)
    for host in ("client", "server"):
        first_fin_after_close(ev, host)
        writes_before_data(ev, host)


def window_reopened_after_read(ev):
    srv = tcp_packets(ev, "server")
    zero = next((e for e in srv if e["tcp"]["win"] == 0), None)
    check(zero, "the server never advertised a zero window", ev)
    reopen = next((e for e in srv if e["i"] > zero["i"] and e["tcp"]["win"] > 0), None)
    check(reopen, "the server's window never opened again", ev)
    reads = [a for a in apps(ev, host="server", call="read") if zero["i"] < a["i"]]
    check(reads, "the server never read after the zero window", ev)
    check(reads[0]["i"] < reopen["i"],
          f"the window update #{reopen['i']} (+{reopen['t']:.6f}) is shown before the read() "
          f"#{reads[0]['i']} (+{reads[0]['t']:.6f}) that freed the space", ev)


def buffers_run():
    ev = run_json("socket-buffers")
    listen_before_listener(ev)
    window_reopened_after_read(ev)
    first_fin_after_close(ev, "client")


def accept_queue_run():
    ev = run_json("accept-queue")
    listen_before_listener(ev)
    accepts_before_shrinks(ev)
    first_fin_after_close(ev, "server")
    first_fin_after_close(ev, "client")


for n in range(3):
    tcp_run()
    buffers_run()
    accept_queue_run()
    for lesson in ("osi", "listener-workers", "process-thread"):
        listen_before_listener(run_json(lesson))
print("ok: close() before FIN, write() before data, read() before the window update, listen() "
      "before its listener, accept() before the queue shrinks; every lesson 3 times")
