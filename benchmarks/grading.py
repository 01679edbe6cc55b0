"""Grading cost: the kit's grade command against plain `nbgrader autograde`, wall and CPU, with a breakdown.

Builds a course in a scratch folder, makes ``--submissions`` sample submissions
of the full assignment (reference, untouched, then the catalog's mistake groups in
order: mistakes-1, mistakes-2, ...; repeated if needed), then measures in one
run, each batch ``--runs`` times, in rounds (every batch once per round; medians):

- ``backprop-kit course grade --force`` with ``--jobs 1`` and ``--jobs 2`` (warm
  kernels, the course's default), ``--jobs 1`` with cold kernels (each in a box of
  its own, ``c.ConfinedKernelManager.warm = False``), and ``--jobs 1`` cold with
  illustration skipping off (what grading cost before both);
- ``nbgrader autograde backprop --force`` on the same course and configuration
  with illustration skipping and warm kernels off: every submission in one
  process, one after the other (nbgrader's own way; it has no --jobs);
- an unchanged re-grade (``course grade`` without --force: every student skipped)
  and the in-process cost of deciding that a student is up to date;
- the integrity step (``course verify --jobs 1``, three runs) and its own cost
  per submission as recorded by ``autograder.sandbox.verify``;
- where one submission's time goes (the reference solution, graded alone: cold
  kernels with and without skipping, warm kernels with skipping): kernel start, the first cell (imports), graded,
  illustration and other cells, kernel shutdown, nbgrader's own steps per
  notebook (from timestamps written by ``grading_timing.py``), and intake,
  notebooks, verification and record (the ``timing:`` line of the worker's log).

CPU seconds are those of the whole process tree (``getrusage(RUSAGE_CHILDREN)``
deltas: grader, forked workers, nbgrader children, kernels, sandboxes). The
benchmark is a child subreaper (``PR_SET_CHILD_SUBREAPER``) and reaps what is
orphaned under it: bubblewrap's outer process exits without reaping the box's
init, so without it every boxed process (kernels, kernel servers, sandboxes)
would be missing from the figures, as it was from the figures measured before
this (docs/autograder.md).

    python benchmarks/grading.py [--submissions 4] [--runs 5]
"""

import argparse
import ctypes
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent
SKIP_OFF = "c.SkipIllustrations.enabled = False\n"
COLD = "c.ConfinedKernelManager.warm = False\n"
PR_SET_CHILD_SUBREAPER = 36
TIMING_ON = f"import sys\nsys.path.insert(0, {str(BENCHMARKS)!r})\n__import__('grading_timing').configure(c)\n"


def measured(command, cwd, env):
    """(wall seconds, CPU seconds of the process tree) of one command, which must succeed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    reap_orphans()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, command))} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def reap_orphans(settle=0.5):
    """Reap the processes orphaned under this subreaper (boxes' inits), so their CPU joins RUSAGE_CHILDREN."""
    deadline = time.monotonic() + settle
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0 and time.monotonic() > deadline:
            return
        if pid == 0:
            time.sleep(0.05)


class ConfigEdit:
    """Lines appended to the course's nbgrader_config.py for one measurement, removed afterwards."""

    def __init__(self, course, text):
        self.path, self.text = course / "nbgrader_config.py", text

    def __enter__(self):
        self.original = self.path.read_text()
        self.path.write_text(self.original + self.text)

    def __exit__(self, *exc):
        self.path.write_text(self.original)


def make_submissions(course, count, kit, env):
    measured([*kit, "course", "samples", "-C", course], course, env)
    from autograder.course.samples import sample_names

    made = sorted(path.name for path in (course / "submitted").iterdir())
    kinds = [name for name in sample_names() if name == "reference" or name == "untouched" or "mistakes" in name]
    kinds = kinds[:count]  # reference, untouched, mistakes-1, mistakes-2, ...: in the samples' own order
    for name in made:
        if name not in kinds:
            shutil.rmtree(course / "submitted" / name)
    for k in range(count - len(kinds)):
        source = course / "submitted" / kinds[k % len(kinds)]
        shutil.copytree(source, course / "submitted" / f"{source.name}-copy{k}")


def breakdown(course, kit, env, skipping, warm):
    """{part: seconds} for the reference submission graded alone, from the timing events and the worker's log."""
    log = course / "timing.jsonl"
    log.unlink(missing_ok=True)
    extra = TIMING_ON + ("" if skipping else SKIP_OFF) + ("" if warm else COLD)
    with ConfigEdit(course, extra):
        grade = [*kit, "course", "grade", "-C", course, "--student", "reference", "--jobs", "1", "--force"]
        wall, cpu = measured(grade, course, {**env, "BACKPROP_TIMING_LOG": str(log)})
    events = defaultdict(list)
    for line in log.read_text().splitlines():
        event = json.loads(line)
        events[event["notebook"]].append(event)
    parts = defaultdict(float)
    from autograder.course import open_course
    from autograder.gradebook import store

    record = store.load(open_course(course), "reference")
    executed = 0.0
    for run in events.values():
        at = {e["event"]: e["t"] for e in run}
        starts = [e for e in run if e["event"] == "cell_start"]
        ends = {e["index"]: e["t"] for e in run if e["event"] == "cell_end"}
        parts["kernel start"] += at["kernel_ready"] - at["execute"]
        parts["kernel shutdown"] += at["kernel_gone"] - max(ends.values())
        executed += at["kernel_gone"] - at["execute"]
        for number, cell in enumerate(starts):
            if not cell["skipped"]:
                kind = "first cell (imports)" if number == 0 else f"{cell['kind']} cells"
                parts[kind] += ends[cell["index"]] - cell["t"]
    parts["nbgrader's own steps"] = sum(o.seconds for o in record.notebooks) - executed
    timing = (course / "reports" / "logs" / "reference" / "worker.log").read_text()
    server = re.search(r"forkserver: ready in ([\d.]+) s of CPU", timing)
    cpu_parts = {"kernel server start-up (CPU)": float(server[1]) if server else 0.0}
    for child in ("kernel", "verification"):
        found = re.findall(rf"forkserver: {child} \d+ ended .*?, ([\d.]+) s of CPU", timing)
        cpu_parts[f"{child}s forked (CPU)"] = sum(float(cpu) for cpu in found)
    steps = dict(re.findall(r"(\w+) ([\d.]+) s", timing.split("timing:")[-1]))
    for step in ("intake", "verification", "record"):
        parts[step] = float(steps[step])
    parts["grader start-up and rest"] = wall - sum(parts.values())
    return parts, wall, cpu, cpu_parts


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs",
        type=int,
        default=5,
        help="rounds of the whole-batch commands, each once per round; medians (default 5: a virtual machine's CPU "
        "speed drifts by 10 to 15%% between rounds)",
    )
    parser.add_argument("--submissions", type=int, default=4, help="sample submissions graded (default 4)")
    args = parser.parse_args()
    count = args.submissions
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    sys.path.insert(0, str(BENCHMARKS.parent))

    scratch = Path(tempfile.mkdtemp(prefix="backprop-bench-"))
    env = {key: value for key, value in os.environ.items() if key != "BACKPROP_KIT_SOLUTIONS"}
    env |= {"HOME": str(scratch / "home"), "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"}
    kit = [sys.executable, "-m", "backprop_lib.kit.cli"]
    course = scratch / "course"
    try:
        measured([*kit, "course", "build", course], scratch, env)
        measured([*kit, "course", "release", "-C", course], scratch, env)
        make_submissions(course, count, kit, env)

        columns = {
            "cold, every cell": breakdown(course, kit, env, skipping=False, warm=False),
            "cold, skipping": breakdown(course, kit, env, skipping=True, warm=False),
            "warm, skipping": breakdown(course, kit, env, skipping=True, warm=True),
        }

        grade = [*kit, "course", "grade", "-C", course, "--force", "--jobs"]
        nbgrader = [Path(sys.executable).parent / "nbgrader", "autograde", "backprop", "--force"]
        batches = {
            "kit --jobs 1, cold, no skipping": ([*grade, "1"], SKIP_OFF + COLD),
            "kit --jobs 1, cold": ([*grade, "1"], COLD),
            "kit --jobs 1 (warm)": ([*grade, "1"], ""),
            "kit --jobs 2 (warm)": ([*grade, "2"], ""),
            "kit, unchanged re-grade": ([*kit, "course", "grade", "-C", course], ""),
            "nbgrader autograde": (nbgrader, SKIP_OFF + COLD),
        }
        runs = defaultdict(list)
        for _ in range(args.runs):  # in rounds, so that a slower spell of the machine slows every batch alike
            for name, (command, config) in batches.items():
                with ConfigEdit(course, config):
                    runs[name].append(measured(command, course, env))
        figures = {
            name: (statistics.median(w for w, _ in done) / count, statistics.median(c for _, c in done) / count)
            for name, done in runs.items()
        }
        verify_runs = [measured([*kit, "course", "verify", "-C", course, "--jobs", "1"], course, env) for _ in range(3)]

        from autograder.course import open_course
        from autograder.gradebook import store
        from autograder.grading import batch as grading
        from autograder.grading.fingerprint import course_fingerprint

        opened = open_course(course)
        students = grading.submitted_students(opened)
        start = time.perf_counter()
        fingerprint = course_fingerprint(opened)
        fresh = [grading.up_to_date(opened, student, fingerprint) for student in students]
        check_each = (time.perf_counter() - start) / len(students)
        own = [r.verification.seconds for r in store.load_all(opened).values() if r.verification]

        plain_cpu = figures["nbgrader autograde"][1]
        cores, rounds = os.cpu_count(), args.runs
        print(f"grading {count} submissions of the full assignment (7 notebooks), {cores} cores, {rounds} round(s)")
        print(f"  {'per submission':40} {'wall s':>8} {'CPU s':>8} {'CPU / nbgrader':>15}")
        for name, (wall, cpu) in figures.items():
            print(f"  {name:40} {wall:8.2f} {cpu:8.2f} {cpu / plain_cpu:15.2f}")
        print(
            f"  integrity step, whole command --jobs 1:  {statistics.median(w for w, _ in verify_runs) / count:6.2f} s "
            f"per submission (median of 3 runs); its own cost {statistics.median(own):.3f} s (median over {len(own)})"
        )
        print(
            f"  up-to-date check in-process:             {check_each * 1000:6.1f} ms per submission "
            f"(course fingerprint included; {sum(fresh)}/{len(fresh)} up to date)"
        )
        print("\nwhere the reference submission's time goes, graded alone (--jobs 1), seconds of wall clock:")
        print(f"  {'':30}" + "".join(f" {name:>17}" for name in columns))
        names = list(dict.fromkeys(part for parts, *_ in columns.values() for part in parts))
        for part in names:
            print(f"  {part:30}" + "".join(f" {parts.get(part, 0.0):17.2f}" for parts, *_ in columns.values()))
        print(f"  {'whole command':30}" + "".join(f" {wall:17.2f}" for _, wall, _, _ in columns.values()))
        print(f"  {'CPU of the process tree':30}" + "".join(f" {cpu:17.2f}" for _, _, cpu, _ in columns.values()))
        for part in ("kernel server start-up (CPU)", "kernels forked (CPU)", "verifications forked (CPU)"):
            print(f"  {part:30}" + "".join(f" {more[part]:17.2f}" for *_, more in columns.values()))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
