"""The TA's command line refuses mistakes before it writes anything, and says why."""

import json
import logging
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import REPO
from nbgrader.api import Gradebook
from scratch_home import scratch_home

from autograder.course.build import build
from autograder.course.release import release
from autograder.demo import DEMO_SAMPLES
from backprop_lib.kit.cli import main


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def kit(capsys):
    """``backprop-kit ARGS`` run in this process (the same parser and commands): exit code, stdout, stderr."""

    def run(*args):
        capsys.readouterr()
        try:
            code = main([str(arg) for arg in args])
        except SystemExit as exit:  # argparse: --help, --version, and its own usage errors
            code = exit.code
        out, err = capsys.readouterr()
        return Done(code, out, err)

    return run


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    with scratch_home(home):
        course = build(tmp_path_factory.mktemp("course") / "course")
        release(course)
        (course.root / "submitted" / "alice" / "backprop").mkdir(parents=True)
        yield course


def students_in_gradebook(course):
    with Gradebook(course.db_url, course.course_id) as gradebook:
        return sorted(student.id for student in gradebook.students)


@pytest.mark.parametrize("step", ["grade", "verify", "feedback"])
def test_an_unknown_student_is_refused_and_never_created(kit, course, step):
    done = kit("course", step, "-C", course.root, "--student", "nobodyhere")
    assert done.returncode == 2
    assert "unknown student 'nobodyhere'" in done.stderr
    assert "nobodyhere" not in students_in_gradebook(course)


def test_a_students_file_is_read_and_checked(kit, course, tmp_path):
    listing = tmp_path / "students.txt"
    listing.write_text("# section A\nalice\n\nbobby-typo\n")
    done = kit("course", "grade", "-C", course.root, "--students-file", listing)
    assert done.returncode == 2 and "unknown student 'bobby-typo'" in done.stderr and "alice" not in done.stderr
    done = kit("course", "grade", "-C", course.root, "--students-file", tmp_path / "missing.txt")
    assert done.returncode == 2 and "cannot read --students-file" in done.stderr


@pytest.mark.parametrize("option", [("--jobs", "0"), ("--jobs", "-3"), ("--jobs", "two"), ("--notebook-seconds", "0")])
def test_numbers_that_make_no_sense_are_refused(kit, course, option):
    done = kit("course", "grade", "-C", course.root, *option)
    assert done.returncode == 2 and option[0] in done.stderr
    assert "must be greater than 0" in done.stderr or "is not a number" in done.stderr


@pytest.mark.parametrize("step", ["release", "grade", "verify", "feedback", "export"])
def test_a_folder_that_is_not_a_course_is_refused(kit, tmp_path, step):
    done = kit("course", step, "-C", tmp_path)
    assert done.returncode == 2 and f"no course at {tmp_path}" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_help_shows_the_defaults_and_version_the_installed_one(kit):
    done = kit("course", "grade", "--help")
    assert "(default: 2)" in done.stdout and "(default: 300.0)" in done.stdout and "--students-file" in done.stdout
    command = [sys.executable, "-m", "backprop_lib.kit.cli", "--version"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.startswith("backprop-kit 0.")


def test_json_for_scripts_and_logging_levels(kit, course):
    done = kit("course", "export", "-C", course.root, "--json", "--to", course.root / "out.csv")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
    assert "generic grades:" in done.stderr
    quiet = kit("course", "export", "-C", course.root, "--json", "-q", "--to", course.root / "out.csv")
    assert quiet.returncode == 0 and quiet.stderr == ""
    logging.basicConfig(force=True)


def test_nbgrader_s_own_grades_csv_is_never_overwritten(kit, course):
    done = kit("course", "export", "-C", course.root, "--to", course.root / "grades.csv")
    assert done.returncode == 2 and "nbgrader's own export file" in done.stderr
    assert not (course.root / "grades.csv").exists()


def test_the_grader_starts_without_compiling_iri_grammars_and_still_validates_notebooks():
    code = (
        "import sys, autograder.grading.batch, nbformat\n"
        "nbformat.validate(nbformat.read('notebooks/01_chain_rule.ipynb', 4))\n"
        "broken = nbformat.v4.new_notebook()\n"
        "broken.cells.append({'cell_type': 'code', 'id': 'x'})\n"
        "try:\n    nbformat.validate(broken)\nexcept nbformat.ValidationError:\n    print('refused')\n"
        "print('lark' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["refused", "False"]


@pytest.mark.parametrize(
    "args",
    [
        ("course", "grade", "--jobs", "0"),
        ("course", "build", "--cell-timeout", "soon", "x"),
        ("demo", "--jobs", "-1"),
        ("course", "grade", "--no-such-option"),
    ],
)
def test_a_command_line_mistake_is_one_line_not_the_usage_block(kit, args):
    done = kit(*args)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "usage:" not in done.stderr and "--help" in done.stderr


def test_an_unknown_sample_is_refused_before_anything_is_written(kit, course, tmp_path):
    done = kit("course", "samples", "-C", course.root, "reference", "no-such-sample")
    assert done.returncode == 2 and "no sample named no-such-sample" in done.stderr
    assert not (course.root / "submitted" / "reference").exists()
    done = kit("demo", tmp_path / "demo", "--samples", "no-such-sample")
    assert done.returncode == 2 and "no sample named no-such-sample" in done.stderr
    assert not (tmp_path / "demo").exists()


def test_grading_on_a_cluster_with_a_sqlite_gradebook_is_refused_as_misuse(kit, course):
    done = kit("course", "grade", "-C", course.root, "--scheduler", "tcp://127.0.0.1:9")
    assert done.returncode == 2 and "--scheduler needs a gradebook every worker can reach" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_help_states_each_default_once(kit):
    for step in ("build", "grade", "export"):
        done = kit("course", step, "--help")
        assert "(default: None)" not in done.stdout and "(default: False)" not in done.stdout
        options = " ".join(done.stdout.split()).split(" -")
        assert all(option.count("default:") <= 1 for option in options), done.stdout
    assert "(default: sqlite gradebook.db in DIR)" in " ".join(kit("course", "build", "--help").stdout.split())


def test_nbgrader_s_log_goes_to_the_course_s_log_files_and_to_stderr_with_verbose(kit, course):
    done = kit("course", "release", "-C", course.root)
    assert done.returncode == 0 and done.stderr.strip() == f"students get {course.folder('release')}"
    log = (course.reports / "logs" / "release.log").read_text()
    assert "Copying" in log and "Writing" in log
    verbose = kit("course", "release", "-C", course.root, "--verbose")
    assert verbose.returncode == 0 and "Copying" in verbose.stderr and "Writing" in verbose.stderr
    logging.basicConfig(force=True)


@pytest.mark.slow
def test_the_readme_s_main_command_prints_the_kit_s_own_lines_at_most_60(tmp_path):
    """The quick start's demo: the kit's progress, the students' table and where things are; nbgrader's own log is
    in the course's log files."""
    readme = (REPO / "README.md").read_text().split("## Quick start", 1)[1]
    command = next(line for line in readme.splitlines() if line.startswith("    "))
    assert command.rstrip().endswith(".venv/bin/backprop-kit demo"), command
    home = tmp_path / "home"
    with scratch_home(home):
        done = subprocess.run(
            [Path(sys.executable).parent / "backprop-kit", "demo"], cwd=tmp_path, capture_output=True, text=True,
            timeout=1800,
        )  # fmt: skip
    lines = (done.stdout + done.stderr).splitlines()
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(lines) <= 60, "\n".join(lines)
    table = done.stdout.split("student", 1)[1]
    assert all(name in table for name in DEMO_SAMPLES) and "FLAGGED" in table and "demo finished in" in done.stdout
    assert not [line for line in lines if line.startswith(("Copying", "Writing", "Converting", "[", "Config option"))]
    logs = tmp_path / "backprop-kit-demo" / "reports" / "logs"
    assert "Writing" in (logs / "release.log").read_text() and (logs / "cheater" / "feedback.log").is_file()
