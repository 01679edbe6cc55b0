"""Chain-rule derivations of notebook 1, written as functions you can check.

A network is a composition of layers; SGD updates every weight with
w_k <- w_k - eta de/dw_k, and the chain rule gives each de/dw_k as
[upstream gradient de/dh_k] x [local gradient dh_k/dw_k].

Row-vector notation: x and w1 are vectors of shape (M,), and h1 = w1^T x = x . w1
is a scalar. Return plain numbers (or 0-d arrays) for scalars and float64
arrays of shape (M,) for vectors.
"""

import numpy as np


def squared_error_factors(x, w1, y):
    """Toy case k = 1: e = (y - h1)^2 with h1 = w1^T x.

    Derive, at the given point, and return in this order:
        dh1/dw1   (M,)  - how h1 moves with each weight,
        de/dh1    ()    - the upstream gradient of the loss,
        de/dw1    (M,)  - how e moves with each weight.

    Args:
        x: input, shape (M,).
        w1: weights, shape (M,).
        y: target, a number.

    Returns:
        (dh1_dw1, de_dh1, de_dw1).
    """
    ### BEGIN SOLUTION
    x, w1 = np.asarray(x, dtype=np.float64), np.asarray(w1, dtype=np.float64)
    h1 = x @ w1
    dh1_dw1 = x
    de_dh1 = -2.0 * (y - h1)
    return dh1_dw1, de_dh1, de_dh1 * dh1_dw1
    ### END SOLUTION


def logistic_factors(x, w1):
    """Toy case k = 2: e = -log(h2) with h2 = sigma(h1), h1 = w1^T x (target y = 1).

    Derive, at the given point, and return in this order:
        dh1/dw1   (M,)  - local gradient of the first layer,
        dh2/dh1   ()    - local gradient of the sigmoid,
        de/dh2    ()    - upstream gradient of the loss,
        de/dw1    (M,)  - how e moves with each weight.

    Args:
        x: input, shape (M,).
        w1: weights, shape (M,).

    Returns:
        (dh1_dw1, dh2_dh1, de_dh2, de_dw1).
    """
    ### BEGIN SOLUTION
    x, w1 = np.asarray(x, dtype=np.float64), np.asarray(w1, dtype=np.float64)
    h2 = 1.0 / (1.0 + np.exp(-(x @ w1)))
    dh1_dw1 = x
    dh2_dh1 = h2 * (1.0 - h2)
    de_dh2 = -1.0 / h2
    return dh1_dw1, dh2_dh1, de_dh2, de_dh2 * dh2_dh1 * dh1_dw1
    ### END SOLUTION
