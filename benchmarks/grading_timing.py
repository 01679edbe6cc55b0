"""Timestamps of one notebook's autograde, for benchmarks/grading.py: nbclient's hooks and two marker preprocessors.

``configure(c)`` is called from a course's nbgrader_config.py (the benchmark
appends the call for its instrumented run only); every event is one JSON line
appended to the file named by $BACKPROP_TIMING_LOG, with the grading process's
pid (one autograde child grades one notebook):

    execute       the executor is about to start the kernel (MarkExecute, before it)
    kernel_ready  the kernel answers (nbclient's on_notebook_start)
    cell_start / cell_end   a code cell, with its kind: graded, illustration or other
    cells_done    the last cell ran (on_notebook_complete)
    kernel_gone   the executor returned, kernel shut down (MarkExecuted, after it)
"""

import json
import os
import time

from nbconvert.preprocessors import Preprocessor


def _write(event, **fields):
    with open(os.environ["BACKPROP_TIMING_LOG"], "a") as log:
        log.write(json.dumps({"event": event, "t": time.time(), "pid": os.getpid(), **fields}) + "\n")


def _kind(cell):
    nbgrader = cell.get("metadata", {}).get("nbgrader", {})
    if nbgrader.get("grade") or nbgrader.get("solution"):
        return "graded"
    tags = cell.get("metadata", {}).get("tags", [])
    return "illustration" if "illustration" in tags or "skip-execution" in tags else "other"


class MarkExecute(Preprocessor):
    def preprocess(self, nb, resources):
        _write("execute", notebook=resources["nbgrader"]["notebook"], student=resources["nbgrader"]["student"])
        return nb, resources


class MarkExecuted(Preprocessor):
    def preprocess(self, nb, resources):
        _write("kernel_gone")
        return nb, resources


def _cell_start(cell, cell_index, **_):
    if cell.cell_type == "code" and cell.source.strip():
        skipped = "skip-execution" in cell.get("metadata", {}).get("tags", [])
        _write("cell_start", index=cell_index, kind=_kind(cell), skipped=skipped)


def configure(c):
    """Insert the markers around the course's executor and set nbclient's hooks."""
    names = list(c.Autograde.autograde_preprocessors)
    executor = names.index("autograder.kernel.ConfinedExecute")
    names[executor : executor + 1] = ["grading_timing.MarkExecute", names[executor], "grading_timing.MarkExecuted"]
    c.Autograde.autograde_preprocessors = names
    c.ConfinedExecute.on_notebook_start = lambda **_: _write("kernel_ready")
    c.ConfinedExecute.on_cell_start = _cell_start
    c.ConfinedExecute.on_cell_executed = lambda cell_index, **_: _write("cell_end", index=cell_index)
    c.ConfinedExecute.on_notebook_complete = lambda **_: _write("cells_done")
