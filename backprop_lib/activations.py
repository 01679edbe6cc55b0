"""Activation functions: sigmoid and ReLU, elementwise, any shape.

Same contract as the gates: ``out, cache = <op>_forward(x)`` is given and
``(dx,) = <op>_backward(dout, cache)`` is your exercise. An elementwise
operation has a diagonal Jacobian, so its backward is an elementwise product
of the upstream gradient with the local derivative: never build the Jacobian.
"""

import numpy as np


def sigmoid_forward(x):
    """out = sigma(x) = 1 / (1 + exp(-x)), computed stably. Cache: (x, out)."""
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(-np.abs(x))
    out = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return out, (x, out)


def sigmoid_backward(dout, cache):
    """Backward of the sigmoid gate.

    Local gradient, from the saved *output*:
        d sigma(x)/dx = sigma(x) (1 - sigma(x)),
    so dE/dx = dE/dout * out * (1 - out).

    Course example: out = 0.73 with upstream 1.00 gives 0.73 * 0.27 = 0.20.

    Args:
        dout: upstream gradient, shape of x.
        cache: (x, out) from sigmoid_forward.

    Returns:
        (dx,) with the shape of x.

    Hint: sigma(1 - sigma) needs the output sigma(x), not the input x.
    """
    raise NotImplementedError("sigmoid_backward is not implemented yet: write it in backprop_lib/activations.py")


def relu_forward(x):
    """out = max(0, x) elementwise. Cache: x."""
    x = np.asarray(x, dtype=np.float64)
    return np.maximum(x, 0.0), x


def relu_backward(dout, cache):
    """Backward of ReLU: dE/dx = dE/dout * [x > 0].

    The Jacobian is diagonal with entries [x_i > 0], so the backward is a mask.
    Convention at exactly x = 0: the local gradient is 0 (the unit counts as off).

    Args:
        dout: upstream gradient, shape of x.
        cache: x from relu_forward.

    Returns:
        (dx,) with the shape of x.

    Hint: the mask comes from the forward *input* x, not from dout.
    """
    raise NotImplementedError("relu_backward is not implemented yet: write it in backprop_lib/activations.py")


def softmax_forward(s):
    """p = softmax(s) row by row, computed stably, for scores s (N, K).

    p_nk = exp(s_nk) / sum_j exp(s_nj); every row of p is positive and sums to 1.
    Subtracting each row's maximum first changes nothing mathematically and keeps
    exp from overflowing. Cache: p, shape (N, K).
    """
    s = np.asarray(s, dtype=np.float64)
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    p = e / e.sum(axis=-1, keepdims=True)
    return p, p


def softmax_jacobian(p):
    """The Jacobian of softmax for ONE row, from that row's output.

    For scores s (K,) with p = softmax(s), return the (K, K) matrix J with
    J[i, j] = dp_i / ds_j (rows: outputs, columns: inputs, notebook 5's layout).
    It depends on s only through p, so p is all you are given.

    Args:
        p: one row of softmax probabilities, shape (K,).

    Returns:
        J, a float64 array of shape (K, K).
    """
    raise NotImplementedError("softmax_jacobian is not implemented yet: write it in backprop_lib/activations.py")


def softmax_backward(dout, cache):
    """Backward of the row-wise softmax p = softmax(s) for a batch s (N, K).

    Each row's scores affect only that row's probabilities, so row n of ds is
    row n of dout times that row's Jacobian (your ``softmax_jacobian``), as a
    vector-Jacobian product. Compute it in O(N K) time and memory: do NOT build
    a (K, K) matrix (nor an (N, K, K) array); for K = 50 000 classes one Jacobian
    alone would take 20 GB. The check measures the memory your backward uses.

    Args:
        dout: upstream gradient dE/dp, shape (N, K).
        cache: p from softmax_forward, shape (N, K).

    Returns:
        (ds,) with shape (N, K).
    """
    raise NotImplementedError("softmax_backward is not implemented yet: write it in backprop_lib/activations.py")
