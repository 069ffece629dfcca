#!/bin/sh
# The probe's benchmark: sampling rate and CPU cost, against `ss -tin` run
# as often. Builds probe_bench in BUILD (default: build/) if needed.
#   tests/probe/run_bench.sh [BUILD] [CONNECTIONS] [SECONDS]
set -e
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build}
cmake --build "$build" --target probe_bench >/dev/null
for n in 0 ${2:-50} 200; do
  echo "== $n connections"
  "$build/tests/probe/probe_bench" "$n" "${3:-3}"
done
