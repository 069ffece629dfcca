#!/usr/bin/env bash
# replay_bench.sh: what replaying a big capture costs, against tshark and
# tcpdump. Not a test: it prints figures (README.md quotes them).
#
#   tests/bench/replay_bench.sh [BUILD_DIR] [CAPTURE | gencap]
#
# CAPTURE "gencap" makes one without a lab: tests/bench/gencap.py writes
# GENCAP_PACKETS (default 1,000,000) packets of 24 keep-alive HTTP/1.1
# connections on loopback. Without CAPTURE it makes one with the lab: the hidden
# "bench" scenario (src/scenario/bench.c, lesson file tests/bench/bench.md,
# never in the course map) sends mixed HTTP, DNS and UDP traffic between
# the lab's client and server until NETCOURSE_BENCH_PACKETS frames (default
# 1,050,000) have been captured, and `run bench --save` keeps it. Then, on
# that file, each tool runs REPEAT times (default 3; the best time counts):
#
#   netcourse replay FILE --json > /dev/null
#   netcourse replay FILE --dump > /dev/null
#   tshark -n -r FILE -T json > /dev/null  (every layer as JSON, like --json;
#                                          run once: it takes minutes)
#   tshark -n -r FILE > /dev/null          (its one-line summaries)
#   tcpdump -nn -r FILE > /dev/null
#
# and prints seconds (wall clock and CPU), packets per second, peak RSS
# (from /usr/bin/time), the ratios from this same run, and netcourse's peak
# memory beyond the mapped file per packet. Last, with tmux, it opens the
# file in the TUI: the time to the first screen of the ladder, the time
# until every packet is loaded, and the TUI's peak RSS (VmHWM) beyond the
# file, per packet. The load average is printed too: on a shared machine
# the wall-clock ratios move with it, the CPU times much less.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${1:-$here/build}"
nc="$build/netcourse"
file="${2:-}"
repeat="${REPEAT:-3}"
[ -x "$nc" ] || { echo "replay_bench: no netcourse at $nc; build first" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "replay_bench: needs /usr/bin/time (Debian package time)" >&2; exit 2; }

work="$(mktemp -d /tmp/nc-replay-bench.XXXXXX)"
trap 'tmux kill-session -t nc-bench 2>/dev/null || true; rm -rf "$work"' EXIT

if [ "$file" = gencap ]; then
  file="$work/gencap.pcap"
  echo "generating the capture with gencap.py (GENCAP_PACKETS=${GENCAP_PACKETS:-1000000})..."
  python3 "$here/tests/bench/gencap.py" "$file" "${GENCAP_PACKETS:-1000000}" > /dev/null
elif [ -z "$file" ]; then
  file="$work/bench.pcapng"
  mkdir -p "$work/lessons" "$work/data"
  cp "$here/tests/bench/bench.md" "$work/lessons/"
  echo "generating the capture with the lab (NETCOURSE_BENCH_PACKETS=${NETCOURSE_BENCH_PACKETS:-1050000})..."
  start=$(date +%s.%N)
  NETCOURSE_LESSONS="$work/lessons" NETCOURSE_RUNS_MAX_MB=0 \
    "$nc" --data-dir "$work/data" run bench --headless --save "$file" > /dev/null
  end=$(date +%s.%N)
  printf 'generated in %.1f s\n' "$(echo "$end - $start" | bc)"
fi
size=$(stat -c %s "$file")
packets=$(capinfos -M -c "$file" 2>/dev/null | awk -F: '/Number of packets/ {gsub(/ /, "", $2); print $2}')
if [ -z "$packets" ]; then
  packets=$("$nc" replay "$file" --json | grep -c '"type":"packet"')
fi
printf 'capture: %s, %d packets, %.1f MiB (%d bytes/packet)\n\n' "$file" "$packets" \
  "$(echo "$size / 1048576" | bc -l)" "$((size / packets))"

. "$here/tests/bench/benchlib.sh"

declare -A secs rss
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
run_one() { # name command...
  local name="$1"; shift
  read -r s c r < <(measure "$@")
  secs[$name]=$s; rss[$name]=$r
  printf '%-26s %8.2f s (%6.2f s CPU) %12.0f pkt/s %10d KiB peak\n' "$name" "$s" "$c" \
    "$(echo "$packets / $s" | bc -l)" "$r"
}

run_one "netcourse replay --json" "$nc" replay "$file" --json
run_one "netcourse replay --dump" "$nc" replay "$file" --dump
if command -v tshark > /dev/null; then
  if [ "${SKIP_TSHARK_JSON:-0}" != 1 ]; then
    r0=$repeat; repeat=1
    run_one "tshark -n -r -T json" tshark -n -r "$file" -T json
    repeat=$r0
  fi
  run_one "tshark -n -r" tshark -n -r "$file"
fi
if command -v tcpdump > /dev/null; then run_one "tcpdump -nn -r" tcpdump -nn -r "$file"; fi

echo
ratio() { echo "scale=2; $1 / $2" | bc -l; }
for m in json dump; do
  n="netcourse replay --$m"
  jt=""; dt=""
  [ "$m" = json ] && jt=" (target >= 100x)"
  [ "$m" = dump ] && dt=" (target >= 20x)"
  [ -n "${secs[tshark -n -r -T json]:-}" ] && printf '%-26s %6.1fx faster than tshark -T json%s\n' "$n" "$(ratio "${secs[tshark -n -r -T json]}" "${secs[$n]}")" "$jt"
  [ -n "${secs[tshark -n -r]:-}" ] && printf '%-26s %6.1fx faster than tshark -n -r (one-line summaries)%s\n' "$n" "$(ratio "${secs[tshark -n -r]}" "${secs[$n]}")" "$dt"
  [ -n "${secs[tcpdump -nn -r]:-}" ] && printf '%-26s %6.2fx the speed of tcpdump -nn -r\n' "$n" "$(ratio "${secs[tcpdump -nn -r]}" "${secs[$n]}")"
  beyond=$(( rss[$n] * 1024 - size )); (( beyond < 0 )) && beyond=0
  printf '%-26s %6d bytes/packet peak memory beyond the mapped file (target < 300)\n' "$n" "$((beyond / packets))"
done

# The TUI on the big file: from launch until the ladder shows, then until
# every packet is loaded; then its peak RSS beyond the mapped file.
if command -v tmux > /dev/null; then
  tmux kill-session -t nc-bench 2>/dev/null || true
  start=$(date +%s%N)
  tmux new-session -d -s nc-bench -x 120 -y 40 "$nc --data-dir $work/tui replay '$file'"
  shown="" loaded=""
  for _ in $(seq 6000); do
    pane=$(tmux capture-pane -p -t nc-bench 2>/dev/null || true)
    if [ -z "$shown" ] && echo "$pane" | grep -q "replay.*[0-9]/[0-9]" &&
       echo "$pane" | grep -q -- "──→\|←──\|->\|<-"; then
      shown=$(( ($(date +%s%N) - start) / 1000000 ))
    fi
    if echo "$pane" | grep -q "$packets/$packets" && ! echo "$pane" | grep -q loading; then
      loaded=$(( ($(date +%s%N) - start) / 1000000 )); break
    fi
    sleep 0.01
  done
  echo
  if [ -n "$shown" ]; then
    printf 'TUI: first screen of the ladder after %d ms (target < 1000 ms)\n' "$shown"
  else
    echo "TUI: the ladder did not show within 60 s"
  fi
  if [ -n "$loaded" ]; then
    printf 'TUI: every packet loaded after %d ms\n' "$loaded"
    pid=$(pgrep -f -n -- "--data-dir $work/tui replay" || true)
    if [ -n "$pid" ]; then
      hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")
      beyond=$(( hwm * 1024 - size )); (( beyond < 0 )) && beyond=0
      printf 'TUI: peak RSS %d KiB, %d bytes/packet beyond the mapped file (target < 100)\n' \
        "$hwm" "$((beyond / packets))"
    fi
  else
    echo "TUI: the capture did not load within 60 s"
  fi
  echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
  tmux send-keys -t nc-bench q; sleep 0.2; tmux send-keys -t nc-bench q 2>/dev/null || true
fi
