"""The student's whole self-check table, as a student runs it: `backprop-kit check`.

Times the command end to end (a fresh process: Python start-up, imports, every
exercise's checks) in student mode on the untouched stubs and on the reference
solutions. Prints the median of several runs, wall time and CPU time (user + system of
the command's processes, which does not grow when other work shares the cores);
the target is under 1 s.

    python benchmarks/selfcheck.py
"""

import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RUNS = 5


def seconds(env):
    """(wall, cpu) seconds of one `backprop-kit check` in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "backprop_lib.kit.cli", "check"], cwd=REPO, env=env, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main():
    student = {k: v for k, v in os.environ.items() if k != "BACKPROP_KIT_SOLUTIONS"}
    for label, env in [
        ("untouched stubs", student),
        ("reference solutions", student | {"BACKPROP_KIT_SOLUTIONS": "1"}),
    ]:
        walls, cpus = zip(*(seconds(env) for _ in range(RUNS)), strict=True)
        print(
            f"backprop-kit check, all exercises, {label:<19}: {statistics.median(walls):.2f} s wall, "
            f"{statistics.median(cpus):.2f} s CPU (medians of {RUNS})"
        )
    print("target: under 1 s")


if __name__ == "__main__":
    main()
