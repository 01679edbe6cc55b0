"""Feedback that adds up and is safe to open: nbgrader's pages, scrubbed, with the final grade on top of each.

For every graded student, ``feedback/<student>/backprop/<notebook>.html`` (the only
files ``nbgrader release_feedback`` delivers): nbgrader's feedback
(``generate_feedback``) with the hidden tests' code removed (``ClearHiddenTests``),
tracebacks in the cells that held them cut to their last line
(``HideHiddenTracebacks``), and every output line that quotes a hidden test
removed, in any cell (``ScrubHiddenTests``). Then each page gets the final grade
(``autograder.gradebook.final_grade``, the number formgrader and every export show)
and how each cell's points were reached, the whole grading report folded below,
math as MathML (no script needed), no grader path, and is rebuilt by
``autograder.reports.safe_html``: an allow-list of HTML and a CSP, so nothing a
student's notebook displayed runs, frames, submits or navigates.
"""

import functools
import html
import logging
import re

from bs4 import BeautifulSoup, NavigableString
from latex2mathml.converter import convert as latex_to_mathml
from nbgrader.converters import GenerateFeedback
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader.utils import capture_log

from autograder.course import ASSIGNMENT, BEGIN_HIDDEN, names
from autograder.course.build import hidden_lines
from autograder.gradebook import store
from autograder.grading.progress import Progress
from autograder.reports import safe_html
from autograder.reports import scores as report
from backprop_lib.kit.hints import STATE_NAME

log = logging.getLogger(__name__)
STYLE = (
    ".backprop-kit-grade{font-family:sans-serif;border:2px solid #0969da;padding:.5em 1em;margin:1em auto;"
    "max-width:60em}.backprop-kit-grade table{border-collapse:collapse}.backprop-kit-grade td,"
    ".backprop-kit-grade th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}"
    ".backprop-kit-grade .lowered,.backprop-kit-grade .failed{color:#cf222e}"
    ".backprop-kit-grade .hint{font-style:italic}"
)
MATH = re.compile(r"\$\$(.+?)\$\$|\$([^$]+?)\$", re.DOTALL)
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
TAG = re.compile(r"<[^>]*>")
HIDDEN_NOTE = "[the grader removed this output: it quoted a hidden test]"
ABSOLUTE_PATH = re.compile(r"(?<![\w.:/~-])/(?:[\w.+~-]+/)+[\w.+~-]*")
WIDGET_NOTE = "(an interactive widget: open the notebook in Jupyter to use it)"


class ScrubHiddenTests(NbGraderPreprocessor):
    """Remove every output line that quotes a line of the course's hidden tests, in every cell: a student's code
    can print a test cell's source while it runs (``autograder.course.build.hidden_lines``)."""

    def preprocess(self, nb, resources):
        coursedir = CourseDirectory(config=self.config)
        source = coursedir.format_path(coursedir.source_directory, ".", resources["nbgrader"]["assignment"])
        lines = _hidden(source)
        for cell in nb.cells:
            for output in cell.get("outputs", []):
                scrub_output(output, lines)
        return nb, resources


def scrub_output(output, lines):
    """Take out of one notebook output what quotes any of ``lines``: the quoting lines of a stream or an error, the
    whole of a rich output."""
    if output.output_type == "stream":
        output.text = "".join(line for line in output.text.splitlines(True) if not quotes(line, lines))
    elif output.output_type == "error":
        output.traceback = [line for line in output.traceback if not quotes(line, lines)]
        output.evalue = "" if quotes(output.evalue, lines) else output.evalue
    elif any(quotes(str(value), lines) for value in output.get("data", {}).values()):
        output.data, output.metadata = {"text/plain": HIDDEN_NOTE}, {}


def quotes(text, lines):
    """Whether ``text`` (any output: ANSI colours, HTML tags and spacing set aside) holds one of ``lines``."""
    plain = html.unescape(TAG.sub("", ANSI.sub("", text)))
    return any(line in " ".join(row.split()) for row in plain.splitlines() for line in lines if line)


@functools.cache
def _hidden(source):
    return frozenset(hidden_lines(source))


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

    A student whose notebooks nbgrader cannot render gets a page per notebook
    with the grade alone (and a warning); the others are not affected.
    """
    records = store.load_all(course, students)
    scores = {s.student: s for s in report.collect(course, list(records))}
    hidden = _hidden(str(course.source))
    progress = Progress(len(records), "feedback")
    folders = {}
    for student in records:
        folder = course.folder("feedback", student)
        if course.folder("autograded", student).is_dir():
            problem = _nbgrader_feedback(course, student)
            if problem:
                log.warning(
                    "feedback for %s", names.terminal(f"{student}: nbgrader could not render the notebooks: {problem}")
                )
        folder.mkdir(parents=True, exist_ok=True)
        for stem in course.notebooks():
            page = folder / f"{stem}.html"
            text = page.read_text() if page.is_file() else _empty_page(stem)
            page.write_text(finish_page(text, stem, scores[student], hidden))
        folders[student] = folder
        progress.advance(student)
    return folders


def finish_page(text, notebook, scores, hidden=frozenset()):
    """nbgrader's page of ``notebook`` rebuilt safe (``safe_html``), with the grade on top, offline math, no grader
    path and no line of the ``hidden`` tests."""
    soup = BeautifulSoup(text, "html.parser")
    body = soup.body or soup
    body.insert(0, BeautifulSoup(grade_section(notebook, scores), "html.parser"))  # scrubbed with the rest
    for script in body.find_all("script", type=re.compile("widget-view")):
        script.replace_with(soup.new_string(WIDGET_NOTE))
    for text_node in list(body.find_all(string=True)):
        if text_node.parent.name not in ("style", "script"):
            _scrub(text_node, hidden)
    for block in body.select(".jp-MarkdownOutput, .text_cell_render"):
        for text_node in list(block.find_all(string=MATH)):
            if text_node.parent.name not in ("code", "pre"):
                text_node.replace_with(BeautifulSoup(_math_html(str(text_node)), "html.parser"))
    styles = [style.get_text() for style in soup.head.find_all("style")] if soup.head else []
    return safe_html.page(notebook, [*styles, STYLE], body.decode_contents())


def grade_section(notebook, scores):
    """The box at the top of a page: the final grade, this notebook's cells and how, the folded report."""
    e = html.escape
    maximum = sum(cell.points for cell in scores.cells.values())
    verified = scores.verified
    rows = "".join(
        _cell_row(cell, verified.get(cell.grade_id)) for cell in scores.cells.values() if cell.notebook == notebook
    )
    cells = (
        f"<table><tr><th>exercise</th><th>points</th><th>how they were reached</th></tr>{rows}</table>"
        if rows
        else "<p>This notebook has no graded cells.</p>"
    )
    penalty = f"<p>Late submission: {scores.late_penalty:g} points deducted.</p>" if scores.late_penalty else ""
    return (
        f'<section class="backprop-kit-grade"><h2>Your grade: {scores.total:g}/{maximum:g}</h2>'
        "<p>Each exercise's points come from the grader's own check of your library on new inputs, run apart from "
        "your notebook (its test in your notebook is there to help you); a notebook that could not be graded "
        f"scores 0; a score set by your TA replaces both.</p>{penalty}<h3>This notebook: {e(notebook)}</h3>{cells}"
        f"<details><summary>The whole grading report</summary>{_report(scores)}</details></section>"
    )


def _cell_row(cell, result):
    e = html.escape
    how = e(cell.reason().split(": ", 1)[1])
    if result is not None and not result.passed and cell.manual is None:
        how += f"<br>{_result_html(result)}"
    css = ' class="lowered"' if cell.lowered_by_verification and cell.manual is None else ""
    final = "-" if cell.final is None else f"{cell.final:g}"
    return f"<tr{css}><td>{e(cell.grade_id)}</td><td>{final}/{cell.points:g}</td><td>{how}</td></tr>"


def _report(scores):
    """Every notebook's points and outcome, the notes on the submission, every check of the library."""
    e, record = html.escape, scores.record
    outcomes = {o.notebook: o for o in record.notebooks} if record else {}
    notebooks = sorted({cell.notebook for cell in scores.cells.values()})
    rows = ""
    for stem in notebooks:
        cells = [cell for cell in scores.cells.values() if cell.notebook == stem]
        got, most = sum(cell.final or 0.0 for cell in cells), sum(cell.points for cell in cells)
        outcome = outcomes.get(stem)
        status = (
            f"{e(outcome.status)}{': ' + e(outcome.reason) if outcome and outcome.reason else ''}" if outcome else ""
        )
        rows += f"<tr><td>{e(stem)}</td><td>{got:g}/{most:g}</td><td>{status}</td></tr>"
    parts = [f"<table><tr><th>notebook</th><th>points</th><th>graded</th></tr>{rows}</table>"]
    if record and record.notes:
        parts.append(
            "<h4>Notes on your submission</h4><ul>" + "".join(f"<li>{e(n)}</li>" for n in record.notes) + "</ul>"
        )
    if scores.hints is not None:
        parts.append(_hints_html(record))
    if record and record.verification:
        checks = "".join(
            f'<tr><td>{e(r.exercise)}</td><td>{e(r.path)}</td><td class="{e(r.status.replace(" ", "-"))}">'
            f"{e(r.status)}</td><td>{'' if r.passed else _result_html(r)}</td></tr>"
            for r in record.verification.results
        )
        parts.append(
            "<h4>The grader's own check of your library</h4><p>Every exercise ran again in a separate process, on "
            "new inputs, and its results were compared with reference gradients.</p>"
            f"<table><tr><th>exercise</th><th>file</th><th>result</th><th>what to fix</th></tr>{checks}</table>"
        )
    else:
        parts.append("<p>Your library was not checked again.</p>")
    return "".join(parts)


def _hints_html(record):
    """The hints the grading recorded from the student's hint record (the course records them)."""
    e, hints = html.escape, record.hints if record else None
    intro = (
        f"<h4>Hints you opened</h4><p>This course records the hints you opened, from {e(STATE_NAME)} in your "
        "submission. They do not change your score.</p>"
    )
    if hints is None:
        return intro + "<p>Your hint record could not be read (see the notes): no hints were recorded.</p>"
    if not hints:
        return intro + "<p>The grading recorded no hints.</p>"
    items = "".join(
        f"<li>{e(name)}: up to hint {opened.rung}"
        + (f", first opened {e(opened.first_opened)}" if opened.first_opened else "")
        + "</li>"
        for name, opened in sorted(hints.items())
    )
    return f"{intro}<ul>{items}</ul>"


def _result_html(result):
    e = html.escape
    parts = [f"<b>{e(result.exercise)}</b> ({e(result.path)}): {e(result.status)}: {e(result.summary)}"]
    parts += [f"<br><code>{e(line)}</code>" for line in result.details]
    if result.hint:
        parts.append(f'<br><span class="hint">Hint: {e(result.hint)}</span>')
    return "".join(parts)


def _math_html(text):
    """``text`` with each $...$ / $$...$$ as MathML; LaTeX that cannot be converted stays as code."""
    pieces, last = [], 0
    for match in MATH.finditer(text):
        pieces.append(html.escape(text[last : match.start()]))
        latex, display = (match.group(1), True) if match.group(1) is not None else (match.group(2), False)
        try:
            pieces.append(latex_to_mathml(latex.strip(), display="block" if display else "inline"))
        except Exception:  # latex2mathml raises many kinds on LaTeX it does not know
            pieces.append(f"<code>{html.escape(match.group(0))}</code>")
        last = match.end()
    pieces.append(html.escape(text[last:]))
    return "".join(pieces)


def _scrub(text_node, hidden):
    """Replace each absolute path in a text node by its part from backprop_lib/ on, or its last component; a line
    that quotes a hidden test by a note."""
    text = str(text_node)
    cleaned = ABSOLUTE_PATH.sub(_short_path, text)
    if hidden and quotes(cleaned, hidden):
        lines = cleaned.splitlines(True)
        cleaned = "".join(HIDDEN_NOTE + "\n" if quotes(line, hidden) else line for line in lines)
    if cleaned != text:
        text_node.replace_with(NavigableString(cleaned))


def _short_path(match):
    path = match.group()
    at = path.rfind("backprop_lib/")
    return path[at:] if at >= 0 else path.rstrip("/").rsplit("/", 1)[-1]


def _empty_page(notebook):
    title = html.escape(notebook)
    return f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head><body></body></html>"


def _nbgrader_feedback(course, student):
    """nbgrader's generate_feedback for one student; returns the last error line, or None."""
    config = course.config
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id, coursedir.student_id = ASSIGNMENT, names.nbgrader_glob(student)
    app = names.literal_folders(GenerateFeedback)(coursedir=coursedir, config=config)
    app.force = True
    result = capture_log(app)
    if result["success"]:
        return None
    return (result.get("error") or "unknown error").strip().splitlines()[-1]
