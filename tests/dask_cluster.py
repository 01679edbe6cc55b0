"""A real Dask cluster on loopback for tests and benchmarks: `dask scheduler` and `dask worker` processes."""

import os
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from postgres_server import free_port

DASK = Path(sys.executable).parent / "dask"


@contextmanager
def running_cluster(workers, env):
    """A scheduler and ``workers`` one-thread workers, each in a process group of its own and a scratch
    working folder (no file shared with the grader); yields (address, [worker Popen])."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    scratch = Path(tempfile.mkdtemp(prefix="backprop-dask-"))
    quiet = {"env": env, "cwd": scratch, "stdout": subprocess.DEVNULL, "start_new_session": True}
    scheduler = subprocess.Popen(
        [DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        stderr=open(scratch / "scheduler.log", "w"), **quiet,
    )  # fmt: skip
    started = [scheduler]
    try:
        for k in range(workers):
            folder = scratch / f"worker{k}"
            folder.mkdir()
            command = [DASK, "worker", address, "--nthreads", "1", "--host", "127.0.0.1", "--no-dashboard"]
            command += ["--preload", "autograder.grading.distributed"]  # as docs/autograder.md starts them
            command += ["--name", f"worker{k}", "--local-directory", str(folder)]
            started.append(subprocess.Popen(command, stderr=open(folder / "log", "w"), **{**quiet, "cwd": folder}))
        _wait_for_workers(address, workers)
        yield address, started[1:]
    finally:
        for process in started:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for process in started:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _wait_for_workers(address, count):
    from distributed import Client

    with Client(address, timeout="30s") as client:
        client.wait_for_workers(count, timeout=120)
    time.sleep(0.5)
