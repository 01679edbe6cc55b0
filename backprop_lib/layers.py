"""The linear (fully connected) layer in the course's row-vector convention.

A batch of N row vectors x (N, M) times weights W (M, K) plus bias b (K,):
    z = x W + b,   z has shape (N, K).
Same contract as the gates: forward is given, backward is your exercise.
"""

import numpy as np

from backprop_lib.activations import relu_forward


def linear_forward(x, W, b):
    """z = x W + b for x (N, M), W (M, K), b (K,). Cache: (x, W)."""
    x, W, b = (np.asarray(v, dtype=np.float64) for v in (x, W, b))
    return x @ W + b, (x, W)


def linear_backward(dz, cache):
    """Backward of z = x W + b.

    One element first: z_nk = sum_m x_nm W_mk + b_k, so
        dE/dx_nm = sum_k dE/dz_nk W_mk   ->  dE/dx = dE/dz W^T     (N, K)(K, M) = (N, M)
        dE/dW_mk = sum_n x_nm dE/dz_nk   ->  dE/dW = x^T dE/dz     (M, N)(N, K) = (M, K)
        dE/db_k  = sum_n dE/dz_nk        ->  dE/db = dE/dz summed over the batch (K,)

    Args:
        dz: upstream gradient dE/dz, shape (N, K).
        cache: (x, W) from linear_forward.

    Returns:
        (dx, dW, db) with shapes (N, M), (M, K), (K,), in that order.

    Hint: check dimensions; every gradient has its input's shape.
    """
    raise NotImplementedError("linear_backward is not implemented yet: write it in backprop_lib/layers.py")


def residual_forward(h, W, b):
    """A residual block: out = h + relu(h W + b) for h (N, M), W (M, M), b (M,).

    The block adds a ReLU layer's output to its own input (the skip connection),
    so W is square and out has h's shape (N, M). It is built from the library's
    own forwards. Cache: (linear_cache, relu_cache), where linear_cache = (h, W)
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
            linear_cache = (h, W) and relu_cache = z = h W + b.

    Returns:
        (dh, dW, db) with shapes (N, M), (M, M), (M,), in that order.
    """
    raise NotImplementedError("residual_backward is not implemented yet: write it in backprop_lib/layers.py")
