"""What the lecturer learns from the class (issue 23): named diagnoses in the gradebook, attempts, the insights.

The fast tests take the parts one at a time: the quoted statement of a failed
check, what a sandbox may report, the gradebook's upgrade to schema 3, how
attempts are counted, the command's refusals. The slow ones grade a class of
62 submissions of notebook 02 with a known mixture (honest, untouched, catalog
mistakes alone and in pairs, hostile and broken ones, three resubmissions, one
grading that never finished) and compare every count and share of
``backprop-kit course insights --json`` with what the mixture says; then open
the page in headless Chromium, offline, and keep a screenshot in
tests/artifacts/insights/ (git-ignored; CI keeps it).
"""

import json
import os
import shutil
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import nbformat
import numpy as np
import pytest
import sqlalchemy
from headless_chromium import launched
from nbformat.v4 import new_code_cell
from one_notebook import NOTEBOOK, one_notebook_course
from scratch_home import scratch_home
from test_hostile import TRACEBACKS  # the hostile suite's suppressed tracebacks

from autograder.course import TA_CONFIG, samples
from autograder.course.build import HIDDEN_TESTS_DIR
from autograder.gradebook import schema, store
from autograder.gradebook.migration import migrate
from autograder.gradebook.record import SCHEMA_VERSION, GradingRecord, Verification
from autograder.grading import batch as grading
from autograder.grading.excerpts import quote_failures
from autograder.reports import insights
from autograder.sandbox.verify import judge_outputs
from backprop_lib.kit.exercises import EXERCISES
from backprop_lib.kit.hints import STATE_NAME, ladder
from backprop_lib.kit.results import FAILED, RAISED, CheckResult
from solutions.mistakes import MISTAKES

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "tests" / "artifacts" / "insights"
BY_KEY = {m.key: m for m in MISTAKES}
EXERCISES_02 = [
    "reciprocal_backward",
    "add_constant_backward",
    "exp_backward",
    "scale_backward",
    "add_backward",
    "multiply_backward",
    "sigmoid_backward",
]
"""Notebook 02's exercises, in the order of their grade cells; its last grade cell is the worked example."""
CELLS_02 = [*EXERCISES_02, "sigmoid_neuron_example"]
GATES = set(EXERCISES_02) - {"sigmoid_backward"}
BREAKS_EXAMPLE = {"add_ignores_upstream", "multiply_not_switched", "sigmoid_from_input"}
"""The worked example runs add, multiply and sigmoid on scalars with an upstream 1 at the sigmoid: an add that
does not sum (scalars need none) and a sigmoid that ignores its upstream (it is 1) still give its numbers."""


def cli(course, *args):
    command = [sys.executable, "-m", "backprop_lib.kit.cli", "course", *args, "-C", str(course.root)]
    env = {key: value for key, value in os.environ.items() if key != "BACKPROP_KIT_SOLUTIONS"}
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)


# --- fast: the parts -------------------------------------------------------------------------------------------


class Folder:
    """A stand-in for a course whose intake folder is ``path`` (``quote_failures`` reads only that)."""

    def __init__(self, path):
        self.path = path

    def folder(self, kind, student):
        return self.path


def failed(exercise, summary, details=()):
    return CheckResult(exercise, EXERCISES[exercise].path, FAILED, summary, list(details))


def test_a_failed_check_quotes_the_statement_that_computes_the_wrong_gradient_without_the_students_words(tmp_path):
    library = tmp_path / "backprop_lib"
    library.mkdir()
    (library / "layers.py").write_text(
        textwrap.dedent(
            '''
            def linear_backward(dz, cache):
                """Alice Example, student 4711."""
                x, W, b = cache  # my own comment
                dx = dz @ W.T
                db = dz  # "TODO ask Bob"
                return dx, x.T @ dz, db


            def residual_backward(dout, cache):
                print(f"debug {dout}", "Carol")
                raise ValueError("my name is Dave")
            '''
        )
    )
    (library / "gates.py").write_text("def add_backward(dout, cache):\n    return dout, dout\n")
    results = [
        failed("linear_backward", "db has shape (4, 3), expected (3,) (the shape of b)"),
        failed(
            "residual_backward", "raised ValueError", ["at backprop_lib/layers.py, line 12, in residual_backward: "]
        ),
        failed("add_backward", "db has shape (3, 4), expected (4,) (the shape of b)"),
        CheckResult("exp_backward", "backprop_lib/gates.py", "not implemented"),
    ]
    quotes = quote_failures(Folder(tmp_path), "alice", Verification(results, 0.0, ""))
    assert quotes == {
        "linear_backward": "db = dz",
        "residual_backward": "raise ValueError('...')",
        "add_backward": "return (dout, dout)",
    }


def test_a_quote_is_short_and_code_that_does_not_parse_or_is_too_deep_gives_none(tmp_path):
    library = tmp_path / "backprop_lib"
    library.mkdir()
    body = "".join(f"        grad[{i}] = {i}\n" for i in range(20))
    (library / "gradient_check.py").write_text(
        f"def numerical_gradient(f, x, h=1e-5):\n    grad = x * 0\n    for i in range(3):\n{body}    return grad\n"
    )
    (library / "gates.py").write_text("def add_backward(dout, cache)\n    return dout\n")
    deep = "+".join(["dout"] * 900)  # parses, but too deep to write back
    (library / "activations.py").write_text(f"def relu_backward(dout, cache):\n    return ({deep},)\n")
    results = [failed(name, "wrong") for name in ("numerical_gradient", "add_backward", "relu_backward")]
    quotes = quote_failures(Folder(tmp_path), "s", Verification(results, 0.0, ""))
    assert list(quotes) == ["numerical_gradient"]
    lines = quotes["numerical_gradient"].splitlines()
    assert lines[0] == "for i in range(3):" and len(lines) == 7 and lines[-1] == "..."


@pytest.mark.parametrize(
    ("reported", "kept"),
    [(RAISED, RAISED), ("ignored upstream gradient", None), (["a list"], None), (None, None)],
)
def test_a_sandbox_may_report_only_the_diagnosis_of_an_exception(tmp_path, reported, kept):
    exercise = EXERCISES["add_backward"]
    error = {"status": "failed", "summary": "raised ValueError: x", "hint": "<b>forged</b>", "diagnosis": reported}
    (tmp_path / "add_backward.json").write_text(json.dumps({"cases": 0, "error": error}))
    np.savez(tmp_path / "add_backward.npz")
    result = judge_outputs(exercise, exercise.cases(1), tmp_path)
    assert result.status == FAILED and result.diagnosis == kept


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A released one-notebook course (nothing graded)."""
    with scratch_home(tmp_path_factory.mktemp("home")):
        yield one_notebook_course(tmp_path_factory.mktemp("insights"))


def test_a_schema_2_gradebook_is_read_as_it_is_and_gains_diagnoses_and_attempts_when_migrated(course):
    result = failed("add_backward", "db is wrong")
    result.diagnosis = "ignored upstream gradient"
    record = GradingRecord("before", verification=Verification([result], 1.0, "box", {"add_backward": "return x"}))
    store.save(course, record)
    engine = sqlalchemy.create_engine(course.db_url)
    with engine.begin() as connection:  # the gradebook as kit schema 2 left it
        for column in schema.ADDED_COLUMNS[3]:
            connection.execute(sqlalchemy.text(f"ALTER TABLE {column.table.name} DROP COLUMN {column.name}"))
        schema.attempt_table.drop(connection)
        schema.queue_table.drop(connection)
        connection.execute(schema.schema_table.update().values(version=2))
    store._current.discard(course.db_url)
    old = store.load(course, "before")
    assert old.verification.results[0].diagnosis is None and old.verification.excerpts == {}
    assert store.load_attempts(course) == {}
    assert insights.collect(course)["attempts"] is None
    assert migrate(course) == SCHEMA_VERSION == 4
    engine.dispose()
    store.save(course, record)
    again = store.load(course, "before")
    assert again.verification.results[0].diagnosis == "ignored upstream gradient"
    assert again.verification.excerpts == {"add_backward": "return x"}


def test_attempts_count_changed_submissions_and_time_from_the_first_to_full_marks():
    start = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)

    def attempt(minutes, content, score, submitted=True):
        moment = start + timedelta(minutes=minutes)
        return store.Attempt(moment + timedelta(seconds=30), moment if submitted else None, content, score, 9.0)

    history = {
        "first time": [attempt(0, "a", 9.0)],
        "third time": [attempt(0, "a", 5.0), attempt(10, "a", 5.0), attempt(60, "b", 7.0), attempt(90, "c", 9.0)],
        "not yet": [attempt(0, "a", 5.0), attempt(5, "b", 8.0, submitted=False)],
        "regraded": [attempt(0, "a", 5.0), attempt(20, "a", 9.0)],  # the same content graded again: one attempt
    }
    found = insights._attempts(history)
    assert found["students"] == 4 and found["full_marks"] == 3
    assert found["attempts_until_full_marks"] == {"1": 2, "3": 1}
    assert found["seconds_to_full_marks"] == [0.0, 0.0, 5400.0]
    assert {s["student"]: s["attempts"] for s in found["per_student"]} == {
        "first time": 1,
        "third time": 3,
        "not yet": 2,
        "regraded": 1,
    }


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--threshold", "0"], "must be greater than 0"),
        (["--threshold", "1.5"], "at most 1"),
        (["--threshold", "ten"], "is not a number"),
        (["--to", "/nonexistent-folder/page.html"], "no such folder"),
        (["--to", "/tmp"], "a folder, not a file"),
    ],
)
def test_misuse_is_refused_in_one_line_with_exit_code_2(course, args, says):
    done = cli(course, "insights", *args)
    assert done.returncode == 2 and says in done.stderr, done.stderr
    assert not (course.root / insights.PAGE).exists()


def test_a_course_graded_by_nobody_yet_gets_a_page_that_says_so(tmp_path):
    with scratch_home(tmp_path / "home"):
        course = one_notebook_course(tmp_path)
        found = insights.collect(course)
        assert found["students"] == 0 and found["attempts"] is None and found["top_diagnoses"] == []
        assert all(item["passed"] == {"students": 0, "share": 0.0} for item in found["exercises"])
        assert "No grading has been verified yet" in insights.page(course)


def test_a_folder_that_is_not_a_course_is_refused(tmp_path):
    command = [sys.executable, "-m", "backprop_lib.kit.cli", "course", "insights", "-C", str(tmp_path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and "no course at" in done.stderr


# --- slow: a graded class -------------------------------------------------------------------------------------

START = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
MIXTURE = [
    (16, "honest"),
    (6, "untouched"),
    (6, ("add_not_reduced",)),
    (2, ("add_not_reduced", "sigmoid_from_input")),
    (3, ("add_ignores_upstream",)),
    (5, ("multiply_not_switched",)),
    (3, ("multiply_not_switched", "exp_upstream_twice")),
    (2, ("reciprocal_ignores_upstream",)),
    (2, ("reciprocal_sign",)),
    (1, ("reciprocal_uses_output", "scale_unary_not_tuple")),
    (2, ("exp_of_out_ignores_upstream",)),
    (3, ("scale_unary_not_tuple",)),
    (3, ("sigmoid_from_input",)),
    (2, ("sigmoid_ignores_upstream",)),
    (1, "looper"),
    (1, "forger"),
    (1, "tracebacks"),
    (1, "invalid notebook"),
    (1, "no gates.py"),
    (1, "gates.py does not compile"),
]
"""(how many students, what they submitted): the reference, the stubs, catalog mistakes, hostile, broken."""
RESUBMITTED = {  # student: (what the second submission is, minutes after the first)
    "student-add_not_reduced-01": ("honest", 120),
    "student-add_not_reduced-02": ("honest", 120),
    "student-multiply_not_switched+exp_upstream_twice-01": (("exp_upstream_twice",), 60),
}
HINTS_OPENED = {
    "student-honest-01": {"add_backward": 1},
    "student-honest-02": {"add_backward": 2},
    "student-honest-03": {"add_backward": 3},
    "student-add_not_reduced-01": {"add_backward": 1},
    "student-add_not_reduced-02": {"add_backward": 1},
    "student-add_not_reduced-03": {"add_backward": 2},
    "student-add_not_reduced-04": {"add_backward": 2},
    "student-sigmoid_from_input-01": {"sigmoid_backward": 3},
}
UNREADABLE_HINTS = "student-tracebacks-01"
INTERRUPTED = "student-interrupted"
EXPECTED_QUOTES = {
    "add_not_reduced": "return (dout, dout)",
    "multiply_not_switched": "return (sum_to_shape(dout * a, a.shape), sum_to_shape(dout * b, b.shape))",
    "sigmoid_from_input": "return (dout * x * (1.0 - x),)",
    "scale_unary_not_tuple": "return cache * dout",
    "exp_upstream_twice": "return (dout * dout * out,)",
}

LOOPER = "def exp_backward(dout, cache):\n    while True:\n        pass\n"
FORGER = """
def add_backward(dout, cache):
    raise ValueError("a forged report follows")


import backprop_lib.kit.results as _results

_to_dict = _results.CheckResult.to_dict
_results.CheckResult.to_dict = lambda self: {
    **_to_dict(self), "diagnosis": "ignored upstream gradient", "hint": "<script>alert('forged')</script>"
}
"""


def students():
    """{student id: what they submitted (first)}."""
    made = {}
    for count, kind in MIXTURE:
        label = kind if isinstance(kind, str) else "+".join(kind)
        for number in range(1, count + 1):
            made[f"student-{label.replace(' ', '_')}-{number:02d}"] = kind
    return made


def outcome(kind):
    """{exercise: "passed" | "not attempted" | ("failed", diagnosis name or None)} for a submission of ``kind``."""
    if kind == "untouched" or kind == "no gates.py":
        found = dict.fromkeys(EXERCISES_02, "not attempted")
        return found | ({"sigmoid_backward": "passed"} if kind == "no gates.py" else {})
    found = dict.fromkeys(EXERCISES_02, "passed")
    if kind == "looper":
        return found | {"exp_backward": ("failed", None)}  # killed after its time limit: no name
    if kind == "forger":
        return found | {"add_backward": ("failed", None)}  # a name the sandbox may not report
    if kind == "tracebacks":
        return found | {"add_backward": ("failed", BY_KEY["add_not_reduced"].kind)}
    if kind == "gates.py does not compile":
        return found | dict.fromkeys(GATES, ("failed", "syntax error"))
    if isinstance(kind, tuple):
        return found | {BY_KEY[key].exercise: ("failed", BY_KEY[key].kind) for key in kind}
    return found  # honest, invalid notebook (the library is the reference)


def failed_cells(kind):
    """The grade cells of notebook 02 whose automatic score is below their points, for a submission of ``kind``."""
    if kind in ("untouched", "invalid notebook"):  # every check fails, or the notebook cannot be graded
        return set(CELLS_02)
    if kind in ("no gates.py", "gates.py does not compile"):  # a checked cell's points are its check's verdict:
        return GATES | {"sigmoid_neuron_example"}  # sigmoid_backward's passes, whatever the notebook's imports did
    if kind == "forger":
        return {"add_backward", "sigmoid_neuron_example"}
    if kind == "tracebacks":
        return {"add_backward"}  # the kernel's test faked a pass; the verification did not
    if kind == "looper":
        return {"exp_backward"}
    if isinstance(kind, tuple):
        return {BY_KEY[key].exercise for key in kind} | (
            {"sigmoid_neuron_example"} if BREAKS_EXAMPLE & set(kind) else set()
        )
    return set()


def plant(folder, module, source):
    """Replace one function of ``folder``'s ``backprop_lib/<module>.py`` by ``source``."""
    catalog = samples.catalog()
    function = source.split("def ", 1)[1].split("(")[0]
    path = folder / "backprop_lib" / f"{module}.py"
    path.write_text(catalog.plant(path.read_text(), catalog.Mistake("test", module, function, source, None)))


def submit(course, student, kind, moment):
    """Write ``student``'s submission of ``kind``, submitted at ``moment`` (nbgrader's timestamp.txt)."""
    folder = course.folder("submitted", student)
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(course.root.parent / "bases" / ("untouched" if kind == "untouched" else "reference"), folder)
    gates = folder / "backprop_lib" / "gates.py"
    for key in kind if isinstance(kind, tuple) else ("add_not_reduced",) if kind == "tracebacks" else ():
        plant(folder, BY_KEY[key].module, BY_KEY[key].source)
    if kind == "looper":
        plant(folder, "gates", LOOPER)
    if kind == "forger":
        plant(folder, "gates", "def add_backward(dout, cache):\n    pass\n")
        gates.write_text(gates.read_text().replace("def add_backward(dout, cache):\n    pass\n", "") + FORGER)
    if kind == "tracebacks":
        notebook = nbformat.read(folder / f"{NOTEBOOK}.ipynb", as_version=4)
        notebook.cells.insert(2, new_code_cell(TRACEBACKS.strip()))
        nbformat.write(notebook, folder / f"{NOTEBOOK}.ipynb")
    if kind == "invalid notebook":
        path = folder / f"{NOTEBOOK}.ipynb"
        path.write_text(path.read_text()[:500])
    if kind == "no gates.py":
        gates.unlink()
    if kind == "gates.py does not compile":
        gates.write_text(gates.read_text().replace("def add_backward(dout, cache):", "def add_backward(dout, cache)"))
    if student in HINTS_OPENED:
        opened = {
            name: {"rung": rung, "first_opened": "2026-03-01T10:00:00Z"} for name, rung in HINTS_OPENED[student].items()
        }
        (folder / STATE_NAME).write_text(json.dumps({"opened": opened}))
    if student == UNREADABLE_HINTS:
        (folder / STATE_NAME).write_text("{not json")
    (folder / "timestamp.txt").write_text(moment.strftime("%Y-%m-%d %H:%M:%S.%f UTC"))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The class, graded; then three resubmissions graded, an unchanged student graded again with --force, and a
    grading that never finished. Yields (course, {student: what they submitted last})."""
    with scratch_home(tmp_path_factory.mktemp("home")):
        course = one_notebook_course(tmp_path_factory.mktemp("class"))
        config = course.root / TA_CONFIG
        config.write_text(config.read_text().replace("record_hints = False", "record_hints = True"))
        (course.root.parent / "bases").mkdir()
        for name, folder in samples.make(course, ["reference", "untouched"]).items():
            shutil.move(folder, course.root.parent / "bases" / name)
            folder.parent.rmdir()
        mixture = students()
        first = {student: START + timedelta(minutes=number) for number, student in enumerate(mixture)}
        for student, kind in mixture.items():
            submit(course, student, kind, first[student])
        grading.grade(course, jobs=2)
        last = dict(mixture)
        for student, (kind, minutes) in RESUBMITTED.items():
            submit(course, student, kind, first[student] + timedelta(minutes=minutes))
            last[student] = kind
        grading.grade(course, jobs=2)  # only the three changed submissions are graded again
        grading.grade(course, ["student-honest-01"], jobs=1, force=True)  # the same content: no new attempt
        grading.mark_started(course, INTERRUPTED)  # a grading killed before its verification
        yield course, last, first


def taught_in(exercise):
    """Where notebook 02 teaches ``exercise``: its grade cell's number and the last heading above it."""
    cells = nbformat.read(REPO / "notebooks" / f"{NOTEBOOK}.ipynb", as_version=4).cells
    number = next(i for i, c in enumerate(cells, 1) if c.metadata.get("nbgrader", {}).get("grade_id") == exercise)
    headings = [line for c in cells[:number] if c.cell_type == "markdown" for line in c.source.splitlines()]
    section = [h for h in headings if h.startswith("#")][-1].strip("# ").replace("$", "")
    return {"notebook": NOTEBOOK, "cell": number, "section": section}


def expected(last, first, names=False):
    """``insights --json`` as the mixture says it must be (``names``: with --names)."""
    size = len(last)

    def tally(group, out_of=size):
        counted = {"students": len(group), "share": len(group) / out_of if out_of else 0.0}
        return counted | ({"names": sorted(group)} if names else {})

    exercises, pairs = [], []
    for order, name in enumerate(EXERCISES_02):
        outcomes = {student: outcome(kind)[name] for student, kind in last.items()}
        by_diagnosis = {}
        for student, found in outcomes.items():
            if isinstance(found, tuple):
                by_diagnosis.setdefault(found[1], []).append(student)
        ordered = sorted(by_diagnosis.items(), key=lambda item: (-len(item[1]), item[0] is None, item[0] or ""))
        diagnoses = [{"diagnosis": diagnosis} | tally(group) for diagnosis, group in ordered]
        exercises.append(
            {
                "exercise": name,
                "notebook": NOTEBOOK,
                "passed": tally([s for s, found in outcomes.items() if found == "passed"]),
                "failed": tally([s for group in by_diagnosis.values() for s in group]) | {"diagnoses": diagnoses},
                "not_attempted": tally([s for s, found in outcomes.items() if found == "not attempted"]),
            }
        )
        for (diagnosis, group), counted in zip(ordered, diagnoses, strict=True):
            if diagnosis is not None:
                quote = next(
                    (EXPECTED_QUOTES.get(m.key) for m in MISTAKES if (m.exercise, m.kind) == (name, diagnosis)), None
                )
                pairs.append(((-len(group), order, diagnosis), {"exercise": name, **counted, "example": quote}))
    pairs = [pair for _, pair in sorted(pairs, key=lambda item: item[0])]
    readable = [student for student in last if student != UNREADABLE_HINTS]
    hints = []
    for name in EXERCISES_02:
        opened = [s for s in readable if name in HINTS_OPENED.get(s, {})]
        others = [s for s in readable if s not in opened]
        passed = {s for s in readable if outcome(last[s])[name] == "passed"}
        hints.append(
            {
                "exercise": name,
                "recorded": len(readable),
                "opened": tally(opened),
                "rungs": {str(rung): sum(HINTS_OPENED[s][name] == rung for s in opened) for rung in (1, 2, 3)},
                "passed_after_opening": tally([s for s in opened if s in passed], len(opened)),
                "passed_without": tally([s for s in others if s in passed], len(others)),
            }
        )
    full = {s: 1 + (s in RESUBMITTED) for s, kind in last.items() if kind == "honest"}
    per_student = [
        {
            "student": student,
            "attempts": 1 + (student in RESUBMITTED),
            "until_full_marks": full.get(student),
            "seconds_to_full_marks": None if student not in full else 60.0 * RESUBMITTED.get(student, (0, 0))[1],
        }
        for student in sorted(last)
    ]
    cells = []
    for order, name in enumerate(CELLS_02):
        failing = [student for student, kind in last.items() if name in failed_cells(kind)]
        cell = {
            "cell": f"{NOTEBOOK}/{name}",
            "notebook": NOTEBOOK,
            "grade_id": name,
            "points": 2.0 if order == 7 else 1.0,
        }
        cells.append(((-len(failing), order), cell | {"failed": tally(failing)}))
    found = {
        "course": "backprop-kit",
        "assignment": "backprop",
        "students": size,
        "not_verified": {"students": 1} | ({"names": [INTERRUPTED]} if names else {}),
        "threshold": 0.1,
        "exercises": exercises,
        "top_diagnoses": pairs[:5],
        "hints": hints,
        "attempts": {
            "students": size,
            "full_marks": len(full),
            "attempts_until_full_marks": {"1": 16, "2": 2},
            "seconds_to_full_marks": sorted(s["seconds_to_full_marks"] for s in per_student if s["student"] in full),
        }
        | ({"per_student": per_student} if names else {}),
        "cells": [cell for _, cell in sorted(cells, key=lambda item: item[0])],
        "teach_again": [
            pair | {"hints": ladder(pair["exercise"])[:2], "taught_in": taught_in(pair["exercise"])}
            for pair in pairs
            if pair["share"] >= 0.1
        ],
    }
    return found


@pytest.mark.slow
def test_insights_json_equals_the_mixture_of_the_class(graded):
    course, last, first = graded
    assert len(last) == 62
    done = cli(course, "insights", "--json")
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found == expected(last, first)
    top = found["top_diagnoses"][0]  # the headline, by hand
    assert (top["exercise"], top["diagnosis"], top["students"]) == (
        "add_backward",
        "not summed over the broadcast axes",
        7,
    )
    assert top["share"] == 7 / 62 and top["example"] == "return (dout, dout)"
    assert [item["exercise"] for item in found["teach_again"]] == ["add_backward", "multiply_backward"]
    for student in [*last, INTERRUPTED]:
        assert student not in done.stdout, f"{student} named without --names"
    assert "forged" not in done.stdout and "<script" not in done.stdout


@pytest.mark.slow
def test_with_names_every_count_lists_its_students(graded):
    course, last, first = graded
    done = cli(course, "insights", "--json", "--names")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == expected(last, first, names=True)


def hidden_test_lines():
    """Every line of notebook 02's hidden tests long enough to be recognised."""
    folder = HIDDEN_TESTS_DIR / NOTEBOOK
    return [
        line.strip() for path in folder.glob("*.py") for line in path.read_text().splitlines() if len(line.strip()) > 25
    ]


@pytest.fixture(scope="module")
def browser():
    with launched() as browser:
        yield browser


@pytest.mark.slow
def test_the_page_shows_every_figure_offline_and_names_nobody(graded, browser):
    course, last, _ = graded
    done = cli(course, "insights")
    assert done.returncode == 0, done.stderr
    path = course.root / insights.PAGE
    html = path.read_text()
    page = browser.new_page(viewport={"width": 1100, "height": 1400})
    refused = []

    def route(request_route):
        if request_route.request.url.startswith(("file://", "data:")):
            request_route.continue_()
        else:
            refused.append(request_route.request.url)
            request_route.abort()

    page.route("**/*", route)
    page.goto(path.as_uri())
    images = page.locator("figure img")
    assert images.count() == 4  # the most common mistakes, every exercise, the cells, the attempts
    for index in range(images.count()):
        image = images.nth(index)
        complete, width, height = image.evaluate("img => [img.complete, img.naturalWidth, img.naturalHeight]")
        assert complete and width >= 800 and height >= 150, image.get_attribute("alt")
        assert image.bounding_box()["width"] > 500
    assert refused == [] and page.locator("script").count() == 0
    teach = page.locator("article")
    assert teach.count() == 2
    assert "add_backward: not summed over the broadcast axes" in teach.first.inner_text()
    assert "Taught in 02_computation_graphs.ipynb" in teach.first.inner_text()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / "insights.png", full_page=True)
    page.screenshot(path=ARTIFACTS / "insights-top.png")
    page.close()
    for student in [*last, INTERRUPTED]:
        assert student not in html, f"{student} named without --names"
    assert not [line for line in hidden_test_lines() if line in html], "a hidden test reached the page"
    assert "<script" not in html and "forged" not in html

    named = course.root.parent / "named.html"
    assert cli(course, "insights", "--names", "--to", str(named)).returncode == 0
    assert all(student in named.read_text() for student in last if outcome(last[student]) != outcome("honest"))
