"""Losses: a batch of predictions in, one scalar error E out.

Both take N rows (one per example) and average over the batch. The target is a
constant, not a graph input, so backward returns one gradient: (dE/dpred,).
``dout`` is the upstream gradient of the scalar loss, a float64 0-d array
(1.0 when E is the root); the gradient is a float64 array of the prediction's
shape. Never change ``dout`` or the cache in place.
"""

import numpy as np


def mse_forward(pred, target):
    """E = (1/N) sum_n ||pred_n - target_n||^2 for pred, target (N, K). Cache: (pred - target, N)."""
    pred = np.asarray(pred, dtype=np.float64)
    diff = pred - np.asarray(target, dtype=np.float64)
    n = pred.shape[0]
    return np.sum(diff**2) / n, (diff, n)


def mse_backward(dout, cache):
    """Backward of the mean squared error E = (1/N) sum_nk (pred_nk - target_nk)^2.

    Args:
        dout: upstream gradient of the scalar loss, float64, shape ().
        cache: (pred - target, N) from mse_forward.

    Returns:
        (dpred,): dE/dpred with shape (N, K).
    """
    ### BEGIN SOLUTION
    diff, n = cache
    return (dout * 2.0 * diff / n,)
    ### END SOLUTION


def softmax_cross_entropy_forward(logits, labels):
    """E = -(1/N) sum_n log softmax(logits_n)[labels_n], stably.

    logits (N, C) scores, labels (N,) integer classes in [0, C); a label outside
    that range is a ValueError naming it and its example.
    Cache: (probs, labels) with probs = softmax(logits), shape (N, C).
    """
    logits = np.asarray(logits, dtype=np.float64)
    given = np.asarray(labels)
    n, classes = logits.shape
    labels = given.astype(np.intp)
    if given.shape != (n,) or not np.array_equal(labels, given):
        raise ValueError(f"labels must be {n} integer classes, one per row of logits; got {given!r}")
    outside = np.flatnonzero((labels < 0) | (labels >= classes))
    if outside.size:
        i = int(outside[0])
        raise ValueError(f"label {labels[i]} at index {i} is not a class: labels must lie in [0, {classes})")
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(n), labels].sum() / n
    return loss, (np.exp(log_probs), labels)


def softmax_cross_entropy_backward(dout, cache):
    """Backward of the mean softmax cross-entropy over a batch of N examples and C classes.

    Args:
        dout: upstream gradient of the scalar loss, float64, shape ().
        cache: (probs, labels) from softmax_cross_entropy_forward: probs (N, C)
            are the softmax probabilities, labels (N,) the true classes. Read
            probs, never change it in place.

    Returns:
        (dlogits,): dE/dlogits with shape (N, C).
    """
    ### BEGIN SOLUTION
    probs, labels = cache
    n = probs.shape[0]
    dlogits = probs.copy()
    dlogits[np.arange(n), labels] -= 1.0
    return (dout * dlogits / n,)
    ### END SOLUTION
