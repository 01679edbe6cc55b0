"""The checker's knowledge of each operation: formula, safe samples, worked cases, kinks, hints.

Formulas are the course's math in plain numpy, written here independently of
the exercise files. Samplers keep every input away from kinks and poles by at
least ``KINK_MARGIN``. Worked cases are the course's hand-derived numbers; at a
kink or tie (ReLU at 0, max at a tie) any valid subgradient passes, and the
reference follows the course's convention (half of dout at a ReLU's 0, a tie
split equally). Hints name a mistake of one operation; they run after the
generic diagnoses (``diagnosis.py``) and never state the answer.
"""

import numpy as np

from backprop_lib.kit.exercises.base import Hint
from backprop_lib.kit.exercises.operations import OperationSpec
from backprop_lib.kit.results import Diagnosis

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


def _share_note(where, shares):
    """A passed check's note when the student's shares at kinks differ from the course's half."""
    if shares.size == 0 or np.allclose(shares, 0.5):
        return None
    share = ", ".join(f"{t:.3g}" for t in np.unique(np.round(shares, 6)))
    return (
        f"{where} you passed a share {share} of dout: a valid subgradient (any share in [0, 1] is), "
        "the course's convention is half"
    )


def _valid_shares(dout, got, kink):
    """Shares got / dout at the kink elements, or None when one is outside [0, 1] (or got != 0 where dout = 0)."""
    dout, got = np.broadcast_to(dout, got.shape), np.asarray(got)
    zero = kink & (dout == 0)
    if np.any(np.abs(got[zero]) > 1e-12):
        return None
    moving = kink & (dout != 0)
    shares = got[moving] / dout[moving]
    return shares if np.all((shares >= -1e-9) & (shares <= 1 + 1e-9)) else None


RELU_KINK = Diagnosis(
    "not a subgradient at a kink",
    "at the kink x = 0, dx must be a share between 0 and 1 of dout (any such share passes)",
)
TIE_SHARE = Diagnosis(RELU_KINK.name, "at a tie a = b each input's share of dout must lie between 0 and 1")
TIE_NOT_SPLIT = Diagnosis(
    "tie not split exactly once",
    "at a tie a = b your da and db do not add up to dout: between them they must pass on the upstream "
    "gradient exactly once (any split between a and b passes)",
)


def _relu_kinks(inputs, constants, dout, expected, grads):
    """At x = 0 any share of dout in [0, 1] is a valid subgradient of ReLU."""
    (x,), (dx,) = inputs, grads
    kink = x == 0
    if not kink.any():
        return expected, None, None
    shares = _valid_shares(dout, dx, kink)
    if shares is None:
        return expected, None, RELU_KINK
    return [np.where(kink, dx, expected[0])], _share_note("at x = 0", shares), None


def _maximum_kinks(inputs, constants, dout, expected, grads):
    """At a tie a == b any split of dout, shares in [0, 1] adding up to 1, is a valid subgradient of max."""
    (a, b), (da, db) = inputs, grads
    if np.shape(a) != np.shape(b) or not np.any(a == b):
        return expected, None, None
    tie, upstream = a == b, np.broadcast_to(dout, da.shape)
    if not np.allclose((da + db)[tie], upstream[tie]):
        return expected, None, TIE_NOT_SPLIT
    shares = _valid_shares(dout, da, tie)
    if shares is None:
        return expected, None, TIE_SHARE
    fixed = [np.where(tie, da, expected[0]), np.where(tie, db, expected[1])]
    return fixed, _share_note("at the tie a = b, to a", shares), None


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
        worked=(([1.0, 2.0], [], 1.0, [1.0, -1.0], "a - b at a = 1, b = 2 with upstream 1 gives (1, -1)"),),
    ),
    OperationSpec(
        "multiply",
        lambda a, b: a * b,
        _binary,
        worked=(([3.0, -4.0], [], 2.0, [-8.0, 6.0], "course circuit: x = 3, y = -4, upstream 2 gives -8 and 6"),),
    ),
    OperationSpec(
        "reciprocal",
        lambda x: 1.0 / x,
        lambda rng: [([_away_from_zero(rng, shape, 0.5)], []) for shape in ((3, 4), ())],
        worked=(([1.37], [], 1.0, [-1.0 / 1.37**2], "course sigmoid example: the 1/x gate at 1.37 gives -0.53"),),
        hints=(
            Hint(
                "output used as the local gradient",
                "dx multiplies dout by 1/x, the forward's output: the local gradient is the derivative of 1/x",
                lambda c: [_dout(c) / _inputs(c)[0]],
            ),
            Hint(
                "wrong power of x",
                "dx multiplies dout by -1/x: close, but that is not the derivative of 1/x (check the power of x)",
                lambda c: [-_dout(c) / _inputs(c)[0]],
            ),
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
            Hint(
                "input used as the local gradient",
                "dx multiplies dout by the input x: look at what the cache holds and what exp's local gradient is",
                lambda c: [_dout(c) * _inputs(c)[0]],
            ),
            Hint(
                "exp applied to the cache",
                "dx applies exp to the cache, which already holds exp(x) (exp twice), and does not use dout",
                lambda c: [np.exp(np.exp(_inputs(c)[0]))],
            ),
            Hint(
                "exp applied to the cache",
                "dx applies exp to the cache, which already holds exp(x): that is exp twice",
                lambda c: [_dout(c) * np.exp(np.exp(_inputs(c)[0]))],
            ),
        ),
    ),
    OperationSpec(
        "log",
        np.log,
        lambda rng: _unary(rng, 0.5, 3.0),
        worked=(([2.0], [], 1.0, [0.5], "ln at x = 2 with upstream 1 gives 1/2"),),
        hints=(
            Hint(
                "input used as the local gradient",
                "dx multiplies dout by x: that is not the local gradient of ln x",
                lambda c: [_dout(c) * _inputs(c)[0]],
            ),
        ),
    ),
    OperationSpec(
        "power",
        lambda x, p: x**p,
        lambda rng: [
            ([rng.uniform(-2, 2, (3, 4))], [2]),
            ([rng.uniform(-2, 2, (5,))], [3]),
            ([rng.uniform(-2, 2, ())], [2]),
        ],
        worked=(
            ([3.0], [2], 1.0, [6.0], "x^2 at x = 3 with upstream 1 gives 6"),
            ([[0.0, 1.5, -2.0]], [0], [1.0, -2.0, 0.5], [[0.0, 0.0, 0.0]], "p = 0: x^0 is 1 everywhere, x = 0 too"),
        ),
        hints=(
            Hint(
                "exponent kept",
                "dx keeps the exponent p: differentiating x^p lowers the power of x by one",
                lambda c: [_dout(c) * c.data["constant0"] * _inputs(c)[0] ** c.data["constant0"]],
            ),
        ),
        nonfinite_hint=Diagnosis(
            "NaN at p = 0",
            "for p = 0 the output x^0 is the constant 1, also at x = 0, so its gradient is 0 there; "
            "a formula that divides by x (or raises 0 to a negative power) gives NaN instead",
        ),
    ),
    OperationSpec(
        "maximum",
        np.maximum,
        _apart,
        worked=(
            ([2.0, -1.0], [], 2.0, [2.0, 0.0], "course circuit: max(z = 2, w = -1) routes the upstream 2 to z"),
            ([1.5, 1.5], [], 3.0, [1.5, 1.5], "a tie a = b: any split of dout passes; the course splits it equally"),
        ),
        kinks=_maximum_kinks,
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
                "course: sigma(1) = 0.73 with upstream 1 gives 0.20",
            ),
        ),
        hints=(
            Hint(
                "derivative from the input, not sigma(x)",
                "dx computes the local gradient from the input x, where the derivative needs sigma(x): "
                "the cache holds both",
                lambda c: [_dout(c) * _inputs(c)[0] * (1 - _inputs(c)[0])],
            ),
            Hint(
                "output used as the local gradient",
                "dx multiplies dout by sigma(x) alone: that is the forward's output, not its derivative",
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
                [[0.0, -1.0, 3.0]],
                "ReLU at x = (-1, 0, 2), upstream (1, -2, 3): at the kink x = 0 any share of dout in [0, 1] "
                "passes; the course passes half",
            ),
        ),
        hints=(
            Hint(
                "mask inverted",
                "dx lets the gradient through where x < 0 and blocks it where x > 0: the mask is inverted",
                lambda c: [_dout(c) * (_inputs(c)[0] < 0)],
            ),
            Hint(
                "output used as the local gradient",
                "dx multiplies dout by the forward's output max(0, x): the local gradient is not the output",
                lambda c: [_dout(c) * np.maximum(_inputs(c)[0], 0)],
            ),
            Hint(
                "mask from the upstream gradient",
                "dx's mask follows the sign of dout: which elements pass depends on the forward's input x "
                "(the cache), not on the upstream gradient",
                lambda c: [_dout(c) * (_dout(c) > 0)],
            ),
        ),
        kinks=_relu_kinks,
    ),
    OperationSpec(
        "linear",
        lambda x, W, b: x @ W + b,
        lambda rng: [
            ([rng.standard_normal((4, 5)), rng.standard_normal((5, 3)), rng.standard_normal(3)], []),
            ([rng.standard_normal((2, 3)), rng.standard_normal((3, 4)), rng.standard_normal((1, 4))], []),
            ([rng.standard_normal((8, 40)), rng.standard_normal((40, 70)), rng.standard_normal(70)], []),
        ],
        worked=(
            (
                [[[1.0, 2.0], [0.0, 1.0]], [[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]], [0.5, 0.0, 0.0]],
                [],
                [[1.0, 0.0, 2.0], [0.0, 1.0, -1.0]],
                [[[-1.0, 2.0], [1.0, 1.0]], [[1.0, 0.0, 2.0], [2.0, 1.0, 3.0]], [1.0, 1.0, 1.0]],
                "hand-derived in notebook 6, N = 2, M = 2, K = 3: dx = ((-1, 2), (1, 1)), "
                "dW = ((1, 0, 2), (2, 1, 3)), db = (1, 1, 1)",
            ),
        ),
        hints=(
            Hint(
                "averaged over the batch, not summed",
                "db averages dz over the batch: each example adds its own share, so the batch's shares add up",
                lambda c: [
                    np.full(_inputs(c)[0].shape, np.nan),
                    np.full(_inputs(c)[1].shape, np.nan),
                    _dout(c).mean(axis=0).reshape(_inputs(c)[2].shape),
                ],
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
                "one example, pred = (1, 2), target = (0, 0): E = 5 and dE/dpred = (2, 4)",
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
                "equal scores, true class 0: p = (0.5, 0.5) and dE/dlogits = (-0.5, 0.5)",
            ),
        ),
        hints=(
            Hint(
                "labels ignored",
                "dlogits does not depend on the labels: the true class of each example must change its row",
                lambda c: [_dout(c) * _softmax(_inputs(c)[0]) / _inputs(c)[0].shape[0]],
            ),
        ),
    ),
)


def _same_shapes(case):
    a, b = _inputs(case)
    return np.shape(a) == np.shape(b)
