"""The per-student grading lock, across real processes, on a sqlite gradebook (a file lock) and on PostgreSQL
(a session advisory lock): a second grader is told who holds it, can wait for it, gets it the moment its holder
dies, and a holder that lost it finds out before it records anything."""

import os
import signal
import subprocess
import sys
import time

import pytest
import sqlalchemy
from postgres_server import available, running_postgres

from autograder.course.build import build
from autograder.gradebook.lock import Busy, LockLost, service_lock, student_lock

HOLD = """
import sys, time
from autograder.course import open_course
from autograder.gradebook.lock import student_lock
lock = student_lock(open_course(sys.argv[1]), sys.argv[2], "course grade")
lock.acquire()
print("held", flush=True)
time.sleep(float(sys.argv[3]))
lock.release()
print("released", flush=True)
time.sleep(600)
"""


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def course(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(request.param)
    if request.param == "sqlite":
        yield build(folder / "course")
        return
    if not available():
        pytest.skip("no PostgreSQL server binaries: install Debian's postgresql package")
    with running_postgres() as url:
        yield build(folder / "course", db_url=url)


def holder(course, student, seconds=600.0):
    """Another process holding ``student``'s lock for ``seconds``, then releasing it and living on."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(course.root), student, str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout.readline() == "held\n"
    return process


def stop(process):
    process.kill()
    process.wait()


def test_a_second_grader_is_told_who_grades_the_student_and_gets_it_when_the_holder_dies(course):
    other = holder(course, "alice")
    try:
        with pytest.raises(Busy) as busy:
            student_lock(course, "alice", "course serve").acquire()
        assert str(busy.value).startswith("alice is being graded by course grade (pid ")
        assert f"pid {other.pid} on " in busy.value.holder and " UTC)" in busy.value.holder
        with student_lock(course, "bob", "course serve"):  # another student, and the service's own lock, are free
            with service_lock(course):
                pass
        other.send_signal(signal.SIGKILL)
        other.wait()
        lock = student_lock(course, "alice", "course serve").acquire(wait=10)
        lock.check()
        lock.release()
    finally:
        stop(other)


def test_a_grader_that_waits_gets_the_lock_once_the_holder_releases_it(course):
    other = holder(course, "carol", seconds=1.0)
    try:
        start = time.monotonic()
        lock = student_lock(course, "carol", "course grade").acquire(wait=60)
        assert other.stdout.readline() == "released\n"  # the holder let go first: it did not die
        lock.release()
        assert time.monotonic() - start < 60
    finally:
        stop(other)


def test_one_grading_service_per_course(course):
    with service_lock(course):
        with pytest.raises(Busy, match=r"^the grading service of this course runs already: course serve \(pid "):
            subprocess_acquires_service(course)


def subprocess_acquires_service(course):
    """Acquire the service lock in a child process; re-raise its Busy here."""
    code = (
        "import sys\nfrom autograder.course import open_course\nfrom autograder.gradebook.lock import Busy, "
        "service_lock\ntry:\n    service_lock(open_course(sys.argv[1])).acquire()\nexcept Busy as busy:\n"
        "    print(busy)\n    sys.exit(3)"
    )
    done = subprocess.run([sys.executable, "-c", code, str(course.root)], capture_output=True, text=True)
    if done.returncode == 3:
        raise Busy(done.stdout.strip(), None)
    assert done.returncode == 0, done.stderr


def test_a_holder_whose_lock_was_taken_away_finds_out_before_recording(course):
    lock = student_lock(course, "dave", "course grade").acquire()
    try:
        lock.check()
        if hasattr(lock, "path"):
            os.replace(lock.path, lock.path.with_suffix(".moved"))  # a TA deleting the lock folder
        else:
            engine = sqlalchemy.create_engine(course.db_url)
            with engine.connect() as connection:  # the server ends the holder's session (a restart, a network cut)
                pid = connection.execute(
                    sqlalchemy.text("SELECT pid FROM pg_stat_activity WHERE application_name LIKE 'course grade%'")
                ).scalar_one()
                connection.execute(sqlalchemy.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            engine.dispose()
        with pytest.raises(LockLost):
            lock.check()
    finally:
        lock.release()
