"""The graph engine: topological order, one backward sweep, accumulation, resets."""

import numpy as np
import pytest

from backprop_lib.graph import Node, apply, backward, linear, maximum, mse, softmax_cross_entropy, topological_sort


def test_topological_order_lists_each_node_once_parents_first_root_last():
    x, y = Node(1.0, "x"), Node(2.0, "y")
    a = x * y
    f = a * a + x
    order = topological_sort(f)
    assert order[-1] is f
    assert len(order) == len({id(n) for n in order}) == 5
    position = {id(n): i for i, n in enumerate(order)}
    assert all(position[id(p)] < position[id(n)] for n in order for p in n.parents)


def test_gradients_add_at_a_fork():
    x = Node(3.0)
    f = x * x + x  # df/dx = 2x + 1
    backward(f)
    assert float(x.grad) == 7.0


def test_calling_backward_twice_gives_the_same_gradients():
    x, y = Node(1.5), Node(-2.0)
    f = (x * y).exp() + x / y
    backward(f)
    first = (float(x.grad), float(y.grad))
    backward(f)
    assert (float(x.grad), float(y.grad)) == first


def test_backward_on_a_subgraph_resets_only_that_subgraph_and_uses_the_given_seed():
    x = Node(np.array([1.0, -2.0]))
    h = x * 3.0
    backward(h, grad=np.array([1.0, 10.0]))
    np.testing.assert_array_equal(x.grad, [3.0, 30.0])


def test_a_deep_graph_does_not_hit_the_recursion_limit():
    x = Node(1.0)
    h = x
    for _ in range(5000):
        h = h * 1.0
    backward(h)
    assert float(x.grad) == 1.0


def test_operator_sugar_builds_the_same_operations_as_apply():
    x = Node(2.0)
    assert [n.operation.name for n in (x + 1, x - 1, 2 * x, -x, x**2, 1 / x)] == [
        "add_constant",
        "add_constant",
        "scale",
        "negate",
        "power",
        "reciprocal",
    ]
    assert apply("exp", x).value == pytest.approx(np.exp(2.0))


def test_a_two_layer_network_backpropagates_matrices_through_the_engine():
    rng = np.random.default_rng(0)
    x = Node(rng.standard_normal((5, 4)))
    W1, b1 = Node(rng.standard_normal((4, 3))), Node(np.zeros(3))
    W2, b2 = Node(rng.standard_normal((3, 2))), Node(np.zeros(2))
    logits = linear(linear(x, W1, b1).relu(), W2, b2)
    loss = softmax_cross_entropy(logits, np.array([0, 1, 1, 0, 1])) + mse(logits, np.zeros((5, 2)))
    backward(loss)
    assert W1.grad.shape == (4, 3) and b2.grad.shape == (2,) and x.grad.shape == (5, 4)
    assert np.all(np.isfinite(W1.grad)) and np.any(W1.grad != 0)


def test_maximum_node_routes_to_the_larger_input():
    a, b = Node(np.array([1.0, 5.0])), Node(np.array([3.0, 2.0]))
    backward(maximum(a, b))
    np.testing.assert_array_equal(a.grad, [0.0, 1.0])
    np.testing.assert_array_equal(b.grad, [1.0, 0.0])


class SharingGate:
    """An operation whose backward hands out ``dout`` itself, to every input (as an add gate may)."""

    name = "sharing"

    def backward(self, dout, cache):
        return (dout,) * cache


def test_gradients_returned_as_shared_arrays_are_never_changed():
    x, y = Node(1.5, "x"), Node(-0.5, "y")
    p, s = x * 3.0, Node(1.0, "s")
    s.parents, s.operation, s.cache = (x, y), SharingGate(), 2  # s = x + y, sharing its dout
    f = Node(1.0, "f")
    f.parents, f.operation, f.cache = (p, s), SharingGate(), 2  # f = p + s
    backward(f)
    assert [float(n.grad) for n in (f, p, s, x, y)] == [1.0, 1.0, 1.0, 4.0, 1.0]


def test_every_call_starts_from_zero_unlike_pytorch_accumulation():
    x = Node(np.array([1.0, 2.0]))
    f = x * x
    backward(f)
    backward(f)
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])
    assert x.grad.dtype == np.float64


def test_the_given_seed_is_copied_not_kept():
    x = Node(np.array([1.0, 2.0]))
    seed = np.array([1.0, 1.0], dtype=np.float32)
    h = x + x
    backward(h, grad=seed)
    assert h.grad is not seed and h.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])
    np.testing.assert_array_equal(seed, [1.0, 1.0])


def test_the_sort_is_iterative_on_a_chain_deeper_than_the_recursion_limit():
    x = Node(1.0)
    h = x
    for _ in range(3000):
        h = h * 1.0
    order = topological_sort(h)
    assert len(order) == 3001 and order[0] is x and order[-1] is h
