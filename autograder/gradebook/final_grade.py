"""The final grade, defined once: how nbgrader's test, the verification and a TA's override combine.

Per grade cell of points P (docs/autograder.md, "The grade"):

- ``raw``: nbgrader's in-kernel score r (0 <= r <= P), from the test cell run in
  the student's own kernel;
- ``check``: the verification's verdict on the cell, if a check is registered
  under the cell's grade_id: passed allows P points, failed allows 0; no check
  allows P (the cell keeps nbgrader's score);
- ``valid``: whether the notebook could be graded at all (not missing, not
  invalid JSON, not failed); an invalid notebook allows 0;
- ``manual``: a TA's manual score m set in formgrader.

    automatic = min(r, allowed by the check, allowed by the notebook)
    final     = m if the TA set one, else automatic

The automatic score is what the kit writes into nbgrader's ``grade.auto_score``,
so nbgrader's own ``grade.score`` (manual if set, else auto) IS the final score
in formgrader, ``nbgrader export``, the kit's export and the feedback alike.
A student's grade is the sum of the final scores of every grade cell.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class CellGrade:
    """One grade cell of one student: what each source allows, and the resulting final score."""

    notebook: str
    grade_id: str
    points: float
    raw: float | None
    check: bool | None = None
    valid: bool = True
    manual: float | None = None

    @property
    def key(self):
        return f"{self.notebook}/{self.grade_id}"

    @property
    def automatic(self):
        """min(nbgrader's score, what the verification allows, what the notebook's validity allows)."""
        if self.raw is None:
            return None
        allowed = self.points if self.valid and self.check is not False else 0.0
        return min(self.raw, allowed)

    @property
    def final(self):
        """The TA's manual score if there is one, else the automatic score (None: waits for a manual grade)."""
        return self.manual if self.manual is not None else self.automatic

    @property
    def lowered_by_verification(self):
        """The cell earned points in the student's kernel that the verification, on secret cases, took away."""
        return self.valid and self.check is False and (self.raw or 0.0) > 0

    def reason(self):
        """How the final score was reached, in one line a student and a TA can read."""
        score = f"{_points(self.final)}/{_points(self.points)}"
        test = f"nbgrader test {_points(self.raw)}/{_points(self.points)}"
        if self.manual is not None:
            return f"{score}: set by your TA (automatic score {_points(self.automatic)}; {test})"
        if not self.valid:
            return f"{score}: the notebook could not be graded"
        if self.check is None:
            return f"{score}: {test}"
        verdict = "passed" if self.check else "failed"
        if self.lowered_by_verification:
            return f"{score}: {test}, but the grader's own check on new inputs failed"
        return f"{score}: {test}; grader's own check {verdict}"


def _points(value):
    return "-" if value is None else f"{value:g}"


def student_grade(cells, late_penalty=0.0):
    """A student's grade: the sum of the cells' final scores less nbgrader's late penalty, never below 0.

    The same sum nbgrader makes (``submission.score`` less ``late_submission_penalty``).
    """
    return max(0.0, sum(cell.final or 0.0 for cell in cells) - (late_penalty or 0.0))
