"""What the class got wrong, counted from the gradebook: the numbers of ``course insights`` and its page.

``collect(course)`` returns a plain dict (the JSON of ``course insights --json``):

- ``exercises``: per exercise of the course, the students who passed its check, failed it (by the
  diagnosis's name; ``null`` when the checks name none) or did not attempt it (a stub);
- ``top_diagnoses``: the five most common (exercise, diagnosis) pairs, each with one anonymised example of
  the failing statement (``autograder.grading.excerpts``), the one most of those students wrote;
- ``hints`` (``null`` unless the course records them): per exercise with a hint ladder, the students who
  opened a hint, by highest rung, and how many of them, and of the others, passed;
- ``attempts`` (``null`` before any recorded grading): attempts until full marks and the seconds from the
  first submission to full marks;
- ``cells``: per grade cell, the students whose automatic score is below its points;
- ``teach_again``: the diagnoses of at least ``threshold`` of the class, each with the first two rungs of the
  exercise's hint ladder (never the third, the formula) and the notebook cell where the course teaches it.

Counts are of students; a share is a count over the students whose grading was verified (``students``).
No student is named unless ``names`` (``anonymous`` removes every id); no hidden test is read.
``page(course)`` is the HTML page (``autograder.reports.insights_page``), for the CLI and for a service to
serve to instructors.
"""

from collections import Counter
from dataclasses import dataclass

import nbformat

from autograder.gradebook import store
from autograder.gradebook.final_grade import CellGrade
from backprop_lib.kit import hints
from backprop_lib.kit.exercises import STUDENT_EXERCISES
from backprop_lib.kit.results import NOT_IMPLEMENTED

TEACH_AGAIN = 0.1
TOP = 5
PAGE = "insights.html"
NAMING = {"names", "per_student"}
"""The keys that hold student ids: ``anonymous`` removes them."""


@dataclass(frozen=True)
class TaughtCell:
    """A grade cell of the course: its notebook, points, place (1-based cell number) and section heading."""

    notebook: str
    grade_id: str
    points: float
    number: int
    section: str

    @property
    def key(self):
        return f"{self.notebook}/{self.grade_id}"


def page(course, names=False, threshold=TEACH_AGAIN):
    """The self-contained HTML page of the class's insights (matplotlib is imported only for it)."""
    from autograder.reports.insights_page import render

    return render(collect(course, names, threshold))


def collect(course, names=False, threshold=TEACH_AGAIN):
    """The class's insights as a plain dict (see the module's docstring)."""
    records = store.load_all(course)
    verified = {student: record for student, record in records.items() if record.verification}
    cells = taught_cells(course)
    exercises = [cell for cell in cells if cell.grade_id in STUDENT_EXERCISES]
    checks = {student: {r.exercise: r for r in record.verification.results} for student, record in verified.items()}
    tally = _Tally(len(verified))
    found = [_exercise(cell, checks, tally) for cell in exercises]
    pairs = _pairs(found, verified)
    unverified = sorted(set(records) - set(verified))
    insights = {
        "course": course.course_id,
        "assignment": course.assignment,
        "students": len(verified),
        "not_verified": {"students": len(unverified), "names": unverified},
        "threshold": threshold,
        "exercises": found,
        "top_diagnoses": pairs[:TOP],
        "hints": _hints(exercises, verified, checks, tally) if course.records_hints else None,
        "attempts": _attempts(store.load_attempts(course)),
        "cells": _cells(cells, verified, checks, tally),
        "teach_again": [_teaching(pair, exercises) for pair in pairs if pair["share"] >= threshold],
    }
    return insights if names else anonymous(insights)


def anonymous(found):
    """``found`` without a student's id: every ``names`` list and the per-student attempts removed."""
    if isinstance(found, dict):
        return {key: anonymous(value) for key, value in found.items() if key not in NAMING}
    if isinstance(found, list):
        return [anonymous(value) for value in found]
    return found


def taught_cells(course):
    """The course's grade cells in order, each with the section of its notebook that teaches it (the last heading
    above it, its LaTeX dollars dropped)."""
    cells = []
    for stem in course.notebooks():
        section = ""
        for number, cell in enumerate(nbformat.read(course.source / f"{stem}.ipynb", as_version=4).cells, 1):
            headings = [line.strip("# ").replace("$", "") for line in cell.source.splitlines() if line.startswith("#")]
            if cell.cell_type == "markdown" and headings:
                section = headings[-1]
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if meta.get("grade") and cell.cell_type == "code":
                cells.append(TaughtCell(stem, meta["grade_id"], float(meta["points"]), number, section))
    return cells


class _Tally:
    """Students counted as ``{"students": n, "share": n / the class's size (or out_of), "names": [...]}``."""

    def __init__(self, size):
        self.size = size

    def __call__(self, students, out_of=None):
        size = self.size if out_of is None else out_of
        return {"students": len(students), "share": len(students) / size if size else 0.0, "names": sorted(students)}


def _exercise(cell, checks, tally):
    passed, not_attempted, failed = [], [], {}
    for student, results in checks.items():
        result = results.get(cell.grade_id)
        if result is None or result.status == NOT_IMPLEMENTED:
            not_attempted.append(student)
        elif result.passed:
            passed.append(student)
        else:
            failed.setdefault(result.diagnosis, []).append(student)
    ordered = sorted(failed.items(), key=lambda item: (-len(item[1]), item[0] is None, item[0] or ""))
    return {
        "exercise": cell.grade_id,
        "notebook": cell.notebook,
        "passed": tally(passed),
        "failed": tally([student for _, students in ordered for student in students])
        | {"diagnoses": [{"diagnosis": name} | tally(students) for name, students in ordered]},
        "not_attempted": tally(not_attempted),
    }


def _pairs(exercises, verified):
    """Every named (exercise, diagnosis) of the class, most students first, each with its most common example."""
    pairs = []
    for order, found in enumerate(exercises):
        for diagnosis in found["failed"]["diagnoses"]:
            if diagnosis["diagnosis"] is not None:
                pairs.append((order, {"exercise": found["exercise"], **diagnosis}))
    pairs.sort(key=lambda pair: (-pair[1]["students"], pair[0], pair[1]["diagnosis"]))
    return [pair | {"example": _example(pair, verified)} for _, pair in pairs]


def _example(pair, verified):
    """The statement most of the pair's students wrote (the first in text order among equals), or None."""
    excerpts = (verified[student].verification.excerpts.get(pair["exercise"]) for student in pair["names"])
    quotes = Counter(quote for quote in excerpts if quote)
    return min(quotes, key=lambda quote: (-quotes[quote], quote)) if quotes else None


def _hints(exercises, verified, checks, tally):
    """Per exercise with a hint ladder: who opened a hint (by highest rung), and who of them, and of the others,
    passed; among the students whose hint record the grading read."""
    recorded = {student: record.hints for student, record in verified.items() if record.hints is not None}
    found = []
    for name in (cell.grade_id for cell in exercises if hints.available(cell.grade_id)):
        opened = {student: record[name].rung for student, record in recorded.items() if name in record}
        others = sorted(set(recorded) - set(opened))
        passed = {student for student in recorded if name in checks[student] and checks[student][name].passed}
        found.append(
            {
                "exercise": name,
                "recorded": len(recorded),
                "opened": tally(sorted(opened)),
                "rungs": {str(rung): sum(1 for r in opened.values() if r == rung) for rung in (1, 2, 3)},
                "passed_after_opening": tally(sorted(passed & set(opened)), len(opened)),
                "passed_without": tally(sorted(passed & set(others)), len(others)),
            }
        )
    return found


def _attempts(history):
    """Attempts until full marks and the time it took, from every student's gradings (None: no history).

    An attempt is a submission whose content differs from the one graded before it; its time is nbgrader's
    submission timestamp (the grading's own time when it has none), its grade the latest grading of it.
    """
    if not history:
        return None
    students = [_student_attempts(student, gradings) for student, gradings in history.items()]
    reached = [s for s in students if s["until_full_marks"] is not None]
    until = Counter(s["until_full_marks"] for s in reached)
    return {
        "students": len(students),
        "full_marks": len(reached),
        "attempts_until_full_marks": {str(k): until[k] for k in sorted(until)},
        "seconds_to_full_marks": sorted(s["seconds_to_full_marks"] for s in reached),
        "per_student": students,
    }


def _student_attempts(student, gradings):
    attempts = []  # [moment of its first grading, latest grading]
    for grading in gradings:
        moment = grading.submitted_at or grading.graded_at
        if attempts and attempts[-1][1].content_hash == grading.content_hash:
            attempts[-1][1] = grading
        else:
            attempts.append([moment, grading])
    full = next((i for i, (_, g) in enumerate(attempts) if g.max_score > 0 and g.score >= g.max_score), None)
    seconds = None if full is None else (attempts[full][0] - attempts[0][0]).total_seconds()
    return {
        "student": student,
        "attempts": len(attempts),
        "until_full_marks": None if full is None else full + 1,
        "seconds_to_full_marks": seconds,
    }


def _cells(cells, verified, checks, tally):
    """Per grade cell, the students whose automatic score is below its points, most first."""
    found = []
    for cell in cells:
        failed = []
        for student, record in verified.items():
            raw = record.raw_scores.get(cell.key) if record.raw_scores else None
            result = checks[student].get(cell.grade_id)
            check = None if result is None else result.passed
            grade = CellGrade(cell.notebook, cell.grade_id, cell.points, raw, check, record.valid(cell.notebook))
            if (grade.automatic or 0.0) < cell.points:
                failed.append(student)
        found.append({"cell": cell.key, "notebook": cell.notebook, "grade_id": cell.grade_id, "points": cell.points})
        found[-1]["failed"] = tally(failed)
    order = {cell.key: i for i, cell in enumerate(cells)}
    return sorted(found, key=lambda cell: (-cell["failed"]["students"], order[cell["cell"]]))


def _teaching(pair, exercises):
    """A diagnosis to teach again: its hint ladder's first two rungs and where the course teaches the exercise."""
    cell = next(cell for cell in exercises if cell.grade_id == pair["exercise"])
    ladder = hints.ladder(cell.grade_id)[:2] if hints.available(cell.grade_id) else []
    taught = {"notebook": cell.notebook, "cell": cell.number, "section": cell.section}
    return pair | {"hints": ladder, "taught_in": taught}
