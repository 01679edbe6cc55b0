"""Grade on a Dask distributed cluster: one task per student, no file system shared with the workers.

The TA's side (``grade``) refuses a sqlite gradebook (every worker writes into
the one gradebook), sends the course once as the result of a task every grading
task depends on, submits a task per student that is not up to date with the
submission as tar bytes, and writes back what each returns (autograded
notebooks, intake copy, logs), zeroing a student whose task failed for good.

A worker (``grade_remote``) refuses a kit or course that differs from the TA's,
unpacks the course once per worker process, and grades the student with
``autograder.grading.batch.grade``, the very code of a local run, in a grading
process forked by its grading server (``GradingServer``, started by the
``--preload autograder.grading.distributed`` hook). docs/autograder.md ("Dask")
tells why each choice was made and what it costs.
"""

import atexit
import contextlib
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import uuid
from pathlib import Path

from sqlalchemy.engine import make_url

from autograder.course import open_course
from autograder.gradebook import migration, store
from autograder.gradebook.record import GradingRecord
from autograder.grading import batch
from autograder.grading.autograde import die_with_parent, zero_notebook
from autograder.grading.fingerprint import course_fingerprint, kit_version
from autograder.grading.progress import Progress
from autograder.sandbox import box, forkserver

RETRIES = 2
SERVER_SECONDS = 60.0


class ClusterError(Exception):
    """Grading on the cluster cannot start or go on; the message says why and what to do."""


class Mismatch(ClusterError):
    """A worker's kit or its copy of the course is not the TA's."""


def grade(course, scheduler, students=None, notebook_seconds=batch.NOTEBOOK_SECONDS, force=False, shard=None):
    """Grade ``students`` (as ``batch.grade``) on the Dask cluster at ``scheduler``; returns {student: record}."""
    url = make_url(course.db_url)
    if url.get_backend_name() == "sqlite":
        raise ClusterError(
            f"--scheduler needs a gradebook every worker can reach, and this course uses the sqlite file "
            f"{url.database}: build it with --db postgresql+psycopg2://USER@HOST:PORT/DB"
        )
    migration.migrate(course)
    students, waiting, fingerprint = batch.to_grade(course, students, force, shard)
    if waiting:
        _grade_on(scheduler, course, waiting, fingerprint, notebook_seconds)
    return {student: store.load(course, student) for student in students}


def _grade_on(scheduler, course, waiting, fingerprint, notebook_seconds):
    from distributed import Client, as_completed

    try:
        client = Client(scheduler, timeout="30s")
    except OSError as error:
        raise ClusterError(f"cannot reach the Dask scheduler at {scheduler}: {error}") from error
    with client:
        course_files = pack(course.root, ["nbgrader_config.py", "course_config.py", "source"])
        bundle = client.submit(_the_course, course_files, key=f"backprop-course-{uuid.uuid4().hex[:8]}", pure=False)
        tasks = {}
        for student in waiting:
            batch.mark_started(course, student)
            submission = pack(course.root / "submitted", [student])
            task = client.submit(
                grade_remote, bundle, fingerprint, kit_version(), student, submission, notebook_seconds,
                key=f"backprop-grade-{student}-{uuid.uuid4().hex[:8]}", retries=RETRIES, pure=False,
            )  # fmt: skip
            tasks[task] = student
        progress = Progress(len(tasks), f"grading on {scheduler}")
        for task in as_completed(tasks):
            student = tasks[task]
            try:
                write_back(course, student, task.result())
            except Mismatch as error:
                client.cancel(list(tasks))
                raise ClusterError(str(error)) from None
            except Exception as error:
                _failed(course, student, f"{type(error).__name__}: {error}")
            progress.advance(student)


def _the_course(course_files):
    """The course's bytes as a task's result: a worker that dies with them costs a recomputation, not the batch."""
    return course_files


def grade_remote(bundle, fingerprint, version, student, submission, notebook_seconds):
    """The task, on a worker: grade one student's submission against the bundled course; the results as bytes."""
    if kit_version() != version:
        raise Mismatch(
            f"worker {socket.gethostname()} runs backprop-kit {kit_version()}, the TA's grader {version}: "
            f"install the same version on every worker"
        )
    course = _worker_course(bundle, fingerprint)
    for kind in ("submitted", "intake", "autograded"):
        shutil.rmtree(course.root / kind / student, ignore_errors=True)
    unpack(submission, course.root / "submitted", [student])
    logs = course.reports / "logs" / student
    logs.mkdir(parents=True, exist_ok=True)
    try:
        request = json.dumps({"root": str(course.root), "student": student, "seconds": float(notebook_seconds)})
        with open(logs / "task.log", "w") as log, open(os.devnull) as nothing:
            fds = [nothing.fileno(), log.fileno(), log.fileno()]
            try:
                code = forkserver.Child(_grading_server(), request, fds).wait()
            except forkserver.ChildError as error:
                raise RuntimeError(f"grading {student} on {socket.gethostname()}: {error}") from None
        if code != 0:
            raise RuntimeError(f"grading {student} on {socket.gethostname()} exited with {code}")
        return pack(course.root, _results(student))
    finally:
        for path in ["submitted", "intake", "autograded", "reports/logs"]:
            shutil.rmtree(course.root / path / student, ignore_errors=True)
        (course.reports / f"{student}.json").unlink(missing_ok=True)


def write_back(course, student, archive):
    """Replace the student's results in the TA's course folder with those a worker returned."""
    for kind in ("intake", "autograded"):
        shutil.rmtree(course.folder(kind, student).parent, ignore_errors=True)
    shutil.rmtree(course.reports / "logs" / student, ignore_errors=True)
    unpack(archive, course.root, _results(student))


def pack(root, names):
    """tar.gz bytes of the files and folders ``names`` under ``root`` that exist (regular files only)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name in names:
            if (Path(root) / name).exists():
                archive.add(Path(root) / name, arcname=name, filter=_regular_only)
    return buffer.getvalue()


def unpack(data, root, names):
    """Extract tar bytes under ``root``; every member must lie within one of ``names``."""
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for member in archive.getmembers():
            if not any(member.name == name or member.name.startswith(f"{name}/") for name in names):
                raise ClusterError(f"unexpected file {member.name!r} in a grading archive")
        archive.extractall(root, filter="data")


def _regular_only(member):
    return member if member.isfile() or member.isdir() else None


def _results(student):
    return [f"intake/{student}", f"autograded/{student}", f"reports/{student}.json", f"reports/logs/{student}"]


_courses, _unpacking = {}, threading.Lock()


def _worker_course(bundle, fingerprint):
    """This worker process's copy of the course with ``fingerprint``, unpacked on first use."""
    with _unpacking:
        if fingerprint not in _courses:
            root = Path(tempfile.mkdtemp(prefix="backprop-course-", dir=_scratch_folder()))
            unpack(bundle, root, ["nbgrader_config.py", "course_config.py", "source"])
            course = open_course(root)
            if course_fingerprint(course) != fingerprint:
                shutil.rmtree(root, ignore_errors=True)
                raise Mismatch(
                    f"the course unpacked on worker {socket.gethostname()} differs from the TA's "
                    f"(fingerprint {fingerprint[:12]}): same kit version, different course files or code"
                )
            _courses[fingerprint] = course
        return _courses[fingerprint]


def _scratch_folder():
    """The Dask worker's local directory (Dask removes it with the worker), or the system's temporary folder."""
    from distributed import get_worker

    try:
        return get_worker().local_directory
    except ValueError:  # not in a worker: a direct call
        return None


def _failed(course, student, why):
    for notebook in course.notebooks():
        zero_notebook(course, student, notebook)
    store.save(course, GradingRecord(student, [f"grading on the cluster failed ({why}): every notebook scores 0"]))


_server, _starting = None, threading.Lock()


def _grading_server():
    """The socket of this worker process's grading server, started on first use and again if it has ended."""
    global _server
    with _starting:
        if _server is None or _server[0].poll() is not None:
            path = os.path.join(tempfile.mkdtemp(prefix="backprop-grader-"), "server.sock")
            command = [sys.executable, "-m", "autograder.grading.distributed", "serve", path]
            _server = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL), path
        process, path = _server
    if not forkserver.wait_ready(path, lambda: process.poll() is None, SERVER_SECONDS):
        raise RuntimeError(f"the grading server on {socket.gethostname()} did not start (see the worker's log)")
    return path


def dask_setup(worker):
    """Dask's preload hook (``dask worker ... --preload autograder.grading.distributed``): the worker starts its grading
    server as it starts (a Python importing the grader, about 1 s), not on its first task."""
    _grading_server()


class GradingServer(forkserver.Server):
    """Forks one grading process per request: ``{"root", "student", "seconds"}``, its output to the attached
    files; the grading process's own children die with it, and with the server."""

    what = "grading"

    def validate(self, request):
        if not (isinstance(request["root"], str) and isinstance(request["student"], str)):
            raise TypeError("root and student are strings")
        float(request["seconds"])

    def child(self, request, fds):
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))
        try:
            grade_one(request["root"], request["student"], float(request["seconds"]))
        finally:
            atexit._run_exitfuncs()  # as at a process's normal end: the batch's secret cases are removed
            sys.stdout.flush()
            sys.stderr.flush()
        return 0

    def clean(self):
        """Always: grading processes run side by side, each in boxes of its own."""
        return True

    def after_child(self, what):
        pass

    def finish(self):
        for pid, *_ in self.children.values():
            os.kill(pid, signal.SIGKILL)


def serve(path):
    """A worker process's grading server: imports the grader once, then forks a grading process per request on
    ``path``, until its stdin ends (the worker closed it, or died: then its grading processes are killed).

    Not PR_SET_PDEATHSIG: that fires when the thread that started the server ends (a Dask executor thread can),
    not only the worker process. It also probes once whether boxes start here (``box.check_available``, two boxes,
    0.1 s), for its grading processes to inherit; if they do not, each task probes again and fails with the reason."""
    batch.preload()
    with contextlib.suppress(Exception):  # each task probes again and fails with the reason
        box.check_available()
    GradingServer(forkserver.listen(path)).run()
    shutil.rmtree(os.path.dirname(path), ignore_errors=True)


def grade_one(root, student, notebook_seconds):
    """The grading process of a task: the local grading of one student, dying with the server."""
    die_with_parent()
    if os.getppid() == 1:
        sys.exit("the grading server is gone")
    batch.grade(open_course(root), [student], jobs=1, notebook_seconds=notebook_seconds, force=True)


if __name__ == "__main__":
    if sys.argv[1:2] != ["serve"] or len(sys.argv) != 3:
        sys.exit("usage: python -m autograder.grading.distributed serve SOCKET")
    serve(sys.argv[2])
