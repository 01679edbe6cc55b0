"""Skipping illustration cells is exactly as fair: every sample scores the same with and without it.

One course grades the reference, the untouched stubs and every mistake group
twice (real nbgrader, real kernels): with the course's configuration (unchanged
illustration cells skipped) and with skipping switched off. Then an unchanged
re-grade keeps every record, and a changed submission alone is graded again.
"""

import nbformat
import pytest
from scratch_home import scratch_home

from autograder.course import samples
from autograder.course.build import build
from autograder.course.release import release
from autograder.gradebook import store
from autograder.grading import batch as grading
from autograder.grading.illustrations import ILLUSTRATION, SKIP
from autograder.reports import scores as report

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    with scratch_home(home):
        course = build(tmp_path_factory.mktemp("course") / "course")  # the production cell timeout
        release(course)
        samples.make(course, ["reference", "untouched", *(n for n in samples.sample_names() if "mistakes" in n)])
        yield course


def scores_of(course):
    return {
        s.student: (s.test_total, s.total, {key: (cell.raw, cell.final) for key, cell in s.cells.items()})
        for s in report.collect(course)
    }


def skipped_illustrations(course, student):
    """{notebook: (illustration cells, how many of them the executor was told to skip)} of an autograded submission."""
    counts = {}
    for path in sorted(course.folder("autograded", student).glob("*.ipynb")):
        cells = nbformat.read(path, as_version=4).cells
        tags = [c.metadata.get("tags", []) for c in cells if ILLUSTRATION in c.metadata.get("tags", [])]
        counts[path.stem] = (len(tags), sum(SKIP in t for t in tags))
    return counts


def test_scores_are_identical_with_and_without_skipping_and_re_grades_are_incremental(course):
    students = grading.submitted_students(course)
    assert len(students) >= 7
    grading.grade(course, students, jobs=2)
    skipping = scores_of(course)
    assert all(tagged == skipped > 0 for tagged, skipped in skipped_illustrations(course, "reference").values())

    config = course.config_file.read_text()
    course.config_file.write_text(config + "c.SkipIllustrations.enabled = False\n")
    grading.grade(course, students, jobs=2, force=True)
    assert all(skipped == 0 for _, skipped in skipped_illustrations(course, "reference").values())
    assert scores_of(course) == skipping
    assert skipping["reference"][0] > skipping["mistakes-1"][0] > skipping["untouched"][0]

    stamps = {s: store.last_graded(course, s)[3] for s in students}
    grading.grade(course, students, jobs=2)
    assert {s: store.last_graded(course, s)[3] for s in students} == stamps

    gates = course.folder("submitted", "untouched") / "backprop_lib" / "gates.py"
    gates.write_text(gates.read_text() + "\n# edited after the deadline\n")
    grading.grade(course, students, jobs=2)
    changed = {s for s in students if store.last_graded(course, s)[3] != stamps[s]}
    assert changed == {"untouched"}
