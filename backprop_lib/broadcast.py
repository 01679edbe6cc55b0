"""Undo numpy broadcasting in a backward pass.

When an elementwise operation broadcasts an input of shape S up to the output's
shape, every copy of an input element receives its own share of the upstream
gradient. The chain rule adds those shares, so the input's gradient is the
upstream gradient summed over the broadcast axes, which gives shape S again.
"""

import numpy as np


def sum_to_shape(grad, shape):
    """Sum ``grad`` over the axes that broadcasting added or stretched.

    Args:
        grad: gradient with the (broadcast) output's shape.
        shape: the shape of the input the gradient belongs to; ``()`` for a scalar.

    Returns:
        An array of exactly ``shape``.

    Example, in numbers: ``sum_to_shape(np.ones((2, 3)), (1, 3))`` is
    ``[[2., 2., 2.]]`` (two rows added up), and ``sum_to_shape(g, g.shape)`` equals
    ``g``.
    """
    grad = np.asarray(grad, dtype=np.float64)
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(axis for axis, size in enumerate(shape) if size == 1 and grad.shape[axis] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad.reshape(shape)
