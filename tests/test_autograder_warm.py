"""Warm kernels are exactly as fair: every sample submission scores the same, cell by cell, and every notebook
ends the same way (graded, stopped with its reason, failed), whether its kernels (and its integrity
verification) fork from the submission's warm server or start cold, each in a box of its own. Real nbgrader,
real kernels, one course."""

import pytest
from scratch_home import scratch_home

from autograder.course import samples
from autograder.course.build import build
from autograder.course.release import release
from autograder.gradebook import store
from autograder.grading import batch as grading
from autograder.reports import scores as report

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    with scratch_home(home):
        course = build(tmp_path_factory.mktemp("course") / "course", cell_timeout=10)
        release(course)
        samples.make(course, samples.sample_names())
        yield course


def outcomes_of(course):
    """{student: (raw total, total, {cell: (raw, final)}, [(notebook, status, reason)], flagged)}."""
    records = store.load_all(course)
    return {
        s.student: (
            s.test_total,
            s.total,
            {key: (cell.raw, cell.final) for key, cell in s.cells.items()},
            [(o.notebook, o.status, o.reason) for o in records[s.student].notebooks],
            s.flagged,
        )
        for s in report.collect(course)
    }


def test_every_sample_scores_the_same_with_warm_and_cold_kernels(course):
    students = grading.submitted_students(course)
    assert set(students) == set(samples.sample_names())
    grading.grade(course, students, jobs=2)
    warm = outcomes_of(course)
    logs = course.reports / "logs" / "reference" / "worker.log"
    assert "forkserver: ready" in logs.read_text()  # the course's default: warm kernels
    assert "forkserver: verification" in logs.read_text()  # the integrity verification forked by the server too

    config = course.config_file.read_text()
    course.config_file.write_text(config + "c.ConfinedKernelManager.warm = False\n")
    grading.grade(course, students, jobs=2, force=True)
    assert "forkserver" not in logs.read_text()
    cold = outcomes_of(course)
    for student in students:
        assert warm[student] == cold[student], student
    assert warm["reference"][0] > warm["mistakes-1"][0] > warm["untouched"][0]
