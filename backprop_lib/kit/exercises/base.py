"""What every exercise shares: cases as plain arrays, hints, and gradient comparison.

An exercise is checked in three steps, so that the step that runs student code
can live in another process (the autograder's sandbox):

    cases = exercise.cases(seed)     # plain numpy data, no student code
    got = exercise.run(case)         # calls the student's code; returns plain arrays
    result = exercise.judge(case, got)   # compares with reference gradients

``Case.data`` and ``got`` are dicts of numpy arrays (no objects), so they can
cross a process boundary as ``.npz`` files without pickle.
"""

from dataclasses import dataclass, field

import numpy as np

from backprop_lib.kit.gradcheck import close, worst_mismatch
from backprop_lib.kit.results import FAILED, PASSED, Diagnosis


@dataclass
class Case:
    """One input to an exercise: named arrays and a note saying what it is."""

    data: dict[str, np.ndarray]
    note: str = ""

    def to_arrays(self):
        return {**self.data, "_note": np.array(self.note)}

    @classmethod
    def from_arrays(cls, arrays):
        arrays = dict(arrays)
        note = str(arrays.pop("_note", ""))
        return cls({key: np.asarray(value) for key, value in arrays.items()}, note)

    def items(self, prefix):
        """The arrays named prefix0, prefix1, ... in order."""
        values = []
        while f"{prefix}{len(values)}" in self.data:
            values.append(self.data[f"{prefix}{len(values)}"])
        return values


@dataclass(frozen=True)
class Hint(Diagnosis):
    """A known mistake: its Diagnosis (name, and what to tell a student who makes it), and the answer it produces.

    ``candidate(case)`` returns the gradients the mistake would give (a list, one
    per returned gradient, NaN meaning "any value") or None where it does not apply.
    """

    candidate: object = field(default=None, repr=False)


def matches(candidate, grads):
    """True when every returned gradient equals the mistake's candidate."""
    return (
        candidate is not None
        and len(candidate) == len(grads)
        and all(close(c, g) for c, g in zip(candidate, grads, strict=True))
    )


def first_hint(hints, case, grads):
    """The first hint whose candidate matches the student's gradients (a Diagnosis), or None."""
    for hint in hints:
        try:
            candidate = hint.candidate(case)
        except (ValueError, IndexError, FloatingPointError):
            continue
        if matches(candidate, grads):
            return hint
    return None


def compare_gradients(result, names, expected, grads, note):
    """Fill ``result`` from the first gradient that differs from ``expected``; True if all match."""
    for name, want, got in zip(names, expected, grads, strict=True):
        mismatch = worst_mismatch(want, got)
        if mismatch is not None:
            result.status = FAILED
            result.summary = f"{name} is wrong"
            result.details = [mismatch.describe(name), f"case: {note}"]
            return False
    result.status = PASSED
    return True
