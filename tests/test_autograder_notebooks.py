"""A submission's notebooks are autograded in one child process; a notebook that fails costs that notebook only.

A real course of two notebooks, real nbgrader, real kernels: the first notebook
of the submission keeps its grading past the notebook time limit, so its child
is killed; that notebook scores 0 with the reason, and the second one is graded
in a fresh child, in full.
"""

import pytest
from nbgrader.api import Gradebook
from one_notebook import one_notebook_course
from scratch_home import scratch_home

from autograder.course import ASSIGNMENT, COURSE_ID, samples
from autograder.gradebook.record import FAILED, GRADED
from autograder.grading import batch as grading

pytestmark = pytest.mark.slow
FIRST, SECOND = "01_chain_rule", "02_computation_graphs"
LIMIT = 8.0


def auto_scores(course, student, notebook):
    with Gradebook(course.db_url, COURSE_ID) as gradebook:
        submitted = gradebook.find_submission_notebook(notebook, ASSIGNMENT, student)
        return [grade.auto_score for grade in submitted.grades]


def test_a_notebook_past_its_time_limit_scores_0_and_the_next_is_graded_in_a_fresh_child(tmp_path):
    with scratch_home(tmp_path / "home"):
        course = one_notebook_course(tmp_path, names=(FIRST, SECOND))
        folder = samples.make(course, ["reference"])["reference"]
        samples._add_cell(folder, FIRST, "import time\ntime.sleep(30)")  # LIMIT comes before the cell timeout (10 s)
        record = grading.grade(course, jobs=1, notebook_seconds=LIMIT, force=True)["reference"]

    first, second = record.notebooks
    assert (first.notebook, first.status) == (FIRST, FAILED)
    assert first.reason == f"not graded: grading this notebook took longer than {LIMIT:g} s; it scores 0"
    assert set(auto_scores(course, "reference", FIRST)) == {0}
    assert (second.notebook, second.status, second.reason) == (SECOND, GRADED, "")
    scores = auto_scores(course, "reference", SECOND)
    assert scores and all(score > 0 for score in scores)
    assert record.content_hash is None, "a student with a failed notebook is graded again next time"
    logs = course.reports / "logs" / "reference"
    assert (logs / f"{FIRST}.log").is_file() and (logs / f"{SECOND}.log").is_file()
