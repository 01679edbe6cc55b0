import numpy as np

from backprop_lib.derivations import squared_error_factors
from backprop_lib.kit.notebook import agrees, checked

h_result = checked("squared_error_factors", seed=9157)
assert h_result.passed, h_result.report()
h_rng = np.random.default_rng(9157)
h_x, h_w, h_y = h_rng.normal(size=6), h_rng.normal(size=6), 0.25
h_dh1_dw1, h_de_dh1, h_de_dw1 = squared_error_factors(h_x, h_w, h_y)
assert agrees(h_reference, "dh1/dw1", h_dh1_dw1), "squared_error_factors: dh1/dw1 is wrong at a hidden point (M = 6)"
assert agrees(h_reference, "de/dh1", h_de_dh1), "squared_error_factors: de/dh1 is wrong at a hidden point"
assert agrees(h_reference, "de/dw1", h_de_dw1), "squared_error_factors: de/dw1 is wrong at a hidden point"
