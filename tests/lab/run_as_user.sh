#!/bin/sh
# Runs a live lab test as an unprivileged user, to prove the user-namespace
# path. When the suite runs as root, the user (nc-e2e, or $NC_TEST_USER) is
# created if missing and runs a copy of the test binary from a directory it
# can read; when the suite is not root, the plain test entry already ran
# unprivileged. Exit 77 tells CTest the test was skipped, with the reason.
bin="$1"
if [ "$(id -u)" -ne 0 ]; then
    echo "skipped: not root, so test_lab_live itself already ran unprivileged"
    exit 77
fi
user="${NC_TEST_USER:-nc-e2e}"
if ! id "$user" >/dev/null 2>&1; then
    useradd --no-create-home --shell /bin/sh "$user" || {
        echo "skipped: cannot create user '$user'"
        exit 77
    }
fi
dir=$(mktemp -d /tmp/nc-userns-XXXXXX) || exit 1
trap 'rm -rf "$dir"' EXIT
cp "$bin" "$dir/test" && chmod 755 "$dir" "$dir/test"
cd "$dir" && su "$user" -s /bin/sh -c "'$dir/test'"
