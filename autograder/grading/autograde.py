"""Run nbgrader's autograde on a submission's notebooks, one at a time, in a child process with time limits.

nbgrader grades a whole submission in one go, and one notebook that kills its
kernel fails all of them. Here every notebook is its own ``Autograde`` run
(nbgrader's ``--notebook`` option), in a child process forked from the worker
that grades the submission's notebooks in order and reports each as it ends:

- a notebook whose kernel dies or hangs is graded up to that cell and the rest
  scores 0 (``autograder.kernel.ConfinedExecute``): status 'stopped', with the reason;
- a run that nbgrader cannot finish, or that does not report within ``time_limit``
  seconds (the child is killed with its kernel), costs that notebook only: status
  'failed', and its grades are set to 0, never left stale (nbgrader keeps the
  previous scores when a forced re-grade fails); the notebooks after it are graded
  in a new child.

The child reads the cleaned copy of the submission made by ``autograder.intake``
(``CourseDirectory.submitted_directory = "intake"``). Forking, instead of
starting ``nbgrader``, saves its 2.7 s start-up per notebook; one child for all
the notebooks, with one database engine for all its gradebook connections
(``_one_engine_per_database``) and the autograded folder prepared once
(``_Autograde``), saves about 0.15 s of CPU per notebook more.
"""

import copy
import ctypes
import functools
import json
import multiprocessing
import os
import re
import shutil
import signal
import sys
import tempfile
import time

import nbgrader.api
import sqlalchemy
from nbgrader.api import Gradebook
from nbgrader.converters import Autograde
from nbgrader.coursedir import CourseDirectory
from nbgrader.utils import capture_log

from autograder.course import ASSIGNMENT, names
from autograder.gradebook.record import FAILED, GRADED, STOPPED, NotebookOutcome
from autograder.sandbox import kernel

_STOPPED = re.compile(re.escape(kernel.STOPPED) + r" (.+)")


def autograde_notebooks(course, student, notebooks, time_limit, logs):
    """Autograde ``notebooks`` of ``student`` in order; returns their NotebookOutcomes, in the same order.

    Each notebook's nbgrader log goes to ``logs``/<notebook>.log. A notebook that fails
    is zeroed, and the notebooks after it are graded in a fresh child process.
    """
    outcomes = []
    while len(outcomes) < len(notebooks):
        outcomes += _autograde_in_child(course, student, notebooks[len(outcomes) :], time_limit, logs)
    return outcomes


def _autograde_in_child(course, student, notebooks, time_limit, logs):
    """The outcomes of ``notebooks`` graded in one child: all of them, or up to the first that failed."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    scratch = tempfile.mkdtemp(prefix="backprop-grade-")
    child = context.Process(target=_run, args=(course, student, notebooks, sender, logs, scratch))
    child.start()
    sender.close()
    outcomes = []
    try:
        for notebook in notebooks:
            start = time.monotonic()
            report = _next_report(receiver, child, time_limit)
            outcomes.append(_outcome(course, student, notebook, report, round(time.monotonic() - start, 2)))
            if outcomes[-1].status == FAILED:
                break
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        receiver.close()
        shutil.rmtree(scratch, ignore_errors=True)
    return outcomes


def _next_report(receiver, child, time_limit):
    """The child's report on its current notebook, {success, reason}, or why there is none."""
    if not receiver.poll(time_limit):
        child.kill()  # before the notebook is zeroed: a late write of the child's must not land after it
        child.join()
        return {"success": False, "reason": f"grading this notebook took longer than {time_limit:g} s"}
    try:
        return json.loads(receiver.recv_bytes())
    except EOFError:
        child.join()
        return {"success": False, "reason": f"the grading process stopped (exit code {child.exitcode})"}


def _outcome(course, student, notebook, report, seconds):
    if report["success"] and report["reason"]:
        return NotebookOutcome(notebook, STOPPED, f"stopped: {report['reason']}; later cells score 0", seconds)
    if report["success"]:
        return NotebookOutcome(notebook, GRADED, seconds=seconds)
    zero_notebook(course, student, notebook)
    return NotebookOutcome(notebook, FAILED, f"not graded: {report['reason']}; it scores 0", seconds)


def zero_notebook(course, student, notebook):
    """Give every grade cell of ``notebook`` an automatic score of 0 (creating the submission if needed)."""
    with Gradebook(course.db_url, course.course_id) as gradebook:
        gradebook.update_or_create_student(student)
        gradebook.update_or_create_submission(ASSIGNMENT, student)
        submitted = gradebook.find_submission_notebook(notebook, ASSIGNMENT, student)
        for grade in submitted.grades:
            grade.auto_score = 0
            grade.needs_manual_grade = False
        gradebook.db.commit()


def die_with_parent():
    """Have the kernel SIGKILL this process when its parent dies (Linux), so no grading outlives its grader."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _run(course, student, notebooks, sender, logs, scratch):
    """Child process: nbgrader's Autograde for each notebook in turn; sends {success, reason} as JSON for each.

    The kernels' scratch folders go under ``scratch``, which the parent deletes
    even when it had to kill this process.
    """
    die_with_parent()
    tempfile.tempdir = scratch
    _one_engine_per_database()
    config = course.config
    logs.mkdir(parents=True, exist_ok=True)
    for notebook in notebooks:
        report = _autograde(course, student, notebook, copy.deepcopy(config), logs / f"{notebook}.log")
        sender.send_bytes(json.dumps(report).encode())
        if not report["success"]:  # the parent zeroes it and grades the rest in a fresh child
            return


def _autograde(course, student, notebook, config, log_file):
    """nbgrader's Autograde of one notebook, its output and log in ``log_file``; returns {success, reason}."""
    sys.stdout.flush()
    sys.stderr.flush()
    with open(log_file, "w") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
    coursedir = CourseDirectory(config=config)
    coursedir.submitted_directory = "intake"
    coursedir.assignment_id, coursedir.notebook_id = ASSIGNMENT, notebook
    coursedir.student_id = names.nbgrader_glob(student)  # nbgrader globs the id: `student [2]` matches itself only
    app = _Autograde(coursedir=coursedir, config=config)
    app.force, app.create_student = True, True
    result = capture_log(app)
    text = "\n".join(filter(None, [result.get("log"), result.get("error")]))
    with open(log_file, "a") as log:
        log.write(text)
    reason = stop_reason(text) if result["success"] else failure_reason(text)
    return {"success": result["success"], "reason": reason}


class _Autograde(names.literal_folders(Autograde)):
    """nbgrader's Autograde, preparing the student's autograded folder once per child process.

    nbgrader's ``init_assignment`` copies the submission and the source's files into the autograded folder,
    and records the student and the submission in the gradebook; a run per notebook would do it again for
    every notebook, though nothing changes between them (the kernels see the folder read-only).
    """

    prepared = False

    def init_assignment(self, assignment_id, student_id):
        if not _Autograde.prepared:
            super().init_assignment(assignment_id, student_id)
            _Autograde.prepared = True


def _one_engine_per_database():
    """Have every nbgrader Gradebook in this process share one SQLAlchemy engine per database URL.

    nbgrader creates an engine for each Gradebook it opens (about ten per notebook),
    each with an empty cache of compiled statements; sharing keeps that cache. A
    Gradebook's close still disposes of the engine's connections, as before.
    """
    nbgrader.api.create_engine = functools.cache(sqlalchemy.create_engine)


def stop_reason(log):
    """Why ConfinedExecute stopped the notebook early, or '' if it ran to the end."""
    stops = _STOPPED.findall(log)
    return stops[-1].strip() if stops else ""


def failure_reason(log):
    """The cause of a failed autograde, from nbgrader's log, in one line."""
    if stop_reason(log):
        return stop_reason(log)
    errors = [line[len("[ERROR] ") :] for line in log.splitlines() if line.startswith("[ERROR] ")]
    return errors[0].strip() if errors else "nbgrader could not grade it (see the log)"
