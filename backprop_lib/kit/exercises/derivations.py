"""Checks for the chain-rule derivations of notebook 1 (backprop_lib/derivations.py).

Each returned factor is compared with a centered difference of the course's own
toy functions: h1 = w1^T x, e = (y - h1)^2 (k = 1) and e = -log(sigma(h1)) (k = 2).
"""

import numpy as np

from backprop_lib.kit.exercises.base import Case, compare_gradients
from backprop_lib.kit.exercises.diagnosis import sign_or_factor
from backprop_lib.kit.gradcheck import STEP
from backprop_lib.kit.results import FAILED, CheckResult


def _derivative(f, x):
    """Centered-difference gradient of a scalar function of an array (or a number)."""
    x = np.asarray(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = STEP
        grad[index] = (f(x + step) - f(x - step)) / (2 * STEP)
    return grad


def _log_sigmoid(h):
    return -np.logaddexp(0.0, -h)


class DerivationExercise:
    """A function returning chain-rule factors, each checked against a numerical derivative."""

    module, path = "derivations", "backprop_lib/derivations.py"

    def __init__(self, name, title, arguments, parts, references, worked):
        self.name, self.title, self.arguments, self.parts = name, title, arguments, parts
        self.references, self.worked = references, worked

    def cases(self, seed):
        rng = np.random.default_rng(seed)
        random = [{"x": rng.uniform(-2, 2, 3), "w1": rng.uniform(-1, 1, 3), "y": rng.uniform(-1, 1)} for _ in range(2)]
        notes = [self.worked[1]] + ["random x and w1 of shape (3,)"] * 2
        cases = [self.worked[0], *random]
        return [
            Case({k: np.asarray(v, dtype=np.float64) for k, v in c.items() if k in self.arguments}, note)
            for c, note in zip(cases, notes, strict=True)
        ]

    def run(self, case):
        from backprop_lib import derivations

        returned = getattr(derivations, self.name)(*(case.data[a] for a in self.arguments))
        parts = returned if isinstance(returned, tuple | list) else [returned]
        return {"count": np.array(len(parts))} | {
            f"part{i}": np.array(p, dtype=np.float64) for i, p in enumerate(parts)
        }

    def judge(self, case, got):
        result = CheckResult(self.name, self.path, FAILED, details=[])
        if int(got["count"]) != len(self.parts):
            result.summary = (
                f"returned {int(got['count'])} values, expected {len(self.parts)}: ({', '.join(self.parts)})"
            )
            return result
        expected = [reference(**case.data) for reference in self.references]
        grads = [got[f"part{i}"] for i in range(len(self.parts))]
        for name, want, grad in zip(self.parts, expected, grads, strict=True):
            if grad.shape != np.shape(want):
                result.summary = f"{name} has shape {grad.shape}, expected {np.shape(want)}"
                return result
        if not compare_gradients(result, self.parts, expected, grads, case.note):
            result.diagnose(sign_or_factor(self.parts, expected, grads))
        return result


def _h1(x, w1):
    return x @ w1


SQUARED_ERROR = DerivationExercise(
    "squared_error_factors",
    "chain rule, k = 1: e = (y - w1^T x)^2",
    ("x", "w1", "y"),
    ("dh1/dw1", "de/dh1", "de/dw1"),
    (
        lambda x, w1, y: _derivative(lambda w: _h1(x, w), w1),
        lambda x, w1, y: _derivative(lambda h: (y - h) ** 2, _h1(x, w1)),
        lambda x, w1, y: _derivative(lambda w: (y - _h1(x, w)) ** 2, w1),
    ),
    ({"x": [1.0, 2.0], "w1": [0.5, -1.0], "y": 1.0}, "x = (1, 2), w1 = (0.5, -1), y = 1: h1 = -1.5"),
)

LOGISTIC = DerivationExercise(
    "logistic_factors",
    "chain rule, k = 2: e = -log(sigma(w1^T x))",
    ("x", "w1"),
    ("dh1/dw1", "dh2/dh1", "de/dh2", "de/dw1"),
    (
        lambda x, w1, **_: _derivative(lambda w: _h1(x, w), w1),
        lambda x, w1, **_: _derivative(lambda h: np.exp(_log_sigmoid(h)), _h1(x, w1)),
        lambda x, w1, **_: _derivative(lambda h2: -np.log(h2), np.exp(_log_sigmoid(_h1(x, w1)))),
        lambda x, w1, **_: _derivative(lambda w: -_log_sigmoid(_h1(x, w)), w1),
    ),
    ({"x": [1.0, 2.0], "w1": [0.5, -1.0]}, "x = (1, 2), w1 = (0.5, -1): h1 = -1.5"),
)
