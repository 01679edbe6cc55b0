"""Grading speed: the kit's grade command against plain `nbgrader autograde`, on one course, in one run.

Builds a course in a scratch folder, makes 20 sample submissions of the full
assignment (reference, untouched and the catalog's mistake groups, repeated),
then measures, each ``--runs`` times (median printed):

- ``backprop-kit course grade``: intake, autograde one notebook at a time in
  confined kernels, integrity verification, records (``--jobs`` students at once);
- ``nbgrader autograde backprop --force``: the same course and configuration,
  every submission in one process, one after the other (nbgrader has no --jobs);
- the integrity verification alone (``backprop-kit course verify --jobs 1``),
  and its own cost per submission as recorded by ``autograder.verify``.

    python benchmarks/grading.py [--runs 1] [--jobs 2]

Whole-batch runs take minutes each, so the default is one run of each batch
command (the integrity step, seconds per batch, runs five times).
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(command, cwd, env):
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, command))} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="runs of each whole-batch command (default 1)")
    parser.add_argument("--jobs", type=int, default=2, help="students the kit grades at once (default 2)")
    parser.add_argument("--submissions", type=int, default=20, help="sample submissions graded (default 20)")
    args = parser.parse_args()
    count = args.submissions

    scratch = Path(tempfile.mkdtemp(prefix="backprop-bench-"))
    env = {key: value for key, value in os.environ.items() if key != "BACKPROP_KIT_SOLUTIONS"}
    env |= {"HOME": str(scratch / "home"), "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"}
    kit = [sys.executable, "-m", "backprop_lib.kit.cli"]
    try:
        course = scratch / "course"
        timed([*kit, "course", "build", course], scratch, env)
        timed([*kit, "course", "release", "-C", course], scratch, env)
        timed([*kit, "course", "samples", "-C", course], scratch, env)
        made = sorted(path.name for path in (course / "submitted").iterdir())
        kinds = [name for name in made if name in ("reference", "untouched") or name.startswith("mistakes")][:count]
        for name in made:
            if name not in kinds:
                shutil.rmtree(course / "submitted" / name)
        for k in range(count - len(kinds)):
            source = course / "submitted" / kinds[k % len(kinds)]
            shutil.copytree(source, course / "submitted" / f"{source.name}-copy{k}")

        kit_times, nbgrader_times, verify_times = [], [], []
        for _ in range(args.runs):
            kit_times.append(timed([*kit, "course", "grade", "-C", course, "--jobs", str(args.jobs)], course, env))
            nbgrader = [Path(sys.executable).parent / "nbgrader", "autograde", "backprop", "--force"]
            nbgrader_times.append(timed(nbgrader, course, env))
        for _ in range(5):
            verify_times.append(timed([*kit, "course", "verify", "-C", course, "--jobs", "1"], course, env))
        from autograder import store
        from autograder.course import open_course

        own = [r.verification.seconds for r in store.load_all(open_course(course)).values() if r.verification]

        kit_each = statistics.median(kit_times) / count
        nbgrader_each = statistics.median(nbgrader_times) / count
        print(f"grading {count} submissions of the full assignment (7 notebooks), {os.cpu_count()} cores")
        print(
            f"  backprop-kit course grade --jobs {args.jobs}: {kit_each:6.2f} s per submission "
            f"(median of {args.runs} run(s); includes the integrity step)"
        )
        print(
            f"  nbgrader autograde (sequential):     {nbgrader_each:6.2f} s per submission "
            f"(median of {args.runs} run(s))"
        )
        print(f"  ratio kit / nbgrader:                {kit_each / nbgrader_each:6.2f}")
        print(
            f"  integrity step, whole command:       {statistics.median(verify_times) / count:6.2f} s per "
            f"submission (median of {len(verify_times)} runs, --jobs 1)"
        )
        print(
            f"  integrity step, own cost:            {statistics.median(own):6.2f} s per submission "
            f"(median over {len(own)} submissions; target <= 0.5 s)"
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
