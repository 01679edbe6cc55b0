"""The result of checking one exercise, as shown to a student and stored by the autograder."""

import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

from backprop_lib import EXERCISE_MODULES

PASSED, NOT_IMPLEMENTED, FAILED, ERROR = "passed", "not implemented", "failed", "error"


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
    """

    exercise: str
    path: str
    status: str
    summary: str = ""
    details: list[str] = field(default_factory=list)
    hint: str | None = None

    @property
    def passed(self):
        return self.status == PASSED

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
        return "\n".join(lines)


def result_from_exception(exercise, path, exc):
    """A CheckResult for an exception raised by student code, pointing at the student's line."""
    if isinstance(exc, NotImplementedError):
        return CheckResult(exercise, path, NOT_IMPLEMENTED, str(exc) or f"{exercise} is not implemented yet")
    if isinstance(exc, SyntaxError):
        where = f"{exc.filename}, line {exc.lineno}" if exc.lineno else exc.filename
        return CheckResult(exercise, path, FAILED, f"syntax error in {where}: {exc.msg}", [(exc.text or "").rstrip()])
    hint = "check dimensions: (N, K)(K, M) = (N, M), and W^T has shape (K, M)" if "matmul" in str(exc) else None
    return CheckResult(exercise, path, FAILED, f"raised {type(exc).__name__}: {exc}", _student_frames(exc), hint)


def _student_frames(exc):
    """The traceback lines that point into the student's exercise files."""
    frames = traceback.extract_tb(exc.__traceback__)
    return [
        f"at {frame.filename}, line {frame.lineno}, in {frame.name}: {(frame.line or '').strip()}"
        for frame in frames
        if Path(frame.filename).stem in EXERCISE_MODULES
        and Path(frame.filename).parent.name in ("backprop_lib", "solutions")
    ][-2:]
