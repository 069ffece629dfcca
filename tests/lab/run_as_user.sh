#!/bin/sh
# Runs a live lab test as an unprivileged user, to prove the user-namespace
# path: when the suite runs as root, as user nctest (created by the CI
# setup); otherwise the plain test entry already runs unprivileged.
# Exit 77 tells CTest the test was skipped, with the reason printed.
bin="$1"
if [ "$(id -u)" -ne 0 ]; then
    echo "skipped: not root, so test_lab_live itself already ran unprivileged"
    exit 77
fi
user="${NC_TEST_USER:-nctest}"
if ! id "$user" >/dev/null 2>&1; then
    echo "skipped: no user '$user' to run as (useradd -m $user)"
    exit 77
fi
if ! su "$user" -s /bin/sh -c "test -x '$bin'"; then
    echo "skipped: user '$user' cannot execute $bin (directory permissions)"
    exit 77
fi
cd /tmp && exec su "$user" -s /bin/sh -c "'$bin'"
