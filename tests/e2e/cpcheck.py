"""cpcheck.py: an independent checker of a run's checkpoints.

It reads a lesson file and the JSON events of one of its runs, and checks
the checkpoint model of lessons/README.md against them without using the
runner's matcher: this file has its own reader for the lesson's run blocks,
its own matcher and its own idea of each checkpoint's target and evidence
window, written from the README. check_run() returns a list of problems,
one sentence each; an empty list means the run kept every promise:

- every checkpoint ends exactly once, decided or skipped, never both, and
  a skipped checkpoint is never graded;
- a question is asked only when no other is open, so the evidence of the
  previous decision is on screen first;
- nothing of the checkpoint's reveal set or its target is shown before
  the question, and the question is asked just before one of them;
- a decided answer is the one choice that holds over the events from the
  target to the close of the window, and it is shown after that close;
- the explanation is the one chosen by the answer, with its placeholders
  filled in;
- a checkpoint skipped before being asked had no moment to be asked in:
  its target never came, or it came while another checkpoint was open.
"""
import json
import re

TYPES = ("packet", "app", "state", "mark", "note")
OPS = (">=", "<=", "!=", "=", "~", ">", "<")


# ---- the lesson's run blocks ----

def read_blocks(path):
    """The fenced run blocks of a lesson: a list of (kind, {key: value})."""
    lines = open(path, encoding="utf-8").read().split("\n")
    blocks, i = [], 0
    while i < len(lines):
        m = re.match(r"^ {0,3}(`{3,}|~{3,})\s*(step|checkpoint|note)\s*$", lines[i])
        if not m:
            fence = re.match(r"^ {0,3}(`{3,}|~{3,})", lines[i])
            if fence:  # skip any other fenced block whole
                i += 1
                while i < len(lines) and not lines[i].strip().startswith(fence.group(1)):
                    i += 1
            i += 1
            continue
        kv, key, i = {}, None, i + 1
        while i < len(lines) and not lines[i].strip().startswith(m.group(1)):
            line = lines[i].rstrip("\r")
            if line[:1] in (" ", "\t") and key:
                kv[key] = (kv[key] + " " + line.strip()).strip()
            elif line.strip():
                key, _, value = line.partition(":")
                kv[key.strip()] = value.strip()
            i += 1
        blocks.append((m.group(2), kv))
        i += 1
    return blocks


def read_checkpoints(path):
    """The lesson's checkpoints, in document order, as dicts."""
    cps = []
    for kind, kv in read_blocks(path):
        if kind != "checkpoint":
            continue
        choices = []
        for key in sorted(k for k in kv if len(k) == 1 and k.islower()):
            text, _, rule = kv[key].rpartition("|")
            word, _, matcher = rule.strip().partition(" ")
            choices.append({"key": key, "text": text.strip(), "rule": word,
                            "match": matcher.strip() or None,
                            "explain": kv.get("explain_" + key)})
        # Without a window, later/never choices read to the end of the run
        # (what lessons/README.md said before windows existed); with when
        # choices alone the target decides.
        watch = any(kv[k].rpartition("|")[2].split()[:1] in (["later"], ["never"])
                    for k in kv if len(k) == 1 and k.islower())
        window = kv.get("window", "run" if watch else "target")
        kind_, _, until = window.partition(" ")
        cps.append({"id": kv["id"], "before": kv["before"], "after": kv.get("after"),
                    "reveal": kv.get("reveal"), "window": kind_, "until": until.strip() or None,
                    "explain": kv["explain"], "choices": choices})
    return cps


# ---- matching ----

def tokens(src):
    out, cur, quoted, have = [], "", False, False
    for ch in src:
        if ch == '"':
            quoted, have = not quoted, True
        elif ch in " \t" and not quoted:
            if have:
                out.append(cur)
            cur, have = "", False
        else:
            cur, have = cur + ch, True
    if have:
        out.append(cur)
    return out


def text_of(v):
    """The text form of a JSON value, as a matcher compares it."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return v
    if isinstance(v, list):
        return ",".join(text_of(x) for x in v)
    if isinstance(v, float) and v == int(v) and abs(v) < 1e15:
        return str(int(v))
    if isinstance(v, (dict,)):
        return json.dumps(v, separators=(",", ":"))
    return str(v)


def lookup(ev, path):
    """(found, value) of a dotted path in an event."""
    if path in ev and "." not in path:
        return True, ev[path]
    cur = ev
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return False, None
        cur = cur[part]
    return True, cur


def lookups(ev, path):
    """Every (found, value) of a dotted path in an event: where a packet
    completes several messages of one protocol (a list of objects, three
    pipelined "http" or a flight of "tls" messages), one per message."""
    if path in ev and "." not in path:
        return [(True, ev[path])]
    alts = [ev]
    for part in path.split("."):
        nxt = []
        for cur in alts:
            if isinstance(cur, list) and cur and all(isinstance(x, dict) for x in cur):
                nxt += [x[part] if part in x else None for x in cur]
            elif isinstance(cur, dict) and part in cur:
                nxt.append(cur[part])
            else:
                nxt.append(None)
        alts = nxt
    return [(v is not None, v) for v in alts]


def truthy(s):
    return not (s == "" or s == "false" or s == "0")


def num(s):
    try:
        return float(s)
    except ValueError:
        return None


def term_holds(term, ev, ref):
    if term in TYPES:
        return ev["type"] == term
    op = None
    for k in range(len(term)):
        if k == 0 and term[0] == "!":
            continue
        for o in OPS:
            if term.startswith(o, k):
                op, at = o, k
                break
        if op:
            break
    if op is None:
        # A bare path holds when one message has it; its negation when each
        # lacks it.
        neg = term.startswith("!")
        ok = any(found and truthy(text_of(v)) for found, v in lookups(ev, term[1:] if neg else term))
        return not ok if neg else ok
    path, want = term[:at], term[at + len(op):]
    if want.startswith("$"):
        found, rv = lookup(ref, want[1:]) if ref else (False, None)
        if not found:
            return False
        want = text_of(rv)
    alts = lookups(ev, path)
    if op == "!=":
        return all(value_holds(op, want, found, v) for found, v in alts)
    return any(value_holds(op, want, found, v) for found, v in alts)


def value_holds(op, want, found, v):
    """Whether one message's value of a path satisfies `op want`."""
    if not found:
        return op == "!="
    got, is_list = text_of(v), isinstance(v, list)
    if op in ("=", "!="):
        same = sorted(got.split(",")) == sorted(want.split(",")) if is_list else got == want
        return same if op == "=" else not same
    if op == "~":
        return want in got.split(",") if is_list else want in got
    x, y = num(got), num(want)
    if x is None or y is None:
        return False
    return {">": x > y, "<": x < y, ">=": x >= y, "<=": x <= y}[op]


def matches(src, ev, ref=None):
    return all(term_holds(t, ev, ref) for t in tokens(src))


# ---- the checks ----

def fill(template, target, close):
    def value(m):
        ref = m.group(1) == "$"
        found, v = lookup(target if ref else close, m.group(2))
        return text_of(v) if found else "?"
    return re.sub(r"\{(\$?)([A-Za-z0-9_.\-]+)\}", value, template)


def window_close(cp, events, t):
    """The index of the event that closes the window opened at target t,
    or None when it stays open to the end of the run."""
    if cp["window"] == "target":
        return t
    if cp["window"] == "until":
        for e in events[t + 1:]:
            if e["type"] != "mark" and matches(cp["until"], e, events[t]):
                return e["i"]
        return None
    if cp["window"] == "step":
        begin = [e for e in events[:t] if e["type"] == "mark" and e.get("event") == "begin"]
        if not begin:
            return None
        step = begin[-1]["step"]
        for e in events[t:]:
            if e["type"] == "mark" and e.get("step") == step and e.get("event") == "end":
                prior = [p for p in events[:e["i"]] if p["type"] != "mark"]
                return max(prior[-1]["i"], t) if prior else t
        return None
    return None


def check_run(lesson_path, events):
    """Returns the problems found in one run (an empty list when none)."""
    problems = []
    cps = read_checkpoints(lesson_path)
    byid = {c["id"]: c for c in cps}
    marks = [e for e in events if e["type"] == "mark" and "checkpoint" in e]
    real = [e for e in events if e["type"] != "mark"]
    last_real = real[-1]["i"] if real else -1

    # Each checkpoint ends once; one at a time.
    seen, open_cp = {}, None
    for m in marks:
        cid, what = m["checkpoint"], m.get("event")
        if cid not in byid:
            problems.append(f"mark {m['i']} names an unknown checkpoint {cid!r}")
            continue
        seen.setdefault(cid, []).append(m)
        if what == "asked":
            if open_cp is not None:
                problems.append(f"{cid!r} was asked (event {m['i']}) while {open_cp!r} was still open")
            open_cp = cid
        elif what in ("decided", "skipped"):
            if open_cp == cid:
                open_cp = None
        else:
            problems.append(f"{cid!r}: unknown mark event {what!r}")
    for cid, cp in byid.items():
        ms = seen.get(cid, [])
        kinds = [m.get("event") for m in ms]
        ends = [k for k in kinds if k in ("decided", "skipped")]
        if len(ends) != 1:
            problems.append(f"{cid!r} ended {len(ends)} times ({kinds})")
            continue
        if kinds.count("asked") > 1 or (kinds.count("asked") == 1 and kinds[0] != "asked"):
            problems.append(f"{cid!r}: marks out of order ({kinds})")
            continue
        asked = next((m for m in ms if m.get("event") == "asked"), None)
        end = next(m for m in ms if m.get("event") in ("decided", "skipped"))
        start = 0
        if cp["after"]:
            pre = [e for e in real if matches(cp["after"], e)]
            if not pre:
                if asked or end["event"] == "decided":
                    problems.append(f"{cid!r} was asked although its after-event never came")
                continue
            start = pre[0]["i"] + 1
        triggers = [e for e in real if e["i"] >= start and
                    (matches(cp["before"], e) or (cp["reveal"] and matches(cp["reveal"], e)))]
        if asked is None:
            if end["event"] == "decided":
                problems.append(f"{cid!r} was graded without being asked")
            elif triggers:
                # Its moment came: then another checkpoint must have been open.
                first = triggers[0]["i"]
                busy = False
                for other in byid:
                    oms = seen.get(other, [])
                    a = next((m["i"] for m in oms if m.get("event") == "asked"), None)
                    z = next((m["i"] for m in oms if m.get("event") in ("decided", "skipped")), None)
                    if other != cid and a is not None and a < first and (z is None or z > first):
                        busy = True
                if not busy:
                    problems.append(f"{cid!r} was skipped although event {first} could have been "
                                    f"its moment and no other checkpoint was open")
            continue
        # Asked: just before its first trigger, with nothing of it shown before.
        after_ask = [e for e in real if e["i"] > asked["i"]]
        if not triggers:
            problems.append(f"{cid!r} was asked, but no event matches its target or reveal set")
            continue
        if triggers[0]["i"] < asked["i"]:
            problems.append(f"{cid!r}: event {triggers[0]['i']} ({triggers[0]['summary'][:60]}) "
                            f"was shown before the question (event {asked['i']})")
        if not after_ask or after_ask[0]["i"] != triggers[0]["i"]:
            problems.append(f"{cid!r} was not asked just before its target or a reveal event")
        target = next((e for e in after_ask if matches(cp["before"], e)), None)
        if end["event"] == "skipped":
            continue
        # Decided: recompute the answer from the window's events.
        if target is None:
            problems.append(f"{cid!r} was decided but its target never came")
            continue
        t = target["i"]
        if end.get("target") != t:
            problems.append(f"{cid!r}: the run's target is {end.get('target')}, the checker's {t}")
        close = window_close(cp, events, t)
        close_i = close if close is not None else last_real
        window = [e for e in real if t < e["i"] <= close_i]
        held = []
        for ch in cp["choices"]:
            if ch["rule"] == "when":
                ok = matches(ch["match"], target)
            elif ch["rule"] == "later":
                ok = any(matches(ch["match"], e, target) for e in window)
            elif ch["rule"] == "never":
                ok = not any(matches(ch["match"], e, target) for e in window)
            else:
                continue
            if ok:
                held.append(ch["key"])
        other = [c["key"] for c in cp["choices"] if c["rule"] == "otherwise"]
        if not held and other:
            held = other
        if len(held) != 1:
            problems.append(f"{cid!r} was decided {end.get('answer')!r}, but by the checker "
                            f"choices {held} hold")
            continue
        if end.get("answer") != held[0]:
            problems.append(f"{cid!r} was decided {end.get('answer')!r}, the run's events say "
                            f"{held[0]!r}")
        if end["i"] <= close_i:
            problems.append(f"{cid!r}: the answer (event {end['i']}) was shown before its evidence "
                            f"window closed (event {close_i})")
        ch = next(c for c in cp["choices"] if c["key"] == held[0])
        if close is not None:
            want = fill(ch["explain"] or cp["explain"], target, events[close])
            if end.get("explain") != want:
                problems.append(f"{cid!r}: the explanation is {end.get('explain')!r}, "
                                f"want {want!r}")
        elif re.search(r"\{\$?[A-Za-z0-9_.\-]+\}", end.get("explain") or ""):
            problems.append(f"{cid!r}: the explanation still holds a placeholder")
    return problems


def parse_events(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]
