#!/bin/sh
# class_lecture.sh: the 100-run lecture (a script, not a test).
#
#   tests/bench/class_lecture.sh [BUILD_DIR] [RUNS]
#
# Runs tests/e2e/e2e_class_lecture.py with RUNS runs (default 100) of the
# tcp lesson in one headless watch-mode class and prints the instructor's
# descriptors and resident memory every 10 runs; it fails when either grew
# by more than 10% from run 1 to the last. The suite runs the same test
# with 30 runs.
set -eu
BUILD=${1:-build}
RUNS=${2:-100}
here=$(cd "$(dirname "$0")/../.." && pwd)
[ -x "$BUILD/netcourse" ] || { echo "build first: cmake --build $BUILD" >&2; exit 2; }
NETCOURSE_BIN=$(cd "$BUILD" && pwd)/netcourse NC_LECTURE_RUNS=$RUNS PYTHONDONTWRITEBYTECODE=1 \
    exec python3 "$here/tests/e2e/e2e_class_lecture.py"
