"""Centered differences, relative error and the worst-element report."""

import numpy as np

from backprop_lib.kit.gradcheck import close, numerical_vjp, relative_error, worst_mismatch


def test_numerical_vjp_of_a_linear_layer_matches_the_row_vector_formulas():
    rng = np.random.default_rng(0)
    x, W, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), rng.standard_normal(2)
    dz = rng.standard_normal((3, 2))
    (dx, dW, db), directions = numerical_vjp(lambda x, W, b: x @ W + b, [x, W, b], dz)
    assert directions == [None, None, None]
    assert close(dx, dz @ W.T) and close(dW, x.T @ dz) and close(db, dz.sum(axis=0))
    assert np.max(relative_error(dW, x.T @ dz)) < 1e-7


def test_large_inputs_are_sampled_and_covered_by_a_random_direction():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((60, 50))
    dout = rng.standard_normal((60, 50))
    (grad,), [(v, slope)] = numerical_vjp(np.sin, [x], dout, sample=100)
    assert np.count_nonzero(~np.isnan(grad)) == 100
    assert close(grad, dout * np.cos(x))
    assert np.isclose(slope, np.sum(v * dout * np.cos(x)), rtol=1e-6)


def test_a_function_that_mutates_its_input_cannot_fool_the_check():
    def relu_in_place(x):
        x[x < 0] = 0.0
        return x

    x = np.array([-1.0, 2.0, -3.0])
    (grad,), _ = numerical_vjp(relu_in_place, [x], np.ones(3))
    np.testing.assert_array_equal(x, [-1.0, 2.0, -3.0])
    assert close(grad, [0.0, 1.0, 0.0])


def test_worst_mismatch_names_the_element_and_its_numbers():
    expected = np.array([[1.0, 2.0], [3.0, 4.0]])
    got = expected.copy()
    got[1, 0] = 3.5
    got[0, 1] = 2.000001
    mismatch = worst_mismatch(expected, got)
    assert mismatch.index == (1, 0) and mismatch.expected == 3.0 and mismatch.got == 3.5
    assert mismatch.count == 1 and mismatch.total == 4
    assert "dW[1, 0]: expected 3, got 3.5" in mismatch.describe("dW")
    assert worst_mismatch(expected, expected + 1e-12) is None


def test_close_treats_nan_in_expected_as_not_checked_but_nan_in_got_as_wrong():
    assert close([np.nan, 1.0], [5.0, 1.0])
    assert not close([0.0, 1.0], [np.nan, 1.0])
    assert not close([1.0, 1.0], [1.0])
