#!/usr/bin/env bash
# tls_bench.sh: what decoding and decrypting a big TLS + HTTP/2 capture costs,
# against tshark given the same key log. Not a test: it prints figures
# (README.md quotes them).
#
#   tests/bench/tls_bench.sh [BUILD_DIR] [REQUESTS]
#
# It makes the capture itself, with real programs and no lab: in a private
# network namespace whose loopback has an MTU of 1500 and cuts no bigger segments (gso_max_size),
# nghttpd serves a 50 KiB file over TLS 1.3 with ALPN h2, and curl fetches it
# REQUESTS times (default 2500, which gives about 110k packets) over HTTP/2,
# 40 streams at a time on one connection. curl writes its secrets to a key log
# (SSLKEYLOGFILE); tcpdump writes the pcap. Then each tool runs REPEAT times
# (default 3; the best time counts):
#
#   netcourse replay FILE --keylog KEYS --json      every layer as JSON
#   tshark -n -r FILE -o tls.keylog_file:KEYS -T json   the same (run once)
#   netcourse replay FILE --keylog KEYS --dump      one line per packet
#   tshark -n -r FILE -o tls.keylog_file:KEYS       one line per packet
#
# and prints wall and CPU seconds, peak RSS and the ratios, plus how many
# HTTP/2 frames each tool decoded (the two must be close, or the timing
# compares different work). Needs root (namespaces), nghttp2-server, curl,
# tcpdump, tshark and /usr/bin/time.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${1:-$here/build}"
requests="${2:-2500}"
repeat="${REPEAT:-3}"
nc="$build/netcourse"
[ -x "$nc" ] || { echo "tls_bench: no netcourse at $nc; build first" >&2; exit 2; }
for tool in nghttpd curl tcpdump tshark openssl /usr/bin/time; do
  command -v "$tool" > /dev/null || { echo "tls_bench: needs $tool" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "tls_bench: needs root, for a network namespace" >&2; exit 2; }

work="$(mktemp -d /tmp/nc-tls-bench.XXXXXX)"
ns="nc-tls-bench-$$"
cleanup() {
  ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$ns"
ip netns exec "$ns" ip link set lo up
ip netns exec "$ns" ip link set dev lo mtu 1500 gso_max_size 1500
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -keyout "$work/key.pem" -out "$work/cert.pem" -subj /CN=localhost 2> /dev/null
mkdir "$work/www"
head -c 51200 /dev/urandom > "$work/www/r.bin"
for i in $(seq "$requests"); do
  printf 'url = "https://127.0.0.1:8443/r.bin?%d"\noutput = "/dev/null"\n' "$i"
done > "$work/urls"

file="$work/tls-h2.pcap"
keys="$work/keys.log"
capture() {
  rm -f "$file" "$keys"
  ip netns exec "$ns" taskset -c 0 nghttpd --htdocs="$work/www" 8443 "$work/key.pem" "$work/cert.pem" \
    > /dev/null 2>&1 &
  server=$!
  ip netns exec "$ns" tcpdump -i lo -B 65536 -s 0 -U -w "$file" tcp port 8443 2> "$work/tcpdump.err" &
  dumper=$!
  for _ in $(seq 50); do grep -q listening "$work/tcpdump.err" 2> /dev/null && break; sleep 0.1; done
  sleep 0.5
  SSLKEYLOGFILE="$keys" ip netns exec "$ns" taskset -c 0 curl -sk --no-progress-meter --http2 -Z --parallel-max 40 -K "$work/urls" > /dev/null
  sleep 1
  kill -INT "$dumper"
  wait "$dumper" 2> /dev/null || true
  kill "$server" 2> /dev/null || true
}

# A capture with a hole is no benchmark: both tools would skip different
# parts of the TLS stream. On loopback a packet is received on the CPU that
# sent it; when a busy machine moves the sender from one CPU to the other,
# two CPUs' backlogs deliver in parallel and segments arrive out of order (TCP
# itself sees it: D-SACKs, spurious retransmissions). Both programs are pinned
# to one CPU for that reason (taskset). A capture that still has a hole is
# made again, three times at most.
for attempt in 1 2 3; do
  capture
  holes=$(tshark -n -r "$file" -Y tcp.analysis.lost_segment 2> /dev/null | wc -l)
  [ "$holes" = 0 ] && break
  echo "attempt $attempt: tcpdump missed segments ($holes holes); capturing again"
done
[ "$holes" = 0 ] || { echo "tls_bench: every capture had holes; try on a quieter machine" >&2; exit 1; }

packets=$(capinfos -M -c "$file" | awk -F: '/Number of packets/ {gsub(/ /, "", $2); print $2}')
size=$(stat -c %s "$file")
printf 'capture: %d packets, %.1f MiB, %d HTTP/2 requests on one TLS 1.3 connection\n' \
  "$packets" "$(echo "$size / 1048576" | bc -l)" "$requests"
printf 'load average: %s\n\n' "$(cut -d' ' -f1-3 /proc/loadavg)"

. "$here/tests/bench/benchlib.sh"

row() {
  printf '%-52s %8.2f s wall %8.2f s CPU %8d KiB\n' "$1" "$2" "$3" "$4"
}

read -r nj_s nj_c nj_m < <(measure "$nc" replay "$file" --keylog "$keys" --json)
read -r tj_s tj_c tj_m < <(repeat=1 measure tshark -n -r "$file" -o "tls.keylog_file:$keys" -T json)
read -r nd_s nd_c nd_m < <(measure "$nc" replay "$file" --keylog "$keys" --dump)
read -r td_s td_c td_m < <(measure tshark -n -r "$file" -o "tls.keylog_file:$keys")

row "netcourse replay --keylog --json" "$nj_s" "$nj_c" "$nj_m"
row "tshark -o tls.keylog_file -T json" "$tj_s" "$tj_c" "$tj_m"
row "netcourse replay --keylog --dump" "$nd_s" "$nd_c" "$nd_m"
row "tshark -o tls.keylog_file" "$td_s" "$td_c" "$td_m"
echo
printf 'JSON: netcourse is %.1fx tshark (wall), %.1fx (CPU)\n' \
  "$(echo "$tj_s / $nj_s" | bc -l)" "$(echo "$tj_c / ($nj_c + 0.001)" | bc -l)"
printf 'one line per packet: netcourse is %.1fx tshark (wall), %.1fx (CPU)\n' \
  "$(echo "$td_s / $nd_s" | bc -l)" "$(echo "$td_c / ($nd_c + 0.001)" | bc -l)"

# The same work? Count decrypted HTTP/2 frames both ways. netcourse lists at
# most 128 messages (TLS records, HTTP/2 frames) of one packet and counts the
# rest as "unlisted_msgs": a 64 KiB packet of tiny frames must not make an
# event without bound.
ours=$("$nc" replay "$file" --keylog "$keys" --json | python3 -c '
import json, sys
n = more = 0
for line in sys.stdin:
    ev = json.loads(line)
    h = ev.get("http2", [])
    n += sum(1 for f in (h if isinstance(h, list) else [h]) if "type" in f)
    more += ev.get("unlisted_msgs", 0)
print(f"{n} listed ({more} more messages counted as unlisted_msgs)")')
theirs=$(tshark -n -r "$file" -o "tls.keylog_file:$keys" -T fields -e http2.type 2> /dev/null |
         tr ',' '\n' | grep -c . || true)
printf 'HTTP/2 frames decoded: netcourse %s; tshark %d\n' "$ours" "$theirs"
