"""The course's worked examples, defined once: the lecture's values and the backward passes through them.

Notebooks 2 to 4 teach with them, their graded cells and hidden tests run them,
and the autograder's verification (``backprop_lib.kit.exercises.course_examples``)
runs them again on other values: all with the student's gates or engine.

- The sigmoid neuron (notebook 2): f = sigma(w0 x0 + w1 x1 + w2) at w = (2, -3, -3),
  x = (-1, -2): f = 0.73; the gradient is -0.53 after the reciprocal, -0.20 after exp,
  0.20 after the scale by -1; df/d(w0, w1, w2, x0, x1) = (-0.20, -0.39, 0.20, 0.39, -0.59).
- The circuit (notebook 3): f = c (x y + max(z, w)) at (x, y, z, w) = (3, -4, 2, -1),
  c = 2: df/d(x, y, z, w) = (-8, 6, 2, 0).
"""

import numpy as np

SIGMOID_NEURON = {"w": (2.0, -3.0, -3.0), "x": (-1.0, -2.0)}
NEURON_GRADIENTS = (-0.20, -0.39, 0.20, 0.39, -0.59)  # df/d(w0, w1, w2, x0, x1), to two decimals
CIRCUIT = {"inputs": (3.0, -4.0, 2.0, -1.0), "c": 2.0}
CIRCUIT_GRADIENTS = (-8.0, 6.0, 2.0, 0.0)  # df/d(x, y, z, w)


def neuron_by_gates(w, x):
    """df/d(w0, w1, w2, x0, x1) of the sigmoid neuron, backward gate by gate with the library's gates."""
    from backprop_lib.activations import sigmoid_backward
    from backprop_lib.gates import add_backward, multiply_backward
    from backprop_lib.graph import Node, apply

    w, x = [Node(v) for v in w], [Node(v) for v in x]
    p0, p1 = apply("multiply", w[0], x[0]), apply("multiply", w[1], x[1])
    a = apply("add", p0, p1)
    s = apply("add", a, w[2])
    f = apply("sigmoid", s)
    (ds,) = sigmoid_backward(np.array(1.0), f.cache)
    da, dw2 = add_backward(ds, s.cache)
    dp0, dp1 = add_backward(da, a.cache)
    dw0, dx0 = multiply_backward(dp0, p0.cache)
    dw1, dx1 = multiply_backward(dp1, p1.cache)
    return np.array([dw0, dw1, dw2, dx0, dx1], dtype=np.float64)


def circuit_by_gates(inputs, c):
    """df/d(x, y, z, w) of the circuit c (x y + max(z, w)), backward gate by gate with the library's gates."""
    from backprop_lib.gates import add_backward, maximum_backward, multiply_backward, scale_backward
    from backprop_lib.graph import Node, apply

    x, y, z, w = (Node(v) for v in inputs)
    q, m = apply("multiply", x, y), apply("maximum", z, w)
    s = apply("add", q, m)
    f = apply("scale", s, constants=(float(c),))
    (ds,) = scale_backward(np.array(1.0), f.cache)
    dq, dm = add_backward(ds, s.cache)
    dx, dy = multiply_backward(dq, q.cache)
    dz, dw = maximum_backward(dm, m.cache)
    return np.array([dx, dy, dz, dw], dtype=np.float64)


def neuron_through_engine(w, x):
    """df/d(w0, w1, w2, x0, x1) of the sigmoid neuron written as one expression, by the library's engine."""
    from backprop_lib.graph import Node, backward

    w, x = [Node(v) for v in w], [Node(v) for v in x]
    backward(1 / ((-1.0 * (w[0] * x[0] + w[1] * x[1] + w[2])).exp() + 1))
    return np.array([float(node.grad) for node in (*w, *x)])


def circuit_through_engine(inputs, c):
    """df/d(x, y, z, w) of the circuit written as one expression, by the library's engine."""
    from backprop_lib.graph import Node, backward, maximum

    nodes = [Node(v) for v in inputs]
    backward(float(c) * (nodes[0] * nodes[1] + maximum(nodes[2], nodes[3])))
    return np.array([float(node.grad) for node in nodes])
