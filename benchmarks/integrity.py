"""The integrity verification's own cost per submission: one box per student, every exercise, secret cases.

Builds a course in a scratch folder, gives ``--students`` students the reference
library (as the intake leaves it), and verifies each of them ``--runs`` times
in this process (``autograder.sandbox.verify.verify``: the box, the runner, the judging).
Prints the median wall-clock seconds per submission, the grader's own CPU
seconds (drawing, writing and judging), and the load average (the wall clock
counts whatever else the machine runs; the box's processes live in a process
namespace whose CPU time ``getrusage`` does not report to the grader).

    python benchmarks/integrity.py [--students 10] [--runs 3]
"""

import argparse
import os
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from autograder.course.build import build
from autograder.sandbox import verify
from backprop_lib import EXERCISE_MODULES, SOLUTIONS_DIR


def cpu_seconds():
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="backprop-integrity-"))
    try:
        course = build(scratch / "course")
        students = [f"student-{i}" for i in range(args.students)]
        for student in students:
            library = course.folder("intake", student) / "backprop_lib"
            library.mkdir(parents=True)
            for module in EXERCISE_MODULES:
                shutil.copyfile(SOLUTIONS_DIR / f"{module}.py", library / f"{module}.py")
        isolation = verify.Isolation.detect()
        walls, cpus = [], []
        for _ in range(args.runs):
            secret = verify.SecretCases.draw()
            for student in students:
                wall, cpu = time.perf_counter(), cpu_seconds()
                result = verify.verify(course, student, secret, isolation)
                walls.append(time.perf_counter() - wall)
                cpus.append(cpu_seconds() - cpu)
                assert all(r.passed for r in result.results), [r.report() for r in result.results if not r.passed]
        print(f"isolation: {isolation.describe()}")
        print(
            f"integrity verification per submission: wall {statistics.median(walls):.3f} s, grader's CPU "
            f"{statistics.median(cpus):.3f} s (median of {len(walls)}: {args.students} students x {args.runs} runs; "
            f"load average {os.getloadavg()[0]:.1f})"
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
