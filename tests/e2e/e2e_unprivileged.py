"""The tcp lesson run by an ordinary user: netcourse enters a user
namespace of its own, so no root and no capabilities are needed."""
import os
import pwd
import shutil
import subprocess
import tempfile

from nctest import *

if os.geteuid() != 0:
    print("SKIP: this test creates a user and needs root; as a normal user the other e2e tests already run unprivileged")
    sys.exit(77)
user = "nc-e2e"
try:
    pwd.getpwnam(user)
except KeyError:
    subprocess.run(["useradd", "--no-create-home", "--shell", "/bin/sh", user], check=True)
# The user must be able to reach the binary and lessons: copy them somewhere readable.
work = tempfile.mkdtemp(prefix="nc-unpriv-")
os.chmod(work, 0o755)
shutil.copy(BIN, f"{work}/netcourse")
shutil.copytree(os.path.join(os.environ["NC_SOURCE_DIR"], "lessons"), f"{work}/lessons")
data = f"{work}/data"
os.mkdir(data)
shutil.chown(data, user)
for root, dirs, files in os.walk(work):
    for d in dirs:
        os.chmod(os.path.join(root, d), 0o755)
    for f in files:
        os.chmod(os.path.join(root, f), 0o755)
import nctest
nctest.BIN = f"{work}/netcourse"
os.environ["NETCOURSE_LESSONS"] = f"{work}/lessons"
rc, out, err = run(["--version"], user=user)
check(rc == 0, f"the user cannot run netcourse at all: {err}")
ev = run_json("tcp", data_dir=data, user=user)
check(any(e["type"] == "packet" and e.get("dropped") for e in ev), "no dropped segment in the unprivileged run", ev)
check(any(e["type"] == "packet" and e.get("tcp", {}).get("retransmission") for e in ev),
      "no retransmission in the unprivileged run", ev)
rc, out, err = run(["progress"], data_dir=data, user=user)
check(rc == 0 and "tcp" in out, f"progress of the unprivileged user: {out!r} {err!r}")
print(f"ok: tcp ran as {user} (uid {pwd.getpwnam(user).pw_uid})")
