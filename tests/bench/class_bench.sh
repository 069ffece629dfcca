#!/bin/sh
# class_bench.sh: the live-class scale benchmark (a script, not a test).
#
#   tests/bench/class_bench.sh [BUILD_DIR] [STUDENTS] [RUNS]
#
# Starts `netcourse teach tcp --headless` in watch mode on loopback, joins
# STUDENTS (default 1000) headless students from one load process
# (class_load), streams RUNS (default 5) live runs of the tcp lesson to all
# of them, and prints:
#   - p50/p99/max delivery latency, from the instructor stamping an event
#     as it sends it (right after the event is published in its timeline)
#     to a student having it in its own timeline, over every event and
#     every student;
#   - the instructor's CPU while streaming, as a share of one core;
#   - the instructor's memory per student (resident set growth from before
#     the first join to all joined, divided by the students).
# Targets: p99 < 100 ms, < 1 core, < 50 KB per student.
#
# It runs twice. "full": every simulated student decodes every event into a
# timeline of its own, as a real one does; the thousand of them share this
# machine's cores with the instructor, so this latency is an upper bound
# for students on machines of their own. "light": the students only decrypt
# each event frame and read its stamp, which measures the instructor and
# the network path alone. NC_LOAD_WRAP="perf record -g" profiles the load.
#
# Then the attack row: one honest student (decoding every event) while a
# hostile one (class_attack.py) keeps up a never-reading ping flood, a hand
# toggle flood and a TLS KeyUpdate flood (issue 13, items 1, 5 and 11), each
# rejoining whenever it is cut. Targets: the instructor's peak resident
# memory under 100 MB, the honest student's p99 under 100 ms.
set -eu
BUILD=${1:-build}
N=${2:-1000}
RUNS=${3:-5}
BIN="$BUILD/netcourse"
LOAD="$BUILD/tests/bench/class_load"
[ -x "$BIN" ] && [ -x "$LOAD" ] || { echo "build first: cmake --build $BUILD" >&2; exit 2; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" -gt $((N + 200)) ] || { echo "the fd limit ($(ulimit -n)) is too low for $N students" >&2; exit 2; }

echo "netcourse class benchmark: $N students, $RUNS runs of the tcp lesson, $(nproc) cores"
for MODE in full light attack; do
NS=$N
[ "$MODE" = attack ] && NS=1
dir=$(mktemp -d)
trap 'kill $TEACH $HOLD 2>/dev/null || true; rm -rf "$dir"' EXIT INT TERM
mkfifo "$dir/cmds"
sleep 100000 > "$dir/cmds" &
HOLD=$!
"$BIN" --data-dir "$dir/inst" teach tcp --headless --port 0 --per-address $((N + 16)) < "$dir/cmds" > "$dir/teach.out" 2> "$dir/teach.err" &
TEACH=$!
exec 3> "$dir/cmds"

field() { python3 -c "import json,sys; print(json.loads(sys.stdin.readline())['$1'])"; }
until [ -s "$dir/teach.out" ]; do sleep 0.1; done
PORT=$(head -1 "$dir/teach.out" | field port)
CODE=$(head -1 "$dir/teach.out" | field code)
FP=$(head -1 "$dir/teach.out" | field fingerprint)
rss() { awk '/^VmRSS/ {print $2}' "/proc/$TEACH/status"; }
cpu() { awk '{print $14 + $15}' "/proc/$TEACH/stat"; }
count() { grep -c "$1" "$dir/teach.out" || true; }
RSS0=$(rss)

start=$(date +%s.%N)
LMODE=$MODE
[ "$MODE" = attack ] && LMODE=full
${NC_LOAD_WRAP:-} "$LOAD" 127.0.0.1 "$PORT" "$CODE" "$FP" "$NS" "$(nproc)" "$LMODE" > "$dir/load.out" &
LOADPID=$!
until [ "$(count '"class":"joined"')" -ge "$NS" ]; do sleep 0.2; done
joined=$(date +%s.%N)
sleep 1
RSS1=$(rss)
ATTACK=
if [ "$MODE" = attack ]; then
    python3 "$(dirname "$0")/class_attack.py" "$PORT" "$CODE" $((RUNS * 3 + 10)) > "$dir/attack.out" &
    ATTACK=$!
    sleep 3
fi

CPU0=$(cpu)
T0=$(date +%s.%N)
r=1
while [ $r -le "$RUNS" ]; do
    echo run >&3
    until [ "$(count '"state":"done"')" -ge $r ]; do sleep 0.05; done
    sleep 0.5
    r=$((r + 1))
done
CPU1=$(cpu)
T1=$(date +%s.%N)
HWM=$(awk '/^VmHWM/ {print $2}' "/proc/$TEACH/status")
[ -n "$ATTACK" ] && kill "$ATTACK" 2>/dev/null
echo quit >&3
wait $LOADPID
wait $TEACH || true
kill $HOLD 2>/dev/null || true
EVENTS=$(grep -c '"type":' "$dir/teach.out" || true)
CUTS=$(grep -c '"class":"left","student":"\(pinger\|hands\|keys\)' "$dir/teach.out" || true)
HZ=$(getconf CLK_TCK)
python3 - "$dir/load.out" <<EOF
import json, sys
r = json.load(open(sys.argv[1]))
n = $NS
cpu = ($CPU1 - $CPU0) / $HZ / ($T1 - $T0)
kb = ($RSS1 - $RSS0) / n
print("--- $MODE: " + {"full": "students decode every event",
                     "light": "students only decrypt and stamp",
                     "attack": "one honest student, one hostile (items 1, 5, 11)"}["$MODE"])
print(f"students:           {r['students']} on {r['threads']} load threads (joined in {$joined - $start:.1f} s, "
      f"{r['ended_cleanly']} ended cleanly)")
print(f"runs streamed:      $RUNS ({$EVENTS} events), {r['deliveries']} deliveries "
      f"(expected {$EVENTS * n})")
print(f"delivery latency:   p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, "
      f"max {r['max_ms']:.1f} ms   (target p99 < 100 ms)")
print(f"simulated students: {r['load_cpu_s']:.1f} CPU s in all, "
      f"{r['load_cpu_s'] / n * 1000:.1f} ms per student (TLS handshake included)")
print(f"instructor CPU:     {cpu:.2f} of one core while streaming   (target < 1)")
if "$MODE" == "attack":
    print(f"instructor memory:  peak {$HWM / 1024:.1f} MB under attack, the hostile cut "
          f"$CUTS times   (target < 100 MB)")
else:
    print(f"instructor memory:  {kb:.1f} KB per student "
          f"({$RSS0} KB before joins, {$RSS1} KB after)   (target < 50 KB)")
EOF
rm -rf "$dir"
done
