"""The grades as a TA reads them in a terminal: a table per student and per exercise, or JSON for scripts."""

import json
import sys

from autograder.course import names
from autograder.gradebook.record import hints_as_json
from autograder.reports.scores import collect, grade_cells
from backprop_lib.kit.exercises import EXERCISES


def show(course, students, as_json=False, scores=None):
    """The grades of ``students``: the per-student and per-exercise tables, or JSON for scripts."""
    cells = grade_cells(course)
    scores = scores if scores is not None else collect(course, students)
    if as_json:
        print(json.dumps([student_json(s, cells) for s in scores], indent=1))
    else:
        print("\n" + student_table(scores, cells))
        print("\n" + exercise_table(scores, cells))
    sys.stdout.flush()


def student_json(scores, cells):
    """One student's grade for scripts: the grade, the test score, the flag, every cell, the checks, the notes."""
    hints = {} if scores.hints is None else {"hints": hints_as_json(scores.record.hints if scores.record else None)}
    return {
        "student": scores.student,
        "grade": scores.total,
        "max_grade": sum(cell.points for cell in cells),
        "test_score": scores.test_total,
        "flagged": scores.flagged,
        "cells": {
            key: {"final": c.final, "test": c.raw, "check": c.check, "manual": c.manual}
            for key, c in scores.cells.items()
        },
        "checks": {name: r.status for name, r in scores.verified.items()},
        "graded_at": scores.graded_at and scores.graded_at.isoformat(),
        "submitted_at": scores.submitted_at and scores.submitted_at.isoformat(),
        "notes": scores.notes(),
        **hints,
    }


def student_table(scores, cells):
    """One row per student: the grade, the test score (nbgrader's tests in the student's kernel), checks passed,
    flag, when last graded and the time of the submission graded (hints opened, in a course that records them);
    then the notes."""
    maximum = sum(cell.points for cell in cells)
    showing_hints = any(s.hints is not None for s in scores)
    header = ("student", "grade", "tests", "checks", "flag", "graded", "submitted")
    if showing_hints:
        header += ("hints opened",)
    rows = [header]
    for s in scores:
        passed = sum(r.passed for r in s.verified.values())
        row = (
            s.student,
            f"{s.total:g}/{maximum:g}",
            f"{s.test_total:g}/{maximum:g}",
            f"{passed}/{len(s.verified)}" if s.verified else "not verified",
            "FLAGGED" if s.flagged else "",
            _second(s.graded_at),
            _second(s.submitted_at),
        )
        if showing_hints:
            row += (s.hints,)
        rows.append(row)
    lines = _columns([tuple(map(names.terminal, row)) for row in rows])
    notes = [(s.student, note) for s in scores for note in s.notes()]
    if notes:
        lines += ["", "Notes:"] + [f"  {names.terminal(student)}: {names.terminal(note)}" for student, note in notes]
    modes = sorted({s.record.verification.isolation for s in scores if s.record and s.record.verification})
    lines += [f"\nIntegrity verification: {mode}" for mode in modes]
    return "\n".join(lines)


def exercise_table(scores, cells):
    """One row per exercise: how many students passed its test cell (nbgrader's tests) and its verification."""
    own = {cell.grade_id: cell for cell in cells if cell.grade_id in EXERCISES}
    rows = [("exercise", "file", "tests", "verified")]
    for name, exercise in EXERCISES.items():
        cell = own.get(name)
        tested = [s.cells[cell.key].raw or 0.0 for s in scores if cell and cell.key in s.cells]
        nbgrader = sum(score >= cell.points for score in tested) if cell else None
        verified = [s.verified[name].passed for s in scores if name in s.verified]
        rows.append(
            (
                name,
                exercise.path,
                "-" if nbgrader is None else f"{nbgrader}/{len(scores)}",
                f"{sum(verified)}/{len(verified)}" if verified else "-",
            )
        )
    return "\n".join(_columns(rows))


def _second(moment):
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC" if moment else "-"


def _columns(rows):
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(f"{value:<{width}}" for value, width in zip(row, widths, strict=True)).rstrip() for row in rows]
