"""Gradings of one course at the same time, on sqlite and on PostgreSQL: every student ends with exactly the score a
lone run gives, cell by cell, and every run exits 0 or names the students it left to another grading; the grading
service, grading the same submissions as they arrive in nbgrader's exchange, among them."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from exchange_users import open_exchange, submit_for
from one_notebook import one_notebook_course
from postgres_server import available, running_postgres

from autograder.course import open_course, samples
from autograder.course.build import build
from autograder.course.release import release
from autograder.service.queue import GRADED, Queue

pytestmark = pytest.mark.slow

# student: the sample submission it hands in (full marks, a mistake, a faked kernel, wrong types, the stubs)
STUDENTS = {
    "honest-1": "reference",
    "honest-2": "reference",
    "honest-3": "reference",
    "mistaken": "mistakes-3",
    "faker": "cheater",
    "careless": "sloppy",
    "idle": "untouched",
}


def kit_env(home):
    env = {key: value for key, value in os.environ.items() if key != "BACKPROP_KIT_SOLUTIONS"}
    return env | {"HOME": str(home), "PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{env['PATH']}"}


def start(env, *args):
    command = [sys.executable, "-m", "backprop_lib.kit.cli", *map(str, args)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def finish(process, timeout=600):
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def cells(course, env):
    code, out, err = finish(start(env, "course", "report", "-C", course.root, "--json"))
    assert code == 0, err
    return {s["student"]: {key: cell["final"] for key, cell in s["cells"].items()} for s in json.loads(out)}


def hand_in(course, pool):
    """Every student's submission, copied from the pool of samples."""
    for student, sample in STUDENTS.items():
        shutil.copytree(pool.folder("submitted", sample), course.folder("submitted", student))


@pytest.fixture(scope="module")
def pool(home, tmp_path_factory):
    """A one-notebook course holding the sample submissions, graded alone: the scores every other run must give."""
    course = one_notebook_course(tmp_path_factory.mktemp("lone"))
    samples.make(course, sorted(set(STUDENTS.values())))
    hand_in(course, course)
    env = kit_env(home)
    code, _, err = finish(start(env, "course", "grade", "-C", course.root, *flags(STUDENTS)))
    assert code == 0, err
    lone = cells(course, env)
    assert lone["honest-1"] == lone["honest-2"] and sum(lone["honest-1"].values()) > sum(lone["mistaken"].values())
    return course, lone


def flags(students, option="--student"):
    return [part for student in students for part in (option, student)]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database(request):
    if request.param == "sqlite":
        yield None
        return
    if not available():
        pytest.skip("no PostgreSQL server binaries: install Debian's postgresql package")
    with running_postgres() as url:
        yield url


def twin(pool, folder, db_url, hand=hand_in):
    """A course built like the pool's, on ``db_url``, with the same submissions and nothing graded."""
    source = pool.root.parent
    course = build(
        folder / "course", db_url=db_url, cell_timeout=10, notebooks_dir=source / "notebooks",
        hidden_tests_dir=source / "hidden",
    )  # fmt: skip
    release(course)
    hand(course, pool)
    return open_course(course.root)


def through_the_exchange(course, pool):
    """Every student submits through nbgrader's exchange (an instructor's ``submit --student``), and the TA
    collects the submissions with nbgrader into submitted/."""
    from nbgrader.apps import NbGraderAPI

    course, root = open_exchange(course)
    for student, sample in STUDENTS.items():
        submit_for(root, course.course_id, student, pool.folder("submitted", sample))
    assert NbGraderAPI(config=course.config).collect(course.assignment)["success"]


def test_two_course_grade_runs_and_the_service_at_once_give_every_student_the_lone_run_s_score(
    pool, database, home, tmp_path
):
    pool, lone = pool
    course = twin(pool, tmp_path, database, through_the_exchange)
    env = kit_env(home)
    service = start(env, "course", "serve", "-C", course.root)
    runs = [start(env, "course", "grade", "-C", course.root, "--force", "--jobs", "2") for _ in range(2)]
    for code, _, err in map(finish, runs):
        assert code == 0, err
        assert "Traceback" not in err
    entries = served(course)
    service.send_signal(signal.SIGTERM)
    code, out, err = finish(service)
    assert code == 0, err
    assert cells(course, env) == lone
    assert {entry.student: entry.score for entry in entries} == {s: sum(c.values()) for s, c in lone.items()}, out


def served(course, timeout=600):
    """The service's queue once every student's submission is graded."""
    queue, deadline = Queue(course), time.monotonic() + timeout
    while time.monotonic() < deadline:
        entries = queue.entries()
        if len(entries) == len(STUDENTS) and all(entry.state == GRADED for entry in entries):
            return entries
        time.sleep(0.5)
    raise AssertionError(f"the service did not grade every submission: {queue.entries()}")


HOLD = """
import sys, time
from autograder.course import open_course
from autograder.gradebook.lock import student_lock
student_lock(open_course(sys.argv[1]), sys.argv[2], "course serve").acquire()
print("held", flush=True)
time.sleep(600)
"""


def test_a_run_leaves_a_student_another_grading_holds_and_says_so(pool, home):
    pool, lone = pool
    other = subprocess.Popen([sys.executable, "-c", HOLD, pool.root, "honest-1"], stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline() == "held\n"
        before = (pool.reports / "logs" / "honest-1" / "worker.log").read_text()
        grading = start(
            kit_env(home), "course", "grade", "-C", pool.root, "--force", "--wait", "1", *flags(["honest-1", "idle"])
        )
        code, _, err = finish(grading)
    finally:
        other.kill()
        other.wait()
    assert code == 0, err
    assert f"honest-1 left to course serve (pid {other.pid} on " in err and "which grades it" in err
    assert "idle left" not in err
    assert (pool.reports / "logs" / "honest-1" / "worker.log").read_text() == before, "the holder's log is its own"
    assert cells(pool, kit_env(home)) == lone
