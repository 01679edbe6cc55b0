"""``course insights`` on a large class: a gradebook of generated records, then the page and the JSON, timed.

Builds and releases the full course in a scratch folder, then writes ``--students`` students straight into
the kit's tables (the rows ``autograder.gradebook.store.save`` writes, made by this script instead of by
grading: 40% honest, 5% untouched, the rest with one to three mistakes of the catalog; hint records for a
third of the class; one to four attempts each). Times, median of ``--runs``:

- ``collect`` and ``render`` in this process (what a service pays per refresh of the page);
- the whole ``backprop-kit course insights`` command, page and ``--json`` (what a lecturer waits for: Python's
  start, the imports, reading the course's configuration and the gradebook, the figures).

Wall and CPU seconds are printed, with the load average: on a shared machine the wall clock counts the others'
work too; the CPU seconds are what the insights cost.

    python benchmarks/insights.py [--students 1000] [--runs 3]
"""

import argparse
import os
import random
import resource
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
from autograder.reports import insights, insights_page
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
    """(median wall seconds, median CPU seconds of this process and its finished children, the last result)."""
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), cpu_seconds()
        result = function()
        walls.append(time.perf_counter() - wall)
        cpus.append(cpu_seconds() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


def cpu_seconds():
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


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
        collect = timed(lambda: insights.collect(course), args.runs)
        found = collect[2]
        render = timed(lambda: insights_page.render(found), args.runs)
        assert found["students"] == args.students
        relu = next(item for item in found["exercises"] if item["exercise"] == "relu_backward")
        assert relu["failed"]["students"] == sum("relu_backward" in failed for failed in truth.values())
        env = {key: value for key, value in os.environ.items() if key != "BACKPROP_KIT_SOLUTIONS"}
        command = [sys.executable, "-m", "backprop_lib.kit.cli", "course", "insights", "-C", str(course.root), "-q"]

        def run(*extra):
            return subprocess.run([*command, *extra], env=env, check=True, capture_output=True)

        commands = {"the page": timed(run, args.runs), "--json": timed(lambda: run("--json"), args.runs)}
        failures = sum(len(failed) for failed in truth.values())
        print(f"{args.students} students, {failures} failed exercises, a page of {len(render[2])} bytes")
        print(f"medians of {args.runs} runs, wall / CPU seconds; load average {os.getloadavg()[0]:.1f} (shared)")
        print(f"  in process: collect {collect[0]:.2f} / {collect[1]:.2f}, render {render[0]:.2f} / {render[1]:.2f}")
        for label, (wall, cpu, _) in commands.items():
            print(f"  backprop-kit course insights, {label}: {wall:.2f} / {cpu:.2f}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
