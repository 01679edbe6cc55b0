"""Integrity verification: check a student's library again, outside nbgrader, on secret cases.

nbgrader's tests run inside the student's own kernel, where a student module can
replace numpy.allclose or the checker itself. This step does not trust that
kernel. For every exercise of ``backprop_lib.kit.exercises.EXERCISES``:

1. the grader draws cases from a secret seed (``SecretCases``; new each batch,
   never written where student code can read it before the run);
2. a sandbox process (``autograder.sandbox_runner``) runs ``exercise.run(case)``
   on a throwaway copy of the student's library and writes plain arrays (.npz);
3. the grader, which never imports student code, loads them with
   ``allow_pickle=False``, checks their size, dtype and shape, and calls
   ``exercise.judge(case, got)`` against its own reference gradients.

The sandbox is started through ``autograder.confine``: Python's isolated mode with
an explicit sys.path (the copy of the library and numpy, nothing else: not the
repository, the solutions or the kit), a scrubbed environment, CPU, memory, file
size and open-file limits, a wall-clock limit per exercise and per student; as
root also a private mount namespace that hides the course folder (gradebook,
other submissions, hidden tests), ``solutions/`` and the kit's own folder, its
own process namespace (no other process visible, nothing outlives it), no
network, and the unprivileged user ``nobody`` for all student code. An exercise
that hangs or kills the process fails alone; the others run again without it.
"""

import json
import os
import pwd
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import autograder
from autograder import confine
from backprop_lib import EXERCISE_MODULES, SOLUTIONS_DIR
from backprop_lib.kit.exercises import EXERCISES
from backprop_lib.kit.results import FAILED, NOT_IMPLEMENTED, PASSED, CheckResult

SANDBOX_USER = "nobody"
LIMITS = {"cpu": 30, "memory": 2 << 30, "file_size": 64 << 20, "open_files": 64}
EXERCISE_SECONDS = 5.0
STUDENT_SECONDS = 60.0
MAX_OUTPUT_BYTES = 32 << 20
NUMERIC_KINDS = "fiub"
BOOTSTRAP = (
    "import sys; work = sys.argv[1]; sys.path[:0] = [work + '/lib']; sys.path.append(work + '/site'); "
    "import sandbox_runner; sandbox_runner.main(sys.argv[1:])"
)


@dataclass(frozen=True)
class Isolation:
    """How far the sandbox is confined on this machine (see ``detect``)."""

    user: str | None
    namespaces: bool

    @classmethod
    def detect(cls):
        """Everything this machine allows: as root, user ``nobody`` and namespaces when permitted."""
        root = os.geteuid() == 0
        user = SANDBOX_USER if root and _account_exists(SANDBOX_USER) else None
        return cls(user, confine.namespaces_available())

    def describe(self):
        parts = [f"student code runs as {self.user}" if self.user else "student code runs as the grader's user"]
        parts.append("course, solutions and kit hidden, no network" if self.namespaces else "no mount namespace")
        return "; ".join(parts)


@dataclass
class SecretCases:
    """Cases for every exercise, drawn from a secret seed."""

    seed: int
    cases: dict

    @classmethod
    def draw(cls, names=None):
        seed = secrets.randbits(32)
        return cls(seed, {name: EXERCISES[name].cases(seed) for name in names or EXERCISES})

    def write(self, folder):
        """One ``<exercise>.npz`` per exercise, case i's arrays under ``i/<key>``."""
        folder.mkdir(parents=True, exist_ok=True)
        for name, cases in self.cases.items():
            arrays = {f"{i}/{key}": value for i, case in enumerate(cases) for key, value in case.to_arrays().items()}
            np.savez(folder / f"{name}.npz", **arrays)


@dataclass
class Verification:
    """One student's verified results, one CheckResult per exercise."""

    results: list
    seconds: float
    isolation: str

    def to_dict(self):
        return {
            "results": [r.to_dict() for r in self.results],
            "seconds": self.seconds,
            "isolation": self.isolation,
        }

    @classmethod
    def from_dict(cls, data):
        return cls([CheckResult.from_dict(r) for r in data["results"]], data["seconds"], data["isolation"])


def verify(course, student, secret, isolation):
    """Run ``student``'s exercises in the sandbox on ``secret``'s cases and judge the answers."""
    start = time.monotonic()
    hidden = [path.resolve() for path in hidden_paths(course)]
    base = Path(tempfile.gettempdir()).resolve()
    outside = None if not any(base.is_relative_to(path) for path in hidden) else "/tmp"
    with tempfile.TemporaryDirectory(prefix="backprop-verify-", dir=outside) as folder:
        work = Path(folder)
        _prepare(work, course, student, secret, isolation)
        results = _run_rounds(work, course, secret, isolation, start + STUDENT_SECONDS)
    ordered = [results[name] for name in secret.cases]
    return Verification(ordered, round(time.monotonic() - start, 3), isolation.describe())


def _prepare(work, course, student, secret, isolation):
    """WORK/lib, site (numpy), cases, out.

    The library is the course's, with the student's own files on top: the exercise
    files and any module the student added; every other file of the kit stays the
    course's version, as nbgrader does it.
    """
    master = course.source / "backprop_lib"
    library = work / "lib" / "backprop_lib"
    shutil.copytree(master, library, ignore=shutil.ignore_patterns("__pycache__"))
    submitted = course.folder("intake", student) / "backprop_lib"
    kit = {path.relative_to(master) for path in master.rglob("*.py")} - {Path(f"{m}.py") for m in EXERCISE_MODULES}
    for path in submitted.rglob("*.py") if submitted.is_dir() else []:
        relative = path.relative_to(submitted)
        if relative not in kit and path.is_file() and not path.is_symlink():
            (library / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, library / relative)
    package = Path(autograder.__file__).parent
    for helper in ("sandbox_runner.py", "confine.py"):
        shutil.copyfile(package / helper, work / "lib" / helper)
    site = work / "site"
    site.mkdir()
    numpy_home = Path(np.__file__).parent
    for name in (numpy_home.name, f"{numpy_home.name}.libs"):
        if (numpy_home.parent / name).exists():
            (site / name).symlink_to(numpy_home.parent / name)
    secret.write(work / "cases")
    (work / "out").mkdir()
    work.chmod(0o755)
    if isolation.user:
        account = pwd.getpwnam(isolation.user)
        os.chown(work / "out", account.pw_uid, account.pw_gid)


def _run_rounds(work, course, secret, isolation, deadline):
    """Start the sandbox until every exercise has a result; one that hangs or crashes is dropped."""
    results, pending = {}, list(secret.cases)
    while pending:
        if time.monotonic() >= deadline:
            results |= {
                name: _failed(name, f"not verified: the sandbox used up its {STUDENT_SECONDS:g} s") for name in pending
            }
            break
        stopped = _sandbox(work, course, isolation, pending, secret, results, deadline)
        pending = [name for name in pending if name not in results]
        if pending:
            stuck = pending.pop(0)
            results[stuck] = _failed(stuck, stopped)
    return results


def _sandbox(work, course, isolation, names, secret, results, deadline):
    """Run the sandbox on ``names``, judging each answer as it appears (into ``results``).

    Returns why the sandbox stopped before the first exercise without an answer.
    """
    spec = {
        "limits": LIMITS,
        "env": {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(work / "out"), "OPENBLAS_NUM_THREADS": "1"},
        "cwd": str(work / "out"),
    }
    if isolation.namespaces:
        spec["hide"] = [str(path) for path in hidden_paths(course) if path.exists()]
        spec["no_network"] = True
    argv = [sys.executable, "-I", "-S", "-B", "-c", BOOTSTRAP, str(work), isolation.user or "", *names]
    waiting = list(names)

    def collect():
        """Judge the next exercise if its answer is there; True if it was."""
        if not waiting or not (work / "out" / f"{waiting[0]}.json").exists():
            return False
        name = waiting.pop(0)
        results[name] = judge_outputs(EXERCISES[name], secret.cases[name], work / "out", f"{work}/lib/")
        return True

    process = subprocess.Popen(
        confine.command(spec, argv), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    since = time.monotonic()
    while process.poll() is None:
        if collect():
            since = time.monotonic()
            continue
        time.sleep(0.003)
        now = time.monotonic()
        if now - since > EXERCISE_SECONDS or now > deadline:
            process.kill()
            process.wait()
            while collect():
                pass
            return f"did not finish within {EXERCISE_SECONDS:g} s (an endless loop?)"
    while collect():
        pass
    code = process.returncode
    cause = f"killed by signal {-code}" if code < 0 else f"exit code {code}"
    return f"the sandbox process stopped during this exercise ({cause}: a crash, os._exit or a resource limit)"


def hidden_paths(course):
    """What student code in the sandbox must not read: the course, the solutions, the kit."""
    return [course.root, SOLUTIONS_DIR, Path(autograder.__file__).resolve().parent]


def judge_outputs(exercise, cases, out, library=""):
    """The exercise's CheckResult from the sandbox's files in ``out`` (never trusted as they are).

    ``library``: the sandbox's library folder, cut from the paths in an exception's report.
    """
    try:
        meta = json.loads(_read_capped(out / f"{exercise.name}.json", 1 << 20))
        count, error = int(meta["cases"]), meta["error"]
        outputs = load_arrays(out / f"{exercise.name}.npz")
    except (OSError, ValueError, KeyError, TypeError) as problem:
        return _failed(exercise.name, f"the sandbox's answer is unreadable: {problem}", exercise)
    for index, case in enumerate(cases[:count]):
        got = {key.split("/", 1)[1]: value for key, value in outputs.items() if key.split("/", 1)[0] == str(index)}
        try:
            result = exercise.judge(case, got)
        except Exception as problem:  # malformed answers: missing keys, odd shapes
            return _failed(
                exercise.name, f"the answer could not be judged ({type(problem).__name__}: {problem})", exercise
            )
        if not result.passed:
            return result
    if count >= len(cases):
        return CheckResult(exercise.name, exercise.path, PASSED, f"{len(cases)} secret cases match the reference")
    if isinstance(error, dict):
        return _reported_error(exercise, error, library)
    return _failed(exercise.name, "the sandbox stopped before the last case", exercise)


def load_arrays(path):
    """The arrays of an untrusted .npz: no pickle, no compression, numeric or short text, bounded size."""
    if path.stat().st_size > MAX_OUTPUT_BYTES:
        raise ValueError(f"{path.name} is larger than {MAX_OUTPUT_BYTES >> 20} MB")
    with zipfile.ZipFile(path) as archive:
        if any(info.compress_type != zipfile.ZIP_STORED for info in archive.infolist()):
            raise ValueError(f"{path.name} is compressed")
    arrays = {}
    with np.load(path, allow_pickle=False) as stored:
        for key in stored.files:
            value = stored[key]
            kind_ok = value.dtype.kind in NUMERIC_KINDS or (value.dtype.kind == "U" and value.dtype.itemsize <= 1024)
            if not kind_ok or value.ndim > 8 or "/" not in key:
                raise ValueError(f"{key}: unexpected array ({value.dtype}, {value.ndim} dimensions)")
            arrays[key] = value
    return arrays


def _reported_error(exercise, error, library=""):
    """A CheckResult from the sandbox's report of an exception: text only, and never a pass."""
    status = error.get("status") if error.get("status") in (NOT_IMPLEMENTED, FAILED) else FAILED
    details = error.get("details") if isinstance(error.get("details"), list) else []
    hint = error.get("hint")

    def text(value, limit):
        return _text(value, limit).replace(library, "") if library else _text(value, limit)

    return CheckResult(
        exercise.name,
        exercise.path,
        status,
        text(error.get("summary"), 500),
        [text(line, 300) for line in details[:10]],
        text(hint, 500) if hint else None,
    )


def _failed(name, summary, exercise=None):
    exercise = exercise or EXERCISES.get(name)
    return CheckResult(exercise.name, exercise.path, FAILED, summary)


def _text(value, limit):
    text = str(value) if value is not None else ""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _read_capped(path, limit):
    with open(path, "rb") as file:
        data = file.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"{path.name} is larger than {limit} bytes")
    return data


def _account_exists(name):
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
