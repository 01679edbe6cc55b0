"""Scores for the TA, read from the gradebook: the final grade, how each cell reached it, flags, tables.

The final grade is defined in ``autograder.final_grade``; ``autograder.store``
writes it into nbgrader's tables, so what is read here is what formgrader and
``nbgrader export`` show. Beside each cell's final score the kit's tables hold
nbgrader's raw in-kernel score and the verification's verdict, so every number
can be explained. In a course that records hints, each student's hint record
is read too (``StudentScores.hints``); it is shown, never scored.
"""

from dataclasses import dataclass

import nbformat
from nbgrader.api import Gradebook, MissingEntry

from autograder import names, store
from autograder.course import ASSIGNMENT, course_id, db_url, records_hints
from autograder.final_grade import student_grade
from backprop_lib.kit.exercises import EXERCISES
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
    """

    student: str
    cells: dict
    record: store.GradingRecord | None
    flagged: bool = False
    late_penalty: float = 0.0
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    lms_user_id: str | None = None
    hints: str | None = None

    @property
    def total(self):
        """The final grade (``autograder.final_grade.student_grade``)."""
        return student_grade(self.cells.values(), self.late_penalty)

    @property
    def raw_total(self):
        """The sum of nbgrader's in-kernel scores, before verification and overrides."""
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
        with Gradebook(db_url(course), course_id(course)) as gradebook:
            return collect(course, students, gradebook)
    records = store.load_all(course, students)
    known = {s.id: s for s in gradebook.students}
    students = students or sorted(set(known) | set(records))
    recording = records_hints(course)
    return [_scores(gradebook, known.get(student), student, records.get(student), recording) for student in students]


def _scores(gradebook, person, student, record, recording_hints):
    graded = store.graded_cells(gradebook, student, record)
    cells = {cell.key: cell for _, found in graded for _, cell in found}
    try:
        penalty = gradebook.find_submission(ASSIGNMENT, student).late_submission_penalty or 0.0
    except MissingEntry:
        penalty = 0.0
    scores = StudentScores(student, cells, record, any(notebook.flagged for notebook, _ in graded), penalty)
    if person is not None:
        scores.first_name, scores.last_name, scores.email = person.first_name, person.last_name, person.email
        scores.lms_user_id = person.lms_user_id
    if recording_hints:
        scores.hints = "not recorded" if record is None or record.hints is None else format_record(record.hints)
    return scores


def student_table(scores, cells):
    """One row per student: final grade, nbgrader's in-kernel score, checks passed, flag (hints opened, in a
    course that records them); then the notes."""
    maximum = sum(cell.points for cell in cells)
    showing_hints = any(s.hints is not None for s in scores)
    header = ("student", "grade", "nbgrader", "checks", "flag")
    if showing_hints:
        header += ("hints opened",)
    rows = [header]
    for s in scores:
        passed = sum(r.passed for r in s.verified.values())
        row = (
            s.student,
            f"{s.total:g}/{maximum:g}",
            f"{s.raw_total:g}/{maximum:g}",
            f"{passed}/{len(s.verified)}" if s.verified else "not verified",
            "FLAGGED" if s.flagged else "",
        )
        if showing_hints:
            row += (s.hints,)
        rows.append(row)
    lines = _columns([tuple(map(names.terminal, row)) for row in rows])
    notes = [(s.student, note) for s in scores for note in s.notes()]
    if notes:
        lines += ["", "Notes:"] + [f"  {names.terminal(student)}: {names.terminal(note)}" for student, note in notes]
    modes = sorted({s.record.verification.isolation for s in scores if s.record and s.record.verification})
    lines += [f"\nIntegrity verification: {mode}" for mode in modes]
    return "\n".join(lines)


def exercise_table(scores, cells):
    """One row per exercise: how many students passed its nbgrader test cell and its verification."""
    own = {cell.grade_id: cell for cell in cells if cell.grade_id in EXERCISES}
    rows = [("exercise", "file", "nbgrader", "verified")]
    for name, exercise in EXERCISES.items():
        cell = own.get(name)
        tested = [s.cells[cell.key].raw or 0.0 for s in scores if cell and cell.key in s.cells]
        nbgrader = sum(score >= cell.points for score in tested) if cell else None
        verified = [s.verified[name].passed for s in scores if name in s.verified]
        rows.append(
            (
                name,
                exercise.path,
                "-" if nbgrader is None else f"{nbgrader}/{len(scores)}",
                f"{sum(verified)}/{len(verified)}" if verified else "-",
            )
        )
    return "\n".join(_columns(rows))


def _columns(rows):
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(f"{value:<{width}}" for value, width in zip(row, widths, strict=True)).rstrip() for row in rows]
