"""A small released course for tests that grade real submissions without paying for all six notebooks."""

import shutil

from autograder.course.build import HIDDEN_TESTS_DIR, NOTEBOOKS_DIR, build
from autograder.course.release import release

NOTEBOOK = "02_computation_graphs"


def one_notebook_course(parent, names=(NOTEBOOK,), cell_timeout=10):
    """A released course of notebook 02 alone (its seven gate exercises and a worked example) under ``parent``,
    or of the notebooks ``names``; a cell may run ``cell_timeout`` seconds."""
    notebooks, hidden = parent / "notebooks", parent / "hidden"
    notebooks.mkdir()
    for name in names:
        shutil.copyfile(NOTEBOOKS_DIR / f"{name}.ipynb", notebooks / f"{name}.ipynb")
        shutil.copytree(HIDDEN_TESTS_DIR / name, hidden / name)
    course = build(parent / "course", cell_timeout=cell_timeout, notebooks_dir=notebooks, hidden_tests_dir=hidden)
    release(course)
    return course
