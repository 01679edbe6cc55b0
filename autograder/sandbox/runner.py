"""The program inside a student's verification: run each exercise on the given cases, save plain arrays.

It runs in a box (``autograder.sandbox.box``: the course's library with the
student's exercise files over it), started as ``python -I -S -B -c BOOTSTRAP WORK
SITE NAME...`` by ``autograder.sandbox.verify``, or forked as the verifier's uid
by the submission's kernel server (``forkserver.become_verifier``). For every
exercise NAME it reads ``WORK/cases/NAME.npz`` (case i's arrays under ``i/<key>``),
calls ``exercise.run(case)`` (the student's code), and writes

    WORK/out/NAME.npz    the arrays run() returned for cases 0..k-1, under ``i/<key>``
    WORK/out/NAME.json   {"cases": k, "error": null or the CheckResult of the exception},
                         written last and renamed into place: its presence means done

Nothing here is trusted by the grader: it validates every file and judges the
arrays against its own reference.
"""

import json
import os
import sys


def main(argv):
    work, names = argv[0], argv[1:]
    import numpy as np

    from backprop_lib.kit.exercises import EXERCISES
    from backprop_lib.kit.exercises.base import Case
    from backprop_lib.kit.results import result_from_exception

    for name in names:
        exercise, outputs, error, done = EXERCISES[name], {}, None, 0
        for case in _load_cases(os.path.join(work, "cases", f"{name}.npz"), Case):
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


def _load_cases(path, case_type):
    """[Case] from an .npz file holding case i's arrays under ``i/<key>``."""
    import numpy as np

    grouped = {}
    with np.load(path, allow_pickle=False) as stored:
        for name in stored.files:
            index, key = name.split("/", 1)
            grouped.setdefault(int(index), {})[key] = stored[name]
    return [case_type.from_arrays(grouped[i]) for i in sorted(grouped)]


def _as_exception(exc):
    if isinstance(exc, Exception):
        return exc
    return RuntimeError(f"raised {type(exc).__name__}: {exc}")


if __name__ == "__main__":
    main(sys.argv[1:])
