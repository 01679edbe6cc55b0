"""A throwaway PostgreSQL server on loopback for tests and benchmarks, started by initdb/pg_ctl, stopped by its PID."""

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

# Debian's postgresql package: the newest installed major version (15 on Debian 12).
PG_BIN = max(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name), default=Path("/nonexistent"))


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def available():
    return (PG_BIN / "initdb").exists()


@contextmanager
def running_postgres():
    """A server on 127.0.0.1 with an empty database 'gradebook'; yields its SQLAlchemy URL."""
    base = Path(tempfile.mkdtemp(prefix="backprop-pg-", dir="/tmp"))
    (base / "sockets").mkdir()
    as_postgres = []
    if os.geteuid() == 0:  # the server refuses to run as root
        account = pwd.getpwnam("postgres")
        for path in (base, base / "sockets"):
            os.chown(path, account.pw_uid, account.pw_gid)
        as_postgres = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    options = f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={base / 'sockets'} -c fsync=off"
    run = {"check": True, "capture_output": True}
    subprocess.run([*as_postgres, PG_BIN / "initdb", "-D", base / "data", "-A", "trust", "-U", "postgres"], **run)
    subprocess.run(
        [*as_postgres, PG_BIN / "pg_ctl", "-D", base / "data", "-l", base / "log", "-o", options, "-w", "start"], **run
    )
    pid = int((base / "data" / "postmaster.pid").read_text().split()[0])
    try:
        subprocess.run([PG_BIN / "createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "gradebook"], **run)
        yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}/gradebook"
    finally:
        os.kill(pid, signal.SIGINT)  # "fast" shutdown
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def postgres():
    """The server of ``running_postgres`` for a test module; skipped, with the reason, where none is installed."""
    if not available():
        pytest.skip(f"no PostgreSQL server binaries in {PG_BIN}: install Debian's postgresql package")
    with running_postgres() as url:
        yield url
