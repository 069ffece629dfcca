"""The tests' own reading of a run's comparison (src/scenario/compare.c
measures the same things; this is an independent count from the JSON
events, so a test can hold the note's numbers against it).

A way is one lesson program: its connections are the local ports its app
events carry, on its host."""
from nctest import *


def http_msgs(ev):
    """The HTTP messages a packet completes (one object or a list)."""
    h = ev.get("http")
    if h is None:
        return []
    return h if isinstance(h, list) else [h]


def h2_counts(ev):
    """(requests, ended messages) among a packet's HTTP/2 frames: a HEADERS
    frame with a :method opens a request; a HEADERS or DATA frame with
    END_STREAM ends a message (an answer, when the peer sent it)."""
    h = ev.get("http2")
    frames = [] if h is None else h if isinstance(h, list) else [h]
    rq = rs = 0
    for f in frames:
        if f.get("type") not in (0, 1):
            continue
        if f.get("flags", 0) & 1:
            rs += 1
        if f["type"] == 1 and any(x.get("name") == ":method" for x in f.get("header", [])):
            rq += 1
    return rq, rs


def way_ports(events, program):
    """The host and local ports of a program's connections."""
    host, ports = None, set()
    for e in events:
        if e["type"] == "app" and e.get("program") == program and e.get("port"):
            host = e["host"]
            ports.add(e["port"])
    return host, ports


def way_packets(events, program):
    """(packet, sent by the way's host) for every packet of its connections."""
    host, ports = way_ports(events, program)
    check(host and ports, f"program {program} reported no connection")
    out = []
    for e in events:
        t = e.get("tcp") or e.get("udp") if e["type"] == "packet" else None
        if not t:
            continue
        if e["from"] == host and t["sport"] in ports:
            out.append((e, True))
        elif e["to"] == host and t["dport"] in ports:
            out.append((e, False))
    return out


def h3_msgs(e):
    """A packet's HTTP/3 frames (one object or a list)."""
    h = e.get("http3")
    return [] if h is None else h if isinstance(h, list) else [h]


def h2_streams(e):
    """The HTTP/2 stream ids (above 0) a packet carries frames of, or None
    when it carries no HTTP/2 frame."""
    h = e.get("http2")
    if h is None:
        return None
    return {f["streamid"] for f in (h if isinstance(h, list) else [h])
            if f.get("streamid", 0) > 0}


def run_packets(events, program=None):
    """(packet, sent, connection) for every TCP packet measured: a program's
    connections, or (program None) every connection, the side that sent the
    SYN being the client."""
    if program is not None:
        return [(e, sent, (e["from"], (e.get("tcp") or e["udp"])["sport"]) if sent
                 else (e["to"], (e.get("tcp") or e["udp"])["dport"]))
                for e, sent in way_packets(events, program)]
    clients, out = set(), []
    for e in events:
        if e["type"] != "packet" or "tcp" not in e:
            continue
        t = e["tcp"]
        if "SYN" in t["flags"] and "ACK" not in t["flags"]:
            clients.add((e["from"], t["sport"]))
        if (e["from"], t["sport"]) in clients:
            out.append((e, True, (e["from"], t["sport"])))
        elif (e["to"], t["dport"]) in clients:
            out.append((e, False, (e["to"], t["dport"])))
    return out


def measure(events, program=None):
    """The numbers compare.c gives a way (or, program None, a whole run),
    counted again."""
    if program:
        host, ports = way_ports(events, program)
        ends = {(host, port) for port in ports}
    else:
        ends = {(e["from"], e["tcp"]["sport"]) for e in events
                if e["type"] == "packet" and "tcp" in e and "SYN" in e["tcp"]["flags"]
                and "ACK" not in e["tcp"]["flags"]}
    m = dict(requests=0, answers=0, empty=0, connections=0, round_trips=0, packets=0, bytes=0,
             first_byte_round_trips=0, stalled_streams=0)
    outstanding, first, last, first_answer, last_answer = 0, None, None, None, None
    stall_open, stalled, turn, used, held_conns = set(), set(), False, set(), set()
    for e, sent, conn in run_packets(events, program):
        m["packets"] += 1
        m["bytes"] += e["len"]
        first = e["t"] if first is None else first
        last = e["t"]
        udp = "udp" in e
        flags = set(e.get("tcp", {}).get("flags", []))
        retrans = e.get("tcp", {}).get("retransmission")
        if sent and "SYN" in flags and "ACK" not in flags and not retrans:
            m["connections"] += 1
            m["round_trips"] += 1
        if udp and sent and conn not in used:
            m["connections"] += 1  # a QUIC way's connection: a port's first datagram
            m["round_trips"] += 1  # and its handshake's trip
        used.add(conn)
        tls = e.get("tls")
        m["round_trips"] += sum(t.get("round_trips", 0)
                                for t in ([] if tls is None else tls if isinstance(tls, list) else [tls]))
        msgs = http_msgs(e)
        rq = sum(1 for h in msgs if h.get("request"))
        rs = sum(1 for h in msgs if not h.get("request") and "status" in h)
        rq2, rs2 = h2_counts(e)
        rq, rs = rq + rq2, rs + rs2
        rq += sum(1 for h in h3_msgs(e) if "method" in h)
        rs += sum(1 for h in h3_msgs(e) if "method" not in h and "status" in h)
        data = (e["udp"].get("payload_len", 0) if udp else e["tcp"].get("len", 0)) > 0
        # An answer completed in a dropped packet, or over TCP behind a hole
        # not yet repaired, reaches the client with the repair.
        held = (not sent and rs and
                (e["dropped"] or (not udp and (conn, False) in stall_open
                                  and not (data and retrans))))
        if sent:
            if rq and outstanding == 0:
                m["round_trips"] += 1
            outstanding += rq
            m["requests"] += rq
        elif rs:
            outstanding = max(0, outstanding - rs)
            m["answers"] += rs
            if held:
                held_conns.add(conn)
            else:
                last_answer = e["t"]
        # The turns from the client speaking to the server speaking, up to
        # the first answer.
        if first_answer is None:
            if sent and (data or ("SYN" in flags and "ACK" not in flags)):
                turn = True
            elif not sent and turn and (data or "SYN" in flags):
                turn = False
                m["first_byte_round_trips"] += 1
            if not sent and rs and not held:
                first_answer = e["t"]
        # A lost data segment stalls its direction until a retransmission
        # arrives; the streams of the lost segment, of every data segment
        # behind it and of the repairing one waited.
        side = (conn, sent)
        repaired = False
        if data and not udp and (e["dropped"] or side in stall_open):
            if e["dropped"]:
                stall_open.add(side)
            elif retrans:
                stall_open.discard(side)
                repaired = True
            ids = h2_streams(e)
            for sid in ([-1] if ids is None else ids):
                stalled.add((side, sid))
        elif udp:
            # QUIC: a STREAM frame sent again for a lost packet; only its
            # stream waited.
            q = e.get("quic", [])
            for pkt in (q if isinstance(q, list) else [q]):
                for fr in pkt.get("frame", []):
                    if "retransmission_of" in fr and "stream" in fr:
                        stalled.add((side, fr["stream"]["stream_id"]))
                        repaired = not e["dropped"]
        if repaired and not sent and conn in held_conns:
            held_conns.discard(conn)
            last_answer = e["t"] if last_answer is None else max(last_answer, e["t"])
            if first_answer is None:
                first_answer = e["t"]
    # A connection's own byte stream (-1) counts only when none of its
    # packets named an HTTP/2 stream.
    named = {side[0] for side, sid in stalled if sid != -1}
    m["stalled_streams"] = len([1 for side, sid in stalled if sid != -1 or side[0] not in named])
    for e in events:
        if (e["type"] == "app" and e.get("call") == "write" and e.get("news") == 0
                and any(e.get("peer_port") == p and e["host"] != h for h, p in ends)):
            m["empty"] += 1
    m["time_ms"] = ((last_answer if last_answer is not None else last) - first) * 1000
    m["first_byte_ms"] = 0 if first_answer is None else (first_answer - first) * 1000
    return m


def comparison(events, compare_id):
    """The run's comparison note with this id, checked to be one."""
    notes = [e for e in events if e["type"] == "note" and e.get("compare") == compare_id]
    check(len(notes) == 1, f"the run holds {len(notes)} comparison notes \"{compare_id}\"")
    n = notes[0]
    check(n["host"] == "lesson" and isinstance(n.get("ways"), list) and n["ways"],
          f"the comparison note has no ways: {n}")
    later = [e for e in events[n["i"] + 1:] if e["type"] in ("packet", "app")]
    check(not later, f"packets or app events follow the comparison: {later[:2]}")
    return n


def check_against_run(events, note):
    """Every number of every way equals the test's own count; returns the
    ways by program."""
    out = {}
    for w in note["ways"]:
        mine = measure(events, w["program"])
        for k in ("requests", "answers", "empty", "connections", "round_trips", "packets", "bytes",
                  "first_byte_round_trips", "stalled_streams"):
            check(w[k] == mine[k], f"{w['label']}: the note says {k} {w[k]}, the run's events "
                                   f"say {mine[k]}")
        check(abs(w["time_ms"] - mine["time_ms"]) < 0.2,
              f"{w['label']}: the note says {w['time_ms']} ms, the events {mine['time_ms']:.3f}")
        check(abs(w["first_byte_ms"] - mine["first_byte_ms"]) < 0.2,
              f"{w['label']}: the note says first byte at {w['first_byte_ms']} ms, the events "
              f"{mine['first_byte_ms']:.3f}")
        said = f"{w['label']}: {w['requests']} request"
        check(said in (note.get("note") or ""), f"the note's text does not say \"{said}\"")
        check(f"{w['bytes']} bytes, {w['time_ms']:.1f} ms." in note["note"],
              f"the note's text and its numbers differ for {w['label']}: {note['note']}")
        out[w["program"]] = w
    return out
