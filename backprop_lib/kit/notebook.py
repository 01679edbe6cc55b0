"""Notebook support: one short line, not a traceback, for an exercise you have not written yet.

Every exercise stub raises ``NotImplementedError("<fn> is not implemented yet:
write it in backprop_lib/<module>.py")``. After ``setup()`` in a notebook's
first cell, a cell that reaches such a stub shows exactly that line as its error
output, and the run goes on to the next cell (Run All, nbclient and nbgrader
alike), so an untouched notebook runs to the end.

The error output stays an error output: nbgrader scores a test cell 0 when it
has one, so a test cell that needs a stub still fails; it just fails in one line.
Any other exception (a bug in your own code, a failed assert) keeps its full
traceback and stops Run All as usual.

Test cells use ``checked`` (one exercise's check) and ``agrees`` (a value against
the grader's reference number).
"""

import os
import re
from pathlib import Path

import numpy as np
from IPython import get_ipython

import backprop_lib
from backprop_lib.kit.checking import run_checks
from backprop_lib.kit.reference import is_reference
from backprop_lib.kit.results import NOT_IMPLEMENTED
from backprop_lib.kit.working_folder import holds_library, working_folder

_STUB_MESSAGE = re.compile(r"\w+ is not implemented yet: write it in backprop_lib/\w+\.py")


def is_stub_error(error):
    """True when ``error`` is the NotImplementedError raised by an untouched exercise stub."""
    return isinstance(error, NotImplementedError) and _STUB_MESSAGE.fullmatch(str(error)) is not None


def _show_error(shell, etype, value, tb, tb_offset=None):
    """IPython custom exception handler: the stub's message alone, else the usual traceback."""
    if is_stub_error(value):
        stb = [str(value)]
    else:
        stb = shell.InteractiveTB.structured_traceback(etype, value, tb, tb_offset=tb_offset)
    shell._showtraceback(etype, value, stb)
    return stb


def _reload_saved_files(shell):
    """IPython's ``autoreload`` (``%autoreload 2``): an exercise file you save is used by the next cell you run,
    without restarting the kernel."""
    if not shell.find_line_magic("autoreload"):
        shell.run_line_magic("load_ext", "autoreload")
    shell.run_line_magic("autoreload", "2")


def _grading_mode(shell):
    """What a grading kernel does without, as no graded cell depends on it: ``autoreload`` (no file changes
    during a grading run; loading it records every loaded module, 20 ms a kernel, and checking them before each
    cell cost more CPU than any graded cell: switched off if a notebook loaded it itself) and IPython's verbose
    tracebacks (source context highlighted with pygments, formatted twice per failing cell, once for the history:
    about 10 ms a cell and 0.1 s for the first). Errors are shown in IPython's Plain mode, Python's own layout:
    each frame's file, line and code, then the exception."""
    if shell.find_line_magic("autoreload"):
        shell.run_line_magic("autoreload", "0")
    shell.InteractiveTB.set_mode("Plain")


def _continue_after_stub(result):
    """post_run_cell hook: a stub error does not fail the cell's execution reply.

    The error output is already shown; clearing ``error_in_exec`` only makes the
    kernel reply "ok", so Run All (and nbclient) go on to the next cell.
    """
    if result is not None and is_stub_error(result.error_in_exec):
        result.error_in_exec = None


def setup():
    """Install the one-line handling of exercise stubs in the running IPython kernel, and ``autoreload``.

    Prints which library the notebook runs (your exercise files, or the
    reference solutions). Safe to call more than once; outside IPython it only prints.
    While nbgrader grades the notebook, see ``_grading_mode``.
    """
    print(library_summary())
    shell = get_ipython()
    if shell is None:
        return
    if os.environ.get("NBGRADER_EXECUTION") == "autograde":
        _grading_mode(shell)
    else:
        _reload_saved_files(shell)
    shell.set_custom_exc((NotImplementedError,), _show_error)
    if _continue_after_stub not in shell.events.callbacks["post_run_cell"]:
        shell.events.register("post_run_cell", _continue_after_stub)


def show(*nodes):
    """Print one row per graph node: its label, its forward value and its gradient so far ("-": none yet)."""
    width = max((len(node.label) for node in nodes), default=0)
    for node in nodes:
        print(f"{node.label:>{width}}   value {_number(node.value)}   gradient {_number(node.grad)}")


def _number(array):
    if array is None:
        return f"{'-':>6}"
    array = np.asarray(array, dtype=np.float64)
    return f"{float(array):6.2f}" if array.ndim == 0 else np.array2string(array, precision=2, suppress_small=True)


def library_summary():
    """Where the exercise code this process runs comes from, in one line; a second one when that is not the
    library of the folder you work in (``backprop_lib.kit.working_folder``), which ``check`` and ``hint`` use."""
    if backprop_lib.solution_mode():
        return f"backprop_lib runs the reference solutions in {backprop_lib.SOLUTIONS_DIR}"
    imported = Path(backprop_lib.__file__).resolve().parent
    if is_reference(imported.parent):
        return f"backprop_lib runs the reference solutions in {imported} (a reference view: read-only)"
    line = f"backprop_lib runs your exercise files in {imported}"
    here = working_folder()
    if holds_library(here) and imported.parent != here:
        line += (
            f"\nbut the folder you work in is {here}, whose backprop_lib/ the checks and hints use: keep the notebooks "
            "beside backprop_lib/ (at the workspace's root) so both mean the same files"
        )
    return line


def checked(exercise, seed=0):
    """Check one exercise in this kernel and return its ``CheckResult``, for test cells.

    Raises the exercise's own NotImplementedError while it is still a stub, so an
    unwritten exercise fails its test cell in one line; any other verdict is
    returned for the test cell to assert on: ``assert result.passed, result.report()``.
    """
    (result,) = run_checks([exercise], seed=seed)
    if result.status == NOT_IMPLEMENTED:
        raise NotImplementedError(result.summary)
    return result


recorded = {}  # what ``agrees`` noted while the course build computed the reference values


def agrees(reference, name, value):
    """Whether ``value`` has the shape and, to float tolerance, the numbers of ``reference[name]`` (the grader's
    values, computed from the reference solutions when the course was built).

    With no reference (None: the build computing them), ``value`` is noted as the reference and True returned.
    """
    if reference is None:
        recorded[name] = np.asarray(value, dtype=np.float64).tolist()
        return True
    expected = np.asarray(reference[name], dtype=np.float64)
    try:
        got = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return got.shape == expected.shape and bool(np.allclose(got, expected))
