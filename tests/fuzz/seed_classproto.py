"""Writes the seed corpus of fuzz_classproto (tests/fuzz/corpus/classproto)
from an event stream: `netcourse run tcp --headless --json > events.jsonl`,
then `python3 seed_classproto.py events.jsonl corpus/classproto`. Each
seed is one chunk-size byte followed by frames as the class sends them,
plus hand-made broken ones."""
import json
import os
import struct
import sys

HELLO, WELCOME, RUN, EVENT = 1, 2, 3, 4


def frame(t, body):
    b = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode()
    return struct.pack(">IB", len(b) + 1, t) + b


def main(src, out):
    os.makedirs(out, exist_ok=True)
    events = [json.loads(l) for l in open(src)]
    seeds = {
        "hello": frame(HELLO, {"v": 2, "name": "ann", "code": "ABCD-EFGH-JKMN", "token": "00ff"}),
        "welcome": frame(WELCOME, {"v": 2, "id": 1, "name": "ann", "token": "ab", "lesson": "tcp",
                                   "mode": "watch", "page": 0, "step": 0, "resumed": False}),
        "huge-length": struct.pack(">IB", 0x7FFFFFF0, HELLO) + b"{}",
        "zero-length": struct.pack(">I", 0) + b"\x01{}",
        "unknown-type": struct.pack(">IB", 3, 200) + b"{}",
        "deep": frame(EVENT, b"{\"ev\":" + b"[" * 40 + b"]" * 40 + b"}"),
        "escapes": frame(EVENT, b'{"ev":{"i":0,"t":0.5,"type":"note","host":"\\ud83d\\ude00",'
                                b'"summary":"a\\u0000b\\ud800","x":[1,-0,2.5e3,true,null]}}'),
    }
    for k, ev in enumerate(events[:12]):
        seeds[f"event-{k}"] = frame(EVENT, {"run": 1, "ts": 1, "ev": ev})
    seeds["stream"] = b"".join(frame(EVENT, {"run": 1, "ts": 1, "ev": e}) for e in events[:30])
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(bytes([len(data) % 37]) + data)
        if name.startswith("event-") or name == "escapes":
            with open(os.path.join(out, name + ".json"), "wb") as f:
                f.write(data[5:])


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
