"""Grades for the people who receive them: nbgrader exporter plugins for a generic CSV, Canvas and Moodle.

Each writes the final grade (``autograder.gradebook.final_grade``, as nbgrader's gradebook
holds it) of every student in the gradebook, with the student's id, name, email
and LMS id where nbgrader has them. They work from nbgrader itself, in the
course folder::

    nbgrader export --exporter autograder.reports.exporters.CanvasExport [--to FILE]

and from ``backprop-kit course export --format generic|canvas|moodle``. None
writes nbgrader's own ``grades.csv``: the default files are ``FORMATS``' names.
The columns each LMS requires are in docs/autograder.md ("Exporting grades").
"""

import csv
from pathlib import Path

from nbgrader.plugins import ExportPlugin

from autograder.course import ASSIGNMENT, names, open_course
from autograder.reports import scores as report


def generic_rows(scores, cells):
    """Every number behind the grade: the final grade, each cell's final points, the test score, notes.

    In a course that records hints, a column ``hints_opened`` (``relu_backward:2;linear_backward:3``) comes
    before the notes.
    """
    maximum = sum(cell.points for cell in cells)
    showing_hints = any(s.hints is not None for s in scores)
    header = ["student_id", "first_name", "last_name", "email", "lms_user_id", "grade", "max_grade"]
    header += ["test_score", "late_penalty", "flagged"] + [f"points:{cell.key}" for cell in cells]
    if showing_hints:
        header.append("hints_opened")
    rows = [header + ["notes"]]
    for s in scores:
        row = [s.student, s.first_name, s.last_name, s.email, s.lms_user_id, _number(s.total), _number(maximum)]
        row += [_number(s.test_total), _number(s.late_penalty), "yes" if s.flagged else "no"]
        row += [_number(s.score(cell.key)) for cell in cells]
        if showing_hints:
            row.append(s.hints)
        rows.append(row + [" | ".join(s.notes())])
    return rows


def canvas_rows(scores, cells, assignment=ASSIGNMENT):
    """Canvas' gradebook import: Student, ID, SIS User ID, SIS Login ID, Section, then the assignment's column.

    The second row gives the assignment's points possible, as Canvas' own export does.
    """
    maximum = sum(cell.points for cell in cells)
    rows = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", assignment]]
    rows.append(["Points Possible", "", "", "", "", _number(maximum)])
    for s in scores:
        name = ", ".join(part for part in (s.last_name, s.first_name) if part) or s.student
        rows.append([name, s.lms_user_id or "", s.student, s.email or "", "", _number(s.total)])
    return rows


def moodle_rows(scores, cells, assignment=ASSIGNMENT):
    """Moodle's CSV grade import: identify users by "ID number" or "Email address", one grade column, feedback."""
    rows = [["ID number", "Email address", "First name", "Last name", assignment, f"Feedback: {assignment}"]]
    for s in scores:
        feedback = f"{_number(s.total)} of {_number(sum(cell.points for cell in cells))} points"
        rows.append([s.student, s.email or "", s.first_name or "", s.last_name or "", _number(s.total), feedback])
    return rows


FORMATS = {
    "generic": (generic_rows, "backprop-grades.csv"),
    "canvas": (canvas_rows, "canvas-grades.csv"),
    "moodle": (moodle_rows, "moodle-grades.csv"),
}


def export(course, kind, path=None, students=None, gradebook=None):
    """Write ``kind``'s file (default: FORMATS' name in the course folder); returns its path."""
    rows_of, default = FORMATS[kind]
    path = Path(path or course.root / default)
    if path.name == "grades.csv":
        raise ValueError(f"{path} is nbgrader's own export file: choose another name")
    scores = report.collect(course, students, gradebook)
    return write_rows(path, rows_of(scores, report.grade_cells(course)))


def write_rows(path, rows):
    """A UTF-8 CSV file with comma separators and RFC 4180 quoting, as Canvas and Moodle read it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as file:
        csv.writer(file, lineterminator="\r\n").writerows([names.csv_cell(cell) for cell in row] for row in rows)
    return path


class _KitExport(ExportPlugin):
    """An nbgrader exporter writing one of FORMATS for the course nbgrader runs in."""

    kind = "generic"

    def export(self, gradebook):
        course = open_course(self.parent.coursedir.root)
        path = export(course, self.kind, self.to or Path.cwd() / FORMATS[self.kind][1], self.student or None, gradebook)
        self.log.info("Exported %s grades to %s", self.kind, path)


class GenericExport(_KitExport):
    """The final grade, every grade cell's points, the test score, flag and notes (``backprop-grades.csv``)."""

    kind = "generic"


class CanvasExport(_KitExport):
    """Canvas' gradebook import file (``canvas-grades.csv``)."""

    kind = "canvas"


class MoodleExport(_KitExport):
    """Moodle's CSV grade import file (``moodle-grades.csv``)."""

    kind = "moodle"


def _number(value):
    return "" if value is None else f"{value:g}"
