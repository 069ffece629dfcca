#!/bin/sh
# sweep_checkpoints.sh: the full checkpoint property sweep, every lesson
# under every link condition (none, delay, 5% and 20% loss, rate-limited)
# with seeds 1 to 4, each run checked by cpcheck.py. CI runs a fixed
# sample of it (ctest -R e2e_checkpoints); this takes several minutes.
#
#   tests/e2e/sweep_checkpoints.sh [BUILD_DIR]      (default: build)
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
src="$(cd "$here/../.." && pwd)"
build="${1:-$src/build}"
NETCOURSE_BIN="$build/netcourse" NC_SOURCE_DIR="$src" NC_SWEEP=full \
  PYTHONDONTWRITEBYTECODE=1 exec python3 "$here/e2e_checkpoints.py"
