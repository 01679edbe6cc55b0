"""Build an nbgrader course folder from the repository: config, source assignment, gradebook.

    COURSE/
      nbgrader_config.py          generated: exclude_overwriting, confined kernels, timeouts, feedback
      course_config.py            the TA's: course id, exchange, due date, late penalty, hint record (created once)
      gradebook.db                sqlite by default (created at release); any SQLAlchemy URL with --db
      source/backprop/
        01_...07_*.ipynb          the repo's numbered notebooks, hidden tests injected
        backprop_lib/             the repo's library as it is: its exercise files are the stubs

Everything is generated from the kit's package data at build time (the notebooks,
``autograder/course_notebooks``, a link to the repository's ``notebooks/``; the
hidden tests), in a checkout and in an installed wheel alike; nothing is kept by
hand. Hidden tests live in ``autograder/hidden_tests/<notebook stem>/<grade_id>.py``
and are injected into the notebook's test cell with that grade_id between
``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS``. The reference solutions
(``solutions/``) are never copied into a course.
"""

import os
import shutil
import sys
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import nbformat

import backprop_lib
from backprop_lib import EXERCISE_MODULES

ASSIGNMENT = "backprop"
COURSE_ID = "backprop-kit"
# Package data of the kit (pyproject.toml), found wherever the kit is installed: a checkout or a wheel.
NOTEBOOKS_DIR = Path(str(files("autograder") / "course_notebooks"))
HIDDEN_TESTS_DIR = Path(str(files("autograder") / "hidden_tests"))
LIBRARY_DIR = Path(backprop_lib.__file__).resolve().parent
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
STUDENT_FILES = tuple(f"backprop_lib/{module}.py" for module in EXERCISE_MODULES)
NOTEBOOK_PATTERN = "[0-9][0-9]_*.ipynb"
CELL_TIMEOUT = 30
TA_CONFIG = "course_config.py"
WARNING_LINE = r"(?m)^.*:\d+: \w*Warning: "


class BuildError(Exception):
    """The repository's notebooks, hidden tests or library cannot make a course."""


@dataclass(frozen=True)
class Course:
    """An nbgrader course folder built by this module."""

    root: Path

    @property
    def config_file(self):
        return self.root / "nbgrader_config.py"

    @property
    def source(self):
        return self.root / "source" / ASSIGNMENT

    def folder(self, kind, student=None):
        """``root/<kind>/[<student>/]backprop``, kind being release, submitted, autograded, feedback ..."""
        return self.root / kind / student / ASSIGNMENT if student else self.root / kind / ASSIGNMENT

    @property
    def reports(self):
        """The grading records exported from the gradebook (``autograder.store.export_json``) and the logs."""
        return self.root / "reports"

    @property
    def grader_cache(self):
        """Files the grader prepares once per course (the kernels' matplotlib font list)."""
        return self.root / ".grader"

    def notebooks(self):
        """The assignment's notebook stems, in order."""
        return sorted(path.stem for path in self.source.glob("*.ipynb"))

    def exists(self):
        return self.config_file.is_file() and self.source.is_dir()


def open_course(root):
    """The course at ``root``; a clear error if nothing was built there."""
    course = Course(Path(root).resolve())
    if not course.exists():
        raise BuildError(f"no course at {course.root}: run `backprop-kit course build {root}` first")
    return course


def build(
    root,
    db_url=None,
    cell_timeout=CELL_TIMEOUT,
    notebooks_dir=NOTEBOOKS_DIR,
    hidden_tests_dir=HIDDEN_TESTS_DIR,
    course_id=None,
):
    """Write (or rewrite) the course at ``root``; returns the Course. Safe to run again.

    ``cell_timeout``: seconds a notebook cell may run under autograde before it is interrupted.
    ``course_id``: written into the TA's ``course_config.py`` when it is created (default COURSE_ID);
    an existing ``course_config.py`` is never changed, so a different ``course_id`` is refused.
    """
    course = Course(Path(root).resolve())
    notebooks = _notebooks_with_hidden_tests(Path(notebooks_dir), Path(hidden_tests_dir))
    course.root.mkdir(parents=True, exist_ok=True)
    _write_ta_config(course, course_id)
    course.config_file.write_text(render_config(db_url, cell_timeout))
    if course.source.exists():
        shutil.rmtree(course.source)
    _copy_library(course.source / "backprop_lib")
    for stem, notebook in notebooks.items():
        nbformat.write(notebook, course.source / f"{stem}.ipynb")
    if db_url:
        check_database(db_url)
    return course


def release(course):
    """Run nbgrader's generate_assignment: ``release/backprop`` for students, the assignment in the gradebook."""
    from nbgrader.converters import GenerateAssignment
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.utils import capture_log

    with_venv_on_path()
    config = load_config(course)
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id = ASSIGNMENT
    app = GenerateAssignment(coursedir=coursedir, config=config)
    app.force = True
    result = capture_log(app)
    if not result["success"]:
        raise BuildError(f"nbgrader generate_assignment failed:\n{result.get('log', '')}{result.get('error', '')}")
    _set_due_date(course, config)
    from autograder import store

    store.migrate(course)
    return course.folder("release")


def render_config(db_url=None, cell_timeout=CELL_TIMEOUT):
    """The text of the course's nbgrader_config.py."""
    preprocessors = [
        "autograder.illustrations.SkipIllustrations",
        "autograder.kernel.ConfinedExecute",
        "nbgrader.preprocessors.IgnorePattern",
        "nbconvert.preprocessors.ClearMetadataPreprocessor",
        "nbgrader.preprocessors.LimitOutput",
        "nbgrader.preprocessors.SaveAutoGrades",
        "nbgrader.preprocessors.AssignLatePenalties",
        "nbgrader.preprocessors.CheckCellMetadata",
    ]
    feedback = [
        "nbgrader.preprocessors.GetGrades",
        "autograder.feedback.HideHiddenTracebacks",
        "nbgrader.preprocessors.ClearHiddenTests",
        "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    ]
    lines = [
        '"""nbgrader configuration of the backprop-kit course: generated by `backprop-kit course build`."""',
        "",
        "import os",
        "",
        "c = get_config()  # noqa: F821 (nbgrader provides it)",
        "here = os.path.dirname(os.path.abspath(__file__))",
        "c.CourseDirectory.root = here",
    ]
    if db_url:
        lines.append(f"c.CourseDirectory.db_url = {db_url!r}")
    lines += [
        "",
        "# The student-edited library files: a student's own copy is graded, not the stub.",
        f"c.Autograde.exclude_overwriting = {{{ASSIGNMENT!r}: {list(STUDENT_FILES)!r}}}",
        "# Notebooks run in confined kernels (autograder.kernel): CPU, memory, file size, output cap.",
        f"c.Autograde.autograde_preprocessors = {preprocessors!r}",
        f"c.Execute.timeout = {cell_timeout}",
        'c.ConfinedKernelManager.font_cache = os.path.join(here, ".grader", "matplotlib")',
        "# Kernels import the kit from the course's copy, only the exercise files from the student.",
        f"c.ConfinedKernelManager.library = os.path.join(here, 'source', {ASSIGNMENT!r}, 'backprop_lib')",
        "# A Python warning on stderr does not zero a correct answer.",
        "c.IgnorePattern.enabled = True",
        f"c.IgnorePattern.pattern = {WARNING_LINE!r}",
        "# nbconvert validates each notebook once, after all of its preprocessors, not after each one.",
        "c.Exporter.optimistic_validation = True",
        "# A deleted test cell comes back (and fails) instead of waiting for a manual grade.",
        "c.OverwriteCells.add_missing_cells = True",
        "# Feedback shows the tests' results, never the hidden tests' code.",
        f"c.GenerateFeedback.preprocessors = {feedback!r}",
        "",
        f"# The TA's own settings (course id, exchange, due date, late penalty), loaded last: {TA_CONFIG}.",
        f"load_subconfig({TA_CONFIG!r}, here)  # noqa: F821 (traitlets provides it)",
        "",
    ]
    return "\n".join(lines)


def render_ta_config(course_id=COURSE_ID):
    """The text of a new ``course_config.py``: the settings a TA owns, with nbgrader's own names."""
    return f'''"""This course's own settings: written once by `backprop-kit course build`, then yours to edit.

The generated nbgrader_config.py loads this file last, and a rebuild never touches it.
"""

c = get_config()  # noqa: F821 (nbgrader provides it)

# The course id (nbgrader's exchange and gradebook use it).
c.CourseDirectory.course_id = {course_id!r}

# Where nbgrader's exchange lives (release_assignment, fetch, submit, collect).
# c.Exchange.root = "/srv/nbgrader/exchange"

# The due date, written into the gradebook at `backprop-kit course release` (any format nbgrader reads).
# c.BackpropCourse.due_date = "2030-01-31 23:59:00 UTC"

# Late submissions: "none" (no penalty) or "zero" (a late notebook scores 0), nbgrader's LateSubmissionPlugin.
# c.LateSubmissionPlugin.penalty_method = "zero"

# Record which hints each student opened (their .backprop-kit-hints.json, submitted with the notebooks) with
# the grade, for the report, the export and the student's feedback. It never changes a score. Tell students
# before turning it on; changing it grades every student again at the next `backprop-kit course grade`.
c.BackpropCourse.record_hints = False
'''


def records_hints(course):
    """Whether the TA's config asks to record the hints students opened (``c.BackpropCourse.record_hints``)."""
    value = load_config(course).get("BackpropCourse", {}).get("record_hints", False)
    if not isinstance(value, bool):
        raise BuildError(
            f"{course.root / TA_CONFIG}: c.BackpropCourse.record_hints must be True or False, not {value!r}"
        )
    return value


def course_id(course):
    """The course id the course's config names."""
    return load_config(course).CourseDirectory.get("course_id") or COURSE_ID


def _write_ta_config(course, requested):
    """Create ``course_config.py`` once; refuse a ``requested`` course id that differs from the one it holds."""
    path = course.root / TA_CONFIG
    if not path.exists():
        path.write_text(render_ta_config(requested or COURSE_ID))
        return
    if requested:
        from traitlets.config.loader import PyFileConfigLoader

        held = PyFileConfigLoader(TA_CONFIG, str(course.root)).load_config().CourseDirectory.get("course_id")
        if held != requested:
            raise BuildError(f"{path} names the course {held!r}: change the course id there, not with --course-id")


def _set_due_date(course, config):
    """Write the TA's due date (``c.BackpropCourse.due_date``) into the gradebook's assignment."""
    due = config.get("BackpropCourse", {}).get("due_date")
    if not due:
        return
    from nbgrader.api import Gradebook

    with Gradebook(db_url(course), course_id(course)) as gradebook:
        gradebook.update_or_create_assignment(ASSIGNMENT, duedate=due)


def check_database(url):
    """Connect once to the gradebook database (nbgrader creates its tables at release)."""
    import sqlalchemy

    try:
        engine = sqlalchemy.create_engine(url)
        with engine.connect():
            pass
        engine.dispose()
    except Exception as error:
        raise BuildError(f"cannot reach the gradebook database {url}: {error}") from error


def db_url(course):
    """The gradebook URL the course's config names (nbgrader's sqlite default otherwise)."""
    from nbgrader.coursedir import CourseDirectory

    return CourseDirectory(config=load_config(course)).db_url


def load_config(course):
    """The course's nbgrader configuration, as nbgrader itself loads it."""
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader(course.config_file.name, str(course.root)).load_config()


def with_venv_on_path():
    """Put this interpreter's bin/ first on PATH: nbgrader runs `alembic` from PATH."""
    bin_dir = str(Path(sys.executable).parent)
    if os.environ.get("PATH", "").split(os.pathsep)[0] != bin_dir:
        os.environ["PATH"] = os.pathsep.join([bin_dir, os.environ.get("PATH", "")])


def _copy_library(destination):
    """Copy backprop_lib with its exercise files as stubs generated from solutions/, whatever the working
    tree's exercise files hold (a self-learner's own answers never reach a course or the demo)."""
    from backprop_lib.kit.workspace import WorkspaceError, copy_library

    try:
        copy_library(destination)
    except WorkspaceError as error:
        raise BuildError(str(error)) from error


def _notebooks_with_hidden_tests(notebooks_dir, hidden_tests_dir):
    """{stem: notebook} for every notebook, each hidden test injected into its test cell."""
    paths = sorted(notebooks_dir.glob(NOTEBOOK_PATTERN))
    if not paths:
        raise BuildError(f"no notebooks in {notebooks_dir}")
    notebooks = {path.stem: nbformat.read(path, as_version=4) for path in paths}
    for test in sorted(hidden_tests_dir.glob("*/*.py")) if hidden_tests_dir.is_dir() else []:
        stem, grade_id = test.parent.name, test.stem
        if stem not in notebooks:
            raise BuildError(f"hidden test {test}: there is no notebook {stem}.ipynb in {notebooks_dir}")
        inject_hidden_test(notebooks[stem], grade_id, test.read_text(), where=test)
    return notebooks


def inject_hidden_test(notebook, grade_id, code, where=""):
    """Append ``code`` as hidden tests to the notebook's test cell ``grade_id``."""
    cells = [cell for cell in notebook.cells if _nbgrader(cell).get("grade_id") == grade_id]
    if len(cells) != 1 or not _nbgrader(cells[0]).get("grade") or cells[0].cell_type != "code":
        raise BuildError(f"hidden test {where}: no single test cell with grade_id {grade_id!r} in its notebook")
    cell = cells[0]
    if BEGIN_HIDDEN in cell.source:
        raise BuildError(f"test cell {grade_id!r} already holds hidden tests: keep them in {HIDDEN_TESTS_DIR}")
    cell.source = f"{cell.source.rstrip()}\n\n{BEGIN_HIDDEN}\n{code.strip()}\n{END_HIDDEN}"


def _nbgrader(cell):
    return cell.get("metadata", {}).get("nbgrader", {})
