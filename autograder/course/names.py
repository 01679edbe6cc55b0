"""Student ids and file names: which ids are accepted, and how any name is written where it goes.

A student id names folders (``submitted/<id>/``, ``reports/<id>.json``), is a glob
pattern to nbgrader, and is printed in terminals, CSV files and HTML pages; a
file name from a submission reaches the same places through the grading notes.

- ``check_student_id``: an id with spaces, brackets, quotes or any letters
  (unicode) is fine; ``.``/``..``, a ``/``, control and format characters (ANSI
  escapes, bidirectional overrides) and over-long ids are refused (``BadName``);
- ``nbgrader_glob``: the id as a glob pattern matching only itself (nbgrader
  globs ``submitted/<id>/...``: ``student [2]`` would match nothing), and
  ``literal_folders``: an nbgrader converter that does not glob the folder it
  found a second time (nbgrader 0.9 looks for the notebooks with the folder's
  real name as a pattern);
- ``terminal``: text with every control or format character shown as an escape
  (``\\x1b``), so a name cannot move the cursor or recolour a TA's terminal;
- ``csv_cell``: text a spreadsheet shows as text, never runs as a formula
  (a leading ``= + - @``, tab or carriage return gets a ``'`` in front);
- ``html_text``: text escaped for an HTML page.
"""

import functools
import glob
import html
import os
import unicodedata

MAX_ID_LENGTH = 100
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class BadName(ValueError):
    """A student id the kit refuses, with the reason."""


def check_student_id(student):
    """``student`` if it is a usable id; BadName saying why otherwise."""
    shown = terminal(student)
    if not student.strip():
        raise BadName(f"student id '{shown}' is empty")
    if student in (".", ".."):
        raise BadName(f"student id '{shown}' would name the folder above a student's")
    if "/" in student or "\0" in student:
        raise BadName(f"student id '{shown}' holds a '/': an id is one folder name")
    if any(_unprintable(character) for character in student):
        raise BadName(f"student id '{shown}' holds control characters")
    if len(student) > MAX_ID_LENGTH:
        raise BadName(f"student id '{shown[:40]}...' is longer than {MAX_ID_LENGTH} characters")
    return student


def nbgrader_glob(student):
    """The glob pattern nbgrader needs to find exactly ``student``'s folder."""
    return glob.escape(student)


@functools.cache
def literal_folders(converter):
    """``converter`` (an nbgrader converter class) finding a student's notebooks in the folder it matched, literally."""

    class Literal(converter):
        def init_notebooks(self):
            from nbgrader.converters.base import NbGraderException

            self.assignments, self.notebooks = {}, []
            pattern = self._format_source(self.coursedir.assignment_id, self.coursedir.student_id)
            for folder in glob.glob(pattern):
                found = glob.glob(os.path.join(glob.escape(folder), self.coursedir.notebook_id + ".ipynb"))
                if found:
                    self.assignments[folder] = found
            if not self.assignments:
                self.log.error("No notebooks were matched by '%s'", pattern)
                raise NbGraderException(f"No notebooks were matched by '{pattern}'")

    Literal.__name__ = Literal.__qualname__ = converter.__name__
    return Literal


def terminal(text):
    """``text`` with every control or format character written as a Python escape."""
    return "".join(ascii(c)[1:-1] if _unprintable(c) else c for c in str(text))


def csv_cell(value):
    """``value`` as a CSV cell a spreadsheet will not evaluate."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def html_text(text):
    """``text`` escaped for HTML (quotes included)."""
    return html.escape(str(text), quote=True)


def _unprintable(character):
    return unicodedata.category(character) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp")
