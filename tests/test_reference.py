"""The reference solutions pass every check, on the public seed and on others."""

import re

import numpy as np
import pytest

from backprop_lib.kit.checking import run_checks
from backprop_lib.kit.exercises import EXERCISES
from backprop_lib.kit.operations import OPERATIONS


@pytest.mark.parametrize("seed", [0, 1, 2, 12345])
def test_reference_solutions_pass_every_check(seed):
    results = run_checks(seed=seed)
    assert [r.exercise for r in results] == list(EXERCISES)
    failures = [r.report() for r in results if not r.passed]
    assert not failures, "\n".join(failures)


def test_an_unknown_exercise_name_lists_the_known_ones():
    [result] = run_checks(["relu_backwards"])
    assert result.status == "error"
    assert "relu_backward" in result.summary


def test_power_at_p_zero_is_zero_not_nan():
    from backprop_lib.gates import power_backward, power_forward

    (dx,) = power_backward(np.array([1.0, 2.0, 3.0]), power_forward(np.array([0.0, 1.0, -2.0]), 0)[1])
    np.testing.assert_array_equal(dx, [0.0, 0.0, 0.0])


def test_a_label_outside_the_classes_is_a_clear_error():
    from backprop_lib.losses import softmax_cross_entropy_forward

    with pytest.raises(ValueError, match=r"label -1 at index 1 is not a class: labels must lie in \[0, 3\)"):
        softmax_cross_entropy_forward(np.zeros((2, 3)), [0, -1])


@pytest.mark.parametrize("b_shape", [(3,), (1, 3)])
def test_db_has_the_shape_of_b(b_shape):
    from backprop_lib.layers import linear_backward, linear_forward

    _, cache = linear_forward(np.ones((2, 4)), np.ones((4, 3)), np.zeros(b_shape))
    assert linear_backward(np.ones((2, 3)), cache)[2].shape == b_shape


@pytest.mark.parametrize(
    ("shapes", "message"),
    [
        (((3,), (3, 2), (2,)), "x has shape (3,), but the layer takes a batch of rows, x of shape (N, M); one example"),
        (((4, 3), (2, 2), (2,)), "W has shape (2, 2), expected (M, K) with M = 3 (x's columns)"),
        (((4, 3), (3,), (2,)), "W has shape (3,), expected (M, K) with M = 3 (x's columns)"),
        (((4, 3), (3, 2), (3,)), "b has shape (3,), expected (K,) or (1, K) with K = 2 (W's columns)"),
    ],
)
def test_the_given_linear_forward_refuses_shapes_outside_its_contract(shapes, message):
    from backprop_lib.layers import linear_forward

    with pytest.raises(ValueError, match=re.escape(f"linear_forward: {message}")):
        linear_forward(*(np.ones(shape) for shape in shapes))


def test_a_check_of_one_case_counts_it_in_the_singular():
    [result] = run_checks(["spiral_training"])
    assert result.passed and result.summary == "1 case matches the reference"
    [result] = run_checks(["relu_backward"])
    assert result.summary == "4 cases match the reference"


def test_gradients_are_float64_whatever_the_upstream_dtype():
    for name, operation in OPERATIONS.items():
        inputs = {
            "linear": (np.ones((2, 3)), np.ones((3, 4)), np.ones(4)),
            "residual": (np.ones((2, 3)), np.ones((3, 3)), np.ones(3)),
            "two_layer_net": (np.ones((2, 3)), np.ones((3, 4)), np.ones(4), np.ones((4, 2)), np.ones(2)),
        }.get(name, [np.full((2, 2), 0.5)] * 2)
        inputs = inputs[: len(operation.inputs)]
        constants = {
            "mse": (np.zeros((2, 2)),),
            "softmax_cross_entropy": ([0, 1],),
            "two_layer_net": ([0, 1], 0.1),
        }.get(name, (2.0,))
        out, cache = operation.forward(*inputs, *constants[: len(operation.constants)])
        grads = operation.backward(np.ones(np.shape(out), dtype=np.float32), cache)
        assert all(np.asarray(g).dtype == np.float64 for g in grads), name


SQUARE_BY_CONTRACT = {"residual_backward": {"W"}}
"""Inputs square by the operation's contract (out = h + relu(h W + b) needs W (M, M)): random values reveal a
transposed gradient there."""


def test_every_operation_check_starts_with_a_case_that_hides_no_mistake():
    """A random, non-uniform upstream gradient and non-square shapes first; the course's worked cases after."""
    from backprop_lib.kit.exercises.operations import OperationExercise

    for exercise in (e for e in EXERCISES.values() if isinstance(e, OperationExercise)):
        cases = exercise.cases(0)
        first = cases[0]
        dout = first.data["dout"]
        assert "random" in first.note and "expected0" not in first.data, exercise.name
        if dout.size > 1:
            assert len(np.unique(dout)) == dout.size, exercise.name
        else:
            assert abs(float(dout)) != 1.0, exercise.name
        square = SQUARE_BY_CONTRACT.get(exercise.name, set())
        inputs = zip(exercise.operation.inputs, first.items("input"), strict=True)
        assert all(x.ndim < 2 or x.shape[0] != x.shape[1] or n in square for n, x in inputs), exercise.name
        assert cases[-1].items("expected"), f"{exercise.name}: the worked cases come last"
    x, W, _ = EXERCISES["linear_backward"].cases(0)[0].items("input")
    assert len({*x.shape, W.shape[1]}) == 3  # N, M, K all different
