"""Scores for the TA, read from the gradebook: the final grade, how each cell reached it, flags, tables.

The final grade is defined in ``autograder.final_grade``; ``autograder.store``
writes it into nbgrader's tables, so what is read here is what formgrader and
``nbgrader export`` show. Beside each cell's final score the kit's tables hold
the test score (what nbgrader's test gave in the student's kernel) and the
verification's verdict, so every number can be explained. In a course that
records hints, each student's hint record is read too (``StudentScores.hints``);
it is shown, never scored.
"""

from dataclasses import dataclass
from datetime import datetime, timezone

import nbformat
from nbgrader.api import Gradebook, MissingEntry

from autograder.course import ASSIGNMENT
from autograder.gradebook import store
from autograder.gradebook.final_grade import student_grade
from autograder.gradebook.record import GradingRecord
from backprop_lib.kit.hints import format_record


@dataclass(frozen=True)
class GradeCell:
    """One autograded test cell of the assignment."""

    notebook: str
    grade_id: str
    points: float

    @property
    def key(self):
        return f"{self.notebook}/{self.grade_id}"


@dataclass
class StudentScores:
    """One student's grade as the gradebook holds it: every cell's CellGrade, the flag, who the student is.

    ``hints`` is None unless the course records hints; then it is the hints the grading recorded in one line,
    ``linear_backward:3;relu_backward:2``, "none", or "not recorded" (no readable hint record: see the notes).
    ``graded_at``: when the kit last graded the student; ``submitted_at``: nbgrader's time of the submission
    graded (its ``timestamp.txt``), if it has one.
    """

    student: str
    cells: dict
    record: GradingRecord | None
    flagged: bool = False
    late_penalty: float = 0.0
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    lms_user_id: str | None = None
    hints: str | None = None
    graded_at: datetime | None = None
    submitted_at: datetime | None = None

    @property
    def total(self):
        """The final grade (``autograder.final_grade.student_grade``)."""
        return student_grade(self.cells.values(), self.late_penalty)

    @property
    def test_total(self):
        """The test score: the sum of what nbgrader's tests gave in the student's kernel, before the verification
        and overrides (``test_score`` in the JSON and the CSV; nbgrader's own ``raw_score`` is something else, the
        final grade before the late penalty)."""
        return sum(cell.raw or 0.0 for cell in self.cells.values())

    @property
    def verified(self):
        """{check: CheckResult} of the verification (empty if the library was not verified)."""
        verification = self.record.verification if self.record else None
        return {r.exercise: r for r in verification.results} if verification else {}

    def score(self, key):
        """The final score of grade cell ``key`` (notebook/grade_id); 0 if the cell was never graded."""
        cell = self.cells.get(key)
        return cell.final or 0.0 if cell else 0.0

    def notes(self):
        """Why the grade is what it is, beyond the cells' own scores: verdicts, overrides, the intake's notes."""
        verified = self.verified
        notes = []
        for cell in self.cells.values():
            if cell.manual is not None or cell.lowered_by_verification:
                result = verified.get(cell.grade_id)
                why = f" ({result.summary})" if cell.lowered_by_verification and result else ""
                notes.append(f"{cell.key} {cell.reason()}{why}")
        if self.late_penalty:
            notes.append(f"late submission: {self.late_penalty:g} points deducted")
        if self.record is None:
            return notes + ["not graded by the kit (nbgrader's scores only)"]
        return notes + self.record.reasons()


def grade_cells(course):
    """The assignment's grade cells, from the course's source notebooks, in order."""
    cells = []
    for stem in course.notebooks():
        notebook = nbformat.read(course.source / f"{stem}.ipynb", as_version=4)
        for cell in notebook.cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if meta.get("grade") and cell.cell_type == "code":
                cells.append(GradeCell(stem, meta["grade_id"], float(meta["points"])))
    return cells


def collect(course, students=None, gradebook=None):
    """StudentScores for ``students`` (default: every student in the gradebook), from ``gradebook`` if open."""
    if gradebook is None:
        with Gradebook(course.db_url, course.course_id) as gradebook:
            return collect(course, students, gradebook)
    records = store.load_all(course, students)
    known = {s.id: s for s in gradebook.students}
    students = students or sorted(set(known) | set(records))
    recording = course.records_hints
    return [_scores(gradebook, known.get(student), student, records.get(student), recording) for student in students]


def _scores(gradebook, person, student, record, recording_hints):
    graded = store.graded_cells(gradebook, ASSIGNMENT, student, record)
    cells = {cell.key: cell for _, found in graded for _, cell in found}
    try:
        submission = gradebook.find_submission(ASSIGNMENT, student)
        penalty, submitted = submission.late_submission_penalty or 0.0, _utc(submission.timestamp)
    except MissingEntry:
        penalty, submitted = 0.0, None
    scores = StudentScores(student, cells, record, any(notebook.flagged for notebook, _ in graded), penalty)
    scores.graded_at, scores.submitted_at = _utc(record and record.graded_at), submitted
    if person is not None:
        scores.first_name, scores.last_name, scores.email = person.first_name, person.last_name, person.email
        scores.lms_user_id = person.lms_user_id
    if recording_hints:
        scores.hints = "not recorded" if record is None or record.hints is None else format_record(record.hints)
    return scores


def _utc(moment):
    """A time from the gradebook with its time zone (nbgrader's and sqlite's are UTC without one)."""
    return moment.replace(tzinfo=timezone.utc) if moment and not moment.tzinfo else moment
