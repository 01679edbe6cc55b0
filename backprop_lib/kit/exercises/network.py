"""The checker's knowledge of the two-layer network (backprop_lib/network.py, notebook 7).

E = mean softmax cross-entropy of relu(x W1 + b1) W2 + b2, plus (reg / 2)(sum W1^2 + sum W2^2),
written here in plain numpy. Reference gradients come from centered differences
of this formula (the generic operation check); a known mistake's gradients from
centered differences of the loss with one part changed (``_mistaken``), never
from a backward formula.
"""

import numpy as np

from backprop_lib.kit.exercises.base import Hint
from backprop_lib.kit.exercises.operations import OperationSpec
from backprop_lib.kit.gradcheck import numerical_vjp

KINK_MARGIN = 0.05


def two_layer_net(x, W1, b1, W2, b2, labels, reg):
    return _loss(x, W1, b1, W2, b2, labels, reg)


def _loss(x, W1, b1, W2, b2, labels, reg, decay1=1.0, decay2=1.0, mean=True, hidden=None):
    """The network's loss, or a mistake's version of it.

    decay1, decay2: factors of the weight decay of W1 and W2; mean: average the data loss over the batch (else
    sum); hidden: None for relu(z1), else a function of z1 standing in for it.
    """
    z1 = x @ W1 + b1
    h = np.maximum(z1, 0.0) if hidden is None else hidden(z1)
    scores = h @ W2 + b2
    log_probs = scores - np.logaddexp.reduce(scores, axis=1, keepdims=True)
    picked = log_probs[np.arange(len(labels)), np.asarray(labels, dtype=np.intp)]
    data_loss = -(np.mean(picked) if mean else np.sum(picked))
    return data_loss + 0.5 * reg * (decay1 * np.sum(W1**2) + decay2 * np.sum(W2**2))


def _network(rng, n, d, hidden, classes, reg):
    """Inputs with every hidden pre-activation at least KINK_MARGIN away from 0, and the constants."""
    while True:
        x, W1, b1 = rng.standard_normal((n, d)), rng.standard_normal((d, hidden)), rng.standard_normal(hidden) * 0.5
        if np.min(np.abs(x @ W1 + b1)) >= KINK_MARGIN:
            break
    W2, b2 = rng.standard_normal((hidden, classes)), rng.standard_normal(classes) * 0.5
    return [x, W1, b1, W2, b2], [rng.integers(0, classes, n), reg]


def _mistaken(case, **changes):
    """The gradients a mistake gives: centered differences of the loss with that part of the chain changed."""
    labels, reg = case.data["constant0"].astype(np.intp), float(case.data["constant1"])
    loss = lambda *inputs: _loss(*inputs, labels, reg, **changes)  # noqa: E731
    return numerical_vjp(loss, case.items("input"), case.data["dout"])[0]


def _unmasked(case):
    """Gradients through a ReLU whose backward passes everything: relu(z1) in the forward, slope 1 around it."""
    x, W1, b1 = case.items("input")[:3]
    z1 = x @ W1 + b1
    return _mistaken(case, hidden=lambda z: np.maximum(z1, 0.0) + (z - z1))


_Q = 1.0 / (1.0 + np.e)  # p of the second class for scores (1, 0)

NETWORK = OperationSpec(
    "two_layer_net",
    two_layer_net,
    lambda rng: [_network(rng, 5, 4, 6, 3, 0.1), _network(rng, 3, 2, 4, 2, 0.0)],
    worked=(
        (
            [[[1.0, 2.0]], np.eye(2), [0.0, -3.0], np.eye(2), [0.0, 0.0]],
            [[0], 1.0],
            1.0,
            [
                [[-_Q, 0.0]],
                [[1.0 - _Q, 0.0], [-2 * _Q, 1.0]],
                [-_Q, 0.0],
                [[1.0 - _Q, _Q], [0.0, 1.0]],
                [-_Q, _Q],
            ],
            "x = (1, 2), W1 = W2 = I, b1 = (0, -3), b2 = 0, label 0, reg = 1: z1 = (1, -1), s = (1, 0), "
            "p = (0.731, 0.269)",
        ),
    ),
    hints=(
        Hint(
            "weight decay missing",
            "the weight decay is missing: W1 and W2 are each used twice in the forward (in their layer and in "
            "(reg/2) sum W^2), so each gradient has two contributions that add",
            lambda c: _mistaken(c, decay1=0.0, decay2=0.0),
        ),
        Hint(
            "weight decay missing at one layer",
            "the weight decay reaches dW2 but not dW1: W1 is decayed too",
            lambda c: _mistaken(c, decay1=0.0),
        ),
        Hint(
            "weight decay missing at one layer",
            "the weight decay reaches dW1 but not dW2: W2 is decayed too",
            lambda c: _mistaken(c, decay2=0.0),
        ),
        Hint(
            "weight decay counted twice",
            "the weight decay's gradient is twice too large: the 1/2 of (reg/2) sum W^2 cancels the 2 of the square",
            lambda c: _mistaken(c, decay1=2.0, decay2=2.0),
        ),
        Hint(
            "batch mean missing",
            "the 1/N of the batch mean is missing from the loss's gradient",
            lambda c: _mistaken(c, mean=False),
        ),
        Hint(
            "ReLU mask missing",
            "the ReLU mask is missing between the layers: gradient flows back only where z1 = x W1 + b1 > 0",
            _unmasked,
        ),
    ),
)
