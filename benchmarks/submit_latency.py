"""Grading on submission: the time from `nbgrader submit` to the student's feedback released, through the real
exchange, with real students (Unix users made for the run, removed after it; run as root).

Builds the full course (7 notebooks, the production cell timeout) in a scratch folder, with an exchange, and
`c.BackpropCourse.gradings_per_hour = None` (the rate limit is not what is measured). Then:

- single submissions: `backprop-kit course serve --jobs J` running and idle, a student submits one sample
  (`--samples`, each `--runs` times, one at a time); the latency is from the moment the submission is handed to
  nbgrader's `ExchangeSubmit` (the student's process has imported nbgrader, as the assignment list in a
  JupyterLab has) to the moment every notebook's feedback page of that submission is in the exchange, where
  `nbgrader fetch_feedback` finds it (polled every 0.05 s). One grading first warms the service up;
- a deadline burst: `--submissions` submissions by `--students` students at random moments within `--window`
  seconds (seeded; samples from the catalog), served by a fresh service. A submission replaced while it waited
  gets no feedback of its own; every student's newest gets it. Printed: the time from the first submission to the
  last feedback released, the gradings the service made, the p50 and p95 latency of the submissions that got
  feedback, and the service's CPU (its whole process tree). The yardstick is the batch's CPU for the same work:
  `course grade --force --jobs J` then `course feedback` of the students' newest submissions (CPU seconds per
  submission), times the gradings the service made, divided by the cores; the target is a makespan within 1.2x
  of it.

    python benchmarks/submit_latency.py [--runs 3] [--samples reference cheater hostile] [--students 20]
        [--submissions 60] [--window 60] [--jobs 2xcores]
"""

import argparse
import ctypes
import importlib.util
import os
import random
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCHMARKS.parent / "tests"))
_spec = importlib.util.spec_from_file_location("grading_benchmark", BENCHMARKS / "grading.py")
grading_benchmark = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(grading_benchmark)

from exchange_users import Students, open_exchange, why_not  # noqa: E402
from nbgrader.utils import notebook_hash  # noqa: E402

from autograder.course import open_course, samples  # noqa: E402
from autograder.course.build import build  # noqa: E402
from autograder.course.release import release  # noqa: E402
from autograder.service.queue import GRADED, GRADING, WAITING, Queue  # noqa: E402

PR_SET_CHILD_SUBREAPER = 36
BURST_SAMPLES = ["reference", "mistakes-1", "mistakes-2", "mistakes-3", "mistakes-4", "untouched"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="single submissions per sample (0: the burst alone)")
    parser.add_argument("--samples", nargs="+", default=["reference", "cheater", "hostile"])
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--submissions", type=int, default=60)
    parser.add_argument("--window", type=float, default=60.0, help="seconds the burst's submissions spread over")
    parser.add_argument("--jobs", type=int, default=2 * (os.cpu_count() or 1), help="as course serve's default")
    args = parser.parse_args()
    if why_not():
        sys.exit(f"submit_latency: {why_not()}")
    ctypes.CDLL(None).prctl(PR_SET_CHILD_SUBREAPER, 1)  # the boxes' processes are counted (benchmarks/grading.py)
    print(f"load at the start: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    scratch = Path(tempfile.mkdtemp(prefix="backprop-latency-"))
    env = kit_env(scratch / "home")
    try:
        course, exchange, pool = setup(scratch, sorted(set(args.samples) | set(BURST_SAMPLES)))
        names = [f"s{k:02d}" for k in range(max(args.students, len(args.samples)))]
        with Students(names, exchange, course.course_id) as students:
            if args.runs:
                single(course, pool, students, args, env)
            burst(course, pool, students, args, env, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"load at the end: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")


def kit_env(home):
    env = {key: value for key, value in os.environ.items() if key != "BACKPROP_KIT_SOLUTIONS"}
    for name in ("HOME", "IPYTHONDIR", "MPLCONFIGDIR", "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR"):
        env[name] = str(home / name.lower())
    return env | {"PATH": f"{os.path.dirname(sys.executable)}{os.pathsep}{env['PATH']}"}


def setup(scratch, names):
    """The course, released, with its exchange; the samples, made in a pool course of their own."""
    os.environ.pop("BACKPROP_KIT_SOLUTIONS", None)
    for name, value in kit_env(scratch / "home").items():
        os.environ[name] = value
    pool = build(scratch / "pool")
    release(pool)
    samples.make(pool, names)
    course = build(scratch / "course")
    release(course)
    with open(course.root / "course_config.py", "a") as config:
        config.write("\nc.BackpropCourse.gradings_per_hour = None\n")
    course, exchange = open_exchange(open_course(course.root))
    return course, exchange, {name: pool.folder("submitted", name) for name in names}


class Service:
    """`backprop-kit course serve` as a child process; its lines kept."""

    def __init__(self, course, env, jobs):
        command = [
            sys.executable,
            "-m",
            "backprop_lib.kit.cli",
            "course",
            "serve",
            "-C",
            course.root,
            "--jobs",
            str(jobs),
        ]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self.lines = []
        self.reader = threading.Thread(target=lambda: self.lines.extend(self.process.stdout), daemon=True)
        self.reader.start()
        while not any("serving" in line for line in self.lines):
            if self.process.poll() is not None:
                raise SystemExit("".join(self.lines))
            time.sleep(0.1)

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait()
        self.reader.join()
        grading_benchmark.reap_orphans()


class Submitted:
    """A submission handed to nbgrader at ``start``; ``released`` once its feedback pages are in the exchange."""

    def __init__(self, student, start, timestamp, course):
        self.student, self.start, self.timestamp, self.released = student, start, timestamp, None
        exchange = Path(course.config.Exchange.root) / course.course_id
        folder = next((exchange / "inbound").glob(f"{student}+{course.assignment}+{timestamp}*"))
        secret = (folder / "submission_secret.txt").read_text()
        feedback = exchange / "feedback"
        self.pages = [
            feedback / f"{notebook_hash(secret=secret, notebook_id=stem)}.html" for stem in course.notebooks()
        ]

    def check(self, now):
        if self.released is None and all(page.exists() for page in self.pages):
            self.released = now
        return self.released is not None


def submit(students, name, folder, course):
    students.hand_in(name, folder)
    start = time.time()
    timestamp = students.submit(name)
    return Submitted(students.id(name), start, timestamp, course)


def single(course, pool, students, args, env):
    service = Service(course, env, args.jobs)
    try:
        print("\nsingle submissions, the service idle (seconds from submit to feedback released):")
        wait_released([submit(students, "s00", pool["untouched"], course)])  # warm-up, not counted
        for k, sample in enumerate(args.samples):
            times = []
            for _ in range(args.runs):
                (done,) = wait_released([submit(students, f"s{k:02d}", pool[sample], course)])
                times.append(done.released - done.start)
            shown = " ".join(f"{t:.1f}" for t in times)
            print(f"  {sample:<10} median {statistics.median(times):6.1f}   runs: {shown}")
    finally:
        service.stop()


def wait_released(submitted, timeout=3600):
    deadline = time.monotonic() + timeout
    while not all(s.check(time.time()) for s in submitted):
        if time.monotonic() > deadline:
            raise SystemExit("feedback never released")
        time.sleep(0.05)
    return submitted


def burst(course, pool, students, args, env, scratch):
    rng = random.Random(22)
    names = [f"s{k:02d}" for k in range(args.students)]
    plan = sorted((rng.uniform(0, args.window), names[k % len(names)], rng.choice(BURST_SAMPLES))
                  for k in range(args.submissions))  # fmt: skip
    queue = Queue(course)
    known = len(queue.entries())
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    service = Service(course, env, args.jobs)
    submitted, lock, start = [], threading.Lock(), time.time()
    poller_done = threading.Event()

    def poll():
        while not poller_done.is_set():
            with lock:
                for s in submitted:
                    s.check(time.time())
            time.sleep(0.05)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    for at, name, sample in plan:
        time.sleep(max(0.0, start + at - time.time()))
        done = submit(students, name, pool[sample], course)
        with lock:
            submitted.append(done)
    while True:
        entries = queue.entries()[known:]
        if len(entries) >= len(plan) and not any(e.state in (WAITING, GRADING) for e in entries):
            break
        time.sleep(0.2)
    newest = {}
    for s in submitted:
        newest[s.student] = s
    wait_released(list(newest.values()))
    poller_done.set()
    poller.join()
    service.stop()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    service_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    graded = [e for e in queue.entries()[known:] if e.state == GRADED]
    first = min(s.start for s in submitted)
    makespan = max(s.released for s in newest.values()) - first
    latencies = sorted(s.released - s.start for s in submitted if s.released is not None)
    cpu, wall = batch_cost(course, scratch, env, args.jobs)
    cores = os.cpu_count()
    yardstick = cpu * len(graded) / cores
    print(f"\ndeadline burst: {len(plan)} submissions by {len(newest)} students within {args.window:g} s")
    print(f"  gradings made by the service: {len(graded)} ({len(plan) - len(graded)} replaced while waiting)")
    print(f"  first submission to last feedback released: {makespan:.1f} s")
    print(f"  latency of the {len(latencies)} submissions with feedback: p50 {percentile(latencies, 50):.1f} s, "
          f"p95 {percentile(latencies, 95):.1f} s, max {latencies[-1]:.1f} s")  # fmt: skip
    print(f"  the service's CPU (process tree): {service_cpu:.1f} s, {service_cpu / len(graded):.2f} s per grading")
    print(
        f"  course grade --force --jobs {args.jobs} + course feedback of the newest: {cpu:.2f} s CPU and "
        f"{wall:.2f} s of wall clock per submission"
    )
    print(f"  yardstick: {len(graded)} gradings x {cpu:.2f} s / {cores} cores = {yardstick:.1f} s; "
          f"makespan / yardstick = {makespan / yardstick:.2f} (target <= 1.2)")  # fmt: skip


def batch_cost(course, scratch, env, jobs):
    """(CPU seconds, wall seconds) per submission of `course grade --force` and `course feedback` of the course's
    collected (newest) submissions: what a batch does to have their feedback ready."""
    twin = build(scratch / "twin")
    release(twin)
    shutil.copytree(course.root / "submitted", twin.root / "submitted", dirs_exist_ok=True)
    shutil.copytree(course.grader_cache, twin.grader_cache, dirs_exist_ok=True)  # the kernels' font list, made once
    students = len(list((twin.root / "submitted").iterdir()))
    command = [sys.executable, "-m", "backprop_lib.kit.cli", "course", "grade", "-C", twin.root, "--force"]
    grading = grading_benchmark.measured([*command, "--jobs", str(jobs)], twin.root, env)
    feedback = [sys.executable, "-m", "backprop_lib.kit.cli", "course", "feedback", "-C", twin.root]
    writing = grading_benchmark.measured(feedback, twin.root, env)
    return (grading[1] + writing[1]) / students, (grading[0] + writing[0]) / students


def percentile(values, q):
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered)) - 1))
    return ordered[index]


if __name__ == "__main__":
    main()
