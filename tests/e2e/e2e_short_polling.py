# ctest: timeout=300
"""Lesson 4, short polling, run headless: a job submitted and polled until
done, and its chattiness made visible, all read from the run's own events.

- the submit is answered at once with 202 and a handle, and every poll asks
  for that handle;
- every answer gives the job's state as the worker had it then;
- the polls stop at the first answer that says done;
- the comparison note counts requests, empty answers (answers that repeat
  the one before), round trips and bytes, and each number equals this
  test's own count over the packets of the poller's connection;
- both checkpoints are decided;
- a lesson of the test's own: an unknown job is a 404, and {location}
  before any answer gave one ends the run with one FILE:LINE sentence."""
import json
import os
import tempfile

from comparelib import *

need_lab()
events = run_json("short-polling")

posts = [h for e in packets(events, **{"from": "client"}) for h in http_msgs(e)
         if h.get("method") == "POST"]
check(len(posts) == 1 and posts[0]["target"] == "/jobs", f"the submits: {posts}")
accepted = [h for e in packets(events, **{"from": "server"}) for h in http_msgs(e)
            if h.get("status") == 202]
check(len(accepted) == 1, f"the 202 answers: {accepted}")

# The server's answers about the job, in order, and what the worker did.
answers = [e for e in events if e["type"] == "app" and e["host"] == "server"
           and e.get("call") == "write" and "job" in e]
steps = apps(events, host="server", call="job")
check(answers and answers[0]["news"] == 1 and answers[0]["progress"] == 0,
      f"the submit's answer is not the news of a new job: {answers[:1]}")
job = answers[0]["job"]
check([s["progress"] for s in steps] == [25, 50, 75, 100],
      f"the worker's steps: {[s['summary'] for s in steps]}")

polls = [h["target"] for e in packets(events, **{"from": "client"}) for h in http_msgs(e)
         if h.get("method") == "GET"]
check(len(polls) >= 3, f"only {len(polls)} polls")
check(set(polls) == {f"/jobs/{job}"}, f"the polls do not ask for the handle /jobs/{job}: {polls}")

# Each answer says where the worker had the job, and the last says done.
told = 0
for a in answers:
    before = [s["progress"] for s in steps if s["i"] < a["i"]]
    now = before[-1] if before else 0
    check(a["progress"] == now, f"answer #{a['i']} says {a['progress']}%, the worker was at {now}%")
    check(a["news"] == (1 if a is answers[0] or now != told else 0),
          f"answer #{a['i']} has news={a['news']} after {told}% was told")
    told = now
check(answers[-1]["progress"] == 100, "the last answer does not say done")
check(all(a["progress"] < 100 for a in answers[:-1]), "the client polled on after done")
last_req = max(e["i"] for e in packets(events, **{"from": "client"}) if http_msgs(e))
check(last_req < answers[-1]["i"], "a request left after the answer that said done")

# The chattiness, as the run's comparison note counts it.
note = comparison(events, "chattiness")
ways = check_against_run(events, note)
w = ways["poller"]
check(w["requests"] == len(polls) + 1, f"requests {w['requests']}, polls {len(polls)}")
check(w["answers"] == w["requests"], f"answers {w['answers']} for {w['requests']} requests")
empty = sum(1 for a in answers if a["news"] == 0)
check(w["empty"] == empty and empty >= 1, f"empty answers: the note {w['empty']}, the run {empty}")
check(w["requests"] - w["empty"] <= 5, "more answers with news than the job has states")
check(w["connections"] == 1 and w["round_trips"] == w["requests"] + 1,
      f"round trips {w['round_trips']} on {w['connections']} connection(s)")
check(w["bytes"] > 60 * w["requests"], f"{w['bytes']} bytes for {w['requests']} requests")

for cp in ("empty", "done"):
    check(decided(events, cp), f"checkpoint {cp} was not decided")
print(f"ok: {len(polls)} polls, {w['empty']} empty answers, {w['bytes']} bytes, "
      f"{w['round_trips']} round trips")

# A lesson of our own: a poll for a job that does not exist is a 404, and a
# request for {location} before any answer gave one ends the run with one
# FILE:LINE sentence.
d = tempfile.mkdtemp(prefix="nc-jobs-")
with open(os.path.join(d, "jobs.md"), "w") as f:
    f.write("""---
id: jobs
title: Jobs
number: 950
part: 9 Fixtures
summary: job routes at their edges
topology: pair
---
# Jobs

```program
name: server
host: server
route POST /jobs 202 job=submit steps=2 every=20ms
route GET /jobs/* 200 job=status
http-listen 8080
wait client done
```

```program
name: client
host: client
wait server listening
http-connect server 8080
get /jobs/9
get {location}
```
""")
rc, out, err = run(["--lessons", d, "run", "jobs", "--headless", "--json"])
check(rc != 0, "a request for {location} before any Location header did not fail the run")
check(f"{d}/jobs.md:" in err and "no answer so far had a Location header" in err,
      f"the error is not one FILE:LINE sentence: {err.strip()}")
fixture = [json.loads(l) for l in out.splitlines()]
check(any(h.get("status") == 404 for e in fixture if e["type"] == "packet" for h in http_msgs(e)),
      "the poll for a job that does not exist was not answered 404")
print("ok: an unknown job is a 404; {location} before any handle is one sentence")
