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
    ### BEGIN SOLUTION
    _, out = cache
    return (dout * out * (1.0 - out),)
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    x = cache
    return (dout * (x > 0),)
    ### END SOLUTION
