"""A real loopback capture made navigable, driven in tmux: its lanes are
endpoints (host and port), not one lane `127.0.0.1`; `C` lists the five
TCP conversations with their packets and problems and Enter shows one
alone; `&` filters with a matcher (shown in the footer; a mistake is one
sentence and changes nothing; empty shows everything again); `/` searches
summaries and notes and `n` `N` go from hit to hit; `:` goes to an event by
its number, moving the play head there when it is past it.

tests/e2e/captures/loopback_http.pcap is `tcpdump -i lo` of four curl
requests to `python3 -m http.server 18080` (the last one a 404) and one
to a closed port 18081 (refused with a reset): 50 packets, 5 connections,
every one between 127.0.0.1 and 127.0.0.1."""
# ctest: nolab
import os
import re
import shutil
import tempfile

from nctest import *

need_tmux()

data = tempfile.mkdtemp(prefix="nc-tui-nav-")
src = os.environ["NC_SOURCE_DIR"]
cap = os.path.join(src, "tests", "e2e", "captures", "loopback_http.pcap")
tm = Tmux(data)
screen, keys, wait_for = tm.screen, tm.keys, tm.wait_for


def ladder_rows(s):
    """The ladder's event rows (they start with the time)."""
    return [l for l in s.splitlines() if re.match(r"^\+\d+\.\d{6} ", l)]


def typed(text):
    """Types text into the prompt, one key at a time."""
    for ch in text:
        keys("-l", ch)


def prompt(kind, text):
    """Opens the prompt with kind ('/', ':' or '&'), types text, Enter."""
    keys(kind)
    typed(text)
    keys("Enter")


try:
    tm.start(f"--data-dir {data} replay {cap}", cols=110, rows=36)
    s = wait_for("paused x1, 50/50", why="the whole capture loaded")
    head = s.splitlines()[2]
    ends = re.findall(r":\d+", head)
    check(head.startswith("127.0.0.1 ") and len(ends) >= 5 and ":18080" in ends,
          f"the lanes are not endpoints (the host, then its ports) on loopback:\n{s}")
    check("→ SYN" not in s, f"a packet is drawn as one lane's '→' text, not an arrow:\n{s}")
    print("ok: loopback lanes are endpoints:", " ".join(ends))

    # The conversation list, then one conversation's ladder.
    keys("C")
    s = wait_for(lambda s: "5 conversations" in s and "1 reset" in s and "Enter shows" in s,
                 why="the conversation list, drawn whole")
    rows = [l for l in s.splitlines() if l.strip().startswith(("tcp", "▸ tcp"))]
    check(len(rows) == 5, f"the list does not show 5 TCP conversations:\n{s}")
    check(sum(" 12 " in r for r in rows) == 4 and " 2 " in rows[4] and "1 reset" in rows[4],
          f"packets or problems are wrong (4 x 12 packets, then 2 with 1 reset):\n{s}")
    check("18081" in rows[4], f"the refused connection is not the last row:\n{s}")
    keys("G", "Enter")

    def refused(s):
        rows = ladder_rows(s)
        return (len(rows) == 2 and "SYN" in rows[0] and "RST,ACK" in rows[1] and
                "18081" in s.splitlines()[-1])
    wait_for(refused, why="the refused connection's ladder (its SYN and RST alone, named in "
                          "the footer)")
    print("ok: C lists the conversations; Enter shows the refused one alone")

    # A filter: an empty one first shows everything again.
    keys("&", "Enter")
    s = wait_for(lambda s: len(ladder_rows(s)) > 20, why="every event again")
    keys("&")
    wait_for("filter: _", why="the filter prompt")
    typed("tcp.flags~FIN")
    keys("Enter")

    def fins(s):
        rows = ladder_rows(s)
        return ("filter: tcp.flags~FIN" in s.splitlines()[-1] and len(rows) == 8 and
                all("FIN" in r for r in rows))
    wait_for(fins, why="the 8 FIN packets alone, the filter in the footer")
    keys("&")
    typed(" tcp.len>x")  # appended: a comparison with no number
    keys("Enter")
    s = wait_for("The filter was not changed", why="the filter's error")
    check("needs a number" in s, f"the error does not say why:\n{s}")
    keys("Escape")
    wait_for(lambda s: fins(s) and not s.splitlines()[-2].startswith(" filter: "),
             why="the old filter and its ladder, kept")
    print("ok: & filters (footer), a bad matcher is one sentence and changes nothing")

    # Search: the 404 is one hit; the 200s are four.
    keys("&", "C-u")
    for _ in range(20):
        keys("BSpace")
    keys("Enter")
    wait_for(lambda s: len(ladder_rows(s)) > 20, why="every event again")
    keys("g", "/")
    typed("404")
    keys("Enter")
    # A response is written into the packet that completes it (its body's
    # last segment), as tshark shows it with reassembly on: #43 here.
    s = wait_for("#43 packet", why="the 404 response found")
    check("404 File not found" in s, f"the search did not land on the 404:\n{s}")
    prompt("/", "200 ok")
    wait_for("#7 packet", why="the first 200 (the search ignores case)")
    keys("n")
    wait_for("#19 packet", why="n: the next hit")
    keys("n")
    wait_for("#31 packet", why="n: the one after")
    keys("N")
    wait_for("#19 packet", why="N: back one hit")
    prompt("/", "no such words")
    wait_for("holds \"no such words\"", why="the search's 'no hit' sentence")
    print("ok: / searches summaries and notes, n and N go from hit to hit")

    # Go to.
    prompt(":", "48")
    s = wait_for("#48 packet", why="go to #48")
    prompt(":", "999")
    wait_for("There is no event #999", why="go to past the end")
    prompt(":", "abc")
    wait_for("is not one", why="go to with no number")
    keys("<")
    wait_for("paused x1, 1/50", why="the play head back at the start")
    prompt(":", "40")
    wait_for(lambda s: "#40 packet" in s and "paused x1, 41/50" in s,
             why="go to past the play head moves the head there")
    print("ok: : goes to an event by its number")

    keys("q", "q")
    wait_for("EXITED 0", why="a clean exit")
finally:
    tm.kill()
    shutil.rmtree(data, ignore_errors=True)
