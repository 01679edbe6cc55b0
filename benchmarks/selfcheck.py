"""The student's whole self-check table, as a student runs it: `backprop-kit check`.

Times the command end to end (a fresh process: Python start-up, imports, every
exercise's checks) in student mode on the untouched stubs and on the reference
solutions. Prints the median of several runs; the target is under 2 s.

    python benchmarks/selfcheck.py
"""

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RUNS = 5


def seconds(env):
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "backprop_lib.kit.cli", "check"], cwd=REPO, env=env, capture_output=True)
    return time.perf_counter() - start


def main():
    student = {k: v for k, v in os.environ.items() if k != "BACKPROP_KIT_SOLUTIONS"}
    for label, env in [
        ("untouched stubs", student),
        ("reference solutions", student | {"BACKPROP_KIT_SOLUTIONS": "1"}),
    ]:
        times = [seconds(env) for _ in range(RUNS)]
        print(f"backprop-kit check, all exercises, {label:<19}: {statistics.median(times):.2f} s median of {RUNS}")
    print("target: under 2 s")


if __name__ == "__main__":
    main()
