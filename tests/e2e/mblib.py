"""Helpers the middlebox lessons' tests share (e2e_proxy, e2e_load_balancing,
e2e_idempotency, e2e_pub_sub): their checkpoints, and real clients in the
lab shell."""
import json
import tempfile

from nctest import *


def check_checkpoints(events, answers):
    """Each checkpoint of answers ({id: key}) was asked before its target
    and decided by the run with that answer. Returns {id: decided mark}."""
    m = {(e["checkpoint"], e["event"]): e for e in events
         if e["type"] == "mark" and e.get("checkpoint")}
    for cp, answer in answers.items():
        asked, dec = m.get((cp, "asked")), m.get((cp, "decided"))
        check(asked and dec, f"checkpoint {cp} was not asked and decided: {sorted(m)}", events)
        check(dec["answer"] == answer, f"checkpoint {cp}: the run answered {dec['answer']}",
              events)
        check(asked["i"] < dec["target"] <= dec["by"] < dec["i"],
              f"checkpoint {cp}: asked {asked['i']}, target {dec['target']}, decided {dec['i']}",
              events)
    print(f"ok: {len(answers)} checkpoints asked, then decided by the run")
    return {cp: m[(cp, "decided")] for cp in answers}


def shell(lesson, host, cmd):
    """Runs cmd in `netcourse shell LESSON HOST --json`; returns the lines
    it typed (not JSON) and the run's events."""
    rc, out, err = run(["shell", lesson, host, "-c", cmd, "--json"],
                       data_dir=tempfile.mkdtemp(prefix="nc-e2e-"))
    check(rc == 0, f"`netcourse shell {lesson} {host}` exited {rc}: {err.strip()}")
    typed = [l for l in out.splitlines() if not l.startswith("{")]
    return typed, [json.loads(l) for l in out.splitlines() if l.startswith("{")]
