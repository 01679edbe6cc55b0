"""Student ids and file names: refused where they would escape or mislead, escaped where they are shown."""

import csv
import glob
import subprocess
import sys

import pytest

from autograder.course import names


@pytest.mark.parametrize("student", ["student [2]", "Zoë Ünal", "a*b?c", 'o\'neil "q"', "-5", "李雷", "x..y"])
def test_ids_with_spaces_brackets_and_unicode_are_accepted(student, tmp_path):
    assert names.check_student_id(student) == student
    (tmp_path / student / "backprop").mkdir(parents=True)
    (tmp_path / "student 2" / "backprop").mkdir(parents=True)  # a neighbour a raw glob could also match
    pattern = str(tmp_path / names.nbgrader_glob(student) / "backprop")
    assert glob.glob(pattern) == [str(tmp_path / student / "backprop")]


@pytest.mark.parametrize(
    ("student", "reason"),
    [
        ("..", "folder above"),
        (".", "folder above"),
        ("../escape", "'/'"),
        ("a/b", "'/'"),
        ("evil\x1b[2J", "control characters"),
        ("right\u202eleft", "control characters"),
        ("line\nbreak", "control characters"),
        ("  ", "empty"),
        ("x" * 101, "longer than"),
    ],
)
def test_ids_that_escape_or_mislead_are_refused(student, reason):
    with pytest.raises(names.BadName, match=reason) as refused:
        names.check_student_id(student)
    assert "\x1b" not in str(refused.value) and "\n" not in str(refused.value)


def test_text_for_a_terminal_a_spreadsheet_and_a_page():
    assert names.terminal("a\x1b[31mred\x07\u202e") == "a\\x1b[31mred\\x07\\u202e"
    assert names.terminal("Zoë [2]") == "Zoë [2]"
    assert [names.csv_cell(v) for v in ("=2+5*7", "+1", "-1", "@SUM(A1)", "\t=1", "ok", 3)] == [
        "'=2+5*7", "'+1", "'-1", "'@SUM(A1)", "'\t=1", "ok", 3,
    ]  # fmt: skip
    assert names.html_text("<img src=x onerror=alert(1)>\"'") == "&lt;img src=x onerror=alert(1)&gt;&quot;&#x27;"


def test_csv_cells_survive_a_round_trip(tmp_path):
    with open(tmp_path / "x.csv", "w", newline="") as file:
        csv.writer(file).writerow([names.csv_cell('=HYPERLINK("http://x")'), names.csv_cell("a,b\nc")])
    with open(tmp_path / "x.csv", newline="") as file:
        assert next(csv.reader(file)) == ['\'=HYPERLINK("http://x")', "a,b\nc"]


@pytest.mark.parametrize("student", ["../escape", "evil\x1b[2J"])
def test_the_command_refuses_a_bad_student_id_with_exit_code_2(student, tmp_path):
    command = [sys.executable, "-m", "backprop_lib.kit.cli", "course", "grade", "-C", tmp_path, "--student", student]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 2
    assert "student id" in done.stderr and "\x1b" not in done.stderr
