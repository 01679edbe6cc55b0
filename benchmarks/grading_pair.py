"""Grading CPU of this checkout against another one (an older commit), in alternating rounds on the same samples.

Each checkout builds, releases and fills a course of its own (``grading.make_submissions``: the reference,
untouched, mistakes-1 and mistakes-2 samples, as that checkout makes them), then the two run ``course grade
--force --jobs 1`` in turn, the order swapped every round, so that a slower spell of the machine slows both alike.
CPU seconds are those of the whole process tree, boxes included (``grading.measured``: this process is a child
subreaper). Printed: every run, the medians, the ratio of this checkout's median CPU to the other's, and each
course's report.

    git worktree add /tmp/before <commit> && python3 -m venv /tmp/before/.venv \
        && /tmp/before/.venv/bin/pip install -e /tmp/before
    python benchmarks/grading_pair.py /tmp/before [--rounds 7]
"""

import argparse
import ctypes
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from grading import PR_SET_CHILD_SUBREAPER, make_submissions, measured

SUBMISSIONS = 4
HERE = Path(__file__).resolve().parent.parent


def prepared(root, scratch, label):
    """(grade command, course, env) of a course built and filled by the checkout at ``root``."""
    python = root / ".venv" / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("BACKPROP_KIT_SOLUTIONS", "PYTHONPATH", "VIRTUAL_ENV")}
    env |= {"HOME": str(scratch / f"home-{label}"), "PATH": f"{python.parent}{os.pathsep}{env['PATH']}"}
    kit = [str(python), "-m", "backprop_lib.kit.cli"]
    course = scratch / f"course-{label}"
    measured([*kit, "course", "build", course], root, env)
    measured([*kit, "course", "release", "-C", course], root, env)
    make_submissions(course, SUBMISSIONS, kit, env)
    return [*kit, "course", "grade", "-C", course, "--force", "--jobs", "1"], course, env


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("other", type=Path, help="the other checkout, with its own .venv")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    scratch = Path(tempfile.mkdtemp(prefix="backprop-pair-"))
    try:
        runs = {"this": prepared(HERE, scratch, "this"), "other": prepared(args.other.resolve(), scratch, "other")}
        cpu = {label: [] for label in runs}
        for round_ in range(args.rounds):
            for label in list(runs) if round_ % 2 == 0 else list(reversed(runs)):
                command, course, env = runs[label]
                wall, used = measured(command, course, env)
                cpu[label].append(used)
                load = os.getloadavg()[0]
                print(f"round {round_ + 1} {label}: wall {wall:.2f} s, CPU {used:.2f} s, load {load:.2f}", flush=True)
        for label, used in cpu.items():
            print(f"{label}: median CPU {statistics.median(used) / SUBMISSIONS:.2f} s per submission")
        print(f"this / other, CPU: {statistics.median(cpu['this']) / statistics.median(cpu['other']):.3f}")
        for label, (command, course, env) in runs.items():
            report = [*command[:3], "course", "report", "-C", course]
            done = subprocess.run(report, capture_output=True, text=True, env=env)
            print(f"\n{label}'s report:\n{done.stdout}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
