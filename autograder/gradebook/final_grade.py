"""The final grade, defined once: how the verification, nbgrader's test and a TA's override combine.

Per grade cell of points P (docs/autograder.md, "The grade"):

- ``check``: the integrity verification's verdict on the cell (its exercise or
  course example, run again outside the student's kernels on secret cases), if a
  check is registered under the cell's grade_id;
- ``raw``: nbgrader's in-kernel score r (0 <= r <= P), from the test cell run in
  the student's own kernel, which the student's code can fake;
- ``valid``: whether the notebook could be graded at all (not missing, not
  invalid JSON, not failed);
- ``manual``: a TA's manual score m set in formgrader.

    automatic = 0 if the notebook is not valid,
                else P if the check passed, 0 if it failed (a cell with a check: its verdict alone),
                else r (a cell without one)
    final     = m if the TA set one, else automatic

So nothing a student's code can touch decides a checked cell, and a cell's points
depend on its own exercise only. The automatic score is what the kit writes into
nbgrader's ``grade.auto_score``, so nbgrader's own ``grade.score`` IS the final
score in formgrader, ``nbgrader export``, the kit's export and the feedback alike.
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
        """0 for a notebook that could not be graded; the check's verdict for a cell with one (P or 0); else
        nbgrader's score (None: it waits for a manual grade)."""
        if not self.valid:
            return 0.0
        if self.check is not None:
            return self.points if self.check else 0.0
        return self.raw

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
