import numpy as np

from backprop_lib.derivations import logistic_factors
from backprop_lib.kit.notebook import checked

h_result = checked("logistic_factors", seed=4021)
assert h_result.passed, h_result.report()
h_rng = np.random.default_rng(4021)
h_x, h_w = h_rng.normal(size=5), h_rng.normal(size=5)
h_dh1_dw1, h_dh2_dh1, h_de_dh2, h_de_dw1 = logistic_factors(h_x, h_w)
h_h2 = 1.0 / (1.0 + np.exp(-(h_x @ h_w)))
assert np.allclose(h_dh1_dw1, h_x), "logistic_factors: dh1/dw1 is wrong at a hidden point with M = 5"
assert np.isclose(h_dh2_dh1, h_h2 * (1.0 - h_h2)), "logistic_factors: dh2/dh1 is wrong at a hidden point"
assert np.isclose(h_de_dh2, -1.0 / h_h2), "logistic_factors: de/dh2 is wrong at a hidden point"
assert np.allclose(h_de_dw1, -(1.0 - h_h2) * h_x), "logistic_factors: de/dw1 is wrong at a hidden point"
