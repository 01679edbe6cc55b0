"""Take in one submission: a cleaned copy nbgrader can grade, and notes saying what was wrong.

nbgrader reads ``submitted/<student>/backprop/``; the kit grades a copy of it,
``intake/<student>/backprop/``, so the student's files are never changed and
one damaged submission cannot trip nbgrader:

- only regular files are copied (no symlinks, no pipes), each at most ``MAX_FILE_BYTES``;
- a notebook that is not valid JSON (or not a notebook) is left out: it scores 0,
  with the parser's message as the reason;
- a notebook missing under its name but present under another (``01_x-Copy1.ipynb``,
  ``01_x (1).ipynb``) is graded under its name when it holds that notebook's cells;
- a grade cell pasted twice keeps its nbgrader metadata on the first copy only
  (nbgrader would stop the whole batch with a misleading "old metadata" error);
- a test cell the student deleted is put back where it was, after the cell that
  preceded it (nbgrader's add_missing_cells would put it first, before the imports);
- a student-edited library file that is missing, or does not compile, is noted
  (nbgrader silently grades the stub in place of a missing file); ``backprop_lib/``
  is always a folder, so the kernel's box can lay the course's library over it;
- cell attachments larger than ``MAX_ATTACHMENT_BYTES`` in all are dropped, with a note;
- in a course that records hints (``c.BackpropCourse.record_hints``), the student's
  hint record ``.backprop-kit-hints.json`` is read as untrusted input
  (``backprop_lib.kit.hints.read_record``): anything but a small regular file of
  known exercises and rungs is noted as unreadable, and no hints are recorded.
"""

import copy
import shutil
from dataclasses import dataclass, field

import nbformat
from nbformat.reader import NotJSONError

from autograder.course import STUDENT_FILES
from backprop_lib.kit.hints import STATE_NAME, RecordError, read_record

MAX_FILE_BYTES = 20 << 20
MAX_ATTACHMENT_BYTES = 1 << 20


@dataclass
class Intake:
    """What the intake found: notes for the TA and the student, the notebooks it kept, the hints opened.

    ``hints`` is the student's hint record ({exercise: Opened}) in a course that records hints and
    could read it; None otherwise.
    """

    notes: list[str] = field(default_factory=list)
    notebooks: list[str] = field(default_factory=list)
    hints: dict | None = None


def take_in(course, student):
    """Write the cleaned copy of ``student``'s submission; return what was found."""
    source, target = course.folder("submitted", student), course.folder("intake", student)
    intake = Intake()
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    if not source.is_dir():
        intake.notes.append(f"no submission folder {source.relative_to(course.root)}")
        return intake
    _copy_files(source, target, intake)
    if course.records_hints:
        intake.hints = _read_hints(source, intake)
    expected = course.notebooks()
    originals = {stem: _original(course, stem) for stem in expected}
    grade_ids = {stem: _grade_ids(original) for stem, original in originals.items()}
    readable, unreadable = _read_notebooks(target, intake)
    for stem in expected:
        notebook = readable.pop(f"{stem}.ipynb", None)
        if notebook is None:
            notebook = _find_renamed(stem, grade_ids[stem], readable, target, intake)
        if notebook is None:
            if f"{stem}.ipynb" not in unreadable:
                intake.notes.append(f"{stem}.ipynb is missing: it scores 0")
            continue
        _deduplicate(notebook, stem, intake)
        _drop_big_attachments(notebook, stem, intake)
        _restore_deleted(notebook, originals[stem], stem, intake)
        nbformat.write(notebook, target / f"{stem}.ipynb")
        intake.notebooks.append(stem)
    for name in readable:
        intake.notes.append(f"{name} is not part of the assignment: not graded")
    _check_library(target, intake)
    return intake


def _copy_files(source, target, intake):
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if path.is_symlink():
            intake.notes.append(f"{relative} is a symbolic link: not graded")
        elif path.is_dir() or "__pycache__" in relative.parts or ".ipynb_checkpoints" in relative.parts:
            continue
        elif not path.is_file():
            intake.notes.append(f"{relative} is not a regular file: not graded")
        elif path.stat().st_size > MAX_FILE_BYTES:
            intake.notes.append(f"{relative} is larger than {MAX_FILE_BYTES >> 20} MB: not graded")
        else:
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target / relative)


def _read_hints(folder, intake):
    """The student's hint record, or None with a note saying why it cannot be read."""
    try:
        return read_record(folder / STATE_NAME)
    except RecordError as problem:
        intake.notes.append(f"hint record unreadable ({STATE_NAME}: {problem}): no hints recorded")
    except Exception as error:  # a case read_record does not foresee: the student's file, never the grader's failure
        why = f"{type(error).__name__}: {str(error)[:80]}"
        intake.notes.append(f"hint record unreadable ({STATE_NAME}: unexpected {why}): no hints recorded")
    return None


def _read_notebooks(folder, intake):
    """({file name: notebook} of the readable top-level notebooks, names of the unreadable ones, removed)."""
    notebooks, unreadable = {}, set()
    for path in sorted(folder.glob("*.ipynb")):
        try:
            notebooks[path.name] = nbformat.read(path, as_version=4)
        except Exception as error:  # nbformat raises several types for a damaged file
            problem = "it is not valid JSON" if isinstance(error, NotJSONError) else _first_line(error)
            intake.notes.append(f"{path.name} is not a valid notebook ({problem}): it scores 0")
            unreadable.add(path.name)
            path.unlink()
    return notebooks, unreadable


def _find_renamed(stem, grade_ids, readable, folder, intake):
    """The one unexpected notebook that holds ``stem``'s grade cells, renamed into place."""
    matches = [name for name, nb in readable.items() if grade_ids & _grade_ids(nb)]
    if len(matches) != 1:
        return None
    name = matches[0]
    intake.notes.append(f"{stem}.ipynb was submitted as {name}: graded as {stem}.ipynb")
    (folder / name).unlink()
    return readable.pop(name)


def _deduplicate(notebook, stem, intake):
    seen = set()
    for cell in notebook.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id is None:
            continue
        if grade_id in seen:
            del cell.metadata["nbgrader"]
            intake.notes.append(f"{stem}.ipynb: cell {grade_id!r} appears twice: the copy is not graded")
        seen.add(grade_id)


def _restore_deleted(notebook, original, stem, intake):
    """Put test cells the student deleted back where they were (nbgrader would add them at the top)."""
    present, graded = {cell.get("id") for cell in notebook.cells}, _grade_ids(notebook)
    for index, cell in enumerate(original.cells):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not meta.get("grade") or meta["grade_id"] in graded:
            continue
        anchor = next((c.get("id") for c in reversed(original.cells[:index]) if c.get("id") in present), None)
        position = next((i + 1 for i, c in enumerate(notebook.cells) if anchor and c.get("id") == anchor), 0)
        notebook.cells.insert(position, copy.deepcopy(cell))
        present.add(cell.get("id"))
        graded.add(meta["grade_id"])
        intake.notes.append(f"{stem}.ipynb: test cell {meta['grade_id']!r} was deleted: put back in place and graded")


def _original(course, stem):
    """The notebook as students got it (the release; the source before the first release)."""
    released = course.folder("release") / f"{stem}.ipynb"
    return nbformat.read(released if released.is_file() else course.source / f"{stem}.ipynb", as_version=4)


def _drop_big_attachments(notebook, stem, intake):
    for index, cell in enumerate(notebook.cells):
        size = sum(len(str(value)) for value in cell.get("attachments", {}).values())
        if size > MAX_ATTACHMENT_BYTES:
            del cell["attachments"]
            intake.notes.append(f"{stem}.ipynb: cell {index + 1}'s attachments ({size >> 20} MB) were dropped")


def _check_library(folder, intake):
    library = folder / "backprop_lib"
    if library.exists() and not library.is_dir():
        library.unlink()
        intake.notes.append("backprop_lib is a file, not a folder: the library is graded as the untouched stubs")
    library.mkdir(exist_ok=True)
    for name in STUDENT_FILES:
        path = folder / name
        if not path.is_file():
            intake.notes.append(f"{name} is missing: graded as the untouched stub")
            continue
        try:
            compile(path.read_bytes(), name, "exec")
        except SyntaxError as error:
            intake.notes.append(f"{name} does not compile: {error.msg} (line {error.lineno})")
        except ValueError as error:
            intake.notes.append(f"{name} does not compile: {error}")


def _grade_ids(notebook):
    return {
        cell.metadata["nbgrader"]["grade_id"]
        for cell in notebook.cells
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    }


def _first_line(error):
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0][:120]}" if text else type(error).__name__
