"""The program inside the integrity sandbox: run each exercise on the given cases, save plain arrays.

``autograder.verify`` copies this file and ``confine.py`` next to a throwaway
copy of the student's library and starts it through ``autograder.confine``:

    python -I -S -B -c BOOTSTRAP WORK USER NAME...

Started as root, it first does everything that needs no student code: imports
numpy, the kit's checking code (with the student's exercise modules blocked,
so none can run yet) and the modules a student's code may reasonably use, and
loads the cases. Then it becomes USER for good, an account that cannot read
the grader's files, and only then runs student code. (The interpreter's own
files may not be readable by USER, e.g. a pyenv under /root: hence the imports
up front.)

For every exercise NAME it reads ``WORK/cases/NAME.npz`` (case i's arrays under
``i/<key>``), calls ``exercise.run(case)`` (the student's code), and writes

    WORK/out/NAME.npz    the arrays run() returned for cases 0..k-1, under ``i/<key>``
    WORK/out/NAME.json   {"cases": k, "error": null or the CheckResult of the exception},
                         written last and renamed into place: its presence means done

Nothing here is trusted by the grader: it validates every file and judges the
arrays against its own reference.
"""

import importlib
import io
import json
import os
import pwd
import sys
from contextlib import contextmanager

CONVENIENCE = (
    "array", "bisect", "collections", "copy", "dataclasses", "decimal", "fractions", "functools", "heapq",
    "itertools", "math", "numbers", "operator", "random", "statistics", "string", "typing", "numpy.linalg",
    "numpy.random", "numpy.fft",
)  # fmt: skip


def main(argv):
    work, user, names = argv[0], argv[1], argv[2:]
    import numpy as np

    import backprop_lib

    with _blocked([f"backprop_lib.{module}" for module in backprop_lib.EXERCISE_MODULES]):
        for module in CONVENIENCE:
            importlib.import_module(module)
        from backprop_lib.kit.exercises import EXERCISES
        from backprop_lib.kit.exercises.base import Case
        from backprop_lib.kit.results import result_from_exception

        cases = {name: _load_cases(os.path.join(work, "cases", f"{name}.npz"), Case) for name in names}
        np.savez(io.BytesIO(), warm=np.zeros(1))
        result_from_exception("warm", "", ValueError("up")).to_dict()
    if user and os.geteuid() == 0:
        _become(user)
    for name in names:
        exercise, outputs, error, done = EXERCISES[name], {}, None, 0
        for case in cases[name]:
            try:
                got = exercise.run(case)
            except BaseException as exc:  # student code: anything, SystemExit and KeyboardInterrupt included
                error = result_from_exception(exercise.name, exercise.path, _as_exception(exc)).to_dict()
                break
            outputs |= {f"{done}/{key}": np.asarray(value) for key, value in got.items()}
            done += 1
        np.savez(os.path.join(work, "out", f"{name}.npz"), **outputs)
        report = os.path.join(work, "out", f"{name}.json")
        with open(f"{report}.part", "w") as file:
            file.write(json.dumps({"cases": done, "error": error}))
        os.replace(f"{report}.part", report)  # the grader reads an exercise once its .json appears


@contextmanager
def _blocked(modules):
    """Make importing any of ``modules`` fail (the student's files must not run before the switch)."""

    class Blocker:
        @staticmethod
        def find_spec(name, path=None, target=None):
            if name in modules:
                raise ImportError(f"{name} imported before the sandbox dropped its privileges")
            return None

    sys.meta_path.insert(0, Blocker)
    try:
        yield
    finally:
        sys.meta_path.remove(Blocker)


def _load_cases(path, case_type):
    """[Case] from an .npz file holding case i's arrays under ``i/<key>``."""
    import numpy as np

    grouped = {}
    with np.load(path, allow_pickle=False) as stored:
        for name in stored.files:
            index, key = name.split("/", 1)
            grouped.setdefault(int(index), {})[key] = stored[name]
    return [case_type.from_arrays(grouped[i]) for i in sorted(grouped)]


def _become(user):
    """Switch to ``user`` for good, and die with the grader (a user switch clears that setting)."""
    from confine import die_with_parent

    parent = os.getppid()
    account = pwd.getpwnam(user)
    os.setgroups([])
    os.setgid(account.pw_gid)
    os.setuid(account.pw_uid)
    die_with_parent(parent)


def _as_exception(exc):
    if isinstance(exc, Exception):
        return exc
    return RuntimeError(f"raised {type(exc).__name__}: {exc}")


if __name__ == "__main__":
    main(sys.argv[1:])
