"""The grading pipeline end to end: real nbgrader, real kernels, a real sqlite gradebook.

One course is built and every sample submission (``autograder.course.samples``) is
graded once for the whole module; each test then checks what a TA or a student
depends on for one kind of submission.
"""

import csv
import html
import json
import os
import shutil
import subprocess
import sys

import pytest
from scratch_home import scratch_home

from autograder.course import open_course, samples
from autograder.course.build import HIDDEN_TESTS_DIR, build
from autograder.course.release import release
from autograder.gradebook import store
from autograder.gradebook.record import GRADED, MISSING, SCHEMA_VERSION, STOPPED
from autograder.grading import batch as grading
from autograder.reports import feedback, tables
from autograder.reports import scores as report
from backprop_lib.kit.exercises import EXERCISES, is_course_example

pytestmark = pytest.mark.slow
CATALOG = samples.catalog().MISTAKES
CELL_TIMEOUT = 10


def kit_env():
    """The environment of a TA's shell: no solution mode (the test session sets it)."""
    return {key: value for key, value in os.environ.items() if key != "BACKPROP_KIT_SOLUTIONS"}


def backprop_kit(*args):
    command = [sys.executable, "-m", "backprop_lib.kit.cli", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, env=kit_env(), timeout=900)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    with scratch_home(home):
        course = build(tmp_path_factory.mktemp("course") / "course", cell_timeout=CELL_TIMEOUT)
        release(course)
        names = ["hostile", *(n for n in samples.sample_names() if n != "hostile")]
        samples.make(course, names)
        shutil.copytree(course.folder("submitted", "reference"), course.folder("submitted", "regrade"))
        grading.grade(course, [*names, "regrade"], jobs=2)
        feedback.generate(course)
        yield course


@pytest.fixture(scope="module")
def cells(course):
    return report.grade_cells(course)


@pytest.fixture(scope="module")
def scores(course):
    return {s.student: s for s in report.collect(course)}


def cell_score(scores, student, grade_id):
    """nbgrader's in-kernel score of the cell (before the verification has its say)."""
    return next(cell.raw for key, cell in scores[student].cells.items() if key.endswith(f"/{grade_id}"))


def notebook_of(cells, grade_id):
    return next(cell.notebook for cell in cells if cell.grade_id == grade_id)


def outcomes(course, student):
    return {o.notebook[:2]: o for o in store.load(course, student).notebooks}


def feedback_page(course, student, notebook):
    return html.unescape((course.folder("feedback", student) / f"{notebook}.html").read_text())


def autograded(course, student, notebook):
    return (course.folder("autograded", student) / f"{notebook}.ipynb").read_text()


def calling(broken):
    """The composite exercises that call one of the ``broken`` functions, and so fail with them."""
    return {name for name, calls in samples.catalog().CALLS.items() if calls & broken}


def test_the_reference_earns_full_marks_verified(course, cells, scores):
    reference = scores["reference"]
    maximum = sum(cell.points for cell in cells)
    assert reference.test_total == maximum == reference.total
    assert all(r.passed for r in reference.verified.values()) and len(reference.verified) == len(EXERCISES)
    assert not reference.flagged
    assert {o.status for o in outcomes(course, "reference").values()} == {GRADED}
    pages = {page.name for page in course.folder("feedback", "reference").glob("*.html")}
    assert pages == {f"{stem}.html" for stem in course.notebooks()}


def test_untouched_stubs_earn_zero_with_not_implemented_messages(course, scores):
    untouched = scores["untouched"]
    assert untouched.test_total == 0 and untouched.total == 0
    assert {r.status for r in untouched.verified.values()} == {"not implemented"}
    assert "linear_backward is not implemented yet: write it in backprop_lib/layers.py" in feedback_page(
        course, "untouched", "06_linear_layer"
    )


@pytest.mark.parametrize("mistake", CATALOG, ids=lambda m: m.key)
def test_every_catalog_mistake_loses_points_and_shows_its_hint(course, cells, scores, mistake):
    groups = samples.mistake_groups()
    student = next(f"mistakes-{k}" for k, group in enumerate(groups, 1) if mistake.key in {m.key for m in group})
    cell = next(c for c in cells if c.grade_id == mistake.exercise)
    assert cell_score(scores, student, mistake.exercise) < cell.points
    assert not scores[student].verified[mistake.exercise].passed
    assert not scores[student].flagged, "an honest mistake fails nbgrader's test and the verification alike"
    if mistake.hint:
        assert mistake.hint in feedback_page(course, student, cell.notebook)


def test_hidden_test_code_never_reaches_the_feedback(course):
    pages = [page.read_text() for page in course.root.glob("feedback/*/*/*.html")]
    assert len(pages) > 50
    for test in HIDDEN_TESTS_DIR.glob("*/*.py"):
        longest = html.escape(max(test.read_text().splitlines(), key=len).strip(), quote=False)
        assert not any(longest in page for page in pages), test
    assert not any("BEGIN HIDDEN TESTS" in page for page in pages)


def test_wrong_types_shapes_and_nan_fail_with_clear_messages(course, scores):
    verified = scores["sloppy"].verified
    expected = {
        "add_backward": "is a str, not a number or array",
        "multiply_backward": "has shape",
        "sigmoid_backward": "NaN",
        "linear_backward": "returned a dict",
        "relu_backward": "returned a NoneType",
    }
    for name, text in expected.items():
        assert text in verified[name].summary, verified[name].report()
    broken = set(expected) | calling(set(expected))  # the composites run the broken linear and relu backwards
    others = [r for name, r in verified.items() if name not in broken and not is_course_example(EXERCISES[name])]
    assert all(r.passed for r in others)
    assert not any(verified[name].passed for name in calling(set(expected)))
    assert not verified["sigmoid_neuron_example"].passed  # the worked example runs the same broken gates
    assert {o.status for o in outcomes(course, "sloppy").values()} == {GRADED}


def test_damaged_files_cost_only_what_they_break(course, cells, scores):
    messy = outcomes(course, "messy")
    notes = " | ".join(store.load(course, "messy").notes)
    assert messy["01"].status == MISSING and "01_chain_rule.ipynb is not a valid notebook" in notes
    assert messy["05"].status == MISSING and "05_jacobians_relu.ipynb is missing" in notes
    assert "appears twice: the copy is not graded" in notes
    assert "submitted as 04_backprop_algorithm-Copy1.ipynb" in notes and messy["04"].status == GRADED
    assert "backprop_lib/layers.py does not compile" in notes
    assert "backprop_lib/losses.py is missing: graded as the untouched stub" in notes
    for cell in cells:
        score = scores["messy"].score(cell.key)
        if cell.notebook[:2] in ("01", "05"):
            assert score == 0
        elif cell.notebook[:2] in ("02", "03", "04"):  # duplicated, deleted (restored) and renamed: all graded
            assert score == cell.points, cell.key
    assert "syntax error" in scores["messy"].verified["linear_backward"].summary
    assert scores["messy"].verified["mse_backward"].status == "not implemented"


def test_a_dying_kernel_costs_the_rest_of_its_notebook_only(course, scores):
    hostile = outcomes(course, "hostile")
    for notebook, before, after in (("03", "maximum_backward", "subtract_backward"), ("05", "relu_backward", None)):
        assert hostile[notebook].status == STOPPED and "the kernel died" in hostile[notebook].reason
        assert cell_score(scores, "hostile", before) > 0
        assert after is None or cell_score(scores, "hostile", after) == 0
    assert all(o.status == GRADED for key, o in hostile.items() if key in ("06", "07"))


def test_endless_loops_are_interrupted_or_stopped(course, scores):
    hostile = outcomes(course, "hostile")
    assert hostile["01"].status == GRADED and "CellTimeoutError" in autograded(course, "hostile", "01_chain_rule")
    assert cell_score(scores, "hostile", "logistic_factors") > 0  # the cell after the loop still ran
    assert hostile["04"].status == STOPPED and "ignored the interrupt" in hostile["04"].reason
    assert cell_score(scores, "hostile", "topological_sort") > 0 and cell_score(scores, "hostile", "backward") == 0
    assert "did not finish within" in scores["hostile"].verified["negate_backward"].summary


def test_memory_bombs_and_floods_of_output_are_contained(course, scores):
    hostile = outcomes(course, "hostile")
    flooded = autograded(course, "hostile", "01_chain_rule")
    assert len(flooded) < 3 << 20 and "the grader dropped output here" in flooded
    assert hostile["02"].status in (GRADED, STOPPED)  # IPython's last traceback keeps the hoard alive: later cells
    assert "MemoryError" in autograded(course, "hostile", "02_computation_graphs")  # may die for want of memory
    assert cell_score(scores, "hostile", "add_backward") > 0 and cell_score(scores, "hostile", "multiply_backward") > 0
    assert "MemoryError" in scores["hostile"].verified["exp_backward"].summary
    failed = {name for name, r in scores["hostile"].verified.items() if not r.passed}
    assert failed - {"engine_course_examples"} == {"negate_backward", "exp_backward"}  # its neuron uses exp
    assert not scores["hostile"].flagged


def test_a_notebook_cannot_write_into_the_course(course):
    assert not (course.root / "vandalised.txt").exists()  # its box holds no course folder: the write goes nowhere


def test_a_submission_that_fakes_its_tests_is_flagged(course, cells, scores):
    cheater = scores["cheater"]
    assert cheater.flagged and cheater.test_total > cheater.total
    faked = {"relu_backward", "sigmoid_backward"}  # add_backward: a hidden test checks its shape
    for name in faked:
        assert cell_score(scores, "cheater", name) > 0, f"{name} passed in the cheater's kernel"
    failed = {
        name for name, result in cheater.verified.items() if not (result.passed or is_course_example(EXERCISES[name]))
    }
    # linear_backward reads solutions/, which is in no box: kernel and sandbox alike
    assert failed == faked | {"add_backward", "linear_backward"} | calling(faked | {"linear_backward"})
    for name in failed:
        key = next(cell.key for cell in cells if cell.grade_id == name)
        assert cheater.score(key) == 0, "a cell whose check failed earns nothing, whatever nbgrader says"
    assert "relu_backward 0/2: nbgrader test 2/2, but the grader's own check on new inputs failed" in " ".join(
        cheater.notes()
    )
    page = feedback_page(course, "cheater", notebook_of(cells, "relu_backward"))
    assert f"Your grade: {cheater.total:g}/" in page and "check on new inputs failed" in page
    table = tables.student_table(list(scores.values()), cells)
    assert "FLAGGED" in next(line for line in table.splitlines() if line.startswith("cheater"))


def test_the_export_holds_every_grade_cell_and_the_records(course, cells, scores, tmp_path):
    done = backprop_kit("course", "export", "-C", course.root, "--to", tmp_path / "out.csv")
    assert done.returncode == 0, done.stderr
    assert "reference" in done.stdout and f"generic grades: {tmp_path / 'out.csv'}" in done.stderr
    with open(tmp_path / "out.csv") as file:
        rows = {row["student_id"]: row for row in csv.DictReader(file)}
    assert set(rows) >= set(samples.sample_names())
    for cell in cells:
        assert float(rows["reference"][f"points:{cell.key}"]) == cell.points
        assert float(rows["untouched"][f"points:{cell.key}"]) == 0
    assert rows["cheater"]["flagged"] == "yes" and rows["reference"]["flagged"] == "no"
    assert float(rows["cheater"]["grade"]) == scores["cheater"].total < float(rows["cheater"]["test_score"])
    assert "not a valid notebook" in rows["messy"]["notes"]
    exported = json.loads((course.reports / "cheater.json").read_text())
    assert exported["schema"] == SCHEMA_VERSION and exported["verification"]["isolation"]


def test_a_regrade_replaces_stale_scores_and_touches_no_one_else(course, scores):
    assert scores["regrade"].total == scores["reference"].total > 0
    folder = course.folder("submitted", "regrade")
    shutil.rmtree(folder)
    shutil.copytree(course.folder("release"), folder)
    (folder / "01_chain_rule.ipynb").write_text("{ not json")
    before = {s.student: s.cells for s in report.collect(course) if s.student != "regrade"}
    done = backprop_kit("course", "grade", "-C", course.root, "--student", "regrade", "--jobs", "1")
    assert done.returncode == 0, done.stderr
    assert "grading [" in done.stderr and "regrade" in done.stdout
    after = {s.student: s for s in report.collect(course)}
    assert after["regrade"].test_total == 0 and after["regrade"].total == 0
    assert {s: after[s].cells for s in before} == before
    done = backprop_kit("course", "feedback", "-C", course.root, "--student", "regrade")
    assert done.returncode == 0, done.stderr
    assert "not valid JSON" in feedback_page(course, "regrade", "01_chain_rule")


def test_the_demo_runs_in_one_command(tmp_path):
    done = backprop_kit("demo", tmp_path / "demo", "--samples", "reference")
    assert done.returncode == 0, done.stderr
    row = next(line.split() for line in done.stdout.splitlines() if line.startswith("reference "))
    maximum = sum(cell.points for cell in report.grade_cells(open_course(tmp_path / "demo")))
    assert row[1:4] == [f"{maximum:g}/{maximum:g}", f"{maximum:g}/{maximum:g}", f"{len(EXERCISES)}/{len(EXERCISES)}"]
    assert "CSV:" in done.stdout and "feedback:" in done.stdout and "demo finished in" in done.stdout
    assert (tmp_path / "demo" / "backprop-grades.csv").is_file() and not (tmp_path / "demo" / "grades.csv").exists()
    assert (tmp_path / "demo" / "feedback" / "reference" / "backprop" / "01_chain_rule.html").is_file()
