"""The linear (fully connected) layer in the course's row-vector convention.

A batch of N row vectors x (N, M) times weights W (M, K) plus a bias b of
shape (K,) or (1, K), broadcast over the batch:
    z = x W + b,   z has shape (N, K).
Same contract as the gates (see gates.py): forward is given, backward is your
exercise; every gradient is a float64 array with its input's shape.
"""

import numpy as np

from backprop_lib.activations import relu_backward, relu_forward
from backprop_lib.broadcast import sum_to_shape


def linear_forward(x, W, b):
    """z = x W + b for x (N, M), W (M, K), b (K,) or (1, K). Cache: (x, W, b).

    Other shapes are refused with a ValueError that names them (one example is a
    batch of one row: ``x.reshape(1, -1)``).
    """
    x, W, b = (np.asarray(v, dtype=np.float64) for v in (x, W, b))
    _check_linear_shapes(x, W, b)
    return x @ W + b, (x, W, b)


def _check_linear_shapes(x, W, b):
    """Raise ValueError unless x is (N, M), W is (M, K) and b is (K,) or (1, K)."""
    if x.ndim != 2:
        raise ValueError(
            f"linear_forward: x has shape {x.shape}, but the layer takes a batch of rows, x of shape (N, M); "
            "one example is a batch of one row: x.reshape(1, -1)"
        )
    if W.ndim != 2 or W.shape[0] != x.shape[1]:
        raise ValueError(f"linear_forward: W has shape {W.shape}, expected (M, K) with M = {x.shape[1]} (x's columns)")
    if b.shape not in ((W.shape[1],), (1, W.shape[1])):
        raise ValueError(
            f"linear_forward: b has shape {b.shape}, expected (K,) or (1, K) with K = {W.shape[1]} (W's columns)"
        )


def linear_backward(dz, cache):
    """Backward of the linear layer, z = x W + b (row vectors, b broadcast over the batch).

    Args:
        dz: upstream gradient dE/dz, float64, shape (N, K).
        cache: (x, W, b) from linear_forward: x (N, M), W (M, K), b (K,) or (1, K).

    Returns:
        (dx, dW, db) in that order: dE/dx with shape (N, M), dE/dW with shape
        (M, K), dE/db with b's shape ((K,) stays (K,), (1, K) stays (1, K)).

    Write one element of z as a sum first; the shapes tell you the rest.
    """
    ### BEGIN SOLUTION
    x, W, b = cache
    return dz @ W.T, x.T @ dz, sum_to_shape(dz, b.shape)
    ### END SOLUTION


def residual_forward(h, W, b):
    """A residual block: out = h + relu(h W + b) for h (N, M), W (M, M), b (M,).

    The block adds a ReLU layer's output to its own input (the skip connection),
    so W is square and out has h's shape (N, M). It is built from the library's
    own forwards. Cache: (linear_cache, relu_cache), where linear_cache = (h, W, b)
    is linear_forward's cache and relu_cache = z = h W + b is relu_forward's, so
    your backward may call your own linear_backward and relu_backward.
    Convention at a kink (z exactly 0): as in relu_backward.
    """
    z, linear_cache = linear_forward(h, W, b)
    branch, relu_cache = relu_forward(z)
    return h + branch, (linear_cache, relu_cache)


def residual_backward(dout, cache):
    """Backward of the residual block out = h + relu(h W + b).

    Args:
        dout: upstream gradient dE/dout, shape (N, M).
        cache: (linear_cache, relu_cache) from residual_forward, with
            linear_cache = (h, W, b) and relu_cache = z = h W + b.

    Returns:
        (dh, dW, db) with shapes (N, M), (M, M), (M,), in that order.
    """
    ### BEGIN SOLUTION
    linear_cache, relu_cache = cache
    (dz,) = relu_backward(dout, relu_cache)
    dh, dW, db = linear_backward(dz, linear_cache)
    return dout + dh, dW, db
    ### END SOLUTION
