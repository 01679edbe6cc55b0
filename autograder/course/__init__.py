"""The course: an nbgrader course folder built from the kit, and its configuration, read once.

A ``Course`` names the folder and everything its two configuration files say
(``nbgrader_config.py``, generated, which loads the TA's ``course_config.py``
last): the gradebook URL, the course id, whether hints are recorded, the due
date. ``open_course`` reads them once per process and course, and again only
when one of the files changed.
"""

import os
from dataclasses import dataclass, field
from pathlib import Path

from backprop_lib import EXERCISE_MODULES

ASSIGNMENT = "backprop"
COURSE_ID = "backprop-kit"
CONFIG_FILE = "nbgrader_config.py"
TA_CONFIG = "course_config.py"
STUDENT_FILES = tuple(f"backprop_lib/{module}.py" for module in EXERCISE_MODULES)
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
SOLUTIONS_DIR = Path(__file__).parent / "solutions"
"""The reference solutions and the mistake catalog: package data of the grader's distribution only (in a
checkout, a link to the repository's ``solutions/``)."""


class BuildError(Exception):
    """The repository's notebooks, hidden tests or library cannot make a course, or a course is not usable."""


@dataclass(unsafe_hash=True)
class Course:
    """An nbgrader course folder built by ``autograder.course.build``; its configuration is read on first use, and
    again only after a configuration file changed."""

    root: Path
    _loaded: tuple = field(default=(None, None, None), init=False, repr=False, compare=False)

    @property
    def assignment(self):
        """The one assignment of the course."""
        return ASSIGNMENT

    @property
    def config_file(self):
        return self.root / CONFIG_FILE

    @property
    def source(self):
        return self.root / "source" / ASSIGNMENT

    def folder(self, kind, student=None):
        """``root/<kind>/[<student>/]backprop``, kind being release, submitted, autograded, feedback ..."""
        return self.root / kind / student / ASSIGNMENT if student else self.root / kind / ASSIGNMENT

    @property
    def reports(self):
        """The grading records exported from the gradebook and the logs."""
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

    @property
    def config(self):
        """The course's nbgrader configuration, as nbgrader itself loads it (read again only when it changed)."""
        return self._load()[1]

    @property
    def db_url(self):
        """The gradebook URL the configuration names (nbgrader's sqlite default otherwise)."""
        return self._load()[2]

    @property
    def course_id(self):
        """The course id the configuration names."""
        return self.config.CourseDirectory.get("course_id") or COURSE_ID

    @property
    def records_hints(self):
        """Whether the TA asks to record the hints students opened (``c.BackpropCourse.record_hints``)."""
        value = self.option("record_hints", False)
        if not isinstance(value, bool):
            raise BuildError(
                f"{self.root / TA_CONFIG}: c.BackpropCourse.record_hints must be True or False, not {value!r}"
            )
        return value

    def option(self, name, default=None):
        """A setting of the kit's own in the TA's configuration (``c.BackpropCourse.<name>``)."""
        return self.config.get("BackpropCourse", {}).get(name, default)

    def _load(self):
        """(stamp, config, gradebook URL), read again when the configuration files' stamp changed."""
        stamp = _stamp(self.root)
        if self._loaded[0] != stamp:
            from nbgrader.coursedir import CourseDirectory
            from traitlets.config.loader import PyFileConfigLoader

            config = PyFileConfigLoader(CONFIG_FILE, str(self.root)).load_config()
            self._loaded = (stamp, config, CourseDirectory(config=config).db_url)
        return self._loaded


_opened = {}


def open_course(root):
    """The course at ``root``, one object per folder and process; BuildError if nothing was built there."""
    course = _opened.setdefault(Path(root).resolve(), Course(Path(root).resolve()))
    if not course.exists():
        raise BuildError(f"no course at {course.root}: run `backprop-kit course build {root}` first")
    return course


def _stamp(root):
    """What changes when either configuration file changes: their sizes and modification times."""
    stamps = []
    for name in (CONFIG_FILE, TA_CONFIG):
        try:
            info = os.stat(root / name)
            stamps.append((info.st_mtime_ns, info.st_size, info.st_ino))
        except FileNotFoundError:
            stamps.append(None)
    return tuple(stamps)
