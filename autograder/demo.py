"""``backprop-kit demo``: the whole grading pipeline on sample submissions, in one command.

Builds a course (sqlite gradebook) in a working folder, releases it, writes
sample submissions (``autograder.course.samples``), grades them, writes feedback and
the CSV, and prints the kit's progress, the per-student table and where everything
is (nbgrader's own log goes to ``reports/logs/``).
"""

import time

from autograder.course import samples
from autograder.course.build import build
from autograder.course.release import release
from autograder.gradebook import store
from autograder.grading import batch as grading
from autograder.reports import exporters, feedback
from autograder.reports import scores as report
from autograder.reports.tables import student_table

DEMO_SAMPLES = ("hostile", "reference", "untouched", "mistakes-1", "sloppy", "messy", "cheater")


def run_demo(folder, jobs=None, names=None):
    """Run the demo in ``folder`` on the samples ``names`` (default: DEMO_SAMPLES)."""
    start = time.monotonic()
    course = build(folder)
    release(course)
    print(f"course built and released in {course.root}", flush=True)
    made = samples.make(course, names or DEMO_SAMPLES)
    print(f"{len(made)} sample submissions: {', '.join(made)}", flush=True)
    grading.grade(course, list(made), jobs, by="backprop-kit demo")
    folders = feedback.generate(course, list(made))
    scores = report.collect(course, list(made))
    csv_path = exporters.export(course, "generic")
    store.export_json(course)
    print("\n" + student_table(scores, report.grade_cells(course)))
    print(f"\nper exercise: backprop-kit course report -C {course.root}")
    print(f"feedback:  {course.root / 'feedback'}/<student>/backprop/ ({len(folders)} students)")
    example = "reference" if "reference" in folders else next(iter(folders))
    print(f"           e.g. {folders[example] / (course.notebooks()[0] + '.html')}")
    print(f"CSV:       {csv_path}")
    print(f"records:   {course.reports}/<student>.json (an export of the gradebook); logs: {course.reports}/logs/")
    print(f"demo finished in {time.monotonic() - start:.0f} s")
    return 0
