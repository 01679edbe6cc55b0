import numpy as np

from backprop_lib.derivations import logistic_factors
from backprop_lib.kit.notebook import agrees, checked

h_result = checked("logistic_factors", seed=4021)
assert h_result.passed, h_result.report()
h_rng = np.random.default_rng(4021)
h_x, h_w = h_rng.normal(size=5), h_rng.normal(size=5)
h_dh1_dw1, h_dh2_dh1, h_de_dh2, h_de_dw1 = logistic_factors(h_x, h_w)
assert agrees(h_reference, "dh1/dw1", h_dh1_dw1), "logistic_factors: dh1/dw1 is wrong at a hidden point with M = 5"
assert agrees(h_reference, "dh2/dh1", h_dh2_dh1), "logistic_factors: dh2/dh1 is wrong at a hidden point"
assert agrees(h_reference, "de/dh2", h_de_dh2), "logistic_factors: de/dh2 is wrong at a hidden point"
assert agrees(h_reference, "de/dw1", h_de_dw1), "logistic_factors: de/dw1 is wrong at a hidden point"
