#!/usr/bin/env bash
# replay_bench.sh: what replaying a big capture costs, against tshark and
# tcpdump. Not a test: it prints figures (README.md quotes them).
#
#   tests/bench/replay_bench.sh [BUILD_DIR] [CAPTURE]
#
# Without CAPTURE it makes one with the project's own lab: the hidden
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
# and prints seconds, packets per second, peak RSS (from /usr/bin/time -v),
# the ratios, and netcourse's peak memory beyond the mapped file per packet.
# Last, with tmux, it opens the file in the TUI and times the first screen.
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

if [ -z "$file" ]; then
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

# best SECONDS and peak RSS KiB of a command over $repeat runs: "secs kib"
measure() {
  local best="" rss=0
  for _ in $(seq "$repeat"); do
    /usr/bin/time -f "%e %M" -o "$work/t" "$@" > /dev/null 2>"$work/err" || {
      echo "replay_bench: failed: $* ($(head -c 300 "$work/err"))" >&2; exit 1; }
    read -r secs kib < <(tail -1 "$work/t")
    if [ -z "$best" ] || (( $(echo "$secs < $best" | bc) )); then best=$secs; fi
    rss=$kib
  done
  [ "$(echo "$best == 0" | bc)" = 1 ] && best=0.01
  echo "$best $rss"
}

declare -A secs rss
run_one() { # name command...
  local name="$1"; shift
  read -r s r < <(measure "$@")
  secs[$name]=$s; rss[$name]=$r
  printf '%-26s %8.2f s %12.0f pkt/s %10d KiB peak\n' "$name" "$s" "$(echo "$packets / $s" | bc -l)" "$r"
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
  [ -n "${secs[tshark -n -r -T json]:-}" ] && printf '%-26s %6.1fx faster than tshark -T json (target >= 20x)\n' "$n" "$(ratio "${secs[tshark -n -r -T json]}" "${secs[$n]}")"
  [ -n "${secs[tshark -n -r]:-}" ] && printf '%-26s %6.1fx faster than tshark -n -r (one-line summaries)\n' "$n" "$(ratio "${secs[tshark -n -r]}" "${secs[$n]}")"
  [ -n "${secs[tcpdump -nn -r]:-}" ] && printf '%-26s %6.2fx the speed of tcpdump -nn -r (target >= 1)\n' "$n" "$(ratio "${secs[tcpdump -nn -r]}" "${secs[$n]}")"
  beyond=$(( rss[$n] * 1024 - size )); (( beyond < 0 )) && beyond=0
  printf '%-26s %6d bytes/packet peak memory beyond the mapped file (target < 300)\n' "$n" "$((beyond / packets))"
done

# The first TUI screen of the big file: from launch until the ladder shows.
if command -v tmux > /dev/null; then
  tmux kill-session -t nc-bench 2>/dev/null || true
  start=$(date +%s%N)
  tmux new-session -d -s nc-bench -x 120 -y 40 "$nc --data-dir $work/tui replay '$file'"
  shown=""
  for _ in $(seq 500); do
    if tmux capture-pane -p -t nc-bench 2>/dev/null | grep -q "replay.*[0-9]/[0-9]"; then
      if tmux capture-pane -p -t nc-bench | grep -q -- "──→\|←──\|->\|<-"; then shown=1; break; fi
    fi
    sleep 0.01
  done
  end=$(date +%s%N)
  if [ -n "$shown" ]; then
    printf '\nTUI: first screen of the ladder after %d ms (target < 1000 ms)\n' $(( (end - start) / 1000000 ))
  else
    echo "TUI: the ladder did not show within 5 s"
  fi
  tmux send-keys -t nc-bench q; sleep 0.2; tmux send-keys -t nc-bench q 2>/dev/null || true
fi
