"""Laws of backpropagation, checked on generated inputs (hypothesis)."""

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays, broadcastable_shapes

from backprop_lib import gates
from backprop_lib.graph import Node, backward
from backprop_lib.kit.gradcheck import close, numerical_vjp
from backprop_lib.kit.operations import OPERATIONS

finite = st.floats(-3, 3, allow_nan=False, width=64)
# Halving a subnormal upstream gradient at a tie underflows to 0: the split is exact for normal numbers only.
normal = st.floats(-3, 3, allow_nan=False, allow_subnormal=False, width=64)
BINARY = ["add", "subtract", "multiply", "maximum"]


@st.composite
def broadcast_pair(draw):
    shape = draw(array_shapes(min_dims=0, max_dims=3, max_side=4))
    other = draw(broadcastable_shapes(shape, min_dims=0, max_dims=3, max_side=4))
    return draw(arrays(np.float64, shape, elements=finite)), draw(arrays(np.float64, other, elements=finite))


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(BINARY), pair=broadcast_pair(), seed=st.integers(0, 2**16))
def test_binary_gradients_have_their_inputs_shapes_and_match_numerics(name, pair, seed):
    a, b = pair
    assume(name != "maximum" or np.min(np.abs(a - b), initial=1.0) >= 0.05)  # max has a kink at ties
    operation = OPERATIONS[name]
    out, cache = operation.forward(a, b)
    dout = np.random.default_rng(seed).standard_normal(np.shape(out))
    da, db = operation.backward(dout, cache)
    assert np.shape(da) == a.shape and np.shape(db) == b.shape
    (na, nb), _ = numerical_vjp(lambda x, y: operation.forward(x, y)[0], [a, b], dout)
    assert close(na, da) and close(nb, db)


@settings(max_examples=60, deadline=None)
@given(a=arrays(np.float64, (3,), elements=finite), b=arrays(np.float64, (3,), elements=finite), upstream=normal)
def test_max_gradients_sum_to_the_upstream_gradient_even_at_ties(a, b, upstream):
    for second in (b, a.copy()):  # the second pass is all ties
        _, cache = gates.maximum_forward(a, second)
        da, db = gates.maximum_backward(np.full(3, upstream), cache)
        np.testing.assert_array_equal(da + db, np.full(3, upstream))


@settings(max_examples=40, deadline=None)
@given(value=finite, uses=st.integers(1, 6))
def test_gradients_add_at_forks(value, uses):
    """A value used k times in a sum gets k times the gradient of one use."""
    x = Node(value)
    total = x * 2.0
    for _ in range(uses - 1):
        total = total + x * 2.0
    backward(total)
    assert float(x.grad) == 2.0 * uses


@settings(max_examples=40, deadline=None)
@given(x=arrays(np.float64, (2, 3), elements=finite), y=arrays(np.float64, (2, 3), elements=finite))
def test_gradient_of_a_sum_of_paths_is_the_sum_of_the_paths_gradients(x, y):
    def grads(build):
        a, b = Node(x), Node(y)
        backward(build(a, b))
        return a.grad.copy(), b.grad.copy()

    first, second = grads(lambda a, b: a * b), grads(lambda a, b: (a + b).sigmoid())
    both = grads(lambda a, b: a * b + (a + b).sigmoid())
    assert close(first[0] + second[0], both[0]) and close(first[1] + second[1], both[1])


@settings(max_examples=40, deadline=None)
@given(x=arrays(np.float64, array_shapes(min_dims=0, max_dims=2, max_side=5), elements=finite))
def test_sigmoid_gradient_is_positive_and_at_most_a_quarter(x):
    operation = OPERATIONS["sigmoid"]
    _, cache = operation.forward(x)
    (dx,) = operation.backward(np.ones_like(x), cache)
    assert dx.shape == x.shape and np.all(dx > 0) and np.all(dx <= 0.25)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 5), m=st.integers(1, 5), k=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_linear_gradients_have_the_shapes_of_x_W_b(n, m, k, seed):
    rng = np.random.default_rng(seed)
    x, W, b = rng.standard_normal((n, m)), rng.standard_normal((m, k)), rng.standard_normal(k)
    z, cache = OPERATIONS["linear"].forward(x, W, b)
    dx, dW, db = OPERATIONS["linear"].backward(rng.standard_normal(z.shape), cache)
    assert (dx.shape, dW.shape, db.shape) == ((n, m), (m, k), (k,))


def test_python_floats_work_like_arrays():
    for name in ["add", "subtract", "multiply", "maximum"]:
        out, cache = OPERATIONS[name].forward(1.5, -0.5)
        grads = OPERATIONS[name].backward(1.0, cache)
        assert np.shape(out) == () and all(np.shape(g) == () for g in grads)
