"""A gradient computed numerically instead of derived: what a backward calls while it runs.

The course's exercises ask for the derived gradient. A backward that nudges the
forward (centered differences of ``sigmoid_forward``) or calls a numerical
helper (the kit's ``numerical_vjp``, the student's own ``numerical_gradient``)
gets numbers close enough to pass any comparison, so the checks watch the calls
instead (``sys.setprofile``, in the process that runs the student's code: the
student's kernel, ``backprop-kit check`` or the sandbox's verification):

- during the forward pass, every call of a course forward (``<op>_forward`` in an
  exercise file) and its arguments;
- during the backward, a course forward called again at arguments that are a
  small nudge of arguments it had in the forward pass (same shapes, each equal
  or within ``NUDGE`` of them, one moved by more than rounding), or any call of
  a numerical helper.

A forward called again at its own arguments (recomputing a cached value, even
by another route that rounds differently) is allowed, as is a forward at
unrelated arguments. What is seen is returned by ``run`` as plain text and
judged like any other answer (``numerical_failure``).
"""

import functools
import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from backprop_lib import EXERCISE_MODULES
from backprop_lib.kit.exercises.diagnosis import NUMERICAL
from backprop_lib.kit.results import FAILED

NUDGE = (1e-11, 1e-2)
"""A nudge moves an argument by more than the first and at most the second, relative to its size: centered-difference
steps lie between; a value recomputed another way differs by rounding (about 1e-16), well below."""
HELPERS = ("numerical_vjp", "numerical_gradient", "exact_like", "_derivative")
"""Functions of the library, the kit or the solutions that estimate a gradient numerically."""
MAX_NAMES = 200


@functools.cache
def _kind(code):
    """'forward' for a course forward, 'helper' for a numerical helper of the library or the solutions, else None."""
    path = Path(code.co_filename)
    exercise_file = path.parent.name in ("backprop_lib", "solutions")
    if code.co_name in HELPERS and (exercise_file or "backprop_lib" in path.parts[-4:-1]):
        return "helper"
    if code.co_name.endswith("_forward") and exercise_file and path.stem in EXERCISE_MODULES:
        return "forward"
    return None


def _arguments(frame):
    """The positional arguments of the call starting in ``frame``, arrays copied."""
    code = frame.f_code
    values = [frame.f_locals.get(name) for name in code.co_varnames[: code.co_argcount]]
    return [np.array(v, dtype=np.float64) if _is_numeric(v) else v for v in values]


def _is_numeric(value):
    try:
        return np.asarray(value).dtype.kind in "fiub"
    except (TypeError, ValueError):
        return False


def _nudged(seen, now):
    """True when ``now`` is ``seen`` with some numeric argument moved a little, every other one equal."""
    if len(seen) != len(now):
        return False
    moved = False
    for before, after in zip(seen, now, strict=True):
        if not isinstance(before, np.ndarray) or not isinstance(after, np.ndarray):
            if not _equal(before, after):
                return False
            continue
        if before.shape != after.shape:
            return False
        step = float(np.max(np.abs(after - before), initial=0.0))
        size = max(1.0, float(np.max(np.abs(before), initial=0.0)))
        if step > NUDGE[1] * size:
            return False
        moved = moved or step > NUDGE[0] * size
    return moved


def _equal(before, after):
    try:
        return bool(np.all(before == after))
    except (TypeError, ValueError):
        return before is after


class Watch:
    """What the student's code called: the forwards of the forward pass, and what was numerical in the backward."""

    def __init__(self):
        self.seen = {}
        self.numerical = set()

    def forward(self, function, *args):
        """``function(*args)`` (the forward pass), noting every course forward it calls and with what."""

        def note(frame):
            if _kind(frame.f_code) == "forward":
                self.seen.setdefault(frame.f_code.co_name, []).append(_arguments(frame))

        with _profiling(note):
            return function(*args)

    def backward(self, function, *args):
        """``function(*args)`` (the backward), noting a forward nudged away from the forward pass or a helper."""

        def note(frame):
            kind = _kind(frame.f_code)
            name = frame.f_code.co_name
            if kind == "helper" or (
                kind == "forward" and any(_nudged(seen, _arguments(frame)) for seen in self.seen.get(name, ()))
            ):
                self.numerical.add(name)

        with _profiling(note):
            return function(*args)

    def found(self):
        """The numerical calls as plain text (empty when none): ``run`` returns it as ``got["numerical"]``."""
        return np.array(", ".join(sorted(self.numerical))[:MAX_NAMES])


@contextmanager
def _profiling(note):
    """Call ``note(frame)`` at every Python call in this thread while the block runs."""

    def profile(frame, event, arg):
        if event == "call":
            note(frame)

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield
    finally:
        sys.setprofile(previous)


def numerical_failure(result, got):
    """Fill ``result`` as failed when ``got`` says the gradient was computed numerically; True if it was."""
    called = str(got.get("numerical", ""))
    if called:
        result.status = FAILED
        result.summary = f"computed numerically, not derived: while it ran it called {called}"
        result.diagnose(NUMERICAL)
    return bool(called)
