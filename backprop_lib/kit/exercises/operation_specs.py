"""The checker's knowledge of each operation: formula, safe samples, worked cases, hints.

Formulas are the course's math in plain numpy, written here independently of
the exercise files. Samplers keep every input away from kinks and poles by at
least ``KINK_MARGIN``. Worked cases are the course's hand-derived numbers.
"""

import numpy as np

from backprop_lib.broadcast import sum_to_shape
from backprop_lib.kit.exercises.base import Hint
from backprop_lib.kit.exercises.operations import OperationSpec

KINK_MARGIN = 0.05


def _away_from_zero(rng, shape, low=KINK_MARGIN * 4, high=2.0):
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(low, high, size=shape)


def _binary_shapes(rng):
    """Same shapes, a broadcast row, and two scalars."""
    return [((3, 4), (3, 4)), ((3, 4), (4,)), ((), ())]


def _binary(rng):
    return [([rng.uniform(-2, 2, sa), rng.uniform(-2, 2, sb)], []) for sa, sb in _binary_shapes(rng)]


def _apart(rng):
    """Pairs (a, b) with |a - b| >= KINK_MARGIN everywhere: max is never sampled at a tie."""
    pairs = []
    for sa, sb in _binary_shapes(rng):
        while True:
            a, b = rng.uniform(-2, 2, sa), rng.uniform(-2, 2, sb)
            if np.min(np.abs(a - b)) >= KINK_MARGIN:
                break
        pairs.append(([a, b], []))
    return pairs


def _unary(rng, low=-2.0, high=2.0):
    return [([rng.uniform(low, high, shape)], []) for shape in ((3, 4), (5,), ())]


def _stable_sigmoid(x):
    return np.exp(-np.logaddexp(0.0, -x))


def _softmax_ce(logits, labels):
    log_probs = logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)
    return -np.mean(log_probs[np.arange(logits.shape[0]), labels])


def _softmax(logits):
    return np.exp(logits - np.logaddexp.reduce(logits, axis=1, keepdims=True))


def _inputs(case):
    return case.items("input")


def _dout(case):
    return case.data["dout"]


def _onehot(labels, classes):
    return np.eye(classes)[np.asarray(labels, dtype=np.intp)]


SPECS = (
    OperationSpec(
        "add",
        lambda a, b: a + b,
        _binary,
        worked=(([3.0, -4.0], [], 2.0, [2.0, 2.0], "course: the add gate distributes an upstream 2 to both inputs"),),
    ),
    OperationSpec(
        "subtract",
        lambda a, b: a - b,
        _binary,
        worked=(([1.0, 2.0], [], 1.0, [1.0, -1.0], "a - b with upstream 1 gives (1, -1)"),),
        hints=(
            Hint(
                "d(a - b)/db = -1: the second input's gradient is -dout",
                lambda c: [sum_to_shape(_dout(c), np.shape(x)) for x in _inputs(c)],
            ),
        ),
    ),
    OperationSpec(
        "multiply",
        lambda a, b: a * b,
        _binary,
        worked=(([3.0, -4.0], [], 2.0, [-8.0, 6.0], "course circuit: x = 3, y = -4, upstream 2 gives -8 and 6"),),
        hints=(
            Hint(
                "the multiply gate switches: dE/da = dout * b and dE/db = dout * a (the other input)",
                lambda c: [_dout(c) * _inputs(c)[0], _dout(c) * _inputs(c)[1]] if _same_shapes(c) else None,
            ),
        ),
    ),
    OperationSpec(
        "reciprocal",
        lambda x: 1.0 / x,
        lambda rng: [([_away_from_zero(rng, shape, 0.5)], []) for shape in ((3, 4), ())],
        worked=(([1.37], [], 1.0, [-1.0 / 1.37**2], "course sigmoid example: the 1/x gate at 1.37 gives -0.53"),),
        hints=(
            Hint("d(1/x)/dx = -1/x^2, not 1/x", lambda c: [_dout(c) / _inputs(c)[0]]),
            Hint("d(1/x)/dx = -1/x^2, not -1/x", lambda c: [-_dout(c) / _inputs(c)[0]]),
        ),
    ),
    OperationSpec(
        "add_constant",
        lambda x, c: x + c,
        lambda rng: [([rng.uniform(-2, 2, shape)], [1.0]) for shape in ((3, 4), ())],
        worked=(([-1.0], [1.0], -0.53, [-0.53], "course sigmoid example: the +1 gate passes -0.53 through"),),
    ),
    OperationSpec(
        "scale",
        lambda x, c: c * x,
        lambda rng: [([rng.uniform(-2, 2, (3, 4))], [2.5]), ([rng.uniform(-2, 2, ())], [-1.0])],
        worked=(([1.0], [-1.0], -0.20, [0.20], "course sigmoid example: the *-1 gate turns -0.20 into 0.20"),),
    ),
    OperationSpec(
        "negate",
        lambda x: -x,
        _unary,
        worked=(([1.0], [], 2.0, [-2.0], "-x with upstream 2 gives -2"),),
    ),
    OperationSpec(
        "exp",
        np.exp,
        _unary,
        worked=(
            ([-1.0], [], -0.53, [-0.53 * np.exp(-1.0)], "course sigmoid example: exp at -1 turns -0.53 into -0.20"),
        ),
        hints=(
            Hint("d(exp x)/dx = exp(x): multiply by the output, not the input", lambda c: [_dout(c) * _inputs(c)[0]]),
        ),
    ),
    OperationSpec(
        "log",
        np.log,
        lambda rng: _unary(rng, 0.5, 3.0),
        worked=(([2.0], [], 1.0, [0.5], "ln at x = 2 with upstream 1 gives 1/2"),),
        hints=(Hint("d(ln x)/dx = 1/x: divide dout by x", lambda c: [_dout(c) * _inputs(c)[0]]),),
    ),
    OperationSpec(
        "power",
        lambda x, p: x**p,
        lambda rng: [
            ([rng.uniform(-2, 2, (3, 4))], [2]),
            ([rng.uniform(-2, 2, (5,))], [3]),
            ([rng.uniform(-2, 2, ())], [2]),
        ],
        worked=(([3.0], [2], 1.0, [6.0], "x^2 at x = 3 with upstream 1 gives 2x = 6"),),
        hints=(
            Hint(
                "the factor p is missing: d(x^p)/dx = p x^(p-1) (the 2 of a square)",
                lambda c: [_dout(c) * _inputs(c)[0] ** (c.data["constant0"] - 1)],
            ),
            Hint(
                "the exponent drops by one: d(x^p)/dx = p x^(p-1), not p x^p",
                lambda c: [_dout(c) * c.data["constant0"] * _inputs(c)[0] ** c.data["constant0"]],
            ),
        ),
    ),
    OperationSpec(
        "maximum",
        np.maximum,
        _apart,
        worked=(
            ([2.0, -1.0], [], 2.0, [2.0, 0.0], "course circuit: max(z = 2, w = -1) routes the upstream 2 to z"),
            ([1.5, 1.5], [], 3.0, [3.0, 0.0], "a tie: by the course's convention the first input gets it all"),
        ),
        hints=(
            Hint(
                "at a tie the whole gradient goes to the first input only; yours sends it to both, "
                "so the two gradients add up to twice the upstream gradient",
                lambda c: (
                    [_dout(c) * (_inputs(c)[0] >= _inputs(c)[1]), _dout(c) * (_inputs(c)[1] >= _inputs(c)[0])]
                    if _same_shapes(c)
                    else None
                ),
            ),
            Hint(
                "the max gate routes the gradient to the LARGER input; yours goes to the smaller one",
                lambda c: (
                    [_dout(c) * (_inputs(c)[0] < _inputs(c)[1]), _dout(c) * (_inputs(c)[0] >= _inputs(c)[1])]
                    if _same_shapes(c)
                    else None
                ),
            ),
        ),
    ),
    OperationSpec(
        "sigmoid",
        _stable_sigmoid,
        lambda rng: _unary(rng, -4.0, 4.0),
        worked=(
            (
                [1.0],
                [],
                1.0,
                [_stable_sigmoid(1.0) * (1 - _stable_sigmoid(1.0))],
                "course: sigma(1) = 0.73, 0.73 * 0.27 = 0.20",
            ),
        ),
        hints=(
            Hint(
                "sigma'(x) = sigma(x)(1 - sigma(x)) uses the saved OUTPUT sigma(x), not the input x",
                lambda c: [_dout(c) * _inputs(c)[0] * (1 - _inputs(c)[0])],
            ),
            Hint(
                "you multiplied by sigma(x) only: the local gradient is sigma(x)(1 - sigma(x))",
                lambda c: [_dout(c) * _stable_sigmoid(_inputs(c)[0])],
            ),
        ),
    ),
    OperationSpec(
        "relu",
        lambda x: np.maximum(x, 0.0),
        lambda rng: [([_away_from_zero(rng, shape)], []) for shape in ((4, 5), (6,), ())],
        worked=(
            (
                [[-1.0, 0.0, 2.0]],
                [],
                [1.0, -2.0, 3.0],
                [[0.0, 0.0, 3.0]],
                "ReLU at x = (-1, 0, 2), upstream (1, -2, 3): the course's mask [x > 0] is 0 at 0",
            ),
        ),
        hints=(
            Hint(
                "ReLU passes the gradient only where x > 0: multiply dout by the mask (x > 0)",
                lambda c: [np.array(_dout(c), dtype=float)],
            ),
            Hint(
                "the mask is inverted: the gradient flows where x > 0, not where x < 0",
                lambda c: [_dout(c) * (_inputs(c)[0] < 0)],
            ),
            Hint(
                "the local gradient is the indicator [x > 0], not the output max(0, x)",
                lambda c: [_dout(c) * np.maximum(_inputs(c)[0], 0)],
            ),
            Hint(
                "the mask must come from the forward input x (the cache), not from dout",
                lambda c: [_dout(c) * (_dout(c) > 0)],
            ),
            Hint(
                "at exactly x = 0 the course's convention is a gradient of 0: use x > 0, not x >= 0",
                lambda c: [_dout(c) * (_inputs(c)[0] >= 0)],
            ),
        ),
    ),
    OperationSpec(
        "linear",
        lambda x, W, b: x @ W + b,
        lambda rng: [
            ([rng.standard_normal((4, 5)), rng.standard_normal((5, 3)), rng.standard_normal(3)], []),
            ([rng.standard_normal((8, 40)), rng.standard_normal((40, 70)), rng.standard_normal(70)], []),
        ],
        worked=(
            (
                [[[1.0, 2.0], [0.0, 1.0]], [[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]], [0.5, 0.0, 0.0]],
                [],
                [[1.0, 0.0, 2.0], [0.0, 1.0, -1.0]],
                [[[-1.0, 2.0], [1.0, 1.0]], [[1.0, 0.0, 2.0], [2.0, 1.0, 3.0]], [1.0, 1.0, 1.0]],
                "hand-derived, N = 2, M = 2, K = 3: dx = dz W^T = ((-1, 2), (1, 1)), dW = x^T dz, db = (1, 1, 1)",
            ),
        ),
        hints=(
            Hint(
                "dW looks transposed or its operands swapped: dE/dW = x^T dE/dz, shape (M, K) like W",
                lambda c: [
                    np.full(_inputs(c)[0].shape, np.nan),
                    (_inputs(c)[0].T @ _dout(c)).T,
                    np.full(_inputs(c)[2].shape, np.nan),
                ],
            ),
            Hint(
                "db must be summed over the batch: dE/db = dz.sum(axis=0), shape (K,)",
                lambda c: [np.full(_inputs(c)[0].shape, np.nan), np.full(_inputs(c)[1].shape, np.nan), _dout(c)],
            ),
            Hint(
                "db has shape (1, K): sum without keepdims (or reshape) so it has b's shape (K,)",
                lambda c: [
                    np.full(_inputs(c)[0].shape, np.nan),
                    np.full(_inputs(c)[1].shape, np.nan),
                    _dout(c).sum(axis=0, keepdims=True),
                ],
            ),
            Hint(
                "db is averaged over the batch; the chain rule SUMS it: dz.sum(axis=0)",
                lambda c: [
                    np.full(_inputs(c)[0].shape, np.nan),
                    np.full(_inputs(c)[1].shape, np.nan),
                    _dout(c).mean(axis=0),
                ],
            ),
            Hint(
                "return the gradients in the order of the inputs: (dx, dW, db)",
                lambda c: [_inputs(c)[0].T @ _dout(c), _dout(c) @ _inputs(c)[1].T, _dout(c).sum(axis=0)],
            ),
        ),
    ),
    OperationSpec(
        "mse",
        lambda pred, target: np.sum((pred - target) ** 2) / pred.shape[0],
        lambda rng: [
            ([rng.standard_normal((4, 3))], [rng.standard_normal((4, 3))]),
            ([rng.standard_normal((7, 1))], [rng.standard_normal((7, 1))]),
        ],
        worked=(
            (
                [[[1.0, 2.0]]],
                [[[0.0, 0.0]]],
                1.0,
                [[[2.0, 4.0]]],
                "E = (1 + 4) / 1, so dE/dpred = 2 (pred - target) = (2, 4)",
            ),
        ),
        hints=(
            Hint(
                "the factor 2 of the square is missing: dE/dpred = (2/N)(pred - target)",
                lambda c: [_dout(c) * (_inputs(c)[0] - c.data["constant0"]) / _inputs(c)[0].shape[0]],
            ),
            Hint(
                "the 1/N of the batch mean is missing: dE/dpred = (2/N)(pred - target)",
                lambda c: [_dout(c) * 2 * (_inputs(c)[0] - c.data["constant0"])],
            ),
        ),
    ),
    OperationSpec(
        "softmax_cross_entropy",
        _softmax_ce,
        lambda rng: [
            ([rng.standard_normal((5, 4)) * 2], [rng.integers(0, 4, 5)]),
            ([rng.standard_normal((3, 2)) + 50], [rng.integers(0, 2, 3)]),
        ],
        worked=(
            (
                [[[0.0, 0.0]]],
                [[0]],
                1.0,
                [[[-0.5, 0.5]]],
                "equal scores, true class 0: p = (0.5, 0.5), p - onehot = (-0.5, 0.5)",
            ),
        ),
        hints=(
            Hint(
                "subtract 1 at each example's true class: dE/dlogits = (p - onehot(labels)) / N",
                lambda c: [_dout(c) * _softmax(_inputs(c)[0]) / _inputs(c)[0].shape[0]],
            ),
            Hint(
                "the 1/N of the batch mean is missing: dE/dlogits = (p - onehot(labels)) / N",
                lambda c: [_dout(c) * (_softmax(_inputs(c)[0]) - _onehot(c.data["constant0"], _inputs(c)[0].shape[1]))],
            ),
        ),
    ),
)


def _same_shapes(case):
    a, b = _inputs(case)
    return np.shape(a) == np.shape(b)
