"""Release the assignment: nbgrader's generate_assignment writes ``release/backprop`` and the gradebook's entry."""

import os
import sys
from pathlib import Path

from autograder.course import ASSIGNMENT, BuildError
from autograder.gradebook.migration import migrate


def release(course):
    """``release/backprop`` for students, the assignment (and the TA's due date) in nbgrader's gradebook, the kit's
    tables created or upgraded (``autograder.gradebook.migration``); nbgrader's log in ``reports/logs/release.log``."""
    from nbgrader.converters import GenerateAssignment
    from nbgrader.coursedir import CourseDirectory

    from autograder.course import nbgrader_log

    with_venv_on_path()
    coursedir = CourseDirectory(config=course.config)
    coursedir.assignment_id = ASSIGNMENT
    app = GenerateAssignment(coursedir=coursedir, config=course.config)
    app.force = True
    result = nbgrader_log.run(app, course.reports / "logs" / "release.log")
    if not result["success"]:
        raise BuildError(f"nbgrader generate_assignment failed:\n{result.get('log', '')}{result.get('error', '')}")
    _set_due_date(course)
    migrate(course)
    return course.folder("release")


def _set_due_date(course):
    """Write the TA's due date (``c.BackpropCourse.due_date``) into the gradebook's assignment."""
    due = course.option("due_date")
    if not due:
        return
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url, course.course_id) as gradebook:
        gradebook.update_or_create_assignment(ASSIGNMENT, duedate=due)


def with_venv_on_path():
    """Put this interpreter's bin/ first on PATH: nbgrader runs `alembic` from PATH when it creates a gradebook."""
    bin_dir = str(Path(sys.executable).parent)
    if os.environ.get("PATH", "").split(os.pathsep)[0] != bin_dir:
        os.environ["PATH"] = os.pathsep.join([bin_dir, os.environ.get("PATH", "")])
