"""``backprop-kit demo``: the whole grading pipeline on sample submissions, in one command.

Builds a course (sqlite gradebook) in a working folder, releases it, writes
sample submissions (``autograder.samples``), grades them, writes feedback and
the CSV, and prints the tables and where everything is. Most samples need the
reference solutions of a checkout; an installed kit runs the demo on ``untouched``.
"""

import time

from autograder.course import samples
from autograder.course.build import build
from autograder.course.release import release
from autograder.gradebook import store
from autograder.grading import batch as grading
from autograder.reports import exporters, feedback
from autograder.reports import scores as report
from autograder.reports.tables import show

DEMO_SAMPLES = ("hostile", "reference", "untouched", "mistakes-1", "sloppy", "messy", "cheater")


def run_demo(folder, jobs=None, names=None):
    """Run the demo in ``folder`` on the samples ``names`` (default: DEMO_SAMPLES, or what can be made here)."""
    start = time.monotonic()
    names = names or [name for name in DEMO_SAMPLES if name in samples.sample_names()]
    course = build(folder)
    print(f"course built in {course.root}")
    release(course)
    made = samples.make(course, names)
    print(f"{len(made)} sample submissions: {', '.join(made)}")
    grading.grade(course, list(made), jobs, by="backprop-kit demo")
    folders = feedback.generate(course, list(made))
    scores = report.collect(course, list(made))
    csv_path = exporters.export(course, "generic")
    store.export_json(course)
    show(course, list(made), scores=scores)
    print(f"\nfeedback:  {course.root / 'feedback'}/<student>/backprop/ ({len(folders)} students)")
    example = "reference" if "reference" in folders else next(iter(folders))
    print(f"           e.g. {folders[example] / (course.notebooks()[0] + '.html')}")
    print(f"CSV:       {csv_path}")
    print(f"records:   {course.reports}/<student>.json (an export of the gradebook), logs in {course.reports}/logs/")
    print(f"demo finished in {time.monotonic() - start:.0f} s")
    return 0
