"""Hostile packet records in a class (protocol 2 streams each packet as its
bytes and its record; PROTOCOL.md). Two sides:
- a fake instructor (TLS on loopback, speaking the protocol by hand) sends
  a headless student good packets around broken ones: too big, base64 cut
  short, fewer bytes than its caplen says, a caplen that lies, a wire
  length below the bytes, a link type no decoder reads, and record fields
  no decoder writes ("ip"). Each broken record gets exactly one sentence
  in the student's log and a note in its place, the events after it keep
  their indices, the good packets are decoded from their bytes (the
  record's "ip" is not taken), and the student goes on to the end;
- a real instructor: a student that sends such records itself is refused
  (`denied`; one too big for a student's frame closes its connection) and
  the class is unaffected: another student gets the whole
  run, event for event.
"""
# ctest: timeout=300
import base64
import json
import os
import socket
import ssl
import struct
import subprocess
import tempfile
import threading

from classlib import (BYE, ERROR, EVENT, HELLO, RUN, WELCOME, Proc, Student, Teacher, frame,
                      raw_join, read_frame, read_until, same_run)
from nctest import check, need_lab

CODE = "ABCD-EFGH-JKMN"


def udp_frame(payload, sport=40000, dport=9):
    """An Ethernet/IPv4/UDP frame from 10.0.0.1 to 10.0.0.2."""
    udp = struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0x4000, 64, 17, 0,
                     bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    s = sum(struct.unpack(">10H", ip))
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    ip = ip[:10] + struct.pack(">H", ~s & 0xFFFF) + ip[12:]
    eth = bytes.fromhex("020000000002020000000001") + b"\x08\x00"
    return eth + ip + udp


def packet(i, raw, **over):
    body = {"run": 1, "ts": 1, "dlt": 1, "iface": 0, "wirelen": len(raw), "caplen": len(raw),
            "data": base64.b64encode(raw).decode(),
            "ev": {"i": i, "t": 0.001 * (i + 1), "type": "packet", "host": "client",
                   "summary": "-", "dropped": False}}
    ev = over.pop("ev", None)
    body.update(over)
    if ev:
        body["ev"].update(ev)
    return body


def fake_instructor(work):
    """Serves one student: welcome, a run, good and broken packet records,
    then bye. Returns (port, thread, the broken records' indices)."""
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=fake", "-days", "1",
                    "-keyout", f"{work}/k.pem", "-out", f"{work}/c.pem"],
                   check=True, capture_output=True)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(f"{work}/c.pem", f"{work}/k.pem")
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    good = udp_frame(b"hello")
    big = udp_frame(b"x" * 1400)
    records = [
        ("good", packet(0, good)),
        ("oversized", packet(1, big * 50, caplen=len(big) * 50, wirelen=len(big) * 50)),
        ("truncated", packet(2, good, data=base64.b64encode(good).decode()[:-3])),
        ("cut", packet(3, good, data=base64.b64encode(good[:20]).decode())),
        ("lying caplen", packet(4, good, caplen=len(good) + 100, wirelen=len(good) + 100)),
        ("lying wirelen", packet(5, good, wirelen=len(good) - 1)),
        ("link type", packet(6, good, dlt=147)),
        ("foreign fields", packet(7, good, ev={"ip": {"src": "6.6.6.6"}, "dropped": True})),
        ("good", packet(8, udp_frame(b"again"))),
    ]

    def serve():
        c, _ = ls.accept()
        s = ctx.wrap_socket(c, server_side=True)
        hello = read_until(s, HELLO)
        check(hello and hello.get("v") == 2, f"the student's hello: {hello}")
        s.sendall(frame(WELCOME, {"v": 2, "id": 1, "name": "bob", "token": "00ff",
                                  "lesson": "tcp", "mode": "watch", "page": 0, "step": 0,
                                  "resumed": False, "answers": {}}))
        s.sendall(frame(RUN, {"run": 1, "state": "started", "mode": "watch", "lesson": "tcp",
                              "seed": 1, "t0": 1700000000000000000, "faults": [],
                              "hosts": {"10.0.0.1": "client", "10.0.0.2": "server"}}))
        for _, body in records:
            s.sendall(frame(EVENT, body))
        s.sendall(frame(BYE, {"text": "the instructor ended the class"}))
        try:
            while read_frame(s)[0] is not None:
                pass
        except OSError:
            pass
        s.close()
        ls.close()

    th = threading.Thread(target=serve, daemon=True)
    th.start()
    return ls.getsockname()[1], th, records


def student_side(work):
    port, th, records = fake_instructor(work)
    bob = Proc("bob", ["join", "127.0.0.1", CODE, "--port", str(port), "--name", "bob",
                       "--headless"], f"{work}/bob")
    bob.wait_class("bye", timeout=30)
    check(bob.finish() == 0, "the student did not end as the class did")
    th.join(10)
    events = bob.events()
    check([e["i"] for e in events] == list(range(len(records))),
          f"the student's events are not one per record, in order: {[e['i'] for e in events]}")
    errors = [o["text"] for o in bob.lines if o.get("class") == "error"]
    broken = [k for k, (what, _) in enumerate(records) if what not in ("good", "foreign fields")]
    check(len(errors) == len(broken), f"{len(errors)} sentences for {len(broken)} broken "
                                      f"records: {errors}")
    for k, text in zip(broken, errors):
        check(text.startswith(f"packet {k} of the class's run could not be rebuilt: ") and
              text.count(". ") == 0, f"record {k} ({records[k][0]}): {text}")
        ev = events[k]
        check(ev["type"] == "note" and ev["summary"] == text, f"record {k}'s place: {ev}")
    for k in (0, 7, 8):
        ev = events[k]
        check(ev["type"] == "packet" and ev["from"] == "client" and ev["to"] == "server" and
              ev["udp"]["dport"] == 9 and ev["ip"]["src"] == "10.0.0.1",
              f"record {k} was not decoded from its bytes: {ev}")
    check(events[7]["dropped"] is True, f"record 7's own dropped field: {events[7]}")
    check(events[8]["udp"]["payload_len"] == 5, f"the last good packet: {events[8]}")
    reasons = "; ".join(t.split(": ", 1)[1] for t in errors)
    return reasons


def class_side():
    t = Teacher(lesson="tcp")
    ann = Student(t, "ann", "")
    t.wait_class("joined", student="ann")
    mal, mtype, _ = raw_join(t, "mallory")
    check(mtype == WELCOME, "mallory was not welcomed")
    small = udp_frame(b"hello")
    for body in (packet(0, small, caplen=10), packet(0, small, wirelen=3),
                 packet(0, small, data=base64.b64encode(small).decode()[:-3])):
        mal.sendall(frame(EVENT, body))
        mtype, reply = read_frame(mal)
        check(mtype == ERROR and reply.get("code") == "denied",
              f"a student's packet record got {mtype} {reply}")
    # Too big for anything a student may send: the connection is closed.
    big = udp_frame(b"x" * 1400)
    try:
        mal.sendall(frame(EVENT, packet(0, big * 50, caplen=len(big) * 50)))
        mtype, reply = read_frame(mal)
        check(mtype is None or (mtype == ERROR and reply.get("code") == "garbage"),
              f"a student's oversized record got {mtype} {reply}")
    except OSError:
        pass
    t.send("run")
    ann.wait_class("run", state="done", run=1, timeout=60)
    t.wait_class("run", state="done", run=1, timeout=60)
    same_run("ann", ann.runs()[1], t.students_runs()[1])
    mal.close()
    t.send("quit")
    t.finish()
    ann.finish()


def main():
    need_lab()
    work = tempfile.mkdtemp(prefix="nc-class-hostile-bytes-")
    reasons = student_side(work)
    class_side()
    print(f"ok: each broken record got one sentence ({reasons}); a student's records were "
          "refused and the class went on")


if __name__ == "__main__":
    main()
