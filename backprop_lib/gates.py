"""Gates: the elementwise operations of a computation graph.

Every operation follows one contract (the course's forward/backward pattern):

    out, cache = <op>_forward(inputs...)        # given
    grads      = <op>_backward(dout, cache)     # your exercise

``dout`` is the upstream gradient dE/d(out), with out's shape. Backward returns
a tuple with one gradient per input, dE/d(input) = dE/d(out) * d(out)/d(input),
each with exactly that input's shape. Inputs may be Python floats or numpy
arrays; where numpy broadcasts an input, reduce its gradient with
``sum_to_shape`` (backprop_lib/broadcast.py). Never modify ``dout`` in place.
"""

import numpy as np

from backprop_lib.broadcast import sum_to_shape


def _array(value):
    return np.asarray(value, dtype=np.float64)


def add_forward(a, b):
    """out = a + b (elementwise, broadcasting). Cache: the input shapes."""
    a, b = _array(a), _array(b)
    return a + b, (a.shape, b.shape)


def add_backward(dout, cache):
    """Backward of out = a + b: the add gate *distributes* the gradient.

    Local gradients: d(out)/da = 1 and d(out)/db = 1, so
        dE/da = dE/dout,   dE/db = dE/dout   (each summed back to its input's shape).

    Args:
        dout: upstream gradient dE/dout, shape of out.
        cache: (a_shape, b_shape) from add_forward.

    Returns:
        (da, db) with shapes a_shape and b_shape.

    Hint: use sum_to_shape(dout, a_shape) for a broadcast input.
    """
    raise NotImplementedError("add_backward is not implemented yet: write it in backprop_lib/gates.py")


def subtract_forward(a, b):
    """out = a - b (elementwise, broadcasting). Cache: the input shapes."""
    a, b = _array(a), _array(b)
    return a - b, (a.shape, b.shape)


def subtract_backward(dout, cache):
    """Backward of out = a - b.

    Local gradients: d(out)/da = 1 and d(out)/db = -1, so
        dE/da = dE/dout,   dE/db = -dE/dout.

    Args:
        dout: upstream gradient dE/dout, shape of out.
        cache: (a_shape, b_shape) from subtract_forward.

    Returns:
        (da, db) with shapes a_shape and b_shape.

    Hint: mind the sign of the second gradient.
    """
    raise NotImplementedError("subtract_backward is not implemented yet: write it in backprop_lib/gates.py")


def multiply_forward(a, b):
    """out = a * b (elementwise, broadcasting). Cache: (a, b)."""
    a, b = _array(a), _array(b)
    return a * b, (a, b)


def multiply_backward(dout, cache):
    """Backward of out = a * b: the multiply gate *switches* its inputs.

    Local gradients: d(out)/da = b and d(out)/db = a, so
        dE/da = dE/dout * b,   dE/db = dE/dout * a.

    Course example: x = 3, y = -4 with upstream 2 gives dx = -8, dy = 6.

    Args:
        dout: upstream gradient dE/dout, shape of out.
        cache: (a, b) from multiply_forward.

    Returns:
        (da, db) with the shapes of a and b.

    Hint: each input's gradient uses the *other* input's value.
    """
    raise NotImplementedError("multiply_backward is not implemented yet: write it in backprop_lib/gates.py")


def reciprocal_forward(x):
    """out = 1 / x (elementwise). Cache: x."""
    x = _array(x)
    return 1.0 / x, x


def reciprocal_backward(dout, cache):
    """Backward of the 1/x gate.

    Local gradient: d(1/x)/dx = -1 / x^2, so dE/dx = dE/dout * (-1 / x^2).

    Course example: at x = 1.37 with upstream 1.00, dE/dx = -1/1.37^2 = -0.53.

    Args:
        dout: upstream gradient, shape of x.
        cache: x from reciprocal_forward.

    Returns:
        (dx,) with the shape of x.
    """
    raise NotImplementedError("reciprocal_backward is not implemented yet: write it in backprop_lib/gates.py")


def add_constant_forward(x, c):
    """out = x + c for a constant c (not a graph input). Cache: nothing."""
    return _array(x) + c, None


def add_constant_backward(dout, cache):
    """Backward of the +c gate.

    Local gradient: d(x + c)/dx = 1, so dE/dx = dE/dout.

    Args:
        dout: upstream gradient, shape of x.
        cache: None.

    Returns:
        (dx,) with the shape of x. A constant gets no gradient.
    """
    raise NotImplementedError("add_constant_backward is not implemented yet: write it in backprop_lib/gates.py")


def scale_forward(x, c):
    """out = c * x for a constant c (not a graph input). Cache: c."""
    return c * _array(x), c


def scale_backward(dout, cache):
    """Backward of the *c gate.

    Local gradient: d(c x)/dx = c, so dE/dx = c * dE/dout.

    Course example: the *-1 gate turns an upstream -0.20 into 0.20.

    Args:
        dout: upstream gradient, shape of x.
        cache: the constant c.

    Returns:
        (dx,) with the shape of x.
    """
    raise NotImplementedError("scale_backward is not implemented yet: write it in backprop_lib/gates.py")


def negate_forward(x):
    """out = -x. Cache: nothing."""
    return -_array(x), None


def negate_backward(dout, cache):
    """Backward of out = -x.

    Local gradient: d(-x)/dx = -1, so dE/dx = -dE/dout.

    Args:
        dout: upstream gradient, shape of x.
        cache: None.

    Returns:
        (dx,) with the shape of x.
    """
    raise NotImplementedError("negate_backward is not implemented yet: write it in backprop_lib/gates.py")


def exp_forward(x):
    """out = exp(x). Cache: out, since exp is its own derivative."""
    out = np.exp(_array(x))
    return out, out


def exp_backward(dout, cache):
    """Backward of out = exp(x).

    Local gradient: d(exp x)/dx = exp(x), the forward output, so
        dE/dx = dE/dout * exp(x).

    Course example: at x = -1 with upstream -0.53, dE/dx = -0.53 * e^-1 = -0.20.

    Args:
        dout: upstream gradient, shape of x.
        cache: out = exp(x) from exp_forward.

    Returns:
        (dx,) with the shape of x.
    """
    raise NotImplementedError("exp_backward is not implemented yet: write it in backprop_lib/gates.py")


def log_forward(x):
    """out = ln(x) for x > 0. Cache: x."""
    x = _array(x)
    return np.log(x), x


def log_backward(dout, cache):
    """Backward of out = ln(x).

    Local gradient: d(ln x)/dx = 1 / x, so dE/dx = dE/dout / x.

    Args:
        dout: upstream gradient, shape of x.
        cache: x from log_forward.

    Returns:
        (dx,) with the shape of x.
    """
    raise NotImplementedError("log_backward is not implemented yet: write it in backprop_lib/gates.py")


def power_forward(x, p):
    """out = x ** p for a constant exponent p (p = 2 squares). Cache: (x, p)."""
    x = _array(x)
    return x**p, (x, p)


def power_backward(dout, cache):
    """Backward of out = x^p.

    Local gradient: d(x^p)/dx = p x^(p-1), so dE/dx = dE/dout * p x^(p-1).
    For a square: dE/dx = 2 x dE/dout.

    Args:
        dout: upstream gradient, shape of x.
        cache: (x, p) from power_forward.

    Returns:
        (dx,) with the shape of x.

    Hint: do not forget the factor p (the 2 of a square).
    """
    raise NotImplementedError("power_backward is not implemented yet: write it in backprop_lib/gates.py")


def maximum_forward(a, b):
    """out = max(a, b) elementwise (broadcasting). Cache: (a, b)."""
    a, b = _array(a), _array(b)
    return np.maximum(a, b), (a, b)


def maximum_backward(dout, cache):
    """Backward of out = max(a, b): the max gate *routes* the gradient.

    The larger input gets the whole upstream gradient, the other gets 0:
        dE/da = dE/dout * [a >= b],   dE/db = dE/dout * [a < b].

    Convention at a tie (a == b): the whole gradient goes to the first input a,
    so the two gradients always add up to dE/dout.

    Course example: z = 2, w = -1 with upstream 2 gives dz = 2, dw = 0.

    Args:
        dout: upstream gradient, shape of out.
        cache: (a, b) from maximum_forward.

    Returns:
        (da, db) with the shapes of a and b.

    Hint: build one boolean mask; the second input gets its complement.
    """
    raise NotImplementedError("maximum_backward is not implemented yet: write it in backprop_lib/gates.py")
