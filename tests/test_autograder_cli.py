"""The TA's command line refuses mistakes before it writes anything, and says why."""

import json
import os
import subprocess
import sys

import pytest
from nbgrader.api import Gradebook

from autograder.course import build, course_id, db_url, release


def kit(*args, cwd=None):
    env = {key: value for key, value in os.environ.items() if key != "BACKPROP_KIT_SOLUTIONS"}
    command = [sys.executable, "-m", "backprop_lib.kit.cli", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as patch:
        for name in ("HOME", "IPYTHONDIR", "MPLCONFIGDIR", "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR"):
            patch.setenv(name, str(home / name.lower()))
        course = build(tmp_path_factory.mktemp("course") / "course")
        release(course)
        (course.root / "submitted" / "alice" / "backprop").mkdir(parents=True)
        yield course


def students_in_gradebook(course):
    with Gradebook(db_url(course), course_id(course)) as gradebook:
        return sorted(student.id for student in gradebook.students)


@pytest.mark.parametrize("step", ["grade", "verify", "feedback"])
def test_an_unknown_student_is_refused_and_never_created(course, step):
    done = kit("course", step, "-C", course.root, "--student", "nobodyhere")
    assert done.returncode == 2
    assert "unknown student 'nobodyhere'" in done.stderr
    assert "nobodyhere" not in students_in_gradebook(course)


def test_a_students_file_is_read_and_checked(course, tmp_path):
    listing = tmp_path / "students.txt"
    listing.write_text("# section A\nalice\n\nbobby-typo\n")
    done = kit("course", "grade", "-C", course.root, "--students-file", listing)
    assert done.returncode == 2 and "unknown student 'bobby-typo'" in done.stderr and "alice" not in done.stderr
    done = kit("course", "grade", "-C", course.root, "--students-file", tmp_path / "missing.txt")
    assert done.returncode == 2 and "cannot read --students-file" in done.stderr


@pytest.mark.parametrize("option", [("--jobs", "0"), ("--jobs", "-3"), ("--jobs", "two"), ("--notebook-seconds", "0")])
def test_numbers_that_make_no_sense_are_refused(course, option):
    done = kit("course", "grade", "-C", course.root, *option)
    assert done.returncode == 2 and option[0] in done.stderr
    assert "must be greater than 0" in done.stderr or "is not a number" in done.stderr


@pytest.mark.parametrize("step", ["release", "grade", "verify", "feedback", "export"])
def test_a_folder_that_is_not_a_course_is_refused(tmp_path, step):
    done = kit("course", step, "-C", tmp_path)
    assert done.returncode == 2 and f"no course at {tmp_path}" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_help_shows_the_defaults_and_version_the_installed_one():
    done = kit("course", "grade", "--help")
    assert "(default: 2)" in done.stdout and "(default: 300.0)" in done.stdout and "--students-file" in done.stdout
    done = kit("--version")
    assert done.returncode == 0 and done.stdout.startswith("backprop-kit ")


def test_json_for_scripts_and_logging_levels(course):
    done = kit("course", "export", "-C", course.root, "--json", "--to", course.root / "out.csv")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
    assert "generic grades:" in done.stderr
    quiet = kit("course", "export", "-C", course.root, "--json", "-q", "--to", course.root / "out.csv")
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_nbgrader_s_own_grades_csv_is_never_overwritten(course):
    done = kit("course", "export", "-C", course.root, "--to", course.root / "grades.csv")
    assert done.returncode == 2 and "nbgrader's own export file" in done.stderr
    assert not (course.root / "grades.csv").exists()
