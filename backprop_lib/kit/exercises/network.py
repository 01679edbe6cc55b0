"""The checker's knowledge of the two-layer network (backprop_lib/network.py, notebook 7).

E = mean softmax cross-entropy of relu(x W1 + b1) W2 + b2, plus (reg / 2)(sum W1^2 + sum W2^2),
written here in plain numpy. Reference gradients come from centered differences
of this formula (the generic operation check); the known mistakes are computed
by ``_gradients`` with one part of the chain switched off.
"""

import numpy as np

from backprop_lib.kit.exercises.base import Hint
from backprop_lib.kit.exercises.operations import OperationSpec

KINK_MARGIN = 0.05


def two_layer_net(x, W1, b1, W2, b2, labels, reg):
    scores = np.maximum(x @ W1 + b1, 0.0) @ W2 + b2
    log_probs = scores - np.logaddexp.reduce(scores, axis=1, keepdims=True)
    data_loss = -np.mean(log_probs[np.arange(len(labels)), np.asarray(labels, dtype=np.intp)])
    return data_loss + 0.5 * reg * (np.sum(W1**2) + np.sum(W2**2))


def _network(rng, n, d, hidden, classes, reg):
    """Inputs with every hidden pre-activation at least KINK_MARGIN away from 0, and the constants."""
    while True:
        x, W1, b1 = rng.standard_normal((n, d)), rng.standard_normal((d, hidden)), rng.standard_normal(hidden) * 0.5
        if np.min(np.abs(x @ W1 + b1)) >= KINK_MARGIN:
            break
    W2, b2 = rng.standard_normal((hidden, classes)), rng.standard_normal(classes) * 0.5
    return [x, W1, b1, W2, b2], [rng.integers(0, classes, n), reg]


def _gradients(case, decay=1.0, mean=True, mask=True):
    """The network's gradients (dx, dW1, db1, dW2, db2), with parts of the chain changed.

    decay: the factor of reg W in dW (the right one is 1: d/dW (reg/2) sum W^2); mean: divide by N; mask: ReLU mask.
    """
    x, W1, b1, W2, b2 = case.items("input")
    labels, reg, dout = case.data["constant0"].astype(np.intp), float(case.data["constant1"]), case.data["dout"]
    z1 = x @ W1 + b1
    h = np.maximum(z1, 0.0)
    scores = h @ W2 + b2
    ds = np.exp(scores - np.logaddexp.reduce(scores, axis=1, keepdims=True))
    ds[np.arange(len(labels)), labels] -= 1.0
    ds *= dout / (len(labels) if mean else 1)
    dz1 = (ds @ W2.T) * (z1 > 0 if mask else 1.0)
    return [
        dz1 @ W1.T,
        x.T @ dz1 + decay * dout * reg * W1,
        dz1.sum(axis=0),
        h.T @ ds + decay * dout * reg * W2,
        ds.sum(axis=0),
    ]


def _decay_only_at(case, which):
    grads, without = _gradients(case), _gradients(case, decay=0.0)
    grads[which] = without[which]
    return grads


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
            "the weight decay is missing: W1 and W2 are each used twice in the forward (in their layer and in "
            "(reg/2) sum W^2), so each gradient has two contributions that add",
            lambda c: _gradients(c, decay=0.0),
        ),
        Hint("the weight decay reaches dW2 but not dW1: W1 is decayed too", lambda c: _decay_only_at(c, 1)),
        Hint("the weight decay reaches dW1 but not dW2: W2 is decayed too", lambda c: _decay_only_at(c, 3)),
        Hint(
            "the weight decay's gradient is twice too large: the 1/2 of (reg/2) sum W^2 cancels the 2 of the square",
            lambda c: _gradients(c, decay=2.0),
        ),
        Hint("the 1/N of the batch mean is missing from the loss's gradient", lambda c: _gradients(c, mean=False)),
        Hint(
            "the ReLU mask is missing between the layers: gradient flows back only where z1 = x W1 + b1 > 0",
            lambda c: _gradients(c, mask=False),
        ),
    ),
)
