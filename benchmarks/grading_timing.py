"""Timestamps of one notebook's autograde, for benchmarks/grading.py: the course's executor, timed.

``configure(c)`` is called from a course's nbgrader_config.py (the benchmark
appends the call for its instrumented run only): it replaces the executor
``autograder.sandbox.kernel.ConfinedExecute`` with ``TimedExecute``, the same class
(its configuration applies) writing one JSON line per event to the file named
by $BACKPROP_TIMING_LOG, with the notebook it belongs to:

    execute       the executor starts (it will start the kernel)
    kernel_ready  the kernel answers (nbclient's on_notebook_start hook)
    cell_start    a code cell starts, or is skipped, with its kind: graded, illustration or other
    cell_end      that cell is done
    kernel_gone   the executor returned: the kernel is shut down
"""

import json
import os
import time

from autograder.grading.illustrations import ILLUSTRATION, SKIP
from autograder.sandbox.kernel import ConfinedExecute


def _write(event, **fields):
    with open(os.environ["BACKPROP_TIMING_LOG"], "a") as log:
        log.write(json.dumps({"event": event, "t": time.time(), **fields}) + "\n")


def _kind(cell):
    nbgrader = cell.get("metadata", {}).get("nbgrader", {})
    if nbgrader.get("grade") or nbgrader.get("solution"):
        return "graded"
    return "illustration" if ILLUSTRATION in cell.get("metadata", {}).get("tags", []) else "other"


class TimedExecute(ConfinedExecute):
    """ConfinedExecute writing the timestamps above."""

    notebook = None

    def preprocess(self, nb, resources=None, km=None):
        self.notebook = resources["nbgrader"]["notebook"]
        _write("execute", notebook=self.notebook)
        self.on_notebook_start = lambda **_: _write("kernel_ready", notebook=self.notebook)
        try:
            return super().preprocess(nb, resources, km)
        finally:
            _write("kernel_gone", notebook=self.notebook)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or not cell.source.strip():
            return super().preprocess_cell(cell, resources, index)
        skipped = SKIP in cell.get("metadata", {}).get("tags", [])
        _write("cell_start", notebook=self.notebook, index=index, kind=_kind(cell), skipped=skipped)
        try:
            return super().preprocess_cell(cell, resources, index)
        finally:
            _write("cell_end", notebook=self.notebook, index=index)


def configure(c):
    """Use TimedExecute as the course's executor."""
    names = list(c.Autograde.autograde_preprocessors)
    names[names.index("autograder.sandbox.kernel.ConfinedExecute")] = "grading_timing.TimedExecute"
    c.Autograde.autograde_preprocessors = names
