"""Grade a batch of submissions: every student in a worker process of its own, every step time-bounded.

For each student (up to ``jobs`` at once):

1. intake: a cleaned copy of the submission (``autograder.intake``);
2. nbgrader autograde, one notebook at a time, in a child process, each with a
   time limit; a notebook whose kernel dies is graded up to that cell, one that
   cannot be graded scores 0, each with its reason (``autograder.autograde``);
   the kernels fork from the submission's warm kernel server, in its box, while
   the notebooks run (``autograder.warm``);
3. integrity verification of the library in the sandbox (``autograder.verify``), and the student's
   statement each failed check points at (``autograder.grading.excerpts``);
4. the grading record and the final grade, in the gradebook (``autograder.store``), and the grading
   as one of the student's attempts.

A re-grade skips a student whose submission and course are unchanged since
their last complete grading (``autograder.fingerprint``), unless ``force``;
otherwise it starts from scratch (the student's autograded folder is removed,
every notebook is graded with force, a failure zeroes stale scores), so running
it again is safe. ``shard=(i, n)`` grades the students whose id hashes to
``i`` modulo ``n``: a stable slice, whatever the other students are.

``grade_student`` is the one per-student function: the local worker pool runs
it in forked workers, and a Dask task (``autograder.distributed``) runs the
same ``grade`` on a worker's copy of the course. Workers are forked from this
process, which holds no gradebook connection and no thread while they run;
sqlite gradebooks switch to WAL mode so that two workers can write at once.
"""

import hashlib
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

import nbformat
from nbformat.validator import get_validator
from sqlalchemy.engine import make_url
from sqlalchemy.orm import configure_mappers

from autograder.course.release import with_venv_on_path
from autograder.gradebook import migration, store
from autograder.gradebook.record import FAILED, MISSING, GradingRecord, NotebookOutcome
from autograder.grading.autograde import autograde_notebooks, die_with_parent, zero_notebook
from autograder.grading.excerpts import quote_failures
from autograder.grading.fingerprint import course_fingerprint, submission_hash
from autograder.grading.intake import take_in
from autograder.grading.progress import Progress
from autograder.sandbox import kernel, verify

NOTEBOOK_SECONDS = 300.0


def submitted_students(course):
    """The students with a folder under submitted/, sorted."""
    folder = course.root / "submitted"
    return sorted(path.name for path in folder.iterdir() if path.is_dir()) if folder.is_dir() else []


def grade(course, students=None, jobs=None, notebook_seconds=NOTEBOOK_SECONDS, force=False, shard=None):
    """Grade ``students`` (default: everyone submitted, or the ``shard``); returns {student: GradingRecord}.

    A student whose submission and course are unchanged since their last complete
    grading keeps it, unless ``force``.
    """
    _prepare(course)
    students, waiting, fingerprint = to_grade(course, students, force, shard)
    if waiting:
        _grade_waiting(course, waiting, jobs, notebook_seconds, fingerprint)
    return {student: store.load(course, student) for student in students}


def to_grade(course, students=None, force=False, shard=None):
    """(the students asked for, those of them to grade now, the course's fingerprint); says how many are kept."""
    students = in_shard(students or submitted_students(course), shard)
    fingerprint = course_fingerprint(course)
    waiting = students if force else [s for s in students if not up_to_date(course, s, fingerprint)]
    if len(waiting) < len(students):
        kept = len(students) - len(waiting)
        print(
            f"{kept} of {len(students)} unchanged since their last grading: kept (--force grades them again)",
            file=sys.stderr,
        )
    return students, waiting, fingerprint


def _grade_waiting(course, students, jobs, notebook_seconds, fingerprint):
    secret, isolation = verify.SecretCases.draw(), verify.Isolation.detect()
    budget = len(course.notebooks()) * notebook_seconds + 2 * verify.STUDENT_SECONDS + 60  # verified twice at most

    def work(student):
        grade_student(course, student, secret, isolation, notebook_seconds, fingerprint)

    def failed(student, why):
        for notebook in course.notebooks():
            zero_notebook(course, student, notebook)
        store.save(course, GradingRecord(student, [f"grading stopped unexpectedly ({why}): every notebook scores 0"]))

    _run_workers(course, students, work, failed, jobs, budget, "grading")


def in_shard(students, shard):
    """The students of shard ``(index, count)``: those whose id's sha256 is ``index`` modulo ``count``."""
    if shard is None:
        return list(students)
    index, count = shard
    return [s for s in students if int(hashlib.sha256(s.encode()).hexdigest(), 16) % count == index]


def parse_shard(text):
    """``'I/N'`` as (I, N), 0 <= I < N; a ValueError that says what is wrong otherwise."""
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise ValueError(f"--shard {text!r}: expected I/N with whole numbers, e.g. 0/4") from None
    if not 0 <= index < count:
        raise ValueError(f"--shard {text!r}: I must be in 0 .. N-1 (shards are numbered from 0)")
    return index, count


def up_to_date(course, student, fingerprint):
    """Whether the student's last complete grading was of this very submission against this very course."""
    last = store.last_graded(course, student)
    return last is not None and last[:2] == (submission_hash(course.folder("submitted", student)), fingerprint)


def verify_again(course, students=None, jobs=None):
    """Run only the integrity verification again, on the submissions as last taken in."""
    migration.migrate(course)
    students = students or sorted(store.load_all(course)) or submitted_students(course)
    secret, isolation = verify.SecretCases.draw(), verify.Isolation.detect()

    def work(student):
        record = store.load(course, student) or GradingRecord(student)
        if not course.folder("intake", student).is_dir():
            record.notes = take_in(course, student).notes
        record.verification = verify.verify(course, student, secret, isolation)
        record.verification.excerpts = quote_failures(course, student, record.verification)
        store.save(course, record)

    def failed(student, why):
        record = store.load(course, student) or GradingRecord(student)
        record.verification = None
        record.notes.append(f"verification stopped unexpectedly ({why})")
        store.save(course, record)

    return _run_workers(course, students, work, failed, jobs, verify.STUDENT_SECONDS + 60, "verifying")


def mark_started(course, student):
    """Record that ``student``'s grading began: until a complete grading replaces it, the student is not up to date."""
    store.save(course, GradingRecord(student, ["grading started and did not finish"]))


def grade_student(course, student, secret, isolation, notebook_seconds=NOTEBOOK_SECONDS, fingerprint=None):
    """Steps 1 to 4 for one student, in this process; returns the saved record.

    The record remembers the submission's hash and the course's ``fingerprint``
    when every notebook was graded (none 'failed'), so an unchanged re-grade can
    skip it. Where the time went goes to stdout (the worker's log), one line.
    """
    clock = _Clock()
    submission = submission_hash(course.folder("submitted", student))
    mark_started(course, student)
    autograded = course.folder("autograded", student)
    if autograded.exists():
        shutil.rmtree(autograded)
    intake = take_in(course, student)
    record = GradingRecord(student, intake.notes, hints=intake.hints)
    clock.lap("intake")
    logs = course.reports / "logs" / student
    taken = [notebook for notebook in course.notebooks() if notebook in intake.notebooks]
    with kernel.kernels_for(course, student, wanted=bool(taken)) as server:
        graded = {o.notebook: o for o in autograde_notebooks(course, student, taken, notebook_seconds, logs)}
        clock.lap("notebooks")
        forked = verify.verify_forked(secret, isolation, server) if server else None
    record.verification = forked or verify.verify(course, student, secret, isolation)
    record.verification.excerpts = quote_failures(course, student, record.verification)
    clock.lap("verification")
    for notebook in course.notebooks():
        if notebook not in graded:
            zero_notebook(course, student, notebook)
            graded[notebook] = NotebookOutcome(notebook, MISSING, "not graded: see the notes on the submission")
        record.notebooks.append(graded[notebook])
    if fingerprint and all(outcome.status != FAILED for outcome in record.notebooks):
        record.content_hash, record.course_fingerprint = submission, fingerprint
    store.save(course, record, submission_hash=submission)
    clock.lap("record")
    print(f"timing: {clock}", flush=True)
    return record


class _Clock:
    """Wall-clock seconds of consecutive steps, shown as 'intake 0.05 s, notebooks 12.1 s, ...'."""

    def __init__(self):
        self.laps, self.last = [], time.perf_counter()

    def lap(self, step):
        now = time.perf_counter()
        self.laps.append((step, now - self.last))
        self.last = now

    def __str__(self):
        return ", ".join(f"{step} {seconds:.3f} s" for step, seconds in self.laps)


def preload():
    """What every forked grading process (each student's worker, its autograde child) would otherwise load again:
    nbformat's compiled schema validators (about 0.1 s of CPU), IPython, which jupyter_client imports to find
    kernel folders (about 0.15 s), and the configuration of nbgrader's ORM mappers."""
    import IPython.paths  # noqa: F401

    configure_mappers()

    for relaxed in (False, True):  # nbgrader validates both ways
        get_validator(nbformat.current_nbformat, nbformat.current_nbformat_minor, relax_add_props=relaxed)


def _prepare(course):
    """What every worker needs before the batch: alembic on PATH, WAL for sqlite, the kernels' font list, and
    ``preload()``."""
    preload()
    with_venv_on_path()
    migration.migrate(course)
    url = make_url(course.db_url)
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
    die_with_parent()
    logs = course.reports / "logs" / student
    logs.mkdir(parents=True, exist_ok=True)
    with open(logs / "worker.log", "w") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
    work(student)
