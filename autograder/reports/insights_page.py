"""The lecturer's page of the class's insights: one self-contained HTML file, figures embedded, no script.

``render(found)`` draws what ``autograder.reports.insights.collect`` counted: what to teach again, the five
most common mistakes, every exercise, the cells failed most, the hints opened and the attempts. Figures are
matplotlib PNGs inside the page (``data:`` URIs), so it reads offline; its Content-Security-Policy allows
no script and no request. Every text from the gradebook (a student's id, a quoted statement) is escaped.
"""

import base64
import io
import statistics
from datetime import datetime, timezone

from matplotlib.figure import Figure

from autograder.course.names import html_text as e

COLOURS = {"passed": "#009E73", "named": "#D55E00", "unnamed": "#E69F00", "not attempted": "#BBBBBB"}
"""Okabe and Ito's colour-blind safe palette."""
UNNAMED = "no named diagnosis"
CELLS_SHOWN = 10
STYLE = """
body{font:15px/1.5 system-ui,sans-serif;max-width:62rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.6rem;margin-bottom:0}h2{margin-top:2.2rem;border-bottom:1px solid #ccc}
.lead{color:#555;margin-top:.2rem}table{border-collapse:collapse;margin:.6rem 0;width:100%}
th,td{text-align:left;padding:.25rem .6rem;border-bottom:1px solid #e4e4e4;vertical-align:top}
td.n{text-align:right;white-space:nowrap}
pre{background:#f6f6f6;padding:.5rem .7rem;margin:.3rem 0;white-space:pre-wrap;overflow-wrap:anywhere}
figure{margin:1rem 0}figure img{max-width:100%}figcaption{color:#555;font-size:.9rem}
article{border-left:4px solid #D55E00;padding:.1rem 1rem;margin:1rem 0;background:#fdf7f3}
article h3{margin:.5rem 0}ol.rungs li{margin:.3rem 0}.muted{color:#666}
"""
POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def render(found):
    """The page (HTML text) for the insights ``found``."""
    size = found["students"]
    title = f"What the class got wrong: {found['course']}"
    moment = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lead = f"{size} students whose grading was verified; counted from the gradebook at {moment}."
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">',
        f"<title>{e(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{e(title)}</h1><p class='lead'>{e(lead)}</p>",
    ]
    if not size:
        parts.append("<p>No grading has been verified yet: run <code>backprop-kit course grade</code>.</p>")
    else:
        parts += _teach_again(found) + _top(found) + _exercises(found) + _cells(found)
        parts += _hints(found) + _attempts(found) + _not_verified(found)
    return "\n".join([*parts, "</body></html>"]) + "\n"


def _teach_again(found):
    threshold = found["threshold"]
    parts = [
        "<h2 id='teach-again'>Teach again</h2>",
        f"<p>The mistakes of at least {_percent(threshold)} of the class, each with the first two rungs of the "
        "exercise's hint ladder (the third, the formula, is left out) and where the course teaches it.</p>",
    ]
    if not found["teach_again"]:
        return [*parts, f"<p class='muted'>No mistake reaches {_percent(threshold)} of the class.</p>"]
    for item in found["teach_again"]:
        taught = item["taught_in"]
        parts += [
            "<article>",
            f"<h3>{e(item['exercise'])}: {e(item['diagnosis'])}</h3>",
            f"<p>{_students(item)} of the class.</p>",
            *_example(item["example"]),
            "<ol class='rungs'>" + "".join(f"<li>{e(rung)}</li>" for rung in item["hints"]) + "</ol>",
            f"<p>Taught in <b>{e(taught['notebook'])}.ipynb</b>, cell {taught['cell']}"
            + (f" (section “{e(taught['section'])}”)" if taught["section"] else "")
            + ".</p>",
            *_names(item),
            "</article>",
        ]
    return parts


def _top(found):
    top = found["top_diagnoses"]
    parts = ["<h2 id='top'>The most common mistakes</h2>"]
    if not top:
        return [*parts, "<p class='muted'>The checks named no mistake.</p>"]
    labels = [f"{item['exercise']}: {item['diagnosis']}" for item in top]
    parts.append(
        _figure(
            _bars(labels, [item["share"] for item in top], COLOURS["named"]),
            f"The {len(top)} most common named mistakes, by share of the class",
        )
    )
    rows = [
        f"<tr><td>{e(item['exercise'])}</td><td>{e(item['diagnosis'])}</td><td class='n'>{_students(item)}</td>"
        f"<td>{''.join(_example(item['example'])) or '<span class=muted>none quoted</span>'}{''.join(_names(item))}"
        "</td></tr>"
        for item in top
    ]
    header = "<tr><th>exercise</th><th>mistake</th><th>students</th><th>a failing statement</th></tr>"
    return [*parts, f"<table>{header}{''.join(rows)}</table>"]


def _exercises(found):
    exercises = found["exercises"]
    labels = [item["exercise"] for item in exercises]
    named = [sum(d["share"] for d in item["failed"]["diagnoses"] if d["diagnosis"]) for item in exercises]
    unnamed = [item["failed"]["share"] - share for item, share in zip(exercises, named, strict=True)]
    stacks = {
        "passed": [item["passed"]["share"] for item in exercises],
        "failed, mistake named": named,
        f"failed, {UNNAMED}": unnamed,
        "not attempted": [item["not_attempted"]["share"] for item in exercises],
    }
    figure = _figure(_stacked(labels, stacks), "Every exercise: who passed its check, failed it, or left the stub")
    rows = []
    for item in exercises:
        diagnoses = "; ".join(
            f"{e(d['diagnosis'] or UNNAMED)} ({d['students']}){''.join(_names(d))}" for d in item["failed"]["diagnoses"]
        )
        rows.append(
            f"<tr><td>{e(item['exercise'])}<br><span class='muted'>{e(item['notebook'])}</span></td>"
            f"<td class='n'>{_students(item['passed'])}</td><td class='n'>{_students(item['failed'])}</td>"
            f"<td class='n'>{_students(item['not_attempted'])}</td><td>{diagnoses}</td></tr>"
        )
    header = "<tr><th>exercise</th><th>passed</th><th>failed</th><th>not attempted</th><th>failed by mistake</th></tr>"
    return ["<h2 id='exercises'>Every exercise</h2>", figure, f"<table>{header}{''.join(rows)}</table>"]


def _cells(found):
    failing = [cell for cell in found["cells"] if cell["failed"]["students"]][:CELLS_SHOWN]
    parts = ["<h2 id='cells'>Notebook cells that failed most</h2>"]
    if not failing:
        return [*parts, "<p class='muted'>Every graded cell earned its points.</p>"]
    parts += [
        "<p>A cell fails when its automatic score (nbgrader's test and the grader's own check, before any TA's "
        "override) is below its points.</p>",
        _figure(
            _bars([cell["cell"] for cell in failing], [cell["failed"]["share"] for cell in failing], COLOURS["named"]),
            f"The {len(failing)} graded cells failed by most students",
        ),
    ]
    rows = [
        f"<tr><td>{e(cell['cell'])}</td><td class='n'>{cell['points']:g}</td>"
        f"<td class='n'>{_students(cell['failed'])}{''.join(_names(cell['failed']))}</td></tr>"
        for cell in failing
    ]
    return [*parts, f"<table><tr><th>cell</th><th>points</th><th>failed by</th></tr>{''.join(rows)}</table>"]


def _hints(found):
    hints = found["hints"]
    if hints is None:
        return []
    parts = ["<h2 id='hints'>Hints opened</h2>"]
    opened = [item for item in hints if item["opened"]["students"]]
    if not opened:
        return [*parts, "<p class='muted'>No student opened a hint (or none submitted a readable record).</p>"]
    recorded = hints[0]["recorded"]
    parts.append(
        f"<p>From the hint records of {recorded} students (a record says which hints the student's own kit noted). "
        "Passed: the exercise's check in the student's latest grading.</p>"
    )
    rows = [
        f"<tr><td>{e(item['exercise'])}</td><td class='n'>{_students(item['opened'])}{''.join(_names(item['opened']))}"
        f"</td><td class='n'>{item['rungs']['1']} / {item['rungs']['2']} / {item['rungs']['3']}</td>"
        f"<td class='n'>{_of(item['passed_after_opening'], item['opened']['students'])}</td>"
        f"<td class='n'>{_of(item['passed_without'], recorded - item['opened']['students'])}</td></tr>"
        for item in opened
    ]
    header = (
        "<tr><th>exercise</th><th>opened a hint</th><th>highest rung 1 / 2 / 3</th><th>then passed</th>"
        "<th>passed without a hint</th></tr>"
    )
    return [*parts, f"<table>{header}{''.join(rows)}</table>"]


def _attempts(found):
    attempts = found["attempts"]
    parts = ["<h2 id='attempts'>Attempts until full marks</h2>"]
    if attempts is None:
        return [*parts, "<p class='muted'>No grading has recorded an attempt yet.</p>"]
    until, seconds = attempts["attempts_until_full_marks"], attempts["seconds_to_full_marks"]
    waiting = attempts["students"] - attempts["full_marks"]
    text = (
        f"{attempts['full_marks']} of {attempts['students']} students reached full marks. An attempt is a "
        "submission that differs from the one graded before it."
    )
    if any(s > 0 for s in seconds):
        slower = [s for s in seconds if s > 0]
        text += (
            f" Of the {len(slower)} who needed more than one, the median time from their first submission to full "
            f"marks was {_duration(statistics.median(slower))} (longest {_duration(max(slower))})."
        )
    labels = [*(f"{k} attempt{'s' * (k != '1')}" for k in until), "not yet"]
    counts = [*until.values(), waiting]
    colours = [COLOURS["passed"]] * len(until) + [COLOURS["not attempted"]]
    total = attempts["students"]
    figure = _figure(
        _bars(labels, [count / total for count in counts], colours), "Students by attempts until full marks"
    )
    return [*parts, f"<p>{e(text)}</p>", figure]


def _not_verified(found):
    missing = found["not_verified"]
    if not missing["students"]:
        return []
    count = missing["students"]
    text = f"{count} student{'s' * (count != 1)} with no verified grading (a grading that did not finish)."
    return ["<h2 id='not-verified'>Not counted</h2>", f"<p>{e(text)}</p>", *_names(missing)]


def _students(counted):
    return f"{counted['students']} ({_percent(counted['share'])})"


def _of(counted, out_of):
    return f"{counted['students']} of {out_of}" if out_of else "-"


def _percent(share):
    return f"{100 * share:.0f}%"


def _duration(seconds):
    if seconds < 3600:
        return f"{seconds / 60:.0f} minutes"
    return f"{seconds / 3600:.1f} hours" if seconds < 3 * 86400 else f"{seconds / 86400:.1f} days"


def _example(quote):
    return [f"<pre><code>{e(quote)}</code></pre>"] if quote else []


def _names(counted):
    """The students counted (only when the insights were collected with names)."""
    names = counted.get("names")
    if not names:
        return []
    return [f"<details><summary>students</summary>{e(', '.join(names))}</details>"]


def _figure(image, caption):
    return f'<figure><img src="{image}" alt="{e(caption)}"><figcaption>{e(caption)}</figcaption></figure>'


def _bars(labels, shares, colours):
    """Horizontal bars of shares, one per label, the first on top; a PNG data URI."""
    figure, axes = _axes(len(labels))
    axes.set_xlim(0, 110)  # room for the label of a bar at 100%
    axes.set_xticks(range(0, 101, 20))
    rows = range(len(labels))
    axes.barh(rows, [100 * share for share in shares], color=colours)
    for row, share in zip(rows, shares, strict=True):
        axes.annotate(_percent(share), (100 * share, row), xytext=(3, 0), textcoords="offset points", va="center")
    return _finish(figure, axes, labels)


def _stacked(labels, stacks):
    """Horizontal stacked bars (one per label, the first on top) of the stacks' shares; a PNG data URI."""
    figure, axes = _axes(len(labels), legend=True)
    left = [0.0] * len(labels)
    for (name, shares), colour in zip(stacks.items(), COLOURS.values(), strict=True):
        widths = [100 * share for share in shares]
        axes.barh(range(len(labels)), widths, left=left, color=colour, label=name)
        left = [a + b for a, b in zip(left, widths, strict=True)]
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12 - 0.6 / (len(labels) + 2)), ncol=4, frameon=False)
    return _finish(figure, axes, labels)


def _axes(rows, legend=False):
    figure = Figure(figsize=(9, 0.9 + 0.38 * rows + 0.5 * legend), dpi=100, layout="constrained")
    axes = figure.subplots()
    axes.set_xlim(0, 100)
    axes.set_xlabel("% of the class")
    axes.spines[["top", "right"]].set_visible(False)
    return figure, axes


def _finish(figure, axes, labels):
    axes.set_yticks(range(len(labels)), labels)
    axes.invert_yaxis()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
