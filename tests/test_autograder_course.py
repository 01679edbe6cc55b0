"""The course folder is generated from the repository, ships stubs only, and fails loudly on bad input."""

import json
import os
import re
import shutil
import subprocess
import sys
from datetime import datetime

import nbformat
import pytest
import sqlalchemy
from nbgrader.api import Gradebook
from scratch_home import scratch_home
from traitlets.config.loader import PyFileConfigLoader

from autograder.course import ASSIGNMENT, BEGIN_HIDDEN, TA_CONFIG, BuildError
from autograder.course.build import HIDDEN_TESTS_DIR, NOTEBOOKS_DIR, build
from autograder.course.reference import with_reference
from autograder.course.release import release
from autograder.gradebook import schema, store
from autograder.gradebook.migration import migrate
from autograder.gradebook.record import SCHEMA_VERSION
from autograder.grading import intake
from backprop_lib import EXERCISE_MODULES, SOLUTIONS_DIR
from backprop_lib.kit.workspace import LIBRARY_DIR

SOLUTION_REGION = re.compile(r"^\s*### BEGIN SOLUTION\s*$", re.MULTILINE)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    with scratch_home(home):
        course = build(tmp_path_factory.mktemp("course") / "course")
        release(course)
        yield course


def hidden_tests():
    return sorted(HIDDEN_TESTS_DIR.glob("*/*.py"))


def test_the_source_assignment_is_the_repository_s_notebooks_and_stub_library(course):
    assert course.notebooks() == sorted(p.stem for p in NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))
    for module in EXERCISE_MODULES:
        copied = (course.source / "backprop_lib" / f"{module}.py").read_text()
        assert copied == (LIBRARY_DIR / f"{module}.py").read_text()
        assert "### BEGIN SOLUTION" not in copied and "NotImplementedError" in copied
    everything = [p for p in course.root.rglob("*") if p.is_file() and p.suffix in (".py", ".ipynb")]
    assert not any(SOLUTION_REGION.search(p.read_text()) for p in everything)
    assert not any(part == "solutions" for p in everything for part in p.relative_to(course.root).parts)


def test_every_hidden_test_is_injected_into_its_cell_and_kept_out_of_the_release(course):
    assert hidden_tests(), "the course has hidden tests"
    for test in hidden_tests():
        stem, grade_id = test.parent.name, test.stem
        source = nbformat.read(course.source / f"{stem}.ipynb", as_version=4)
        (cell,) = [c for c in source.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
        assert f"{BEGIN_HIDDEN}\n{with_reference(test).strip()}\n" in cell.source
        released = (course.folder("release") / f"{stem}.ipynb").read_text()
        assert BEGIN_HIDDEN not in released
        assert max(test.read_text().splitlines(), key=len) not in released


def test_the_config_protects_every_student_file_and_hides_hidden_tests_in_feedback(course):
    config = PyFileConfigLoader(course.config_file.name, str(course.root)).load_config()
    assert config.Autograde.exclude_overwriting == {ASSIGNMENT: [f"backprop_lib/{m}.py" for m in EXERCISE_MODULES]}
    assert all((course.source / path).is_file() for path in config.Autograde.exclude_overwriting[ASSIGNMENT])
    assert "nbgrader.preprocessors.ClearHiddenTests" in config.GenerateFeedback.preprocessors
    assert config.OverwriteCells.add_missing_cells is True
    executors = ["autograder.grading.illustrations.SkipIllustrations", "autograder.sandbox.kernel.ConfinedExecute"]
    assert config.Autograde.autograde_preprocessors[:2] == executors


def test_building_again_gives_the_same_course(course, tmp_path):
    again = build(tmp_path / "again")
    for path in course.source.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            assert path.read_bytes() == (again.source / path.relative_to(course.source)).read_bytes(), path


def test_a_hidden_test_for_a_grade_id_no_notebook_has_stops_the_build(tmp_path):
    tests = tmp_path / "hidden"
    shutil.copytree(HIDDEN_TESTS_DIR, tests)
    stem = hidden_tests()[0].parent.name
    (tests / stem / "no_such_cell.py").write_text("assert False\n")
    with pytest.raises(BuildError, match="no single test cell with grade_id 'no_such_cell'"):
        build(tmp_path / "course", hidden_tests_dir=tests)
    (tests / stem / "no_such_cell.py").unlink()
    (tests / "99_no_such_notebook").mkdir()
    (tests / "99_no_such_notebook" / "anything.py").write_text("assert False\n")
    with pytest.raises(BuildError, match="no notebook 99_no_such_notebook.ipynb"):
        build(tmp_path / "course", hidden_tests_dir=tests)


def test_an_unreachable_gradebook_database_stops_the_build(tmp_path):
    with pytest.raises(BuildError, match="cannot reach the gradebook database"):
        build(tmp_path / "course", db_url="postgresql+psycopg2://nobody@127.0.0.1:1/gradebook")


def test_the_intake_cleans_a_damaged_submission_and_says_what_it_found(course):
    folder = course.folder("submitted", "damaged")
    shutil.copytree(course.folder("release"), folder)
    first, second, third = course.notebooks()[:3]
    (folder / f"{first}.ipynb").write_text('{"cells": [')
    notebook = nbformat.read(folder / f"{second}.ipynb", as_version=4)
    graded = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade"))
    twin = nbformat.from_dict({**graded, "id": "twin"})
    notebook.cells.append(twin)
    nbformat.write(notebook, folder / f"{second}.ipynb")
    (folder / f"{third}.ipynb").rename(folder / f"{third} (1).ipynb")
    (folder / "backprop_lib" / "graph.py").write_text("def topological_sort(root)\n    return []\n")
    (folder / "backprop_lib" / "layers.py").unlink()
    os.symlink("/etc/passwd", folder / "passwords.txt")
    found = intake.take_in(course, "damaged")
    taken = course.folder("intake", "damaged")
    assert first not in found.notebooks and not (taken / f"{first}.ipynb").exists()
    assert f"{first}.ipynb is not a valid notebook (it is not valid JSON): it scores 0" in found.notes
    kept = nbformat.read(taken / f"{second}.ipynb", as_version=4)
    ids = [c.metadata["nbgrader"]["grade_id"] for c in kept.cells if "nbgrader" in c.metadata]
    assert len(ids) == len(set(ids)) and graded.metadata.nbgrader.grade_id in ids
    assert (taken / f"{third}.ipynb").is_file() and third in found.notebooks
    assert any("graph.py does not compile" in note and "line 1" in note for note in found.notes)
    assert "backprop_lib/layers.py is missing: graded as the untouched stub" in found.notes
    assert not (taken / "passwords.txt").exists() and "passwords.txt is a symbolic link: not graded" in found.notes
    assert (folder / f"{first}.ipynb").read_text() == '{"cells": ['  # the submission itself is never changed


def test_what_students_receive_holds_no_hidden_test_and_no_solution(course):
    released = "\n".join(readable_lines(path) for path in course.folder("release").rglob("*") if path.is_file())
    assert BEGIN_HIDDEN not in released and not SOLUTION_REGION.search(released)
    for test in hidden_tests():
        for window in windows(test.read_text()):
            assert window not in released, f"{test}: {window}"
    for module in EXERCISE_MODULES:
        solution = (SOLUTIONS_DIR / f"{module}.py").read_text()
        for body in re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", solution, re.DOTALL):
            for window in windows(body):
                assert window not in released, f"solutions/{module}.py: {window}"


def readable_lines(path):
    """A file's lines, stripped; a notebook's as the lines of its cells."""
    if path.suffix == ".ipynb":
        text = "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells)
    else:
        text = path.read_text(errors="replace")
    return "\n".join(line.strip() for line in text.splitlines())


def windows(code, size=4):
    """Every ``size`` consecutive lines of code (comments, blank lines left out), or all of a shorter body.

    What a leak would copy. Shorter windows also match code the kit legitimately
    shares with a solution (a widget's backward sweep loops over the same order).
    """
    lines = [line.strip() for line in code.splitlines() if line.strip() and not line.strip().startswith("#")]
    size = min(size, len(lines))
    return ["\n".join(lines[i : i + size]) for i in range(len(lines) - size + 1)]


def test_the_ta_s_config_is_created_once_loaded_last_and_never_rebuilt(tmp_path):
    course = build(tmp_path / "course", course_id="ml101")
    ta_config = course.root / TA_CONFIG
    assert "c.CourseDirectory.course_id = 'ml101'" in ta_config.read_text() and course.course_id == "ml101"
    ta_config.write_text(
        ta_config.read_text()
        + 'c.Exchange.root = "/srv/exchange"\nc.BackpropCourse.due_date = "2030-01-31 23:59:00 UTC"\n'
        + 'c.LateSubmissionPlugin.penalty_method = "zero"\nc.Execute.timeout = 99\n'
    )
    edited = ta_config.read_text()
    build(course.root, cell_timeout=5)
    assert ta_config.read_text() == edited
    config = course.config
    assert config.Exchange.root == "/srv/exchange" and config.LateSubmissionPlugin.penalty_method == "zero"
    assert config.Execute.timeout == 99, "the TA's file is loaded after the generated one"
    with pytest.raises(BuildError, match="change the course id there"):
        build(course.root, course_id="other")
    release(course)
    with Gradebook(course.db_url, course.course_id) as gradebook:
        assert gradebook.find_assignment(ASSIGNMENT).duedate == datetime(2030, 1, 31, 23, 59)


def test_a_course_graded_by_kit_0_1_is_migrated_with_its_json_records(course):
    engine = sqlalchemy.create_engine(course.db_url)
    schema.metadata.drop_all(engine)  # the gradebook as kit 0.1 left it: nbgrader's tables only
    engine.dispose()
    check = {"exercise": "relu_backward", "path": "backprop_lib/activations.py", "status": "failed"}
    legacy = {
        "student": "legacy",
        "notes": ["backprop_lib/losses.py is missing: graded as the untouched stub"],
        "notebooks": [{"notebook": "01_chain_rule", "status": "graded", "reason": "", "seconds": 1.5}],
        "verification": {"results": [{**check, "summary": "dx is wrong"}], "seconds": 0.4, "isolation": "none"},
    }
    course.reports.mkdir(exist_ok=True)
    (course.reports / "legacy.json").write_text(json.dumps(legacy))
    assert migrate(course) == SCHEMA_VERSION
    record = store.load(course, "legacy")
    assert record.notes == legacy["notes"] and record.notebooks[0].seconds == 1.5
    assert record.verification.isolation == "none" and record.checks() == {"relu_backward": False}
    assert record.verification.results[0].summary == "dx is wrong" and record.kit_version
    assert migrate(course) == SCHEMA_VERSION  # again: nothing to do


COUNT_READS = """
import os, sys
from traitlets.config.loader import PyFileConfigLoader
original = PyFileConfigLoader.load_config
def counted(self):
    with open(sys.argv[1], "a") as log:
        log.write(f"{os.getpid()} {self.filename}\\n")
    return original(self)
PyFileConfigLoader.load_config = counted
from backprop_lib.kit.cli import main
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.slow
def test_a_grading_reads_the_course_configuration_once_per_process(tmp_path):
    from one_notebook import one_notebook_course

    from autograder.course import samples

    with scratch_home(tmp_path / "home"):
        course = one_notebook_course(tmp_path)
        samples.make(course, ["untouched"])
        log = tmp_path / "reads.log"
        command = [sys.executable, "-c", COUNT_READS, log, "course", "grade", "-C", course.root, "--jobs", "1"]
        done = subprocess.run([str(part) for part in command], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    reads = [line.split() for line in log.read_text().splitlines() if line.endswith(" nbgrader_config.py")]
    per_process = {pid: sum(1 for p, _ in reads if p == pid) for pid, _ in reads}
    assert per_process and set(per_process.values()) == {1}, per_process
    assert len(per_process) == 1, f"forked workers read it again: {per_process}"
