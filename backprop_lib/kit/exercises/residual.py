"""The checker's knowledge of the residual block out = h + relu(h W + b) (backprop_lib/layers.py, notebook 6).

Reference gradients come from centered differences of the formula; each known
mistake's gradients from centered differences of the function that mistake
differentiates (the branch alone, the block without its ReLU, ...), never from a
backward formula.
"""

import numpy as np

from backprop_lib.kit.exercises.base import Hint
from backprop_lib.kit.exercises.operations import OperationSpec
from backprop_lib.kit.gradcheck import numerical_vjp

KINK_MARGIN = 0.05


def residual(h, W, b):
    return h + np.maximum(h @ W + b, 0.0)


def _away_from_kinks(rng, n, m):
    """h, W, b with every pre-activation h W + b at least KINK_MARGIN away from 0."""
    while True:
        h, W, b = rng.standard_normal((n, m)), rng.standard_normal((m, m)) / np.sqrt(m), rng.standard_normal(m)
        if np.min(np.abs(h @ W + b)) >= KINK_MARGIN:
            return [h, W, b]


def _vjp(formula, case):
    """Centered differences of ``formula`` at the case's inputs with its upstream gradient."""
    return numerical_vjp(formula, case.items("input"), case.data["dout"])[0]


def _no_skip(case):
    """A backward that forgets the skip: the gradients of the branch relu(h W + b) alone."""
    return _vjp(lambda h, W, b: np.maximum(h @ W + b, 0.0), case)


def _no_mask(case):
    """A backward without the ReLU's: the gradients of h + (h W + b)."""
    return _vjp(lambda h, W, b: h + h @ W + b, case)


def _mask_from_output(case):
    """A backward that masks where the block's output is positive, instead of where z is."""
    on = residual(*case.items("input")) > 0
    return _vjp(lambda h, W, b: h + (h @ W + b) * on, case)


RESIDUAL = OperationSpec(
    "residual",
    residual,
    lambda rng: [(_away_from_kinks(rng, 4, 3), []), (_away_from_kinks(rng, 6, 5), [])],
    worked=(
        (
            [[[1.0, -1.0]], [[1.0, 0.0], [0.0, 1.0]], [0.5, 0.5]],
            [],
            [[1.0, 1.0]],
            [[[2.0, 1.0]], [[1.0, 0.0], [-1.0, 0.0]], [1.0, 0.0]],
            "h = (1, -1), W = I, b = (0.5, 0.5): z = (1.5, -0.5), the second unit is off; "
            "upstream (1, 1) gives dh = (2, 1), dW = ((1, 0), (-1, 0)), db = (1, 0)",
        ),
    ),
    hints=(
        Hint(
            "skip connection missing",
            "dh misses the skip connection: h reaches out directly (out = h + ...) as well as through the branch, "
            "and the two contributions add",
            _no_skip,
        ),
        Hint(
            "ReLU mask missing",
            "the ReLU mask is missing: the branch passes gradient only where z = h W + b > 0",
            _no_mask,
        ),
        Hint(
            "mask from the block's output",
            "the mask must come from z = h W + b (the relu cache), not from the block's output",
            _mask_from_output,
        ),
    ),
)
