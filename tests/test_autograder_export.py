"""The Canvas and Moodle files follow the column rules those systems document for a grade import.

Canvas (Gradebook, Import): UTF-8 CSV with a header row; the columns Student, ID,
SIS User ID, SIS Login ID, Section first; each student identified by at least one of
Student, ID, SIS User ID; an optional "Points Possible" row under the header; one
column per assignment, numeric scores. Moodle (Grades, Import, CSV file): UTF-8 CSV
with a header row; one column to identify users by (ID number or Email address),
unique and non-empty; one column per grade item with numbers written with a decimal
point, within the item's range; optional feedback columns. (docs/autograder.md)
"""

import csv

from autograder.gradebook.final_grade import CellGrade
from autograder.reports.exporters import canvas_rows, generic_rows, moodle_rows, write_rows
from autograder.reports.scores import GradeCell, StudentScores
from autograder.reports.tables import exercise_table, student_json, student_table

CELLS = [GradeCell("01_chain_rule", "squared_error_factors", 2.0), GradeCell("05_jacobians_relu", "relu_backward", 2.0)]
CANVAS_FIRST = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def student(name, raw, check, manual=None, **who):
    cells = {
        "01_chain_rule/squared_error_factors": CellGrade("01_chain_rule", "squared_error_factors", 2.0, 2.0),
        "05_jacobians_relu/relu_backward": CellGrade(
            "05_jacobians_relu", "relu_backward", 2.0, raw, check, True, manual
        ),
    }
    return StudentScores(name, cells, None, **who)


SCORES = [
    student("s001", 2.0, False, first_name="Zoë", last_name="O'Neil, Jr.", email="zoe@example.edu", lms_user_id="4711"),
    student("s002", 2.0, False, manual=1.5, first_name="Ann", last_name="Lee", email="ann@example.edu"),
    student("s003", 2.0, True),
]


def read(path):
    raw = path.read_bytes()
    raw.decode("utf-8")  # strict: the file is UTF-8
    with open(path, newline="", encoding="utf-8") as file:
        return list(csv.reader(file))


def test_the_canvas_file_follows_canvas_gradebook_import_rules(tmp_path):
    rows = read(write_rows(tmp_path / "canvas.csv", canvas_rows(SCORES, CELLS)))
    header, points, students = rows[0], rows[1], rows[2:]
    assert header[:5] == CANVAS_FIRST and len(header) == 6 and header[5] == "backprop"
    assert points[0] == "Points Possible" and float(points[5]) == 4.0
    assert len(students) == len(SCORES) and all(len(row) == len(header) for row in students)
    for row, scores in zip(students, SCORES, strict=True):
        assert any(row[:3]), "a student is identified by Student, ID or SIS User ID"
        assert row[2] == scores.student and 0 <= float(row[5]) <= float(points[5])
        assert float(row[5]) == scores.total
    assert students[0][0] == "O'Neil, Jr., Zoë" and students[0][1] == "4711" and students[2][0] == "s003"
    assert [float(row[5]) for row in students] == [2.0, 3.5, 4.0]


def test_the_moodle_file_follows_moodle_csv_grade_import_rules(tmp_path):
    rows = read(write_rows(tmp_path / "moodle.csv", moodle_rows(SCORES, CELLS)))
    header, students = rows[0], rows[1:]
    assert "ID number" in header and "Email address" in header
    identifiers = [row[header.index("ID number")] for row in students]
    assert all(identifiers) and len(set(identifiers)) == len(identifiers)
    grade = header.index("backprop")
    for row in students:
        assert "," not in row[grade] and 0 <= float(row[grade]) <= 4.0
    assert header[-1] == "Feedback: backprop" and students[1][-1] == "3.5 of 4 points"


def test_the_generic_file_holds_every_number_behind_the_grade(tmp_path):
    rows = read(write_rows(tmp_path / "generic.csv", generic_rows(SCORES, CELLS)))
    table = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert [row["grade"] for row in table] == ["2", "3.5", "4"] and table[0]["test_score"] == "4"
    assert table[1]["points:05_jacobians_relu/relu_backward"] == "1.5" and table[0]["lms_user_id"] == "4711"
    assert "set by your TA" in table[1]["notes"] and "check on new inputs failed" in table[0]["notes"]


def test_each_score_has_one_name_in_the_tables_the_json_and_the_csv():
    """nbgrader's raw_score is the final grade before the late penalty; what nbgrader's tests gave in the student's
    kernel is the test score (``test_score``, ``tests``), never "raw"."""
    cheater = SCORES[0]
    header = generic_rows(SCORES, CELLS)[0]
    assert "test_score" in header and not [column for column in header if "raw" in column]
    shown = student_json(cheater, CELLS)
    assert (shown["grade"], shown["test_score"]) == (2.0, 4.0) and not [key for key in shown if "raw" in key]
    relu = shown["cells"]["05_jacobians_relu/relu_backward"]
    assert relu == {"final": 0.0, "test": 2.0, "check": False, "manual": None}
    assert student_table(SCORES, CELLS).splitlines()[0].split()[:5] == ["student", "grade", "tests", "checks", "flag"]
    assert exercise_table(SCORES, CELLS).splitlines()[0].split() == ["exercise", "file", "tests", "verified"]
