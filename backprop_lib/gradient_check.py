"""The gradient checker: estimate a gradient numerically, and measure how far two gradients differ.

Every backward pass of the course can be checked against these two functions.
They need only the forward computation: no derivative is written down, so a
numerical gradient is slow (two evaluations of f per element) but trustworthy,
which is what a check needs.
"""

import numpy as np  # noqa: F401 (the functions you write use it)


def numerical_gradient(f, x, h=1e-5):
    """Estimate the gradient of a scalar function f at x by centered differences.

    For every element x_i: nudge it up by h and down by h (all other elements as
    they are), evaluate f at both points, and take the centered difference
    quotient of the two values.

    Args:
        f: a function of one float64 array of x's shape, returning a number.
        x: a float64 numpy array of any shape (a 0-d array for a number). You may
            change its elements while you evaluate f, but x must hold its
            original values again when the function returns.
        h: the step size.

    Returns:
        df/dx estimated element by element: a new float64 array of x's shape.
    """
    raise NotImplementedError("numerical_gradient is not implemented yet: write it in backprop_lib/gradient_check.py")


def relative_error(a, b):
    """The relative error between two arrays of the same shape (or two numbers).

    Elementwise |a - b| / max(|a|, |b|), defined as 0 where a and b are both 0;
    the result is the largest of these, a float. Values around 1e-7 or below mean
    "the same up to rounding" for float64 gradients; 1e-2 or more means a bug.

    Args:
        a, b: numbers or float64 arrays of the same shape.

    Returns:
        max over elements of |a - b| / max(|a|, |b|), a Python float (0.0 for empty arrays).
    """
    raise NotImplementedError("relative_error is not implemented yet: write it in backprop_lib/gradient_check.py")
