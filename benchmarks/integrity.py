"""The integrity verification's own cost per submission: one box per student, every exercise, secret cases.

Builds a course in a scratch folder, gives ``--students`` students the reference
library (as the intake leaves it), and verifies each of them ``--runs`` times
in this process (``autograder.verify.verify``: the box, the runner, the judging).
Prints the median wall-clock and CPU seconds (this process and its children:
bwrap, the runner) per submission.

    python benchmarks/integrity.py [--students 10] [--runs 3]
"""

import argparse
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from autograder import verify
from autograder.course import build
from backprop_lib import EXERCISE_MODULES, SOLUTIONS_DIR


def cpu_seconds():
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


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
            f"integrity verification per submission: wall {statistics.median(walls):.3f} s, "
            f"CPU {statistics.median(cpus):.3f} s (median of {len(walls)}: {args.students} students x {args.runs} runs)"
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
