"""The course's worked examples come out exactly as taught (reference solutions)."""

import numpy as np
import pytest

from backprop_lib import activations, gates
from backprop_lib.graph import Node, backward, maximum


def sigmoid_neuron():
    """f = 1/(1 + exp(-(w0 x0 + w1 x1 + w2))) gate by gate, at w = (2, -3, -3), x = (-1, -2)."""
    w0, x0, w1, x1, w2 = (Node(v, n) for v, n in [(2.0, "w0"), (-1.0, "x0"), (-3.0, "w1"), (-2.0, "x1"), (-3.0, "w2")])
    dot = w0 * x0 + w1 * x1 + w2
    negated = -dot
    exponential = negated.exp()
    plus_one = exponential + 1
    f = 1 / plus_one
    backward(f)
    return locals()


def test_sigmoid_neuron_forward_and_backward_gate_by_gate():
    g = sigmoid_neuron()
    assert g["plus_one"].value == pytest.approx(1.37, abs=0.005)
    assert g["f"].value == pytest.approx(0.73, abs=0.005)
    assert g["plus_one"].grad == pytest.approx(-0.53, abs=0.005)  # through the 1/x gate
    assert g["exponential"].grad == pytest.approx(-0.53, abs=0.005)  # the +1 gate passes it on
    assert g["negated"].grad == pytest.approx(-0.20, abs=0.005)  # through exp
    assert g["dot"].grad == pytest.approx(0.20, abs=0.005)  # through the negation
    expected = {"w0": -0.20, "x0": 0.39, "w1": -0.39, "x1": -0.59, "w2": 0.20}
    for name, value in expected.items():
        assert g[name].grad == pytest.approx(value, abs=0.005), name


def test_sigmoid_gate_collapses_the_tail_to_sigma_times_one_minus_sigma():
    out, cache = activations.sigmoid_forward(1.0)
    (dx,) = activations.sigmoid_backward(1.0, cache)
    assert out == pytest.approx(0.73, abs=0.005)
    assert dx == pytest.approx(0.73 * 0.27, abs=0.005)
    assert dx == pytest.approx(0.20, abs=0.005)
    assert dx == pytest.approx(sigmoid_neuron()["dot"].grad)


def test_circuit_gradients_are_minus_8_6_2_0():
    x, y, z, w = Node(3.0), Node(-4.0), Node(2.0), Node(-1.0)
    f = 2 * (x * y + maximum(z, w))
    backward(f)
    assert f.value == -20.0
    assert [float(n.grad) for n in (x, y, z, w)] == [-8.0, 6.0, 2.0, 0.0]


def test_add_distributes_multiply_switches_max_routes():
    upstream = 2.0
    _, cache = gates.add_forward(3.0, -4.0)
    assert gates.add_backward(upstream, cache) == (2.0, 2.0)
    _, cache = gates.multiply_forward(3.0, -4.0)
    assert gates.multiply_backward(upstream, cache) == (-8.0, 6.0)
    _, cache = gates.maximum_forward(2.0, -1.0)
    assert gates.maximum_backward(upstream, cache) == (2.0, 0.0)


def test_max_at_a_tie_splits_the_gradient_equally():
    _, cache = gates.maximum_forward(np.array([1.0, 2.0]), np.array([1.0, 3.0]))
    da, db = gates.maximum_backward(np.array([5.0, 5.0]), cache)
    np.testing.assert_array_equal(da, [2.5, 0.0])
    np.testing.assert_array_equal(db, [2.5, 5.0])


def test_relu_at_zero_passes_half_so_relu_and_max_with_zero_agree():
    x = np.array([-1.0, 0.0, 2.0])
    _, cache = activations.relu_forward(x)
    (dx,) = activations.relu_backward(np.array([1.0, 1.0, 1.0]), cache)
    np.testing.assert_array_equal(dx, [0.0, 0.5, 1.0])
    node = Node(x)
    backward(maximum(node, Node(np.zeros(3))))
    np.testing.assert_array_equal(node.grad, dx)


def test_linear_layer_in_row_vector_notation():
    from backprop_lib.layers import linear_backward, linear_forward

    x = np.array([[1.0, 2.0], [0.0, 1.0]])
    W = np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]])
    z, cache = linear_forward(x, W, np.zeros(3))
    dz = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, -1.0]])
    dx, dW, db = linear_backward(dz, cache)
    assert linear_backward(dz, linear_forward(x, W, np.zeros((1, 3)))[1])[2].shape == (1, 3)
    np.testing.assert_array_equal(z, [[5.0, 2.0, -1.0], [2.0, 1.0, 0.0]])
    np.testing.assert_array_equal(dx, dz @ W.T)
    np.testing.assert_array_equal(dW, x.T @ dz)
    np.testing.assert_array_equal(dx, [[-1.0, 2.0], [1.0, 1.0]])
    np.testing.assert_array_equal(dW, [[1.0, 0.0, 2.0], [2.0, 1.0, 3.0]])
    np.testing.assert_array_equal(db, [1.0, 1.0, 1.0])
