import numpy as np

from backprop_lib.gradient_check import relative_error
from backprop_lib.kit.notebook import checked

h_result = checked("relative_error", seed=132)
assert h_result.passed, h_result.report()
h_a, h_b = np.array([[0.0, 4.0], [-1.0, 2.0]]), np.array([[0.0, 3.0], [-1.0, 2.5]])
assert abs(relative_error(h_a, h_b) - 0.25) < 1e-12, "relative_error is wrong on a hidden pair (expected 0.25)"
assert relative_error(h_b, h_a) == relative_error(h_a, h_b), "relative_error(a, b) must equal relative_error(b, a)"
