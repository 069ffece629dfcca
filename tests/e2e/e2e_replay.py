"""Saved runs end to end: `netcourse run tcp --save FILE --headless --json`
then `netcourse replay FILE --json` prints the same events (only float
formatting may differ); Wireshark (tshark) numbers the frames as netcourse
numbers the packets and shows each annotation as its packet comment; the
run is kept in the data directory and listed by `netcourse runs`; `replay
--dump` prints the ladder; `export` draws it as SVG (rendered to PNG by
rsvg-convert, which must have content) and Mermaid."""
import json
import os
import shutil
import struct
import subprocess
import tempfile
import zlib

from nctest import *

need_lab()
tmp = tempfile.mkdtemp(prefix="nc-e2e-replay-")
data_dir = os.path.join(tmp, "data")
saved = os.path.join(tmp, "tcp.pcapng")

live = run_json("tcp", extra=["--save", saved], data_dir=data_dir)
check(os.path.getsize(saved) > 1000, "the saved run is empty")

rc, out, err = run(["replay", saved, "--json"])
check(rc == 0, f"replay --json exited {rc}: {err.strip()}")
replayed = [json.loads(line) for line in out.splitlines()]


def same(a, b, path="event"):
    """Equal JSON values; numbers compare as numbers (float formatting)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b or fail(f"{path}: {a!r} != {b!r}")
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(a - b) <= 1e-9 * max(1, abs(a)) or fail(f"{path}: {a!r} != {b!r}")
    if isinstance(a, dict) and isinstance(b, dict):
        check(a.keys() == b.keys(), f"{path}: keys {sorted(a)} != {sorted(b)}")
        for k in a:
            same(a[k], b[k], f"{path}.{k}")
        return True
    if isinstance(a, list) and isinstance(b, list):
        check(len(a) == len(b), f"{path}: {len(a)} items != {len(b)}")
        for k, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{path}[{k}]")
        return True
    return a == b or fail(f"{path}: {a!r} != {b!r}")


check(len(replayed) == len(live), f"replay printed {len(replayed)} events, the live run {len(live)}")
for n, (a, b) in enumerate(zip(live, replayed)):
    same(a, b, f"event {n}")
print(f"ok: replay --json equals the live run, {len(live)} events")

# Wireshark's frame numbers are netcourse's packet numbers, notes are comments.
tshark = shutil.which("tshark")
check(tshark, "tshark is missing (Debian package tshark); .ci/quickstart installs it")
p = subprocess.run([tshark, "-r", saved, "-T", "fields", "-e", "frame.number", "-e",
                    "frame.comment", "-e", "frame.len"],
                   capture_output=True, text=True, timeout=60)
check(p.returncode == 0, f"tshark could not read the saved run: {p.stderr.strip()}")
frames = [line.split("\t") for line in p.stdout.splitlines()]
pk = [e for e in live if e["type"] == "packet"]
check(len(frames) >= len(pk), f"tshark shows {len(frames)} frames for {len(pk)} packets")
for k, e in enumerate(pk, 1):
    num, comment, flen = frames[k - 1][0], frames[k - 1][1], frames[k - 1][2]
    check(int(num) == k, f"tshark frame {num} where netcourse has packet {k}")
    check(comment == e.get("note", ""),
          f"frame {k}: comment {comment[:60]!r} is not the note of packet {k} "
          f"(event {e['i']}: {e.get('note', '')[:60]!r})")
    check(int(flen) == e["len"], f"frame {k} is {flen} bytes, packet {k} {e['len']}")
# Anything after the packets is the netcourse block, never a renumbered frame.
print(f"ok: tshark frames 1..{len(pk)} carry netcourse's notes as comments")

# Kept automatically and listed.
rc, out, err = run(["runs"], data_dir=data_dir)
check(rc == 0, f"runs exited {rc}: {err.strip()}")
rows = [l for l in out.splitlines()[1:] if l.strip()]
check(len(rows) == 1 and " tcp " in rows[0] and rows[0].rstrip().endswith(".pcapng"),
      f"runs does not list the kept run: {out!r}")
kept = rows[0].split()[-1]
check(os.path.isfile(kept) and kept.startswith(os.path.join(data_dir, "runs")),
      f"the kept run {kept} is not under the data directory")
npk = str(len([e for e in live if e["type"] == "packet"]))
check(npk in rows[0].split(), f"runs does not give the packet count {npk}: {rows[0]}")

# --dump: one line per event, the dropped segment marked.
rc, out, err = run(["replay", saved, "--dump"])
check(rc == 0, f"replay --dump exited {rc}: {err.strip()}")
heads = [l for l in out.splitlines() if l[:5].strip().isdigit()]
check(len(heads) == len(live), f"--dump printed {len(heads)} event lines for {len(live)} events")
check(any(" -x " in l for l in heads), "--dump does not mark the dropped segment")

# Export: SVG rendered by a real renderer, and Mermaid.
svg, mmd = os.path.join(tmp, "tcp.svg"), os.path.join(tmp, "tcp.mmd")
rc, out, err = run(["export", saved, "--svg", svg, "--mermaid", mmd])
check(rc == 0, f"export exited {rc}: {err.strip()}")
text = open(mmd).read()
check(text.startswith("sequenceDiagram\n"), "the Mermaid file is not a sequenceDiagram")
check("-x" in text and "->>" in text, "the Mermaid diagram lacks arrows or the dropped packet")
rc, out, err = run(["export", saved, "--mermaid", "-", "--from", "3", "--to", "9"])
check(rc == 0 and len([l for l in out.splitlines() if "->>" in l or "-x" in l]) <= 7,
      f"export --from/--to did not narrow the diagram: {err}")
rsvg = shutil.which("rsvg-convert")
check(rsvg, "rsvg-convert is missing (Debian package librsvg2-bin)")
png = os.path.join(tmp, "tcp.png")
p = subprocess.run([rsvg, "-o", png, svg], capture_output=True, text=True, timeout=60)
check(p.returncode == 0, f"rsvg-convert could not render the SVG: {p.stderr.strip()}")


def png_ink(path):
    """(width, height, share of pixels that are not white) of an 8-bit PNG."""
    data = open(path, "rb").read()
    check(data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG")
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            check(depth == 8, f"PNG depth {depth}")
            bpp = {2: 3, 6: 4, 0: 1, 4: 2}[ctype]
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev, ink = bytearray(stride), 0
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        ink += sum(1 for x in range(0, stride, bpp) if min(line[x:x + min(bpp, 3)]) < 200)
        prev = line
    return w, h, ink / (w * h)


w, h, ink = png_ink(png)
check(w >= 1000 and h >= 300, f"the rendered diagram is {w}x{h}")
check(0.01 < ink < 0.6, f"the rendered diagram has {ink:.1%} ink: empty or a blot")
print(f"ok: export renders ({w}x{h} PNG, {ink:.1%} ink) and Mermaid has the dropped arrow")
shutil.rmtree(tmp)
