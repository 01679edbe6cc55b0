"""Feedback students can act on: nbgrader's HTML without hidden tests, plus the grader's own findings.

For every graded student, in ``feedback/<student>/backprop/``:

- ``<notebook>.html``: nbgrader's feedback (``generate_feedback``) with the hidden
  tests' code removed (``ClearHiddenTests``) and, in cells that held hidden tests,
  error tracebacks cut to their last line (``HideHiddenTracebacks``: a traceback
  would quote the hidden test's line); the assertion message stays, and it is
  the checker's diagnostic and hint. At the top, a section with every exercise
  of that notebook the integrity verification failed, with its diagnostic and hint;
- ``grading_report.html``: how each notebook was graded (or why not), the
  intake's notes, and the verified result of every exercise.

All text that comes from a submission is escaped.
"""

import html
import sys

from nbgrader.converters import GenerateFeedback
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader.utils import capture_log

from autograder import names, records, report
from autograder.course import ASSIGNMENT, BEGIN_HIDDEN, load_config
from autograder.progress import Progress
from backprop_lib.kit.exercises import EXERCISES

REPORT_NAME = "grading_report.html"
STYLE = (
    "body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}"
    ".passed{color:#1a7f37}.failed,.error,.missing{color:#cf222e}.hint{font-style:italic}"
    ".backprop-kit-check{border:2px solid #cf222e;padding:.5em 1em;margin:1em 0}"
)


class HideHiddenTracebacks(NbGraderPreprocessor):
    """In a cell with hidden tests, keep only the last line (``Error: message``) of each traceback."""

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and BEGIN_HIDDEN in cell.source:
            for output in cell.get("outputs", []):
                if output.output_type == "error":
                    output.traceback = [f"{output.ename}: {output.evalue}"]
        return cell, resources


def generate(course, students=None):
    """Write every graded student's feedback; returns {student: feedback folder}.

    A student whose notebooks nbgrader cannot render still gets the grading report
    (and a warning on stderr); the others are not affected.
    """
    cells = report.grade_cells(course)
    found = records.load_all(course)
    students = [s for s in students or sorted(found) if s in found]
    progress = Progress(len(students), "feedback")
    folders = {}
    for student in students:
        record = found[student]
        folder = course.folder("feedback", student)
        if course.folder("autograded", student).is_dir():
            problem = _nbgrader_feedback(course, student)
            if problem:
                shown = names.terminal(f"{student}: nbgrader could not render the notebooks: {problem}")
                print(f"feedback for {shown}", file=sys.stderr)
        folder.mkdir(parents=True, exist_ok=True)
        _annotate_notebooks(folder, cells, record)
        (folder / REPORT_NAME).write_text(grading_report(record))
        folders[student] = folder
        progress.advance(student)
    return folders


def _nbgrader_feedback(course, student):
    """nbgrader's generate_feedback for one student; returns the last error line, or None."""
    config = load_config(course)
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id, coursedir.student_id = ASSIGNMENT, names.nbgrader_glob(student)
    app = names.literal_folders(GenerateFeedback)(coursedir=coursedir, config=config)
    app.force = True
    result = capture_log(app)
    if result["success"]:
        return None
    return (result.get("error") or "unknown error").strip().splitlines()[-1]


def _annotate_notebooks(folder, cells, record):
    """Insert the failed exercises of each notebook at the top of its feedback page."""
    results = {r.exercise: r for r in record.verification.results} if record.verification else {}
    for page in sorted(folder.glob("*.html")):
        if page.name == REPORT_NAME:
            continue
        names = {cell.exercise for cell in cells if cell.notebook == page.stem and cell.exercise}
        failed = [results[name] for name in EXERCISES if name in names and name in results and not results[name].passed]
        text = page.read_text()
        body = text.find(">", text.find("<body")) + 1
        page.write_text(text[:body] + _check_section(failed, len(names)) + text[body:])


def _check_section(failed, count):
    link = f'<a href="{REPORT_NAME}">grading report</a>'
    if not failed:
        message = f"all {count} library exercises of this notebook passed" if count else "no library exercises"
        return (
            f'<div class="backprop-kit-check"><p>The grader\'s own check on new inputs: {message} ({link}).</p></div>'
        )
    items = "".join(f"<li>{_result_html(r)}</li>" for r in failed)
    return (
        '<div class="backprop-kit-check"><h3>The grader checked your library again, on new inputs</h3>'
        f"<p>These exercises did not pass; the details are in your {link}.</p><ul>{items}</ul></div>"
    )


def grading_report(record):
    """The student's grading report page."""
    e = html.escape
    notebook_rows = "".join(
        f'<tr><td>{e(o.notebook)}.ipynb</td><td class="{e(o.status)}">{e(o.status)}</td><td>{e(o.reason)}</td></tr>'
        for o in record.notebooks
    )
    notes = "".join(f"<li>{e(note)}</li>" for note in record.notes)
    if record.verification:
        rows = "".join(
            f'<tr><td>{e(r.exercise)}</td><td>{e(r.path)}</td><td class="{e(r.status.replace(" ", "-"))}">'
            f"{e(r.status)}</td><td>{'' if r.passed else _result_html(r)}</td></tr>"
            for r in record.verification.results
        )
        verification = (
            "<p>The grader ran every exercise of your library again, in a separate process, on new inputs, "
            "and compared the results with reference gradients.</p>"
            f"<table><tr><th>exercise</th><th>file</th><th>result</th><th>what to fix</th></tr>{rows}</table>"
        )
    else:
        verification = "<p>Your library was not verified.</p>"
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Grading report: {e(record.student)}</title>"
        f"<style>{STYLE}</style></head><body><h1>Grading report</h1><p>Student: {e(record.student)}</p>"
        "<h2>Notebooks</h2><table><tr><th>notebook</th><th>graded</th><th>reason</th></tr>"
        f"{notebook_rows}</table>"
        + (f"<h2>Notes on your submission</h2><ul>{notes}</ul>" if notes else "")
        + f"<h2>Library exercises</h2>{verification}</body></html>"
    )


def _result_html(result):
    e = html.escape
    parts = [f"<b>{e(result.exercise)}</b> ({e(result.path)}): {e(result.status)}: {e(result.summary)}"]
    parts += [f"<br><code>{e(line)}</code>" for line in result.details]
    if result.hint:
        parts.append(f'<br><span class="hint">Hint: {e(result.hint)}</span>')
    return "".join(parts)
