import numpy as np

from backprop_lib.gradient_check import numerical_gradient
from backprop_lib.kit.notebook import agrees, checked

h_result = checked("numerical_gradient", seed=131)
assert h_result.passed, h_result.report()
h_x = np.random.default_rng(131).normal(size=(2, 3, 2))
h_before = h_x.copy()
h_grad = numerical_gradient(lambda v: float(np.sum(np.cos(v) * v)), h_x)
assert np.array_equal(h_x, h_before), "numerical_gradient must leave x as it found it"
assert agrees(h_reference, "gradient", h_grad), "numerical_gradient is wrong on a hidden 3-D input"
