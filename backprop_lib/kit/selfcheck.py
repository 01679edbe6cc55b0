"""The student's self-check: ``backprop-kit check`` in a terminal, ``backprop_lib.check()`` in a notebook.

The checks run in a fresh Python process whose working directory is the folder
the student works in (``backprop_lib.kit.working_folder``), so they always see
the files as saved on disk (no stale imports), a ``backprop_lib/`` in that
folder wins over an installed one, and nothing the student's code does (an
endless loop, a crash) can hang or kill the caller. The result is one row per
exercise.
"""

import json
import os
import subprocess
import sys

from backprop_lib.kit.hints import available, how_to_open
from backprop_lib.kit.results import ERROR, FAILED, NOT_IMPLEMENTED, PASSED, CheckResult
from backprop_lib.kit.working_folder import working_folder

PROCESS_TIMEOUT = 120.0
MARKS = {PASSED: "✔", NOT_IMPLEMENTED: "·", FAILED: "✘", ERROR: "!"}


SKIPPED_UNDER_NBGRADER = "self-check skipped while nbgrader grades: the test cells check every exercise"


class CheckReport(list):
    """The results, one CheckResult per exercise, shown as the table (in a notebook, by ``print``).

    ``note`` replaces the table when the checks did not run.
    """

    def __init__(self, results=(), note=None):
        super().__init__(results)
        self.note = note

    def __str__(self):
        return self.note or format_table(self)

    def _repr_pretty_(self, printer, cycle):
        printer.text(str(self))


def check(*exercises, directory=None):
    """Check the named exercises (default: all) of the library in ``directory`` or the folder you work in.

    Returns the results as a ``CheckReport`` (``backprop_lib.kit.working_folder`` says which folder).

    A notebook cell ending in ``check(...)`` shows the table; elsewhere ``print`` it.
    While nbgrader executes a notebook (``NBGRADER_EXECUTION`` set) nothing is graded
    from a self-check, so it is skipped: that saves every student's grading run a
    fresh process per self-check cell.
    """
    if os.environ.get("NBGRADER_EXECUTION"):
        return CheckReport(note=SKIPPED_UNDER_NBGRADER)
    return CheckReport(run_in_subprocess(exercises, working_folder(directory)))


def run_in_subprocess(exercises, directory):
    """Results of ``python -m backprop_lib.kit.checking --json`` run in ``directory``."""
    command = [sys.executable, "-m", "backprop_lib.kit.checking", "--json", *exercises]
    try:
        done = subprocess.run(command, cwd=directory, capture_output=True, text=True, timeout=PROCESS_TIMEOUT)
    except subprocess.TimeoutExpired:
        return [_crash(exercises, f"the checks did not finish within {PROCESS_TIMEOUT:g} s")]
    try:
        return [CheckResult.from_dict(item) for item in json.loads(done.stdout.splitlines()[-1])]
    except (IndexError, ValueError, TypeError):
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return [_crash(exercises, f"the check process stopped (exit code {done.returncode}): {last}")]


def _crash(exercises, message):
    return CheckResult(", ".join(exercises) or "all exercises", "", ERROR, message)


def format_table(results):
    """One row per exercise: mark, name, status, and what to do next."""
    width = max((len(r.exercise) for r in results), default=0)
    rows = []
    for r in results:
        message = f"write it in {r.path}" if r.status == NOT_IMPLEMENTED else r.summary
        rows.append(f"{MARKS[r.status]} {r.exercise:<{width}}  {r.status:<15}  {message}")
        if r.status != PASSED:
            rows += [f"  {'':<{width}}  {'':<15}  {line}" for line in r.details]
            if r.hint:
                rows.append(f"  {'':<{width}}  {'':<15}  Hint: {r.hint}")
            if r.status == FAILED and available(r.exercise):
                rows.append(f"  {'':<{width}}  {'':<15}  More help: {how_to_open(r.exercise)}")
    counts = {status: sum(r.status == status for r in results) for status in MARKS}
    rows.append(
        f"{counts[PASSED]} passed, {counts[FAILED]} failed, {counts[NOT_IMPLEMENTED]} not implemented yet"
        + (f", {counts[ERROR]} could not be checked" if counts[ERROR] else "")
    )
    return "\n".join(rows)
