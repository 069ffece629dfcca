"""netcourse run request-response --headless --json: the lesson's run shows
request and response boundaries (a head ended by CR LF CR LF, then a body
whose length the head gives), the server's processing time between a
request and its response, an image uploaded as one request spanning many
segments, and the same image uploaded one request per chunk with the link
cut mid-way and the upload resumed from the offset the server reports.
Every assertion reads the run's own events."""
from nctest import *


def msgs(ev, **where):
    """(packet, message) for every HTTP message whose fields hold where."""
    return [(p, m) for p in ev if p["type"] == "packet" for m in http_msgs(p)
            if all(m.get(k) == v for k, v in where.items())]


def first(ev, what, **where):
    text = where.pop("text", "")
    hits = [e for e in apps(ev, **where) if text in e["text"]]
    check(hits, f"no app event for {what}", ev)
    return hits[0]


need_lab()
ev = run_json("request-response")
pk = [e for e in ev if e["type"] == "packet" and "tcp" in e]

# Boundaries of a GET and its response: the head is complete (the decoder
# found its blank line), no body in the request, and the response's body is
# exactly what its Content-Length announced.
(gp, get), = msgs(ev, method="GET", target="/index.html")
check(get["request"] and get["body_len"] == 0 and get["headers"] >= 1 and not get.get("incomplete"),
      "the GET is not a complete request with a head and no body", ev)
check("blank line" in gp.get("note", ""), "the GET's note does not name the blank line that ends its head", ev)
check(get["seq_end"] - get["seq_start"] == gp["tcp"]["len"], "the GET's head is not the whole segment", ev)
(rp, resp), = [(p, m) for p, m in msgs(ev, request=False, status=200, request_method="GET")
               if not m.get("chunked")]
check(resp["content_length"] == resp["body_len"] == len("<h1>Holiday photos</h1>\n"),
      f"the page's body is {resp['body_len']} bytes, Content-Length {resp.get('content_length')}", ev)
head_len = resp["seq_end"] - resp["seq_start"] - resp["body_len"]
check(head_len > len("HTTP/1.1 200 OK\r\n\r\n"), f"the response's head is {head_len} bytes", ev)

# A chunked answer: no Content-Length; each chunk's size, then the last,
# empty chunk that ends the body.
(cp0, chunked), = msgs(ev, request=False, chunked=True)
check(chunked["chunks"] == [8, 8, 8, 0] and chunked["body_len"] == 24 and "content_length" not in chunked,
      f"the gallery's chunks are {chunked.get('chunks')}", ev)
check(msgs(ev, method="GET", target="/gallery")[0][0]["i"] < cp0["i"], "the chunked answer came before its request", ev)

# Processing time: the server reads the request, works (an app event that
# says how long), then writes; on the wire the response leaves at least
# that long after the request arrived.
rd = first(ev, "the server's read of GET", host="server", call="read", text="GET /index.html")
work = first(ev, "the server's work on GET", host="server", call="process", text="GET /index.html")
wr = [e for e in apps(ev, host="server", call="write") if e["i"] > work["i"]][0]
check(rd["i"] < work["i"] < wr["i"] < rp["i"], "read, work, write and response are out of order", ev)
check(work["ms"] == 30 and rp["t"] - gp["t"] >= 0.025,
      f"the response left {rp['t'] - gp['t']:.3f} s after the request, less than the 30 ms of work", ev)

# The image in one request: one message whose body is all 40000 bytes,
# carried by many segments, answered 201 after 40 ms of work.
(pp, post), = msgs(ev, method="POST", target="/images")
check(post["content_length"] == post["body_len"] == 40000, "the POST's body is not the 40000 bytes announced", ev)
check(post["segments"] > 1, f"the 40000-byte POST spanned {post['segments']} segment(s)", ev)
(cp, created), = msgs(ev, request=False, status=201)
check(cp["i"] > pp["i"] and cp["t"] - pp["t"] >= 0.035, "the 201 did not wait for the server's work", ev)

# Resumable: one PATCH per chunk, each with its own 8000-byte body; the
# server's count of bytes only ever grows, chunk by chunk, to the whole file.
patches = [m for p, m in msgs(ev, method="PATCH") if not p["dropped"]]
check(len(patches) >= 5 and all(m["content_length"] == 8000 for m in patches),
      f"{len(patches)} delivered PATCH requests, not chunks of 8000", ev)
stores = [e["offset"] for e in apps(ev, host="server", call="store")]
check(stores == [8000, 16000, 24000, 32000, 40000], f"the server's counts were {stores}", ev)

# The cut: the chunk sent meanwhile is dropped; the uploader gives up and
# resets the connection; after the link is back, a new handshake, a HEAD,
# and the upload resumes at the offset the server reported.
cut = first(ev, "the cut", call="cut")
restore = first(ev, "the restore", call="restore")
lost = [p for p in pk if p["dropped"] and p["from"] == "client" and p["tcp"]["len"] > 0]
check(lost and all(cut["i"] < p["i"] < restore["i"] for p in lost), "no chunk was lost in the cut", ev)
gave_up = first(ev, "the uploader giving up", host="client", call="timeout")
rst = [p for p in pk if p["from"] == "client" and "RST" in p["tcp"]["flags"] and gave_up["i"] < p["i"] < restore["i"]]
check(rst, "the uploader's reset is not on the wire", ev)
syn = [p for p in pk if p["from"] == "client" and p["tcp"]["flags"] == ["SYN"] and p["i"] > restore["i"]]
check(syn and not syn[0]["dropped"], "no new handshake after the link came back", ev)
(hp, head), = msgs(ev, method="HEAD")
check(hp["i"] > syn[0]["i"], "the HEAD did not go over the new connection", ev)
off = first(ev, "the offset", host="client", call="offset")
before_cut = [e["offset"] for e in apps(ev, host="server", call="store") if e["i"] < cut["i"]]
check(off["offset"] == before_cut[-1] == 16000, f"the uploader resumed at {off['offset']}, the server had {before_cut}", ev)
nxt = [e for e in apps(ev, host="client", call="write") if e["i"] > off["i"]][0]
check(f"bytes {off['offset']}-" in nxt["text"], f"the next chunk is not the one at the offset: {nxt['text']}", ev)

# The checkpoints, decided from the run's own packets.
bare = [p for p in pk if p["from"] == "server" and gp["i"] < p["i"] < rp["i"]
        and p["tcp"]["flags"] == ["ACK"] and p["tcp"]["len"] == 0]
check(decided(ev, "ack") == ("a" if bare else "b"), "checkpoint ack", ev)
check(decided(ev, "segments") == "b", "checkpoint segments", ev)
check(decided(ev, "offset") == "b", "checkpoint offset", ev)
print("ok: request-response shows boundaries, processing time, and a resumed chunked upload")
