"""The gradebook on a real PostgreSQL server, which the test starts on loopback and stops by its PID."""

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import sqlalchemy

from autograder import grading, report, samples
from autograder.course import build, release

pytestmark = pytest.mark.slow
# Debian's postgresql package: the newest installed major version (15 on Debian 12).
PG_BIN = max(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name), default=Path("/nonexistent"))


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def postgres():
    """A throwaway PostgreSQL server on 127.0.0.1 with an empty database 'gradebook'; yields its URL."""
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"no PostgreSQL server binaries in {PG_BIN}: install Debian's postgresql package")
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


def test_a_course_graded_on_a_postgresql_gradebook(postgres, tmp_path, monkeypatch):
    for name in ("HOME", "IPYTHONDIR", "MPLCONFIGDIR", "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR"):
        monkeypatch.setenv(name, str(tmp_path / "home" / name.lower()))
    course = build(tmp_path / "course", db_url=postgres, cell_timeout=10)
    release(course)
    samples.make(course, ["messy"])
    grading.grade(course, ["messy"])
    scores = {s.student: s for s in report.collect(course)}
    cells = report.grade_cells(course)
    maximum = sum(cell.points for cell in cells)
    assert 0 < scores["messy"].nbgrader < maximum and scores["messy"].verified_total > 0
    assert all(scores["messy"].cells[cell.key] == 0 for cell in cells if cell.notebook.startswith("01"))
    assert not (course.root / "gradebook.db").exists()
    engine = sqlalchemy.create_engine(postgres)
    with engine.connect() as connection:
        students = connection.execute(sqlalchemy.text("SELECT id FROM student ORDER BY id")).scalars().all()
        total = connection.execute(sqlalchemy.text("SELECT sum(auto_score) FROM grade")).scalar()
    engine.dispose()
    assert students == ["messy"]
    assert total == scores["messy"].nbgrader
