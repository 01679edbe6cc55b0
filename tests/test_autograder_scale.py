"""Grading at scale, the fast parts: which cells are skipped, shards, and what makes a grading still valid."""

import copy
import shutil
import subprocess
import sys

import nbformat
import pytest

from autograder.course import ASSIGNMENT
from autograder.course.build import build
from autograder.gradebook import store
from autograder.gradebook.migration import migrate
from autograder.gradebook.record import GradingRecord
from autograder.grading import batch as grading
from autograder.grading.fingerprint import course_fingerprint, submission_hash
from autograder.grading.illustrations import ILLUSTRATION, SKIP, SkipIllustrations

NOTEBOOK = "05_jacobians_relu"


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = build(tmp_path_factory.mktemp("course") / "course")
    migrate(course)
    return course


def source_notebook(course, stem=NOTEBOOK):
    return nbformat.read(course.source / f"{stem}.ipynb", as_version=4)


def skipped_by_grader(course, notebook, stem=NOTEBOOK):
    """Indexes of the cells SkipIllustrations marks for the executor to skip in a student's ``notebook``."""
    resources = {"nbgrader": {"assignment": ASSIGNMENT, "notebook": stem, "student": "s"}}
    notebook, _ = SkipIllustrations(config=course.config).preprocess(notebook, resources)
    return [i for i, cell in enumerate(notebook.cells) if SKIP in cell.metadata.get("tags", [])]


def tagged(notebook):
    return [i for i, cell in enumerate(notebook.cells) if ILLUSTRATION in cell.metadata.get("tags", [])]


def test_every_notebook_of_the_course_marks_illustration_cells_and_no_graded_cell(course):
    for stem in course.notebooks():
        notebook = source_notebook(course, stem)
        marked = tagged(notebook)
        assert marked, f"{stem} has no illustration cell"
        assert all(not notebook.cells[i].metadata.get("nbgrader") for i in marked)


def test_an_unchanged_student_copy_skips_exactly_the_source_s_illustration_cells(course):
    student = source_notebook(course)
    for cell in student.cells:  # the student's copy need not carry the tags: the source decides
        cell.metadata.pop("tags", None)
    assert skipped_by_grader(course, student) == tagged(source_notebook(course))


def test_an_edited_illustration_cell_runs(course):
    student = source_notebook(course)
    edited = tagged(student)[0]
    student.cells[edited].source += "\nprint('mine')"
    assert edited not in skipped_by_grader(course, student)


def test_a_student_cannot_make_any_cell_skip_itself(course):
    student = source_notebook(course)
    graded = [i for i, cell in enumerate(student.cells) if cell.metadata.get("nbgrader", {}).get("grade")]
    others = [i for i, cell in enumerate(student.cells) if cell.cell_type == "code" and i not in tagged(student)]
    for i in graded + others:
        student.cells[i].metadata["tags"] = [SKIP, ILLUSTRATION]
    skipped = skipped_by_grader(course, student)
    assert skipped == tagged(source_notebook(course))
    assert not set(skipped) & set(graded + others)


def test_a_grade_cell_is_never_skipped_even_with_an_illustration_s_text(course):
    student = source_notebook(course)
    grade_cell = next(c for c in student.cells if c.metadata.get("nbgrader", {}).get("grade"))
    illustration = student.cells[tagged(student)[0]]
    impostor = copy.deepcopy(grade_cell)
    impostor.source = illustration.source
    student.cells.append(impostor)
    assert len(student.cells) - 1 not in skipped_by_grader(course, student)


def test_shards_split_the_students_into_stable_disjoint_slices():
    students = [f"student{k}" for k in range(200)]
    slices = [grading.in_shard(students, (i, 4)) for i in range(4)]
    assert sorted(sum(slices, [])) == sorted(students)
    assert all(30 < len(part) < 70 for part in slices)
    more = [*reversed(students), "late-a", "late-b"]  # order and newcomers move no one
    assert [set(grading.in_shard(more, (i, 4))) - {"late-a", "late-b"} for i in range(4)] == [set(p) for p in slices]


@pytest.mark.parametrize("text", ["2/2", "-1/3", "1", "a/b", "1/0"])
def test_a_bad_shard_is_refused_with_what_is_expected(text):
    with pytest.raises(ValueError, match="--shard"):
        grading.parse_shard(text)


def test_the_cli_refuses_a_bad_shard_before_grading(course):
    done = subprocess.run(
        [sys.executable, "-m", "backprop_lib.kit.cli", "course", "grade", "-C", course.root, "--shard", "4/4"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and "I must be in 0 .. N-1" in done.stderr


def test_a_submission_hash_follows_content_not_location(tmp_path):
    for folder in (tmp_path / "a", tmp_path / "b" / "deeper"):
        (folder / "backprop_lib").mkdir(parents=True)
        (folder / "01.ipynb").write_text("{}")
        (folder / "backprop_lib" / "gates.py").write_text("x = 1\n")
    assert submission_hash(tmp_path / "a") == submission_hash(tmp_path / "b" / "deeper")
    (tmp_path / "a" / "backprop_lib" / "gates.py").write_text("x = 2\n")
    assert submission_hash(tmp_path / "a") != submission_hash(tmp_path / "b" / "deeper")
    (tmp_path / "b" / "deeper" / "01.ipynb").rename(tmp_path / "b" / "deeper" / "02.ipynb")
    assert submission_hash(tmp_path / "b" / "deeper") != submission_hash(tmp_path / "a")


def test_the_course_fingerprint_is_the_same_for_a_copy_and_changes_with_a_hidden_test(course, tmp_path):
    copied = build(tmp_path / "elsewhere")
    assert course_fingerprint(copied) == course_fingerprint(course)
    notebook = next(copied.source.glob("*.ipynb"))
    notebook.write_text(notebook.read_text().replace("### BEGIN HIDDEN TESTS", "### BEGIN HIDDEN TESTS\npass", 1))
    assert course_fingerprint(copied) != course_fingerprint(course)


def test_a_student_is_up_to_date_only_after_a_complete_grading_of_the_same_files(course):
    folder = course.folder("submitted", "ada")
    shutil.copytree(course.source, folder)
    fingerprint = course_fingerprint(course)
    store.save(course, GradingRecord("ada", ["grading started and did not finish"]))
    assert not grading.up_to_date(course, "ada", fingerprint)
    store.save(course, GradingRecord("ada", content_hash=submission_hash(folder), course_fingerprint=fingerprint))
    assert grading.up_to_date(course, "ada", fingerprint)
    assert not grading.up_to_date(course, "ada", "another course")
    (folder / "backprop_lib" / "gates.py").write_text("# changed\n")
    assert not grading.up_to_date(course, "ada", fingerprint)
