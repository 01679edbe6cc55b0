"""The course folder is generated from the repository, ships stubs only, and fails loudly on bad input."""

import os
import re
import shutil

import nbformat
import pytest
from traitlets.config.loader import PyFileConfigLoader

from autograder import intake
from autograder.course import (
    ASSIGNMENT,
    BEGIN_HIDDEN,
    HIDDEN_TESTS_DIR,
    LIBRARY_DIR,
    NOTEBOOKS_DIR,
    BuildError,
    build,
    release,
)
from backprop_lib import EXERCISE_MODULES

SOLUTION_REGION = re.compile(r"^\s*### BEGIN SOLUTION\s*$", re.MULTILINE)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as patch:
        for name in ("HOME", "IPYTHONDIR", "MPLCONFIGDIR", "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR"):
            patch.setenv(name, str(home / name.lower()))
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
        assert f"{BEGIN_HIDDEN}\n{test.read_text().strip()}\n" in cell.source
        released = (course.folder("release") / f"{stem}.ipynb").read_text()
        assert BEGIN_HIDDEN not in released
        assert max(test.read_text().splitlines(), key=len) not in released


def test_the_config_protects_every_student_file_and_hides_hidden_tests_in_feedback(course):
    config = PyFileConfigLoader(course.config_file.name, str(course.root)).load_config()
    assert config.Autograde.exclude_overwriting == {ASSIGNMENT: [f"backprop_lib/{m}.py" for m in EXERCISE_MODULES]}
    assert all((course.source / path).is_file() for path in config.Autograde.exclude_overwriting[ASSIGNMENT])
    assert "nbgrader.preprocessors.ClearHiddenTests" in config.GenerateFeedback.preprocessors
    assert config.OverwriteCells.add_missing_cells is True
    executors = ["autograder.illustrations.SkipIllustrations", "autograder.kernel.ConfinedExecute"]
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
