"""``course insights`` on a large class: a gradebook of generated records, then the page and the JSON, timed.

Builds and releases the full course in a scratch folder, then writes ``--students`` students straight into
the kit's tables (the rows ``autograder.gradebook.store.save`` writes, made by this script instead of by
grading: 40% honest, 5% untouched, the rest with one to three mistakes of the catalog; hint records for a
third of the class; one to four attempts each). Times, median of ``--runs``:

- ``collect`` and ``render`` in this process (what a service pays per refresh of the page);
- the whole ``backprop-kit course insights`` command, page and ``--json`` (what a lecturer waits for: Python's
  start, the imports, reading the course's configuration and the gradebook, the figures).

The load average is printed beside the figures: the machine is shared.

    python benchmarks/insights.py [--students 1000] [--runs 3]
"""

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa

from autograder.course import samples
from autograder.course.build import build
from autograder.course.release import release
from autograder.gradebook import schema
from autograder.gradebook.migration import migrate
from autograder.reports import insights
from autograder.reports.scores import grade_cells
from backprop_lib.kit.exercises import EXERCISES, STUDENT_EXERCISES
from backprop_lib.kit.hints import available
from backprop_lib.kit.results import NOT_IMPLEMENTED, PASSED

START = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def make_class(course, size, seed=0):
    """Write ``size`` students' records into the course's gradebook; returns {student: failed exercises}."""
    rng = random.Random(seed)
    cells = grade_cells(course)
    rows = {table: [] for table in (*schema.PER_STUDENT, schema.attempt_table)}
    truth = {}
    for number in range(size):
        student, draw = f"student-{number:04d}", rng.random()
        mistakes = (
            [] if draw < 0.4 else rng.sample(samples.catalog().MISTAKES, rng.randint(1, 3)) if draw >= 0.45 else None
        )
        failed = {m.exercise: m for m in mistakes or []}
        truth[student] = failed
        _student_rows(rows, course.assignment, student, cells, failed, mistakes is None, rng, number)
    engine = sa.create_engine(course.db_url)
    with engine.begin() as connection:
        for table, found in rows.items():
            connection.execute(table.insert(), found)
    engine.dispose()
    return truth


def _student_rows(rows, assignment, student, cells, failed, untouched, rng, number):
    key = {"assignment": assignment, "student": student}
    graded = START + timedelta(minutes=number)
    hints = {name: {"rung": rng.randint(1, 3), "first_opened": None} for name in failed if available(name)}
    rows[schema.submission_table].append(
        key
        | {
            "notes": [],
            "notebooks": [],
            "verified": True,
            "isolation": "generated",
            "verification_seconds": 0.2,
            "content_hash": f"{number:064x}",
            "course_fingerprint": "generated",
            "kit_version": "generated",
            "graded_at": graded,
            "hints": hints if rng.random() < 0.33 else {},
        }
    )
    for position, (name, exercise) in enumerate(EXERCISES.items()):
        mistake = failed.get(name)
        status = NOT_IMPLEMENTED if untouched and name in STUDENT_EXERCISES else "failed" if mistake else PASSED
        row = {"exercise": name, "path": exercise.path, "status": status, "position": position, "details": []}
        text = {"summary": "", "hint": mistake.diagnosis, "diagnosis": mistake.kind} if mistake else {"summary": ""}
        excerpt = mistake.source.splitlines()[-1].strip() if mistake else None
        rows[schema.check_table].append(key | {"hint": None, "diagnosis": None} | row | text | {"excerpt": excerpt})
    for cell in cells:
        score = 0.0 if untouched or cell.grade_id in failed else cell.points
        row = {"notebook": cell.notebook, "grade_id": cell.grade_id, "raw_score": score, "automatic_score": score}
        rows[schema.cell_table].append(key | row)
    maximum = sum(cell.points for cell in cells)
    for attempt in range(rng.randint(1, 4)):
        last = attempt == 3 or rng.random() < 0.4
        score = maximum if last and not failed and not untouched else maximum * rng.random()
        moment = graded + timedelta(hours=attempt)
        attempted = {"graded_at": moment, "submitted_at": moment, "content_hash": f"{number}-{attempt}"}
        rows[schema.attempt_table].append(key | attempted | {"score": score, "max_score": maximum})
        if last:
            break


def timed(function, runs):
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        result = function()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="backprop-insights-"))
    try:
        course = build(scratch / "course")
        release(course)
        migrate(course)
        truth = make_class(course, args.students)
        collect, found = timed(lambda: insights.collect(course), args.runs)
        render, page = timed(lambda: insights.render(found), args.runs)
        assert found["students"] == args.students
        relu = next(item for item in found["exercises"] if item["exercise"] == "relu_backward")
        assert relu["failed"]["students"] == sum("relu_backward" in failed for failed in truth.values())
        env = {key: value for key, value in os.environ.items() if key != "BACKPROP_KIT_SOLUTIONS"}
        command = [sys.executable, "-m", "backprop_lib.kit.cli", "course", "insights", "-C", str(course.root), "-q"]

        def run(*extra):
            return subprocess.run([*command, *extra], env=env, check=True, capture_output=True)

        page_command, _ = timed(run, args.runs)
        json_command, _ = timed(lambda: run("--json"), args.runs)
        load = os.getloadavg()[0]
        print(
            f"{args.students} students, {sum(len(t) for t in truth.values())} failed exercises, page {len(page)} bytes"
        )
        print(f"in process: collect {collect:.2f} s, render {render:.2f} s (medians of {args.runs})")
        print(f"backprop-kit course insights: page {page_command:.2f} s, --json {json_command:.2f} s, wall")
        print(f"load average {load:.1f} (the machine is shared)")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
