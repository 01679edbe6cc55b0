"""The result of checking one exercise, as shown to a student and stored by the autograder."""

import ast
import linecache
import re
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from backprop_lib import EXERCISE_MODULES
from backprop_lib.kit.hints import available, how_to_open

PASSED, NOT_IMPLEMENTED, FAILED, ERROR = "passed", "not implemented", "failed", "error"


@dataclass(frozen=True)
class Diagnosis:
    """A kind of mistake the checks recognise.

    ``name`` is stable and short ("ignored upstream gradient"): a class is counted by it, so rewording the
    message keeps it. ``message`` is what the student reads; ``fill`` fills its ``{placeholders}``.
    """

    name: str
    message: str

    def fill(self, **values):
        return Diagnosis(self.name, self.message.format(**values))


@dataclass
class CheckResult:
    """One exercise's verdict.

    Attributes:
        exercise: the function's name, e.g. ``linear_backward``.
        path: the file that holds it, e.g. ``backprop_lib/layers.py``.
        status: 'passed', 'not implemented', 'failed' (a wrong answer or an exception
            in the student's code) or 'error' (the check itself could not run).
        summary: one line saying what happened.
        details: further lines (the worst element, the case that failed).
        hint: a plain-words hint when a known mistake pattern fits, else None.
        diagnosis: the name of that mistake (``Diagnosis.name``), or of the exception student code raised;
            None when the checks do not recognise it.
    """

    exercise: str
    path: str
    status: str
    summary: str = ""
    details: list[str] = field(default_factory=list)
    hint: str | None = None
    diagnosis: str | None = None

    @property
    def passed(self):
        return self.status == PASSED

    def diagnose(self, found):
        """The hint and diagnosis of ``found``, a Diagnosis (None: neither)."""
        self.hint, self.diagnosis = (found.message, found.name) if found else (None, None)

    def to_dict(self):
        return asdict(self)

    @classmethod
    def from_dict(cls, data):
        return cls(**data)

    def report(self):
        """The multi-line text a student reads."""
        lines = [f"{self.exercise} ({self.path}): {self.status}" + (f": {self.summary}" if self.summary else "")]
        lines += [f"    {line}" for line in self.details]
        if self.hint:
            lines.append(f"    Hint: {self.hint}")
        if self.status == FAILED and available(self.exercise):
            lines.append(f"    More help: {how_to_open(self.exercise)}")
        return "\n".join(lines)


def cases_match(count, kind=""):
    """A passed check's count: '1 case matches the reference', '4 secret cases match the reference'."""
    noun = " ".join(filter(None, [str(count), kind, "case" if count == 1 else "cases"]))
    return f"{noun} {'matches' if count == 1 else 'match'} the reference"


PRODUCT = Diagnosis(
    "shape error in a matrix product",
    "a shape error: write each array's shape beside it; a product (N, M) @ (M, K) needs equal inner sizes and "
    "gives (N, K), and every gradient has its input's shape",
)
BROADCAST = Diagnosis(
    "shape error in a broadcast",
    "a shape error: an elementwise operation needs shapes that broadcast (compared from the right, each size "
    "equal or 1); write each array's shape beside it, and remember every gradient has its input's shape",
)
RECURSION = Diagnosis(
    "recursion too deep",
    "the code calls itself once per node, and the graph is deeper than Python's recursion limit "
    "(about 1000 calls): walk it with an explicit stack (a list you push to and pop from) instead",
)
RAISED, SYNTAX = "raised an exception", "syntax error"
FROM_EXCEPTIONS = frozenset({PRODUCT.name, BROADCAST.name, RECURSION.name, RAISED, SYNTAX})
"""The diagnoses of exceptions (``result_from_exception``): the only ones a sandbox may report."""


def result_from_exception(exercise, path, exc):
    """A CheckResult for an exception raised by student code, pointing at the student's line.

    A shape error (a matrix product or a broadcast that does not fit) names the
    shapes of the arrays on the student's line; a recursion too deep for Python
    says so; any other exception is diagnosed as raised (``FROM_EXCEPTIONS``).
    Never raises: the result is a failed row, not a traceback.
    """
    if isinstance(exc, NotImplementedError):
        return CheckResult(exercise, path, NOT_IMPLEMENTED, str(exc) or f"{exercise} is not implemented yet")
    if isinstance(exc, SyntaxError):
        where = f"{exc.filename}, line {exc.lineno}" if exc.lineno else exc.filename
        summary, details = f"syntax error in {where}: {exc.msg}", [(exc.text or "").rstrip()]
        return CheckResult(exercise, path, FAILED, summary, details, diagnosis=SYNTAX)
    result = CheckResult(exercise, path, FAILED, f"raised {type(exc).__name__}: {exc}", _student_frames(exc))
    result.diagnosis = RAISED
    if isinstance(exc, RecursionError):
        result.diagnose(RECURSION)
    elif isinstance(exc, ValueError | TypeError) and (shapes := _shapes_on_line(exc)):
        misfits, listed = shapes
        if misfits:
            result.summary = f"raised {type(exc).__name__}: {misfits[0]}"
            result.details.append(f"numpy says: {exc}")
        result.details.append(listed)
        result.diagnose(PRODUCT if misfits or "matmul" in str(exc) else BROADCAST)
    return result


def _student_frame(exc):
    """The innermost traceback entry (frame, line number) in the student's exercise files, or None."""
    found, tb = None, exc.__traceback__
    while tb is not None:
        filename = Path(tb.tb_frame.f_code.co_filename)
        if filename.stem in EXERCISE_MODULES and filename.parent.name in ("backprop_lib", "solutions"):
            found = (tb.tb_frame, tb.tb_lineno)
        tb = tb.tb_next
    return found


def _shapes_on_line(exc):
    """(products that do not fit, 'arrays on that line: W (5, 3), dz (4, 3), x (4, 5)'), or None."""
    found = _student_frame(exc)
    if found is None:
        return None
    frame, lineno = found
    line = linecache.getline(frame.f_code.co_filename, lineno).strip()
    arrays = {
        name: value
        for name, value in frame.f_locals.items()
        if isinstance(value, np.ndarray) and re.search(rf"\b{re.escape(name)}\b", line)
    }
    if not arrays:
        return None
    misfits = [text for node in _matmuls(line) if (text := _product(node, arrays))]
    listed = ", ".join(f"{name} {value.shape}" for name, value in sorted(arrays.items()))
    return misfits, f"arrays on that line: {listed}"


def _matmuls(line):
    try:
        tree = ast.parse(line.removeprefix("return ").rstrip(":"))
    except SyntaxError:
        return []
    return [node for node in ast.walk(tree) if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult)]


def _product(node, arrays):
    """'x @ dz: (4, 5) @ (4, 3), inner sizes 5 and 4 differ' for a product of names (or their .T) that does not fit."""
    left, right = _operand(node.left, arrays), _operand(node.right, arrays)
    if left is None or right is None or left.ndim != 2 or right.ndim != 2 or left.shape[1] == right.shape[0]:
        return None
    text = f"{ast.unparse(node.left)} @ {ast.unparse(node.right)}"
    return f"{text} is {left.shape} @ {right.shape}: the inner sizes {left.shape[1]} and {right.shape[0]} differ"


def _operand(node, arrays):
    """The array a name, or a name's .T, stands for (nothing else is evaluated)."""
    if isinstance(node, ast.Name):
        return arrays.get(node.id)
    if isinstance(node, ast.Attribute) and node.attr == "T" and isinstance(node.value, ast.Name):
        value = arrays.get(node.value.id)
        return None if value is None else value.T
    return None


def _student_frames(exc):
    """The traceback lines that point into the student's exercise files."""
    frames = traceback.extract_tb(exc.__traceback__)
    return [
        f"at {frame.filename}, line {frame.lineno}, in {frame.name}: {(frame.line or '').strip()}"
        for frame in frames
        if Path(frame.filename).stem in EXERCISE_MODULES
        and Path(frame.filename).parent.name in ("backprop_lib", "solutions")
    ][-2:]
