"""Integrity verification: check a student's library again, outside the student's kernels, on secret cases.

nbgrader's tests run inside the student's own kernel, where student code can fake
anything. Here, for every exercise of ``backprop_lib.kit.exercises.EXERCISES``:

1. the grader draws cases from a secret seed (``SecretCases``; new each batch);
2. ``autograder.sandbox.runner`` runs ``exercise.run(case)`` on the course's
   library with the student's exercise files on top, writing plain arrays (.npz)
   into its one writable folder, in a box (``autograder.sandbox.box``): forked by
   the submission's kernel server as the verifier's uid once every process of the
   notebooks is gone (``verify_forked``), or in a box of its own (``verify``);
3. the grader, which never imports student code, reads only regular files of that
   folder (no link followed, no blocking open, size-capped), loads them with
   ``allow_pickle=False``, checks their dtype and shape, and calls
   ``exercise.judge(case, got)`` against its own reference gradients.

An exercise that hangs or kills its process fails alone; the others run again in
a new round. Whatever the box writes can only make that student's exercises fail.
Secret cases live in folders of the grader's (mode 0700) for the length of the
batch, or readable by the verifier's uid alone for the length of a forked
verification; the reference answers exist only in the grader's memory. A failed
secret case is reported without its expected values (a worked case from the
course keeps them).
"""

import atexit
import io
import json
import os
import secrets
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from autograder.gradebook.record import Verification
from autograder.sandbox import box, forkserver
from backprop_lib.kit.exercises import EXERCISES
from backprop_lib.kit.results import FAILED, FROM_EXCEPTIONS, NOT_IMPLEMENTED, PASSED, CheckResult, cases_match

EXERCISE_SECONDS = 5.0
SERVER_SECONDS = 5.0  # how long a kernel server may take to answer before the verification takes a box of its own
DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
STUDENT_SECONDS = 60.0
MAX_OUTPUT_BYTES = 32 << 20
MAX_REPORT_BYTES = 1 << 20
NUMERIC_KINDS = "fiub"
BOOTSTRAP = (
    "import sys; work = sys.argv[1]; sys.path[:0] = [work + '/lib', work + '/runner']; sys.path.append(sys.argv[2]); "
    "import runner; runner.main(sys.argv[1:2] + sys.argv[3:])"
)


@dataclass(frozen=True)
class Isolation:
    """How boxes are confined on this machine: ``autograder.sandbox.box.mode()``."""

    mode: str

    @classmethod
    def detect(cls):
        """This machine's mode; ``box.Unavailable`` with the reason when no box can start here."""
        box.check_available()
        return cls(box.mode())

    def describe(self):
        return box.describe()


@dataclass
class SecretCases:
    """Cases for every exercise, drawn from a secret seed; which of them are the course's public ones."""

    seed: int
    cases: dict
    public: dict = field(default_factory=dict)
    folder: Path = None

    @classmethod
    def draw(cls, names=None):
        seed = secrets.randbits(32)
        names = list(names or EXERCISES)
        other = secrets.randbits(32) ^ 1
        cases = {name: EXERCISES[name].cases(seed) for name in names}
        public = {name: _same_cases(cases[name], EXERCISES[name].cases(other)) for name in names}
        folder = Path(tempfile.mkdtemp(prefix="backprop-secret-"))
        atexit.register(shutil.rmtree, folder, True)
        return cls(seed, cases, public, folder)

    def write(self, folder):
        """One ``<exercise>.npz`` per exercise, case i's arrays under ``i/<key>``."""
        folder.mkdir(parents=True, exist_ok=True)
        for name, cases in self.cases.items():
            arrays = {f"{i}/{key}": value for i, case in enumerate(cases) for key, value in case.to_arrays().items()}
            np.savez(folder / f"{name}.npz", **arrays)


def verify(course, student, secret, isolation):
    """Run ``student``'s exercises on ``secret``'s cases in a box of their own and judge the answers."""
    start = time.monotonic()
    secret.folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="student-", dir=secret.folder) as folder:
        results = _run_rounds(_BoxRunner(Path(folder), course, student, secret), secret, start + STUDENT_SECONDS)
    return _verification(results, secret, start, isolation)


def verify_forked(secret, isolation, server):
    """Run the student's exercises on ``secret``'s cases in children of the submission's kernel ``server``
    (``autograder.sandbox.warm``, once the student's notebooks are done) and judge the answers; None, saying why on
    stdout, when the server cannot (it is gone, stuck, or ended during the verification): the caller then
    verifies in a box of its own."""
    start = time.monotonic()
    try:
        if not server.ready(SERVER_SECONDS):
            raise forkserver.ChildError(server.why_not)
        with _ServerRunner(server, secret) as runner:
            results = _run_rounds(runner, secret, start + STUDENT_SECONDS)
        if not server.ready(SERVER_SECONDS):  # it ended during a round: that round's failure may be the server's
            raise forkserver.ChildError(server.why_not)
    except (forkserver.ChildError, OSError) as error:  # OSError: its folder was changed (a kernel's link)
        print(f"verification: not in the kernel server's box ({error}): in a box of its own", flush=True)
        return None
    return _verification(results, secret, start, isolation)


def _verification(results, secret, start, isolation):
    ordered = [results[name] for name in secret.cases]
    return Verification(ordered, round(time.monotonic() - start, 3), isolation.describe())


class _BoxRunner:
    """Each round of one student's verification in a box of its own: the library, runner and cases read-only,
    ``work``/out writable."""

    def __init__(self, work, course, student, secret):
        self.work, self.out, self.library = work, work / "out", f"{work}/lib/"
        secret.write(work / "cases")
        self.out.mkdir()
        box.give_to_box(self.out)
        own = course.folder("intake", student) / "backprop_lib"
        self.sandbox = box.verification_box(work, course.source / "backprop_lib", own)

    def start(self, names):
        site = os.path.dirname(os.path.dirname(np.__file__))
        command = [sys.executable, "-I", "-S", "-B", "-c", BOOTSTRAP, str(self.work), site, *names]
        quiet = {"stdin": subprocess.DEVNULL, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        return box.start(self.sandbox, command, **quiet)

    @staticmethod
    def signal(code):
        """The signal that ended the round, from its exit code (bubblewrap reports one as 128 + its number)."""
        return code - 128 if code > 128 else None


class _ServerRunner:
    """Each round of one student's verification forked by the submission's kernel server, whose box holds the same
    library (the course's, the student's exercise files over it) and the runner.

    The cases go into a new folder of the grader's in the server's writable folder (``kernels/verify-*``, unlisted),
    written once no process of the notebooks is left; only ``out/`` is the verifier's. The grader reaches the
    folder and ``out/`` only through descriptors it opened before the verification ran (``/proc/self/fd``).
    """

    def __init__(self, server, secret):
        self.server, self.secret, self.library = server, secret, f"{server.folder}/"
        self.name = f"verify-{secrets.token_hex(8)}"
        self.work = os.path.join(server.scratch, "kernels", self.name)  # as the box sees it
        self.env = {**box.verification_environment(), "HOME": os.path.join(self.work, "out")}
        self.kernels = self.folder = self.outputs = None

    def __enter__(self):
        self.kernels = os.open(os.path.join(self.server.scratch, "kernels"), DIRECTORY)
        try:
            os.mkdir(self.name, 0o711, dir_fd=self.kernels)
            self.folder = os.open(self.name, DIRECTORY, dir_fd=self.kernels)
            work = Path(f"/proc/self/fd/{self.folder}")
            self.secret.write(work / "cases")
            for path in [work / "cases", *(work / "cases").iterdir()]:
                path.chmod(0o755 if path.is_dir() else 0o644)
            (work / "out").mkdir()
            box.give_to_box(work / "out", self.server.verifier_uid)
            self.outputs = os.open("out", DIRECTORY, dir_fd=self.folder)
        except BaseException:
            self.__exit__()
            raise
        self.out = Path(f"/proc/self/fd/{self.outputs}")
        return self

    def __exit__(self, *_):
        for descriptor in (self.outputs, self.folder):
            if descriptor is not None:
                os.close(descriptor)
        shutil.rmtree(self.name, dir_fd=self.kernels, ignore_errors=True)
        os.close(self.kernels)

    def start(self, names):
        """The round's process (``forkserver.Child``), once the box is clean; ChildError if the server is gone."""
        if not self.server.ready(SERVER_SECONDS):
            raise forkserver.ChildError(self.server.why_not)
        return self.server.start_verification(names, self.work, self.env, box.VERIFICATION_LIMITS, SERVER_SECONDS)

    @staticmethod
    def signal(code):
        return -code if code < 0 else None


def _run_rounds(runner, secret, deadline):
    """Start rounds until every exercise has a result; one that hangs or crashes is dropped."""
    results, pending = {}, list(secret.cases)
    while pending:
        if time.monotonic() >= deadline:
            results |= {
                name: _failed(name, f"not verified: the sandbox used up its {STUDENT_SECONDS:g} s") for name in pending
            }
            break
        stopped = _round(runner, pending, secret, results, deadline)
        pending = [name for name in pending if name not in results]
        if pending:
            stuck = pending.pop(0)
            results[stuck] = _failed(stuck, stopped)
    return results


def _round(runner, names, secret, results, deadline):
    """Run one round on ``names``, judging each answer as it appears (into ``results``).

    Returns why the round stopped before the first exercise without an answer.
    """
    out, waiting = runner.out, list(names)

    def collect():
        """Judge the next exercise if its answer is there; True if it was."""
        if not waiting or not os.path.lexists(out / f"{waiting[0]}.json"):
            return False
        name = waiting.pop(0)
        results[name] = judge_outputs(
            EXERCISES[name], secret.cases[name], out, runner.library, secret.public.get(name, set())
        )
        return True

    process = runner.start(names)
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
    signum = runner.signal(process.returncode)
    cause = f"killed by signal {signum}" if signum else f"exit code {process.returncode}"
    return f"the sandbox process stopped during this exercise ({cause}: a crash, os._exit or a resource limit)"


def judge_outputs(exercise, cases, out, library="", public=()):
    """The exercise's CheckResult from the box's files in ``out`` (never trusted as they are).

    ``library``: the box's library folder, cut from the paths in an exception's report.
    ``public``: indices of the course's own (worked) cases; a failed case outside them is
    reported without the expected values.
    """
    try:
        meta = json.loads(read_regular(out / f"{exercise.name}.json", MAX_REPORT_BYTES))
        count, error = int(meta["cases"]), meta["error"]
        outputs = load_arrays(out / f"{exercise.name}.npz")
    except Exception as problem:  # anything the box wrote: a FIFO, a link, junk, a damaged zip
        return _failed(exercise.name, f"the sandbox's answer is unreadable: {_text(problem, 300)}", exercise)
    for index, case in enumerate(cases[:count]):
        got = {key.split("/", 1)[1]: value for key, value in outputs.items() if key.split("/", 1)[0] == str(index)}
        try:
            result = exercise.judge(case, got)
        except Exception as problem:  # malformed answers: missing keys, odd shapes
            return _failed(
                exercise.name, f"the answer could not be judged ({type(problem).__name__}: {problem})", exercise
            )
        if not result.passed:
            return result if index in public else _secret_failure(result, case)
    if count >= len(cases):
        return CheckResult(exercise.name, exercise.path, PASSED, cases_match(len(cases), "secret"))
    if isinstance(error, dict):
        return _reported_error(exercise, error, library)
    return _failed(exercise.name, "the sandbox stopped before the last case", exercise)


def _secret_failure(result, case):
    """``result`` of a failed secret case with its details (which quote expected values) replaced."""
    result.details = [f"on a secret case ({case.note}): its expected values are not shown"]
    return result


def _same_cases(cases, others):
    """Indices of the cases two different seeds share: the course's fixed (public) cases."""
    same = set()
    for index, (case, other) in enumerate(zip(cases, others, strict=False)):
        mine, theirs = case.to_arrays(), other.to_arrays()
        if mine.keys() == theirs.keys() and all(np.array_equal(mine[k], theirs[k]) for k in mine):
            same.add(index)
    return same


def read_regular(path, limit):
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes (no link followed, never blocking)."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(descriptor, "rb") as file:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"{path.name} is not a regular file")
        if info.st_size > limit:
            raise ValueError(f"{path.name} is larger than {limit} bytes")
        data = file.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"{path.name} is larger than {limit} bytes")
    return data


def load_arrays(path):
    """The arrays of an untrusted .npz: a regular file, no pickle, no compression, numeric or short text, bounded."""
    data = io.BytesIO(read_regular(path, MAX_OUTPUT_BYTES))
    with zipfile.ZipFile(data) as archive:
        if any(info.compress_type != zipfile.ZIP_STORED for info in archive.infolist()):
            raise ValueError(f"{path.name} is compressed")
    arrays = {}
    with np.load(data, allow_pickle=False) as stored:
        for key in stored.files:
            value = stored[key]
            kind_ok = value.dtype.kind in NUMERIC_KINDS or (value.dtype.kind == "U" and value.dtype.itemsize <= 1024)
            if not kind_ok or value.ndim > 8 or "/" not in key:
                raise ValueError(f"{key}: unexpected array ({value.dtype}, {value.ndim} dimensions)")
            arrays[key] = value
    return arrays


def _reported_error(exercise, error, library=""):
    """A CheckResult from the sandbox's report of an exception: text only, never a pass, and a diagnosis only
    if it names an exception (``FROM_EXCEPTIONS``)."""
    status = error.get("status") if error.get("status") in (NOT_IMPLEMENTED, FAILED) else FAILED
    details = error.get("details") if isinstance(error.get("details"), list) else []
    hint, diagnosis = error.get("hint"), error.get("diagnosis")

    def text(value, limit):
        return _text(value, limit).replace(library, "") if library else _text(value, limit)

    return CheckResult(
        exercise.name,
        exercise.path,
        status,
        text(error.get("summary"), 500),
        [text(line, 300) for line in details[:10]],
        text(hint, 500) if hint else None,
        diagnosis if status == FAILED and isinstance(diagnosis, str) and diagnosis in FROM_EXCEPTIONS else None,
    )


def _failed(name, summary, exercise=None):
    exercise = exercise or EXERCISES.get(name)
    return CheckResult(exercise.name, exercise.path, FAILED, summary)


def _text(value, limit):
    text = str(value) if value is not None else ""
    return text if len(text) <= limit else text[: limit - 3] + "..."
