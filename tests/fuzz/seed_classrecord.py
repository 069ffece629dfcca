"""Writes the seed corpus of fuzz_classrecord (tests/fuzz/corpus/classrecord)
from the event message bodies a student received in a class, one JSON body
per line (a raw student of tests/e2e/classlib.py, raw_join then read_frame
of every EVENT frame): `python3 seed_classrecord.py bodies.jsonl
corpus/classrecord`. Each seed is bodies, one per line, as one run's
packets reach a student; the broken ones are a real packet's body made too
big, cut short, or lying about its lengths and link type."""
import base64
import json
import os
import sys


def dump(body):
    return json.dumps(body, separators=(",", ":"))


def main(src, out):
    os.makedirs(out, exist_ok=True)
    bodies = [json.loads(l) for l in open(src)]
    packets = [b for b in bodies if "data" in b]
    seeds = {"stream": "\n".join(dump(b) for b in bodies[:60])}
    for k, b in enumerate(packets[:6]):
        seeds[f"packet-{k}"] = dump(b)
    p = dict(packets[min(5, len(packets) - 1)])
    raw = base64.b64decode(p["data"])
    broken = {
        "oversized": dict(p, data=base64.b64encode(raw * (70000 // len(raw) + 1)).decode(),
                          caplen=len(raw) * (70000 // len(raw) + 1)),
        "truncated": dict(p, data=p["data"][:-3]),
        "cut-bytes": dict(p, data=base64.b64encode(raw[: len(raw) // 2]).decode()),
        "lying-caplen": dict(p, caplen=p["caplen"] + 10),
        "lying-wirelen": dict(p, wirelen=p["caplen"] - 1),
        "huge-wirelen": dict(p, wirelen=1 << 31),
        "bad-dlt": dict(p, dlt=147),
        "no-record-keys": dict(p, ev=dict(p["ev"], ip={"src": "1.2.3.4"}, dropped="yes")),
    }
    for name, b in broken.items():
        seeds[name] = dump(b)
    seeds["broken-then-good"] = "\n".join(dump(b) for b in [broken["truncated"]] + packets[:4])
    for name, text in seeds.items():
        with open(os.path.join(out, name), "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
