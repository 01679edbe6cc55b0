"""``backprop-kit hub start DIR``: JupyterHub, its proxy and the course's services, in the foreground.

JupyterHub starts the proxy (configurable-http-proxy), the services and every
person's server, and stops them all when it stops (Ctrl-C, SIGTERM). What
outlives it anyway (a process a notebook detached, a proxy left by a crash) is
still this command's: it is the subreaper of everything below it (Linux's
``PR_SET_CHILD_SUBREAPER``), so every orphan becomes its child, and it ends
each one before it returns.
"""

import ctypes
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from autograder.hub import HubError

PR_SET_CHILD_SUBREAPER = 36
PROXY = "configurable-http-proxy"
GRACE_SECONDS = 10


def start(deployment, say=print):
    """Run the hub until it stops; then end whatever it left. Returns JupyterHub's exit status."""
    path = _checked_path(deployment)
    _become_subreaper()
    argv = [sys.executable, "-m", "jupyterhub", "-f", str(deployment.config_file)]
    say(f"JupyterHub for {deployment.course_id} on {deployment.url} (Ctrl-C stops it)")
    status = _run_until_stopped(argv, deployment.state, {**os.environ, "PATH": path})
    left = end_descendants()
    say(f"hub stopped{f'; {left} process(es) it left were ended' if left else ''}")
    return status


def _checked_path(deployment):
    """The PATH the hub runs with (this interpreter's bin/ first), once everything it needs is there."""
    if os.geteuid() != 0:
        raise HubError("hub start runs as root: JupyterHub starts each person's server as their own account")
    if not deployment.config_file.is_file():
        raise HubError(f"{deployment.config_file} is missing: run `backprop-kit hub init {deployment.root}` again")
    bin_dir = str(Path(sys.executable).parent)
    path = os.pathsep.join([bin_dir, os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin")])
    if not shutil.which(PROXY, path=path):
        raise HubError(f"{PROXY} is not installed: npm install -g {PROXY}")
    return path


def _run_until_stopped(argv, cwd, env):
    """Run ``argv`` in a session of its own (a terminal's Ctrl-C reaches this process alone), SIGTERM it once on
    SIGINT or SIGTERM, by its pid (only ``_wait_for`` reaps it); its exit status."""
    started, requested = [], []

    def stop(*_):
        requested.append(True)
        for pid in started:
            os.kill(pid, signal.SIGTERM)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        process = subprocess.Popen(argv, cwd=cwd, env=env, start_new_session=True)
        started.append(process.pid)
        if requested:
            os.kill(process.pid, signal.SIGTERM)
        process.returncode = status = _wait_for(process.pid)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return status


def _become_subreaper():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise HubError(f"cannot become the hub's subreaper: {os.strerror(ctypes.get_errno())}")


def _wait_for(pid):
    """Reap children (orphans come here too) until ``pid`` ends; its exit status."""
    while True:
        reaped, status = os.waitpid(-1, 0)
        if reaped == pid:
            return os.waitstatus_to_exitcode(status)


def descendants():
    """The process ids below this process (from /proc), deepest last."""
    children = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat.rpartition(")")[2].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    found, frontier = [], [os.getpid()]
    while frontier:
        below = [child for pid in frontier for child in children.get(pid, [])]
        found += below
        frontier = below
    return found


def end_descendants():
    """SIGTERM every process below this one, SIGKILL what is left after GRACE_SECONDS; how many there were."""
    left = descendants()
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in descendants():
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + GRACE_SECONDS
        while descendants() and time.monotonic() < deadline:
            _reap()
            time.sleep(0.1)
    _reap()
    return len(left)


def _reap():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
