"""Run nbgrader's autograde on one notebook of one submission, in a child process with a time limit.

nbgrader grades a whole submission in one go, and one notebook that kills its
kernel fails all of them. Here every notebook is its own ``Autograde`` run
(nbgrader's ``--notebook`` option) in a forked child process, so

- a notebook whose kernel dies or hangs is graded up to that cell and the rest
  scores 0 (``autograder.kernel.ConfinedExecute``): status 'stopped', with the reason;
- a run that nbgrader cannot finish, or that exceeds ``time_limit`` seconds (it is
  killed with its kernel), costs that notebook only: status 'failed', and its
  grades are set to 0, never left stale (nbgrader keeps the previous scores
  when a forced re-grade fails).

The child reads the cleaned copy of the submission made by ``autograder.intake``
(``CourseDirectory.submitted_directory = "intake"``). Forking, instead of
starting ``nbgrader``, saves its 2.7 s start-up per notebook.
"""

import ctypes
import json
import multiprocessing
import os
import re
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass

from nbgrader.api import Gradebook
from nbgrader.converters import Autograde
from nbgrader.coursedir import CourseDirectory
from nbgrader.utils import capture_log

from autograder import kernel, names
from autograder.course import ASSIGNMENT, COURSE_ID, db_url, load_config

GRADED, STOPPED, FAILED, MISSING = "graded", "stopped", "failed", "missing"
_STOPPED = re.compile(re.escape(kernel.STOPPED) + r" (.+)")


@dataclass
class NotebookOutcome:
    """How one notebook's autograde went: status 'graded', 'stopped', 'failed' or 'missing', and why."""

    notebook: str
    status: str
    reason: str = ""
    seconds: float = 0.0


def autograde_notebook(course, student, notebook, time_limit, log_file):
    """Autograde ``notebook`` of ``student`` in a child process; zero its grades if that fails."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    scratch = tempfile.mkdtemp(prefix="backprop-grade-")
    child = context.Process(target=_run, args=(course, student, notebook, sender, log_file, scratch))
    start = time.monotonic()
    child.start()
    sender.close()
    child.join(time_limit)
    if child.is_alive():
        child.kill()
        child.join()
        outcome = {"success": False, "reason": f"grading this notebook took longer than {time_limit:g} s"}
    elif receiver.poll():
        outcome = json.loads(receiver.recv_bytes())
    else:
        outcome = {"success": False, "reason": f"the grading process stopped (exit code {child.exitcode})"}
    receiver.close()
    shutil.rmtree(scratch, ignore_errors=True)
    seconds = round(time.monotonic() - start, 2)
    if outcome["success"] and outcome["reason"]:
        return NotebookOutcome(notebook, STOPPED, f"stopped: {outcome['reason']}; later cells score 0", seconds)
    if outcome["success"]:
        return NotebookOutcome(notebook, GRADED, seconds=seconds)
    zero_notebook(course, student, notebook)
    return NotebookOutcome(notebook, FAILED, f"not graded: {outcome['reason']}; it scores 0", seconds)


def zero_notebook(course, student, notebook):
    """Give every grade cell of ``notebook`` an automatic score of 0 (creating the submission if needed)."""
    with Gradebook(db_url(course), COURSE_ID) as gradebook:
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


def _run(course, student, notebook, sender, log_file, scratch):
    """Child process: nbgrader's Autograde for one notebook; sends {success, reason} as JSON.

    The kernels' scratch folders go under ``scratch``, which the parent deletes
    even when it had to kill this process.
    """
    die_with_parent()
    tempfile.tempdir = scratch
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "w") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
    config = load_config(course)
    coursedir = CourseDirectory(config=config)
    coursedir.submitted_directory = "intake"
    coursedir.assignment_id, coursedir.notebook_id = ASSIGNMENT, notebook
    coursedir.student_id = names.nbgrader_glob(student)  # nbgrader globs the id: `student [2]` matches itself only
    app = names.literal_folders(Autograde)(coursedir=coursedir, config=config)
    app.force, app.create_student = True, True
    result = capture_log(app)
    text = "\n".join(filter(None, [result.get("log"), result.get("error")]))
    with open(log_file, "a") as log:
        log.write(text)
    reason = stop_reason(text) if result["success"] else failure_reason(text)
    sender.send_bytes(json.dumps({"success": result["success"], "reason": reason}).encode())


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
