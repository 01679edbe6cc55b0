"""Grading on Dask against grading locally: the same batch on the same machine, in wall-clock seconds.

Starts a PostgreSQL server and a Dask cluster on loopback (a scheduler and
``--workers`` one-thread worker processes, each in its own scratch folder),
builds a course on that gradebook with ``--submissions`` sample submissions
(reference, untouched, the mistake groups), then times

- ``backprop-kit course grade --force --jobs W`` (W = the number of workers), and
- ``backprop-kit course grade --force --scheduler tcp://...``,

``--runs`` times each, alternating (median printed), the first Dask run on
fresh workers. The overhead is the distributed run's wall time over the local
one, minus 1: shipping the course and the submissions, unpacking the course
once per worker, a grading child per task, results back as bytes.

    python benchmarks/distributed.py [--submissions 6] [--workers 2] [--runs 1]
"""

import argparse
import importlib.util
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent
# This file's folder comes first on sys.path, where its name would hide the `distributed` package.
sys.path = [path for path in sys.path if Path(path or ".").resolve() != BENCHMARKS]
sys.path.insert(0, str(BENCHMARKS.parent / "tests"))
_spec = importlib.util.spec_from_file_location("grading_benchmark", BENCHMARKS / "grading.py")
grading_benchmark = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(grading_benchmark)
make_submissions, measured = grading_benchmark.make_submissions, grading_benchmark.measured

from dask_cluster import running_cluster  # noqa: E402
from postgres_server import running_postgres  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=6, help="sample submissions graded (default 6)")
    parser.add_argument("--workers", type=int, default=2, help="Dask workers, and local --jobs (default 2)")
    parser.add_argument("--runs", type=int, default=1, help="runs of each (default 1)")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="backprop-bench-dask-"))
    env = {key: value for key, value in os.environ.items() if key != "BACKPROP_KIT_SOLUTIONS"}
    env |= {"HOME": str(scratch / "home"), "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"}
    kit = [sys.executable, "-m", "backprop_lib.kit.cli"]
    course = scratch / "course"
    try:
        with running_postgres() as url, running_cluster(args.workers, env) as (address, _):
            measured([*kit, "course", "build", course, "--db", url], scratch, env)
            measured([*kit, "course", "release", "-C", course], scratch, env)
            make_submissions(course, args.submissions, kit, env)
            grade = [*kit, "course", "grade", "-C", course, "--force"]
            local, cluster = [], []
            for _ in range(args.runs):
                local.append(measured([*grade, "--jobs", str(args.workers)], course, env))
                cluster.append(measured([*grade, "--scheduler", address], course, env))
        wall_local = statistics.median(w for w, _ in local)
        wall_cluster = statistics.median(w for w, _ in cluster)
        count = args.submissions
        print(f"grading {count} submissions, {os.cpu_count()} cores, {args.workers} workers / jobs, PostgreSQL")
        print(f"  local --jobs {args.workers}:        {wall_local:7.1f} s wall ({wall_local / count:.2f} s each)")
        print(f"  Dask, {args.workers} workers:        {wall_cluster:7.1f} s wall ({wall_cluster / count:.2f} s each)")
        print(f"  overhead of Dask:        {wall_cluster / wall_local - 1:+7.1%} (target <= +15%)")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
