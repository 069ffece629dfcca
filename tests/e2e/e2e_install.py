"""cmake --install puts the binary, lessons and man page in the standard
places, and the installed binary finds its lessons from anywhere."""
# ctest: nolab
import os
import subprocess
import tempfile

from nctest import *

prefix = tempfile.mkdtemp(prefix="nc-install-")
build = os.environ["NC_BUILD_DIR"]
p = subprocess.run(["cmake", "--install", build, "--prefix", prefix], capture_output=True, text=True)
check(p.returncode == 0, f"cmake --install failed: {p.stderr}")
for path in ("bin/netcourse", "share/netcourse/lessons/tcp.md", "share/man/man1/netcourse.1",
             "share/bash-completion/completions/netcourse"):
    check(os.path.exists(os.path.join(prefix, path)), f"{path} was not installed")
env = dict(os.environ)
env.pop("NETCOURSE_LESSONS", None)
p = subprocess.run([os.path.join(prefix, "bin/netcourse"), "--data-dir", prefix + "/data", "list"],
                   capture_output=True, text=True, cwd="/", env=env)
check(p.returncode == 0 and " tcp " in p.stdout, f"the installed binary does not find its lessons: {p.stderr}")
if subprocess.run(["which", "man"], capture_output=True).returncode == 0:
    p = subprocess.run(["man", "-l", os.path.join(prefix, "share/man/man1/netcourse.1")],
                       capture_output=True, text=True, env=dict(env, MANPAGER="cat", MANWIDTH="80"))
    check(p.returncode == 0 and "netcourse" in p.stdout, "the man page does not render")
print("ok: install")
