"""Run the exercises' checks in this process and collect one CheckResult per exercise.

    run_checks()                         # every exercise
    run_checks(["relu_backward"])        # some
    python -m backprop_lib.kit.checking --json relu_backward   # the same, as JSON on stdout

Student code may be broken in any way (a syntax error, an exception, a wrong
type, an endless loop): each problem becomes that exercise's result, never an
exception out of ``run_checks``.
"""

import json
import signal
import sys
import threading
from contextlib import contextmanager

from backprop_lib.kit.exercises import EXERCISES
from backprop_lib.kit.results import ERROR, PASSED, CheckResult, cases_match, result_from_exception

TIME_LIMIT = 5.0


def run_checks(names=None, seed=0, time_limit=TIME_LIMIT):
    """Check the named exercises (default: all) on the library importable as ``backprop_lib``."""
    names = list(EXERCISES) if not names else list(names)
    return [check_exercise(name, seed, time_limit) for name in names]


def check_exercise(name, seed=0, time_limit=TIME_LIMIT):
    """One exercise's result: its first failing case, or passed (with any note a passed case made, e.g. at a tie)."""
    exercise = EXERCISES.get(name)
    if exercise is None:
        known = ", ".join(EXERCISES)
        return CheckResult(name, "", ERROR, f"no exercise named {name!r}; the exercises are: {known}")
    cases, notes = exercise.cases(seed), []
    for case in cases:
        try:
            with _time_limit(time_limit):
                got = exercise.run(case)
        except (Exception, TimeoutError) as exc:  # student code: anything can happen
            return result_from_exception(exercise.name, exercise.path, exc)
        try:
            result = exercise.judge(case, got)
        except Exception as exc:
            return CheckResult(exercise.name, exercise.path, ERROR, f"the checker could not judge the answer: {exc!r}")
        if not result.passed:
            return result
        if result.summary and result.summary not in notes:
            notes.append(result.summary)
    summary = "; ".join([cases_match(len(cases)), *notes])
    return CheckResult(exercise.name, exercise.path, PASSED, summary)


@contextmanager
def _time_limit(seconds):
    """Raise TimeoutError in the main thread after ``seconds`` (elsewhere: no limit)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum, frame):
        raise TimeoutError(f"still running after {seconds:g} s: an endless loop?")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    names = [a for a in argv if not a.startswith("--")]
    results = run_checks(names)
    if "--json" in argv:
        json.dump([r.to_dict() for r in results], sys.stdout)
    else:
        print("\n".join(r.report() for r in results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
