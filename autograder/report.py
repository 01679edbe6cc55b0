"""Scores for the TA: nbgrader's grade cells beside the verified exercises, flags, tables and CSV.

Every exercise has its own test cell, whose grade_id is the exercise's name.
The verified score is the nbgrader score with each such cell's score replaced
by the integrity verification's verdict on that exercise: all its points if
the exercise passed, none if not. Cells that test something else (a worked
example through several gates, the capstone's training) keep nbgrader's score.
A submission is flagged when its nbgrader score is higher than its verified
score: an exercise passed its test in the student's kernel, and the sandbox,
on secret cases, found it wrong.
"""

import csv
from dataclasses import dataclass, field

import nbformat
from nbgrader.api import Gradebook, MissingEntry

from autograder import names, records
from autograder.course import ASSIGNMENT, COURSE_ID, db_url
from backprop_lib.kit.exercises import EXERCISES


@dataclass(frozen=True)
class GradeCell:
    """One autograded test cell of the assignment."""

    notebook: str
    grade_id: str
    points: float

    @property
    def exercise(self):
        """The exercise this cell is the test of, or None for a cell that tests something else."""
        return self.grade_id if self.grade_id in EXERCISES else None

    @property
    def key(self):
        return f"{self.notebook}/{self.grade_id}"


@dataclass
class StudentScores:
    """One student's nbgrader scores per grade cell, verified results per exercise, and the verdict."""

    student: str
    cells: dict
    verified: dict
    record: object
    nbgrader: float = 0.0
    verified_total: float | None = None
    disagreements: list = field(default_factory=list)

    @property
    def flagged(self):
        return self.verified_total is not None and self.nbgrader > self.verified_total + 1e-9


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


def collect(course, students=None):
    """StudentScores for ``students`` (default: every student in the gradebook or with a record)."""
    cells, found = grade_cells(course), records.load_all(course)
    with Gradebook(db_url(course), COURSE_ID) as gradebook:
        known = {s.id for s in gradebook.students}
        students = students or sorted(known | set(found))
        scores = [_scores(gradebook, cells, student, found.get(student)) for student in students]
    return scores


def _scores(gradebook, cells, student, record):
    got = {cell.key: 0.0 for cell in cells}
    try:
        submission = gradebook.find_submission(ASSIGNMENT, student)
    except MissingEntry:
        submission = None
    for notebook in submission.notebooks if submission else []:
        for grade in notebook.grades:
            got[f"{notebook.name}/{grade.name}"] = float(grade.score or 0.0)
    verification = record.verification if record else None
    verified = {r.exercise: r for r in verification.results} if verification else {}
    scores = StudentScores(student, got, verified, record, nbgrader=sum(got.values()))
    if verified:
        scores.verified_total = 0.0
        for cell in cells:
            result = verified.get(cell.exercise)
            scores.verified_total += got[cell.key] if result is None else cell.points * result.passed
            if result is not None and not result.passed and got[cell.key] > 0:
                scores.disagreements.append(f"{cell.exercise} passed its nbgrader test; verification: {result.summary}")
    return scores


def student_table(scores, cells):
    """One row per student: nbgrader score, verified score, exercises verified, flag; then the notes."""
    maximum = sum(cell.points for cell in cells)
    rows = [("student", "nbgrader", "verified", "exercises", "flag")]
    for s in scores:
        passed = sum(r.passed for r in s.verified.values())
        rows.append(
            (
                s.student,
                f"{s.nbgrader:g}/{maximum:g}",
                "-" if s.verified_total is None else f"{s.verified_total:g}",
                f"{passed}/{len(s.verified)}" if s.verified else "not verified",
                "FLAGGED" if s.flagged else "",
            )
        )
    lines = _columns([tuple(map(names.terminal, row)) for row in rows])
    notes = [(s.student, note) for s in scores for note in _notes(s)]
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
        nbgrader = sum(s.cells[cell.key] >= cell.points for s in scores) if cell else None
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


def write_csv(path, scores, cells):
    """Per student: totals, the flag, every grade cell's nbgrader score, every exercise's verified result."""
    header = ["student", "nbgrader_score", "max_score", "verified_score", "flagged"]
    header += [f"nbgrader:{cell.key}" for cell in cells] + [f"verified:{name}" for name in EXERCISES] + ["notes"]
    maximum = sum(cell.points for cell in cells)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        for s in scores:
            row = [
                s.student,
                f"{s.nbgrader:g}",
                f"{maximum:g}",
                "" if s.verified_total is None else f"{s.verified_total:g}",
            ]
            row.append("yes" if s.flagged else "no")
            row += [f"{s.cells[cell.key]:g}" for cell in cells]
            row += [("1" if s.verified[name].passed else "0") if name in s.verified else "" for name in EXERCISES]
            row.append(" | ".join(_notes(s)))
            writer.writerow([names.csv_cell(cell) for cell in row])
    return path


def _notes(scores):
    notes = scores.record.reasons() if scores.record else ["not graded by the kit (no grading record)"]
    if scores.flagged:
        notes = [
            f"FLAGGED: nbgrader {scores.nbgrader:g} > verified {scores.verified_total:g}",
            *scores.disagreements,
            *notes,
        ]
    return notes


def _columns(rows):
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(f"{value:<{width}}" for value, width in zip(row, widths, strict=True)).rstrip() for row in rows]
