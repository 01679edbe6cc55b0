"""Shared test setup.

The test session runs the library in solution mode (the reference solutions),
set before anything imports backprop_lib. Tests of student mode (the stubs)
and of broken student code run the library in a subprocess on a folder of
their own, with ``student_env()``.
"""

import os
import sys
from pathlib import Path

import pytest
from scratch_home import scratch_home

os.environ["BACKPROP_KIT_SOLUTIONS"] = "1"

REPO = Path(__file__).resolve().parent.parent


def student_env(**extra):
    """The environment of a student's process: no solution mode, scratch-free defaults."""
    env = {key: value for key, value in os.environ.items() if key != "BACKPROP_KIT_SOLUTIONS"}
    return env | extra


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A scratch home for a whole test module (``scratch_home``): nothing the module's commands write lands in ~."""
    folder = tmp_path_factory.mktemp("home")
    with scratch_home(folder):
        yield folder


@pytest.fixture
def library(tmp_path, monkeypatch):
    """A function writing a backprop_lib/ with the reference solutions and any given mistakes into tmp_path.

    Subprocesses started by the test then run in student mode, on that folder's library.
    """
    monkeypatch.delenv("BACKPROP_KIT_SOLUTIONS")
    from solutions.mistakes import write_library

    def make(*mistakes):
        write_library(tmp_path, *mistakes)
        return tmp_path

    return make


@pytest.fixture(scope="session")
def python():
    return sys.executable
