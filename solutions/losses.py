"""Losses: a batch of predictions in, one scalar error E out.

Both take N rows (one per example) and average over the batch. The target is a
constant, not a graph input, so backward returns one gradient: (dE/dpred,).
``dout`` is the upstream gradient of the scalar loss (1.0 when E is the root).
"""

import numpy as np


def mse_forward(pred, target):
    """E = (1/N) sum_n ||pred_n - target_n||^2 for pred, target (N, K). Cache: (pred - target, N)."""
    pred = np.asarray(pred, dtype=np.float64)
    diff = pred - np.asarray(target, dtype=np.float64)
    n = pred.shape[0]
    return np.sum(diff**2) / n, (diff, n)


def mse_backward(dout, cache):
    """Backward of the mean squared error.

    One element: E = (1/N) sum_nk (pred_nk - target_nk)^2, so
        dE/dpred_nk = (2/N) (pred_nk - target_nk),   times the upstream dout.

    Args:
        dout: upstream gradient of the scalar loss, shape ().
        cache: (pred - target, N) from mse_forward.

    Returns:
        (dpred,) with shape (N, K).

    Hint: two constant factors: the 2 of the square and the 1/N of the mean.
    """
    ### BEGIN SOLUTION
    diff, n = cache
    return (dout * 2.0 * diff / n,)
    ### END SOLUTION


def softmax_cross_entropy_forward(logits, labels):
    """E = -(1/N) sum_n log softmax(logits_n)[labels_n], stably.

    logits (N, C) scores, labels (N,) integer classes in [0, C).
    Cache: (probs, labels) with probs = softmax(logits), shape (N, C).
    """
    logits = np.asarray(logits, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.intp)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = logits.shape[0]
    loss = -log_probs[np.arange(n), labels].sum() / n
    return loss, (np.exp(log_probs), labels)


def softmax_cross_entropy_backward(dout, cache):
    """Backward of the mean softmax cross-entropy.

    For one example with probabilities p = softmax(s) and true class y:
        dE_n/ds_c = p_c - [c == y],
    and the batch mean divides by N:  dE/dlogits = dout * (p - onehot(labels)) / N.

    Args:
        dout: upstream gradient of the scalar loss, shape ().
        cache: (probs, labels) from softmax_cross_entropy_forward.

    Returns:
        (dlogits,) with shape (N, C).

    Hint: copy probs before you subtract 1 at the true classes; do not change the cache.
    """
    ### BEGIN SOLUTION
    probs, labels = cache
    n = probs.shape[0]
    dlogits = probs.copy()
    dlogits[np.arange(n), labels] -= 1.0
    return (dout * dlogits / n,)
    ### END SOLUTION
