"""Numerical gradients by centered differences, and a comparison that says where it differs.

For a function f(inputs...) -> out and an upstream gradient dout (random, of
out's shape), the scalar L = sum(dout * f(inputs)) has
    dL/d(input) = the vector-Jacobian product dout^T J,
exactly what a backward function returns. Each element is estimated as
    (L(input + h e_i) - L(input - h e_i)) / (2 h),
in float64 on fresh copies of the inputs, so a function that mutates what it is
given cannot fool the check. Inputs larger than ``full_size`` are checked at a
random sample of elements (CS231n's sparse check) plus one random direction
over the whole array, which keeps a large linear layer well under a second.
"""

from dataclasses import dataclass

import numpy as np

STEP = 1e-6
RTOL = 1e-5
ATOL = 1e-7


def numerical_vjp(f, inputs, dout, *, step=STEP, full_size=2048, sample=192, rng=None):
    """Centered-difference estimate of dL/d(input) for every input.

    Args:
        f: pure function of the inputs returning an array of dout's shape.
        inputs: sequence of float64 arrays.
        dout: upstream gradient, shape of f's output.
        full_size: inputs with at most this many elements are estimated everywhere.
        sample: number of elements estimated in a larger input.

    Returns:
        (grads, directions): per input an array of its shape holding the estimate
        (NaN where not sampled), and per input None or a pair (v, dL/dt along v)
        for a random direction v, which covers the elements not sampled.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    inputs = [np.array(x, dtype=np.float64) for x in inputs]
    dout = np.asarray(dout, dtype=np.float64)

    def loss(values):
        return float(np.sum(dout * f(*[v.copy() for v in values])))

    grads, directions = [], []
    for i, x in enumerate(inputs):
        grad = np.full(x.shape, np.nan)
        flat = range(x.size) if x.size <= full_size else rng.choice(x.size, sample, replace=False)
        for j in flat:
            index = np.unravel_index(j, x.shape)
            grad[index] = _centered(loss, inputs, i, lambda v, index=index: _bump(v, index, step), step)
        grads.append(grad)
        if x.size <= full_size:
            directions.append(None)
        else:
            v = rng.standard_normal(x.shape)
            directions.append((v, _centered(loss, inputs, i, lambda u, v=v: u + step * v, step)))
    return grads, directions


def _bump(x, index, step):
    y = x.copy()
    y[index] += step
    return y


def _centered(loss, inputs, i, move, step):
    """(L(.. move(x_i) ..) - L(.. x_i moved the other way ..)) / 2h, with move(x) = x + h d."""
    plus, minus = list(inputs), list(inputs)
    plus[i] = move(inputs[i])
    minus[i] = 2 * inputs[i] - plus[i]
    return (loss(plus) - loss(minus)) / (2 * step)


def relative_error(expected, got):
    """Elementwise |got - expected| / (|got| + |expected|), 0 where both are 0."""
    expected, got = np.asarray(expected, dtype=np.float64), np.asarray(got, dtype=np.float64)
    scale = np.abs(expected) + np.abs(got)
    return np.divide(np.abs(got - expected), scale, out=np.zeros(np.broadcast(expected, got).shape), where=scale > 0)


def close(expected, got, *, rtol=RTOL, atol=ATOL):
    """True when got matches expected (same shape, NaN in expected meaning "not checked")."""
    expected, got = np.asarray(expected, dtype=np.float64), np.asarray(got, dtype=np.float64)
    if expected.shape != got.shape:
        return False
    checked = ~np.isnan(expected)
    tolerance = atol * max(1.0, float(np.max(np.abs(expected[checked]), initial=0.0))) + rtol * np.abs(expected)
    return bool(np.all(np.abs(got - expected)[checked] <= tolerance[checked]))


@dataclass(frozen=True)
class Mismatch:
    """Where a gradient differs from the expected one: the worst element."""

    index: tuple
    expected: float
    got: float
    relative_error: float
    count: int
    total: int

    def describe(self, name):
        where = f"{name}[{', '.join(map(str, self.index))}]" if self.index else name
        return (
            f"{self.count} of {self.total} checked elements differ; worst {where}: "
            f"expected {number(self.expected)}, got {number(self.got)} "
            f"(relative error {self.relative_error:.2g}: {RELATIVE_ERROR_IN_WORDS})"
        )


RELATIVE_ERROR_IN_WORDS = (
    "the difference divided by the sum of the two sizes, |got - expected| / (|got| + |expected|); "
    "0 means equal, 1 means one of them is 0 or their signs differ, and the check accepts about 1e-5"
)


def number(value):
    """A number as a student reads it: 6 significant digits, and 0 rather than -0."""
    return f"{float(value) + 0.0:.6g}"


def worst_mismatch(expected, got, *, rtol=RTOL, atol=ATOL):
    """The worst element of two same-shape arrays, or None when they match."""
    expected, got = np.asarray(expected, dtype=np.float64), np.asarray(got, dtype=np.float64)
    checked = ~np.isnan(expected)
    excess = np.where(checked, np.abs(got - expected), 0.0)
    tolerance = atol * max(1.0, float(np.max(np.abs(expected[checked]), initial=0.0))) + rtol * np.abs(expected)
    bad = checked & ~(excess <= np.where(checked, tolerance, np.inf))
    if not bad.any():
        return None
    score = np.where(bad, np.nan_to_num(excess / np.where(checked, tolerance, 1.0), nan=np.inf, posinf=np.inf), -1)
    index = np.unravel_index(int(np.argmax(score)), expected.shape)
    return Mismatch(
        index=tuple(int(i) for i in index),
        expected=float(expected[index]),
        got=float(got[index]),
        relative_error=float(relative_error(expected[index], got[index])),
        count=int(bad.sum()),
        total=int(checked.sum()),
    )
