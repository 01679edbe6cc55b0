"""Gates: the elementwise operations of a computation graph.

Every operation follows one contract (the course's forward/backward pattern):

    out, cache = <op>_forward(inputs...)        # given
    grads      = <op>_backward(dout, cache)     # your exercise

``dout`` is the upstream gradient dE/d(out): a float64 array of out's shape (the
engine and the checks pass float64, whatever they were given). Backward returns
a tuple with one gradient dE/d(input) per input, in the order of the inputs,
each a float64 array of exactly that input's shape. Inputs may be Python floats
or numpy arrays; where numpy broadcast an input in the forward, its gradient
must come back to the input's shape (``sum_to_shape`` in
backprop_lib/broadcast.py does that).

Aliasing: a backward may return ``dout`` itself, or the same array for two
inputs; it must never change ``dout`` or its cache in place (the engine adds
what it receives into arrays of its own, so sharing is safe; changing is not).

Kinks and ties: where an operation is not differentiable (the max gate at a
tie), any valid subgradient passes the checks; the course's convention is
stated at each such gate.
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
    """Backward of the add gate, out = a + b (elementwise, numpy broadcasting).

    Args:
        dout: upstream gradient dE/dout, float64, shape of out.
        cache: (a_shape, b_shape) from add_forward.

    Returns:
        (da, db): dE/da with shape a_shape and dE/db with shape b_shape.
    """
    ### BEGIN SOLUTION
    a_shape, b_shape = cache
    return sum_to_shape(dout, a_shape), sum_to_shape(dout, b_shape)
    ### END SOLUTION


def subtract_forward(a, b):
    """out = a - b (elementwise, broadcasting). Cache: the input shapes."""
    a, b = _array(a), _array(b)
    return a - b, (a.shape, b.shape)


def subtract_backward(dout, cache):
    """Backward of the subtract gate, out = a - b (elementwise, numpy broadcasting).

    Args:
        dout: upstream gradient dE/dout, float64, shape of out.
        cache: (a_shape, b_shape) from subtract_forward.

    Returns:
        (da, db): dE/da with shape a_shape and dE/db with shape b_shape.
    """
    ### BEGIN SOLUTION
    a_shape, b_shape = cache
    return sum_to_shape(dout, a_shape), sum_to_shape(-dout, b_shape)
    ### END SOLUTION


def multiply_forward(a, b):
    """out = a * b (elementwise, broadcasting). Cache: (a, b)."""
    a, b = _array(a), _array(b)
    return a * b, (a, b)


def multiply_backward(dout, cache):
    """Backward of the multiply gate, out = a * b (elementwise, numpy broadcasting).

    Args:
        dout: upstream gradient dE/dout, float64, shape of out.
        cache: (a, b) from multiply_forward, float64 arrays.

    Returns:
        (da, db): dE/da with the shape of a and dE/db with the shape of b.
    """
    ### BEGIN SOLUTION
    a, b = cache
    return sum_to_shape(dout * b, a.shape), sum_to_shape(dout * a, b.shape)
    ### END SOLUTION


def reciprocal_forward(x):
    """out = 1 / x (elementwise). Cache: x."""
    x = _array(x)
    return 1.0 / x, x


def reciprocal_backward(dout, cache):
    """Backward of the 1/x gate, out = 1 / x elementwise (x never 0).

    Args:
        dout: upstream gradient dE/dout, float64, shape of x.
        cache: x from reciprocal_forward.

    Returns:
        (dx,): dE/dx with the shape of x.
    """
    ### BEGIN SOLUTION
    x = cache
    return (dout * (-1.0 / x**2),)
    ### END SOLUTION


def add_constant_forward(x, c):
    """out = x + c for a constant c (not a graph input). Cache: nothing."""
    return _array(x) + c, None


def add_constant_backward(dout, cache):
    """Backward of the +c gate, out = x + c for a constant c (c gets no gradient).

    Args:
        dout: upstream gradient dE/dout, float64, shape of x.
        cache: None.

    Returns:
        (dx,): dE/dx with the shape of x.
    """
    ### BEGIN SOLUTION
    return (dout,)
    ### END SOLUTION


def scale_forward(x, c):
    """out = c * x for a constant c (not a graph input). Cache: c."""
    return c * _array(x), c


def scale_backward(dout, cache):
    """Backward of the *c gate, out = c * x for a constant number c (c gets no gradient).

    Args:
        dout: upstream gradient dE/dout, float64, shape of x.
        cache: the constant c.

    Returns:
        (dx,): dE/dx with the shape of x.
    """
    ### BEGIN SOLUTION
    c = cache
    return (c * dout,)
    ### END SOLUTION


def negate_forward(x):
    """out = -x. Cache: nothing."""
    return -_array(x), None


def negate_backward(dout, cache):
    """Backward of the negation, out = -x elementwise.

    Args:
        dout: upstream gradient dE/dout, float64, shape of x.
        cache: None.

    Returns:
        (dx,): dE/dx with the shape of x.
    """
    ### BEGIN SOLUTION
    return (-dout,)
    ### END SOLUTION


def exp_forward(x):
    """out = exp(x). Cache: out (the forward's result, saved for the backward)."""
    out = np.exp(_array(x))
    return out, out


def exp_backward(dout, cache):
    """Backward of the exp gate, out = exp(x) elementwise.

    Args:
        dout: upstream gradient dE/dout, float64, shape of x.
        cache: out = exp(x) from exp_forward (not x).

    Returns:
        (dx,): dE/dx with the shape of x.
    """
    ### BEGIN SOLUTION
    out = cache
    return (dout * out,)
    ### END SOLUTION


def log_forward(x):
    """out = ln(x) for x > 0. Cache: x."""
    x = _array(x)
    return np.log(x), x


def log_backward(dout, cache):
    """Backward of the natural logarithm, out = ln(x) elementwise for x > 0.

    Args:
        dout: upstream gradient dE/dout, float64, shape of x.
        cache: x from log_forward.

    Returns:
        (dx,): dE/dx with the shape of x.
    """
    ### BEGIN SOLUTION
    x = cache
    return (dout / x,)
    ### END SOLUTION


def power_forward(x, p):
    """out = x ** p for a constant exponent p (p = 2 squares). Cache: (x, p)."""
    x = _array(x)
    return x**p, (x, p)


def power_backward(dout, cache):
    """Backward of the power gate, out = x ** p elementwise for a constant number p (p gets no gradient).

    Any p, including p = 0 (out is the constant 1) at x = 0: the gradient is a
    finite number there, never NaN.

    Args:
        dout: upstream gradient dE/dout, float64, shape of x.
        cache: (x, p) from power_forward.

    Returns:
        (dx,): dE/dx with the shape of x.
    """
    ### BEGIN SOLUTION
    x, p = cache
    if p == 0:
        return (np.zeros(np.shape(x)),)
    return (dout * p * x ** (p - 1),)
    ### END SOLUTION


def maximum_forward(a, b):
    """out = max(a, b) elementwise (broadcasting). Cache: (a, b)."""
    a, b = _array(a), _array(b)
    return np.maximum(a, b), (a, b)


def maximum_backward(dout, cache):
    """Backward of the max gate, out = max(a, b) (elementwise, numpy broadcasting).

    At a tie (a == b) max is not differentiable: any split of dout between a and
    b with shares in [0, 1] that add up to 1 is a valid subgradient and passes the
    checks. The course's convention: split a tie equally, half to each input
    (so max(x, 0) and relu(x) agree at 0).

    Args:
        dout: upstream gradient dE/dout, float64, shape of out.
        cache: (a, b) from maximum_forward.

    Returns:
        (da, db): dE/da with the shape of a and dE/db with the shape of b.
    """
    ### BEGIN SOLUTION
    a, b = cache
    share_a = (a > b) + 0.5 * (a == b)
    return sum_to_shape(dout * share_a, a.shape), sum_to_shape(dout * (1.0 - share_a), b.shape)
    ### END SOLUTION
