"""Grade a batch of submissions: every student in a worker process of its own, every step time-bounded.

For each student (up to ``jobs`` at once):

1. intake: a cleaned copy of the submission (``autograder.intake``);
2. nbgrader autograde, one notebook at a time, each in a child process with a
   time limit; a notebook whose kernel dies is graded up to that cell, one that
   cannot be graded scores 0, each with its reason (``autograder.autograde``);
3. integrity verification of the library in the sandbox (``autograder.verify``);
4. the grading record and the final grade, in the gradebook (``autograder.store``).

A re-grade starts from scratch (the student's autograded folder is removed, every
notebook is graded with force, a failure zeroes stale scores), so running it
again is safe. Workers are forked from this process, which holds no gradebook
connection and no thread while they run; sqlite gradebooks switch to WAL mode
so that two workers can write at once.
"""

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from multiprocessing import get_context
from multiprocessing.connection import wait

from sqlalchemy.engine import make_url

from autograder import store, verify
from autograder.autograde import MISSING, NotebookOutcome, autograde_notebook, zero_notebook
from autograder.course import db_url, with_venv_on_path
from autograder.intake import take_in
from autograder.progress import Progress
from autograder.store import GradingRecord

NOTEBOOK_SECONDS = 300.0


def submitted_students(course):
    """The students with a folder under submitted/, sorted."""
    folder = course.root / "submitted"
    return sorted(path.name for path in folder.iterdir() if path.is_dir()) if folder.is_dir() else []


def grade(course, students=None, jobs=None, notebook_seconds=NOTEBOOK_SECONDS):
    """Grade ``students`` (default: everyone submitted); returns {student: GradingRecord}."""
    students = students or submitted_students(course)
    _prepare(course)
    secret, isolation = verify.SecretCases.draw(), verify.Isolation.detect()
    budget = len(course.notebooks()) * notebook_seconds + verify.STUDENT_SECONDS + 60

    def work(student):
        grade_student(course, student, secret, isolation, notebook_seconds)

    def failed(student, why):
        for notebook in course.notebooks():
            zero_notebook(course, student, notebook)
        store.save(course, GradingRecord(student, [f"grading stopped unexpectedly ({why}): every notebook scores 0"]))

    return _run_workers(course, students, work, failed, jobs, budget, "grading")


def verify_again(course, students=None, jobs=None):
    """Run only the integrity verification again, on the submissions as last taken in."""
    students = students or sorted(store.load_all(course)) or submitted_students(course)
    secret, isolation = verify.SecretCases.draw(), verify.Isolation.detect()

    def work(student):
        record = store.load(course, student) or GradingRecord(student)
        if not course.folder("intake", student).is_dir():
            record.notes = take_in(course, student).notes
        record.verification = verify.verify(course, student, secret, isolation)
        store.save(course, record)

    def failed(student, why):
        record = store.load(course, student) or GradingRecord(student)
        record.verification = None
        record.notes.append(f"verification stopped unexpectedly ({why})")
        store.save(course, record)

    return _run_workers(course, students, work, failed, jobs, verify.STUDENT_SECONDS + 60, "verifying")


def grade_student(course, student, secret, isolation, notebook_seconds=NOTEBOOK_SECONDS):
    """Steps 1 to 4 for one student, in this process; returns the saved record."""
    autograded = course.folder("autograded", student)
    if autograded.exists():
        shutil.rmtree(autograded)
    intake = take_in(course, student)
    record = GradingRecord(student, intake.notes)
    logs = course.reports / "logs" / student
    for notebook in course.notebooks():
        if notebook in intake.notebooks:
            outcome = autograde_notebook(course, student, notebook, notebook_seconds, logs / f"{notebook}.log")
        else:
            zero_notebook(course, student, notebook)
            outcome = NotebookOutcome(notebook, MISSING, "not graded: see the notes on the submission")
        record.notebooks.append(outcome)
    record.verification = verify.verify(course, student, secret, isolation)
    store.save(course, record)
    return record


def _prepare(course):
    """What every worker needs before the batch: alembic on PATH, WAL for sqlite, the kernels' font list."""
    with_venv_on_path()
    url = make_url(db_url(course))
    if url.get_backend_name() == "sqlite" and url.database:
        with closing(sqlite3.connect(url.database)) as connection:
            connection.execute("PRAGMA journal_mode=WAL")
    fonts = course.grader_cache / "matplotlib"
    if not any(fonts.glob("fontlist-*.json")):
        fonts.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "MPLCONFIGDIR": str(fonts)}
        subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], env=env, check=True)


def _run_workers(course, students, work, failed, jobs, budget, label):
    """Run ``work(student)`` for every student in forked workers, ``jobs`` at a time.

    A worker that exits with an error or outlives ``budget`` seconds is killed and
    ``failed(student, why)`` records it; the others go on.
    """
    jobs = max(1, jobs or min(2, os.cpu_count() or 1))
    progress = Progress(len(students), label)
    context = get_context("fork")
    waiting, running = list(students), {}
    while waiting or running:
        while waiting and len(running) < jobs:
            student = waiting.pop(0)
            worker = context.Process(target=_worker, args=(course, student, work), name=student)
            worker.start()
            running[worker.sentinel] = (worker, student, time.monotonic() + budget)
        wait(list(running), timeout=1.0)
        for sentinel, (worker, student, deadline) in list(running.items()):
            if worker.is_alive() and time.monotonic() < deadline:
                continue
            if worker.is_alive():
                os.killpg(worker.pid, signal.SIGKILL)
            worker.join()
            del running[sentinel]
            if worker.exitcode != 0:
                why = f"no result after {budget:g} s" if worker.exitcode == -9 else f"exit code {worker.exitcode}"
                failed(student, f"{why}; see reports/logs/{student}")
            progress.advance(student)
    return {student: store.load(course, student) for student in students}


def _worker(course, student, work):
    """Worker process, leading a process group of its own; its output goes to the student's log folder."""
    os.setsid()
    logs = course.reports / "logs" / student
    logs.mkdir(parents=True, exist_ok=True)
    with open(logs / "worker.log", "w") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
    work(student)
