"""Grading on a real Dask cluster (a scheduler and two worker processes on loopback) with a real PostgreSQL gradebook.

The batch is graded locally first, then on the cluster with one worker killed
mid-batch: every student is graded exactly once, with the local run's scores,
and nothing is lost.
"""

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest
import sqlalchemy

from autograder.course import samples
from autograder.course.build import build
from autograder.course.release import release
from autograder.gradebook import store
from autograder.grading import batch as grading
from autograder.grading import distributed
from autograder.reports import scores as report

pytestmark = pytest.mark.slow
pytest.importorskip("distributed")
from dask_cluster import running_cluster  # noqa: E402
from postgres_server import available, running_postgres  # noqa: E402
from scratch_home import scratch_home  # noqa: E402

BATCH = ["reference", "mistakes-1", "untouched", "hostile", "messy", "sloppy"]


def kit_env(home):
    env = {key: value for key, value in os.environ.items() if key != "BACKPROP_KIT_SOLUTIONS"}
    return env | {"HOME": str(home), "PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{env['PATH']}"}


@pytest.fixture(scope="module")
def postgres():
    if not available():
        pytest.skip("no PostgreSQL server binaries: install Debian's postgresql package")
    with running_postgres() as url:
        yield url


@pytest.fixture(scope="module")
def course(postgres, tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    with scratch_home(home):
        course = build(tmp_path_factory.mktemp("course") / "course", db_url=postgres, cell_timeout=10)
        release(course)
        samples.make(course, BATCH)
        yield course


def scores_of(course):
    return {
        s.student: (s.test_total, s.total, {key: (cell.raw, cell.final) for key, cell in s.cells.items()})
        for s in report.collect(course)
    }


def test_a_batch_graded_on_dask_with_a_worker_killed_equals_a_local_run(course, postgres, tmp_path):
    grading.grade(course, BATCH, jobs=2)
    local = scores_of(course)
    assert set(local) == set(BATCH) and local["reference"][0] > local["mistakes-1"][0] > local["untouched"][0]

    env = kit_env(tmp_path / "home")
    with running_cluster(2, env) as (address, workers):
        assert _grading_servers(workers) == 2  # started by the workers' preload, before any task
        command = [sys.executable, "-m", "backprop_lib.kit.cli", "course", "grade", "-C", course.root, "--force"]
        ta = subprocess.Popen(
            [*command, "--scheduler", address], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        victim = workers[0]
        _kill_when_busy(address, victim)
        out, err = ta.communicate(timeout=1800)
    assert ta.returncode == 0, err[-3000:]
    assert victim.poll() is not None

    finished = [line.split()[-1] for line in err.splitlines() if line.startswith("grading on ")]
    assert sorted(finished) == sorted(BATCH)  # each student's result written exactly once
    dask = scores_of(course)
    assert dask == local, {s: store.load(course, s).reasons() for s in BATCH if dask.get(s) != local[s]}
    for student in BATCH:
        record = store.load(course, student)
        assert record.notebooks and record.verification is not None and record.content_hash, student
        assert "did not finish" not in " ".join(record.notes)
    assert (course.folder("autograded", "reference") / "07_capstone.ipynb").is_file()
    engine = sqlalchemy.create_engine(postgres)
    with engine.connect() as connection:
        rows = connection.execute(sqlalchemy.text("SELECT student_id, count(*) FROM submitted_assignment GROUP BY 1"))
        assert dict(rows.all()) == dict.fromkeys(BATCH, 1)
    engine.dispose()


def _grading_servers(workers, seconds=30):
    """How many grading servers run under the ``dask worker`` processes (waiting up to ``seconds`` for them)."""
    deadline = time.monotonic() + seconds
    while True:
        found = [
            child
            for worker in workers
            for child in psutil.Process(worker.pid).children(recursive=True)
            if "autograder.grading.distributed serve" in " ".join(child.cmdline())
        ]
        if len(found) >= len(workers) or time.monotonic() > deadline:
            return len(found)
        time.sleep(0.2)


def _kill_when_busy(address, victim):
    """SIGKILL the victim worker's whole process group (nanny, worker, grading) while it grades a student."""
    from distributed import Client

    with Client(address, timeout="30s") as client:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            busy = {info["name"] for addr, info in client.scheduler_info()["workers"].items()
                    if client.processing().get(addr)}  # fmt: skip
            if "worker0" in busy:
                time.sleep(5)  # well into the grading of a student
                os.killpg(victim.pid, signal.SIGKILL)
                victim.wait()
                return
            time.sleep(0.5)
    raise AssertionError("the worker to kill never got a task")


def test_a_sqlite_course_is_refused_for_a_cluster(tmp_path):
    course = build(tmp_path / "course")
    with pytest.raises(distributed.ClusterError, match="sqlite"):
        distributed.grade(course, "tcp://127.0.0.1:1")


def test_a_worker_with_another_kit_version_is_refused(course):
    bundle = distributed.pack(course.root, ["nbgrader_config.py", "source"])
    with pytest.raises(distributed.Mismatch, match="install the same version"):
        distributed.grade_remote(bundle, "f" * 64, "0.0.1+other", "reference", b"", 10, False)
    with pytest.raises(distributed.Mismatch, match="differs from the TA's"):
        distributed.grade_remote(bundle, "f" * 64, distributed.kit_version(), "reference", b"", 10, False)
