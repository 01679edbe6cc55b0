"""The two project files agree: the student's distribution is a part of the grader's, never a copy that drifts.

``pyproject.toml`` is the grader's distribution (``backprop-kit-grader``), ``student-kit/pyproject.toml`` the
student's (``backprop-kit``); tests/test_wheels.py builds and installs both.
"""

import pytest
from conftest import REPO

tomllib = pytest.importorskip("tomllib")


def project(path):
    with open(path, "rb") as file:
        return tomllib.load(file)["project"]


GRADER, STUDENT = project(REPO / "pyproject.toml"), project(REPO / "student-kit" / "pyproject.toml")


def test_the_student_s_dependencies_are_the_grader_s_with_the_same_lower_bounds():
    assert set(STUDENT["dependencies"]) <= set(GRADER["dependencies"])
    assert set(STUDENT["optional-dependencies"]["nbgrader"]) <= set(GRADER["dependencies"])
    assert STUDENT["requires-python"] == GRADER["requires-python"]


def test_both_give_the_same_command_and_take_the_version_from_the_library():
    assert STUDENT["scripts"] == GRADER["scripts"] == {"backprop-kit": "backprop_lib.kit.cli:main"}
    assert STUDENT["dynamic"] == GRADER["dynamic"] == ["version"]
    assert (STUDENT["name"], GRADER["name"]) == ("backprop-kit", "backprop-kit-grader")
    assert "entry-points" not in STUDENT, "the TA's commands join only from the grader's distribution"
