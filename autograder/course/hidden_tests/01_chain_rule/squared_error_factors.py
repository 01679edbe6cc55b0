import numpy as np

from backprop_lib.derivations import squared_error_factors
from backprop_lib.kit.notebook import checked

h_result = checked("squared_error_factors", seed=9157)
assert h_result.passed, h_result.report()
h_rng = np.random.default_rng(9157)
h_x, h_w, h_y = h_rng.normal(size=6), h_rng.normal(size=6), 0.25
h_dh1_dw1, h_de_dh1, h_de_dw1 = squared_error_factors(h_x, h_w, h_y)
h_expected = -2.0 * (h_y - h_x @ h_w)
assert np.allclose(h_dh1_dw1, h_x), "squared_error_factors: dh1/dw1 is wrong at a hidden point with M = 6"
assert np.isclose(h_de_dh1, h_expected), "squared_error_factors: de/dh1 is wrong at a hidden point"
assert np.allclose(h_de_dw1, h_expected * h_x), "squared_error_factors: de/dw1 is wrong at a hidden point"
